-- The order lifecycle after acceptance: delivery tracking, partial
-- cancellation, returns and the credit notes that refund them.

-- What the order was placed for; `total` is what is still charged after
-- partial cancellations. NULL on orders placed since: read through
-- COALESCE(original_total, total), as an order's total only moves once a
-- line is cancelled, which sets it.
ALTER TABLE sales_orders ADD COLUMN original_total TEXT;
UPDATE sales_orders SET original_total = total;
ALTER TABLE sales_orders ADD COLUMN carrier TEXT;
ALTER TABLE sales_orders ADD COLUMN tracking_number TEXT;
ALTER TABLE sales_orders ADD COLUMN ready_at TEXT;
ALTER TABLE sales_orders ADD COLUMN shipped_at TEXT;
ALTER TABLE sales_orders ADD COLUMN out_for_delivery_at TEXT;
ALTER TABLE sales_orders ADD COLUMN delivered_at TEXT;
UPDATE sales_orders SET delivered_at = (
    SELECT MAX(h.at) FROM order_history h WHERE h.order_id = sales_orders.id AND h.status = 'delivered'
);

ALTER TABLE sales_order_lines ADD COLUMN cancelled_quantity TEXT NOT NULL DEFAULT '0';
ALTER TABLE sales_order_lines ADD COLUMN returned_quantity TEXT NOT NULL DEFAULT '0';
UPDATE sales_order_lines SET cancelled_quantity = quantity
WHERE order_id IN (SELECT id FROM sales_orders WHERE status = 'cancelled');

-- Sourcing order of a line's allocations: cancellations and returns give
-- back from the last location first.
ALTER TABLE order_allocations ADD COLUMN position INTEGER NOT NULL DEFAULT 0;

ALTER TABLE locations ADD COLUMN next_credit_note_seq INTEGER NOT NULL DEFAULT 1;

CREATE TABLE credit_notes (
    id             INTEGER PRIMARY KEY,
    credit_note_no TEXT NOT NULL UNIQUE,
    location_id    INTEGER NOT NULL REFERENCES locations (id),
    order_id       INTEGER NOT NULL REFERENCES sales_orders (id),
    bill_id        INTEGER NOT NULL REFERENCES bills (id),
    kind           TEXT NOT NULL,
    amount         TEXT NOT NULL,
    tax_amount     TEXT NOT NULL,
    reason         TEXT,
    refund_id      TEXT,
    by_actor       TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX credit_notes_order ON credit_notes (order_id);

CREATE TABLE credit_note_lines (
    credit_note_id INTEGER NOT NULL REFERENCES credit_notes (id),
    line_no        INTEGER NOT NULL,
    reference_code TEXT NOT NULL,
    quantity       TEXT NOT NULL,
    amount         TEXT NOT NULL,
    tax_amount     TEXT NOT NULL,
    -- [{location, quantity}] put back on hand; the rest was written off.
    restocked      TEXT NOT NULL,
    written_off    TEXT NOT NULL,
    PRIMARY KEY (credit_note_id, line_no)
);

-- Storefront refunds already applied to an order: a redelivered refund
-- finds its row and changes nothing.
CREATE TABLE order_refunds (
    order_id       INTEGER NOT NULL REFERENCES sales_orders (id),
    refund_id      TEXT NOT NULL,
    action         TEXT NOT NULL,
    -- [[line_no, quantity]] as applied, to tell a redelivery from a reuse.
    lines          TEXT NOT NULL,
    credit_note_id INTEGER REFERENCES credit_notes (id),
    created_at     TEXT NOT NULL,
    PRIMARY KEY (order_id, refund_id)
);
