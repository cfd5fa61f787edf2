/*
 * test_options.c
 *	  The one reader of numbers on the command line (options_parse_decimal)
 *	  and what is built on it: whole numbers, sizes, durations and the
 *	  options that take them, --max-rate among them.  Only plain decimals
 *	  in a sane range pass: no sign, blank, exponent, hex, inf, nan or
 *	  overflow.
 */
#include "fkscan/options.h"
#include "test.h"

static const char *const not_numbers[] = {"",
										  " 5",
										  "5 ",
										  "+5",
										  "-5",
										  "0x10",
										  "1e3",
										  "1e-300",
										  "inf",
										  "INF",
										  "infinity",
										  "nan",
										  "NaN",
										  ".",
										  "5..1",
										  "1.2.3",
										  "5,0",
										  "\t5",
										  "99999999999999999999999999999",
										  "１"};

static void
decimal_ok(const char *text, double want, const char *want_rest)
{
	double		v = -1;
	const char *rest = NULL;
	char		name[128];

	snprintf(name, sizeof(name), "decimal \"%s\" is read", text);
	if (!ok(options_parse_decimal(text, &v, &rest), name))
		return;
	snprintf(name, sizeof(name), "decimal \"%s\" value", text);
	ok(v == want, name);
	snprintf(name, sizeof(name), "decimal \"%s\" rest", text);
	is_str(rest, want_rest, name);
}

/* Run "fkscan COMMAND OPTION [VALUE]"; true if options_parse accepted it. */
static bool
accepts(const char *command, const char *option, const char *value, FkOptions *o)
{
	char *argv[6] = {"fkscan", (char *) command};
	int	  argc = 2;

	if (strcmp(command, "fix") == 0)
		argv[argc++] = "--strategy=delete"; /* fix needs one */
	argv[argc++] = (char *) option;
	if (value)
		argv[argc++] = (char *) value;
	options_reset(o);
	return options_parse(argc, argv, o);
}

static bool
scan_accepts(const char *option, const char *value, FkOptions *o)
{
	return accepts("scan", option, value, o);
}

int
main(void)
{
	FkOptions	o = {0};
	int64_t		i;
	double		d;
	const char *rest;
	char		name[128];

	decimal_ok("0", 0, "");
	decimal_ok("5", 5, "");
	decimal_ok("007", 7, "");
	decimal_ok("2.5", 2.5, "");
	decimal_ok(".5", 0.5, "");
	decimal_ok("5.", 5, "");
	decimal_ok("50MB", 50, "MB");
	decimal_ok("1.5min", 90 / 60.0, "min");
	decimal_ok("123456789012345", 123456789012345.0, "");
	ok(!options_parse_decimal("1234567890123456", &d, &rest),
	   "decimal: 16 digits refused (not exact in a double)");
	ok(options_parse_integer("9223372036854775807", 0, INT64_MAX, &i) && i == INT64_MAX,
	   "integer: all of int64 (--max-orphans takes it)");
	ok(!options_parse_integer("9223372036854775808", 0, INT64_MAX, &i),
	   "integer: past int64 refused");
	for (size_t k = 0; k < sizeof(not_numbers) / sizeof(not_numbers[0]); k++)
	{
		/* refused, or a number followed by something that is no unit */
		snprintf(name, sizeof(name), "decimal \"%s\" is not a whole number", not_numbers[k]);
		ok(!options_parse_decimal(not_numbers[k], &d, &rest) || *rest != '\0', name);
		snprintf(name, sizeof(name), "integer \"%s\" refused", not_numbers[k]);
		ok(!options_parse_integer(not_numbers[k], 0, INT64_MAX, &i), name);
	}

	ok(options_parse_integer("42", 0, 100, &i) && i == 42, "integer 42");
	ok(options_parse_integer("0", 0, 100, &i) && i == 0, "integer 0");
	ok(!options_parse_integer("101", 0, 100, &i), "integer above max refused");
	ok(!options_parse_integer("0", 1, 100, &i), "integer below min refused");
	ok(!options_parse_integer("4.0", 0, 100, &i), "integer with a point refused");
	ok(!options_parse_integer("4MB", 0, 100, &i), "integer with a unit refused");

	{
		int64_t bytes = 0;

		ok(options_parse_size("64MB", &bytes) && bytes == 64 * 1024 * 1024, "size 64MB");
		ok(options_parse_size("8192", &bytes) && bytes == 8192, "size 8192");
		ok(!options_parse_size("1.5GB", &bytes), "size 1.5GB refused (whole numbers)");
		ok(!options_parse_size("999999999999999TB", &bytes), "size overflow refused");
		ok(!options_parse_size(" 64MB", &bytes), "size with a blank refused");
		ok(!options_parse_size("64 MB", &bytes), "size with an inner blank refused");
		ok(!options_parse_size("0x10MB", &bytes), "size in hex refused");
	}

	ok(options_parse_duration("250ms", &d) && d == 0.25, "duration 250ms");
	ok(options_parse_duration("2h", &d) && d == 7200, "duration 2h");
	ok(options_parse_duration("1.5", &d) && d == 1.5, "duration 1.5 (seconds)");
	ok(!options_parse_duration("infs", &d), "duration infs refused");
	ok(!options_parse_duration("1e-300s", &d), "duration 1e-300s refused");
	ok(!options_parse_duration("-1s", &d), "duration -1s refused");

	/* --max-rate: at least 1 row/s or 0.01 MB/s, otherwise it never progresses */
	ok(scan_accepts("--max-rate", "100000", &o) && o.engine.max_rate == 100000,
	   "--max-rate 100000");
	ok(scan_accepts("--max-rate", "50MB", &o) && o.engine.max_rate_bytes == 50.0 * 1024 * 1024,
	   "--max-rate 50MB");
	ok(scan_accepts("--max-rate", "0.01MB", &o), "--max-rate 0.01MB");
	ok(!scan_accepts("--max-rate", "0.5", &o), "--max-rate 0.5 refused");
	ok(!scan_accepts("--max-rate", "0", &o), "--max-rate 0 refused");
	ok(!scan_accepts("--max-rate", "0.001MB", &o), "--max-rate 0.001MB refused");
	ok(!scan_accepts("--max-rate", "5kB", &o), "--max-rate 5kB refused");
	for (size_t k = 0; k < sizeof(not_numbers) / sizeof(not_numbers[0]); k++)
	{
		snprintf(name, sizeof(name), "--max-rate \"%s\" refused", not_numbers[k]);
		ok(!scan_accepts("--max-rate", not_numbers[k], &o), name);
	}

	/* every other numeric option goes through the same reader */
	ok(scan_accepts("--jobs", "3", &o) && o.engine.jobs == 3, "--jobs 3");
	ok(scan_accepts("--lock-timeout", "1500", &o) && o.conn.lock_timeout_ms == 1500,
	   "--lock-timeout 1500 (ms)");
	ok(scan_accepts("--lock-timeout", "2s", &o) && o.conn.lock_timeout_ms == 2000,
	   "--lock-timeout 2s");
	ok(!scan_accepts("--lock-timeout", "0", &o), "--lock-timeout 0 refused");
	ok(!scan_accepts("--lock-timeout", "0.5ms", &o), "--lock-timeout 0.5ms refused");
	ok(!scan_accepts("--lock-timeout", "1.5", &o), "--lock-timeout 1.5 (no unit) refused");
	ok(!scan_accepts("--lock-timeout", "0.0004s", &o), "--lock-timeout 0.0004s refused");
	ok(scan_accepts("--lock-timeout", "1ms", &o) && o.conn.lock_timeout_ms == 1,
	   "--lock-timeout 1ms");
	ok(scan_accepts("--max-orphans", "0", &o), "--max-orphans 0");
	ok(scan_accepts("--sample", "10", &o) && o.scan.sample == 10, "--sample 10");
	{
		static const char *const numeric[] = {"--jobs",		   "--sample",		 "--retries",
											  "--max-orphans", "--lock-timeout", "--max-time",
											  "--max-lag",	   "--chunk-size",	 "--memory-limit"};

		for (size_t n = 0; n < sizeof(numeric) / sizeof(numeric[0]); n++)
			for (size_t k = 0; k < sizeof(not_numbers) / sizeof(not_numbers[0]); k++)
			{
				snprintf(name, sizeof(name), "%s \"%s\" refused", numeric[n], not_numbers[k]);
				ok(!scan_accepts(numeric[n], not_numbers[k], &o), name);
			}
	}
	ok(!scan_accepts("--jobs", "99999999999", &o), "--jobs overflowing int refused");
	ok(!scan_accepts("--jobs", "-1", &o), "--jobs -1 refused");

	/* which command takes which option (one table decides) */
	{
		static const struct
		{
			const char *option;
			const char *value;
			const char *takers; /* the commands that accept it */
		} matrix[] = {
			{"-t", "x", "audit scan fix validate"},
			{"--lock-timeout", "5s", "audit scan fix validate"},
			{"--format", "json", "audit scan"},
			{"--format", "jsonl", "scan"},
			{"-j", "2", "scan fix validate"},
			{"--fetch", "cursor", "scan fix validate"},
			{"--pause-replay", NULL, "scan fix validate"},
			{"--no-progress", NULL, "scan fix validate"},
			{"--sample", "3", "scan"},
			{"--max-orphans", "3", "scan"},
			{"--max-time", "1min", "scan"},
			{"--state", "f", "scan"},
			{"--order", "name", "scan"},
			{"--apply", NULL, "fix validate"},
			{"--statement-timeout", "1s", "fix validate"},
			{"--cascade", NULL, "fix"},
			{"--batch-size", "10", "fix"},
			{"--lock-retries", "2", "validate"},
		};
		static const char *const commands[] = {"audit", "scan", "fix", "validate"};

		for (size_t m = 0; m < FK_LENGTHOF(matrix); m++)
			for (size_t c = 0; c < FK_LENGTHOF(commands); c++)
			{
				bool want = strstr(matrix[m].takers, commands[c]) != NULL;

				snprintf(name, sizeof(name), "%s %s %s: %s", commands[c], matrix[m].option,
						 matrix[m].value ? matrix[m].value : "", want ? "taken" : "refused");
				ok(accepts(commands[c], matrix[m].option, matrix[m].value, &o) == want, name);
			}
	}
	ok(accepts("scan", "--compare", "server", &o) && o.scan.compare_server, "--compare server");
	ok(accepts("scan", "-q", NULL, &o) && o.verbosity == -1, "-q");
	ok(accepts("scan", "-W", NULL, &o) && o.conn.prompt_password == TRI_YES, "-W");
	ok(accepts("fix", "--strategy", "nullify", &o) && o.repair.strategy == STRATEGY_NULLIFY,
	   "--strategy nullify (the last one wins)");

	options_reset(&o);
	return done_testing();
}
