-- Kept in step with SQLite's schema 16, which moved the status history into
-- the message row. PostgreSQL keeps its message_statuses table: its writes
-- are spread over many connections, not one writer thread.
SELECT 1;
