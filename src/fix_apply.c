/*
 * fix_apply.c
 *	  --apply: the steps in checked transactions, with backups and a
 *	  restore script written durably before each COMMIT
 */
#include "fkscan/fixsteps.h"

#include <errno.h>
#include <inttypes.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/outfile.h"
#include "fkscan/mem.h"
#include "fkscan/risql.h"
#include "fkscan/signals.h"
#include "fkscan/strbuf.h"

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
	bool del = fix_deletes(f);

	strbuf_appendf(
		b,
		"-- fkscan restore: puts back what fkscan fix --strategy %s changed.\n"
		"-- The rows are orphans: putting them back needs their FK not to fire, as\n"
		"-- when they first arrived (session_replication_role = replica: superuser).\n"
		"-- Run it with: psql -X -v ON_ERROR_STOP=1 -d DATABASE -f restore.sql\n"
		"\\set ON_ERROR_STOP on\nBEGIN;\nSET LOCAL session_replication_role = replica;\n",
		f->opt->repair.strategy == STRATEGY_QUARANTINE ? "quarantine"
		: del										   ? "delete"
													   : "nullify");
	for (int s = 0; s < upto; s++)
	{
		const FixStep  *st = &f->steps[s];
		const FixFk	   *x = st->fk;
		const FkResult *r;
		char		  **cols;
		int				ncols;

		if (st->kind != STEP_BACKUP)
			continue;
		r = x->r;
		cols = del ? x->cols : x->pk;
		ncols = del ? x->ncols : x->npk;
		if (x->quarantine)
		{
			/* back from the quarantine table: this run's rows of this FK */
			char *name = pgconn_quote_literal(f->wc, r->fk->name);

			strbuf_appendf(b,
						   "WITH fkscan_moved AS (DELETE FROM %s WHERE fkscan_run = '%s' AND "
						   "fkscan_constraint = %s RETURNING ",
						   x->quarantine, f->run, name);
			free(name);
			append_columns(b, NULL, cols, ncols, false);
			strbuf_append(b, ") INSERT INTO ");
			pgconn_append_relation(b, r->child->schema, r->child->name);
			strbuf_append(b, " (");
			append_columns(b, NULL, cols, ncols, false);
			strbuf_append(b, ") OVERRIDING SYSTEM VALUE SELECT * FROM fkscan_moved;\n");
			continue;
		}
		strbuf_appendf(b, "CREATE TEMPORARY TABLE fkscan_restore_%d ON COMMIT DROP AS SELECT ",
					   st->n);
		append_columns(b, "c", cols, ncols, false);
		for (int i = 0; !del && i < r->fk->ncols; i++)
			if (x->nullify[i])
			{
				strbuf_append(b, ", ");
				pgconn_append_ident(b, "c", r->fk->child_cols[i].name);
			}
		strbuf_append(b, " FROM ");
		risql_append_from(b, r->child);
		strbuf_appendf(b,
					   " c WITH NO DATA;\n\\copy pg_temp.fkscan_restore_%d FROM '%s' WITH (FORMAT "
					   "csv, HEADER)\n",
					   st->n, st->path);
		if (del)
		{
			strbuf_append(b, "INSERT INTO ");
			pgconn_append_relation(b, r->child->schema, r->child->name);
			strbuf_append(b, " (");
			append_columns(b, NULL, cols, ncols, false);
			strbuf_appendf(
				b, ") OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.fkscan_restore_%d;\n", st->n);
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
	StrBuf path, pending, data;
	bool   ok;

	strbuf_init(&path);
	strbuf_appendf(&path, "%s/restore.sql", f->backup_dir);
	strbuf_init(&pending);
	strbuf_appendf(&pending, "%s.pending", path.data);
	strbuf_init(&data);
	if (!committed)
		strbuf_append(
			&data, "-- PENDING: written just before a COMMIT whose outcome fkscan did not see.\n"
				   "-- Run it only if that repair is known to have committed (its rows are gone\n"
				   "-- from the tables): psql -X -v fkscan_committed=1 -d DATABASE -f "
				   "restore.sql.pending\n"
				   "\\set ON_ERROR_STOP on\n\\if :{?fkscan_committed}\n\\else\n"
				   "DO $fkscan$BEGIN RAISE EXCEPTION 'restore.sql.pending: not run: give -v "
				   "fkscan_committed=1 "
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
	StrBuf path;

	if (f->backup_dir == NULL)
		return;
	strbuf_init(&path);
	strbuf_appendf(&path, "%s/restore.sql.pending", f->backup_dir);
	if (unlink(path.data) == 0)
		outfile_sync_dir(path.data);
	strbuf_free(&path);
}

/* A transaction with the run's lock and statement timeouts. */
static bool
begin_transaction(Fix *f)
{
	char sql[128];
	bool ok = pgconn_exec(f->wc, "BEGIN", 0, NULL, NULL, NULL);

	snprintf(sql, sizeof(sql), "SET LOCAL lock_timeout = %d", f->opt->conn.lock_timeout_ms);
	ok = ok && pgconn_exec(f->wc, sql, 0, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "SET LOCAL statement_timeout = %d",
			 f->opt->repair.statement_timeout_ms);
	return ok && pgconn_exec(f->wc, sql, 0, NULL, NULL, NULL);
}

/*
 * COMMIT the steps up to upto, the restore script durable first (backup).
 * *ok: committed.  Returns false only when COMMIT's outcome is unknown.
 */
static bool
commit_transaction(Fix *f, int upto, bool backup, bool *ok)
{
	*ok = !backup || write_restore(f, upto, false);
	/* the crash tests' "kill -9 just before COMMIT" */
	if (*ok && getenv("FKSCAN_TEST_KILL_BEFORE_COMMIT"))
		raise(SIGKILL);
	if (*ok && !pgconn_exec(f->wc, "COMMIT", 0, NULL, NULL, NULL))
	{
		log_detail("The outcome of COMMIT is unknown: check the tables before using the backup "
				   "(restore.sql.pending covers this transaction if it committed).");
		return false;
	}
	if (*ok && backup && !write_restore(f, upto, true))
		log_warning("the repair committed; restore.sql.pending (run with -v fkscan_committed=1) "
					"restores it");
	return true;
}

/* A data-changing step: its row count must be want's. */
static bool
run_counted(Fix *f, FixStep *st, int64_t want)
{
	uint64_t affected = 0;

	if (!pgconn_exec_count(f->wc, st->sql, 0, NULL, &affected))
		return false;
	if ((int64_t) affected != want)
	{
		log_error("%s: %" PRIu64 " rows, the scan found %" PRId64 ": rows changed since the scan",
				  st->what, affected, want);
		return false;
	}
	printf("%s: %" PRIu64 " rows\n", st->what, affected);
	st->fk->done += affected;
	return true;
}

/* Every row the step changed is one the scan saw. */
static bool
run_unseen(Fix *f, const FixStep *st)
{
	int64_t unseen = -1;

	if (!pgconn_exec(f->wc, st->sql, 0, NULL, count_row, &unseen))
		return false;
	if (unseen != 0)
	{
		log_error("%s: %" PRId64
				  " rows written after the scan's snapshot: rows changed since the scan",
				  st->what, unseen);
		return false;
	}
	return true;
}

/* Batches: each was checked on its own; the sum must still be the scan's. */
static bool
batch_sums_match(Fix *f)
{
	bool ok = true;

	for (int i = 0; f->opt->repair.batch_size > 0 && i < f->nfks; i++)
	{
		FixFk	*x = &f->fks[i];
		uint64_t want;

		if (!x->seen || x->r == NULL || x->touched)
			continue;
		want = f->opt->repair.strategy == STRATEGY_BACKFILL ? x->r->orphan_keys : x->r->orphan_rows;
		if (x->done != want)
		{
			log_error("%s: %" PRIu64 " repaired in %d batches, the scan found %" PRIu64
					  ": rows changed since the scan",
					  x->r->fk->name, x->done, x->nbatches, want);
			log_detail("The batches were committed; run fkscan fix again to repair what is left.");
			ok = false;
		}
	}
	return ok;
}

/* Roll back after a failure; says what stays. */
static void
rollback(Fix *f, int committed)
{
	pgconn_set_quiet(f->wc, true);
	(void) pgconn_exec(f->wc, "ROLLBACK", 0, NULL, NULL, NULL);
	pgconn_set_quiet(f->wc, false);
	if (committed == 0)
		log_detail("The transaction was rolled back: nothing was changed.");
	else
		log_detail("This batch was rolled back; the %d batches before it were committed "
				   "(restore.sql covers them).  Run fkscan fix again to go on.",
				   committed);
}

bool
apply_steps(Fix *f)
{
	int64_t measured = -1;
	bool	backup = f->opt->repair.strategy != STRATEGY_BACKFILL;
	StrBuf	data;
	bool	ok = true;
	int		committed = 0;

	strbuf_init(&data);
	for (int i = 0; ok && i < f->nsteps; i++)
	{
		FixStep *st = &f->steps[i];

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
				ok = begin_transaction(f);
				break;
			case STEP_COMMIT:
				if (!commit_transaction(f, i, backup, &ok))
				{
					strbuf_free(&data);
					return false; /* its outcome is unknown: nothing to roll back */
				}
				committed += ok;
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
				ok = run_counted(f, st, st->expect >= 0 ? st->expect : measured);
				break;
			case STEP_UNSEEN:
				ok = run_unseen(f, st);
				break;
			case STEP_BACKUP:
				strbuf_reset(&data);
				ok = pgconn_copy_out(f->wc, st->sql, append_copy_data, &data, NULL) &&
					 outfile_save(st->path, data.data, data.len);
				if (ok)
					printf("  backup: %s\n", st->path);
				break;
		}
		if (!ok && strcmp(pgconn_sqlstate(f->wc), "55P03") == 0)
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
	return batch_sums_match(f);
}

/* A directory with no entries but . and ..; false (logged) if unreadable. */
static bool
dir_is_empty(const char *dir, bool *empty)
{
	DIR			  *d = opendir(dir);
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
		log_error(
			"invalid backup directory \"%s\": it may not contain quotes, backslashes or newlines",
			given);
	else
		log_error("invalid backup directory \"%s\": its real path \"%s\" holds a quote, backslash "
				  "or newline",
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
bool
prepare_backup_dir(Fix *f, bool create)
{
	const char *dir = f->opt->repair.backup_dir;
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
		time_t	  now = time(NULL);
		struct tm tm;
		size_t	  len;

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
			log_hint("Give a new or empty directory: this repair's backups and restore.sql must "
					 "not mix with others.");
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
