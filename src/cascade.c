/*
 * cascade.c
 *	  Following the orphans' dependents, one streamed pass per level; see
 *	  cascade.h.
 *
 * A work item is a table and a way to pick rows in it: the root's orphan
 * rows (the scan's matcher, or RI's condition for server-checked FKs), or
 * the rows whose key through one FK is in a set built by the level above.
 * One pass over the table counts the picked rows and, where they would be
 * deleted, collects the keys the next level needs.
 */
#include "fkscan/cascade.h"

#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/risql.h"
#include "fkscan/rowsrc.h"

/* Chains deeper than this stop (a cycle of FKs is followed once anyway). */
#define MAX_DEPTH 32
#define MAX_KEYS  32

typedef struct Item
{
	int					 table;			/* Catalog.tables index */
	const OrphanMatcher *root;			/* the root level: the scan's orphan rows */
	const CatForeignKey *via;			/* deeper: rows referencing the level above */
	HSet128				*keys;			/* deeper: fingerprints of the referenced keys */
	KeyEncKind			 enc[MAX_KEYS]; /* deeper: how via's child keys are encoded */
	int					 depth;
	int					 step;	 /* its CascadeStep, or -1 for the root */
	bool				 expand; /* picked rows are deleted: follow their dependents */
} Item;

/* A dependent of the item's table: its referenced values are collected. */
typedef struct Dep
{
	const CatForeignKey *fk;
	KeyEncKind			 parent_enc[MAX_KEYS]; /* how the referenced values are encoded */
	KeyEncKind			 child_enc[MAX_KEYS];  /* and the dependent's own keys */
	HSet128				*keys;
	int					 first; /* its columns' position in the row */
} Dep;

typedef struct PassCtx
{
	const Item *it;
	Dep		   *deps;
	int			ndeps;
	int			nmatch;	  /* match columns at the start of the row */
	bool		filtered; /* every row returned is picked */
	uint64_t	picked;
	StrBuf		scratch;
	bool		bad;
} PassCtx;

/* Canonical bytes of n fields, then their fingerprint; false if any is NULL. */
static bool
fingerprint(const CopyField *f, int n, const KeyEncKind *enc, StrBuf *scratch, Hash128 *h,
			bool *bad)
{
	for (int k = 0; k < n; k++)
		if (f[k].len < 0)
			return false; /* a NULL references nothing */
	if (!keyenc_fingerprint(f, NULL, enc, n, scratch, h))
	{
		*bad = true;
		return false;
	}
	return true;
}

static bool
pass_row(void *arg, const CopyField *f, int nf)
{
	PassCtx	   *pc = arg;
	const Item *it = pc->it;
	Hash128		h;

	(void) nf;
	if (!pc->filtered)
	{
		bool picked;

		if (it->root)
			picked = orphans_match(it->root, f, &pc->scratch, &pc->bad);
		else
			picked = fingerprint(f, pc->nmatch, it->enc, &pc->scratch, &h, &pc->bad) &&
					 hset128_contains(it->keys, h);
		if (pc->bad)
			return false;
		if (!picked)
			return true;
	}
	pc->picked++;
	for (int d = 0; it->expand && d < pc->ndeps; d++)
	{
		Dep *dep = &pc->deps[d];

		if (fingerprint(f + dep->first, dep->fk->ncols, dep->parent_enc, &pc->scratch, &h,
						&pc->bad))
			hset128_add(dep->keys, h);
		if (pc->bad)
			return false;
	}
	return true;
}

/* One pass over the item's table: count its rows, collect its dependents' keys. */
static bool
run_item(PgConn *c, const Catalog *cat, const Item *it, Dep *deps, int ndeps, uint64_t *picked)
{
	const CatTable		*t = &cat->tables[it->table];
	const CatForeignKey *match = it->root ? it->root->fk : it->via;
	PassCtx				 pc;
	StrBuf				 sql;
	int					 ncols = match->ncols;
	bool				 ok;

	memset(&pc, 0, sizeof(pc));
	pc.it = it;
	pc.deps = deps;
	pc.ndeps = ndeps;
	pc.nmatch = ncols;
	pc.filtered = it->root && !it->root->ints && !it->root->hashes;
	strbuf_init(&pc.scratch);
	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT ");
	for (int k = 0; k < ncols; k++)
	{
		strbuf_append(&sql, k ? ", " : "");
		pgconn_append_ident(&sql, "c", match->child_cols[k].name);
	}
	for (int d = 0; d < ndeps; d++)
	{
		deps[d].first = ncols;
		for (int k = 0; k < deps[d].fk->ncols; k++)
		{
			strbuf_append(&sql, ", ");
			pgconn_append_ident(&sql, "c", deps[d].fk->parent_cols[k].name);
		}
		ncols += deps[d].fk->ncols;
	}
	strbuf_append(&sql, t->relkind == 'p' ? " FROM " : " FROM ONLY ");
	pgconn_append_relation(&sql, t->schema, t->name);
	strbuf_append(&sql, " c");
	if (pc.filtered)
	{
		strbuf_append(&sql, " WHERE ");
		risql_append_violation(&sql, cat, match);
	}
	ok = rowsrc_stream(c, FETCH_COPY_BINARY, sql.data, ncols, pass_row, &pc, NULL);
	if (pc.bad)
		log_error("malformed key data in %s.%s", t->schema, t->name);
	*picked = pc.picked;
	strbuf_free(&sql);
	strbuf_free(&pc.scratch);
	return ok;
}

static bool
visited(const CatForeignKey *const *seen, int n, const CatForeignKey *fk)
{
	for (int i = 0; i < n; i++)
		if (seen[i] == fk)
			return true;
	return false;
}

static int
add_step(FkResult *r, const CatForeignKey *via, const CatTable *t, int depth, const char *error)
{
	CascadeStep *st;

	r->cascade = fk_realloc(r->cascade, sizeof(CascadeStep) * (size_t) (r->ncascade + 1));
	st = &r->cascade[r->ncascade];
	memset(st, 0, sizeof(*st));
	st->via = via;
	st->table = t;
	st->depth = depth;
	st->action = via->delete_action;
	st->error = error;
	return r->ncascade++;
}

bool
cascade_trace(PgConn *c, const Catalog *cat, const OrphanMatcher *root, FkResult *r)
{
	Item				 *queue = fk_calloc(1, sizeof(Item));
	int					  nqueue = 1, head = 0;
	const CatForeignKey **seen = fk_calloc((size_t) cat->nfks + 1, sizeof(*seen));
	int					  nseen = 0;
	bool				  ok = true;

	queue[0].table = root->fk->child;
	queue[0].root = root;
	queue[0].step = -1;
	queue[0].expand = true;
	seen[nseen++] = root->fk;

	for (; ok && head < nqueue; head++)
	{
		Item	 it = queue[head];
		Dep		*deps = fk_calloc((size_t) cat->nfks + 1, sizeof(Dep));
		int		 ndeps = 0;
		uint64_t picked = 0;

		/* the FKs that reference this table, each once per chain */
		for (int i = 0; it.expand && it.depth < MAX_DEPTH && i < cat->nfks; i++)
		{
			const CatForeignKey *fk = &cat->fks[i];
			const char			*why = NULL;
			bool				 comparable = fk->ncols <= MAX_KEYS;

			/* an undeclared relationship acts on no delete */
			if (fk->parent != it.table || !fk->declared || visited(seen, nseen, fk))
				continue;
			seen[nseen++] = fk;
			for (int k = 0; comparable && k < fk->ncols; k++)
			{
				KeyEncPair pair = keyenc_pair(&fk->child_cols[k], &fk->parent_cols[k], &why);

				deps[ndeps].parent_enc[k] = pair.parent;
				deps[ndeps].child_enc[k] = pair.child;
				comparable = pair.child != KEYENC_NONE;
			}
			if (!comparable)
			{
				add_step(r, fk, &cat->tables[fk->child], it.depth + 1,
						 "key not comparable on the client");
				continue;
			}
			deps[ndeps].fk = fk;
			deps[ndeps].keys = hset128_create(0);
			ndeps++;
		}
		if (it.root == NULL || ndeps > 0)
			ok = run_item(c, cat, &it, deps, ndeps, &picked);
		if (ok && it.step >= 0)
			r->cascade[it.step].rows = picked;
		/* the next level: the rows referencing what this level picked */
		for (int d = 0; ok && d < ndeps; d++)
		{
			Item *next;

			if (hset128_size(deps[d].keys) == 0)
			{
				hset128_free(deps[d].keys);
				continue;
			}
			queue = fk_realloc(queue, sizeof(Item) * (size_t) (nqueue + 1));
			next = &queue[nqueue++];
			memset(next, 0, sizeof(*next));
			next->table = deps[d].fk->child;
			next->via = deps[d].fk;
			next->keys = deps[d].keys;
			memcpy(next->enc, deps[d].child_enc, sizeof(next->enc));
			next->depth = it.depth + 1;
			next->expand = deps[d].fk->delete_action == 'c';
			next->step =
				add_step(r, deps[d].fk, &cat->tables[deps[d].fk->child], next->depth, NULL);
		}
		if (!ok)
			for (int d = 0; d < ndeps; d++)
				hset128_free(deps[d].keys);
		free(deps);
	}
	for (int i = 1; i < nqueue; i++)
		hset128_free(queue[i].keys);
	free(queue);
	free(seen);
	return ok;
}
