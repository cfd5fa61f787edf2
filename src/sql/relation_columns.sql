-- relation_columns.sql: how ADD FOREIGN KEY would implement an undeclared
-- relationship from child $1 (columns $3) to parent $2 (columns $4), one
-- row per column pair in order (tablecmds.c, ATAddForeignKeyConstraint and
-- transformFkeyCheckAttrs):
--   - the parent's unique index on exactly these columns, in any order
--     (lowest oid first; valid, immediate, no predicate, no expressions);
--     its operator class of each column, or without such an index the
--     parent type's default btree class (exact type first, then one the
--     type is binary-coercible to, preferred types first);
--   - in that class's family, the equality operator (btree strategy 3)
--     for (class type, child type) if the family also has one for (child
--     type, child type); else the class's own operator when both column
--     types coerce to the class type implicitly; else none.
-- Returns pos, child attnum, parent attnum (NULL: no such column), both
-- types as format_type, the operator class (NULL: none), the operator
-- (NULL: none), and the index's schema and name (NULL: none).
WITH RECURSIVE col AS (
    SELECT k.pos, ca.attnum AS ck, ca.atttypid AS ct, pa.attnum AS pk, pa.atttypid AS pt
      FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.text[]),
                      pg_catalog.unnest($4::pg_catalog.text[])) WITH ORDINALITY AS k(cn, pn, pos)
      LEFT JOIN pg_catalog.pg_attribute ca
             ON ca.attrelid = $1::pg_catalog.oid AND ca.attname OPERATOR(pg_catalog.=) k.cn
            AND ca.attnum > 0 AND NOT ca.attisdropped
      LEFT JOIN pg_catalog.pg_attribute pa
             ON pa.attrelid = $2::pg_catalog.oid AND pa.attname OPERATOR(pg_catalog.=) k.pn
            AND pa.attnum > 0 AND NOT pa.attisdropped
),
-- domains resolved to their base type, through any depth
walk (typ, cur) AS (
    SELECT t, t FROM (SELECT ct FROM col UNION SELECT pt FROM col) AS x(t) WHERE t IS NOT NULL
  UNION ALL
    SELECT w.typ, ty.typbasetype
      FROM walk w JOIN pg_catalog.pg_type ty ON ty.oid = w.cur
     WHERE ty.typtype = 'd'
),
base (typ, base) AS (
    SELECT w.typ, w.cur FROM walk w JOIN pg_catalog.pg_type ty ON ty.oid = w.cur
     WHERE ty.typtype <> 'd'
),
-- the polymorphic types an operator class may take each base type as
poly (base, target) AS (
    SELECT b.base, it.oid
      FROM base b
      JOIN pg_catalog.pg_type bt ON bt.oid = b.base
      JOIN pg_catalog.pg_type it
        ON it.typtype = 'p'
       AND ((it.typname = 'anyenum' AND bt.typtype = 'e')
            OR (it.typname = 'anyarray' AND bt.typcategory = 'A')
            OR (it.typname = 'anyrange' AND bt.typtype = 'r')
            OR (it.typname = 'anymultirange' AND bt.typtype = 'm')
            OR (it.typname = 'record' AND bt.typtype = 'c'))
),
idx AS (
    SELECT i.indexrelid, i.indnkeyatts, i.indkey::pg_catalog.int2[] AS keys,
           i.indclass::pg_catalog.oid[] AS classes
      FROM pg_catalog.pg_index i
     WHERE i.indrelid = $2::pg_catalog.oid
       AND i.indisunique AND i.indimmediate AND i.indisvalid
       AND i.indpred IS NULL AND i.indexprs IS NULL
       AND i.indnkeyatts = (SELECT pg_catalog.count(*) FROM col)
       AND (i.indkey::pg_catalog.int2[])[0:i.indnkeyatts - 1]
           OPERATOR(pg_catalog.@>) ARRAY(SELECT pk FROM col)
       AND (i.indkey::pg_catalog.int2[])[0:i.indnkeyatts - 1]
           OPERATOR(pg_catalog.<@) ARRAY(SELECT pk FROM col)
     ORDER BY i.indexrelid
     LIMIT 1
),
-- each parent column's operator class: the index's, else its type's default
opc AS (
    SELECT col.pos,
           COALESCE((SELECT idx.classes[s] FROM idx, pg_catalog.generate_subscripts(idx.keys, 1) AS s
                      WHERE s < idx.indnkeyatts AND idx.keys[s] = col.pk),
                    (SELECT oc.oid
                       FROM pg_catalog.pg_opclass oc
                       JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
                       JOIN pg_catalog.pg_type it ON it.oid = oc.opcintype
                      WHERE am.amname = 'btree' AND oc.opcdefault
                        AND (oc.opcintype = pb.base
                             OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast k
                                         WHERE k.castsource = pb.base AND k.casttarget = oc.opcintype
                                           AND k.castmethod = 'b')
                             OR EXISTS (SELECT 1 FROM poly
                                         WHERE poly.base = pb.base AND poly.target = oc.opcintype))
                      ORDER BY oc.opcintype = pb.base DESC, it.typispreferred DESC
                      LIMIT 1)) AS class
      FROM col
      LEFT JOIN base pb ON pb.typ = col.pt
),
-- may each column's type (and base type) reach the class's type implicitly?
coerce (pos, typ, ok) AS (
    SELECT col.pos, t.typ,
           t.typ = oc.opcintype OR b.base = oc.opcintype
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast k
                       WHERE k.castsource IN (t.typ, b.base) AND k.casttarget = oc.opcintype
                         AND k.castcontext = 'i')
           OR EXISTS (SELECT 1 FROM poly
                       WHERE poly.base = b.base AND poly.target = oc.opcintype)
      FROM col
      JOIN opc ON opc.pos = col.pos
      JOIN pg_catalog.pg_opclass oc ON oc.oid = opc.class
      CROSS JOIN LATERAL (VALUES (col.ct), (col.pt)) AS t(typ)
      LEFT JOIN base b ON b.typ = t.typ
)
SELECT col.pos, col.ck, col.pk,
       pg_catalog.format_type(col.ct, NULL), pg_catalog.format_type(col.pt, NULL),
       opc.class,
       CASE WHEN pf.amopopr IS NOT NULL AND ff.amopopr IS NOT NULL THEN pf.amopopr
            WHEN (SELECT pg_catalog.bool_and(c.ok) FROM coerce c WHERE c.pos = col.pos)
            THEN pp.amopopr END,
       (SELECT n.nspname FROM idx JOIN pg_catalog.pg_class r ON r.oid = idx.indexrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace),
       (SELECT r.relname FROM idx JOIN pg_catalog.pg_class r ON r.oid = idx.indexrelid)
  FROM col
  LEFT JOIN opc ON opc.pos = col.pos
  LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = opc.class
  LEFT JOIN base cb ON cb.typ = col.ct
  LEFT JOIN pg_catalog.pg_amop pf
         ON pf.amopfamily = oc.opcfamily AND pf.amoplefttype = oc.opcintype
        AND pf.amoprighttype = cb.base AND pf.amopstrategy = 3
  LEFT JOIN pg_catalog.pg_amop ff
         ON ff.amopfamily = oc.opcfamily AND ff.amoplefttype = cb.base
        AND ff.amoprighttype = cb.base AND ff.amopstrategy = 3
  LEFT JOIN pg_catalog.pg_amop pp
         ON pp.amopfamily = oc.opcfamily AND pp.amoplefttype = oc.opcintype
        AND pp.amoprighttype = oc.opcintype AND pp.amopstrategy = 3
 ORDER BY col.pos
