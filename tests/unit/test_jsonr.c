/*
 * test_jsonr.c
 *	  The JSON reader: values, escapes, surrogates, and every malformed
 *	  input refused with where it went wrong.
 */
#include "fkscan/jsonr.h"

#include "test.h"

static JsonValue *
parse(const char *text)
{
	const char *err = NULL;
	size_t		off = 0;

	return jsonr_parse(text, strlen(text), &err, &off);
}

static void
test_values(void)
{
	JsonValue *v = parse(" {\"a\": [1, -2.5e3, \"x\", null, true, false], \"b\": {}, \"c\": []} ");
	const JsonValue *a = jsonr_get(v, "a");

	ok(v != NULL && v->kind == JSON_OBJECT && v->n == 3, "an object of three");
	ok(a != NULL && a->kind == JSON_ARRAY && a->n == 6, "an array of six");
	is_str(a->items[0].text, "1", "a number keeps its text");
	is_str(a->items[1].text, "-2.5e3", "an exponent too");
	is_str(jsonr_string(&a->items[2]), "x", "a string");
	ok(a->items[3].kind == JSON_NULL && a->items[4].kind == JSON_TRUE &&
		   a->items[5].kind == JSON_FALSE,
	   "null, true, false");
	ok(jsonr_string(&a->items[3]) == NULL, "null is no string");
	ok(jsonr_get(v, "b")->kind == JSON_OBJECT && jsonr_get(v, "b")->n == 0, "an empty object");
	ok(jsonr_get(v, "c")->kind == JSON_ARRAY && jsonr_get(v, "c")->n == 0, "an empty array");
	ok(jsonr_get(v, "nope") == NULL && jsonr_get(a, "a") == NULL, "no such key, not an object");
	jsonr_free(v);
}

static void
test_strings(void)
{
	JsonValue *v =
		parse("[\"q\\\"b\\\\s\\/\\n\\t\\r\\b\\f\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\", "
			  "\"\xc3\xa9 raw\"]");

	ok(v != NULL && v->n == 4, "four strings");
	is_str(v->items[0].text, "q\"b\\s/\n\t\r\b\f", "the short escapes");
	is_str(v->items[1].text, "\xc3\xa9\xe2\x82\xac", "\\u escapes to UTF-8");
	is_str(v->items[2].text, "\xf0\x9f\x98\x80", "a surrogate pair to one code point");
	is_str(v->items[3].text, "\xc3\xa9 raw", "raw UTF-8 passes");
	jsonr_free(v);
}

static void
test_malformed(void)
{
	static const struct
	{
		const char *text;
		size_t		offset;
	} bad[] = {
		{"", 0},
		{"[1, 2", 5},
		{"{\"a\" 1}", 5},
		{"{1: 2}", 1},
		{"[1 2]", 3},
		{"\"open", 5},
		{"\"\\x\"", 2},
		{"\"\\u00\"", 2},
		{"\"\\u0000\"", 6},
		{"\"\\udc00\"", 6},
		{"\"\\ud800x\"", 6},
		{"\"a\nb\"", 2},
		{"tru", 0},
		{"-", 1},
		{"[] x", 3},
	};
	char deep[JSONR_MAX_DEPTH * 2 + 3];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		const char *err = NULL;
		size_t		off = 99;
		JsonValue  *v = jsonr_parse(bad[i].text, strlen(bad[i].text), &err, &off);
		char		name[96];

		snprintf(name, sizeof(name), "refused: case %zu", i);
		ok(v == NULL && err != NULL, name);
		snprintf(name, sizeof(name), "where: case %zu", i);
		is_int(off, bad[i].offset, name);
		jsonr_free(v);
	}
	memset(deep, '[', JSONR_MAX_DEPTH + 1);
	memset(deep + JSONR_MAX_DEPTH + 1, ']', JSONR_MAX_DEPTH + 1);
	deep[2 * JSONR_MAX_DEPTH + 2] = '\0';
	ok(parse(deep) == NULL, "nesting past the bound is refused");
	deep[JSONR_MAX_DEPTH] = ' ';
	deep[JSONR_MAX_DEPTH + 1] = ' ';
	{
		JsonValue *v = parse(deep);

		ok(v != NULL, "nesting up to the bound is read");
		jsonr_free(v);
	}
}

int
main(void)
{
	test_values();
	test_strings();
	test_malformed();
	return done_testing();
}
