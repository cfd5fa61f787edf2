/*
 * report_json.c
 *	  The JSON report and JSON lines (src/schema/fkscan-scan.schema.json)
 */
#include "fkscan/reportfmt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/gate.h"
#include "fkscan/jsonw.h"
#include "fkscan/mem.h"
#include "fkscan/report.h"

static void
json_columns(JsonWriter *w, const char *key, const CatColumn *cols, int n, bool types)
{
	jsonw_key(w, key);
	jsonw_array_begin(w);
	for (int i = 0; i < n; i++)
		jsonw_string(w, types ? cols[i].type_name : cols[i].name);
	jsonw_array_end(w);
}

void
report_json_fk_identity(JsonWriter *w, const CatTable *child, const CatTable *parent,
						const CatForeignKey *fk, bool types)
{
	char match[16];

	jsonw_key(w, "schema");
	jsonw_string(w, child->schema);
	jsonw_key(w, "table");
	jsonw_string(w, child->name);
	jsonw_key(w, "constraint");
	jsonw_string(w, fk->name);
	json_columns(w, "columns", fk->child_cols, fk->ncols, false);
	if (types)
		json_columns(w, "column_types", fk->child_cols, fk->ncols, true);
	jsonw_key(w, "ref_schema");
	jsonw_string(w, parent->schema);
	jsonw_key(w, "ref_table");
	jsonw_string(w, parent->name);
	json_columns(w, "ref_columns", fk->parent_cols, fk->ncols, false);
	if (types)
		json_columns(w, "ref_column_types", fk->parent_cols, fk->ncols, true);
	jsonw_key(w, "match");
	jsonw_string(w, str_lower(catalog_match_name(fk->match_type), match, sizeof(match)));
	jsonw_key(w, "declared");
	jsonw_bool(w, fk->declared);
	if (!fk->declared)
	{
		jsonw_key(w, "relation");
		jsonw_string(w, fk->relation);
		jsonw_key(w, "parent_index");
		jsonw_string(w, fk->parent_index);
	}
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

/* --replica: each server's share, the main one first. */
static void
json_servers(JsonWriter *w, const ScanResult *res)
{
	jsonw_key(w, "spread");
	jsonw_string(w, res->spread);
	if (res->window_start[0] || res->window_end[0])
	{
		jsonw_key(w, "window");
		jsonw_object_begin(w);
		jsonw_key(w, "start");
		jsonw_string(w, res->window_start[0] ? res->window_start : NULL);
		jsonw_key(w, "end");
		jsonw_string(w, res->window_end[0] ? res->window_end : NULL);
		jsonw_object_end(w);
	}
	jsonw_key(w, "servers");
	jsonw_array_begin(w);
	for (int i = 0; i < res->nservers; i++)
	{
		const ServerFigures *s = &res->servers[i];

		jsonw_object_begin(w);
		jsonw_key(w, "name");
		jsonw_string(w, s->name);
		jsonw_key(w, "address");
		jsonw_string(w, s->address);
		jsonw_key(w, "in_recovery");
		jsonw_bool(w, s->in_recovery);
		jsonw_key(w, "lost");
		jsonw_bool(w, s->lost);
		jsonw_key(w, "constraints");
		jsonw_int(w, s->nfks);
		jsonw_key(w, "chunks");
		jsonw_int(w, s->chunks);
		jsonw_key(w, "rows_read");
		jsonw_int(w, (int64_t) s->rows);
		jsonw_key(w, "bytes_read");
		jsonw_int(w, (int64_t) s->bytes);
		jsonw_key(w, "elapsed_s");
		jsonw_double(w, s->seconds, 3);
		jsonw_key(w, "lsn_start");
		jsonw_string(w, s->lsn_start[0] ? s->lsn_start : NULL);
		jsonw_key(w, "lsn_end");
		jsonw_string(w, s->lsn_end[0] ? s->lsn_end : NULL);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
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
	if (res->nservers > 0)
		json_servers(w, res);
}

/* The fields of one constraints[] object (the caller opens and closes it). */
static void
json_fk_fields(JsonWriter *w, const FkResult *r, const FkOptions *o)
{
	const CatForeignKey *fk = r->fk;

	report_json_fk_identity(w, r->child, r->parent, fk, false);
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
	jsonw_bool(w, catalog_fk_triggers_fire(fk));
	jsonw_key(w, "triggers_missing");
	jsonw_int(w, fk->triggers_missing);
	jsonw_key(w, "missing_trigger_detail");
	jsonw_string(w, fk->missing_detail);
	jsonw_key(w, "method");
	jsonw_string(w, check_method_name(r->method));
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
	jsonw_bool(w, gate_fk_tolerated(r, &o->scan.gate));
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
	if (r->baselined)
	{
		jsonw_key(w, "known_orphan_rows");
		jsonw_int(w, (int64_t) r->known_orphan_rows);
		jsonw_key(w, "new_orphan_rows");
		jsonw_int(w, (int64_t) gate_counted_rows(r, &o->scan.gate));
	}
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
	if (r->server)
	{
		jsonw_key(w, "server");
		jsonw_string(w, r->server->name);
		jsonw_key(w, "server_lsn");
		jsonw_string(w, r->server->lsn_start[0] ? r->server->lsn_start : NULL);
	}
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
	GateVerdict verdict = gate_verdict(res, &o->scan.gate);

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
	json_limit(w, "max_orphans", o->scan.gate.max_orphans);
	json_limit(w, "max_orphans_per_fk", o->scan.gate.max_orphans_per_fk);
	if (o->scan.gate.max_orphans_ratio >= 0)
	{
		jsonw_key(w, "max_orphans_ratio");
		jsonw_double(w, o->scan.gate.max_orphans_ratio, 6);
	}
	if (o->scan.gate.baseline)
	{
		uint64_t counted = 0;

		for (int i = 0; i < res->nfks; i++)
			counted += gate_counted_rows(&res->fks[i], &o->scan.gate);
		jsonw_key(w, "baseline");
		jsonw_string(w, o->scan.baseline);
		jsonw_key(w, "known_orphan_rows");
		jsonw_int(w, (int64_t) (res->orphan_rows - counted));
		jsonw_key(w, "new_orphan_rows");
		jsonw_int(w, (int64_t) counted);
	}
	jsonw_key(w, "tolerated");
	jsonw_bool(w, verdict == VERDICT_CLEAN || verdict == VERDICT_TOLERATED);
	jsonw_key(w, "verdict");
	jsonw_string(w, gate_verdict_name(verdict));
	jsonw_object_end(w);
}

void
report_json(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	JsonWriter w;

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
void
report_jsonl_fk(const ScanResult *res, const FkResult *r, const FkOptions *o, StrBuf *b)
{
	JsonWriter w;

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
void
report_jsonl_summary(const ScanResult *res, const FkOptions *o, StrBuf *b)
{
	JsonWriter w;

	jsonw_init(&w, b, false);
	jsonw_object_begin(&w);
	jsonw_key(&w, "type");
	jsonw_string(&w, "summary");
	json_header(&w, res);
	json_totals(&w, res, o);
	jsonw_object_end(&w);
	strbuf_append_char(b, '\n');
}
