-- Claims keep each peer's order: a callback is not claimed while an older one
-- of the same peer waits for a retry or is held by a node.
CREATE INDEX callbacks_peer_seq ON callbacks(peer, seq);
