/*
 * audit.h
 *	  "fkscan audit": every FK in scope and its state, from the catalog only.
 */
#ifndef FKSCAN_AUDIT_H
#define FKSCAN_AUDIT_H

#include "fkscan/options.h"

/* Run the command; returns the exit code (FK_EXIT_*). */
int audit_run(const FkOptions *options);

#endif /* FKSCAN_AUDIT_H */
