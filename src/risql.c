/*
 * risql.c
 *	  RI's SQL, written once; see risql.h.
 */
#include "fkscan/risql.h"

#include <string.h>

#include "fkscan/pgconn.h"

void
risql_append_from(StrBuf *sql, const CatTable *t)
{
	if (t->relkind != 'p')
		strbuf_append(sql, "ONLY ");
	pgconn_append_relation(sql, t->schema, t->name);
}

void
risql_append_join(StrBuf *sql, const CatForeignKey *fk, const char *alias,
				  const char *const *child_names, RiSqlStyle style)
{
	for (int i = 0; i < fk->ncols; i++)
	{
		const CatColumn *pc = &fk->parent_cols[i];
		const CatColumn *cc = &fk->child_cols[i];
		const char		*op = fk->eq_ops[i];

		if (i)
			strbuf_append(sql, " AND ");
		pgconn_append_ident(sql, "p", pc->name);
		/* pg_catalog is searched first: its = needs no qualification */
		if (style == RISQL_READABLE && strcmp(op, "OPERATOR(pg_catalog.=)") == 0)
			op = "=";
		strbuf_appendf(sql, "%s %s ", fk->parent_casts[i], op);
		pgconn_append_ident(sql, alias, child_names ? child_names[i] : cc->name);
		strbuf_append(sql, fk->child_casts[i]);
		/* the parent column's collation decides, as in RI_Initial_Check */
		if (pc->collation_name && (style == RISQL_EXACT || pc->collation_oid != cc->collation_oid))
			strbuf_appendf(sql, " COLLATE %s", pc->collation_name);
	}
}

void
risql_append_no_parent(StrBuf *sql, const CatTable *parent, const CatForeignKey *fk,
					   RiSqlStyle style)
{
	bool exact = style == RISQL_EXACT;

	if (fk->period)
	{
		/*
		 * PostgreSQL 18's temporal FK: RI_FKey_check's test, not VALIDATE's
		 * (18.4's VALIDATE joins on the period's && and passes a partly
		 * covered row).  The period (the last column; its conpfeqop is &&)
		 * must lie within the union of the overlapping parent periods of
		 * its key: "$n <@ range_agg(x1.r)", no parent row being a miss.
		 */
		strbuf_append(sql, "NOT COALESCE((SELECT ");
		pgconn_append_ident(sql, "c", fk->child_cols[fk->ncols - 1].name);
		strbuf_append(sql,
					  exact ? " OPERATOR(pg_catalog.<@) pg_catalog.range_agg(" : " <@ range_agg(");
		pgconn_append_ident(sql, "p", fk->parent_cols[fk->ncols - 1].name);
		strbuf_append(sql, ") FROM ");
	}
	else
		strbuf_append(sql, "NOT EXISTS (SELECT FROM ");
	risql_append_from(sql, parent);
	strbuf_append(sql, " p WHERE ");
	risql_append_join(sql, fk, "c", NULL, style);
	strbuf_append(sql, fk->period ? "), false)" : ")");
}

void
risql_conditions(const Catalog *cat, const CatForeignKey *fk, RiConditions *q)
{
	StrBuf not_null, any_null, all_null;

	strbuf_init(&not_null);
	strbuf_init(&any_null);
	strbuf_init(&all_null);
	strbuf_init(&q->exempt);
	strbuf_init(&q->partial);
	strbuf_init(&q->orphan);
	strbuf_init(&q->keys);
	for (int i = 0; i < fk->ncols; i++)
	{
		const char *name = fk->child_cols[i].name;

		strbuf_append(&not_null, i ? " AND " : "");
		pgconn_append_ident(&not_null, "c", name);
		strbuf_append(&not_null, " IS NOT NULL");
		strbuf_append(&all_null, i ? " AND " : "");
		pgconn_append_ident(&all_null, "c", name);
		strbuf_append(&all_null, " IS NULL");
		strbuf_append(&any_null, i ? " OR " : "");
		pgconn_append_ident(&any_null, "c", name);
		strbuf_append(&any_null, " IS NULL");
		strbuf_append(&q->keys, i ? ", " : "");
		pgconn_append_ident(&q->keys, "c", name);
	}
	if (fk->match_type == 'f')
	{
		strbuf_appendf(&q->exempt, "(%s)", all_null.data);
		strbuf_appendf(&q->partial, "((%s) AND NOT (%s))", any_null.data, all_null.data);
	}
	else
	{
		strbuf_appendf(&q->exempt, "(%s)", any_null.data);
		strbuf_append(&q->partial, "false");
	}
	strbuf_appendf(&q->orphan, "(%s) AND ", not_null.data);
	risql_append_no_parent(&q->orphan, &cat->tables[fk->parent], fk, RISQL_EXACT);
	strbuf_free(&not_null);
	strbuf_free(&any_null);
	strbuf_free(&all_null);
}

void
risql_conditions_free(RiConditions *q)
{
	strbuf_free(&q->exempt);
	strbuf_free(&q->partial);
	strbuf_free(&q->orphan);
	strbuf_free(&q->keys);
}

void
risql_append_violation(StrBuf *sql, const Catalog *cat, const CatForeignKey *fk)
{
	RiConditions q;

	risql_conditions(cat, fk, &q);
	strbuf_appendf(sql, "((%s) OR %s)", q.orphan.data, q.partial.data);
	risql_conditions_free(&q);
}
