//! The SQLite writer: one OS thread owns the only read-write connection and
//! applies queued jobs in batches, one transaction (and one fsync) per batch:
//! group commit. Each job runs inside its own SAVEPOINT, so a job that fails
//! rolls back alone and the rest of the batch still commits. A job's caller is
//! answered only after the COMMIT succeeded: an `Ok` means the data is on disk.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};
use wabiz_domain::ports::{StoreError, StoreResult};

/// Most jobs committed in one transaction.
const MAX_BATCH: usize = 1024;
/// Jobs that may wait for the writer before callers are slowed down.
const QUEUE_DEPTH: usize = 8192;

/// A unit of work for the writer, type-erased.
trait WriteJob: Send {
    /// Runs the job on the connection inside the open transaction; `true` if it
    /// succeeded and its changes should be kept.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the fate of the transaction is known.
    fn complete(self: Box<Self>, commit: Result<(), String>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(StoreError::Other(e.to_string())),
            Err(_) => Err(StoreError::Other("a write job panicked".into())),
        };
        let ok = outcome.is_ok();
        self.result = Some(outcome);
        ok
    }

    fn complete(self: Box<Self>, commit: Result<(), String>) {
        let out = match (self.result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (_, Err(e)) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
            (None, Ok(())) => Err(StoreError::Other("write job was not run".into())),
        };
        // The caller may have gone away (request cancelled); the data is committed anyway.
        let _ = self.reply.send(out);
    }
}

enum Msg {
    Job(Box<dyn WriteJob>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle to the writer thread.
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn start(conn: Connection) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new().name("wabiz-sqlite-writer".into()).spawn(move || run(conn, rx))?;
        Ok(Self { tx, thread: std::sync::Mutex::new(Some(thread)) })
    }

    /// Runs `work` in the next batch and returns its result once committed.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = TypedJob { work: Some(work), result: None, reply };
        self.tx
            .send(Msg::Job(Box::new(job)))
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Unavailable("the SQLite writer stopped before answering".into()))?
    }

    /// Lets queued jobs finish, then stops the thread.
    pub async fn shutdown(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(done)).await.is_ok() {
            let _ = rx.await;
        }
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<Box<dyn WriteJob>> = Vec::with_capacity(MAX_BATCH);
    let mut shutdown: Option<oneshot::Sender<()>> = None;
    while shutdown.is_none() {
        match rx.blocking_recv() {
            None => break,
            Some(Msg::Shutdown(done)) => shutdown = Some(done),
            Some(Msg::Job(job)) => batch.push(job),
        }
        while batch.len() < MAX_BATCH && shutdown.is_none() {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => batch.push(job),
                Ok(Msg::Shutdown(done)) => shutdown = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&conn, &mut batch);
        }
    }
    // Refuse whatever arrives from now on.
    rx.close();
    while let Ok(msg) = rx.try_recv() {
        match msg {
            Msg::Job(job) => job.complete(Err("the SQLite writer is shutting down".into())),
            Msg::Shutdown(done) => {
                let _ = done.send(());
            }
        }
    }
    if let Some(done) = shutdown {
        let _ = done.send(());
    }
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn commit_batch(conn: &Connection, batch: &mut Vec<Box<dyn WriteJob>>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        tracing::error!(error = %msg, "SQLite: cannot begin a transaction");
        for job in batch.drain(..) {
            job.complete(Err(msg.clone()));
        }
        return;
    }
    // One job alone needs no savepoint: on failure the whole transaction rolls back.
    let single = batch.len() == 1;
    let mut any_kept = false;
    // Some errors (I/O, disk full) make SQLite abandon the whole transaction;
    // what follows would then run outside it. Stop, and fail the batch.
    let mut aborted = false;
    for job in batch.iter_mut() {
        if aborted {
            break;
        }
        if single {
            any_kept = job.run(conn);
            continue;
        }
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            tracing::error!(error = %e, "SQLite: savepoint failed");
            continue;
        }
        let ok = job.run(conn);
        let end = if ok {
            exec(conn, "RELEASE job")
        } else {
            exec(conn, "ROLLBACK TO job").and_then(|_| exec(conn, "RELEASE job"))
        };
        if let Err(e) = end {
            tracing::error!(error = %e, "SQLite: savepoint release failed");
        }
        if conn.is_autocommit() {
            tracing::error!("SQLite: the transaction was aborted by the database; the whole batch fails");
            aborted = true;
        }
        any_kept |= ok;
    }
    let commit = if aborted {
        Err("the transaction was aborted by the database".to_owned())
    } else if any_kept {
        exec(conn, "COMMIT").map_err(|e| e.to_string())
    } else {
        exec(conn, "ROLLBACK").map_err(|e| e.to_string())
    };
    if let Err(e) = &commit {
        tracing::error!(error = %e, "SQLite: commit failed; the batch is rolled back");
        let _ = exec(conn, "ROLLBACK");
    }
    for job in batch.drain(..) {
        job.complete(commit.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (with a deadline) until `n` jobs wait in the writer's queue.
    async fn wait_until_queued(writer: &Writer, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while writer.tx.max_capacity() - writer.tx.capacity() != n {
            assert!(std::time::Instant::now() < deadline, "queue never reached {n}");
            tokio::task::yield_now().await;
        }
    }

    /// A job that ends the transaction behind the writer's back must not let
    /// the jobs after it run outside a transaction, nor be reported as saved.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_aborted_transaction_fails_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        let writer = std::sync::Arc::new(Writer::start(conn).unwrap());
        // Hold the writer with a blocked job so the next two share one batch.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let w = std::sync::Arc::clone(&writer);
        let first = tokio::spawn(async move {
            w.write(move |_| {
                let _ = started.send(());
                Ok(hold.recv().ok())
            })
            .await
        });
        // The writer thread is inside the first job now.
        tokio::task::spawn_blocking(move || running.recv()).await.unwrap().unwrap();
        let w = std::sync::Arc::clone(&writer);
        let saboteur = tokio::spawn(async move {
            w.write(|c| {
                c.execute_batch("ROLLBACK")?;
                Err::<(), _>(rusqlite::Error::InvalidQuery)
            })
            .await
        });
        wait_until_queued(&writer, 1).await;
        let w = std::sync::Arc::clone(&writer);
        let after =
            tokio::spawn(async move { w.write(|c| c.execute("INSERT INTO t VALUES (1)", []).map(|_| ())).await });
        wait_until_queued(&writer, 2).await;
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert!(saboteur.await.unwrap().is_err());
        assert!(after.await.unwrap().is_err(), "a job after the abort must not be reported as saved");
        let count: i64 = writer.write(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))).await.unwrap();
        assert_eq!(count, 0, "nothing ran outside the transaction");
    }
}
