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

/*
 * A key's fingerprint, the one rule every hashed key set and every lookup
 * in one follows: the canonical bytes of its non-NULL fields (fields[cols[k]],
 * or fields[k] when cols is NULL, under enc[k]) hashed with XXH3-128;
 * scratch holds the bytes.  False if a field is malformed for its kind.
 * Inline: it runs once per streamed row, and a call costs ~50 instructions
 * a key (callgrind, uuid keys: 4.8% of the client's instructions).
 */
static inline bool
keyenc_fingerprint(const CopyField *fields, const int *cols, const KeyEncKind *enc, int ncols,
				   StrBuf *scratch, Hash128 *out)
{
	strbuf_reset(scratch);
	for (int k = 0; k < ncols; k++)
	{
		const CopyField *f = &fields[cols ? cols[k] : k];

		if (!keyenc_append(enc[k], f->data, f->len, scratch))
			return false;
	}
	*out = hset128_hash(scratch->data, scratch->len);
	return true;
}

#endif /* FKSCAN_KEYENC_H */
