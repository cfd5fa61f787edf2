-- Shape "uuid": uuid keys.  Key n is md5('c' || n)::uuid, so parents and
-- children agree without a lookup and the run is repeatable.
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS uu_orders, uu_customers CASCADE;
CREATE TABLE uu_customers (id uuid NOT NULL, name text, created_at timestamptz);
CREATE TABLE uu_orders (id bigint NOT NULL, customer_id uuid, amount numeric, note text);
SELECT setseed(:seed);
INSERT INTO uu_customers
SELECT md5('c' || i)::uuid, 'customer ' || i,
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
INSERT INTO uu_orders
SELECT i, md5('c' || k)::uuid, round((random() * 1000)::numeric, 2), 'note ' || (i % 1000)
FROM (SELECT i, CASE WHEN r < 0.01 THEN NULL
                     WHEN r < 0.011 THEN :P + 1 + floor(random() * :K)::bigint
                     ELSE 1 + floor(random() * :P)::bigint END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, :C) i OFFSET 0) a
      OFFSET 0) b;
ALTER TABLE uu_customers ADD PRIMARY KEY (id);
ALTER TABLE uu_orders ADD PRIMARY KEY (id);
ALTER TABLE uu_orders ADD CONSTRAINT uu_orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES uu_customers (id) NOT VALID;
COMMIT;
