/*
 * scan_children.c
 *	  Phase 2: child chunks streamed, one pass per child table for all its
 *	  FKs, their keys probed in batches against the frozen parent sets
 */
#include "fkscan/scanint.h"

#include <stdlib.h>
#include <string.h>

#include "fkscan/candset.h"
#include "fkscan/cascade.h"
#include "fkscan/gate.h"
#include "fkscan/hset128.h"
#include "fkscan/keyenc.h"
#include "fkscan/keyset.h"
#include "fkscan/mem.h"
#include "fkscan/orphans.h"
#include "fkscan/pace.h"
#include "fkscan/plan.h"
#include "fkscan/partial.h"
#include "fkscan/pool.h"
#include "fkscan/report.h"
#include "fkscan/resume.h"
#include "fkscan/rowsrc.h"
#include "fkscan/signals.h"
#include "fkscan/snapshot.h"
#include "fkscan/standby.h"
#include "fkscan/state.h"
#include "fkscan/strbuf.h"
#include "fkscan/verify.h"

/* ---- phase 2: child keys, probed ---- */

/* An integer FK of the pass: keys batched, probed against a frozen KeySet64. */
typedef struct ProbeSlot
{
	int				fk;	   /* index into plan->fks */
	int				field; /* column index within the pass */
	const KeySet64 *parents;
	FkPartial	   *out;
	uint64_t		nulls;
	int				n;
	int64_t		   *keys;
	uint64_t	   *ords;
} ProbeSlot;

/*
 * A hashed FK of the pass: each full key fingerprinted, and looked up a
 * batch at a time so that the cache misses of a big set overlap.  A miss
 * becomes a candidate, which keeps the key's raw values: each batched key's
 * fields are copied to raw (length, bytes) until the batch is probed,
 * unless its fingerprint is the key itself (KEYPRINT_EXACT: uuids, one or
 * two integers), whose fields come back from it.
 */
typedef struct HashSlot
{
	int				 fk;
	const FkPlan	*fp;
	const ParentSet *set;
	const FpSet		*parents;
	FkPartial		*out;
	bool			 match_full;
	uint64_t		 nulls;
	uint64_t		 partial;
	int				 n;
	Hash128			*hashes;
	uint64_t		*ords;
	size_t			*raw_at; /* where each key's fields start in raw; SIZE_MAX: exact */
	StrBuf			 raw;
	int32_t			 width[PLAN_MAX_KEYS]; /* exact keys' field lengths (0: none seen) */
} HashSlot;

typedef struct ChildCtx
{
	Worker	  *w;
	int		   chunk;
	FkPartial *local; /* per FK of the pass: this chunk's findings */
	int		   nlocal;
	int		   nslots;
	ProbeSlot *slots;
	int		   nhash;
	HashSlot  *hslots;
	uint32_t  *missing;
	uint64_t   rows;
	int		   sample_cap;
	StrBuf	   enc;
	bool	   bad_value;
	bool	   record; /* --state: keep each orphan row's key (olist) */
} ChildCtx;

/* A recorded chunk's integer orphan row: its key, for rows per key. */
static void
note_orphan(FkPartial *out, int64_t key)
{
	fk_array_grow((void **) &out->olist, &out->olcap, (int) out->nolist + 1, sizeof(int64_t));
	out->olist[out->nolist++] = key;
}

/* An orphan row of an integer FK, worth a sample (out has room for one). */
static void
add_int_sample(ChildCtx *cc, FkPartial *out, uint64_t ordinal, int64_t key)
{
	SampleRef *r = &out->samples[out->nsamples++];

	r->chunk = cc->chunk;
	r->ordinal = ordinal;
	r->key = key;
}

static void
flush_slot(ChildCtx *cc, ProbeSlot *ps)
{
	size_t nmiss;

	if (ps->n == 0)
		return;
	nmiss = keyset64_probe_missing(ps->parents, ps->keys, (size_t) ps->n, cc->missing);
	for (size_t i = 0; i < nmiss; i++)
	{
		uint32_t   idx = cc->missing[i];
		FkPartial *out = ps->out;

		out->orphan_rows++;
		keyset64_add(out->orphans, ps->keys[idx]);
		if (cc->record)
			note_orphan(out, ps->keys[idx]);
		/* chunks come in increasing order per worker: keep the first ones */
		if (out->nsamples < cc->sample_cap)
			add_int_sample(cc, out, ps->ords[idx], ps->keys[idx]);
	}
	ps->n = 0;
}

/*
 * Key mode (a pass reading one integer column for integer FKs only): each
 * batch is probed where the decoder left it, no copy and no call per row.
 */
static bool
child_keys(void *arg, const CopyKeyBatch *b)
{
	ChildCtx *cc = arg;
	uint64_t  nrows = b->nkeys + b->nnulls;

	for (int s = 0; s < cc->nslots; s++)
	{
		ProbeSlot *ps = &cc->slots[s];
		FkPartial *out = ps->out;
		size_t	   nmiss;

		ps->nulls += b->nnulls;
		nmiss = keyset64_probe_missing(ps->parents, b->keys, b->nkeys, cc->missing);
		for (size_t i = 0; i < nmiss; i++)
		{
			uint32_t idx = cc->missing[i];

			out->orphan_rows++;
			keyset64_add(out->orphans, b->keys[idx]);
			if (cc->record)
				note_orphan(out, b->keys[idx]);
			if (out->nsamples < cc->sample_cap)
				add_int_sample(cc, out, copybin_key_row(b, idx), b->keys[idx]);
		}
	}
	cc->rows += nrows;
	return pace_tick(&cc->w->scan->pace, nrows);
}

/* Probe a hashed slot's batch; the misses become candidates. */
static void
flush_hashed(ChildCtx *cc, HashSlot *hs)
{
	int		  ncols = hs->set->ncols;
	CopyField fields[PLAN_MAX_KEYS];
	int		  cols[PLAN_MAX_KEYS];
	uint8_t	  exact[16];
	size_t	  nmiss;

	if (hs->n == 0)
		return;
	nmiss = fpset_probe_missing(hs->parents, hs->hashes, (size_t) hs->n, cc->missing);
	for (int k = 0; k < ncols; k++)
		cols[k] = k;
	for (size_t i = 0; i < nmiss; i++)
	{
		uint32_t idx = cc->missing[i];

		if (hs->raw_at[idx] == SIZE_MAX)
			keyenc_unpack(hs->hashes[idx], hs->fp->child_enc, ncols, hs->width, exact, fields);
		else
		{
			const uint8_t *p = (const uint8_t *) hs->raw.data + hs->raw_at[idx];

			for (int k = 0; k < ncols; k++)
			{
				memcpy(&fields[k].len, p, sizeof(int32_t));
				fields[k].data = p + sizeof(int32_t);
				p += sizeof(int32_t) + (size_t) fields[k].len;
			}
		}
		candset_add(hs->out->cands, hs->hashes[idx], fields, cols);
		if (hs->out->nsamples < cc->sample_cap)
		{
			SampleRef *r = &hs->out->samples[hs->out->nsamples++];

			r->chunk = cc->chunk;
			r->ordinal = hs->ords[idx];
			r->hash = hs->hashes[idx];
			r->partial = false;
		}
	}
	hs->n = 0;
	strbuf_reset(&hs->raw);
}

/*
 * An exact key's fields have the lengths of the first one's (set by it):
 * fixed by the column types, so only the first is ever kept apart.
 */
static bool
same_widths(HashSlot *hs, const CopyField *f)
{
	for (int k = 0; k < hs->set->ncols; k++)
	{
		int32_t len = f[hs->fp->fields[k]].len;

		if (hs->width[k] == 0)
			hs->width[k] = len;
		else if (hs->width[k] != len)
			return false;
	}
	return true;
}

/* MATCH rules, then the fingerprint into the batch (flush_hashed probes it). */
static bool
probe_hashed(ChildCtx *cc, HashSlot *hs, const CopyField *f, uint64_t ordinal)
{
	const FkPlan *fp = hs->fp;
	int			  ncols = hs->set->ncols;
	KeyNulls	  nulls = keyenc_nulls(f, fp->fields, ncols, hs->match_full);
	Hash128		  h;
	KeyPrint	  kp;
	size_t		  need;
	char		 *at;

	if (nulls != KEY_NO_NULLS)
	{
		if (nulls == KEY_MIXED_NULLS)
		{
			hs->partial++;
			/* samples stay in row order: the batched keys come first */
			flush_hashed(cc, hs);
			if (hs->out->nsamples < cc->sample_cap)
			{
				SampleRef *r = &hs->out->samples[hs->out->nsamples++];

				memset(r, 0, sizeof(*r));
				r->chunk = cc->chunk;
				r->ordinal = ordinal;
				r->partial = true;
			}
		}
		else
			hs->nulls++;
		return true;
	}
	kp = keyenc_fingerprint(f, fp->fields, fp->child_enc, ncols, &cc->enc, &h);
	if (kp == KEYPRINT_BAD)
		return false;
	if (!in_key_pass(cc->w->scan, h))
		return true;
	hs->hashes[hs->n] = h;
	hs->ords[hs->n] = ordinal;
	if (kp == KEYPRINT_EXACT && same_widths(hs, f))
	{
		hs->raw_at[hs->n] = SIZE_MAX;
		if (++hs->n == PROBE_BATCH)
			flush_hashed(cc, hs);
		return true;
	}
	hs->raw_at[hs->n] = hs->raw.len;
	need = 0;
	for (int k = 0; k < ncols; k++)
		need += sizeof(int32_t) + (size_t) f[fp->fields[k]].len; /* no NULLs here */
	at = strbuf_extend(&hs->raw, need);
	for (int k = 0; k < ncols; k++)
	{
		const CopyField *fld = &f[fp->fields[k]];

		memcpy(at, &fld->len, sizeof(int32_t));
		if (fld->len > 0)
			memcpy(at + sizeof(int32_t), fld->data, (size_t) fld->len);
		at += sizeof(int32_t) + (size_t) fld->len;
	}
	if (++hs->n == PROBE_BATCH)
		flush_hashed(cc, hs);
	return true;
}

static bool
child_row(void *arg, const CopyField *f, int nf)
{
	ChildCtx *cc = arg;
	uint64_t  ordinal = cc->rows++;

	(void) nf;
	if (FK_UNLIKELY((cc->rows & (CHECK_EVERY_ROWS - 1)) == 0) &&
		!pace_tick(&cc->w->scan->pace, CHECK_EVERY_ROWS))
		return false;
	for (int i = 0; i < cc->nslots; i++)
	{
		ProbeSlot		*ps = &cc->slots[i];
		const CopyField *fld = &f[ps->field];

		if (fld->len < 0)
		{
			ps->nulls++;
			continue;
		}
		if (FK_UNLIKELY(!copybin_int_field(fld->data, fld->len, &ps->keys[ps->n])))
		{
			cc->bad_value = true;
			return false;
		}
		ps->ords[ps->n] = ordinal;
		if (++ps->n == PROBE_BATCH)
			flush_slot(cc, ps);
	}
	for (int i = 0; i < cc->nhash; i++)
	{
		if (FK_UNLIKELY(!probe_hashed(cc, &cc->hslots[i], f, ordinal)))
		{
			cc->bad_value = true;
			return false;
		}
	}
	return true;
}

/* Slots for the FKs of the pass whose parents were read; false if none. */
static bool
child_ctx_init(ChildCtx *cc, Worker *w, const ChildPass *pass)
{
	Scan *s = w->scan;

	cc->slots = fk_calloc((size_t) pass->nfks, sizeof(ProbeSlot));
	cc->hslots = fk_calloc((size_t) pass->nfks, sizeof(HashSlot));
	cc->local = fk_calloc((size_t) pass->nfks, sizeof(FkPartial));
	cc->nlocal = pass->nfks;
	cc->missing = fk_malloc(sizeof(uint32_t) * PROBE_BATCH);
	strbuf_init(&cc->enc);
	for (int i = 0; i < pass->nfks; i++)
	{
		const FkPlan *fp = &s->plan->fks[pass->fks[i]];

		/* an FK whose parents could not be read is not probed */
		if (has_error(s, &s->errors.set[fp->parent_set]))
			continue;
		if (fp->kind == KEYKIND_INT && s->phase.key_pass > 0)
			continue; /* done in the first key pass */
		/* counted apart until the chunk succeeds: a retried chunk counts once */
		cc->local[i].samples = fk_calloc((size_t) cc->sample_cap + 1, sizeof(SampleRef));
		if (fp->kind == KEYKIND_INT)
		{
			ProbeSlot *ps = &cc->slots[cc->nslots++];

			cc->local[i].orphans = keyset64_create();
			ps->fk = pass->fks[i];
			ps->field = fp->fields[0];
			ps->parents = s->sets[fp->parent_set].ints;
			ps->out = &cc->local[i];
			ps->keys = fk_malloc(sizeof(int64_t) * PROBE_BATCH);
			ps->ords = fk_malloc(sizeof(uint64_t) * PROBE_BATCH);
		}
		else
		{
			HashSlot *hs = &cc->hslots[cc->nhash++];

			cc->local[i].cands = candset_create(fp->fk->ncols);
			hs->fk = pass->fks[i];
			hs->fp = fp;
			hs->set = &s->plan->sets[fp->parent_set];
			hs->parents = s->sets[fp->parent_set].prints;
			hs->out = &cc->local[i];
			hs->match_full = fp->fk->match_type == 'f';
			hs->hashes = fk_malloc(sizeof(Hash128) * PROBE_BATCH);
			hs->ords = fk_malloc(sizeof(uint64_t) * PROBE_BATCH);
			hs->raw_at = fk_malloc(sizeof(size_t) * PROBE_BATCH);
			strbuf_init(&hs->raw);
		}
	}
	return cc->nslots + cc->nhash > 0;
}

static void
child_ctx_free(ChildCtx *cc)
{
	for (int i = 0; i < cc->nlocal; i++)
		partial_free(&cc->local[i]);
	free(cc->local);
	for (int i = 0; i < cc->nslots; i++)
	{
		free(cc->slots[i].keys);
		free(cc->slots[i].ords);
	}
	free(cc->slots);
	for (int i = 0; i < cc->nhash; i++)
	{
		free(cc->hslots[i].hashes);
		free(cc->hslots[i].ords);
		free(cc->hslots[i].raw_at);
		strbuf_free(&cc->hslots[i].raw);
	}
	free(cc->hslots);
	free(cc->missing);
	strbuf_free(&cc->enc);
}

bool
run_child_chunk(Worker *w, int chunk_index, int attempt)
{
	Scan			*s = w->scan;
	const Chunk		*c = &s->plan->child_chunks[chunk_index];
	const ChildPass *pass = &s->plan->passes[c->target];
	ChildCtx		 cc;
	StrBuf			 sql;
	RowSourceStats	 st;
	bool			 ok, retry = false;

	if (has_error(s, &s->errors.pass[c->target]))
		return false;
	memset(&cc, 0, sizeof(cc));
	cc.w = w;
	cc.chunk = chunk_index;
	cc.sample_cap = s->opt->scan.sample;
	if (!child_ctx_init(&cc, w, pass))
	{
		child_ctx_free(&cc);
		return false;
	}
	/* recorded only when every FK of the pass was probed */
	cc.record = s->resume.record_pass && s->resume.record_pass[c->target] &&
				cc.nslots + cc.nhash == pass->nfks;
	strbuf_init(&sql);
	chunk_select(&sql, c, pass->cols, pass->ncols);
	if (pass->ncols == 1 && cc.nhash == 0)
	{
		ok = rowsrc_stream_keys(w->conn, fetch_for(s->opt, true), sql.data, child_keys, &cc, &st);
		cc.bad_value = st.bad_key;
	}
	else
	{
		ok = rowsrc_stream(w->conn, fetch_for(s->opt, cc.nhash == 0), sql.data, pass->ncols,
						   child_row, &cc, &st);
		pace_count(&s->pace, cc.rows & (CHECK_EVERY_ROWS - 1));
	}
	pace_throttle(&s->pace);
	w->rows += st.rows;
	w->bytes += (uint64_t) st.bytes;
	if (ok)
	{
		for (int i = 0; i < cc.nslots; i++)
		{
			ProbeSlot *ps = &cc.slots[i];

			flush_slot(&cc, ps);
			ps->out->child_rows += cc.rows;
			ps->out->null_rows += ps->nulls;
			note_fk_end(s, ps->fk);
		}
		for (int i = 0; i < cc.nhash; i++)
		{
			HashSlot *hs = &cc.hslots[i];

			flush_hashed(&cc, hs);
			/* every key pass sees every row: count them once */
			if (s->phase.key_pass == 0)
			{
				hs->out->child_rows += cc.rows;
				hs->out->null_rows += hs->nulls;
				hs->out->partial_null_rows += hs->partial;
			}
			note_fk_end(s, hs->fk);
		}
		if (cc.record)
			resume_record_chunk(s->state, s->plan, c, pass, cc.local, s->snapshot);
		for (int i = 0; i < pass->nfks; i++)
			partial_merge(&w->fks[pass->fks[i]], &cc.local[i], cc.sample_cap);
	}
	else
		retry = chunk_failed(w, &s->errors.pass[c->target], c, cc.bad_value, attempt);
	strbuf_free(&sql);
	child_ctx_free(&cc);
	return retry;
}
