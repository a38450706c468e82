-- Commerce rules per store: the location group it sells from and how an
-- order is sourced from it, its payment policy, the stock buffer that keeps
-- the shop floor's last units, and price lists that override the
-- last-inward price.

ALTER TABLE stores ADD COLUMN sell_from_group_id BIGINT REFERENCES location_groups (id);
ALTER TABLE stores ADD COLUMN sourcing TEXT NOT NULL DEFAULT 'priority';
ALTER TABLE stores ADD COLUMN payment_policy JSONB NOT NULL DEFAULT '{}';
ALTER TABLE stores ADD COLUMN stock_buffer JSONB;
ALTER TABLE stores ADD COLUMN enforce_prices BOOLEAN NOT NULL DEFAULT FALSE;

-- The group a sourced order drew on (its lines' locations are in order_allocations).
ALTER TABLE sales_orders ADD COLUMN location_group_id BIGINT REFERENCES location_groups (id);

-- The rule behind a pushed value, e.g. `price_list:DIWALI`.
ALTER TABLE outbox ADD COLUMN source TEXT;

-- A deleted list is kept (deleted_at set) so that the prices it set stay traceable.
CREATE TABLE price_lists (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id    BIGINT NOT NULL REFERENCES stores (id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    location_id BIGINT REFERENCES locations (id),
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_to    TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX price_lists_code ON price_lists (store_id, code) WHERE deleted_at IS NULL;

CREATE TABLE price_list_prices (
    price_list_id BIGINT NOT NULL REFERENCES price_lists (id),
    variant_id    BIGINT NOT NULL REFERENCES variants (id),
    price         NUMERIC NOT NULL,
    PRIMARY KEY (price_list_id, variant_id)
);
CREATE INDEX price_list_prices_variant ON price_list_prices (variant_id);
