-- Shape "int4": an integer child column referencing a bigint parent key
-- (mixed widths: the client widens both to int64).  Same data as int8.
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS i4_orders, i4_customers CASCADE;
CREATE TABLE i4_customers (id bigint NOT NULL, name text, created_at timestamptz);
CREATE TABLE i4_orders (id bigint NOT NULL, customer_id integer, amount numeric, note text);
SELECT setseed(:seed);
INSERT INTO i4_customers
SELECT i, 'customer ' || i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
INSERT INTO i4_orders
SELECT i, k, round((random() * 1000)::numeric, 2), 'note ' || (i % 1000)
FROM (SELECT i, CASE WHEN r < 0.01 THEN NULL
                     WHEN r < 0.011 THEN :P + 1 + floor(random() * :K)::int
                     ELSE 1 + floor(random() * :P)::int END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, :C) i OFFSET 0) a
      OFFSET 0) b;
ALTER TABLE i4_customers ADD PRIMARY KEY (id);
ALTER TABLE i4_orders ADD PRIMARY KEY (id);
ALTER TABLE i4_orders ADD CONSTRAINT i4_orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES i4_customers (id) NOT VALID;
COMMIT;
