/*
 * resume.h
 *	  --state in a scan: FKs an earlier run finished are not read again
 *	  (their results come from the file), and neither are the child chunks
 *	  it recorded.  A chunk's findings are recorded as it ends; an earlier
 *	  run's are re-probed against this run's parent sets, since a parent
 *	  added since makes an orphan key no orphan.
 */
#ifndef FKSCAN_RESUME_H
#define FKSCAN_RESUME_H

#include <stdbool.h>

#include "fkscan/catalog.h"
#include "fkscan/keyset.h"
#include "fkscan/partial.h"
#include "fkscan/pgconn.h"
#include "fkscan/plan.h"
#include "fkscan/report.h"
#include "fkscan/result.h"
#include "fkscan/state.h"

typedef struct Resume
{
	StateFile *state; /* NULL: nothing to resume or record */
	int		   nfks;
	bool	  *record_pass; /* per ChildPass: record its chunks */
	FkPartial *found;		/* per FK: what its recorded chunks hold */
	int		  *chunks;		/* per FK: how many recorded chunks */
	char	***snaps;		/* per FK: the distinct snapshots they were read on */
	int		  *nsnaps;
} Resume;

/*
 * res->fks set up for every FK of cat; those state finished filled in
 * (marked resumed) and their report lines sent to stream.  Returns which
 * to skip (caller frees).  Cascade steps outside a filtered catalog need
 * the whole graph (with the scan's relationships): read on coord, into
 * res->graph.
 */
bool *resume_finished_fks(StateFile *state, const Catalog *cat, const RelationList *relations,
						  PgConn *coord, ReportStream *stream, ScanResult *res);

/*
 * Which passes record their chunks (more than one chunk, one key pass,
 * ctid ranges), and the recorded chunks that fit the plan joined to it
 * (plan_apply_recorded), not to be read again.
 */
void resume_plan(Resume *r, StateFile *state, ScanPlan *plan, bool tid_ranges);

/*
 * The recorded chunks' findings into r->found once the parent sets are
 * built: ints[set] the set's integer keys, failed[set] whether reading it
 * failed (its FKs take nothing).
 */
void resume_load(Resume *r, const ScanPlan *plan, const KeySet64 *const *ints, const bool *failed);

/*
 * Record a finished chunk of a pass, read on snapshot: local[] its
 * findings per FK of the pass (their orphan lists get sorted).  A write
 * that fails is logged; the chunk stands.
 */
void resume_record_chunk(StateFile *state, const ScanPlan *plan, const Chunk *c,
						 const ChildPass *pass, FkPartial *local, const char *snapshot);

void resume_free(Resume *r);

#endif /* FKSCAN_RESUME_H */
