/*
 * pgconn.h
 *	  The only module that talks libpq: connecting, the session settings
 *	  every fkscan connection shares, one executor for every query, COPY
 *	  streaming, and identifier/literal quoting.
 *
 * Every connection, once made, has: search_path = '' (set first, before
 * anything else runs), row_security = off (RLS would hide parents and invent
 * orphans; with it off an unreadable row is an error instead), client_encoding
 * UTF8, DateStyle ISO, IntervalStyle postgres, TimeZone UTC, jit off and no
 * parallel workers (fkscan is the parallelism; JIT costs 50-300 ms per query).
 *
 * Failures are logged here, once, with the server's message as the primary
 * line and its DETAIL/HINT; the SQLSTATE is kept for callers that branch on
 * it.  PGresults never leave this module.  A PgConn is used by one thread at
 * a time.
 */
#ifndef FKSCAN_PGCONN_H
#define FKSCAN_PGCONN_H

#include <libpq-fe.h>

#include "fkscan/common.h"

/*
 * Version gates: the server versions (PQserverVersion) where something
 * fkscan reads or runs changed, each named once here and used by name.
 * Changes handled without a gate: 15 puts RI triggers on partitioned
 * tables too (catalog_fks.sql expects them on leaves only, which every
 * major has); 17.1/16.5/15.9/14.14/13.17 stop DETACH PARTITION from
 * losing RI triggers (catalog_fks.sql finds any that are missing).
 */
/* 12: pg_constraint.oid an ordinary column, pg_partition_tree(): the catalog SQL needs both */
#define FK_PG12 120000
/*
 * 14: TID Range Scans (ctid >= '(n,0)' AND ctid < '(m,0)' reads only those
 * pages: relations split into chunks); pg_class.reltuples -1 for "never
 * analyzed"; pg_get_wal_replay_pause_state()
 */
#define FK_PG14 140000
/*
 * 18: pg_constraint.conenforced (NOT ENFORCED FKs: no RI triggers) and
 * conperiod (temporal PERIOD FKs: RI's range_agg containment test); NOT
 * VALID FKs on partitioned tables; VALIDATE refuses a NOT ENFORCED FK
 */
#define FK_PG18 180000

/* What libpq needs; NULL fields are left to libpq's defaults (PG* variables). */
typedef struct ConnOptions
{
	char	   *dbname; /* a name, a conninfo string or a URI */
	char	   *host;
	char	   *port;
	char	   *username;
	TriValue	prompt_password; /* -w: TRI_NO, -W: TRI_YES */
	int			lock_timeout_ms; /* --lock-timeout: every session's lock_timeout,
									 * from its first query on (>= 1; 0: the default) */
	const char *server;			 /* --replica: a conninfo string whose settings win over
						 * the rest (the database stays the main one's) */
} ConnOptions;

#define LOCK_TIMEOUT_MS_DEFAULT 10000

/* A connection (pgconn.c's; one thread at a time). */
typedef struct PgConn PgConn;

/*
 * Connect with the user's options (a conninfo string or URI works where a
 * dbname does; PG* variables, .pgpass and services come from libpq).
 * Returns NULL after logging a one-line error.
 */
PgConn *pgconn_connect(const ConnOptions *co, const char *name);
void	pgconn_free(PgConn *c); /* cancels a running query; NULL is a no-op */

const char *pgconn_name(const PgConn *c);			/* "coordinator", "worker 3" */
int			pgconn_server_version(const PgConn *c); /* e.g. 150018 */
const char *pgconn_database(const PgConn *c);
char	   *pgconn_address(const PgConn *c);		 /* "host:port", malloc'd */
int			pgconn_lock_timeout_ms(const PgConn *c); /* the session's, for messages */

/* The last failure: its SQLSTATE ("" if none) and primary message (or dflt). */
const char *pgconn_sqlstate(const PgConn *c);
const char *pgconn_error(const PgConn *c, const char *dflt);

/* quiet: failures are not logged here (the caller logs them itself). */
void pgconn_set_quiet(PgConn *c, bool quiet);

/* The session: alive; inside a transaction (or lost); in a failed one. */
bool pgconn_alive(const PgConn *c);
bool pgconn_in_transaction(const PgConn *c);
bool pgconn_transaction_failed(const PgConn *c);

/* Is the server a hot standby (pg_is_in_recovery())?  False after logging. */
bool pgconn_in_recovery(PgConn *c, bool *in_recovery);

/* Reconnect with the same parameters (a lost session's settings are redone). */
bool pgconn_reset(PgConn *c);

/* The libpq handle: for bench/bench_copy's raw COPY reference only. */
PGconn *pgconn_libpq(PgConn *c);

/* Wipe the password typed at a prompt (it serves every connection until then). */
void pgconn_forget_password(void);

/* Called once per result row; return false to stop (the exec then fails). */
typedef bool (*PgRowFn)(void *ctx, const PGresult *res, int row);

/*
 * Run one statement with text parameters (NULL entries are SQL NULLs) and
 * text results.  Succeeds on COMMAND_OK or TUPLES_OK; fn may be NULL.
 */
bool pgconn_exec(PgConn *c, const char *sql, int nparams, const char *const *params, PgRowFn fn,
				 void *ctx);

/* As pgconn_exec, with per-parameter lengths/formats and binary results. */
bool pgconn_exec_binary(PgConn *c, const char *sql, int nparams, const char *const *values,
						const int *lengths, const int *formats, bool binary_results, PgRowFn fn,
						void *ctx);

/* As pgconn_exec without rows; *affected gets the command's row count. */
bool pgconn_exec_count(PgConn *c, const char *sql, int nparams, const char *const *params,
					   uint64_t *affected);

/* "COPY ... FROM STDIN" with len bytes of data (in the COPY's format). */
bool pgconn_copy_in(PgConn *c, const char *sql, const char *data, size_t len);

/* Fetch one text value: the first column of the only row; caller frees. */
bool pgconn_fetch_string(PgConn *c, const char *sql, int nparams, const char *const *params,
						 char **value);

/*
 * Stream "COPY ... TO STDOUT": fn receives each CopyData message (borrowed,
 * freed after fn returns).  fn returning false cancels the COPY and fails.
 * *bytes (may be NULL) gets the bytes received.
 */
typedef bool (*PgCopyFn)(void *ctx, const char *buf, int len);
bool pgconn_copy_out(PgConn *c, const char *sql, PgCopyFn fn, void *ctx, int64_t *bytes);

/* Quoted literal (fk_malloc'd; caller frees). */
char *pgconn_quote_literal(PgConn *c, const char *value);

/* Append a quoted [alias.]column or schema.relation to SQL text. */
struct StrBuf;
void pgconn_append_ident(struct StrBuf *sql, const char *alias, const char *name);

/*
 * An oid[] or text[] parameter, built in an empty StrBuf: pgconn_oids_add
 * each oid (or any whole number) or pgconn_array_add each text (NULL: an
 * SQL NULL), then pgconn_array_end, which closes it ("{}" for none) and
 * returns its text.
 */
void		pgconn_oids_add(struct StrBuf *b, Oid oid);
void		pgconn_array_add(struct StrBuf *b, const char *elem);
const char *pgconn_array_end(struct StrBuf *b);
void		pgconn_append_relation(struct StrBuf *sql, const char *schema, const char *name);

#endif /* FKSCAN_PGCONN_H */
