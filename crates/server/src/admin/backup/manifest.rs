//! `manifest.json`: what a backup holds, and the check that it still does.

use std::io::Read as _;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::admin::Failure;

pub const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "wabiz-backup";
const FORMAT_VERSION: u32 = 1;
pub const DATABASE: &str = "wabiz.db";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub wabiz_version: String,
    pub created_at: String,
    pub engine: String,
    pub schema_version: i64,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the backup folder, with `/`.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn new(schema_version: i64, files: Vec<FileEntry>) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            wabiz_version: env!("CARGO_PKG_VERSION").into(),
            created_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            engine: "sqlite".into(),
            schema_version,
            files,
        }
    }

    /// Reads a backup folder's manifest and checks that it is one this
    /// binary reads.
    pub fn read(dir: &Path) -> Result<Manifest, Failure> {
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
        for f in &manifest.files {
            let relative = Path::new(&f.path);
            if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(Failure::refused(format!("the manifest names a path outside the backup: {}", f.path)));
            }
        }
        Ok(manifest)
    }

    /// Every file the manifest names is a plain file (not a link) with its
    /// size and checksum.
    pub fn verify(&self, dir: &Path) -> Result<(), Failure> {
        for f in &self.files {
            let path = dir.join(&f.path);
            let damaged = |why: String| Failure::refused(format!("{}: {why}: the backup is damaged", f.path));
            let meta = std::fs::symlink_metadata(&path).map_err(|e| damaged(e.to_string()))?;
            if !meta.file_type().is_file() {
                return Err(damaged("not a plain file".into()));
            }
            let (bytes, sha256) = digest(&path).map_err(|e| damaged(e.to_string()))?;
            if bytes != f.bytes || sha256 != f.sha256 {
                return Err(damaged(format!(
                    "{bytes} bytes, sha256 {sha256}; the manifest says {} bytes, {}",
                    f.bytes, f.sha256
                )));
            }
        }
        Ok(())
    }

    /// The files under `folder/`, relative to the backup folder.
    pub fn files_in<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.files
            .iter()
            .map(|f| f.path.as_str())
            .filter(move |p| p.strip_prefix(folder).is_some_and(|r| r.starts_with('/')))
    }
}

/// Size and SHA-256 (hex) of a file.
pub fn digest(path: &Path) -> std::io::Result<(u64, String)> {
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

/// The manifest entry of `root/relative`.
pub fn entry(root: &Path, relative: &str) -> Result<FileEntry, Failure> {
    let path = root.join(relative);
    let (bytes, sha256) = digest(&path).map_err(|e| Failure::failed(format!("{}: {e}", path.display())))?;
    Ok(FileEntry { path: relative.to_owned(), bytes, sha256 })
}
