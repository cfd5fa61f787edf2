/*
 * scan_servers.c
 *	  --replica: one sweep spread over several servers of one system
 *	  (issue #20), FK by FK (--spread fk) or chunk by chunk (--spread chunk).
 *
 * --spread fk: each FK is read whole on one server, its parent and child
 * on that server's exported snapshot, by the same attempt scan.c runs on
 * one server (a pool of -j workers per server), so each FK is as exact as
 * today.  FKs sharing a child table go to one server (one pass reads the
 * child for all of them); the groups go biggest first to the least loaded
 * server.  A server that dies mid-sweep, or whose attempts recovery
 * conflicts spoil, loses only the FKs it had not finished: they are read
 * again, whole, on the servers left.  The main connection reads the
 * catalog the answer is numbered by; each server's own catalog is matched
 * to it (constraint oids are the same on every physical replica).
 *
 * --spread chunk is one attempt whose workers are spread over the servers
 * (scan.c, worker_server()): chunks on several snapshots, so chunk mode's
 * rules hold (every orphan confirmed at the end on one snapshot), and a
 * lost server's chunks are handed back to the pool for the others.
 */
#include "fkscan/scanint.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/orphans.h"
#include "fkscan/signals.h"
#include "fkscan/standby.h"

/* What one server read in one round: kept until the end (results point in). */
typedef struct Part
{
	ScanResult res;
	Catalog	  *cat;
} Part;

typedef struct Server
{
	int			   index;
	char		   prefix[32]; /* "replica 1: " */
	ConnOptions	   conn;	   /* the main options, the --replica string winning */
	PgConn		  *control;	   /* the standby's replay, its LSNs, whether it lives */
	bool		   in_recovery;
	bool		   lost;
	SystemIdentity identity;
	/* one round */
	bool				  *assigned; /* per main FK */
	int					   nassigned;
	double				   load;
	Run					   run;
	Part				   part;
	bool				   ok;
	bool				   conflict;
	int					   attempts;
	pthread_t			   thread;
	const struct timespec *start;
} Server;

struct ServerSweep
{
	Server	*servers;
	int		 n;
	Catalog *main_cat; /* handed to the caller as its catalog */
	Part	*parts;	   /* every round's, for the results' borrowed pointers */
	int		 nparts;
	/* --spread chunk */
	ConnOptions *conns;		/* each server's, the main one first */
	FkOptions	 chunk_opt; /* the user's, under --consistency chunk */
};

static void *
server_thread(void *arg)
{
	Server *sv = arg;
	Scan   *kept = NULL;

	sv->ok = scan_attempts(&sv->run, sv->start, &sv->part.res, &sv->part.cat, &kept, &sv->attempts,
						   &sv->conflict);
	attempt_free(kept);
	return NULL;
}

/*
 * Connect, check it is the same system as the main server and within
 * --max-lag, then pause its replay with --pause-replay.  False after one
 * line naming the server.
 */
static bool
server_open(Server *sv, const Server *main_sv, const FkOptions *opt, bool *paused)
{
	char		   name[48];
	ReplayPosition rp = {0};
	bool		   this_paused = false;

	snprintf(name, sizeof(name), "%scontrol", sv->prefix);
	sv->control = pgconn_connect(&sv->conn, name);
	if (sv->control == NULL)
	{
		log_error("%scould not connect", sv->prefix);
		return false;
	}
	if (!pgconn_in_recovery(sv->control, &sv->in_recovery))
		return false;
	if (!standby_identity(sv->control, sv->in_recovery, &sv->identity))
	{
		log_error("%scould not read its system identifier", sv->prefix);
		log_hint("--replica needs EXECUTE on pg_control_system() and pg_control_checkpoint() "
				 "(a superuser, or a member of pg_monitor).");
		return false;
	}
	if (strcmp(sv->identity.system, main_sv->identity.system) != 0)
	{
		log_error("%snot a server of the main server's system: system identifier %s, not %s",
				  sv->prefix, sv->identity.system, main_sv->identity.system);
		return false;
	}
	if (sv->identity.timeline != main_sv->identity.timeline)
	{
		log_error("%son timeline %d, the main server on timeline %d", sv->prefix,
				  sv->identity.timeline, main_sv->identity.timeline);
		return false;
	}
	if (!scan_standby_start(sv->control, opt, sv->prefix, &sv->in_recovery, &rp, &this_paused))
		return false;
	*paused = *paused || this_paused;
	/* paused: where replay stopped is where it reads */
	return !this_paused || standby_identity(sv->control, sv->in_recovery, &sv->identity);
}

/* The catalog the answer is numbered by, read once on the main server. */
static bool
read_main_catalog(PgConn *c, const FkOptions *opt, Catalog **cat)
{
	bool ok =
		pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, NULL) &&
		catalog_read(c, &opt->filter, cat);

	(void) pgconn_exec(c, "COMMIT", 0, NULL, NULL, NULL);
	return ok;
}

/* Does the server still answer?  (A lost one's connections are all gone.) */
static bool
server_alive(Server *sv)
{
	bool ok;

	pgconn_set_quiet(sv->control, true);
	ok = pgconn_exec(sv->control, "SELECT 1", 0, NULL, NULL, NULL);
	pgconn_set_quiet(sv->control, false);
	return ok;
}

static double
table_weight(const CatTable *t)
{
	return t->size_bytes > 0 ? (double) t->size_bytes : 8192.0;
}

/*
 * Share the pending FKs among the live servers none of them has failed on:
 * FKs of one child table together, the heaviest group first, each to the
 * least loaded server.  Returns how many FKs found a server.
 */
static int
assign(ServerSweep *sw, const bool *pending, const uint64_t *tried)
{
	const Catalog *cat = sw->main_cat;
	bool		  *grouped = fk_calloc((size_t) cat->nfks + 1, sizeof(bool));
	double		  *weight = fk_calloc((size_t) cat->ntables + 1, sizeof(double));
	int			   nassigned = 0;

	for (int k = 0; k < sw->n; k++)
	{
		memset(sw->servers[k].assigned, 0, (size_t) cat->nfks * sizeof(bool));
		sw->servers[k].nassigned = 0;
		sw->servers[k].load = 0;
	}
	for (int i = 0; i < cat->nfks; i++)
		if (pending[i])
			weight[cat->fks[i].child] +=
				(weight[cat->fks[i].child] == 0 ? table_weight(&cat->tables[cat->fks[i].child])
												: 0) +
				table_weight(&cat->tables[cat->fks[i].parent]);
	for (;;)
	{
		int		child = -1;
		Server *best = NULL;

		for (int i = 0; i < cat->nfks; i++)
			if (pending[i] && !grouped[i] &&
				(child < 0 || weight[cat->fks[i].child] > weight[child]))
				child = cat->fks[i].child;
		if (child < 0)
			break;
		for (int i = 0; i < cat->nfks; i++)
			if (pending[i] && cat->fks[i].child == child)
				grouped[i] = true;
		for (int k = 0; k < sw->n; k++)
		{
			Server *sv = &sw->servers[k];
			bool	fits = !sv->lost;

			for (int i = 0; fits && i < cat->nfks; i++)
				if (pending[i] && cat->fks[i].child == child && (tried[i] >> k & 1))
					fits = false;
			if (fits && (best == NULL || sv->load < best->load))
				best = sv;
		}
		if (best == NULL)
			continue;
		best->load += weight[child];
		for (int i = 0; i < cat->nfks; i++)
			if (pending[i] && cat->fks[i].child == child)
			{
				best->assigned[i] = true;
				best->nassigned++;
				nassigned++;
			}
	}
	free(grouped);
	free(weight);
	return nassigned;
}

/*
 * A server's round is over: take the results of its FKs, except those it
 * failed on while it died or its attempts were spoiled (left pending for
 * another server).  Its figures go to its ServerFigures.
 */
static void
collect(ServerSweep *sw, Server *sv, ScanResult *res, bool *pending, uint64_t *tried)
{
	ServerFigures *fig = &res->servers[sv->index];
	Part		  *part;
	bool		   spoiled;

	for (int i = 0; i < sw->main_cat->nfks; i++)
		if (sv->assigned[i])
			tried[i] |= UINT64_C(1) << sv->index;
	if (!sv->ok)
	{
		scanresult_free(&sv->part.res);
		catalog_free(sv->part.cat);
		memset(&sv->part, 0, sizeof(sv->part));
		sv->lost = sv->lost || !server_alive(sv);
		return;
	}
	sw->parts = fk_realloc(sw->parts, (size_t) (sw->nparts + 1) * sizeof(Part));
	part = &sw->parts[sw->nparts++];
	*part = sv->part;
	memset(&sv->part, 0, sizeof(sv->part));
	sv->lost = sv->lost || !server_alive(sv);
	spoiled = sv->lost || (sv->conflict && sv->run.opt->engine.consistency == CONSISTENCY_SNAPSHOT);

	fig->chunks += part->res.chunks_read;
	fig->rows += part->res.rows_read;
	fig->bytes += part->res.bytes_read;
	res->jobs += part->res.jobs;
	res->chunk_retries += part->res.chunk_retries;
	res->mixed_snapshots = res->mixed_snapshots || part->res.mixed_snapshots;
	res->budget_expired = res->budget_expired || part->res.budget_expired;
	res->output_failed = res->output_failed || part->res.output_failed;
	res->key_passes =
		part->res.key_passes > res->key_passes ? part->res.key_passes : res->key_passes;
	res->attempts = sv->attempts > res->attempts ? sv->attempts : res->attempts;
	res->rows_read += part->res.rows_read;
	res->bytes_read += part->res.bytes_read;
	for (int j = 0; j < part->res.nfks; j++)
	{
		int		  m = catalog_find_fk(sw->main_cat, part->cat, j);
		FkResult *r = &part->res.fks[j];

		if (m < 0 || !sv->assigned[m] || !pending[m])
			continue;
		if (spoiled && r->status == FKSTATUS_ERROR)
		{
			/* read again elsewhere; how it is checked does not change */
			res->fks[m].method = r->method;
			res->fks[m].method_reason = r->method_reason;
			continue;
		}
		fkresult_reset(&res->fks[m]);
		res->fks[m] = *r; /* moved: the part keeps nothing to free */
		memset(r, 0, sizeof(*r));
		res->fks[m].server = fig;
		pending[m] = false;
		fig->nfks++;
	}
}

/* An FK no server could read: an error in the answer, never "clean". */
static void
fail_unread(const Catalog *cat, ScanResult *res, int i, const uint64_t *tried)
{
	FkResult *r = &res->fks[i];

	if (r->status == FKSTATUS_ERROR)
		return;
	r->status = FKSTATUS_ERROR;
	r->error = fk_strdup(signals_interrupted() ? "not read: interrupted"
						 : tried[i] ? "not read: every server that tried it failed or was lost"
									: "not read: no server left to read it");
	r->fk = &cat->fks[i];
	r->child = &cat->tables[cat->fks[i].child];
	r->parent = &cat->tables[cat->fks[i].parent];
}

/* Rounds until every FK has a result or no server can take one. */
static void
run_rounds(ServerSweep *sw, const struct timespec *start, ScanResult *res, OrphansOut *out)
{
	const Catalog *cat = sw->main_cat;
	bool		  *pending = fk_calloc((size_t) cat->nfks + 1, sizeof(bool));
	uint64_t	  *tried = fk_calloc((size_t) cat->nfks + 1, sizeof(uint64_t));

	for (int i = 0; i < cat->nfks; i++)
		pending[i] = true;
	for (int round = 0; !signals_interrupted(); round++)
	{
		double began = pace_seconds_since(start);

		if (assign(sw, pending, tried) == 0)
			break;
		for (int k = 0; k < sw->n; k++)
		{
			Server *sv = &sw->servers[k];

			if (sv->nassigned == 0)
				continue;
			if (round > 0)
				log_warning("%sreading %d foreign key%s a lost server held", sv->prefix,
							sv->nassigned, sv->nassigned == 1 ? "" : "s");
			sv->run.main_cat = cat;
			sv->run.assigned = sv->assigned;
			sv->run.out = out;
			sv->start = start;
			if (pthread_create(&sv->thread, NULL, server_thread, sv) != 0)
			{
				log_error("%scould not start a thread", sv->prefix);
				sv->nassigned = 0;
			}
		}
		for (int k = 0; k < sw->n; k++)
		{
			Server *sv = &sw->servers[k];
			int		left = 0;

			if (sv->nassigned == 0)
				continue;
			pthread_join(sv->thread, NULL);
			res->servers[k].seconds += pace_seconds_since(start) - began;
			collect(sw, sv, res, pending, tried);
			res->servers[k].lost = sv->lost;
			for (int i = 0; i < cat->nfks; i++)
				left += sv->assigned[i] && pending[i];
			if (left > 0 && !signals_interrupted())
				log_warning("%s%s: its %d unfinished foreign key%s go%s to the other servers",
							sv->prefix,
							sv->lost ? "the server was lost mid-sweep"
							: sv->ok ? "recovery conflicts spoiled its snapshot"
									 : "its scan failed",
							left, left == 1 ? "" : "s", left == 1 ? "es" : "");
		}
	}
	for (int i = 0; i < cat->nfks; i++)
		if (pending[i])
			fail_unread(cat, res, i, tried);
	free(pending);
	free(tried);
}

/* Lowest and highest of the servers' LSNs: where --spread chunk read. */
static uint64_t
lsn_value(const char *lsn)
{
	unsigned hi, lo;

	return sscanf(lsn, "%X/%X", &hi, &lo) == 2 ? (uint64_t) hi << 32 | lo : 0;
}

static void
set_window(ScanResult *res)
{
	const char *low = NULL, *high = NULL;

	for (int k = 0; k < res->nservers; k++)
	{
		const ServerFigures *f = &res->servers[k];

		if (f->lsn_start[0] && (low == NULL || lsn_value(f->lsn_start) < lsn_value(low)))
			low = f->lsn_start;
		if (f->lsn_end[0] && (high == NULL || lsn_value(f->lsn_end) > lsn_value(high)))
			high = f->lsn_end;
	}
	snprintf(res->window_start, sizeof(res->window_start), "%s", low ? low : "");
	snprintf(res->window_end, sizeof(res->window_end), "%s", high ? high : "");
}

/* --spread chunk: one attempt, its workers spread over every server. */
static bool
spread_chunks(ServerSweep *sw, const Run *base, const struct timespec *start, ScanResult *res,
			  Catalog **cat)
{
	const char *names[1 + MAX_REPLICAS];
	Run			run = *base;
	Scan	   *kept = NULL;
	bool		conflict = false;
	bool		ok;

	sw->conns = fk_calloc((size_t) sw->n, sizeof(ConnOptions));
	for (int k = 0; k < sw->n; k++)
	{
		sw->conns[k] = sw->servers[k].conn;
		names[k] = sw->servers[k].prefix;
	}
	/* chunks on several snapshots: chunk mode's rules, orphans confirmed on one */
	sw->chunk_opt = *base->opt;
	sw->chunk_opt.engine.consistency = CONSISTENCY_CHUNK;
	run.opt = &sw->chunk_opt;
	run.conn = &sw->conns[0];
	run.in_recovery = sw->servers[0].in_recovery;
	run.spread = sw->conns;
	run.spread_names = names;
	run.nspread = sw->n;
	run.figs = res->servers;
	ok = scan_attempts(&run, start, res, cat, &kept, &res->attempts, &conflict);
	attempt_free(kept);
	for (int k = 0; ok && k < sw->n; k++)
	{
		sw->servers[k].lost = !server_alive(&sw->servers[k]);
		res->servers[k].lost = sw->servers[k].lost;
		res->servers[k].seconds = pace_seconds_since(start);
	}
	return ok;
}

/* --spread fk: the main catalog, then rounds of whole FKs per server. */
static bool
spread_fks(ServerSweep *sw, const Run *base, const struct timespec *start, ScanResult *res,
		   Catalog **cat)
{
	const FkOptions *opt = base->opt;
	OrphansOut		*out = NULL;

	if (!read_main_catalog(sw->servers[0].control, opt, &sw->main_cat))
		return false;
	*cat = sw->main_cat;
	res->database = fk_strdup(pgconn_database(sw->servers[0].control));
	res->server_version = pgconn_server_version(sw->servers[0].control);
	res->in_recovery = sw->servers[0].in_recovery;
	res->nfks = sw->main_cat->nfks;
	res->fks = fk_calloc((size_t) res->nfks + 1, sizeof(FkResult));
	for (int k = 0; k < sw->n; k++)
	{
		Server *sv = &sw->servers[k];

		sv->assigned = fk_calloc((size_t) res->nfks + 1, sizeof(bool));
		sv->run = *base;
		sv->run.conn = &sv->conn;
		sv->run.server = sv->prefix;
		sv->run.in_recovery = sv->in_recovery;
	}
	if (opt->scan.orphans_out && !signals_interrupted())
		out = orphans_open(opt->scan.orphans_out, res->nfks);
	run_rounds(sw, start, res, out);
	if (out && !orphans_close(out, !signals_interrupted()) && !signals_interrupted())
		res->output_failed = true;
	if (res->attempts == 0)
		res->attempts = 1;
	return true;
}

bool
servers_scan(const Run *base, const struct timespec *start, ScanResult *res, Catalog **cat,
			 ServerSweep **sweep)
{
	const FkOptions *opt = base->opt;
	ServerSweep		*sw = fk_calloc(1, sizeof(ServerSweep));
	bool			 paused = false;
	bool			 ok;

	*sweep = sw;
	sw->n = 1 + opt->scan.replicas.n;
	sw->servers = fk_calloc((size_t) sw->n, sizeof(Server));
	for (int k = 0; k < sw->n; k++)
	{
		Server *sv = &sw->servers[k];

		sv->index = k;
		sv->conn = opt->conn;
		if (k == 0)
			snprintf(sv->prefix, sizeof(sv->prefix), "main server: ");
		else
		{
			snprintf(sv->prefix, sizeof(sv->prefix), "replica %d: ", k);
			sv->conn.server = opt->scan.replicas.items[k - 1];
		}
		if (!server_open(sv, &sw->servers[0], opt, &paused))
			return false;
	}
	res->nservers = sw->n;
	res->servers = fk_calloc((size_t) sw->n, sizeof(ServerFigures));
	for (int k = 0; k < sw->n; k++)
	{
		Server		  *sv = &sw->servers[k];
		ServerFigures *fig = &res->servers[k];

		fig->name = fk_strdup(k == 0 ? "main" : sv->prefix);
		fig->name[strcspn(fig->name, ":")] = '\0';
		fig->address = pgconn_address(sv->control);
		fig->in_recovery = sv->in_recovery;
		snprintf(fig->lsn_start, sizeof(fig->lsn_start), "%s", sv->identity.lsn);
	}

	ok = opt->scan.spread == SPREAD_CHUNK ? spread_chunks(sw, base, start, res, cat)
										  : spread_fks(sw, base, start, res, cat);
	if (!ok)
		return false;
	for (int k = 0; k < sw->n; k++)
	{
		Server		  *sv = &sw->servers[k];
		SystemIdentity end;

		if (!sv->lost && standby_identity(sv->control, sv->in_recovery, &end))
			snprintf(res->servers[k].lsn_end, sizeof(res->servers[k].lsn_end), "%s", end.lsn);
	}
	res->spread = opt->scan.spread == SPREAD_CHUNK ? "chunk" : "fk";
	if (opt->scan.spread == SPREAD_CHUNK)
		set_window(res);
	res->consistency =
		paused ? "paused-replay"
		: opt->scan.spread == SPREAD_CHUNK || opt->engine.consistency == CONSISTENCY_CHUNK
			? "chunk"
			: "snapshot";
	return true;
}

void
servers_free(ServerSweep *sw)
{
	if (sw == NULL)
		return;
	for (int k = 0; k < sw->n; k++)
	{
		scanresult_free(&sw->servers[k].part.res);
		catalog_free(sw->servers[k].part.cat);
		pgconn_free(sw->servers[k].control);
		free(sw->servers[k].assigned);
	}
	for (int i = 0; i < sw->nparts; i++)
	{
		scanresult_free(&sw->parts[i].res);
		catalog_free(sw->parts[i].cat);
	}
	free(sw->parts);
	free(sw->conns);
	free(sw->servers);
	/* main_cat is the caller's (ScanOutcome.cat) */
	free(sw);
}
