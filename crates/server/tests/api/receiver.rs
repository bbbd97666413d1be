//! A real webhook receiver for tests: an HTTP(S) server on a local port that
//! records every POST (time, query string, body) and answers as scripted
//! (a status, after an optional delay). It also tracks how many requests it
//! was serving at once.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum_server::tls_rustls::RustlsConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair};
use serde_json::Value;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
}

impl Reply {
    pub const OK: Reply = Reply { status: 200, delay: Duration::ZERO };

    pub fn status(status: u16) -> Reply {
        Reply { status, delay: Duration::ZERO }
    }

    pub fn slow(status: u16, delay: Duration) -> Reply {
        Reply { status, delay }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Hit {
    /// When it arrived.
    pub at: Instant,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
    /// What the receiver answers.
    pub answered: u16,
    /// Whether the answer went out (the sender may give up first).
    pub completed: bool,
}

#[derive(Default)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    /// Bodies containing this text are always refused (500).
    poison: Mutex<Option<String>>,
    current: AtomicUsize,
    max: AtomicUsize,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    handle: axum_server::Handle<SocketAddr>,
    /// The CA that signed an HTTPS receiver's certificate.
    pub ca_pem: Option<String>,
    https: bool,
    /// The host name webhook URLs call it by.
    host: String,
}

/// The certificate and key an HTTPS receiver serves, as PEM.
pub struct Served {
    pub cert_pem: String,
    pub key_pem: String,
}

async fn hook(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = shared.current.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max.fetch_max(now, Ordering::SeqCst);
    let at = Instant::now();
    let poisoned =
        shared.poison.lock().unwrap().as_ref().is_some_and(|p| String::from_utf8_lossy(&body).contains(p.as_str()));
    let reply = if poisoned {
        Reply::status(500)
    } else {
        let next = shared.script.lock().unwrap().pop_front();
        next.or(*shared.default.lock().unwrap()).unwrap_or(Reply::OK)
    };
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let completed = reply.delay.is_zero();
    let index = {
        let mut hits = shared.hits.lock().unwrap();
        hits.push(Hit { at, query, content_type, body, answered: reply.status, completed });
        hits.len() - 1
    };
    // Still counted as in flight while it waits; if the sender gives up, the
    // connection closes and this future is dropped here.
    let _guard = Leaving(Arc::clone(&shared));
    if !completed {
        tokio::time::sleep(reply.delay).await;
        shared.hits.lock().unwrap()[index].completed = true;
    }
    StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK)
}

/// Counts a request out of the in-flight figure however it ends.
struct Leaving(Arc<Shared>);

impl Drop for Leaving {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

fn tls_material() -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "webhook receiver test CA");
    ca_params.distinguished_name = dn;
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("leaf params")
        .signed_by(&key, &ca)
        .expect("leaf");
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

impl Receiver {
    /// A plain-HTTP receiver on a free port.
    pub async fn start() -> Receiver {
        Self::bind("127.0.0.1:0".parse().unwrap(), None, Arc::default()).await
    }

    /// An HTTPS receiver whose certificate is signed by its own CA (`ca_pem`).
    pub async fn start_tls() -> Receiver {
        let (ca, cert_pem, key_pem) = tls_material();
        let mut rx =
            Self::bind("127.0.0.1:0".parse().unwrap(), Some(Served { cert_pem, key_pem }), Arc::default()).await;
        rx.ca_pem = Some(ca);
        rx
    }

    /// An HTTPS receiver serving `served`, called by `host` in its URL.
    pub async fn start_serving(served: Served, host: &str) -> Receiver {
        let mut rx = Self::bind("127.0.0.1:0".parse().unwrap(), Some(served), Arc::default()).await;
        rx.host = host.to_owned();
        rx
    }

    /// A port nothing listens on yet (a receiver that is down); `start_on`
    /// brings it up later.
    pub fn free_port() -> SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }

    /// A plain-HTTP receiver on `addr`.
    pub async fn start_on(addr: SocketAddr) -> Receiver {
        Self::bind(addr, None, Arc::default()).await
    }

    async fn bind(addr: SocketAddr, tls: Option<Served>, shared: Arc<Shared>) -> Receiver {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let app = axum::Router::new().fallback(post(hook)).with_state(Arc::clone(&shared));
        let listener = std::net::TcpListener::bind(addr).expect("receiver port");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = axum_server::Handle::new();
        let https = tls.is_some();
        if let Some(served) = tls {
            let config = RustlsConfig::from_pem(served.cert_pem.into_bytes(), served.key_pem.into_bytes())
                .await
                .expect("TLS config");
            let server = axum_server::from_tcp_rustls(listener, config).unwrap().handle(handle.clone());
            tokio::spawn(server.serve(app.into_make_service()));
        } else {
            let server = axum_server::from_tcp(listener).unwrap().handle(handle.clone());
            tokio::spawn(server.serve(app.into_make_service()));
        }
        Receiver { addr, shared, handle, ca_pem: None, https, host: addr.ip().to_string() }
    }

    /// The webhook URL to configure, with a shared secret in the query.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}/hook?auth=s3cr3t", self.host, self.addr.port())
    }

    /// Answers the next requests with these replies, then as by default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// How to answer once the script is used up (200 unless set).
    pub fn answer(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    /// Refuses (500) every body that contains `text`, forever.
    pub fn refuse_containing(&self, text: &str) {
        *self.shared.poison.lock().unwrap() = Some(text.to_owned());
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// Most requests served at once so far.
    pub fn max_concurrent(&self) -> usize {
        self.shared.max.load(Ordering::SeqCst)
    }

    /// Every `statuses[]` item of the requests answered 200, in arrival order.
    pub fn acked_statuses(&self) -> Vec<Value> {
        self.acked("statuses")
    }

    pub fn acked(&self, key: &str) -> Vec<Value> {
        self.hits()
            .iter()
            .filter(|h| h.answered == 200 && h.completed)
            .flat_map(|h| h.body.get(key).and_then(Value::as_array).cloned().unwrap_or_default())
            .collect()
    }

    /// `(id, status)` of every acknowledged status, in arrival order.
    pub fn acked_status_pairs(&self) -> Vec<(String, String)> {
        self.acked_statuses()
            .iter()
            .map(|s| (s["id"].as_str().unwrap_or("").to_owned(), s["status"].as_str().unwrap_or("").to_owned()))
            .collect()
    }

    /// Polls until `done` holds for the hits, or panics after `within`.
    pub async fn wait_for(&self, within: Duration, what: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = Instant::now() + within;
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            assert!(
                Instant::now() < deadline,
                "receiver: {what} did not happen within {within:?}; got {} requests: {:?}",
                hits.len(),
                hits.iter().map(|h| (h.answered, h.body.to_string())).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `n` statuses were acknowledged.
    pub async fn wait_for_statuses(&self, n: usize, within: Duration) -> Vec<(String, String)> {
        self.wait_for(within, &format!("{n} acknowledged statuses"), |hits| {
            hits.iter()
                .filter(|h| h.answered == 200 && h.completed)
                .map(|h| h.body.get("statuses").and_then(Value::as_array).map_or(0, Vec::len))
                .sum::<usize>()
                >= n
        })
        .await;
        self.acked_status_pairs()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}
