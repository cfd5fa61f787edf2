/*
 * pgconn.c
 *	  Connections, the session setup, the executor and COPY streaming.
 */
#include "fkscan/pgconn.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/quote.h"
#include "fkscan/signals.h"
#include "fkscan/strbuf.h"

typedef struct PgConn
{
	PGconn *conn;
	char   *name;			   /* "coordinator", "worker 3": for messages */
	int		server_version;	   /* PQserverVersion, e.g. 150018 */
	char	sqlstate[6];	   /* of the last failure, "" if none */
	char   *last_error;		   /* primary message of the last failure, or NULL */
	char	async_sqlstate[6]; /* a FATAL the server sent between queries */
	int		cancel_slot;	   /* signals registry, -1 if none */
	int		lock_timeout_ms;   /* the session's lock_timeout (for messages) */
	bool	quiet_errors;	   /* caller logs failures itself */
} PgConn;

/*
 * Settings applied in one statement right after connecting.  search_path
 * comes first: nothing user-controlled may resolve before it is empty.
 * synchronize_seqscans off: a plain scan of a big table would start where
 * another scan of it is, so the first orphans streamed would not be the
 * first by ctid, the ones the sample lookup looks for in the first pages.
 */
static const char *const session_settings[][2] = {
	{"search_path", ""},
	{"row_security", "off"},
	{"client_encoding", "UTF8"},
	{"DateStyle", "ISO"},
	{"IntervalStyle", "postgres"},
	{"TimeZone", "UTC"},
	{"extra_float_digits", "3"},
	{"jit", "off"},
	{"max_parallel_workers_per_gather", "0"},
	{"synchronize_seqscans", "off"},
};

/* Read a password from the terminal without echo, as psql does. */
static char *
prompt_password(const char *prompt)
{
	char		   buf[1024];
	struct termios t, t_orig;
	FILE		  *in = fopen("/dev/tty", "r");
	FILE		  *out = fopen("/dev/tty", "w");
	bool		   have_tty = in && out;
	size_t		   n;

	if (!have_tty)
	{
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		in = stdin;
		out = stderr;
	}
	fputs(prompt, out);
	fflush(out);
	if (have_tty && tcgetattr(fileno(in), &t) == 0)
	{
		t_orig = t;
		t.c_lflag &= ~ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &t);
	}
	else
		have_tty = false;
	if (fgets(buf, sizeof(buf), in) == NULL)
		buf[0] = '\0';
	if (have_tty)
	{
		tcsetattr(fileno(in), TCSAFLUSH, &t_orig);
		fputs("\n", out);
		fflush(out);
	}
	if (in != stdin)
		fclose(in);
	if (out != stderr)
		fclose(out);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return fk_strdup(buf);
}

/* Log a multi-line libpq message: first line primary, the rest as detail. */
static void
log_multiline(const char *prefix, const char *msg)
{
	char  *copy = fk_strdup(msg ? msg : "unknown error");
	char  *nl = strchr(copy, '\n');
	size_t n;

	if (nl)
		*nl = '\0';
	log_error("%s%s", prefix, copy);
	if (nl && nl[1])
	{
		char *rest = nl + 1;

		n = strlen(rest);
		while (n > 0 && (rest[n - 1] == '\n' || rest[n - 1] == ' '))
			rest[--n] = '\0';
		while (*rest == '\t' || *rest == ' ')
			rest++;
		/* the server's own "DETAIL:  " would be printed twice */
		if (strncmp(rest, "DETAIL:", 7) == 0)
			for (rest += 7; *rest == ' '; rest++)
				;
		if (*rest)
			log_detail("%s", rest);
	}
	free(copy);
}

/*
 * The fixed settings, and lock_timeout: set before the first catalog query,
 * which locks too (pg_relation_size), so no lock wait of the run is unbounded.
 */
static bool
apply_session_settings(PgConn *c, int lock_timeout_ms)
{
	StrBuf		sql;
	const char *params[2 * FK_LENGTHOF(session_settings) + 1];
	char		timeout[32];
	size_t		n = FK_LENGTHOF(session_settings);
	bool		ok;

	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT ");
	for (size_t i = 0; i < n; i++)
	{
		strbuf_appendf(&sql, "pg_catalog.set_config($%zu, $%zu, false), ", 2 * i + 1, 2 * i + 2);
		params[2 * i] = session_settings[i][0];
		params[2 * i + 1] = session_settings[i][1];
	}
	snprintf(timeout, sizeof(timeout), "%d", lock_timeout_ms);
	strbuf_appendf(&sql, "pg_catalog.set_config('lock_timeout', $%zu, false)", 2 * n + 1);
	params[2 * n] = timeout;
	ok = pgconn_exec(c, sql.data, (int) (2 * n + 1), params, NULL, NULL);
	strbuf_free(&sql);
	return ok;
}

/*
 * Messages the server sends on its own: notices, and errors that arrive
 * between queries, such as a hot standby's "terminating connection due to
 * conflict with recovery" (FATAL, 40001) on a session idle in transaction.
 * libpq would print those raw; keep the SQLSTATE for the next failure.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	PgConn	   *c = arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	/* a FATAL ends the session: it explains whatever fails next, for good */
	bool error = severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0);

	if (error)
	{
		snprintf(c->async_sqlstate, sizeof(c->async_sqlstate), "%s", state ? state : "");
		free(c->last_error);
		c->last_error = fk_strdup(primary ? primary : "server error");
		if (!c->quiet_errors)
			log_warning("%s: %s", c->name, c->last_error);
	}
	else if (primary)
		log_info("%s: %s: %s", c->name, severity ? severity : "NOTICE", primary);
}

/*
 * A password typed once serves every connection of the run (pg_dump does
 * the same); workers connect at once, so the prompt is serialised.
 */
static pthread_mutex_t password_lock = PTHREAD_MUTEX_INITIALIZER;
static char			  *typed_password;

static char *
ask_password_once(void)
{
	char *p;

	pthread_mutex_lock(&password_lock);
	if (typed_password == NULL)
		typed_password = prompt_password("Password: ");
	p = fk_strdup(typed_password);
	pthread_mutex_unlock(&password_lock);
	return p;
}

void
pgconn_forget_password(void)
{
	pthread_mutex_lock(&password_lock);
	if (typed_password)
	{
		memset(typed_password, 0, strlen(typed_password));
		free(typed_password);
		typed_password = NULL;
	}
	pthread_mutex_unlock(&password_lock);
}

/* More than libpq has keywords: a --replica's settings always fit. */
#define MAX_SERVER_KEYWORDS 64

PgConn *
pgconn_connect(const ConnOptions *co, const char *name)
{
	const char		 *keywords[8 + MAX_SERVER_KEYWORDS];
	const char		 *values[8 + MAX_SERVER_KEYWORDS];
	char			 *password = NULL;
	PQconninfoOption *server = co->server ? PQconninfoParse(co->server, NULL) : NULL;
	PGconn			 *conn;
	PgConn			 *c;
	int				  busy_tries = 0;

	pthread_mutex_lock(&password_lock);
	if (co->prompt_password == TRI_YES || typed_password)
	{
		pthread_mutex_unlock(&password_lock);
		password = ask_password_once();
	}
	else
		pthread_mutex_unlock(&password_lock);

	for (;;)
	{
		int n = 0;

		keywords[n] = "host";
		values[n++] = co->host;
		keywords[n] = "port";
		values[n++] = co->port;
		keywords[n] = "user";
		values[n++] = co->username;
		keywords[n] = "password";
		values[n++] = password;
		keywords[n] = "fallback_application_name";
		values[n++] = "fkscan";
		/* dbname after those, so that a conninfo string in it overrides them */
		keywords[n] = "dbname";
		values[n++] = co->dbname;
		/* and a --replica's settings last: libpq keeps the last of a keyword */
		for (PQconninfoOption *o = server; o && o->keyword && n < 7 + MAX_SERVER_KEYWORDS; o++)
			if (o->val && o->val[0] && strcmp(o->keyword, "dbname") != 0)
			{
				keywords[n] = o->keyword;
				values[n++] = o->val;
			}
		keywords[n] = NULL;
		values[n] = NULL;

		conn = PQconnectdbParams(keywords, values, 1);
		if (conn == NULL)
		{
			log_error("could not allocate a connection to the server");
			PQconninfoFree(server);
			free(password);
			return NULL;
		}
		if (PQstatus(conn) == CONNECTION_BAD && PQconnectionNeedsPassword(conn) &&
			password == NULL && co->prompt_password != TRI_NO && isatty(fileno(stdin)))
		{
			PQfinish(conn);
			password = ask_password_once();
			continue;
		}

		/*
		 * A connection limit (the role's, the database's, max_connections)
		 * counts a backend until it has exited, a moment after its client
		 * left: a few short waits before calling the room gone.  (The
		 * server's message in English; other languages just do not wait.)
		 */
		if (PQstatus(conn) == CONNECTION_BAD && busy_tries < 5 &&
			(strstr(PQerrorMessage(conn), "too many connections") ||
			 strstr(PQerrorMessage(conn), "too many clients")))
		{
			PQfinish(conn);
			usleep(50000u << busy_tries++);
			continue;
		}
		break;
	}
	PQconninfoFree(server);
	/* The password is libpq's business from here on; never print it. */
	if (password)
	{
		memset(password, 0, strlen(password));
		free(password);
	}

	if (PQstatus(conn) == CONNECTION_BAD)
	{
		log_multiline("", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}

	c = fk_calloc(1, sizeof(PgConn));
	c->conn = conn;
	c->name = fk_strdup(name);
	PQsetNoticeReceiver(conn, notice_receiver, c);
	c->server_version = PQserverVersion(conn);
	c->cancel_slot = signals_register(conn);
	if (c->server_version < FK_PG12)
	{
		log_error("server version %d is not supported", c->server_version);
		log_detail("fkscan needs PostgreSQL 12 or later.");
		pgconn_free(c);
		return NULL;
	}
	c->lock_timeout_ms = co->lock_timeout_ms > 0 ? co->lock_timeout_ms : LOCK_TIMEOUT_MS_DEFAULT;
	if (!apply_session_settings(c, c->lock_timeout_ms))
	{
		pgconn_free(c);
		return NULL;
	}
	return c;
}

const char *
pgconn_name(const PgConn *c)
{
	return c->name;
}

char *
pgconn_address(const PgConn *c)
{
	StrBuf b;

	strbuf_init(&b);
	strbuf_appendf(&b, "%s:%s", PQhost(c->conn), PQport(c->conn));
	return strbuf_take(&b);
}

int
pgconn_server_version(const PgConn *c)
{
	return c->server_version;
}

const char *
pgconn_database(const PgConn *c)
{
	return PQdb(c->conn);
}

int
pgconn_lock_timeout_ms(const PgConn *c)
{
	return c->lock_timeout_ms;
}

const char *
pgconn_sqlstate(const PgConn *c)
{
	return c->sqlstate;
}

const char *
pgconn_error(const PgConn *c, const char *dflt)
{
	return c->last_error ? c->last_error : dflt;
}

void
pgconn_set_quiet(PgConn *c, bool quiet)
{
	c->quiet_errors = quiet;
}

bool
pgconn_alive(const PgConn *c)
{
	return PQstatus(c->conn) == CONNECTION_OK;
}

bool
pgconn_in_transaction(const PgConn *c)
{
	return PQtransactionStatus(c->conn) != PQTRANS_IDLE;
}

bool
pgconn_transaction_failed(const PgConn *c)
{
	return PQtransactionStatus(c->conn) == PQTRANS_INERROR;
}

static bool
bool_row(void *ctx, const PGresult *res, int row)
{
	*(bool *) ctx = strcmp(PQgetvalue(res, row, 0), "t") == 0;
	return true;
}

bool
pgconn_in_recovery(PgConn *c, bool *in_recovery)
{
	return pgconn_exec(c, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL, bool_row, in_recovery);
}

bool
pgconn_reset(PgConn *c)
{
	signals_unregister(c->cancel_slot);
	PQreset(c->conn);
	/* the new backend has its own cancel key */
	c->cancel_slot = signals_register(c->conn);
	return PQstatus(c->conn) == CONNECTION_OK && apply_session_settings(c, c->lock_timeout_ms);
}

PGconn *
pgconn_libpq(PgConn *c)
{
	return c->conn;
}

void
pgconn_free(PgConn *c)
{
	if (c == NULL)
		return;
	signals_unregister(c->cancel_slot);
	if (c->conn && PQtransactionStatus(c->conn) == PQTRANS_ACTIVE)
	{
		PGcancel *cancel = PQgetCancel(c->conn);
		char	  errbuf[256];

		if (cancel)
		{
			(void) PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
	}
	PQfinish(c->conn);
	free(c->last_error);
	free(c->name);
	free(c);
}

/* Log a failure from fn-driven code in the same shape as the executor's. */
static void
pgconn_log_result_error(PgConn *c, const PGresult *res, const char *what)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	/* a connection the server ended between queries: its reason came first */
	if (!state && c->async_sqlstate[0])
	{
		snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", c->async_sqlstate);
		if (!c->quiet_errors)
			log_error("%s: %s", what ? what : c->name,
					  c->last_error ? c->last_error : "connection lost");
		return;
	}
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
	free(c->last_error);
	if (primary)
		c->last_error = fk_strdup(primary);
	else
	{
		/* connection-level failures: the first line of libpq's message */
		const char *msg = PQerrorMessage(c->conn);

		c->last_error = fk_strdup(msg && *msg ? msg : "connection lost");
		c->last_error[strcspn(c->last_error, "\n")] = '\0';
	}
	if (c->quiet_errors)
		return;
	if (primary)
		log_error("%s: %s", what ? what : c->name, primary);
	else
	{
		/* connection-level failures have no fields, only the message */
		char prefix[256];

		snprintf(prefix, sizeof(prefix), "%s: ", what ? what : c->name);
		log_multiline(prefix, PQerrorMessage(c->conn));
		return;
	}
	if (detail)
		log_detail("%s", detail);
	if (hint)
		log_hint("%s", hint);
}

static bool
run(PgConn *c, const char *sql, int nparams, const char *const *values, const int *lengths,
	const int *formats, int result_format, PgRowFn fn, void *ctx)
{
	PGresult	  *res;
	ExecStatusType st;
	bool		   ok = true;

	c->sqlstate[0] = '\0';
	log_debug("%s: %s", c->name, sql);
	res = PQexecParams(c->conn, sql, nparams, NULL, values, lengths, formats, result_format);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
	{
		pgconn_log_result_error(c, res, NULL);
		if (!c->quiet_errors && log_get_level() <= LOG_LEVEL_INFO)
			log_detail("Query was: %s", sql);
		PQclear(res);
		return false;
	}
	if (fn)
	{
		int nrows = PQntuples(res);

		for (int i = 0; i < nrows && ok; i++)
			ok = fn(ctx, res, i);
	}
	PQclear(res);
	return ok;
}

bool
pgconn_exec(PgConn *c, const char *sql, int nparams, const char *const *params, PgRowFn fn,
			void *ctx)
{
	return run(c, sql, nparams, params, NULL, NULL, 0, fn, ctx);
}

bool
pgconn_exec_binary(PgConn *c, const char *sql, int nparams, const char *const *values,
				   const int *lengths, const int *formats, bool binary_results, PgRowFn fn,
				   void *ctx)
{
	return run(c, sql, nparams, values, lengths, formats, binary_results ? 1 : 0, fn, ctx);
}

typedef struct FetchString
{
	char *value;
	int	  rows;
} FetchString;

bool
pgconn_exec_count(PgConn *c, const char *sql, int nparams, const char *const *params,
				  uint64_t *affected)
{
	PGresult	  *res;
	ExecStatusType st;

	c->sqlstate[0] = '\0';
	log_debug("%s: %s", c->name, sql);
	res = PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
	{
		pgconn_log_result_error(c, res, NULL);
		PQclear(res);
		return false;
	}
	*affected = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return true;
}

bool
pgconn_copy_in(PgConn *c, const char *sql, const char *data, size_t len)
{
	PGresult *res;
	bool	  ok = true;

	c->sqlstate[0] = '\0';
	log_debug("%s: %s", c->name, sql);
	res = PQexec(c->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		pgconn_log_result_error(c, res, NULL);
		PQclear(res);
		return false;
	}
	PQclear(res);
	/* in slices: PQputCopyData takes an int length */
	for (size_t off = 0; ok && off < len; off += 1 << 20)
	{
		size_t n = len - off < (1 << 20) ? len - off : (1 << 20);

		ok = PQputCopyData(c->conn, data + off, (int) n) == 1;
	}
	if (PQputCopyEnd(c->conn, ok ? NULL : "fkscan: sending COPY data failed") != 1)
		ok = false;
	while ((res = PQgetResult(c->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok)
		{
			pgconn_log_result_error(c, res, NULL);
			ok = false;
		}
		PQclear(res);
	}
	if (!ok && c->sqlstate[0] == '\0')
		pgconn_log_result_error(c, NULL, NULL);
	return ok;
}

static bool
fetch_string_row(void *ctx, const PGresult *res, int row)
{
	FetchString *fs = ctx;

	fs->rows++;
	if (row == 0 && !PQgetisnull(res, 0, 0))
		fs->value = fk_strdup(PQgetvalue(res, 0, 0));
	return true;
}

bool
pgconn_fetch_string(PgConn *c, const char *sql, int nparams, const char *const *params,
					char **value)
{
	FetchString fs = {NULL, 0};

	if (!run(c, sql, nparams, params, NULL, NULL, 0, fetch_string_row, &fs))
	{
		free(fs.value);
		return false;
	}
	if (fs.rows != 1)
	{
		log_error("%s: query returned %d rows instead of one", c->name, fs.rows);
		free(fs.value);
		return false;
	}
	*value = fs.value;
	return true;
}

bool
pgconn_copy_out(PgConn *c, const char *sql, PgCopyFn fn, void *ctx, int64_t *bytes)
{
	PGresult *res;
	int64_t	  total = 0;
	bool	  ok = true;
	bool	  stopped = false;
	char	 *buf;
	int		  len;

	c->sqlstate[0] = '\0';
	log_debug("%s: %s", c->name, sql);
	res = PQexecParams(c->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
	{
		pgconn_log_result_error(c, res, NULL);
		PQclear(res);
		return false;
	}
	PQclear(res);

	while ((len = PQgetCopyData(c->conn, &buf, 0)) > 0)
	{
		total += len;
		if (!stopped && !fn(ctx, buf, len))
		{
			/* drain the rest after asking the server to stop */
			PGcancel *cancel = PQgetCancel(c->conn);
			char	  errbuf[256];

			stopped = true;
			ok = false;
			if (cancel)
			{
				(void) PQcancel(cancel, errbuf, sizeof(errbuf));
				PQfreeCancel(cancel);
			}
		}
		PQfreemem(buf);
	}
	if (len == -2)
	{
		pgconn_log_result_error(c, NULL, NULL);
		ok = false;
	}
	/* The COPY's own status, then drain to the end of the command. */
	while ((res = PQgetResult(c->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !stopped && ok)
		{
			pgconn_log_result_error(c, res, NULL);
			ok = false;
		}
		PQclear(res);
	}
	if (bytes)
		*bytes = total;
	return ok;
}

char *
pgconn_quote_literal(PgConn *c, const char *value)
{
	char *q = PQescapeLiteral(c->conn, value, strlen(value));
	char *r;

	if (q == NULL)
	{
		log_error("could not quote a literal: %s", PQerrorMessage(c->conn));
		return NULL;
	}
	r = fk_strdup(q);
	PQfreemem(q);
	return r;
}

/* Quote without a connection (UTF8 connections, standard strings). */
static char *
quote_ident(const char *ident)
{
	StrBuf b;

	strbuf_init(&b);
	quote_append_ident(&b, ident);
	return strbuf_take(&b);
}

void
pgconn_oids_add(StrBuf *b, Oid oid)
{
	strbuf_appendf(b, "%c%u", b->len ? ',' : '{', oid);
}

void
pgconn_array_add(StrBuf *b, const char *elem)
{
	strbuf_append_char(b, b->len ? ',' : '{');
	if (elem == NULL)
	{
		strbuf_append(b, "NULL");
		return;
	}
	strbuf_append_char(b, '"');
	for (const char *p = elem; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			strbuf_append_char(b, '\\');
		strbuf_append_char(b, *p);
	}
	strbuf_append_char(b, '"');
}

const char *
pgconn_array_end(StrBuf *b)
{
	strbuf_append(b, b->len ? "}" : "{}");
	return b->data;
}

void
pgconn_append_ident(StrBuf *sql, const char *alias, const char *name)
{
	char *q = quote_ident(name);

	if (alias)
		strbuf_appendf(sql, "%s.%s", alias, q);
	else
		strbuf_append(sql, q);
	free(q);
}

void
pgconn_append_relation(StrBuf *sql, const char *schema, const char *name)
{
	pgconn_append_ident(sql, NULL, schema);
	strbuf_append_char(sql, '.');
	pgconn_append_ident(sql, NULL, name);
}
