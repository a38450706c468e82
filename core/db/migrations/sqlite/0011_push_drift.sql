-- Batched pushes (connector world 0.3.0): what a compare-and-set push found
-- on the storefront instead of the value it last confirmed.
ALTER TABLE outbox ADD COLUMN drift TEXT;
