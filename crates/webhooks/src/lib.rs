//! Webhook delivery. For now this holds the two rules the rest of the server
//! already needs and the delivery engine will be built on: the retry schedule
//! of the application settings and which webhook URLs are acceptable.

pub mod backoff;
pub mod url_policy;
