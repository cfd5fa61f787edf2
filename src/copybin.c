/*
 * copybin.c
 *	  Streaming decoder for PostgreSQL's binary COPY format; see copybin.h.
 *
 * The decoder is a small state machine: the fixed 19-byte header, the header
 * extension (counted off, never buffered), then rows until the trailer.
 *
 * Rows are parsed in place.  When no partial row is pending, the complete
 * rows of a buffer go to the callback with fields pointing straight into the
 * caller's memory, and only the tail of an incomplete row is copied into an
 * internal buffer.  libpq hands over one CopyData message per row, so on the
 * hot path a feed is one row parsed from the caller's bytes: no copy, no
 * allocation, no per-row state beyond the reused field array.
 *
 * A pending row is completed by appending exactly the bytes the parser said
 * it still needs (the rest of a field count, of a length, or of a field's
 * data) and parsing it again.  So the pending buffer holds at most one row,
 * never more bytes than actually arrived (a corrupt length cannot make us
 * allocate for data that is not there), and since one parser serves both
 * paths, a stream yields the same rows and the same error however it is
 * split.
 *
 * Key mode (one integer column) keeps the parser and changes the delivery:
 * rows go into a batch of int64 keys and NULL positions, handed over when
 * it holds COPYBIN_KEY_BATCH rows and at the trailer.  Its fast path takes
 * libpq's one-row message of the exact shapes a valid int8/int4/int2/NULL
 * row has (field count 1, the length, the value, nothing else) with a
 * compare or two and a byte swap; any other message goes to the general
 * parser, whose row callback (key_row) does the same with full checks.  No callback per row: on a
 * scan of 50M keys the per-row cost is what decides whether the client
 * keeps up with the server on the cores they share.
 */
#include "fkscan/copybin.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"

/* MaxHeapAttributeNumber, the contract's limit: fkscan reads table columns. */
#define COPYBIN_MAX_FIELDS 1600

/* Signature, int32 flags, int32 header-extension length. */
#define COPYBIN_HEADER_LEN 19

/*
 * MaxAllocSize: the server builds each row in one StringInfo (fe_msgbuf in
 * copyto.c), so no row (field count, lengths and data together) is longer.  Checking it as each
 * length is read also rejects any single field length over 1 GB.
 */
#define COPYBIN_MAX_ROW_LEN ((size_t) 0x3fffffff)

/* Flag bit 16 asks for OIDs (gone since PostgreSQL 12); 17..31 are unknown. */
#define COPYBIN_FLAG_OIDS	   ((uint32_t) 1 << 16)
#define COPYBIN_FLAGS_CRITICAL ((uint32_t) 0xffff0000)

/*
 * The hot path is copybin_feed with parse_row inlined into it; everything
 * else stays out of line so that the per-row call saves few registers.
 */
#if defined(__GNUC__)
#define COPYBIN_INLINE	 inline __attribute__((always_inline))
#define COPYBIN_NOINLINE __attribute__((noinline))
#else
#define COPYBIN_INLINE inline
#define COPYBIN_NOINLINE
#endif

/* Pending buffer: first size, and the size above which reset releases it. */
#define COPYBIN_PEND_INIT 256
#define COPYBIN_PEND_KEEP ((size_t) 1 << 20)

static const uint8_t copybin_signature[11] = {'P',	'G',  'C',	'O',  'P', 'Y',
											  '\n', 0xff, '\r', '\n', '\0'};

typedef enum CopyBinState
{
	COPYBIN_HEADER,	   /* collecting the fixed header in pend */
	COPYBIN_EXTENSION, /* skipping the header extension */
	COPYBIN_ROWS,	   /* rows, until the trailer */
	COPYBIN_DONE,	   /* trailer seen: only the end may follow */
	COPYBIN_FAILED	   /* error is set; every call fails */
} CopyBinState;

struct CopyBinDecoder
{
	CopyBinState state;
	int			 nfields;
	uint64_t	 rows; /* rows passed to the callback */
	uint32_t	 skip; /* header-extension bytes still to skip */
	uint8_t		*pend; /* the partial header, or one partial row */
	size_t		 pend_len;
	size_t		 pend_cap;
	size_t		 need; /* bytes the partial row needs, at least */
	/* key mode only (keys_fn != NULL) */
	CopyKeysFn keys_fn;
	void	  *keys_ctx;
	int64_t	  *keys; /* COPYBIN_KEY_BATCH each */
	uint32_t  *nulls;
	int64_t	  *key_next; /* where the batch's next key goes */
	uint32_t  *null_next;
	uint32_t   batch_left; /* rows the batch still takes */
	uint64_t   batch_row;  /* rows before the batch being filled */
	/*
	 * copybin_feed_keys's fast path applies: key mode, in the rows, no
	 * partial row.  Meanwhile rows is not kept: keys_sync_rows brings it up
	 * to date (batch_row plus the rows in the batch) before anything uses it.
	 */
	bool	  fast;
	bool	  bad_key;
	char	  error[128];
	CopyField fields[]; /* nfields, reused for every row */
};

static bool copybin_fail(CopyBinDecoder *d, const char *fmt, ...) FK_PRINTF(2, 3);

/* Record the first error and fail every later call; returns false. */
static bool
copybin_fail(CopyBinDecoder *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	d->state = COPYBIN_FAILED;
	d->fast = false;
	return false;
}

static COPYBIN_NOINLINE void
pend_append(CopyBinDecoder *d, const uint8_t *p, size_t n)
{
	if (n > d->pend_cap - d->pend_len)
	{
		size_t cap = d->pend_cap;

		/* bounded: a pending row never exceeds COPYBIN_MAX_ROW_LEN */
		while (cap - d->pend_len < n)
			cap *= 2;
		d->pend = fk_realloc(d->pend, cap);
		d->pend_cap = cap;
	}
	memcpy(d->pend + d->pend_len, p, n);
	d->pend_len += n;
}

typedef enum RowResult
{
	ROW_COMPLETE, /* fields filled in, *next is after the row */
	ROW_SHORT,	  /* incomplete: d->need says how much is missing */
	ROW_TRAILER,  /* the trailer, *next is after it */
	ROW_FAILED	  /* malformed: the decoder has failed */
} RowResult;

/*
 * Parse the row (or trailer) starting at p, p < end, into d->fields.  Every
 * check is made on the bytes present, in stream order, so a stream fails
 * with the same message wherever it is split.  The fields point into
 * [p, end).
 */
static COPYBIN_INLINE RowResult
parse_row(CopyBinDecoder *d, const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
	const uint8_t *q;
	int			   nfields = d->nfields;
	int			   count;

	if (FK_UNLIKELY(end - p < 2))
	{
		d->need = 1;
		return ROW_SHORT;
	}
	count = copybin_int16(p);
	q = p + 2;
	if (FK_UNLIKELY(count != nfields))
	{
		if (count == -1)
		{
			*next = q;
			return ROW_TRAILER;
		}
		copybin_fail(d, "row %" PRIu64 ": expected %d field%s, found %d", d->rows + 1, nfields,
					 nfields == 1 ? "" : "s", count);
		return ROW_FAILED;
	}

	for (int i = 0; i < nfields; i++)
	{
		int32_t flen;

		if (FK_UNLIKELY(end - q < 4))
		{
			d->need = (size_t) (4 - (end - q));
			return ROW_SHORT;
		}
		flen = copybin_int32(q);
		q += 4;
		if (flen < 0)
		{
			if (FK_UNLIKELY(flen != -1))
			{
				copybin_fail(d, "row %" PRIu64 ": invalid field length %d", d->rows + 1,
							 (int) flen);
				return ROW_FAILED;
			}
			d->fields[i].data = NULL;
			d->fields[i].len = -1;
			continue;
		}
		/* checked before the data is waited for, let alone buffered */
		if (FK_UNLIKELY((size_t) (q - p) + (size_t) flen > COPYBIN_MAX_ROW_LEN))
		{
			copybin_fail(d, "row %" PRIu64 ": field %d length %d exceeds the 1 GB limit",
						 d->rows + 1, i + 1, (int) flen);
			return ROW_FAILED;
		}
		if (FK_UNLIKELY((size_t) (end - q) < (size_t) flen))
		{
			d->need = (size_t) flen - (size_t) (end - q);
			return ROW_SHORT;
		}
		d->fields[i].data = q;
		d->fields[i].len = flen;
		q += flen;
	}
	*next = q;
	return ROW_COMPLETE;
}

/* Rows in the batch being filled. */
static inline uint32_t
keys_in_batch(const CopyBinDecoder *d)
{
	return COPYBIN_KEY_BATCH - d->batch_left;
}

static inline void
keys_sync_rows(CopyBinDecoder *d)
{
	if (d->fast)
		d->rows = d->batch_row + keys_in_batch(d);
}

/*
 * Hand over the batch being filled, if it holds any row, and start a new
 * one.  d->rows must be up to date.
 */
static COPYBIN_NOINLINE bool
keys_flush(CopyBinDecoder *d)
{
	CopyKeyBatch b;

	b.keys = d->keys;
	b.nkeys = (size_t) (d->key_next - d->keys);
	b.null_rows = d->nulls;
	b.nnulls = (size_t) (d->null_next - d->nulls);
	b.first_row = d->batch_row;
	d->key_next = d->keys;
	d->null_next = d->nulls;
	d->batch_left = COPYBIN_KEY_BATCH;
	d->batch_row = d->rows;
	if (b.nkeys + b.nnulls == 0 || FK_LIKELY(d->keys_fn(d->keys_ctx, &b)))
		return true;
	return copybin_fail(d, "stopped by caller");
}

/* Key mode's row callback on the general path: row d->rows, one field. */
static bool
key_row(void *arg, const CopyField *f, int nfields)
{
	CopyBinDecoder *d = arg;

	(void) nfields;
	switch (f->len)
	{
		case -1:
			*d->null_next++ = keys_in_batch(d);
			break;
		case 8:
			*d->key_next++ = copybin_int64(f->data);
			break;
		case 4:
			*d->key_next++ = copybin_int32(f->data);
			break;
		case 2:
			*d->key_next++ = copybin_int16(f->data);
			break;
		default:
			d->bad_key = true;
			return copybin_fail(d, "row %" PRIu64 ": a field of %d bytes is not an integer key",
								d->rows, (int) f->len);
	}
	if (FK_UNLIKELY(--d->batch_left == 0))
		return keys_flush(d);
	return true;
}

/*
 * Deliver the rows in buf[0, len), stopping after the trailer, at the first
 * incomplete row, or at an error.  Returns the bytes consumed: the complete
 * rows and the trailer; an incomplete row is left unconsumed (d->need set).
 * On an error or a stop the decoder has failed and the result means nothing.
 */
static size_t
decode_rows(CopyBinDecoder *d, const uint8_t *buf, size_t len, CopyRowFn fn, void *ctx)
{
	const uint8_t *p = buf;
	const uint8_t *end = buf + len;

	while (p != end)
	{
		const uint8_t *next;
		RowResult	   r = parse_row(d, p, end, &next);

		if (FK_UNLIKELY(r != ROW_COMPLETE))
		{
			if (r == ROW_TRAILER)
			{
				p = next;
				d->state = COPYBIN_DONE;
				/* the last batch goes before any complaint about what follows */
				if (d->keys_fn && !keys_flush(d))
					break;
				if (p != end)
					copybin_fail(d, "unexpected data after the COPY trailer");
			}
			break;
		}
		d->rows++;
		if (FK_UNLIKELY(!fn(ctx, d->fields, d->nfields)))
		{
			/* key_row fails the decoder itself, with the reason */
			if (d->state != COPYBIN_FAILED)
				copybin_fail(d, "stopped by caller");
			break;
		}
		p = next;
	}
	return (size_t) (p - buf);
}

/*
 * Take header bytes into pend.  The signature is compared as its bytes
 * arrive, so a text COPY or other stray input fails on its first byte.
 */
static size_t
feed_header(CopyBinDecoder *d, const uint8_t *p, size_t len)
{
	size_t	 from = d->pend_len;
	size_t	 take = COPYBIN_HEADER_LEN - from;
	size_t	 upto;
	uint32_t flags;
	int32_t	 extlen;

	if (take > len)
		take = len;
	pend_append(d, p, take);
	upto = d->pend_len < sizeof(copybin_signature) ? d->pend_len : sizeof(copybin_signature);
	if (from < upto && memcmp(d->pend + from, copybin_signature + from, upto - from) != 0)
	{
		copybin_fail(d, "invalid COPY signature");
		return take;
	}
	if (d->pend_len < COPYBIN_HEADER_LEN)
		return take;

	flags = (uint32_t) copybin_int32(d->pend + 11);
	extlen = copybin_int32(d->pend + 15);
	if (flags & COPYBIN_FLAG_OIDS)
		copybin_fail(d, "COPY header has the OIDs flag set (not supported)");
	else if (flags & COPYBIN_FLAGS_CRITICAL)
		copybin_fail(d, "COPY header has unknown critical flags 0x%08" PRIx32,
					 flags & COPYBIN_FLAGS_CRITICAL);
	else if (extlen < 0)
		copybin_fail(d, "invalid COPY header extension length %d", (int) extlen);
	else
	{
		d->pend_len = 0;
		d->skip = (uint32_t) extlen;
		d->state = extlen > 0 ? COPYBIN_EXTENSION : COPYBIN_ROWS;
	}
	return take;
}

/*
 * Every feed but a lone complete row: the header, the extension, completing
 * a pending row, buffers of many rows (decode_rows), keeping the tail of an
 * incomplete row, data after the trailer, a failed decoder.
 */
static COPYBIN_NOINLINE bool
feed_general(CopyBinDecoder *d, const uint8_t *buf, size_t len, CopyRowFn fn, void *ctx)
{
	const uint8_t *p = buf;
	size_t		   left = len;
	size_t		   used;

	if (d->state == COPYBIN_FAILED)
		return false;
	if (left == 0)
		return true;

	if (d->state == COPYBIN_HEADER)
	{
		used = feed_header(d, p, left);
		p += used;
		left -= used;
		if (d->state != COPYBIN_EXTENSION && d->state != COPYBIN_ROWS)
			return d->state != COPYBIN_FAILED;
	}

	if (d->state == COPYBIN_EXTENSION)
	{
		used = left < d->skip ? left : d->skip;
		p += used;
		left -= used;
		d->skip -= (uint32_t) used;
		if (d->skip > 0)
			return true;
		d->state = COPYBIN_ROWS;
	}

	/* Complete the pending row piece by piece: pend never holds two rows. */
	while (d->state == COPYBIN_ROWS && d->pend_len > 0)
	{
		size_t take;

		if (left == 0)
			return true;
		take = left < d->need ? left : d->need;
		pend_append(d, p, take);
		p += take;
		left -= take;
		d->need -= take;
		if (d->need > 0)
			return true;
		used = decode_rows(d, d->pend, d->pend_len, fn, ctx);
		if (d->state == COPYBIN_FAILED)
			return false;
		d->pend_len -= used;
		if (d->pend_len > 0)
			memmove(d->pend, d->pend + used, d->pend_len);
	}

	if (d->state == COPYBIN_DONE)
	{
		if (left > 0)
			return copybin_fail(d, "unexpected data after the COPY trailer");
		return true;
	}
	if (left == 0)
		return true;

	used = decode_rows(d, p, left, fn, ctx);
	if (d->state == COPYBIN_FAILED)
		return false;
	if (used < left)
		pend_append(d, p + used, left - used);
	return true;
}

CopyBinDecoder *
copybin_create(int nfields)
{
	bool			valid = nfields >= 1 && nfields <= COPYBIN_MAX_FIELDS;
	CopyBinDecoder *d;

	d = fk_calloc(1, offsetof(CopyBinDecoder, fields) +
						 (valid ? (size_t) nfields : 1) * sizeof(CopyField));
	d->nfields = nfields;
	d->pend_cap = COPYBIN_PEND_INIT;
	d->pend = fk_malloc(d->pend_cap);
	copybin_reset(d);
	return d;
}

CopyBinDecoder *
copybin_create_keys(CopyKeysFn fn, void *ctx)
{
	CopyBinDecoder *d = copybin_create(1);

	d->keys_fn = fn;
	d->keys_ctx = ctx;
	d->keys = fk_malloc(sizeof(int64_t) * COPYBIN_KEY_BATCH);
	d->nulls = fk_malloc(sizeof(uint32_t) * COPYBIN_KEY_BATCH);
	d->key_next = d->keys;
	d->null_next = d->nulls;
	return d;
}

void
copybin_free(CopyBinDecoder *d)
{
	if (d == NULL)
		return;
	free(d->keys);
	free(d->nulls);
	free(d->pend);
	free(d);
}

void
copybin_reset(CopyBinDecoder *d)
{
	d->state = COPYBIN_HEADER;
	d->rows = 0;
	d->skip = 0;
	d->pend_len = 0;
	d->need = 0;
	d->key_next = d->keys;
	d->null_next = d->nulls;
	d->batch_left = COPYBIN_KEY_BATCH;
	d->batch_row = 0;
	d->fast = false;
	d->bad_key = false;
	d->error[0] = '\0';
	/* one huge row must not pin its buffer for the life of a worker */
	if (d->pend_cap > COPYBIN_PEND_KEEP)
	{
		d->pend_cap = COPYBIN_PEND_INIT;
		d->pend = fk_realloc(d->pend, d->pend_cap);
	}
	/* a caller bug, reported like bad data so that it cannot pass unnoticed */
	if (d->nfields < 1 || d->nfields > COPYBIN_MAX_FIELDS)
		copybin_fail(d, "invalid number of COPY fields %d (must be 1..%d)", d->nfields,
					 COPYBIN_MAX_FIELDS);
}

bool
copybin_feed(CopyBinDecoder *d, const uint8_t *buf, size_t len, CopyRowFn fn, void *ctx)
{
	const uint8_t *next;

	/*
	 * libpq's shape: the buffer is exactly one row.  Nothing but d is live
	 * across the callback here, so the per-row cost stays close to the
	 * callback's own.  Anything else (several rows, a partial row, the
	 * trailer, an error) is parsed again from the start by feed_general.
	 */
	if (FK_LIKELY(d->state == COPYBIN_ROWS && d->pend_len == 0 && len > 0) &&
		FK_LIKELY(parse_row(d, buf, buf + len, &next) == ROW_COMPLETE && next == buf + len))
	{
		d->rows++;
		if (FK_LIKELY(fn(ctx, d->fields, d->nfields)))
			return true;
		return copybin_fail(d, "stopped by caller");
	}
	return feed_general(d, buf, len, fn, ctx);
}

/* Big-endian loads of exactly 8 and 4 bytes, one instruction each on x86. */
static inline uint64_t
load_be64(const uint8_t *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap64(v);
#else
	return (uint64_t) copybin_int64(p);
#endif
}

static inline uint32_t
load_be32(const uint8_t *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap32(v);
#else
	return (uint32_t) copybin_int32(p);
#endif
}

/* A row's first 6 bytes: field count 1, then the field length. */
#define KEY_HEAD(flen) ((UINT64_C(1) << 32) | (uint32_t) (flen))

/* Key mode's way through the general parser, with rows and the fast flag kept. */
static COPYBIN_NOINLINE bool
feed_keys_general(CopyBinDecoder *d, const uint8_t *buf, size_t len)
{
	bool ok;

	if (d->keys_fn == NULL)
		return copybin_fail(d, "copybin_feed_keys needs a key-mode decoder");
	keys_sync_rows(d);
	d->fast = false;
	ok = feed_general(d, buf, len, key_row, d);
	d->fast = d->state == COPYBIN_ROWS && d->pend_len == 0;
	return ok;
}

bool
copybin_feed_keys(CopyBinDecoder *d, const uint8_t *buf, size_t len)
{
	/*
	 * libpq's shape: exactly one row, of one of the four valid lengths.  The
	 * row head is compared whole (an int8 row's 14 bytes are read as 8 + 8,
	 * the head being the top 48 bits of the first 8); a message of any other
	 * shape, or a decoder not in mid-stream, takes the general path, which
	 * applies every check.
	 */
	if (FK_LIKELY(d->fast))
	{
		if (FK_LIKELY(len == 14 && (load_be64(buf) >> 16) == KEY_HEAD(8)))
			*d->key_next++ = (int64_t) load_be64(buf + 6);
		else if (len == 6 && load_be32(buf + 2) == UINT32_MAX && copybin_int16(buf) == 1)
			*d->null_next++ = keys_in_batch(d);
		else if (len == 10 && (load_be64(buf) >> 16) == KEY_HEAD(4))
			*d->key_next++ = (int32_t) load_be32(buf + 6);
		else if (len == 8 && (load_be64(buf) >> 16) == KEY_HEAD(2))
			*d->key_next++ = copybin_int16(buf + 6);
		else
			return feed_keys_general(d, buf, len);
		if (FK_UNLIKELY(--d->batch_left == 0))
		{
			keys_sync_rows(d);
			return keys_flush(d);
		}
		return true;
	}
	return feed_keys_general(d, buf, len);
}

bool
copybin_bad_key(const CopyBinDecoder *d)
{
	return d->bad_key;
}

uint64_t
copybin_key_row(const CopyKeyBatch *batch, size_t i)
{
	size_t j = 0;

	/* keys[i] is row i + j, j being the NULL rows before it */
	while (j < batch->nnulls && batch->null_rows[j] <= i + j)
		j++;
	return batch->first_row + i + j;
}

bool
copybin_finish(CopyBinDecoder *d)
{
	keys_sync_rows(d);
	d->fast = false;
	switch (d->state)
	{
		case COPYBIN_FAILED:
			return false;
		case COPYBIN_DONE:
			return true;
		case COPYBIN_HEADER:
			if (d->pend_len == 0)
				return copybin_fail(d, "COPY stream is empty");
			return copybin_fail(d, "COPY stream ended inside the header");
		case COPYBIN_EXTENSION:
			return copybin_fail(d, "COPY stream ended inside the header extension");
		case COPYBIN_ROWS:
			if (d->pend_len > 0)
				return copybin_fail(d, "row %" PRIu64 ": COPY stream ended inside a row",
									d->rows + 1);
			return copybin_fail(d, "COPY stream ended without a trailer after %" PRIu64 " rows",
								d->rows);
	}
	return false;
}

const char *
copybin_error(const CopyBinDecoder *d)
{
	return d->error;
}

uint64_t
copybin_rows(const CopyBinDecoder *d)
{
	if (d->fast)
		return d->batch_row + keys_in_batch(d);
	return d->rows;
}
