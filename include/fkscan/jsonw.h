/*
 * jsonw.h
 *	  A small streaming JSON writer into a StrBuf.
 *
 * The writer tracks commas and (optionally) indentation; callers emit keys
 * and values in order: jsonw_key(w, "a"); jsonw_int(w, 1).  Strings are
 * escaped per RFC 8259; bytes >= 0x80 pass through (connections use UTF8).
 */
#ifndef FKSCAN_JSONW_H
#define FKSCAN_JSONW_H

#include "fkscan/strbuf.h"

#define JSONW_MAX_DEPTH 32

typedef struct JsonWriter
{
	StrBuf *out; /* borrowed */
	bool	pretty;
	int		depth;
	bool	after_key;
	bool	has_items[JSONW_MAX_DEPTH];
} JsonWriter;

void jsonw_init(JsonWriter *w, StrBuf *out, bool pretty);
void jsonw_object_begin(JsonWriter *w);
void jsonw_object_end(JsonWriter *w);
void jsonw_array_begin(JsonWriter *w);
void jsonw_array_end(JsonWriter *w);
void jsonw_key(JsonWriter *w, const char *key);
void jsonw_string(JsonWriter *w, const char *s); /* NULL writes null */
void jsonw_int(JsonWriter *w, int64_t v);
void jsonw_double(JsonWriter *w, double v, int decimals);
void jsonw_bool(JsonWriter *w, bool v);
void jsonw_null(JsonWriter *w);

/* Append s to out as a quoted, escaped JSON string. */
void jsonw_escape(StrBuf *out, const char *s);

#endif /* FKSCAN_JSONW_H */
