//! `wabiz backup` and `wabiz restore`.
//!
//! A backup is a folder: `wabiz.db` (SQLite's online backup of the store,
//! taken while the node serves), `media/` and `tls/` copied from the data
//! folder after it, and `manifest.json` with each file's size and SHA-256.
//! Media files are written before the rows that name them, so every media
//! the copied database names is in the folder, unless it was deleted
//! between the two copies.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use wabiz_store::DatabaseConfig;

use super::{Failure, StoreArgs};
use crate::data_lock::DataDirLock;

const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "wabiz-backup";
const FORMAT_VERSION: u32 = 1;
const DATABASE: &str = "wabiz.db";
/// The folders of the data folder a backup carries besides the database.
const FOLDERS: &[&str] = &["media", "tls"];

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The folder to write; it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A folder written by `wabiz backup`.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,

    /// Replace the database and media already in the data folder.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    wabiz_version: String,
    created_at: String,
    engine: String,
    schema_version: i64,
    files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileEntry {
    /// Relative to the backup folder, with `/`.
    path: String,
    bytes: u64,
    sha256: String,
}

fn postgres_advice(url: &str, data_dir: &Path) -> String {
    let shown = wabiz_store::redact_url(url);
    format!(
        "`wabiz backup` copies the embedded SQLite store; this node's data is in PostgreSQL ({shown}). \
         Back that up with PostgreSQL's own tools, which give a consistent copy of a running database:\n\
         \x20 pg_dump --format=custom --file=wabiz.dump '{shown}'\n\
         and then copy the media folder {media} (the nodes' shared media) beside it, after the dump. \
         To restore: pg_restore --clean --if-exists --dbname='{shown}' wabiz.dump, put the media folder back, \
         then start the nodes.",
        media = data_dir.join("media").display()
    )
}

pub fn backup(args: &BackupArgs) -> Result<(), Failure> {
    let db_path = match args.store.database_config().map_err(Failure::refused)? {
        DatabaseConfig::Postgres { url } => return Err(Failure::refused(postgres_advice(&url, &args.store.data_dir))),
        DatabaseConfig::Sqlite { path } => path,
    };
    let to = &args.to;
    if std::fs::read_dir(to).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Failure::refused(format!("{} is not empty; back up into a new folder", to.display())));
    }
    create_private_dir(to)?;
    let schema_version =
        wabiz_store::sqlite::backup::copy_online(&db_path, &to.join(DATABASE)).map_err(Failure::failed)?;
    let mut files = vec![entry(to, DATABASE)?];
    for folder in FOLDERS {
        let from = args.store.data_dir.join(folder);
        if from.is_dir() {
            copy_tree(&from, &to.join(folder))?;
            list_tree(to, Path::new(folder), &mut files)?;
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        wabiz_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_rfc3339(),
        engine: "sqlite".into(),
        schema_version,
        files,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Failure::failed(e.to_string()))?;
    write_synced(&to.join(MANIFEST), text.as_bytes())?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backed up {} (schema version {schema_version}) and {} file(s), {bytes} bytes in all, to {}",
        db_path.display(),
        manifest.files.len() - 1,
        to.display()
    );
    Ok(())
}

pub fn restore(args: &RestoreArgs) -> Result<(), Failure> {
    let db_path = match args.store.database_config().map_err(Failure::refused)? {
        DatabaseConfig::Postgres { url } => return Err(Failure::refused(postgres_advice(&url, &args.store.data_dir))),
        DatabaseConfig::Sqlite { path } => path,
    };
    let manifest = read_manifest(&args.from)?;
    let latest = wabiz_store::migrate::SQLITE.last().map_or(0, |m| m.version);
    if manifest.schema_version > latest {
        return Err(Failure::refused(format!(
            "the backup's schema is version {}, newer than this wabiz ({}) knows (up to {latest}): \
             restore it with the wabiz that took it ({})",
            manifest.schema_version,
            env!("CARGO_PKG_VERSION"),
            manifest.wabiz_version
        )));
    }
    verify(&args.from, &manifest)?;
    let data_dir = &args.store.data_dir;
    // Held until the files are in place: no node can start on them meanwhile.
    let _lock =
        DataDirLock::acquire(data_dir).map_err(|e| Failure::refused(format!("{e}; stop it before restoring")))?;
    if db_path.exists() && !args.force {
        return Err(Failure::refused(format!(
            "{} already holds a database; add --force to replace it (and its media) with the backup",
            db_path.display()
        )));
    }
    // The database: written beside its place, then renamed over it; the old
    // WAL and shared-memory files belong to the old database and must go.
    let staged = db_path.with_extension("db.restoring");
    copy_file(&args.from.join(DATABASE), &staged)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", db_path.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| Failure::failed(format!("{}: {e}", side.display())))?;
        }
    }
    std::fs::rename(&staged, &db_path).map_err(|e| Failure::failed(format!("{}: {e}", db_path.display())))?;
    for folder in FOLDERS {
        let target = data_dir.join(folder);
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(|e| Failure::failed(format!("{}: {e}", target.display())))?;
        }
        let from = args.from.join(folder);
        if from.is_dir() {
            copy_tree(&from, &target)?;
        }
    }
    println!(
        "restored the backup of {} (wabiz {}, schema version {}, {} file(s)) into {}",
        manifest.created_at,
        manifest.wabiz_version,
        manifest.schema_version,
        manifest.files.len(),
        data_dir.display()
    );
    Ok(())
}

fn read_manifest(dir: &Path) -> Result<Manifest, Failure> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::refused(format!("{}: {e} (is this a folder written by `wabiz backup`?)", path.display()))
    })?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION || manifest.engine != "sqlite" {
        return Err(Failure::refused(format!(
            "{}: not a backup this wabiz reads ({} version {}, {})",
            path.display(),
            manifest.format,
            manifest.format_version,
            manifest.engine
        )));
    }
    if !manifest.files.iter().any(|f| f.path == DATABASE) {
        return Err(Failure::refused(format!("{}: the manifest names no {DATABASE}", path.display())));
    }
    Ok(manifest)
}

/// Every file the manifest names is there, with its size and checksum.
fn verify(dir: &Path, manifest: &Manifest) -> Result<(), Failure> {
    for f in &manifest.files {
        let relative = Path::new(&f.path);
        if relative.is_absolute() || relative.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(Failure::refused(format!("the manifest names a path outside the backup: {}", f.path)));
        }
        let (bytes, sha256) = digest(&dir.join(relative))
            .map_err(|e| Failure::refused(format!("{}: {e}", dir.join(relative).display())))?;
        if bytes != f.bytes || sha256 != f.sha256 {
            return Err(Failure::refused(format!(
                "{} does not match the manifest ({bytes} bytes, sha256 {sha256}; the manifest says {} bytes, {}): \
                 the backup is damaged",
                f.path, f.bytes, f.sha256
            )));
        }
    }
    Ok(())
}

fn digest(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let (mut hasher, mut bytes, mut buf) = (Sha256::new(), 0u64, vec![0u8; 64 * 1024]);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, wabiz_domain::hex::encode(&hasher.finalize())))
}

fn entry(root: &Path, relative: &str) -> Result<FileEntry, Failure> {
    let path = root.join(relative);
    let (bytes, sha256) = digest(&path).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    Ok(FileEntry { path: relative.to_owned(), bytes, sha256 })
}

/// Adds the files under `root/relative` to `files`, in name order.
fn list_tree(root: &Path, relative: &Path, files: &mut Vec<FileEntry>) -> Result<(), Failure> {
    let dir = root.join(relative);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| Failure::failed(format!("{}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .collect();
    names.sort_by_key(std::fs::DirEntry::file_name);
    for e in names {
        let rel = relative.join(e.file_name());
        if e.path().is_dir() {
            list_tree(root, &rel, files)?;
        } else {
            let shown = rel.to_string_lossy().replace('\\', "/");
            files.push(entry(root, &shown)?);
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), Failure> {
    create_private_dir(to)?;
    for e in std::fs::read_dir(from).map_err(|e| Failure::failed(format!("{}: {e}", from.display())))? {
        let e = e.map_err(|e| Failure::failed(format!("{}: {e}", from.display())))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else if src.is_file() {
            copy_file(&src, &dst)?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<(), Failure> {
    std::fs::copy(from, to).map_err(|e| Failure::failed(format!("copying {}: {e}", from.display())))?;
    std::fs::File::open(to).and_then(|f| f.sync_all()).map_err(|e| Failure::failed(format!("{}: {e}", to.display())))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut f = std::fs::File::create(path).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))
}

/// The backup holds the TLS key and password hashes: its folders are the
/// owner's only.
fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::failed(format!("cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Failure::failed(format!("{}: {e}", dir.display())))?;
    }
    Ok(())
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
