/*
 * standby.h
 *	  A hot standby's side of a scan (pgconn_in_recovery says whether the
 *	  server is one): refusing to write on one, how far it has received and replayed (and its lag), and pausing WAL replay for the
 *	  length of a scan (--pause-replay) so that no recovery conflict can
 *	  cancel it.
 *
 * A pause is undone whatever happens: standby_resume_replay() at the end and
 * on every error path, and from the signal thread when a second Ctrl-C ends
 * the process at once.  One paused connection per server (--replica).
 */
#ifndef FKSCAN_STANDBY_H
#define FKSCAN_STANDBY_H

#include "fkscan/options.h"
#include "fkscan/pgconn.h"
#include "fkscan/result.h"

/*
 * The connection a command writes through ("repair" for fix, "validate"):
 * NULL, after one line naming the command, when it cannot connect or when
 * apply is set and the server is a hot standby (read-only).
 */
PgConn *standby_connect_writer(const ConnOptions *co, bool apply, const char *command,
							   const char *verb);

/* Receive and replay LSNs, and the lag (0 when all received is replayed). */
bool standby_replay_position(PgConn *c, ReplayPosition *rp);

/* Pause replay on c and wait (up to 30 s) until it is paused; logs failures. */
bool standby_pause_replay(PgConn *c);

/* Resume what standby_pause_replay() paused on any server (retried quietly). */
void standby_resume_replay(void);

/* What makes servers one system (--replica), and where its WAL stands. */
typedef struct SystemIdentity
{
	char system[32]; /* pg_control_system().system_identifier */
	int	 timeline;	 /* the last checkpoint's (a standby's: restartpoint's) */
	char lsn[32];	 /* a standby's replay LSN, a primary's insert LSN */
} SystemIdentity;

bool standby_identity(PgConn *c, bool in_recovery, SystemIdentity *id);

#endif /* FKSCAN_STANDBY_H */
