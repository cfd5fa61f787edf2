/*
 * report_text.c
 *	  The text report: psql's aligned table, details, notes, next steps
 */
#include "fkscan/reportfmt.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/gate.h"
#include "fkscan/mem.h"
#include "fkscan/nextstep.h"
#include "fkscan/quote.h"
#include "fkscan/report.h"
#include "fkscan/risql.h"
#include "fkscan/texttable.h"

/*
 * "--max-orphans 100 and --max-orphans-per-fk 10": the limits given
 * (per_fk: only those each FK meets on its own).
 */
static void
append_limits(StrBuf *b, const FkOptions *o, bool per_fk)
{
	const GateOptions *g = &o->scan.gate;
	size_t			   start = b->len;

	if (g->max_orphans >= 0 && !per_fk)
		strbuf_appendf(b, "--max-orphans %" PRId64, g->max_orphans);
	if (g->max_orphans_per_fk >= 0)
		strbuf_appendf(b, "%s--max-orphans-per-fk %" PRId64, b->len > start ? " and " : "",
					   g->max_orphans_per_fk);
	if (g->max_orphans_ratio >= 0)
		strbuf_appendf(b, "%s--max-orphans-ratio %g", b->len > start ? " and " : "",
					   g->max_orphans_ratio);
	if (g->baseline)
		strbuf_append(b, b->len == start ? "--baseline (no new orphan row passes)"
										 : " on the orphans --baseline does not know");
}

/* The summary table, psql's aligned format. */
static void
text_table(const ScanResult *res, StrBuf *b)
{
	static const char *const headers[] = {
		"Table",	   "Constraint",  "Method", "Child rows", "Exempt (NULL)",
		"Orphan rows", "Orphan keys", "Status", "Time",		  "Server"};
	static const bool right[] = {false, false, false, true, true, true, true, false, true, false};
	/* the server column only with --replica, each FK on one server */
	bool	  by_fk = res->nservers > 0 && strcmp(res->spread, "fk") == 0;
	TextTable t;

	texttable_init(&t, (int) FK_LENGTHOF(headers) - !by_fk, headers, right);
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		StrBuf			name;
		char			buf[64];

		texttable_add(&t, report_qualified_name(r->child->schema, r->child->name));
		strbuf_init(&name);
		texttable_append_name(&name, r->fk->name);
		texttable_add(&t, strbuf_take(&name));
		texttable_add_copy(&t, r->method ? check_method_name(r->method) : "-");
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
		if (by_fk)
			texttable_add_copy(&t, r->server ? r->server->name : "-");
	}
	texttable_render(&t, b);
	texttable_free(&t);
}

/* --replica: what each server read, and where its WAL stood. */
static void
text_servers(const ScanResult *res, StrBuf *b)
{
	static const char *const headers[] = {"Server", "Address", "Role", "FKs",		"Chunks",
										  "Rows",	"MB",	   "Time", "LSN start", "LSN end"};
	static const bool right[] = {false, false, false, true, true, true, true, true, false, false};
	TextTable		  t;

	strbuf_appendf(b, "Spread over %d servers (--spread %s): %s.\n", res->nservers, res->spread,
				   res->guarantee);
	texttable_init(&t, (int) FK_LENGTHOF(headers), headers, right);
	for (int i = 0; i < res->nservers; i++)
	{
		const ServerFigures *s = &res->servers[i];
		char				 buf[64];

		texttable_add_copy(&t, s->name);
		texttable_add_copy(&t, s->address);
		texttable_add_copy(&t, s->lost ? "lost mid-sweep" : s->in_recovery ? "standby" : "primary");
		snprintf(buf, sizeof(buf), "%d", s->nfks);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%d", s->chunks);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, s->rows);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%.1f", (double) s->bytes / 1048576.0);
		texttable_add_copy(&t, buf);
		snprintf(buf, sizeof(buf), "%.2f s", s->seconds);
		texttable_add_copy(&t, buf);
		texttable_add_copy(&t, s->lsn_start[0] ? s->lsn_start : "-");
		texttable_add_copy(&t, s->lsn_end[0] ? s->lsn_end : "-");
	}
	texttable_render(&t, b);
	texttable_free(&t);
	if (res->window_start[0])
		strbuf_appendf(b, "Window: WAL from %s to %s.\n", res->window_start, res->window_end);
	strbuf_append_char(b, '\n');
}

/* --compare server: times side by side, and whether the counts agree. */
static void
text_compare(const ScanResult *res, StrBuf *b)
{
	bool any = false;

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
		strbuf_appendf(b, ": fkscan %.2f s, server %.2f s, ratio %.2f, %s\n", r->elapsed_s,
					   r->compare_elapsed_s,
					   r->compare_elapsed_s > 0 ? r->elapsed_s / r->compare_elapsed_s : 0,
					   r->compare_agree ? "same orphans" : "COUNTS DISAGREE");
	}
}

/* The cascade chain under an FK's details, indented by depth. */
static void
text_cascade(const FkResult *r, StrBuf *b)
{
	bool any = false;

	/* steps that reach no row are in the JSON; here they would be noise */
	for (int i = 0; i < r->ncascade; i++)
	{
		const CascadeStep *st = &r->cascade[i];
		char			  *t;

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
			strbuf_appendf(b, " %s\n",
						   st->action == 'c'						  ? "deleted too"
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
		case 20:   /* int8 */
		case 21:   /* int2 */
		case 23:   /* int4 */
		case 26:   /* oid */
		case 700:  /* float4 */
		case 701:  /* float8 */
		case 1700: /* numeric */
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
 * The FK's state now, one line each: for an undeclared relationship, what
 * ADD FOREIGN KEY would do; else NOT ENFORCED, RI triggers missing,
 * disabled or replica-only (rows arrive unchecked until they fire again),
 * NOT VALID.  With orphan rows, validate waits for a repair; with none,
 * it is clean and "fkscan validate" can act now.
 */
static void
text_fk_state(StrBuf *b, const FkResult *r)
{
	const CatForeignKey *fk = r->fk;
	bool				 orphans = r->status == FKSTATUS_ORPHANS;
	const char			*when = orphans ? "once the orphan rows are repaired" : "now";

	if (!fk->declared)
	{
		/* what ALTER TABLE ... ADD FOREIGN KEY would do with this data */
		strbuf_append(b, "  no constraint declares this relationship: nothing checks new rows\n"
						 "  ADD FOREIGN KEY would ");
		if (fk->parent_index == NULL)
		{
			strbuf_append(b, "fail: the referenced columns have no unique index (a parent "
							 "key may match several rows)");
		}
		else if (orphans)
		{
			strbuf_append(b, "fail on ");
			strbuf_append_count(b, r->orphan_rows, "row", NULL);
		}
		else
			strbuf_append(b, "succeed");
		if (fk->parent_index != NULL)
			strbuf_appendf(b, " (using the parent's unique index %s)", fk->parent_index);
		strbuf_append_char(b, '\n');
		return;
	}
	if (!fk->enforced)
	{
		strbuf_append(b, "  the constraint is NOT ENFORCED: rows arrived unchecked\n");
		return;
	}
	if (fk->triggers_missing > 0)
	{
		strbuf_append(b, "  its RI triggers are missing now (");
		quote_append_visible(b, fk->missing_detail ? fk->missing_detail : "", false);
		strbuf_append(
			b, "): rows arrive unchecked; only re-creating the constraint brings them back\n");
	}
	if (fk->triggers_disabled > 0)
	{
		strbuf_append(b, "  its RI triggers are disabled now (");
		strbuf_appendf(b, "%d of %d", fk->triggers_disabled, fk->triggers);
		strbuf_appendf(
			b, "): rows arrive unchecked; \"fkscan validate --apply\" re-enables them %s\n", when);
	}
	if (fk->triggers_replica > 0)
	{
		strbuf_appendf(b,
					   "  its RI triggers are replica-only now (%d of %d): rows arrive unchecked "
					   "outside replication; \"fkscan validate --apply\" re-enables them %s\n",
					   fk->triggers_replica, fk->triggers, when);
	}
	if (!fk->validated)
		strbuf_appendf(
			b, "  the constraint is NOT VALID; \"fkscan validate --apply\" validates it %s\n",
			when);
	else if (orphans && catalog_fk_triggers_fire(fk))
		strbuf_append(
			b,
			"  the constraint is marked valid: the rows arrived while its triggers did not fire\n");
}

/* Clean FKs whose catalog state still lets orphans in: say so. */
static void
text_clean_states(const ScanResult *res, StrBuf *b)
{
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char		   *child;

		if (r->status != FKSTATUS_CLEAN || !catalog_fk_broken(r->fk))
			continue;
		child = report_qualified_name(r->child->schema, r->child->name);
		strbuf_append(b, "\n");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b, " on %s: clean, but\n", child);
		text_fk_state(b, r);
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
		char		   *child, *parent;

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
			if (r->baselined)
				strbuf_appendf(b, "; %" PRIu64 " new, %" PRIu64 " known (--baseline)",
							   gate_counted_rows(r, &o->scan.gate), r->known_orphan_rows);
			strbuf_append(b, "\n");
			text_fk_state(b, r);
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
				strbuf_append(
					b,
					"    (no sample rows: they are named by ctid, which this role may not read)\n");
			else if ((uint64_t) r->nsamples < r->orphan_rows)
				strbuf_appendf(b, "    ... (%" PRIu64 " more)\n",
							   r->orphan_rows - (uint64_t) r->nsamples);
			text_cascade(r, b);
			if (o->scan.gate.max_orphans_per_fk >= 0 || o->scan.gate.max_orphans_ratio >= 0 ||
				o->scan.gate.baseline)
			{
				strbuf_appendf(b, "  %s ", gate_fk_tolerated(r, &o->scan.gate) ? "within" : "over");
				append_limits(b, o, true);
				strbuf_append(b, gate_fk_tolerated(r, &o->scan.gate) ? ": tolerated\n" : "\n");
			}
			nextstep_for_fk(b, res, r, o);
		}
		free(child);
		free(parent);
	}
}

/* PostgreSQL 18 temporal FKs: how they were checked. */
static void
text_period_notes(const ScanResult *res, StrBuf *b)
{
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		char		   *child;

		if (!r->fk->period)
			continue;
		child = report_qualified_name(r->child->schema, r->child->name);
		strbuf_append(b, "\nNote: ");
		texttable_append_name(b, r->fk->name);
		strbuf_appendf(b,
					   " on %s is a PERIOD foreign key, checked on the server as its RI trigger\n"
					   "checks a row: the period must lie within the union of its key's parent "
					   "periods;\n" PERIOD_VALIDATE_NOTE ".\n",
					   child);
		free(child);
	}
}

/* With limits given: whether the run passed them, and why not. */
static void
text_gate(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	GateVerdict verdict = gate_verdict(res, &o->scan.gate);
	int			nover = 0;
	uint64_t	counted = 0;
	/* only fixed limits: "over N", the per-FK one; else each FK's own limit */
	bool fixed = o->scan.gate.max_orphans_ratio < 0 && !o->scan.gate.baseline;

	if (!gate_given(&o->scan.gate))
		return;
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		counted += gate_counted_rows(r, &o->scan.gate);
		nover += fixed ? o->scan.gate.max_orphans_per_fk >= 0 &&
							 r->orphan_rows > (uint64_t) o->scan.gate.max_orphans_per_fk
					   : !gate_fk_tolerated(r, &o->scan.gate);
	}
	strbuf_append(b, "Limits ");
	append_limits(b, o, false);
	switch (verdict)
	{
		case VERDICT_ERROR:
			strbuf_append(b, ": not applied, errors are never tolerated.\n");
			break;
		case VERDICT_ORPHANS:
			strbuf_append(b, ": exceeded (");
			if (o->scan.gate.max_orphans >= 0 && counted > (uint64_t) o->scan.gate.max_orphans)
			{
				strbuf_append_count(b, counted,
									o->scan.gate.baseline ? "new orphan row" : "orphan row", NULL);
				strbuf_append(b, nover > 0 ? " in all; " : " in all");
			}
			if (nover > 0)
			{
				strbuf_append_count(b, (uint64_t) nover, "foreign key", NULL);
				if (fixed)
					strbuf_appendf(b, " over %" PRId64, o->scan.gate.max_orphans_per_fk);
				else
					strbuf_append(b, nover == 1 ? " over its limit" : " over their limits");
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
	/* --baseline: which FKs have orphans the baseline does not know */
	for (int i = 0; o->scan.gate.baseline && i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];
		uint64_t		n = gate_counted_rows(r, &o->scan.gate);

		if (n == 0)
			continue;
		strbuf_append(b, "  new: ");
		texttable_append_name(b, r->fk->name);
		strbuf_append(b, " on ");
		texttable_append_qualified(b, r->child->schema, r->child->name);
		strbuf_append(b, ", ");
		strbuf_append_count(b, n, "orphan row", NULL);
		strbuf_append(b, " not in the baseline\n");
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
	bool any = false;

	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (r->resumed || r->resumed_chunks == 0)
			continue;
		if (!any)
			strbuf_append(b,
						  "Foreign keys read partly in earlier runs (--state chunks; each chunk "
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
	int nclean = res->nfks - res->nwith_orphans - res->nerrors - res->nincomplete;

	strbuf_append_count(b, (uint64_t) res->nfks, "foreign key", NULL);
	strbuf_appendf(b, ": %d clean, %d with orphans (", nclean, res->nwith_orphans);
	strbuf_append_count(b, res->orphan_rows, "orphan row", NULL);
	strbuf_append(b, "), ");
	strbuf_append_count(b, (uint64_t) res->nerrors, "error", NULL);
}

void
report_text(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	strbuf_append(b, "fkscan scan of database ");
	quote_append_ident(b, res->database ? res->database : "");
	strbuf_appendf(b, " (PostgreSQL %d.%d%s), ", res->server_version / 10000,
				   res->server_version % 100, res->in_recovery ? ", hot standby" : "");
	strbuf_append_count(b, (uint64_t) res->jobs, "job", NULL);
	strbuf_appendf(b, ", %.2f s\n\n", res->elapsed_s);
	if (res->in_recovery && res->replay_start.known)
		strbuf_appendf(
			b,
			"Hot standby: replayed up to %s (%.1f s behind) at the start, %s at the end; %s%s.\n\n",
			res->replay_start.replay_lsn, res->replay_start.lag_s,
			res->replay_end.known ? res->replay_end.replay_lsn : "?", res->consistency,
			res->attempts > 1 ? ", restarted after recovery conflicts" : "");
	if (o->engine.max_rate > 0 || o->engine.max_rate_bytes > 0)
	{
		strbuf_appendf(b, "Read %" PRIu64 " rows (%.1f MB) at %.0f rows/s, %.2f MB/s (--max-rate ",
					   res->rows_read, (double) res->bytes_read / 1048576.0, res->rows_per_s,
					   res->bytes_per_s / 1048576.0);
		if (o->engine.max_rate > 0)
			strbuf_appendf(b, "%.0f", o->engine.max_rate);
		else
			strbuf_appendf(b, "%.0fMB", o->engine.max_rate_bytes / 1048576.0);
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
	if (res->nservers > 0)
		text_servers(res, b);
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
	nextstep_what_next(res, o, b);
}
