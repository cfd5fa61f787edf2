/*
 * nextstep.c
 *	  What a report tells its reader to run next
 */
#include "fkscan/nextstep.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"
#include "fkscan/pgconn.h"
#include "fkscan/quote.h"
#include "fkscan/risql.h"
#include "fkscan/texttable.h"

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
	StrBuf conninfo;

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
nextstep_connection(StrBuf *b, const FkOptions *o, const char *database)
{
	StrBuf conninfo;

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
		append_shell_dbname(b, o->conn.dbname && !is_conninfo(o->conn.dbname) ? o->conn.dbname
																			  : database);
	}
	strbuf_free(&conninfo);
}

/* "CONSTRAINT.csv", with anything a file name should not hold made "_". */
static void
append_file_name(StrBuf *b, const char *name)
{
	for (const char *p = name; *p; p++)
		strbuf_append_char(b, isalnum((unsigned char) *p) || *p == '_' || *p == '-' ? *p : '_');
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
	bool bare = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';

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
 * the caller appends its options, then nextstep_connection.
 */
static void
append_fk_command(StrBuf *b, const char *cmd, const FkResult *r)
{
	StrBuf word;

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
	if (!r->fk->declared)
	{
		strbuf_append(b, " --relation ");
		quote_append_shell_word(b, r->fk->relation);
	}
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
	bool reaches = false;
	bool nullable = true;

	for (int i = 0; i < r->ncascade; i++)
		reaches |= r->cascade[i].rows > 0 || r->cascade[i].error != NULL;
	if (!reaches)
		return "delete";
	for (int i = 0; i < r->fk->ncols; i++)
		nullable &= !r->fk->child_cols[i].not_null && !r->fk->child_cols[i].generated;
	return nullable ? "nullify" : "backfill";
}

/* What to do next: the fkscan fix command line for each FK with orphans. */
void
nextstep_what_next(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	if (res->nwith_orphans == 0 || res->interrupted)
		return;
	strbuf_append(
		b, "\nWhat to do next: repair the orphan rows (this prints the SQL; add --apply\n"
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
		nextstep_connection(b, o, res->database);
		strbuf_append_char(b, '\n');
	}
}

/* The fkscan command line that writes this FK's every orphan row as CSV. */
static void
append_orphans_command(StrBuf *b, const ScanResult *res, const FkResult *r, const FkOptions *o)
{
	StrBuf word;

	strbuf_init(&word);
	append_fk_command(b, "scan", r);
	strbuf_append(b, " --orphans-out ");
	append_file_name(&word, r->fk->name);
	quote_append_shell_word(b, word.data);
	nextstep_connection(b, o, res->database);
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
	bool				 full = fk->match_type == 'f' && fk->ncols > 1;

	strbuf_appendf(b, "%sSELECT %s", indent,
				   r->child->relkind == 'p' ? "c.tableoid::regclass, " : "");
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
void
nextstep_for_fk(StrBuf *b, const ScanResult *res, const FkResult *r, const FkOptions *o)
{
	if (o->scan.orphans_out == NULL)
	{
		strbuf_append(b, "  next: every orphan row as CSV, or a look in psql:\n    ");
		append_orphans_command(b, res, r, o);
		strbuf_append_char(b, '\n');
	}
	else
		strbuf_append(b, "  next: a look in psql:\n");
	append_orphans_sql(b, r, "    ");
}
