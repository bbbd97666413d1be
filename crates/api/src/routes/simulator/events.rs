//! `GET /simulator/events`: the server's events as Server-Sent Events, and
//! `POST /simulator/events/token`, the short-lived token a browser opens the
//! stream with (an `EventSource` cannot send an `Authorization` header).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use wabiz_domain::WaError;
use wabiz_domain::events::{Event, EventBus, Resume, Stamped};

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct StreamQuery {
    /// Comma-separated event types; all when absent.
    types: Option<String>,
    /// Only events about this customer (or group).
    wa_id: Option<String>,
    /// Resume after this event, for clients that cannot send `Last-Event-ID`.
    last_event_id: Option<String>,
    /// A stream token (checked by the authentication layer).
    #[serde(rename = "token")]
    _token: Option<String>,
}

/// Which events a reader asked for.
struct Filter {
    types: Option<Vec<&'static str>>,
    wa_id: Option<String>,
}

impl Filter {
    fn parse(q: &StreamQuery) -> Result<Self, WaError> {
        let types = match q.types.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(list) => {
                let mut wanted = Vec::new();
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    match Event::NAMES.iter().find(|known| **known == name) {
                        Some(known) => wanted.push(*known),
                        None => {
                            return Err(WaError::invalid(format!(
                                "Unknown event type '{name}' in 'types'; known types: {}",
                                Event::NAMES.join(", ")
                            )));
                        }
                    }
                }
                Some(wanted)
            }
        };
        let wa_id = q.wa_id.as_deref().map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned);
        Ok(Self { types, wa_id })
    }

    fn wants(&self, e: &Event) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&e.name()))
            && self.wa_id.as_deref().is_none_or(|w| e.wa_id() == Some(w))
    }
}

/// A reader's place in the stream.
struct Reader {
    bus: Arc<EventBus>,
    filter: Filter,
    backlog: VecDeque<Arc<Stamped>>,
    live: tokio::sync::broadcast::Receiver<Arc<Stamped>>,
    /// The last event handed over (or skipped by the filter).
    last: u64,
    /// A notice to send before anything else.
    notice: Option<SseEvent>,
    /// The reader fell behind: the stream ends after the notice.
    ended: bool,
}

impl Reader {
    fn render(&self, e: &Stamped) -> SseEvent {
        SseEvent::default().id(self.bus.event_id(e.seq)).event(e.event.name()).data(e.to_json().to_string())
    }

    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(notice) = self.notice.take() {
                return Some(notice);
            }
            if self.ended {
                return None;
            }
            let e = match self.backlog.pop_front() {
                Some(e) => e,
                None => match self.live.recv().await {
                    Ok(e) => e,
                    Err(RecvError::Lagged(missed)) => {
                        // Dropped, not buffered: the server's memory stays bounded.
                        self.ended = true;
                        let data = json!({
                            "type": "lagged",
                            "missed": missed,
                            "resume_with": self.bus.event_id(self.last),
                            "details": "The reader fell behind and was disconnected; reconnect with Last-Event-ID to resume from the retained events",
                        });
                        return Some(SseEvent::default().event("lagged").data(data.to_string()));
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if e.seq <= self.last {
                continue;
            }
            self.last = e.seq;
            if self.filter.wants(&e.event) {
                return Some(self.render(&e));
            }
        }
    }
}

/// `GET /simulator/events`.
pub(super) async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter::parse(&q)?;
    let bus = Arc::clone(state.simulator.events());
    let asked = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned).or(q.last_event_id);
    let resume = match asked.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        None => Resume::Now,
        // From an earlier run of the server (or made up): everything retained.
        Some(id) => Resume::After(bus.parse_id(id).unwrap_or(0)),
    };
    let from_earlier_run = asked.as_deref().is_some_and(|id| !id.trim().is_empty() && bus.parse_id(id).is_none());
    let sub = bus.subscribe(resume);
    let gap = sub.gap || from_earlier_run;
    let start = match resume {
        Resume::Now => bus.last_seq(),
        Resume::After(seq) => seq,
    };
    let notice = gap.then(|| {
        let data = json!({
            "type": "gap",
            "details": "Some events after the given Last-Event-ID are no longer retained (or it is from before a restart); the stream goes on from the oldest retained event",
        });
        SseEvent::default().event("gap").data(data.to_string())
    });
    // A hello first, so that a client knows the stream is open (and an
    // `EventSource` fires `open`) even when nothing happens.
    let hello = SseEvent::default().event("ready").data(json!({"type": "ready", "stream": bus.boot()}).to_string());
    let reader = Reader { live: sub.live, backlog: sub.backlog.into(), bus, filter, last: start, notice, ended: false };
    let first = stream::once(async move { Ok::<_, Infallible>(hello) });
    let rest = stream::unfold(reader, |mut r| async move { r.next().await.map(|e| (Ok::<_, Infallible>(e), r)) });
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<SseEvent, Infallible>> + Send>> =
        Box::pin(futures_util::StreamExt::chain(first, rest));
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    // Proxies must not buffer the stream.
    response.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    Ok(response)
}

/// `POST /simulator/events/token`: a token that opens the stream for a few
/// minutes (`GET /simulator/events?token=…`).
pub(super) async fn token(State(state): State<AppState>, Auth(principal): Auth) -> Result<Response, ApiError> {
    let bus = state.simulator.events();
    let t = bus
        .tokens()
        .mint(&principal.username, bus.now_millis())
        .map_err(|e| WaError::internal(format!("no randomness: {e}")))?;
    let body = json!({ "stream_token": { "token": t.token, "expires_at": t.expires_at } });
    Ok(reply(StatusCode::CREATED, &state.meta, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wabiz_domain::clock::SystemClock;
    use wabiz_domain::events::READER_BACKLOG;

    fn reader(bus: &Arc<EventBus>) -> Reader {
        let sub = bus.subscribe(Resume::Now);
        Reader {
            bus: Arc::clone(bus),
            filter: Filter { types: None, wa_id: None },
            backlog: sub.backlog.into(),
            live: sub.live,
            last: bus.last_seq(),
            notice: None,
            ended: false,
        }
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_is_told_and_dropped() {
        let bus = EventBus::new(Arc::new(SystemClock));
        let mut slow = reader(&bus);
        let mut keeping_up = reader(&bus);
        for _ in 0..READER_BACKLOG + 10 {
            bus.publish(Event::SettingsChanged);
            // One reader reads as the events come; the other never does.
            assert!(format!("{:?}", keeping_up.next().await.unwrap()).contains("settings_changed"));
        }
        let told = slow.next().await.unwrap();
        assert!(format!("{told:?}").contains("lagged"), "{told:?}");
        assert!(slow.next().await.is_none(), "then the stream ends");
    }
}
