//! File moves for backup and restore: private copies, links, owners.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::admin::Failure;

fn failed(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::failed(format!("{}: {e}", path.display()))
}

/// Creates a folder (and its parents) that only its owner can open: a
/// backup holds password hashes, the token signing key and the TLS key.
pub fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| failed(dir, format!("cannot create it: {e}")))
}

/// Makes a file readable by its owner only.
pub fn make_private(path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| failed(path, e))?;
    }
    Ok(())
}

/// Copies a file, readable by its owner only, and flushes it to disk.
pub fn copy_private(from: &Path, to: &Path) -> Result<(), Failure> {
    if let Some(parent) = to.parent() {
        create_private_dir(parent)?;
    }
    std::fs::copy(from, to).map_err(|e| failed(from, format!("cannot copy it: {e}")))?;
    make_private(to)?;
    File::open(to).and_then(|f| f.sync_all()).map_err(|e| failed(to, e))
}

/// Writes a new file readable by its owner only, flushed to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| failed(path, e))?;
    make_private(path)?;
    File::open(path).and_then(|f| f.sync_all()).map_err(|e| failed(path, e))
}

/// The plain files under `dir` (links are not followed: the data folder
/// holds none of its own), relative to it, with `/`, in name order.
pub fn plain_files(dir: &Path) -> Result<Vec<String>, Failure> {
    fn walk(root: &Path, relative: &Path, out: &mut Vec<String>) -> Result<(), Failure> {
        let here = root.join(relative);
        let mut entries: Vec<_> =
            std::fs::read_dir(&here).map_err(|e| failed(&here, e))?.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let rel = relative.join(e.file_name());
            let kind = e.file_type().map_err(|err| failed(&e.path(), err))?;
            if kind.is_dir() {
                walk(root, &rel, out)?;
            } else if kind.is_file() {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            } else {
                tracing::warn!(path = %e.path().display(), "not a plain file: left out of the backup");
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out)?;
    Ok(out)
}

/// Where `path` really is, when it is a link; else `path`.
pub fn real_place(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
        _ => path.to_owned(),
    }
}

/// Removes a file or a folder, if there is one.
pub fn remove_if_present(path: &Path) -> Result<(), Failure> {
    let result = match std::fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    result.map_err(|e| failed(path, format!("cannot remove it: {e}")))
}

/// Whether `path` is a folder with something in it, or a file.
pub fn holds_something(path: &Path) -> bool {
    match std::fs::symlink_metadata(real_place(path)) {
        Ok(m) if m.is_dir() => std::fs::read_dir(real_place(path)).is_ok_and(|mut e| e.next().is_some()),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Gives `path` (a file, or a folder and all it holds) to the owner of
/// `like`: a restore run as root into a service's folder must leave files
/// the service can open.
pub fn give_to_owner_of(like: &Path, path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let owner = std::fs::metadata(like).map_err(|e| failed(like, e))?;
        let ours = std::fs::symlink_metadata(path).map_err(|e| failed(path, e))?;
        if (owner.uid(), owner.gid()) == (ours.uid(), ours.gid()) {
            return Ok(());
        }
        fn walk(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
            std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
            if std::fs::symlink_metadata(path)?.is_dir() {
                for e in std::fs::read_dir(path)? {
                    walk(&e?.path(), uid, gid)?;
                }
            }
            Ok(())
        }
        walk(path, owner.uid(), owner.gid()).map_err(|e| {
            failed(
                path,
                format!(
                    "cannot give it to the owner of {} ({e}); run the restore as that user or as root",
                    like.display()
                ),
            )
        })?;
    }
    Ok(())
}

/// Flushes a folder's entries (the renames in it) to disk.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
