/*
 * main.c
 *	  fkscan's entry point: parse the command line, set up logging and
 *	  Ctrl-C handling, run the command, and exit with the code it returns
 *	  (gate_exit_code() is scan's gate policy), or 2 when its output
 *	  could not be written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fkscan/audit.h"
#include "fkscan/common.h"
#include "fkscan/fix.h"
#include "fkscan/log.h"
#include "fkscan/options.h"
#include "fkscan/pgconn.h"
#include "fkscan/scan.h"
#include "fkscan/signals.h"
#include "fkscan/validate.h"

int
main(int argc, char **argv)
{
	FkOptions options;
	int		  rc = FK_EXIT_ERROR;

	if (!options_parse(argc, argv, &options))
	{
		options_reset(&options);
		return FK_EXIT_ERROR;
	}
	if (options.done)
	{
		options_reset(&options);
		return FK_EXIT_OK;
	}

	if (options.verbosity < 0)
		log_set_level(LOG_LEVEL_ERROR);
	else if (options.verbosity == 1)
		log_set_level(LOG_LEVEL_INFO);
	else if (options.verbosity >= 2)
		log_set_level(LOG_LEVEL_DEBUG);

	if (signals_setup())
	{
		switch (options.command)
		{
			case CMD_AUDIT:
				rc = audit_run(&options);
				break;
			case CMD_SCAN:
				rc = scan_run(&options);
				break;
			case CMD_FIX:
				rc = fix_run(&options);
				break;
			case CMD_VALIDATE:
				rc = validate_run(&options);
				break;
			case CMD_NONE:
				break;
		}
		/* a script or report cut short (a full disk, a closed pipe) is no answer */
		if ((fflush(stdout) != 0 || ferror(stdout)) && rc != FK_EXIT_ERROR)
		{
			log_error("could not write to standard output: %s", strerror(errno));
			rc = FK_EXIT_ERROR;
		}
		if (signals_interrupted())
			rc = FK_EXIT_ERROR;
		signals_teardown();
	}
	pgconn_forget_password();
	options_reset(&options);
	return rc;
}
