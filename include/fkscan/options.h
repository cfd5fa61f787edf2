/*
 * options.h
 *	  The command line: every setting with its default, parsed once in
 *	  main() and read-only afterwards.
 *
 * Usage: fkscan COMMAND [OPTION]... [DBNAME | CONNINFO]
 * options_parse() logs a one-line error naming the bad option or value and
 * a "Try ... --help" hint, and returns false; --help and --version are
 * answered there too (options->done is set, exit 0).
 */
#ifndef FKSCAN_OPTIONS_H
#define FKSCAN_OPTIONS_H

#include "fkscan/catalog.h"
#include "fkscan/common.h"
#include "fkscan/gate.h"
#include "fkscan/pgconn.h"
#include "fkscan/rowsrc.h"
#include "fkscan/strbuf.h"

typedef enum FkCommand
{
	CMD_NONE = 0,
	CMD_AUDIT,
	CMD_SCAN,
	CMD_FIX,
	CMD_VALIDATE
} FkCommand;

/* fix --strategy */
typedef enum FixStrategy
{
	STRATEGY_NONE = 0,
	STRATEGY_DELETE,	/* delete the orphan rows */
	STRATEGY_NULLIFY,	/* set their FK columns to NULL */
	STRATEGY_BACKFILL,	/* insert stub parents for the missing keys */
	STRATEGY_QUARANTINE /* move the orphan rows into a quarantine table */
} FixStrategy;

typedef enum OutputFormat
{
	FORMAT_TEXT = 0,
	FORMAT_JSON,
	FORMAT_JSONL /* scan only: a line per FK, then a summary line */
} OutputFormat;

/* What a run on a hot standby does about recovery conflicts (--consistency). */
typedef enum Consistency
{
	CONSISTENCY_SNAPSHOT = 0, /* one snapshot; a conflict restarts the scan */
	CONSISTENCY_CHUNK		  /* a conflict retries the lost chunk on a fresh snapshot */
} Consistency;

/* How --replica spreads a sweep over the servers (--spread). */
typedef enum Spread
{
	SPREAD_FK = 0, /* each FK whole on one server's snapshot */
	SPREAD_CHUNK   /* each FK's chunks over every server; orphans confirmed on one */
} Spread;

/* In which order child tables are scanned, so FKs finish one by one (--order). */
typedef enum ScanOrder
{
	ORDER_SIZE = 0, /* smallest child first: a budget finishes the most FKs */
	ORDER_NAME,		/* by child schema and table name */
	ORDER_CATALOG	/* as the catalog lists them, server-side checks first */
} ScanOrder;

/* The scan's engine: every command that reads (scan, fix, validate). */
typedef struct EngineOptions
{
	int			jobs; /* -j; default: number of CPUs */
	FetchMethod fetch;
	int64_t		chunk_pages;  /* --chunk-size, in 8 kB pages; 0 = auto */
	int64_t		memory_limit; /* --memory-limit in bytes for parent key sets */
	Consistency consistency;
	int			retries;		/* --retries: restarts (snapshot) or per-chunk retries */
	bool		pause_replay;	/* --pause-replay on a standby */
	double		max_lag_s;		/* --max-lag; < 0: no limit */
	double		max_rate;		/* --max-rate rows per second; 0: no limit */
	double		max_rate_bytes; /* --max-rate NMB: bytes per second; 0: no limit */
} EngineOptions;

/* --replica: servers besides the main one (a 64-bit mask tracks them). */
#define MAX_REPLICAS 63

/* The scan command's output, gate and sweep. */
typedef struct ScanOptions
{
	int			sample;			/* --sample N orphan rows per FK */
	char	   *orphans_out;	/* --orphans-out FILE.csv or DIR: every orphan row */
	bool		compare_server; /* --compare server: also run the server's anti-join */
	double		max_time_s;		/* --max-time budget in seconds; 0: none */
	ScanOrder	order;			/* --order */
	char	   *state_file;		/* --state FILE: finished FKs recorded, skipped on resume */
	GateOptions gate;			/* --max-orphans*, --baseline */
	char	   *baseline;		/* --baseline FILE: orphans known from an earlier run */
	StringList	replicas;		/* --replica CONNINFO: more servers of the same system */
	Spread		spread;			/* --spread */
} ScanOptions;

/* The commands that write: fix and validate. */
typedef struct RepairOptions
{
	bool		apply;				  /* --apply: write; otherwise print the SQL */
	int			statement_timeout_ms; /* --statement-timeout, 0: none */
	FixStrategy strategy;			  /* fix --strategy */
	char	   *backup_dir;			  /* fix --backup-dir; NULL: ./fkscan-backup-TIME */
	StringList	set_values;			  /* fix --set COLUMN=VALUE (backfill) */
	bool		cascade;			  /* fix --cascade: deletes may cascade */
	char	   *quarantine_table;	  /* fix --quarantine-table: SCHEMA.NAME as typed */
	int			batch_size;			  /* fix --batch-size: keys per transaction; 0: one */
	int			lock_retries;		  /* validate --lock-retries */
	bool		add;				  /* validate --add: clean relationships become FKs */
} RepairOptions;

/* A command line: what every command takes, then one section per kind of command. */
typedef struct FkOptions
{
	FkCommand	  command;
	bool		  done; /* --help/--version answered: exit 0 */
	ConnOptions	  conn;
	FilterOptions filter;
	OutputFormat  format;
	int			  verbosity; /* -q: -1, default 0, each -v: +1 */
	TriValue	  progress;	 /* -P / --no-progress; default: on a tty */
	EngineOptions engine;
	ScanOptions	  scan;
	RepairOptions repair;
} FkOptions;

/* Fill defaults, then parse argv.  Returns false on bad usage (logged). */
bool options_parse(int argc, char **argv, FkOptions *options);
void options_reset(FkOptions *options);

/* Parse "64MB", "1GB", "8192" (bytes) into bytes; false if malformed. */
bool options_parse_size(const char *text, int64_t *bytes);

/*
 * A plain decimal number (digits, at most one '.', at most 15 of them; no
 * sign, blank, exponent, hex, inf or nan), *rest pointing at what follows.
 */
bool options_parse_decimal(const char *text, double *value, const char **rest);

/* A whole number read by options_parse_decimal, in [min, max], nothing after it. */
bool options_parse_integer(const char *text, int64_t min, int64_t max, int64_t *value);

/* Parse "30s", "5min", "2h", "250ms" or plain seconds; false if malformed. */
bool options_parse_duration(const char *text, double *seconds);

#endif /* FKSCAN_OPTIONS_H */
