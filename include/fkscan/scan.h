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
	const CandSet *cands;
	const bool *confirmed;
} ScanOrphanKeys;

/*
 * For commands built on a scan (fix, validate).  keys() is called once per
 * FK with orphans (index i of res->fks), on a connection still in the
 * scan's snapshot, before the keys are freed; false fails the run (exit 2).
 * finish() replaces the report: it gets the finished result, the catalog
 * its FkResults point into, and the exit code the scan would have had, and
 * returns the command's.
 */
typedef struct ScanHook
{
	void	   *ctx;
	bool		(*keys) (void *ctx, PgConn *verifier, const Catalog *cat,
						 const FkResult *r, int i, const ScanOrphanKeys *k);
	int			(*finish) (void *ctx, const Catalog *cat, ScanResult *res, int scan_rc);
} ScanHook;

/* scan_run, handing each FK's orphan keys to hook and the result to its finish. */
int scan_run_hooked(const FkOptions *options, const ScanHook *hook);

#endif /* FKSCAN_SCAN_H */
