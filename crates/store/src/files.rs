//! Media bytes on disk: `ROOT/<first two characters of the id>/<id>`. A file is
//! written under `ROOT/tmp/`, fsynced, renamed into place and its folder
//! fsynced, so an acknowledged upload survives a crash and a half-written one
//! never appears under its id.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt as _;
use wabiz_domain::media::{MediaFiles, MediaWriter};

pub struct DiskMediaFiles {
    root: PathBuf,
}

/// Ids become file names: only the characters a media id can have.
fn safe_id(id: &str) -> io::Result<&str> {
    let ok =
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(id) } else { Err(io::Error::new(io::ErrorKind::InvalidInput, "not a media id")) }
}

impl DiskMediaFiles {
    /// Uses (and creates) `root`.
    pub fn new(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root: root.to_owned() })
    }

    fn path(&self, id: &str) -> io::Result<PathBuf> {
        let id = safe_id(id)?;
        Ok(self.root.join(id.get(..2).unwrap_or("__")).join(id))
    }
}

struct DiskWriter {
    file: tokio::fs::File,
    tmp: PathBuf,
    target: PathBuf,
}

#[async_trait::async_trait]
impl MediaWriter for DiskWriter {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.write_all(chunk).await
    }

    async fn commit(mut self: Box<Self>) -> io::Result<()> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let dir = self.target.parent().map(Path::to_owned).unwrap_or_default();
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::rename(&self.tmp, &self.target).await?;
        // The rename is durable once the folder is.
        tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
            .await
            .map_err(io::Error::other)?
    }

    async fn abort(self: Box<Self>) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }
}

#[async_trait::async_trait]
impl MediaFiles for DiskMediaFiles {
    async fn create(&self, id: &str) -> io::Result<Box<dyn MediaWriter>> {
        let target = self.path(id)?;
        let tmp = self.root.join("tmp").join(format!("{id}.part"));
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(Box::new(DiskWriter { file, tmp, target }))
    }

    async fn open(&self, id: &str) -> io::Result<Option<(tokio::fs::File, u64)>> {
        let path = match self.path(id) {
            Ok(p) => p,
            Err(_) => return Ok(None),
        };
        match tokio::fs::File::open(&path).await {
            Ok(f) => {
                let len = f.metadata().await?.len();
                Ok(Some((f, len)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn remove(&self, id: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(id)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn location(&self, id: &str) -> Option<String> {
        let path = self.path(id).ok()?;
        let absolute = std::path::absolute(&path).unwrap_or(path);
        Some(absolute.to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt as _;

    #[tokio::test]
    async fn write_commit_read_remove() {
        let dir = tempfile::tempdir().unwrap();
        let files = DiskMediaFiles::new(dir.path()).unwrap();
        let id = "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68";
        let mut w = files.create(id).await.unwrap();
        w.write(b"hello ").await.unwrap();
        w.write(b"world").await.unwrap();
        assert!(files.open(id).await.unwrap().is_none(), "invisible until committed");
        w.commit().await.unwrap();
        let (mut f, len) = files.open(id).await.unwrap().unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!((s.as_str(), len), ("hello world", 11));
        assert!(dir.path().join("f0").join(id).exists());
        files.remove(id).await.unwrap();
        files.remove(id).await.unwrap();
        assert!(files.open(id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn aborted_uploads_leave_nothing_and_odd_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = DiskMediaFiles::new(dir.path()).unwrap();
        let mut w = files.create("abc").await.unwrap();
        w.write(b"partial").await.unwrap();
        w.abort().await;
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(files.open("abc").await.unwrap().is_none());
        assert!(files.create("../escape").await.is_err());
        assert!(files.open("../../etc/passwd").await.unwrap().is_none());
    }
}
