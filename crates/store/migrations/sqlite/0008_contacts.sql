-- Contact-check results (legacy validation mode), kept 7 days.
CREATE TABLE contacts (
    wa_id      TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    checked_at INTEGER NOT NULL
);
