/*
 * nextstep.h
 *	  What a report tells its reader to run next: fkscan command lines
 *	  (connection, selection and files quoted as shell words) and the SQL
 *	  that shows an FK's orphan rows in psql.
 */
#ifndef FKSCAN_NEXTSTEP_H
#define FKSCAN_NEXTSTEP_H

#include "fkscan/options.h"
#include "fkscan/result.h"
#include "fkscan/strbuf.h"

/*
 * " -h HOST -p PORT -U USER DB": the connection as the user gave it, as
 * shell words: -h/-p/-U as given, a conninfo string or URI as key='value'
 * pairs without its password, a plain database name as given, else
 * database (the server's).
 */
void nextstep_connection(StrBuf *b, const FkOptions *options, const char *database);

/* "What to do next": the fkscan fix command line for each FK with orphans. */
void nextstep_what_next(const ScanResult *res, const FkOptions *options, StrBuf *b);

/* An FK with orphans: the command that lists them all, or a look in psql. */
void nextstep_for_fk(StrBuf *b, const ScanResult *res, const FkResult *r, const FkOptions *options);

#endif /* FKSCAN_NEXTSTEP_H */
