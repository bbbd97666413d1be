-- PostgreSQL keeps each customer's last inbound time in a table of its own
-- from this version on (its planner could walk the wrong index for the
-- window check). SQLite keeps answering it from messages_peer_inbound
-- (0017): without statistics its planner always takes the partial index,
-- which a plan test holds. This version keeps both schemas numbered alike.
SELECT 1;
