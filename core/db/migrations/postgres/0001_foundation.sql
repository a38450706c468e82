-- poshub foundation schema, Postgres dialect.
-- Money and quantities are NUMERIC (exact); times are TIMESTAMPTZ.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE locations (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    next_bill_seq BIGINT NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE location_groups (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE location_group_members (
    group_id    BIGINT NOT NULL REFERENCES location_groups (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    position    BIGINT NOT NULL,
    PRIMARY KEY (group_id, location_id)
);

CREATE TABLE items (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_code               TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    unit                    TEXT NOT NULL,
    tax_rate                NUMERIC NOT NULL,
    mrp                     NUMERIC,
    attributes              JSONB NOT NULL,
    reference_code_template TEXT,
    created_at              TIMESTAMPTZ NOT NULL
);

CREATE TABLE variants (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id        BIGINT NOT NULL REFERENCES items (id),
    reference_code TEXT NOT NULL UNIQUE,
    attributes     JSONB NOT NULL,
    price          NUMERIC,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX variants_item ON variants (item_id);
CREATE INDEX variants_updated ON variants (updated_at);

CREATE TABLE stock_balances (
    variant_id  BIGINT NOT NULL REFERENCES variants (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    on_hand     NUMERIC NOT NULL,
    reserved    NUMERIC NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (variant_id, location_id)
);

CREATE TABLE stock_movements (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    variant_id     BIGINT NOT NULL REFERENCES variants (id),
    location_id    BIGINT NOT NULL REFERENCES locations (id),
    kind           TEXT NOT NULL,
    quantity       NUMERIC NOT NULL,
    on_hand_delta  NUMERIC NOT NULL,
    reserved_delta NUMERIC NOT NULL,
    cost           NUMERIC,
    price          NUMERIC,
    order_id       BIGINT,
    reference      TEXT,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_movements_balance ON stock_movements (variant_id, location_id);

CREATE TABLE customers (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone      TEXT UNIQUE,
    email      TEXT,
    name       TEXT,
    address    JSONB,
    walk_in    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX customers_email ON customers (email);
CREATE UNIQUE INDEX customers_email_only ON customers (email) WHERE phone IS NULL AND NOT walk_in;

CREATE TABLE stores (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    connector           TEXT NOT NULL,
    config              JSONB NOT NULL,
    payment_types       JSONB NOT NULL,
    allow_backorder     BOOLEAN NOT NULL,
    prices_include_tax  BOOLEAN NOT NULL,
    walk_in_customer_id BIGINT NOT NULL REFERENCES customers (id),
    created_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE store_locations (
    store_id    BIGINT NOT NULL REFERENCES stores (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    PRIMARY KEY (store_id, location_id)
);

CREATE TABLE api_users (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id   BIGINT NOT NULL REFERENCES stores (id),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_user_locations (
    api_user_id BIGINT NOT NULL REFERENCES api_users (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    PRIMARY KEY (api_user_id, location_id)
);

CREATE TABLE sales_orders (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id            BIGINT NOT NULL REFERENCES stores (id),
    online_reference_no TEXT NOT NULL,
    location_id         BIGINT NOT NULL REFERENCES locations (id),
    customer_id         BIGINT NOT NULL REFERENCES customers (id),
    status              TEXT NOT NULL,
    total               NUMERIC NOT NULL,
    shipping            JSONB,
    payments            JSONB NOT NULL,
    notes               TEXT,
    placed_at           TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (store_id, online_reference_no)
);
CREATE INDEX sales_orders_updated ON sales_orders (store_id, updated_at);

CREATE TABLE sales_order_lines (
    order_id       BIGINT NOT NULL REFERENCES sales_orders (id),
    line_no        INTEGER NOT NULL,
    variant_id     BIGINT NOT NULL REFERENCES variants (id),
    reference_code TEXT NOT NULL,
    item_code      TEXT NOT NULL,
    quantity       NUMERIC NOT NULL,
    unit_price     NUMERIC NOT NULL,
    discount       NUMERIC NOT NULL,
    tax_rate       NUMERIC NOT NULL,
    tax_amount     NUMERIC NOT NULL,
    amount         NUMERIC NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_history (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES sales_orders (id),
    status   TEXT NOT NULL,
    by_actor TEXT NOT NULL,
    note     TEXT,
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id);

CREATE TABLE idempotency_keys (
    store_id     BIGINT NOT NULL REFERENCES stores (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, key)
);

CREATE TABLE bills (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bill_no      TEXT NOT NULL UNIQUE,
    location_id  BIGINT NOT NULL REFERENCES locations (id),
    order_id     BIGINT NOT NULL UNIQUE REFERENCES sales_orders (id),
    payment_type TEXT NOT NULL,
    total        NUMERIC NOT NULL,
    status       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
