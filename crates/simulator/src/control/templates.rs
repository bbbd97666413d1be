//! The approved-template registry: what template and hsm sends are checked
//! against (the checks themselves are the domain's, `messages::templates`).

use serde_json::{Map, Value};
use wabiz_domain::WaError;
use wabiz_domain::events::Event;
use wabiz_domain::messages::templates::{StatusChange, Template};

use super::SimulatorControl;

impl SimulatorControl {
    /// `POST /simulator/templates`: adds or replaces (by namespace, name and
    /// language) a template, approved unless `status` says otherwise.
    pub async fn register_template(&self, body: &Map<String, Value>) -> Result<Template, WaError> {
        let t = Template::parse(body)?;
        self.templates.put(&t.to_record(self.clock.now_unix())).await?;
        Ok(t)
    }

    /// `PATCH /simulator/templates`: changes one language's review status
    /// (and its reason); sends with it follow the new status at once.
    pub async fn change_template_status(&self, body: &Map<String, Value>) -> Result<Template, WaError> {
        let change = StatusChange::parse(body)?;
        let same_name = self.templates.find(&change.namespace, &change.name).await?;
        let Some(current) = same_name.iter().find(|t| t.language == change.language) else {
            return Err(WaError::not_found("Template not found"));
        };
        let changed = Template { status: change.status, reason: change.reason, ..current.clone() };
        self.templates.put(&changed.to_record(self.clock.now_unix())).await?;
        self.events.publish(Event::TemplateStatus {
            namespace: changed.namespace.clone(),
            name: changed.name.clone(),
            language: changed.language.clone(),
            status: changed.status.as_str(),
            reason: changed.reason.clone(),
        });
        Ok(changed)
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
