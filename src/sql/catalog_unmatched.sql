-- catalog_unmatched.sql: for --strict-names, the include patterns that match
-- no foreign key in scope, each judged alone as pg_dump does (other filters
-- and the exclusions do not count).  Parameters are the regexes of
-- catalog_fks.sql: $1 schemas (-n), $2/$3 tables (-t: schema regex or NULL,
-- table regex), $4 constraints (-c); $5/$6 the undeclared relationships'
-- names and child oids.  Returns the option letter and the
-- 1-based position of the pattern among those given with it.  The FKs in
-- scope are those of catalog_fks.sql before filtering: keep the two in step.
WITH fk AS (
    SELECT c.conname, n.nspname, ch.relname
      FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_class ch ON ch.oid = c.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = ch.relnamespace
     WHERE c.contype = 'f'
       AND c.conparentid = 0
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
  UNION ALL
    SELECT r.name, n.nspname, ch.relname
      FROM ROWS FROM (pg_catalog.unnest($5::pg_catalog.text[]),
                      pg_catalog.unnest($6::pg_catalog.oid[])) AS r(name, child)
      JOIN pg_catalog.pg_class ch ON ch.oid = r.child
      JOIN pg_catalog.pg_namespace n ON n.oid = ch.relnamespace
)
SELECT 'n', p.ord
  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[])) WITH ORDINALITY AS p(r, ord)
 WHERE NOT EXISTS (SELECT 1 FROM fk WHERE fk.nspname OPERATOR(pg_catalog.~) p.r)
UNION ALL
SELECT 't', p.ord
  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]),
                  pg_catalog.unnest($3::pg_catalog.text[])) WITH ORDINALITY AS p(s, r, ord)
 WHERE NOT EXISTS (SELECT 1 FROM fk
                    WHERE (p.s IS NULL OR fk.nspname OPERATOR(pg_catalog.~) p.s)
                      AND fk.relname OPERATOR(pg_catalog.~) p.r)
UNION ALL
SELECT 'c', p.ord
  FROM ROWS FROM (pg_catalog.unnest($4::pg_catalog.text[])) WITH ORDINALITY AS p(r, ord)
 WHERE NOT EXISTS (SELECT 1 FROM fk WHERE fk.conname OPERATOR(pg_catalog.~) p.r)
 ORDER BY 1, 2
