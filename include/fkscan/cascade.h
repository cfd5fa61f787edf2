/*
 * cascade.h
 *	  Cascade chains: what deleting an FK's orphan rows would do.
 *
 * The orphan rows may themselves be parents (orders -> order_items ->
 * shipments).  For each FK that references the orphans' table, the values
 * the orphan rows hold in its referenced columns become a set of
 * fingerprints, and that FK's child table is streamed and probed against
 * it: those rows would be deleted too (ON DELETE CASCADE, and then their own
 * dependents in turn), set to NULL or DEFAULT, or would block the delete
 * (NO ACTION, RESTRICT).  Level by level, each FK followed once per chain,
 * so cycles end.  cat must hold every FK (not only the scan's selection),
 * and root->fk must be one of cat's.
 */
#ifndef FKSCAN_CASCADE_H
#define FKSCAN_CASCADE_H

#include "fkscan/orphans.h"
#include "fkscan/result.h"

/* Trace the chains from root's orphan rows into r->cascade; false after logging. */
bool cascade_trace(PgConn *c, const Catalog *cat, const OrphanMatcher *root, FkResult *r);

#endif /* FKSCAN_CASCADE_H */
