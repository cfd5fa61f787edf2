/*
 * report.h
 *	  The scan report: a readable summary table (text), the JSON object of
 *	  DESIGN.md's contract, or JSON lines (a line per FK, then a summary
 *	  line); the one-line summary on stderr; and the pipeline gate that
 *	  turns the findings into an exit status.
 *
 * JSON field names are relied on by other tools: add fields freely, never
 * rename (src/schema/fkscan-scan.schema.json documents every one).
 *
 * The gate (--max-orphans, --max-orphans-per-fk): orphans within every
 * limit given pass (exit 0) and are still reported in full.  An FK's own
 * limit is the smaller of the two limits given; the run passes when every
 * FK is within its own limit and the total within --max-orphans.  With no
 * limit given no orphan passes.  Errors, disagreement with the server and
 * interrupted scans are never tolerated.
 */
#ifndef FKSCAN_REPORT_H
#define FKSCAN_REPORT_H

#include <stdio.h>

#include "fkscan/options.h"
#include "fkscan/result.h"

/* What the findings amount to, worst last; the "verdict" field. */
typedef enum ReportVerdict
{
	VERDICT_CLEAN,				/* no orphans: exit 0 */
	VERDICT_TOLERATED,			/* orphans, all within the limits: exit 0 */
	VERDICT_ORPHANS,			/* orphans over the limits: exit 1 */
	VERDICT_ERROR				/* incomplete or untrustworthy answer: exit 2 */
} ReportVerdict;

/* Does this FK pass the gate: clean, or orphans within its own limit? */
bool report_fk_tolerated(const FkResult *r, const FkOptions *options);

/*
 * The verdict over the whole result: VERDICT_ERROR if interrupted,
 * ndisagree, output_failed or any FK in error; else by the FKs' counts.
 */
ReportVerdict report_verdict(const ScanResult *res, const FkOptions *options);
const char *report_verdict_name(ReportVerdict verdict);

/*
 * The exit status the findings call for: FK_EXIT_OK, FK_EXIT_FOUND or
 * FK_EXIT_ERROR.  Failures the result does not record (a report that could
 * not be written, recovery conflicts that spoiled every attempt) are the
 * caller's to add.
 */
int report_exit_code(const ScanResult *res, const FkOptions *options);

/*
 * Writing a report, in steps, so the engine can stream JSON lines as FKs
 * finish.  Single-threaded: one thread (the coordinator) calls these, or
 * the caller serialises the calls.
 *
 *   rs = report_stream_create(options, stdout);
 *   report_fk_done(rs, res, i);      optional, once per FK whose result
 *                                    res->fks[i] is final (compare included)
 *   report_stream_finish(rs, res);   res complete: writes what is left
 *   report_stream_free(rs);
 *
 * --format jsonl writes each FK's line in report_fk_done (res->database
 * must be set by then) and the lines of FKs never reported that way, then
 * the summary line, in report_stream_finish.  Text and JSON need the whole
 * result: report_fk_done does nothing for them.  report_stream_finish
 * also logs the one-line summary on stderr unless -q.  Both return false
 * if a write failed (logged once); the stream is then spent.
 */
typedef struct ReportStream ReportStream;

ReportStream *report_stream_create(const FkOptions *options, FILE *out);
bool report_fk_done(ReportStream *rs, const ScanResult *res, int index);
bool report_stream_finish(ReportStream *rs, const ScanResult *res);
void report_stream_free(ReportStream *rs);

/* All of the above at once, for a finished result. */
bool report_scan(const ScanResult *res, const FkOptions *options, FILE *out);

/*
 * The line for logs, on stderr unless -q (report_stream_finish calls it):
 * fkscan: scan of "shop": 7 foreign keys, 5 with orphans (795 rows), 0 errors, 2.31 s
 */
void report_log_summary(const ScanResult *res, const FkOptions *options);

/* Format a table name as schema.table, quoting parts only where psql would. */
/*
 * " -h HOST -p PORT -U USER DB": the connection as the user gave it, as
 * shell words for a command line fkscan prints ("next:" lines): -h/-p/-U
 * as given, a conninfo string or URI as key='value' pairs without its
 * password, a plain database name as given, else database (the server's).
 */
struct StrBuf;
void report_append_connection(struct StrBuf *b, const FkOptions *options,
							  const char *database);

char *report_qualified_name(const char *schema, const char *name);

#endif /* FKSCAN_REPORT_H */
