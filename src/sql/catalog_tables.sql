-- catalog_tables.sql: the tables in $1 (oids; rows come in that order) and
-- the relations rows are read from: the table itself when it is not
-- partitioned, else its leaf partitions (pg_partition_tree ... isleaf).  A
-- partitioned table without partitions gives one row with NULL leaf columns.
--
-- Per leaf: pages = pg_relation_size / block_size, exact at snapshot time
-- without ANALYZE, and readable on a standby; reltuples and relpages for the
-- row estimate (catalog.c decides what "never analyzed" looks like on the
-- server's version); the table AM, because ctid ranges need heap; whether
-- the role may read ctid (column privileges on the keys alone do not give it);
-- whether it is larger than a quarter of shared_buffers (setting: buffers),
-- where a plain scan reads through a small ring (heapam.c initscan,
-- BAS_BULKREAD) and a ctid range scan through the whole buffer pool.
SELECT t.oid, tn.nspname, t.relname, t.relkind,
       l.oid, ln.nspname, l.relname, l.relpersistence,
       COALESCE(am.amname = 'heap', false),
       l.reltuples, l.relpages,
       sz.bytes, sz.pages,
       COALESCE(pg_catalog.has_column_privilege(l.oid, 'ctid', 'SELECT'), false),
       sz.pages > (SELECT s.setting::pg_catalog.int8 / 4
                     FROM pg_catalog.pg_settings s WHERE s.name = 'shared_buffers')
  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[])) WITH ORDINALITY AS f(oid, ord)
  JOIN pg_catalog.pg_class t ON t.oid = f.oid
  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
  LEFT JOIN LATERAL (
        SELECT t.oid AS relid
         WHERE t.relkind <> 'p'
      UNION ALL
        SELECT pt.relid
          FROM pg_catalog.pg_partition_tree(t.oid) AS pt
         WHERE t.relkind = 'p' AND pt.isleaf
  ) AS leaf ON true
  LEFT JOIN pg_catalog.pg_class l ON l.oid = leaf.relid
  LEFT JOIN pg_catalog.pg_namespace ln ON ln.oid = l.relnamespace
  LEFT JOIN pg_catalog.pg_am am ON am.oid = l.relam
  CROSS JOIN LATERAL (
        SELECT b.bytes,
               b.bytes / pg_catalog.current_setting('block_size')::pg_catalog.int8 AS pages
          FROM (SELECT COALESCE(pg_catalog.pg_relation_size(l.oid), 0) AS bytes) AS b
  ) AS sz
 ORDER BY f.ord, ln.nspname, l.relname
