-- Kept in step with PostgreSQL's schema 15. A single node has no shards, so
-- the route is never read here; the cluster tables exist only on PostgreSQL.
ALTER TABLE messages ADD COLUMN route INTEGER NOT NULL DEFAULT 0;
