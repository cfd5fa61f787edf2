/*
 * scanint.h
 *	  Inside the scan: the state its stages share.  scan.c runs the pool
 *	  and the phases; scan_parents.c (phase 1) builds the parent key sets,
 *	  scan_children.c (phase 2) probes the child keys, scan_finish.c turns
 *	  each FK's findings into its result; scan_chunk.c is what every chunk
 *	  shares (its SQL, errors, retries).  pace.c and resume.c own --max-rate,
 *	  --max-time and --state; pool.c the threads.
 */
#ifndef FKSCAN_SCANINT_H
#define FKSCAN_SCANINT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fkscan/baseline.h"
#include "fkscan/candset.h"
#include "fkscan/catalog.h"
#include "fkscan/copybin.h"
#include "fkscan/fpset.h"
#include "fkscan/hset128.h"
#include "fkscan/keyset.h"
#include "fkscan/options.h"
#include "fkscan/orphans.h"
#include "fkscan/pace.h"
#include "fkscan/partial.h"
#include "fkscan/pgconn.h"
#include "fkscan/plan.h"
#include "fkscan/pool.h"
#include "fkscan/report.h"
#include "fkscan/result.h"
#include "fkscan/resume.h"
#include "fkscan/scan.h"
#include "fkscan/state.h"
#include "fkscan/strbuf.h"

/* Keys probed per call: big enough to amortise, small enough for L1. */
#define PROBE_BATCH 4096
/* Rows between checks of the cancel flag, progress counters and throttle. */
#define CHECK_EVERY_ROWS 4096

/* ChildCtx.missing serves both PROBE_BATCH rows and a decoder's key batch. */
_Static_assert(COPYBIN_KEY_BATCH <= PROBE_BATCH, "probe buffers too small for a key batch");

/* A parent key set, of whichever kind its ParentSet says; an FK's orphan keys. */
typedef struct KeySet
{
	KeySet64 *ints;
	FpSet	 *prints;	 /* a hashed parent set */
	HSet128	 *hashes;	 /* orphan_keys: hashed ones */
	CandSet	 *cands;	 /* orphan_keys with keep_keys: the raw candidates */
	bool	 *confirmed; /* ... and which of them are orphans */
} KeySet;

typedef struct Scan Scan;

typedef struct Worker
{
	Scan	  *scan;
	int		   id;
	PgConn	  *conn;
	bool	   alive; /* connected and in the snapshot */
	KeySet	  *sets;  /* partial parent sets, one per ParentSet */
	FkPartial *fks;	  /* one per FK */
	/* --spread chunk: its server, and what it read there */
	int		 server;
	uint64_t rows;
	uint64_t bytes;
} Worker;

/* First failure of each unit of work (under Scan.lock); NULL while fine. */
typedef struct ScanErrors
{
	char **set;	 /* per ParentSet */
	char **pass; /* per ChildPass */
	char **fk;	 /* per FK */
} ScanErrors;

/* The phase running: its chunks, since when, which slice of the key space. */
typedef struct ScanPhase
{
	const Chunk	   *chunks;
	int				nchunks;
	struct timespec start;
	int				key_pass;	/* which slice of the hashed key space */
	uint64_t		rows_start; /* pace rows when it began */
	double			est_rows;	/* rows its chunks hold, from reltuples; 0: unknown */
} ScanPhase;

/*
 * Long sweeps (issue #10).  FKs are finished one by one as the last of
 * their chunks ends: workers queue them in ready[], the coordinator
 * confirms them on its own snapshot (inside a savepoint), records them in
 * the --state file and streams their JSON line.
 */
typedef struct EarlyFinish
{
	bool *finished;	 /* per FK: its result is final (or failed) */
	bool  track;	 /* phase 2 of the last key pass: queue finished FKs */
	int	 *pass_left; /* per ChildPass: its chunks not yet handled */
	int	 *ready;	 /* FKs whose every chunk is handled, in order */
	int	  nready;
	int	  ndone; /* of ready[], finished by the coordinator */
} EarlyFinish;

struct Scan
{
	const FkOptions	  *opt;
	const ConnOptions *conn;   /* the server read (--replica: one of several) */
	const char		  *server; /* "replica 1: " in its messages, or "" */
	const Catalog	  *cat;
	const ScanPlan	  *plan;
	char			  *snapshot;
	PgConn			  *coord;	 /* holds the exported snapshot (snapshot mode) */
	ScanResult		  *res;		 /* filled FK by FK */
	ReportStream	  *stream;	 /* --format jsonl lines as FKs finish */
	StateFile		  *state;	 /* --state, or NULL */
	const Baseline	  *baseline; /* --baseline, or NULL */

	/* the pool */
	Worker		   *workers;
	int				nworkers; /* allocated */
	Pool		   *pool;	  /* their threads */
	ScanPhase		phase;
	Pace			pace; /* rows, bytes, --max-rate, --max-time, Ctrl-C */
	pthread_mutex_t lock; /* errors, fk_end, early.ready[] */
	ScanErrors		errors;
	atomic_bool		conflict;		 /* a recovery conflict (40001) hit this attempt */
	bool			mixed_snapshots; /* chunk mode: not everything read on one snapshot */
	atomic_int		chunk_retries;	 /* chunks re-read on a fresh snapshot */

	/* what the phases find */
	KeySet	   *sets;			/* merged and frozen after phase 1 */
	double	   *fk_end;			/* seconds since start when its last chunk ended */
	FkResult   *server_results; /* per FK, filled by CHUNK_SERVER */
	KeySet	   *orphan_keys;	/* per FK, the final orphan keys (for --orphans-out) */
	EarlyFinish early;

	/*
	 * --state chunk records: chunks an earlier run recorded are in the plan
	 * (Chunk.recorded) but not read; their findings are in resume.found.
	 */
	Resume resume;

	int	 chunks_read; /* handed out to workers, every phase */
	int *out_slot;	  /* --replica: FK i's slot in the shared --orphans-out */
	/* --spread chunk: the servers the workers are spread over (0: conn) */
	const ConnOptions *spread;
	const char *const *spread_names; /* "replica 1: " */
	int				   nspread;
	atomic_bool		  *spread_lost;	  /* per server: its loss was told */
	atomic_int		  *spread_chunks; /* per server: chunks its workers read */

	/* for the caller */
	bool	keep_keys; /* the caller wants the orphan keys (fix) */
	PgConn *verifier;  /* after the pool: a connection in the snapshot */
};

/* Does this fingerprint belong to the current slice of the key space? */
static inline bool
in_key_pass(const Scan *s, Hash128 h)
{
	return s->plan->key_passes == 1 ||
		   hash128_mix(h) % (uint64_t) s->plan->key_passes == (uint64_t) s->phase.key_pass;
}

/* What every attempt of one run on one server shares. */
typedef struct Run
{
	const FkOptions	  *opt;
	bool			   keep_keys;
	bool			   in_recovery;
	bool			   progress;
	ReportStream	  *stream; /* NULL: no report while scanning */
	StateFile		  *state;
	const Baseline	  *baseline;
	const ConnOptions *conn;   /* the server */
	const char		  *server; /* "replica 1: " before its messages, or "" */
	/* --replica: the FKs are main_cat's, this server reads the assigned ones */
	const Catalog *main_cat;
	const bool	  *assigned; /* NULL: every FK */
	OrphansOut	  *out;		 /* the shared --orphans-out, slots in main_cat's order */
	/* --spread chunk: every worker pool spread over these servers (0: conn) */
	const ConnOptions *spread;
	const char *const *spread_names;
	int				   nspread;
	ServerFigures	  *figs; /* per server: its chunks, rows, bytes added */
} Run;

/* scan.c: one server's attempts, its standby side, the run's totals */
bool scan_attempts(const Run *run, const struct timespec *start, ScanResult *res, Catalog **cat,
				   Scan **kept, int *attempts, bool *conflict);
void attempt_free(Scan *s);
bool scan_standby_start(PgConn *control, const FkOptions *opt, const char *server,
						bool *in_recovery, ReplayPosition *start, bool *paused);
void scan_sum_up(ScanResult *res, const FkOptions *opt, double elapsed_s);

/* scan_servers.c: --replica, one sweep spread over servers FK by FK */
typedef struct ServerSweep ServerSweep;
bool servers_scan(const Run *base, const struct timespec *start, ScanResult *res, Catalog **cat,
				  ServerSweep **sweep);
void servers_free(ServerSweep *sweep);

/* scan_chunk.c */
const ConnOptions *worker_server(const Worker *w);
void			   record_error(Scan *s, char **slot, const char *msg); /* first wins */
bool			   has_error(Scan *s, char *const *slot);
void			   note_fk_end(Scan *s, int fk);
void			   recover_worker(Worker *w);
FetchMethod		   fetch_for(const FkOptions *opt, bool int_only);
void chunk_select(StrBuf *sql, const Chunk *c, const CatColumn *const *cols, int ncols);
bool is_conflict(const Catalog *cat, PgConn *c);
bool chunk_failed(Worker *w, char **slot, const Chunk *c, bool bad_value, int attempt);

/* scan_parents.c: phase 1 */
void prepare_partial_sets(Scan *s);
bool run_parent_chunk(Worker *w, const Chunk *c, int attempt);
void merge_parent_sets(Scan *s);

/* scan_children.c: phase 2 */
bool run_child_chunk(Worker *w, int chunk_index, int attempt);

/* scan_finish.c: an FK's result, as its last chunk ends or at the end */
void finish_early(Scan *s, int i);
void finish_fk(Scan *s, PgConn *verifier, ScanResult *res, int i);
void finish_and_write(Scan *s, PgConn *c, ScanResult *res, int i, OrphansOut *out);

#endif /* FKSCAN_SCANINT_H */
