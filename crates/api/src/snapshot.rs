//! What a node of a multiconnect deployment publishes about itself with
//! each heartbeat, so that any node can answer `GET /v1/support` and
//! `GET /v1/stats/app[/internal]` for the whole deployment without calling
//! the others (the database is the only channel between nodes).

use serde_json::json;

use crate::routes::stats::{SNAPSHOT_APP, SNAPSHOT_APP_INTERNAL, app_internal_metrics, app_metrics};
use crate::routes::support::{SNAPSHOT_SUPPORT, document};
use crate::state::AppState;

/// This node's support document and app stats, as JSON. A part that cannot
/// be read now is left out; the readers then leave the node out too.
pub async fn node_snapshot(state: &AppState) -> String {
    let mut out = serde_json::Map::new();
    if let Ok(doc) = document(state).await {
        out.insert(SNAPSHOT_SUPPORT.to_owned(), doc);
    }
    if let Ok(metrics) = app_metrics(state).await {
        out.insert(SNAPSHOT_APP.to_owned(), json!(metrics));
    }
    out.insert(SNAPSHOT_APP_INTERNAL.to_owned(), json!(app_internal_metrics(state)));
    serde_json::Value::Object(out).to_string()
}
