-- shop.sql: a small shop, loaded, then broken the ways foreign keys break in
-- the field.  Run as a superuser (toggling RI triggers and
-- session_replication_role need it) with psql -v ON_ERROR_STOP=1.
--
-- Seven foreign keys; afterwards:
--   order_items_order_id_fkey     clean
--   reviews_product_id_fkey       clean
--   order_items_product_id_fkey   VALID, triggers on, but dirty: (a) a bulk
--                                 load ran with DISABLE TRIGGER ALL
--   shipments_order_id_fkey       VALID, triggers on, but dirty: (b) a load
--                                 ran under session_replication_role = replica
--   reviews_customer_id_fkey      NOT VALID over violating rows (c)
--   payments_order_id_fkey        check triggers left disabled (d)
--   orders_customer_id_fkey       check triggers left replica-only (d)
-- "fkscan audit" can see only the last three; "fkscan scan" finds all five.
-- tests/integration/010_audit.t checks the audit against this list.

CREATE TABLE customers (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);

CREATE TABLE products (
    id      bigint PRIMARY KEY,
    sku     text NOT NULL UNIQUE,
    name    text NOT NULL,
    price   numeric(10, 2) NOT NULL
);

CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    ordered_at  timestamptz NOT NULL
);
CREATE INDEX ON orders (customer_id);

CREATE TABLE order_items (
    order_id    bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    line        int NOT NULL,
    product_id  bigint NOT NULL REFERENCES products,
    quantity    int NOT NULL,
    PRIMARY KEY (order_id, line)
);

CREATE TABLE shipments (
    id          bigint PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders,
    carrier     text NOT NULL,
    shipped_at  timestamptz NOT NULL
);

CREATE TABLE payments (
    id          bigint PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders,
    amount      numeric(10, 2) NOT NULL
);

CREATE TABLE reviews (
    id          bigint PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products ON DELETE CASCADE,
    customer_id bigint,         -- its FK comes later, NOT VALID
    rating      int NOT NULL CHECK (rating BETWEEN 1 AND 5)
);

-- The healthy shop: 5,000 customers, 1,000 products, 20,000 orders with
-- three lines each, a shipment for nine orders in ten, a payment for each.
INSERT INTO customers
SELECT g, 'customer ' || g, 'c' || g || '@shop.example',
       timestamptz '2024-01-01' + g * interval '1 hour'
  FROM generate_series(1, 5000) g;

INSERT INTO products
SELECT g, 'SKU-' || lpad(g::text, 5, '0'), 'product ' || g, 1 + (g % 97)
  FROM generate_series(1, 1000) g;

INSERT INTO orders
SELECT g, 1 + (g * 7919) % 5000, timestamptz '2024-06-01' + g * interval '10 minutes'
  FROM generate_series(1, 20000) g;

INSERT INTO order_items
SELECT o, l, 1 + (o * 31 + l * 17) % 1000, 1 + (o + l) % 4
  FROM generate_series(1, 20000) o, generate_series(1, 3) l;

INSERT INTO shipments
SELECT g, g, (ARRAY['post', 'courier', 'freight'])[1 + g % 3],
       timestamptz '2024-06-02' + g * interval '10 minutes'
  FROM generate_series(1, 20000) g
 WHERE g % 10 <> 0;

INSERT INTO payments
SELECT g, g, 10 + (g % 200)
  FROM generate_series(1, 20000) g;

INSERT INTO reviews
SELECT g, 1 + (g * 13) % 1000, 1 + (g * 101) % 5000, 1 + g % 5
  FROM generate_series(1, 8000) g;

-- (a) A bulk load with the triggers off, "to make it faster": 500 order
-- lines for the 50 products 1001-1050, which were never loaded.  ENABLE
-- TRIGGER does not recheck anything: the FK stays VALID and looks healthy.
ALTER TABLE order_items DISABLE TRIGGER ALL;
INSERT INTO order_items
SELECT o, 4, 1001 + (o / 40) % 50, 1
  FROM generate_series(1, 20000, 40) o;
ALTER TABLE order_items ENABLE TRIGGER ALL;

-- (b) A load as a logical-replication apply worker or pg_restore
-- --disable-triggers would do it: in replica mode RI triggers do not fire.
-- 200 shipments for orders 25001-25200, which do not exist.
SET session_replication_role = replica;
INSERT INTO shipments
SELECT 100000 + g, 25000 + g, 'late feed', timestamptz '2024-12-24'
  FROM generate_series(1, 200) g;
RESET session_replication_role;

-- (c) Reviews imported from an old system, 40 of them by customers that
-- were never migrated; the FK is added NOT VALID "to be validated later".
INSERT INTO reviews
SELECT 10000 + g, 1 + g, 6000 + g, 1
  FROM generate_series(1, 40) g;
ALTER TABLE reviews
    ADD CONSTRAINT reviews_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;

-- (d) Check triggers switched off for one FK and forgotten, and another
-- FK's check triggers left replica-only after a replication setup: both
-- let orphans in from ordinary sessions.  The internal trigger names carry
-- the constraint's oid, so look them up.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tg.tgname, c.conname, c.conrelid::regclass AS rel
          FROM pg_trigger tg
          JOIN pg_constraint c ON c.oid = tg.tgconstraint
         WHERE c.conname IN ('payments_order_id_fkey', 'orders_customer_id_fkey')
           AND tg.tgrelid = c.conrelid      -- the child side: the check triggers
    LOOP
        IF t.conname = 'payments_order_id_fkey' THEN
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', t.rel, t.tgname);
        ELSE
            EXECUTE format('ALTER TABLE %s ENABLE REPLICA TRIGGER %I', t.rel, t.tgname);
        END IF;
    END LOOP;
END
$$;

-- 30 payments for orders that do not exist, 25 orders for unknown customers.
INSERT INTO payments
SELECT 50000 + g, 30000 + g, 99
  FROM generate_series(1, 30) g;
INSERT INTO orders
SELECT 40000 + g, 9000 + g, timestamptz '2024-12-31'
  FROM generate_series(1, 25) g;

ANALYZE;
