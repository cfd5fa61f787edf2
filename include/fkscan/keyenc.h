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
#include "fkscan/strbuf.h"

typedef enum KeyEncKind
{
	KEYENC_NONE = 0,			/* not reproducible on the client */
	KEYENC_INT,					/* int2/int4/int8, widened to int64 */
	KEYENC_RAW,					/* the send bytes are canonical already */
	KEYENC_BPCHAR,				/* text family with a char(n) side: trailing spaces dropped */
	KEYENC_NUMERIC,				/* display scale dropped, zero digits stripped */
	KEYENC_FLOAT4,				/* -0 as +0, every NaN as one NaN */
	KEYENC_FLOAT8
} KeyEncKind;

/* The encodings of one FK column pair, one per side. */
typedef struct KeyEncPair
{
	KeyEncKind	child;
	KeyEncKind	parent;
} KeyEncPair;

/*
 * How to encode a child column and the parent column it references.  RI
 * casts each side to its input type of the FK's operator before comparing,
 * so each side's bytes follow (column type, operator input type): under
 * =(text,text) a char(n) child loses its padding while a text parent's
 * trailing blanks count.  Both KEYENC_NONE when the client cannot
 * reproduce the comparison; *reason then says why (static text).
 */
KeyEncPair	keyenc_pair(const CatColumn *child, const CatColumn *parent,
						const char **reason);

/*
 * Append one non-NULL field's canonical bytes, prefixed by their length,
 * to out.  Returns false if the field is malformed for the kind.
 */
bool keyenc_append(KeyEncKind kind, const uint8_t *data, int32_t len, StrBuf *out);

#endif /* FKSCAN_KEYENC_H */
