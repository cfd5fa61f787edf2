/*
 * report.c
 *	  Scan reports: an aligned summary table with details, or JSON.
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
#include "fkscan/strbuf.h"

#define NCOLS 9

/* Does a name need quotes to be read back as itself (psql's rule, roughly)? */
static bool
needs_quotes(const char *name)
{
	if (!(islower((unsigned char) name[0]) || name[0] == '_'))
		return true;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '_'))
			return true;
	return false;
}

static void
append_name(StrBuf *b, const char *name)
{
	if (!needs_quotes(name))
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

char *
report_qualified_name(const char *schema, const char *name)
{
	StrBuf		b;

	strbuf_init(&b);
	append_name(&b, schema);
	strbuf_append_char(&b, '.');
	append_name(&b, name);
	return strbuf_take(&b);
}

static void
append_columns(StrBuf *b, const CatColumn *cols, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i)
			strbuf_append(b, ", ");
		append_name(b, cols[i].name);
	}
}

/* Display width of UTF-8 text: code points, not bytes. */
static int
text_width(const char *s)
{
	int			w = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			w++;
	return w;
}

static void
append_cell(StrBuf *b, const char *s, int width, bool right)
{
	int			fill = width - text_width(s);

	if (right)
		for (int i = 0; i < fill; i++)
			strbuf_append_char(b, ' ');
	strbuf_append(b, s);
	if (!right)
		for (int i = 0; i < fill; i++)
			strbuf_append_char(b, ' ');
}

/* The summary table, psql's aligned format. */
static void
text_table(const ScanResult *res, StrBuf *b)
{
	static const char *const headers[NCOLS] = {
		"Table", "Constraint", "Method", "Child rows", "Exempt (NULL)",
		"Orphan rows", "Orphan keys", "Status", "Time"
	};
	static const bool right[NCOLS] = {false, false, false, true, true, true, true, false, true};
	char	  **cells = fk_calloc((size_t) res->nfks * NCOLS, sizeof(char *));
	int			width[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		width[c] = text_width(headers[c]);
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char	  **row = cells + (size_t) i * NCOLS;
		StrBuf		name;
		char		buf[64];

		row[0] = report_qualified_name(r->child->schema, r->child->name);
		strbuf_init(&name);
		append_name(&name, r->fk->name);
		row[1] = strbuf_take(&name);
		row[2] = fk_strdup(r->method);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->child_rows);
		row[3] = fk_strdup(buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->null_rows);
		row[4] = fk_strdup(buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->orphan_rows);
		row[5] = fk_strdup(buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, r->orphan_keys);
		row[6] = fk_strdup(buf);
		row[7] = fk_strdup(scanresult_status_name(r->status));
		snprintf(buf, sizeof(buf), "%.2f s", r->elapsed_s);
		row[8] = fk_strdup(buf);
		for (int c = 0; c < NCOLS; c++)
			if (text_width(row[c]) > width[c])
				width[c] = text_width(row[c]);
	}

	for (int c = 0; c < NCOLS; c++)
	{
		strbuf_append(b, c ? " | " : " ");
		append_cell(b, headers[c], width[c], false);
	}
	strbuf_append_char(b, '\n');
	for (int c = 0; c < NCOLS; c++)
	{
		strbuf_append(b, c ? "-+-" : "-");
		for (int k = 0; k < width[c]; k++)
			strbuf_append_char(b, '-');
	}
	strbuf_append(b, "-\n");
	for (int i = 0; i < res->nfks; i++)
	{
		for (int c = 0; c < NCOLS; c++)
		{
			strbuf_append(b, c ? " | " : " ");
			append_cell(b, cells[(size_t) i * NCOLS + c], width[c], right[c]);
		}
		strbuf_append_char(b, '\n');
	}
	for (size_t k = 0; k < (size_t) res->nfks * NCOLS; k++)
		free(cells[k]);
	free(cells);
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
		append_name(b, r->fk->name);
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
	if (r->ncascade > 0)
		strbuf_append(b, "  deleting them would reach:\n");
	for (int i = 0; i < r->ncascade; i++)
	{
		const CascadeStep *st = &r->cascade[i];
		char	   *t = report_qualified_name(st->table->schema, st->table->name);

		for (int d = 0; d < st->depth; d++)
			strbuf_append(b, "  ");
		strbuf_appendf(b, "  %s via ", t);
		append_name(b, st->via->name);
		if (st->error)
			strbuf_appendf(b, ": not counted (%s)\n", st->error);
		else
			strbuf_appendf(b, " (ON DELETE %s): %" PRIu64 " row%s %s\n",
						   catalog_action_name(st->action), st->rows,
						   st->rows == 1 ? "" : "s",
						   st->action == 'c' ? "deleted too"
						   : (st->action == 'n' || st->action == 'd') ? "updated"
						   : "would block the delete");
		free(t);
	}
}

/* What was found for each FK that is not clean, with sample rows. */
static void
text_details(const ScanResult *res, StrBuf *b)
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
		append_name(b, r->fk->name);
		strbuf_appendf(b, " on %s (", child);
		append_columns(b, r->fk->child_cols, r->fk->ncols);
		strbuf_appendf(b, ") references %s (", parent);
		append_columns(b, r->fk->parent_cols, r->fk->ncols);
		strbuf_append(b, ")\n");
		if (r->status == FKSTATUS_ERROR)
			strbuf_appendf(b, "  error: %s\n", r->error ? r->error : "unknown");
		else
		{
			strbuf_appendf(b, "  %" PRIu64 " orphan row%s, %" PRIu64 " distinct key%s",
						   r->orphan_rows, r->orphan_rows == 1 ? "" : "s",
						   r->orphan_keys, r->orphan_keys == 1 ? "" : "s");
			if (r->partial_null_rows > 0)
				strbuf_appendf(b, ", %" PRIu64 " with mixed NULLs (MATCH FULL)",
							   r->partial_null_rows);
			strbuf_append(b, "\n");
			if (!r->fk->validated)
				strbuf_append(b, "  the constraint is NOT VALID\n");
			else
				strbuf_append(b, "  the constraint is marked valid: the rows arrived while its triggers did not fire\n");
			for (int j = 0; j < r->nsamples; j++)
			{
				const OrphanSample *smp = &r->samples[j];

				strbuf_appendf(b, "    ctid %-12s ", smp->ctid);
				for (int k = 0; k < smp->nkeys; k++)
				{
					strbuf_append(b, k ? ", " : "");
					append_name(b, r->fk->child_cols[k].name);
					strbuf_appendf(b, " = %s", smp->key[k] ? smp->key[k] : "NULL");
				}
				strbuf_append_char(b, '\n');
			}
			if ((uint64_t) r->nsamples < r->orphan_rows)
				strbuf_appendf(b, "    ... (%" PRIu64 " more)\n",
							   r->orphan_rows - (uint64_t) r->nsamples);
			text_cascade(r, b);
		}
		free(child);
		free(parent);
	}
}

static void
text_report(const ScanResult *res, StrBuf *b)
{
	int			nclean = res->nfks - res->nwith_orphans - res->nerrors;

	strbuf_appendf(b, "fkscan scan of database \"%s\" (PostgreSQL %d.%d%s), %d job%s, %.2f s\n\n",
				   res->database ? res->database : "", res->server_version / 10000,
				   res->server_version % 100, res->in_recovery ? ", hot standby" : "",
				   res->jobs, res->jobs == 1 ? "" : "s", res->elapsed_s);
	if (res->in_recovery && res->replay_start.known)
		strbuf_appendf(b, "Hot standby: replayed up to %s (%.1f s behind) at the start, %s at the end; %s%s.\n\n",
					   res->replay_start.replay_lsn, res->replay_start.lag_s,
					   res->replay_end.known ? res->replay_end.replay_lsn : "?",
					   res->consistency,
					   res->attempts > 1 ? ", restarted after recovery conflicts" : "");
	if (res->chunk_retries > 0)
		strbuf_appendf(b, "%d chunk%s re-read after recovery conflicts: %s.\n\n",
					   res->chunk_retries, res->chunk_retries == 1 ? "" : "s", res->guarantee);
	if (res->nfks == 0)
	{
		strbuf_append(b, "No foreign keys in scope.\n");
		return;
	}
	text_table(res, b);
	text_compare(res, b);
	text_details(res, b);
	strbuf_appendf(b, "\n%d foreign key%s: %d clean, %d with orphans (%" PRIu64
				   " orphan row%s), %d error%s.\n",
				   res->nfks, res->nfks == 1 ? "" : "s", nclean, res->nwith_orphans,
				   res->orphan_rows, res->orphan_rows == 1 ? "" : "s",
				   res->nerrors, res->nerrors == 1 ? "" : "s");
	if (res->ndisagree > 0)
		strbuf_appendf(b, "%d foreign key%s disagree%s with the server's anti-join: do not trust this answer.\n",
					   res->ndisagree, res->ndisagree == 1 ? "" : "s",
					   res->ndisagree == 1 ? "s" : "");
	if (res->interrupted)
		strbuf_append(b, "The scan was interrupted: the answer is incomplete.\n");
	else if (res->nerrors > 0)
		strbuf_append(b, "Some foreign keys could not be checked: the answer is incomplete.\n");
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
json_report(const ScanResult *res, StrBuf *b)
{
	JsonWriter	w;

	jsonw_init(&w, b, true);
	jsonw_object_begin(&w);
	jsonw_key(&w, "tool");
	jsonw_string(&w, "fkscan");
	jsonw_key(&w, "version");
	jsonw_string(&w, FKSCAN_VERSION);
	jsonw_key(&w, "database");
	jsonw_string(&w, res->database);
	jsonw_key(&w, "server_version_num");
	jsonw_int(&w, res->server_version);
	jsonw_key(&w, "in_recovery");
	jsonw_bool(&w, res->in_recovery);
	jsonw_key(&w, "snapshot");
	jsonw_string(&w, res->snapshot);
	jsonw_key(&w, "jobs");
	jsonw_int(&w, res->jobs);
	jsonw_key(&w, "elapsed_s");
	jsonw_double(&w, res->elapsed_s, 3);
	jsonw_key(&w, "interrupted");
	jsonw_bool(&w, res->interrupted);
	jsonw_key(&w, "key_passes");
	jsonw_int(&w, res->key_passes);
	jsonw_key(&w, "consistency");
	jsonw_string(&w, res->consistency);
	jsonw_key(&w, "guarantee");
	jsonw_string(&w, res->guarantee);
	jsonw_key(&w, "attempts");
	jsonw_int(&w, res->attempts);
	jsonw_key(&w, "chunk_retries");
	jsonw_int(&w, res->chunk_retries);
	jsonw_key(&w, "rows_read");
	jsonw_int(&w, (int64_t) res->rows_read);
	jsonw_key(&w, "rows_per_s");
	jsonw_double(&w, res->rows_per_s, 0);
	if (res->in_recovery)
	{
		jsonw_key(&w, "replay");
		jsonw_object_begin(&w);
		json_replay(&w, "start", &res->replay_start);
		json_replay(&w, "end", &res->replay_end);
		jsonw_object_end(&w);
	}
	jsonw_key(&w, "client_peak_rss_kb");
	jsonw_int(&w, res->peak_rss_kb);
	jsonw_key(&w, "constraints");
	jsonw_array_begin(&w);
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		const CatForeignKey *fk = r->fk;

		jsonw_object_begin(&w);
		jsonw_key(&w, "schema");
		jsonw_string(&w, r->child->schema);
		jsonw_key(&w, "table");
		jsonw_string(&w, r->child->name);
		jsonw_key(&w, "constraint");
		jsonw_string(&w, fk->name);
		jsonw_key(&w, "columns");
		json_strings_of_columns(&w, fk->child_cols, fk->ncols);
		jsonw_key(&w, "ref_schema");
		jsonw_string(&w, r->parent->schema);
		jsonw_key(&w, "ref_table");
		jsonw_string(&w, r->parent->name);
		jsonw_key(&w, "ref_columns");
		json_strings_of_columns(&w, fk->parent_cols, fk->ncols);
		jsonw_key(&w, "match");
		jsonw_string(&w, fk->match_type == 'f' ? "full" : "simple");
		jsonw_key(&w, "validated");
		jsonw_bool(&w, fk->validated);
		jsonw_key(&w, "triggers_enabled");
		jsonw_bool(&w, fk->enforced && fk->triggers_disabled == 0 && fk->triggers_replica == 0);
		jsonw_key(&w, "method");
		jsonw_string(&w, r->method);
		if (r->method_reason)
		{
			jsonw_key(&w, "method_reason");
			jsonw_string(&w, r->method_reason);
		}
		jsonw_key(&w, "status");
		jsonw_string(&w, scanresult_status_name(r->status));
		if (r->error)
		{
			jsonw_key(&w, "error");
			jsonw_string(&w, r->error);
		}
		jsonw_key(&w, "child_rows");
		jsonw_int(&w, (int64_t) r->child_rows);
		jsonw_key(&w, "null_rows");
		jsonw_int(&w, (int64_t) r->null_rows);
		jsonw_key(&w, "partial_null_rows");
		jsonw_int(&w, (int64_t) r->partial_null_rows);
		jsonw_key(&w, "orphan_rows");
		jsonw_int(&w, (int64_t) r->orphan_rows);
		jsonw_key(&w, "orphan_keys");
		jsonw_int(&w, (int64_t) r->orphan_keys);
		jsonw_key(&w, "sample");
		jsonw_array_begin(&w);
		for (int j = 0; j < r->nsamples; j++)
		{
			jsonw_object_begin(&w);
			jsonw_key(&w, "key");
			jsonw_array_begin(&w);
			for (int k = 0; k < r->samples[j].nkeys; k++)
				jsonw_string(&w, r->samples[j].key[k]);
			jsonw_array_end(&w);
			jsonw_key(&w, "ctid");
			jsonw_string(&w, r->samples[j].ctid);
			jsonw_object_end(&w);
		}
		jsonw_array_end(&w);
		jsonw_key(&w, "cascade");
		json_cascade(&w, r);
		jsonw_key(&w, "elapsed_s");
		jsonw_double(&w, r->elapsed_s, 3);
		if (r->compared)
		{
			jsonw_key(&w, "compare");
			jsonw_object_begin(&w);
			jsonw_key(&w, "server_elapsed_s");
			jsonw_double(&w, r->compare_elapsed_s, 3);
			jsonw_key(&w, "ratio");
			jsonw_double(&w, r->compare_elapsed_s > 0 ? r->elapsed_s / r->compare_elapsed_s : 0, 3);
			jsonw_key(&w, "server_orphan_rows");
			jsonw_int(&w, (int64_t) r->compare_orphan_rows);
			jsonw_key(&w, "server_orphan_keys");
			jsonw_int(&w, (int64_t) r->compare_orphan_keys);
			jsonw_key(&w, "agree");
			jsonw_bool(&w, r->compare_agree);
			jsonw_object_end(&w);
		}
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	jsonw_key(&w, "totals");
	jsonw_object_begin(&w);
	jsonw_key(&w, "constraints");
	jsonw_int(&w, res->nfks);
	jsonw_key(&w, "with_orphans");
	jsonw_int(&w, res->nwith_orphans);
	jsonw_key(&w, "orphan_rows");
	jsonw_int(&w, (int64_t) res->orphan_rows);
	jsonw_key(&w, "errors");
	jsonw_int(&w, res->nerrors);
	jsonw_key(&w, "disagreements");
	jsonw_int(&w, res->ndisagree);
	jsonw_object_end(&w);
	jsonw_object_end(&w);
	strbuf_append_char(b, '\n');
}

bool
report_scan(const ScanResult *res, const FkOptions *opt, FILE *out)
{
	StrBuf		b;
	bool		ok;

	strbuf_init(&b);
	if (opt->format == FORMAT_JSON)
		json_report(res, &b);
	else
		text_report(res, &b);
	ok = fwrite(b.data, 1, b.len, out) == b.len && fflush(out) == 0;
	if (!ok)
		log_error("could not write the report: %s", strerror(errno));
	strbuf_free(&b);
	return ok;
}
