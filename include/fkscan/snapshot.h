/*
 * snapshot.h
 *	  One snapshot for every connection of a run (pg_dump -j's protocol).
 *
 * The coordinator opens REPEATABLE READ READ ONLY and exports its snapshot;
 * each worker starts a REPEATABLE READ READ ONLY transaction and imports it
 * as its first statement.  Import only works while the exporting
 * transaction is open, so the coordinator keeps it open for the whole run
 * (its own queries after the scan then see the same data), and a worker
 * whose transaction failed can start a new one on the same snapshot.
 */
#ifndef FKSCAN_SNAPSHOT_H
#define FKSCAN_SNAPSHOT_H

#include "fkscan/catalog.h"
#include "fkscan/pgconn.h"

/* Begin the exporting transaction; *snapshot_id is fk_malloc'd. */
bool snapshot_export(PgConn *c, char **snapshot_id);

/* Begin a transaction on the exported snapshot (after a ROLLBACK if needed). */
bool snapshot_import(PgConn *c, const char *snapshot_id);

/* Begin a transaction on a fresh snapshot of its own (after a ROLLBACK). */
bool snapshot_begin_fresh(PgConn *c);

/*
 * ACCESS SHARE on every table involved, so none is dropped under the scan
 * (pg_dump does the same).  Only tables the role may SELECT (some columns
 * of, at least: the keys are all a scan reads): a failure here
 * would abort the transaction and the whole run, while a table the role
 * cannot read should fail only its own FKs, when a worker reads it.  The
 * coordinator takes them after exporting the snapshot; each worker again
 * right after importing it, before any COPY: a DDL queued behind the
 * coordinator's lock then times out a worker's LOCK (the session's
 * lock_timeout) instead of holding its COPY, and the coordinator waiting
 * for that worker, forever.
 */
bool snapshot_lock_tables(PgConn *c, const Catalog *cat);

#endif /* FKSCAN_SNAPSHOT_H */
