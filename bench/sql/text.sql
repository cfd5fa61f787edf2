-- Shape "text": text keys 'C-<n>' (default collation of the database).
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS tx_orders, tx_customers CASCADE;
CREATE TABLE tx_customers (id text NOT NULL, name text, created_at timestamptz);
CREATE TABLE tx_orders (id bigint NOT NULL, customer_id text, amount numeric, note text);
SELECT setseed(:seed);
INSERT INTO tx_customers
SELECT 'C-' || i, 'customer ' || i,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
INSERT INTO tx_orders
SELECT i, 'C-' || k, round((random() * 1000)::numeric, 2), 'note ' || (i % 1000)
FROM (SELECT i, CASE WHEN r < 0.01 THEN NULL
                     WHEN r < 0.011 THEN :P + 1 + floor(random() * :K)::bigint
                     ELSE 1 + floor(random() * :P)::bigint END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, :C) i OFFSET 0) a
      OFFSET 0) b;
ALTER TABLE tx_customers ADD PRIMARY KEY (id);
ALTER TABLE tx_orders ADD PRIMARY KEY (id);
ALTER TABLE tx_orders ADD CONSTRAINT tx_orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES tx_customers (id) NOT VALID;
COMMIT;
