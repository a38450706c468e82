-- Where each order line's stock is held: one row per (line, location). A
-- line sourced from a location group can be split across its members; the
-- quantity is what that location still holds for the line (reserved while
-- pending, sold once billed).
CREATE TABLE order_allocations (
    order_id    BIGINT NOT NULL REFERENCES sales_orders (id),
    line_no     INTEGER NOT NULL,
    variant_id  BIGINT NOT NULL REFERENCES variants (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    quantity    NUMERIC NOT NULL,
    PRIMARY KEY (order_id, line_no, location_id)
);

INSERT INTO order_allocations (order_id, line_no, variant_id, location_id, quantity)
SELECT l.order_id, l.line_no, l.variant_id, o.location_id, l.quantity
FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id;
