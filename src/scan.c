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
 * A third phase finishes the FKs not finished early (confirmation, samples,
 * cascades, --compare) and writes --orphans-out, one FK per job.
 *
 * A failed chunk fails the parent set, pass or FK it belongs to (with the
 * server's reason), never the whole run: the worker rolls back, re-imports
 * the snapshot and goes on.  Any failure, lost chunk or Ctrl-C makes the
 * answer incomplete: exit 2, never "clean".
 */
#include "fkscan/scanint.h"

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
#include "fkscan/verify.h"

/* ---- phase 2: FKs checked by the server's own anti-join ---- */

static bool
run_server_chunk(Worker *w, const Chunk *c, int attempt)
{
	Scan				*s = w->scan;
	const CatForeignKey *fk = s->plan->fks[c->target].fk;
	FkResult			*r = &s->server_results[c->target];

	if (s->phase.key_pass > 0)
		return false;
	fkresult_reset(r); /* a retry starts over */
	if (verify_fk_on_server(w->conn, s->cat, fk, s->opt->scan.sample, r))
	{
		note_fk_end(s, c->target);
		return false;
	}
	return chunk_failed(w, &s->errors.fk[c->target], c, false, attempt);
}

/* ---- the pool ---- */

static void
run_chunk(Worker *w, int index)
{
	const Chunk *c = &w->scan->phase.chunks[index];
	bool		 again = true;

	if (c->recorded >= 0)
		return; /* finished by an earlier run (--state) */
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
	const Chunk		*c = &s->phase.chunks[index];
	const ChildPass *pass;

	if (!s->early.track)
		return;
	pthread_mutex_lock(&s->lock);
	if (c->role == CHUNK_SERVER)
		s->early.ready[s->early.nready++] = c->target;
	else if (c->role == CHUNK_CHILD && --s->early.pass_left[c->target] == 0)
	{
		pass = &s->plan->passes[c->target];
		for (int k = 0; k < pass->nfks; k++)
			s->early.ready[s->early.nready++] = pass->fks[k];
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
	OrphansOut *out;	 /* finishing: --orphans-out, or NULL */
	bool	   *handled; /* finishing: per FK, a worker did it */
} PhaseCtx;

/* PoolStartFn: a worker's connection, in the snapshot, its tables locked. */
static bool
worker_start(void *ctx, int id)
{
	Scan   *s = ctx;
	Worker *w = &s->workers[id];
	char	name[64];

	w->server = s->nspread > 1 ? id % s->nspread : 0;
	snprintf(name, sizeof(name), "%sworker %d",
			 s->nspread > 1 ? s->spread_names[w->server] : s->server, id + 1);
	rowsrc_count_bytes_into(&s->pace.bytes);
	w->conn = pgconn_connect(worker_server(w), name);
	/* --spread chunk: another server's workers read on snapshots of their own */
	w->alive =
		w->conn &&
		(w->server == 0 ? snapshot_import(w->conn, s->snapshot) : snapshot_begin_fresh(w->conn)) &&
		snapshot_lock_tables(w->conn, s->cat);
	return w->alive;
}

/* PoolPhase.job: one chunk (a chunk whose target failed still counts as handled). */
static bool
worker_job(void *ctx, int id, int index)
{
	Scan   *s = ((PhaseCtx *) ctx)->s;
	Worker *w = &s->workers[id];

	run_chunk(w, index);
	note_unit_done(s, index);
	if (s->nspread > 1 && w->alive)
		atomic_fetch_add(&s->spread_chunks[w->server], 1);
	return w->alive;
}

/* PoolPhase.job of the finishing phase: FK index's end, on this worker. */
static bool
finish_job(void *ctx, int id, int index)
{
	PhaseCtx *pc = ctx;
	Worker	 *w = &pc->s->workers[id];

	finish_and_write(pc->s, w->conn, pc->s->res, index, pc->out);
	pc->handled[index] = true;
	return pgconn_alive(w->conn);
}

static bool
phase_stop(void *ctx)
{
	return pace_stopping(&((PhaseCtx *) ctx)->s->pace);
}

static int64_t
chunk_pages(const Chunk *c)
{
	if (c->rel == NULL)
		return 0;
	if (c->first_page < 0)
		return c->rel->pages;
	return (c->end_page < 0 ? c->rel->pages : c->end_page) - c->first_page;
}

/*
 * Rows the chunks hold by the tables' estimates (reltuples spread over
 * their pages); 0 if one was never analyzed.
 */
static double
phase_est_rows(const Scan *s, const Chunk *chunks, int nchunks)
{
	double rows = 0;

	for (int i = 0; i < nchunks; i++)
	{
		const Chunk	   *c = &chunks[i];
		const CatTable *t;
		int64_t			pages;

		if (c->rel == NULL || c->recorded >= 0)
			continue; /* read on the server, or by an earlier run */
		t = &s->cat->tables[c->role == CHUNK_PARENT ? s->plan->sets[c->target].table
													: s->plan->passes[c->target].table];
		if (t->est_rows < 0)
			return 0;
		pages = catalog_table_pages(t);
		if (pages > 0)
			rows += (double) t->est_rows * (double) chunk_pages(c) / (double) pages;
	}
	return rows;
}

/*
 * The phase's progress, its ETA from the pages of finished chunks or, when
 * that says less (a big relation is one chunk), the rows read against the
 * estimate.
 */
static void
print_progress(Scan *s, const char *what, bool final)
{
	int		done = pool_jobs_taken(s->pool);
	int64_t pages_done = 0, pages_all = 0;
	double	frac;
	StrBuf	named;

	strbuf_init(&named);
	strbuf_append(&named, what);

	for (int i = 0; i < s->phase.nchunks; i++)
	{
		int64_t pages = chunk_pages(&s->phase.chunks[i]);

		pages = pages > 0 ? pages : 1;
		pages_all += pages;
		if (i < done - pool_nthreads(s->pool)) /* the chunks in hand are not done yet */
			pages_done += pages;
	}
	frac = pages_all > 0 ? (double) pages_done / (double) pages_all : 0;
	if (s->phase.est_rows > 0)
	{
		/* an estimate may be low: never "done" before the end */
		double by_rows =
			(double) (atomic_load(&s->pace.rows) - s->phase.rows_start) / s->phase.est_rows;

		by_rows = by_rows < 0.99 ? by_rows : 0.99;
		frac = by_rows > frac ? by_rows : frac;
	}
	if (s->nspread > 1)
	{
		/* --spread chunk: each server's share so far */
		strbuf_append(&named, " (");
		for (int k = 0; k < s->nspread; k++)
			strbuf_appendf(&named, "%s%.*s %d", k ? ", " : "", (int) strlen(s->spread_names[k]) - 2,
						   s->spread_names[k], atomic_load(&s->spread_chunks[k]));
		strbuf_append_char(&named, ')');
	}
	pace_progress(&s->pace, named.data, done, s->phase.nchunks, pace_seconds_since(&s->phase.start),
				  frac, final);
	strbuf_free(&named);
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
	PhaseCtx *pc = ctx;
	Scan	 *s = pc->s;
	int		  fk = -1;
	double	  due;

	pthread_mutex_lock(&s->lock);
	if (s->early.ndone < s->early.nready)
		fk = s->early.ready[s->early.ndone++];
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
	char	  named[96];
	PhaseCtx  pc = {s, named, progress, false};
	PoolPhase phase = {nchunks, worker_job, phase_stop, phase_step, &pc};

	snprintf(named, sizeof(named), "%s%s", s->server, what);
	s->phase.chunks = chunks;
	s->phase.nchunks = nchunks;
	s->phase.rows_start = atomic_load(&s->pace.rows);
	s->phase.est_rows = progress ? phase_est_rows(s, chunks, nchunks) : 0;
	clock_gettime(CLOCK_MONOTONIC, &s->phase.start);
	pool_run(s->pool, &phase);
	s->chunks_read += pool_jobs_taken(s->pool);
	if (progress)
		print_progress(s, named, true);
}

/* A chunk no worker ran (all died, or Ctrl-C) fails its target. */
static void
fail_unrun_chunks(Scan *s)
{
	for (int i = 0; i < s->phase.nchunks; i++)
	{
		const Chunk *c = &s->phase.chunks[i];
		char	   **slot;

		if (pool_job_done(s->pool, i))
			continue;
		slot = c->role == CHUNK_PARENT	? &s->errors.set[c->target]
			   : c->role == CHUNK_CHILD ? &s->errors.pass[c->target]
										: &s->errors.fk[c->target];
		record_error(s, slot,
					 pace_stop_reason(&s->pace) ? pace_stop_reason(&s->pace)
												: "not scanned: no worker connection left");
	}
}

static void
scan_free_state(Scan *s)
{
	for (int w = 0; w < s->nworkers; w++)
	{
		Worker *wk = &s->workers[w];

		if (wk->sets)
			for (int i = 0; i < s->plan->nsets; i++)
			{
				keyset64_free(wk->sets[i].ints);
				fpset_free(wk->sets[i].prints);
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
		fpset_free(s->sets[i].prints);
		free(s->errors.set[i]);
	}
	for (int i = 0; i < s->plan->npasses; i++)
		free(s->errors.pass[i]);
	for (int i = 0; i < s->plan->nfks; i++)
	{
		free(s->errors.fk[i]);
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
	free(s->errors.set);
	free(s->errors.pass);
	free(s->errors.fk);
	free(s->fk_end);
	free(s->server_results);
	free(s->early.finished);
	free(s->early.pass_left);
	free(s->early.ready);
	pool_free(s->pool);
	pthread_mutex_destroy(&s->lock);
}

/* What --state's recorded chunks hold, against the merged parent sets. */
static void
load_recorded(Scan *s)
{
	const KeySet64 **ints = fk_calloc((size_t) s->plan->nsets + 1, sizeof(KeySet64 *));
	bool			*failed = fk_calloc((size_t) s->plan->nsets + 1, sizeof(bool));

	for (int i = 0; i < s->plan->nsets; i++)
	{
		ints[i] = s->sets[i].ints;
		failed[i] = has_error(s, &s->errors.set[i]);
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
		Worker *wk = &s->workers[w];

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
			wk->fks[i].samples = fk_calloc((size_t) (s->opt->scan.sample + 1), sizeof(SampleRef));
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
	const char	   *why;

	for (s->phase.key_pass = 0; s->phase.key_pass < plan->key_passes && !pace_stopping(&s->pace);
		 s->phase.key_pass++)
	{
		if (plan->key_passes > 1)
			log_info("key pass %d of %d", s->phase.key_pass + 1, plan->key_passes);
		prepare_partial_sets(s);
		run_phase(s, "parents", plan->parent_chunks, plan->nparent_chunks, progress);
		fail_unrun_chunks(s);
		merge_parent_sets(s);
		if (s->phase.key_pass == 0)
			load_recorded(s);
		/*
		 * The last key pass finishes FKs one by one on the coordinator's
		 * snapshot; under --consistency chunk it has none: all at the end.
		 */
		s->early.track = s->phase.key_pass == plan->key_passes - 1 &&
						 s->opt->engine.consistency == CONSISTENCY_SNAPSHOT &&
						 !pace_stopping(&s->pace);
		run_phase(s, "children", plan->child_chunks, plan->nchild_chunks, progress);
		s->early.track = false;
		fail_unrun_chunks(s);
	}
	if (s->phase.key_pass == plan->key_passes)
		return;
	why = pace_stop_reason(&s->pace);
	for (int i = 0; i < plan->nsets; i++)
		if (plan->sets[i].kind == KEYKIND_HASH || s->phase.key_pass == 0)
			record_error(s, &s->errors.set[i], why);
	for (int i = 0; s->phase.key_pass == 0 && i < plan->npasses; i++)
		record_error(s, &s->errors.pass[i], why);
	for (int i = 0; s->phase.key_pass == 0 && i < plan->nfks; i++)
		if (plan->fks[i].kind == KEYKIND_SERVER)
			record_error(s, &s->errors.fk[i], why);
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
		Worker *wk = &s->workers[w];

		if (wk->alive && s->opt->engine.consistency == CONSISTENCY_CHUNK)
		{
			bool usable;

			pgconn_set_quiet(wk->conn, true);
			usable = atomic_load(&s->chunk_retries) == 0 &&
					 pgconn_exec(wk->conn, "SELECT 1", 0, NULL, NULL, NULL);
			pgconn_set_quiet(wk->conn, false);
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

/*
 * Start the pool, run both phases, stop the pool; results into res.
 * --orphans-out goes to shared (--replica: every server's), else its own.
 */
static bool
run_pool(Scan *s, PgConn *coord, ScanResult *res, bool progress, OrphansOut *shared)
{
	PgConn	   *verifier;
	int			nalive;
	int			nstarted;
	bool	   *handled;
	OrphansOut *out;

	workers_create(s);
	/* every worker connects and imports the snapshot before the first phase */
	s->pool = pool_start(s->nworkers, worker_start, s);
	nstarted = pool_nthreads(s->pool);
	nalive = pool_nalive(s->pool);
	if (nalive < nstarted && nalive > 0)
		log_warning("only %d of %d workers could connect; going on with %d", nalive, s->nworkers,
					nalive);
	/*
	 * Under --consistency chunk nothing imports the snapshot again: end the
	 * exporting transaction, the first thing a standby's conflicts would kill.
	 */
	if (s->opt->engine.consistency == CONSISTENCY_CHUNK)
		(void) pgconn_exec(coord, "COMMIT", 0, NULL, NULL, NULL);

	/* results are filled FK by FK from here on (resumed ones already are) */
	res->nfks = s->plan->nfks;
	if (nalive > 0)
		run_key_passes(s, progress);
	if (nalive == 0)
	{
		pool_free(s->pool);
		s->pool = NULL;
		log_error("%sno worker could connect to the server", s->server);
		return false;
	}
	handled = fk_calloc((size_t) s->plan->nfks + 1, sizeof(bool));
	out = shared ? shared
		  : s->opt->scan.orphans_out && !signals_interrupted()
			  ? orphans_open(s->opt->scan.orphans_out, s->plan->nfks)
			  : NULL;
	/*
	 * The FKs' ends (confirmation, samples, cascades, --compare) and
	 * --orphans-out, one FK per job, on the workers: all in the exported
	 * snapshot.  Under --consistency chunk they are not: one verifier does
	 * it all below, on one snapshot.
	 */
	if (s->opt->engine.consistency == CONSISTENCY_SNAPSHOT)
	{
		PhaseCtx  pc = {s, "finishing", false, false, out, handled};
		PoolPhase phase = {s->plan->nfks, finish_job, phase_stop, NULL, &pc};

		pool_run(s->pool, &phase);
	}
	pool_free(s->pool);
	s->pool = NULL;
	verifier = s->verifier = pick_verifier(s, coord, nstarted);
	if (atomic_load(&s->chunk_retries) > 0)
		s->mixed_snapshots = true;
	/* what no worker finished: everything, under --consistency chunk */
	for (int i = 0; i < s->plan->nfks; i++)
		if (!handled[i])
			finish_and_write(s, verifier, res, i, out);
	free(handled);
	if (out && out != shared && !orphans_close(out, !signals_interrupted()) &&
		!signals_interrupted())
		res->output_failed = true;
	return true;
}

/* No more connections than there are chunks to share (-j per server). */
static int
workers_for(const FkOptions *opt, const ScanPlan *plan, int nservers)
{
	int n = opt->engine.jobs * (nservers > 1 ? nservers : 1);

	if (n > plan->nparent_chunks && n > plan->nchild_chunks)
		n = plan->nparent_chunks > plan->nchild_chunks ? plan->nparent_chunks : plan->nchild_chunks;
	return n < 1 ? 1 : n;
}

/* Tables a hot standby cannot read: fail their FKs up front, saying why. */
static void
fail_unlogged(Scan *s)
{
	static const char reason[] = "unlogged table: not readable on a hot standby";
	const ScanPlan	 *plan = s->plan;

	for (int i = 0; i < plan->nsets; i++)
		if (catalog_table_unlogged(&s->cat->tables[plan->sets[i].table]))
			record_error(s, &s->errors.set[i], reason);
	for (int i = 0; i < plan->npasses; i++)
		if (catalog_table_unlogged(&s->cat->tables[plan->passes[i].table]))
			record_error(s, &s->errors.pass[i], reason);
	for (int i = 0; i < plan->nfks; i++)
		if (plan->fks[i].kind == KEYKIND_SERVER &&
			(catalog_table_unlogged(&s->cat->tables[plan->fks[i].fk->child]) ||
			 catalog_table_unlogged(&s->cat->tables[plan->fks[i].fk->parent])))
			record_error(s, &s->errors.fk[i], reason);
}

/* Everything an attempt holds: its state, plan, coordinator and snapshot. */
void
attempt_free(Scan *s)
{
	if (s == NULL)
		return;
	if (s->plan)
		scan_free_state(s);
	if (s->coord && pgconn_alive(s->coord) && pgconn_in_transaction(s->coord))
		(void) pgconn_exec(s->coord, "ROLLBACK", 0, NULL, NULL, NULL);
	plan_free((ScanPlan *) s->plan);
	free(s->out_slot);
	free((void *) s->spread_lost);
	free((void *) s->spread_chunks);
	free(s->snapshot);
	pgconn_free(s->coord);
	free(s);
}

/*
 * One attempt at the whole scan, on one snapshot.  On success res is
 * filled and *cat is the catalog res points into (the caller frees it);
 * with run->keep_keys, *kept holds the attempt (its orphan keys and a
 * connection in the snapshot) for attempt_free.  *conflict says a
 * recovery conflict spoiled the attempt.
 */
static bool
scan_attempt(const Run *run, double budget_s, ScanResult *res, Catalog **cat, bool *conflict,
			 Scan **kept)
{
	const FkOptions *opt = run->opt;
	Scan			*s = fk_calloc(1, sizeof(Scan));
	ScanPlan		*plan;
	bool			 ok;
	bool			*skip;
	char			 name[64];

	s->keep_keys = run->keep_keys;
	s->conn = run->conn;
	s->server = run->server;
	s->spread = run->spread;
	s->spread_names = run->spread_names;
	s->nspread = run->nspread;
	s->spread_lost = fk_calloc((size_t) run->nspread + 1, sizeof(atomic_bool));
	s->spread_chunks = fk_calloc((size_t) run->nspread + 1, sizeof(atomic_int));
	/* --spread chunk: chunks on several snapshots, orphans confirmed on one */
	s->mixed_snapshots = run->nspread > 1;
	pace_init(&s->pace, opt->engine.max_rate, opt->engine.max_rate_bytes, opt->scan.max_time_s,
			  budget_s);
	*conflict = false;
	*cat = NULL;
	*kept = NULL;
	snprintf(name, sizeof(name), "%scoordinator", run->server);
	s->coord = pgconn_connect(run->conn, name);
	ok = s->coord && snapshot_export(s->coord, &s->snapshot) &&
		 catalog_read(s->coord, &opt->filter, cat) && snapshot_lock_tables(s->coord, *cat) &&
		 (run->state == NULL || catalog_read_filenodes(s->coord, *cat));
	if (!ok)
	{
		*conflict = s->coord && (strcmp(pgconn_sqlstate(s->coord), "40001") == 0 ||
								 (run->in_recovery && !pgconn_alive(s->coord)));
		goto done;
	}
	log_info("%ssnapshot %s, %d foreign keys, %d jobs", run->server, s->snapshot, (*cat)->nfks,
			 opt->engine.jobs);

	s->opt = opt;
	s->cat = *cat;
	s->res = res;
	s->stream = run->stream;
	s->state = run->state;
	s->baseline = run->baseline;
	res->database = fk_strdup(pgconn_database(s->coord));
	skip =
		resume_finished_fks(run->state, *cat, &opt->filter.relations, s->coord, run->stream, res);
	if (run->assigned)
	{
		/* --replica: this server reads its share; the others are skipped */
		s->out_slot = fk_calloc((size_t) (*cat)->nfks + 1, sizeof(int));
		for (int i = 0; i < (*cat)->nfks; i++)
		{
			s->out_slot[i] = catalog_find_fk(run->main_cat, *cat, i);
			skip[i] = skip[i] || s->out_slot[i] < 0 || !run->assigned[s->out_slot[i]];
		}
	}
	/* 14: TID Range Scans; before, one chunk per relation */
	plan = plan_build_skipping(*cat, opt, pgconn_server_version(s->coord) >= FK_PG14, skip);
	resume_plan(&s->resume, run->state, plan, pgconn_server_version(s->coord) >= FK_PG14);
	for (int i = 0; i < plan->nfks; i++)
		if (skip[i] && plan->fks[i].kind == KEYKIND_SERVER)
			res->fks[i].method_reason = plan->fks[i].server_reason;
	s->plan = plan;
	s->early.finished = skip;
	s->early.pass_left = fk_calloc((size_t) (plan->npasses + 1), sizeof(int));
	for (int i = 0; i < plan->nchild_chunks; i++)
		if (plan->child_chunks[i].role == CHUNK_CHILD)
			s->early.pass_left[plan->child_chunks[i].target]++;
	s->early.ready = fk_calloc((size_t) (plan->nfks + 1), sizeof(int));
	s->nworkers = workers_for(opt, plan, s->nspread);
	s->sets = fk_calloc((size_t) (plan->nsets + 1), sizeof(KeySet));
	s->errors.set = fk_calloc((size_t) (plan->nsets + 1), sizeof(char *));
	s->errors.pass = fk_calloc((size_t) (plan->npasses + 1), sizeof(char *));
	s->errors.fk = fk_calloc((size_t) (plan->nfks + 1), sizeof(char *));
	s->fk_end = fk_calloc((size_t) (plan->nfks + 1), sizeof(double));
	s->server_results = fk_calloc((size_t) (plan->nfks + 1), sizeof(FkResult));
	s->orphan_keys = fk_calloc((size_t) (plan->nfks + 1), sizeof(KeySet));
	pthread_mutex_init(&s->lock, NULL);
	log_info("plan: %d parent sets in %d chunks, %d child passes, %d phase-2 chunks", plan->nsets,
			 plan->nparent_chunks, plan->npasses, plan->nchild_chunks);
	if ((*cat)->in_recovery)
		fail_unlogged(s);

	ok = run_pool(s, s->coord, res, run->progress, run->out);
	*conflict = atomic_load(&s->conflict);
	if (ok)
	{
		res->server_version = pgconn_server_version(s->coord);
		res->in_recovery = (*cat)->in_recovery;
		res->jobs = s->nworkers;
		res->snapshot = fk_strdup(s->snapshot);
		res->key_passes = plan->key_passes;
		res->chunk_retries = atomic_load(&s->chunk_retries);
		res->mixed_snapshots = s->mixed_snapshots;
		res->rows_read = atomic_load(&s->pace.rows);
		res->bytes_read = atomic_load(&s->pace.bytes);
		res->budget_expired = atomic_load(&s->pace.expired);
		res->chunks_read = s->chunks_read;
		for (int k = 0; run->figs && k < s->nspread; k++)
			run->figs[k].chunks += atomic_load(&s->spread_chunks[k]);
		for (int w = 0; run->figs && w < s->nworkers; w++)
		{
			ServerFigures *f = &run->figs[s->workers[w].server];

			f->rows += s->workers[w].rows;
			f->bytes += s->workers[w].bytes;
		}
	}

done:
	if (ok && run->keep_keys)
		*kept = s;
	else
		attempt_free(s);
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
	if (res->nservers > 0 && strcmp(res->spread, "chunk") == 0)
		return "every orphan reported was read on one of the servers, between the WAL positions "
			   "of the window, and confirmed at the end on one snapshot; a row whose parent was "
			   "deleted inside the window can be missed";
	if (res->nservers > 0)
		return res->mixed_snapshots
				   ? "per foreign key: every orphan reported existed when its chunk was read "
					 "and when it was confirmed, on the one server named for it"
				   : "exact per foreign key: its parents and children read from one snapshot "
					 "of the one server named for it; different foreign keys on different "
					 "servers' snapshots";
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
bool
scan_standby_start(PgConn *control, const FkOptions *opt, const char *server, bool *in_recovery,
				   ReplayPosition *start, bool *paused)
{
	if (!pgconn_in_recovery(control, in_recovery))
		return false;
	if (!*in_recovery)
	{
		if (opt->engine.pause_replay && server[0] == '\0')
			log_warning("not a hot standby: --pause-replay has no replay to pause");
		return true;
	}
	if (!standby_replay_position(control, start))
		return false;
	if (opt->engine.max_lag_s >= 0 && start->lag_s > opt->engine.max_lag_s)
	{
		log_error("%sthe standby is %.1f s behind its primary, more than --max-lag %.1f s", server,
				  start->lag_s, opt->engine.max_lag_s);
		log_detail("received up to %s, replayed up to %s.",
				   start->receive_lsn[0] ? start->receive_lsn : "(nothing)", start->replay_lsn);
		return false;
	}
	return !opt->engine.pause_replay || (*paused = standby_pause_replay(control));
}

/* The run's figures and the counts of FKs by status, once every FK is in. */
void
scan_sum_up(ScanResult *res, const FkOptions *opt, double elapsed_s)
{
	struct rusage ru;

	res->elapsed_s = elapsed_s;
	res->interrupted = signals_interrupted();
	res->rows_per_s = elapsed_s > 0 ? (double) res->rows_read / elapsed_s : 0;
	res->bytes_per_s = elapsed_s > 0 ? (double) res->bytes_read / elapsed_s : 0;
	res->max_time_s = opt->scan.max_time_s;
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

/*
 * Attempts on run's server until one is not spoiled by a recovery conflict
 * (--consistency snapshot: up to --retries restarts on new snapshots); the
 * --max-time budget counts from start.  True when res and *cat are filled;
 * *conflict: the last attempt was spoiled all the same.
 */
bool
scan_attempts(const Run *run, const struct timespec *start, ScanResult *res, Catalog **cat,
			  Scan **kept, int *attempts, bool *conflict)
{
	const FkOptions *opt = run->opt;
	bool			 ok;
	int				 attempt;

	for (attempt = 1;; attempt++)
	{
		/* the budget spans the attempts: a restart gets what is left */
		double budget =
			opt->scan.max_time_s > 0 ? opt->scan.max_time_s - pace_seconds_since(start) : 0;

		if (opt->scan.max_time_s > 0 && budget < 0.001)
			budget = 0.001;
		ok = scan_attempt(run, budget, res, cat, conflict, kept);
		if (!*conflict || opt->engine.consistency != CONSISTENCY_SNAPSHOT ||
			attempt > opt->engine.retries || signals_interrupted())
			break;
		log_warning("%srecovery conflict: restarting the scan on a new snapshot (attempt %d of %d)",
					run->server, attempt + 1, opt->engine.retries + 1);
		attempt_free(*kept);
		*kept = NULL;
		scanresult_free(res);
		catalog_free(*cat);
		*cat = NULL;
	}
	if (*conflict && opt->engine.consistency == CONSISTENCY_SNAPSHOT && !signals_interrupted())
	{
		log_error("%srecovery conflicts spoiled %d attempt%s: the answer is incomplete",
				  run->server, attempt, attempt == 1 ? "" : "s");
		log_hint("Use --pause-replay, --consistency chunk, more --retries, or hot_standby_feedback "
				 "= on.");
	}
	*attempts = attempt;
	return ok;
}

/* What outlives the scan until scan_outcome_free. */
typedef struct ScanHeld
{
	PgConn		*control; /* the standby's replay (paused or not) */
	StateFile	*state;
	Baseline	*baseline;
	Scan		*kept;	/* keep_keys: the last attempt */
	ServerSweep *sweep; /* --replica: every server's catalog and results */
} ScanHeld;

bool
scan_execute(const FkOptions *opt, ReportStream *stream, bool keep_keys, ScanOutcome *out)
{
	Run run = {
		.opt = opt, .keep_keys = keep_keys, .stream = stream, .conn = &opt->conn, .server = ""};
	ScanHeld	   *held = fk_calloc(1, sizeof(ScanHeld));
	struct timespec start;
	bool			paused = false;
	bool			ok = false;
	bool			conflict = false;
	ReplayPosition	replay_start = {0};
	int				attempt;

	memset(out, 0, sizeof(*out));
	out->rc = FK_EXIT_ERROR;
	out->held = held;
	clock_gettime(CLOCK_MONOTONIC, &start);
	run.progress = opt->progress == TRI_YES ||
				   (opt->progress == TRI_DEFAULT && isatty(fileno(stderr)) && opt->verbosity >= 0);

	if (opt->scan.baseline && !baseline_read(opt->scan.baseline, &held->baseline))
		return false;
	run.baseline = held->baseline;
	if (opt->scan.replicas.n > 0)
	{
		/* JSON lines come at the end: an FK a lost server held is read again */
		run.stream = NULL;
		if (!servers_scan(&run, &start, &out->result, &out->cat, &held->sweep))
			return false;
		scan_sum_up(&out->result, opt, pace_seconds_since(&start));
		out->rc = gate_exit_code(&out->result, &opt->scan.gate);
		return true;
	}
	/* a connection of its own for the standby's replay: it outlives attempts */
	held->control = pgconn_connect(&opt->conn, "control");
	if (held->control == NULL)
		return false;
	if (opt->scan.state_file &&
		(held->state = state_open(opt->scan.state_file, pgconn_database(held->control), opt)) ==
			NULL)
		return false;
	run.state = held->state;
	if (!scan_standby_start(held->control, opt, "", &run.in_recovery, &replay_start, &paused))
		return false;

	ok = scan_attempts(&run, &start, &out->result, &out->cat, &held->kept, &attempt, &conflict);
	if (!ok)
		return false;

	out->result.attempts = attempt;
	out->result.consistency = paused										 ? "paused-replay"
							  : opt->engine.consistency == CONSISTENCY_CHUNK ? "chunk"
																			 : "snapshot";
	out->result.replay_start = replay_start;
	if (run.in_recovery)
		(void) standby_replay_position(held->control, &out->result.replay_end);
	scan_sum_up(&out->result, opt, pace_seconds_since(&start));
	out->rc = conflict && opt->engine.consistency == CONSISTENCY_SNAPSHOT
				  ? FK_EXIT_ERROR
				  : gate_exit_code(&out->result, &opt->scan.gate);
	return true;
}

bool
scan_outcome_keys(const ScanOutcome *out, int i, ScanOrphanKeys *k)
{
	const Scan *s = out->held ? out->held->kept : NULL;

	if (s == NULL || i < 0 || i >= out->result.nfks ||
		out->result.fks[i].status != FKSTATUS_ORPHANS)
		return false;
	k->ints = s->orphan_keys[i].ints;
	k->cands = s->orphan_keys[i].cands;
	k->confirmed = s->orphan_keys[i].confirmed;
	return true;
}

PgConn *
scan_outcome_verifier(const ScanOutcome *out)
{
	return out->held && out->held->kept ? out->held->kept->verifier : NULL;
}

void
scan_outcome_drop_keys(ScanOutcome *out)
{
	if (out->held == NULL)
		return;
	attempt_free(out->held->kept);
	out->held->kept = NULL;
}

void
scan_outcome_free(ScanOutcome *out)
{
	scan_outcome_drop_keys(out);
	/* whatever happened after pg_wal_replay_pause() succeeded */
	standby_resume_replay();
	scanresult_free(&out->result);
	catalog_free(out->cat);
	if (out->held)
	{
		pgconn_free(out->held->control);
		state_close(out->held->state);
		baseline_free(out->held->baseline);
		servers_free(out->held->sweep);
		free(out->held);
	}
	memset(out, 0, sizeof(*out));
}

int
scan_run(const FkOptions *opt)
{
	ReportStream *stream = report_stream_create(opt, stdout);
	ScanOutcome	  out;
	int			  rc = FK_EXIT_ERROR;

	if (scan_execute(opt, stream, false, &out))
		rc = report_stream_finish(stream, &out.result) ? out.rc : FK_EXIT_ERROR;
	scan_outcome_free(&out);
	report_stream_free(stream);
	return rc;
}
