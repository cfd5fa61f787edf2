-- catalog_fk_columns.sql: the column pairs of each FK, in conkey/confkey
-- order, for the FK oids in $1 (0 for an undeclared relationship, whose
-- pairs come in $2-$8 as relation.c resolved them: the FK's position in $1,
-- pair position, child oid, child attnum, parent oid, parent attnum,
-- operator).  Rows come in the order of $1 (its 1-based position first),
-- then by pair position.  Per side: name, attnum, type, base type (domains resolved
-- through any depth), format_type, collation and whether it is
-- deterministic, NOT NULL, generated.  Last, the FK's PK = FK operator
-- (conpfeqop) as OPERATOR(schema.op) text, and the casts RI's
-- ri_GenerateQual puts on each side when a column's type is not the
-- operator's input type (text -> char(n) compares as bpchar), or '';
-- whether each side's base type is an enum; and the operator's input type
-- on each side (oprright for the FK side, oprleft for the PK side), which
-- decides which blanks count (char(n) -> text compares as text).
WITH RECURSIVE domain_base (typ, base) AS (
    SELECT t.oid, t.typbasetype
      FROM pg_catalog.pg_type t
     WHERE t.typtype = 'd'
  UNION ALL
    SELECT d.typ, t.typbasetype
      FROM domain_base d
      JOIN pg_catalog.pg_type t ON t.oid = d.base
     WHERE t.typtype = 'd'
),
base_type (typ, base) AS (
    SELECT typ, base FROM domain_base
     WHERE base NOT IN (SELECT oid FROM pg_catalog.pg_type WHERE typtype = 'd')
),
pair (ord, pos, conrelid, ck, confrelid, pk, eqop) AS (
    SELECT f.ord, k.pos, c.conrelid, k.ck, c.confrelid, k.pk, k.eqop
      FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[])) WITH ORDINALITY AS f(oid, ord)
      JOIN pg_catalog.pg_constraint c ON c.oid = f.oid
     CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(c.conkey),
                                   pg_catalog.unnest(c.confkey),
                                   pg_catalog.unnest(c.conpfeqop)) WITH ORDINALITY AS k(ck, pk, eqop, pos)
  UNION ALL
    SELECT * FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.int8[]),
                             pg_catalog.unnest($3::pg_catalog.int8[]),
                             pg_catalog.unnest($4::pg_catalog.oid[]),
                             pg_catalog.unnest($5::pg_catalog.int2[]),
                             pg_catalog.unnest($6::pg_catalog.oid[]),
                             pg_catalog.unnest($7::pg_catalog.int2[]),
                             pg_catalog.unnest($8::pg_catalog.oid[]))
)
SELECT k.ord, k.pos,
       ca.attname, ca.attnum, ca.atttypid, COALESCE(cb.base, ca.atttypid),
       pg_catalog.format_type(ca.atttypid, ca.atttypmod),
       ca.attcollation, ccn.nspname, cco.collname, COALESCE(cco.collisdeterministic, true),
       ca.attnotnull, ca.attgenerated <> '',
       pa.attname, pa.attnum, pa.atttypid, COALESCE(pb.base, pa.atttypid),
       pg_catalog.format_type(pa.atttypid, pa.atttypmod),
       pa.attcollation, pcn.nspname, pco.collname, COALESCE(pco.collisdeterministic, true),
       pa.attnotnull, pa.attgenerated <> '',
       pg_catalog.format('OPERATOR(%I.%s)', opn.nspname, op.oprname),
       CASE WHEN pa.atttypid = op.oprleft THEN ''
            ELSE pg_catalog.format('::%I.%I', ltn.nspname, lt.typname) END,
       CASE WHEN ca.atttypid = op.oprright THEN ''
            ELSE pg_catalog.format('::%I.%I', rtn.nspname, rt.typname) END,
       (SELECT t.typtype = 'e' FROM pg_catalog.pg_type t
         WHERE t.oid = COALESCE(cb.base, ca.atttypid)),
       (SELECT t.typtype = 'e' FROM pg_catalog.pg_type t
         WHERE t.oid = COALESCE(pb.base, pa.atttypid)),
       op.oprright, op.oprleft
  FROM pair k
  JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = k.ck
  JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.pk
  JOIN pg_catalog.pg_operator op ON op.oid = k.eqop
  JOIN pg_catalog.pg_namespace opn ON opn.oid = op.oprnamespace
  JOIN pg_catalog.pg_type lt ON lt.oid = op.oprleft
  JOIN pg_catalog.pg_namespace ltn ON ltn.oid = lt.typnamespace
  JOIN pg_catalog.pg_type rt ON rt.oid = op.oprright
  JOIN pg_catalog.pg_namespace rtn ON rtn.oid = rt.typnamespace
  LEFT JOIN base_type cb ON cb.typ = ca.atttypid
  LEFT JOIN base_type pb ON pb.typ = pa.atttypid
  LEFT JOIN pg_catalog.pg_collation cco ON cco.oid = ca.attcollation
  LEFT JOIN pg_catalog.pg_namespace ccn ON ccn.oid = cco.collnamespace
  LEFT JOIN pg_catalog.pg_collation pco ON pco.oid = pa.attcollation
  LEFT JOIN pg_catalog.pg_namespace pcn ON pcn.oid = pco.collnamespace
 ORDER BY k.ord, k.pos
