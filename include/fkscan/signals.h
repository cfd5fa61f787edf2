/*
 * signals.h
 *	  Ctrl-C handling: a cancel flag every loop checks between batches, and a
 *	  registry of connections whose running query is cancelled on SIGINT or
 *	  SIGTERM.
 *
 * signals_setup() blocks the signals in the calling thread (call it before
 * creating any other thread, so every thread inherits the mask) and starts
 * one watcher thread that sigwait()s for them.  The watcher runs ordinary
 * code, so it may lock the registry and call PQcancel().  A second signal
 * ends the process at once with exit code 2.
 */
#ifndef FKSCAN_SIGNALS_H
#define FKSCAN_SIGNALS_H

#include <libpq-fe.h>

#include "fkscan/common.h"

bool signals_setup(void);
void signals_teardown(void);

/* True once SIGINT, SIGTERM or SIGHUP arrived, or signals_stop() ran. */
bool signals_interrupted(void);

/* Cancel the running query of every registered connection (first error). */
void signals_cancel_queries(void);

/*
 * Stop as a signal would (the flag set, every query cancelled), e.g. when the
 * reader of a streamed report went away; why ends "fkscan: canceling: ".
 */
void signals_stop(const char *why);

/*
 * From now on, stop (as signals_stop) when the reader of the pipe fd writes
 * into goes away, checked every 200 ms: a streamed report read by `head -1`
 * must not keep the scan running.  -1 stops watching.
 */
void signals_watch_output(int fd);

/*
 * Run fn from the signal thread before a second signal ends the process at
 * once (e.g. to resume WAL replay that fkscan paused); NULL clears it.
 */
void signals_set_exit_hook(void (*fn)(void));

/* Register a connection for cancellation; returns a slot, -1 if full. */
int	 signals_register(PGconn *conn);
void signals_unregister(int slot);

#endif /* FKSCAN_SIGNALS_H */
