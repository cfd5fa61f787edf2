/*
 * jsonw.c
 *	  Streaming JSON writer; see jsonw.h.
 */
#include "fkscan/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "fkscan/quote.h"

void
jsonw_init(JsonWriter *w, StrBuf *out, bool pretty)
{
	w->out = out;
	w->pretty = pretty;
	w->depth = 0;
	w->after_key = false;
	w->has_items[0] = false;
}

static void
newline(JsonWriter *w)
{
	if (!w->pretty)
		return;
	strbuf_append_char(w->out, '\n');
	for (int i = 0; i < w->depth; i++)
		strbuf_append(w->out, "  ");
}

/* Separator and indentation before a value or a key. */
static void
before_item(JsonWriter *w)
{
	if (w->after_key)
	{
		w->after_key = false;
		return;
	}
	if (w->has_items[w->depth])
		strbuf_append_char(w->out, ',');
	w->has_items[w->depth] = true;
	if (w->depth > 0)
		newline(w);
}

static void
open_scope(JsonWriter *w, char c)
{
	before_item(w);
	strbuf_append_char(w->out, c);
	if (w->depth + 1 < JSONW_MAX_DEPTH)
		w->depth++;
	w->has_items[w->depth] = false;
}

static void
close_scope(JsonWriter *w, char c)
{
	bool had = w->has_items[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (had)
		newline(w);
	strbuf_append_char(w->out, c);
}

void
jsonw_object_begin(JsonWriter *w)
{
	open_scope(w, '{');
}

void
jsonw_object_end(JsonWriter *w)
{
	close_scope(w, '}');
}

void
jsonw_array_begin(JsonWriter *w)
{
	open_scope(w, '[');
}

void
jsonw_array_end(JsonWriter *w)
{
	close_scope(w, ']');
}

void
jsonw_escape(StrBuf *out, const char *s)
{
	quote_append_json(out, s);
}

void
jsonw_key(JsonWriter *w, const char *key)
{
	before_item(w);
	jsonw_escape(w->out, key);
	strbuf_append(w->out, w->pretty ? ": " : ":");
	w->after_key = true;
}

void
jsonw_string(JsonWriter *w, const char *s)
{
	if (s == NULL)
	{
		jsonw_null(w);
		return;
	}
	before_item(w);
	jsonw_escape(w->out, s);
}

void
jsonw_int(JsonWriter *w, int64_t v)
{
	before_item(w);
	strbuf_appendf(w->out, "%" PRId64, v);
}

void
jsonw_double(JsonWriter *w, double v, int decimals)
{
	before_item(w);
	if (!isfinite(v))
		strbuf_append(w->out, "null");
	else
		strbuf_appendf(w->out, "%.*f", decimals, v);
}

void
jsonw_bool(JsonWriter *w, bool v)
{
	before_item(w);
	strbuf_append(w->out, v ? "true" : "false");
}

void
jsonw_null(JsonWriter *w)
{
	before_item(w);
	strbuf_append(w->out, "null");
}
