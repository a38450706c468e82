-- Money has a currency. The hub has one (the POS's), seeded with INR (the
-- currency every order before this migration was booked in) and set by
-- `serve --currency` or `PUT /admin/v1/settings` until the first order;
-- each store has one (NULL: the hub's). Orders record theirs, the lines
-- that move no stock (gift cards, tips, custom items, fees, duties) and
-- whether the storefront marked them as a test.
INSERT INTO settings (key, value) VALUES ('currency', 'INR') ON CONFLICT DO NOTHING;
ALTER TABLE stores ADD COLUMN currency TEXT;
ALTER TABLE stores ADD COLUMN accept_test_orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sales_orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'INR';
ALTER TABLE sales_orders ADD COLUMN charges TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sales_orders ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
