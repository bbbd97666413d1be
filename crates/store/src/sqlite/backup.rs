//! A consistent copy of a live SQLite database, for `wabiz backup`.
//!
//! SQLite's online backup API copies the pages inside one read transaction
//! when it is asked for all of them in one step: with WAL, that read sees the
//! last commit before it began and does not hold the server's writer back.
//! A file copy could catch the database between a WAL write and its
//! checkpoint and produce a torn copy.

use std::path::Path;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// Copies the database at `source` (which a running server may be writing)
/// to a new file `target`. Returns the copy's schema version.
pub fn copy_online(source: &Path, target: &Path) -> Result<i64, String> {
    if !source.exists() {
        return Err(format!("there is no database at {}", source.display()));
    }
    let err = |what: &str, e: rusqlite::Error| format!("{what}: {e}");
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| err(&source.display().to_string(), e))?;
    from.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| err("busy timeout", e))?;
    let mut to = Connection::open(target).map_err(|e| err(&target.display().to_string(), e))?;
    {
        let backup = Backup::new(&from, &mut to).map_err(|e| err("backup", e))?;
        // All pages in one step: one read transaction, one point in time.
        // A busy source (a checkpoint under way) is tried again for a while.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match backup.step(-1).map_err(|e| err("backup", e))? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return Err(format!("backup: the database stayed busy ({other:?})")),
            }
        }
    }
    // The copy is a plain file: no WAL beside it, whatever the source used.
    to.pragma_update(None, "journal_mode", "DELETE").map_err(|e| err("journal mode", e))?;
    let check: String = to.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| err("check", e))?;
    if check != "ok" {
        return Err(format!("the copy failed SQLite's check: {check}"));
    }
    to.query_row("SELECT COALESCE(MAX(version), 0) FROM wabiz_migrations", [], |r| r.get(0))
        .map_err(|e| err("the copy has no wabiz schema", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_holds_what_was_committed_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.db"), dir.path().join("b.db"));
        let c = Connection::open(&src).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE wabiz_migrations (version INTEGER);
             INSERT INTO wabiz_migrations VALUES (7);
             CREATE TABLE t (x);
             INSERT INTO t VALUES (1), (2);",
        )
        .unwrap();
        assert_eq!(copy_online(&src, &dst).unwrap(), 7);
        let copy = Connection::open(&dst).unwrap();
        let n: i64 = copy.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2, "rows still in the source's WAL are in the copy");
        assert!(copy_online(&dir.path().join("none.db"), &dir.path().join("c.db")).is_err());
    }
}
