-- A message's status history moves into its row: one line per status, each
-- a JSON array [status, at, errors]. Every status step already rewrote the
-- row; the separate table cost two more B-tree inserts per status on the
-- send path's single writer (issue 7).
ALTER TABLE messages ADD COLUMN history TEXT;
UPDATE messages SET history = (
    SELECT group_concat(json_array(s.status, s.at, s.errors), char(10))
    FROM (SELECT status, at, errors FROM message_statuses WHERE message_id = messages.id ORDER BY at, rowid) AS s)
WHERE id IN (SELECT message_id FROM message_statuses);
DROP TABLE message_statuses;
