/*
 * pool.c
 *	  Worker threads running phases of numbered jobs; see pool.h.
 */
#include "fkscan/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"

typedef struct PoolThread
{
	Pool	 *pool;
	int		  id;
	pthread_t thread;
} PoolThread;

struct Pool
{
	PoolStartFn start;
	void	   *start_ctx;
	PoolThread *threads;
	int			nthreads; /* started */

	pthread_mutex_t	 lock;
	pthread_cond_t	 cv_phase; /* a new phase, or quit */
	pthread_cond_t	 cv_done;  /* busy reached 0, or pool_wake() */
	bool			*alive;	   /* per thread; under lock */
	int				 gen;	   /* phases started */
	bool			 quit;
	int				 busy; /* threads not yet idle in this phase */
	bool			 woken;
	const PoolPhase *phase; /* running, or NULL */
	int				 njobs; /* of the last phase */
	bool			*done;	/* per job of the last phase */
	atomic_int		 next;	/* the next job to hand out */
	atomic_bool		 stopped;
	/* jobs handed back by a worker that lost them (pool_requeue); under lock */
	int			  *requeued;
	int			   nrequeued;
	int			   inflight;   /* jobs being run */
	pthread_cond_t cv_requeue; /* a job handed back, or none in flight */
};

/*
 * The next job: the counter's, else one handed back, waiting while others
 * still run jobs (they may hand theirs back); -1 when none is left.
 */
static int
next_job(Pool *p, const PoolPhase *ph)
{
	int i = atomic_fetch_add(&p->next, 1);

	pthread_mutex_lock(&p->lock);
	if (i >= ph->njobs)
	{
		i = -1;
		while (p->nrequeued == 0 && p->inflight > 0 && !atomic_load(&p->stopped))
			pthread_cond_wait(&p->cv_requeue, &p->lock);
		if (p->nrequeued > 0 && !atomic_load(&p->stopped))
			i = p->requeued[--p->nrequeued];
	}
	if (i >= 0)
	{
		p->inflight++;
		p->done[i] = true; /* read after the phase, ordered by the lock */
	}
	pthread_mutex_unlock(&p->lock);
	return i;
}

static void
job_ended(Pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (--p->inflight == 0)
		pthread_cond_broadcast(&p->cv_requeue);
	pthread_mutex_unlock(&p->lock);
}

static void
stop_phase(Pool *p)
{
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stopped, true);
	pthread_cond_broadcast(&p->cv_requeue);
	pthread_mutex_unlock(&p->lock);
}

/* Take jobs until none is left, the phase stops, or this thread is lost. */
static bool
run_jobs(Pool *p, const PoolPhase *ph, int id, bool alive)
{
	while (alive && !atomic_load(&p->stopped))
	{
		int i;

		if (ph->stop && ph->stop(ph->ctx))
		{
			stop_phase(p);
			break;
		}
		if ((i = next_job(p, ph)) < 0)
			break;
		alive = ph->job(ph->ctx, id, i);
		job_ended(p);
	}
	return alive;
}

static void *
pool_thread(void *arg)
{
	PoolThread *t = arg;
	Pool	   *p = t->pool;
	bool		alive = p->start(p->start_ctx, t->id);
	int			gen = 0;

	pthread_mutex_lock(&p->lock);
	for (;;)
	{
		p->alive[t->id] = alive;
		if (--p->busy == 0)
			pthread_cond_broadcast(&p->cv_done);
		while (p->gen == gen && !p->quit)
			pthread_cond_wait(&p->cv_phase, &p->lock);
		if (p->quit)
			break;
		gen = p->gen;
		{
			const PoolPhase *ph = p->phase;

			pthread_mutex_unlock(&p->lock);
			alive = run_jobs(p, ph, t->id, alive);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

Pool *
pool_start(int nthreads, PoolStartFn start, void *ctx)
{
	Pool *p = fk_calloc(1, sizeof(Pool));

	p->start = start;
	p->start_ctx = ctx;
	p->threads = fk_calloc((size_t) (nthreads > 0 ? nthreads : 1), sizeof(PoolThread));
	p->alive = fk_calloc((size_t) (nthreads > 0 ? nthreads : 1), sizeof(bool));
	p->done = fk_calloc(1, sizeof(bool));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cv_phase, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	pthread_cond_init(&p->cv_requeue, NULL);
	pthread_mutex_lock(&p->lock);
	p->busy = nthreads;
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < nthreads; i++)
	{
		p->threads[i].pool = p;
		p->threads[i].id = i;
		if (pthread_create(&p->threads[i].thread, NULL, pool_thread, &p->threads[i]) != 0)
		{
			log_error("could not start worker thread %d", i + 1);
			pthread_mutex_lock(&p->lock);
			p->busy -= nthreads - i;
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->nthreads++;
	}
	pthread_mutex_lock(&p->lock);
	while (p->busy > 0)
		pthread_cond_wait(&p->cv_done, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return p;
}

int
pool_nthreads(const Pool *p)
{
	return p->nthreads;
}

int
pool_nalive(Pool *p)
{
	int n = 0;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		n += p->alive[i];
	pthread_mutex_unlock(&p->lock);
	return n;
}

bool
pool_alive(Pool *p, int worker)
{
	bool alive;

	pthread_mutex_lock(&p->lock);
	alive = worker >= 0 && worker < p->nthreads && p->alive[worker];
	pthread_mutex_unlock(&p->lock);
	return alive;
}

static void
wait_for(Pool *p, double seconds)
{
	struct timespec until;

	if (seconds < 0)
	{
		pthread_cond_wait(&p->cv_done, &p->lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t) seconds;
	until.tv_nsec += (long) ((seconds - (double) (time_t) seconds) * 1e9);
	if (until.tv_nsec >= 1000000000L)
	{
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->cv_done, &p->lock, &until);
}

void
pool_run(Pool *p, const PoolPhase *phase)
{
	pthread_mutex_lock(&p->lock);
	free(p->done);
	p->done = fk_calloc((size_t) (phase->njobs > 0 ? phase->njobs : 1), sizeof(bool));
	free(p->requeued);
	p->requeued = fk_calloc((size_t) (phase->njobs > 0 ? phase->njobs : 1), sizeof(int));
	p->nrequeued = 0;
	p->phase = phase;
	p->njobs = phase->njobs;
	atomic_store(&p->next, 0);
	atomic_store(&p->stopped, false);
	p->busy = p->nthreads;
	p->gen++;
	pthread_cond_broadcast(&p->cv_phase);
	for (;;)
	{
		bool   running = p->busy > 0;
		double wait;

		p->woken = false;
		pthread_mutex_unlock(&p->lock);
		wait = phase->step ? phase->step(phase->ctx, running) : -1;
		pthread_mutex_lock(&p->lock);
		if (wait == 0)
			continue;
		if (!running)
			break;
		/* whatever happened while step ran is for the next step */
		if (p->busy > 0 && !p->woken)
			wait_for(p, wait);
	}
	p->phase = NULL;
	pthread_mutex_unlock(&p->lock);
}

bool
pool_job_done(Pool *p, int job)
{
	bool done;

	pthread_mutex_lock(&p->lock);
	done = job >= 0 && job < p->njobs && p->done[job];
	pthread_mutex_unlock(&p->lock);
	return done;
}

int
pool_jobs_taken(Pool *p)
{
	int n = atomic_load(&p->next);

	return n < p->njobs ? n : p->njobs;
}

void
pool_requeue(Pool *p, int job)
{
	pthread_mutex_lock(&p->lock);
	if (job >= 0 && job < p->njobs && p->done[job])
	{
		p->done[job] = false;
		p->requeued[p->nrequeued++] = job;
		pthread_cond_broadcast(&p->cv_requeue);
	}
	pthread_mutex_unlock(&p->lock);
}

void
pool_wake(Pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->woken = true;
	pthread_cond_broadcast(&p->cv_done);
	pthread_mutex_unlock(&p->lock);
}

void
pool_free(Pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->cv_phase);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i].thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cv_phase);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_requeue);
	free(p->requeued);
	free(p->threads);
	free(p->alive);
	free(p->done);
	free(p);
}
