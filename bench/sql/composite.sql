-- Shape "composite": a two-column (int, int) key.  Key n is
-- (region, id) = (n % 16, n / 16).  Of the 1% NULL rows, half are all-NULL
-- and half have only customer_id NULL: both are exempt under MATCH SIMPLE.
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS cp_orders, cp_customers CASCADE;
CREATE TABLE cp_customers (region integer NOT NULL, id integer NOT NULL,
                           name text, created_at timestamptz);
CREATE TABLE cp_orders (id bigint NOT NULL, region integer, customer_id integer,
                        amount numeric, note text);
SELECT setseed(:seed);
INSERT INTO cp_customers
SELECT i % 16, i / 16, 'customer ' || i,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
INSERT INTO cp_orders
SELECT i, CASE WHEN r < 0.005 THEN NULL WHEN r < 0.01 THEN (i % 16)::int ELSE (k % 16)::int END,
       (k / 16)::int, round((random() * 1000)::numeric, 2), 'note ' || (i % 1000)
FROM (SELECT i, r, CASE WHEN r < 0.01 THEN NULL
                        WHEN r < 0.011 THEN :P + 1 + floor(random() * :K)::bigint
                        ELSE 1 + floor(random() * :P)::bigint END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, :C) i OFFSET 0) a
      OFFSET 0) b;
ALTER TABLE cp_customers ADD PRIMARY KEY (region, id);
ALTER TABLE cp_orders ADD PRIMARY KEY (id);
ALTER TABLE cp_orders ADD CONSTRAINT cp_orders_region_customer_id_fkey
    FOREIGN KEY (region, customer_id) REFERENCES cp_customers (region, id) NOT VALID;
COMMIT;
