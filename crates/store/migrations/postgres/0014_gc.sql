-- Garbage collection: when a medium was last used by a send (its 30-day
-- clock restarts then), and finding a message's pending callbacks quickly.
ALTER TABLE media ADD COLUMN last_used_at BIGINT;
CREATE INDEX callbacks_subject ON callbacks(subject) WHERE subject IS NOT NULL;
