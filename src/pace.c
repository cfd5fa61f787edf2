/*
 * pace.c
 *	  --max-rate, --max-time, Ctrl-C and progress for a scan's readers
 */
#include "fkscan/pace.h"

#include <stdio.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/signals.h"

void
pace_init(Pace *p, double max_rate, double max_rate_bytes, double max_time_s, double budget_s)
{
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->max_rate = max_rate;
	p->max_rate_bytes = max_rate_bytes;
	p->max_time_s = max_time_s;
	p->budget_s = budget_s;
	atomic_init(&p->rows, 0);
	atomic_init(&p->bytes, 0);
	atomic_init(&p->expired, false);
	p->cancelled = false;
}

double
pace_seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - t0->tv_sec) + (double) (now.tv_nsec - t0->tv_nsec) / 1e9;
}

double
pace_elapsed(const Pace *p)
{
	return pace_seconds_since(&p->start);
}

bool
pace_stopping(const Pace *p)
{
	return signals_interrupted() || atomic_load_explicit(&p->expired, memory_order_relaxed);
}

const char *
pace_stop_reason(const Pace *p)
{
	if (signals_interrupted())
		return "interrupted";
	if (atomic_load(&p->expired))
		return PACE_BUDGET_REASON;
	return NULL;
}

void
pace_count(Pace *p, uint64_t rows)
{
	atomic_fetch_add_explicit(&p->rows, rows, memory_order_relaxed);
}

/* Sleeps in slices, so Ctrl-C stays prompt. */
void
pace_throttle(Pace *p)
{
	double due = 0, now;

	if (p->max_rate <= 0 && p->max_rate_bytes <= 0)
		return;
	if (p->max_rate > 0)
		due = (double) atomic_load_explicit(&p->rows, memory_order_relaxed) / p->max_rate;
	if (p->max_rate_bytes > 0)
	{
		double due_b =
			(double) atomic_load_explicit(&p->bytes, memory_order_relaxed) / p->max_rate_bytes;

		if (due_b > due)
			due = due_b;
	}
	while ((now = pace_elapsed(p)) < due && !pace_stopping(p))
	{
		double nap = due - now < 0.1 ? due - now : 0.1;

		usleep((useconds_t) (nap * 1e6));
	}
}

bool
pace_tick(Pace *p, uint64_t rows)
{
	pace_count(p, rows);
	if (pace_stopping(p))
		return false;
	pace_throttle(p);
	return true;
}

double
pace_step(Pace *p)
{
	bool   expired;
	double left;

	if (p->budget_s <= 0 || p->cancelled)
		return -1;
	expired = atomic_load(&p->expired);
	left = p->budget_s + (expired ? 1.0 : 0.0) - pace_elapsed(p);
	if (left > 0)
		return left < 1.0 ? left : 1.0;
	if (!expired)
	{
		atomic_store(&p->expired, true);
		log_warning("--max-time %.1f s reached: stopping; unfinished foreign keys are incomplete",
					p->max_time_s);
	}
	else
	{
		/* the streams had their second: what still runs is a query */
		signals_cancel_queries();
		p->cancelled = true;
	}
	return 0;
}

void
pace_progress(const Pace *p, const char *what, int done, int total, double phase_secs,
			  double frac_done, bool final)
{
	char	 line[256];
	char	 eta[32] = "";
	double	 secs = pace_elapsed(p);
	uint64_t rows = atomic_load(&p->rows);
	uint64_t bytes = atomic_load(&p->bytes);

	if (!final && frac_done > 0)
		snprintf(eta, sizeof(eta), ", ETA %.0f s", phase_secs * (1 - frac_done) / frac_done);
	snprintf(line, sizeof(line),
			 "\r%s: %d/%d chunks, %.1f M rows, %.0f MB, %.1f M rows/s, %.1f s%s  %s", what, done,
			 total, (double) rows / 1e6, (double) bytes / 1e6,
			 secs > 0 ? (double) rows / 1e6 / secs : 0.0, secs, eta, final ? "\n" : "");
	log_raw(line);
}
