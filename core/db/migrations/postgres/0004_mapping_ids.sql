-- Storefronts that keep more than one id per variant: a WooCommerce
-- variation is updated under its parent product, a Shopify variant's stock
-- lives on its inventory item.
ALTER TABLE store_mappings ADD COLUMN parent_id TEXT;
ALTER TABLE store_mappings ADD COLUMN inventory_id TEXT;
