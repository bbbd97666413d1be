-- When the simulated network next moves an outbound message on (sent,
-- delivered, read), in Unix milliseconds; NULL once it has nothing left to do.
ALTER TABLE messages ADD COLUMN next_event_at INTEGER;
CREATE INDEX messages_next_event ON messages(next_event_at) WHERE next_event_at IS NOT NULL;

-- Every status a message went through, with its time and errors.
CREATE TABLE message_statuses (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    errors     TEXT,
    PRIMARY KEY (message_id, status)
);
