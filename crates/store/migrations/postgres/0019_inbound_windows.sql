-- The 24-hour window check asks when a customer last wrote. Answered from
-- messages (MAX(created_at) over the partial index of 0017), PostgreSQL was
-- free to walk another index instead, and did when its statistics said
-- inbound messages were common: backwards along messages(created_at),
-- through every message sent since the customer last wrote (67 ms a send
-- for one customer with a long history; docs/performance.md). Kept here,
-- per customer and written with the inbound message, the answer is one
-- primary-key lookup whatever the statistics.
CREATE TABLE inbound_windows (
    peer    TEXT PRIMARY KEY,
    last_at BIGINT NOT NULL
);
INSERT INTO inbound_windows (peer, last_at)
    SELECT peer, MAX(created_at) FROM messages WHERE direction = 'inbound' GROUP BY peer;

-- Nothing asks (peer, created_at) any more (a chat is read through
-- (peer, seq)); each message written costs one index entry less.
DROP INDEX IF EXISTS messages_peer;
