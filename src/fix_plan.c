/*
 * fix_plan.c
 *	  A repair's steps: what each table allows, and the statements that
 *	  delete, nullify or backfill exactly the rows the scan found
 */
#include "fkscan/fixsteps.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/quote.h"
#include "fkscan/report.h"
#include "fkscan/risql.h"
#include "fkscan/strbuf.h"
#include "fkscan/texttable.h"

/* Types whose "=" is pg_catalog's: below FirstNormalObjectId, and enums. */
#define FIRST_NORMAL_OID 16384

FixStep *
add_step(Fix *f, StepKind kind, char *sql)
{
	FixStep *st;

	fk_array_grow((void **) &f->steps, &f->capsteps, f->nsteps + 1, sizeof(FixStep));
	st = &f->steps[f->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->sql = sql;
	st->expect = -1;
	return st;
}

static FixStep *add_stepf(Fix *f, StepKind kind, const char *fmt, ...) FK_PRINTF(3, 4);

static FixStep *
add_stepf(Fix *f, StepKind kind, const char *fmt, ...)
{
	va_list ap;
	char   *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
	{
		log_error("out of memory");
		exit(FK_EXIT_ERROR);
	}
	return add_step(f, kind, s);
}

/*
 * "This row version is not in the scan's snapshot": c.xmin, neither frozen
 * nor this transaction's, is not visible to it.  The 32-bit xmin becomes an
 * xid8 relative to this transaction's own (signed distance, as age() does).
 * A count check alone is fooled by compensating changes (a late orphan row
 * with an old key, another orphan fixed): this makes the check row-exact.
 */
static void
append_unseen(StrBuf *b, const char *snapshot)
{
	const char *x = "pg_catalog.pg_current_xact_id()::pg_catalog.text::pg_catalog.int8";

	strbuf_appendf(
		b,
		"(c.xmin::pg_catalog.text::pg_catalog.int8 >= 3"
		" AND c.xmin::pg_catalog.text::pg_catalog.int8 <> %s %% 4294967296"
		" AND NOT pg_catalog.pg_visible_in_snapshot((%s - ((%s %% 4294967296"
		" - c.xmin::pg_catalog.text::pg_catalog.int8 + 6442450944) %% 4294967296"
		" - 2147483648))::pg_catalog.text::pg_catalog.xid8, '%s'::pg_catalog.pg_snapshot))",
		x, x, x, snapshot);
}

/* ---- what the repair needs to know about the tables ---- */

static bool
name_row(void *ctx, const PGresult *res, int row)
{
	stringlist_append(ctx, PQgetvalue(res, row, 0));
	return true;
}

/* Column names of relation oid by a query with $1 = oid (and $2). */
static bool
fetch_names(PgConn *c, const char *sql, Oid oid, const char *p2, char ***out, int *n)
{
	char		oidtext[16];
	const char *params[2] = {oidtext, p2};
	StringList	l = {0};

	snprintf(oidtext, sizeof(oidtext), "%u", oid);
	if (!pgconn_exec(c, sql, p2 ? 2 : 1, params, name_row, &l))
	{
		stringlist_reset(&l);
		return false;
	}
	*out = l.items;
	*n = l.n;
	return true;
}

static const char sql_columns[] = "SELECT a.attname FROM pg_catalog.pg_attribute a "
								  "WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
								  "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped "
								  "AND a.attgenerated OPERATOR(pg_catalog.=) '' ORDER BY a.attnum";

static const char sql_primary_key[] =
	"SELECT a.attname FROM pg_catalog.pg_index i "
	"JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
	"AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[]) "
	"WHERE i.indrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND i.indisprimary "
	"ORDER BY pg_catalog.array_position(i.indkey::pg_catalog.int2[], a.attnum)";

/* NOT NULL parent columns outside the key that nothing fills in */
static const char sql_needs_value[] =
	"SELECT a.attname FROM pg_catalog.pg_attribute a "
	"WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
	"AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped AND a.attnotnull "
	"AND NOT a.atthasdef AND a.attidentity OPERATOR(pg_catalog.=) '' "
	"AND a.attgenerated OPERATOR(pg_catalog.=) '' "
	"AND a.attname OPERATOR(pg_catalog.<>) ALL ($2::pg_catalog.text[]) ORDER BY a.attnum";

/* "{"a","b"}": names as a text[] literal, for a parameter */
static char *
names_array(const CatColumn *cols, int n, const StringList *more)
{
	StrBuf b;

	strbuf_init(&b);
	strbuf_append_char(&b, '{');
	for (int i = 0; i < n + (more ? more->n : 0); i++)
	{
		const char *name = i < n ? cols[i].name : more->items[i - n];
		size_t		len = i < n ? strlen(name) : strcspn(name, "=");

		strbuf_append(&b, i ? ",\"" : "\"");
		for (size_t j = 0; j < len; j++)
		{
			if (name[j] == '"' || name[j] == '\\')
				strbuf_append_char(&b, '\\');
			strbuf_append_char(&b, name[j]);
		}
		strbuf_append_char(&b, '"');
	}
	strbuf_append_char(&b, '}');
	return strbuf_take(&b);
}

static char *
table_name(const CatTable *t)
{
	return report_qualified_name(t->schema, t->name);
}

/* delete: nothing that blocks or cascades unasked; the columns to back up. */
static bool
check_delete(Fix *f, FixFk *x, const char *child)
{
	const FkResult		*r = x->r;
	const CatForeignKey *fk = r->fk;
	bool				 ok = true;

	for (int i = 0, blocked = 0, cascades = 0; i < r->ncascade; i++)
	{
		const CascadeStep *st = &r->cascade[i];
		char			  *t = table_name(st->table);
		StrBuf			   n;

		strbuf_init(&n);
		strbuf_append_count(&n, st->rows, "row", "rows");
		if (st->error)
		{
			log_error("%s on %s: cannot delete: what it would reach in %s could not be counted",
					  fk->name, child, t);
			log_detail("%s", st->error);
			ok = false;
		}
		else if (st->rows > 0 && (st->action == 'a' || st->action == 'r'))
		{
			log_error(
				"%s on %s: cannot delete: %s of %s (%s, ON DELETE %s) reference%s the orphan rows",
				fk->name, child, n.data, t, st->via->name, catalog_action_name(st->action),
				st->rows == 1 ? "s" : "");
			/* one hint for all the dependents */
			if (blocked++ == 0)
				log_hint("Fix those rows first, or use --strategy nullify or backfill.");
			ok = false;
		}
		else if (st->rows > 0 && !f->opt->repair.cascade)
		{
			log_error("%s on %s: deleting the orphan rows would %s %s of %s (%s, ON DELETE %s)",
					  fk->name, child, st->action == 'c' ? "also delete" : "update", n.data, t,
					  st->via->name, catalog_action_name(st->action));
			if (cascades++ == 0)
				log_hint("Add --cascade to allow it (those rows are not in the backup).");
			ok = false;
		}
		strbuf_free(&n);
		free(t);
	}
	return ok && fetch_names(f->wc, sql_columns, r->child->oid, NULL, &x->cols, &x->ncols);
}

bool
fix_deletes(const Fix *f)
{
	return f->opt->repair.strategy == STRATEGY_DELETE ||
		   f->opt->repair.strategy == STRATEGY_QUARANTINE;
}

/* A table's columns: name and format_type, "" kind when there is no such table. */
typedef struct TableColumns
{
	char	   kind;
	StringList names;
	StringList types;
} TableColumns;

static bool
table_column_row(void *ctx, const PGresult *res, int row)
{
	TableColumns *t = ctx;

	t->kind = PQgetvalue(res, row, 0)[0];
	if (!PQgetisnull(res, row, 1))
	{
		stringlist_append(&t->names, PQgetvalue(res, row, 1));
		stringlist_append(&t->types, PQgetvalue(res, row, 2));
	}
	return true;
}

static bool
fetch_table_columns(PgConn *c, const char *schema, const char *name, TableColumns *t)
{
	const char *params[2] = {schema, name};

	memset(t, 0, sizeof(*t));
	return pgconn_exec(
		c,
		"SELECT c.relkind, a.attname, "
		"pg_catalog.format_type(a.atttypid, a.atttypmod) "
		"FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
		"LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid "
		"AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped "
		"WHERE n.nspname OPERATOR(pg_catalog.=) $1 "
		"AND c.relname OPERATOR(pg_catalog.=) $2 ORDER BY a.attnum",
		2, params, table_column_row, t);
}

static void
table_columns_reset(TableColumns *t)
{
	stringlist_reset(&t->names);
	stringlist_reset(&t->types);
}

/* The type of column name in t, or NULL. */
static const char *
column_type(const TableColumns *t, const char *name)
{
	for (int i = 0; i < t->names.n; i++)
		if (strcmp(t->names.items[i], name) == 0)
			return t->types.items[i];
	return NULL;
}

/* The columns a quarantine table adds to the child's, with their types. */
static const char *const quarantine_extra[][2] = {
	{"fkscan_constraint", "text"},
	{"fkscan_scanned_at", "timestamp with time zone"},
	{"fkscan_key", "jsonb"},
	{"fkscan_run", "text"},
};

/*
 * quarantine: as delete, and a quarantine table that fits: missing (it is
 * created like the child, plus the fkscan_ columns), or holding every
 * column the rows bring with the same type, and the fkscan_ columns.
 */
static bool
check_quarantine(Fix *f, FixFk *x, const char *child)
{
	const FkResult *r = x->r;
	char		   *schema = NULL, *name = NULL;
	TableColumns	q, c;
	StrBuf			b;
	bool			ok;

	if (!check_delete(f, x, child))
		return false;
	if (f->run[0] == '\0')
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(f->run, sizeof(f->run), "%llx-%lx-%d", (long long) now.tv_sec, (long) now.tv_nsec,
				 (int) getpid());
	}
	if (f->opt->repair.quarantine_table)
	{
		if (!relation_parse_table(f->opt->repair.quarantine_table, &schema, &name))
		{
			log_error("invalid value \"%s\" for option --quarantine-table",
					  f->opt->repair.quarantine_table);
			log_detail("Give a table name, SCHEMA.NAME, as in SQL.");
			return false;
		}
		if (schema == NULL)
			schema = fk_strdup(r->child->schema);
	}
	else
	{
		/* CHILD_quarantine, shortened to fit a name */
		size_t len = quote_clip_name(r->child->name, 63 - strlen("_quarantine"));

		schema = fk_strdup(r->child->schema);
		strbuf_init(&b);
		strbuf_append_len(&b, r->child->name, len);
		strbuf_append(&b, "_quarantine");
		name = strbuf_take(&b);
	}
	strbuf_init(&b);
	pgconn_append_relation(&b, schema, name);
	x->quarantine = strbuf_take(&b);
	ok = fetch_table_columns(f->wc, schema, name, &q) &&
		 fetch_table_columns(f->wc, r->child->schema, r->child->name, &c);
	for (int i = 0; ok && q.kind != '\0' && i < x->ncols + (int) FK_LENGTHOF(quarantine_extra); i++)
	{
		const char *col = i < x->ncols ? x->cols[i] : quarantine_extra[i - x->ncols][0];
		const char *want = i < x->ncols ? column_type(&c, col) : quarantine_extra[i - x->ncols][1];
		const char *got = column_type(&q, col);

		if (q.kind != 'r' && q.kind != 'p')
		{
			log_error("%s on %s: quarantine table %s is not a table", r->fk->name, child,
					  x->quarantine);
			ok = false;
		}
		else if (got == NULL || want == NULL || strcmp(got, want) != 0)
		{
			log_error("%s on %s: quarantine table %s does not fit: column \"%s\" %s%s%s",
					  r->fk->name, child, x->quarantine, col, got ? "has type " : "is missing",
					  got ? got : "", got ? "" : "");
			if (got)
				log_detail("The rows bring type %s.", want ? want : "?");
			log_hint("Name another table with --quarantine-table, or let fkscan create one.");
			ok = false;
		}
	}
	table_columns_reset(&q);
	table_columns_reset(&c);
	free(schema);
	free(name);
	return ok;
}

/* nullify: the key columns that may become NULL; the primary key to back up by. */
static bool
check_nullify(Fix *f, FixFk *x, const char *child)
{
	const FkResult		*r = x->r;
	const CatForeignKey *fk = r->fk;
	bool				 ok = true;
	int					 n = 0;

	x->nullify = fk_calloc((size_t) fk->ncols, sizeof(bool));
	for (int i = 0; i < fk->ncols; i++)
	{
		const CatColumn *c = &fk->child_cols[i];

		x->nullify[i] = !c->not_null && !c->generated;
		n += x->nullify[i];
		/* MATCH FULL: a key is exempt only when all of it is NULL */
		if (!x->nullify[i] && (fk->match_type == 'f' || fk->ncols == 1))
		{
			log_error("%s on %s: cannot set column %s to NULL: it is %s", fk->name, child, c->name,
					  c->generated ? "a generated column" : "NOT NULL");
			if (fk->match_type == 'f' && fk->ncols > 1)
				log_detail("Under MATCH FULL every key column must become NULL.");
			log_hint("Use --strategy delete or backfill.");
			ok = false;
			break;
		}
	}
	if (ok && n == 0)
	{
		log_error("%s on %s: cannot set the key to NULL: no column of it may be NULL", fk->name,
				  child);
		ok = false;
	}
	if (ok)
		ok = fetch_names(f->wc, sql_primary_key, r->child->oid, NULL, &x->pk, &x->npk);
	if (ok && x->npk == 0)
	{
		log_error("%s on %s: cannot nullify: the table has no primary key", fk->name, child);
		log_detail("The backup must name each row to restore its old values.");
		ok = false;
	}
	return ok;
}

/* backfill: a stub row can be made for every missing key. */
static bool
check_backfill(Fix *f, FixFk *x, const char *child)
{
	const FkResult		*r = x->r;
	const CatForeignKey *fk = r->fk;
	bool				 ok = true;
	char  *given = names_array(fk->parent_cols, fk->ncols, &f->opt->repair.set_values);
	char **missing = NULL;
	int	   nmissing = 0;
	char  *parent = table_name(r->parent);

	if (fk->period)
	{
		/* a stub would need periods filling the gaps between the parent's */
		log_error("%s on %s: cannot insert stub rows for a PERIOD foreign key", fk->name, child);
		log_detail("A child's period must be covered by its key's parent periods; a stub row "
				   "cannot know which part is missing.");
		log_hint("Use --strategy delete or nullify, or extend the parent periods yourself.");
		ok = false;
	}
	else if (r->partial_null_rows > 0)
	{
		log_error("%s on %s: %" PRIu64
				  " rows mix NULLs and values under MATCH FULL: no parent can match them",
				  fk->name, child, r->partial_null_rows);
		log_hint("Use --strategy nullify or delete for those rows.");
		ok = false;
	}
	if (ok)
		ok = fetch_names(f->wc, sql_needs_value, r->parent->oid, given, &missing, &nmissing);
	if (ok && nmissing > 0)
	{
		/* every such column at once: one rerun, not one per column */
		StrBuf cols, sets;

		strbuf_init(&cols);
		strbuf_init(&sets);
		for (int i = 0; i < nmissing; i++)
		{
			strbuf_appendf(&cols, "%s%s", i ? ", " : "", missing[i]);
			strbuf_appendf(&sets, "%s--set %s=VALUE", i ? " " : "", missing[i]);
		}
		log_error("%s: cannot insert stub rows into %s: column%s %s %s NOT NULL without a default",
				  fk->name, parent, nmissing > 1 ? "s" : "", cols.data,
				  nmissing > 1 ? "are" : "is");
		log_hint("Give %s with %s.", nmissing > 1 ? "their values" : "its value", sets.data);
		strbuf_free(&cols);
		strbuf_free(&sets);
		ok = false;
	}
	for (int i = 0; i < nmissing; i++)
		free(missing[i]);
	free(missing);
	free(given);
	free(parent);
	return ok;
}

/*
 * Can this FK be repaired with the strategy?  Logs the reason and returns
 * false when not; fills what the statements need.
 */
bool
fix_check(Fix *f, FixFk *x)
{
	char *child = table_name(x->r->child);
	bool  ok = false;

	switch (f->opt->repair.strategy)
	{
		case STRATEGY_DELETE:
			ok = check_delete(f, x, child);
			break;
		case STRATEGY_NULLIFY:
			ok = check_nullify(f, x, child);
			break;
		case STRATEGY_BACKFILL:
			ok = check_backfill(f, x, child);
			break;
		case STRATEGY_QUARANTINE:
			ok = check_quarantine(f, x, child);
			break;
		case STRATEGY_NONE:
			break;
	}
	free(child);
	return ok;
}

/* ---- building the statements ---- */

/* "c's key = the keys table row alias" (alias.k1, alias.k2, ...) */
static void
append_key_match(StrBuf *b, const CatForeignKey *fk, const char *alias)
{
	for (int i = 0; i < fk->ncols; i++)
	{
		const CatColumn *c = &fk->child_cols[i];

		strbuf_append(b, i ? " AND " : "");
		pgconn_append_ident(b, "c", c->name);
		/* the child type's own equality where it is pg_catalog's; text otherwise */
		if (c->base_type_oid < FIRST_NORMAL_OID || c->is_enum)
			strbuf_appendf(b, " OPERATOR(pg_catalog.=) %s.k%d", alias, i + 1);
		else
			strbuf_appendf(b, "::pg_catalog.text OPERATOR(pg_catalog.=) %s.k%d::pg_catalog.text",
						   alias, i + 1);
	}
}

/*
 * backfill: a child row c that still needs the stub of key row s (its key
 * is s's, and it is still an orphan): "(key match) AND violation".  The
 * stub is tied to its own key: a key no orphan needs any more gets none.
 */
static void
append_stub_needed(StrBuf *b, const Catalog *cat, const CatForeignKey *fk)
{
	strbuf_append_char(b, '(');
	append_key_match(b, fk, "s");
	strbuf_append(b, ") AND ");
	risql_append_violation(b, cat, fk);
}

/* "(EXISTS (keys table row equal to c's key) OR mixed NULLs) AND violation" */
static void
append_orphan_rows(StrBuf *b, const Catalog *cat, const CatForeignKey *fk, int n)
{
	strbuf_appendf(b, "(EXISTS (SELECT 1 FROM pg_temp.fkscan_keys_%d t WHERE ", n);
	append_key_match(b, fk, "t");
	strbuf_append(b, ")");
	if (fk->match_type == 'f' && fk->ncols > 1)
	{
		/* MATCH FULL's mixed NULLs: orphans without a key */
		strbuf_append(b, " OR ((");
		for (int i = 0; i < fk->ncols; i++)
		{
			strbuf_append(b, i ? " OR " : "");
			pgconn_append_ident(b, "c", fk->child_cols[i].name);
			strbuf_append(b, " IS NULL");
		}
		strbuf_append(b, ") AND NOT (");
		for (int i = 0; i < fk->ncols; i++)
		{
			strbuf_append(b, i ? " AND " : "");
			pgconn_append_ident(b, "c", fk->child_cols[i].name);
			strbuf_append(b, " IS NULL");
		}
		strbuf_append(b, "))");
	}
	strbuf_append(b, ") AND ");
	risql_append_violation(b, cat, fk);
}

/* "NN_name.csv" with anything a file name should not hold made "_" */
static char *
backup_path(const Fix *f, int n, const char *fkname)
{
	StrBuf b;

	strbuf_init(&b);
	strbuf_appendf(&b, "%s/%02d_", f->backup_dir, n);
	for (const char *p = fkname; *p && b.len < 200; p++)
		strbuf_append_char(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
									   (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'
								   ? *p
								   : '_');
	strbuf_append(&b, ".csv");
	return strbuf_take(&b);
}

/* A description of FK n for messages: "s.t (constraint)". */
static char *
fk_what(const char *verb, const FkResult *r)
{
	StrBuf b;
	char  *t = table_name(verb[0] == 'i' ? r->parent : r->child);

	strbuf_init(&b);
	strbuf_appendf(&b, "%s %s (", verb, t);
	texttable_append_name(&b, r->fk->name);
	strbuf_append(&b, ")");
	free(t);
	return strbuf_take(&b);
}

/* What comes next, for people: the FK, its orphans, what a delete reaches. */
static void
add_comment_step(Fix *f, const FixFk *x, bool first)
{
	const FkResult *r = x->r;
	char		   *child = table_name(r->child);
	StrBuf			b;

	strbuf_init(&b);
	strbuf_append(&b, "\n-- ");
	texttable_append_name(&b, r->fk->name);
	strbuf_appendf(&b, " on %s: ", child);
	strbuf_append_count(&b, r->orphan_rows, "orphan row", "orphan rows");
	strbuf_append(&b, ", ");
	strbuf_append_count(&b, r->orphan_keys, "distinct key", "distinct keys");
	if (r->partial_null_rows)
		strbuf_appendf(&b, " (%" PRIu64 " mixing NULLs, MATCH FULL)", r->partial_null_rows);
	/* what a delete reaches; nothing else repairs by deleting */
	for (int i = 0; fix_deletes(f) && i < r->ncascade; i++)
	{
		char *t;

		if (r->cascade[i].rows == 0)
			continue;
		t = table_name(r->cascade[i].table);
		strbuf_appendf(&b, "\n--   deleting them reaches %s via ", t);
		texttable_append_name(&b, r->cascade[i].via->name);
		strbuf_appendf(&b, " (ON DELETE %s): ", catalog_action_name(r->cascade[i].action));
		strbuf_append_count(&b, r->cascade[i].rows, "row", "rows");
		free(t);
	}
	if (!first)
		strbuf_appendf(&b, "\n--   (batch %d)", x->nbatches);
	add_step(f, STEP_COMMENT, strbuf_take(&b));
	free(child);
}

/* The orphan keys, as COPY data into pg_temp.fkscan_keys_N (k1, k2, ...). */
static void
add_keys_steps(Fix *f, const FixFk *x, int n, const char *data, size_t len)
{
	const CatForeignKey *fk = x->r->fk;
	StrBuf				 b;
	FixStep				*st;

	strbuf_init(&b);
	strbuf_appendf(&b, "CREATE TEMPORARY TABLE fkscan_keys_%d ON COMMIT DROP AS SELECT ", n);
	for (int i = 0; i < fk->ncols; i++)
	{
		strbuf_append(&b, i ? ", " : "");
		pgconn_append_ident(&b, "c", fk->child_cols[i].name);
		strbuf_appendf(&b, " AS k%d", i + 1);
	}
	strbuf_append(&b, " FROM ");
	risql_append_from(&b, x->r->child);
	strbuf_append(&b, " c WITH NO DATA");
	add_step(f, STEP_SQL, strbuf_take(&b));
	strbuf_appendf(&b, "COPY pg_temp.fkscan_keys_%d (", n);
	for (int i = 0; i < fk->ncols; i++)
		strbuf_appendf(&b, "%sk%d", i ? ", " : "", i + 1);
	strbuf_append(&b, ") FROM STDIN");
	st = add_step(f, STEP_COPY_IN, strbuf_take(&b));
	st->data = data;
	st->len = len;
	add_stepf(f, STEP_SQL, "ANALYZE pg_temp.fkscan_keys_%d", n);
	strbuf_free(&b);
}

/* ", a.c1, a.c2": the columns, each qualified by alias. */
void
append_columns(StrBuf *b, const char *alias, char *const *cols, int ncols, bool lead)
{
	for (int i = 0; i < ncols; i++)
	{
		strbuf_append(b, i || lead ? ", " : "");
		pgconn_append_ident(b, alias, cols[i]);
	}
}

/* ", a.fk1": the FK columns nullify sets to NULL, qualified by alias. */
static void
append_nullified(StrBuf *b, const FixFk *x, const char *alias)
{
	for (int i = 0; i < x->r->fk->ncols; i++)
		if (x->nullify[i])
		{
			strbuf_append(b, ", ");
			pgconn_append_ident(b, alias, x->r->fk->child_cols[i].name);
		}
}

/* Delete the orphan rows, their columns into the backup table. */
static void
append_delete(StrBuf *b, const FixFk *x, int n, const char *rows)
{
	strbuf_append(b, "WITH fkscan_deleted AS (DELETE FROM ");
	risql_append_from(b, x->r->child);
	strbuf_appendf(b, " c WHERE %s RETURNING ", rows);
	append_columns(b, "c", x->cols, x->ncols, false);
	strbuf_append(b, ", ");
	append_unseen(b, x->snapshot);
	strbuf_appendf(b, ") INSERT INTO pg_temp.fkscan_backup_%d SELECT * FROM fkscan_deleted", n);
}

/*
 * Set the orphan rows' FK columns to NULL, their key and old values into
 * the backup table: the rows, locked, joined back by (tableoid, ctid).
 */
static void
append_nullify(StrBuf *b, const FixFk *x, int n, const char *rows)
{
	const CatForeignKey *fk = x->r->fk;

	strbuf_append(b, "WITH fkscan_old AS (SELECT c.tableoid AS fkscan_rel, c.ctid AS fkscan_row");
	append_columns(b, "c", x->pk, x->npk, true);
	append_nullified(b, x, "c");
	strbuf_append(b, ", ");
	append_unseen(b, x->snapshot);
	strbuf_append(b, " AS fkscan_unseen FROM ");
	risql_append_from(b, x->r->child);
	strbuf_appendf(b, " c WHERE %s FOR UPDATE OF c), fkscan_updated AS (UPDATE ", rows);
	risql_append_from(b, x->r->child);
	strbuf_append(b, " fkscan_t SET ");
	for (int i = 0, k = 0; i < fk->ncols; i++)
		if (x->nullify[i])
		{
			strbuf_append(b, k++ ? ", " : "");
			pgconn_append_ident(b, NULL, fk->child_cols[i].name);
			strbuf_append(b, " = NULL");
		}
	strbuf_append(b,
				  " FROM fkscan_old o WHERE fkscan_t.tableoid OPERATOR(pg_catalog.=) o.fkscan_rel"
				  " AND fkscan_t.ctid OPERATOR(pg_catalog.=) o.fkscan_row RETURNING ");
	append_columns(b, "o", x->pk, x->npk, false);
	append_nullified(b, x, "o");
	strbuf_appendf(
		b, ", o.fkscan_unseen) INSERT INTO pg_temp.fkscan_backup_%d SELECT * FROM fkscan_updated",
		n);
}

/*
 * quarantine: the rows the delete moved into backup table n go on into the
 * quarantine table (created like the child if missing), with the FK's name,
 * when the scan found them, their key as {"column": "text"} and this run,
 * counted as the backup table holds them.
 */
static void
add_quarantine_steps(Fix *f, FixFk *x, int n)
{
	const FkResult *r = x->r;
	StrBuf			b;
	FixStep		   *st;
	char		   *lit;

	strbuf_init(&b);
	strbuf_appendf(&b, "CREATE TABLE IF NOT EXISTS %s (LIKE ", x->quarantine);
	pgconn_append_relation(&b, r->child->schema, r->child->name);
	for (size_t i = 0; i < FK_LENGTHOF(quarantine_extra); i++)
		strbuf_appendf(&b, ", %s %s", quarantine_extra[i][0], quarantine_extra[i][1]);
	strbuf_append(&b, ")");
	add_step(f, STEP_SQL, strbuf_take(&b));
	add_stepf(f, STEP_EXPECT, "SELECT count(*) AS fkscan_expect FROM pg_temp.fkscan_backup_%d", n);

	strbuf_appendf(&b, "INSERT INTO %s (", x->quarantine);
	append_columns(&b, NULL, x->cols, x->ncols, false);
	for (size_t i = 0; i < FK_LENGTHOF(quarantine_extra); i++)
		strbuf_appendf(&b, ", %s", quarantine_extra[i][0]);
	strbuf_append(&b, ") SELECT ");
	append_columns(&b, "b", x->cols, x->ncols, false);
	lit = pgconn_quote_literal(f->wc, r->fk->name);
	strbuf_appendf(&b, ", %s, ", lit);
	free(lit);
	if (r->finished_at)
	{
		lit = pgconn_quote_literal(f->wc, r->finished_at);
		strbuf_appendf(&b, "%s::pg_catalog.timestamptz", lit);
		free(lit);
	}
	else
		strbuf_append(&b, "pg_catalog.now()");
	strbuf_append(&b, ", pg_catalog.jsonb_build_object(");
	for (int i = 0; i < r->fk->ncols; i++)
	{
		lit = pgconn_quote_literal(f->wc, r->fk->child_cols[i].name);
		strbuf_appendf(&b, "%s%s, ", i ? ", " : "", lit);
		free(lit);
		pgconn_append_ident(&b, "b", r->fk->child_cols[i].name);
		strbuf_append(&b, "::pg_catalog.text");
	}
	strbuf_appendf(&b, "), '%s' FROM pg_temp.fkscan_backup_%d b", f->run, n);
	st = add_step(f, STEP_DML, strbuf_take(&b));
	st->what = fk_what("quarantine from", r);
	st->fk = x;
}

/*
 * delete, quarantine and nullify: the backup table, the counted statement,
 * the check that every row it changed is one the scan saw, the backup file.
 */
static void
add_change_steps(Fix *f, FixFk *x, int n, bool touched, const char *rows)
{
	const FkResult *r = x->r;
	bool			del = fix_deletes(f);
	StrBuf			b;
	FixStep		   *st;

	/* the backup table: the row's columns (delete), or its key and old values */
	strbuf_init(&b);
	strbuf_appendf(&b, "CREATE TEMPORARY TABLE fkscan_backup_%d ON COMMIT DROP AS SELECT ", n);
	append_columns(&b, "c", del ? x->cols : x->pk, del ? x->ncols : x->npk, false);
	if (!del)
		append_nullified(&b, x, "c");
	strbuf_append(&b, ", false AS fkscan_unseen FROM ");
	risql_append_from(&b, r->child);
	strbuf_append(&b, " c WITH NO DATA");
	add_step(f, STEP_SQL, strbuf_take(&b));

	if (touched)
	{
		strbuf_append(&b, "SELECT count(*) AS fkscan_expect FROM ");
		risql_append_from(&b, r->child);
		strbuf_appendf(&b, " c WHERE %s", rows);
		add_step(f, STEP_EXPECT, strbuf_take(&b));
	}
	if (del)
		append_delete(&b, x, n, rows);
	else
		append_nullify(&b, x, n, rows);
	st = add_step(f, STEP_DML, strbuf_take(&b));
	st->expect = touched ? -1 : (int64_t) r->orphan_rows;
	st->what = fk_what(del ? "delete from" : "nullify in", r);
	st->fk = x;
	/* equal counts, and every row one the scan saw: the same rows */
	st = add_stepf(f, STEP_UNSEEN,
				   "SELECT count(*) FROM pg_temp.fkscan_backup_%d WHERE fkscan_unseen", n);
	st->what = fk_what(del ? "delete from" : "nullify in", r);
	add_stepf(f, STEP_SQL, "ALTER TABLE pg_temp.fkscan_backup_%d DROP COLUMN fkscan_unseen", n);
	if (f->opt->repair.strategy == STRATEGY_QUARANTINE)
		add_quarantine_steps(f, x, n);
	st = add_stepf(f, STEP_BACKUP, "COPY pg_temp.fkscan_backup_%d TO STDOUT (FORMAT csv, HEADER)",
				   n);
	st->path = backup_path(f, n, r->fk->name);
	st->fk = x;
	st->n = n;
	strbuf_free(&b);
}

/* backfill: one stub parent per missing key, if a child row still needs it. */
static void
add_backfill_steps(Fix *f, FixFk *x, int n, bool touched, const char *rows)
{
	const FkResult		*r = x->r;
	const CatForeignKey *fk = r->fk;
	StrBuf				 b, sets;
	FixStep				*st;

	strbuf_init(&b);
	strbuf_init(&sets);
	if (touched)
	{
		strbuf_appendf(&b,
					   "SELECT count(*) AS fkscan_expect FROM pg_temp.fkscan_keys_%d s WHERE "
					   "EXISTS (SELECT 1 FROM ",
					   n);
		risql_append_from(&b, r->child);
		strbuf_appendf(&b, " c WHERE %s)", rows);
		add_step(f, STEP_EXPECT, strbuf_take(&b));
	}
	strbuf_append(&b, "INSERT INTO ");
	pgconn_append_relation(&b, r->parent->schema, r->parent->name);
	strbuf_append(&b, " (");
	for (int i = 0; i < fk->ncols; i++)
	{
		strbuf_append(&b, i ? ", " : "");
		pgconn_append_ident(&b, NULL, fk->parent_cols[i].name);
	}
	for (int i = 0; i < f->opt->repair.set_values.n; i++)
	{
		const char *item = f->opt->repair.set_values.items[i];
		size_t		len = strcspn(item, "=");
		char	   *col = strndup(item, len);
		char	   *lit = pgconn_quote_literal(f->wc, item + len + 1);

		strbuf_append(&b, ", ");
		pgconn_append_ident(&b, NULL, col);
		strbuf_appendf(&sets, ", %s", lit);
		free(col);
		free(lit);
	}
	strbuf_append(&b, ") SELECT ");
	for (int i = 0; i < fk->ncols; i++)
		strbuf_appendf(&b, "%ss.k%d", i ? ", " : "", i + 1);
	strbuf_appendf(&b, "%s FROM pg_temp.fkscan_keys_%d s WHERE EXISTS (SELECT 1 FROM ", sets.data,
				   n);
	risql_append_from(&b, r->child);
	/*
	 * Only the FK's own key may conflict (a stub another session made
	 * meanwhile); a clash on another unique column is an error naming its
	 * index, never a stub silently dropped.
	 */
	strbuf_appendf(&b, " c WHERE %s) ON CONFLICT (", rows);
	for (int i = 0; i < fk->ncols; i++)
	{
		strbuf_append(&b, i ? ", " : "");
		pgconn_append_ident(&b, NULL, fk->parent_cols[i].name);
	}
	strbuf_append(&b, ") DO NOTHING");
	st = add_step(f, STEP_DML, strbuf_take(&b));
	st->expect = touched ? -1 : (int64_t) r->orphan_keys;
	st->what = fk_what("insert into", r);
	st->fk = x;
	strbuf_free(&sets);
	strbuf_free(&b);
}

/*
 * The steps for one FK, or one batch of its keys (data, len: COPY lines);
 * n numbers its temporary tables and backup file.  touched: the expected
 * count is measured, not the scan's.
 */
static void
build_fk_steps(Fix *f, const Catalog *cat, FixFk *x, int n, bool touched, const char *data,
			   size_t len, bool first)
{
	StrBuf rows;

	add_comment_step(f, x, first);
	add_keys_steps(f, x, n, data, len);
	strbuf_init(&rows);
	if (f->opt->repair.strategy == STRATEGY_BACKFILL)
	{
		append_stub_needed(&rows, cat, x->r->fk);
		add_backfill_steps(f, x, n, touched, rows.data);
	}
	else
	{
		append_orphan_rows(&rows, cat, x->r->fk, n);
		add_change_steps(f, x, n, touched, rows.data);
	}
	strbuf_free(&rows);
}

/*
 * One FK's steps, in batches of --batch-size keys (a transaction each) or
 * all at once; *n numbers temporary tables and backup files across the run.
 */
void
build_fk(Fix *f, const Catalog *cat, FixFk *x, int *n)
{
	int			size = f->opt->repair.batch_size;
	const char *p = x->keys.data;
	const char *end = x->keys.data + x->keys.len;

	if (size <= 0)
	{
		x->nbatches = 1;
		build_fk_steps(f, cat, x, ++*n, x->touched, p, x->keys.len, true);
		f->txn_used = true;
		return;
	}
	do
	{
		const char *q = p;

		/* size keys = size lines of COPY text */
		for (int k = 0; k < size && q < end; k++)
		{
			const char *nl = memchr(q, '\n', (size_t) (end - q));

			q = nl ? nl + 1 : end;
		}
		if (f->txn_used)
		{
			add_step(f, STEP_COMMIT, NULL);
			add_step(f, STEP_BEGIN, NULL);
		}
		x->nbatches++;
		/* a batch's rows are not known from the scan: always measured */
		build_fk_steps(f, cat, x, ++*n, true, p, (size_t) (q - p), x->nbatches == 1);
		f->txn_used = true;
		p = q;
	} while (p < end);
}

/*
 * Children before parents: an FK whose child table is referenced by another
 * selected FK's child is repaired after it (deleting a parent row first
 * would cascade into, or be blocked by, rows that are about to go anyway).
 * A cycle keeps the scan's order.
 */
void
order_fks(const Catalog *graph, FixFk **list, int n)
{
	for (int pass = 0; pass < n; pass++)
	{
		bool moved = false;

		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
			{
				Oid	 a = list[i]->r->child->oid;
				Oid	 b = list[j]->r->child->oid;
				bool b_refs_a = false;

				/* does b's child table reference a's child table (by any FK)? */
				for (int g = 0; g < graph->nfks && !b_refs_a && a != b; g++)
					b_refs_a = graph->tables[graph->fks[g].child].oid == b &&
							   graph->tables[graph->fks[g].parent].oid == a;
				if (b_refs_a)
				{
					FixFk *t = list[j];

					memmove(list + i + 1, list + i, sizeof(FixFk *) * (size_t) (j - i));
					list[i] = t;
					moved = true;
				}
			}
		if (!moved)
			break;
	}
}
