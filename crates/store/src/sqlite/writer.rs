//! The SQLite writer: one OS thread owns the only read-write connection and
//! applies queued jobs in batches, one transaction (and one fsync) per batch:
//! group commit. A job's caller is answered only after the COMMIT succeeded:
//! an `Ok` means the data is on disk.
//!
//! A job that fails must roll back alone, and the rest of its batch still
//! commit. Wrapping every job in a SAVEPOINT gives that, but costs a copy of
//! each page the job touches into the statement journal; with a thousand jobs
//! appending to the same pages, that was a fifth of the writer's work. So a
//! batch first runs all its jobs bare. Jobs almost never fail; when one does,
//! the whole transaction rolls back and the batch runs again, each job in its
//! own savepoint. Jobs are therefore `FnMut`: they may run twice, and only
//! the run that commits counts.

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
    /// succeeded and its changes should be kept. A job may be run again (after
    /// a rollback of its batch); the last run's result is the one answered.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the fate of the transaction is known.
    fn complete(self: Box<Self>, commit: Result<(), String>);
}

/// The reply carries the job's closure back with its result, so that what
/// the closure captured (rows to write, often a whole batch of steps) is
/// freed by the caller's thread, which allocated it: freeing it here was a
/// tenth of the writer's time, and the writer is the one serial resource.
struct TypedJob<T, F> {
    work: F,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<(StoreResult<T>, F)>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnMut(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let work = &mut self.work;
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
        let TypedJob { work, result, reply } = *self;
        let out = match (result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (_, Err(e)) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
            (None, Ok(())) => Err(StoreError::Other("write job was not run".into())),
        };
        // The caller may have gone away (request cancelled); the data is committed anyway.
        let _ = reply.send((out, work));
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
    /// `work` may run more than once (see the module notes): it must only act
    /// on the connection.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = TypedJob { work, result: None, reply };
        self.tx
            .send(Msg::Job(Box::new(job)))
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        let (out, work) =
            rx.await.map_err(|_| StoreError::Unavailable("the SQLite writer stopped before answering".into()))?;
        drop(work);
        out
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
    if batch.len() > 1 && run_bare(conn, batch) {
        finish(conn, batch, false, true);
        return;
    }
    run_with_savepoints(conn, batch);
}

/// Runs every job of the batch in one transaction without savepoints. `true`
/// if all succeeded (the transaction is open, to be committed); `false` if
/// one failed, in which case nothing of the batch is kept and the
/// transaction is closed.
fn run_bare(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> bool {
    if exec(conn, "BEGIN IMMEDIATE").is_err() {
        return false;
    }
    let all = batch.iter_mut().all(|job| job.run(conn) && !conn.is_autocommit());
    if !all && !conn.is_autocommit() {
        let _ = exec(conn, "ROLLBACK");
    }
    all
}

/// The careful path: each job in its own savepoint, so a failing job rolls
/// back alone.
fn run_with_savepoints(conn: &Connection, batch: &mut Vec<Box<dyn WriteJob>>) {
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
    finish(conn, batch, aborted, any_kept);
}

/// Ends the open transaction (commit if anything is kept) and answers every
/// job of the batch.
fn finish(conn: &Connection, batch: &mut Vec<Box<dyn WriteJob>>, aborted: bool, any_kept: bool) {
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

    /// A writer on a new database with one table, `t (v INTEGER)`; the
    /// directory lives as long as the returned guard.
    fn writer_on_table_t() -> (tempfile::TempDir, std::sync::Arc<Writer>) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        (dir, std::sync::Arc::new(Writer::start(conn).unwrap()))
    }

    /// Holds the writer inside a job until the returned sender is used, so
    /// that the jobs queued meanwhile share the next batch.
    async fn hold(writer: &std::sync::Arc<Writer>) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let w = std::sync::Arc::clone(writer);
        let first = tokio::spawn(async move {
            w.write(move |_| {
                let _ = started.send(());
                Ok(hold.recv().ok())
            })
            .await
            .unwrap();
        });
        tokio::task::spawn_blocking(move || running.recv()).await.unwrap().unwrap();
        (release, first)
    }

    /// Batches run their jobs without savepoints first; a failing job must
    /// still roll back alone, and the others of its batch be kept (run again
    /// in savepoints).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_rolls_back_alone() {
        let (_dir, writer) = writer_on_table_t();
        let (release, first) = hold(&writer).await;
        let insert = |v: i64, fail: bool| {
            let w = std::sync::Arc::clone(&writer);
            tokio::spawn(async move {
                w.write(move |c| {
                    c.execute("INSERT INTO t VALUES (?1)", [v])?;
                    if fail { Err(rusqlite::Error::InvalidQuery) } else { Ok(v) }
                })
                .await
            })
        };
        let a = insert(1, false);
        wait_until_queued(&writer, 1).await;
        let b = insert(2, true);
        wait_until_queued(&writer, 2).await;
        let c = insert(3, false);
        wait_until_queued(&writer, 3).await;
        release.send(()).unwrap();
        first.await.unwrap();
        assert_eq!(a.await.unwrap().unwrap(), 1);
        assert!(b.await.unwrap().is_err());
        assert_eq!(c.await.unwrap().unwrap(), 3);
        let kept: Vec<i64> = writer
            .write(|c| c.prepare("SELECT v FROM t ORDER BY v")?.query_map([], |r| r.get(0))?.collect())
            .await
            .unwrap();
        assert_eq!(kept, [1, 3], "the failed job's row is gone, its neighbours' rows are kept once");
    }

    /// A job that ends the transaction behind the writer's back must not let
    /// the jobs after it run outside a transaction, nor be reported as saved.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_aborted_transaction_fails_the_whole_batch() {
        let (_dir, writer) = writer_on_table_t();
        // Hold the writer with a blocked job so the next two share one batch.
        let (release, first) = hold(&writer).await;
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
        first.await.unwrap();
        assert!(saboteur.await.unwrap().is_err());
        assert!(after.await.unwrap().is_err(), "a job after the abort must not be reported as saved");
        let count: i64 = writer.write(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))).await.unwrap();
        assert_eq!(count, 0, "nothing ran outside the transaction");
    }
}
