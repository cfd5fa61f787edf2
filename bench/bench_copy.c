/*
 * bench_copy.c
 *	  The raw streaming limit of a libpq client, to compare fkscan with:
 *	  COPY (SELECT cols FROM ONLY leaf WHERE ctid range) TO STDOUT
 *	  (FORMAT binary) over N connections sharing one exported snapshot, each
 *	  CopyData message received with PQgetCopyData and dropped with
 *	  PQfreemem.  No decoding, no key set, no probing.
 *
 *	  bench_copy [-d DBNAME] [-s SLICES] [--split-bulk] [--text] [--overlap]
 *	             TABLE COLUMNS N [TABLE COLUMNS]...
 *
 * TABLE is a table name ("public." is assumed without a schema); a
 * partitioned table is read leaf by leaf.  COLUMNS is a comma-separated
 * column list, pasted into the SQL as is.  Each leaf is cut into N * SLICES
 * ctid ranges of equal page counts (default SLICES 1: one range per
 * connection, as the baseline's "ctid halves"), the last one open-ended.
 * As fkscan does, a leaf larger than a quarter of shared_buffers is read
 * whole, by a plain scan (the server's ring buffer), unless --split-bulk.
 * The first table is streamed before the others, which share the
 * connections (fkscan finishes its parent set before probing children);
 * --overlap drops that barrier.
 *
 * Prints one line per table and a total, as key=value pairs:
 *	  table=public.orders rows=50000000 bytes=696014637 seconds=3.80 ...
 * "seconds" there is streaming time only; run.sh times the whole process.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/options.h"
#include "fkscan/pgconn.h"
#include "fkscan/snapshot.h"

typedef struct Slice
{
	char *sql;
} Slice;

typedef struct Table
{
	char		*name; /* as given */
	char		*columns;
	Slice		*slices;
	int			 nslices;
	int			 cap;
	atomic_int	 next; /* next slice to take */
	atomic_llong rows;
	atomic_llong bytes;
	double		 t_end; /* latest worker end, set by main */
} Table;

typedef struct Shared
{
	ConnOptions		  co;
	const char		 *snapshot;
	Table			 *tables;
	int				  ntables;
	bool			  binary;
	bool			  overlap;
	bool			  split_bulk;
	pthread_barrier_t barrier;
	atomic_bool		  failed;
} Shared;

typedef struct Worker
{
	Shared	 *sh;
	PgConn	 *conn;
	pthread_t thread;
	double	 *t_end; /* when this worker ran out of each table's slices */
} Worker;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_copy [-d DBNAME] [-s SLICES] [--split-bulk] [--text] [--overlap]\n"
			   "                  TABLE COLUMNS N [TABLE COLUMNS]...\n"
			   "Streams the columns of each table over N connections (ctid slices,\n"
			   "one snapshot) and discards the bytes.  Connection: PG* variables.\n");
}

/* Stream one slice: PQgetCopyData + PQfreemem only. */
static bool
stream_slice(Worker *w, Table *t, const char *sql)
{
	PGconn	 *conn = pgconn_libpq(w->conn);
	PGresult *res;
	char	 *buf;
	int		  len;
	long long msgs = 0;
	long long bytes = 0;
	bool	  ok = true;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
	{
		fprintf(stderr, "bench_copy: %s: %s", sql, PQerrorMessage(conn));
		PQclear(res);
		return false;
	}
	PQclear(res);
	while ((len = PQgetCopyData(conn, &buf, 0)) > 0)
	{
		msgs++;
		bytes += len;
		PQfreemem(buf);
	}
	if (len == -2)
	{
		fprintf(stderr, "bench_copy: %s", PQerrorMessage(conn));
		ok = false;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			fprintf(stderr, "bench_copy: %s", PQerrorMessage(conn));
			ok = false;
		}
		PQclear(res);
	}
	/*
	 * One CopyData message per row; binary format adds a trailer message
	 * (the header rides with the first row, or with the trailer if none).
	 */
	if (w->sh->binary && msgs > 0)
		msgs--;
	atomic_fetch_add(&t->rows, msgs);
	atomic_fetch_add(&t->bytes, bytes);
	return ok;
}

static void *
worker_main(void *arg)
{
	Worker *w = arg;
	Shared *sh = w->sh;

	for (int ti = 0; ti < sh->ntables; ti++)
	{
		Table *t = &sh->tables[ti];
		int	   i;

		while (!atomic_load(&sh->failed) && (i = atomic_fetch_add(&t->next, 1)) < t->nslices)
		{
			if (!stream_slice(w, t, t->slices[i].sql))
				atomic_store(&sh->failed, true);
		}
		w->t_end[ti] = now_s();
		if (ti == 0 && !sh->overlap)
			pthread_barrier_wait(&sh->barrier);
	}
	return NULL;
}

static void
add_slice(Table *t, const char *leaf, long long lo, long long hi, bool last, bool binary)
{
	char   where[128];
	size_t len;
	char  *sql;

	if (lo == 0 && last)
		where[0] = '\0';
	else if (last)
		snprintf(where, sizeof(where), " WHERE ctid >= '(%lld,0)'::pg_catalog.tid", lo);
	else
		snprintf(where, sizeof(where),
				 " WHERE ctid >= '(%lld,0)'::pg_catalog.tid AND ctid < '(%lld,0)'::pg_catalog.tid",
				 lo, hi);
	len = strlen(t->columns) + strlen(leaf) + strlen(where) + 128;
	sql = fk_malloc(len);
	snprintf(sql, len, "COPY (SELECT %s FROM ONLY %s%s) TO STDOUT%s", t->columns, leaf, where,
			 binary ? " (FORMAT binary)" : "");
	if (t->nslices == t->cap)
		fk_array_grow((void **) &t->slices, &t->cap, t->nslices + 1, sizeof(Slice));
	t->slices[t->nslices++].sql = sql;
}

typedef struct PlanCtx
{
	Table *t;
	int	   per_leaf;
	bool   binary;
	bool   split_bulk;
	int	   nleaves;
} PlanCtx;

static bool
plan_leaf(void *ctx, const PGresult *res, int row)
{
	PlanCtx	   *pc = ctx;
	const char *leaf = PQgetvalue(res, row, 0);
	long long	pages = atoll(PQgetvalue(res, row, 1));
	bool		bulk = PQgetvalue(res, row, 2)[0] == 't';
	int			n = bulk && !pc->split_bulk ? 1 : pc->per_leaf;

	if (pages < n)
		n = pages > 0 ? (int) pages : 1;
	for (int s = 0; s < n; s++)
		add_slice(pc->t, leaf, pages * s / n, pages * (s + 1) / n, s == n - 1, pc->binary);
	pc->nleaves++;
	return true;
}

/* Leaves of the table (itself if it is not partitioned) and their sizes. */
static const char LEAVES_SQL[] =
	"SELECT c.oid::pg_catalog.regclass::pg_catalog.text,"
	"       pg_catalog.pg_relation_size(c.oid)"
	"       / pg_catalog.current_setting('block_size')::pg_catalog.int8,"
	"       pg_catalog.pg_relation_size(c.oid)"
	"       / pg_catalog.current_setting('block_size')::pg_catalog.int8"
	"       > (SELECT s.setting::pg_catalog.int8 / 4"
	"            FROM pg_catalog.pg_settings s WHERE s.name = 'shared_buffers')"
	"  FROM pg_catalog.pg_class c"
	" WHERE c.relkind IN ('r', 'm')"
	"   AND (c.oid = $1::pg_catalog.regclass"
	"        OR c.oid IN (SELECT relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass)"
	"                      WHERE isleaf))"
	" ORDER BY 1";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"dbname", required_argument, NULL, 'd'},
											 {"slices", required_argument, NULL, 's'},
											 {"text", no_argument, NULL, 't'},
											 {"overlap", no_argument, NULL, 'o'},
											 {"split-bulk", no_argument, NULL, 'b'},
											 {"help", no_argument, NULL, 'h'},
											 {NULL, 0, NULL, 0}};
	Shared					   sh;
	int						   slices_per_conn = 1;
	int						   njobs;
	int						   c;
	PgConn					  *coord;
	char					  *snapshot = NULL;
	Worker					  *workers;
	double					   t0, t1;
	long long				   total_rows = 0, total_bytes = 0;
	int						   rc = 0;

	memset(&sh, 0, sizeof(sh));
	sh.binary = true;
	while ((c = getopt_long(argc, argv, "d:s:h", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				sh.co.dbname = optarg;
				break;
			case 's':
				slices_per_conn = atoi(optarg);
				break;
			case 't':
				sh.binary = false;
				break;
			case 'o':
				sh.overlap = true;
				break;
			case 'b':
				sh.split_bulk = true;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || argc % 2 == 0 || slices_per_conn < 1)
	{
		usage(stderr);
		return 2;
	}
	njobs = atoi(argv[2]);
	if (njobs < 1 || njobs > 256)
	{
		fprintf(stderr, "bench_copy: bad number of connections \"%s\"\n", argv[2]);
		return 2;
	}
	sh.ntables = 1 + (argc - 3) / 2;
	sh.tables = fk_calloc(sh.ntables, sizeof(Table));
	for (int i = 0; i < sh.ntables; i++)
	{
		int a = i == 0 ? 0 : 3 + 2 * (i - 1);

		sh.tables[i].name = argv[a];
		sh.tables[i].columns = argv[a + 1];
	}

	coord = pgconn_connect(&sh.co, "coordinator");
	if (coord == NULL || !snapshot_export(coord, &snapshot))
		return 2;
	sh.snapshot = snapshot;

	for (int i = 0; i < sh.ntables; i++)
	{
		Table	   *t = &sh.tables[i];
		char	   *qname;
		const char *params[1];
		PlanCtx		pc = {t, njobs * slices_per_conn, sh.binary, sh.split_bulk, 0};

		if (strchr(t->name, '.'))
			qname = fk_strdup(t->name);
		else
		{
			qname = fk_malloc(strlen(t->name) + 8);
			sprintf(qname, "public.%s", t->name);
		}
		params[0] = qname;
		if (!pgconn_exec(coord, LEAVES_SQL, 1, params, plan_leaf, &pc))
			return 2;
		if (pc.nleaves == 0)
		{
			fprintf(stderr, "bench_copy: \"%s\" has no table to read\n", qname);
			return 2;
		}
		free(qname);
	}

	/* Connect every worker before the clock starts. */
	workers = fk_calloc(njobs, sizeof(Worker));
	for (int i = 0; i < njobs; i++)
	{
		char name[32];

		snprintf(name, sizeof(name), "worker %d", i + 1);
		workers[i].sh = &sh;
		workers[i].t_end = fk_calloc(sh.ntables, sizeof(double));
		workers[i].conn = pgconn_connect(&sh.co, name);
		if (workers[i].conn == NULL || !snapshot_import(workers[i].conn, snapshot))
			return 2;
	}
	pthread_barrier_init(&sh.barrier, NULL, (unsigned) njobs);

	t0 = now_s();
	for (int i = 0; i < njobs; i++)
	{
		int err = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);

		if (err != 0)
		{
			fprintf(stderr, "bench_copy: pthread_create: %s\n", strerror(err));
			return 2;
		}
	}
	for (int i = 0; i < njobs; i++)
		pthread_join(workers[i].thread, NULL);
	t1 = now_s();
	for (int i = 0; i < sh.ntables; i++)
		for (int j = 0; j < njobs; j++)
			if (workers[j].t_end[i] > sh.tables[i].t_end)
				sh.tables[i].t_end = workers[j].t_end[i];

	if (atomic_load(&sh.failed))
		rc = 2;
	for (int i = 0; i < sh.ntables; i++)
	{
		Table	 *t = &sh.tables[i];
		double	  start = (i == 0 || sh.overlap) ? t0 : sh.tables[0].t_end;
		double	  secs = t->t_end - start;
		long long rows = atomic_load(&t->rows);
		long long bytes = atomic_load(&t->bytes);

		printf("table=%s columns=%s slices=%d rows=%lld bytes=%lld seconds=%.3f"
			   " rows_per_s=%.0f\n",
			   t->name, t->columns, t->nslices, rows, bytes, secs, secs > 0 ? rows / secs : 0.0);
		total_rows += rows;
		total_bytes += bytes;
	}
	printf("total connections=%d format=%s rows=%lld bytes=%lld seconds=%.3f\n", njobs,
		   sh.binary ? "binary" : "text", total_rows, total_bytes, t1 - t0);

	for (int i = 0; i < njobs; i++)
	{
		pgconn_free(workers[i].conn);
		free(workers[i].t_end);
	}
	pgconn_free(coord);
	for (int i = 0; i < sh.ntables; i++)
	{
		for (int j = 0; j < sh.tables[i].nslices; j++)
			free(sh.tables[i].slices[j].sql);
		free(sh.tables[i].slices);
	}
	free(sh.tables);
	free(workers);
	free(snapshot);
	pthread_barrier_destroy(&sh.barrier);
	return rc;
}
