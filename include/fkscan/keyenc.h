/*
 * keyenc.h
 *	  Canonical key bytes for keys that are not one integer column, so
 *	  that equal keys (under the FK's own operator) hash equally.
 *
 * The rule (reference/pg-internals.md section 5): canonicalise only what
 * the server provably calls equal.  Then two keys with the same canonical
 * bytes are equal, and a key whose bytes match no parent's is only a
 * *candidate* orphan, confirmed on the server with the FK's operator.  The
 * client can over-report candidates, never hide an orphan (barring a 128-bit
 * hash collision).  Column pairs whose equality the client cannot reproduce
 * (nondeterministic collations, cross-type casts with TimeZone, jsonb ...)
 * get KEYENC_NONE: the FK is checked on the server instead.
 *
 * Input is a field in PostgreSQL's binary send format, from a connection
 * with client_encoding UTF8.  Pure functions; thread-safe.
 */
#ifndef FKSCAN_KEYENC_H
#define FKSCAN_KEYENC_H

#include <string.h>

#include "fkscan/catalog.h"
#include "fkscan/copybin.h"
#include "fkscan/hset128.h"
#include "fkscan/strbuf.h"

typedef enum KeyEncKind
{
	KEYENC_NONE = 0, /* not reproducible on the client */
	KEYENC_INT,		 /* int2/int4/int8, widened to int64 */
	KEYENC_RAW,		 /* the send bytes are canonical already */
	KEYENC_BPCHAR,	 /* text family with a char(n) side: trailing spaces dropped */
	KEYENC_NUMERIC,	 /* display scale dropped, zero digits stripped */
	KEYENC_FLOAT4,	 /* -0 as +0, every NaN as one NaN */
	KEYENC_FLOAT8
} KeyEncKind;

/* The encodings of one FK column pair, one per side. */
typedef struct KeyEncPair
{
	KeyEncKind child;
	KeyEncKind parent;
} KeyEncPair;

/*
 * How to encode a child column and the parent column it references.  RI
 * casts each side to its input type of the FK's operator before comparing,
 * so each side's bytes follow (column type, operator input type): under
 * =(text,text) a char(n) child loses its padding while a text parent's
 * trailing blanks count.  Both KEYENC_NONE when the client cannot
 * reproduce the comparison; *reason then says why (static text).
 */
KeyEncPair keyenc_pair(const CatColumn *child, const CatColumn *parent, const char **reason);

/*
 * Append one non-NULL field's canonical bytes, prefixed by their length,
 * to out.  Returns false if the field is malformed for the kind.
 */
bool keyenc_append(KeyEncKind kind, const uint8_t *data, int32_t len, StrBuf *out);

/* RI's NULL rule for a child key: which rows the FK exempts, which violate. */
typedef enum KeyNulls
{
	KEY_NO_NULLS,	/* checked against the parents */
	KEY_EXEMPT,		/* MATCH SIMPLE: any NULL; MATCH FULL: all NULL */
	KEY_MIXED_NULLS /* MATCH FULL with NULLs and values: a violation as it is */
} KeyNulls;

/* The key is fields[cols[k]], or fields[k] when cols is NULL. */
static inline KeyNulls
keyenc_nulls(const CopyField *fields, const int *cols, int ncols, bool match_full)
{
	int nnull = 0;

	for (int k = 0; k < ncols; k++)
		nnull += fields[cols ? cols[k] : k].len < 0;
	if (nnull == 0)
		return KEY_NO_NULLS;
	return match_full && nnull < ncols ? KEY_MIXED_NULLS : KEY_EXEMPT;
}

/* What keyenc_fingerprint made of a key (false: a malformed field). */
typedef enum KeyPrint
{
	KEYPRINT_BAD = 0,
	KEYPRINT_HASHED, /* a hash of the key */
	KEYPRINT_EXACT	 /* the key itself: keyenc_unpack gives its fields back */
} KeyPrint;

/*
 * A key's fingerprint, the one rule every hashed key set and every lookup
 * in one follows, for its non-NULL fields (fields[cols[k]], or fields[k]
 * when cols is NULL, under enc[k]); false if a field is malformed for its
 * kind.  Every key of a set has the same enc[], so both sides of an FK take
 * the same branch:
 *  - one or two integer columns: the values themselves (exact: two keys
 *    share a fingerprint only if they are equal);
 *  - one column of 16 canonical bytes (uuid): the bytes (exact);
 *  - one raw or char(n) column otherwise: XXH3-128 of its canonical bytes;
 *  - anything else: XXH3-128 of the length-prefixed canonical bytes of
 *    every column, built in scratch.
 * An exact fingerprint can meet a hashed one only by a 128-bit collision,
 * as two hashed ones can.  Hashing straight from the field, with no copy,
 * halves the client's instructions per uuid or two-integer key (callgrind).
 * Inline: it runs once per streamed row.
 */
static inline KeyPrint
keyenc_fingerprint(const CopyField *fields, const int *cols, const KeyEncKind *enc, int ncols,
				   StrBuf *scratch, Hash128 *out)
{
	const CopyField *f0 = &fields[cols ? cols[0] : 0];

	if (enc[0] == KEYENC_INT && ncols <= 2 && (ncols == 1 || enc[1] == KEYENC_INT))
	{
		int64_t v[2] = {0, 0};

		for (int k = 0; k < ncols; k++)
		{
			const CopyField *f = &fields[cols ? cols[k] : k];

			if (!copybin_int_field(f->data, f->len, &v[k]))
				return KEYPRINT_BAD;
		}
		out->lo = (uint64_t) v[0];
		out->hi = (uint64_t) v[1];
		return KEYPRINT_EXACT;
	}
	if (ncols == 1 && (enc[0] == KEYENC_RAW || enc[0] == KEYENC_BPCHAR))
	{
		int32_t len = f0->len;

		if (len < 0)
			return KEYPRINT_BAD;
		if (enc[0] == KEYENC_BPCHAR)
			while (len > 0 && f0->data[len - 1] == ' ')
				len--;
		if (len != 16)
		{
			*out = hset128_hash(f0->data, (size_t) len);
			return KEYPRINT_HASHED;
		}
		memcpy(&out->lo, f0->data, 8);
		memcpy(&out->hi, f0->data + 8, 8);
		/* char(n)'s padding is gone: not the field as sent */
		return len == f0->len ? KEYPRINT_EXACT : KEYPRINT_HASHED;
	}
	strbuf_reset(scratch);
	for (int k = 0; k < ncols; k++)
	{
		const CopyField *f = &fields[cols ? cols[k] : k];

		if (!keyenc_append(enc[k], f->data, f->len, scratch))
			return KEYPRINT_BAD;
	}
	*out = hset128_hash(scratch->data, scratch->len);
	return KEYPRINT_HASHED;
}

/*
 * The fields of a key whose fingerprint h is KEYPRINT_EXACT, as sent: len[k]
 * are the key's field lengths, buf has room for 16 bytes.
 */
static inline void
keyenc_unpack(Hash128 h, const KeyEncKind *enc, int ncols, const int32_t *len, uint8_t *buf,
			  CopyField *out)
{
	if (enc[0] != KEYENC_INT)
	{
		memcpy(buf, &h.lo, 8);
		memcpy(buf + 8, &h.hi, 8);
		out[0].data = buf;
		out[0].len = 16;
		return;
	}
	for (int k = 0; k < ncols; k++)
	{
		uint64_t v = k == 0 ? h.lo : h.hi;

		out[k].data = buf;
		out[k].len = len[k];
		for (int i = len[k] - 1; i >= 0; i--, v >>= 8)
			buf[i] = (uint8_t) v;
		buf += len[k];
	}
}

#endif /* FKSCAN_KEYENC_H */
