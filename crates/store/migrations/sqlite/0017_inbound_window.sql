-- The 24-hour window check asks when a customer last wrote:
-- MAX(created_at) of their inbound messages. With only (peer, created_at)
-- the engine walked every message of the customer to filter on direction,
-- so a send cost more the longer the chat. This partial index answers the
-- exact question with one seek, and costs a write only for inbound messages.
CREATE INDEX messages_peer_inbound ON messages(peer, created_at) WHERE direction = 'inbound';
