-- The simulated network's approved templates.
CREATE TABLE templates (
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    language   TEXT NOT NULL,
    components TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, name, language)
);

-- Why an accepted message will fail (JSON error objects), decided when it was
-- accepted and reported by the network as its first status.
ALTER TABLE messages ADD COLUMN failure TEXT;
