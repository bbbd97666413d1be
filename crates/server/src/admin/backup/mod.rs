//! `wabiz backup` and `wabiz restore`.
//!
//! A backup is a folder: `wabiz.db` (SQLite's online backup of the store,
//! taken while the node serves), `media/` and `tls/` copied from the data
//! folder after it, and `manifest.json` with each file's size and SHA-256;
//! all of it readable by its owner only. Media files are written before
//! the rows that name them, so every media the copied database names is in
//! the folder, unless it was deleted between the two copies.

mod files;
mod manifest;

use std::path::{Path, PathBuf};

use clap::Args;
use wabiz_store::DatabaseConfig;

use self::files::{
    copy_private, create_private_dir, give_to_owner_of, holds_something, make_private, plain_files, real_place,
    remove_if_present, sync_dir, write_private,
};
use self::manifest::{DATABASE, Manifest, entry};
use super::{Failure, StoreArgs};
use crate::data_lock::DataLock;

/// The folders of the data folder a backup carries besides the database.
const FOLDERS: &[&str] = &["media", "tls"];
/// What a restore puts its copies under before it swaps them in, and what
/// it moves the old ones to until the swap is done.
const STAGED: &str = "restoring";
const SET_ASIDE: &str = "before-restore";

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

    /// Replace the database, media and certificate already in the data folder.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

fn sqlite_path(store: &StoreArgs) -> Result<PathBuf, Failure> {
    match store.database_config().map_err(Failure::refused)? {
        DatabaseConfig::Sqlite { path } => Ok(path),
        DatabaseConfig::Postgres { url } => Err(Failure::refused(postgres_advice(&url, &store.data_dir))),
    }
}

fn postgres_advice(url: &str, data_dir: &Path) -> String {
    let url = wabiz_store::url_without_password(url);
    format!(
        "`wabiz backup` copies the embedded SQLite store; this node's data is in PostgreSQL. \
         Back it up with PostgreSQL's own tools, which give a consistent copy of a running database \
         (the password from PGPASSWORD or ~/.pgpass):\n\
         \x20 pg_dump --format=custom --file=wabiz.dump --dbname='{url}'\n\
         then copy the media folder {media} (the nodes' shared media) beside it, after the dump. \
         To restore: pg_restore --clean --if-exists --dbname='{url}' wabiz.dump, put the media folder back, \
         then start the nodes.",
        media = data_dir.join("media").display()
    )
}

pub fn backup(args: &BackupArgs) -> Result<(), Failure> {
    let db_path = sqlite_path(&args.store)?;
    let to = &args.to;
    let existed = to.exists();
    if std::fs::read_dir(to).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Failure::refused(format!("{} is not empty; back up into a new folder", to.display())));
    }
    create_private_dir(to)?;
    if let Some(inside) = FOLDERS.iter().map(|f| args.store.data_dir.join(f)).find(|f| is_within(to, f)) {
        let _ = std::fs::remove_dir(to);
        return Err(Failure::refused(format!(
            "{} is inside {}, which the backup copies",
            to.display(),
            inside.display()
        )));
    }
    let result = write_backup(&db_path, &args.store.data_dir, to);
    if result.is_err() {
        // A half-written backup must not pass for one, nor block a retry.
        let _ = remove_if_present(to);
        if existed {
            let _ = create_private_dir(to);
        }
    }
    let manifest = result?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backed up {} (schema version {}) and {} file(s), {bytes} bytes in all, to {}",
        db_path.display(),
        manifest.schema_version,
        manifest.files.len() - 1,
        to.display()
    );
    Ok(())
}

fn is_within(path: &Path, folder: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(folder)) {
        (Ok(p), Ok(f)) => p.starts_with(f),
        _ => false,
    }
}

fn write_backup(db_path: &Path, data_dir: &Path, to: &Path) -> Result<Manifest, Failure> {
    let copy = to.join(DATABASE);
    let schema_version = wabiz_store::sqlite::backup::copy_online(db_path, &copy).map_err(Failure::failed)?;
    make_private(&copy)?;
    let mut files = vec![entry(to, DATABASE)?];
    for folder in FOLDERS {
        let from = data_dir.join(folder);
        if !from.is_dir() {
            continue;
        }
        for relative in plain_files(&from)? {
            let name = format!("{folder}/{relative}");
            copy_private(&from.join(&relative), &to.join(&name))?;
            files.push(entry(to, &name)?);
        }
    }
    let manifest = Manifest::new(schema_version, files);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Failure::failed(e.to_string()))?;
    write_private(&to.join(manifest::MANIFEST), text.as_bytes())?;
    Ok(manifest)
}

/// One thing a restore replaces: its copy is staged beside it, the old one
/// set aside, then the copy renamed into place.
struct Piece {
    target: PathBuf,
    staged: PathBuf,
    aside: PathBuf,
}

impl Piece {
    /// `target`, or where it points when it is a link (a media folder on
    /// another disk stays there); the copies sit beside that place, so that
    /// every rename stays on one file system.
    fn at(target: &Path) -> Piece {
        let target = real_place(target);
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Piece {
            staged: target.with_file_name(format!("{name}.{STAGED}")),
            aside: target.with_file_name(format!("{name}.{SET_ASIDE}")),
            target,
        }
    }
}

pub fn restore(args: &RestoreArgs) -> Result<(), Failure> {
    let db_path = sqlite_path(&args.store)?;
    let manifest = Manifest::read(&args.from)?;
    let latest = wabiz_store::migrate::latest(wabiz_store::migrate::SQLITE);
    if manifest.schema_version > latest {
        return Err(Failure::refused(format!(
            "the backup's schema is version {}, newer than this wabiz ({}) knows (up to {latest}): \
             restore it with the wabiz that took it ({})",
            manifest.schema_version,
            env!("CARGO_PKG_VERSION"),
            manifest.wabiz_version
        )));
    }
    manifest.verify(&args.from)?;
    let data_dir = &args.store.data_dir;
    create_private_dir(data_dir)?;
    // Held until the files are in place: no node can start on them meanwhile.
    let lock =
        DataLock::for_database(&db_path).map_err(|e| Failure::refused(format!("{e}; stop it before restoring")))?;
    // The node's own user must be able to open it afterwards.
    let _ = give_to_owner_of(data_dir, &lock.path);

    let database = Piece::at(&db_path);
    let folders: Vec<(&str, Piece)> = FOLDERS.iter().map(|f| (*f, Piece::at(&data_dir.join(f)))).collect();
    // The old database's side files go with it, and are not put back.
    let side_files: Vec<Piece> = ["-wal", "-shm", "-journal"]
        .iter()
        .map(|s| Piece::at(&PathBuf::from(format!("{}{s}", database.target.display()))))
        .collect();
    let every = || std::iter::once(&database).chain(folders.iter().map(|(_, p)| p)).chain(side_files.iter());
    if let Some(left) = every().find(|p| p.aside.exists()) {
        return Err(Failure::refused(format!(
            "{} is left from an interrupted restore and holds what was there before it: \
             move it away or remove it, then restore again",
            left.aside.display()
        )));
    }
    let replaced = std::iter::once(&database).chain(folders.iter().map(|(_, p)| p));
    if let Some(taken) = replaced.filter(|_| !args.force).find(|p| holds_something(&p.target)) {
        return Err(Failure::refused(format!(
            "{} is not empty; add --force to replace the database, media and certificate with the backup's",
            taken.target.display()
        )));
    }

    // 1. Copies beside their places: a failure here changes nothing.
    let staging: Result<(), Failure> = (|| {
        remove_if_present(&database.staged)?;
        copy_private(&args.from.join(DATABASE), &database.staged)?;
        give_to_owner_of(data_dir, &database.staged)?;
        for (folder, piece) in &folders {
            remove_if_present(&piece.staged)?;
            let mut any = false;
            for relative in manifest.files_in(folder) {
                let inner = relative.strip_prefix(folder).unwrap_or(relative).trim_start_matches('/');
                copy_private(&args.from.join(relative), &piece.staged.join(inner))?;
                any = true;
            }
            if any {
                give_to_owner_of(data_dir, &piece.staged)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = staging {
        for piece in every() {
            let _ = remove_if_present(&piece.staged);
        }
        return Err(e);
    }
    // 2. The swap: the old pieces aside, the copies in; undone on a failure.
    let mut set_aside: Vec<&Piece> = Vec::new();
    let mut placed: Vec<&Piece> = Vec::new();
    let swap: Result<(), Failure> = (|| {
        for piece in every() {
            if std::fs::symlink_metadata(&piece.target).is_ok() {
                std::fs::rename(&piece.target, &piece.aside)
                    .map_err(|e| Failure::failed(format!("cannot move {} aside: {e}", piece.target.display())))?;
                set_aside.push(piece);
            }
        }
        for piece in every() {
            if piece.staged.exists() {
                std::fs::rename(&piece.staged, &piece.target)
                    .map_err(|e| Failure::failed(format!("cannot put {} in place: {e}", piece.target.display())))?;
                placed.push(piece);
            }
        }
        Ok(())
    })();
    if let Err(e) = swap {
        for piece in &placed {
            let _ = remove_if_present(&piece.target);
        }
        for piece in &set_aside {
            let _ = std::fs::rename(&piece.aside, &piece.target);
        }
        for piece in every() {
            let _ = remove_if_present(&piece.staged);
        }
        return Err(Failure::failed(format!("{}; the data folder was put back as it was", e.message)));
    }
    for piece in every() {
        sync_dir(piece.target.parent().unwrap_or(Path::new(".")));
    }
    // 3. The old pieces go.
    for piece in &set_aside {
        if let Err(e) = remove_if_present(&piece.aside) {
            eprintln!("wabiz: the restore is done, but {}", e.message);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn store_args(data_dir: &Path) -> StoreArgs {
        StoreArgs { config: None, data_dir: data_dir.to_owned(), database: None }
    }

    #[test]
    fn a_restore_through_a_linked_media_folder_keeps_the_link_and_replaces_what_it_points_at() {
        let root = tempfile::tempdir().unwrap();
        let (source, backup_dir, node, elsewhere) =
            (root.path().join("a"), root.path().join("b"), root.path().join("c"), root.path().join("d"));
        std::fs::create_dir_all(source.join("media/images")).unwrap();
        std::fs::write(source.join("media/images/new.bin"), b"new").unwrap();
        let db = rusqlite::Connection::open(source.join(DATABASE)).unwrap();
        db.execute_batch("CREATE TABLE wabiz_migrations (version INTEGER); INSERT INTO wabiz_migrations VALUES (1);")
            .unwrap();
        drop(db);
        backup(&BackupArgs { to: backup_dir.clone(), store: store_args(&source) })
            .unwrap_or_else(|f| panic!("{}", f.message));

        std::fs::create_dir_all(&node).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("old.bin"), b"old").unwrap();
        std::os::unix::fs::symlink(&elsewhere, node.join("media")).unwrap();
        std::fs::write(node.join(DATABASE), b"an older database").unwrap();
        std::fs::write(node.join("wabiz.db-wal"), b"its WAL").unwrap();

        let restore_args = |force| RestoreArgs { from: backup_dir.clone(), force, store: store_args(&node) };
        let refused = restore(&restore_args(false)).err().unwrap();
        assert!(refused.message.contains("--force"), "{}", refused.message);
        restore(&restore_args(true)).unwrap_or_else(|f| panic!("{}", f.message));

        assert!(std::fs::symlink_metadata(node.join("media")).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(elsewhere.join("images/new.bin")).unwrap(), b"new");
        assert!(!elsewhere.join("old.bin").exists(), "the folder's old content is replaced");
        assert!(!node.join("wabiz.db-wal").exists(), "the old database's WAL is gone");
        let db = rusqlite::Connection::open(node.join(DATABASE)).unwrap();
        let version: i64 = db.query_row("SELECT version FROM wabiz_migrations", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 1);
        let leftovers: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .chain(std::fs::read_dir(&node).unwrap())
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("restoring"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
