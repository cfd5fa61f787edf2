/*
 * state.h
 *	  The --state file of a long sweep: each finished FK's final result,
 *	  so that a later run with the same file skips it (resume).
 *
 * A versioned, line-based, append-only text file.  The header (written
 * whole, then renamed into place) names the database and a hash of the
 * options that decide the results (filters, --sample, --compare); a file
 * written for another database or selection is refused.  Then one record
 * per finished FK, appended with one write() and fsync()ed: its counts,
 * samples, cascade chain, compare figures, and the snapshot it was read
 * on.  A record counts only with its closing "end" line, so a kill -9
 * mid-write loses that FK alone (the torn tail is cut off on the next
 * open).  Only FKs whose result is final (clean or orphans) are recorded;
 * errors and incomplete FKs are read again.
 *
 * Not thread-safe: the coordinator alone calls these.
 */
#ifndef FKSCAN_STATE_H
#define FKSCAN_STATE_H

#include "fkscan/catalog.h"
#include "fkscan/options.h"
#include "fkscan/result.h"

typedef struct StateFile StateFile;

/*
 * Open path for this run, creating it if it does not exist.  NULL on a
 * file that cannot be read or written, is not a state file, or belongs to
 * another database or selection (logged, with a hint).
 */
StateFile *state_open(const char *path, const char *database, const FkOptions *options);

/* Finished FKs the file holds (before this run added any). */
int state_count(const StateFile *st);

/*
 * The recorded result of fk, into r (counts, samples, cascade, compare,
 * snapshot; r->resumed set); r->fk, child and parent are the caller's.
 * Cascade steps are resolved in cat, then graph (may be NULL).  False if
 * there is no record for it (by OID and names), or a step cannot be
 * resolved: *need_graph is then set when graph was NULL.
 */
bool state_take_fk(StateFile *st, const CatForeignKey *fk, const Catalog *cat,
				   const Catalog *graph, FkResult *r, bool *need_graph);

/* Append r's record and fsync; false (logged) if it could not be written. */
bool state_record_fk(StateFile *st, const FkResult *r);

void state_close(StateFile *st);

#endif /* FKSCAN_STATE_H */
