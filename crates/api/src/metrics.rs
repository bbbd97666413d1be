//! The metric objects of `/metrics` and `/v1/stats/*` (`health-stats.md`
//! §3–§5): one model, rendered as the On-Premises JSON
//! (`{"<name>": {"type", "help", "data": [samples]}}`) or as Prometheus text
//! (`?format=prometheus`), and the web server's own counters.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A metric's type, as both formats name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Gauge,
    Counter,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// A histogram sample: cumulative counts per upper bound (`le`, the last
/// `+Inf`), the count and the sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub buckets: Vec<(String, u64)>,
    pub count: u64,
    pub sum: f64,
}

/// One sample: labels in order, and a value or a histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub buckets: Option<Histogram>,
}

impl Sample {
    pub fn new(labels: &[(&str, &str)], value: f64) -> Self {
        Self { labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), value, buckets: None }
    }
}

/// A metric and its samples. It also travels between the nodes of a
/// deployment (serde, labels kept in order), which is why the name and help
/// may be owned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub name: Cow<'static, str>,
    pub kind: Kind,
    pub help: Cow<'static, str>,
    pub samples: Vec<Sample>,
}

impl Metric {
    pub fn new(name: &'static str, kind: Kind, help: &'static str, samples: Vec<Sample>) -> Self {
        Self { name: Cow::Borrowed(name), kind, help: Cow::Borrowed(help), samples }
    }
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 { json!(v as i64) } else { json!(v) }
}

/// Multiconnect: `{"<node>": {metrics}}`.
pub fn to_json_by_node(nodes: &[(String, Vec<Metric>)]) -> Value {
    Value::Object(nodes.iter().map(|(node, metrics)| (node.clone(), to_json(metrics))).collect())
}

/// Multiconnect Prometheus text: each metric's samples from every node under
/// one HELP/TYPE header (the first node's), the `node` label first.
pub fn to_prometheus_by_node(nodes: &[(String, Vec<Metric>)]) -> String {
    let mut merged: Vec<Metric> = Vec::new();
    for (node, metrics) in nodes {
        for m in metrics.iter().filter(|m| !m.samples.is_empty()) {
            let i = match merged.iter().position(|x| x.name == m.name) {
                Some(i) => i,
                None => {
                    merged.push(Metric { samples: Vec::new(), ..m.clone() });
                    merged.len() - 1
                }
            };
            merged[i].samples.extend(m.samples.iter().map(|s| {
                let mut labels = Vec::with_capacity(s.labels.len() + 1);
                labels.push(("node".to_owned(), node.clone()));
                labels.extend(s.labels.iter().cloned());
                Sample { labels, ..s.clone() }
            }));
        }
    }
    to_prometheus(&merged)
}

/// The JSON object of metrics (the caller wraps it: `metrics`, `stats.app`, …).
pub fn to_json(metrics: &[Metric]) -> Value {
    let mut out = Map::new();
    for m in metrics {
        let data: Vec<Value> = m
            .samples
            .iter()
            .map(|s| {
                let mut o = Map::new();
                if !s.labels.is_empty() {
                    let labels: Map<String, Value> = s.labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                    o.insert("labels".into(), Value::Object(labels));
                }
                match &s.buckets {
                    Some(h) => {
                        let b: Map<String, Value> = h.buckets.iter().map(|(le, n)| (le.clone(), json!(n))).collect();
                        o.insert("bucket".into(), Value::Object(b));
                        o.insert("count".into(), json!(h.count));
                        o.insert("sum".into(), number(h.sum));
                    }
                    None => {
                        o.insert("value".into(), number(s.value));
                    }
                }
                Value::Object(o)
            })
            .collect();
        out.insert(m.name.to_string(), json!({ "type": m.kind.as_str(), "help": m.help, "data": data }));
    }
    Value::Object(out)
}

/// A label value escaped as the exposition format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn label_set(labels: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{}\"", escape(v)));
    }
    if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(",")) }
}

fn prom_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// Prometheus text (version 0.0.4); metrics without samples are left out.
pub fn to_prometheus(metrics: &[Metric]) -> String {
    let mut out = String::new();
    for m in metrics.iter().filter(|m| !m.samples.is_empty()) {
        out.push_str(&format!("# HELP {} {}\n# TYPE {} {}\n", m.name, m.help, m.name, m.kind.as_str()));
        for s in &m.samples {
            match &s.buckets {
                Some(Histogram { buckets, count, sum }) => {
                    for (le, n) in buckets.iter().filter(|(le, _)| le != "+Inf") {
                        out.push_str(&format!("{}_bucket{} {n}\n", m.name, label_set(&s.labels, Some(("le", le)))));
                    }
                    out.push_str(&format!("{}_bucket{} {count}\n", m.name, label_set(&s.labels, Some(("le", "+Inf")))));
                    out.push_str(&format!("{}_sum{} {}\n", m.name, label_set(&s.labels, None), prom_number(*sum)));
                    out.push_str(&format!("{}_count{} {count}\n", m.name, label_set(&s.labels, None)));
                }
                None => out.push_str(&format!("{}{} {}\n", m.name, label_set(&s.labels, None), prom_number(s.value))),
            }
        }
    }
    out
}

/// The web server's counters (`/metrics`).
pub struct WebMetrics {
    started: Instant,
    handled: AtomicU64,
    connections: AtomicU64,
    /// Bytes of the response bodies that declared their length.
    out_bytes: AtomicU64,
    /// Route template → (method, status, count, total ms). Looked up by
    /// `&str` so that counting a request allocates nothing; the labels are
    /// only built when the metrics are read.
    api: Mutex<HashMap<String, Vec<RouteCount>>>,
}

struct RouteCount {
    method: Method,
    status: u16,
    count: u64,
    total_ms: u64,
}

impl Default for WebMetrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            handled: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            out_bytes: AtomicU64::new(0),
            api: Mutex::new(HashMap::new()),
        }
    }
}

/// `GET_v1_media_id` for `GET /v1/media/{id}`: the route template, `/` → `_`,
/// placeholders without braces, so that the label's values stay few.
pub fn method_label(method: &str, template: &str) -> String {
    let path: String = template.chars().filter(|c| *c != '{' && *c != '}').collect::<String>().replace('/', "_");
    format!("{method}{path}")
}

impl WebMetrics {
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// A TCP (or TLS) connection was accepted.
    pub fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Kilobytes sent in response bodies of known length.
    pub fn out_kbytes(&self) -> u64 {
        self.out_bytes.load(Ordering::Relaxed) / 1024
    }

    /// `(method label, status, count, total ms)` of every route so far, by
    /// label and status.
    pub fn api(&self) -> Vec<(String, u16, u64, u64)> {
        let mut out: Vec<(String, u16, u64, u64)> = self
            .api
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flat_map(|(template, counts)| {
                counts.iter().map(|c| (method_label(c.method.as_str(), template), c.status, c.count, c.total_ms))
            })
            .collect();
        out.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        out
    }

    fn record(&self, method: &Method, template: &str, status: u16, ms: u64) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        let mut api = self.api.lock().unwrap_or_else(|e| e.into_inner());
        let counts = match api.get_mut(template) {
            Some(counts) => counts,
            None => api.entry(template.to_owned()).or_default(),
        };
        match counts.iter_mut().find(|c| c.status == status && c.method == method) {
            Some(c) => {
                c.count += 1;
                c.total_ms += ms;
            }
            None => counts.push(RouteCount { method: method.clone(), status, count: 1, total_ms: ms }),
        }
    }
}

/// Times one routed request, by route template and status.
pub struct Timer {
    template: Option<MatchedPath>,
    method: Method,
    started: Instant,
}

impl Timer {
    pub fn start(req: &Request) -> Self {
        // Both are cheap clones (a reference count; standard methods are inline).
        Self {
            template: req.extensions().get::<MatchedPath>().cloned(),
            method: req.method().clone(),
            started: Instant::now(),
        }
    }

    /// Counts the answer; hands it back.
    pub fn finish(self, web: &WebMetrics, res: Response) -> Response {
        if let Some(n) = axum::body::HttpBody::size_hint(res.body()).exact() {
            web.out_bytes.fetch_add(n, Ordering::Relaxed);
        }
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        web.record(&self.method, self.template.as_ref().map_or("", MatchedPath::as_str), res.status().as_u16(), ms);
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats() {
        let metrics = vec![
            Metric::new("web_uptime", Kind::Gauge, "Seconds", vec![Sample::new(&[("node", "h:1")], 12.0)]),
            Metric::new("empty", Kind::Counter, "Nothing", vec![]),
            Metric::new(
                "lat",
                Kind::Histogram,
                "Latency",
                vec![Sample {
                    labels: vec![],
                    value: 0.0,
                    buckets: Some(Histogram {
                        buckets: vec![("10".into(), 1), ("+Inf".into(), 3)],
                        count: 3,
                        sum: 42.0,
                    }),
                }],
            ),
            Metric::new("quoted", Kind::Counter, "Q", vec![Sample::new(&[("m", "a\"b")], 1.5)]),
        ];
        let j = to_json(&metrics);
        assert_eq!(
            j["web_uptime"],
            json!({"type": "gauge", "help": "Seconds", "data": [{"labels": {"node": "h:1"}, "value": 12}]})
        );
        assert_eq!(j["lat"]["data"][0], json!({"bucket": {"10": 1, "+Inf": 3}, "count": 3, "sum": 42}));
        let p = to_prometheus(&metrics);
        assert!(p.contains("# HELP web_uptime Seconds\n# TYPE web_uptime gauge\nweb_uptime{node=\"h:1\"} 12\n"), "{p}");
        assert!(!p.contains("empty"));
        assert!(p.contains("lat_bucket{le=\"10\"} 1\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 42\nlat_count 3\n"), "{p}");
        assert!(p.contains("quoted{m=\"a\\\"b\"} 1.5\n"), "{p}");
    }

    #[test]
    fn nodes_merge_under_one_header_with_the_node_label_first() {
        let a = vec![
            Metric::new("queue", Kind::Gauge, "Queue", vec![Sample::new(&[], 12.0)]),
            Metric::new("req", Kind::Counter, "Requests", vec![Sample::new(&[("result", "ok"), ("type", "x")], 3.0)]),
        ];
        let b = vec![
            Metric::new("queue", Kind::Gauge, "Other help", vec![Sample::new(&[], 0.0)]),
            Metric::new("only_b", Kind::Counter, "B", vec![Sample::new(&[("z", "1"), ("a", "2")], 1.0)]),
        ];
        // The way a node's metrics reach the others: serde, labels in order.
        let b: Vec<Metric> = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        let nodes = vec![("w1:aa".to_owned(), a), ("w2:bb".to_owned(), b)];
        let p = to_prometheus_by_node(&nodes);
        assert!(
            p.starts_with(
                "# HELP queue Queue\n# TYPE queue gauge\nqueue{node=\"w1:aa\"} 12\nqueue{node=\"w2:bb\"} 0\n"
            ),
            "{p}"
        );
        assert_eq!(p.matches("# HELP queue").count(), 1, "{p}");
        assert!(p.contains("req{node=\"w1:aa\",result=\"ok\",type=\"x\"} 3\n"), "{p}");
        assert!(p.contains("only_b{node=\"w2:bb\",z=\"1\",a=\"2\"} 1\n"), "{p}");
        let j = to_json_by_node(&nodes);
        assert_eq!(j["w1:aa"]["queue"]["data"][0]["value"], 12, "{j}");
        assert_eq!(j["w2:bb"]["only_b"]["help"], "B", "{j}");
    }

    #[test]
    fn requests_are_counted_by_route_method_and_status() {
        let web = WebMetrics::default();
        web.record(&Method::POST, "/v1/messages", 201, 3);
        web.record(&Method::POST, "/v1/messages", 201, 5);
        web.record(&Method::POST, "/v1/messages", 400, 1);
        web.record(&Method::GET, "/v1/media/{id}", 200, 2);
        web.record(&Method::DELETE, "/v1/media/{id}", 200, 4);
        assert_eq!(
            web.api(),
            [
                ("DELETE_v1_media_id".to_owned(), 200, 1, 4),
                ("GET_v1_media_id".to_owned(), 200, 1, 2),
                ("POST_v1_messages".to_owned(), 201, 2, 8),
                ("POST_v1_messages".to_owned(), 400, 1, 1),
            ]
        );
        assert_eq!(web.handled(), 5);
    }

    #[test]
    fn method_labels() {
        assert_eq!(method_label("GET", "/v1/groups"), "GET_v1_groups");
        assert_eq!(method_label("GET", "/v1/media/{id}"), "GET_v1_media_id");
        assert_eq!(method_label("POST", "/v1/settings/backup"), "POST_v1_settings_backup");
    }
}
