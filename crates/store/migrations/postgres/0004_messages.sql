-- Messages sent and received, with their current status.
CREATE TABLE messages (
    id             TEXT PRIMARY KEY,
    direction      TEXT NOT NULL,
    recipient_type TEXT NOT NULL,
    peer           TEXT NOT NULL,
    type           TEXT NOT NULL,
    content        TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX messages_peer ON messages(peer, created_at);
CREATE INDEX messages_created_at ON messages(created_at);
