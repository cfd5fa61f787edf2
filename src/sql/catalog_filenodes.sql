-- catalog_filenodes.sql: the file each relation in $1 (oids) is stored in,
-- in the order of $1.  Read once the tables are locked, so that no rewrite
-- (VACUUM FULL, CLUSTER, TRUNCATE, ALTER TYPE) can change it during the
-- scan; a --state chunk record carries it, and a resumed run reuses a
-- recorded page range only in the same file.
SELECT COALESCE(pg_catalog.pg_relation_filenode(f.oid), 0)
  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[])) WITH ORDINALITY AS f(oid, ord)
 ORDER BY f.ord
