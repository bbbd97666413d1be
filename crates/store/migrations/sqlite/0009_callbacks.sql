-- The callback queue: every callback waits here, written in the same
-- transaction as the change it reports, until the receiver answers 200.
-- AUTOINCREMENT: a sequence number is never reused, even after the queue
-- empties, so an admin's lookup by number cannot find a different callback.
CREATE TABLE callbacks (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    peer            TEXT NOT NULL,
    subject         TEXT,
    item            TEXT NOT NULL,
    contact         TEXT,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_result     TEXT,
    claimed_by      TEXT,
    claimed_until   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX callbacks_claimed_by ON callbacks(claimed_by) WHERE claimed_by IS NOT NULL;

-- Pricing conversations: one per customer and category, 24 hours from the
-- message that opened it.
CREATE TABLE conversations (
    peer       TEXT NOT NULL,
    category   TEXT NOT NULL,
    id         TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (peer, category)
);

-- An outbound message's pricing category and the conversation it was sent in.
ALTER TABLE messages ADD COLUMN category TEXT;
ALTER TABLE messages ADD COLUMN conversation TEXT;

-- A registered template's category (MARKETING, UTILITY, AUTHENTICATION).
ALTER TABLE templates ADD COLUMN category TEXT NOT NULL DEFAULT 'UTILITY';
