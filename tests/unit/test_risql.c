/*
 * test_risql.c
 *	  RI's SQL builder: hostile names quoted, ONLY but for a partitioned
 *	  table, the FK's operators and casts, the parent's collation (always in
 *	  the exact style, only where the sides differ in the readable one),
 *	  MATCH SIMPLE and FULL NULL rules, the temporal containment test.
 *	  The SQL itself runs against servers in the integration tests; this
 *	  pins its text, case by case.
 */
#include "fkscan/risql.h"
#include "test.h"

static CatColumn
col(char *name, Oid collation, char *collation_name)
{
	CatColumn c;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.collation_oid = collation;
	c.collation_name = collation_name;
	return c;
}

int
main(void)
{
	CatTable	  tables[2];
	CatColumn	  child_cols[2] = {col("a\"b", 100, "\"pg_catalog\".\"C\""), col("x y", 0, NULL)};
	CatColumn	  parent_cols[2] = {col("id", 100, "\"pg_catalog\".\"C\""), col("n", 0, NULL)};
	char		 *eq_ops[2] = {"OPERATOR(pg_catalog.=)", "OPERATOR(public.=)"};
	char		 *parent_casts[2] = {"", ""};
	char		 *child_casts[2] = {"", "::pg_catalog.int8"};
	CatForeignKey fk;
	Catalog		  cat;
	RiConditions  q;
	StrBuf		  b;

	memset(tables, 0, sizeof(tables));
	tables[0].schema = "s'x";
	tables[0].name = "Child";
	tables[0].relkind = 'r';
	tables[1].schema = "public";
	tables[1].name = "par\"ent";
	tables[1].relkind = 'p';
	memset(&fk, 0, sizeof(fk));
	fk.child = 0;
	fk.parent = 1;
	fk.ncols = 2;
	fk.child_cols = child_cols;
	fk.parent_cols = parent_cols;
	fk.eq_ops = eq_ops;
	fk.parent_casts = parent_casts;
	fk.child_casts = child_casts;
	fk.match_type = 's';
	memset(&cat, 0, sizeof(cat));
	cat.tables = tables;
	cat.ntables = 2;
	cat.fks = &fk;
	cat.nfks = 1;

	strbuf_init(&b);
	risql_append_from(&b, &tables[0]);
	is_str(b.data, "ONLY \"s'x\".\"Child\"", "a plain table: ONLY, names quoted");
	strbuf_reset(&b);
	risql_append_from(&b, &tables[1]);
	is_str(b.data, "\"public\".\"par\"\"ent\"", "a partitioned table: no ONLY");

	strbuf_reset(&b);
	risql_append_join(&b, &fk, "c", NULL, RISQL_EXACT);
	is_str(b.data,
		   "p.\"id\" OPERATOR(pg_catalog.=) c.\"a\"\"b\" COLLATE \"pg_catalog\".\"C\" AND "
		   "p.\"n\" OPERATOR(public.=) c.\"x y\"::pg_catalog.int8",
		   "join, exact: the FK's operators, the child's cast, the parent's collation");
	strbuf_reset(&b);
	risql_append_join(&b, &fk, "c", NULL, RISQL_READABLE);
	is_str(b.data,
		   "p.\"id\" = c.\"a\"\"b\" AND p.\"n\" OPERATOR(public.=) c.\"x y\"::pg_catalog.int8",
		   "join, readable: pg_catalog's = bare, no COLLATE where the sides agree");
	child_cols[0].collation_oid = 950;
	strbuf_reset(&b);
	risql_append_join(&b, &fk, "c", NULL, RISQL_READABLE);
	ok(strstr(b.data, "c.\"a\"\"b\" COLLATE \"pg_catalog\".\"C\"") != NULL,
	   "join, readable: COLLATE where the sides' collations differ");
	{
		const char *names[2] = {"k1", "k2"};

		strbuf_reset(&b);
		risql_append_join(&b, &fk, "u", names, RISQL_EXACT);
		ok(strstr(b.data, "u.\"k1\" COLLATE") && strstr(b.data, "u.\"k2\"::pg_catalog.int8"),
		   "join on other child-side names");
	}

	risql_conditions(&cat, &fk, &q);
	is_str(q.exempt.data, "(c.\"a\"\"b\" IS NULL OR c.\"x y\" IS NULL)",
		   "MATCH SIMPLE: any NULL exempts");
	is_str(q.partial.data, "false", "MATCH SIMPLE: no mixed-NULL violation");
	is_str(
		q.orphan.data,
		"(c.\"a\"\"b\" IS NOT NULL AND c.\"x y\" IS NOT NULL) AND NOT EXISTS "
		"(SELECT FROM \"public\".\"par\"\"ent\" p WHERE p.\"id\" OPERATOR(pg_catalog.=) "
		"c.\"a\"\"b\" "
		"COLLATE \"pg_catalog\".\"C\" AND p.\"n\" OPERATOR(public.=) c.\"x y\"::pg_catalog.int8)",
		"orphan: a full key without a parent");
	is_str(q.keys.data, "c.\"a\"\"b\", c.\"x y\"", "keys");
	risql_conditions_free(&q);

	fk.match_type = 'f';
	risql_conditions(&cat, &fk, &q);
	is_str(q.exempt.data, "(c.\"a\"\"b\" IS NULL AND c.\"x y\" IS NULL)",
		   "MATCH FULL: only all NULL exempts");
	is_str(q.partial.data,
		   "((c.\"a\"\"b\" IS NULL OR c.\"x y\" IS NULL) AND NOT (c.\"a\"\"b\" IS NULL AND c.\"x "
		   "y\" IS NULL))",
		   "MATCH FULL: mixed NULLs violate");
	strbuf_reset(&b);
	risql_append_violation(&b, &cat, &fk);
	ok(strncmp(b.data, "(((c.", 5) == 0 && strstr(b.data, ") OR ((c.\"a\"\"b\" IS NULL OR") != NULL,
	   "violation: orphan OR mixed NULLs");
	risql_conditions_free(&q);

	/* 18's temporal FK: the period within the union of the parent periods */
	fk.period = true;
	fk.match_type = 's';
	eq_ops[1] = "OPERATOR(pg_catalog.&&)";
	child_casts[1] = "";
	strbuf_reset(&b);
	risql_append_no_parent(&b, &tables[1], &fk, RISQL_EXACT);
	is_str(b.data,
		   "NOT COALESCE((SELECT c.\"x y\" OPERATOR(pg_catalog.<@) pg_catalog.range_agg(p.\"n\") "
		   "FROM \"public\".\"par\"\"ent\" p WHERE p.\"id\" OPERATOR(pg_catalog.=) c.\"a\"\"b\" "
		   "COLLATE "
		   "\"pg_catalog\".\"C\" AND p.\"n\" OPERATOR(pg_catalog.&&) c.\"x y\"), false)",
		   "temporal, exact: range_agg containment, NULL (no parent) a miss");
	strbuf_reset(&b);
	risql_append_no_parent(&b, &tables[1], &fk, RISQL_READABLE);
	is_str(b.data,
		   "NOT COALESCE((SELECT c.\"x y\" <@ range_agg(p.\"n\") FROM \"public\".\"par\"\"ent\" p "
		   "WHERE p.\"id\" = c.\"a\"\"b\" COLLATE \"pg_catalog\".\"C\" AND p.\"n\" "
		   "OPERATOR(pg_catalog.&&) c.\"x y\"), false)",
		   "temporal, readable");
	strbuf_free(&b);
	return done_testing();
}
