/*
 * options.c
 *	  Command-line parsing and --help, in the manner of pg_dump and vacuumdb.
 */
#include "fkscan/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"

#define MAX_JOBS 256

/* Long-only options. */
enum
{
	OPT_FORMAT = 1000,
	OPT_FETCH,
	OPT_SAMPLE,
	OPT_CHUNK_SIZE,
	OPT_LOCK_TIMEOUT,
	OPT_MEMORY_LIMIT,
	OPT_COMPARE,
	OPT_CONSISTENCY,
	OPT_ORPHANS_OUT,
	OPT_RETRIES,
	OPT_PAUSE_REPLAY,
	OPT_MAX_LAG,
	OPT_MAX_RATE,
	OPT_MAX_ORPHANS,
	OPT_MAX_ORPHANS_PER_FK,
	OPT_STRICT_NAMES,
	OPT_NO_PROGRESS,
	OPT_STRATEGY,
	OPT_APPLY,
	OPT_STATEMENT_TIMEOUT,
	OPT_BACKUP_DIR,
	OPT_SET,
	OPT_CASCADE,
	OPT_LOCK_RETRIES,
	OPT_BATCH_SIZE,
	OPT_MAX_TIME,
	OPT_ORDER,
	OPT_STATE
};

void
stringlist_append(StringList *l, const char *s)
{
	fk_array_grow((void **) &l->items, &l->cap, l->n + 1, sizeof(char *));
	l->items[l->n++] = fk_strdup(s);
}

void
stringlist_reset(StringList *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static void
print_main_help(void)
{
	printf("fkscan finds and repairs broken foreign keys in a PostgreSQL database.\n\n"
		   "Usage:\n"
		   "  fkscan COMMAND [OPTION]... [DBNAME | CONNINFO]\n\n"
		   "Commands:\n"
		   "  audit      list every foreign key and its state (catalog only)\n"
		   "  scan       find orphan rows with a parallel, read-only scan\n"
		   "  fix        repair orphan rows: delete, nullify or backfill (SQL or --apply)\n"
		   "  validate   mark clean foreign keys valid and enforced again\n\n"
		   "General options:\n"
		   "  -V, --version    output version information, then exit\n"
		   "  -?, --help       show this help, then exit\n\n"
		   "Run \"fkscan COMMAND --help\" for the options of a command.\n\n"
		   "Exit status: 0 nothing found, 1 orphans or broken foreign keys found,\n"
		   "2 error or incomplete answer.\n");
}

static void
print_common_help(FkCommand cmd)
{
	printf("\nSelection options (patterns as in pg_dump):\n"
		   "  -n, --schema=PATTERN          foreign keys of tables in matching schemas\n"
		   "  -N, --exclude-schema=PATTERN  skip tables in matching schemas\n"
		   "  -t, --table=PATTERN           foreign keys of matching tables only\n"
		   "  -T, --exclude-table=PATTERN   skip matching tables\n"
		   "  -c, --constraint=PATTERN      matching constraint names only\n"
		   "      --strict-names            a pattern that matches nothing is an error\n"
		   "\nOutput options:\n");
	if (cmd == CMD_SCAN)
		printf("      --format=text|json|jsonl  report format (default: text)\n"
			   "  -P, --progress                progress on stderr (default: on a terminal)\n"
			   "      --no-progress             never show progress\n");
	else if (cmd == CMD_AUDIT)
		printf("      --format=text|json        report format (default: text)\n"
			   "      --lock-timeout=DURATION   wait for locks at most this (default: 10s)\n");
	printf("  -q, --quiet                   no messages but errors\n"
		   "  -v, --verbose                 more messages (repeat for debug output)\n"
		   "\nConnection options:\n"
		   "  -d, --dbname=DBNAME           database name or connection string\n"
		   "  -h, --host=HOSTNAME           database server host or socket directory\n"
		   "  -p, --port=PORT               database server port\n"
		   "  -U, --username=USERNAME       user name to connect as\n"
		   "  -w, --no-password             never prompt for password\n"
		   "  -W, --password                force password prompt\n"
		   "\nIf no database name is given, the PGDATABASE environment variable is used.\n");
}

static void
print_command_help(FkCommand cmd)
{
	if (cmd == CMD_AUDIT)
	{
		printf("fkscan audit lists every foreign key in scope with its columns, types,\n"
			   "MATCH rule, actions, and whether it is validated and enforced.\n"
			   "It reads the catalog only and is safe on a hot standby.\n\n"
			   "Usage:\n"
			   "  fkscan audit [OPTION]... [DBNAME | CONNINFO]\n");
		print_common_help(cmd);
		printf("\nExit status: 0 every foreign key validated and enforced, 1 some are not\n"
			   "(NOT VALID, RI triggers disabled or replica-only, NOT ENFORCED), 2 error.\n");
	}
	else if (cmd == CMD_FIX)
	{
		printf("fkscan fix scans the selected foreign keys, then prints the repair of\n"
			   "their orphan rows as a psql script, or runs it with --apply in one checked\n"
			   "transaction on the primary (rolled back if any count differs from the scan).\n\n"
			   "Usage:\n"
			   "  fkscan fix [OPTION]... --strategy=STRATEGY [DBNAME | CONNINFO]\n\n"
			   "Repair options:\n"
			   "      --strategy=delete|nullify|backfill  delete the orphan rows, set their\n"
			   "                                foreign key columns to NULL, or insert stub\n"
			   "                                parent rows for the missing keys\n"
			   "      --apply                   run it (default: print the SQL script only)\n"
			   "      --backup-dir=DIR          where deleted/updated rows are saved as CSV\n"
			   "                                with a restore script (default: ./fkscan-backup-TIME)\n"
			   "      --set=COLUMN=VALUE        backfill: a value for a NOT NULL parent column\n"
			   "      --cascade                 delete: allow ON DELETE CASCADE/SET NULL effects\n"
			   "      --batch-size=NUM          NUM orphan keys per transaction (resumable:\n"
			   "                                run again to go on; default: one transaction)\n"
			   "      --lock-timeout=DURATION   wait for locks at most this (default: 10s)\n"
			   "      --statement-timeout=DURATION  limit each statement (default: 10min)\n"
			   "  -j, --jobs=NUM                scan connections and threads (default: CPUs)\n");
		print_common_help(cmd);
		printf("\nExit status: 0 applied (or nothing to fix), 1 a repair is printed,\n"
			   "2 error, refusal or rollback (nothing was changed).\n");
	}
	else if (cmd == CMD_VALIDATE)
	{
		printf("fkscan validate scans the selected foreign keys; for each one found clean\n"
			   "it validates a NOT VALID constraint and enables disabled RI triggers.\n"
			   "Without --apply it prints the statements only.\n\n"
			   "Usage:\n"
			   "  fkscan validate [OPTION]... [DBNAME | CONNINFO]\n\n"
			   "Validate options:\n"
			   "      --apply                   run the statements (default: print them)\n"
			   "      --lock-timeout=DURATION   wait for each lock at most this (default: 10s)\n"
			   "      --lock-retries=NUM        retries after a lock timeout, with back-off\n"
			   "                                (default: 3)\n"
			   "      --statement-timeout=DURATION  limit each statement (default: 10min)\n"
			   "  -j, --jobs=NUM                scan connections and threads (default: CPUs)\n");
		print_common_help(cmd);
		printf("\nExit status: 0 every foreign key clean and valid, 1 orphans remain or\n"
			   "something is left to do, 2 error (a lock timeout included).\n");
	}
	else
	{
		printf("fkscan scan reads parent and child keys in parallel from one snapshot\n"
			   "and reports every orphan row, without server-side joins.\n\n"
			   "Usage:\n"
			   "  fkscan scan [OPTION]... [DBNAME | CONNINFO]\n\n"
			   "Scan options:\n"
			   "  -j, --jobs=NUM                connections and threads (default: CPUs)\n"
			   "      --fetch=binary|text|cursor  how rows are streamed (default: binary)\n"
			   "      --sample=NUM              orphan rows shown per foreign key (default: 5)\n"
			   "      --orphans-out=FILE|DIR    every orphan row as CSV (DIR: a file per FK)\n"
			   "      --chunk-size=SIZE         table slice per work unit (default: auto)\n"
			   "      --lock-timeout=DURATION   wait for table locks at most this (default: 10s)\n"
			   "      --memory-limit=SIZE       memory for parent keys (default: RAM/4)\n"
			   "      --compare=server          also run the server's anti-join; must agree\n"
			   "      --max-rate=N[MB]          read at most N rows (or N MB) per second in all\n"
			   "      --max-time=DURATION       stop then; FKs not finished are incomplete\n"
			   "      --order=size|name|catalog  child tables in this order (default: size)\n"
			   "      --state=FILE              record finished FKs; skip those FILE has\n"
			   "      --max-orphans=NUM         exit 0 if at most NUM orphan rows in all\n"
			   "      --max-orphans-per-fk=NUM  exit 0 if at most NUM in each foreign key\n"
			   "\nHot standby options:\n"
			   "      --consistency=snapshot|chunk  on a conflict: restart, or retry the chunk\n"
			   "      --retries=NUM             restarts or chunk retries allowed (default: 3)\n"
			   "      --pause-replay            pause WAL replay during the scan\n"
			   "      --max-lag=DURATION        refuse to start on a standby further behind\n");
		print_common_help(cmd);
		printf("\nExit status: 0 no orphans (or all within --max-orphans*), 1 orphans\n"
			   "found, 2 error or incomplete answer (never excused by --max-orphans*).\n");
	}
}

static bool
usage_error(const char *cmdname)
{
	if (cmdname)
		log_hint("Try \"fkscan %s --help\" for more information.", cmdname);
	else
		log_hint("Try \"fkscan --help\" for more information.");
	return false;
}

/*
 * The options only "fkscan scan" has, as --help shows them; NULL for the
 * others.  getopt has one table for every command: audit refuses these
 * rather than ignore them.  fix and validate run a scan: they take the
 * scan's engine options, not its output ones.
 */
static const char *
scan_only_option(int c, FkCommand cmd)
{
	if (cmd == CMD_AUDIT && c == OPT_LOCK_TIMEOUT)
		return NULL;			/* its catalog queries lock too */
	if (cmd == CMD_FIX || cmd == CMD_VALIDATE)
		switch (c)
		{
			case OPT_SAMPLE:
			case OPT_ORPHANS_OUT:
			case OPT_COMPARE:
			case OPT_MAX_ORPHANS:
			case OPT_MAX_ORPHANS_PER_FK:
				break;
			case OPT_LOCK_TIMEOUT:
			case OPT_STATEMENT_TIMEOUT:
				return NULL;
			default:
				if (c == 'j' || c == 'P' || (c > OPT_FORMAT && c <= OPT_NO_PROGRESS))
					return NULL;
				break;
		}
	switch (c)
	{
		case 'j':
			return "-j/--jobs";
		case 'P':
			return "-P/--progress";
		case OPT_NO_PROGRESS:
			return "--no-progress";
		case OPT_FETCH:
			return "--fetch";
		case OPT_SAMPLE:
			return "--sample";
		case OPT_ORPHANS_OUT:
			return "--orphans-out";
		case OPT_CHUNK_SIZE:
			return "--chunk-size";
		case OPT_LOCK_TIMEOUT:
			return "--lock-timeout";
		case OPT_MEMORY_LIMIT:
			return "--memory-limit";
		case OPT_COMPARE:
			return "--compare";
		case OPT_CONSISTENCY:
			return "--consistency";
		case OPT_RETRIES:
			return "--retries";
		case OPT_PAUSE_REPLAY:
			return "--pause-replay";
		case OPT_MAX_LAG:
			return "--max-lag";
		case OPT_MAX_RATE:
			return "--max-rate";
		case OPT_MAX_ORPHANS:
			return "--max-orphans";
		case OPT_MAX_ORPHANS_PER_FK:
			return "--max-orphans-per-fk";
		case OPT_MAX_TIME:
			return "--max-time";
		case OPT_ORDER:
			return "--order";
		case OPT_STATE:
			return "--state";
		default:
			return NULL;
	}
}

/* The options of fix or validate only; NULL for the others. */
static const char *
repair_only_option(int c, FkCommand cmd)
{
	switch (c)
	{
		case OPT_APPLY:
			return cmd == CMD_FIX || cmd == CMD_VALIDATE ? NULL : "--apply";
		case OPT_STATEMENT_TIMEOUT:
			return cmd == CMD_FIX || cmd == CMD_VALIDATE ? NULL : "--statement-timeout";
		case OPT_STRATEGY:
			return cmd == CMD_FIX ? NULL : "--strategy";
		case OPT_BACKUP_DIR:
			return cmd == CMD_FIX ? NULL : "--backup-dir";
		case OPT_SET:
			return cmd == CMD_FIX ? NULL : "--set";
		case OPT_CASCADE:
			return cmd == CMD_FIX ? NULL : "--cascade";
		case OPT_BATCH_SIZE:
			return cmd == CMD_FIX ? NULL : "--batch-size";
		case OPT_LOCK_RETRIES:
			return cmd == CMD_VALIDATE ? NULL : "--lock-retries";
		default:
			return NULL;
	}
}

/* A timeout in milliseconds: plain milliseconds, or a duration ("500ms", "10s"). */
static bool
parse_timeout_ms(const char *value, const char *optname, int *ms)
{
	double		seconds;
	int64_t		v;

	if (options_parse_integer(value, 0, INT_MAX, &v))
	{
		*ms = (int) v;
		return true;
	}
	/* a bare number is milliseconds: "1.5" has no unit to say otherwise */
	if (!options_parse_duration(value, &seconds) || seconds * 1000 > INT_MAX ||
		strspn(value, "0123456789.") == strlen(value))
	{
		log_error("invalid value \"%s\" for option %s", value, optname);
		log_detail("Give milliseconds, or a duration such as \"500ms\", \"10s\" or \"5min\".");
		return false;
	}
	/* the server would read what rounds to 0 as "no timeout" */
	if (seconds > 0 && seconds < 0.001)
	{
		log_error("invalid value \"%s\" for option %s", value, optname);
		log_detail("A timeout is at least 1ms.");
		return false;
	}
	*ms = (int) (seconds * 1000 + 0.5);
	return true;
}

/* Parse an integer option value within [min, max]; logs and returns false. */
static bool
parse_int_option(const char *value, const char *optname, int min, int max, int *out)
{
	int64_t		v;

	if (!options_parse_integer(value, 0, INT64_MAX, &v) &&
		!(value[0] == '-' && options_parse_integer(value + 1, 1, INT64_MAX, &v)))
	{
		log_error("invalid value \"%s\" for option %s", value, optname);
		return false;
	}
	if (value[0] == '-' || v < min || v > max)	/* "-1": say the range */
	{
		log_error("%s must be in range %d..%d", optname, min, max);
		return false;
	}
	*out = (int) v;
	return true;
}

/* Parse a row count (a non-negative 64-bit integer); logs and returns false. */
static bool
parse_count_option(const char *value, const char *optname, int64_t *out)
{
	if (!options_parse_integer(value, 0, INT64_MAX, out))
	{
		log_error("invalid value \"%s\" for option %s", value, optname);
		log_detail("Give a number of orphan rows, 0 or more.");
		return false;
	}
	return true;
}

/*
 * The one reader of numbers on the command line: plain decimal digits with
 * at most one '.', nothing else (no sign, blank, exponent, hex, inf or
 * nan), at most 15 significant digits so the double is exact; *rest is
 * what follows (a unit).  False if there is no such number.
 */
bool
options_parse_decimal(const char *text, double *value, const char **rest)
{
	const char *p = text;
	int			digits = 0;
	char	   *end;

	for (; isdigit((unsigned char) *p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char) *p); p++)
			digits++;
	if (digits == 0 || digits > 15)
		return false;
	*value = strtod(text, &end);
	if (end != p)
		return false;
	*rest = p;
	return true;
}

/* A whole number in [min, max] and nothing after it, read as the above. */
bool
options_parse_integer(const char *text, int64_t min, int64_t max, int64_t *value)
{
	const char *p = text;
	long long	v;

	/* digits only, as the decimal reader takes them; all 19 of int64 */
	while (isdigit((unsigned char) *p))
		p++;
	if (p == text || *p != '\0')
		return false;
	errno = 0;
	v = strtoll(text, NULL, 10);
	if (errno == ERANGE || v < min || v > max)
		return false;
	*value = v;
	return true;
}

bool
options_parse_size(const char *text, int64_t *bytes)
{
	static const struct
	{
		const char *unit;
		int64_t		mult;
	}			units[] = {
		{"", 1}, {"B", 1}, {"kB", 1024}, {"KB", 1024}, {"MB", 1024 * 1024},
		{"GB", 1024LL * 1024 * 1024}, {"TB", 1024LL * 1024 * 1024 * 1024}
	};
	const char *end;
	double		d;
	int64_t		v;

	if (!options_parse_decimal(text, &d, &end) || d != (double) (int64_t) d)
		return false;			/* whole numbers only */
	v = (int64_t) d;
	for (size_t i = 0; i < FK_LENGTHOF(units); i++)
	{
		if (strcmp(end, units[i].unit) == 0)
		{
			if (v > INT64_MAX / units[i].mult)
				return false;
			*bytes = v * units[i].mult;
			return true;
		}
	}
	return false;
}

bool
options_parse_duration(const char *text, double *seconds)
{
	static const struct
	{
		const char *unit;
		double		mult;
	}			units[] = {
		{"", 1}, {"s", 1}, {"ms", 0.001}, {"min", 60}, {"h", 3600}
	};
	const char *end;
	double		v;

	if (!options_parse_decimal(text, &v, &end))
		return false;
	for (size_t i = 0; i < FK_LENGTHOF(units); i++)
		if (strcmp(end, units[i].unit) == 0)
		{
			*seconds = v * units[i].mult;
			return true;
		}
	return false;
}

static int
default_jobs(void)
{
	long		n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MAX_JOBS ? MAX_JOBS : (int) n;
}

/* A quarter of the machine's memory: the server needs the rest. */
static int64_t
default_memory_limit(void)
{
	long		pages = sysconf(_SC_PHYS_PAGES);
	long		size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || size <= 0)
		return 1024LL * 1024 * 1024;
	return (int64_t) pages * size / 4;
}

bool
options_parse(int argc, char **argv, FkOptions *o)
{
	static const struct option long_options[] = {
		{"schema", required_argument, NULL, 'n'},
		{"exclude-schema", required_argument, NULL, 'N'},
		{"table", required_argument, NULL, 't'},
		{"exclude-table", required_argument, NULL, 'T'},
		{"constraint", required_argument, NULL, 'c'},
		{"strict-names", no_argument, NULL, OPT_STRICT_NAMES},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{"password", no_argument, NULL, 'W'},
		{"jobs", required_argument, NULL, 'j'},
		{"fetch", required_argument, NULL, OPT_FETCH},
		{"sample", required_argument, NULL, OPT_SAMPLE},
		{"chunk-size", required_argument, NULL, OPT_CHUNK_SIZE},
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
		{"compare", required_argument, NULL, OPT_COMPARE},
		{"consistency", required_argument, NULL, OPT_CONSISTENCY},
		{"orphans-out", required_argument, NULL, OPT_ORPHANS_OUT},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"pause-replay", no_argument, NULL, OPT_PAUSE_REPLAY},
		{"max-lag", required_argument, NULL, OPT_MAX_LAG},
		{"max-rate", required_argument, NULL, OPT_MAX_RATE},
		{"max-orphans", required_argument, NULL, OPT_MAX_ORPHANS},
		{"max-orphans-per-fk", required_argument, NULL, OPT_MAX_ORPHANS_PER_FK},
		{"progress", no_argument, NULL, 'P'},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"strategy", required_argument, NULL, OPT_STRATEGY},
		{"apply", no_argument, NULL, OPT_APPLY},
		{"statement-timeout", required_argument, NULL, OPT_STATEMENT_TIMEOUT},
		{"backup-dir", required_argument, NULL, OPT_BACKUP_DIR},
		{"set", required_argument, NULL, OPT_SET},
		{"cascade", no_argument, NULL, OPT_CASCADE},
		{"lock-retries", required_argument, NULL, OPT_LOCK_RETRIES},
		{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
		{"max-time", required_argument, NULL, OPT_MAX_TIME},
		{"order", required_argument, NULL, OPT_ORDER},
		{"state", required_argument, NULL, OPT_STATE},
		{"help", no_argument, NULL, '?'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	const char *cmdname;
	char	  **av = argv + 1;
	int			ac = argc - 1;
	int			c;

	memset(o, 0, sizeof(*o));
	o->jobs = default_jobs();
	o->sample = 5;
	o->conn.lock_timeout_ms = LOCK_TIMEOUT_MS_DEFAULT;
	o->memory_limit = default_memory_limit();
	o->retries = 3;
	o->max_lag_s = -1;
	o->max_orphans = -1;
	o->max_orphans_per_fk = -1;
	o->statement_timeout_ms = 600000;
	o->lock_retries = 3;

	if (argc < 2)
	{
		log_error("no command given");
		return usage_error(NULL);
	}
	cmdname = argv[1];
	if (strcmp(cmdname, "--help") == 0 || strcmp(cmdname, "-?") == 0 ||
		strcmp(cmdname, "help") == 0)
	{
		print_main_help();
		o->done = true;
		return true;
	}
	if (strcmp(cmdname, "--version") == 0 || strcmp(cmdname, "-V") == 0)
	{
		printf("fkscan %s\n", FKSCAN_VERSION);
		o->done = true;
		return true;
	}
	if (strcmp(cmdname, "audit") == 0)
		o->command = CMD_AUDIT;
	else if (strcmp(cmdname, "scan") == 0)
		o->command = CMD_SCAN;
	else if (strcmp(cmdname, "fix") == 0)
		o->command = CMD_FIX;
	else if (strcmp(cmdname, "validate") == 0)
		o->command = CMD_VALIDATE;
	else
	{
		log_error("unrecognized command \"%s\"", cmdname);
		return usage_error(NULL);
	}

	/* getopt sees "COMMAND OPTIONS..."; its own messages are silenced. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(ac, av, ":n:N:t:T:c:qvd:h:p:U:wWj:P?V",
							long_options, NULL)) != -1)
	{
		if (o->command != CMD_SCAN && scan_only_option(c, o->command) != NULL)
		{
			log_error("option %s is only for \"fkscan scan\"", scan_only_option(c, o->command));
			return usage_error(cmdname);
		}
		if (repair_only_option(c, o->command) != NULL)
		{
			const char *name = repair_only_option(c, o->command);

			if (c == OPT_APPLY || c == OPT_STATEMENT_TIMEOUT)
				log_error("option %s is only for \"fkscan fix\" and \"fkscan validate\"", name);
			else if (c == OPT_LOCK_RETRIES)
				log_error("option %s is only for \"fkscan validate\"", name);
			else
				log_error("option %s is only for \"fkscan fix\"", name);
			return usage_error(cmdname);
		}
		switch (c)
		{
			case 'n':
				stringlist_append(&o->filter.schemas, optarg);
				break;
			case 'N':
				stringlist_append(&o->filter.exclude_schemas, optarg);
				break;
			case 't':
				stringlist_append(&o->filter.tables, optarg);
				break;
			case 'T':
				stringlist_append(&o->filter.exclude_tables, optarg);
				break;
			case 'c':
				stringlist_append(&o->filter.constraints, optarg);
				break;
			case OPT_STRICT_NAMES:
				o->filter.strict_names = true;
				break;
			case OPT_FORMAT:
				if (o->command == CMD_FIX || o->command == CMD_VALIDATE)
				{
					log_error("option --format is not for \"fkscan %s\": it prints SQL and plain text",
							  cmdname);
					return usage_error(cmdname);
				}
				if (strcmp(optarg, "text") == 0)
					o->format = FORMAT_TEXT;
				else if (strcmp(optarg, "json") == 0)
					o->format = FORMAT_JSON;
				else if (strcmp(optarg, "jsonl") == 0 && o->command == CMD_SCAN)
					o->format = FORMAT_JSONL;
				else
				{
					log_error("invalid value \"%s\" for option --format", optarg);
					if (o->command == CMD_SCAN)
						log_detail("Valid values are \"text\", \"json\" and \"jsonl\".");
					else
						log_detail("Valid values are \"text\" and \"json\".");
					return usage_error(cmdname);
				}
				break;
			case 'q':
				o->verbosity = -1;
				break;
			case 'v':
				o->verbosity++;
				break;
			case 'd':
				free(o->conn.dbname);
				o->conn.dbname = fk_strdup(optarg);
				break;
			case 'h':
				free(o->conn.host);
				o->conn.host = fk_strdup(optarg);
				break;
			case 'p':
				free(o->conn.port);
				o->conn.port = fk_strdup(optarg);
				break;
			case 'U':
				free(o->conn.username);
				o->conn.username = fk_strdup(optarg);
				break;
			case 'w':
				o->conn.prompt_password = TRI_NO;
				break;
			case 'W':
				o->conn.prompt_password = TRI_YES;
				break;
			case 'j':
				if (!parse_int_option(optarg, "-j/--jobs", 1, MAX_JOBS, &o->jobs))
					return usage_error(cmdname);
				break;
			case OPT_FETCH:
				if (strcmp(optarg, "binary") == 0)
					o->fetch = FETCH_COPY_BINARY;
				else if (strcmp(optarg, "text") == 0)
					o->fetch = FETCH_COPY_TEXT;
				else if (strcmp(optarg, "cursor") == 0)
					o->fetch = FETCH_CURSOR;
				else
				{
					log_error("invalid value \"%s\" for option --fetch", optarg);
					log_detail("Valid values are \"binary\", \"text\" and \"cursor\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_SAMPLE:
				if (!parse_int_option(optarg, "--sample", 0, 1000000, &o->sample))
					return usage_error(cmdname);
				break;
			case OPT_CHUNK_SIZE:
				{
					int64_t		bytes;

					if (!options_parse_size(optarg, &bytes) || bytes < 8192)
					{
						log_error("invalid value \"%s\" for option --chunk-size", optarg);
						log_detail("Give a size of at least 8kB, such as \"256MB\".");
						return usage_error(cmdname);
					}
					o->chunk_pages = bytes / 8192;
				}
				break;
			case OPT_MEMORY_LIMIT:
				if (!options_parse_size(optarg, &o->memory_limit) || o->memory_limit < 1024 * 1024)
				{
					log_error("invalid value \"%s\" for option --memory-limit", optarg);
					log_detail("Give a size of at least 1MB, such as \"2GB\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_COMPARE:
				if (strcmp(optarg, "server") != 0)
				{
					log_error("invalid value \"%s\" for option --compare", optarg);
					log_detail("The only valid value is \"server\".");
					return usage_error(cmdname);
				}
				o->compare_server = true;
				break;
			case OPT_ORPHANS_OUT:
				/* stdout holds the report: "-" would be a file named "-" */
				if (optarg[0] == '\0' || strcmp(optarg, "-") == 0)
				{
					log_error("invalid value \"%s\" for option --orphans-out", optarg);
					log_detail("Give a file name (FILE.csv) or a directory (DIR/); the report is on stdout.");
					return usage_error(cmdname);
				}
				free(o->orphans_out);
				o->orphans_out = fk_strdup(optarg);
				break;
			case OPT_CONSISTENCY:
				if (strcmp(optarg, "snapshot") == 0)
					o->consistency = CONSISTENCY_SNAPSHOT;
				else if (strcmp(optarg, "chunk") == 0)
					o->consistency = CONSISTENCY_CHUNK;
				else
				{
					log_error("invalid value \"%s\" for option --consistency", optarg);
					log_detail("Valid values are \"snapshot\" and \"chunk\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_RETRIES:
				if (!parse_int_option(optarg, "--retries", 0, 1000, &o->retries))
					return usage_error(cmdname);
				break;
			case OPT_PAUSE_REPLAY:
				o->pause_replay = true;
				break;
			case OPT_MAX_LAG:
				if (!options_parse_duration(optarg, &o->max_lag_s))
				{
					log_error("invalid value \"%s\" for option --max-lag", optarg);
					log_detail("Give a duration such as \"30s\", \"5min\" or \"1h\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_MAX_RATE:
				{
					const char *end;
					double		v;
					bool		mb;

					/* at least 1 row or 0.01 MB per second: less never progresses */
					if (!options_parse_decimal(optarg, &v, &end) ||
						(*end != '\0' && strcmp(end, "MB") != 0) ||
						v < ((mb = *end != '\0') ? 0.01 : 1))
					{
						log_error("invalid value \"%s\" for option --max-rate", optarg);
						log_detail("Give rows per second, such as \"100000\" (at least 1), or megabytes per second, such as \"50MB\" (at least 0.01).");
						return usage_error(cmdname);
					}
					if (mb)
						o->max_rate_bytes = v * 1024 * 1024;
					else
						o->max_rate = v;
				}
				break;
			case OPT_MAX_ORPHANS:
			case OPT_MAX_ORPHANS_PER_FK:
				{
					const char *name = c == OPT_MAX_ORPHANS ? "--max-orphans"
						: "--max-orphans-per-fk";

					if (!parse_count_option(optarg, name,
											c == OPT_MAX_ORPHANS ? &o->max_orphans
											: &o->max_orphans_per_fk))
						return usage_error(cmdname);
				}
				break;
			case OPT_MAX_TIME:
				if (!options_parse_duration(optarg, &o->max_time_s) || !(o->max_time_s > 0))
				{
					log_error("invalid value \"%s\" for option --max-time", optarg);
					log_detail("Give a duration such as \"30s\", \"5min\" or \"1h\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_ORDER:
				if (strcmp(optarg, "size") == 0)
					o->order = ORDER_SIZE;
				else if (strcmp(optarg, "name") == 0)
					o->order = ORDER_NAME;
				else if (strcmp(optarg, "catalog") == 0)
					o->order = ORDER_CATALOG;
				else
				{
					log_error("invalid value \"%s\" for option --order", optarg);
					log_detail("Valid values are \"size\", \"name\" and \"catalog\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_STATE:
				free(o->state_file);
				o->state_file = fk_strdup(optarg);
				break;
			case OPT_LOCK_TIMEOUT:
				if (!parse_timeout_ms(optarg, "--lock-timeout", &o->conn.lock_timeout_ms))
					return usage_error(cmdname);
				/* the server reads 0 as "wait forever": never what a bound means */
				if (o->conn.lock_timeout_ms < 1)
				{
					log_error("invalid value \"%s\" for option --lock-timeout", optarg);
					log_detail("Give at least 1ms; fkscan never waits for a lock without a bound.");
					return usage_error(cmdname);
				}
				break;
			case OPT_STATEMENT_TIMEOUT:
				if (!parse_timeout_ms(optarg, "--statement-timeout", &o->statement_timeout_ms))
					return usage_error(cmdname);
				break;
			case OPT_STRATEGY:
				if (strcmp(optarg, "delete") == 0)
					o->strategy = STRATEGY_DELETE;
				else if (strcmp(optarg, "nullify") == 0)
					o->strategy = STRATEGY_NULLIFY;
				else if (strcmp(optarg, "backfill") == 0)
					o->strategy = STRATEGY_BACKFILL;
				else
				{
					log_error("invalid value \"%s\" for option --strategy", optarg);
					log_detail("Valid values are \"delete\", \"nullify\" and \"backfill\".");
					return usage_error(cmdname);
				}
				break;
			case OPT_APPLY:
				o->apply = true;
				break;
			case OPT_BACKUP_DIR:
				free(o->backup_dir);
				o->backup_dir = fk_strdup(optarg);
				break;
			case OPT_SET:
				if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				{
					log_error("invalid value \"%s\" for option --set", optarg);
					log_detail("Give COLUMN=VALUE, such as --set name=unknown.");
					return usage_error(cmdname);
				}
				stringlist_append(&o->set_values, optarg);
				break;
			case OPT_CASCADE:
				o->cascade = true;
				break;
			case OPT_BATCH_SIZE:
				if (!parse_int_option(optarg, "--batch-size", 1, INT_MAX, &o->batch_size))
					return usage_error(cmdname);
				break;
			case OPT_LOCK_RETRIES:
				if (!parse_int_option(optarg, "--lock-retries", 0, 100, &o->lock_retries))
					return usage_error(cmdname);
				break;
			case 'P':
				o->progress = TRI_YES;
				break;
			case OPT_NO_PROGRESS:
				o->progress = TRI_NO;
				break;
			case 'V':
				printf("fkscan %s\n", FKSCAN_VERSION);
				o->done = true;
				return true;
			case '?':
				{
					const char *arg = av[optind - 1];

					if (strcmp(arg, "--help") == 0 || strcmp(arg, "-?") == 0)
					{
						print_command_help(o->command);
						o->done = true;
						return true;
					}
					if (optopt != 0)
						log_error("invalid option -- '%c'", optopt);
					else
						log_error("unrecognized option \"%s\"", arg);
					return usage_error(cmdname);
				}
			case ':':
				if (optopt && optopt < 256)
					log_error("option -%c requires an argument", optopt);
				else
					log_error("option \"%s\" requires an argument", av[optind - 1]);
				return usage_error(cmdname);
			default:
				log_error("unexpected option parsing state");
				return usage_error(cmdname);
		}
	}

	if (o->command == CMD_FIX && o->strategy == STRATEGY_NONE)
	{
		log_error("fkscan fix needs --strategy");
		log_detail("Valid values are \"delete\", \"nullify\" and \"backfill\".");
		return usage_error(cmdname);
	}

	/* One positional argument: the database, as in vacuumdb. */
	if (optind < ac && o->conn.dbname == NULL)
		o->conn.dbname = fk_strdup(av[optind++]);
	if (optind < ac)
	{
		log_error("too many command-line arguments (first is \"%s\")", av[optind]);
		return usage_error(cmdname);
	}
	return true;
}

void
options_reset(FkOptions *o)
{
	free(o->conn.dbname);
	free(o->conn.host);
	free(o->conn.port);
	free(o->conn.username);
	free(o->orphans_out);
	free(o->backup_dir);
	stringlist_reset(&o->set_values);
	free(o->state_file);
	stringlist_reset(&o->filter.schemas);
	stringlist_reset(&o->filter.exclude_schemas);
	stringlist_reset(&o->filter.tables);
	stringlist_reset(&o->filter.exclude_tables);
	stringlist_reset(&o->filter.constraints);
	memset(o, 0, sizeof(*o));
}
