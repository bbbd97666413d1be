//! The typed description of operations (issue 21 §1): each one's request
//! body and success answer as JSON Schema, with an example of each, written
//! from the wire format (the parsers are hand-written, so there is no serde
//! type to derive them from). They reach `/openapi.json` through
//! [`ApiRouter::described`](crate::openapi::ApiRouter::described), and a test
//! sends every example request to the real server and validates the answer
//! against its schema, so the description cannot drift from the code.
//!
//! One file per area; `parts.rs` has the pieces several share.

pub mod parts;
pub mod simulator;
pub mod v1;

use serde_json::Value;

/// One operation, described.
#[derive(Debug, Clone)]
pub struct Described {
    /// The request body's schema and an example of it (`None`: no body).
    pub request: Option<(Value, Value)>,
    /// The success status the example gets.
    pub status: u16,
    /// The success answer's schema (the whole document, `meta` included) and an example.
    pub response: (Value, Value),
}

impl Described {
    /// An operation without a body.
    pub fn answers(status: u16, schema: Value, example: Value) -> Self {
        Self { request: None, status, response: (schema, example) }
    }

    /// With a request body.
    pub fn takes(mut self, schema: Value, example: Value) -> Self {
        self.request = Some((schema, example));
        self
    }
}
