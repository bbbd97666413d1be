//! Media (`/v1/media`, `media.md`): uploads are streamed to a file chunk by
//! chunk (never held whole in memory), hashed on the way, made durable, and
//! only then recorded in the database; downloads stream the file back.

use std::io;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{ErrorCode, WaError};
use crate::network::Network;
use crate::ports::{MediaRecord, Store};

/// The Webapp's upload limit (100 MB).
pub const DEFAULT_MAX_UPLOAD: u64 = 104_857_600;

/// Where media bytes live (a folder of the data dir; shared storage in a cluster).
#[async_trait::async_trait]
pub trait MediaFiles: Send + Sync {
    /// Starts writing the file of a new media id.
    async fn create(&self, id: &str) -> io::Result<Box<dyn MediaWriter>>;
    /// Opens a stored file, with its length.
    async fn open(&self, id: &str) -> io::Result<Option<(tokio::fs::File, u64)>>;
    /// Removes a stored file (a missing one is not an error).
    async fn remove(&self, id: &str) -> io::Result<()>;
    /// Where the file of an id lives (the callbacks' deprecated `file` field).
    fn location(&self, id: &str) -> Option<String>;
}

/// A file being written.
#[async_trait::async_trait]
pub trait MediaWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// Makes the file durable and visible under its id.
    async fn commit(self: Box<Self>) -> io::Result<()>;
    /// Throws the partial file away.
    async fn abort(self: Box<Self>);
}

pub struct MediaService {
    store: Arc<dyn Store>,
    files: Arc<dyn MediaFiles>,
    clock: Arc<dyn Clock>,
    max_upload: u64,
    /// The network that may hold media too (the Cloud relay).
    network: Option<Arc<dyn Network>>,
}

fn too_large(limit: u64) -> WaError {
    if limit == DEFAULT_MAX_UPLOAD {
        WaError::invalid("Request content exceeds size of 100 MB")
    } else {
        WaError::invalid(format!("Request content exceeds size of {limit} bytes"))
    }
}

fn not_writable(e: &io::Error) -> WaError {
    tracing::error!(error = %e, "the media directory cannot be written");
    WaError::forbidden("Media directory is not writable. Please check permissions")
}

fn not_found(id: &str) -> WaError {
    WaError::not_found(format!("File with id {id} not found"))
}

/// An upload in progress.
pub struct Upload {
    id: String,
    mime_type: String,
    writer: Option<Box<dyn MediaWriter>>,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl Upload {
    /// Appends a chunk of the body; past the limit the upload is refused.
    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), WaError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            self.abort().await;
            return Err(too_large(self.limit));
        }
        self.hasher.update(chunk);
        let Some(w) = self.writer.as_mut() else { return Err(WaError::internal("The upload was already closed")) };
        if let Err(e) = w.write(chunk).await {
            self.abort().await;
            return Err(not_writable(&e));
        }
        Ok(())
    }

    /// Throws the upload away (a failed or interrupted request).
    pub async fn abort(&mut self) {
        if let Some(w) = self.writer.take() {
            w.abort().await;
        }
    }
}

impl MediaService {
    pub fn new(store: Arc<dyn Store>, files: Arc<dyn MediaFiles>, clock: Arc<dyn Clock>, max_upload: u64) -> Self {
        Self { store, files, clock, max_upload, network: None }
    }

    /// Deletes go to `network` too (the Cloud relay deletes its copy).
    pub fn with_network(mut self, network: Arc<dyn Network>) -> Self {
        self.network = Some(network);
        self
    }

    /// The Webapp's checks before any byte is read: a `Content-Type`, and a
    /// declared length within the limit.
    pub async fn begin_upload(&self, content_type: Option<&str>, declared: Option<u64>) -> Result<Upload, WaError> {
        let mime_type = match content_type.map(str::trim) {
            None | Some("") => return Err(WaError::new(ErrorCode::RequiredParameterMissing, "Content-Type missing")),
            Some(ct) => ct.to_owned(),
        };
        if declared == Some(0) {
            return Err(WaError::new(ErrorCode::RequiredParameterMissing, "Request had no (empty) content"));
        }
        if declared.is_some_and(|n| n > self.max_upload) {
            return Err(too_large(self.max_upload));
        }
        let id = crate::ids::media();
        let writer = self.files.create(&id).await.map_err(|e| not_writable(&e))?;
        Ok(Upload { id, mime_type, writer: Some(writer), hasher: Sha256::new(), size: 0, limit: self.max_upload })
    }

    /// Completes an upload: the file is made durable, then recorded. Returns the id.
    pub async fn finish_upload(&self, mut upload: Upload) -> Result<String, WaError> {
        if upload.size == 0 {
            upload.abort().await;
            return Err(WaError::new(ErrorCode::RequiredParameterMissing, "Request had no (empty) content"));
        }
        let Some(writer) = upload.writer.take() else { return Err(WaError::internal("The upload was already closed")) };
        writer.commit().await.map_err(|e| not_writable(&e))?;
        let record = MediaRecord {
            id: upload.id.clone(),
            mime_type: upload.mime_type,
            size: upload.size,
            sha256: crate::hex::encode(&upload.hasher.finalize()),
            origin: "upload".into(),
            filename: None,
            created_at: self.clock.now_unix(),
        };
        match self.store.insert_media(&record).await {
            Ok(true) => Ok(record.id),
            Ok(false) => Err(WaError::new(ErrorCode::ResourceAlreadyExists, "Possible id conflict. Try again")),
            Err(e) => {
                // Keep the disk and the database in step.
                let _ = self.files.remove(&record.id).await;
                Err(e.into())
            }
        }
    }

    /// Stores bytes that did not come through an upload (media received from a
    /// customer): file first, then the record.
    pub async fn store_bytes(
        &self,
        bytes: &[u8],
        mime_type: &str,
        origin: &str,
        filename: Option<String>,
    ) -> Result<MediaRecord, WaError> {
        self.store_bytes_as(crate::ids::media(), bytes, mime_type, origin, filename).await
    }

    /// The same, under an id the caller chose (a network's media, whose id
    /// is already known).
    pub async fn store_bytes_as(
        &self,
        id: String,
        bytes: &[u8],
        mime_type: &str,
        origin: &str,
        filename: Option<String>,
    ) -> Result<MediaRecord, WaError> {
        let mut writer = self.files.create(&id).await.map_err(|e| not_writable(&e))?;
        if let Err(e) = writer.write(bytes).await {
            writer.abort().await;
            return Err(not_writable(&e));
        }
        writer.commit().await.map_err(|e| not_writable(&e))?;
        let record = MediaRecord {
            id,
            mime_type: mime_type.to_owned(),
            size: bytes.len() as u64,
            sha256: crate::hex::encode(&Sha256::digest(bytes)),
            origin: origin.to_owned(),
            filename,
            created_at: self.clock.now_unix(),
        };
        if !self.store.insert_media(&record).await? {
            return Err(WaError::new(ErrorCode::ResourceAlreadyExists, "Possible id conflict. Try again"));
        }
        Ok(record)
    }

    /// Where a media file lives on disk, for the callbacks' `file` field.
    pub fn location(&self, id: &str) -> Option<String> {
        self.files.location(id)
    }

    /// The record and the open file of a media id.
    pub async fn open(&self, id: &str) -> Result<(MediaRecord, tokio::fs::File, u64), WaError> {
        let record = self.store.get_media(id).await?.ok_or_else(|| not_found(id))?;
        match self.files.open(id).await {
            Ok(Some((file, len))) => Ok((record, file, len)),
            Ok(None) => Err(not_found(id)),
            Err(e) => {
                tracing::error!(error = %e, "a media file cannot be read");
                Err(WaError::internal("The media file cannot be read"))
            }
        }
    }

    /// The record of a media id, if it exists (senders check ids with it).
    pub async fn record(&self, id: &str) -> Result<Option<MediaRecord>, WaError> {
        Ok(self.store.get_media(id).await?)
    }

    /// Deletes the record, then the file, and the network's copy if it has
    /// one (media the relay uploaded, or a customer's held by Cloud).
    pub async fn delete(&self, id: &str) -> Result<(), WaError> {
        let remote = match &self.network {
            Some(network) => network.delete_media(id).await?,
            None => false,
        };
        if !self.store.delete_media(id).await? && !remote {
            return Err(not_found(id));
        }
        if let Err(e) = self.files.remove(id).await {
            tracing::warn!(error = %e, "a deleted media file could not be removed from disk");
        }
        Ok(())
    }
}
