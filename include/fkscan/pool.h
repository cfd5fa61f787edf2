/*
 * pool.h
 *	  A pool of worker threads running phases of numbered jobs (pg_dump's
 *	  parallel.c and fe_utils' parallel_slot keep the pool apart from the
 *	  work, and so does this): it knows threads, a job queue and who is
 *	  still alive, nothing about connections, snapshots or foreign keys.
 *
 * Each thread first runs the start callback (e.g. connect and import a
 * snapshot: connections are made in parallel, each owned by its thread for
 * life); a thread whose start fails, or whose job reports it lost, takes no
 * more jobs.  A phase hands out jobs [0, njobs) from one atomic counter, so
 * nothing is shared on the hot path.  Meanwhile the calling thread runs the
 * phase's step callback (progress, budgets, finishing what is ready).  A
 * stop (Ctrl-C, a budget) ends the handing out for every thread at once;
 * jobs never taken are reported by pool_job_done() for the caller to fail.
 */
#ifndef FKSCAN_POOL_H
#define FKSCAN_POOL_H

#include <stdbool.h>

typedef struct Pool Pool;

/* On worker thread `worker` before any job; false: it is dead from the start. */
typedef bool (*PoolStartFn)(void *ctx, int worker);

typedef struct PoolPhase
{
	int njobs;
	/* one job, on a worker's thread; false: this worker can take no more */
	bool (*job)(void *ctx, int worker, int job);
	/* checked before each job; true stops the handing out (NULL: never) */
	bool (*stop)(void *ctx);

	/*
	 * On the calling thread, first at the start, then whenever the last
	 * wait ended: its time ran out, pool_wake() was called, or the last job
	 * ended.  running: jobs are still out.  Returns the seconds to wait
	 * before the next call, 0 to be called again at once, or a negative
	 * number to wait without a deadline.  The phase ends when it returns
	 * nonzero with nothing running.  NULL: just wait for the jobs.
	 */
	double (*step)(void *ctx, bool running);
	void *ctx;
} PoolPhase;

/*
 * Start nthreads threads and wait until each has run start; never NULL (a
 * thread that cannot be created is left out, logged).
 */
Pool *pool_start(int nthreads, PoolStartFn start, void *ctx);

int	 pool_nthreads(const Pool *p); /* started */
int	 pool_nalive(Pool *p);		   /* these lock: not const */
bool pool_alive(Pool *p, int worker);

/* Run one phase to its end (see PoolPhase); phases run one at a time. */
void pool_run(Pool *p, const PoolPhase *phase);

/* Of the last phase: was job i run (false: never handed out)? */
bool pool_job_done(Pool *p, int job);

/* Of the phase running (or the last): how many jobs were handed out. */
int pool_jobs_taken(Pool *p);

/*
 * From a job, on a worker about to report itself lost: hand job back, for
 * a thread still alive to run from the start (one waits for it while jobs
 * are in flight).  Never run again: pool_job_done() says so.
 */
void pool_requeue(Pool *p, int job);

/* Wake the calling thread's step (from a job: "something is ready"). */
void pool_wake(Pool *p);

/* End the threads (after their current phase) and free; NULL is a no-op. */
void pool_free(Pool *p);

#endif /* FKSCAN_POOL_H */
