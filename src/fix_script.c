/*
 * fix_script.c
 *	  A repair as a psql script: the same steps --apply runs, each count
 *	  checked by the script itself
 */
#include "fkscan/fixsteps.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fkscan/strbuf.h"

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
	StrBuf cmd;

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
	"    RAISE EXCEPTION 'fkscan: % rows for %, expected %: rows changed since the scan; nothing "
	"was changed', got, what, want;\n"
	"  END IF;\n"
	"END$fkscan$";

void
print_script(const Fix *f, const char *database, FILE *out)
{
	const char *strategy = f->opt->repair.strategy == STRATEGY_DELETE		? "delete"
						   : f->opt->repair.strategy == STRATEGY_NULLIFY	? "nullify"
						   : f->opt->repair.strategy == STRATEGY_QUARANTINE ? "quarantine"
																			: "backfill";

	fprintf(out, "-- fkscan fix --strategy %s: the repair of the orphan rows the scan found",
			strategy);
	if (database)
	{
		fputs(" in database ", out);
		print_sql_literal(out, database);
	}
	fputs(".\n-- Dry run: nothing was changed.  Run it with: psql -X -v ON_ERROR_STOP=1 -f FILE\n"
		  "-- (or run fkscan fix again with --apply).  The orphan keys are data (COPY);\n"
		  "-- every statement re-checks that each row is still an orphan, and a row\n"
		  "-- count that differs from the scan's aborts the transaction.\n"
		  "\\set ON_ERROR_STOP on\n",
		  out);
	if (f->backup_dir)
	{
		fputs("\\! mkdir -m 700 -p -- ", out);
		print_sql_literal(out, f->backup_dir);
		fputc('\n', out);
	}
	/* the session fkscan's own connections have (pgconn.h) */
	fprintf(out,
			"SET client_encoding = 'UTF8';\nSET search_path = '';\nSET row_security = off;\n"
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
				fprintf(out,
						"BEGIN;\nSET LOCAL lock_timeout = %d;\nSET LOCAL statement_timeout = %d;\n",
						f->opt->conn.lock_timeout_ms, f->opt->repair.statement_timeout_ms);
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
