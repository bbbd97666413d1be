-- Installation facts (token signing key, simulated registration state, ...).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    username            TEXT PRIMARY KEY,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_is_default INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);

-- Issued bearer tokens, by SHA-256 digest; deleting a user deletes its tokens.
CREATE TABLE tokens (
    digest     TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX tokens_username ON tokens(username);
CREATE INDEX tokens_expires_at ON tokens(expires_at);
