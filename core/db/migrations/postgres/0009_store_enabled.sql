-- A merchant can switch a store off: its keys and webhooks are refused and
-- its pushes wait (they go out, coalesced, when it is switched on again).
ALTER TABLE stores ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
