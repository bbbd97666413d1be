//! Messages (`MessageStore`) on PostgreSQL, with the status steps the
//! cluster code applies inside its own transactions.

use async_trait::async_trait;
use wabiz_domain::callbacks::NewCallback;
use wabiz_domain::ports::{DueMessage, MessageRecord, MessageStore, StatusRecord, StoreError, StoreResult, Transition};

use super::callbacks::insert_callback_row;
use super::{PgStore, db_err};
use crate::columns;

async fn insert_message_row(c: &impl deadpool_postgres::GenericClient, m: &MessageRecord) -> StoreResult<()> {
    c.execute(
        "INSERT INTO messages (id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, route)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            &m.id,
            &m.direction.as_str(),
            &m.recipient_type.as_str(),
            &m.peer,
            &m.kind,
            &m.content,
            &m.status.as_str(),
            &m.created_at,
            &m.updated_at,
            &m.next_event_at,
            &columns::failure_text(m.failure.as_ref()),
            &m.category.map(|c| c.as_str()),
            &columns::conversation_text(m.conversation.as_ref()),
            &m.expires_at,
            &i64::from(wabiz_domain::cluster::route_hash(&m.peer)),
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

fn message_from_row(r: &tokio_postgres::Row) -> Result<MessageRecord, StoreError> {
    Ok(MessageRecord {
        id: r.get(0),
        direction: columns::direction(r.get(1))?,
        recipient_type: columns::recipient_type(r.get(2))?,
        peer: r.get(3),
        kind: r.get(4),
        content: r.get(5),
        status: columns::status(r.get(6))?,
        created_at: r.get(7),
        updated_at: r.get(8),
        next_event_at: r.get(9),
        failure: columns::failure(r.get(10)),
        category: columns::category(r.get(11))?,
        conversation: columns::conversation(r.get(12)),
        expires_at: r.get(13),
    })
}

#[async_trait]
impl MessageStore for PgStore {
    async fn insert_message(&self, m: &MessageRecord, callbacks: &[NewCallback]) -> StoreResult<()> {
        let mut c = self.client().await?;
        if callbacks.is_empty() {
            return insert_message_row(&c, m).await;
        }
        let tx = c.transaction().await.map_err(db_err)?;
        insert_message_row(&tx, m).await?;
        for cb in callbacks {
            insert_callback_row(&tx, cb).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at
                 FROM messages WHERE id = $1",
            )
            .await
            .map_err(db_err)?;
        c.query_opt(&st, &[&id]).await.map_err(db_err)?.as_ref().map(message_from_row).transpose()
    }

    async fn due_messages(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueMessage>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT id, peer, status, failure, type, content, category, conversation, expires_at FROM messages WHERE next_event_at IS NOT NULL AND next_event_at <= $1
                 ORDER BY next_event_at LIMIT $2",
                &[&now_ms, &limit],
            )
            .await
            .map_err(db_err)?;
        rows.iter().map(due_from_row).collect()
    }

    async fn next_message_event(&self) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT MIN(next_event_at) FROM messages WHERE next_event_at IS NOT NULL", &[])
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn apply_transitions(&self, transitions: Vec<Transition>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db_err)?;
        apply_transitions_in_tx(&tx, &transitions).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn conversation(&self, peer: &str, limit: usize) -> StoreResult<Vec<MessageRecord>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT * FROM (SELECT id, direction, recipient_type, peer, type, content, status, created_at, updated_at, next_event_at, failure, category, conversation, expires_at, seq FROM messages WHERE peer = $1 ORDER BY seq DESC LIMIT $2) AS recent
                 ORDER BY seq",
                &[&peer, &limit],
            )
            .await
            .map_err(db_err)?;
        rows.iter().map(message_from_row).collect()
    }

    async fn last_inbound_at(&self, peer: &str) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT MAX(created_at) FROM messages WHERE peer = $1 AND direction = 'inbound'", &[&peer])
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn mark_inbound_read(&self, id: &str, at: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(
            "UPDATE messages SET status = 'read', updated_at = $2
             WHERE direction = 'inbound' AND status = 'received'
               AND peer = (SELECT peer FROM messages WHERE id = $1)
               AND seq <= (SELECT seq FROM messages WHERE id = $1)",
            &[&id, &at],
        )
        .await
        .map_err(db_err)
    }

    async fn message_statuses(&self, id: &str) -> StoreResult<Vec<StatusRecord>> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT status, at, errors FROM message_statuses WHERE message_id = $1 ORDER BY at", &[&id])
            .await
            .map_err(db_err)?;
        let mut history = rows
            .iter()
            .map(|r| {
                Ok(StatusRecord {
                    status: columns::status(r.get(0))?,
                    at: r.get(1),
                    errors: columns::failure(r.get(2)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Statuses of one instant in their order (a stable sort keeps the rest).
        history.sort_by_key(|s| (s.at, s.status.rank()));
        Ok(history)
    }
}

/// The steps of `apply_transitions`, inside the caller's transaction.
pub(super) async fn apply_transitions_in_tx(
    tx: &deadpool_postgres::Transaction<'_>,
    transitions: &[Transition],
) -> StoreResult<()> {
    for t in transitions {
        let changed = tx
                .execute(
                    "UPDATE messages SET status = $2, updated_at = $3, next_event_at = $4, conversation = COALESCE($6, conversation)
                     WHERE id = $1 AND status = $5",
                    &[
                        &t.id,
                        &t.status.as_str(),
                        &t.at,
                        &t.next_event_at,
                        &t.from_status.as_str(),
                        &columns::conversation_text(t.conversation.as_ref()),
                    ],
                )
                .await
                .map_err(db_err)?;
        if changed == 0 {
            continue;
        }
        if let Some(m) = &t.reply {
            insert_message_row(tx, m).await?;
        }
        for cb in &t.callbacks {
            insert_callback_row(tx, cb).await?;
        }
        tx.execute(
            "INSERT INTO message_statuses (message_id, status, at, errors) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (message_id, status) DO NOTHING",
            &[&t.id, &t.status.as_str(), &t.at, &columns::failure_text(t.errors.as_ref())],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// A due message from `SELECT id, peer, status, failure, type, content,
/// category, conversation, expires_at`.
pub(super) fn due_from_row(r: &tokio_postgres::Row) -> Result<DueMessage, StoreError> {
    Ok(DueMessage {
        id: r.get(0),
        peer: r.get(1),
        status: columns::status(r.get(2))?,
        failure: columns::failure(r.get(3)),
        kind: r.get(4),
        content: r.get(5),
        category: columns::category(r.get(6))?,
        conversation: columns::conversation(r.get(7)),
        expires_at: r.get(8),
    })
}
