-- What storefronts report about their own catalogue in webhooks (product
-- updates, stock levels): per storefront variant its SKU and ids, kept as
-- mapping suggestions for auto-match by SKU. The newest report wins.
CREATE TABLE store_catalog_hints (
    store_id     BIGINT NOT NULL REFERENCES stores (id),
    external_id  TEXT NOT NULL,
    sku          TEXT NOT NULL,
    parent_id    TEXT,
    inventory_id TEXT,
    seen_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, external_id)
);
