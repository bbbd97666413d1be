-- The list of chats (the console's conversations, GET /simulator/chats).
-- A participant's message in a group keeps the participant as its peer (the
-- window and receipts are theirs) and names the group here, so that the
-- group's chat can be read without walking anyone's history.
ALTER TABLE messages ADD COLUMN chat TEXT;
UPDATE messages SET chat = json_extract(content, '$.messages[0].group_id')
    WHERE direction = 'inbound' AND json_valid(content) AND json_extract(content, '$.messages[0].group_id') IS NOT NULL;
CREATE INDEX messages_chat ON messages(chat) WHERE chat IS NOT NULL;
-- A group's unread messages, as messages_peer_unread (0018) is a customer's.
CREATE INDEX messages_chat_unread ON messages(chat) WHERE chat IS NOT NULL AND direction = 'inbound' AND status = 'received';

-- One row a chat, written with each message: listing the most recent chats
-- reads as many rows as it shows, whatever the number of messages stored.
-- `last_seq` is its last message's rowid: the order of "most recent", which
-- seconds (`last_at`, shown) cannot give within one second.
-- Kept in its key's order (WITHOUT ROWID): a new chat is one b-tree insert
-- fewer than a rowid table with a separate key index.
CREATE TABLE chats (
    id              TEXT PRIMARY KEY,
    recipient_type  TEXT NOT NULL,
    name            TEXT,
    last_message_id TEXT NOT NULL,
    last_at         INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX chats_recent ON chats(last_seq);
CREATE INDEX chats_name ON chats(name COLLATE NOCASE) WHERE name IS NOT NULL;
-- Existing chats, named where their last message came from the customer.
INSERT INTO chats (id, recipient_type, name, last_message_id, last_at, last_seq)
    SELECT k, rt, nm, id, created_at, o FROM (
        SELECT COALESCE(chat, peer) AS k,
               CASE WHEN chat IS NULL THEN recipient_type ELSE 'group' END AS rt,
               CASE WHEN chat IS NULL AND direction = 'inbound' AND json_valid(content)
                    THEN json_extract(content, '$.contacts[0].profile.name') END AS nm,
               id, created_at, MAX(rowid) AS o
        FROM messages GROUP BY COALESCE(chat, peer));
