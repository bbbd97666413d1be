//! A Server-Sent Events reader for the event stream's tests: the frames of
//! a real streaming response, parsed as the SSE format says (`id:`,
//! `event:`, `data:` lines, a blank line ends an event; `:` lines are comments).

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

/// One event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
}

pub struct SseStream {
    response: Response,
    buffer: String,
}

impl SseStream {
    /// Wraps an answered `GET /simulator/events`, checking it is a stream.
    pub fn new(response: Response) -> SseStream {
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        SseStream { response, buffer: String::new() }
    }

    /// The next event, or `None` when the stream ended; panics after `within`.
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                if let Some(e) = parse(&frame) {
                    return Some(e);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {within:?}; buffered: {:?}", self.buffer))
                .expect("stream readable");
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("utf-8 stream")),
                None => return None,
            }
        }
    }

    /// Events until one matches `want` (panics after `within`), all of them.
    pub async fn until(&mut self, within: Duration, want: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next(left).await.unwrap_or_else(|| panic!("stream ended; saw {seen:?}"));
            let done = want(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
}

fn parse(frame: &str) -> Option<SseEvent> {
    let (mut id, mut event, mut data) = (None, "message".to_owned(), String::new());
    let mut any = false;
    for line in frame.lines() {
        if line.starts_with(':') || line.is_empty() {
            continue;
        }
        let (field, value) = line.split_once(':').map_or((line, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
        any = true;
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => event = value.to_owned(),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
    }
    any.then(|| SseEvent { id, event, data: serde_json::from_str(&data).unwrap_or(Value::String(data)) })
}
