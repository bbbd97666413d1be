-- Messages need an insertion order finer than their second (SQLite uses its
-- rowid for this).
ALTER TABLE messages ADD COLUMN seq BIGSERIAL;
CREATE INDEX messages_peer_seq ON messages(peer, seq);
