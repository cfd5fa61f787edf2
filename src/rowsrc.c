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
#define MAX_COLS		  1600

/*
 * Bytes are added to the shared counter 64 kB at a time (and at the end of
 * each stream): an atomic add per row would bounce the counter's cache line
 * between the workers' cores for every row; the throttle needs no finer grain.
 */
#define BYTES_FLUSH_EVERY 65536

static _Thread_local atomic_uint_fast64_t *byte_counter;
static _Thread_local uint64_t			   bytes_pending;

static void
flush_bytes(void)
{
	if (byte_counter && bytes_pending > 0)
		atomic_fetch_add_explicit(byte_counter, bytes_pending, memory_order_relaxed);
	bytes_pending = 0;
}

void
rowsrc_count_bytes_into(atomic_uint_fast64_t *counter)
{
	flush_bytes();
	byte_counter = counter;
}

static inline void
count_bytes(int64_t n)
{
	bytes_pending += (uint64_t) n;
	if (FK_UNLIKELY(bytes_pending >= BYTES_FLUSH_EVERY))
		flush_bytes();
}

typedef struct CopyCtx
{
	CopyBinDecoder *dec;
	CopyRowFn		fn;
	void		   *ctx;
	const char	   *conn_name;
	bool			logged; /* a decode error was logged already */
} CopyCtx;

static bool
feed_binary(void *arg, const char *buf, int len)
{
	CopyCtx *cc = arg;

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
stream_binary(PgConn *c, const char *select_sql, int ncols, CopyRowFn fn, void *ctx,
			  RowSourceStats *stats)
{
	StrBuf	sql;
	CopyCtx cc;
	bool	ok;

	strbuf_init(&sql);
	strbuf_appendf(&sql, "COPY (%s) TO STDOUT (FORMAT binary)", select_sql);
	cc.dec = copybin_create(ncols);
	cc.fn = fn;
	cc.ctx = ctx;
	cc.conn_name = pgconn_name(c);
	cc.logged = false;
	ok = pgconn_copy_out(c, sql.data, feed_binary, &cc, &stats->bytes);
	if (ok && !copybin_finish(cc.dec))
	{
		log_error("%s: malformed COPY data: %s", pgconn_name(c), copybin_error(cc.dec));
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
	uint8_t	   *vals; /* 8 bytes per column */
	uint64_t	rows;
	const char *conn_name;
} TextCtx;

static bool
parse_int8_field(const char *p, const char *end, uint8_t *out)
{
	bool	 neg = false;
	uint64_t v = 0;

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
	TextCtx	   *tc = arg;
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
stream_text(PgConn *c, const char *select_sql, int ncols, CopyRowFn fn, void *ctx,
			RowSourceStats *stats)
{
	StrBuf	sql;
	TextCtx tc;
	bool	ok;

	strbuf_init(&sql);
	strbuf_appendf(&sql, "COPY (%s) TO STDOUT", select_sql);
	tc.ncols = ncols;
	tc.fn = fn;
	tc.ctx = ctx;
	tc.fields = fk_calloc((size_t) ncols, sizeof(CopyField));
	tc.vals = fk_calloc((size_t) ncols, 8);
	tc.rows = 0;
	tc.conn_name = pgconn_name(c);
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
	int		   ncols;
	CopyRowFn  fn;
	void	  *ctx;
	CopyField *fields;
	uint64_t   rows;
	uint64_t   batch_rows;
	int64_t	   bytes;
} CursorCtx;

static bool
cursor_row(void *arg, const PGresult *res, int row)
{
	CursorCtx *cc = arg;

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
stream_cursor(PgConn *c, const char *select_sql, int ncols, CopyRowFn fn, void *ctx,
			  RowSourceStats *stats)
{
	StrBuf	  sql;
	CursorCtx cc;
	bool	  ok;
	char	  fetch[64];

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
rowsrc_stream(PgConn *c, FetchMethod method, const char *select_sql, int ncols, CopyRowFn fn,
			  void *ctx, RowSourceStats *stats)
{
	RowSourceStats dummy;
	bool		   ok;

	if (stats == NULL)
		stats = &dummy;
	stats->rows = 0;
	stats->bytes = 0;
	stats->bad_key = false;
	if (ncols < 1 || ncols > MAX_COLS)
	{
		log_error("%s: cannot stream %d columns", pgconn_name(c), ncols);
		return false;
	}
	switch (method)
	{
		case FETCH_COPY_TEXT:
			ok = stream_text(c, select_sql, ncols, fn, ctx, stats);
			break;
		case FETCH_CURSOR:
			ok = stream_cursor(c, select_sql, ncols, fn, ctx, stats);
			break;
		case FETCH_COPY_BINARY:
		default:
			ok = stream_binary(c, select_sql, ncols, fn, ctx, stats);
			break;
	}
	flush_bytes();
	return ok;
}

/* ---- integer keys in batches ---- */

static bool
feed_binary_keys(void *arg, const char *buf, int len)
{
	count_bytes(len);
	return copybin_feed_keys(arg, (const uint8_t *) buf, (size_t) len);
}

static bool
stream_binary_keys(PgConn *c, const char *select_sql, CopyKeysFn fn, void *ctx,
				   RowSourceStats *stats)
{
	StrBuf			sql;
	CopyBinDecoder *dec = copybin_create_keys(fn, ctx);
	bool			ok;

	strbuf_init(&sql);
	strbuf_appendf(&sql, "COPY (%s) TO STDOUT (FORMAT binary)", select_sql);
	ok = pgconn_copy_out(c, sql.data, feed_binary_keys, dec, &stats->bytes);
	if (ok)
		ok = copybin_finish(dec);
	/* a callback that stopped has logged its own reason; a bad key is the caller's to name */
	stats->bad_key = copybin_bad_key(dec);
	if (!ok && *copybin_error(dec) && !stats->bad_key &&
		strcmp(copybin_error(dec), "stopped by caller") != 0)
		log_error("%s: malformed COPY data: %s", pgconn_name(c), copybin_error(dec));
	stats->rows = copybin_rows(dec);
	copybin_free(dec);
	strbuf_free(&sql);
	return ok;
}

/*
 * Text COPY and the cursor deliver rows: batch them here the way key mode
 * does (these methods are for comparison; binary COPY is the fast one).
 */
typedef struct KeyBatcher
{
	CopyKeysFn fn;
	void	  *ctx;
	uint64_t   rows;
	uint64_t   batch_row;
	size_t	   nkeys;
	size_t	   nnulls;
	bool	   bad_key;
	int64_t	   keys[COPYBIN_KEY_BATCH];
	uint32_t   nulls[COPYBIN_KEY_BATCH];
} KeyBatcher;

static bool
batcher_flush(KeyBatcher *kb)
{
	CopyKeyBatch b = {kb->keys, kb->nkeys, kb->nulls, kb->nnulls, kb->batch_row};

	kb->nkeys = 0;
	kb->nnulls = 0;
	kb->batch_row = kb->rows;
	return b.nkeys + b.nnulls == 0 || kb->fn(kb->ctx, &b);
}

static bool
batcher_row(void *arg, const CopyField *f, int nfields)
{
	KeyBatcher *kb = arg;

	(void) nfields;
	if (f->len < 0)
		kb->nulls[kb->nnulls++] = (uint32_t) (kb->rows - kb->batch_row);
	else if (copybin_int_field(f->data, f->len, &kb->keys[kb->nkeys]))
		kb->nkeys++;
	else
	{
		kb->bad_key = true;
		return false;
	}
	kb->rows++;
	if (kb->nkeys + kb->nnulls == COPYBIN_KEY_BATCH)
		return batcher_flush(kb);
	return true;
}

bool
rowsrc_stream_keys(PgConn *c, FetchMethod method, const char *select_sql, CopyKeysFn fn, void *ctx,
				   RowSourceStats *stats)
{
	RowSourceStats dummy;
	KeyBatcher	  *kb;
	bool		   ok;

	if (stats == NULL)
		stats = &dummy;
	stats->rows = 0;
	stats->bytes = 0;
	stats->bad_key = false;
	if (method == FETCH_COPY_BINARY)
	{
		ok = stream_binary_keys(c, select_sql, fn, ctx, stats);
		flush_bytes();
		return ok;
	}
	kb = fk_calloc(1, sizeof(KeyBatcher));
	kb->fn = fn;
	kb->ctx = ctx;
	ok = rowsrc_stream(c, method, select_sql, 1, batcher_row, kb, stats) && batcher_flush(kb);
	stats->bad_key = kb->bad_key;
	free(kb);
	return ok;
}
