-- The sync engine: mappings of reference codes to storefront ids, the
-- outbox written in the same transaction as each change a store cares
-- about, and what each store last confirmed.

ALTER TABLE stores ADD COLUMN push_enabled BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE store_mappings (
    store_id    BIGINT NOT NULL REFERENCES stores (id),
    variant_id  BIGINT NOT NULL REFERENCES variants (id),
    external_id TEXT NOT NULL,
    PRIMARY KEY (store_id, variant_id)
);
CREATE UNIQUE INDEX store_mappings_external ON store_mappings (store_id, external_id);
CREATE INDEX store_mappings_variant ON store_mappings (variant_id);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id        BIGINT NOT NULL REFERENCES stores (id),
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL,
    variant_id      BIGINT,
    location_id     BIGINT,
    order_id        BIGINT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    response_status INTEGER,
    error           TEXT,
    request_summary TEXT,
    sent_value      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
-- Coalescing: one pending row per thing to push; it carries the level at send time.
CREATE UNIQUE INDEX outbox_coalesce ON outbox (store_id, key) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_store ON outbox (store_id, id);
-- Per-thing ordering: a row waits while an older one of the same key is unsent.
CREATE INDEX outbox_key ON outbox (store_id, key, id);

CREATE TABLE sync_state (
    store_id     BIGINT NOT NULL REFERENCES stores (id),
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    confirmed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, key)
);
