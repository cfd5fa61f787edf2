-- catalog_fks.sql: every logical foreign key in scope, one row each.
--
-- A logical FK is a pg_constraint row with contype 'f' and conparentid 0;
-- its partition clones (conparentid chains, any depth) are only visited to
-- count the RI triggers they carry.  Filters come as parameters, regexes
-- made by pattern.c:
--   $1 schema includes (-n)      $2 schema excludes (-N)
--   $3/$4 table includes (-t): schema regex (NULL if unqualified), table regex
--   $5/$6 table excludes (-T): likewise
--   $7 constraint includes (-c)
--   $8-$12 undeclared relationships, one element each: name, child oid,
--          parent oid, match type, child attnums as an int2[] literal
-- An empty include array means "no filter".  catalog_unmatched.sql repeats
-- the scope (logical FKs, no system schemas, no other sessions' temp tables).
-- The last column is the relationship's position in $8 (1-based), 0 for a
-- declared FK.
--
-- @ENFORCED@ and @PERIOD@ are replaced in catalog.c by c.conenforced and
-- c.conperiod on PostgreSQL 18 and later, by true and false before.
WITH RECURSIVE con AS (
    SELECT c.oid, c.conname, c.conrelid, c.confrelid,
           c.confmatchtype, c.confupdtype, c.confdeltype,
           c.condeferrable, c.condeferred, c.convalidated,
           @ENFORCED@ AS enforced, @PERIOD@ AS period, c.conkey, 0 AS rel
      FROM pg_catalog.pg_constraint c
     WHERE c.contype = 'f'
       AND c.conparentid = 0
  UNION ALL
    -- undeclared relationships (relation.c resolved them): validated and
    -- enforced by nothing, so no RI trigger is expected
    SELECT 0, r.name::pg_catalog.name, r.child, r.parent, r.match, 'a', 'a',
           false, false, false, false, false, r.keys::pg_catalog.int2[], r.ord::pg_catalog.int4
      FROM ROWS FROM (pg_catalog.unnest($8::pg_catalog.text[]),
                      pg_catalog.unnest($9::pg_catalog.oid[]),
                      pg_catalog.unnest($10::pg_catalog.oid[]),
                      pg_catalog.unnest($11::pg_catalog."char"[]),
                      pg_catalog.unnest($12::pg_catalog.text[])) WITH ORDINALITY
           AS r(name, child, parent, match, keys, ord)
),
fk AS (
    SELECT c.oid, c.conname, n.nspname, ch.relname, c.conrelid, c.confrelid,
           c.confmatchtype, c.confupdtype, c.confdeltype,
           c.condeferrable, c.condeferred, c.convalidated,
           c.enforced, c.period, c.rel,
           pg_catalog.cardinality(c.conkey) AS ncols,
           EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                   WHERE i.indrelid = c.conrelid
                     AND i.indisvalid
                     AND i.indpred IS NULL
                     AND i.indnkeyatts >= pg_catalog.cardinality(c.conkey)
                     AND (i.indkey::pg_catalog.int2[])[0:pg_catalog.cardinality(c.conkey) - 1]
                         OPERATOR(pg_catalog.@>) c.conkey) AS index_covered
      FROM con c
      JOIN pg_catalog.pg_class ch ON ch.oid = c.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = ch.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
       AND (pg_catalog.cardinality($1::pg_catalog.text[]) = 0
            OR n.nspname OPERATOR(pg_catalog.~) ANY ($1::pg_catalog.text[]))
       AND NOT n.nspname OPERATOR(pg_catalog.~) ANY ($2::pg_catalog.text[])
       AND (pg_catalog.cardinality($4::pg_catalog.text[]) = 0
            OR EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.text[]),
                                                  pg_catalog.unnest($4::pg_catalog.text[])) AS p(s, r)
                       WHERE (p.s IS NULL OR n.nspname OPERATOR(pg_catalog.~) p.s)
                         AND ch.relname OPERATOR(pg_catalog.~) p.r))
       AND NOT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($5::pg_catalog.text[]),
                                                  pg_catalog.unnest($6::pg_catalog.text[])) AS p(s, r)
                       WHERE (p.s IS NULL OR n.nspname OPERATOR(pg_catalog.~) p.s)
                         AND ch.relname OPERATOR(pg_catalog.~) p.r)
       AND (pg_catalog.cardinality($7::pg_catalog.text[]) = 0
            OR c.conname OPERATOR(pg_catalog.~) ANY ($7::pg_catalog.text[]))
),
clone (root, con) AS (
    SELECT oid, oid FROM fk WHERE fk.rel = 0
  UNION ALL
    SELECT clone.root, c.oid
      FROM pg_catalog.pg_constraint c
      JOIN clone ON c.conparentid = clone.con
),
trig AS (
    SELECT clone.root,
           pg_catalog.count(*) AS triggers,
           pg_catalog.count(*) FILTER (WHERE t.tgenabled = 'D') AS disabled,
           pg_catalog.count(*) FILTER (WHERE t.tgenabled = 'R') AS replica,
           pg_catalog.string_agg(pg_catalog.format('%s.%s=%s', t.tgrelid::pg_catalog.regclass,
                                                   p.proname, t.tgenabled), ', '
                                 ORDER BY t.tgrelid::pg_catalog.regclass::pg_catalog.text,
                                          p.proname, t.tgname)
               FILTER (WHERE t.tgenabled <> 'O') AS detail
      FROM clone
      JOIN pg_catalog.pg_trigger t ON t.tgconstraint = clone.con
      JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
     GROUP BY clone.root
),
-- The RI triggers that must exist, by what fires, not by how a major lays
-- them out (14 puts 8 on a partitioned FK where 15 puts 12: 15 adds them
-- on the partitioned tables themselves, where they never fire for a row):
-- on every leaf of the child (itself when not partitioned) RI_FKey_check_ins
-- and _upd, on every leaf of the parent the action functions of
-- confdeltype/confupdtype, each carried by the FK or one of its clones.
-- A NOT ENFORCED FK (18) has none by design.  DETACH PARTITION before
-- 17.1/16.5/15.9/14.14/13.17 could leave an FK without some of them.
expected (root, relid, proname) AS (
    SELECT fk.oid, leaf.relid, f.proname
      FROM fk
     CROSS JOIN LATERAL (SELECT CASE fk.confdeltype WHEN 'a' THEN 'noaction' WHEN 'r' THEN 'restrict'
                               WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'setnull'
                               WHEN 'd' THEN 'setdefault' END,
                          CASE fk.confupdtype WHEN 'a' THEN 'noaction' WHEN 'r' THEN 'restrict'
                               WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'setnull'
                               WHEN 'd' THEN 'setdefault' END) AS a(del, upd)
     CROSS JOIN LATERAL (VALUES
            (fk.conrelid, 'RI_FKey_check_ins'),
            (fk.conrelid, 'RI_FKey_check_upd'),
            (fk.confrelid, 'RI_FKey_' OPERATOR(pg_catalog.||) a.del OPERATOR(pg_catalog.||) '_del'),
            (fk.confrelid, 'RI_FKey_' OPERATOR(pg_catalog.||) a.upd OPERATOR(pg_catalog.||) '_upd'))
            AS f(rel, proname)
     CROSS JOIN LATERAL (
            SELECT r.oid AS relid FROM pg_catalog.pg_class r
             WHERE r.oid = f.rel AND r.relkind <> 'p'
          UNION ALL
            SELECT pt.relid FROM pg_catalog.pg_partition_tree(f.rel) AS pt
             WHERE pt.isleaf
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_class r
                            WHERE r.oid = f.rel AND r.relkind = 'p')) AS leaf
     WHERE fk.enforced
),
missing AS (
    SELECT e.root,
           pg_catalog.count(*) AS missing,
           pg_catalog.string_agg(pg_catalog.format('%s.%s', e.relid::pg_catalog.regclass, e.proname),
                                 ', ' ORDER BY e.relid::pg_catalog.regclass::pg_catalog.text,
                                          e.proname) AS detail
      FROM expected e
     WHERE NOT EXISTS (SELECT 1
                         FROM clone
                         JOIN pg_catalog.pg_trigger t ON t.tgconstraint = clone.con
                         JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
                        WHERE clone.root = e.root
                          AND t.tgrelid = e.relid
                          AND p.proname = e.proname)
     GROUP BY e.root
)
SELECT fk.oid, fk.conname, fk.conrelid, fk.confrelid,
       fk.confmatchtype, fk.confupdtype, fk.confdeltype,
       fk.condeferrable, fk.condeferred, fk.convalidated, fk.enforced, fk.period,
       fk.ncols, fk.index_covered,
       COALESCE(trig.triggers, 0), COALESCE(trig.disabled, 0),
       COALESCE(trig.replica, 0), trig.detail,
       COALESCE(missing.missing, 0), missing.detail, fk.rel
  FROM fk
  LEFT JOIN trig ON trig.root = fk.oid
  LEFT JOIN missing ON missing.root = fk.oid
 ORDER BY fk.nspname, fk.relname, fk.conname
