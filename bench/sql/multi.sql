-- Shape "multi": four child tables on one parent (int8 keys), C/4 rows each,
-- each with its own 1% NULL and 0.1% orphans.  One parent load serves four FKs.
\set ON_ERROR_STOP 1
BEGIN;
DROP TABLE IF EXISTS mc_orders_1, mc_orders_2, mc_orders_3, mc_orders_4, mc_customers CASCADE;
CREATE TABLE mc_customers (id bigint NOT NULL, name text, created_at timestamptz);
SELECT setseed(:seed);
INSERT INTO mc_customers
SELECT i, 'customer ' || i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :P) i;
ALTER TABLE mc_customers ADD PRIMARY KEY (id);
SELECT format($f$
CREATE TABLE mc_orders_%1$s (id bigint NOT NULL, customer_id bigint, amount numeric, note text);
INSERT INTO mc_orders_%1$s
SELECT i, k, round((random() * 1000)::numeric, 2), 'note ' || (i %% 1000)
FROM (SELECT i, CASE WHEN r < 0.01 THEN NULL
                     WHEN r < 0.011 THEN %2$s + 1 + floor(random() * %3$s)::bigint
                     ELSE 1 + floor(random() * %2$s)::bigint END AS k
      FROM (SELECT i, random() AS r FROM generate_series(1, %4$s) i OFFSET 0) a
      OFFSET 0) b;
ALTER TABLE mc_orders_%1$s ADD PRIMARY KEY (id);
ALTER TABLE mc_orders_%1$s ADD CONSTRAINT mc_orders_%1$s_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES mc_customers (id) NOT VALID;
$f$, n, :P, :K, (:C + 4 - n) / 4)
FROM generate_series(1, 4) n ORDER BY n
\gexec
COMMIT;
