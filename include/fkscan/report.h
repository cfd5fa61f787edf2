/*
 * report.h
 *	  The scan report: a readable summary table (text) or the JSON object
 *	  of DESIGN.md's contract (field names are relied on by other tools:
 *	  add fields freely, never rename).
 */
#ifndef FKSCAN_REPORT_H
#define FKSCAN_REPORT_H

#include <stdio.h>

#include "fkscan/options.h"
#include "fkscan/result.h"

/* Write the report in options->format; false if the write failed (logged). */
bool report_scan(const ScanResult *res, const FkOptions *options, FILE *out);

/* Format a table name as schema.table, quoting parts only where psql would. */
char *report_qualified_name(const char *schema, const char *name);

#endif /* FKSCAN_REPORT_H */
