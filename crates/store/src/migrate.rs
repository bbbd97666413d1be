//! Schema migrations: numbered SQL files per engine, embedded in the binary,
//! applied in order at start and recorded with a checksum in `wabiz_migrations`.
//! An applied migration must never change; the checksum catches it if it does.

use sha2::{Digest, Sha256};

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        wabiz_domain::hex::encode(&Sha256::digest(self.sql.as_bytes()))
    }
}

/// The SQLite schema, in order. Add a file to both lists at once.
pub const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "users_tokens", sql: include_str!("../migrations/sqlite/0001_users_tokens.sql") },
    Migration { version: 2, name: "settings", sql: include_str!("../migrations/sqlite/0002_settings.sql") },
    Migration { version: 3, name: "media", sql: include_str!("../migrations/sqlite/0003_media.sql") },
    Migration { version: 4, name: "messages", sql: include_str!("../migrations/sqlite/0004_messages.sql") },
    Migration { version: 5, name: "receipts", sql: include_str!("../migrations/sqlite/0005_receipts.sql") },
    Migration { version: 6, name: "templates", sql: include_str!("../migrations/sqlite/0006_templates.sql") },
    Migration { version: 7, name: "message_order", sql: include_str!("../migrations/sqlite/0007_message_order.sql") },
    Migration { version: 8, name: "contacts", sql: include_str!("../migrations/sqlite/0008_contacts.sql") },
    Migration { version: 9, name: "callbacks", sql: include_str!("../migrations/sqlite/0009_callbacks.sql") },
    Migration { version: 10, name: "message_ttl", sql: include_str!("../migrations/sqlite/0010_message_ttl.sql") },
    Migration {
        version: 11,
        name: "callback_order",
        sql: include_str!("../migrations/sqlite/0011_callback_order.sql"),
    },
    Migration {
        version: 12,
        name: "callback_claims",
        sql: include_str!("../migrations/sqlite/0012_callback_claims.sql"),
    },
    Migration { version: 13, name: "groups", sql: include_str!("../migrations/sqlite/0013_groups.sql") },
    Migration { version: 14, name: "gc", sql: include_str!("../migrations/sqlite/0014_gc.sql") },
    Migration { version: 15, name: "cluster", sql: include_str!("../migrations/sqlite/0015_cluster.sql") },
    Migration {
        version: 16,
        name: "status_history",
        sql: include_str!("../migrations/sqlite/0016_status_history.sql"),
    },
    Migration {
        version: 17,
        name: "inbound_window",
        sql: include_str!("../migrations/sqlite/0017_inbound_window.sql"),
    },
    Migration {
        version: 18,
        name: "unread_inbound",
        sql: include_str!("../migrations/sqlite/0018_unread_inbound.sql"),
    },
    Migration {
        version: 19,
        name: "inbound_windows",
        sql: include_str!("../migrations/sqlite/0019_inbound_windows.sql"),
    },
    Migration {
        version: 20,
        name: "template_status",
        sql: include_str!("../migrations/sqlite/0020_template_status.sql"),
    },
    Migration { version: 21, name: "identities", sql: include_str!("../migrations/sqlite/0021_identities.sql") },
    Migration {
        version: 22,
        name: "delivery_plans",
        sql: include_str!("../migrations/sqlite/0022_delivery_plans.sql"),
    },
    Migration { version: 23, name: "traffic_runs", sql: include_str!("../migrations/sqlite/0023_traffic_runs.sql") },
    Migration { version: 24, name: "chats", sql: include_str!("../migrations/sqlite/0024_chats.sql") },
    Migration { version: 25, name: "cloud_relay", sql: include_str!("../migrations/sqlite/0025_cloud_relay.sql") },
];

/// The PostgreSQL schema, in order.
pub const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "users_tokens", sql: include_str!("../migrations/postgres/0001_users_tokens.sql") },
    Migration { version: 2, name: "settings", sql: include_str!("../migrations/postgres/0002_settings.sql") },
    Migration { version: 3, name: "media", sql: include_str!("../migrations/postgres/0003_media.sql") },
    Migration { version: 4, name: "messages", sql: include_str!("../migrations/postgres/0004_messages.sql") },
    Migration { version: 5, name: "receipts", sql: include_str!("../migrations/postgres/0005_receipts.sql") },
    Migration { version: 6, name: "templates", sql: include_str!("../migrations/postgres/0006_templates.sql") },
    Migration { version: 7, name: "message_order", sql: include_str!("../migrations/postgres/0007_message_order.sql") },
    Migration { version: 8, name: "contacts", sql: include_str!("../migrations/postgres/0008_contacts.sql") },
    Migration { version: 9, name: "callbacks", sql: include_str!("../migrations/postgres/0009_callbacks.sql") },
    Migration { version: 10, name: "message_ttl", sql: include_str!("../migrations/postgres/0010_message_ttl.sql") },
    Migration {
        version: 11,
        name: "callback_order",
        sql: include_str!("../migrations/postgres/0011_callback_order.sql"),
    },
    Migration {
        version: 12,
        name: "callback_claims",
        sql: include_str!("../migrations/postgres/0012_callback_claims.sql"),
    },
    Migration { version: 13, name: "groups", sql: include_str!("../migrations/postgres/0013_groups.sql") },
    Migration { version: 14, name: "gc", sql: include_str!("../migrations/postgres/0014_gc.sql") },
    Migration { version: 15, name: "cluster", sql: include_str!("../migrations/postgres/0015_cluster.sql") },
    Migration {
        version: 16,
        name: "status_history",
        sql: include_str!("../migrations/postgres/0016_status_history.sql"),
    },
    Migration {
        version: 17,
        name: "inbound_window",
        sql: include_str!("../migrations/postgres/0017_inbound_window.sql"),
    },
    Migration {
        version: 18,
        name: "unread_inbound",
        sql: include_str!("../migrations/postgres/0018_unread_inbound.sql"),
    },
    Migration {
        version: 19,
        name: "inbound_windows",
        sql: include_str!("../migrations/postgres/0019_inbound_windows.sql"),
    },
    Migration {
        version: 20,
        name: "template_status",
        sql: include_str!("../migrations/postgres/0020_template_status.sql"),
    },
    Migration { version: 21, name: "identities", sql: include_str!("../migrations/postgres/0021_identities.sql") },
    Migration {
        version: 22,
        name: "delivery_plans",
        sql: include_str!("../migrations/postgres/0022_delivery_plans.sql"),
    },
    Migration { version: 23, name: "traffic_runs", sql: include_str!("../migrations/postgres/0023_traffic_runs.sql") },
    Migration { version: 24, name: "chats", sql: include_str!("../migrations/postgres/0024_chats.sql") },
    Migration { version: 25, name: "cloud_relay", sql: include_str!("../migrations/postgres/0025_cloud_relay.sql") },
];

/// The newest schema version of a list of migrations.
pub fn latest(all: &[Migration]) -> i64 {
    all.last().map_or(0, |m| m.version)
}

/// Compares what the database says was applied with what this binary carries.
/// Returns the migrations still to apply, or an error if history diverged.
pub fn pending<'a>(all: &'a [Migration], applied: &[(i64, String)]) -> Result<Vec<&'a Migration>, String> {
    let latest = latest(all);
    let newest_applied = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
    for (version, checksum) in applied {
        match all.iter().find(|m| m.version == *version) {
            None => {
                return Err(format!(
                    "the database's schema is version {newest_applied}, newer than this wabiz ({}) knows: \
                     it knows schema versions up to {latest}. A newer wabiz has upgraded this database; \
                     run that version (or newer), or restore a backup taken before the upgrade",
                    env!("CARGO_PKG_VERSION")
                ));
            }
            Some(m) if m.checksum() != *checksum => {
                return Err(format!("migration {version} ({}) changed after it was applied", m.name));
            }
            Some(_) => {}
        }
    }
    Ok(all.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_have_the_same_versions_in_order() {
        let v = |ms: &[Migration]| ms.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(v(SQLITE), v(POSTGRES));
        for w in SQLITE.windows(2) {
            assert!(w[0].version < w[1].version);
        }
    }

    #[test]
    fn pending_detects_changes_and_unknown_versions() {
        let all = SQLITE;
        assert_eq!(pending(all, &[]).unwrap().len(), all.len());
        let rest: Vec<i64> = pending(all, &[(1, all[0].checksum())]).unwrap().iter().map(|m| m.version).collect();
        assert_eq!(rest, all[1..].iter().map(|m| m.version).collect::<Vec<_>>());
        let everything: Vec<(i64, String)> = all.iter().map(|m| (m.version, m.checksum())).collect();
        assert!(pending(all, &everything).unwrap().is_empty());
        assert!(pending(all, &[(1, "x".into())]).unwrap_err().contains("changed"));
        let newer = pending(all, &[(999, "x".into())]).unwrap_err();
        assert!(newer.contains("version 999") && newer.contains(&format!("up to {}", all.len())), "{newer}");
    }
}
