/*
 * gate.h
 *	  The pipeline gate: what a scan's findings amount to (the "verdict"
 *	  field) and the exit status they call for, under --max-orphans,
 *	  --max-orphans-per-fk, --max-orphans-ratio and --baseline.  Pure
 *	  functions of the result and the options: every report and the exit
 *	  status ask them, nothing else decides.
 *
 * With --baseline, the orphan rows the baseline knows (FkResult's
 * known_orphan_rows) do not count against any limit: only new ones do.
 */
#ifndef FKSCAN_GATE_H
#define FKSCAN_GATE_H

#include <stdbool.h>

#include "fkscan/result.h"

/*
 * Orphans within these pass with exit 0.  -1 when not given; neither given
 * means no orphan passes.
 */
typedef struct GateOptions
{
	int64_t max_orphans;		/* --max-orphans: total orphan rows */
	int64_t max_orphans_per_fk; /* --max-orphans-per-fk: each FK's orphan rows */
	double	max_orphans_ratio;	/* --max-orphans-ratio: of each FK's non-NULL rows; < 0: none */
	bool	baseline;			/* --baseline: known orphans do not count */
} GateOptions;

/* What the findings amount to, worst last. */
typedef enum GateVerdict
{
	VERDICT_CLEAN,	   /* no orphans: exit 0 */
	VERDICT_TOLERATED, /* orphans, all within the limits: exit 0 */
	VERDICT_ORPHANS,   /* orphans over the limits: exit 1 */
	VERDICT_ERROR	   /* incomplete or untrustworthy answer: exit 2 */
} GateVerdict;

/* Was any limit (or a baseline) given? */
bool gate_given(const GateOptions *gate);

/* The orphan rows of an FK that count: the new ones with --baseline, else all. */
uint64_t gate_counted_rows(const FkResult *r, const GateOptions *gate);

/* Does this FK pass the gate: clean, or counted orphans within its own limit? */
bool gate_fk_tolerated(const FkResult *r, const GateOptions *gate);

/*
 * The verdict over the whole result: VERDICT_ERROR if interrupted,
 * ndisagree, output_failed or any FK in error; else by the FKs' counts.
 */
GateVerdict gate_verdict(const ScanResult *res, const GateOptions *gate);
const char *gate_verdict_name(GateVerdict verdict);

/*
 * The exit status the findings call for: FK_EXIT_OK, FK_EXIT_FOUND or
 * FK_EXIT_ERROR.  Failures the result does not record (a report that could
 * not be written, recovery conflicts that spoiled every attempt) are the
 * caller's to add.
 */
int gate_exit_code(const ScanResult *res, const GateOptions *gate);

#endif /* FKSCAN_GATE_H */
