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
bool		  report_fk_done(ReportStream *rs, const ScanResult *res, int index);
bool		  report_stream_finish(ReportStream *rs, const ScanResult *res);
void		  report_stream_free(ReportStream *rs);

/* All of the above at once, for a finished result. */
bool report_scan(const ScanResult *res, const FkOptions *options, FILE *out);

/* Format a table name as schema.table, quoting parts only where psql would. */
char *report_qualified_name(const char *schema, const char *name);

#endif /* FKSCAN_REPORT_H */
