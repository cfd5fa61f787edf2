/*
 * plan.c
 *	  From catalog to chunks: methods, shared parent sets, child passes and
 *	  ctid page ranges.
 */
#include "fkscan/plan.h"

#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"
#include "fkscan/strbuf.h"

/* Below this a relation is not worth splitting (8 MB). */
#define MIN_CHUNK_PAGES 1024
/*
 * Chunks per worker and phase when sizing automatically: a phase ends when
 * its last chunk does, so the tail a worker may idle is a chunk at most;
 * but each chunk costs the client time too (5M text parents at -j2: the
 * parents' phase 0.15 s shorter in 9 chunks than in 33).
 */
#define CHUNKS_PER_JOB 4

/*
 * How the FK is checked; fills the set's (parent side) and the FK's child
 * encodings; *reason for the server.
 */
static KeyKind
choose_kind(const CatForeignKey *fk, ParentSet *set, KeyEncKind *child_enc, const char **reason)
{
	*reason = NULL;
	if (fk->period)
	{
		*reason = "PERIOD foreign key: the period must lie within the union of its key's parent "
				  "periods (RI's range_agg test)";
		return KEYKIND_SERVER;
	}
	if (fk->ncols > PLAN_MAX_KEYS)
	{
		*reason = "too many key columns";
		return KEYKIND_SERVER;
	}
	for (int i = 0; i < fk->ncols; i++)
	{
		KeyEncPair pair = keyenc_pair(&fk->child_cols[i], &fk->parent_cols[i], reason);

		if (pair.child == KEYENC_NONE)
			return KEYKIND_SERVER;
		set->enc[i] = pair.parent;
		child_enc[i] = pair.child;
	}
	return fk->ncols == 1 && set->enc[0] == KEYENC_INT ? KEYKIND_INT : KEYKIND_HASH;
}

static int
find_or_add_set(ScanPlan *p, int *cap, const ParentSet *want)
{
	for (int i = 0; i < p->nsets; i++)
	{
		const ParentSet *s = &p->sets[i];
		bool same = s->kind == want->kind && s->table == want->table && s->ncols == want->ncols;

		for (int k = 0; same && k < s->ncols; k++)
			same = s->cols[k]->attnum == want->cols[k]->attnum &&
				   (s->kind == KEYKIND_INT || s->enc[k] == want->enc[k]);
		if (same)
			return i;
	}
	fk_array_grow((void **) &p->sets, cap, p->nsets + 1, sizeof(ParentSet));
	p->sets[p->nsets] = *want;
	return p->nsets++;
}

static int
find_or_add_pass(ScanPlan *p, int *cap, int table)
{
	for (int i = 0; i < p->npasses; i++)
		if (p->passes[i].table == table)
			return i;
	fk_array_grow((void **) &p->passes, cap, p->npasses + 1, sizeof(ChildPass));
	memset(&p->passes[p->npasses], 0, sizeof(ChildPass));
	p->passes[p->npasses].table = table;
	return p->npasses++;
}

/* Index of col in the pass's column list, adding it if new. */
static int
pass_field(ChildPass *pass, const CatColumn *col)
{
	for (int i = 0; i < pass->ncols; i++)
		if (pass->cols[i]->attnum == col->attnum)
			return i;
	pass->cols = fk_realloc(pass->cols, sizeof(CatColumn *) * (size_t) (pass->ncols + 1));
	pass->cols[pass->ncols] = col;
	return pass->ncols++;
}

typedef struct ChunkList
{
	Chunk *items;
	int	   n;
	int	   cap;
} ChunkList;

static void
add_chunk(ChunkList *l, ChunkRole role, int target, const CatRelation *rel, int64_t first,
		  int64_t end)
{
	Chunk *c;

	fk_array_grow((void **) &l->items, &l->cap, l->n + 1, sizeof(Chunk));
	c = &l->items[l->n++];
	c->role = role;
	c->target = target;
	c->rel = rel;
	c->first_page = first;
	c->end_page = end;
	c->recorded = -1;
}

/*
 * Split one relation into [first, end) page ranges, the last open-ended.
 * split_bulk: split even a relation a plain scan would read through the
 * server's ring buffer; ctid ranges read it through the whole buffer pool,
 * which evicts the server's working set and, measured on 2 cores, costs
 * the server twice the CPU a row (README.md, "How it works").
 */
static void
add_relation_chunks(ChunkList *l, ChunkRole role, int target, const CatRelation *rel,
					int64_t chunk_pages, bool tid_ranges, bool split_bulk)
{
	/* ctid ranges need SELECT on ctid: without it, the relation in one read */
	if (!tid_ranges || !rel->heap || !rel->ctid_readable || rel->pages <= chunk_pages ||
		(rel->bulk_read && !split_bulk))
	{
		add_chunk(l, role, target, rel, -1, -1);
		return;
	}
	for (int64_t first = 0; first < rel->pages; first += chunk_pages)
	{
		bool last = first + chunk_pages >= rel->pages;

		add_chunk(l, role, target, rel, first, last ? -1 : first + chunk_pages);
	}
}

/*
 * Whether relations above shared_buffers / 4 are split all the same: asked
 * for (--chunk-size); chunks spread over servers with pools of their own;
 * or chunks as the unit a budget, a --state file or a retry on a standby
 * keeps, so that a big table still makes progress.
 */
static bool
must_split_bulk(const FkOptions *options)
{
	return options->engine.chunk_pages > 0 ||
		   (options->scan.replicas.n > 0 && options->scan.spread == SPREAD_CHUNK) ||
		   options->scan.max_time_s > 0 || options->scan.state_file != NULL ||
		   options->engine.consistency == CONSISTENCY_CHUNK;
}

static int64_t
auto_chunk_pages(int64_t total_pages, int jobs)
{
	int64_t pages = total_pages / ((int64_t) jobs * CHUNKS_PER_JOB);

	/* one connection has nothing to balance: a plain scan beats ctid ranges */
	if (jobs == 1)
		return INT64_MAX;

	return pages < MIN_CHUNK_PAGES ? MIN_CHUNK_PAGES : pages;
}

/* ---- --order: what phase 2 reads first ---- */

/* A server-side check or a child pass, with what it is ordered by. */
typedef struct PhaseUnit
{
	ChunkRole	role;		/* CHUNK_SERVER or CHUNK_CHILD */
	int			target;		/* FkPlan or ChildPass index */
	int			table;		/* the child table */
	int			seq;		/* catalog order */
	const char *constraint; /* server checks: the FK's name */
} PhaseUnit;

/* qsort's context; per thread: --replica plans on several servers at once */
static _Thread_local const Catalog *sort_cat;
static _Thread_local ScanOrder		sort_order;

static int
compare_units(const void *a, const void *b)
{
	const PhaseUnit *x = a, *y = b;
	const CatTable	*tx = &sort_cat->tables[x->table], *ty = &sort_cat->tables[y->table];
	int				 c = 0;

	if (sort_order == ORDER_SIZE && tx->size_bytes != ty->size_bytes)
		return tx->size_bytes < ty->size_bytes ? -1 : 1;
	if (sort_order == ORDER_NAME)
	{
		c = strcmp(tx->schema, ty->schema);
		if (c == 0)
			c = strcmp(tx->name, ty->name);
		if (c == 0 && x->constraint && y->constraint)
			c = strcmp(x->constraint, y->constraint);
		if (c != 0)
			return c;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Phase 2's units in the order asked for.  catalog: server-side checks
 * first (each is one long query, best started early), then the passes;
 * size: smallest child table first, so FKs finish one by one from the
 * start and a --max-time budget finishes as many as it can; name: by child
 * schema and table.  (qsort with file-level keys: the plan is built by
 * one thread at a time.)
 */
static PhaseUnit *
phase2_units(const ScanPlan *p, ScanOrder order)
{
	PhaseUnit *u = fk_calloc((size_t) (p->nfks + p->npasses + 1), sizeof(PhaseUnit));
	int		   n = 0;

	for (int i = 0; i < p->nfks; i++)
		if (p->fks[i].kind == KEYKIND_SERVER && !p->fks[i].skip)
		{
			u[n] = (PhaseUnit){CHUNK_SERVER, i, p->fks[i].fk->child, n, p->fks[i].fk->name};
			n++;
		}
	for (int s = 0; s < p->npasses; s++)
	{
		u[n] = (PhaseUnit){CHUNK_CHILD, s, p->passes[s].table, n, NULL};
		n++;
	}
	if (order != ORDER_CATALOG)
	{
		sort_cat = p->cat;
		sort_order = order;
		qsort(u, (size_t) n, sizeof(PhaseUnit), compare_units);
	}
	return u;
}

ScanPlan *
plan_build_skipping(const Catalog *cat, const FkOptions *options, bool tid_ranges, const bool *skip)
{
	ScanPlan *p = fk_calloc(1, sizeof(ScanPlan));
	int		  setcap = 0, passcap = 0;
	ChunkList parents = {0}, children = {0};
	int64_t	  chunk_pages;
	bool	  split_bulk = must_split_bulk(options);

	p->cat = cat;
	p->nfks = cat->nfks;
	p->fks = fk_calloc((size_t) (cat->nfks ? cat->nfks : 1), sizeof(FkPlan));

	for (int i = 0; i < cat->nfks; i++)
	{
		const CatForeignKey *fk = &cat->fks[i];
		FkPlan				*fp = &p->fks[i];

		ParentSet  want;
		ChildPass *pass;

		memset(&want, 0, sizeof(want));
		fp->fk = fk;
		fp->kind = choose_kind(fk, &want, fp->child_enc, &fp->server_reason);
		fp->parent_set = fp->pass = -1;
		fp->skip = skip != NULL && skip[i];
		if (fp->kind == KEYKIND_SERVER || fp->skip)
			continue;
		want.kind = fp->kind;
		want.table = fk->parent;
		want.ncols = fk->ncols;
		for (int k = 0; k < fk->ncols; k++)
			want.cols[k] = &fk->parent_cols[k];
		fp->parent_set = find_or_add_set(p, &setcap, &want);
		fp->pass = find_or_add_pass(p, &passcap, fk->child);
		pass = &p->passes[fp->pass];
		pass->fks = fk_realloc(pass->fks, sizeof(int) * (size_t) (pass->nfks + 1));
		pass->fks[pass->nfks++] = i;
		for (int k = 0; k < fk->ncols; k++)
			fp->fields[k] = pass_field(pass, &fk->child_cols[k]);
	}

	for (int s = 0; s < p->nsets; s++)
		p->parent_pages += catalog_table_pages(&cat->tables[p->sets[s].table]);
	for (int s = 0; s < p->npasses; s++)
		p->child_pages += catalog_table_pages(&cat->tables[p->passes[s].table]);

	/* Rows never counted (reltuples -1): assume the smallest tuples. */
	for (int s = 0; s < p->nsets; s++)
	{
		const CatTable *t = &cat->tables[p->sets[s].table];
		int64_t			rows = t->est_rows;

		if (p->sets[s].kind != KEYKIND_HASH)
			continue;
		if (rows < 0)
			rows = catalog_table_pages(t) * (8192 / 32);
		p->hash_bytes += (rows > 0 ? rows : 0) * PLAN_HASH_BYTES_PER_KEY;
	}
	p->key_passes = 1;
	if (options->engine.memory_limit > 0 && p->hash_bytes > options->engine.memory_limit)
		p->key_passes = (int) ((p->hash_bytes + options->engine.memory_limit - 1) /
							   options->engine.memory_limit);

	chunk_pages = options->engine.chunk_pages > 0
					  ? options->engine.chunk_pages
					  : auto_chunk_pages(p->parent_pages, options->engine.jobs);
	for (int s = 0; s < p->nsets; s++)
	{
		const CatTable *t = &cat->tables[p->sets[s].table];

		for (int l = 0; l < t->nleaves; l++)
			add_relation_chunks(&parents, CHUNK_PARENT, s, &t->leaves[l], chunk_pages, tid_ranges,
								split_bulk);
	}

	chunk_pages = options->engine.chunk_pages > 0
					  ? options->engine.chunk_pages
					  : auto_chunk_pages(p->child_pages, options->engine.jobs);
	{
		PhaseUnit *units = phase2_units(p, options->scan.order);
		int		   nunits = 0;

		for (int i = 0; i < p->nfks; i++)
			nunits += p->fks[i].kind == KEYKIND_SERVER && !p->fks[i].skip;
		nunits += p->npasses;
		for (int u = 0; u < nunits; u++)
		{
			const CatTable *t = &cat->tables[units[u].table];

			if (units[u].role == CHUNK_SERVER)
			{
				add_chunk(&children, CHUNK_SERVER, units[u].target, NULL, -1, -1);
				continue;
			}
			for (int l = 0; l < t->nleaves; l++)
				add_relation_chunks(&children, CHUNK_CHILD, units[u].target, &t->leaves[l],
									chunk_pages, tid_ranges, split_bulk);
		}
		free(units);
	}

	p->parent_chunks = parents.items;
	p->nparent_chunks = parents.n;
	p->child_chunks = children.items;
	p->nchild_chunks = children.n;
	return p;
}

void
plan_apply_recorded(ScanPlan *p, const PlanRecorded *rec, int nrec)
{
	ChunkList out = {0};

	if (nrec == 0)
		return;
	for (int i = 0; i < p->nchild_chunks; i++)
	{
		const Chunk *c = &p->child_chunks[i];
		/* [a, b), INT64_MAX for open-ended; a whole relation is [0, open) */
		int64_t a = c->first_page < 0 ? 0 : c->first_page;
		int64_t b = c->end_page < 0 ? INT64_MAX : c->end_page;
		int64_t pos = a;
		bool	any = false;

		if (c->role == CHUNK_CHILD)
			for (int r = 0; r < nrec; r++)
				any |= rec[r].pass == c->target && rec[r].rel == c->rel;
		if (!any)
		{
			fk_array_grow((void **) &out.items, &out.cap, out.n + 1, sizeof(Chunk));
			out.items[out.n++] = *c;
			continue;
		}
		while (pos < b)
		{
			const PlanRecorded *next = NULL;

			/* the recorded range covering pos, or the first one after it */
			for (int r = 0; r < nrec; r++)
			{
				int64_t rb = rec[r].end_page < 0 ? INT64_MAX : rec[r].end_page;

				if (rec[r].pass != c->target || rec[r].rel != c->rel || rb <= pos)
					continue;
				if (next == NULL || rec[r].first_page < next->first_page)
					next = &rec[r];
			}
			if (next == NULL || next->first_page >= b)
			{
				add_chunk(&out, CHUNK_CHILD, c->target, c->rel,
						  pos == 0 && b == INT64_MAX && c->first_page < 0 ? -1 : pos,
						  b == INT64_MAX ? -1 : b);
				break;
			}
			if (next->first_page > pos)
				add_chunk(&out, CHUNK_CHILD, c->target, c->rel, pos, next->first_page);
			/* a recorded range joins once: in the chunk its start falls in */
			if (next->first_page >= a)
			{
				add_chunk(&out, CHUNK_CHILD, c->target, c->rel, next->first_page, next->end_page);
				out.items[out.n - 1].recorded = next->id;
			}
			pos = next->end_page < 0 ? INT64_MAX : next->end_page;
		}
	}
	free(p->child_chunks);
	p->child_chunks = out.items;
	p->nchild_chunks = out.n;
}

void
plan_append_chunk_predicate(StrBuf *sql, const Chunk *chunk, const char *conj)
{
	if (chunk->first_page < 0)
		return;
	strbuf_appendf(sql, "%sctid >= '(%lld,0)'::pg_catalog.tid", conj,
				   (long long) chunk->first_page);
	if (chunk->end_page >= 0)
		strbuf_appendf(sql, " AND ctid < '(%lld,0)'::pg_catalog.tid", (long long) chunk->end_page);
}

void
plan_free(ScanPlan *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->npasses; i++)
	{
		free(p->passes[i].fks);
		free(p->passes[i].cols);
	}
	free(p->passes);
	free(p->sets);
	free(p->fks);
	free(p->parent_chunks);
	free(p->child_chunks);
	free(p);
}
