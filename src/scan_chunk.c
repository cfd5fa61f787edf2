/*
 * scan_chunk.c
 *	  What every chunk of a scan shares: its SELECT, the first error of its
 *	  target, and what a failed chunk does (retry, fresh snapshot, give up)
 */
#include "fkscan/scanint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/candset.h"
#include "fkscan/catalog.h"
#include "fkscan/gate.h"
#include "fkscan/keyenc.h"
#include "fkscan/keyset.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/orphans.h"
#include "fkscan/pace.h"
#include "fkscan/plan.h"
#include "fkscan/pool.h"
#include "fkscan/result.h"
#include "fkscan/signals.h"
#include "fkscan/snapshot.h"
#include "fkscan/standby.h"
#include "fkscan/state.h"
#include "fkscan/strbuf.h"

/* First error wins for each target. */
void
record_error(Scan *s, char **slot, const char *msg)
{
	pthread_mutex_lock(&s->lock);
	if (*slot == NULL)
		*slot = fk_strdup(msg ? msg : "unknown error");
	pthread_mutex_unlock(&s->lock);
}

bool
has_error(Scan *s, char *const *slot)
{
	bool r;

	pthread_mutex_lock(&s->lock);
	r = *slot != NULL;
	pthread_mutex_unlock(&s->lock);
	return r;
}

void
note_fk_end(Scan *s, int fk)
{
	double t = pace_elapsed(&s->pace);

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
/* The server a worker reads: its own under --spread chunk. */
const ConnOptions *
worker_server(const Worker *w)
{
	return w->scan->nspread > 1 ? &w->scan->spread[w->server] : w->scan->conn;
}

void
recover_worker(Worker *w)
{
	Scan *s = w->scan;
	bool  ok = pgconn_alive(w->conn);

	if (s->opt->engine.consistency == CONSISTENCY_CHUNK)
	{
		/* a session the server ended may still look open until used */
		if (ok)
		{
			pgconn_set_quiet(w->conn, true);
			ok = snapshot_begin_fresh(w->conn);
			pgconn_set_quiet(w->conn, false);
		}
		if (!ok)
		{
			char *name = fk_strdup(pgconn_name(w->conn));

			pgconn_free(w->conn);
			w->conn = pgconn_connect(worker_server(w), name);
			free(name);
			ok = w->conn && snapshot_begin_fresh(w->conn);
		}
	}
	else
		ok = ok && snapshot_import(w->conn, s->snapshot) && snapshot_lock_tables(w->conn, s->cat);
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
	return pgconn_error(w->conn, "could not read rows");
}

/*
 * Text COPY serves the integer key sets only (it widens every integer to
 * int8); hashed keys need the exact send bytes, so they stream in binary.
 */
FetchMethod
fetch_for(const FkOptions *opt, bool int_only)
{
	return opt->engine.fetch == FETCH_COPY_TEXT && !int_only ? FETCH_COPY_BINARY
															 : opt->engine.fetch;
}

/* "SELECT a, b FROM ONLY s.t WHERE ctid ..." for one chunk. */
void
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
bool
is_conflict(const Catalog *cat, PgConn *c)
{
	/* server errors carry a SQLSTATE; libpq's own (a connection gone) do not */
	return strcmp(pgconn_sqlstate(c), "40001") == 0 ||
		   (cat->in_recovery && (!pgconn_alive(c) || pgconn_sqlstate(c)[0] == '\0'));
}

/*
 * A chunk failed.  A recovery conflict (SQLSTATE 40001) under --consistency
 * chunk gets the chunk read again on a fresh snapshot, up to --retries
 * times: returns true then.  Anything else fails the chunk's target.
 */
bool
chunk_failed(Worker *w, char **slot, const Chunk *c, bool bad_value, int attempt)
{
	Scan		   *s = w->scan;
	bool			conflict = !bad_value && is_conflict(s->cat, w->conn);
	bool			recovered = false;
	char		   *reason = fk_strdup(bad_value ? "malformed key data" : failure_reason(w));
	const CatTable *whole = c->rel ? catalog_partitioned_of(s->cat, c->rel) : NULL;

	if (conflict)
		atomic_store(&s->conflict, true);
	if (conflict && s->opt->engine.consistency == CONSISTENCY_CHUNK &&
		attempt < s->opt->engine.retries && !signals_interrupted())
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
	if (s->nspread > 1 && !bad_value && !recovered)
	{
		/* a fresh snapshot, or a new session, on its server if it still answers */
		recover_worker(w);
		recovered = true;
	}
	if (!w->alive && s->nspread > 1 && !bad_value && !pace_stop_reason(&s->pace))
	{
		/* --spread chunk: its server is gone; the others read the chunk */
		if (!atomic_exchange(&s->spread_lost[w->server], true))
			log_warning("%sthe server was lost mid-sweep: its chunks go to the other servers",
						s->spread_names[w->server]);
		pool_requeue(s->pool, (int) (c - s->phase.chunks));
		free(reason);
		return false;
	}
	if (bad_value)
		log_error("worker %d: unexpected value in %s.%s: malformed key data", w->id + 1,
				  c->rel->schema, c->rel->name);
	if (whole && strcmp(pgconn_sqlstate(w->conn), "42501") == 0)
	{
		/* RI's own query reads through the partitioned table; fkscan does not */
		StrBuf b;

		strbuf_init(&b);
		strbuf_appendf(&b,
					   "%s (a partition of %s.%s: fkscan reads each partition, "
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
