/*
 * audit.c
 *	  "fkscan audit": every FK in scope and its state, from the catalog only.
 *
 * One read-only REPEATABLE READ transaction on one connection: the catalog
 * is read, the report is built in memory, the transaction commits, and only
 * then is the report written, so a failure never leaves half a report on
 * stdout.  The audit sees what the catalog says: NOT VALID, RI triggers
 * disabled or replica-only, NOT ENFORCED.  An FK that is valid and enforced
 * today may still hide orphans from a past bulk load; only a scan can tell.
 *
 * Text output is a psql-like aligned table; names are shown quoted where
 * they would need quoting in SQL.  JSON output uses the field names of the
 * scan report (DESIGN.md), with names exactly as in the catalog.
 */
#include "fkscan/audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/catalog.h"
#include "fkscan/jsonw.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/pgconn.h"
#include "fkscan/strbuf.h"

/* What is wrong with an FK, in the order the report lists it. */
typedef struct FkProblems
{
	bool		not_valid;		/* not reported for NOT ENFORCED: implied */
	bool		triggers_disabled;
	bool		triggers_replica_only;
	bool		not_enforced;
} FkProblems;

static FkProblems
fk_problems(const CatForeignKey *fk)
{
	FkProblems	p;

	p.not_enforced = !fk->enforced;
	p.not_valid = !fk->validated && fk->enforced;
	p.triggers_disabled = fk->triggers_disabled > 0;
	p.triggers_replica_only = fk->triggers_replica > 0;
	return p;
}

/* "NO ACTION" -> "no action", into a caller's buffer. */
static const char *
lower_words(const char *s, char *buf, size_t size)
{
	size_t		i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] - 'A' + 'a') : s[i];
	buf[i] = '\0';
	return buf;
}

/* JSON */

static void
json_columns(JsonWriter *w, const char *key, const CatColumn *cols, int n,
			 bool types)
{
	jsonw_key(w, key);
	jsonw_array_begin(w);
	for (int i = 0; i < n; i++)
		jsonw_string(w, types ? cols[i].type_name : cols[i].name);
	jsonw_array_end(w);
}

static void
json_fk(JsonWriter *w, const Catalog *cat, const CatForeignKey *fk)
{
	const CatTable *child = &cat->tables[fk->child];
	const CatTable *parent = &cat->tables[fk->parent];
	FkProblems	p = fk_problems(fk);
	char		buf[32];

	jsonw_object_begin(w);
	jsonw_key(w, "schema");
	jsonw_string(w, child->schema);
	jsonw_key(w, "table");
	jsonw_string(w, child->name);
	jsonw_key(w, "constraint");
	jsonw_string(w, fk->name);
	json_columns(w, "columns", fk->child_cols, fk->ncols, false);
	json_columns(w, "column_types", fk->child_cols, fk->ncols, true);
	jsonw_key(w, "ref_schema");
	jsonw_string(w, parent->schema);
	jsonw_key(w, "ref_table");
	jsonw_string(w, parent->name);
	json_columns(w, "ref_columns", fk->parent_cols, fk->ncols, false);
	json_columns(w, "ref_column_types", fk->parent_cols, fk->ncols, true);
	jsonw_key(w, "match");
	jsonw_string(w, lower_words(catalog_match_name(fk->match_type), buf, sizeof(buf)));
	jsonw_key(w, "on_update");
	jsonw_string(w, lower_words(catalog_action_name(fk->update_action), buf, sizeof(buf)));
	jsonw_key(w, "on_delete");
	jsonw_string(w, lower_words(catalog_action_name(fk->delete_action), buf, sizeof(buf)));
	jsonw_key(w, "deferrable");
	jsonw_bool(w, fk->deferrable);
	jsonw_key(w, "deferred");
	jsonw_bool(w, fk->deferred);
	jsonw_key(w, "validated");
	jsonw_bool(w, fk->validated);
	jsonw_key(w, "enforced");
	jsonw_bool(w, fk->enforced);
	jsonw_key(w, "period");
	jsonw_bool(w, fk->period);
	jsonw_key(w, "triggers_enabled");
	jsonw_bool(w, fk->enforced && fk->triggers_disabled == 0 && fk->triggers_replica == 0);
	jsonw_key(w, "triggers");
	jsonw_int(w, fk->triggers);
	jsonw_key(w, "triggers_disabled");
	jsonw_int(w, fk->triggers_disabled);
	jsonw_key(w, "triggers_replica_only");
	jsonw_int(w, fk->triggers_replica);
	jsonw_key(w, "trigger_detail");
	jsonw_string(w, fk->trigger_detail);
	jsonw_key(w, "index_covered");
	jsonw_bool(w, fk->index_covered);
	jsonw_key(w, "partitioned");
	jsonw_bool(w, child->relkind == 'p');
	jsonw_key(w, "ref_partitioned");
	jsonw_bool(w, parent->relkind == 'p');
	jsonw_key(w, "est_rows");
	jsonw_int(w, child->est_rows);
	jsonw_key(w, "size_bytes");
	jsonw_int(w, child->size_bytes);
	jsonw_key(w, "broken");
	jsonw_bool(w, catalog_fk_broken(fk));
	jsonw_key(w, "problems");
	jsonw_array_begin(w);
	if (p.not_valid)
		jsonw_string(w, "not_valid");
	if (p.triggers_disabled)
		jsonw_string(w, "triggers_disabled");
	if (p.triggers_replica_only)
		jsonw_string(w, "triggers_replica_only");
	if (p.not_enforced)
		jsonw_string(w, "not_enforced");
	jsonw_array_end(w);
	jsonw_object_end(w);
}

static void
report_json(StrBuf *out, const Catalog *cat, int broken)
{
	JsonWriter	w;

	jsonw_init(&w, out, true);
	jsonw_object_begin(&w);
	jsonw_key(&w, "tool");
	jsonw_string(&w, "fkscan");
	jsonw_key(&w, "version");
	jsonw_string(&w, FKSCAN_VERSION);
	jsonw_key(&w, "server_version_num");
	jsonw_int(&w, cat->server_version);
	jsonw_key(&w, "in_recovery");
	jsonw_bool(&w, cat->in_recovery);
	jsonw_key(&w, "constraints");
	jsonw_array_begin(&w);
	for (int i = 0; i < cat->nfks; i++)
		json_fk(&w, cat, &cat->fks[i]);
	jsonw_array_end(&w);
	jsonw_key(&w, "totals");
	jsonw_object_begin(&w);
	jsonw_key(&w, "constraints");
	jsonw_int(&w, cat->nfks);
	jsonw_key(&w, "broken");
	jsonw_int(&w, broken);
	jsonw_object_end(&w);
	jsonw_object_end(&w);
	strbuf_append_char(out, '\n');
}

/* Text */

#define TEXT_COLUMNS 8

static const char *const text_headers[TEXT_COLUMNS] = {
	"table", "constraint", "columns", "references", "match",
	"on update", "on delete", "state"
};

/*
 * An identifier as SQL would need it: bare when it is lower-case ASCII
 * letters, digits and underscores not starting with a digit, else in
 * double quotes.  Control characters are shown as \xNN so that one FK
 * stays on one line whatever its names hold.
 */
static void
append_ident(StrBuf *b, const char *ident)
{
	bool		bare = (ident[0] >= 'a' && ident[0] <= 'z') || ident[0] == '_';

	for (const char *p = ident; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (!bare)
		strbuf_append_char(b, '"');
	for (const unsigned char *p = (const unsigned char *) ident; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			strbuf_appendf(b, "\\x%02x", *p);
		else
		{
			if (*p == '"')
				strbuf_append_char(b, '"');
			strbuf_append_char(b, (char) *p);
		}
	}
	if (!bare)
		strbuf_append_char(b, '"');
}

static void
append_qualified(StrBuf *b, const CatTable *t)
{
	append_ident(b, t->schema);
	strbuf_append_char(b, '.');
	append_ident(b, t->name);
}

static void
append_column_list(StrBuf *b, const CatColumn *cols, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			strbuf_append(b, ", ");
		append_ident(b, cols[i].name);
	}
}

static void
append_state(StrBuf *b, const CatForeignKey *fk)
{
	FkProblems	p = fk_problems(fk);
	size_t		start = b->len;

	if (p.not_valid)
		strbuf_append(b, "NOT VALID");
	if (p.triggers_disabled)
		strbuf_appendf(b, "%striggers disabled (%d of %d)", b->len > start ? ", " : "",
					   fk->triggers_disabled, fk->triggers);
	if (p.triggers_replica_only)
		strbuf_appendf(b, "%sreplica-only triggers (%d of %d)", b->len > start ? ", " : "",
					   fk->triggers_replica, fk->triggers);
	if (p.not_enforced)
		strbuf_appendf(b, "%sNOT ENFORCED", b->len > start ? ", " : "");
	if (b->len == start)
		strbuf_append(b, "ok");
}

/* Display width: UTF-8 code points (continuation bytes take no column). */
static int
display_width(const char *s)
{
	int			w = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			w++;
	return w;
}

static void
append_padded(StrBuf *out, const char *s, int width, bool center)
{
	int			pad = width - display_width(s);
	int			left = center ? pad / 2 : 0;

	for (int i = 0; i < left; i++)
		strbuf_append_char(out, ' ');
	strbuf_append(out, s);
	for (int i = left; i < pad; i++)
		strbuf_append_char(out, ' ');
}

/* One row of the table; the last column is not padded, as in psql. */
static void
append_row(StrBuf *out, const char *const *cells, const int *widths, bool center)
{
	for (int c = 0; c < TEXT_COLUMNS; c++)
	{
		strbuf_append(out, c == 0 ? " " : " | ");
		if (c == TEXT_COLUMNS - 1 && !center)
			strbuf_append(out, cells[c]);
		else
			append_padded(out, cells[c], widths[c], center);
	}
	/* no trailing blanks after a centered last header */
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	strbuf_append_char(out, '\n');
}

static void
report_text(StrBuf *out, const Catalog *cat, int broken)
{
	int			nrows = cat->nfks;
	char	  **cells = fk_calloc((size_t) (nrows * TEXT_COLUMNS), sizeof(char *));
	int			widths[TEXT_COLUMNS];
	char		buf[32];

	for (int c = 0; c < TEXT_COLUMNS; c++)
		widths[c] = display_width(text_headers[c]);
	for (int r = 0; r < nrows; r++)
	{
		const CatForeignKey *fk = &cat->fks[r];
		char	  **row = &cells[r * TEXT_COLUMNS];
		StrBuf		b;

		strbuf_init(&b);
		append_qualified(&b, &cat->tables[fk->child]);
		row[0] = strbuf_take(&b);
		strbuf_init(&b);
		append_ident(&b, fk->name);
		row[1] = strbuf_take(&b);
		strbuf_init(&b);
		append_column_list(&b, fk->child_cols, fk->ncols);
		row[2] = strbuf_take(&b);
		strbuf_init(&b);
		append_qualified(&b, &cat->tables[fk->parent]);
		strbuf_append_char(&b, '(');
		append_column_list(&b, fk->parent_cols, fk->ncols);
		strbuf_append_char(&b, ')');
		row[3] = strbuf_take(&b);
		row[4] = fk_strdup(lower_words(catalog_match_name(fk->match_type), buf, sizeof(buf)));
		row[5] = fk_strdup(lower_words(catalog_action_name(fk->update_action), buf, sizeof(buf)));
		row[6] = fk_strdup(lower_words(catalog_action_name(fk->delete_action), buf, sizeof(buf)));
		strbuf_init(&b);
		append_state(&b, fk);
		row[7] = strbuf_take(&b);
		for (int c = 0; c < TEXT_COLUMNS; c++)
		{
			int			w = display_width(row[c]);

			if (w > widths[c])
				widths[c] = w;
		}
	}

	if (nrows > 0)
	{
		append_row(out, text_headers, widths, true);
		for (int c = 0; c < TEXT_COLUMNS; c++)
		{
			strbuf_append(out, c == 0 ? "-" : "-+-");
			for (int i = 0; i < widths[c]; i++)
				strbuf_append_char(out, '-');
		}
		strbuf_append(out, "-\n");
		for (int r = 0; r < nrows; r++)
			append_row(out, (const char *const *) &cells[r * TEXT_COLUMNS], widths, false);
		strbuf_append_char(out, '\n');
	}
	for (int i = 0; i < nrows * TEXT_COLUMNS; i++)
		free(cells[i]);
	free(cells);

	strbuf_appendf(out, "%d foreign key%s", cat->nfks, cat->nfks == 1 ? "" : "s");
	if (cat->nfks > 0)
		strbuf_appendf(out, ", %d not valid or not enforced", broken);
	if (cat->in_recovery)
		strbuf_append(out, " (read on a hot standby)");
	strbuf_append_char(out, '\n');
	if (broken > 0)
		strbuf_append(out, "Hint: rows that violate a foreign key may have entered while it was "
					  "not valid or not enforced; run \"fkscan scan\" to find them.\n");
}

/* Write the whole report; false (logged) if stdout would not take it. */
static bool
write_stdout(const StrBuf *report)
{
	if (fwrite(report->data, 1, report->len, stdout) != report->len ||
		fflush(stdout) != 0)
	{
		log_error("could not write the report: %s", strerror(errno));
		return false;
	}
	return true;
}

int
audit_run(const FkOptions *options)
{
	PgConn	   *c;
	Catalog    *cat = NULL;
	StrBuf		report;
	int			broken = 0;
	int			rc = FK_EXIT_ERROR;

	c = pgconn_connect(&options->conn, "coordinator");
	if (c == NULL)
		return FK_EXIT_ERROR;
	strbuf_init(&report);

	if (!pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
					 NULL, NULL) ||
		!catalog_read(c, &options->filter, &cat))
		goto done;
	for (int i = 0; i < cat->nfks; i++)
		if (catalog_fk_broken(&cat->fks[i]))
			broken++;
	if (options->format == FORMAT_JSON)
		report_json(&report, cat, broken);
	else
		report_text(&report, cat, broken);
	if (!pgconn_exec(c, "COMMIT", 0, NULL, NULL, NULL))
		goto done;
	if (!write_stdout(&report))
		goto done;
	rc = broken > 0 ? FK_EXIT_FOUND : FK_EXIT_OK;

done:
	strbuf_free(&report);
	catalog_free(cat);
	pgconn_free(c);
	return rc;
}
