/*
 * test_pool.c
 *	  The worker pool without a server: every job runs exactly once, on a
 *	  live thread; a thread that fails to start or loses itself takes no
 *	  more; a job it hands back (pool_requeue) runs again on another, even
 *	  the last one; a stop ends the handing out for all; the step callback sees
 *	  every wake and the phase ends only when it has nothing left.  Run
 *	  under ThreadSanitizer by make check.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "fkscan/pool.h"
#include "test.h"

#define NJOBS	 20000
#define NTHREADS 4

typedef struct Ctx
{
	atomic_int runs[NJOBS]; /* per job */
	atomic_int by_thread[NTHREADS];
	atomic_int taken;
	atomic_int ready;		  /* woken work for the step */
	int		   consumed;	  /* of ready, by the step (calling thread only) */
	int		   steps_idle;	  /* step calls with nothing running */
	int		   dead_at_start; /* bit per thread */
	int		   lose_job;	  /* the thread running it is lost after it */
	int		   requeue_job;	  /* ... and hands it back, the first time */
	atomic_int requeued;
	atomic_int lost_thread;
	atomic_int lost_count; /* its jobs by then */
	int		   stop_after; /* stop once this many jobs were taken; 0: never */
	bool	   wake;	   /* jobs call pool_wake */
	Pool	  *pool;
} Ctx;

static bool
start(void *arg, int id)
{
	Ctx *c = arg;

	return !(c->dead_at_start & (1 << id));
}

static bool
job(void *arg, int id, int i)
{
	Ctx *c = arg;
	int	 mine = atomic_fetch_add(&c->by_thread[id], 1) + 1;

	atomic_fetch_add(&c->runs[i], 1);
	atomic_fetch_add(&c->taken, 1);
	if (c->wake)
	{
		atomic_fetch_add(&c->ready, 1);
		pool_wake(c->pool);
	}
	if (i == c->requeue_job && atomic_fetch_add(&c->requeued, 1) == 0)
	{
		pool_requeue(c->pool, i);
		return false;
	}
	if (i == c->lose_job)
	{
		atomic_store(&c->lost_thread, id);
		atomic_store(&c->lost_count, mine);
		return false;
	}
	return true;
}

static bool
stop(void *arg)
{
	Ctx *c = arg;

	return c->stop_after > 0 && atomic_load(&c->taken) >= c->stop_after;
}

static double
step(void *arg, bool running)
{
	Ctx *c = arg;

	if (c->consumed < atomic_load(&c->ready))
	{
		c->consumed++;
		return 0;
	}
	if (!running)
		c->steps_idle++;
	return running ? 0.001 : -1;
}

static Ctx *
ctx_new(void)
{
	Ctx *c = calloc(1, sizeof(Ctx));

	c->lose_job = -1;
	c->requeue_job = -1;
	return c;
}

static int
count_runs(Ctx *c, int *twice)
{
	int n = 0;

	*twice = 0;
	for (int i = 0; i < NJOBS; i++)
	{
		n += atomic_load(&c->runs[i]) > 0;
		*twice += atomic_load(&c->runs[i]) > 1;
	}
	return n;
}

int
main(void)
{
	int twice;

	/* every job once, across the threads; two phases in a row */
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, stop, step, c};
		bool	  all_done = true;

		c->pool = pool_start(NTHREADS, start, c);
		is_int(pool_nthreads(c->pool), NTHREADS, "threads started");
		is_int(pool_nalive(c->pool), NTHREADS, "all alive");
		pool_run(c->pool, &ph);
		is_int(count_runs(c, &twice), NJOBS, "every job ran");
		is_int(twice, 0, "no job ran twice");
		for (int i = 0; i < NJOBS; i++)
			all_done &= pool_job_done(c->pool, i);
		ok(all_done, "pool_job_done for every job");
		is_int(pool_jobs_taken(c->pool), NJOBS, "jobs taken: all of them");
		is_int(c->steps_idle, 1, "the phase ended on one idle step");
		memset(c->runs, 0, sizeof(c->runs));
		c->wake = true;
		pool_run(c->pool, &ph);
		is_int(count_runs(c, &twice), NJOBS, "a second phase: every job ran again");
		is_int(c->consumed, NJOBS, "the step saw every wake before the phase ended");
		pool_free(c->pool);
		free(c);
	}
	/* threads that fail to start take nothing */
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, NULL, NULL, c};

		c->dead_at_start = (1 << 1) | (1 << 3);
		c->pool = pool_start(NTHREADS, start, c);
		is_int(pool_nalive(c->pool), 2, "two of four started");
		ok(!pool_alive(c->pool, 1) && pool_alive(c->pool, 2), "which ones");
		pool_run(c->pool, &ph);
		is_int(count_runs(c, &twice), NJOBS, "the live ones ran every job");
		ok(atomic_load(&c->by_thread[1]) == 0 && atomic_load(&c->by_thread[3]) == 0,
		   "the dead ones none");
		pool_free(c->pool);
		free(c);
	}
	/* a thread lost mid-phase: the others finish its share */
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, NULL, step, c};

		c->lose_job = 7;
		c->pool = pool_start(NTHREADS, start, c);
		pool_run(c->pool, &ph);
		is_int(atomic_load(&c->by_thread[atomic_load(&c->lost_thread)]),
			   atomic_load(&c->lost_count),
			   "the lost thread took no job after the one it was lost in");
		is_int(count_runs(c, &twice), NJOBS, "the others ran the rest");
		is_int(twice, 0, "nothing twice");
		is_int(pool_nalive(c->pool), NTHREADS - 1, "one thread fewer alive");
		pool_free(c->pool);
		free(c);
	}
	/* a lost thread's job handed back: another runs it, even the last job */
	for (int j = 0; j < 2; j++)
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, NULL, step, c};
		int		  at = j == 0 ? 5 : NJOBS - 1;

		c->requeue_job = at;
		c->pool = pool_start(NTHREADS, start, c);
		pool_run(c->pool, &ph);
		is_int(count_runs(c, &twice), NJOBS, "requeued: every job ran");
		is_int(twice, 1, "requeued: one ran twice");
		is_int(atomic_load(&c->runs[at]), 2, "requeued: the one handed back");
		ok(pool_job_done(c->pool, at), "requeued: done");
		is_int(pool_nalive(c->pool), NTHREADS - 1, "requeued: its thread is lost");
		pool_free(c->pool);
		free(c);
	}
	/* handed back by the only thread: nobody runs it, it is not done */
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, NULL, step, c};

		c->requeue_job = 3;
		c->pool = pool_start(1, start, c);
		pool_run(c->pool, &ph);
		is_int(count_runs(c, &twice), 4, "the only thread: jobs 0 to 3 ran");
		ok(!pool_job_done(c->pool, 3), "the one handed back is not done");
		ok(pool_job_done(c->pool, 2), "the one before is");
		pool_free(c->pool);
		free(c);
	}
	/* a stop ends the handing out for every thread */
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, stop, step, c};
		int		  done = 0;

		c->stop_after = 100;
		c->pool = pool_start(NTHREADS, start, c);
		pool_run(c->pool, &ph);
		for (int i = 0; i < NJOBS; i++)
			done += pool_job_done(c->pool, i);
		ok(done >= 100 && done < 100 + NTHREADS + 1, "stopped: about 100 jobs ran, no more");
		is_int(count_runs(c, &twice), done, "pool_job_done says exactly which ran");
		pool_free(c->pool);
		free(c);
	}
	/* no live thread: the phase returns, nothing ran */
	{
		Ctx		 *c = ctx_new();
		PoolPhase ph = {NJOBS, job, NULL, step, c};

		c->dead_at_start = (1 << NTHREADS) - 1;
		c->pool = pool_start(NTHREADS, start, c);
		is_int(pool_nalive(c->pool), 0, "none alive");
		pool_run(c->pool, &ph);
		is_int(count_runs(c, &twice), 0, "no job ran");
		ok(!pool_job_done(c->pool, 0), "and none is done");
		pool_free(c->pool);
		free(c);
	}
	pool_free(NULL);
	return done_testing();
}
