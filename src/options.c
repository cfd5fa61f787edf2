/*
 * options.c
 *	  Command-line parsing and --help, in the manner of pg_dump and vacuumdb.
 */
#include "fkscan/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/strbuf.h"
#include "fkscan/usage.h"

#define MAX_JOBS 256

static bool
usage_error(const char *cmdname)
{
	if (cmdname)
		log_hint("Try \"fkscan %s --help\" for more information.", cmdname);
	else
		log_hint("Try \"fkscan --help\" for more information.");
	return false;
}

/* A timeout in milliseconds: plain milliseconds, or a duration ("500ms", "10s"). */
static bool
parse_timeout_ms(const char *value, const char *optname, int *ms)
{
	double	seconds;
	int64_t v;

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
	int64_t v;

	if (!options_parse_integer(value, 0, INT64_MAX, &v) &&
		!(value[0] == '-' && options_parse_integer(value + 1, 1, INT64_MAX, &v)))
	{
		log_error("invalid value \"%s\" for option %s", value, optname);
		return false;
	}
	if (value[0] == '-' || v < min || v > max) /* "-1": say the range */
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
	} units[] = {{"", 1},
				 {"B", 1},
				 {"kB", 1024},
				 {"KB", 1024},
				 {"MB", 1024 * 1024},
				 {"GB", 1024LL * 1024 * 1024},
				 {"TB", 1024LL * 1024 * 1024 * 1024}};
	const char *end;
	double		d;
	int64_t		v;

	if (!options_parse_decimal(text, &d, &end) || d != (double) (int64_t) d)
		return false; /* whole numbers only */
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
	} units[] = {{"", 1}, {"s", 1}, {"ms", 0.001}, {"min", 60}, {"h", 3600}};
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
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MAX_JOBS ? MAX_JOBS : (int) n;
}

/* A quarter of the machine's memory: the server needs the rest. */
static int64_t
default_memory_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || size <= 0)
		return 1024LL * 1024 * 1024;
	return (int64_t) pages * size / 4;
}

/* ---- the option table ---- */

/* Which commands take an option: bits by FkCommand. */
#define FOR_AUDIT	 (1u << CMD_AUDIT)
#define FOR_SCAN	 (1u << CMD_SCAN)
#define FOR_FIX		 (1u << CMD_FIX)
#define FOR_VALIDATE (1u << CMD_VALIDATE)
#define FOR_REPAIRS	 (FOR_FIX | FOR_VALIDATE)
#define FOR_READERS	 (FOR_SCAN | FOR_REPAIRS) /* they run the scan's engine */
#define FOR_ALL		 (FOR_AUDIT | FOR_READERS)

#define FIELD(f) offsetof(FkOptions, f)

/* The enum fields set through an int (set_int, parse_choice). */
_Static_assert(sizeof(TriValue) == sizeof(int) && sizeof(OutputFormat) == sizeof(int) &&
				   sizeof(FetchMethod) == sizeof(int) && sizeof(Consistency) == sizeof(int) &&
				   sizeof(ScanOrder) == sizeof(int) && sizeof(FixStrategy) == sizeof(int) &&
				   sizeof(Spread) == sizeof(int),
			   "enum options are set as int");

typedef struct Choice
{
	const char *name;
	int			value;
	unsigned	commands; /* FOR_*: which commands accept it */
} Choice;

typedef struct OptionSpec OptionSpec;

/* Set the option from arg (NULL for a flag); false after logging. */
typedef bool (*OptionParser)(FkOptions *o, const OptionSpec *spec, const char *arg);

struct OptionSpec
{
	const char	 *name;		/* the long name, without "--" */
	char		  letter;	/* the short name, or 0 */
	int			  has_arg;	/* getopt's no_argument or required_argument */
	unsigned	  commands; /* FOR_*: which commands take it */
	OptionParser  parse;
	size_t		  field; /* FIELD(...) for the generic parsers */
	int64_t		  min;	 /* parse_int: the range; set_int: the value */
	int64_t		  max;
	const Choice *choices; /* parse_choice: ends with a NULL name */
};

static void *
field_of(FkOptions *o, const OptionSpec *spec)
{
	return (char *) o + spec->field;
}

/* "-j/--jobs", or "--fetch": how messages name an option. */
static const char *
display_name(const OptionSpec *spec)
{
	static char buf[64];

	if (spec->letter)
		snprintf(buf, sizeof(buf), "-%c/--%s", spec->letter, spec->name);
	else
		snprintf(buf, sizeof(buf), "--%s", spec->name);
	return buf;
}

static bool
invalid_value(const OptionSpec *spec, const char *arg, const char *detail)
{
	log_error("invalid value \"%s\" for option --%s", arg, spec->name);
	if (detail)
		log_detail("%s", detail);
	return false;
}

static bool
set_true(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	(void) arg;
	*(bool *) field_of(o, spec) = true;
	return true;
}

static bool
set_int(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	(void) arg;
	*(int *) field_of(o, spec) = (int) spec->min;
	return true;
}

static bool
more_verbose(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	(void) spec;
	(void) arg;
	o->verbosity++;
	return true;
}

static bool
set_string(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	char **s = field_of(o, spec);

	free(*s);
	*s = fk_strdup(arg);
	return true;
}

static bool
append_list(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	stringlist_append(field_of(o, spec), arg);
	return true;
}

static bool
add_relation(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	return relation_list_add(&o->filter.relations, arg, display_name(spec));
}

static bool
read_relations(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	(void) spec;
	return relation_list_read_file(&o->filter.relations, arg);
}

static bool
parse_int(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	return parse_int_option(arg, display_name(spec), (int) spec->min, (int) spec->max,
							field_of(o, spec));
}

/* One of spec->choices that this command accepts. */
static bool
parse_choice(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	unsigned cmd = 1u << o->command;
	StrBuf	 valid;
	int		 n = 0, listed = 0;

	for (const Choice *c = spec->choices; c->name; c++)
		if (c->commands & cmd)
		{
			if (strcmp(arg, c->name) == 0)
			{
				*(int *) field_of(o, spec) = c->value;
				return true;
			}
			n++;
		}
	strbuf_init(&valid);
	strbuf_append(&valid, "Valid values are ");
	for (const Choice *c = spec->choices; c->name; c++)
		if (c->commands & cmd)
		{
			listed++;
			strbuf_appendf(&valid, "%s\"%s\"",
						   listed == 1	 ? ""
						   : listed == n ? " and "
										 : ", ",
						   c->name);
		}
	strbuf_append(&valid, ".");
	invalid_value(spec, arg, valid.data);
	strbuf_free(&valid);
	return false;
}

static bool
parse_chunk_size(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	int64_t bytes;

	if (!options_parse_size(arg, &bytes) || bytes < 8192)
		return invalid_value(spec, arg, "Give a size of at least 8kB, such as \"256MB\".");
	o->engine.chunk_pages = bytes / 8192;
	return true;
}

static bool
parse_memory_limit(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	if (!options_parse_size(arg, &o->engine.memory_limit) || o->engine.memory_limit < 1024 * 1024)
		return invalid_value(spec, arg, "Give a size of at least 1MB, such as \"2GB\".");
	return true;
}

static bool
parse_orphans_out(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	/* stdout holds the report: "-" would be a file named "-" */
	if (arg[0] == '\0' || strcmp(arg, "-") == 0)
		return invalid_value(
			spec, arg,
			"Give a file name (FILE.csv) or a directory (DIR/); the report is on stdout.");
	return set_string(o, spec, arg);
}

/* A duration in seconds; min 1: it must be more than zero. */
static bool
parse_seconds(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	double *s = field_of(o, spec);

	if (!options_parse_duration(arg, s) || (spec->min > 0 && !(*s > 0)))
		return invalid_value(spec, arg, "Give a duration such as \"30s\", \"5min\" or \"1h\".");
	return true;
}

static bool
parse_max_rate(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	const char *end;
	double		v;
	bool		mb;

	/* at least 1 row or 0.01 MB per second: less never progresses */
	if (!options_parse_decimal(arg, &v, &end) || (*end != '\0' && strcmp(end, "MB") != 0) ||
		v < ((mb = *end != '\0') ? 0.01 : 1))
		return invalid_value(spec, arg,
							 "Give rows per second, such as \"100000\" (at least 1), or megabytes "
							 "per second, such as \"50MB\" (at least 0.01).");
	if (mb)
		o->engine.max_rate_bytes = v * 1024 * 1024;
	else
		o->engine.max_rate = v;
	return true;
}

static bool
parse_count(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	return parse_count_option(arg, display_name(spec), field_of(o, spec));
}

/* Milliseconds; min 1: the server reads 0 as "wait forever". */
static bool
parse_timeout(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	int *ms = field_of(o, spec);

	if (!parse_timeout_ms(arg, display_name(spec), ms))
		return false;
	if (*ms < spec->min)
		return invalid_value(spec, arg,
							 "Give at least 1ms; fkscan never waits for a lock without a bound.");
	return true;
}

/* A fraction of rows: 0 to 1, as a plain decimal ("0.001"). */
static bool
parse_fraction(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	double		v;
	const char *rest;

	if (!options_parse_decimal(arg, &v, &rest) || *rest != '\0' || v > 1)
		return invalid_value(spec, arg, "Give a fraction from 0 to 1, such as 0.001.");
	*(double *) field_of(o, spec) = v;
	return true;
}

/* --replica: a conninfo string or URI libpq accepts, checked now. */
static bool
parse_replica(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	char			 *err = NULL;
	PQconninfoOption *parsed = PQconninfoParse(arg, &err);

	if (parsed == NULL)
	{
		/* libpq's message, without the password a failing string may hold */
		log_error("invalid value for option --replica: %s",
				  err ? strtok(err, "\n") : "out of memory");
		PQfreemem(err);
		return false;
	}
	for (PQconninfoOption *p = parsed; p->keyword; p++)
		if (strcmp(p->keyword, "dbname") == 0 && p->val && p->val[0])
		{
			log_error("invalid value for option --replica: it names a server, not a database");
			log_detail("The database is the main connection's.");
			PQconninfoFree(parsed);
			return false;
		}
	PQconninfoFree(parsed);
	if (o->scan.replicas.n >= MAX_REPLICAS)
	{
		log_error("too many --replica options (at most %d)", MAX_REPLICAS);
		return false;
	}
	return append_list(o, spec, arg);
}

/* --baseline: the gate counts only orphans the file does not know. */
static bool
set_baseline(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	o->scan.gate.baseline = true;
	return set_string(o, spec, arg);
}

static bool
parse_compare(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	if (strcmp(arg, "server") != 0)
		return invalid_value(spec, arg, "The only valid value is \"server\".");
	o->scan.compare_server = true;
	return true;
}

static bool
parse_set(FkOptions *o, const OptionSpec *spec, const char *arg)
{
	if (strchr(arg, '=') == NULL || arg[0] == '=')
		return invalid_value(spec, arg, "Give COLUMN=VALUE, such as --set name=unknown.");
	return append_list(o, spec, arg);
}

static const Choice format_choices[] = {{"text", FORMAT_TEXT, FOR_ALL},
										{"json", FORMAT_JSON, FOR_ALL},
										{"jsonl", FORMAT_JSONL, FOR_SCAN},
										{NULL, 0, 0}};
static const Choice fetch_choices[] = {{"binary", FETCH_COPY_BINARY, FOR_ALL},
									   {"text", FETCH_COPY_TEXT, FOR_ALL},
									   {"cursor", FETCH_CURSOR, FOR_ALL},
									   {NULL, 0, 0}};
static const Choice consistency_choices[] = {{"snapshot", CONSISTENCY_SNAPSHOT, FOR_ALL},
											 {"chunk", CONSISTENCY_CHUNK, FOR_ALL},
											 {NULL, 0, 0}};
static const Choice spread_choices[] = {
	{"fk", SPREAD_FK, FOR_ALL}, {"chunk", SPREAD_CHUNK, FOR_ALL}, {NULL, 0, 0}};
static const Choice order_choices[] = {{"size", ORDER_SIZE, FOR_ALL},
									   {"name", ORDER_NAME, FOR_ALL},
									   {"catalog", ORDER_CATALOG, FOR_ALL},
									   {NULL, 0, 0}};
static const Choice strategy_choices[] = {{"delete", STRATEGY_DELETE, FOR_ALL},
										  {"nullify", STRATEGY_NULLIFY, FOR_ALL},
										  {"backfill", STRATEGY_BACKFILL, FOR_ALL},
										  {"quarantine", STRATEGY_QUARANTINE, FOR_ALL},
										  {NULL, 0, 0}};

#define NO_ARG no_argument
#define ARG	   required_argument

/*
 * Every option of every command.  getopt gets one table for all: a command
 * refuses the options of the others rather than ignore them.  fix and
 * validate run a scan: they take its engine options, not its output ones.
 */
static const OptionSpec option_table[] = {
	/* selection, output, connection: every command */
	{"schema", 'n', ARG, FOR_ALL, append_list, FIELD(filter.schemas)},
	{"exclude-schema", 'N', ARG, FOR_ALL, append_list, FIELD(filter.exclude_schemas)},
	{"table", 't', ARG, FOR_ALL, append_list, FIELD(filter.tables)},
	{"exclude-table", 'T', ARG, FOR_ALL, append_list, FIELD(filter.exclude_tables)},
	{"constraint", 'c', ARG, FOR_ALL, append_list, FIELD(filter.constraints)},
	{"strict-names", 0, NO_ARG, FOR_ALL, set_true, FIELD(filter.strict_names)},
	{"relation", 0, ARG, FOR_ALL, add_relation},
	{"relations", 0, ARG, FOR_ALL, read_relations},
	{"format", 0, ARG, FOR_AUDIT | FOR_SCAN, parse_choice, FIELD(format),
	 .choices = format_choices},
	{"quiet", 'q', NO_ARG, FOR_ALL, set_int, FIELD(verbosity), .min = -1},
	{"verbose", 'v', NO_ARG, FOR_ALL, more_verbose},
	{"dbname", 'd', ARG, FOR_ALL, set_string, FIELD(conn.dbname)},
	{"host", 'h', ARG, FOR_ALL, set_string, FIELD(conn.host)},
	{"port", 'p', ARG, FOR_ALL, set_string, FIELD(conn.port)},
	{"username", 'U', ARG, FOR_ALL, set_string, FIELD(conn.username)},
	{"no-password", 'w', NO_ARG, FOR_ALL, set_int, FIELD(conn.prompt_password), .min = TRI_NO},
	{"password", 'W', NO_ARG, FOR_ALL, set_int, FIELD(conn.prompt_password), .min = TRI_YES},
	/* the audit's catalog queries lock too */
	{"lock-timeout", 0, ARG, FOR_ALL, parse_timeout, FIELD(conn.lock_timeout_ms), .min = 1},

	/* the scan's engine */
	{"jobs", 'j', ARG, FOR_READERS, parse_int, FIELD(engine.jobs), 1, MAX_JOBS},
	{"progress", 'P', NO_ARG, FOR_READERS, set_int, FIELD(progress), .min = TRI_YES},
	{"no-progress", 0, NO_ARG, FOR_READERS, set_int, FIELD(progress), .min = TRI_NO},
	{"fetch", 0, ARG, FOR_READERS, parse_choice, FIELD(engine.fetch), .choices = fetch_choices},
	{"chunk-size", 0, ARG, FOR_READERS, parse_chunk_size},
	{"memory-limit", 0, ARG, FOR_READERS, parse_memory_limit},
	{"consistency", 0, ARG, FOR_READERS, parse_choice, FIELD(engine.consistency),
	 .choices = consistency_choices},
	{"retries", 0, ARG, FOR_READERS, parse_int, FIELD(engine.retries), 0, 1000},
	{"pause-replay", 0, NO_ARG, FOR_READERS, set_true, FIELD(engine.pause_replay)},
	{"max-lag", 0, ARG, FOR_READERS, parse_seconds, FIELD(engine.max_lag_s)},
	{"max-rate", 0, ARG, FOR_READERS, parse_max_rate},

	/* the scan's output, gate and sweep */
	{"sample", 0, ARG, FOR_SCAN, parse_int, FIELD(scan.sample), 0, 1000000},
	{"orphans-out", 0, ARG, FOR_SCAN, parse_orphans_out, FIELD(scan.orphans_out)},
	{"compare", 0, ARG, FOR_SCAN, parse_compare},
	{"max-orphans", 0, ARG, FOR_SCAN, parse_count, FIELD(scan.gate.max_orphans)},
	{"max-orphans-per-fk", 0, ARG, FOR_SCAN, parse_count, FIELD(scan.gate.max_orphans_per_fk)},
	{"max-orphans-ratio", 0, ARG, FOR_SCAN, parse_fraction, FIELD(scan.gate.max_orphans_ratio)},
	{"baseline", 0, ARG, FOR_SCAN, set_baseline, FIELD(scan.baseline)},
	{"max-time", 0, ARG, FOR_SCAN, parse_seconds, FIELD(scan.max_time_s), .min = 1},
	{"order", 0, ARG, FOR_SCAN, parse_choice, FIELD(scan.order), .choices = order_choices},
	{"state", 0, ARG, FOR_SCAN, set_string, FIELD(scan.state_file)},
	{"replica", 0, ARG, FOR_SCAN, parse_replica, FIELD(scan.replicas)},
	{"spread", 0, ARG, FOR_SCAN, parse_choice, FIELD(scan.spread), .choices = spread_choices},

	/* repairs */
	{"apply", 0, NO_ARG, FOR_REPAIRS, set_true, FIELD(repair.apply)},
	{"statement-timeout", 0, ARG, FOR_REPAIRS, parse_timeout, FIELD(repair.statement_timeout_ms)},
	{"strategy", 0, ARG, FOR_FIX, parse_choice, FIELD(repair.strategy),
	 .choices = strategy_choices},
	{"backup-dir", 0, ARG, FOR_FIX, set_string, FIELD(repair.backup_dir)},
	{"set", 0, ARG, FOR_FIX, parse_set, FIELD(repair.set_values)},
	{"cascade", 0, NO_ARG, FOR_FIX, set_true, FIELD(repair.cascade)},
	{"quarantine-table", 0, ARG, FOR_FIX, set_string, FIELD(repair.quarantine_table)},
	{"batch-size", 0, ARG, FOR_FIX, parse_int, FIELD(repair.batch_size), 1, INT_MAX},
	{"lock-retries", 0, ARG, FOR_VALIDATE, parse_int, FIELD(repair.lock_retries), 0, 100},
	{"add", 0, NO_ARG, FOR_VALIDATE, set_true, FIELD(repair.add)},
};

/* getopt's value for a long-only option: its index, past every letter. */
#define LONG_ONLY_BASE 1000

/* "option --apply is only for "fkscan fix" and "fkscan validate"" */
static bool
refuse_option(const OptionSpec *spec, const char *cmdname)
{
	static const char *const names[] = {
		[CMD_AUDIT] = "audit", [CMD_SCAN] = "scan", [CMD_FIX] = "fix", [CMD_VALIDATE] = "validate"};
	StrBuf msg;
	int	   n = 0, listed = 0;

	if (strcmp(spec->name, "format") == 0)
	{
		log_error("option --format is not for \"fkscan %s\": it prints SQL and plain text",
				  cmdname);
		return usage_error(cmdname);
	}
	for (int c = CMD_AUDIT; c <= CMD_VALIDATE; c++)
		n += (spec->commands >> c) & 1;
	strbuf_init(&msg);
	for (int c = CMD_AUDIT; c <= CMD_VALIDATE; c++)
		if ((spec->commands >> c) & 1)
		{
			listed++;
			strbuf_appendf(&msg, "%s\"fkscan %s\"",
						   listed == 1	 ? ""
						   : listed == n ? " and "
										 : ", ",
						   names[c]);
		}
	log_error("option %s is only for %s", display_name(spec), msg.data);
	strbuf_free(&msg);
	return usage_error(cmdname);
}

/* The getopt tables, from option_table: built once. */
static void
getopt_tables(struct option *longs, char *shorts)
{
	size_t n = 0;
	char  *s = shorts;

	*s++ = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < FK_LENGTHOF(option_table); i++)
	{
		const OptionSpec *spec = &option_table[i];

		longs[n++] = (struct option){spec->name, spec->has_arg, NULL,
									 spec->letter ? spec->letter : LONG_ONLY_BASE + (int) i};
		if (spec->letter)
		{
			*s++ = spec->letter;
			if (spec->has_arg == required_argument)
				*s++ = ':';
		}
	}
	longs[n++] = (struct option){"help", no_argument, NULL, '?'};
	longs[n++] = (struct option){"version", no_argument, NULL, 'V'};
	longs[n] = (struct option){NULL, 0, NULL, 0};
	strcpy(s, "?V");
}

static const OptionSpec *
spec_for(int c)
{
	if (c >= LONG_ONLY_BASE && c < LONG_ONLY_BASE + (int) FK_LENGTHOF(option_table))
		return &option_table[c - LONG_ONLY_BASE];
	for (size_t i = 0; i < FK_LENGTHOF(option_table); i++)
		if (option_table[i].letter && option_table[i].letter == c)
			return &option_table[i];
	return NULL;
}

/* getopt's answers that are no option of the table: help, version, errors. */
static bool
getopt_other(int c, FkOptions *o, char **av, const char *cmdname)
{
	const char *arg = av[optind - 1];

	switch (c)
	{
		case 'V':
			printf("fkscan %s\n", FKSCAN_VERSION);
			o->done = true;
			return true;
		case '?':
			if (strcmp(arg, "--help") == 0 || strcmp(arg, "-?") == 0)
			{
				usage_command(o->command);
				o->done = true;
				return true;
			}
			if (optopt != 0)
				log_error("invalid option -- '%c'", optopt);
			else
				log_error("unrecognized option \"%s\"", arg);
			return usage_error(cmdname);
		case ':':
			if (optopt && optopt < 256)
				log_error("option -%c requires an argument", optopt);
			else
				log_error("option \"%s\" requires an argument", arg);
			return usage_error(cmdname);
		default:
			log_error("unexpected option parsing state");
			return usage_error(cmdname);
	}
}

static const struct
{
	const char *name;
	FkCommand	command;
} commands[] = {
	{"audit", CMD_AUDIT}, {"scan", CMD_SCAN}, {"fix", CMD_FIX}, {"validate", CMD_VALIDATE}};

static void
set_defaults(FkOptions *o)
{
	memset(o, 0, sizeof(*o));
	o->engine.jobs = default_jobs();
	o->scan.sample = 5;
	o->conn.lock_timeout_ms = LOCK_TIMEOUT_MS_DEFAULT;
	o->engine.memory_limit = default_memory_limit();
	o->engine.retries = 3;
	o->engine.max_lag_s = -1;
	o->scan.gate.max_orphans = -1;
	o->scan.gate.max_orphans_per_fk = -1;
	o->scan.gate.max_orphans_ratio = -1;
	o->repair.statement_timeout_ms = 600000;
	o->repair.lock_retries = 3;
}

bool
options_parse(int argc, char **argv, FkOptions *o)
{
	static struct option longs[FK_LENGTHOF(option_table) + 3];
	static char			 shorts[2 * FK_LENGTHOF(option_table) + 4];
	const char			*cmdname;
	char			   **av = argv + 1;
	int					 ac = argc - 1;
	int					 c;

	set_defaults(o);
	if (argc < 2)
	{
		log_error("no command given");
		return usage_error(NULL);
	}
	cmdname = argv[1];
	if (strcmp(cmdname, "--help") == 0 || strcmp(cmdname, "-?") == 0 ||
		strcmp(cmdname, "help") == 0)
	{
		usage_main();
		o->done = true;
		return true;
	}
	if (strcmp(cmdname, "--version") == 0 || strcmp(cmdname, "-V") == 0)
	{
		printf("fkscan %s\n", FKSCAN_VERSION);
		o->done = true;
		return true;
	}
	for (size_t i = 0; i < FK_LENGTHOF(commands); i++)
		if (strcmp(cmdname, commands[i].name) == 0)
			o->command = commands[i].command;
	if (o->command == CMD_NONE)
	{
		log_error("unrecognized command \"%s\"", cmdname);
		return usage_error(NULL);
	}

	if (shorts[0] == '\0')
		getopt_tables(longs, shorts);
	/* getopt sees "COMMAND OPTIONS..."; its own messages are silenced. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(ac, av, shorts, longs, NULL)) != -1)
	{
		const OptionSpec *spec = spec_for(c);

		if (spec == NULL)
			return getopt_other(c, o, av, cmdname); /* help, version or an error */
		if (!(spec->commands & (1u << o->command)))
			return refuse_option(spec, cmdname);
		if (!spec->parse(o, spec, optarg))
			return usage_error(cmdname);
	}

	if (o->command == CMD_FIX && o->repair.strategy == STRATEGY_NONE)
	{
		log_error("fkscan fix needs --strategy");
		log_detail("Valid values are \"delete\", \"nullify\", \"backfill\" and \"quarantine\".");
		return usage_error(cmdname);
	}
	if (o->repair.quarantine_table && o->repair.strategy != STRATEGY_QUARANTINE)
	{
		log_error("option --quarantine-table is only for --strategy quarantine");
		return usage_error(cmdname);
	}

	if (o->scan.spread != SPREAD_FK && o->scan.replicas.n == 0)
	{
		log_error("option --spread needs --replica");
		return usage_error(cmdname);
	}
	if (o->scan.replicas.n > 0 && o->scan.state_file)
	{
		/* its records tie each chunk to one snapshot of one server */
		log_error("options --replica and --state cannot be used together");
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
	free(o->scan.orphans_out);
	free(o->repair.backup_dir);
	free(o->repair.quarantine_table);
	stringlist_reset(&o->repair.set_values);
	free(o->scan.state_file);
	free(o->scan.baseline);
	stringlist_reset(&o->scan.replicas);
	stringlist_reset(&o->filter.schemas);
	stringlist_reset(&o->filter.exclude_schemas);
	stringlist_reset(&o->filter.tables);
	stringlist_reset(&o->filter.exclude_tables);
	stringlist_reset(&o->filter.constraints);
	relation_list_free(&o->filter.relations);
	memset(o, 0, sizeof(*o));
}
