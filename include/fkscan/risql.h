/*
 * risql.h
 *	  RI's SQL, written once: what the server's RI_Initial_Check and
 *	  RI_FKey_check ask, for the server-side anti-join, the confirmation
 *	  of candidates, every repair statement, validate's re-check and the
 *	  query the report suggests.
 *
 * FROM ONLY except for a partitioned table; the FK's conpfeqop operators
 * with RI's casts to their input types; the parent column's collation
 * deciding; MATCH SIMPLE exempts a key with any NULL, MATCH FULL only an
 * all-NULL one (a mixed key violates); a temporal FK (18) needs its period
 * within the union of its key's parent periods (RI_FKey_check's range_agg
 * test, not VALIDATE's &&).  The child is alias "c", the parent "p".
 */
#ifndef FKSCAN_RISQL_H
#define FKSCAN_RISQL_H

#include "fkscan/catalog.h"
#include "fkscan/strbuf.h"

/*
 * EXACT for what fkscan runs (every operator and function qualified);
 * READABLE for what a person runs in psql: OPERATOR(pg_catalog.=) as =, and
 * COLLATE only where the sides' collations differ (where it changes nothing
 * it is left out).  Both mean the same.
 */
typedef enum RiSqlStyle
{
	RISQL_EXACT,
	RISQL_READABLE
} RiSqlStyle;

/* "[ONLY] schema.table" */
void risql_append_from(StrBuf *sql, const CatTable *t);

/*
 * "p.a OPERATOR(s.=) <alias>.<name>[::type] [COLLATE c] AND ...": RI's join.
 * child_names: the child-side expressions' names (the child's columns if NULL).
 */
void risql_append_join(StrBuf *sql, const CatForeignKey *fk, const char *alias,
					   const char *const *child_names, RiSqlStyle style);

/* "NOT EXISTS (SELECT FROM parent p WHERE join)", or the temporal test. */
void risql_append_no_parent(StrBuf *sql, const CatTable *parent, const CatForeignKey *fk,
							RiSqlStyle style);

/*
 * The child-row conditions on alias "c": exempt (NULLs the MATCH rule lets
 * pass), partial (MATCH FULL's mixed NULLs; "false" otherwise), orphan (a
 * full key without a parent), keys ("c.a, c.b").
 */
typedef struct RiConditions
{
	StrBuf exempt;
	StrBuf partial;
	StrBuf orphan;
	StrBuf keys;
} RiConditions;

void risql_conditions(const Catalog *cat, const CatForeignKey *fk, RiConditions *q);
void risql_conditions_free(RiConditions *q);

/* The condition that a child row "c" violates the FK: orphan OR partial. */
void risql_append_violation(StrBuf *sql, const Catalog *cat, const CatForeignKey *fk);

#endif /* FKSCAN_RISQL_H */
