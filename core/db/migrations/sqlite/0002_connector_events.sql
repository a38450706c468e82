-- What connectors did for each store: webhooks received (and later pushes
-- sent), with the outcome, the reason when refused, and the plugin's logs.
CREATE TABLE connector_events (
    id          INTEGER PRIMARY KEY,
    store_id    INTEGER NOT NULL REFERENCES stores (id),
    direction   TEXT NOT NULL,
    topic       TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    detail      TEXT,
    order_id    INTEGER,
    logs        TEXT,
    elapsed_us  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX connector_events_store ON connector_events (store_id, id);
