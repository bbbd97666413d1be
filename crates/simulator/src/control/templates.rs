//! The approved-template registry: what template and hsm sends are checked
//! against (the checks themselves are the domain's, `messages::templates`).

use serde_json::{Map, Value};
use wabiz_domain::WaError;
use wabiz_domain::messages::templates::Template;

use super::SimulatorControl;

impl SimulatorControl {
    /// `POST /simulator/templates`: adds or replaces (by namespace, name and
    /// language) an approved template.
    pub async fn register_template(&self, body: &Map<String, Value>) -> Result<Template, WaError> {
        let t = Template::parse(body)?;
        self.templates.put(&t.to_record(self.clock.now_unix())).await?;
        Ok(t)
    }

    /// `GET /simulator/templates`.
    pub async fn templates(&self) -> Result<Vec<Template>, WaError> {
        Ok(self.templates.list().await?)
    }

    /// `DELETE /simulator/templates`: one language, or every language of a
    /// name; answers how many were deleted (404 if none).
    pub async fn delete_templates(&self, namespace: &str, name: &str, language: Option<&str>) -> Result<u64, WaError> {
        match self.templates.delete(namespace, name, language).await? {
            0 => Err(WaError::not_found("Template not found")),
            n => Ok(n),
        }
    }
}
