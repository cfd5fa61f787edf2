/*
 * resume.c
 *	  --state in a scan: what earlier runs finished, and recording chunks
 */
#include "fkscan/resume.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"

bool *
resume_finished_fks(StateFile *state, const Catalog *cat, const RelationList *relations,
					PgConn *coord, ReportStream *stream, ScanResult *res)
{
	bool *skip = fk_calloc((size_t) cat->nfks + 1, sizeof(bool));

	res->nfks = cat->nfks;
	res->fks = fk_calloc((size_t) cat->nfks + 1, sizeof(FkResult));
	for (int i = 0; i < cat->nfks; i++)
	{
		FkResult *r = &res->fks[i];
		bool	  need_graph = false;

		r->fk = &cat->fks[i];
		r->child = &cat->tables[cat->fks[i].child];
		r->parent = &cat->tables[cat->fks[i].parent];
		if (state == NULL)
			continue;
		skip[i] = state_take_fk(state, r->fk, cat, res->graph, r, &need_graph);
		if (!skip[i] && need_graph)
		{
			if (catalog_read_graph(coord, relations, &res->graph))
				skip[i] = state_take_fk(state, r->fk, cat, res->graph, r, &need_graph);
		}
		if (skip[i])
			res->nresumed++;
	}
	if (res->nresumed > 0)
		log_info("%d of %d foreign keys finished in earlier runs (--state): not read again",
				 res->nresumed, cat->nfks);
	for (int i = 0; i < cat->nfks; i++)
		if (skip[i])
			(void) report_fk_done(stream, res, i);
	return skip;
}

/* The pass of child table oid, or -1. */
static int
pass_of_table(const ScanPlan *plan, Oid oid)
{
	for (int p = 0; p < plan->npasses; p++)
		if (plan->cat->tables[plan->passes[p].table].oid == oid)
			return p;
	return -1;
}

/* Does a chunk record hold every FK of the pass, each of the right kind? */
static bool
chunk_fits_pass(const ScanPlan *plan, const ChildPass *pass, const StateChunk *sc)
{
	for (int k = 0; k < pass->nfks; k++)
	{
		const FkPlan *fp = &plan->fks[pass->fks[k]];
		bool		  found = false;

		if (!fp->fk->declared)
			return false; /* as in state_take_fk */
		for (int j = 0; j < sc->nfks && !found; j++)
			if (sc->fks[j].fk == fp->fk->oid)
				found = fp->kind == KEYKIND_INT
							? sc->fks[j].cands == NULL
							: sc->fks[j].cands != NULL &&
								  candset_nkeys(sc->fks[j].cands) == fp->fk->ncols;
		if (!found)
			return false;
	}
	return true;
}

void
resume_plan(Resume *r, StateFile *state, ScanPlan *plan, bool tid_ranges)
{
	PlanRecorded *rec;
	int			  nrec = 0;
	int			 *nchunks;

	r->state = state;
	r->nfks = plan->nfks;
	r->record_pass = fk_calloc((size_t) plan->npasses + 1, sizeof(bool));
	r->found = fk_calloc((size_t) plan->nfks + 1, sizeof(FkPartial));
	r->chunks = fk_calloc((size_t) plan->nfks + 1, sizeof(int));
	r->snaps = fk_calloc((size_t) plan->nfks + 1, sizeof(char **));
	r->nsnaps = fk_calloc((size_t) plan->nfks + 1, sizeof(int));
	if (state == NULL || !tid_ranges || plan->key_passes != 1)
		return;
	rec = fk_calloc((size_t) state_nchunks(state) + 1, sizeof(PlanRecorded));
	for (int i = 0; i < state_nchunks(state); i++)
	{
		const StateChunk  *sc = state_chunk(state, i);
		int				   p = pass_of_table(plan, sc->table);
		const CatTable	  *t;
		const CatRelation *rel = NULL;
		int64_t			   end = sc->end_page < 0 ? INT64_MAX : sc->end_page;
		bool			   overlaps = false;

		if (p < 0 || !chunk_fits_pass(plan, &plan->passes[p], sc))
			continue;
		t = &plan->cat->tables[plan->passes[p].table];
		for (int l = 0; l < t->nleaves; l++)
			if (t->leaves[l].oid == sc->leaf && t->leaves[l].heap &&
				t->leaves[l].filenode == sc->filenode && sc->filenode != 0)
				rel = &t->leaves[l]; /* the same file: the same pages */
		if (rel == NULL)
			continue;
		/* a range recorded twice (never, but be safe) counts once */
		for (int j = 0; j < nrec; j++)
		{
			int64_t jend = rec[j].end_page < 0 ? INT64_MAX : rec[j].end_page;

			overlaps |= rec[j].rel == rel && rec[j].first_page < end && sc->first_page < jend;
		}
		if (overlaps)
			continue;
		rec[nrec].pass = p;
		rec[nrec].rel = rel;
		rec[nrec].first_page = sc->first_page;
		rec[nrec].end_page = sc->end_page;
		rec[nrec].id = i;
		nrec++;
	}
	plan_apply_recorded(plan, rec, nrec);
	free(rec);
	nchunks = fk_calloc((size_t) plan->npasses + 1, sizeof(int));
	for (int i = 0; i < plan->nchild_chunks; i++)
		if (plan->child_chunks[i].role == CHUNK_CHILD && plan->child_chunks[i].rel->heap)
			nchunks[plan->child_chunks[i].target]++;
	for (int p = 0; p < plan->npasses; p++)
		r->record_pass[p] = nchunks[p] > 1;
	free(nchunks);
	if (nrec > 0)
		log_info("%d child chunks finished in earlier runs (--state): not read again", nrec);
}

/*
 * Counts added; an integer orphan key that has a parent now is no orphan
 * (its rows and samples dropped); hashed candidates join the FK's
 * candidates, confirmed on the server like any other.
 */
void
resume_load(Resume *r, const ScanPlan *plan, const KeySet64 *const *ints, const bool *failed)
{
	for (int i = 0; i < plan->nchild_chunks; i++)
	{
		const Chunk		 *c = &plan->child_chunks[i];
		const StateChunk *sc;
		const ChildPass	 *pass;

		if (c->role != CHUNK_CHILD || c->recorded < 0)
			continue;
		sc = state_chunk(r->state, c->recorded);
		pass = &plan->passes[c->target];
		for (int k = 0; k < pass->nfks; k++)
		{
			int					fk = pass->fks[k];
			const FkPlan	   *fp = &plan->fks[fk];
			const StateChunkFk *cf = NULL;
			FkPartial		   *p = &r->found[fk];
			const KeySet64	   *parents = ints[fp->parent_set];
			bool				seen = false;

			for (int j = 0; j < sc->nfks && cf == NULL; j++)
				if (sc->fks[j].fk == fp->fk->oid)
					cf = &sc->fks[j];
			if (cf == NULL || failed[fp->parent_set])
				continue;
			if (p->orphans == NULL && p->cands == NULL)
			{
				if (fp->kind == KEYKIND_INT)
					p->orphans = keyset64_create();
				else
					p->cands = candset_create(fp->fk->ncols);
			}
			p->child_rows += cf->child_rows;
			p->null_rows += cf->null_rows;
			p->partial_null_rows += cf->partial_null_rows;
			p->orphan_rows += cf->orphan_rows;
			for (int j = 0; j < cf->nkeys; j++)
			{
				if (keyset64_contains(parents, cf->keys[j]))
					p->orphan_rows -= cf->key_rows[j];
				else
					keyset64_add(p->orphans, cf->keys[j]);
			}
			if (cf->cands)
				candset_merge_inplace(p->cands, cf->cands);
			for (int j = 0; j < cf->nsamples; j++)
			{
				const StateChunkSample *smp = &cf->samples[j];
				SampleRef			   *ref;

				if (fp->kind == KEYKIND_INT && keyset64_contains(parents, smp->key))
					continue;
				p->samples = fk_realloc(p->samples, sizeof(SampleRef) * (size_t) (p->nsamples + 1));
				ref = &p->samples[p->nsamples++];
				memset(ref, 0, sizeof(*ref));
				ref->chunk = i;
				ref->ordinal = smp->ordinal;
				ref->key = smp->key;
				ref->hash = smp->hash;
				ref->partial = smp->partial;
			}
			r->chunks[fk]++;
			for (int j = 0; j < r->nsnaps[fk]; j++)
				seen |= sc->snapshot && strcmp(r->snaps[fk][j], sc->snapshot) == 0;
			if (!seen && sc->snapshot)
			{
				r->snaps[fk] =
					fk_realloc(r->snaps[fk], sizeof(char *) * (size_t) (r->nsnaps[fk] + 1));
				r->snaps[fk][r->nsnaps[fk]++] = fk_strdup(sc->snapshot);
			}
		}
	}
}

static int
compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

/*
 * One record per chunk: per FK of its pass, integer orphans with their
 * rows per key, candidates with theirs, the sample references.
 */
void
resume_record_chunk(StateFile *state, const ScanPlan *plan, const Chunk *c, const ChildPass *pass,
					FkPartial *local, const char *snapshot)
{
	StateChunk sc;

	memset(&sc, 0, sizeof(sc));
	sc.table = plan->cat->tables[pass->table].oid;
	sc.leaf = c->rel->oid;
	sc.filenode = c->rel->filenode;
	sc.first_page = c->first_page < 0 ? 0 : c->first_page;
	sc.end_page = c->end_page;
	sc.snapshot = (char *) snapshot;
	sc.nfks = pass->nfks;
	sc.fks = fk_calloc((size_t) pass->nfks + 1, sizeof(StateChunkFk));
	for (int i = 0; i < pass->nfks; i++)
	{
		FkPartial	 *p = &local[i];
		StateChunkFk *cf = &sc.fks[i];

		cf->fk = plan->fks[pass->fks[i]].fk->oid;
		cf->child_rows = p->child_rows;
		cf->null_rows = p->null_rows;
		cf->partial_null_rows = p->partial_null_rows;
		cf->orphan_rows = p->orphan_rows;
		cf->cands = p->cands;
		if (p->nolist > 0)
			qsort(p->olist, p->nolist, sizeof(int64_t), compare_i64);
		cf->keys = fk_malloc(sizeof(int64_t) * (p->nolist + 1));
		cf->key_rows = fk_malloc(sizeof(uint64_t) * (p->nolist + 1));
		for (size_t k = 0; k < p->nolist; k++)
		{
			if (cf->nkeys > 0 && cf->keys[cf->nkeys - 1] == p->olist[k])
				cf->key_rows[cf->nkeys - 1]++;
			else
			{
				cf->keys[cf->nkeys] = p->olist[k];
				cf->key_rows[cf->nkeys++] = 1;
			}
		}
		cf->samples = fk_calloc((size_t) p->nsamples + 1, sizeof(StateChunkSample));
		cf->nsamples = p->nsamples;
		for (int k = 0; k < p->nsamples; k++)
		{
			cf->samples[k].ordinal = p->samples[k].ordinal;
			cf->samples[k].key = p->samples[k].key;
			cf->samples[k].hash = p->samples[k].hash;
			cf->samples[k].partial = p->samples[k].partial;
		}
	}
	(void) state_record_chunk(state, &sc);
	for (int i = 0; i < sc.nfks; i++)
	{
		free(sc.fks[i].keys);
		free(sc.fks[i].key_rows);
		free(sc.fks[i].samples);
	}
	free(sc.fks);
}

void
resume_free(Resume *r)
{
	for (int i = 0; r->found && i < r->nfks; i++)
	{
		partial_free(&r->found[i]);
		for (int k = 0; k < r->nsnaps[i]; k++)
			free(r->snaps[i][k]);
		free(r->snaps[i]);
	}
	free(r->found);
	free(r->chunks);
	free(r->snaps);
	free(r->nsnaps);
	free(r->record_pass);
	memset(r, 0, sizeof(*r));
}
