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

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fkscan/fixsteps.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/risql.h"
#include "fkscan/scan.h"
#include "fkscan/strbuf.h"
#include "fkscan/verify.h"

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
