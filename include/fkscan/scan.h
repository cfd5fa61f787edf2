/*
 * scan.h
 *	  "fkscan scan": the parallel orphan scan.
 */
#ifndef FKSCAN_SCAN_H
#define FKSCAN_SCAN_H

#include "fkscan/candset.h"
#include "fkscan/keyset.h"
#include "fkscan/options.h"
#include "fkscan/pgconn.h"
#include "fkscan/report.h"
#include "fkscan/result.h"

/* Run the command; returns the exit code (FK_EXIT_*). */
int scan_run(const FkOptions *options);

/*
 * The final orphan keys of one FK, as the scan holds them: an integer FK's
 * key set, or a hashed FK's candidates (raw child values, binary) of which
 * confirmed[i] are orphans.  Both NULL for an FK checked on the server.
 */
typedef struct ScanOrphanKeys
{
	const KeySet64 *ints;
	const CandSet  *cands;
	const bool	   *confirmed;
} ScanOrphanKeys;

/*
 * A finished scan, for the command built on it: scan reports it, fix plans
 * its repair from it, validate validates what it found clean.  Always
 * scan_outcome_free it (that also resumes a standby's paused replay).
 */
typedef struct ScanOutcome
{
	int				 rc; /* the scan's exit code (FK_EXIT_*) */
	ScanResult		 result;
	Catalog			*cat;  /* what result's FkResults point into */
	struct ScanHeld *held; /* scan.c's: what lives until scan_outcome_free */
} ScanOutcome;

/*
 * Run the scan: standby checks, attempts, the verdict.  stream (may be NULL)
 * gets --format jsonl lines as FKs finish.  keep_keys keeps every FK's
 * orphan keys and a connection in the scan's snapshot for the caller.
 * True when result and cat are filled.
 */
bool scan_execute(const FkOptions *options, ReportStream *stream, bool keep_keys, ScanOutcome *out);

/* FK i's orphan keys (keep_keys, status orphans); false if none held. */
bool scan_outcome_keys(const ScanOutcome *out, int i, ScanOrphanKeys *k);

/* keep_keys: a connection still in the scan's snapshot, to read the keys on. */
PgConn *scan_outcome_verifier(const ScanOutcome *out);

/* Release the keys and the snapshot's connections; the result stays. */
void scan_outcome_drop_keys(ScanOutcome *out);
void scan_outcome_free(ScanOutcome *out);

#endif /* FKSCAN_SCAN_H */
