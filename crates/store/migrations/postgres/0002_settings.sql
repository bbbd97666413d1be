-- Settings documents (application settings, media providers, profile, ...) as JSON.
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Binary settings (the profile photo).
CREATE TABLE blobs (
    name       TEXT PRIMARY KEY,
    data       BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
