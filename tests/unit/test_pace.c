/*
 * test_pace.c
 *	  --max-rate and --max-time without a server: the throttle never lets the
 *	  rows or bytes get ahead of the rate (a lower bound on the time, so it
 *	  cannot flake); the budget expires, stops the streams, then cancels.
 */
#include <unistd.h>

#include "fkscan/pace.h"
#include "test.h"

int
main(void)
{
	Pace   p;
	double due;

	pace_init(&p, 0, 0, 0, 0);
	ok(pace_tick(&p, 4096), "no limits: a tick goes on");
	pace_count(&p, 10);
	is_int(atomic_load(&p.rows), 4106, "rows are counted");
	ok(pace_stop_reason(&p) == NULL, "no stop reason");
	ok(pace_step(&p) < 0, "no budget: nothing to watch");

	/* 1000 rows/s: 50 rows are due at 0.05 s */
	pace_init(&p, 1000, 0, 0, 0);
	ok(pace_tick(&p, 50), "--max-rate rows: the tick goes on");
	ok(pace_elapsed(&p) >= 0.05, "... after the rows were due");

	/* 1 MB/s: 50 kB are due at 0.05 s, whatever the rows */
	pace_init(&p, 1e9, 1e6, 0, 0);
	atomic_store(&p.bytes, 50000);
	pace_throttle(&p);
	ok(pace_elapsed(&p) >= 0.05, "--max-rate bytes: after the bytes were due");

	/* a 0.05 s budget */
	pace_init(&p, 0, 0, 0.05, 0.05);
	due = pace_step(&p);
	ok(due > 0 && due <= 0.05, "budget: due within it");
	usleep(60 * 1000);
	ok(pace_tick(&p, 1), "budget: streams go on until the coordinator's step");
	is_int((int64_t) (pace_step(&p) * 1000), 0, "budget: the step acts at the deadline");
	ok(pace_stopping(&p), "budget: expired, the streams stop");
	ok(!pace_tick(&p, 1), "... at their next tick");
	is_str(pace_stop_reason(&p), PACE_BUDGET_REASON, "... reported as the budget");
	due = pace_step(&p);
	ok(due > 0 && due <= 1.0, "budget: a second's grace for the streams");
	usleep((useconds_t) (due * 1e6) + 10 * 1000);
	is_int((int64_t) (pace_step(&p) * 1000), 0, "budget: then the queries are cancelled");
	ok(p.cancelled, "... once");
	ok(pace_step(&p) < 0, "... and nothing is left to watch");
	return done_testing();
}
