-- Shape "part": a child partitioned by range of its id into 4 leaves.
-- PostgreSQL < 18 cannot add a NOT VALID foreign key to a partitioned table,
-- so the FK is declared before the load and the load runs with
-- session_replication_role = replica (RI triggers off): the constraint says
-- VALID, and the orphans are there all the same, the case fkscan exists for.
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS pt_orders, pt_customers CASCADE;
CREATE TABLE pt_customers (id bigint NOT NULL, name text, created_at timestamptz);
SELECT setseed(:seed);
INSERT INTO pt_customers
SELECT i, 'customer ' || i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
ALTER TABLE pt_customers ADD PRIMARY KEY (id);
CREATE TABLE pt_orders (id bigint NOT NULL, customer_id bigint, amount numeric, note text,
                        PRIMARY KEY (id),
                        CONSTRAINT pt_orders_customer_id_fkey
                            FOREIGN KEY (customer_id) REFERENCES pt_customers (id))
    PARTITION BY RANGE (id);
SELECT format('CREATE TABLE pt_orders_%s PARTITION OF pt_orders FOR VALUES FROM (%s) TO (%s)',
              n, CASE WHEN n = 1 THEN 'MINVALUE' ELSE ((n - 1) * :C / 4 + 1)::text END,
              CASE WHEN n = 4 THEN 'MAXVALUE' ELSE (n * :C / 4 + 1)::text END)
FROM generate_series(1, 4) n ORDER BY n
\gexec
SET LOCAL session_replication_role = replica;
INSERT INTO pt_orders
SELECT i, k, round((random() * 1000)::numeric, 2), 'note ' || (i % 1000)
FROM (SELECT i, CASE WHEN r < 0.01 THEN NULL
                     WHEN r < 0.011 THEN :P + 1 + floor(random() * :K)::bigint
                     ELSE 1 + floor(random() * :P)::bigint END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, :C) i OFFSET 0) a
      OFFSET 0) b;
RESET session_replication_role;
COMMIT;
