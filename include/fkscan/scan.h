/*
 * scan.h
 *	  "fkscan scan": the parallel orphan scan.
 */
#ifndef FKSCAN_SCAN_H
#define FKSCAN_SCAN_H

#include "fkscan/options.h"

/* Run the command; returns the exit code (FK_EXIT_*). */
int scan_run(const FkOptions *options);

#endif /* FKSCAN_SCAN_H */
