//! Generated traffic runs (`TrafficStore`) on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use wabiz_domain::ports::{StoreResult, TrafficStore};
use wabiz_domain::traffic::{TrafficProgress, TrafficRun, TrafficState};

use super::SqliteStore;

const COLUMNS: &str = "id, spec, state, created_at, ended_at";

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TrafficRun> {
    let state: String = r.get(2)?;
    Ok(TrafficRun {
        id: r.get(0)?,
        spec: r.get(1)?,
        // Only this code writes the column; an unknown value is a hand edit.
        state: TrafficState::parse(&state).unwrap_or(TrafficState::Stopped),
        created_at: r.get(3)?,
        ended_at: r.get(4)?,
    })
}

#[async_trait]
impl TrafficStore for SqliteStore {
    async fn insert_traffic_run(&self, run: &TrafficRun) -> StoreResult<()> {
        let run = run.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO traffic_runs (id, spec, state, created_at, ended_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![run.id, run.spec, run.state.as_str(), run.created_at, run.ended_at])
                .map(|_| ())
            })
            .await
    }

    async fn get_traffic_run(&self, id: &str) -> StoreResult<Option<TrafficRun>> {
        let id = id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM traffic_runs WHERE id = ?1"))?
                    .query_row([id], run_from_row)
                    .optional()
            })
            .await
    }

    async fn traffic_runs(&self, limit: usize) -> StoreResult<Vec<TrafficRun>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                let mut st = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM traffic_runs ORDER BY created_at DESC, id LIMIT ?1"
                ))?;
                let rows = st.query_map([limit], run_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn running_traffic_runs(&self) -> StoreResult<Vec<TrafficRun>> {
        self.readers
            .read(move |c| {
                let mut st =
                    c.prepare_cached(&format!("SELECT {COLUMNS} FROM traffic_runs WHERE state = 'running'"))?;
                let rows = st.query_map([], run_from_row)?;
                rows.collect()
            })
            .await
    }

    async fn end_traffic_run(&self, id: &str, state: TrafficState, at: i64) -> StoreResult<bool> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE traffic_runs SET state = ?2, ended_at = ?3 WHERE id = ?1 AND state = 'running'",
                    )?
                    .execute(params![id, state.as_str(), at])?;
                Ok(n > 0)
            })
            .await
    }

    async fn lease_traffic_run(&self, id: &str, owner: &str, now_ms: i64, until_ms: i64) -> StoreResult<bool> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE traffic_runs SET owner = ?2, lease_until = ?4
                         WHERE id = ?1 AND state = 'running' AND (owner = ?2 OR owner IS NULL OR lease_until < ?3)",
                    )?
                    .execute(params![id, owner, now_ms, until_ms])?;
                Ok(n > 0)
            })
            .await
    }

    async fn traffic_progress(&self, from: &str, to: &str) -> StoreResult<TrafficProgress> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.readers
            .read(move |c| {
                let generated: i64 = c
                    .prepare_cached("SELECT COUNT(*) FROM messages WHERE id BETWEEN ?1 AND ?2")?
                    .query_row(params![from, to], |r| r.get(0))?;
                let pending: i64 = c
                    .prepare_cached("SELECT COUNT(*) FROM callbacks WHERE subject BETWEEN ?1 AND ?2")?
                    .query_row(params![from, to], |r| r.get(0))?;
                Ok(TrafficProgress {
                    generated: u64::try_from(generated).unwrap_or(0),
                    pending_callbacks: u64::try_from(pending).unwrap_or(0),
                })
            })
            .await
    }
}
