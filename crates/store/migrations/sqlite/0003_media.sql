-- Media files (uploaded or received); the bytes live on disk under DATA_DIR/media.
CREATE TABLE media (
    id         TEXT PRIMARY KEY,
    mime_type  TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    origin     TEXT NOT NULL,
    filename   TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX media_created_at ON media(created_at);
