/*
 * fix.c
 *	  "fkscan fix": repair the orphan rows a scan found, as a psql script
 *	  (the default) or with --apply in one checked transaction (or one per
 *	  --batch-size keys).
 *
 * The scan runs first, in-process (scan_run_hooked): while its state is
 * alive, each broken FK's distinct orphan keys are turned into COPY text
 * (integer keys from the key set; hashed ones from the confirmed
 * candidates' raw values, converted by the server; FKs the server checks
 * by a DISTINCT over RI's anti-join).  The keys reach the server as COPY
 * data into a temporary table, never as SQL text, and never in a NOT IN.
 * Each repair statement joins that table AND re-checks RI's own violation
 * condition (risql_append_violation: the FK's operators, casts and
 * collations), so a row that stopped being an orphan is left alone.
 *
 * Every data-changing statement is counted, and the count must equal the
 * scan's (orphan rows for delete and nullify, orphan keys for backfill),
 * or the transaction is rolled back: rows changed between the scan and the
 * repair.  When an earlier statement of the same run touched the table,
 * the expectation is measured just before instead.  Deleted rows, and the
 * old values of nullified ones, go to a temporary table in the same
 * statement (WITH ... RETURNING), and from there to a CSV backup with a
 * restore script, fsynced before COMMIT.
 *
 * The script and --apply are the same list of steps: printed, or run.
 * Batches: a batch's row count is not known from the scan (it counts rows
 * per FK, not per key), so each batch measures its own expectation, and
 * the sum is compared with the scan's at the end, after the commits.
 */
#include "fkscan/fix.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/outfile.h"
#include "fkscan/mem.h"
#include "fkscan/report.h"
#include "fkscan/risql.h"
#include "fkscan/scan.h"
#include "fkscan/signals.h"
#include "fkscan/strbuf.h"
#include "fkscan/texttable.h"
#include "fkscan/verify.h"

/* Types whose "=" is pg_catalog's: below FirstNormalObjectId, and enums. */
#define FIRST_NORMAL_OID 16384

typedef enum StepKind
{
	STEP_COMMENT,				/* what comes next, for people (--apply prints it too) */
	STEP_BEGIN,					/* a transaction, with its timeouts */
	STEP_COMMIT,				/* --apply: the restore script first */
	STEP_SQL,					/* run as is */
	STEP_COPY_IN,				/* COPY ... FROM STDIN with keys */
	STEP_EXPECT,				/* measure the next statement's expected count */
	STEP_DML,					/* counted: must equal expect (or the measured one) */
	STEP_UNSEEN,				/* counts the DML's rows the scan did not see: must be 0 */
	STEP_BACKUP					/* COPY a backup table TO a CSV file */
} StepKind;

typedef struct FixStep
{
	StepKind	kind;
	char	   *sql;			/* the statement; STEP_COMMENT: the text */
	const char *data;			/* STEP_COPY_IN: a slice of FixFk.keys */
	size_t		len;
	int64_t		expect;			/* STEP_DML: -1 when measured by STEP_EXPECT */
	char	   *what;			/* STEP_DML, STEP_UNSEEN: "delete from s.t (fk)" */
	char	   *path;			/* STEP_BACKUP: the CSV file */
	struct FixFk *fk;			/* STEP_DML, STEP_BACKUP: whose */
	int			n;				/* STEP_BACKUP: the number of its tables */
} FixStep;

/* One broken FK: its orphan keys as COPY text, and what the repair needs. */
typedef struct FixFk
{
	bool		seen;			/* keys() was called */
	char	   *snapshot;		/* the scan's, as pg_current_snapshot() text */
	StrBuf		keys;			/* "k1\tk2\n" per distinct orphan key */
	uint64_t	nkeys;
	const FkResult *r;
	char	  **cols;			/* delete: the child's columns, not generated */
	int			ncols;
	char	  **pk;				/* nullify: the child's primary key */
	int			npk;
	bool	   *nullify;		/* nullify: which FK columns become NULL */
	bool		touched;		/* an earlier FK of the run changes the same table */
	int			nbatches;
	uint64_t	done;			/* --apply: rows (keys) repaired so far */
} FixFk;

typedef struct Fix
{
	const FkOptions *opt;
	PgConn	   *wc;				/* the primary: catalog questions, and --apply */
	FixFk	   *fks;			/* indexed like ScanResult.fks */
	int			nfks;
	FixStep    *steps;
	int			nsteps;
	int			capsteps;
	char	   *backup_dir;		/* absolute once created */
	const Catalog *cat;			/* the scan's, which the FkResults point into */
	bool		txn_used;		/* the open transaction has a batch already */
} Fix;

/* ---- steps ---- */

static FixStep *
add_step(Fix *f, StepKind kind, char *sql)
{
	FixStep    *st;

	fk_array_grow((void **) &f->steps, &f->capsteps, f->nsteps + 1, sizeof(FixStep));
	st = &f->steps[f->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->sql = sql;
	st->expect = -1;
	return st;
}

static FixStep *
add_stepf(Fix *f, StepKind kind, const char *fmt,...) FK_PRINTF(3, 4);

static FixStep *
add_stepf(Fix *f, StepKind kind, const char *fmt,...)
{
	va_list		ap;
	char	   *s;

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

static void
fix_free(Fix *f)
{
	for (int i = 0; i < f->nsteps; i++)
	{
		free(f->steps[i].sql);
		free(f->steps[i].what);
		free(f->steps[i].path);
	}
	free(f->steps);
	for (int i = 0; i < f->nfks; i++)
	{
		FixFk	   *x = &f->fks[i];

		strbuf_free(&x->keys);
		free(x->snapshot);
		for (int c = 0; c < x->ncols; c++)
			free(x->cols[c]);
		free(x->cols);
		for (int c = 0; c < x->npk; c++)
			free(x->pk[c]);
		free(x->pk);
		free(x->nullify);
	}
	free(f->fks);
	free(f->backup_dir);
	pgconn_free(f->wc);
}

/* ---- the keys, from the scan ---- */

/* One row of key text (every column non-NULL: a full key) into the COPY data. */
static bool
key_text_row(void *ctx, const PGresult *res, int row)
{
	FixFk	   *x = ctx;

	for (int i = 0; i < PQnfields(res); i++)
	{
		if (i)
			strbuf_append_char(&x->keys, '\t');
		if (PQgetisnull(res, row, i))
			return false;		/* a key with a NULL is no key: never here */
		strbuf_append_copy_text(&x->keys, PQgetvalue(res, row, i));
	}
	strbuf_append_char(&x->keys, '\n');
	x->nkeys++;
	return true;
}

static bool
int_key(int64_t key, void *ctx)
{
	FixFk	   *x = ctx;

	strbuf_appendf(&x->keys, "%" PRId64 "\n", key);
	x->nkeys++;
	return true;
}

static bool
snapshot_row(void *ctx, const PGresult *res, int row)
{
	const char *v = PQgetvalue(res, row, 0);

	/* "xmin:xmax:xip,...": it goes into SQL as a literal */
	if (v[strspn(v, "0123456789:,")] != '\0')
		return false;
	*(char **) ctx = fk_strdup(v);
	return true;
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

	strbuf_appendf(b, "(c.xmin::pg_catalog.text::pg_catalog.int8 >= 3"
				   " AND c.xmin::pg_catalog.text::pg_catalog.int8 <> %s %% 4294967296"
				   " AND NOT pg_catalog.pg_visible_in_snapshot((%s - ((%s %% 4294967296"
				   " - c.xmin::pg_catalog.text::pg_catalog.int8 + 6442450944) %% 4294967296"
				   " - 2147483648))::pg_catalog.text::pg_catalog.xid8, '%s'::pg_catalog.pg_snapshot))",
				   x, x, x, snapshot);
}

/* ScanHook.keys: copy one FK's distinct orphan keys out as COPY text. */
static bool
fix_keys(void *ctx, PgConn *verifier, const Catalog *cat, const FkResult *r, int i,
		 const ScanOrphanKeys *k)
{
	Fix		   *f = ctx;
	FixFk	   *x;
	bool		ok = true;

	if (i >= f->nfks)
	{
		f->fks = fk_realloc(f->fks, sizeof(FixFk) * (size_t) (i + 1));
		memset(f->fks + f->nfks, 0, sizeof(FixFk) * (size_t) (i + 1 - f->nfks));
		f->nfks = i + 1;
	}
	x = &f->fks[i];
	/* a scan restarted after a recovery conflict hands the keys over again */
	if (x->seen)
		strbuf_free(&x->keys);
	x->seen = true;
	x->nkeys = 0;
	strbuf_init(&x->keys);
	free(x->snapshot);
	x->snapshot = NULL;
	if (!pgconn_exec(verifier, "SELECT pg_catalog.pg_current_snapshot()::pg_catalog.text",
					 0, NULL, snapshot_row, &x->snapshot))
		return false;
	if (k->ints)
		keyset64_iterate(k->ints, int_key, x);
	else if (k->cands)
		ok = verify_candidates_text(verifier, r->fk, k->cands, k->confirmed,
									key_text_row, x);
	else
	{
		/* checked on the server: its anti-join, on the same snapshot */
		StrBuf		sql;

		strbuf_init(&sql);
		strbuf_append(&sql, "SELECT DISTINCT ");
		for (int c = 0; c < r->fk->ncols; c++)
		{
			strbuf_append(&sql, c ? ", " : "");
			pgconn_append_ident(&sql, "c", r->fk->child_cols[c].name);
			strbuf_append(&sql, "::pg_catalog.text");
		}
		strbuf_append(&sql, " FROM ");
		risql_append_from(&sql, r->child);
		strbuf_append(&sql, " c WHERE ");
		risql_append_violation(&sql, cat, r->fk);
		for (int c = 0; c < r->fk->ncols; c++)
		{
			strbuf_append(&sql, " AND ");
			pgconn_append_ident(&sql, "c", r->fk->child_cols[c].name);
			strbuf_append(&sql, " IS NOT NULL");
		}
		ok = pgconn_exec(verifier, sql.data, 0, NULL, key_text_row, x);
		strbuf_free(&sql);
	}
	if (ok && x->nkeys != r->orphan_keys)
	{
		log_error("%s: the scan counted %" PRIu64 " orphan keys but handed over %" PRIu64,
				  r->fk->name, r->orphan_keys, x->nkeys);
		ok = false;
	}
	return ok;
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

static const char sql_columns[] =
	"SELECT a.attname FROM pg_catalog.pg_attribute a "
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
	StrBuf		b;

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

/*
 * Can this FK be repaired with the strategy?  Logs the reason and returns
 * false when not; fills what the statements need.
 */
static bool
fix_check(Fix *f, FixFk *x)
{
	const FkResult *r = x->r;
	const CatForeignKey *fk = r->fk;
	char	   *child = table_name(r->child);
	bool		ok = true;

	switch (f->opt->strategy)
	{
		case STRATEGY_DELETE:
			for (int i = 0, blocked = 0, cascades = 0; i < r->ncascade; i++)
			{
				const CascadeStep *st = &r->cascade[i];
				char	   *t = table_name(st->table);
				StrBuf		n;

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
					log_error("%s on %s: cannot delete: %s of %s (%s, ON DELETE %s) reference%s the orphan rows",
							  fk->name, child, n.data, t, st->via->name,
							  catalog_action_name(st->action), st->rows == 1 ? "s" : "");
					/* one hint for all the dependents */
					if (blocked++ == 0)
						log_hint("Fix those rows first, or use --strategy nullify or backfill.");
					ok = false;
				}
				else if (st->rows > 0 && !f->opt->cascade)
				{
					log_error("%s on %s: deleting the orphan rows would %s %s of %s (%s, ON DELETE %s)",
							  fk->name, child, st->action == 'c' ? "also delete" : "update",
							  n.data, t, st->via->name, catalog_action_name(st->action));
					if (cascades++ == 0)
						log_hint("Add --cascade to allow it (those rows are not in the backup).");
					ok = false;
				}
				strbuf_free(&n);
				free(t);
			}
			if (ok)
				ok = fetch_names(f->wc, sql_columns, r->child->oid, NULL, &x->cols, &x->ncols);
			break;
		case STRATEGY_NULLIFY:
			{
				int			n = 0;

				x->nullify = fk_calloc((size_t) fk->ncols, sizeof(bool));
				for (int i = 0; i < fk->ncols; i++)
				{
					const CatColumn *c = &fk->child_cols[i];

					x->nullify[i] = !c->not_null && !c->generated;
					n += x->nullify[i];
					/* MATCH FULL: a key is exempt only when all of it is NULL */
					if (!x->nullify[i] && (fk->match_type == 'f' || fk->ncols == 1))
					{
						log_error("%s on %s: cannot set column %s to NULL: it is %s",
								  fk->name, child, c->name,
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
					log_error("%s on %s: cannot set the key to NULL: no column of it may be NULL",
							  fk->name, child);
					ok = false;
				}
				if (ok)
					ok = fetch_names(f->wc, sql_primary_key, r->child->oid, NULL, &x->pk, &x->npk);
				if (ok && x->npk == 0)
				{
					log_error("%s on %s: cannot nullify: the table has no primary key",
							  fk->name, child);
					log_detail("The backup must name each row to restore its old values.");
					ok = false;
				}
			}
			break;
		case STRATEGY_BACKFILL:
			{
				char	   *given = names_array(fk->parent_cols, fk->ncols, &f->opt->set_values);
				char	  **missing = NULL;
				int			nmissing = 0;
				char	   *parent = table_name(r->parent);

				if (fk->period)
				{
					/* a stub would need periods filling the gaps between the parent's */
					log_error("%s on %s: cannot insert stub rows for a PERIOD foreign key",
							  fk->name, child);
					log_detail("A child's period must be covered by its key's parent periods; a stub row cannot know which part is missing.");
					log_hint("Use --strategy delete or nullify, or extend the parent periods yourself.");
					ok = false;
				}
				else if (r->partial_null_rows > 0)
				{
					log_error("%s on %s: %" PRIu64 " rows mix NULLs and values under MATCH FULL: no parent can match them",
							  fk->name, child, r->partial_null_rows);
					log_hint("Use --strategy nullify or delete for those rows.");
					ok = false;
				}
				if (ok)
					ok = fetch_names(f->wc, sql_needs_value, r->parent->oid, given,
									 &missing, &nmissing);
				if (ok && nmissing > 0)
				{
					/* every such column at once: one rerun, not one per column */
					StrBuf		cols,
								sets;

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
					log_hint("Give %s with %s.", nmissing > 1 ? "their values" : "its value",
							 sets.data);
					strbuf_free(&cols);
					strbuf_free(&sets);
					ok = false;
				}
				for (int i = 0; i < nmissing; i++)
					free(missing[i]);
				free(missing);
				free(given);
				free(parent);
			}
			break;
		case STRATEGY_NONE:
			ok = false;
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
	StrBuf		b;

	strbuf_init(&b);
	strbuf_appendf(&b, "%s/%02d_", f->backup_dir, n);
	for (const char *p = fkname; *p && b.len < 200; p++)
		strbuf_append_char(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
						   (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ? *p : '_');
	strbuf_append(&b, ".csv");
	return strbuf_take(&b);
}

/* A description of FK n for messages: "s.t (constraint)". */
static char *
fk_what(const char *verb, const FkResult *r)
{
	StrBuf		b;
	char	   *t = table_name(verb[0] == 'i' ? r->parent : r->child);

	strbuf_init(&b);
	strbuf_appendf(&b, "%s %s (", verb, t);
	texttable_append_name(&b, r->fk->name);
	strbuf_append(&b, ")");
	free(t);
	return strbuf_take(&b);
}

/*
 * The steps for one FK, or one batch of its keys (data, len: COPY lines);
 * n numbers its temporary tables and backup file.  touched: the expected
 * count is measured, not the scan's.
 */
static void
build_fk_steps(Fix *f, const Catalog *cat, FixFk *x, int n, bool touched,
			   const char *data, size_t len, bool first)
{
	const FkResult *r = x->r;
	const CatForeignKey *fk = r->fk;
	StrBuf		b,
				rows;
	char	   *child = table_name(r->child);
	FixStep    *st;

	strbuf_init(&b);
	strbuf_init(&rows);
	strbuf_append(&b, "\n-- ");
	texttable_append_name(&b, fk->name);
	strbuf_appendf(&b, " on %s: ", child);
	strbuf_append_count(&b, r->orphan_rows, "orphan row", "orphan rows");
	strbuf_append(&b, ", ");
	strbuf_append_count(&b, r->orphan_keys, "distinct key", "distinct keys");
	if (r->partial_null_rows)
		strbuf_appendf(&b, " (%" PRIu64 " mixing NULLs, MATCH FULL)", r->partial_null_rows);
	/* what a delete reaches; nothing else repairs by deleting */
	for (int i = 0; f->opt->strategy == STRATEGY_DELETE && i < r->ncascade; i++)
	{
		char	   *t;

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

	/* the keys, as data */
	strbuf_appendf(&b, "CREATE TEMPORARY TABLE fkscan_keys_%d ON COMMIT DROP AS SELECT ", n);
	for (int i = 0; i < fk->ncols; i++)
	{
		strbuf_append(&b, i ? ", " : "");
		pgconn_append_ident(&b, "c", fk->child_cols[i].name);
		strbuf_appendf(&b, " AS k%d", i + 1);
	}
	strbuf_append(&b, " FROM ");
	risql_append_from(&b, r->child);
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

	if (f->opt->strategy == STRATEGY_BACKFILL)
		append_stub_needed(&rows, cat, fk);
	else
		append_orphan_rows(&rows, cat, fk, n);
	if (f->opt->strategy == STRATEGY_DELETE || f->opt->strategy == STRATEGY_NULLIFY)
	{
		bool		del = f->opt->strategy == STRATEGY_DELETE;
		char	  **cols = del ? x->cols : x->pk;
		int			ncols = del ? x->ncols : x->npk;

		/* the backup table: the row's columns (delete), or its key and old values */
		strbuf_appendf(&b, "CREATE TEMPORARY TABLE fkscan_backup_%d ON COMMIT DROP AS SELECT ", n);
		for (int i = 0; i < ncols; i++)
		{
			strbuf_append(&b, i ? ", " : "");
			pgconn_append_ident(&b, "c", cols[i]);
		}
		for (int i = 0; !del && i < fk->ncols; i++)
			if (x->nullify[i])
			{
				strbuf_append(&b, ", ");
				pgconn_append_ident(&b, "c", fk->child_cols[i].name);
			}
		strbuf_append(&b, ", false AS fkscan_unseen FROM ");
		risql_append_from(&b, r->child);
		strbuf_append(&b, " c WITH NO DATA");
		add_step(f, STEP_SQL, strbuf_take(&b));

		if (touched)
		{
			strbuf_append(&b, "SELECT count(*) AS fkscan_expect FROM ");
			risql_append_from(&b, r->child);
			strbuf_appendf(&b, " c WHERE %s", rows.data);
			add_step(f, STEP_EXPECT, strbuf_take(&b));
		}
		if (del)
		{
			strbuf_append(&b, "WITH fkscan_deleted AS (DELETE FROM ");
			risql_append_from(&b, r->child);
			strbuf_appendf(&b, " c WHERE %s RETURNING ", rows.data);
			for (int i = 0; i < ncols; i++)
			{
				strbuf_append(&b, i ? ", " : "");
				pgconn_append_ident(&b, "c", cols[i]);
			}
			strbuf_append(&b, ", ");
			append_unseen(&b, x->snapshot);
			strbuf_appendf(&b, ") INSERT INTO pg_temp.fkscan_backup_%d SELECT * FROM fkscan_deleted", n);
		}
		else
		{
			/* the old values: the rows, locked, joined back by (tableoid, ctid) */
			strbuf_append(&b, "WITH fkscan_old AS (SELECT c.tableoid AS fkscan_rel, c.ctid AS fkscan_row");
			for (int i = 0; i < ncols; i++)
			{
				strbuf_append(&b, ", ");
				pgconn_append_ident(&b, "c", cols[i]);
			}
			for (int i = 0; i < fk->ncols; i++)
				if (x->nullify[i])
				{
					strbuf_append(&b, ", ");
					pgconn_append_ident(&b, "c", fk->child_cols[i].name);
				}
			strbuf_append(&b, ", ");
			append_unseen(&b, x->snapshot);
			strbuf_append(&b, " AS fkscan_unseen FROM ");
			risql_append_from(&b, r->child);
			strbuf_appendf(&b, " c WHERE %s FOR UPDATE OF c), fkscan_updated AS (UPDATE ", rows.data);
			risql_append_from(&b, r->child);
			strbuf_append(&b, " fkscan_t SET ");
			for (int i = 0, k = 0; i < fk->ncols; i++)
				if (x->nullify[i])
				{
					strbuf_append(&b, k++ ? ", " : "");
					pgconn_append_ident(&b, NULL, fk->child_cols[i].name);
					strbuf_append(&b, " = NULL");
				}
			strbuf_append(&b, " FROM fkscan_old o WHERE fkscan_t.tableoid OPERATOR(pg_catalog.=) o.fkscan_rel"
						  " AND fkscan_t.ctid OPERATOR(pg_catalog.=) o.fkscan_row RETURNING ");
			for (int i = 0; i < ncols; i++)
			{
				strbuf_append(&b, i ? ", " : "");
				pgconn_append_ident(&b, "o", cols[i]);
			}
			for (int i = 0; i < fk->ncols; i++)
				if (x->nullify[i])
				{
					strbuf_append(&b, ", ");
					pgconn_append_ident(&b, "o", fk->child_cols[i].name);
				}
			strbuf_appendf(&b, ", o.fkscan_unseen) INSERT INTO pg_temp.fkscan_backup_%d SELECT * FROM fkscan_updated", n);
		}
		st = add_step(f, STEP_DML, strbuf_take(&b));
		st->expect = touched ? -1 : (int64_t) r->orphan_rows;
		st->what = fk_what(del ? "delete from" : "nullify in", r);
		st->fk = x;
		/* equal counts, and every row one the scan saw: the same rows */
		st = add_stepf(f, STEP_UNSEEN, "SELECT count(*) FROM pg_temp.fkscan_backup_%d WHERE fkscan_unseen", n);
		st->what = fk_what(del ? "delete from" : "nullify in", r);
		add_stepf(f, STEP_SQL, "ALTER TABLE pg_temp.fkscan_backup_%d DROP COLUMN fkscan_unseen", n);
		st = add_stepf(f, STEP_BACKUP, "COPY pg_temp.fkscan_backup_%d TO STDOUT (FORMAT csv, HEADER)", n);
		st->path = backup_path(f, n, fk->name);
		st->fk = x;
		st->n = n;
	}
	else
	{
		/* backfill: one stub parent per missing key, if a child row still needs it */
		StrBuf		sets;

		strbuf_init(&sets);
		if (touched)
		{
			strbuf_appendf(&b, "SELECT count(*) AS fkscan_expect FROM pg_temp.fkscan_keys_%d s WHERE EXISTS (SELECT 1 FROM ", n);
			risql_append_from(&b, r->child);
			strbuf_appendf(&b, " c WHERE %s)", rows.data);
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
		for (int i = 0; i < f->opt->set_values.n; i++)
		{
			const char *item = f->opt->set_values.items[i];
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
		strbuf_appendf(&b, "%s FROM pg_temp.fkscan_keys_%d s WHERE EXISTS (SELECT 1 FROM ",
					   sets.data, n);
		risql_append_from(&b, r->child);
		/*
		 * Only the FK's own key may conflict (a stub another session made
		 * meanwhile); a clash on another unique column is an error naming
		 * its index, never a stub silently dropped.
		 */
		strbuf_appendf(&b, " c WHERE %s) ON CONFLICT (", rows.data);
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
	}
	strbuf_free(&rows);
	strbuf_free(&b);
	free(child);
}

/*
 * One FK's steps, in batches of --batch-size keys (a transaction each) or
 * all at once; *n numbers temporary tables and backup files across the run.
 */
static void
build_fk(Fix *f, const Catalog *cat, FixFk *x, int *n)
{
	int			size = f->opt->batch_size;
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
static void
order_fks(const Catalog *graph, FixFk **list, int n)
{
	for (int pass = 0; pass < n; pass++)
	{
		bool		moved = false;

		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
			{
				Oid			a = list[i]->r->child->oid;
				Oid			b = list[j]->r->child->oid;
				bool		b_refs_a = false;

				/* does b's child table reference a's child table (by any FK)? */
				for (int g = 0; g < graph->nfks && !b_refs_a && a != b; g++)
					b_refs_a = graph->tables[graph->fks[g].child].oid == b &&
						graph->tables[graph->fks[g].parent].oid == a;
				if (b_refs_a)
				{
					FixFk	   *t = list[j];

					memmove(list + i + 1, list + i, sizeof(FixFk *) * (size_t) (j - i));
					list[i] = t;
					moved = true;
				}
			}
		if (!moved)
			break;
	}
}

/* ---- the script ---- */

static void
print_sql_literal(FILE *out, const char *s)
{
	fputc('\'', out);
	for (const char *p = s; *p; p++)
	{
		if (*p == '\'')
			fputc('\'', out);
		fputc(*p, out);
	}
	fputc('\'', out);
}

/*
 * A backup CSV written by the script: created 0600 and never over an
 * existing file or link (noclobber), by the shell psql's \copy runs; a
 * failure stops the script before its COMMIT.  psql_safe_path() keeps
 * quotes out of the path, so plain shell quotes hold it.
 */
static void
print_backup_copy(FILE *out, const FixStep *st)
{
	StrBuf		cmd;

	strbuf_init(&cmd);
	strbuf_appendf(&cmd, "umask 077 && set -C && exec cat > '%s'", st->path);
	fprintf(out, "\\copy pg_temp.fkscan_backup_%d TO PROGRAM ", st->n);
	print_sql_literal(out, cmd.data);
	fputs(" WITH (FORMAT csv, HEADER)\n", out);
	strbuf_free(&cmd);
}

static const char check_function[] =
	"CREATE OR REPLACE FUNCTION pg_temp.fkscan_check(got bigint, want bigint, what text)\n"
	"  RETURNS void LANGUAGE plpgsql AS\n"
	"$fkscan$BEGIN\n"
	"  IF got IS DISTINCT FROM want THEN\n"
	"    RAISE EXCEPTION 'fkscan: % rows for %, expected %: rows changed since the scan; nothing was changed', got, what, want;\n"
	"  END IF;\n"
	"END$fkscan$";

static void
print_script(const Fix *f, const char *database, FILE *out)
{
	const char *strategy = f->opt->strategy == STRATEGY_DELETE ? "delete"
		: f->opt->strategy == STRATEGY_NULLIFY ? "nullify" : "backfill";

	fprintf(out, "-- fkscan fix --strategy %s: the repair of the orphan rows the scan found", strategy);
	if (database)
	{
		fputs(" in database ", out);
		print_sql_literal(out, database);
	}
	fputs(".\n-- Dry run: nothing was changed.  Run it with: psql -X -v ON_ERROR_STOP=1 -f FILE\n"
		  "-- (or run fkscan fix again with --apply).  The orphan keys are data (COPY);\n"
		  "-- every statement re-checks that each row is still an orphan, and a row\n"
		  "-- count that differs from the scan's aborts the transaction.\n"
		  "\\set ON_ERROR_STOP on\n", out);
	if (f->backup_dir)
	{
		fputs("\\! mkdir -m 700 -p -- ", out);
		print_sql_literal(out, f->backup_dir);
		fputc('\n', out);
	}
	/* the session fkscan's own connections have (pgconn.h) */
	fprintf(out, "SET client_encoding = 'UTF8';\nSET search_path = '';\nSET row_security = off;\n"
			"SET DateStyle = 'ISO';\nSET IntervalStyle = 'postgres';\nSET TimeZone = 'UTC';\n"
			"SET extra_float_digits = 3;\nSET standard_conforming_strings = on;\n%s;\n",
			check_function);
	for (int i = 0; i < f->nsteps; i++)
	{
		const FixStep *st = &f->steps[i];

		switch (st->kind)
		{
			case STEP_COMMENT:
				fprintf(out, "%s\n", st->sql);
				break;
			case STEP_BEGIN:
				fprintf(out, "BEGIN;\nSET LOCAL lock_timeout = %d;\nSET LOCAL statement_timeout = %d;\n",
						f->opt->conn.lock_timeout_ms, f->opt->statement_timeout_ms);
				break;
			case STEP_COMMIT:
				fputs("COMMIT;\n", out);
				break;
			case STEP_SQL:
				fprintf(out, "%s;\n", st->sql);
				break;
			case STEP_COPY_IN:
				fprintf(out, "%s;\n", st->sql);
				fwrite(st->data, 1, st->len, out);
				fputs("\\.\n", out);
				break;
			case STEP_EXPECT:
				fprintf(out, "%s \\gset\n", st->sql);
				break;
			case STEP_DML:
				fprintf(out, "%s;\nSELECT pg_temp.fkscan_check(:ROW_COUNT, ", st->sql);
				if (st->expect >= 0)
					fprintf(out, "%" PRId64, st->expect);
				else
					fputs(":fkscan_expect", out);
				fputs(", ", out);
				print_sql_literal(out, st->what);
				fputs(");\n", out);
				break;
			case STEP_UNSEEN:
				fprintf(out, "SELECT pg_temp.fkscan_check((%s), 0, ", st->sql);
				print_sql_literal(out, st->what);
				fputs(" || ': rows the scan did not see'::text);\n", out);
				break;
			case STEP_BACKUP:
				print_backup_copy(out, st);
				break;
		}
	}
}

/* ---- --apply ---- */

static bool
append_copy_data(void *ctx, const char *buf, int len)
{
	strbuf_append_len(ctx, buf, (size_t) len);
	return true;
}

static bool
count_row(void *ctx, const PGresult *res, int row)
{
	*(int64_t *) ctx = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	return true;
}

/* The restore script: puts back the rows (or old values) of backups [0, upto). */
static void
build_restore(const Fix *f, int upto, StrBuf *b)
{
	bool		del = f->opt->strategy == STRATEGY_DELETE;

	strbuf_appendf(b, "-- fkscan restore: puts back what fkscan fix --strategy %s changed.\n"
				   "-- The rows are orphans: putting them back needs their FK not to fire, as\n"
				   "-- when they first arrived (session_replication_role = replica: superuser).\n"
				   "-- Run it with: psql -X -v ON_ERROR_STOP=1 -d DATABASE -f restore.sql\n"
				   "\\set ON_ERROR_STOP on\nBEGIN;\nSET LOCAL session_replication_role = replica;\n",
				   del ? "delete" : "nullify");
	for (int s = 0; s < upto; s++)
	{
		const FixStep *st = &f->steps[s];
		const FixFk *x = st->fk;
		const FkResult *r;
		char	  **cols;
		int			ncols;

		if (st->kind != STEP_BACKUP)
			continue;
		r = x->r;
		cols = del ? x->cols : x->pk;
		ncols = del ? x->ncols : x->npk;
		strbuf_appendf(b, "CREATE TEMPORARY TABLE fkscan_restore_%d ON COMMIT DROP AS SELECT ", st->n);
		for (int i = 0; i < ncols; i++)
		{
			strbuf_append(b, i ? ", " : "");
			pgconn_append_ident(b, "c", cols[i]);
		}
		for (int i = 0; !del && i < r->fk->ncols; i++)
			if (x->nullify[i])
			{
				strbuf_append(b, ", ");
				pgconn_append_ident(b, "c", r->fk->child_cols[i].name);
			}
		strbuf_append(b, " FROM ");
		risql_append_from(b, r->child);
		strbuf_appendf(b, " c WITH NO DATA;\n\\copy pg_temp.fkscan_restore_%d FROM '%s' WITH (FORMAT csv, HEADER)\n",
					   st->n, st->path);
		if (del)
		{
			strbuf_append(b, "INSERT INTO ");
			pgconn_append_relation(b, r->child->schema, r->child->name);
			strbuf_append(b, " (");
			for (int i = 0; i < ncols; i++)
			{
				strbuf_append(b, i ? ", " : "");
				pgconn_append_ident(b, NULL, cols[i]);
			}
			strbuf_appendf(b, ") OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.fkscan_restore_%d;\n", st->n);
		}
		else
		{
			strbuf_append(b, "UPDATE ");
			risql_append_from(b, r->child);
			strbuf_append(b, " c SET ");
			for (int i = 0, m = 0; i < r->fk->ncols; i++)
				if (x->nullify[i])
				{
					strbuf_append(b, m++ ? ", " : "");
					pgconn_append_ident(b, NULL, r->fk->child_cols[i].name);
					strbuf_append(b, " = ");
					pgconn_append_ident(b, "o", r->fk->child_cols[i].name);
				}
			strbuf_appendf(b, " FROM pg_temp.fkscan_restore_%d o WHERE ", st->n);
			for (int i = 0; i < ncols; i++)
			{
				strbuf_append(b, i ? " AND " : "");
				pgconn_append_ident(b, "c", cols[i]);
				strbuf_append(b, " = ");
				pgconn_append_ident(b, "o", cols[i]);
			}
			strbuf_append(b, ";\n");
		}
	}
	strbuf_append(b, "COMMIT;\n");
}

/*
 * The restore script for the backups of steps [0, upto), written (outfile:
 * durable, its directory synced) before the COMMIT that makes those rows
 * gone: as restore.sql.pending, which refuses to run unless told the
 * COMMIT happened (-v fkscan_committed=1).  After the COMMIT, restore.sql
 * (committed: true).  A kill or an unknown COMMIT outcome in between
 * leaves restore.sql covering only what is known committed, and the
 * pending script beside it.
 */
static bool
write_restore(Fix *f, int upto, bool committed)
{
	StrBuf		path,
				pending,
				data;
	bool		ok;

	strbuf_init(&path);
	strbuf_appendf(&path, "%s/restore.sql", f->backup_dir);
	strbuf_init(&pending);
	strbuf_appendf(&pending, "%s.pending", path.data);
	strbuf_init(&data);
	if (!committed)
		strbuf_append(&data,
					  "-- PENDING: written just before a COMMIT whose outcome fkscan did not see.\n"
					  "-- Run it only if that repair is known to have committed (its rows are gone\n"
					  "-- from the tables): psql -X -v fkscan_committed=1 -d DATABASE -f restore.sql.pending\n"
					  "\\set ON_ERROR_STOP on\n\\if :{?fkscan_committed}\n\\else\n"
					  "DO $fkscan$BEGIN RAISE EXCEPTION 'restore.sql.pending: not run: give -v fkscan_committed=1 "
					  "once the repair is known to have committed'; END$fkscan$;\n\\endif\n");
	build_restore(f, upto, &data);
	ok = outfile_save(committed ? path.data : pending.data, data.data, data.len);
	/* restore.sql covers the commit now: the pending script is void */
	if (ok && committed && unlink(pending.data) == 0)
		outfile_sync_dir(pending.data);
	strbuf_free(&data);
	strbuf_free(&pending);
	strbuf_free(&path);
	return ok;
}

/* After a rollback, a pending restore script describes nothing that happened. */
static void
discard_pending_restore(Fix *f)
{
	StrBuf		path;

	if (f->backup_dir == NULL)
		return;
	strbuf_init(&path);
	strbuf_appendf(&path, "%s/restore.sql.pending", f->backup_dir);
	if (unlink(path.data) == 0)
		outfile_sync_dir(path.data);
	strbuf_free(&path);
}

/* Roll back after a failure; says what stays. */
static void
rollback(Fix *f, int committed)
{
	f->wc->quiet_errors = true;
	(void) pgconn_exec(f->wc, "ROLLBACK", 0, NULL, NULL, NULL);
	f->wc->quiet_errors = false;
	if (committed == 0)
		log_detail("The transaction was rolled back: nothing was changed.");
	else
		log_detail("This batch was rolled back; the %d batches before it were committed "
				   "(restore.sql covers them).  Run fkscan fix again to go on.", committed);
}

static bool
apply_steps(Fix *f)
{
	char		sql[128];
	int64_t		measured = -1;
	bool		backup = f->opt->strategy != STRATEGY_BACKFILL;
	StrBuf		data;
	bool		ok = true;
	int			committed = 0;

	strbuf_init(&data);
	for (int i = 0; ok && i < f->nsteps; i++)
	{
		FixStep    *st = &f->steps[i];
		uint64_t	affected = 0;

		if (signals_interrupted())
		{
			log_error("interrupted: the repair is abandoned");
			ok = false;
			break;
		}
		switch (st->kind)
		{
			case STEP_COMMENT:
				/* what each FK has, and what its deletion reaches, first */
				printf("%s\n", st->sql + 1);
				break;
			case STEP_BEGIN:
				ok = pgconn_exec(f->wc, "BEGIN", 0, NULL, NULL, NULL);
				snprintf(sql, sizeof(sql), "SET LOCAL lock_timeout = %d", f->opt->conn.lock_timeout_ms);
				ok = ok && pgconn_exec(f->wc, sql, 0, NULL, NULL, NULL);
				snprintf(sql, sizeof(sql), "SET LOCAL statement_timeout = %d",
						 f->opt->statement_timeout_ms);
				ok = ok && pgconn_exec(f->wc, sql, 0, NULL, NULL, NULL);
				break;
			case STEP_COMMIT:
				if (backup)
					ok = write_restore(f, i, false);
				/* the crash tests' "kill -9 just before COMMIT" */
				if (ok && getenv("FKSCAN_TEST_KILL_BEFORE_COMMIT"))
					raise(SIGKILL);
				if (ok && !pgconn_exec(f->wc, "COMMIT", 0, NULL, NULL, NULL))
				{
					log_detail("The outcome of COMMIT is unknown: check the tables before using the backup "
							   "(restore.sql.pending covers this transaction if it committed).");
					strbuf_free(&data);
					return false;
				}
				if (ok)
					committed++;
				if (ok && backup && !write_restore(f, i, true))
					log_warning("the repair committed; restore.sql.pending (run with -v fkscan_committed=1) restores it");
				break;
			case STEP_SQL:
				ok = pgconn_exec(f->wc, st->sql, 0, NULL, NULL, NULL);
				break;
			case STEP_COPY_IN:
				ok = pgconn_copy_in(f->wc, st->sql, st->data, st->len);
				break;
			case STEP_EXPECT:
				ok = pgconn_exec(f->wc, st->sql, 0, NULL, count_row, &measured);
				break;
			case STEP_DML:
				{
					int64_t		want = st->expect >= 0 ? st->expect : measured;

					ok = pgconn_exec_count(f->wc, st->sql, 0, NULL, &affected);
					if (ok && (int64_t) affected != want)
					{
						log_error("%s: %" PRIu64 " rows, the scan found %" PRId64
								  ": rows changed since the scan", st->what, affected, want);
						ok = false;
					}
					else if (ok)
					{
						printf("%s: %" PRIu64 " rows\n", st->what, affected);
						st->fk->done += affected;
					}
				}
				break;
			case STEP_UNSEEN:
				{
					int64_t		unseen = -1;

					ok = pgconn_exec(f->wc, st->sql, 0, NULL, count_row, &unseen);
					if (ok && unseen != 0)
					{
						log_error("%s: %" PRId64 " rows written after the scan's snapshot: rows changed since the scan",
								  st->what, unseen);
						ok = false;
					}
				}
				break;
			case STEP_BACKUP:
				strbuf_reset(&data);
				ok = pgconn_copy_out(f->wc, st->sql, append_copy_data, &data, NULL) &&
					outfile_save(st->path, data.data, data.len);
				if (ok)
					printf("  backup: %s\n", st->path);
				break;
		}
		if (!ok && strcmp(f->wc->sqlstate, "55P03") == 0)
			log_hint("Another session holds a lock the repair needs; --lock-timeout is %d ms.",
					 f->opt->conn.lock_timeout_ms);
	}
	strbuf_free(&data);
	if (!ok)
	{
		rollback(f, committed);
		discard_pending_restore(f);
		return false;
	}
	if (backup)
		printf("restore script: %s/restore.sql\n", f->backup_dir);
	/* batches: each was checked on its own; the sum must still be the scan's */
	for (int i = 0; f->opt->batch_size > 0 && i < f->nfks; i++)
	{
		FixFk	   *x = &f->fks[i];
		uint64_t	want;

		if (!x->seen || x->r == NULL || x->touched)
			continue;
		want = f->opt->strategy == STRATEGY_BACKFILL ? x->r->orphan_keys : x->r->orphan_rows;
		if (x->done != want)
		{
			log_error("%s: %" PRIu64 " repaired in %d batches, the scan found %" PRIu64
					  ": rows changed since the scan", x->r->fk->name, x->done, x->nbatches, want);
			log_detail("The batches were committed; run fkscan fix again to repair what is left.");
			ok = false;
		}
	}
	return ok;
}

/* A directory with no entries but . and ..; false (logged) if unreadable. */
static bool
dir_is_empty(const char *dir, bool *empty)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
	{
		log_error("could not open backup directory \"%s\": %s", dir, strerror(errno));
		return false;
	}
	*empty = true;
	while (*empty && (e = readdir(d)) != NULL)
		*empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return true;
}

/* Whether psql's \copy and \! lines can take the path (quote_sql_literal-free). */
static bool
psql_safe_path(const char *given, const char *path)
{
	if (strpbrk(path, "'\\\n\r") == NULL)
		return true;
	if (strcmp(given, path) == 0)
		log_error("invalid backup directory \"%s\": it may not contain quotes, backslashes or newlines",
				  given);
	else
		log_error("invalid backup directory \"%s\": its real path \"%s\" holds a quote, backslash or newline",
				  given, path);
	log_detail("The restore script names it in psql's \\copy, which cannot take those.");
	return false;
}

/*
 * Make the backup directory (one level, 0700) and remember its absolute
 * path.  It is this repair's alone: the default name gets a -N suffix if
 * another repair took it within the same second; a --backup-dir that
 * exists must be empty.
 */
static bool
prepare_backup_dir(Fix *f, bool create)
{
	const char *dir = f->opt->backup_dir;
	char		name[80];
	char	   *abs;
	bool		empty;

	if (dir != NULL && (dir[0] == '\0' || dir[0] == '-'))
	{
		log_error("invalid backup directory \"%s\": %s", dir,
				  dir[0] ? "it may not start with \"-\"" : "it may not be empty");
		return false;
	}
	if (dir == NULL)
	{
		time_t		now = time(NULL);
		struct tm	tm;
		size_t		len;

		gmtime_r(&now, &tm);
		len = strftime(name, sizeof(name), "fkscan-backup-%Y%m%dT%H%M%SZ", &tm);
		for (int n = 2; create && mkdir(name, 0700) != 0; n++)
		{
			if (errno != EEXIST || n > 1000)
			{
				log_error("could not create backup directory \"%s\": %s", name, strerror(errno));
				return false;
			}
			snprintf(name + len, sizeof(name) - len, "-%d", n);
		}
		dir = name;
	}
	else if (!psql_safe_path(dir, dir))
		return false;
	else if (create && mkdir(dir, 0700) != 0)
	{
		if (errno != EEXIST)
		{
			log_error("could not create backup directory \"%s\": %s", dir, strerror(errno));
			return false;
		}
		if (!dir_is_empty(dir, &empty))
			return false;
		if (!empty)
		{
			log_error("backup directory \"%s\" exists and is not empty", dir);
			log_hint("Give a new or empty directory: this repair's backups and restore.sql must not mix with others.");
			return false;
		}
	}
	abs = create ? realpath(dir, NULL) : NULL;
	if (create && abs == NULL)
	{
		log_error("could not resolve backup directory \"%s\": %s", dir, strerror(errno));
		return false;
	}
	if (abs && !psql_safe_path(dir, abs))
	{
		free(abs);
		return false;
	}
	f->backup_dir = abs ? abs : fk_strdup(dir);
	return true;
}

/* ScanHook.finish: plan, refuse or print or apply. */
static int
fix_finish(void *ctx, const Catalog *cat, ScanResult *res, int scan_rc)
{
	Fix		   *f = ctx;
	FixFk	  **list;
	int			n = 0;
	bool		ok = true;
	bool		backup = f->opt->strategy != STRATEGY_BACKFILL;
	int			rc;

	if (scan_rc == FK_EXIT_ERROR || res->nerrors > 0)
	{
		log_error("the scan did not complete: nothing to repair safely");
		return FK_EXIT_ERROR;
	}
	f->cat = cat;
	list = fk_calloc((size_t) f->nfks + 1, sizeof(FixFk *));
	for (int i = 0; i < f->nfks && i < res->nfks; i++)
		if (f->fks[i].seen && res->fks[i].status == FKSTATUS_ORPHANS)
		{
			f->fks[i].r = &res->fks[i];
			list[n++] = &f->fks[i];
		}
	if (n == 0)
	{
		printf("-- fkscan fix: no orphan rows in the %d selected foreign keys: nothing to do.\n",
			   res->nfks);
		free(list);
		return FK_EXIT_OK;
	}
	for (int i = 0; i < n; i++)
		ok &= fix_check(f, list[i]);
	if (!ok)
	{
		log_detail("Nothing was changed.");
		free(list);
		return FK_EXIT_ERROR;
	}
	if (backup && !prepare_backup_dir(f, f->opt->apply))
	{
		free(list);
		return FK_EXIT_ERROR;
	}
	/* every FK when a filter applied (res->graph), else the scan's catalog */
	order_fks(res->graph ? res->graph : f->cat, list, n);
	add_step(f, STEP_BEGIN, NULL);
	for (int k = 0, num = 0; k < n; k++)
	{
		const FkResult *r = list[k]->r;

		/* an earlier statement changed the same table: measure, do not assume */
		for (int j = 0; j < k; j++)
			list[k]->touched |= f->opt->strategy == STRATEGY_BACKFILL
				? list[j]->r->parent->oid == r->parent->oid
				: list[j]->r->child->oid == r->child->oid;
		build_fk(f, f->cat, list[k], &num);
	}
	add_step(f, STEP_COMMIT, NULL);
	if (!f->opt->apply)
	{
		print_script(f, res->database, stdout);
		rc = FK_EXIT_FOUND;
	}
	else
		rc = apply_steps(f) ? FK_EXIT_OK : FK_EXIT_ERROR;
	free(list);
	return rc;
}

int
fix_run(const FkOptions *opt)
{
	Fix			f;
	ScanHook	hook = {&f, fix_keys, fix_finish};
	bool		in_recovery = false;
	char	   *value = NULL;
	int			rc;

	memset(&f, 0, sizeof(f));
	f.opt = opt;
	/* the connection that writes: refuse a standby before scanning anything */
	f.wc = pgconn_connect(&opt->conn, "repair");
	if (f.wc == NULL)
		return FK_EXIT_ERROR;
	if (!pgconn_fetch_string(f.wc, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL, &value))
	{
		fix_free(&f);
		return FK_EXIT_ERROR;
	}
	in_recovery = value && strcmp(value, "t") == 0;
	free(value);
	if (in_recovery && opt->apply)
	{
		log_error("cannot repair on a hot standby: the server is in recovery (read-only)");
		log_hint("Run fkscan fix --apply against the primary.");
		fix_free(&f);
		return FK_EXIT_ERROR;
	}
	rc = scan_run_hooked(opt, &hook);
	fix_free(&f);
	return rc;
}
