/*
 * reportfmt.h
 *	  The report's formats, each built whole in a StrBuf from a finished
 *	  result: text (report_text.c), JSON and JSON lines (report_json.c).
 *	  report.c decides which and writes them.
 */
#ifndef FKSCAN_REPORTFMT_H
#define FKSCAN_REPORTFMT_H

#include "fkscan/options.h"
#include "fkscan/result.h"
#include "fkscan/strbuf.h"

/*
 * PostgreSQL 18 temporal FKs: why the server's VALIDATE is no second
 * opinion (18.4's joins on && and passes a row whose period its parents
 * cover only in part; the RI trigger rejects it).  Both formats say it.
 */
#define PERIOD_VALIDATE_NOTE                                                                     \
	"the server's VALIDATE CONSTRAINT (PostgreSQL 18.4) tests overlap only and would miss rows " \
	"whose period is partly covered"

/*
 * Which FK: the fields the audit and the scan report share, in their order
 * (schema, table, constraint, columns, ref_schema, ref_table, ref_columns,
 * match); with types, the audit's column_types and ref_column_types too.
 */
struct JsonWriter;
void report_json_fk_identity(struct JsonWriter *w, const CatTable *child, const CatTable *parent,
							 const CatForeignKey *fk, bool types);

void report_text(const ScanResult *res, const FkOptions *o, StrBuf *b);
void report_json(const ScanResult *res, const FkOptions *o, StrBuf *b);

/* --format jsonl: one FK's line, then the summary line. */
void report_jsonl_fk(const ScanResult *res, const FkResult *r, const FkOptions *o, StrBuf *b);
void report_jsonl_summary(const ScanResult *res, const FkOptions *o, StrBuf *b);

#endif /* FKSCAN_REPORTFMT_H */
