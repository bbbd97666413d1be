//! The typed description of operations (issue 21 §1): each one's request
//! body and success answer as JSON Schema, with an example of each, written
//! from the wire format (the parsers are hand-written, so there is no serde
//! type to derive them from). They reach `/openapi.json` through
//! [`ApiRouter::described`](crate::openapi::ApiRouter::described), and a test
//! sends every example request to the real server and validates the answer
//! against its schema, so the description cannot drift from the code.
//!
//! One file per area; `parts.rs` has the pieces several share.

pub mod console;
pub mod media;
pub mod messages;
pub mod parts;
pub mod settings;
pub mod simulator;
pub mod v1;
pub mod wabiz;

use serde_json::Value;

/// A described operation's request body.
#[derive(Debug, Clone)]
pub enum Request {
    /// A JSON body: its schema and an example.
    Json(Value, Value),
    /// Raw bytes (an upload); the media types are the router's `takes_binary`.
    Bytes,
}

/// A described operation's success answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// JSON (the whole document, `meta` included): its schema and an example.
    Json(Value, Value),
    /// A file or a page of this media type.
    Bytes(&'static str),
    /// A Server-Sent Events stream.
    Events,
    /// A redirect (no body) to this `Location`.
    Redirect(&'static str),
}

/// One operation, described.
#[derive(Debug, Clone)]
pub struct Described {
    pub request: Option<Request>,
    /// The success status the example gets.
    pub status: u16,
    pub response: Answer,
    /// Other success answers the operation can give, by status.
    pub also: Vec<(u16, Answer)>,
    /// An example value of each path parameter, by name.
    pub parameters: Vec<(&'static str, &'static str)>,
    /// Query parameters: name, schema, description.
    pub query: Vec<(&'static str, Value, &'static str)>,
    /// The query parameters (of `query`) that must be given.
    pub required_query: Vec<&'static str>,
    /// OpenAPI links from the success answer to the operations that use it.
    pub links: Vec<Link>,
    /// More request examples, by name (the first one is `request`'s).
    pub examples: Vec<(&'static str, Value)>,
    /// The JSON body may be left out (it then reads as `{}`).
    pub body_optional: bool,
    /// Another media type the success answer can have (chosen by a query parameter).
    pub alternate: Option<&'static str>,
    /// Optional fields of the body read `null` as absent (the route's parsers do).
    pub null_is_absent: bool,
}

/// An OpenAPI link: what a later operation takes from this one's answer.
#[derive(Debug, Clone)]
pub struct Link {
    pub name: &'static str,
    /// The target's `operationId` (`crate::openapi` makes them from method and path).
    pub operation_id: &'static str,
    /// The target's path parameter and the JSON pointer into this answer's body.
    pub parameter: Option<(&'static str, &'static str)>,
    pub description: &'static str,
}

impl Described {
    /// An operation without a body answering JSON.
    pub fn answers(status: u16, schema: Value, example: Value) -> Self {
        Self::with(status, Answer::Json(schema, example))
    }

    /// An operation without a body answering `response`.
    pub fn with(status: u16, response: Answer) -> Self {
        Self {
            request: None,
            status,
            response,
            also: Vec::new(),
            parameters: Vec::new(),
            query: Vec::new(),
            required_query: Vec::new(),
            links: Vec::new(),
            examples: Vec::new(),
            body_optional: false,
            alternate: None,
            null_is_absent: false,
        }
    }

    /// An operation whose answer is `meta` alone.
    pub fn meta_only(status: u16) -> Self {
        Self::answers(status, parts::meta_only(), serde_json::json!({"meta": parts::meta_example()}))
    }

    /// With another success answer (its status differs from the example's).
    pub fn or(mut self, status: u16, schema: Value, example: Value) -> Self {
        self.also.push((status, Answer::Json(schema, example)));
        self
    }

    /// With a JSON request body.
    pub fn takes(mut self, schema: Value, example: Value) -> Self {
        self.request = Some(Request::Json(schema, example));
        self
    }

    /// With a raw-bytes request body.
    pub fn takes_bytes(mut self) -> Self {
        self.request = Some(Request::Bytes);
        self
    }

    /// With an example value for the path parameter `name`.
    pub fn at(mut self, name: &'static str, example: &'static str) -> Self {
        self.parameters.push((name, example));
        self
    }

    /// With an optional query parameter.
    pub fn query(mut self, name: &'static str, schema: Value, description: &'static str) -> Self {
        self.query.push((name, schema, description));
        self
    }

    /// With a query parameter that must be given.
    pub fn needs_query(mut self, name: &'static str, schema: Value, description: &'static str) -> Self {
        self.required_query.push(name);
        self.query(name, schema, description)
    }

    /// With a link to `operation_id`, whose `parameter` is taken from this answer at `pointer`.
    pub fn link(
        mut self,
        name: &'static str,
        operation_id: &'static str,
        parameter: &'static str,
        pointer: &'static str,
    ) -> Self {
        let description = "";
        self.links.push(Link { name, operation_id, parameter: Some((parameter, pointer)), description });
        self
    }

    /// With a link that carries no parameter, only how to use the answer.
    pub fn link_described(mut self, name: &'static str, operation_id: &'static str, description: &'static str) -> Self {
        self.links.push(Link { name, operation_id, parameter: None, description });
        self
    }

    /// With another named request example (each is sent by the description's test).
    pub fn example(mut self, name: &'static str, example: Value) -> Self {
        self.examples.push((name, example));
        self
    }

    /// The body may be left out altogether.
    pub fn body_optional(mut self) -> Self {
        self.body_optional = true;
        self
    }

    /// The success answer can also be of `media_type` (a text form of it).
    pub fn or_media_type(mut self, media_type: &'static str) -> Self {
        self.alternate = Some(media_type);
        self
    }

    /// The route reads `null` in an optional field as if it were left out.
    pub fn null_is_absent(mut self) -> Self {
        self.null_is_absent = true;
        self
    }
}
