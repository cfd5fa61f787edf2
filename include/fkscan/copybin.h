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
 * row), and the decoder keeps a partial row across calls.  Every length is
 * checked against the bytes present; malformed input makes feed/finish
 * return false with copybin_error() naming what was wrong.  It never reads
 * out of bounds, whatever the input.
 *
 * Lifecycle: create -> (feed)* -> finish -> reset for the next stream or free.
 * A decoder is used by one thread.
 */
#ifndef FKSCAN_COPYBIN_H
#define FKSCAN_COPYBIN_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"

typedef struct CopyField
{
	const uint8_t *data;		/* borrowed: valid only during the row callback */
	int32_t		len;			/* -1 for NULL */
} CopyField;

/* Called once per row with nfields fields; return false to stop (feed fails). */
typedef bool (*CopyRowFn) (void *ctx, const CopyField *fields, int nfields);

typedef struct CopyBinDecoder CopyBinDecoder;

/* Rows must have exactly nfields fields (1..1600); another count is an error. */
CopyBinDecoder *copybin_create(int nfields);
void copybin_free(CopyBinDecoder *d);

/* Forget all state (keeps buffers), ready for a new stream. */
void copybin_reset(CopyBinDecoder *d);

/* Decode len bytes, calling fn for every complete row. */
bool copybin_feed(CopyBinDecoder *d, const uint8_t *buf, size_t len,
				  CopyRowFn fn, void *ctx);

/* End of stream: true iff the header and the trailer were seen, nothing after. */
bool copybin_finish(CopyBinDecoder *d);

const char *copybin_error(const CopyBinDecoder *d);	/* "" when none */
uint64_t copybin_rows(const CopyBinDecoder *d);		/* rows delivered */

/* Big-endian readers for field data (caller has checked len). */
static inline int16_t
copybin_int16(const uint8_t *p)
{
	return (int16_t) (((uint16_t) p[0] << 8) | p[1]);
}

static inline int32_t
copybin_int32(const uint8_t *p)
{
	return (int32_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
					  ((uint32_t) p[2] << 8) | p[3]);
}

static inline int64_t
copybin_int64(const uint8_t *p)
{
	return (int64_t) (((uint64_t) (uint32_t) copybin_int32(p) << 32) |
					  (uint32_t) copybin_int32(p + 4));
}

#endif /* FKSCAN_COPYBIN_H */
