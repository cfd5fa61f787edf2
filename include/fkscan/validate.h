/*
 * validate.h
 *	  "fkscan validate": for each selected FK a scan finds clean, VALIDATE
 *	  a NOT VALID constraint and enable disabled RI triggers (--apply), each
 *	  in its own transaction with lock_timeout and retries; never for an FK
 *	  with orphans.  Refused on a hot standby.
 */
#ifndef FKSCAN_VALIDATE_H
#define FKSCAN_VALIDATE_H

#include "fkscan/options.h"

/* Run the command; returns the exit code (FK_EXIT_*). */
int validate_run(const FkOptions *options);

#endif /* FKSCAN_VALIDATE_H */
