//! One process at a time on a SQLite database. A node holds an exclusive
//! lock on the lock file beside its database (`DATA_DIR/wabiz.lock` by
//! default) while it runs; `wabiz restore` and `wabiz db migrate` take the
//! same lock, so they cannot change the files under a running node, and a
//! second node started on the same database stops at once instead of
//! sharing a file it does not expect to share. The operating system drops
//! the lock when the process ends, even by `kill -9`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// Held while it lives.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
    pub path: PathBuf,
}

impl DataLock {
    /// The lock of the SQLite database at `db_path`.
    pub fn for_database(db_path: &Path) -> Result<DataLock, String> {
        Self::acquire(&db_path.with_extension("lock"))
    }

    /// Takes the lock on `path`, creating it (and its folder) if needed;
    /// says who holds it when another process does.
    pub fn acquire(path: &Path) -> Result<DataLock, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let opened = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path);
        // A lock file another user made (a restore run as root) can still be
        // locked through a read-only handle.
        let (mut file, writable) = match opened {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                (File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?, false)
            }
            Err(e) => return Err(format!("cannot open {}: {e}", path.display())),
        };
        let shown = path.parent().unwrap_or(path).display();
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
                return Err(format!("the data in {shown} is in use by a running wabiz{who}"));
            }
            Err(TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
        if writable {
            // Who holds it, for the message above; the lock itself is what counts.
            let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
        }
        Ok(DataLock { _file: file, path: path.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("wabiz.db");
        let first = DataLock::for_database(&db).unwrap();
        assert_eq!(first.path, dir.path().join("wabiz.lock"));
        let e = DataLock::for_database(&db).unwrap_err();
        assert!(e.contains("in use") && e.contains(&std::process::id().to_string()), "{e}");
        drop(first);
        assert!(DataLock::for_database(&db).is_ok());
    }
}
