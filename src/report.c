/*
 * report.c
 *	  Scan reports: an aligned summary table with details and next steps,
 *	  JSON, or JSON lines; the summary line on stderr; the pipeline gate.
 *
 * Every format is built in a StrBuf from the finished ScanResult and
 * written with one fwrite, so a report is never interleaved with log lines
 * (JSON lines: one fwrite per line).  The gate is a pure function of the
 * result and the options, shared by the reports and the exit status.
 */
#include "fkscan/report.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/jsonw.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/pgconn.h"
#include "fkscan/quote.h"
#include "fkscan/risql.h"
#include "fkscan/signals.h"
#include "fkscan/strbuf.h"
#include "fkscan/texttable.h"


char *
report_qualified_name(const char *schema, const char *name)
{
	StrBuf		b;

	strbuf_init(&b);
	texttable_append_qualified(&b, schema, name);
	return strbuf_take(&b);
}

/* ---- the pipeline gate ---- */

static bool
gate_given(const FkOptions *o)
{
	return o->max_orphans >= 0 || o->max_orphans_per_fk >= 0;
}

/* An FK's own limit: the smaller limit given (one FK over the total fails alone). */
static uint64_t
fk_limit(const FkOptions *o)
{
	if (o->max_orphans_per_fk >= 0 && o->max_orphans >= 0)
		return (uint64_t) (o->max_orphans_per_fk < o->max_orphans
						   ? o->max_orphans_per_fk : o->max_orphans);
	if (o->max_orphans_per_fk >= 0)
		return (uint64_t) o->max_orphans_per_fk;
	if (o->max_orphans >= 0)
		return (uint64_t) o->max_orphans;
	return 0;
}

bool
report_fk_tolerated(const FkResult *r, const FkOptions *o)
{
	if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
		(r->compared && !r->compare_agree))
		return false;
	return r->orphan_rows <= fk_limit(o);
}

ReportVerdict
report_verdict(const ScanResult *res, const FkOptions *o)
{
	bool		all_tolerated = true;
	uint64_t	total = 0;

	if (res->interrupted || res->nerrors > 0 || res->ndisagree > 0 || res->output_failed)
		return VERDICT_ERROR;
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
			(r->compared && !r->compare_agree))
			return VERDICT_ERROR;
		total += r->orphan_rows;
		all_tolerated = all_tolerated && report_fk_tolerated(r, o);
	}
	if (total == 0)
		return VERDICT_CLEAN;
	if (all_tolerated && (o->max_orphans < 0 || total <= (uint64_t) o->max_orphans))
		return VERDICT_TOLERATED;
	return VERDICT_ORPHANS;
}

const char *
report_verdict_name(ReportVerdict verdict)
{
	switch (verdict)
	{
		case VERDICT_CLEAN:
			return "clean";
		case VERDICT_TOLERATED:
			return "tolerated";
		case VERDICT_ORPHANS:
			return "orphans";
		case VERDICT_ERROR:
			break;
	}
	return "error";
}

int
report_exit_code(const ScanResult *res, const FkOptions *o)
{
	switch (report_verdict(res, o))
	{
		case VERDICT_CLEAN:
		case VERDICT_TOLERATED:
			return FK_EXIT_OK;
		case VERDICT_ORPHANS:
			return FK_EXIT_FOUND;
		case VERDICT_ERROR:
			break;
	}
	return FK_EXIT_ERROR;
}

/* "--max-orphans 100 and --max-orphans-per-fk 10": the limits given. */
static void
append_limits(StrBuf *b, const FkOptions *o)
{
	if (o->max_orphans >= 0)
		strbuf_appendf(b, "--max-orphans %" PRId64, o->max_orphans);
	if (o->max_orphans >= 0 && o->max_orphans_per_fk >= 0)
		strbuf_append(b, " and ");
	if (o->max_orphans_per_fk >= 0)
		strbuf_appendf(b, "--max-orphans-per-fk %" PRId64, o->max_orphans_per_fk);
}

/* ---- what to do next ---- */

/* key='value' of a conninfo string: \' and \\ escaped, as libpq reads it. */
static void
append_conninfo_pair(StrBuf *b, const char *key, const char *value)
{
	if (b->len > 0)
		strbuf_append_char(b, ' ');
	strbuf_appendf(b, "%s='", key);
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			strbuf_append_char(b, '\\');
		strbuf_append_char(b, *p);
	}
	strbuf_append_char(b, '\'');
}

/* Whether libpq reads a "dbname" as a connection string, not a name. */
static bool
is_conninfo(const char *dbname)
{
	return strchr(dbname, '=') != NULL || strncmp(dbname, "postgresql://", 13) == 0 ||
		strncmp(dbname, "postgres://", 11) == 0;
}

/* A database name as one shell word libpq reads as a name. */
static void
append_shell_dbname(StrBuf *b, const char *dbname)
{
	StrBuf		conninfo;

	if (!is_conninfo(dbname) && dbname[0] != '-')
	{
		quote_append_shell_word(b, dbname);
		return;
	}
	strbuf_init(&conninfo);
	append_conninfo_pair(&conninfo, "dbname", dbname);
	strbuf_append(b, "-d ");
	quote_append_shell_word(b, conninfo.data);
	strbuf_free(&conninfo);
}

/*
 * The connection string the user gave, minus any password: every
 * keyword libpq parsed from it, as key='value'; false if there is
 * nothing left to show (or it does not parse).
 */
static bool
append_conninfo_without_password(StrBuf *b, const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);

	if (opts == NULL)
		return false;
	for (PQconninfoOption *opt = opts; opt->keyword; opt++)
		if (opt->val && strcmp(opt->keyword, "password") != 0)
			append_conninfo_pair(b, opt->keyword, opt->val);
	PQconninfoFree(opts);
	return b->len > 0;
}

void
report_append_connection(StrBuf *b, const FkOptions *o, const char *database)
{
	StrBuf		conninfo;

	if (o->conn.host)
	{
		strbuf_append(b, " -h ");
		quote_append_shell_word(b, o->conn.host);
	}
	if (o->conn.port)
	{
		strbuf_append(b, " -p ");
		quote_append_shell_word(b, o->conn.port);
	}
	if (o->conn.username)
	{
		strbuf_append(b, " -U ");
		quote_append_shell_word(b, o->conn.username);
	}
	strbuf_init(&conninfo);
	if (o->conn.dbname && is_conninfo(o->conn.dbname) &&
		append_conninfo_without_password(&conninfo, o->conn.dbname))
	{
		strbuf_append(b, " -d ");
		quote_append_shell_word(b, conninfo.data);
	}
	else if (o->conn.dbname || database)
	{
		/* a plain name, as given (the server's name if none was) */
		strbuf_append_char(b, ' ');
		append_shell_dbname(b, o->conn.dbname && !is_conninfo(o->conn.dbname)
							? o->conn.dbname : database);
	}
	strbuf_free(&conninfo);
}

/* "CONSTRAINT.csv", with anything a file name should not hold made "_". */
static void
append_file_name(StrBuf *b, const char *name)
{
	for (const char *p = name; *p; p++)
		strbuf_append_char(b, isalnum((unsigned char) *p) || *p == '_' || *p == '-'
						   ? *p : '_');
	strbuf_append(b, ".csv");
}

/*
 * A name in a -t/-c pattern that matches it alone: bare when lower-case,
 * else in double quotes ("" for "), where pattern characters are literal.
 * Control characters stay raw: the shell word around it escapes them.
 */
static void
append_pattern_name(StrBuf *b, const char *name)
{
	bool		bare = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';

	for (const char *p = name; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (bare)
	{
		strbuf_append(b, name);
		return;
	}
	strbuf_append_char(b, '"');
	for (const char *p = name; *p; p++)
	{
		if (*p == '"')
			strbuf_append_char(b, '"');
		strbuf_append_char(b, *p);
	}
	strbuf_append_char(b, '"');
}

/*
 * "fkscan CMD -t TABLE -c FK": the command line that works on this one FK;
 * the caller appends its options, then report_append_connection.
 */
static void
append_fk_command(StrBuf *b, const char *cmd, const FkResult *r)
{
	StrBuf		word;

	strbuf_init(&word);
	strbuf_appendf(b, "fkscan %s", cmd);
	strbuf_append(b, " -t ");
	append_pattern_name(&word, r->child->schema);
	strbuf_append_char(&word, '.');
	append_pattern_name(&word, r->child->name);
	quote_append_shell_word(b, word.data);
	strbuf_append(b, " -c ");
	strbuf_reset(&word);
	append_pattern_name(&word, r->fk->name);
	quote_append_shell_word(b, word.data);
	strbuf_free(&word);
}

/*
 * The repair to suggest: delete, unless deleting would reach other rows
 * (blocked, or cascading beyond the backup); then nullify where the key may
 * be NULL, else backfill.
 */
static const char *
suggested_strategy(const FkResult *r)
{
	bool		reaches = false;
	bool		nullable = true;

	for (int i = 0; i < r->ncascade; i++)
		reaches |= r->cascade[i].rows > 0 || r->cascade[i].error != NULL;
	if (!reaches)
		return "delete";
	for (int i = 0; i < r->fk->ncols; i++)
		nullable &= !r->fk->child_cols[i].not_null && !r->fk->child_cols[i].generated;
	return nullable ? "nullify" : "backfill";
}

/* What to do next: the fkscan fix command line for each FK with orphans. */
static void
text_what_next(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	if (res->nwith_orphans == 0 || res->interrupted)
		return;
	strbuf_append(b, "\nWhat to do next: repair the orphan rows (this prints the SQL; add --apply\n"
				  "to run it, or pick another --strategy: delete, nullify, backfill), then\n"
				  "run \"fkscan validate\" to have the server check and enforce the constraints:\n");
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (r->status != FKSTATUS_ORPHANS)
			continue;
		strbuf_append(b, "  ");
		append_fk_command(b, "fix", r);
		strbuf_appendf(b, " --strategy %s", suggested_strategy(r));
		report_append_connection(b, o, res->database);
		strbuf_append_char(b, '\n');
	}
}

/* The fkscan command line that writes this FK's every orphan row as CSV. */
static void
append_orphans_command(StrBuf *b, const ScanResult *res, const FkResult *r,
					   const FkOptions *o)
{
	StrBuf		word;

	strbuf_init(&word);
	append_fk_command(b, "scan", r);
	strbuf_append(b, " --orphans-out ");
	append_file_name(&word, r->fk->name);
	quote_append_shell_word(b, word.data);
	report_append_connection(b, o, res->database);
	strbuf_free(&word);
}

/*
 * The anti-join to read an FK's orphan rows by hand: RI's own conditions
 * (risql.h, readable style).  NULLs: MATCH SIMPLE exempts a key with any
 * NULL, MATCH FULL only an all-NULL one (a mixed key finds no parent, so
 * the anti-join reports it).
 */
static void
append_orphans_sql(StrBuf *b, const FkResult *r, const char *indent)
{
	const CatForeignKey *fk = r->fk;
	bool		full = fk->match_type == 'f' && fk->ncols > 1;

	strbuf_appendf(b, "%sSELECT %s", indent, r->child->relkind == 'p' ? "c.tableoid::regclass, " : "");
	if (catalog_table_ctid_readable(r->child))
		strbuf_append(b, "c.ctid, c.*");
	else
	{
		/* the role reads the key columns only: ask for what it may read */
		for (int i = 0; i < fk->ncols; i++)
		{
			strbuf_append(b, i ? ", " : "");
			pgconn_append_ident(b, "c", fk->child_cols[i].name);
		}
	}
	strbuf_append(b, " FROM ");
	risql_append_from(b, r->child);
	strbuf_appendf(b, " c\n%s WHERE %s", indent, full ? "(" : "");
	for (int i = 0; i < fk->ncols; i++)
	{
		if (i)
			strbuf_append(b, full ? " OR " : " AND ");
		pgconn_append_ident(b, "c", fk->child_cols[i].name);
		strbuf_append(b, " IS NOT NULL");
	}
	strbuf_appendf(b, "%s\n%s   AND ", full ? ")" : "", indent);
	risql_append_no_parent(b, r->parent, fk, RISQL_READABLE);
	strbuf_append(b, ";\n");
}

/* The next steps for an FK with orphans: list them all, or look by hand. */
static void
text_next_steps(StrBuf *b, const ScanResult *res, const FkResult *r, const FkOptions *o)
{
	if (o->orphans_out == NULL)
	{
		strbuf_append(b, "  next: every orphan row as CSV, or a look in psql:\n    ");
		append_orphans_command(b, res, r, o);
		strbuf_append_char(b, '\n');
	}
	else
		strbuf_append(b, "  next: a look in psql:\n");
	append_orphans_sql(b, r, "    ");
}

/* The summary table, psql's aligned format. */
static void
text_table(const ScanResult *res, StrBuf *b)
{
	static const char *const headers[] = {
		"Table", "Constraint", "Method", "Child rows", "Exempt (NULL)",
		"Orphan rows", "Orphan keys", "Status", "Time"
	};
	static const bool right[] = {false, false, false, true, true, true, true, false, true};
	TextTable	t;

	texttable_init(&t, (int) FK_LENGTHOF(headers), headers, right);
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		StrBuf		name;
		char		buf[64];

		texttable_add(&t, report_qualified_name(r->child->schema, r->child->name));
		strbuf_init(&name);
		texttable_append_name(&name, r->fk->name);
		texttable_add(&t, strbuf_take(&name));
		texttable_add_copy(&t, r->method);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->child_rows);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->null_rows);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->orphan_rows);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->orphan_keys);
		texttable_add_copy(&t, buf);
		texttable_add_copy(&t, scanresult_status_name(r->status));
		snprintf(buf, sizeof(buf), "%.2f s", r->elapsed_s);
		texttable_add_copy(&t, buf);
	}
	texttable_render(&t, b);
	texttable_free(&t);
}

/* --compare server: times side by side, and whether the counts agree. */
static void
text_compare(const ScanResult *res, StrBuf *b)
{
	bool		any = false;

	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (!r->compared)
			continue;
		if (!any)
			strbuf_append(b, "\nCompared with the server's anti-join on the same snapshot:\n");
		any = true;
		strbuf_append(b, "  ");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b, ": fkscan %.2f s, server %.2f s, ratio %.2f, %s\n",
					   r->elapsed_s, r->compare_elapsed_s,
					   r->compare_elapsed_s > 0 ? r->elapsed_s / r->compare_elapsed_s : 0,
					   r->compare_agree ? "same orphans"
					   : "COUNTS DISAGREE");
	}
}

/* The cascade chain under an FK's details, indented by depth. */
static void
text_cascade(const FkResult *r, StrBuf *b)
{
	bool		any = false;

	/* steps that reach no row are in the JSON; here they would be noise */
	for (int i = 0; i < r->ncascade; i++)
	{
		const CascadeStep *st = &r->cascade[i];
		char	   *t;

		if (st->rows == 0 && st->error == NULL)
			continue;
		if (!any)
			strbuf_append(b, "  deleting them would reach:\n");
		any = true;
		t = report_qualified_name(st->table->schema, st->table->name);

		for (int d = 0; d < st->depth; d++)
			strbuf_append(b, "  ");
		strbuf_appendf(b, "  %s via ", t);
		texttable_append_name(b, st->via->name);
		if (st->error)
		{
			strbuf_append(b, ": not counted (");
			quote_append_visible(b, st->error, false);
			strbuf_append(b, ")\n");
		}
		else
		{
			strbuf_appendf(b, " (ON DELETE %s): ", catalog_action_name(st->action));
			strbuf_append_count(b, st->rows, "row", NULL);
			strbuf_appendf(b, " %s\n", st->action == 'c' ? "deleted too"
						   : (st->action == 'n' || st->action == 'd') ? "updated"
						   : "would block the delete");
		}
		free(t);
	}
}

/* Types whose values SQL writes bare; any other value is shown as a literal. */
static bool
is_number_type(Oid type)
{
	switch (type)
	{
		case 20:				/* int8 */
		case 21:				/* int2 */
		case 23:				/* int4 */
		case 26:				/* oid */
		case 700:				/* float4 */
		case 701:				/* float8 */
		case 1700:				/* numeric */
			return true;
	}
	return false;
}

/*
 * A sample key value as SQL would write it: numbers bare, anything else a
 * quoted literal, so that 'b ' and '' are seen and no control character
 * reaches the terminal.
 */
static void
append_sample_value(StrBuf *b, const CatColumn *col, const char *value)
{
	if (value == NULL)
		strbuf_append(b, "NULL");
	else if (is_number_type(col->base_type_oid ? col->base_type_oid : col->type_oid) &&
			 !quote_needs_escape(value))
		strbuf_append(b, value);
	else
		quote_append_literal(b, value);
}

/*
 * The FK's state now, one line each: NOT ENFORCED, RI triggers missing,
 * disabled or replica-only (rows arrive unchecked until they fire again),
 * NOT VALID.  orphans: the FK has orphan rows (validate waits for a
 * repair); with none, it is clean and "fkscan validate" can act now.
 */
static void
text_fk_state(StrBuf *b, const CatForeignKey *fk, bool orphans)
{
	const char *when = orphans ? "once the orphan rows are repaired" : "now";

	if (!fk->enforced)
	{
		strbuf_append(b, "  the constraint is NOT ENFORCED: rows arrived unchecked\n");
		return;
	}
	if (fk->triggers_missing > 0)
	{
		strbuf_append(b, "  its RI triggers are missing now (");
		quote_append_visible(b, fk->missing_detail ? fk->missing_detail : "", false);
		strbuf_append(b, "): rows arrive unchecked; only re-creating the constraint brings them back\n");
	}
	if (fk->triggers_disabled > 0)
	{
		strbuf_append(b, "  its RI triggers are disabled now (");
		strbuf_appendf(b, "%d of %d", fk->triggers_disabled, fk->triggers);
		strbuf_appendf(b, "): rows arrive unchecked; \"fkscan validate --apply\" re-enables them %s\n",
					   when);
	}
	if (fk->triggers_replica > 0)
	{
		strbuf_appendf(b, "  its RI triggers are replica-only now (%d of %d): rows arrive unchecked "
					   "outside replication; \"fkscan validate --apply\" re-enables them %s\n",
					   fk->triggers_replica, fk->triggers, when);
	}
	if (!fk->validated)
		strbuf_appendf(b, "  the constraint is NOT VALID; \"fkscan validate --apply\" validates it %s\n",
					   when);
	else if (orphans && fk->triggers_missing == 0 && fk->triggers_disabled == 0 &&
			 fk->triggers_replica == 0)
		strbuf_append(b, "  the constraint is marked valid: the rows arrived while its triggers did not fire\n");
}

/* Clean FKs whose catalog state still lets orphans in: say so. */
static void
text_clean_states(const ScanResult *res, StrBuf *b)
{
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char	   *child;

		if (r->status != FKSTATUS_CLEAN || !catalog_fk_broken(r->fk))
			continue;
		child = report_qualified_name(r->child->schema, r->child->name);
		strbuf_append(b, "\n");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b, " on %s: clean, but\n", child);
		text_fk_state(b, r->fk, false);
		free(child);
	}
}

/* What was found for each FK that is not clean: sample rows, next steps. */
static void
text_details(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char	   *child,
				   *parent;

		if (r->status == FKSTATUS_CLEAN)
			continue;
		child = report_qualified_name(r->child->schema, r->child->name);
		parent = report_qualified_name(r->parent->schema, r->parent->name);
		strbuf_append(b, "\n");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b, " on %s (", child);
		texttable_append_columns(b, r->fk->child_cols, r->fk->ncols);
		strbuf_appendf(b, ") references %s (", parent);
		texttable_append_columns(b, r->fk->parent_cols, r->fk->ncols);
		strbuf_append(b, ")\n");
		if (r->status == FKSTATUS_ERROR)
		{
			strbuf_append(b, "  error: ");
			quote_append_visible(b, r->error ? r->error : "unknown", false);
			strbuf_append_char(b, '\n');
		}
		else if (r->status == FKSTATUS_INCOMPLETE)
			strbuf_append(b, "  incomplete: not finished within --max-time (no counts)\n");
		else
		{
			strbuf_append(b, "  ");
			strbuf_append_count(b, r->orphan_rows, "orphan row", NULL);
			strbuf_append(b, ", ");
			strbuf_append_count(b, r->orphan_keys, "distinct key", NULL);
			if (r->partial_null_rows > 0)
				strbuf_appendf(b, ", %" PRIu64 " with mixed NULLs (MATCH FULL)",
							   r->partial_null_rows);
			strbuf_append(b, "\n");
			text_fk_state(b, r->fk, true);
			for (int j = 0; j < r->nsamples; j++)
			{
				const OrphanSample *smp = &r->samples[j];

				strbuf_appendf(b, "    ctid %-12s ", smp->ctid);
				for (int k = 0; k < smp->nkeys; k++)
				{
					strbuf_append(b, k ? ", " : "");
					texttable_append_name(b, r->fk->child_cols[k].name);
					strbuf_append(b, " = ");
					append_sample_value(b, &r->fk->child_cols[k], smp->key[k]);
				}
				strbuf_append_char(b, '\n');
			}
			if (r->nsamples == 0 && r->orphan_rows > 0 && !catalog_table_ctid_readable(r->child))
				strbuf_append(b, "    (no sample rows: they are named by ctid, which this role may not read)\n");
			else if ((uint64_t) r->nsamples < r->orphan_rows)
				strbuf_appendf(b, "    ... (%" PRIu64 " more)\n",
							   r->orphan_rows - (uint64_t) r->nsamples);
			text_cascade(r, b);
			if (o->max_orphans_per_fk >= 0)
				strbuf_appendf(b, "  %s --max-orphans-per-fk %" PRId64 "%s\n",
							   report_fk_tolerated(r, o) ? "within" : "over",
							   o->max_orphans_per_fk,
							   report_fk_tolerated(r, o) ? ": tolerated" : "");
			text_next_steps(b, res, r, o);
		}
		free(child);
		free(parent);
	}
}

/*
 * PostgreSQL 18 temporal FKs: how they were checked, and why the server's
 * VALIDATE is no second opinion (18.4's joins on && and passes a row whose
 * period its parents cover only in part; the RI trigger rejects it).
 */
#define PERIOD_VALIDATE_NOTE \
	"the server's VALIDATE CONSTRAINT (PostgreSQL 18.4) tests overlap only and would miss rows whose period is partly covered"

static void
text_period_notes(const ScanResult *res, StrBuf *b)
{
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char	   *child;

		if (!r->fk->period)
			continue;
		child = report_qualified_name(r->child->schema, r->child->name);
		strbuf_append(b, "\nNote: ");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b, " on %s is a PERIOD foreign key, checked on the server as its RI trigger\n"
					   "checks a row: the period must lie within the union of its key's parent periods;\n"
					   PERIOD_VALIDATE_NOTE ".\n", child);
		free(child);
	}
}

/* With limits given: whether the run passed them, and why not. */
static void
text_gate(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	ReportVerdict verdict = report_verdict(res, o);
	int			nover = 0;

	if (!gate_given(o))
		return;
	for (int i = 0; i < res->nfks; i++)
		if (o->max_orphans_per_fk >= 0 &&
			res->fks[i].orphan_rows > (uint64_t) o->max_orphans_per_fk)
			nover++;
	strbuf_append(b, "Limits ");
	append_limits(b, o);
	switch (verdict)
	{
		case VERDICT_ERROR:
			strbuf_append(b, ": not applied, errors are never tolerated.\n");
			break;
		case VERDICT_ORPHANS:
			strbuf_append(b, ": exceeded (");
			if (o->max_orphans >= 0 && res->orphan_rows > (uint64_t) o->max_orphans)
			{
				strbuf_append_count(b, res->orphan_rows, "orphan row", NULL);
				strbuf_append(b, nover > 0 ? " in all; " : " in all");
			}
			if (nover > 0)
			{
				strbuf_append_count(b, (uint64_t) nover, "foreign key", NULL);
				strbuf_appendf(b, " over %" PRId64, o->max_orphans_per_fk);
			}
			strbuf_append(b, ").\n");
			break;
		case VERDICT_TOLERATED:
			strbuf_append(b, ": every orphan is within them, tolerated.\n");
			break;
		case VERDICT_CLEAN:
			strbuf_append(b, ": nothing to tolerate.\n");
			break;
	}
}

/* --state: which FKs an earlier run finished, and on which snapshot. */
static void
text_resumed(const ScanResult *res, StrBuf *b)
{
	strbuf_append_count(b, (uint64_t) res->nresumed, "foreign key", NULL);
	strbuf_append(b, " finished in earlier runs (--state), not read again:\n");
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (!r->resumed)
			continue;
		strbuf_append(b, "  ");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b, ": snapshot %s, finished %s\n", r->snapshot ? r->snapshot : "?",
					   r->finished_at ? r->finished_at : "?");
	}
	strbuf_appendf(b, "The others: snapshot %s.\n\n", res->snapshot ? res->snapshot : "?");
}

/* --state chunk records: FKs read partly by earlier runs. */
static void
text_resumed_chunks(const ScanResult *res, StrBuf *b)
{
	bool		any = false;

	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (r->resumed || r->resumed_chunks == 0)
			continue;
		if (!any)
			strbuf_append(b, "Foreign keys read partly in earlier runs (--state chunks; each chunk "
						  "consistent with its own snapshot, orphans re-checked on this one):\n");
		any = true;
		strbuf_append(b, "  ");
		texttable_append_name(b, r->fk->name);
		strbuf_append(b, ": ");
		strbuf_append_count(b, (uint64_t) r->resumed_chunks, "chunk", NULL);
		strbuf_append(b, " on snapshot");
		for (int j = 0; j < r->nchunk_snapshots; j++)
			strbuf_appendf(b, "%s %s", j ? "," : "", r->chunk_snapshots[j]);
		strbuf_appendf(b, ", the rest on %s\n", res->snapshot ? res->snapshot : "?");
	}
	if (any)
		strbuf_append_char(b, '\n');
}

/* "3 foreign keys: 1 clean, 2 with orphans (5 orphan rows), 0 errors" */
static void
append_totals(StrBuf *b, const ScanResult *res)
{
	int			nclean = res->nfks - res->nwith_orphans - res->nerrors - res->nincomplete;

	strbuf_append_count(b, (uint64_t) res->nfks, "foreign key", NULL);
	strbuf_appendf(b, ": %d clean, %d with orphans (", nclean, res->nwith_orphans);
	strbuf_append_count(b, res->orphan_rows, "orphan row", NULL);
	strbuf_append(b, "), ");
	strbuf_append_count(b, (uint64_t) res->nerrors, "error", NULL);
}

static void
text_report(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	strbuf_append(b, "fkscan scan of database ");
	quote_append_ident(b, res->database ? res->database : "");
	strbuf_appendf(b, " (PostgreSQL %d.%d%s), ", res->server_version / 10000,
				   res->server_version % 100, res->in_recovery ? ", hot standby" : "");
	strbuf_append_count(b, (uint64_t) res->jobs, "job", NULL);
	strbuf_appendf(b, ", %.2f s\n\n", res->elapsed_s);
	if (res->in_recovery && res->replay_start.known)
		strbuf_appendf(b, "Hot standby: replayed up to %s (%.1f s behind) at the start, %s at the end; %s%s.\n\n",
					   res->replay_start.replay_lsn, res->replay_start.lag_s,
					   res->replay_end.known ? res->replay_end.replay_lsn : "?",
					   res->consistency,
					   res->attempts > 1 ? ", restarted after recovery conflicts" : "");
	if (o->max_rate > 0 || o->max_rate_bytes > 0)
	{
		strbuf_appendf(b, "Read %" PRIu64 " rows (%.1f MB) at %.0f rows/s, %.2f MB/s (--max-rate ",
					   res->rows_read, (double) res->bytes_read / 1048576.0, res->rows_per_s,
					   res->bytes_per_s / 1048576.0);
		if (o->max_rate > 0)
			strbuf_appendf(b, "%.0f", o->max_rate);
		else
			strbuf_appendf(b, "%.0fMB", o->max_rate_bytes / 1048576.0);
		strbuf_append(b, ").\n\n");
	}
	if (res->chunk_retries > 0)
	{
		strbuf_append_count(b, (uint64_t) res->chunk_retries, "chunk", NULL);
		strbuf_appendf(b, " re-read after recovery conflicts: %s.\n\n", res->guarantee);
	}
	if (res->nfks == 0)
	{
		strbuf_append(b, "No foreign keys in scope.\n");
		return;
	}
	if (res->nresumed > 0)
		text_resumed(res, b);
	text_resumed_chunks(res, b);
	text_table(res, b);
	text_compare(res, b);
	text_details(res, o, b);
	text_clean_states(res, b);
	text_period_notes(res, b);
	strbuf_append_char(b, '\n');
	append_totals(b, res);
	strbuf_append(b, ".\n");
	if (res->nincomplete > 0)
	{
		strbuf_append(b, "The --max-time budget ran out: ");
		strbuf_append_count(b, (uint64_t) res->nincomplete, "foreign key", NULL);
		strbuf_append(b, " incomplete, the answer is incomplete.\n");
	}
	if (res->ndisagree > 0)
	{
		strbuf_append_count(b, (uint64_t) res->ndisagree, "foreign key", NULL);
		strbuf_append(b, res->ndisagree == 1 ? " disagrees" : " disagree");
		strbuf_append(b, " with the server's anti-join: do not trust this answer.\n");
	}
	if (res->interrupted)
		strbuf_append(b, "The scan was interrupted: the answer is incomplete.\n");
	else if (res->nerrors > 0)
		strbuf_append(b, "Some foreign keys could not be checked: the answer is incomplete.\n");
	text_gate(res, o, b);
	text_what_next(res, o, b);
}

static void
json_strings_of_columns(JsonWriter *w, const CatColumn *cols, int n)
{
	jsonw_array_begin(w);
	for (int i = 0; i < n; i++)
		jsonw_string(w, cols[i].name);
	jsonw_array_end(w);
}

/* What a delete of the orphan rows would do, level by level. */
static const char *
cascade_effect(char action)
{
	switch (action)
	{
		case 'c':
			return "deleted";
		case 'n':
		case 'd':
			return "updated";
		default:
			return "blocking";
	}
}

static void
json_cascade(JsonWriter *w, const FkResult *r)
{
	jsonw_array_begin(w);
	for (int i = 0; i < r->ncascade; i++)
	{
		const CascadeStep *st = &r->cascade[i];

		jsonw_object_begin(w);
		jsonw_key(w, "depth");
		jsonw_int(w, st->depth);
		jsonw_key(w, "schema");
		jsonw_string(w, st->table->schema);
		jsonw_key(w, "table");
		jsonw_string(w, st->table->name);
		jsonw_key(w, "constraint");
		jsonw_string(w, st->via->name);
		jsonw_key(w, "on_delete");
		jsonw_string(w, catalog_action_name(st->action));
		jsonw_key(w, "effect");
		jsonw_string(w, cascade_effect(st->action));
		jsonw_key(w, "rows");
		if (st->error)
			jsonw_null(w);
		else
			jsonw_int(w, (int64_t) st->rows);
		if (st->error)
		{
			jsonw_key(w, "error");
			jsonw_string(w, st->error);
		}
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void
json_replay(JsonWriter *w, const char *key, const ReplayPosition *rp)
{
	jsonw_key(w, key);
	if (!rp->known)
	{
		jsonw_null(w);
		return;
	}
	jsonw_object_begin(w);
	jsonw_key(w, "receive_lsn");
	jsonw_string(w, rp->receive_lsn[0] ? rp->receive_lsn : NULL);
	jsonw_key(w, "replay_lsn");
	jsonw_string(w, rp->replay_lsn);
	jsonw_key(w, "lag_s");
	jsonw_double(w, rp->lag_s, 3);
	jsonw_object_end(w);
}

static void
json_header(JsonWriter *w, const ScanResult *res)
{
	jsonw_key(w, "tool");
	jsonw_string(w, "fkscan");
	jsonw_key(w, "version");
	jsonw_string(w, FKSCAN_VERSION);
	jsonw_key(w, "database");
	jsonw_string(w, res->database);
	jsonw_key(w, "server_version_num");
	jsonw_int(w, res->server_version);
	jsonw_key(w, "in_recovery");
	jsonw_bool(w, res->in_recovery);
	jsonw_key(w, "snapshot");
	jsonw_string(w, res->snapshot);
	jsonw_key(w, "jobs");
	jsonw_int(w, res->jobs);
	jsonw_key(w, "elapsed_s");
	jsonw_double(w, res->elapsed_s, 3);
	jsonw_key(w, "interrupted");
	jsonw_bool(w, res->interrupted);
	jsonw_key(w, "key_passes");
	jsonw_int(w, res->key_passes);
	jsonw_key(w, "consistency");
	jsonw_string(w, res->consistency);
	jsonw_key(w, "guarantee");
	jsonw_string(w, res->guarantee);
	jsonw_key(w, "attempts");
	jsonw_int(w, res->attempts);
	jsonw_key(w, "chunk_retries");
	jsonw_int(w, res->chunk_retries);
	jsonw_key(w, "rows_read");
	jsonw_int(w, (int64_t) res->rows_read);
	jsonw_key(w, "rows_per_s");
	jsonw_double(w, res->rows_per_s, 0);
	jsonw_key(w, "bytes_read");
	jsonw_int(w, (int64_t) res->bytes_read);
	jsonw_key(w, "bytes_per_s");
	jsonw_double(w, res->bytes_per_s, 0);
	jsonw_key(w, "max_time_s");
	if (res->max_time_s > 0)
		jsonw_double(w, res->max_time_s, 3);
	else
		jsonw_null(w);
	jsonw_key(w, "budget_expired");
	jsonw_bool(w, res->budget_expired);
	jsonw_key(w, "resumed_constraints");
	jsonw_int(w, res->nresumed);
	if (res->in_recovery)
	{
		jsonw_key(w, "replay");
		jsonw_object_begin(w);
		json_replay(w, "start", &res->replay_start);
		json_replay(w, "end", &res->replay_end);
		jsonw_object_end(w);
	}
	jsonw_key(w, "client_peak_rss_kb");
	jsonw_int(w, res->peak_rss_kb);
}

/* The fields of one constraints[] object (the caller opens and closes it). */
static void
json_fk_fields(JsonWriter *w, const FkResult *r, const FkOptions *o)
{
	const CatForeignKey *fk = r->fk;

	jsonw_key(w, "schema");
	jsonw_string(w, r->child->schema);
	jsonw_key(w, "table");
	jsonw_string(w, r->child->name);
	jsonw_key(w, "constraint");
	jsonw_string(w, fk->name);
	jsonw_key(w, "columns");
	json_strings_of_columns(w, fk->child_cols, fk->ncols);
	jsonw_key(w, "ref_schema");
	jsonw_string(w, r->parent->schema);
	jsonw_key(w, "ref_table");
	jsonw_string(w, r->parent->name);
	jsonw_key(w, "ref_columns");
	json_strings_of_columns(w, fk->parent_cols, fk->ncols);
	jsonw_key(w, "match");
	jsonw_string(w, fk->match_type == 'f' ? "full" : "simple");
	jsonw_key(w, "validated");
	jsonw_bool(w, fk->validated);
	jsonw_key(w, "enforced");
	jsonw_bool(w, fk->enforced);
	jsonw_key(w, "period");
	jsonw_bool(w, fk->period);
	if (fk->period)
	{
		jsonw_key(w, "period_note");
		jsonw_string(w, PERIOD_VALIDATE_NOTE);
	}
	jsonw_key(w, "triggers_enabled");
	jsonw_bool(w, fk->enforced && fk->triggers_disabled == 0 && fk->triggers_replica == 0 &&
			   fk->triggers_missing == 0);
	jsonw_key(w, "triggers_missing");
	jsonw_int(w, fk->triggers_missing);
	jsonw_key(w, "missing_trigger_detail");
	jsonw_string(w, fk->missing_detail);
	jsonw_key(w, "method");
	jsonw_string(w, r->method);
	if (r->method_reason)
	{
		jsonw_key(w, "method_reason");
		jsonw_string(w, r->method_reason);
	}
	jsonw_key(w, "status");
	jsonw_string(w, scanresult_status_name(r->status));
	if (r->error)
	{
		jsonw_key(w, "error");
		jsonw_string(w, r->error);
	}
	jsonw_key(w, "tolerated");
	jsonw_bool(w, report_fk_tolerated(r, o));
	jsonw_key(w, "child_rows");
	jsonw_int(w, (int64_t) r->child_rows);
	jsonw_key(w, "null_rows");
	jsonw_int(w, (int64_t) r->null_rows);
	jsonw_key(w, "partial_null_rows");
	jsonw_int(w, (int64_t) r->partial_null_rows);
	jsonw_key(w, "orphan_rows");
	jsonw_int(w, (int64_t) r->orphan_rows);
	jsonw_key(w, "orphan_keys");
	jsonw_int(w, (int64_t) r->orphan_keys);
	jsonw_key(w, "sample");
	jsonw_array_begin(w);
	for (int j = 0; j < r->nsamples; j++)
	{
		jsonw_object_begin(w);
		jsonw_key(w, "key");
		jsonw_array_begin(w);
		for (int k = 0; k < r->samples[j].nkeys; k++)
			jsonw_string(w, r->samples[j].key[k]);
		jsonw_array_end(w);
		jsonw_key(w, "ctid");
		jsonw_string(w, r->samples[j].ctid);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_key(w, "cascade");
	json_cascade(w, r);
	jsonw_key(w, "elapsed_s");
	jsonw_double(w, r->elapsed_s, 3);
	jsonw_key(w, "snapshot");
	jsonw_string(w, r->snapshot);
	jsonw_key(w, "resumed");
	jsonw_bool(w, r->resumed);
	if (r->resumed_chunks > 0)
	{
		jsonw_key(w, "resumed_chunks");
		jsonw_int(w, r->resumed_chunks);
		jsonw_key(w, "chunk_snapshots");
		jsonw_array_begin(w);
		for (int j = 0; j < r->nchunk_snapshots; j++)
			jsonw_string(w, r->chunk_snapshots[j]);
		jsonw_array_end(w);
	}
	jsonw_key(w, "finished_at");
	jsonw_string(w, r->finished_at);
	if (r->compared)
	{
		jsonw_key(w, "compare");
		jsonw_object_begin(w);
		jsonw_key(w, "server_elapsed_s");
		jsonw_double(w, r->compare_elapsed_s, 3);
		jsonw_key(w, "ratio");
		jsonw_double(w, r->compare_elapsed_s > 0 ? r->elapsed_s / r->compare_elapsed_s : 0, 3);
		jsonw_key(w, "server_orphan_rows");
		jsonw_int(w, (int64_t) r->compare_orphan_rows);
		jsonw_key(w, "server_orphan_keys");
		jsonw_int(w, (int64_t) r->compare_orphan_keys);
		jsonw_key(w, "agree");
		jsonw_bool(w, r->compare_agree);
		jsonw_object_end(w);
	}
}

static void
json_limit(JsonWriter *w, const char *key, int64_t limit)
{
	jsonw_key(w, key);
	if (limit < 0)
		jsonw_null(w);
	else
		jsonw_int(w, limit);
}

static void
json_totals(JsonWriter *w, const ScanResult *res, const FkOptions *o)
{
	ReportVerdict verdict = report_verdict(res, o);

	jsonw_key(w, "totals");
	jsonw_object_begin(w);
	jsonw_key(w, "constraints");
	jsonw_int(w, res->nfks);
	jsonw_key(w, "with_orphans");
	jsonw_int(w, res->nwith_orphans);
	jsonw_key(w, "orphan_rows");
	jsonw_int(w, (int64_t) res->orphan_rows);
	jsonw_key(w, "errors");
	jsonw_int(w, res->nerrors);
	jsonw_key(w, "incomplete");
	jsonw_int(w, res->nincomplete);
	jsonw_key(w, "disagreements");
	jsonw_int(w, res->ndisagree);
	json_limit(w, "max_orphans", o->max_orphans);
	json_limit(w, "max_orphans_per_fk", o->max_orphans_per_fk);
	jsonw_key(w, "tolerated");
	jsonw_bool(w, verdict == VERDICT_CLEAN || verdict == VERDICT_TOLERATED);
	jsonw_key(w, "verdict");
	jsonw_string(w, report_verdict_name(verdict));
	jsonw_object_end(w);
}

static void
json_report(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	JsonWriter	w;

	jsonw_init(&w, b, true);
	jsonw_object_begin(&w);
	json_header(&w, res);
	jsonw_key(&w, "constraints");
	jsonw_array_begin(&w);
	for (int i = 0; i < res->nfks; i++)
	{
		jsonw_object_begin(&w);
		json_fk_fields(&w, &res->fks[i], o);
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	json_totals(&w, res, o);
	jsonw_object_end(&w);
	strbuf_append_char(b, '\n');
}

/* --format jsonl: one FK's line, the constraints[] object with a type. */
static void
jsonl_fk_line(const ScanResult *res, const FkResult *r, const FkOptions *o, StrBuf *b)
{
	JsonWriter	w;

	jsonw_init(&w, b, false);
	jsonw_object_begin(&w);
	jsonw_key(&w, "type");
	jsonw_string(&w, "constraint");
	jsonw_key(&w, "tool");
	jsonw_string(&w, "fkscan");
	jsonw_key(&w, "database");
	jsonw_string(&w, res->database);
	json_fk_fields(&w, r, o);
	jsonw_object_end(&w);
	strbuf_append_char(b, '\n');
}

/* --format jsonl: the last line, the JSON report without its constraints. */
static void
jsonl_summary_line(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	JsonWriter	w;

	jsonw_init(&w, b, false);
	jsonw_object_begin(&w);
	jsonw_key(&w, "type");
	jsonw_string(&w, "summary");
	json_header(&w, res);
	json_totals(&w, res, o);
	jsonw_object_end(&w);
	strbuf_append_char(b, '\n');
}

/* ---- the stream ---- */

struct ReportStream
{
	const FkOptions *opt;		/* borrowed */
	FILE	   *out;
	bool	   *written;		/* jsonl: per FK, its line is out */
	int			nwritten;		/* entries in written */
	bool		failed;
};

ReportStream *
report_stream_create(const FkOptions *options, FILE *out)
{
	ReportStream *rs = fk_calloc(1, sizeof(ReportStream));

	rs->opt = options;
	rs->out = out;
	if (options->format == FORMAT_JSONL)
		signals_watch_output(fileno(out));
	return rs;
}

void
report_stream_free(ReportStream *rs)
{
	if (rs == NULL)
		return;
	if (rs->opt->format == FORMAT_JSONL)
		signals_watch_output(-1);
	free(rs->written);
	free(rs);
}

/* Write b out in one piece; the first failure is logged, later ones skipped. */
static bool
stream_write(ReportStream *rs, const StrBuf *b)
{
	if (rs->failed)
		return false;
	if (fwrite(b->data, 1, b->len, rs->out) != b->len || fflush(rs->out) != 0)
	{
		/* nobody reads what follows: stop the scan rather than finish it */
		if (errno != EPIPE)
			log_error("could not write the report: %s", strerror(errno));
		rs->failed = true;
		signals_stop("the report's reader went away");
	}
	return !rs->failed;
}

bool
report_fk_done(ReportStream *rs, const ScanResult *res, int index)
{
	StrBuf		b;
	bool		ok;

	if (rs->opt->format != FORMAT_JSONL || index < 0 || index >= res->nfks)
		return !rs->failed;
	if (rs->nwritten < res->nfks)
	{
		rs->written = fk_realloc(rs->written, sizeof(bool) * (size_t) res->nfks);
		memset(rs->written + rs->nwritten, 0,
			   sizeof(bool) * (size_t) (res->nfks - rs->nwritten));
		rs->nwritten = res->nfks;
	}
	if (rs->written[index])
		return !rs->failed;
	rs->written[index] = true;
	strbuf_init(&b);
	jsonl_fk_line(res, &res->fks[index], rs->opt, &b);
	ok = stream_write(rs, &b);
	strbuf_free(&b);
	return ok;
}

bool
report_stream_finish(ReportStream *rs, const ScanResult *res)
{
	StrBuf		b;

	strbuf_init(&b);
	switch (rs->opt->format)
	{
		case FORMAT_JSONL:
			for (int i = 0; i < res->nfks; i++)
				(void) report_fk_done(rs, res, i);
			jsonl_summary_line(res, rs->opt, &b);
			break;
		case FORMAT_JSON:
			json_report(res, rs->opt, &b);
			break;
		case FORMAT_TEXT:
			text_report(res, rs->opt, &b);
			break;
	}
	(void) stream_write(rs, &b);
	strbuf_free(&b);
	report_log_summary(res, rs->opt);
	return !rs->failed;
}

bool
report_scan(const ScanResult *res, const FkOptions *options, FILE *out)
{
	ReportStream *rs = report_stream_create(options, out);
	bool		ok = report_stream_finish(rs, res);

	report_stream_free(rs);
	return ok;
}

/* ---- the summary line ---- */

void
report_log_summary(const ScanResult *res, const FkOptions *o)
{
	ReportVerdict verdict = report_verdict(res, o);
	StrBuf		b;

	if (o->verbosity < 0)
		return;
	strbuf_init(&b);
	strbuf_append(&b, "fkscan: scan of ");
	quote_append_ident(&b, res->database ? res->database : "");
	strbuf_append(&b, ": ");
	strbuf_append_count(&b, (uint64_t) res->nfks, "foreign key", NULL);
	strbuf_appendf(&b, ", %d with orphans (", res->nwith_orphans);
	strbuf_append_count(&b, res->orphan_rows, "row", NULL);
	strbuf_append(&b, "), ");
	strbuf_append_count(&b, (uint64_t) res->nerrors, "error", NULL);
	strbuf_appendf(&b, ", %.2f s", res->elapsed_s);
	if (res->ndisagree > 0)
		strbuf_appendf(&b, ", %d disagreeing with the server", res->ndisagree);
	if (res->output_failed)
		strbuf_append(&b, ", orphans-out incomplete");
	if (res->interrupted)
		strbuf_append(&b, ", interrupted");
	if (res->nincomplete > 0)
		strbuf_appendf(&b, ", %d incomplete (--max-time)", res->nincomplete);
	if (gate_given(o) && verdict == VERDICT_TOLERATED)
		strbuf_append(&b, ", tolerated by the limits");
	else if (gate_given(o) && verdict == VERDICT_ORPHANS)
		strbuf_append(&b, ", over the limits");
	strbuf_append_char(&b, '\n');
	log_raw(b.data);
	strbuf_free(&b);
}
