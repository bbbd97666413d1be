-- When an outbound message expires undelivered (Unix milliseconds; `ttl`).
ALTER TABLE messages ADD COLUMN expires_at BIGINT;
