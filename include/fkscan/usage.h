/*
 * usage.h
 *	  The --help texts.
 */
#ifndef FKSCAN_USAGE_H
#define FKSCAN_USAGE_H

#include "fkscan/options.h"

/* fkscan --help: the commands. */
void usage_main(void);

/* fkscan COMMAND --help: its options. */
void usage_command(FkCommand cmd);

#endif /* FKSCAN_USAGE_H */
