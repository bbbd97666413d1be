-- Messages need an insertion order finer than their second. SQLite's rowid
-- already is one; this migration exists so both engines keep the same list.
SELECT 1;
