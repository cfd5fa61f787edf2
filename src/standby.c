/*
 * standby.c
 *	  A hot standby's side of a scan; see standby.h.
 */
#include "fkscan/standby.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/signals.h"

static bool
replay_row(void *ctx, const PGresult *res, int row)
{
	ReplayPosition *rp = ctx;

	snprintf(rp->receive_lsn, sizeof(rp->receive_lsn), "%s", PQgetvalue(res, row, 0));
	snprintf(rp->replay_lsn, sizeof(rp->replay_lsn), "%s", PQgetvalue(res, row, 1));
	rp->lag_s = strtod(PQgetvalue(res, row, 2), NULL);
	rp->known = true;
	return true;
}

/*
 * The connection that pauses replay also resumes it, whatever happens: at
 * the end, on error, and from the signal thread when a second Ctrl-C ends
 * the process at once.  The lock keeps the two threads off it together:
 * every use of that connection here takes it (a libpq connection is one
 * thread's at a time).
 */
static pthread_mutex_t replay_lock = PTHREAD_MUTEX_INITIALIZER;
static PgConn		  *replay_paused_on[1 + MAX_REPLICAS]; /* one per server */
static int			   npaused;

/* Lag is 0 when all that was received is replayed (an idle primary). */
bool
standby_replay_position(PgConn *c, ReplayPosition *rp)
{
	bool ok;

	pthread_mutex_lock(&replay_lock);
	ok = pgconn_exec(c,
					 "SELECT coalesce(pg_catalog.pg_last_wal_receive_lsn()::pg_catalog.text, ''), "
					 "coalesce(pg_catalog.pg_last_wal_replay_lsn()::pg_catalog.text, ''), "
					 "CASE WHEN pg_catalog.pg_last_wal_receive_lsn() OPERATOR(pg_catalog.=) "
					 "pg_catalog.pg_last_wal_replay_lsn() THEN 0 ELSE coalesce(extract(epoch FROM "
					 "pg_catalog.now() OPERATOR(pg_catalog.-) "
					 "pg_catalog.pg_last_xact_replay_timestamp()), 0) END",
					 0, NULL, replay_row, rp);
	pthread_mutex_unlock(&replay_lock);
	return ok;
}

/*
 * Replay held back may cancel the resume itself at once (a conflict with
 * what it releases, before the statement returns): try again, quietly, a
 * few times before giving up loudly.  A resume of running replay is a no-op.
 */
void
standby_resume_replay(void)
{
	pthread_mutex_lock(&replay_lock);
	for (int k = 0; k < npaused; k++)
	{
		PgConn *c = replay_paused_on[k];
		bool	ok = false;

		for (int i = 0; !ok && i < 10; i++)
		{
			pgconn_set_quiet(c, true);
			ok = pgconn_exec(c, "SELECT pg_catalog.pg_wal_replay_resume()", 0, NULL, NULL, NULL);
			pgconn_set_quiet(c, false);
			if (ok)
				log_info("WAL replay resumed");
			else if (!pgconn_alive(c))
				(void) pgconn_reset(c);
			else
				usleep(100000);
		}
		if (!ok)
		{
			log_error("could not resume WAL replay: %s", pgconn_error(c, "unknown error"));
			log_hint("Run \"SELECT pg_wal_replay_resume()\" on the standby.");
		}
	}
	npaused = 0;
	signals_set_exit_hook(NULL);
	pthread_mutex_unlock(&replay_lock);
}

static bool
bool_row(void *ctx, const PGresult *res, int row)
{
	*(bool *) ctx = strcmp(PQgetvalue(res, row, 0), "t") == 0;
	return true;
}

PgConn *
standby_connect_writer(const ConnOptions *co, bool apply, const char *command, const char *verb)
{
	PgConn *c = pgconn_connect(co, verb);
	bool	in_recovery = false;

	if (c && !pgconn_in_recovery(c, &in_recovery))
	{
		pgconn_free(c);
		return NULL;
	}
	if (c && in_recovery && apply)
	{
		log_error("cannot %s on a hot standby: the server is in recovery (read-only)", verb);
		log_hint("Run fkscan %s --apply against the primary.", command);
		pgconn_free(c);
		return NULL;
	}
	return c;
}

bool
standby_pause_replay(PgConn *c)
{
	/* 14: pg_get_wal_replay_pause_state() tells a pause in effect from one requested */
	const char *state_sql =
		pgconn_server_version(c) >= FK_PG14
			? "SELECT pg_catalog.pg_get_wal_replay_pause_state() OPERATOR(pg_catalog.=) 'paused'"
			: "SELECT pg_catalog.pg_is_wal_replay_paused()";

	pthread_mutex_lock(&replay_lock);
	if (!pgconn_exec(c, "SELECT pg_catalog.pg_wal_replay_pause()", 0, NULL, NULL, NULL))
	{
		pthread_mutex_unlock(&replay_lock);
		log_hint("--pause-replay needs a superuser, or EXECUTE on pg_wal_replay_pause() and "
				 "pg_wal_replay_resume().");
		return false;
	}
	replay_paused_on[npaused++] = c;
	signals_set_exit_hook(standby_resume_replay);
	pthread_mutex_unlock(&replay_lock);
	/* a pause takes effect between records: wait until it has */
	for (int i = 0; i < 600 && !signals_interrupted(); i++)
	{
		bool paused = false;

		pthread_mutex_lock(&replay_lock);
		if (!pgconn_exec(c, state_sql, 0, NULL, bool_row, &paused))
		{
			pthread_mutex_unlock(&replay_lock);
			return false;
		}
		pthread_mutex_unlock(&replay_lock);
		if (paused)
		{
			log_info("WAL replay paused");
			return true;
		}
		usleep(50000);
	}
	if (!signals_interrupted())
		log_error("WAL replay did not pause within 30 s");
	return false;
}

static bool
identity_row(void *ctx, const PGresult *res, int row)
{
	SystemIdentity *id = ctx;

	snprintf(id->system, sizeof(id->system), "%s", PQgetvalue(res, row, 0));
	id->timeline = atoi(PQgetvalue(res, row, 1));
	snprintf(id->lsn, sizeof(id->lsn), "%s", PQgetvalue(res, row, 2));
	return true;
}

bool
standby_identity(PgConn *c, bool in_recovery, SystemIdentity *id)
{
	/* a standby's timeline is its replay's, a primary's its insert's */
	const char *sql =
		in_recovery ? "SELECT s.system_identifier::pg_catalog.text, c.timeline_id, "
					  "coalesce(pg_catalog.pg_last_wal_replay_lsn()::pg_catalog.text, '') "
					  "FROM pg_catalog.pg_control_system() s, pg_catalog.pg_control_checkpoint() c"
					: "SELECT s.system_identifier::pg_catalog.text, c.timeline_id, "
					  "pg_catalog.pg_current_wal_lsn()::pg_catalog.text "
					  "FROM pg_catalog.pg_control_system() s, pg_catalog.pg_control_checkpoint() c";
	bool ok;

	memset(id, 0, sizeof(*id));
	pthread_mutex_lock(&replay_lock);
	ok = pgconn_exec(c, sql, 0, NULL, identity_row, id);
	pthread_mutex_unlock(&replay_lock);
	return ok;
}
