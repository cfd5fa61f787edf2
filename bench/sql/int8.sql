-- Shape "int8": the baseline's shape.  customers(id bigint PK) 1..P,
-- orders(customer_id bigint): uniform in 1..P, 1% NULL, 0.1% orphans with
-- keys P+1..P+K spread over the heap.  Variables: P, C, K, seed.
-- Row widths match the baseline (64-byte customers tuples, 56-byte orders
-- tuples: 123 and 136 rows per page).
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS orders, customers CASCADE;
CREATE TABLE customers (id bigint NOT NULL, name text, created_at timestamptz);
CREATE TABLE orders (id bigint NOT NULL, customer_id bigint, amount numeric, note text);
SELECT setseed(:seed);
INSERT INTO customers
SELECT i, 'customer ' || i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
INSERT INTO orders
SELECT i, k, round((random() * 1000)::numeric, 2), 'note ' || (i % 1000)
FROM (SELECT i, CASE WHEN r < 0.01 THEN NULL
                     WHEN r < 0.011 THEN :P + 1 + floor(random() * :K)::bigint
                     ELSE 1 + floor(random() * :P)::bigint END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, :C) i OFFSET 0) a
      OFFSET 0) b;
ALTER TABLE customers ADD PRIMARY KEY (id);
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
COMMIT;
