-- A template's review status (APPROVED, PENDING, REJECTED, PAUSED,
-- DISABLED) and the reason given with it. Templates registered before are
-- approved, as the registry held only approved templates until now.
ALTER TABLE templates ADD COLUMN status TEXT NOT NULL DEFAULT 'APPROVED';
ALTER TABLE templates ADD COLUMN reason TEXT;
