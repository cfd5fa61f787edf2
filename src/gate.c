/*
 * gate.c
 *	  The pipeline gate: the verdict on a scan's findings and its exit status
 */
#include "fkscan/gate.h"

#include <stdint.h>

bool
gate_given(const GateOptions *o)
{
	return o->max_orphans >= 0 || o->max_orphans_per_fk >= 0 || o->max_orphans_ratio >= 0 ||
		   o->baseline;
}

uint64_t
gate_counted_rows(const FkResult *r, const GateOptions *o)
{
	return o->baseline && r->known_orphan_rows <= r->orphan_rows
			   ? r->orphan_rows - r->known_orphan_rows
			   : r->orphan_rows;
}

/*
 * An FK's own limit: the smallest given (one FK over the total fails
 * alone); the ratio of its rows a MATCH rule does not exempt, rounded down.
 * None given: 0, with or without a baseline.
 */
static uint64_t
fk_limit(const FkResult *r, const GateOptions *o)
{
	uint64_t limit = UINT64_MAX;

	if (o->max_orphans_per_fk >= 0)
		limit = (uint64_t) o->max_orphans_per_fk;
	if (o->max_orphans >= 0 && (uint64_t) o->max_orphans < limit)
		limit = (uint64_t) o->max_orphans;
	if (o->max_orphans_ratio >= 0)
	{
		uint64_t base = r->child_rows > r->null_rows ? r->child_rows - r->null_rows : 0;
		uint64_t ratio = (uint64_t) ((double) base * o->max_orphans_ratio);

		if (ratio < limit)
			limit = ratio;
	}
	return limit == UINT64_MAX ? 0 : limit;
}

bool
gate_fk_tolerated(const FkResult *r, const GateOptions *o)
{
	if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
		(r->compared && !r->compare_agree))
		return false;
	return gate_counted_rows(r, o) <= fk_limit(r, o);
}

GateVerdict
gate_verdict(const ScanResult *res, const GateOptions *o)
{
	bool	 all_tolerated = true;
	bool	 any_orphans = false;
	uint64_t total = 0; /* counted */

	if (res->interrupted || res->nerrors > 0 || res->ndisagree > 0 || res->output_failed)
		return VERDICT_ERROR;
	for (int i = 0; i < res->nfks; i++)
	{
		const FkResult *r = &res->fks[i];

		if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
			(r->compared && !r->compare_agree))
			return VERDICT_ERROR;
		total += gate_counted_rows(r, o);
		any_orphans |= r->orphan_rows > 0;
		all_tolerated = all_tolerated && gate_fk_tolerated(r, o);
	}
	if (!any_orphans)
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
