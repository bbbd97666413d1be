-- A customer's security identity, recorded when it changes
-- (`show_security_notifications`): its hash, since when (Unix ms), and
-- whether the business acknowledged it; sends wait for the acknowledgement.
CREATE TABLE identities (
    wa_id        TEXT PRIMARY KEY,
    hash         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    acknowledged BOOLEAN NOT NULL DEFAULT FALSE
);
