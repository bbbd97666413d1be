//! Group commit for new messages on PostgreSQL.
//!
//! Each `POST /v1/messages` stores one row. Stored one transaction each,
//! PostgreSQL spent about 110 µs of its CPU per row (a commit, a WAL flush
//! and six index insertions, with sixteen connections contending for the
//! same index pages) and that CPU, on the machine the server shares, was
//! what capped the sends; in batches of about 27 it spent 26 µs. Here the
//! messages that arrive together are written together: one transaction,
//! one multi-row statement per table.
//! A caller is answered once the COMMIT that holds its row succeeded.
//!
//! A batch that fails is written again one message per transaction, so one
//! bad row (a duplicate id) fails alone and the rest are stored.

use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::{Semaphore, mpsc, oneshot};
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{MessageRecord, StoreError, StoreResult, Transition};

use super::callbacks::insert_callback_rows;
use super::messages::{apply_transitions_in_tx, insert_message_rows};
use super::{db_err, unavailable};

/// Most messages in one transaction.
const MAX_BATCH: usize = 256;
/// Batches being written at once. While one commits, the next fills. With
/// four in flight, under 64 concurrent senders every batch held a single
/// message (each found a free slot): no grouping at all (docs/performance.md,
/// issue 19).
const IN_FLIGHT: usize = 1;
/// Messages that may wait before senders are slowed down.
const QUEUE_DEPTH: usize = 4096;

/// A new message with what is stored with it.
pub(super) struct NewMessage {
    pub(super) message: MessageRecord,
    pub(super) callbacks: Vec<NewCallback>,
    /// Steps the network took at once, applied after the insert.
    pub(super) steps: Vec<Transition>,
}

struct Job {
    write: NewMessage,
    reply: oneshot::Sender<StoreResult<()>>,
}

/// Handle to the batching task.
pub(super) struct MessageBatcher {
    tx: mpsc::Sender<Job>,
}

impl MessageBatcher {
    /// Starts the task on the current runtime.
    pub(super) fn start(pool: Pool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(pool, rx));
        Self { tx }
    }

    /// Stores `write` in the next batch; `Ok` once committed.
    pub(super) async fn write(&self, write: NewMessage) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { write, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the message batcher has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("the message batcher stopped before answering".into()))?
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
        // What arrived while waiting for a slot joins this batch.
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let jobs = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        let pool = pool.clone();
        tokio::spawn(async move {
            write_batch(&pool, jobs).await;
            drop(slot);
        });
    }
}

async fn write_batch(pool: &Pool, jobs: Vec<Job>) {
    let writes: Vec<&NewMessage> = jobs.iter().map(|j| &j.write).collect();
    let outcome = write_together(pool, &writes).await;
    if jobs.len() == 1 || outcome.is_ok() {
        for job in jobs {
            let _ = job.reply.send(outcome.clone());
        }
        return;
    }
    for job in jobs {
        let alone = write_together(pool, &[&job.write]).await;
        let _ = job.reply.send(alone);
    }
}

/// One transaction: the messages, their callbacks, then their steps.
async fn write_together(pool: &Pool, writes: &[&NewMessage]) -> StoreResult<()> {
    let mut c = pool.get().await.map_err(unavailable)?;
    let tx = c.transaction().await.map_err(db_err)?;
    insert_message_rows(&tx, writes.iter().map(|w| &w.message)).await?;
    insert_callback_rows(&tx, writes.iter().flat_map(|w| &w.callbacks)).await?;
    let steps: Vec<&Transition> = writes.iter().flat_map(|w| &w.steps).collect();
    if !steps.is_empty() {
        apply_transitions_in_tx(&tx, &steps).await?;
    }
    tx.commit().await.map_err(db_err)
}
