/*
 * fix.h
 *	  "fkscan fix": repair the orphan rows of the selected FKs (delete them,
 *	  set their FK columns to NULL, or insert stub parents), printed as a
 *	  psql script or, with --apply, run in one checked transaction on the
 *	  primary.  See fix.c for how keys travel and how counts are checked.
 */
#ifndef FKSCAN_FIX_H
#define FKSCAN_FIX_H

#include "fkscan/options.h"

/* Run the command; returns the exit code (FK_EXIT_*). */
int fix_run(const FkOptions *options);

#endif /* FKSCAN_FIX_H */
