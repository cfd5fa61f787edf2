/*
 * jsonr.c
 *	  A small JSON reader into a tree; see jsonr.h.
 *
 * Recursive descent over the text with a depth bound, values built in
 * place: one pass, no tokens kept.
 */
#include "fkscan/jsonr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"
#include "fkscan/quote.h"
#include "fkscan/strbuf.h"

typedef struct Parser
{
	const char *p;
	const char *end;
	const char *error;
} Parser;

static bool parse_value(Parser *ps, JsonValue *v, int depth);

static void
skip_blanks(Parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool
fail(Parser *ps, const char *error)
{
	ps->error = error;
	return false;
}

/* A string at ps->p (the opening quote), decoded into *out. */
static bool
parse_string(Parser *ps, char **out)
{
	StrBuf b;

	strbuf_init(&b);
	for (ps->p++; ps->p < ps->end && *ps->p != '"'; ps->p++)
	{
		unsigned char c = (unsigned char) *ps->p;
		long		  u, lo;

		if (c < 0x20)
			break;
		if (c != '\\')
		{
			strbuf_append_char(&b, (char) c);
			continue;
		}
		if (++ps->p >= ps->end)
			break;
		switch (*ps->p)
		{
			case '"':
			case '\\':
			case '/':
				strbuf_append_char(&b, *ps->p);
				continue;
			case 'b':
				strbuf_append_char(&b, '\b');
				continue;
			case 'f':
				strbuf_append_char(&b, '\f');
				continue;
			case 'n':
				strbuf_append_char(&b, '\n');
				continue;
			case 'r':
				strbuf_append_char(&b, '\r');
				continue;
			case 't':
				strbuf_append_char(&b, '\t');
				continue;
			case 'u':
				break;
			default:
				strbuf_free(&b);
				return fail(ps, "invalid escape in a string");
		}
		if (ps->end - ps->p < 5 || (u = quote_hex_value(ps->p + 1, 4)) < 0)
			break;
		ps->p += 4;
		if (u >= 0xd800 && u <= 0xdbff)
		{
			/* a surrogate pair: \uD8xx\uDCxx */
			if (ps->end - ps->p < 7 || ps->p[1] != '\\' || ps->p[2] != 'u' ||
				(lo = quote_hex_value(ps->p + 3, 4)) < 0xdc00 || lo > 0xdfff)
				break;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			ps->p += 6;
		}
		else if ((u >= 0xdc00 && u <= 0xdfff) || u == 0)
			break;
		strbuf_append_utf8(&b, (uint32_t) u);
	}
	if (ps->p >= ps->end || *ps->p != '"')
	{
		strbuf_free(&b);
		return fail(ps, "invalid or unterminated string");
	}
	ps->p++;
	*out = strbuf_take(&b);
	return true;
}

static bool
parse_number(Parser *ps, JsonValue *v)
{
	const char *start = ps->p;
	StrBuf		b;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, "invalid number");
	while (ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' || *ps->p == 'e' ||
							   *ps->p == 'E' || *ps->p == '+' || *ps->p == '-'))
		ps->p++;
	v->kind = JSON_NUMBER;
	strbuf_init(&b);
	strbuf_append_len(&b, start, (size_t) (ps->p - start));
	v->text = strbuf_take(&b);
	return true;
}

static bool
literal(Parser *ps, const char *word, JsonKind kind, JsonValue *v)
{
	size_t n = strlen(word);

	if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "unexpected character");
	ps->p += n;
	v->kind = kind;
	return true;
}

/* An array or object: items (and keys) grown as they come. */
static bool
parse_container(Parser *ps, JsonValue *v, int depth)
{
	bool object = *ps->p == '{';
	char close = object ? '}' : ']';
	int	 cap = 0;

	v->kind = object ? JSON_OBJECT : JSON_ARRAY;
	if (depth >= JSONR_MAX_DEPTH)
		return fail(ps, "nested too deep");
	ps->p++;
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == close)
	{
		ps->p++;
		return true;
	}
	for (;;)
	{
		int keycap = cap;

		fk_array_grow((void **) &v->items, &cap, v->n + 1, sizeof(JsonValue));
		if (object)
			fk_array_grow((void **) &v->keys, &keycap, v->n + 1, sizeof(char *));
		memset(&v->items[v->n], 0, sizeof(JsonValue));
		if (object)
		{
			skip_blanks(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a key");
			if (!parse_string(ps, &v->keys[v->n]))
				return false;
			v->n++; /* counted now: freed with the tree whatever follows */
			skip_blanks(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "expected ':'");
			ps->p++;
		}
		else
			v->n++;
		if (!parse_value(ps, &v->items[v->n - 1], depth + 1))
			return false;
		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close)
		{
			ps->p++;
			return true;
		}
		return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool
parse_value(Parser *ps, JsonValue *v, int depth)
{
	skip_blanks(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end");
	switch (*ps->p)
	{
		case '{':
		case '[':
			return parse_container(ps, v, depth);
		case '"':
			v->kind = JSON_STRING;
			return parse_string(ps, &v->text);
		case 'n':
			return literal(ps, "null", JSON_NULL, v);
		case 't':
			return literal(ps, "true", JSON_TRUE, v);
		case 'f':
			return literal(ps, "false", JSON_FALSE, v);
		default:
			return parse_number(ps, v);
	}
}

static void
value_reset(JsonValue *v)
{
	for (int i = 0; i < v->n; i++)
	{
		value_reset(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
}

JsonValue *
jsonr_parse(const char *text, size_t len, const char **error, size_t *offset)
{
	Parser	   ps = {text, text + len, NULL};
	JsonValue *v = fk_calloc(1, sizeof(JsonValue));
	bool	   ok = parse_value(&ps, v, 0);

	if (ok)
	{
		skip_blanks(&ps);
		if (ps.p != ps.end)
			ok = fail(&ps, "text after the value");
	}
	if (ok)
		return v;
	*error = ps.error;
	*offset = (size_t) (ps.p - text);
	jsonr_free(v);
	return NULL;
}

void
jsonr_free(JsonValue *v)
{
	if (v == NULL)
		return;
	value_reset(v);
	free(v);
}

const JsonValue *
jsonr_get(const JsonValue *object, const char *key)
{
	if (object == NULL || object->kind != JSON_OBJECT)
		return NULL;
	for (int i = 0; i < object->n; i++)
		if (strcmp(object->keys[i], key) == 0)
			return &object->items[i];
	return NULL;
}

const char *
jsonr_string(const JsonValue *v)
{
	return v != NULL && v->kind == JSON_STRING ? v->text : NULL;
}
