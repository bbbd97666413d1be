-- The Cloud relay (--network cloud): its queue of sends, the Cloud ids of
-- what it sent and of media, and statuses that came before their send was
-- recorded. Empty on a simulator-only installation.

-- One row a send still to hand to Cloud, in acceptance order (`seq`). Only
-- the oldest row of a customer (`peer`) is ever handed out, and only it is
-- due: the claim reads the due heads, whatever waits behind them. The index
-- on (peer, seq) finds a customer's next one, and checks a head has no
-- older row, with one seek. Nodes claim
-- rows with FOR UPDATE SKIP LOCKED and a lease (`due_at` moves on).
CREATE TABLE cloud_sends (
    seq         BIGSERIAL PRIMARY KEY,
    message_id  TEXT NOT NULL,
    peer        TEXT NOT NULL,
    preview_url BOOLEAN NOT NULL DEFAULT FALSE,
    context     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- Handed to a sender that has not reported back (its lease is due_at).
    claimed     BOOLEAN NOT NULL DEFAULT FALSE,
    -- When the send is due; only the head of a customer's queue has one
    -- (the rest wait behind it, NULL, and the next is made due when it leaves).
    due_at      BIGINT
);
CREATE INDEX cloud_sends_peer ON cloud_sends(peer, seq);
CREATE INDEX cloud_sends_due ON cloud_sends(due_at) WHERE due_at IS NOT NULL;

-- The Cloud message id (wamid) each sent message got, both ways.
-- It goes with its message (garbage collection).
CREATE TABLE cloud_messages (
    wamid      TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE
);

-- wabiz media ids and the Cloud media ids behind them.
CREATE TABLE cloud_media (
    id        TEXT PRIMARY KEY,
    cloud_id  TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    at        BIGINT NOT NULL
);

-- Statuses of a wamid not recorded yet, kept until its send is.
CREATE TABLE cloud_parked_statuses (
    seq   BIGSERIAL PRIMARY KEY,
    wamid TEXT NOT NULL,
    item  TEXT NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX cloud_parked_statuses_wamid ON cloud_parked_statuses(wamid, seq);
-- Statuses of messages the relay never sent (the WhatsApp Business app on
-- the same number) are forgotten after Cloud's week of retries.
CREATE INDEX cloud_parked_statuses_at ON cloud_parked_statuses(at);

-- Customers Cloud names by their business-scoped user id only (no phone
-- number): the number-shaped wa_id wabiz gives them, for On-Premises
-- clients, which key everything on wa_id.
CREATE TABLE cloud_users (
    wa_id   TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);
