-- The list of chats (the console's conversations, GET /simulator/chats).
-- A participant's message in a group keeps the participant as its peer (the
-- window and receipts are theirs) and names the group here, so that the
-- group's chat can be read without walking anyone's history.
ALTER TABLE messages ADD COLUMN chat TEXT;
UPDATE messages SET chat = content::jsonb -> 'messages' -> 0 ->> 'group_id'
    WHERE direction = 'inbound' AND content LIKE '%"group_id"%';
CREATE INDEX messages_chat ON messages(chat, seq) WHERE chat IS NOT NULL;
-- A group's unread messages, as messages_peer_unread (0018) is a customer's.
CREATE INDEX messages_chat_unread ON messages(chat, seq) WHERE chat IS NOT NULL AND direction = 'inbound' AND status = 'received';

-- One row a chat, written with each message: listing the most recent chats
-- reads as many rows as it shows, whatever the number of messages stored.
-- Byte order ("C") for the id and the name, so that a prefix is a range.
-- `last_seq` is its last message's `seq`: the order of "most recent", which
-- seconds (`last_at`, shown) cannot give within one second.
CREATE TABLE chats (
    id              TEXT COLLATE "C" PRIMARY KEY,
    recipient_type  TEXT NOT NULL,
    name            TEXT,
    last_message_id TEXT NOT NULL,
    last_at         BIGINT NOT NULL,
    last_seq        BIGINT NOT NULL
);
CREATE INDEX chats_recent ON chats(last_seq);
CREATE INDEX chats_name ON chats((lower(name) COLLATE "C")) WHERE name IS NOT NULL;
-- Existing chats, named where their last message came from the customer.
INSERT INTO chats (id, recipient_type, name, last_message_id, last_at, last_seq)
    SELECT DISTINCT ON (COALESCE(chat, peer)) COALESCE(chat, peer),
           CASE WHEN chat IS NULL THEN recipient_type ELSE 'group' END,
           CASE WHEN chat IS NULL AND direction = 'inbound' THEN content::jsonb -> 'contacts' -> 0 -> 'profile' ->> 'name' END,
           id, created_at, seq
    FROM messages ORDER BY COALESCE(chat, peer), seq DESC;
