-- Multiconnect (multiconnect.md §6): the nodes and their heartbeats, the
-- master lease, the shard map, and each message's route (CRC-32 of its
-- recipient, so that a new shard count re-routes pending messages at once).
ALTER TABLE messages ADD COLUMN route BIGINT NOT NULL DEFAULT 0;

CREATE TABLE cluster_nodes (
    node_id        TEXT PRIMARY KEY,
    role           TEXT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_heartbeat TIMESTAMPTZ NOT NULL DEFAULT now(),
    snapshot       TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE cluster_lease (
    id         INT PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    epoch      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Every change of a shard's owner takes a new epoch from here (fencing tokens
-- never repeat, even for a shard dropped and created again).
CREATE SEQUENCE shard_epochs;

CREATE TABLE shard_map (
    shard_id   INT PRIMARY KEY,
    node_id    TEXT,
    epoch      BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
