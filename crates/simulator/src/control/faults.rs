//! Faults on demand: out-of-band `errors` callbacks (`webhooks.md` §5) with a
//! code of the table, so that an integration's error handling can be tried.

use serde_json::{Map, Value, json};
use wabiz_domain::WaError;
use wabiz_domain::callbacks::Outbox;
use wabiz_domain::error::{ErrorCode, ErrorItem};

use super::SimulatorControl;

/// Where the original's error callbacks point for more.
const ERRORS_HREF: &str = "https://developers.facebook.com/docs/whatsapp/api/errors/";

impl SimulatorControl {
    /// `POST /simulator/errors`: `{"code": N, "details": "…"}`.
    pub async fn inject_error(&self, body: &Map<String, Value>) -> Result<(), WaError> {
        let code = match body.get("code") {
            None | Some(Value::Null) => return Err(WaError::missing_parameter("code")),
            Some(v) => v
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .and_then(ErrorCode::from_code)
                .ok_or_else(|| WaError::invalid_json_value("code", v))?,
        };
        let item = match body.get("details") {
            None | Some(Value::Null) => ErrorItem::bare(code),
            Some(Value::String(d)) => ErrorItem::new(code, d.clone()),
            Some(other) => return Err(WaError::invalid_json_value("details", other)),
        };
        let mut value = serde_json::to_value(&item).map_err(|_| WaError::internal("Cannot encode the error"))?;
        value["href"] = json!(ERRORS_HREF);
        if let Some(cb) = Outbox::error(&self.outbox.policy(), &value, None, self.clock.now_millis()) {
            self.store.enqueue_callbacks(vec![cb]).await?;
            self.outbox.stored();
        }
        Ok(())
    }
}
