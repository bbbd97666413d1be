//! What a node of a multiconnect deployment publishes about itself with
//! each heartbeat, so that any node can answer `GET /v1/support` and
//! `GET /v1/stats/app[/internal]` for the whole deployment without calling
//! the others (the database is the only channel between nodes).

use serde_json::{Value, json};

use crate::routes::stats::{app_internal_metrics, app_metrics};
use crate::routes::support::document;
use crate::state::AppState;

/// The parts of a snapshot, by key.
pub(crate) const SUPPORT: &str = "support";
pub(crate) const STATS_APP: &str = "stats_app";
pub(crate) const STATS_APP_INTERNAL: &str = "stats_app_internal";

/// This node's support document and app stats, as JSON. A part that cannot
/// be read now is left out; the readers then leave the node out too.
pub async fn node_snapshot(state: &AppState) -> String {
    let mut out = serde_json::Map::new();
    if let Ok(doc) = document(state).await {
        out.insert(SUPPORT.to_owned(), doc);
    }
    if let Ok(metrics) = app_metrics(state).await {
        out.insert(STATS_APP.to_owned(), json!(metrics));
    }
    out.insert(STATS_APP_INTERNAL.to_owned(), json!(app_internal_metrics(state)));
    Value::Object(out).to_string()
}

/// One part of what another node published, if it is there.
pub(crate) fn published(snapshot: &str, part: &str) -> Option<Value> {
    let mut all: Value = serde_json::from_str(snapshot).ok()?;
    all.get_mut(part).map(Value::take).filter(|v| !v.is_null())
}
