//! Generated traffic runs (`TrafficStore`) on PostgreSQL.

use async_trait::async_trait;
use wabiz_domain::ports::{StoreResult, TrafficStore};
use wabiz_domain::traffic::{TrafficProgress, TrafficRun, TrafficState};

use super::{PgStore, db_err};

const COLUMNS: &str = "id, spec, state, created_at, ended_at";

fn run_from_row(r: &tokio_postgres::Row) -> TrafficRun {
    let state: String = r.get(2);
    TrafficRun {
        id: r.get(0),
        spec: r.get(1),
        // Only this code writes the column; an unknown value is a hand edit.
        state: TrafficState::parse(&state).unwrap_or(TrafficState::Stopped),
        created_at: r.get(3),
        ended_at: r.get(4),
    }
}

/// The generated messages are one range of ids; the range is read through
/// the primary key (or the subject index), whatever the collation, and the
/// prefix check keeps exactly the run's ids.
const PROGRESS: &str = "SELECT
     (SELECT COUNT(*) FROM messages WHERE id BETWEEN $1 AND $2 AND left(id, length($3)) = $3),
     (SELECT COUNT(*) FROM callbacks WHERE subject BETWEEN $1 AND $2 AND left(subject, length($3)) = $3)";

#[async_trait]
impl TrafficStore for PgStore {
    async fn insert_traffic_run(&self, run: &TrafficRun) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO traffic_runs (id, spec, state, created_at, ended_at) VALUES ($1, $2, $3, $4, $5)",
            &[&run.id, &run.spec, &run.state.as_str(), &run.created_at, &run.ended_at],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_traffic_run(&self, id: &str) -> StoreResult<Option<TrafficRun>> {
        let c = self.client().await?;
        let row =
            c.query_opt(&format!("SELECT {COLUMNS} FROM traffic_runs WHERE id = $1"), &[&id]).await.map_err(db_err)?;
        Ok(row.as_ref().map(run_from_row))
    }

    async fn traffic_runs(&self, limit: usize) -> StoreResult<Vec<TrafficRun>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(&format!("SELECT {COLUMNS} FROM traffic_runs ORDER BY created_at DESC, id LIMIT $1"), &[&limit])
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(run_from_row).collect())
    }

    async fn running_traffic_runs(&self) -> StoreResult<Vec<TrafficRun>> {
        let c = self.client().await?;
        let rows = c
            .query(&format!("SELECT {COLUMNS} FROM traffic_runs WHERE state = 'running'"), &[])
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(run_from_row).collect())
    }

    async fn end_traffic_run(&self, id: &str, state: TrafficState, at: i64) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE traffic_runs SET state = $2, ended_at = $3 WHERE id = $1 AND state = 'running'",
                &[&id, &state.as_str(), &at],
            )
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn lease_traffic_run(&self, id: &str, owner: &str, now_ms: i64, until_ms: i64) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE traffic_runs SET owner = $2, lease_until = $4
                 WHERE id = $1 AND state = 'running' AND (owner = $2 OR owner IS NULL OR lease_until < $3)",
                &[&id, &owner, &now_ms, &until_ms],
            )
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn traffic_progress(&self, from: &str, to: &str) -> StoreResult<TrafficProgress> {
        let c = self.client().await?;
        let prefix: String = from.chars().zip(to.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect();
        let row = c.query_one(PROGRESS, &[&from, &to, &prefix]).await.map_err(db_err)?;
        let (generated, pending): (i64, i64) = (row.get(0), row.get(1));
        Ok(TrafficProgress {
            generated: u64::try_from(generated).unwrap_or(0),
            pending_callbacks: u64::try_from(pending).unwrap_or(0),
        })
    }
}
