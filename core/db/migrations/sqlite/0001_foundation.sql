-- poshub foundation schema, SQLite dialect.
-- Money and quantities are TEXT holding exact decimals: SQLite's NUMERIC
-- affinity would turn them into floats. All arithmetic happens in Rust.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE locations (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    next_bill_seq INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE location_groups (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE location_group_members (
    group_id    INTEGER NOT NULL REFERENCES location_groups (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (group_id, location_id)
);

CREATE TABLE items (
    id                      INTEGER PRIMARY KEY,
    item_code               TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    unit                    TEXT NOT NULL,
    tax_rate                TEXT NOT NULL,
    mrp                     TEXT,
    attributes              TEXT NOT NULL,
    reference_code_template TEXT,
    created_at              TEXT NOT NULL
);

CREATE TABLE variants (
    id             INTEGER PRIMARY KEY,
    item_id        INTEGER NOT NULL REFERENCES items (id),
    reference_code TEXT NOT NULL UNIQUE,
    attributes     TEXT NOT NULL,
    price          TEXT,
    updated_at     TEXT NOT NULL
);
CREATE INDEX variants_item ON variants (item_id);
CREATE INDEX variants_updated ON variants (updated_at);

CREATE TABLE stock_balances (
    variant_id  INTEGER NOT NULL REFERENCES variants (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    on_hand     TEXT NOT NULL,
    reserved    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (variant_id, location_id)
);

CREATE TABLE stock_movements (
    id             INTEGER PRIMARY KEY,
    variant_id     INTEGER NOT NULL REFERENCES variants (id),
    location_id    INTEGER NOT NULL REFERENCES locations (id),
    kind           TEXT NOT NULL,
    quantity       TEXT NOT NULL,
    on_hand_delta  TEXT NOT NULL,
    reserved_delta TEXT NOT NULL,
    cost           TEXT,
    price          TEXT,
    order_id       INTEGER,
    reference      TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX stock_movements_balance ON stock_movements (variant_id, location_id);

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    phone      TEXT UNIQUE,
    email      TEXT,
    name       TEXT,
    address    TEXT,
    walk_in    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX customers_email ON customers (email);
CREATE UNIQUE INDEX customers_email_only ON customers (email) WHERE phone IS NULL AND walk_in = 0;

CREATE TABLE stores (
    id                  INTEGER PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    connector           TEXT NOT NULL,
    config              TEXT NOT NULL,
    payment_types       TEXT NOT NULL,
    allow_backorder     INTEGER NOT NULL,
    prices_include_tax  INTEGER NOT NULL,
    walk_in_customer_id INTEGER NOT NULL REFERENCES customers (id),
    created_at          TEXT NOT NULL
);

CREATE TABLE store_locations (
    store_id    INTEGER NOT NULL REFERENCES stores (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    PRIMARY KEY (store_id, location_id)
);

CREATE TABLE api_users (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_user_locations (
    api_user_id INTEGER NOT NULL REFERENCES api_users (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    PRIMARY KEY (api_user_id, location_id)
);

CREATE TABLE sales_orders (
    id                  INTEGER PRIMARY KEY,
    store_id            INTEGER NOT NULL REFERENCES stores (id),
    online_reference_no TEXT NOT NULL,
    location_id         INTEGER NOT NULL REFERENCES locations (id),
    customer_id         INTEGER NOT NULL REFERENCES customers (id),
    status              TEXT NOT NULL,
    total               TEXT NOT NULL,
    shipping            TEXT,
    payments            TEXT NOT NULL,
    notes               TEXT,
    placed_at           TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (store_id, online_reference_no)
);
CREATE INDEX sales_orders_updated ON sales_orders (store_id, updated_at);

CREATE TABLE sales_order_lines (
    order_id       INTEGER NOT NULL REFERENCES sales_orders (id),
    line_no        INTEGER NOT NULL,
    variant_id     INTEGER NOT NULL REFERENCES variants (id),
    reference_code TEXT NOT NULL,
    item_code      TEXT NOT NULL,
    quantity       TEXT NOT NULL,
    unit_price     TEXT NOT NULL,
    discount       TEXT NOT NULL,
    tax_rate       TEXT NOT NULL,
    tax_amount     TEXT NOT NULL,
    amount         TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_history (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES sales_orders (id),
    status   TEXT NOT NULL,
    by_actor TEXT NOT NULL,
    note     TEXT,
    at       TEXT NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id);

CREATE TABLE idempotency_keys (
    store_id     INTEGER NOT NULL REFERENCES stores (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (store_id, key)
);

CREATE TABLE bills (
    id           INTEGER PRIMARY KEY,
    bill_no      TEXT NOT NULL UNIQUE,
    location_id  INTEGER NOT NULL REFERENCES locations (id),
    order_id     INTEGER NOT NULL UNIQUE REFERENCES sales_orders (id),
    payment_type TEXT NOT NULL,
    total        TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
