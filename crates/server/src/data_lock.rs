//! One process at a time on a data folder. A node on SQLite holds an
//! exclusive lock on DATA_DIR/wabiz.lock while it runs; `wabiz restore`
//! takes the same lock, so it cannot replace the files under a running node,
//! and a second node started on the same folder stops at once instead of
//! sharing a SQLite file it does not expect to share. The operating system
//! drops the lock when the process ends, even by `kill -9`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "wabiz.lock";

/// Held while it lives.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    pub path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock, creating the folder if needed; says who holds it
    /// when another process does.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
                return Err(format!("the data folder {} is in use by a running wabiz{who}", dir.display()));
            }
            Err(TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
        // Who holds it, for the message above; the lock itself is what counts.
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
        Ok(DataDirLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let e = DataDirLock::acquire(dir.path()).unwrap_err();
        assert!(e.contains("in use") && e.contains(&std::process::id().to_string()), "{e}");
        drop(first);
        assert!(DataDirLock::acquire(dir.path()).is_ok());
    }
}
