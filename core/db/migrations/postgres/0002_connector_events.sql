-- What connectors did for each store: webhooks received (and later pushes
-- sent), with the outcome, the reason when refused, and the plugin's logs.
CREATE TABLE connector_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id    BIGINT NOT NULL REFERENCES stores (id),
    direction   TEXT NOT NULL,
    topic       TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    detail      TEXT,
    order_id    BIGINT,
    logs        TEXT,
    elapsed_us  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX connector_events_store ON connector_events (store_id, id);
