-- Claims are renewed by sequence number; the index on the claiming node only
-- cost a write on every claim and release.
DROP INDEX callbacks_claimed_by;
