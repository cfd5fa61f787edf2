/*
 * rowsrc.c
 *	  Row streaming by binary COPY, text COPY or a binary cursor.
 */
#include "fkscan/rowsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/strbuf.h"

#define CURSOR_FETCH_ROWS 20000
#define MAX_COLS 1600

static _Thread_local atomic_uint_fast64_t *byte_counter;

void
rowsrc_count_bytes_into(atomic_uint_fast64_t *counter)
{
	byte_counter = counter;
}

static inline void
count_bytes(int64_t n)
{
	if (byte_counter)
		atomic_fetch_add_explicit(byte_counter, (uint64_t) n, memory_order_relaxed);
}

typedef struct CopyCtx
{
	CopyBinDecoder *dec;
	CopyRowFn	fn;
	void	   *ctx;
	const char *conn_name;
	bool		logged;			/* a decode error was logged already */
} CopyCtx;

static bool
feed_binary(void *arg, const char *buf, int len)
{
	CopyCtx    *cc = arg;

	count_bytes(len);
	if (copybin_feed(cc->dec, (const uint8_t *) buf, (size_t) len, cc->fn, cc->ctx))
		return true;
	/* a callback that stopped has logged its own reason */
	if (*copybin_error(cc->dec) && strcmp(copybin_error(cc->dec), "stopped by caller") != 0)
	{
		log_error("%s: malformed COPY data: %s", cc->conn_name, copybin_error(cc->dec));
		cc->logged = true;
	}
	return false;
}

static bool
stream_binary(PgConn *c, const char *select_sql, int ncols, CopyRowFn fn,
			  void *ctx, RowSourceStats *stats)
{
	StrBuf		sql;
	CopyCtx		cc;
	bool		ok;

	strbuf_init(&sql);
	strbuf_appendf(&sql, "COPY (%s) TO STDOUT (FORMAT binary)", select_sql);
	cc.dec = copybin_create(ncols);
	cc.fn = fn;
	cc.ctx = ctx;
	cc.conn_name = c->name;
	cc.logged = false;
	ok = pgconn_copy_out(c, sql.data, feed_binary, &cc, &stats->bytes);
	if (ok && !copybin_finish(cc.dec))
	{
		log_error("%s: malformed COPY data: %s", c->name, copybin_error(cc.dec));
		ok = false;
	}
	stats->rows = copybin_rows(cc.dec);
	copybin_free(cc.dec);
	strbuf_free(&sql);
	return ok;
}

/* Text COPY: lines of tab-separated integers, \N for NULL. */
typedef struct TextCtx
{
	int			ncols;
	CopyRowFn	fn;
	void	   *ctx;
	CopyField  *fields;
	uint8_t    *vals;			/* 8 bytes per column */
	uint64_t	rows;
	const char *conn_name;
} TextCtx;

static bool
parse_int8_field(const char *p, const char *end, uint8_t *out)
{
	bool		neg = false;
	uint64_t	v = 0;

	if (p < end && (*p == '-' || *p == '+'))
		neg = (*p++ == '-');
	if (p == end)
		return false;
	for (; p < end; p++)
	{
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	if (v > (uint64_t) INT64_MAX + (neg ? 1 : 0))
		return false;
	if (neg)
		v = ~v + 1;
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t) v;
	return true;
}

static bool
feed_text(void *arg, const char *buf, int len)
{
	TextCtx    *tc = arg;
	const char *p = buf;
	const char *end = buf + len;

	count_bytes(len);
	/* The server sends one whole line per CopyData message. */
	if (len == 0 || end[-1] != '\n')
	{
		log_error("%s: malformed text COPY line", tc->conn_name);
		return false;
	}
	end--;
	for (int i = 0; i < tc->ncols; i++)
	{
		const char *f = p;

		while (p < end && *p != '\t')
			p++;
		if (p - f == 2 && f[0] == '\\' && f[1] == 'N')
			tc->fields[i].len = -1;
		else if (parse_int8_field(f, p, tc->vals + 8 * i))
			tc->fields[i].len = 8;
		else
		{
			log_error("%s: unexpected value in text COPY row %llu", tc->conn_name,
					  (unsigned long long) tc->rows + 1);
			return false;
		}
		if (i + 1 < tc->ncols)
		{
			if (p == end)
			{
				log_error("%s: short text COPY row %llu", tc->conn_name,
						  (unsigned long long) tc->rows + 1);
				return false;
			}
			p++;
		}
	}
	tc->rows++;
	return tc->fn(tc->ctx, tc->fields, tc->ncols);
}

static bool
stream_text(PgConn *c, const char *select_sql, int ncols, CopyRowFn fn,
			void *ctx, RowSourceStats *stats)
{
	StrBuf		sql;
	TextCtx		tc;
	bool		ok;

	strbuf_init(&sql);
	strbuf_appendf(&sql, "COPY (%s) TO STDOUT", select_sql);
	tc.ncols = ncols;
	tc.fn = fn;
	tc.ctx = ctx;
	tc.fields = fk_calloc((size_t) ncols, sizeof(CopyField));
	tc.vals = fk_calloc((size_t) ncols, 8);
	tc.rows = 0;
	tc.conn_name = c->name;
	for (int i = 0; i < ncols; i++)
		tc.fields[i].data = tc.vals + 8 * i;
	ok = pgconn_copy_out(c, sql.data, feed_text, &tc, &stats->bytes);
	stats->rows = tc.rows;
	free(tc.fields);
	free(tc.vals);
	strbuf_free(&sql);
	return ok;
}

/* Cursor: FETCH batches with binary results. */
typedef struct CursorCtx
{
	int			ncols;
	CopyRowFn	fn;
	void	   *ctx;
	CopyField  *fields;
	uint64_t	rows;
	uint64_t	batch_rows;
	int64_t		bytes;
} CursorCtx;

static bool
cursor_row(void *arg, const PGresult *res, int row)
{
	CursorCtx  *cc = arg;

	for (int i = 0; i < cc->ncols; i++)
	{
		if (PQgetisnull(res, row, i))
			cc->fields[i].len = -1;
		else
		{
			cc->fields[i].data = (const uint8_t *) PQgetvalue(res, row, i);
			cc->fields[i].len = PQgetlength(res, row, i);
			cc->bytes += cc->fields[i].len;
			count_bytes(cc->fields[i].len);
		}
	}
	cc->rows++;
	cc->batch_rows++;
	return cc->fn(cc->ctx, cc->fields, cc->ncols);
}

static bool
stream_cursor(PgConn *c, const char *select_sql, int ncols, CopyRowFn fn,
			  void *ctx, RowSourceStats *stats)
{
	StrBuf		sql;
	CursorCtx	cc;
	bool		ok;
	char		fetch[64];

	strbuf_init(&sql);
	strbuf_appendf(&sql, "DECLARE fkscan_rows NO SCROLL CURSOR FOR %s", select_sql);
	memset(&cc, 0, sizeof(cc));
	cc.ncols = ncols;
	cc.fn = fn;
	cc.ctx = ctx;
	cc.fields = fk_calloc((size_t) ncols, sizeof(CopyField));
	snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM fkscan_rows", CURSOR_FETCH_ROWS);
	ok = pgconn_exec(c, sql.data, 0, NULL, NULL, NULL);
	while (ok)
	{
		cc.batch_rows = 0;
		ok = pgconn_exec_binary(c, fetch, 0, NULL, NULL, NULL, true, cursor_row, &cc);
		if (cc.batch_rows < CURSOR_FETCH_ROWS)
			break;
	}
	if (ok)
		ok = pgconn_exec(c, "CLOSE fkscan_rows", 0, NULL, NULL, NULL);
	stats->rows = cc.rows;
	stats->bytes = cc.bytes;
	free(cc.fields);
	strbuf_free(&sql);
	return ok;
}

bool
rowsrc_stream(PgConn *c, FetchMethod method, const char *select_sql,
			  int ncols, CopyRowFn fn, void *ctx, RowSourceStats *stats)
{
	RowSourceStats dummy;

	if (stats == NULL)
		stats = &dummy;
	stats->rows = 0;
	stats->bytes = 0;
	if (ncols < 1 || ncols > MAX_COLS)
	{
		log_error("%s: cannot stream %d columns", c->name, ncols);
		return false;
	}
	switch (method)
	{
		case FETCH_COPY_TEXT:
			return stream_text(c, select_sql, ncols, fn, ctx, stats);
		case FETCH_CURSOR:
			return stream_cursor(c, select_sql, ncols, fn, ctx, stats);
		case FETCH_COPY_BINARY:
			break;
	}
	return stream_binary(c, select_sql, ncols, fn, ctx, stats);
}
