/*
 * rowsrc.h
 *	  Stream the rows of one SELECT out of the server, as field views.
 *
 * Three ways out, chosen with --fetch and measured in bench/:
 *   binary  COPY (SELECT ...) TO STDOUT (FORMAT binary), decoded by copybin;
 *   text    COPY (SELECT ...) TO STDOUT, integer columns only;
 *   cursor  DECLARE ... CURSOR, FETCH FORWARD n with binary results.
 * Whatever the method, the callback sees each field in PostgreSQL's binary
 * send format, except that text mode delivers every integer column as an
 * 8-byte int8 (the key code widens all integer widths to int64 anyway).
 */
#ifndef FKSCAN_ROWSRC_H
#define FKSCAN_ROWSRC_H

#include <stdatomic.h>

#include "fkscan/copybin.h"
#include "fkscan/pgconn.h"

typedef struct RowSourceStats
{
	uint64_t rows;
	int64_t	 bytes;
	bool	 bad_key; /* rowsrc_stream_keys: a value not an integer key */
} RowSourceStats;

/*
 * Add every byte this thread streams from now on to *counter as it arrives
 * (NULL stops): lets a throttle see bytes across threads mid-chunk.
 */
void rowsrc_count_bytes_into(atomic_uint_fast64_t *counter);

/* How rows leave the server (--fetch). */
typedef enum FetchMethod
{
	FETCH_COPY_BINARY = 0,
	FETCH_COPY_TEXT,
	FETCH_CURSOR
} FetchMethod;

/*
 * Run select_sql (a SELECT of ncols columns) and call fn for every row.
 * Returns false on any failure (logged) or when fn returns false; stats
 * may be NULL.
 */
bool rowsrc_stream(PgConn *c, FetchMethod method, const char *select_sql, int ncols, CopyRowFn fn,
				   void *ctx, RowSourceStats *stats);

/*
 * The same for a SELECT of one integer column (int2, int4 or int8), with the
 * keys delivered in batches (copybin.h's key mode) rather than row by row:
 * the hot path of every integer key scan.  Whatever the method, fn sees
 * int64 keys and the positions of the NULL rows.  A value that is not an
 * integer key fails the stream with stats->bad_key set and nothing logged
 * (the caller names the table); other failures are logged.
 */
bool rowsrc_stream_keys(PgConn *c, FetchMethod method, const char *select_sql, CopyKeysFn fn,
						void *ctx, RowSourceStats *stats);

#endif /* FKSCAN_ROWSRC_H */
