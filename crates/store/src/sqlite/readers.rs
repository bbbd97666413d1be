//! A small pool of read-only SQLite connections, used from the blocking pool.
//! In WAL mode they read a consistent snapshot while the writer writes.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;
use wabiz_domain::ports::{StoreError, StoreResult};

pub struct ReadPool {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Semaphore,
}

impl ReadPool {
    pub fn open(path: &Path, size: usize) -> rusqlite::Result<Self> {
        let mut conns = Vec::with_capacity(size);
        for _ in 0..size {
            let conn = Connection::open(path)?;
            super::configure(&conn)?;
            conn.execute_batch("PRAGMA query_only = ON;")?;
            conns.push(conn);
        }
        Ok(Self { permits: Semaphore::new(conns.len()), idle: Arc::new(Mutex::new(conns)) })
    }

    /// Runs `f` on an idle connection.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let permit = self.permits.acquire().await.map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        let conn = self
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .ok_or_else(|| StoreError::Other("read pool is empty despite a permit".into()))?;
        let idle = Arc::clone(&self.idle);
        let joined = tokio::task::spawn_blocking(move || {
            let out = f(&conn);
            idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
            out
        })
        .await;
        match joined {
            Ok(r) => {
                drop(permit);
                r.map_err(|e| StoreError::Other(e.to_string()))
            }
            // The closure panicked: its connection is lost; give its permit up for good.
            Err(e) => {
                permit.forget();
                Err(StoreError::Other(format!("a read task failed: {e}")))
            }
        }
    }

    pub fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
