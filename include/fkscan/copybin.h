/*
 * copybin.h
 *	  A pure decoder of PostgreSQL's binary COPY format (no libpq inside).
 *
 * Format (copyto.c): 11-byte signature "PGCOPY\n\377\r\n\0", int32 flags,
 * int32 header-extension length (skipped), then per row an int16 field
 * count, and per field an int32 length (-1 = NULL) and that many bytes; the
 * trailer is a field count of -1.  All integers are big-endian.
 *
 * The input is a byte stream: the caller feeds buffers of any size (libpq
 * hands one CopyData message per row, with the header glued to the first
 * row), and the decoder keeps a partial row across calls.  A split anywhere
 * gives the same rows and the same error.  Every length is checked against
 * the bytes present; malformed input makes feed/finish return false with
 * copybin_error() naming what was wrong ("row 17: expected 2 fields, found
 * 3").  It never reads out of bounds, whatever the input.
 *
 * Checked: the signature; flag bit 16 (OIDs) and unknown bits 17..31 are
 * errors, bits 0..15 are ignored; the extension length must be >= 0; each
 * row's field count must be nfields (-1 is the trailer); each length -1 or
 * >= 0; no row over 1 GB - 1 (MaxAllocSize, as on the server), so a corrupt
 * length is refused before anything waits for or buffers its data; nothing
 * after the trailer.
 *
 * Cost: a buffer holding exactly one complete row (libpq's shape) is parsed
 * where it lies, with no copy and no allocation.  Only the tail of a row cut
 * by a buffer boundary is copied, into a buffer the decoder keeps.
 *
 * Lifecycle: create -> (feed)* -> finish -> reset for the next stream or free.
 * After an error every call fails with the same error until reset.
 * A decoder is used by one thread.
 */
#ifndef FKSCAN_COPYBIN_H
#define FKSCAN_COPYBIN_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"

/*
 * One field of a row.  data points into the caller's buffer or the decoder's
 * own; it is NULL when len is -1 (SQL NULL), otherwise len >= 0 bytes are
 * readable (data is not NULL even when len is 0, an empty text).
 */
typedef struct CopyField
{
	const uint8_t *data; /* borrowed: valid only during the row callback */
	int32_t		   len;	 /* -1 for NULL */
} CopyField;

/*
 * Called once per row, in stream order, with nfields fields (an array the
 * decoder reuses).  Return false to stop: feed then fails with the error
 * "stopped by caller" (exactly: callers tell it from bad data by that text).
 * The callback must not call feed, finish or reset on the same decoder.
 */
typedef bool (*CopyRowFn)(void *ctx, const CopyField *fields, int nfields);

typedef struct CopyBinDecoder CopyBinDecoder;

/*
 * Rows must have exactly nfields fields (1..1600); another count is an error.
 * Never returns NULL: for nfields out of range (a caller bug) the decoder
 * fails every call with an error that says so.  copybin_free(NULL) is a no-op.
 */
CopyBinDecoder *copybin_create(int nfields);
void			copybin_free(CopyBinDecoder *d);

/*
 * Forget all state, error and row count included, ready for a new stream.
 * Keeps its buffers, except a pending-row buffer grown over 1 MB by a huge row.
 */
void copybin_reset(CopyBinDecoder *d);

/*
 * Decode len bytes (buf may be NULL when len is 0), calling fn for every
 * complete row.  True if all was well so far; false on malformed data, a
 * stop, or a decoder that had already failed.
 */
bool copybin_feed(CopyBinDecoder *d, const uint8_t *buf, size_t len, CopyRowFn fn, void *ctx);

/*
 * End of stream: true iff the header and the trailer were seen, nothing after.
 * Otherwise fails with the reason: no header, a cut header or row, no trailer.
 */
bool copybin_finish(CopyBinDecoder *d);

/* The first error, "" when none; owned by the decoder until reset or free. */
const char *copybin_error(const CopyBinDecoder *d);

/* Rows passed to fn since create or reset, one whose callback stopped included. */
uint64_t copybin_rows(const CopyBinDecoder *d);

/*
 * Key mode: a stream of one integer column (int2, int4 or int8), the shape of
 * every integer key scan, delivered as batches of int64 keys instead of
 * one callback per row.  The stream is checked exactly as in row mode (it is
 * the same parser, with a fast path for libpq's one-row messages that accepts
 * only what the parser would); in addition a field of another length than
 * 2, 4 or 8 bytes (or NULL) is an error, and copybin_bad_key() says so.
 *
 * A batch holds the keys of up to COPYBIN_KEY_BATCH rows and the positions of
 * its NULL rows; it is passed on when it holds COPYBIN_KEY_BATCH rows, and
 * at the trailer (an empty batch never is).  So the batches, like the rows, are the
 * same however the stream is split, and a stream that fails loses at most the
 * batch being filled (the caller discards the whole stream anyway).
 */
#define COPYBIN_KEY_BATCH 2048

typedef struct CopyKeyBatch
{
	const int64_t  *keys; /* the non-NULL keys, in stream order */
	size_t			nkeys;
	const uint32_t *null_rows; /* the NULL rows, as offsets from first_row, ascending */
	size_t			nnulls;
	uint64_t		first_row; /* rows of the stream before this batch */
} CopyKeyBatch;

/*
 * Called with each batch (the arrays are the decoder's, valid during the
 * call).  Return false to stop, as a CopyRowFn does.
 */
typedef bool (*CopyKeysFn)(void *ctx, const CopyKeyBatch *batch);

/*
 * A key-mode decoder (one field per row), delivering to fn(ctx, ...).
 * Never returns NULL.  Feed it with copybin_feed_keys, not copybin_feed;
 * finish, reset, error, rows and free work as for any decoder.
 */
CopyBinDecoder *copybin_create_keys(CopyKeysFn fn, void *ctx);

/* copybin_feed for a key-mode decoder: batches go to its fn. */
bool copybin_feed_keys(CopyBinDecoder *d, const uint8_t *buf, size_t len);

/* Did a key-mode stream fail on a field that is not a 2, 4 or 8-byte integer? */
bool copybin_bad_key(const CopyBinDecoder *d);

/* Row number in the stream (from 0) of batch->keys[i], i < nkeys. */
uint64_t copybin_key_row(const CopyKeyBatch *batch, size_t i);

/* Big-endian readers for field data (caller has checked len). */
static inline int16_t
copybin_int16(const uint8_t *p)
{
	return (int16_t) (((uint16_t) p[0] << 8) | p[1]);
}

static inline int32_t
copybin_int32(const uint8_t *p)
{
	return (int32_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) |
					  p[3]);
}

static inline int64_t
copybin_int64(const uint8_t *p)
{
	return (int64_t) (((uint64_t) (uint32_t) copybin_int32(p) << 32) |
					  (uint32_t) copybin_int32(p + 4));
}

/*
 * An int2, int4 or int8 field (told apart by its length) widened to int64;
 * false for any other length (malformed data for an integer key).
 */
static inline bool
copybin_int_field(const uint8_t *data, int32_t len, int64_t *out)
{
	switch (len)
	{
		case 8:
			*out = copybin_int64(data);
			return true;
		case 4:
			*out = copybin_int32(data);
			return true;
		case 2:
			*out = copybin_int16(data);
			return true;
		default:
			return false;
	}
}

#endif /* FKSCAN_COPYBIN_H */
