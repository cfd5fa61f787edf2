/*
 * pace.h
 *	  How fast and how long a scan reads: --max-rate (rows or bytes per
 *	  second over all workers), the --max-time budget, Ctrl-C, and the
 *	  progress line.
 *
 * Workers report rows with pace_tick() once per batch and learn there
 * whether to stop; the coordinator calls pace_step() between its other
 * duties to enforce the budget.  Nothing here knows what is being read.
 */
#ifndef FKSCAN_PACE_H
#define FKSCAN_PACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The error text of what --max-time left unread: reported "incomplete". */
#define PACE_BUDGET_REASON "not finished within --max-time"

typedef struct Pace
{
	struct timespec		 start;
	double				 max_rate;		 /* rows per second; 0: none */
	double				 max_rate_bytes; /* bytes per second; 0: none */
	double				 max_time_s;	 /* --max-time as given, for the warning */
	double				 budget_s;		 /* left for this attempt, from start; 0: none */
	atomic_uint_fast64_t rows;
	atomic_uint_fast64_t bytes; /* added to by rowsrc (rowsrc_count_bytes_into) */
	atomic_bool			 expired;
	bool				 cancelled; /* queries still running a second later: cancelled */
} Pace;

/* Starts the clock. */
extern void pace_init(Pace *p, double max_rate, double max_rate_bytes, double max_time_s,
					  double budget_s);

extern double pace_seconds_since(const struct timespec *t0);
extern double pace_elapsed(const Pace *p);

/* Ctrl-C, or the budget ran out: take no more work, stop streaming. */
extern bool pace_stopping(const Pace *p);

/* Why work was left undone ("interrupted", the budget), or NULL. */
extern const char *pace_stop_reason(const Pace *p);

/* Count rows read, without a stop check (a stream's last few rows). */
extern void pace_count(Pace *p, uint64_t rows);

/* Sleep while the rows and bytes read are ahead of --max-rate. */
extern void pace_throttle(Pace *p);

/* Count rows, then false to stop, else keep to --max-rate: once per batch. */
extern bool pace_tick(Pace *p, uint64_t rows);

/*
 * The coordinator's budget duty: at the deadline the budget expires (the
 * streams stop at their next batch); a second later the queries still
 * running are cancelled.  Returns the seconds until it is due again (at
 * most 1), 0 when it just acted, -1 when there is nothing to watch.
 */
extern double pace_step(Pace *p);

/*
 * The progress line on stderr, redrawn in place: done/total chunks of the
 * phase `what`, rows, bytes, rate; an ETA from frac_done (0: none).
 */
extern void pace_progress(const Pace *p, const char *what, int done, int total, double phase_secs,
						  double frac_done, bool final);

#endif /* FKSCAN_PACE_H */
