-- relation_tables.sql: the child ($1 schema or NULL, $2 name; side 1) and
-- parent ($3, $4; side 2) of an undeclared relationship, every relation of
-- that name in the schema given or, unqualified, in any schema in scope
-- (catalog_fks.sql's: no system schemas, no other sessions' temp tables),
-- so relation.c can tell "none", "ambiguous" and "not a table" apart; last,
-- whether the table is in that scope (a child must be, as a declared FK's).
SELECT s.side, c.oid, n.nspname, c.relkind,
       n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
  FROM (VALUES (1, $1::pg_catalog.text, $2::pg_catalog.text),
               (2, $3::pg_catalog.text, $4::pg_catalog.text)) AS s(side, nsp, rel)
  JOIN pg_catalog.pg_class c ON c.relname OPERATOR(pg_catalog.=) s.rel
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND (n.nspname OPERATOR(pg_catalog.=) s.nsp
        OR (s.nsp IS NULL
            AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)))
 ORDER BY 1, 3
