-- An outbound message's own path through the network, decided at acceptance
-- by the simulator's chaos (JSON, `DeliveryPlan`): its delays, where it stops,
-- how it fails, what happens to its callbacks. NULL for the usual rules.
ALTER TABLE messages ADD COLUMN plan TEXT;
