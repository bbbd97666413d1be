//! `GET /` (unauthenticated liveness), `GET /ready` (unauthenticated
//! readiness) and `GET /v1/health` (`health-stats.md` §2).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use wabiz_cluster::Member;
use wabiz_domain::WaError;
use wabiz_domain::network::GatewayStatus;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::state::AppState;

/// Liveness for load balancers and orchestrators: 200, no token needed.
pub async fn root(State(state): State<AppState>) -> Response {
    reply(StatusCode::OK, &state.meta, json!({}))
}

/// `GET /ready`: readiness for a load balancer or an orchestrator, without
/// credentials. 200 when the node can take traffic: the store answers (its
/// migrations ran before the listener opened) and the network is connected
/// (a number registered, the link up); 503 with `ready: false` and the
/// reasons otherwise. Liveness is `GET /`: a node that is alive but not
/// ready must not be restarted for it.
pub async fn ready(State(state): State<AppState>) -> Response {
    let mut reasons = Vec::new();
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness: the database does not answer");
        reasons.push("the database does not answer".to_owned());
    }
    let gateway = state.network.gateway_status();
    if gateway != GatewayStatus::Connected {
        reasons.push(format!("the network is {}", gateway.as_str()));
    }
    let status = if reasons.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({"ready": reasons.is_empty(), "gateway_status": gateway.as_str(), "reasons": reasons});
    reply(status, &state.meta, body)
}

/// The single-instance health document. The gateway status comes from the
/// network backend; if the database cannot be reached the node cannot work,
/// so the answer is 500/1014, as the Webapp answered when its Coreapp was down.
pub async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    if let Err(e) = state.store.ping().await {
        tracing::error!(error = %e, "health: the database does not answer");
        return Err(WaError::internal("Communication failure: the database does not answer").into());
    }
    let status = state.network.gateway_status();
    let Some(cluster) = &state.cluster else {
        return Ok(reply(StatusCode::OK, &state.meta, json!({ "health": { "gateway_status": status.as_str() } })));
    };
    // Multiconnect: one entry per node, from the cluster table (§2.2). A node
    // owning a shard (the control shard included) is connected.
    let unhealthy = std::time::Duration::from_secs(state.settings.current().unhealthy_interval.max(1));
    let members = cluster.members(unhealthy).await.map_err(WaError::from)?;
    let mut nodes = serde_json::Map::new();
    for m in members {
        let value = if !m.healthy {
            unreachable(&m)
        } else {
            let gateway = match status {
                GatewayStatus::Unregistered | GatewayStatus::Uninitialized => status.as_str(),
                _ if m.shards.is_empty() => GatewayStatus::Disconnected.as_str(),
                _ => status.as_str(),
            };
            json!({ "gateway_status": gateway, "role": m.role })
        };
        nodes.insert(m.node_id, value);
    }
    Ok(reply(StatusCode::OK, &state.meta, json!({ "health": nodes })))
}

/// The entry of a node that has not sent a heartbeat within
/// `unhealthy_interval`: its error object, as the Webapp gave for a node it
/// could not reach.
pub fn unreachable(m: &Member) -> serde_json::Value {
    let details =
        format!("No heartbeat for {} s. Please check if wacore is running: {}", m.silent_ms / 1000, m.node_id);
    json!({ "errors": [ { "code": 1014, "title": "Internal error", "details": details } ] })
}
