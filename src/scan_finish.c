/*
 * scan_finish.c
 *	  An FK's result from its workers' findings: counts summed, candidates
 *	  confirmed on the server, samples fetched, cascades traced, --compare
 *	  and --orphans-out
 */
#include "fkscan/scanint.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fkscan/candset.h"
#include "fkscan/cascade.h"
#include "fkscan/catalog.h"
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
#include "fkscan/signals.h"
#include "fkscan/snapshot.h"
#include "fkscan/state.h"
#include "fkscan/verify.h"

static int
compare_samples(const void *a, const void *b)
{
	const SampleRef *x = a, *y = b;

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
fetch_samples(Scan *s, PgConn *coord, const FkPlan *fp, const SampleRef *refs, int nrefs,
			  const CandSet *cands, FkResult *r)
{
	int64_t	 *ints = fk_malloc(sizeof(int64_t) * (size_t) (nrefs + 1));
	uint32_t *idx = fk_malloc(sizeof(uint32_t) * (size_t) (nrefs + 1));
	bool	  ok = true;

	for (int i = 0; ok && i < nrefs;)
	{
		const Chunk *c = &s->plan->child_chunks[refs[i].chunk];
		int			 n = 0;
		int			 j;

		bool partial = false;

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
			ok = verify_samples_hash(coord, s->cat, c, fp->fk, cands, idx, n, partial, nrefs, r);
		i = j;
	}
	free(ints);
	free(idx);
	return ok;
}

/* Sum the workers' partials of one FK; samples sorted, refs caller-freed. */
static void
merge_fk_partials(Scan *s, int fk, FkResult *r, KeySet64 *orphans, CandSet *cands, SampleRef **refs,
				  int *nrefs)
{
	*refs = NULL;
	*nrefs = 0;
	r->resumed_chunks = s->resume.chunks[fk];
	for (int i = 0; i < s->resume.nsnaps[fk]; i++)
	{
		r->chunk_snapshots =
			fk_realloc(r->chunk_snapshots, sizeof(char *) * (size_t) (r->nchunk_snapshots + 1));
		r->chunk_snapshots[r->nchunk_snapshots++] = fk_strdup(s->resume.snaps[fk][i]);
	}
	/* the workers' partials, then what recorded chunks hold */
	for (int w = 0; w <= s->nworkers; w++)
	{
		FkPartial *p = w < s->nworkers ? &s->workers[w].fks[fk] : &s->resume.found[fk];

		r->child_rows += p->child_rows;
		r->null_rows += p->null_rows;
		r->partial_null_rows += p->partial_null_rows;
		r->orphan_rows += p->orphan_rows;
		if (orphans && p->orphans)
			keyset64_merge_inplace(orphans, p->orphans);
		if (cands && p->cands)
			candset_merge_inplace(cands, p->cands);
		*refs = fk_realloc(*refs, sizeof(SampleRef) * (size_t) (*nrefs + p->nsamples + 1));
		if (p->nsamples > 0) /* resumed[] may have no array at all */
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
		KeySet64 *still = keyset64_create();
		uint64_t  gone_rows = 0;

		if (verify_int_orphans(coord, s->cat, fp->fk, orphans, still, &gone_rows))
		{
			keyset64_free(orphans);
			orphans = still;
			r->orphan_rows -= gone_rows;
		}
		else
		{
			keyset64_free(still);
			err = pgconn_error(coord, "could not confirm orphans");
		}
	}
	r->orphan_keys = keyset64_cardinality(orphans);
	keyset64_freeze(orphans);
	s->orphan_keys[fk].ints = orphans;
	if (nrefs > s->opt->scan.sample)
		nrefs = s->opt->scan.sample;
	if (err == NULL && nrefs > 0 && !fetch_samples(s, coord, fp, refs, nrefs, NULL, r))
		err = pgconn_error(coord, "could not fetch sample rows");
	free(refs);
	return err;
}

/* Hashed FK: candidates are confirmed with the FK's own operators first. */
static const char *
finish_hash_fk(Scan *s, PgConn *coord, const FkPlan *fp, int fk, FkResult *r)
{
	CandSet	   *cands = candset_create(fp->fk->ncols);
	bool	   *confirmed;
	SampleRef  *refs;
	int			nrefs, nkeep = 0;
	const char *err = NULL;

	merge_fk_partials(s, fk, r, NULL, cands, &refs, &nrefs);
	confirmed = fk_calloc((size_t) candset_size(cands) + 1, sizeof(bool));
	if (!verify_candidates(coord, s->cat, fp->fk, cands, confirmed))
		err = pgconn_error(coord, "could not confirm orphans");
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
		log_info("%s: %" PRIu64 " of %u candidate keys have a parent after all", fp->fk->name,
				 (uint64_t) candset_size(cands) - r->orphan_keys, candset_size(cands));
	/* the first samples among the confirmed candidates */
	for (int i = 0; err == NULL && i < nrefs && nkeep < s->opt->scan.sample; i++)
	{
		uint32_t c = refs[i].partial ? UINT32_MAX : candset_find(cands, refs[i].hash);

		if (refs[i].partial || (c != UINT32_MAX && confirmed[c]))
			refs[nkeep++] = refs[i];
	}
	if (nkeep > 0 && !fetch_samples(s, coord, fp, refs, nkeep, cands, r))
		err = pgconn_error(coord, "could not fetch sample rows");
	free(refs);
	if (s->keep_keys && err == NULL)
	{
		/* the caller reads the confirmed keys' raw values; freed with the state */
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
	if (!pgconn_transaction_failed(c))
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
	FkResult	 *r = &res->fks[i];
	const char	 *err;
	double		  end;

	pthread_mutex_lock(&s->lock);
	err = s->errors.fk[i];
	if (fp->kind != KEYKIND_SERVER && err == NULL)
		err = s->errors.set[fp->parent_set];
	if (fp->kind != KEYKIND_SERVER && err == NULL)
		err = s->errors.pass[fp->pass];
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
			r->method = METHOD_SERVER;
			r->method_reason = fp->server_reason;
			break;
		case KEYKIND_INT:
			r->method =
				!s->sets[fp->parent_set].ints || keyset64_is_bitmap(s->sets[fp->parent_set].ints)
					? METHOD_BITMAP
					: METHOD_ROARING;
			if (err == NULL && (err = finish_int_fk(s, verifier, fp, i, r)) != NULL &&
				is_conflict(s->cat, verifier))
				atomic_store(&s->conflict, true);
			break;
		case KEYKIND_HASH:
			r->method = METHOD_HASH;
			if (err == NULL && (err = finish_hash_fk(s, verifier, fp, i, r)) != NULL &&
				is_conflict(s->cat, verifier))
				atomic_store(&s->conflict, true);
			break;
	}
	if (err)
		recover_verifier(s, verifier);
	if (err)
	{
		bool incomplete = strcmp(err, PACE_BUDGET_REASON) == 0;

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

/* Finishing runs on several workers at once: their failures meet here. */
static void
output_failed(Scan *s, ScanResult *res)
{
	pthread_mutex_lock(&s->lock);
	res->output_failed = true;
	pthread_mutex_unlock(&s->lock);
}

static bool
has_filters(const FilterOptions *f)
{
	return f->schemas.n || f->exclude_schemas.n || f->tables.n || f->exclude_tables.n ||
		   f->constraints.n;
}

/*
 * The FK graph cascades follow: the scan's catalog, or with a filter the
 * whole graph (-t orders still reaches order_items), read once on the
 * snapshot.  NULL if it could not be read.
 */
static const Catalog *
cascade_graph(Scan *s, PgConn *verifier, ScanResult *res)
{
	const Catalog *graph;

	if (!has_filters(&s->opt->filter))
		return s->cat;
	/* read once, by whichever worker needs it first */
	pthread_mutex_lock(&s->lock);
	if (res->graph == NULL)
		(void) catalog_read_graph(verifier, &s->opt->filter.relations, &res->graph);
	graph = res->graph;
	pthread_mutex_unlock(&s->lock);
	return graph;
}

/* What deleting FK i's orphan rows would do to the rows referencing them. */
static bool
cascade_one(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	const Catalog *graph;
	OrphanMatcher  m;

	if (res->fks[i].status != FKSTATUS_ORPHANS || signals_interrupted())
		return true;
	if ((graph = cascade_graph(s, verifier, res)) == NULL)
		return false;
	m = matcher_for(s, &res->fks[i], i);
	for (int g = 0; graph != s->cat && g < graph->nfks; g++)
		if (graph->fks[g].declared == m.fk->declared &&
			(m.fk->declared ? graph->fks[g].oid == m.fk->oid
							: strcmp(graph->fks[g].name, m.fk->name) == 0))
			m.fk = &graph->fks[g];
	return cascade_trace(verifier, graph, &m, &res->fks[i]);
}

/* A query about r failed on verifier: r becomes an error (its snapshot kept). */
static void
fail_on_server(Scan *s, PgConn *verifier, FkResult *r, const char *what)
{
	char *snap = r->snapshot;

	r->snapshot = NULL;
	fkresult_reset(r);
	r->snapshot = snap;
	r->status = FKSTATUS_ERROR;
	r->error = fk_strdup(pgconn_error(verifier, what));
	recover_verifier(s, verifier);
}

/*
 * --compare server: the server's own anti-join for FK i on the same
 * snapshot, timed.  Any disagreement is a loud error (exit 2): one of the
 * two is wrong, and the scan's answer cannot be trusted until we know which.
 */
static void
compare_one(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	FkResult	   *r = &res->fks[i];
	FkResult		srv;
	struct timespec t0;

	if (r->status == FKSTATUS_ERROR || r->status == FKSTATUS_INCOMPLETE || signals_interrupted())
		return;
	/* the server at its own defaults: parallel workers and JIT as configured */
	if (!pgconn_exec(verifier,
					 "SELECT pg_catalog.set_config(name, reset_val, false) "
					 "FROM pg_catalog.pg_settings "
					 "WHERE name IN ('max_parallel_workers_per_gather', 'jit')",
					 0, NULL, NULL, NULL))
	{
		log_warning("the server's anti-join runs with fkscan's session settings");
		recover_verifier(s, verifier);
	}
	memset(&srv, 0, sizeof(srv));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!verify_fk_on_server(verifier, s->cat, r->fk, 0, &srv))
	{
		fail_on_server(s, verifier, r, "the server's anti-join failed");
		fkresult_reset(&srv);
		return;
	}
	r->compared = true;
	r->compare_elapsed_s = pace_seconds_since(&t0);
	r->compare_orphan_rows = srv.orphan_rows;
	r->compare_orphan_keys = srv.orphan_keys;
	r->compare_agree = srv.orphan_rows == r->orphan_rows && srv.orphan_keys == r->orphan_keys &&
					   srv.child_rows == r->child_rows && srv.null_rows == r->null_rows &&
					   srv.partial_null_rows == r->partial_null_rows;
	if (!r->compare_agree)
	{
		log_error("%s: fkscan and the server's anti-join disagree", r->fk->name);
		log_detail("fkscan: %" PRIu64 " orphan rows, %" PRIu64 " keys, %" PRIu64 " rows, %" PRIu64
				   " exempt; server: %" PRIu64 " orphan rows, %" PRIu64 " keys, %" PRIu64
				   " rows, %" PRIu64 " exempt",
				   r->orphan_rows, r->orphan_keys, r->child_rows, r->null_rows, srv.orphan_rows,
				   srv.orphan_keys, srv.child_rows, srv.null_rows);
	}
	fkresult_reset(&srv);
}

/*
 * --baseline: how many of FK i's orphan rows an earlier run knew, counted
 * on the snapshot.  A failed count is an error for the FK: the gate must
 * not guess.
 */
static void
baseline_one(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	FkResult		 *r = &res->fks[i];
	const BaselineFk *bfk;

	if (r->status != FKSTATUS_CLEAN && r->status != FKSTATUS_ORPHANS)
		return;
	r->baselined = true;
	bfk = baseline_find(s->baseline, r->child->schema, r->child->name, r->fk->name);
	if (r->status != FKSTATUS_ORPHANS || bfk == NULL || signals_interrupted())
		return;
	if (bfk->sampled)
		log_warning("%s: the baseline is a JSON report that lists only sample keys: orphans of "
					"other keys count as new",
					r->fk->name);
	if (!baseline_count_known(verifier, s->cat, r->fk, bfk, &r->known_orphan_rows))
		fail_on_server(s, verifier, r, "counting the baseline's orphans failed");
}

/* "2026-11-24T21:03:05Z": when a result became final. */
static char *
utc_now(void)
{
	char	  buf[32];
	time_t	  now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return fk_strdup(buf);
}

/*
 * Everything about FK i, on the verifying connection: its counts,
 * --compare server, its cascade chain.  A final result (clean or orphans)
 * is recorded in the --state file and streamed as a JSON line.
 */
void
finish_fk(Scan *s, PgConn *verifier, ScanResult *res, int i)
{
	FkResult *r = &res->fks[i];

	s->early.finished[i] = true;
	collect_one(s, verifier, res, i);
	if (s->opt->scan.compare_server)
		compare_one(s, verifier, res, i);
	if (!cascade_one(s, verifier, res, i))
	{
		output_failed(s, res);
		recover_verifier(s, verifier);
	}
	if (s->baseline)
		baseline_one(s, verifier, res, i);
	r->finished_at = utc_now();
	if ((r->status == FKSTATUS_CLEAN || r->status == FKSTATUS_ORPHANS) &&
		!atomic_load(&s->conflict) && !signals_interrupted())
	{
		if (s->state && !state_record_fk(s->state, r))
			output_failed(s, res);
		pthread_mutex_lock(&s->lock);
		(void) report_fk_done(s->stream, res, i);
		pthread_mutex_unlock(&s->lock);
	}
}

/*
 * FK i's end, on a connection in the snapshot: finished (unless it was
 * early), then its rows written to --orphans-out (out, or NULL).
 */
void
finish_and_write(Scan *s, PgConn *c, ScanResult *res, int i, OrphansOut *out)
{
	OrphanMatcher m;

	if (!s->early.finished[i])
		finish_fk(s, c, res, i);
	if (out == NULL || res->fks[i].status != FKSTATUS_ORPHANS || res->fks[i].resumed ||
		signals_interrupted())
		return;
	m = matcher_for(s, &res->fks[i], i);
	if (!orphans_write_fk(out, s->out_slot ? s->out_slot[i] : i, c, s->cat, &m))
	{
		output_failed(s, res);
		recover_verifier(s, c);
	}
}

/*
 * FK i's chunks are all handled, while the rest of phase 2 runs: finish
 * it now on the coordinator, which holds the snapshot, inside a savepoint
 * so a failed query costs this FK and not the exported snapshot.
 */
void
finish_early(Scan *s, int i)
{
	PgConn *c = s->coord;

	if (s->early.finished[i])
		return;
	if (!pgconn_exec(c, "SAVEPOINT fkscan_fk", 0, NULL, NULL, NULL))
		return; /* left for the end, on a worker's connection */
	finish_fk(s, c, s->res, i);
	(void) pgconn_exec(c, "RELEASE SAVEPOINT fkscan_fk", 0, NULL, NULL, NULL);
}
