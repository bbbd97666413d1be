-- Groups the business is or was in. The group itself (subject, creator,
-- admins, participants, whether the business left) is one JSON document,
-- changed with a compare-and-set on `version`; groups are few and small.
CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    invite_code TEXT NOT NULL UNIQUE,
    document    TEXT NOT NULL,
    icon        BYTEA,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
