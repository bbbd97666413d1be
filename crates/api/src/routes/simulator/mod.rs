//! wabiz's own control API of the simulated network (`/simulator/*`, admin
//! only, same envelope), over the simulator's `SimulatorControl`. Documented
//! in the README. (A customer joining a group is routed with the groups,
//! which `--disable-groups` leaves out.)

mod chaos;
mod events;
mod traffic;

use crate::openapi::ApiRouter;
use crate::schemas::simulator as schemas;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use wabiz_domain::WaError;
use wabiz_domain::error::ErrorCode;
use wabiz_domain::ports::MessageRecord;
use wabiz_simulator::control::MessageView;

use crate::envelope::reply;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

/// What the simulator shows of what is stored: messages, chats, the event
/// stream, and the template registry. They work on either network.
pub fn views() -> ApiRouter {
    ApiRouter::new()
        .get("/simulator/messages/{id}", message, "A message as the network sees it, with its status history")
        .described(schemas::message())
        .get("/simulator/templates", list_templates, "The template registry")
        .described(schemas::list_templates())
        .post("/simulator/templates", add_template, "Register templates")
        .described(schemas::add_template())
        .patch("/simulator/templates", patch_template, "Change a template's review status")
        .described(schemas::change_template_status())
        .delete("/simulator/templates", delete_templates, "Delete a template (one language, or all of them)")
        .described(schemas::delete_templates())
        .get(
            "/simulator/chats",
            chats,
            "The chats, most recent first, each with its last message and unread count (`?search=` by number or name)",
        )
        .described(schemas::chats())
        .get(
            "/simulator/conversations/{wa_id}",
            conversation,
            "The last 100 messages of a chat (a customer, or a group)",
        )
        .described(schemas::conversation())
        .get(
            "/simulator/events",
            events::stream,
            "The server's events as Server-Sent Events (`?types=`, `?wa_id=`, `Last-Event-ID`)",
        )
        .answers_event_stream()
        .described(schemas::events())
        .post("/simulator/events/token", events::token, "A short-lived token that opens the event stream (`?token=`)")
        .described(schemas::stream_token())
}

/// The controls that play WhatsApp's part: customers writing, chaos,
/// generated traffic, the registration code. On the Cloud relay the real
/// WhatsApp plays it, and `routes::router` has them answer 501.
pub fn controls() -> ApiRouter {
    ApiRouter::new()
        .get("/simulator/registration", registration, "The last registration code the network sent")
        .described(schemas::registration())
        .post("/simulator/inbound", inbound, "A simulated customer sends the business a message")
        .described(schemas::inbound())
        .get(
            "/simulator/customers",
            magic_customers,
            "The magic numbers: customers who behave otherwise than ordinary ones",
        )
        .described(schemas::magic_customers())
        .post("/simulator/customers/{wa_id}/change-number", change_number, "A customer moves to a new number")
        .described(schemas::change_number())
        .post("/simulator/customers/{wa_id}/change-identity", change_identity, "A customer's security code changes")
        .described(schemas::change_identity())
        .post("/simulator/messages/{id}/delete", delete_message, "A customer deletes a message they sent")
        .described(schemas::delete_message())
        .post("/simulator/errors", inject_error, "Inject an `errors` callback")
        .described(schemas::inject_error())
        .get("/simulator/chaos", chaos::show, "The chaos settings and the forced outcomes waiting")
        .described(schemas::show_chaos())
        .put("/simulator/chaos", chaos::replace, "Replace the chaos settings (`{}` turns chaos off)")
        .described(schemas::replace_chaos())
        .post("/simulator/chaos/next", chaos::next, "The next N messages get exactly this outcome")
        .described(schemas::force_outcomes())
        .post("/simulator/traffic", traffic::start, "Start generated traffic: customers writing in at a rate")
        .described(schemas::start_traffic())
        .get("/simulator/traffic", traffic::list, "The latest generated traffic runs")
        .described(schemas::list_traffic())
        .get("/simulator/traffic/{id}", traffic::show, "A traffic run and its progress")
        .described(schemas::show_traffic())
        .delete("/simulator/traffic/{id}", traffic::stop, "Stop a traffic run")
        .described(schemas::stop_traffic())
}

/// A control's layer on the Cloud relay: after the caller's credentials
/// were checked, the answer for what relay mode lacks (`cloud-mapping.md` §1).
pub async fn not_on_the_relay(_: axum::extract::Request, _: axum::middleware::Next) -> Response {
    ApiError::from(WaError::new(ErrorCode::GenericError, "Not supported in relay mode").with_status(501))
        .into_response()
}

/// Fault injection: an `errors` callback.
async fn inject_error(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    state.simulator.inject_error(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

/// A customer moves to a new number (a `user_changed_number` system message).
async fn change_number(
    State(state): State<AppState>,
    Path(wa_id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let id = state.simulator.change_number(&wa_id, &body.0).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "messages": [{ "id": id }] })))
}

/// A customer's security code changes (a `user_identity_changed` system
/// message); answers its id and the new identity.
async fn change_identity(State(state): State<AppState>, Path(wa_id): Path<String>) -> Result<Response, ApiError> {
    let (id, identity) = state.simulator.change_identity(&wa_id).await?;
    let identity = json!([{ "hash": identity.hash, "created_timestamp": identity.created_at }]);
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "messages": [{ "id": id }], "identity": identity })))
}

/// The customer deletes a message they sent (a `deleted` status).
async fn delete_message(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.simulator.delete_message(&id).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({})))
}

/// The registration state and the code the simulated "SMS" carried.
async fn registration(State(state): State<AppState>) -> Response {
    let registration = state.simulator.registration();
    let pending = registration.pending.map_or(Value::Null, |p| {
        json!({
            "number": p.number,
            "method": p.method,
            "code": p.code,
            "attempts_left": p.attempts_left,
            "expires_at": p.expires_at,
        })
    });
    let body = json!({
        "registration": {
            "wa_id": registration.wa_id,
            "gateway_status": registration.gateway_status.as_str(),
            "pending": pending,
        }
    });
    reply(StatusCode::OK, &state.meta, body)
}

/// A stored message as the server keeps it: direction, peer, type, content,
/// status, times, its status history, and when the network moves it on next
/// (`next_event_at`, Unix milliseconds; `null` once it has nothing left to do).
async fn message(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let MessageView { message, statuses } = state.simulator.message(&id).await?;
    let statuses: Vec<Value> = statuses
        .into_iter()
        .map(|st| {
            let mut v = json!({ "status": st.status, "timestamp": st.at.to_string() });
            if let Some(errors) = st.errors {
                v["errors"] = json!(errors);
            }
            v
        })
        .collect();
    let mut view = message_json(&message);
    view["statuses"] = json!(statuses);
    Ok(reply(StatusCode::OK, &state.meta, json!({ "message": view })))
}

/// A stored message as the simulator's views show it.
fn message_json(m: &MessageRecord) -> Value {
    json!({
        "id": m.id,
        "direction": m.direction,
        "recipient_type": m.recipient_type,
        "peer": m.peer,
        "type": m.kind,
        "content": serde_json::from_str::<Value>(&m.content).unwrap_or(Value::Null),
        "status": m.status,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "next_event_at": m.next_event_at,
        "group_id": m.group,
    })
}

#[derive(serde::Deserialize)]
struct ChatQuery {
    search: Option<String>,
    limit: Option<String>,
}

/// The most chats one answer lists, and how many it lists by default.
const CHATS_MAX: usize = 200;
const CHATS_DEFAULT: usize = 50;

/// The list of chats (`?search=`: a prefix of the number, `+` ignored, or
/// of the name; `?limit=`: 1 to 200).
async fn chats(State(state): State<AppState>, Query(q): Query<ChatQuery>) -> Result<Response, ApiError> {
    let limit = match q.limit.as_deref() {
        None => CHATS_DEFAULT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=CHATS_MAX).contains(n))
            .ok_or_else(|| WaError::invalid_value("limit", text))?,
    };
    let search = q.search.as_deref().map(|s| s.trim().trim_start_matches('+')).filter(|s| !s.is_empty());
    if let Some(s) = search
        && s.chars().count() > 64
    {
        return Err(
            WaError::new(ErrorCode::ParameterValueNotValid, "Parameter 'search' is longer than 64 characters").into()
        );
    }
    let chats: Vec<Value> = state
        .simulator
        .chats(search, limit)
        .await?
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "recipient_type": c.recipient_type,
                "name": c.name,
                "last_at": c.last_at,
                "unread": c.unread,
                "last_message": c.last.as_ref().map(message_json),
            })
        })
        .collect();
    Ok(reply(StatusCode::OK, &state.meta, json!({ "chats": chats })))
}

/// The magic numbers and what each does (every other number is ordinary).
async fn magic_customers(State(state): State<AppState>) -> Response {
    let customers: Vec<Value> = wabiz_simulator::MAGIC_NUMBERS
        .iter()
        .map(|(wa_id, c)| json!({ "wa_id": wa_id, "behaviour": c.name(), "description": c.behaviour() }))
        .collect();
    reply(StatusCode::OK, &state.meta, json!({ "customers": customers }))
}

/// The last 100 messages exchanged with a customer, oldest first.
async fn conversation(State(state): State<AppState>, Path(wa_id): Path<String>) -> Result<Response, ApiError> {
    let messages: Vec<Value> = state.simulator.conversation(&wa_id, 100).await?.iter().map(message_json).collect();
    Ok(reply(StatusCode::OK, &state.meta, json!({ "messages": messages })))
}

fn template_json(t: &wabiz_domain::messages::templates::Template) -> Value {
    json!({ "namespace": t.namespace, "name": t.name, "language": t.language, "category": t.category,
            "status": t.status.as_str(), "reason": t.reason, "components": t.components })
}

async fn list_templates(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list: Vec<Value> = state.simulator.templates().await?.iter().map(template_json).collect();
    Ok(reply(StatusCode::OK, &state.meta, json!({ "templates": list })))
}

/// Adds (or replaces, by namespace, name and language) an approved template.
async fn add_template(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let t = state.simulator.register_template(&body.0).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "templates": [ template_json(&t) ] })))
}

/// `{"namespace", "name", "language", "status", "reason"?}`: one language's
/// review status.
async fn patch_template(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let t = state.simulator.change_template_status(&body.0).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "templates": [ template_json(&t) ] })))
}

#[derive(serde::Deserialize)]
struct TemplateKey {
    namespace: Option<String>,
    name: Option<String>,
    language: Option<String>,
}

/// `?namespace=…&name=…[&language=…]`: one language, or all of them.
async fn delete_templates(State(state): State<AppState>, Query(key): Query<TemplateKey>) -> Result<Response, ApiError> {
    let (Some(namespace), Some(name)) = (key.namespace, key.name) else {
        return Err(WaError::missing_parameter("namespace' and 'name").into());
    };
    let deleted = state.simulator.delete_templates(&namespace, &name, key.language.as_deref()).await?;
    Ok(reply(StatusCode::OK, &state.meta, json!({ "deleted": deleted })))
}

/// A simulated customer writes to the business; answers the new message's id.
async fn inbound(State(state): State<AppState>, body: JsonBody) -> Result<Response, ApiError> {
    let id = state.simulator.receive(&body.0).await?;
    Ok(reply(StatusCode::CREATED, &state.meta, json!({ "messages": [ { "id": id } ] })))
}
