//! The only way a route is added to wabiz: [`ApiRouter`] registers the
//! handler with axum and its operation in the OpenAPI document in one call,
//! so the document served at `/openapi.json` cannot drift from the router.
//!
//! Each operation's security comes from the access table
//! (`wabiz_domain::access`), the same one the authentication layer applies;
//! path parameters come from the path itself.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required, Tag};
use wabiz_domain::access::{Access, required_access};
use wabiz_domain::users::Role;

use crate::schemas::{Answer, Described, Request};
use crate::state::AppState;
use serde_json::{Value, json};

/// What a request body is, for the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    None,
    /// A JSON object (optional on DELETE: some clients send one).
    Json,
    /// Raw bytes of the given media type (uploads).
    Binary(&'static str),
}

/// What a successful answer is, for the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnswerKind {
    /// The On-Premises envelope: `meta` plus the route's payload.
    Envelope,
    /// A file or a page, not JSON.
    Binary,
    /// A Server-Sent Events stream whose events carry JSON.
    EventStream,
}

/// One documented operation.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    pub path: &'static str,
    pub method: axum::http::Method,
    summary: &'static str,
    body: BodyKind,
    answer: AnswerKind,
    /// Its typed request and answer, once described (`crate::schemas`).
    described: Option<Described>,
}

/// The document: the operations as utoipa builds them, then each described
/// operation's schemas and examples written in (JSON Schema as the
/// description has it, which utoipa's types would not all carry).
pub struct Document {
    openapi: OpenApi,
    described: Vec<(String, String, Described)>,
}

impl Document {
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut doc = serde_json::to_value(&self.openapi)?;
        for (path, method, d) in &self.described {
            let op = &mut doc["paths"][path.as_str()][method.as_str()];
            match &d.request {
                Some(Request::Json(schema, example)) => {
                    let mut schema = schema.clone();
                    if d.null_is_absent {
                        null_reads_as_absent(&mut schema);
                    }
                    if d.body_optional {
                        // An empty body, or `null`, reads as `{}`.
                        allow_null(&mut schema);
                    }
                    // `example` and `examples` exclude each other: with more than one, all are named.
                    let media = if d.examples.is_empty() {
                        json!({ "schema": schema, "example": example })
                    } else {
                        let mut named = serde_json::Map::new();
                        named.insert("default".to_owned(), json!({ "value": example }));
                        for (name, value) in &d.examples {
                            named.insert((*name).to_owned(), json!({ "value": value }));
                        }
                        json!({ "schema": schema, "examples": named })
                    };
                    op["requestBody"]["content"]["application/json"] = media;
                    op["requestBody"]["required"] = json!(!d.body_optional);
                }
                Some(Request::Bytes) => {}
                // Described without a body: it reads none.
                None => {
                    if let Some(map) = op.as_object_mut() {
                        map.remove("requestBody");
                    }
                }
            }
            // `get_mut`, not indexing: indexing a missing key writes a `null` in.
            if let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in parameters.iter_mut() {
                    if let Some((_, example)) = d.parameters.iter().find(|(name, _)| p["name"] == *name) {
                        p["example"] = json!(example);
                    }
                }
            }
            for (name, schema, description) in &d.query {
                let required = d.required_query.contains(name);
                let q = json!({"name": name, "in": "query", "required": required, "schema": schema, "description": description});
                match op.get_mut("parameters").and_then(Value::as_array_mut) {
                    Some(list) => list.push(q),
                    None => op["parameters"] = json!([q]),
                }
            }
            let generic = op["responses"]["2XX"].take();
            if let Some(map) = op["responses"].as_object_mut() {
                map.remove("2XX");
            }
            let description = generic["description"].as_str().unwrap_or("Success").to_owned();
            let content = |answer: &Answer| match answer {
                Answer::Json(schema, example) => json!({"application/json": {"schema": schema, "example": example}}),
                Answer::Bytes(media_type) => {
                    json!({ *media_type: {"schema": {"type": "string", "contentMediaType": media_type}} })
                }
                Answer::Events => generic["content"].clone(),
                Answer::Redirect(_) => Value::Null,
            };
            let response = |answer: &Answer| match answer {
                Answer::Redirect(location) => json!({
                    "description": format!("Redirect to `{location}`"),
                    "headers": {"Location": {"schema": {"type": "string"}, "example": location}},
                }),
                _ => json!({ "description": description, "content": content(answer) }),
            };
            op["responses"][d.status.to_string()] = response(&d.response);
            if let Some(media_type) = d.alternate {
                op["responses"][d.status.to_string()]["content"][media_type] = json!({"schema": {"type": "string"}});
            }
            for link in &d.links {
                let mut l = json!({ "operationId": link.operation_id });
                if let Some((parameter, pointer)) = link.parameter {
                    l["parameters"] = json!({ parameter: format!("$response.body#{pointer}") });
                }
                if !link.description.is_empty() {
                    l["description"] = json!(link.description);
                }
                op["responses"][d.status.to_string()]["links"][link.name] = l;
            }
            for (status, answer) in &d.also {
                op["responses"][status.to_string()] = response(answer);
            }
        }
        serde_json::to_string(&doc)
    }
}

/// Routes plus the operations that document them.
#[derive(Default)]
pub struct ApiRouter {
    methods: BTreeMap<&'static str, MethodRouter<AppState>>,
    body_limits: BTreeMap<&'static str, usize>,
    ops: Vec<RouteDoc>,
}

impl ApiRouter {
    pub fn new() -> Self {
        Self::default()
    }

    fn on<H, T>(mut self, method: axum::http::Method, path: &'static str, handler: H, summary: &'static str) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let routes = self.methods.remove(path).unwrap_or_default();
        self.methods.insert(path, routes.on(filter, handler));
        // DELETE too: some routes take a JSON body there (documented as optional).
        let body = if method == axum::http::Method::GET { BodyKind::None } else { BodyKind::Json };
        self.ops.push(RouteDoc { path, method, summary, body, answer: AnswerKind::Envelope, described: None });
        self
    }

    /// The operation just added, described: its request and answer schemas
    /// and examples (`crate::schemas`).
    pub fn described(mut self, d: Described) -> Self {
        if let Some(op) = self.ops.last_mut() {
            op.described = Some(d);
        }
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H, summary: &'static str) -> Self {
        self.on(axum::http::Method::GET, path, h, summary)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H, summary: &'static str) -> Self {
        self.on(axum::http::Method::POST, path, h, summary)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H, summary: &'static str) -> Self {
        self.on(axum::http::Method::PUT, path, h, summary)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H, summary: &'static str) -> Self {
        self.on(axum::http::Method::PATCH, path, h, summary)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H, summary: &'static str) -> Self {
        self.on(axum::http::Method::DELETE, path, h, summary)
    }

    /// The operation just added takes raw bytes of `media_type` (an upload).
    pub fn takes_binary(mut self, media_type: &'static str) -> Self {
        if let Some(op) = self.ops.last_mut() {
            op.body = BodyKind::Binary(media_type);
        }
        self
    }

    /// The operation just added answers with a file or a page, not JSON.
    pub fn answers_binary(mut self) -> Self {
        if let Some(op) = self.ops.last_mut() {
            op.answer = AnswerKind::Binary;
        }
        self
    }

    /// The operation just added answers with a Server-Sent Events stream.
    pub fn answers_event_stream(mut self) -> Self {
        if let Some(op) = self.ops.last_mut() {
            op.answer = AnswerKind::EventStream;
        }
        self
    }

    /// Wraps every route of this router, each method of each path, in what
    /// `wrap` makes of it (a layer for a group of routes).
    pub fn map_routes(mut self, wrap: impl Fn(MethodRouter<AppState>) -> MethodRouter<AppState>) -> Self {
        self.methods = std::mem::take(&mut self.methods).into_iter().map(|(path, r)| (path, wrap(r))).collect();
        self
    }

    /// Raises the body size limit of every method of `path` (uploads).
    pub fn body_limit(mut self, path: &'static str, bytes: usize) -> Self {
        self.body_limits.insert(path, bytes);
        self
    }

    pub fn merge(mut self, other: ApiRouter) -> Self {
        for (path, routes) in other.methods {
            let merged = match self.methods.remove(path) {
                Some(mine) => mine.merge(routes),
                None => routes,
            };
            self.methods.insert(path, merged);
        }
        self.body_limits.extend(other.body_limits);
        self.ops.extend(other.ops);
        self
    }

    /// The axum router and the OpenAPI document of exactly its routes.
    pub fn finish(self) -> (Router<AppState>, Document) {
        let openapi = document(&self.ops);
        let described = self
            .ops
            .iter()
            .filter_map(|op| {
                let method = op.method.as_str().to_ascii_lowercase();
                op.described.clone().map(|d| (openapi_path(op.path), method, d))
            })
            .collect();
        let doc = Document { openapi, described };
        let mut router = Router::new();
        for (path, mut routes) in self.methods {
            if let Some(limit) = self.body_limits.get(path) {
                routes = routes.layer(DefaultBodyLimit::max(*limit));
            }
            router = router.route(path, routes);
        }
        (router, doc)
    }
}

/// `{name}` and `{*name}` segments of an axum path.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| name.trim_start_matches('*'))
        .collect()
}

/// The OpenAPI spelling of an axum path (`{*rest}` becomes `{rest}`).
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

/// The path with each parameter replaced by a sample value, for the access
/// table (which matches on prefixes and never on parameter values).
fn sample_path(path: &str) -> String {
    path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/")
}

/// `/v1/<area>` → the area; wabiz's own prefixes by name.
fn tag_of(path: &str) -> &'static str {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("v1"), Some("users")) => "Users",
        (Some("v1"), Some("settings")) => "Settings",
        (Some("v1"), Some("certificates")) => "Certificates",
        (Some("v1"), Some("account")) => "Registration",
        (Some("v1"), Some("contacts")) => "Contacts",
        (Some("v1"), Some("media")) | (Some("pps"), _) => "Media",
        (Some("v1"), Some("messages")) => "Messages",
        (Some("v1"), Some("groups")) => "Groups",
        (Some("v1"), Some("services")) => "Services",
        (Some("v1"), Some("health" | "stats" | "support")) | (Some("metrics" | ""), _) => "Health and stats",
        (Some("simulator"), _) => "Simulator",
        (Some("wabiz"), _) => "wabiz",
        (Some("openapi.json" | "docs"), _) => "Documentation",
        _ => "Other",
    }
}

fn http_method(m: &axum::http::Method) -> HttpMethod {
    match *m {
        axum::http::Method::POST => HttpMethod::Post,
        axum::http::Method::PUT => HttpMethod::Put,
        axum::http::Method::PATCH => HttpMethod::Patch,
        axum::http::Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Api => "ROLE_API",
        Role::User => "ROLE_USER",
        Role::Admin => "ROLE_ADMIN",
    }
}

fn operation(op: &RouteDoc) -> Operation {
    let access = required_access(op.method.as_str(), &sample_path(op.path));
    let (security, who): (Vec<SecurityRequirement>, String) = match access {
        Access::Public => (vec![SecurityRequirement::default()], "No credentials needed.".to_owned()),
        Access::Basic => (vec![SecurityRequirement::new("basicAuth", Vec::<String>::new())], "HTTP Basic.".to_owned()),
        Access::Role(Role::Api) => (
            vec![
                SecurityRequirement::new("bearerAuth", Vec::<String>::new()),
                SecurityRequirement::new("apiKey", Vec::<String>::new()),
            ],
            "Any user's token, or the API key.".to_owned(),
        ),
        Access::Role(r) => {
            (vec![SecurityRequirement::new("bearerAuth", Vec::<String>::new())], format!("Requires {}.", role_name(r)))
        }
    };
    let (mut security, mut who) = (security, who);
    if op.path == crate::auth::EVENT_STREAM {
        // A browser's `EventSource` cannot send a header: a short-lived token in the query instead.
        security.push(SecurityRequirement::new("streamToken", Vec::<String>::new()));
        who.push_str(" Or `?token=` from `POST /simulator/events/token` (5 minutes, this route only).");
    }
    let mut b = OperationBuilder::new()
        .tag(tag_of(op.path))
        .summary(Some(op.summary))
        .description(Some(who))
        .operation_id(Some(operation_id(op)))
        .securities(Some(security));
    for name in path_parameters(op.path) {
        b = b.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    b = match op.body {
        BodyKind::None => b,
        BodyKind::Json => b.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(if op.method == axum::http::Method::DELETE { Required::False } else { Required::True }))
                .content("application/json", Content::new(Some(ObjectBuilder::new().schema_type(Type::Object))))
                .build(),
        )),
        BodyKind::Binary(media_type) => b.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(media_type, Content::new(Some(binary_schema())))
                .build(),
        )),
    };
    let success = match op.answer {
        AnswerKind::Envelope => ResponseBuilder::new()
            .description("Success: `meta` and the payload")
            .content("application/json", Content::new(Some(Ref::from_schema_name("Envelope")))),
        AnswerKind::Binary => ResponseBuilder::new()
            .description("Success: the file")
            .content("application/octet-stream", Content::new(Some(binary_schema()))),
        AnswerKind::EventStream => ResponseBuilder::new()
            .description(EVENT_STREAM_DOC)
            .content("text/event-stream", Content::new(Some(sse_event()))),
    };
    let failure = |why: &str| {
        ResponseBuilder::new()
            .description(why)
            .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorResponse"))))
            .build()
    };
    b = b.response("2XX", success.build());
    for Failure { status, why, envelope } in failures(op, access) {
        let answer = if envelope { failure(why) } else { ResponseBuilder::new().description(why).build() };
        b = b.response(status, answer);
    }
    b.response("default", failure("Another error: `meta` and `errors` (On-Premises error model)")).build()
}

/// An error answer an operation can give.
struct Failure {
    status: &'static str,
    why: &'static str,
    /// The On-Premises envelope (`meta`, `errors`); `false`: no body at all.
    envelope: bool,
}

/// The error answers an operation can give by its shape and its access rule,
/// each with the On-Premises codes behind it.
fn failures(op: &RouteDoc, access: Access) -> Vec<Failure> {
    let with_envelope = |status, why| Failure { status, why, envelope: true };
    let mut out = Vec::new();
    if op.body != BodyKind::None || op.path.contains('{') {
        out.push(with_envelope("400", "The request is not valid: 1008 (a required parameter is missing), 1009 (a value is not valid), 1010 (a parameter that does not belong), 1025, or a message code (1001, 1002, 1013, 2000-2069)"));
    }
    match access {
        Access::Public => {}
        // Wrong credentials get the bare Basic challenge, as the Webapp answered: no body.
        Access::Basic => out.push(Failure {
            status: "401",
            why: "Missing or wrong HTTP Basic credentials, or the factory password must be changed first (1024)",
            envelope: false,
        }),
        Access::Role(_) => {
            out.push(with_envelope(
                "401",
                "No valid token (1005): missing, malformed, expired, logged out, or of a deleted user",
            ));
            out.push(with_envelope("403", "The token's role may not do this (1005)"));
        }
    }
    if op.path.contains('{') {
        out.push(with_envelope("404", "Nothing has this id (1006, or 1012 for a group)"));
    }
    out
}

/// The event stream's answer: the events and their fields (the README has the same table).
const EVENT_STREAM_DOC: &str = "Success: a `text/event-stream`. Each event's `event:` is its type, its `id:` is \
`<stream>-<seq>` (resume with `Last-Event-ID` or `?last_event_id=`), and its `data:` one JSON object with `type`, \
`seq`, `at` (Unix ms) and: `message_accepted` {id, wa_id, message_type}; `message_status` {id, wa_id, status, \
errors?}; `message_inbound` {id, wa_id, message_type}; `contact_check` {input, wa_id, status}; `callback_attempt` \
{wa_id?, messages, callbacks, delivered, result, attempt}; `settings_changed` {}; `registration_changed` {wa_id, \
gateway_status}; `chaos_changed` {chaos}; `template_status` {namespace, name, language, status, reason?}; \
`traffic` {id, state, generated}. The stream opens with `ready` {stream}; `gap` says retained events were missed, \
`lagged` that the reader fell behind and is disconnected.";

/// One Server-Sent Event as a reader parses it: `event`, `id` and `data`
/// (one JSON object per event; `EVENT_STREAM_DOC` lists them).
fn sse_event() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("event", ObjectBuilder::new().schema_type(Type::String))
        .property("id", ObjectBuilder::new().schema_type(Type::String))
        .property("data", ObjectBuilder::new().schema_type(Type::String).content_media_type("application/json"))
        .required("event")
        .required("data")
}

/// Optional request fields accept `null` as if they were absent, where the
/// route reads them so (the Webapp did for messages and contacts, and
/// generated clients send unset fields as `null`), at every depth.
fn null_reads_as_absent(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    let required: Vec<String> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            null_reads_as_absent(property);
            if !required.contains(name) {
                allow_null(property);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            null_reads_as_absent(inner);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(branches) = map.get_mut(key).and_then(Value::as_array_mut) {
            branches.iter_mut().for_each(null_reads_as_absent);
        }
    }
}

/// `schema`, widened to take `null` too.
fn allow_null(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    if let Some(c) = map.remove("const") {
        map.insert("enum".to_owned(), json!([c]));
    }
    if let Some(values) = map.get_mut("enum").and_then(Value::as_array_mut)
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".to_owned(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        Some(_) => {}
        None => {
            for key in ["oneOf", "anyOf"] {
                if let Some(branches) = map.get_mut(key).and_then(Value::as_array_mut) {
                    branches.push(json!({"type": "null"}));
                }
            }
        }
    }
}

fn binary_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).content_media_type("application/octet-stream").min_length(Some(1))
}

/// A stable id: method and path, e.g. `get_v1_groups_id_icon`.
fn operation_id(op: &RouteDoc) -> String {
    let path: String = op
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let path = if path.is_empty() { "root".to_owned() } else { path };
    format!("{}_{path}", op.method.as_str().to_ascii_lowercase())
}

fn document(ops: &[RouteDoc]) -> OpenApi {
    let mut paths = Paths::new();
    for op in ops {
        paths.add_path_operation(openapi_path(op.path), vec![http_method(&op.method)], operation(op));
    }
    let mut tags: Vec<&str> = ops.iter().map(|o| tag_of(o.path)).collect();
    tags.sort_unstable();
    tags.dedup();
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let meta = ObjectBuilder::new()
        .property("version", string())
        .property("api_status", string())
        .required("version")
        .required("api_status");
    let error = ObjectBuilder::new()
        .property("code", ObjectBuilder::new().schema_type(Type::Integer))
        .property("title", string())
        .property("details", string())
        .required("code")
        .required("title");
    let envelope = ObjectBuilder::new()
        .description(Some("Every On-Premises answer: `meta`, and the route's own keys"))
        .property("meta", Ref::from_schema_name("Meta"))
        .required("meta")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)));
    let error_response = ObjectBuilder::new()
        .property("meta", Ref::from_schema_name("Meta"))
        .property("errors", ArrayBuilder::new().items(Ref::from_schema_name("Error")))
        .required("meta")
        .required("errors");
    let components = ComponentsBuilder::new()
        .schema("Meta", meta)
        .schema("Error", error)
        .schema("Envelope", envelope)
        .schema("ErrorResponse", error_response)
        .security_scheme("bearerAuth", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
        .security_scheme("basicAuth", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)))
        .security_scheme(
            "streamToken",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A token of `POST /simulator/events/token`, for `GET /simulator/events` only",
            ))),
        )
        .security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Apikey <key>`: the key given with `--api-key` (health, metrics and stats only)",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("wabiz: WhatsApp Business On-Premises API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Every route this wabiz server serves: the On-Premises `/v1` API, the simulated \
                     network's control API (`/simulator`) and wabiz's own (`/wabiz`). Log in with \
                     `POST /v1/users/login` (HTTP Basic) and send the token as `Authorization: Bearer`.",
                )),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some(tags.into_iter().map(Tag::new)))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_parameters() {
        assert_eq!(path_parameters("/v1/groups/{id}/icon"), ["id"]);
        assert_eq!(path_parameters("/docs/{*file}"), ["file"]);
        assert_eq!(openapi_path("/docs/{*file}"), "/docs/{file}");
        assert_eq!(sample_path("/v1/users/{username}"), "/v1/users/x");
        assert_eq!(tag_of("/v1/groups/{id}"), "Groups");
        assert_eq!(tag_of("/"), "Health and stats");
    }

    /// Routes added past [`ApiRouter`] would be missing from the document:
    /// only `finish` may call axum's `route`.
    #[test]
    fn every_route_goes_through_the_api_router() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![dir];
        let mut offenders = Vec::new();
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("src is readable") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("openapi.rs") {
                    let text = std::fs::read_to_string(&path).expect("readable");
                    if text.contains(".route(") || text.contains(".nest(") || text.contains(".route_service(") {
                        offenders.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "routes added outside ApiRouter: {offenders:?}");
    }

    #[test]
    fn security_follows_the_access_table() {
        let op = |method, path| {
            let o = RouteDoc {
                path,
                method,
                summary: "s",
                body: BodyKind::None,
                answer: AnswerKind::Envelope,
                described: None,
            };
            serde_json::to_value(operation(&o)).expect("serialises")
        };
        assert_eq!(op(axum::http::Method::GET, "/")["security"], serde_json::json!([{}]));
        assert_eq!(op(axum::http::Method::POST, "/v1/users/login")["security"], serde_json::json!([{"basicAuth": []}]));
        let health = op(axum::http::Method::GET, "/v1/health");
        assert_eq!(health["security"], serde_json::json!([{"bearerAuth": []}, {"apiKey": []}]));
        let settings = op(axum::http::Method::PATCH, "/v1/settings/application");
        assert_eq!(settings["description"], "Requires ROLE_ADMIN.");
        assert_eq!(op(axum::http::Method::GET, "/v1/users/{username}")["parameters"][0]["in"], "path");
    }
}
