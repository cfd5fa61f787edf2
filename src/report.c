/*
 * report.c
 *	  Writing a scan's report as FKs finish and at the end, in the format
 *	  asked for (report_text.c, report_json.c), and the summary line on
 *	  stderr.
 *
 * Every format is built in a StrBuf from the finished ScanResult and
 * written with one fwrite, so a report is never interleaved with log lines
 * (JSON lines: one fwrite per line).  The verdict is the gate's (gate.c).
 */
#include "fkscan/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/gate.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/quote.h"
#include "fkscan/reportfmt.h"
#include "fkscan/signals.h"
#include "fkscan/strbuf.h"
#include "fkscan/texttable.h"

static void report_log_summary(const ScanResult *res, const FkOptions *o);

char *
report_qualified_name(const char *schema, const char *name)
{
	StrBuf b;

	strbuf_init(&b);
	texttable_append_qualified(&b, schema, name);
	return strbuf_take(&b);
}

/* ---- the stream ---- */

struct ReportStream
{
	const FkOptions *opt; /* borrowed */
	FILE			*out;
	bool			*written;  /* jsonl: per FK, its line is out */
	int				 nwritten; /* entries in written */
	bool			 failed;
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
	StrBuf b;
	bool   ok;

	if (rs == NULL)
		return true;
	if (rs->opt->format != FORMAT_JSONL || index < 0 || index >= res->nfks)
		return !rs->failed;
	if (rs->nwritten < res->nfks)
	{
		rs->written = fk_realloc(rs->written, sizeof(bool) * (size_t) res->nfks);
		memset(rs->written + rs->nwritten, 0, sizeof(bool) * (size_t) (res->nfks - rs->nwritten));
		rs->nwritten = res->nfks;
	}
	if (rs->written[index])
		return !rs->failed;
	rs->written[index] = true;
	strbuf_init(&b);
	report_jsonl_fk(res, &res->fks[index], rs->opt, &b);
	ok = stream_write(rs, &b);
	strbuf_free(&b);
	return ok;
}

bool
report_stream_finish(ReportStream *rs, const ScanResult *res)
{
	StrBuf b;

	strbuf_init(&b);
	switch (rs->opt->format)
	{
		case FORMAT_JSONL:
			for (int i = 0; i < res->nfks; i++)
				(void) report_fk_done(rs, res, i);
			report_jsonl_summary(res, rs->opt, &b);
			break;
		case FORMAT_JSON:
			report_json(res, rs->opt, &b);
			break;
		case FORMAT_TEXT:
			report_text(res, rs->opt, &b);
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
	bool		  ok = report_stream_finish(rs, res);

	report_stream_free(rs);
	return ok;
}

/* ---- the summary line ---- */

/*
 * The line for logs, on stderr unless -q:
 * fkscan: scan of "shop": 7 foreign keys, 5 with orphans (795 rows), 0 errors, 2.31 s
 */
static void
report_log_summary(const ScanResult *res, const FkOptions *o)
{
	GateVerdict verdict = gate_verdict(res, &o->scan.gate);
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
	if (gate_given(&o->scan.gate) && verdict == VERDICT_TOLERATED)
		strbuf_append(&b, ", tolerated by the limits");
	else if (gate_given(&o->scan.gate) && verdict == VERDICT_ORPHANS)
		strbuf_append(&b, ", over the limits");
	strbuf_append_char(&b, '\n');
	log_raw(b.data);
	strbuf_free(&b);
}
