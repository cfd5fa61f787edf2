/*
 * scan_parents.c
 *	  Phase 1: parent chunks streamed into per-worker partial key sets,
 *	  merged and frozen for phase 2
 */
#include "fkscan/scanint.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/candset.h"
#include "fkscan/catalog.h"
#include "fkscan/fpset.h"
#include "fkscan/hset128.h"
#include "fkscan/keyenc.h"
#include "fkscan/keyset.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/pace.h"
#include "fkscan/plan.h"
#include "fkscan/pool.h"
#include "fkscan/report.h"
#include "fkscan/rowsrc.h"
#include "fkscan/signals.h"
#include "fkscan/standby.h"
#include "fkscan/state.h"
#include "fkscan/strbuf.h"
#include "fkscan/verify.h"

/* ---- phase 1: parent keys ---- */

/* Integer sets take parent_keys (key mode), hashed ones parent_row. */
typedef struct ParentCtx
{
	Worker			*w;
	const ParentSet *set;
	KeySet			*out;
	Hash128			 hbatch[PROBE_BATCH]; /* hashed sets: added a batch at a time */
	int				 n;
	uint64_t		 rows;
	StrBuf			 enc;
	bool			 bad_value;
} ParentCtx;

static bool
parent_row(void *arg, const CopyField *f, int nf)
{
	ParentCtx *pc = arg;
	Hash128	   h;

	if (FK_UNLIKELY((++pc->rows & (CHECK_EVERY_ROWS - 1)) == 0) &&
		!pace_tick(&pc->w->scan->pace, CHECK_EVERY_ROWS))
		return false;
	/* a parent key with a NULL in it can never match */
	for (int k = 0; k < nf; k++)
		if (f[k].len < 0)
			return true;
	if (!keyenc_fingerprint(f, NULL, pc->set->enc, nf, &pc->enc, &h))
	{
		pc->bad_value = true;
		return false;
	}
	if (in_key_pass(pc->w->scan, h))
	{
		pc->hbatch[pc->n] = h;
		if (++pc->n == PROBE_BATCH)
		{
			fpset_add_many(pc->out->prints, pc->hbatch, (size_t) pc->n);
			pc->n = 0;
		}
	}
	return true;
}

/* An integer set's keys, a batch at a time, straight from the decoder. */
static bool
parent_keys(void *arg, const CopyKeyBatch *b)
{
	ParentCtx *pc = arg;

	keyset64_add_many(pc->out->ints, b->keys, b->nkeys);
	return pace_tick(&pc->w->scan->pace, b->nkeys + b->nnulls);
}

bool
run_parent_chunk(Worker *w, const Chunk *c, int attempt)
{
	Scan			*s = w->scan;
	const ParentSet *set = &s->plan->sets[c->target];
	ParentCtx		*pc;
	StrBuf			 sql;
	RowSourceStats	 st;
	bool			 ok, retry;

	if (has_error(s, &s->errors.set[c->target]))
		return false;
	/* integer sets are complete after the first key pass */
	if (s->phase.key_pass > 0 && set->kind == KEYKIND_INT)
		return false;
	pc = fk_calloc(1, sizeof(ParentCtx));
	pc->w = w;
	pc->set = set;
	pc->out = &w->sets[c->target];
	strbuf_init(&pc->enc);
	strbuf_init(&sql);
	chunk_select(&sql, c, set->cols, set->ncols);

	if (set->kind == KEYKIND_INT)
	{
		ok = rowsrc_stream_keys(w->conn, fetch_for(s->opt, true), sql.data, parent_keys, pc, &st);
		pc->bad_value = st.bad_key;
	}
	else
	{
		ok = rowsrc_stream(w->conn, fetch_for(s->opt, false), sql.data, set->ncols, parent_row, pc,
						   &st);
		if (pc->n > 0)
			fpset_add_many(pc->out->prints, pc->hbatch, (size_t) pc->n);
		pace_count(&s->pace, pc->rows & (CHECK_EVERY_ROWS - 1));
	}
	pace_throttle(&s->pace); /* small chunks never reach the in-row check */
	w->rows += st.rows;
	w->bytes += (uint64_t) st.bytes;
	/* a set ignores keys added twice: a retried chunk just adds them again */
	retry = !ok && chunk_failed(w, &s->errors.set[c->target], c, pc->bad_value, attempt);
	strbuf_free(&sql);
	strbuf_free(&pc->enc);
	free(pc);
	return retry;
}

/*
 * Empty partial sets for each worker before a parents phase: all of them in
 * the first key pass, only the hashed ones (the next slice) afterwards.
 */
void
prepare_partial_sets(Scan *s)
{
	/* the previous slice is done with: free it before the next grows */
	for (int i = 0; i < s->plan->nsets; i++)
	{
		fpset_free(s->sets[i].prints);
		s->sets[i].prints = NULL;
	}
	for (int w = 0; w < s->nworkers; w++)
		for (int i = 0; i < s->plan->nsets; i++)
		{
			KeySet *part = &s->workers[w].sets[i];

			if (s->plan->sets[i].kind == KEYKIND_HASH)
				part->prints = fpset_create();
			else if (s->phase.key_pass == 0)
				part->ints = keyset64_create();
		}
}

/* The parts of the hashed parent sets being frozen: one pool job each. */
typedef struct FreezeJob
{
	FpSet *set;
	int	   part;
} FreezeJob;

static bool
freeze_job(void *ctx, int worker, int job)
{
	FreezeJob *fj = ctx;

	(void) worker;
	fpset_freeze_part(fj[job].set, fj[job].part);
	return true;
}

/*
 * Freeze the hashed sets' parts on the pool's threads, idle between the
 * phases (5M text keys: 0.14-0.35 s on one thread); whatever no thread
 * took (none alive) runs here.
 */
static void
freeze_hashed_sets(Scan *s)
{
	FreezeJob *fj = NULL;
	PoolPhase  phase = {0};
	int		   n = 0;
	int		   cap = 0;

	for (int i = 0; i < s->plan->nsets; i++)
	{
		int nparts = s->sets[i].prints ? fpset_freeze_begin(s->sets[i].prints) : 0;

		fk_array_grow((void **) &fj, &cap, n + nparts, sizeof(FreezeJob));
		for (int p = 0; p < nparts; p++)
			fj[n++] = (FreezeJob){s->sets[i].prints, p};
	}
	phase.njobs = n;
	phase.job = freeze_job;
	phase.ctx = fj;
	if (n > 0)
		pool_run(s->pool, &phase);
	for (int j = 0; j < n; j++)
		if (!pool_job_done(s->pool, j))
			freeze_job(fj, -1, j);
	for (int i = 0; i < s->plan->nsets; i++)
		if (s->sets[i].prints)
			fpset_freeze_end(s->sets[i].prints);
	free(fj);
}

void
merge_parent_sets(Scan *s)
{
	for (int i = 0; i < s->plan->nsets; i++)
	{
		KeySet *merged = &s->sets[i];

		if (s->plan->sets[i].kind == KEYKIND_INT)
		{
			if (s->phase.key_pass > 0)
				continue; /* complete since the first pass */
			merged->ints = keyset64_create();
		}
		else
			merged->prints = fpset_create();
		for (int w = 0; w < s->nworkers; w++)
		{
			KeySet *part = &s->workers[w].sets[i];

			if (part->ints)
				keyset64_merge_inplace(merged->ints, part->ints);
			if (part->prints)
				fpset_merge_inplace(merged->prints, part->prints);
			keyset64_free(part->ints);
			fpset_free(part->prints);
			part->ints = NULL;
			part->prints = NULL;
		}
		if (merged->ints)
			keyset64_freeze(merged->ints);
	}
	freeze_hashed_sets(s);
	for (int i = 0; i < s->plan->nsets; i++)
	{
		const KeySet *merged = &s->sets[i];

		if (s->plan->sets[i].kind == KEYKIND_INT && s->phase.key_pass > 0)
			continue;
		if (merged->ints)
			log_info("parent set %d: %" PRIu64 " keys, %s, %zu kB", i,
					 keyset64_cardinality(merged->ints), keyset64_method(merged->ints),
					 keyset64_memory_bytes(merged->ints) / 1024);
		else if (merged->prints)
			log_info("parent set %d: %zu keys, hash%s, %zu kB", i, fpset_size(merged->prints),
					 fpset_is_packed(merged->prints) ? " (packed integers)" : "",
					 fpset_memory_bytes(merged->prints) / 1024);
	}
}
