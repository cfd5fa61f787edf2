/*
 * fix.c
 *	  "fkscan fix": repair the orphan rows a scan found, as a psql script
 *	  (the default) or with --apply in one checked transaction (or one per
 *	  --batch-size keys).
 *
 * The scan runs first, in-process (scan_execute, keeping its keys): while
 * it holds them, each broken FK's distinct orphan keys are turned into COPY text
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
#include "fkscan/signals.h"
#include "fkscan/standby.h"
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
		FixFk *x = &f->fks[i];

		strbuf_free(&x->keys);
		free(x->snapshot);
		for (int c = 0; c < x->ncols; c++)
			free(x->cols[c]);
		free(x->cols);
		for (int c = 0; c < x->npk; c++)
			free(x->pk[c]);
		free(x->pk);
		free(x->nullify);
		free(x->quarantine);
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
	FixFk *x = ctx;

	for (int i = 0; i < PQnfields(res); i++)
	{
		if (i)
			strbuf_append_char(&x->keys, '\t');
		if (PQgetisnull(res, row, i))
			return false; /* a key with a NULL is no key: never here */
		strbuf_append_copy_text(&x->keys, PQgetvalue(res, row, i));
	}
	strbuf_append_char(&x->keys, '\n');
	x->nkeys++;
	return true;
}

static bool
int_key(int64_t key, void *ctx)
{
	FixFk *x = ctx;

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

/* Copy one FK's distinct orphan keys out as COPY text, in the scan's snapshot. */
static bool
fix_keys(FixFk *x, PgConn *verifier, const Catalog *cat, const FkResult *r, const ScanOrphanKeys *k)
{
	bool ok = true;

	x->seen = true;
	x->nkeys = 0;
	strbuf_init(&x->keys);
	if (!pgconn_exec(verifier, "SELECT pg_catalog.pg_current_snapshot()::pg_catalog.text", 0, NULL,
					 snapshot_row, &x->snapshot))
		return false;
	if (k->ints)
		keyset64_iterate(k->ints, int_key, x);
	else if (k->cands)
		ok = verify_candidates_text(verifier, r->fk, k->cands, k->confirmed, key_text_row, x);
	else
	{
		/* checked on the server: its anti-join, on the same snapshot */
		StrBuf sql;

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

/*
 * Every broken FK's keys, while the scan still holds them; false (exit 2)
 * if any could not be copied out.
 */
static bool
fix_collect_keys(Fix *f, const ScanOutcome *out)
{
	if (signals_interrupted())
		return false;
	f->nfks = out->result.nfks;
	f->fks = fk_calloc((size_t) f->nfks + 1, sizeof(FixFk));
	for (int i = 0; i < f->nfks; i++)
	{
		ScanOrphanKeys k;

		if (scan_outcome_keys(out, i, &k) &&
			!fix_keys(&f->fks[i], scan_outcome_verifier(out), out->cat, &out->result.fks[i], &k))
			return false;
	}
	return true;
}

/* Plan, refuse or print or apply. */
static int
fix_finish(Fix *f, const Catalog *cat, ScanResult *res, int scan_rc)
{
	FixFk **list;
	int		n = 0;
	bool	ok = true;
	bool	backup = f->opt->repair.strategy != STRATEGY_BACKFILL;
	int		rc;

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
	if (backup && !prepare_backup_dir(f, f->opt->repair.apply))
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
			list[k]->touched |= f->opt->repair.strategy == STRATEGY_BACKFILL
									? list[j]->r->parent->oid == r->parent->oid
									: list[j]->r->child->oid == r->child->oid;
		build_fk(f, f->cat, list[k], &num);
	}
	add_step(f, STEP_COMMIT, NULL);
	if (!f->opt->repair.apply)
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
	ScanOutcome out;
	int			rc = FK_EXIT_ERROR;

	memset(&f, 0, sizeof(f));
	f.opt = opt;
	/* the connection that writes: refuse a standby before scanning anything */
	f.wc = standby_connect_writer(&opt->conn, opt->repair.apply, "fix", "repair");
	if (f.wc == NULL)
		return FK_EXIT_ERROR;
	if (scan_execute(opt, NULL, true, &out))
	{
		int scan_rc = fix_collect_keys(&f, &out) ? out.rc : FK_EXIT_ERROR;

		/* the repair needs neither the keys' sets nor the scan's snapshot */
		scan_outcome_drop_keys(&out);
		rc = fix_finish(&f, out.cat, &out.result, scan_rc);
	}
	scan_outcome_free(&out);
	fix_free(&f);
	return rc;
}
