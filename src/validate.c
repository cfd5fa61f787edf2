/*
 * validate.c
 *	  "fkscan validate": make the server enforce and trust the foreign keys
 *	  a scan found clean.
 *
 * The scan runs first (scan_execute); then, for each FK in scope:
 *   - orphans found: nothing is done, and the report says how many, and
 *     says so plainly when the catalog calls the FK valid;
 *   - clean, NOT VALID: ALTER TABLE ... VALIDATE CONSTRAINT (the server
 *     checks again itself: SHARE UPDATE EXCLUSIVE on the child, ROW SHARE
 *     on the parent);
 *   - clean, NOT ENFORCED (18) or RI triggers missing: left as they are,
 *     with what to run (exit 1);
 *   - clean, RI triggers disabled or replica-only: ALTER TABLE ... ENABLE
 *     TRIGGER for each (superuser only), then, in the same transaction and
 *     under the lock ENABLE took, RI's anti-join once more: enabling checks
 *     nothing, and rows may have arrived since the scan;
 *   - clean, undeclared (--relation), with --add: ADD FOREIGN KEY ... NOT
 *     VALID (short SHARE ROW EXCLUSIVE locks, no check), then VALIDATE
 *     CONSTRAINT as above, the server checking every row itself; without
 *     --add, or without a unique index on the parent key, left as it is.
 * Each action is its own transaction with lock_timeout and
 * statement_timeout; a lock timeout is retried with back-off
 * (--lock-retries), then reported (exit 2) naming the table.  Without
 * --apply the statements are printed only.  A hot standby is refused.
 */
#include "fkscan/validate.h"

#include <inttypes.h>
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
#include "fkscan/scan.h"
#include "fkscan/signals.h"
#include "fkscan/standby.h"
#include "fkscan/strbuf.h"
#include "fkscan/texttable.h"

typedef struct Validate
{
	const FkOptions *opt;
	PgConn			*wc;
	const Catalog	*cat; /* the scan's: the FkResults point into it */
} Validate;

static double
seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - t0->tv_sec) + (double) (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * "ALTER TABLE rel ENABLE TRIGGER name" for each RI trigger of fk not 'O',
 * each after a LOCK of its table in the mode ENABLE takes, so that the
 * wait for it can be timed apart (run_action).
 */
typedef struct TriggerList
{
	StrBuf *stmts;
	int		n;
} TriggerList;

static bool
trigger_row(void *ctx, const PGresult *res, int row)
{
	TriggerList *l = ctx;

	/* quoted here, not by the server: the statements are also printed */
	strbuf_append(l->stmts, "LOCK TABLE ");
	pgconn_append_relation(l->stmts, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
	strbuf_append(l->stmts, " IN SHARE ROW EXCLUSIVE MODE\n");
	strbuf_append(l->stmts, "ALTER TABLE ");
	pgconn_append_relation(l->stmts, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
	strbuf_append(l->stmts, " ENABLE TRIGGER ");
	pgconn_append_ident(l->stmts, NULL, PQgetvalue(res, row, 2));
	strbuf_append_char(l->stmts, '\n');
	l->n++;
	return true;
}

/* The FK's RI triggers that do not fire (on its partition clones too). */
static bool
disabled_triggers(PgConn *c, const CatForeignKey *fk, StrBuf *stmts, int *n)
{
	char		oid[16];
	const char *params[1] = {oid};
	TriggerList l = {stmts, 0};
	bool		ok;

	snprintf(oid, sizeof(oid), "%u", fk->oid);
	ok = pgconn_exec(
		c,
		"WITH RECURSIVE fk(con) AS ("
		" SELECT $1::pg_catalog.oid"
		" UNION ALL SELECT k.oid FROM pg_catalog.pg_constraint k"
		" JOIN fk ON k.conparentid OPERATOR(pg_catalog.=) fk.con) "
		"SELECT n.nspname, r.relname, t.tgname "
		"FROM pg_catalog.pg_trigger t JOIN fk ON t.tgconstraint OPERATOR(pg_catalog.=) fk.con "
		"JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) t.tgrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.relnamespace "
		"WHERE t.tgenabled OPERATOR(pg_catalog.<>) 'O' "
		"ORDER BY t.tgrelid::pg_catalog.regclass::pg_catalog.text, t.tgname",
		1, params, trigger_row, &l);
	*n = l.n;
	return ok;
}

static bool
exists_row(void *ctx, const PGresult *res, int row)
{
	*(bool *) ctx = strcmp(PQgetvalue(res, row, 0), "t") == 0;
	return true;
}

/*
 * Run one action in its own transaction, retrying a lock timeout with
 * back-off.  recheck: RI's anti-join after the statements (ENABLE checks
 * nothing).  Returns false after logging; *seconds is the time it took,
 * *lock_wait_s the part spent in its LOCK statements.
 */
static bool
run_action(Validate *v, const char *stmts, const CatForeignKey *fk, bool recheck, const char *table,
		   double *seconds, double *lock_wait_s)
{
	int attempts = v->opt->repair.lock_retries + 1;

	for (int attempt = 1; attempt <= attempts; attempt++)
	{
		char			sql[96];
		char			state[6];
		char			msg[512];
		struct timespec t0;
		bool			ok, dirty = false;
		const char	   *p = stmts;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		*lock_wait_s = 0;
		pgconn_set_quiet(v->wc, true);
		ok = pgconn_exec(v->wc, "BEGIN", 0, NULL, NULL, NULL);
		snprintf(sql, sizeof(sql), "SET LOCAL lock_timeout = %d", v->opt->conn.lock_timeout_ms);
		ok = ok && pgconn_exec(v->wc, sql, 0, NULL, NULL, NULL);
		snprintf(sql, sizeof(sql), "SET LOCAL statement_timeout = %d",
				 v->opt->repair.statement_timeout_ms);
		ok = ok && pgconn_exec(v->wc, sql, 0, NULL, NULL, NULL);
		while (ok && *p)
		{
			size_t			len = strcspn(p, "\n");
			char		   *one = strndup(p, len);
			struct timespec t1;

			clock_gettime(CLOCK_MONOTONIC, &t1);
			ok = pgconn_exec(v->wc, one, 0, NULL, NULL, NULL);
			if (strncmp(one, "LOCK ", 5) == 0)
				*lock_wait_s += seconds_since(&t1);
			free(one);
			p += len + (p[len] == '\n');
		}
		if (ok && recheck)
		{
			StrBuf q;

			strbuf_init(&q);
			strbuf_append(&q, "SELECT EXISTS (SELECT 1 FROM ");
			risql_append_from(&q, &v->cat->tables[fk->child]);
			strbuf_append(&q, " c WHERE ");
			risql_append_violation(&q, v->cat, fk);
			strbuf_append(&q, ")");
			ok = pgconn_exec(v->wc, q.data, 0, NULL, exists_row, &dirty);
			strbuf_free(&q);
		}
		if (ok && !dirty)
			ok = pgconn_exec(v->wc, "COMMIT", 0, NULL, NULL, NULL);
		pgconn_set_quiet(v->wc, false);
		*seconds = seconds_since(&t0);
		if (ok && !dirty)
			return true;
		/* keep the failure's SQLSTATE and message: ROLLBACK resets them */
		memcpy(state, pgconn_sqlstate(v->wc), sizeof(state));
		snprintf(msg, sizeof(msg), "%s", pgconn_error(v->wc, "failed"));
		(void) pgconn_exec(v->wc, "ROLLBACK", 0, NULL, NULL, NULL);
		if (dirty)
		{
			log_error("%s: orphan rows arrived after the scan: the triggers were left as they were",
					  fk->name);
			return false;
		}
		if (strcmp(state, "55P03") == 0 && attempt < attempts && !signals_interrupted())
		{
			unsigned ms = 250u << (attempt - 1);

			log_warning("%s: lock not granted within %d ms; retrying in %u ms (attempt %d of %d)",
						table, v->opt->conn.lock_timeout_ms, ms, attempt + 1, attempts);
			usleep(ms * 1000);
			continue;
		}
		if (strcmp(state, "55P03") == 0)
		{
			log_error("%s: could not lock table %s within --lock-timeout %d ms (%d attempt%s)",
					  fk->name, table, v->opt->conn.lock_timeout_ms, attempt,
					  attempt == 1 ? "" : "s");
			log_detail("Another session holds a conflicting lock; nothing was changed.");
		}
		else if (strcmp(state, "42501") == 0 && recheck)
		{
			log_error("%s: %s", fk->name, msg);
			log_hint("Enabling RI triggers needs a superuser.");
		}
		else
			log_error("%s: %s", fk->name, msg);
		return false;
	}
	return false;
}

/* What became of one FK. */
typedef enum FkOutcome
{
	FKV_DONE,  /* valid and enforced now, or already */
	FKV_TODO,  /* clean, but something is left to run */
	FKV_DIRTY, /* orphans: not validated */
	FKV_FAILED /* the scan or the statements failed */
} FkOutcome;

/*
 * VALIDATE CONSTRAINT, after its lock on the child, taken first and timed.
 * Its ROW SHARE on the parent is left to VALIDATE: LOCK would need a
 * privilege on the parent that VALIDATE does not.
 */
static void
append_validate(StrBuf *stmts, const FkResult *r)
{
	strbuf_append(stmts, "LOCK TABLE ");
	pgconn_append_relation(stmts, r->child->schema, r->child->name);
	strbuf_append(stmts, " IN SHARE UPDATE EXCLUSIVE MODE\n");
	strbuf_append(stmts, "ALTER TABLE ");
	pgconn_append_relation(stmts, r->child->schema, r->child->name);
	strbuf_append(stmts, " VALIDATE CONSTRAINT ");
	pgconn_append_ident(stmts, NULL, r->fk->name);
	strbuf_append_char(stmts, '\n');
}

/* Print the statements of an action not applied, one a line. */
static void
print_statements(const char *stmts)
{
	for (const char *p = stmts; *p;)
	{
		size_t len = strcspn(p, "\n");

		printf("  %.*s;\n", (int) len, p);
		p += len + (p[len] == '\n');
	}
}

/*
 * A clean FK whose RI triggers exist: enable those disabled, VALIDATE if
 * NOT VALID; printed, or run with --apply.
 */
static FkOutcome
validate_clean(Validate *v, const FkResult *r, const char *name, const char *table)
{
	const CatForeignKey *fk = r->fk;
	StrBuf				 stmts;
	int					 ntrig = 0;
	double				 secs = 0, lock_wait = 0;
	FkOutcome			 outcome = FKV_DONE;

	strbuf_init(&stmts);
	if (!disabled_triggers(v->wc, fk, &stmts, &ntrig))
	{
		strbuf_free(&stmts);
		return FKV_FAILED;
	}
	if (!fk->validated)
		append_validate(&stmts, r);
	if (stmts.len == 0)
		printf("%s on %s: clean, valid and enforced: nothing to do\n", name, table);
	else if (!v->opt->repair.apply)
	{
		outcome = FKV_TODO;
		printf("%s on %s: clean; would run:\n", name, table);
		print_statements(stmts.data);
	}
	else if (run_action(v, stmts.data, fk, ntrig > 0, table, &secs, &lock_wait))
		printf("%s on %s: clean; %s%s%s in %.3f s (lock wait %.3f s)\n", name, table,
			   fk->validated ? "" : "validated", !fk->validated && ntrig ? " and " : "",
			   ntrig ? "RI triggers enabled" : "", secs, lock_wait);
	else
		outcome = FKV_FAILED;
	strbuf_free(&stmts);
	return outcome;
}

/*
 * A clean undeclared relationship, with --add: ADD FOREIGN KEY ... NOT VALID
 * in one transaction (its SHARE ROW EXCLUSIVE on the child taken first and
 * timed; the parent's left to ALTER, under the same lock_timeout), then
 * VALIDATE in another, so no lock that blocks writes is held while the
 * server reads the rows.
 */
static FkOutcome
validate_add(Validate *v, const FkResult *r, const char *name, const char *table)
{
	const CatForeignKey *fk = r->fk;
	StrBuf				 add, check;
	double				 secs[2] = {0, 0}, lock_wait[2] = {0, 0};
	FkOutcome			 outcome = FKV_DONE;

	if (!v->opt->repair.add)
	{
		printf("%s on %s: clean, but no constraint declares it: left as it is (--add adds it "
			   "as a foreign key)\n",
			   name, table);
		return FKV_TODO;
	}
	if (fk->parent_index == NULL)
	{
		printf("%s on %s: clean, but the referenced columns have no unique index: ADD FOREIGN "
			   "KEY would fail; not added\n",
			   name, table);
		return FKV_TODO;
	}
	strbuf_init(&add);
	strbuf_append(&add, "LOCK TABLE ");
	pgconn_append_relation(&add, r->child->schema, r->child->name);
	strbuf_append(&add, " IN SHARE ROW EXCLUSIVE MODE\nALTER TABLE ");
	pgconn_append_relation(&add, r->child->schema, r->child->name);
	strbuf_append(&add, " ADD CONSTRAINT ");
	pgconn_append_ident(&add, NULL, fk->name);
	strbuf_append(&add, " FOREIGN KEY (");
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_append(&add, k ? ", " : "");
		pgconn_append_ident(&add, NULL, fk->child_cols[k].name);
	}
	strbuf_append(&add, ") REFERENCES ");
	pgconn_append_relation(&add, r->parent->schema, r->parent->name);
	strbuf_append(&add, " (");
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_append(&add, k ? ", " : "");
		pgconn_append_ident(&add, NULL, fk->parent_cols[k].name);
	}
	strbuf_appendf(&add, ")%s NOT VALID\n", fk->match_type == 'f' ? " MATCH FULL" : "");
	strbuf_init(&check);
	append_validate(&check, r);
	if (!v->opt->repair.apply)
	{
		outcome = FKV_TODO;
		printf("%s on %s: clean; would add it (two transactions):\n", name, table);
		print_statements(add.data);
		print_statements(check.data);
	}
	else if (!run_action(v, add.data, fk, false, table, &secs[0], &lock_wait[0]))
		outcome = FKV_FAILED;
	else if (!run_action(v, check.data, fk, false, table, &secs[1], &lock_wait[1]))
	{
		log_detail("The constraint was added NOT VALID; \"fkscan validate\" validates it.");
		outcome = FKV_FAILED;
	}
	else
		printf("%s on %s: clean; added and validated in %.3f s (lock wait %.3f s)\n", name, table,
			   secs[0] + secs[1], lock_wait[0] + lock_wait[1]);
	strbuf_free(&add);
	strbuf_free(&check);
	return outcome;
}

/* One FK by what the scan found and what the catalog says. */
static FkOutcome
validate_one(Validate *v, const FkResult *r, const char *name, const char *table)
{
	const CatForeignKey *fk = r->fk;
	StrBuf				 b;

	strbuf_init(&b);
	if (r->status == FKSTATUS_ERROR)
	{
		quote_append_visible(&b, r->error ? r->error : "unknown error", false);
		printf("%s on %s: not validated: the scan failed: %s\n", name, table, b.data);
		strbuf_free(&b);
		return FKV_FAILED;
	}
	if (r->status == FKSTATUS_ORPHANS)
	{
		strbuf_append_count(&b, r->orphan_rows, "orphan row", NULL);
		if (!fk->declared)
			printf("%s on %s: not added: %s\n", name, table, b.data);
		else if (fk->validated && fk->enforced)
			printf("%s on %s: the catalog claims VALID, but the data is not: %s; not validated\n",
				   name, table, b.data);
		else
			printf("%s on %s: not validated: %s\n", name, table, b.data);
		strbuf_free(&b);
		return FKV_DIRTY;
	}
	if (!fk->declared)
	{
		strbuf_free(&b);
		return validate_add(v, r, name, table);
	}
	if (!fk->enforced)
	{
		/*
		 * PostgreSQL 18: VALIDATE errors on a NOT ENFORCED FK, and ENFORCED
		 * re-creates the triggers and validates under ACCESS EXCLUSIVE: a
		 * choice of downtime that is not ours to make.
		 */
		printf("%s on %s: clean, but NOT ENFORCED: left as it is (ALTER TABLE ... ALTER CONSTRAINT "
			   "... ENFORCED is yours to run: it validates under ACCESS EXCLUSIVE)\n",
			   name, table);
		strbuf_free(&b);
		return FKV_TODO;
	}
	if (fk->triggers_missing > 0)
	{
		/* no ALTER brings a lost RI trigger back: only a new constraint */
		quote_append_visible(&b, fk->missing_detail ? fk->missing_detail : "", false);
		printf("%s on %s: clean, but its RI triggers are missing (%s): left as it is (re-create "
			   "the constraint: DROP CONSTRAINT, then ADD ... NOT VALID and VALIDATE CONSTRAINT)\n",
			   name, table, b.data);
		strbuf_free(&b);
		return FKV_TODO;
	}
	strbuf_free(&b);
	return validate_clean(v, r, name, table);
}

static int
validate_finish(Validate *v, const Catalog *cat, ScanResult *res, int scan_rc)
{
	int count[FKV_FAILED + 1] = {0};

	if (scan_rc == FK_EXIT_ERROR && res->nerrors == 0)
	{
		log_error("the scan did not complete: nothing validated");
		return FK_EXIT_ERROR;
	}
	v->cat = cat;
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char		   *table = report_qualified_name(r->child->schema, r->child->name);
		StrBuf			name;

		strbuf_init(&name);
		texttable_append_name(&name, r->fk->name);
		count[validate_one(v, r, name.data, table)]++;
		strbuf_free(&name);
		free(table);
	}
	if (count[FKV_FAILED] > 0 || scan_rc == FK_EXIT_ERROR)
		return FK_EXIT_ERROR;
	return count[FKV_DIRTY] > 0 || count[FKV_TODO] > 0 ? FK_EXIT_FOUND : FK_EXIT_OK;
}

int
validate_run(const FkOptions *opt)
{
	Validate	v;
	ScanOutcome out;
	int			rc = FK_EXIT_ERROR;

	memset(&v, 0, sizeof(v));
	v.opt = opt;
	v.wc = standby_connect_writer(&opt->conn, opt->repair.apply, "validate", "validate");
	if (v.wc == NULL)
		return FK_EXIT_ERROR;
	if (scan_execute(opt, NULL, false, &out))
		rc = validate_finish(&v, out.cat, &out.result, out.rc);
	scan_outcome_free(&out);
	pgconn_free(v.wc);
	return rc;
}
