//! The recorder: the task that writes the loop's outcomes to the store.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use wabiz_domain::callbacks::CallbackOutcome;
use wabiz_domain::ports::Store;

/// Writes outcomes to the store, several requests' worth per transaction,
/// trying again while the database does not answer. A commit that released
/// claims wakes the engine: those callbacks (and retries already due, if the
/// commit was slow) can be claimed again. Deliveries alone free nothing.
pub(super) async fn record(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Vec<CallbackOutcome>>, wake: Arc<Notify>) {
    const TRIES: u32 = 20;
    while let Some(mut batch) = rx.recv().await {
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        let releases = batch.iter().any(|o| !matches!(o, CallbackOutcome::Delivered { .. }));
        for attempt in 1..=TRIES {
            match store.finish_callbacks(batch.clone()).await {
                Ok(()) => {
                    if releases {
                        wake.notify_one();
                    }
                    break;
                }
                Err(e) if attempt == TRIES => {
                    // Their claims lapse and they are claimed again: delivered
                    // ones may be sent twice (at-least-once), nothing is lost.
                    tracing::error!(error = %e, outcomes = batch.len(), "webhooks: could not record delivery outcomes");
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "webhooks: recording delivery outcomes failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
            }
        }
    }
}
