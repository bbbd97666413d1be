//! Generated traffic runs (`/simulator/traffic`); the generator itself is in
//! `traffic/`.

use std::sync::Arc;

use serde_json::{Map, Value};
use wabiz_domain::WaError;
use wabiz_domain::events::Event;
use wabiz_domain::traffic::{TrafficRun, TrafficState, id_range};

use super::SimulatorControl;
use crate::traffic::{TrafficSignal, TrafficSpec, view};

impl SimulatorControl {
    /// `POST /simulator/traffic`: stores a run; the runner of some node
    /// takes it at once. Answers its view.
    pub async fn start_traffic(&self, body: &Map<String, Value>) -> Result<Value, WaError> {
        let spec = TrafficSpec::parse(body)?;
        self.business_number()?;
        let mut raw = [0u8; 4];
        getrandom::fill(&mut raw).map_err(|e| WaError::internal(format!("no randomness: {e}")))?;
        let run = TrafficRun {
            id: wabiz_domain::hex::encode(&raw),
            spec: spec.to_json().to_string(),
            state: TrafficState::Running,
            created_at: self.clock.now_millis(),
            ended_at: None,
        };
        self.store.insert_traffic_run(&run).await?;
        self.traffic.started.notify_one();
        self.events.publish(Event::Traffic { id: run.id.clone(), state: "running", generated: 0 });
        self.traffic_view(&run).await
    }

    /// `GET /simulator/traffic/{id}`: the run and its progress.
    pub async fn traffic(&self, id: &str) -> Result<Value, WaError> {
        let run = self.known_run(id).await?;
        self.traffic_view(&run).await
    }

    /// `GET /simulator/traffic`: the latest runs.
    pub async fn traffic_runs(&self) -> Result<Vec<Value>, WaError> {
        let mut out = Vec::new();
        for run in self.store.traffic_runs(100).await? {
            out.push(self.traffic_view(&run).await?);
        }
        Ok(out)
    }

    /// `DELETE /simulator/traffic/{id}`: stops a run (what was generated stays).
    pub async fn stop_traffic(&self, id: &str) -> Result<Value, WaError> {
        let run = self.known_run(id).await?;
        if self.store.end_traffic_run(id, TrafficState::Stopped, self.clock.now_millis()).await? {
            self.traffic.cancel(id);
        }
        let run = self.store.get_traffic_run(id).await?.unwrap_or(run);
        let shown = self.traffic_view(&run).await?;
        if run.state == TrafficState::Stopped {
            let generated = shown["generated"].as_u64().unwrap_or(0);
            self.events.publish(Event::Traffic { id: run.id.clone(), state: "stopped", generated });
        }
        Ok(shown)
    }

    async fn known_run(&self, id: &str) -> Result<TrafficRun, WaError> {
        self.store.get_traffic_run(id).await?.ok_or_else(|| WaError::not_found(format!("Traffic run {id} not found")))
    }

    async fn traffic_view(&self, run: &TrafficRun) -> Result<Value, WaError> {
        let (from, to) = id_range(&run.id);
        let progress = self.store.traffic_progress(&from, &to).await?;
        let webhook = self.outbox.settings().webhooks.url.is_some();
        view(run, progress.generated, progress.pending_callbacks, webhook, self.clock.now_millis())
    }

    /// A generated message: stored like `POST /simulator/inbound`, under
    /// its own id; one already stored (a resumed run) counts as done.
    pub(crate) async fn receive_generated(&self, body: &Map<String, Value>, id: String) -> Result<(), WaError> {
        match self.receive_as(body, id.clone()).await {
            Ok(_) => Ok(()),
            Err(e) => match self.store.get_message(&id).await {
                Ok(Some(_)) => Ok(()),
                _ => Err(e),
            },
        }
    }

    pub(crate) fn traffic_signal(&self) -> &Arc<TrafficSignal> {
        &self.traffic
    }

    pub(crate) fn store(&self) -> &Arc<dyn wabiz_domain::ports::Store> {
        &self.store
    }

    pub(crate) fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Whether the simulated network is down (chaos's outage).
    pub(crate) fn network_down(&self) -> bool {
        self.chaos.outage()
    }
}
