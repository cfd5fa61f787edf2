/*
 * gate.c
 *	  The pipeline gate: the verdict on a scan's findings and its exit status
 */
#include "fkscan/gate.h"

bool
gate_given(const GateOptions *o)
{
	return o->max_orphans >= 0 || o->max_orphans_per_fk >= 0;
}

/* An FK's own limit: the smaller limit given (one FK over the total fails alone). */
static uint64_t
fk_limit(const GateOptions *o)
{
	if (o->max_orphans_per_fk >= 0 && o->max_orphans >= 0)
		return (uint64_t) (o->max_orphans_per_fk < o->max_orphans ? o->max_orphans_per_fk
																  : o->max_orphans);
	if (o->max_orphans_per_fk >= 0)
		return (uint64_t) o->max_orphans_per_fk;
	if (o->max_orphans >= 0)
		return (uint64_t) o->max_orphans;
	return 0;
}

bool
gate_fk_tolerated(const FkResult *r, const GateOptions *o)
{
	if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
		(r->compared && !r->compare_agree))
		return false;
	return r->orphan_rows <= fk_limit(o);
}

GateVerdict
gate_verdict(const ScanResult *res, const GateOptions *o)
{
	bool	 all_tolerated = true;
	uint64_t total = 0;

	if (res->interrupted || res->nerrors > 0 || res->ndisagree > 0 || res->output_failed)
		return VERDICT_ERROR;
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
			(r->compared && !r->compare_agree))
			return VERDICT_ERROR;
		total += r->orphan_rows;
		all_tolerated = all_tolerated && gate_fk_tolerated(r, o);
	}
	if (total == 0)
		return VERDICT_CLEAN;
	if (all_tolerated && (o->max_orphans < 0 || total <= (uint64_t) o->max_orphans))
		return VERDICT_TOLERATED;
	return VERDICT_ORPHANS;
}

const char *
gate_verdict_name(GateVerdict verdict)
{
	switch (verdict)
	{
		case VERDICT_CLEAN:
			return "clean";
		case VERDICT_TOLERATED:
			return "tolerated";
		case VERDICT_ORPHANS:
			return "orphans";
		case VERDICT_ERROR:
			break;
	}
	return "error";
}

int
gate_exit_code(const ScanResult *res, const GateOptions *o)
{
	switch (gate_verdict(res, o))
	{
		case VERDICT_CLEAN:
		case VERDICT_TOLERATED:
			return FK_EXIT_OK;
		case VERDICT_ORPHANS:
			return FK_EXIT_FOUND;
		case VERDICT_ERROR:
			break;
	}
	return FK_EXIT_ERROR;
}
