//! Claiming callbacks on PostgreSQL: which waiting callbacks this node
//! delivers next, marked as its own so the other nodes leave them alone.
//!
//! A callback is claimable when it is due, nobody holds it, and no earlier
//! callback of the same customer is held or waiting for a retry (each
//! customer's callbacks arrive in order). The claim reads the head of the
//! queue page by page, along the primary key, and decides in Rust, as the
//! SQLite store does; then one update takes the chosen rows.
//!
//! Why not one statement: the same rule in SQL checked each candidate
//! against the customer's earlier callbacks, which costs the square of the
//! callbacks one customer has waiting (a burst to one customer: 1 to 8 s a
//! claim), and it left the plan to statistics that a queue never has right
//! (a vacuum between two bursts records a nearly empty table): planned
//! freely, the claim joined the whole queue against the pick, walked the
//! primary key back through the queue for each candidate, or read the
//! table and sorted it (docs/performance.md). Here the page read can only
//! go along the primary key (sequential and bitmap scans off for the
//! transaction), and the update reaches the chosen rows by their physical
//! address (a TID scan): a row changed since it was read no longer has that
//! address, and is rechecked and skipped.

use std::collections::HashSet;

use deadpool_postgres::{GenericClient, Transaction};
use wabiz_domain::callbacks::PendingCallback;
use wabiz_domain::ports::StoreResult;

use super::callbacks::{COLUMNS, callback_from_row};
use super::db_err;

/// The planner settings of the claim's transaction.
pub(super) const CLAIM_PLANNER: &str = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off";

/// A page of the queue's head after `$1`: where each row is, whose it is,
/// and whether it is held or waiting for a retry at `$3`.
pub(super) const HEAD_PAGE: &str = "SELECT seq, ctid::text, peer, (next_attempt_at > $3 OR claimed_until > $3)
     FROM callbacks WHERE seq > $1 ORDER BY seq LIMIT $2";

/// Takes the rows at the addresses `$3` that are still claimable at `$4`.
pub(super) fn take_statement() -> String {
    format!(
        "UPDATE callbacks SET claimed_by = $1, claimed_until = $2
         WHERE ctid = ANY($3::text[]::tid[]) AND claimed_until <= $4 AND next_attempt_at <= $4
         RETURNING {COLUMNS}, ctid::text"
    )
}

/// Gives rows back, by address, within the claim's transaction.
const GIVE_BACK: &str = "UPDATE callbacks SET claimed_by = NULL, claimed_until = 0 WHERE ctid = ANY($1::text[]::tid[])";

/// Rows of the queue one claim reads at most. Past them, the head is held
/// or blocked; the rest waits for the head to move (it is later anyway).
const MAX_SCAN: usize = 65_536;

/// One row of the queue's head.
#[derive(Debug)]
pub(super) struct HeadRow {
    pub seq: i64,
    pub at: String,
    pub peer: String,
    pub busy: bool,
}

/// The choice so far, page after page.
#[derive(Default)]
pub(super) struct Choice {
    /// Customers with an earlier callback held or waiting.
    blocked: HashSet<String>,
    /// Chosen rows, in queue order.
    pub chosen: Vec<HeadRow>,
}

impl Choice {
    /// Considers the next row of the head; whether `limit` rows are chosen.
    pub(super) fn consider(&mut self, row: HeadRow, limit: usize) -> bool {
        let ordered = !row.peer.is_empty();
        if row.busy || (ordered && self.blocked.contains(&row.peer)) {
            if ordered {
                self.blocked.insert(row.peer);
            }
        } else {
            self.chosen.push(row);
        }
        self.chosen.len() >= limit
    }
}

/// Claims up to `limit` callbacks for `node` until `until_ms`.
pub(super) async fn claim(
    tx: &Transaction<'_>,
    node: &str,
    now_ms: i64,
    until_ms: i64,
    limit: usize,
) -> StoreResult<Vec<PendingCallback>> {
    tx.batch_execute(CLAIM_PLANNER).await.map_err(db_err)?;
    let page = limit.clamp(256, 4096);
    let page_len = i64::try_from(page).unwrap_or(i64::MAX);
    let mut choice = Choice::default();
    let (mut cursor, mut scanned) = (0_i64, 0_usize);
    'pages: while scanned < MAX_SCAN {
        let rows = tx.query(HEAD_PAGE, &[&cursor, &page_len, &now_ms]).await.map_err(db_err)?;
        let last_page = rows.len() < page;
        for r in &rows {
            scanned += 1;
            cursor = r.get(0);
            let row = HeadRow { seq: cursor, at: r.get(1), peer: r.get(2), busy: r.get(3) };
            if choice.consider(row, limit) {
                break 'pages;
            }
        }
        if last_page {
            break;
        }
    }
    if choice.chosen.is_empty() {
        return Ok(Vec::new());
    }
    let addresses: Vec<&str> = choice.chosen.iter().map(|r| r.at.as_str()).collect();
    let rows = tx.query(&take_statement(), &[&node, &until_ms, &addresses, &now_ms]).await.map_err(db_err)?;
    let mut taken: Vec<(PendingCallback, String)> =
        rows.iter().map(|r| (callback_from_row(r), r.get::<_, String>(COLUMNS_LEN))).collect();
    taken.sort_unstable_by_key(|(cb, _)| cb.seq);
    let back = out_of_turn(&choice.chosen, &taken);
    if !back.is_empty() {
        let back_at: Vec<&str> = back.iter().map(|i| taken[*i].1.as_str()).collect();
        tx.execute(GIVE_BACK, &[&back_at]).await.map_err(db_err)?;
    }
    let back: HashSet<usize> = back.into_iter().collect();
    Ok(taken.into_iter().enumerate().filter(|(i, _)| !back.contains(i)).map(|(_, (cb, _))| cb).collect())
}

/// How many columns `COLUMNS` names (the row's address follows them).
const COLUMNS_LEN: usize = 11;

/// The taken rows (indexes into `taken`) that would jump the queue: a
/// chosen row of the same customer before them was not taken (another node
/// took it or changed it meanwhile), so they go back.
pub(super) fn out_of_turn(chosen: &[HeadRow], taken: &[(PendingCallback, String)]) -> Vec<usize> {
    let got: HashSet<i64> = taken.iter().map(|(cb, _)| cb.seq).collect();
    let mut missed: HashSet<&str> = HashSet::new();
    let mut late: HashSet<i64> = HashSet::new();
    for row in chosen {
        if row.peer.is_empty() {
            continue;
        }
        if !got.contains(&row.seq) {
            missed.insert(row.peer.as_str());
        } else if missed.contains(row.peer.as_str()) {
            late.insert(row.seq);
        }
    }
    taken.iter().enumerate().filter(|(_, (cb, _))| late.contains(&cb.seq)).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, peer: &str, busy: bool) -> HeadRow {
        HeadRow { seq, at: format!("(0,{seq})"), peer: peer.to_owned(), busy }
    }

    fn chosen(rows: Vec<HeadRow>, limit: usize) -> Vec<i64> {
        let mut choice = Choice::default();
        for r in rows {
            if choice.consider(r, limit) {
                break;
            }
        }
        choice.chosen.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn a_held_or_waiting_callback_holds_back_its_customers_later_ones() {
        let rows = vec![row(1, "a", true), row(2, "b", false), row(3, "a", false), row(4, "b", false)];
        assert_eq!(chosen(rows, 10), vec![2, 4]);
    }

    #[test]
    fn unordered_callbacks_hold_nothing_back() {
        let rows = vec![row(1, "", true), row(2, "", false), row(3, "a", false)];
        assert_eq!(chosen(rows, 10), vec![2, 3]);
    }

    #[test]
    fn the_choice_stops_at_the_limit() {
        let rows = (1..=10).map(|s| row(s, "a", false)).collect();
        assert_eq!(chosen(rows, 3), vec![1, 2, 3]);
    }

    #[test]
    fn rows_after_a_missed_one_of_their_customer_go_back() {
        let chosen = vec![row(1, "a", false), row(2, "a", false), row(3, "b", false), row(4, "a", false)];
        let cb = |seq| PendingCallback {
            seq,
            kind: wabiz_domain::callbacks::CallbackKind::Status,
            peer: String::new(),
            subject: None,
            item: String::new(),
            contact: None,
            created_at: 0,
            attempts: 0,
            next_attempt_at: 0,
            last_attempt_at: None,
            last_result: None,
        };
        // Row 1 was taken by another node meanwhile: 2 and 4 would overtake it.
        let taken = vec![(cb(2), String::new()), (cb(3), String::new()), (cb(4), String::new())];
        assert_eq!(out_of_turn(&chosen, &taken), vec![0, 2]);
    }
}
