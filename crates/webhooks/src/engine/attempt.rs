//! One attempt: the request task that POSTs a body, reads the answer and
//! classifies it, and the report of its end that goes back to the loop.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wabiz_domain::callbacks::{AttemptFailure, CallbackKind};
use wabiz_domain::clock::Clock;

/// Most response bytes read (the body is ignored; reading lets the
/// connection be reused).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A finished request.
pub(super) struct Done {
    pub(super) seqs: Vec<i64>,
    pub(super) kind: CallbackKind,
    pub(super) result: Result<(), AttemptFailure>,
    /// Unix milliseconds.
    pub(super) at: i64,
    /// How long the POST took.
    pub(super) took: Duration,
}

/// Reports a request task's end even if it panics, so that its concurrency
/// slot and callbacks are never lost.
pub(super) struct Reporter {
    tx: mpsc::Sender<Done>,
    seqs: Vec<i64>,
    kind: CallbackKind,
    clock: Arc<dyn Clock>,
    started: std::time::Instant,
    result: Option<Result<(), AttemptFailure>>,
}

impl Reporter {
    /// Starts timing a request of `seqs` that reports to `tx`.
    pub(super) fn new(tx: mpsc::Sender<Done>, seqs: Vec<i64>, kind: CallbackKind, clock: Arc<dyn Clock>) -> Self {
        Self { tx, seqs, kind, clock, started: std::time::Instant::now(), result: None }
    }

    pub(super) fn report(mut self, result: Result<(), AttemptFailure>) {
        self.result = Some(result);
        // Dropped here: that sends it.
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let result = self.result.take().unwrap_or(Err(AttemptFailure::TaskFailed));
        let done = Done {
            seqs: std::mem::take(&mut self.seqs),
            kind: self.kind,
            result,
            at: self.clock.now_millis(),
            took: self.started.elapsed(),
        };
        // The channel has room for every request that can be in flight.
        let _ = self.tx.try_send(done);
    }
}

/// One attempt: only a 200 acknowledges.
pub(super) async fn post(client: &reqwest::Client, url: &str, body: String) -> Result<(), AttemptFailure> {
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| classify(&e))?;
    let status = response.status();
    drain(response).await;
    if status == reqwest::StatusCode::OK { Ok(()) } else { Err(AttemptFailure::Status(status.as_u16())) }
}

/// Reads (and drops) a bounded amount of the response body.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > MAX_RESPONSE_BYTES {
            break;
        }
    }
}

/// Why an attempt failed, without the URL (its query may hold the shared
/// secret): the kind, with the causes' texts (a TLS or DNS problem shows
/// there).
pub(crate) fn classify(e: &reqwest::Error) -> AttemptFailure {
    if e.is_timeout() {
        return AttemptFailure::Timeout;
    }
    let mut causes: Vec<String> = Vec::new();
    let mut tls = false;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        tls |= is_tls_error(s);
        let text = s.to_string();
        // Wrappers often repeat their cause's text.
        if !causes.iter().any(|t| t.contains(&text)) {
            causes.push(text);
        }
        source = s.source();
    }
    match (tls, e.is_connect()) {
        (true, _) => AttemptFailure::Tls(causes),
        (false, true) => AttemptFailure::Connect(causes),
        (false, false) => AttemptFailure::Request(causes),
    }
}

/// Whether an error of the chain is rustls's. The TLS stream reports it
/// wrapped in `io::Error`s (sometimes one in another), whose `source` skips
/// the wrapped error itself, so they are unwrapped here.
fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: &(dyn std::error::Error + 'static) = e;
    loop {
        if current.is::<rustls::Error>() {
            return true;
        }
        match current.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => current = inner,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use wabiz_domain::clock::SystemClock;

    use super::*;

    fn client(timeout: Duration) -> reqwest::Client {
        crate::client::build(None, timeout, false).expect("a client")
    }

    /// A receiver that reads one request (up to its `{}` body), then answers
    /// with `status`, or never if `None`.
    async fn receiver(status: Option<u16>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"{}") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            match status {
                Some(status) => {
                    let head = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = socket.write_all(head.as_bytes()).await;
                }
                None => tokio::time::sleep(Duration::from_secs(30)).await,
            }
        });
        url
    }

    #[tokio::test]
    async fn only_a_200_acknowledges() {
        let c = client(Duration::from_secs(5));
        assert_eq!(post(&c, &receiver(Some(200)).await, "{}".into()).await, Ok(()));
        assert_eq!(post(&c, &receiver(Some(500)).await, "{}".into()).await, Err(AttemptFailure::Status(500)));
        assert_eq!(post(&c, &receiver(Some(204)).await, "{}".into()).await, Err(AttemptFailure::Status(204)));
    }

    #[tokio::test]
    async fn no_answer_in_time_is_a_timeout() {
        let c = client(Duration::from_millis(200));
        assert_eq!(post(&c, &receiver(None).await, "{}".into()).await, Err(AttemptFailure::Timeout));
    }

    #[tokio::test]
    async fn a_refused_connection_names_its_causes_without_the_url() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("http://{}/hook?secret=s3cr3t", listener.local_addr().expect("an address"));
        drop(listener);
        let failure = post(&client(Duration::from_secs(5)), &url, "{}".into()).await.expect_err("refused");
        let AttemptFailure::Connect(causes) = &failure else { panic!("{failure:?}") };
        assert!(!causes.is_empty());
        let text = failure.to_string();
        assert!(text.starts_with("connection failed: "), "{text}");
        assert!(!text.contains("s3cr3t") && !text.contains("/hook"), "{text}");
    }

    #[tokio::test]
    async fn a_receiver_that_does_not_speak_tls_is_a_tls_failure() {
        // A plain HTTP answer where the URL says https: the handshake reads no TLS.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("https://{}/hook", listener.local_addr().expect("an address"));
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        });
        let failure = post(&client(Duration::from_secs(5)), &url, "{}".into()).await.expect_err("no TLS");
        let AttemptFailure::Tls(causes) = &failure else { panic!("{failure:?}") };
        assert!(!causes.is_empty());
        assert!(failure.to_string().starts_with("TLS failed: "), "{failure}");
        assert_eq!(failure.as_label(), "tls_failed");
    }

    #[tokio::test]
    async fn a_request_task_that_panics_still_reports() {
        let (tx, mut rx) = mpsc::channel(1);
        let reporter = Reporter::new(tx, vec![7, 8], CallbackKind::Status, Arc::new(SystemClock));
        let task = tokio::spawn(async move {
            let _reporter = reporter;
            panic!("the request task fails");
        });
        assert!(task.await.is_err());
        let done = rx.recv().await.expect("a report");
        assert_eq!((done.seqs, done.result), (vec![7, 8], Err(AttemptFailure::TaskFailed)));
    }
}
