-- Marking a message read reads the customer's earlier unread messages too.
-- Found through (peer, created_at), that walked the customer's whole chat;
-- this partial index holds only the inbound messages not read yet, so the
-- cost follows how many are unread, not how long the chat is.
CREATE INDEX messages_peer_unread ON messages(peer, seq) WHERE direction = 'inbound' AND status = 'received';
