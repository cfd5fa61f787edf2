/*
 * scan.c
 *	  The parallel orphan scan: one snapshot, a pool of worker connections,
 *	  two phases of ctid-range chunks.
 *
 * The coordinator connection exports a snapshot, reads the catalog in it
 * and takes ACCESS SHARE locks on every table involved (as pg_dump does, so
 * that nothing is dropped under the scan).  It keeps that transaction open
 * until the end: workers can always (re-)import the snapshot, and the
 * coordinator's own follow-up queries (sample rows) see the same data.
 *
 * N worker threads each own one connection for their whole life.  Phase 1
 * streams parent chunks into per-worker partial key sets; the coordinator
 * merges and freezes them.  Phase 2 streams child chunks, one pass per
 * child table for all its FKs, probes the frozen sets in batches, and counts
 * orphans into per-worker partials, merged at the end.  Workers pull chunk
 * indexes from one atomic counter; nothing shared is written on the hot path.
 *
 * A failed chunk fails the parent set, pass or FK it belongs to (with the
 * server's reason), never the whole run: the worker rolls back, re-imports
 * the snapshot and goes on.  Any failure, lost chunk or Ctrl-C makes the
 * answer incomplete: exit 2, never "clean".
 */
#include "fkscan/scan.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fkscan/candset.h"
#include "fkscan/cascade.h"
#include "fkscan/catalog.h"
#include "fkscan/gate.h"
#include "fkscan/hset128.h"
#include "fkscan/keyenc.h"
#include "fkscan/keyset.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/orphans.h"
#include "fkscan/pace.h"
#include "fkscan/plan.h"
#include "fkscan/partial.h"
#include "fkscan/pool.h"
#include "fkscan/report.h"
#include "fkscan/result.h"
#include "fkscan/resume.h"
#include "fkscan/rowsrc.h"
#include "fkscan/signals.h"
#include "fkscan/snapshot.h"
#include "fkscan/standby.h"
#include "fkscan/state.h"
#include "fkscan/strbuf.h"
#include "fkscan/verify.h"

/* Keys probed per call: big enough to amortise, small enough for L1. */
#define PROBE_BATCH 4096
/* Rows between checks of the cancel flag, progress counters and throttle. */
#define CHECK_EVERY_ROWS 4096

/* ChildCtx.missing serves both PROBE_BATCH rows and a decoder's key batch. */
_Static_assert(COPYBIN_KEY_BATCH <= PROBE_BATCH, "probe buffers too small for a key batch");

/* A parent key set, of whichever kind its ParentSet says. */
typedef struct KeySet
{
	KeySet64   *ints;
	HSet128    *hashes;
	CandSet    *cands;			/* orphan_keys with a ScanHook: the raw candidates */
	bool	   *confirmed;		/* ... and which of them are orphans */
} KeySet;

typedef struct Scan Scan;

typedef struct Worker
{
	Scan	   *scan;
	int			id;
	PgConn	   *conn;
	bool		alive;			/* connected and in the snapshot */
	KeySet	   *sets;			/* partial parent sets, one per ParentSet */
	FkPartial  *fks;			/* one per FK */
} Worker;

struct Scan
{
	const FkOptions *opt;
	const ScanHook *hook;		/* the caller that wants the orphan keys (fix), or NULL */
	const Catalog *cat;
	const ScanPlan *plan;
	char	   *snapshot;
	KeySet	   *sets;			/* merged and frozen after phase 1 */
	char	  **set_errors;		/* per ParentSet */
	char	  **pass_errors;	/* per ChildPass */
	char	  **fk_errors;		/* per FK */
	double	   *fk_end;			/* seconds since start when its last chunk ended */
	FkResult   *server_results; /* per FK, filled by CHUNK_SERVER */
	KeySet	   *orphan_keys;	/* per FK, the final orphan keys (for --orphans-out) */
	Worker	   *workers;
	int			nworkers;		/* allocated */
	Pool	   *pool;			/* their threads */
	int			key_pass;		/* which slice of the hashed key space */
	Pace		pace;			/* rows, bytes, --max-rate, --max-time, Ctrl-C */
	struct timespec phase_start;

	pthread_mutex_t lock;		/* errors, fk_end, ready[] */
	const Chunk *chunks;		/* of the phase running */
	int			nchunks;
	atomic_bool conflict;		/* a recovery conflict (40001) hit this attempt */
	bool		mixed_snapshots;	/* chunk mode: not everything read on one snapshot */
	atomic_int	chunk_retries;	/* chunks re-read on a fresh snapshot */

	/*
	 * Long sweeps (issue #10).  FKs are finished one by one as the last of
	 * their chunks ends: workers queue them in ready[], the coordinator
	 * confirms them on its own snapshot (inside a savepoint), records them
	 * in the --state file and streams their JSON line.  --max-time: at the
	 * budget the coordinator stops the streams and cancels every query (pace).
	 */
	PgConn	   *coord;			/* holds the exported snapshot (snapshot mode) */
	ScanResult *res;			/* filled FK by FK */
	ReportStream *stream;		/* --format jsonl lines as FKs finish */
	StateFile  *state;			/* --state, or NULL */
	bool	   *finished;		/* per FK: its result is final (or failed) */
	bool		track_units;	/* phase 2 of the last key pass: queue finished FKs */
	int		   *pass_left;		/* per ChildPass: its chunks not yet handled */
	int		   *ready;			/* FKs whose every chunk is handled, in order */
	int			nready;
	int			nready_done;	/* of ready[], finished by the coordinator */
	PgConn	   *compare_ready;	/* the connection set up for --compare server */

	/*
	 * --state chunk records: chunks an earlier run recorded are in the plan
	 * (Chunk.recorded) but not read; their findings are in resume.found.
	 */
	Resume		resume;
};


static void finish_early(Scan *s, int i);

/* First error wins for each target. */
static void
record_error(Scan *s, char **slot, const char *msg)
{
	pthread_mutex_lock(&s->lock);
	if (*slot == NULL)
		*slot = fk_strdup(msg ? msg : "unknown error");
	pthread_mutex_unlock(&s->lock);
}

static bool
has_error(Scan *s, char *const *slot)
{
	bool		r;

	pthread_mutex_lock(&s->lock);
	r = *slot != NULL;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void
note_fk_end(Scan *s, int fk)
{
	double		t = pace_elapsed(&s->pace);

	pthread_mutex_lock(&s->lock);
	if (t > s->fk_end[fk])
		s->fk_end[fk] = t;
	pthread_mutex_unlock(&s->lock);
}

/*
 * After a failed chunk, a new transaction: on the run's snapshot, or in
 * --consistency chunk on a fresh one (the exporter may be gone by then).
 * A connection a conflict terminated is made anew.
 */
static void
recover_worker(Worker *w)
{
	Scan	   *s = w->scan;
	bool		ok = PQstatus(w->conn->conn) == CONNECTION_OK;

	if (s->opt->consistency == CONSISTENCY_CHUNK)
	{
		/* a session the server ended may still look open until used */
		if (ok)
		{
			w->conn->quiet_errors = true;
			ok = snapshot_begin_fresh(w->conn);
			w->conn->quiet_errors = false;
		}
		if (!ok)
		{
			char	   *name = fk_strdup(w->conn->name);

			pgconn_free(w->conn);
			w->conn = pgconn_connect(&s->opt->conn, name);
			free(name);
			ok = w->conn && snapshot_begin_fresh(w->conn);
		}
	}
	else
		ok = ok && snapshot_import(w->conn, s->snapshot) &&
			snapshot_lock_tables(w->conn, s->cat);
	if (!ok)
	{
		log_error("worker %d lost its connection; its remaining work goes to the others",
				  w->id + 1);
		w->alive = false;
	}
}

static const char *
failure_reason(Worker *w)
{
	const char *stopped = pace_stop_reason(&w->scan->pace);

	if (stopped)
		return stopped;
	return w->conn->last_error ? w->conn->last_error : "could not read rows";
}

/*
 * Text COPY serves the integer key sets only (it widens every integer to
 * int8); hashed keys need the exact send bytes, so they stream in binary.
 */
static FetchMethod
fetch_for(const FkOptions *opt, bool int_only)
{
	return opt->fetch == FETCH_COPY_TEXT && !int_only ? FETCH_COPY_BINARY : opt->fetch;
}

/* "SELECT a, b FROM ONLY s.t WHERE ctid ..." for one chunk. */
static void
chunk_select(StrBuf *sql, const Chunk *c, const CatColumn *const *cols, int ncols)
{
	strbuf_append(sql, "SELECT ");
	for (int i = 0; i < ncols; i++)
	{
		strbuf_append(sql, i ? ", " : "");
		pgconn_append_ident(sql, NULL, cols[i]->name);
	}
	strbuf_append(sql, " FROM ONLY ");
	pgconn_append_relation(sql, c->rel->schema, c->rel->name);
	plan_append_chunk_predicate(sql, c, " WHERE ");
}

/*
 * Was this failure a hot standby's recovery conflict?  SQLSTATE 40001, or a
 * session the standby ended (its FATAL may reach us only as a lost
 * connection): retries are bounded, and a server really gone fails them.
 */
static bool
is_conflict(const Catalog *cat, PgConn *c)
{
	/* server errors carry a SQLSTATE; libpq's own (a connection gone) do not */
	return strcmp(c->sqlstate, "40001") == 0 ||
		(cat->in_recovery && (PQstatus(c->conn) == CONNECTION_BAD || c->sqlstate[0] == '\0'));
}

/*
 * A chunk failed.  A recovery conflict (SQLSTATE 40001) under --consistency
 * chunk gets the chunk read again on a fresh snapshot, up to --retries
 * times: returns true then.  Anything else fails the chunk's target.
 */
static bool
chunk_failed(Worker *w, char **slot, const Chunk *c, bool bad_value, int attempt)
{
	Scan	   *s = w->scan;
	bool		conflict = !bad_value && is_conflict(s->cat, w->conn);
	bool		recovered = false;
	char	   *reason = fk_strdup(bad_value ? "malformed key data" : failure_reason(w));
	const CatTable *whole = c->rel ? catalog_partitioned_of(s->cat, c->rel) : NULL;

	if (conflict)
		atomic_store(&s->conflict, true);
	if (conflict && s->opt->consistency == CONSISTENCY_CHUNK &&
		attempt < s->opt->retries && !signals_interrupted())
	{
		recover_worker(w);
		recovered = true;
		if (w->alive)
		{
			atomic_fetch_add(&s->chunk_retries, 1);
			log_warning("worker %d: recovery conflict; reading the chunk again on a fresh snapshot",
						w->id + 1);
			free(reason);
			return true;
		}
	}
	if (bad_value)
		log_error("worker %d: unexpected value in %s.%s: malformed key data", w->id + 1,
				  c->rel->schema, c->rel->name);
	if (whole && strcmp(w->conn->sqlstate, "42501") == 0)
	{
		/* RI's own query reads through the partitioned table; fkscan does not */
		StrBuf		b;

		strbuf_init(&b);
		strbuf_appendf(&b, "%s (a partition of %s.%s: fkscan reads each partition, "
					   "so it needs SELECT on the key columns of every partition)",
					   reason, whole->schema, whole->name);
		free(reason);
		reason = strbuf_take(&b);
	}
	record_error(s, slot, reason);
	free(reason);
	if (!recovered)
		recover_worker(w);
	return false;
}

/* ---- phase 1: parent keys ---- */

/* Integer sets take parent_keys (key mode), hashed ones parent_row. */
typedef struct ParentCtx
{
	Worker	   *w;
	const ParentSet *set;
	KeySet	   *out;
	Hash128		hbatch[PROBE_BATCH];	/* hashed sets: added a batch at a time */
	int			n;
	uint64_t	rows;
	StrBuf		enc;
	bool		bad_value;
} ParentCtx;

/* Does this fingerprint belong to the current slice of the key space? */
static inline bool
in_key_pass(const Scan *s, Hash128 h)
{
	return s->plan->key_passes == 1 ||
		h.hi % (uint64_t) s->plan->key_passes == (uint64_t) s->key_pass;
}

static bool
parent_row(void *arg, const CopyField *f, int nf)
{
	ParentCtx  *pc = arg;
	Hash128		h;

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
			hset128_add_many(pc->out->hashes, pc->hbatch, (size_t) pc->n);
			pc->n = 0;
		}
	}
	return true;
}

/* An integer set's keys, a batch at a time, straight from the decoder. */
static bool
parent_keys(void *arg, const CopyKeyBatch *b)
{
	ParentCtx  *pc = arg;

	keyset64_add_many(pc->out->ints, b->keys, b->nkeys);
	return pace_tick(&pc->w->scan->pace, b->nkeys + b->nnulls);
}

static bool
run_parent_chunk(Worker *w, const Chunk *c, int attempt)
{
	Scan	   *s = w->scan;
	const ParentSet *set = &s->plan->sets[c->target];
	ParentCtx  *pc;
	StrBuf		sql;
	RowSourceStats st;
	bool		ok,
				retry;

	if (has_error(s, &s->set_errors[c->target]))
		return false;
	/* integer sets are complete after the first key pass */
	if (s->key_pass > 0 && set->kind == KEYKIND_INT)
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
		ok = rowsrc_stream_keys(w->conn, fetch_for(s->opt, true), sql.data, parent_keys, pc,
								&st);
		pc->bad_value = st.bad_key;
	}
	else
	{
		ok = rowsrc_stream(w->conn, fetch_for(s->opt, false), sql.data, set->ncols,
						   parent_row, pc, &st);
		if (pc->n > 0)
			hset128_add_many(pc->out->hashes, pc->hbatch, (size_t) pc->n);
		pace_count(&s->pace, pc->rows & (CHECK_EVERY_ROWS - 1));
	}
	pace_throttle(&s->pace);	/* small chunks never reach the in-row check */
	/* a set ignores keys added twice: a retried chunk just adds them again */
	retry = !ok && chunk_failed(w, &s->set_errors[c->target], c, pc->bad_value, attempt);
	strbuf_free(&sql);
	strbuf_free(&pc->enc);
	free(pc);
	return retry;
}

/* ---- phase 2: child keys, probed ---- */

/* An integer FK of the pass: keys batched, probed against a frozen KeySet64. */
typedef struct ProbeSlot
{
	int			fk;				/* index into plan->fks */
	int			field;			/* column index within the pass */
	const KeySet64 *parents;
	FkPartial  *out;
	uint64_t	nulls;
	int			n;
	int64_t    *keys;
	uint64_t   *ords;
} ProbeSlot;

/*
 * A hashed FK of the pass: each full key fingerprinted, and looked up a
 * batch at a time so that the cache misses of a big set overlap.  A miss
 * becomes a candidate, which keeps the key's raw values: each batched key's
 * fields are copied to raw (length, bytes) until the batch is probed.
 */
typedef struct HashSlot
{
	int			fk;
	const FkPlan *fp;
	const ParentSet *set;
	const HSet128 *parents;
	FkPartial  *out;
	bool		match_full;
	uint64_t	nulls;
	uint64_t	partial;
	int			n;
	Hash128    *hashes;
	uint64_t   *ords;
	size_t	   *raw_at;			/* where each key's fields start in raw */
	StrBuf		raw;
} HashSlot;

typedef struct ChildCtx
{
	Worker	   *w;
	int			chunk;
	FkPartial  *local;			/* per FK of the pass: this chunk's findings */
	int			nlocal;
	int			nslots;
	ProbeSlot  *slots;
	int			nhash;
	HashSlot   *hslots;
	uint32_t   *missing;
	uint64_t	rows;
	int			sample_cap;
	StrBuf		enc;
	bool		bad_value;
	bool		record;			/* --state: keep each orphan row's key (olist) */
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
	SampleRef  *r = &out->samples[out->nsamples++];

	r->chunk = cc->chunk;
	r->ordinal = ordinal;
	r->key = key;
}

static void
flush_slot(ChildCtx *cc, ProbeSlot *ps)
{
	size_t		nmiss;

	if (ps->n == 0)
		return;
	nmiss = keyset64_probe_missing(ps->parents, ps->keys, (size_t) ps->n, cc->missing);
	for (size_t i = 0; i < nmiss; i++)
	{
		uint32_t	idx = cc->missing[i];
		FkPartial  *out = ps->out;

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
	ChildCtx   *cc = arg;
	uint64_t	nrows = b->nkeys + b->nnulls;

	for (int s = 0; s < cc->nslots; s++)
	{
		ProbeSlot  *ps = &cc->slots[s];
		FkPartial  *out = ps->out;
		size_t		nmiss;

		ps->nulls += b->nnulls;
		nmiss = keyset64_probe_missing(ps->parents, b->keys, b->nkeys, cc->missing);
		for (size_t i = 0; i < nmiss; i++)
		{
			uint32_t	idx = cc->missing[i];

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
	int			ncols = hs->set->ncols;
	CopyField	fields[PLAN_MAX_KEYS];
	int			cols[PLAN_MAX_KEYS];
	size_t		nmiss;

	if (hs->n == 0)
		return;
	nmiss = hset128_probe_missing(hs->parents, hs->hashes, (size_t) hs->n, cc->missing);
	for (int k = 0; k < ncols; k++)
		cols[k] = k;
	for (size_t i = 0; i < nmiss; i++)
	{
		uint32_t	idx = cc->missing[i];
		const uint8_t *p = (const uint8_t *) hs->raw.data + hs->raw_at[idx];

		for (int k = 0; k < ncols; k++)
		{
			memcpy(&fields[k].len, p, sizeof(int32_t));
			fields[k].data = p + sizeof(int32_t);
			p += sizeof(int32_t) + (size_t) fields[k].len;
		}
		candset_add(hs->out->cands, hs->hashes[idx], fields, cols);
		if (hs->out->nsamples < cc->sample_cap)
		{
			SampleRef  *r = &hs->out->samples[hs->out->nsamples++];

			r->chunk = cc->chunk;
			r->ordinal = hs->ords[idx];
			r->hash = hs->hashes[idx];
			r->partial = false;
		}
	}
	hs->n = 0;
	strbuf_reset(&hs->raw);
}

/* MATCH rules, then the fingerprint into the batch (flush_hashed probes it). */
static bool
probe_hashed(ChildCtx *cc, HashSlot *hs, const CopyField *f, uint64_t ordinal)
{
	const FkPlan *fp = hs->fp;
	int			ncols = hs->set->ncols;
	KeyNulls	nulls = keyenc_nulls(f, fp->fields, ncols, hs->match_full);
	Hash128		h;

	if (nulls != KEY_NO_NULLS)
	{
		if (nulls == KEY_MIXED_NULLS)
		{
			hs->partial++;
			/* samples stay in row order: the batched keys come first */
			flush_hashed(cc, hs);
			if (hs->out->nsamples < cc->sample_cap)
			{
				SampleRef  *r = &hs->out->samples[hs->out->nsamples++];

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
	if (!keyenc_fingerprint(f, fp->fields, fp->child_enc, ncols, &cc->enc, &h))
		return false;
	if (!in_key_pass(cc->w->scan, h))
		return true;
	hs->hashes[hs->n] = h;
	hs->ords[hs->n] = ordinal;
	hs->raw_at[hs->n] = hs->raw.len;
	for (int k = 0; k < ncols; k++)
	{
		const CopyField *fld = &f[fp->fields[k]];

		strbuf_append_len(&hs->raw, (const char *) &fld->len, sizeof(int32_t));
		if (fld->len > 0)
			strbuf_append_len(&hs->raw, (const char *) fld->data, (size_t) fld->len);
	}
	if (++hs->n == PROBE_BATCH)
		flush_hashed(cc, hs);
	return true;
}

static bool
child_row(void *arg, const CopyField *f, int nf)
{
	ChildCtx   *cc = arg;
	uint64_t	ordinal = cc->rows++;

	(void) nf;
	if (FK_UNLIKELY((cc->rows & (CHECK_EVERY_ROWS - 1)) == 0) &&
		!pace_tick(&cc->w->scan->pace, CHECK_EVERY_ROWS))
		return false;
	for (int i = 0; i < cc->nslots; i++)
	{
		ProbeSlot  *ps = &cc->slots[i];
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
	Scan	   *s = w->scan;

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
		if (has_error(s, &s->set_errors[fp->parent_set]))
			continue;
		if (fp->kind == KEYKIND_INT && s->key_pass > 0)
			continue;			/* done in the first key pass */
		/* counted apart until the chunk succeeds: a retried chunk counts once */
		cc->local[i].samples = fk_calloc((size_t) cc->sample_cap + 1, sizeof(SampleRef));
		if (fp->kind == KEYKIND_INT)
		{
			ProbeSlot  *ps = &cc->slots[cc->nslots++];

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
			HashSlot   *hs = &cc->hslots[cc->nhash++];

			cc->local[i].cands = candset_create(fp->fk->ncols);
			hs->fk = pass->fks[i];
			hs->fp = fp;
			hs->set = &s->plan->sets[fp->parent_set];
			hs->parents = s->sets[fp->parent_set].hashes;
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


static bool
run_child_chunk(Worker *w, int chunk_index, int attempt)
{
	Scan	   *s = w->scan;
	const Chunk *c = &s->plan->child_chunks[chunk_index];
	const ChildPass *pass = &s->plan->passes[c->target];
	ChildCtx	cc;
	StrBuf		sql;
	RowSourceStats st;
	bool		ok,
				retry = false;

	if (has_error(s, &s->pass_errors[c->target]))
		return false;
	memset(&cc, 0, sizeof(cc));
	cc.w = w;
	cc.chunk = chunk_index;
	cc.sample_cap = s->opt->sample;
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
		ok = rowsrc_stream_keys(w->conn, fetch_for(s->opt, true), sql.data, child_keys, &cc,
								&st);
		cc.bad_value = st.bad_key;
	}
	else
	{
		ok = rowsrc_stream(w->conn, fetch_for(s->opt, cc.nhash == 0), sql.data, pass->ncols,
						   child_row, &cc, &st);
		pace_count(&s->pace, cc.rows & (CHECK_EVERY_ROWS - 1));
	}
	pace_throttle(&s->pace);
	if (ok)
	{
		for (int i = 0; i < cc.nslots; i++)
		{
			ProbeSlot  *ps = &cc.slots[i];

			flush_slot(&cc, ps);
			ps->out->child_rows += cc.rows;
			ps->out->null_rows += ps->nulls;
			note_fk_end(s, ps->fk);
		}
		for (int i = 0; i < cc.nhash; i++)
		{
			HashSlot   *hs = &cc.hslots[i];

			flush_hashed(&cc, hs);
			/* every key pass sees every row: count them once */
			if (s->key_pass == 0)
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
		retry = chunk_failed(w, &s->pass_errors[c->target], c, cc.bad_value, attempt);
	strbuf_free(&sql);
	child_ctx_free(&cc);
	return retry;
}

/* ---- phase 2: FKs checked by the server's own anti-join ---- */

static bool
run_server_chunk(Worker *w, const Chunk *c, int attempt)
{
	Scan	   *s = w->scan;
	const CatForeignKey *fk = s->plan->fks[c->target].fk;
	FkResult   *r = &s->server_results[c->target];

	if (s->key_pass > 0)
		return false;
	fkresult_reset(r);			/* a retry starts over */
	if (verify_fk_on_server(w->conn, s->cat, fk, s->opt->sample, r))
	{
		note_fk_end(s, c->target);
		return false;
	}
	return chunk_failed(w, &s->fk_errors[c->target], c, false, attempt);
}

/* ---- the pool ---- */

static void
run_chunk(Worker *w, int index)
{
	const Chunk *c = &w->scan->chunks[index];
	bool		again = true;

	if (c->recorded >= 0)
		return;					/* finished by an earlier run (--state) */
	for (int attempt = 0; again && w->alive; attempt++)
	{
		switch (c->role)
		{
			case CHUNK_PARENT:
				again = run_parent_chunk(w, c, attempt);
				break;
			case CHUNK_CHILD:
				again = run_child_chunk(w, index, attempt);
				break;
			case CHUNK_SERVER:
				again = run_server_chunk(w, c, attempt);
				break;
		}
	}
}

/*
 * A phase-2 chunk is handled: when it was the last of its pass (or a
 * server-side check), its FKs are ready to finish.  The lock orders the
 * workers' writes to their partials before the coordinator's reads.
 */
static void
note_unit_done(Scan *s, int index)
{
	const Chunk *c = &s->chunks[index];
	const ChildPass *pass;

	if (!s->track_units)
		return;
	pthread_mutex_lock(&s->lock);
	if (c->role == CHUNK_SERVER)
		s->ready[s->nready++] = c->target;
	else if (c->role == CHUNK_CHILD && --s->pass_left[c->target] == 0)
	{
		pass = &s->plan->passes[c->target];
		for (int k = 0; k < pass->nfks; k++)
			s->ready[s->nready++] = pass->fks[k];
	}
	pthread_mutex_unlock(&s->lock);
	pool_wake(s->pool);
}

/* A phase's callbacks' context (PoolPhase.ctx). */
typedef struct PhaseCtx
{
	Scan	   *s;
	const char *what;
	bool		progress;
	bool		stepped;
} PhaseCtx;

/* PoolStartFn: a worker's connection, in the snapshot, its tables locked. */
static bool
worker_start(void *ctx, int id)
{
	Scan	   *s = ctx;
	Worker	   *w = &s->workers[id];
	char		name[32];

	snprintf(name, sizeof(name), "worker %d", id + 1);
	rowsrc_count_bytes_into(&s->pace.bytes);
	w->conn = pgconn_connect(&s->opt->conn, name);
	w->alive = w->conn && snapshot_import(w->conn, s->snapshot) &&
		snapshot_lock_tables(w->conn, s->cat);
	return w->alive;
}

/* PoolPhase.job: one chunk (a chunk whose target failed still counts as handled). */
static bool
worker_job(void *ctx, int id, int index)
{
	Scan	   *s = ((PhaseCtx *) ctx)->s;
	Worker	   *w = &s->workers[id];

	run_chunk(w, index);
	note_unit_done(s, index);
	return w->alive;
}

static bool
phase_stop(void *ctx)
{
	return pace_stopping(&((PhaseCtx *) ctx)->s->pace);
}

/* The phase's progress, its ETA from the pages its chunks cover. */
static void
print_progress(Scan *s, const char *what, bool final)
{
	int			done = pool_jobs_taken(s->pool);
	int64_t		pages_done = 0,
				pages_all = 0;

	for (int i = 0; i < s->nchunks; i++)
	{
		const Chunk *c = &s->chunks[i];
		int64_t		pages = c->rel == NULL ? 1
			: c->first_page < 0 ? c->rel->pages
			: (c->end_page < 0 ? c->rel->pages : c->end_page) - c->first_page;

		pages = pages > 0 ? pages : 1;
		pages_all += pages;
		if (i < done - pool_nthreads(s->pool))	/* the chunks in hand are not done yet */
			pages_done += pages;
	}
	pace_progress(&s->pace, what, done, s->nchunks, pace_seconds_since(&s->phase_start),
				  pages_all > 0 ? (double) pages_done / (double) pages_all : 0, final);
}

/*
 * PoolPhase.step, on the coordinator: FKs whose chunks are all handled are
 * finished while the rest runs; progress once a second; the budget's
 * deadline, then a second's grace for the streams (which stop at their
 * next batch of rows) before the queries still running (server-side
 * checks) are cancelled.
 */
static double
phase_step(void *ctx, bool running)
{
	PhaseCtx   *pc = ctx;
	Scan	   *s = pc->s;
	int			fk = -1;
	double		due;

	pthread_mutex_lock(&s->lock);
	if (s->nready_done < s->nready)
		fk = s->ready[s->nready_done++];
	pthread_mutex_unlock(&s->lock);
	if (fk >= 0)
	{
		finish_early(s, fk);
		return 0;
	}
	if (!running)
		return -1;
	if (pc->progress && pc->stepped)
		print_progress(s, pc->what, false);
	pc->stepped = true;
	due = pace_step(&s->pace);
	return due < 0 && pc->progress ? 1.0 : due;
}

/* Run one phase over chunks; returns when every worker is idle again. */
static void
run_phase(Scan *s, const char *what, const Chunk *chunks, int nchunks, bool progress)
{
	PhaseCtx	pc = {s, what, progress, false};
	PoolPhase	phase = {nchunks, worker_job, phase_stop, phase_step, &pc};

	s->chunks = chunks;
	s->nchunks = nchunks;
	clock_gettime(CLOCK_MONOTONIC, &s->phase_start);
	pool_run(s->pool, &phase);
	if (progress)
		print_progress(s, what, true);
}

/* A chunk no worker ran (all died, or Ctrl-C) fails its target. */
static void
fail_unrun_chunks(Scan *s)
{
	for (int i = 0; i < s->nchunks; i++)
	{
		const Chunk *c = &s->chunks[i];
		char	  **slot;

		if (pool_job_done(s->pool, i))
			continue;
		slot = c->role == CHUNK_PARENT ? &s->set_errors[c->target]
			: c->role == CHUNK_CHILD ? &s->pass_errors[c->target]
			: &s->fk_errors[c->target];
		record_error(s, slot, pace_stop_reason(&s->pace)
					 ? pace_stop_reason(&s->pace) : "not scanned: no worker connection left");
	}
}

/*
 * Empty partial sets for each worker before a parents phase: all of them in
 * the first key pass, only the hashed ones (the next slice) afterwards.
 */
static void
prepare_partial_sets(Scan *s)
{
	for (int w = 0; w < s->nworkers; w++)
		for (int i = 0; i < s->plan->nsets; i++)
		{
			KeySet	   *part = &s->workers[w].sets[i];

			if (s->plan->sets[i].kind == KEYKIND_HASH)
			{
				/* sized from the estimate: no chain of resizes while building */
				int64_t		rows = s->cat->tables[s->plan->sets[i].table].est_rows;
				int64_t		share = rows / s->nworkers / s->plan->key_passes;

				part->hashes = hset128_create(share > 0 ? (size_t) share : 0);
			}
			else if (s->key_pass == 0)
				part->ints = keyset64_create();
		}
}

static void
merge_parent_sets(Scan *s)
{
	for (int i = 0; i < s->plan->nsets; i++)
	{
		KeySet	   *merged = &s->sets[i];

		if (s->plan->sets[i].kind == KEYKIND_INT)
		{
			if (s->key_pass > 0)
				continue;		/* complete since the first pass */
			merged->ints = keyset64_create();
		}
		else
		{
			size_t		total = 0;

			/* the previous slice is done with: free it before the next grows */
			hset128_free(merged->hashes);
			for (int w = 0; w < s->nworkers; w++)
				total += hset128_size(s->workers[w].sets[i].hashes);
			merged->hashes = hset128_create(total);
		}
		for (int w = 0; w < s->nworkers; w++)
		{
			KeySet	   *part = &s->workers[w].sets[i];

			if (part->ints)
				keyset64_merge_inplace(merged->ints, part->ints);
			if (part->hashes)
				hset128_merge_inplace(merged->hashes, part->hashes);
			keyset64_free(part->ints);
			hset128_free(part->hashes);
			part->ints = NULL;
			part->hashes = NULL;
		}
		if (merged->ints)
		{
			keyset64_freeze(merged->ints);
			log_info("parent set %d: %" PRIu64 " keys, %s, %zu kB", i,
					 keyset64_cardinality(merged->ints), keyset64_method(merged->ints),
					 keyset64_memory_bytes(merged->ints) / 1024);
		}
		else
			log_info("parent set %d: %zu keys, hash, %zu kB", i,
					 hset128_size(merged->hashes), hset128_memory_bytes(merged->hashes) / 1024);
	}
}

static int
compare_samples(const void *a, const void *b)
{
	const SampleRef *x = a,
			   *y = b;

	if (x->chunk != y->chunk)
		return x->chunk < y->chunk ? -1 : 1;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return 0;
}

/*
 * The first orphan rows, with their ctids: the stream carried only keys, so
 * look the rows up in the chunks they came from (one chunk scan each).
 * refs are sorted; for hashed FKs only confirmed candidates are passed.
 */
static bool
fetch_samples(Scan *s, PgConn *coord, const FkPlan *fp, const SampleRef *refs,
			  int nrefs, const CandSet *cands, FkResult *r)
{
	int64_t    *ints = fk_malloc(sizeof(int64_t) * (size_t) (nrefs + 1));
	uint32_t   *idx = fk_malloc(sizeof(uint32_t) * (size_t) (nrefs + 1));
	bool		ok = true;

	for (int i = 0; ok && i < nrefs;)
	{
		const Chunk *c = &s->plan->child_chunks[refs[i].chunk];
		int			n = 0;
		int			j;

		bool		partial = false;

		for (j = i; j < nrefs && refs[j].chunk == refs[i].chunk; j++)
		{
			partial |= refs[j].partial;
			if (refs[j].partial)
				continue;
			ints[n] = refs[j].key;
			idx[n++] = cands ? candset_find(cands, refs[j].hash) : 0;
		}
		if (fp->kind == KEYKIND_INT)
			ok = verify_samples_int(coord, c, &fp->fk->child_cols[0], ints, n, nrefs, r);
		else
			ok = verify_samples_hash(coord, s->cat, c, fp->fk, cands, idx, n, partial,
									 nrefs, r);
		i = j;
	}
	free(ints);
	free(idx);
	return ok;
}

/* Sum the workers' partials of one FK; samples sorted, refs caller-freed. */
static void
merge_fk_partials(Scan *s, int fk, FkResult *r, KeySet64 *orphans, CandSet *cands,
				  SampleRef **refs, int *nrefs)
{
	*refs = NULL;
	*nrefs = 0;
	r->resumed_chunks = s->resume.chunks[fk];
	for (int i = 0; i < s->resume.nsnaps[fk]; i++)
	{
		r->chunk_snapshots = fk_realloc(r->chunk_snapshots,
										sizeof(char *) * (size_t) (r->nchunk_snapshots + 1));
		r->chunk_snapshots[r->nchunk_snapshots++] = fk_strdup(s->resume.snaps[fk][i]);
	}
	/* the workers' partials, then what recorded chunks hold */
	for (int w = 0; w <= s->nworkers; w++)
	{
		FkPartial  *p = w < s->nworkers ? &s->workers[w].fks[fk] : &s->resume.found[fk];

		r->child_rows += p->child_rows;
		r->null_rows += p->null_rows;
		r->partial_null_rows += p->partial_null_rows;
		r->orphan_rows += p->orphan_rows;
		if (orphans && p->orphans)
			keyset64_merge_inplace(orphans, p->orphans);
		if (cands && p->cands)
			candset_merge_inplace(cands, p->cands);
		*refs = fk_realloc(*refs, sizeof(SampleRef) * (size_t) (*nrefs + p->nsamples + 1));
		if (p->nsamples > 0)	/* resumed[] may have no array at all */
			memcpy(*refs + *nrefs, p->samples, sizeof(SampleRef) * (size_t) p->nsamples);
		*nrefs += p->nsamples;
	}
	qsort(*refs, (size_t) *nrefs, sizeof(SampleRef), compare_samples);
}

/* Integer FK: exact on the client already. */
static const char *
finish_int_fk(Scan *s, PgConn *coord, const FkPlan *fp, int fk, FkResult *r)
{
	KeySet64   *orphans = keyset64_create();
	SampleRef  *refs;
	int			nrefs;
	const char *err = NULL;

	merge_fk_partials(s, fk, r, orphans, NULL, &refs, &nrefs);
	if (s->mixed_snapshots)
	{
		/* read on several snapshots: only what is still an orphan counts */
		KeySet64   *still = keyset64_create();
		uint64_t	gone_rows = 0;

		if (verify_int_orphans(coord, s->cat, fp->fk, orphans, still, &gone_rows))
		{
			keyset64_free(orphans);
			orphans = still;
			r->orphan_rows -= gone_rows;
		}
		else
		{
			keyset64_free(still);
			err = coord->last_error ? coord->last_error : "could not confirm orphans";
		}
	}
	r->orphan_keys = keyset64_cardinality(orphans);
	keyset64_freeze(orphans);
	s->orphan_keys[fk].ints = orphans;
	if (nrefs > s->opt->sample)
		nrefs = s->opt->sample;
	if (err == NULL && nrefs > 0 && !fetch_samples(s, coord, fp, refs, nrefs, NULL, r))
		err = coord->last_error ? coord->last_error : "could not fetch sample rows";
	free(refs);
	return err;
}

/* Hashed FK: candidates are confirmed with the FK's own operators first. */
static const char *
finish_hash_fk(Scan *s, PgConn *coord, const FkPlan *fp, int fk, FkResult *r)
{
	CandSet    *cands = candset_create(fp->fk->ncols);
	bool	   *confirmed;
	SampleRef  *refs;
	int			nrefs,
				nkeep = 0;
	const char *err = NULL;

	merge_fk_partials(s, fk, r, NULL, cands, &refs, &nrefs);
	confirmed = fk_calloc((size_t) candset_size(cands) + 1, sizeof(bool));
	if (!verify_candidates(coord, s->cat, fp->fk, cands, confirmed))
		err = coord->last_error ? coord->last_error : "could not confirm orphans";
	s->orphan_keys[fk].hashes = hset128_create(0);
	for (uint32_t i = 0; err == NULL && i < candset_size(cands); i++)
	{
		if (!confirmed[i])
			continue;
		r->orphan_rows += candset_rows(cands, i);
		r->orphan_keys++;
		hset128_add(s->orphan_keys[fk].hashes, candset_hash(cands, i));
	}
	if (err == NULL)
		r->orphan_rows += r->partial_null_rows;
	if (err == NULL && candset_size(cands) > r->orphan_keys)
		log_info("%s: %" PRIu64 " of %u candidate keys have a parent after all",
				 fp->fk->name, (uint64_t) candset_size(cands) - r->orphan_keys,
				 candset_size(cands));
	/* the first samples among the confirmed candidates */
	for (int i = 0; err == NULL && i < nrefs && nkeep < s->opt->sample; i++)
	{
		uint32_t	c = refs[i].partial ? UINT32_MAX : candset_find(cands, refs[i].hash);

		if (refs[i].partial || (c != UINT32_MAX && confirmed[c]))
			refs[nkeep++] = refs[i];
	}
	if (nkeep > 0 && !fetch_samples(s, coord, fp, refs, nkeep, cands, r))
		err = coord->last_error ? coord->last_error : "could not fetch sample rows";
	free(refs);
	if (s->hook && err == NULL)
	{
		/* the hook reads the confirmed keys' raw values; freed with the state */
		s->orphan_keys[fk].cands = cands;
		s->orphan_keys[fk].confirmed = confirmed;
		return NULL;
	}
	free(confirmed);
	candset_free(cands);
	return err;
}

/*
 * Recover a verifying connection after a failed query: the coordinator
 * (early finishing) rolls back to the FK's savepoint and keeps its
 * exported snapshot; a worker's connection imports the snapshot again.
 */
static void
recover_verifier(Scan *s, PgConn *c)
{
	if (PQtransactionStatus(c->conn) != PQTRANS_INERROR)
		return;
	if (c == s->coord)
		(void) pgconn_exec(c, "ROLLBACK TO SAVEPOINT fkscan_fk", 0, NULL, NULL, NULL);
	else
		(void) snapshot_import(c, s->snapshot);
}

/*
 * One FK's result from the workers' partials: confirmation and samples on
 * the verifying connection; a failure there costs this FK only.  An FK
 * --max-time left unread is "incomplete", with no counts.
 */
static void
collect_one(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	const FkPlan *fp = &s->plan->fks[i];
	FkResult   *r = &res->fks[i];
	const char *err;
	double		end;

	pthread_mutex_lock(&s->lock);
	err = s->fk_errors[i];
	if (fp->kind != KEYKIND_SERVER && err == NULL)
		err = s->set_errors[fp->parent_set];
	if (fp->kind != KEYKIND_SERVER && err == NULL)
		err = s->pass_errors[fp->pass];
	end = s->fk_end[i];
	pthread_mutex_unlock(&s->lock);

	if (fp->kind == KEYKIND_SERVER)
	{
		/* counts and samples were filled by the worker that ran it */
		*r = s->server_results[i];
		memset(&s->server_results[i], 0, sizeof(FkResult));
	}
	r->fk = fp->fk;
	r->child = &s->cat->tables[fp->fk->child];
	r->parent = &s->cat->tables[fp->fk->parent];
	r->elapsed_s = end;
	switch (fp->kind)
	{
		case KEYKIND_SERVER:
			r->method = "server";
			r->method_reason = fp->server_reason;
			break;
		case KEYKIND_INT:
			r->method = s->sets[fp->parent_set].ints
				? keyset64_method(s->sets[fp->parent_set].ints) : "bitmap";
			if (err == NULL && (err = finish_int_fk(s, verifier, fp, i, r)) != NULL &&
				is_conflict(s->cat, verifier))
				atomic_store(&s->conflict, true);
			break;
		case KEYKIND_HASH:
			r->method = "hash";
			if (err == NULL && (err = finish_hash_fk(s, verifier, fp, i, r)) != NULL &&
				is_conflict(s->cat, verifier))
				atomic_store(&s->conflict, true);
			break;
	}
	if (err)
		recover_verifier(s, verifier);
	if (err)
	{
		bool		incomplete = strcmp(err, PACE_BUDGET_REASON) == 0;

		fkresult_reset(r);
		r->child_rows = r->null_rows = r->partial_null_rows = 0;
		r->orphan_rows = r->orphan_keys = 0;
		r->status = incomplete ? FKSTATUS_INCOMPLETE : FKSTATUS_ERROR;
		r->error = fk_strdup(err);
	}
	else if (r->orphan_rows > 0)
		r->status = FKSTATUS_ORPHANS;
	else
		r->status = FKSTATUS_CLEAN;
	r->snapshot = fk_strdup(s->snapshot);
}

/* How to recognise the orphan rows of FK i, from the scan's final keys. */
static OrphanMatcher
matcher_for(const Scan *s, const FkResult *r, int i)
{
	const FkPlan *fp = &s->plan->fks[i];
	OrphanMatcher m;

	memset(&m, 0, sizeof(m));
	m.fk = fp->fk;
	m.ints = s->orphan_keys[i].ints;
	m.hashes = s->orphan_keys[i].hashes;
	m.enc = fp->kind == KEYKIND_HASH ? fp->child_enc : NULL;
	m.orphan_rows = r->orphan_rows;
	return m;
}

/* --orphans-out: every orphan row of every FK that has some, on the snapshot. */
static bool
write_orphans(Scan *s, PgConn *verifier, const ScanResult *res)
{
	OrphanMatcher *m = fk_calloc((size_t) res->nfks + 1, sizeof(OrphanMatcher));
	int			n = 0;
	bool		ok;

	for (int i = 0; i < res->nfks; i++)
		if (res->fks[i].status == FKSTATUS_ORPHANS && !res->fks[i].resumed)
			m[n++] = matcher_for(s, &res->fks[i], i);
	ok = orphans_write(verifier, s->cat, m, n, s->opt->orphans_out);
	free(m);
	return ok;
}

static bool
has_filters(const FilterOptions *f)
{
	return f->schemas.n || f->exclude_schemas.n || f->tables.n ||
		f->exclude_tables.n || f->constraints.n;
}

/*
 * The FK graph cascades follow: the scan's catalog, or with a filter the
 * whole graph (-t orders still reaches order_items), read once on the
 * snapshot.  NULL if it could not be read.
 */
static const Catalog *
cascade_graph(Scan *s, PgConn *verifier, ScanResult *res)
{
	FilterOptions all;

	if (!has_filters(&s->opt->filter))
		return s->cat;
	if (res->graph)
		return res->graph;
	memset(&all, 0, sizeof(all));
	if (!catalog_read(verifier, &all, &res->graph))
		return NULL;
	return res->graph;
}

/* What deleting FK i's orphan rows would do to the rows referencing them. */
static bool
cascade_one(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	const Catalog *graph;
	OrphanMatcher m;

	if (res->fks[i].status != FKSTATUS_ORPHANS || signals_interrupted())
		return true;
	if ((graph = cascade_graph(s, verifier, res)) == NULL)
		return false;
	m = matcher_for(s, &res->fks[i], i);
	for (int g = 0; graph != s->cat && g < graph->nfks; g++)
		if (graph->fks[g].oid == m.fk->oid)
			m.fk = &graph->fks[g];
	return cascade_trace(verifier, graph, &m, &res->fks[i]);
}

/*
 * --compare server: the server's own anti-join for FK i on the same
 * snapshot, timed.  Any disagreement is a loud error (exit 2): one of the
 * two is wrong, and the scan's answer cannot be trusted until we know which.
 */
static void
compare_one(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	FkResult   *r = &res->fks[i];
	FkResult	srv;
	struct timespec t0;

	if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE ||
		signals_interrupted())
		return;
	/* the server at its own defaults: parallel workers and JIT as configured */
	if (s->compare_ready != verifier)
	{
		s->compare_ready = verifier;
		if (!pgconn_exec(verifier, "SELECT pg_catalog.set_config(name, reset_val, false) "
						 "FROM pg_catalog.pg_settings "
						 "WHERE name IN ('max_parallel_workers_per_gather', 'jit')",
						 0, NULL, NULL, NULL))
		{
			log_warning("the server's anti-join runs with fkscan's session settings");
			recover_verifier(s, verifier);
		}
	}
	memset(&srv, 0, sizeof(srv));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!verify_fk_on_server(verifier, s->cat, r->fk, 0, &srv))
	{
		char	   *snap = r->snapshot;

		r->snapshot = NULL;
		fkresult_reset(r);
		r->snapshot = snap;
		r->status = FKSTATUS_ERROR;
		r->error = fk_strdup(verifier->last_error ? verifier->last_error
							 : "the server's anti-join failed");
		recover_verifier(s, verifier);
		fkresult_reset(&srv);
		return;
	}
	r->compared = true;
	r->compare_elapsed_s = pace_seconds_since(&t0);
	r->compare_orphan_rows = srv.orphan_rows;
	r->compare_orphan_keys = srv.orphan_keys;
	r->compare_agree = srv.orphan_rows == r->orphan_rows &&
		srv.orphan_keys == r->orphan_keys && srv.child_rows == r->child_rows &&
		srv.null_rows == r->null_rows && srv.partial_null_rows == r->partial_null_rows;
	if (!r->compare_agree)
	{
		log_error("%s: fkscan and the server's anti-join disagree", r->fk->name);
		log_detail("fkscan: %" PRIu64 " orphan rows, %" PRIu64 " keys, %" PRIu64
				   " rows, %" PRIu64 " exempt; server: %" PRIu64 " orphan rows, %"
				   PRIu64 " keys, %" PRIu64 " rows, %" PRIu64 " exempt",
				   r->orphan_rows, r->orphan_keys, r->child_rows, r->null_rows,
				   srv.orphan_rows, srv.orphan_keys, srv.child_rows, srv.null_rows);
	}
	fkresult_reset(&srv);
}

/* "2026-11-24T21:03:05Z": when a result became final. */
static char *
utc_now(void)
{
	char		buf[32];
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return fk_strdup(buf);
}

/*
 * Everything about FK i, on the verifying connection: its counts,
 * --compare server, its cascade chain.  A final result (clean or orphans)
 * is recorded in the --state file and streamed as a JSON line.
 */
static void
finish_fk(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	FkResult   *r = &res->fks[i];

	s->finished[i] = true;
	collect_one(s, verifier, res, i);
	if (s->opt->compare_server)
		compare_one(s, verifier, res, i);
	if (!cascade_one(s, verifier, res, i))
	{
		res->output_failed = true;
		recover_verifier(s, verifier);
	}
	r->finished_at = utc_now();
	if ((r->status == FKSTATUS_CLEAN || r->status == FKSTATUS_ORPHANS) &&
		!atomic_load(&s->conflict) && !signals_interrupted())
	{
		if (s->state && !state_record_fk(s->state, r))
			res->output_failed = true;
		(void) report_fk_done(s->stream, res, i);
	}
}

/*
 * FK i's chunks are all handled, while the rest of phase 2 runs: finish
 * it now on the coordinator, which holds the snapshot, inside a savepoint
 * so a failed query costs this FK and not the exported snapshot.
 */
static void
finish_early(Scan *s, int i)
{
	PgConn	   *c = s->coord;

	if (s->finished[i])
		return;
	if (!pgconn_exec(c, "SAVEPOINT fkscan_fk", 0, NULL, NULL, NULL))
		return;					/* left for the end, on a worker's connection */
	finish_fk(s, c, s->res, i);
	(void) pgconn_exec(c, "RELEASE SAVEPOINT fkscan_fk", 0, NULL, NULL, NULL);
}

static void
scan_free_state(Scan *s)
{
	for (int w = 0; w < s->nworkers; w++)
	{
		Worker	   *wk = &s->workers[w];

		if (wk->sets)
			for (int i = 0; i < s->plan->nsets; i++)
			{
				keyset64_free(wk->sets[i].ints);
				hset128_free(wk->sets[i].hashes);
			}
		if (wk->fks)
			for (int i = 0; i < s->plan->nfks; i++)
			{
				keyset64_free(wk->fks[i].orphans);
				candset_free(wk->fks[i].cands);
				free(wk->fks[i].samples);
			}
		free(wk->sets);
		free(wk->fks);
		pgconn_free(wk->conn);
	}
	for (int i = 0; i < s->plan->nsets; i++)
	{
		keyset64_free(s->sets[i].ints);
		hset128_free(s->sets[i].hashes);
		free(s->set_errors[i]);
	}
	for (int i = 0; i < s->plan->npasses; i++)
		free(s->pass_errors[i]);
	for (int i = 0; i < s->plan->nfks; i++)
	{
		free(s->fk_errors[i]);
		fkresult_reset(&s->server_results[i]);
		keyset64_free(s->orphan_keys[i].ints);
		hset128_free(s->orphan_keys[i].hashes);
		candset_free(s->orphan_keys[i].cands);
		free(s->orphan_keys[i].confirmed);
	}
	free(s->orphan_keys);
	resume_free(&s->resume);
	free(s->workers);
	free(s->sets);
	free(s->set_errors);
	free(s->pass_errors);
	free(s->fk_errors);
	free(s->fk_end);
	free(s->server_results);
	free(s->finished);
	free(s->pass_left);
	free(s->ready);
	pool_free(s->pool);
	pthread_mutex_destroy(&s->lock);
}

/* ScanHook.keys for every FK with orphans, while its keys still exist. */
static bool
hand_keys_to_hook(Scan *s, PgConn *verifier, ScanResult *res)
{
	for (int i = 0; i < res->nfks; i++)
	{
		ScanOrphanKeys k;

		if (res->fks[i].status != FKSTATUS_ORPHANS)
			continue;
		k.ints = s->orphan_keys[i].ints;
		k.cands = s->orphan_keys[i].cands;
		k.confirmed = s->orphan_keys[i].confirmed;
		if (!s->hook->keys(s->hook->ctx, verifier, s->cat, &res->fks[i], i, &k))
			return false;
	}
	return true;
}

/* What --state's recorded chunks hold, against the merged parent sets. */
static void
load_recorded(Scan *s)
{
	const KeySet64 **ints = fk_calloc((size_t) s->plan->nsets + 1, sizeof(KeySet64 *));
	bool	   *failed = fk_calloc((size_t) s->plan->nsets + 1, sizeof(bool));

	for (int i = 0; i < s->plan->nsets; i++)
	{
		ints[i] = s->sets[i].ints;
		failed[i] = has_error(s, &s->set_errors[i]);
	}
	resume_load(&s->resume, s->plan, ints, failed);
	free(ints);
	free(failed);
}

/* Each worker's partial parent sets and per-FK findings, empty. */
static void
workers_create(Scan *s)
{
	const ScanPlan *plan = s->plan;

	s->workers = fk_calloc((size_t) s->nworkers, sizeof(Worker));
	for (int w = 0; w < s->nworkers; w++)
	{
		Worker	   *wk = &s->workers[w];

		wk->scan = s;
		wk->id = w;
		wk->sets = fk_calloc((size_t) (plan->nsets ? plan->nsets : 1), sizeof(KeySet));
		wk->fks = fk_calloc((size_t) (plan->nfks ? plan->nfks : 1), sizeof(FkPartial));
		for (int i = 0; i < plan->nfks; i++)
		{
			if (plan->fks[i].kind == KEYKIND_INT)
				wk->fks[i].orphans = keyset64_create();
			else if (plan->fks[i].kind == KEYKIND_HASH)
				wk->fks[i].cands = candset_create(plan->fks[i].fk->ncols);
			wk->fks[i].samples = fk_calloc((size_t) (s->opt->sample + 1), sizeof(SampleRef));
		}
	}
}

/*
 * Both phases per key pass.  Interrupted before the first pass: nothing was
 * read, nothing is clean.  Interrupted between passes: integer FKs are
 * complete, hashed FKs' later key slices were never read.  The same for
 * --max-time, whose unread FKs are "incomplete".
 */
static void
run_key_passes(Scan *s, bool progress)
{
	const ScanPlan *plan = s->plan;
	const char *why;

	for (s->key_pass = 0; s->key_pass < plan->key_passes && !pace_stopping(&s->pace);
		 s->key_pass++)
	{
		if (plan->key_passes > 1)
			log_info("key pass %d of %d", s->key_pass + 1, plan->key_passes);
		prepare_partial_sets(s);
		run_phase(s, "parents", plan->parent_chunks, plan->nparent_chunks, progress);
		fail_unrun_chunks(s);
		merge_parent_sets(s);
		if (s->key_pass == 0)
			load_recorded(s);
		/*
		 * The last key pass finishes FKs one by one on the coordinator's
		 * snapshot; under --consistency chunk it has none: all at the end.
		 */
		s->track_units = s->key_pass == plan->key_passes - 1 &&
			s->opt->consistency == CONSISTENCY_SNAPSHOT && !pace_stopping(&s->pace);
		run_phase(s, "children", plan->child_chunks, plan->nchild_chunks, progress);
		s->track_units = false;
		fail_unrun_chunks(s);
	}
	if (s->key_pass == plan->key_passes)
		return;
	why = pace_stop_reason(&s->pace);
	for (int i = 0; i < plan->nsets; i++)
		if (plan->sets[i].kind == KEYKIND_HASH || s->key_pass == 0)
			record_error(s, &s->set_errors[i], why);
	for (int i = 0; s->key_pass == 0 && i < plan->npasses; i++)
		record_error(s, &s->pass_errors[i], why);
	for (int i = 0; s->key_pass == 0 && i < plan->nfks; i++)
		if (plan->fks[i].kind == KEYKIND_SERVER)
			record_error(s, &s->fk_errors[i], why);
}

/*
 * Follow-up queries run on a worker's connection (the coordinator still
 * has the snapshot if none is left).  Under --consistency chunk a conflict
 * may have ended its session after its last chunk: then it goes on in a
 * fresh transaction, and the answer has the weaker guarantee; with chunks
 * re-read already, confirmation is against the present.
 */
static PgConn *
pick_verifier(Scan *s, PgConn *coord, int nstarted)
{
	for (int w = 0; w < nstarted; w++)
	{
		Worker	   *wk = &s->workers[w];

		if (wk->alive && s->opt->consistency == CONSISTENCY_CHUNK)
		{
			bool		usable;

			wk->conn->quiet_errors = true;
			usable = atomic_load(&s->chunk_retries) == 0 &&
				pgconn_exec(wk->conn, "SELECT 1", 0, NULL, NULL, NULL);
			wk->conn->quiet_errors = false;
			if (!usable)
			{
				recover_worker(wk);
				s->mixed_snapshots = true;
			}
		}
		if (wk->alive)
			return wk->conn;
	}
	return coord;
}

/* Start the pool, run both phases, stop the pool; results into res. */
static bool
run_pool(Scan *s, PgConn *coord, ScanResult *res, bool progress)
{
	PgConn	   *verifier;
	int			nalive;
	int			nstarted;

	workers_create(s);
	/* every worker connects and imports the snapshot before the first phase */
	s->pool = pool_start(s->nworkers, worker_start, s);
	nstarted = pool_nthreads(s->pool);
	nalive = pool_nalive(s->pool);
	if (nalive < nstarted && nalive > 0)
		log_warning("only %d of %d workers could connect; going on with %d",
					nalive, s->nworkers, nalive);
	/*
	 * Under --consistency chunk nothing imports the snapshot again: end the
	 * exporting transaction, the first thing a standby's conflicts would kill.
	 */
	if (s->opt->consistency == CONSISTENCY_CHUNK)
		(void) pgconn_exec(coord, "COMMIT", 0, NULL, NULL, NULL);

	/* results are filled FK by FK from here on (resumed ones already are) */
	res->nfks = s->plan->nfks;
	if (nalive > 0)
		run_key_passes(s, progress);
	pool_free(s->pool);
	s->pool = NULL;
	if (nalive == 0)
	{
		log_error("no worker could connect to the server");
		return false;
	}
	verifier = pick_verifier(s, coord, nstarted);
	if (atomic_load(&s->chunk_retries) > 0)
		s->mixed_snapshots = true;
	/* what was not finished early: everything, under --consistency chunk */
	for (int i = 0; i < s->plan->nfks; i++)
		if (!s->finished[i])
			finish_fk(s, verifier, res, i);
	if (s->opt->orphans_out && !signals_interrupted() && !write_orphans(s, verifier, res))
		res->output_failed = true;
	if (s->hook && s->hook->keys && !signals_interrupted() &&
		!hand_keys_to_hook(s, verifier, res))
		res->output_failed = true;
	return true;
}

/* No more connections than there are chunks to share. */
static int
workers_for(const FkOptions *opt, const ScanPlan *plan)
{
	int			n = opt->jobs;

	if (n > plan->nparent_chunks && n > plan->nchild_chunks)
		n = plan->nparent_chunks > plan->nchild_chunks
			? plan->nparent_chunks : plan->nchild_chunks;
	return n < 1 ? 1 : n;
}

/* Tables a hot standby cannot read: fail their FKs up front, saying why. */
static void
fail_unlogged(Scan *s)
{
	static const char reason[] = "unlogged table: not readable on a hot standby";
	const ScanPlan *plan = s->plan;

	for (int i = 0; i < plan->nsets; i++)
		if (catalog_table_unlogged(&s->cat->tables[plan->sets[i].table]))
			record_error(s, &s->set_errors[i], reason);
	for (int i = 0; i < plan->npasses; i++)
		if (catalog_table_unlogged(&s->cat->tables[plan->passes[i].table]))
			record_error(s, &s->pass_errors[i], reason);
	for (int i = 0; i < plan->nfks; i++)
		if (plan->fks[i].kind == KEYKIND_SERVER &&
			(catalog_table_unlogged(&s->cat->tables[plan->fks[i].fk->child]) ||
			 catalog_table_unlogged(&s->cat->tables[plan->fks[i].fk->parent])))
			record_error(s, &s->fk_errors[i], reason);
}

/*
 * One attempt at the whole scan, on one snapshot.  On success res is
 * filled and *cat is the catalog res points into (the caller frees it);
 * *conflict says a recovery conflict spoiled the attempt.
 */
static bool
scan_attempt(const FkOptions *opt, const ScanHook *hook, bool in_recovery, bool progress,
			 ScanResult *res, Catalog **cat, bool *conflict, ReportStream *stream,
			 StateFile *state, double budget_s)
{
	PgConn	   *coord;
	ScanPlan   *plan = NULL;
	Scan		s;
	bool		ok;
	bool	   *skip;

	memset(&s, 0, sizeof(s));
	s.hook = hook;
	pace_init(&s.pace, opt->max_rate, opt->max_rate_bytes, opt->max_time_s, budget_s);
	*conflict = false;
	*cat = NULL;
	coord = pgconn_connect(&opt->conn, "coordinator");
	if (coord == NULL)
		return false;
	ok = snapshot_export(coord, &s.snapshot) &&
		catalog_read(coord, &opt->filter, cat) &&
		snapshot_lock_tables(coord, *cat) &&
		(state == NULL || catalog_read_filenodes(coord, *cat));
	if (!ok)
	{
		*conflict = strcmp(coord->sqlstate, "40001") == 0 ||
			(in_recovery && PQstatus(coord->conn) == CONNECTION_BAD);
		goto done;
	}
	log_info("snapshot %s, %d foreign keys, %d jobs", s.snapshot, (*cat)->nfks, opt->jobs);

	s.opt = opt;
	s.cat = *cat;
	s.coord = coord;
	s.res = res;
	s.stream = stream;
	s.state = state;
	res->database = fk_strdup(PQdb(coord->conn));
	skip = resume_finished_fks(state, *cat, coord, stream, res);
	/* 14: TID Range Scans; before, one chunk per relation */
	plan = plan_build_skipping(*cat, opt, coord->server_version >= FK_PG14, skip);
	resume_plan(&s.resume, state, plan, coord->server_version >= FK_PG14);
	for (int i = 0; i < plan->nfks; i++)
		if (skip[i] && plan->fks[i].kind == KEYKIND_SERVER)
			res->fks[i].method_reason = plan->fks[i].server_reason;
	s.plan = plan;
	s.finished = skip;
	s.pass_left = fk_calloc((size_t) (plan->npasses + 1), sizeof(int));
	for (int i = 0; i < plan->nchild_chunks; i++)
		if (plan->child_chunks[i].role == CHUNK_CHILD)
			s.pass_left[plan->child_chunks[i].target]++;
	s.ready = fk_calloc((size_t) (plan->nfks + 1), sizeof(int));
	s.nworkers = workers_for(opt, plan);
	s.sets = fk_calloc((size_t) (plan->nsets + 1), sizeof(KeySet));
	s.set_errors = fk_calloc((size_t) (plan->nsets + 1), sizeof(char *));
	s.pass_errors = fk_calloc((size_t) (plan->npasses + 1), sizeof(char *));
	s.fk_errors = fk_calloc((size_t) (plan->nfks + 1), sizeof(char *));
	s.fk_end = fk_calloc((size_t) (plan->nfks + 1), sizeof(double));
	s.server_results = fk_calloc((size_t) (plan->nfks + 1), sizeof(FkResult));
	s.orphan_keys = fk_calloc((size_t) (plan->nfks + 1), sizeof(KeySet));
	pthread_mutex_init(&s.lock, NULL);
	log_info("plan: %d parent sets in %d chunks, %d child passes, %d phase-2 chunks",
			 plan->nsets, plan->nparent_chunks, plan->npasses, plan->nchild_chunks);
	if ((*cat)->in_recovery)
		fail_unlogged(&s);

	ok = run_pool(&s, coord, res, progress);
	*conflict = atomic_load(&s.conflict);
	if (ok)
	{
		res->server_version = coord->server_version;
		res->in_recovery = (*cat)->in_recovery;
		res->jobs = s.nworkers;
		res->snapshot = fk_strdup(s.snapshot);
		res->key_passes = plan->key_passes;
		res->chunk_retries = atomic_load(&s.chunk_retries);
		res->mixed_snapshots = s.mixed_snapshots;
		res->rows_read = atomic_load(&s.pace.rows);
		res->bytes_read = atomic_load(&s.pace.bytes);
		res->budget_expired = atomic_load(&s.pace.expired);
	}
	scan_free_state(&s);

done:
	if (coord && PQstatus(coord->conn) == CONNECTION_OK &&
		PQtransactionStatus(coord->conn) != PQTRANS_IDLE)
		(void) pgconn_exec(coord, "ROLLBACK", 0, NULL, NULL, NULL);
	plan_free(plan);
	free(s.snapshot);
	pgconn_free(coord);
	if (!ok)
	{
		catalog_free(*cat);
		*cat = NULL;
	}
	return ok;
}

static const char *
guarantee_for(const ScanResult *res)
{
	if (res->mixed_snapshots)
		return "every orphan reported existed when its parent table was read, when its "
			"chunk was read, and when it was confirmed at the end (chunks retried on "
			"fresh snapshots after recovery conflicts)";
	return "exact: parents and children read from one snapshot";
}

/*
 * On a hot standby: where replay stands, refused beyond --max-lag, paused
 * with --pause-replay (standby_resume_replay() undoes it on every exit).
 */
static bool
standby_start(PgConn *control, const FkOptions *opt, bool *in_recovery,
			  ReplayPosition *start, bool *paused)
{
	if (!standby_in_recovery(control, in_recovery))
		return false;
	if (!*in_recovery)
	{
		if (opt->pause_replay)
			log_warning("not a hot standby: --pause-replay has no replay to pause");
		return true;
	}
	if (!standby_replay_position(control, start))
		return false;
	if (opt->max_lag_s >= 0 && start->lag_s > opt->max_lag_s)
	{
		log_error("the standby is %.1f s behind its primary, more than --max-lag %.1f s",
				  start->lag_s, opt->max_lag_s);
		log_detail("received up to %s, replayed up to %s.",
				   start->receive_lsn[0] ? start->receive_lsn : "(nothing)",
				   start->replay_lsn);
		return false;
	}
	return !opt->pause_replay || (*paused = standby_pause_replay(control));
}

/* The run's figures and the counts of FKs by status, once every FK is in. */
static void
sum_up(ScanResult *res, const FkOptions *opt, double elapsed_s)
{
	struct rusage ru;

	res->elapsed_s = elapsed_s;
	res->interrupted = signals_interrupted();
	res->rows_per_s = elapsed_s > 0 ? (double) res->rows_read / elapsed_s : 0;
	res->bytes_per_s = elapsed_s > 0 ? (double) res->bytes_read / elapsed_s : 0;
	res->max_time_s = opt->max_time_s;
	res->guarantee = guarantee_for(res);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		res->peak_rss_kb = ru.ru_maxrss;
	for (int i = 0; i < res->nfks; i++)
	{
		if (res->fks[i].status == FKSTATUS_ERROR)
			res->nerrors++;
		else if (res->fks[i].status == FKSTATUS_INCOMPLETE)
			res->nincomplete++;
		else if (res->fks[i].status == FKSTATUS_ORPHANS)
			res->nwith_orphans++;
		if (res->fks[i].compared && !res->fks[i].compare_agree)
			res->ndisagree++;
		res->orphan_rows += res->fks[i].orphan_rows;
	}
}

/* The whole command: standby checks, attempts, report, exit code. */
int
scan_run_hooked(const FkOptions *opt, const ScanHook *hook)
{
	PgConn	   *control;
	Catalog    *cat = NULL;
	ScanResult	res;
	struct timespec start;
	bool		progress;
	bool		paused = false;
	bool		ok = false;
	bool		conflict = false;
	bool		in_recovery = false;
	ReplayPosition replay_start = {0};
	int			attempt;
	int			rc = FK_EXIT_ERROR;
	ReportStream *stream = report_stream_create(opt, stdout);
	StateFile  *state = NULL;

	memset(&res, 0, sizeof(res));
	clock_gettime(CLOCK_MONOTONIC, &start);
	progress = opt->progress == TRI_YES ||
		(opt->progress == TRI_DEFAULT && isatty(fileno(stderr)) && opt->verbosity >= 0);

	/* a connection of its own for the standby's replay: it outlives attempts */
	control = pgconn_connect(&opt->conn, "control");
	if (control == NULL)
	{
		report_stream_free(stream);
		return FK_EXIT_ERROR;
	}
	if (opt->state_file &&
		(state = state_open(opt->state_file, PQdb(control->conn), opt)) == NULL)
		goto done;
	if (!standby_start(control, opt, &in_recovery, &replay_start, &paused))
		goto done;

	for (attempt = 1;; attempt++)
	{
		/* the budget spans the attempts: a restart gets what is left */
		double		budget = opt->max_time_s > 0 ? opt->max_time_s - pace_seconds_since(&start) : 0;

		if (opt->max_time_s > 0 && budget < 0.001)
			budget = 0.001;
		ok = scan_attempt(opt, hook, in_recovery, progress, &res, &cat, &conflict, stream,
						  state, budget);
		if (!conflict || opt->consistency != CONSISTENCY_SNAPSHOT ||
			attempt > opt->retries || signals_interrupted())
			break;
		log_warning("recovery conflict: restarting the scan on a new snapshot (attempt %d of %d)",
					attempt + 1, opt->retries + 1);
		scanresult_free(&res);
		catalog_free(cat);
		cat = NULL;
	}
	if (conflict && opt->consistency == CONSISTENCY_SNAPSHOT)
	{
		log_error("recovery conflicts spoiled %d attempt%s: the answer is incomplete",
				  attempt, attempt == 1 ? "" : "s");
		log_hint("Use --pause-replay, --consistency chunk, more --retries, or hot_standby_feedback = on.");
	}

	if (ok)
	{
		res.attempts = attempt;
		res.consistency = paused ? "paused-replay"
			: opt->consistency == CONSISTENCY_CHUNK ? "chunk" : "snapshot";
		res.replay_start = replay_start;
		if (in_recovery)
			(void) standby_replay_position(control, &res.replay_end);
		sum_up(&res, opt, pace_seconds_since(&start));
		ok = hook ? true : report_stream_finish(stream, &res);
		rc = !ok || (conflict && opt->consistency == CONSISTENCY_SNAPSHOT)
			? FK_EXIT_ERROR : gate_exit_code(&res, opt);
		if (hook)
			rc = hook->finish(hook->ctx, cat, &res, rc);
	}

done:
	/* whatever happened after pg_wal_replay_pause() succeeded */
	standby_resume_replay();
	scanresult_free(&res);
	catalog_free(cat);
	pgconn_free(control);
	report_stream_free(stream);
	state_close(state);
	return rc;
}

int
scan_run(const FkOptions *opt)
{
	return scan_run_hooked(opt, NULL);
}
