/*
 * test_quote.c
 *	  Unit tests for quote.h: text for terminals, identifiers, literals,
 *	  JSON strings and shell words from hostile input (ESC, BEL, C1 CSI
 *	  U+009B, newlines, quotes, bidi overrides, bytes that are not UTF-8),
 *	  and the count helper of strbuf.h.  That the SQL forms read back as
 *	  the same object and value is checked against a server by
 *	  tests/integration/064_output.t.
 */
#include "fkscan/quote.h"
#include "test.h"

typedef void (*AppendFn)(StrBuf *b, const char *s);

static char out[512];

static const char *
run(AppendFn fn, const char *s)
{
	StrBuf b;

	strbuf_init(&b);
	fn(&b, s);
	snprintf(out, sizeof(out), "%s", b.data);
	strbuf_free(&b);
	return out;
}

static void
visible_line(StrBuf *b, const char *s)
{
	quote_append_visible(b, s, false);
}

static void
visible_lines(StrBuf *b, const char *s)
{
	quote_append_visible(b, s, true);
}

/* No byte a terminal acts on: C0 but none, DEL, C1 in UTF-8 (C2 80..9F). */
static bool
terminal_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return false;
	return true;
}

static void
count(uint64_t n, const char *singular, const char *plural, const char *want)
{
	StrBuf b;

	strbuf_init(&b);
	strbuf_append_count(&b, n, singular, plural);
	is_str(b.data, want, want);
	strbuf_free(&b);
}

int
main(void)
{
	static const char hostile[] = "v\x1b[2J\x1b]0;pwn\x07 \xc2\x9b"
								  "31m\n'\"\\";

	is_str(run(visible_line, hostile), "v\\x1B[2J\\x1B]0;pwn\\x07 \\u009B31m\\n'\"\\",
		   "visible: ESC, BEL, CSI, newline escaped");
	is_str(run(visible_lines, "a\nb\tc\rd"), "a\nb\tc\\rd",
		   "visible: newlines and tabs kept on request");
	is_str(run(visible_line, "caf\xc3\xa9 \xe2\x80\xae"
							 "x \xff"),
		   "caf\xc3\xa9 \\u202Ex \\xFF",
		   "visible: letters kept, bidi override and a stray byte escaped");
	ok(quote_needs_escape("a\xc2\x9b"), "needs escape: C1");
	ok(!quote_needs_escape("a\nb\tc \xc3\xa9"), "needs escape: not newlines, tabs, letters");

	is_str(run(quote_append_ident, "plain"), "\"plain\"", "ident: always quoted");
	is_str(run(quote_append_ident, "it's \"x\""), "\"it's \"\"x\"\"\"", "ident: quotes doubled");
	is_str(run(quote_append_ident, "a\x1b\\b\xc2\x9b\"\n"), "U&\"a\\001B\\\\b\\009B\"\"\\000A\"",
		   "ident: controls as U& escapes, backslash doubled");
	ok(terminal_safe(run(quote_append_ident, hostile)), "ident: terminal-safe");

	is_str(run(quote_append_name, "c1_a_fkey"), "c1_a_fkey", "name: lower-case bare");
	is_str(run(quote_append_name, "Odd"), "\"Odd\"", "name: upper case quoted");
	is_str(run(quote_append_name, "x\x1b"), "U&\"x\\001B\"", "name: a control gets U&");

	is_str(run(quote_append_requoted, "::\"s\x1b\"\"x\".\"t y\""), "::U&\"s\\001B\"\"x\".\"t y\"",
		   "requoted: a server-quoted name with a control gets U&, others kept");
	is_str(run(quote_append_requoted, "OPERATOR(pg_catalog.=)"), "OPERATOR(pg_catalog.=)",
		   "requoted: bare names kept");
	is_str(run(quote_append_requoted, "x \"open"), "x \"open",
		   "requoted: an unterminated quote copied");

	is_str(run(quote_append_literal, "b "), "'b '", "literal: trailing blank kept");
	is_str(run(quote_append_literal, ""), "''", "literal: empty string");
	is_str(run(quote_append_literal, "it's \\"), "'it''s \\'", "literal: standard string");
	is_str(run(quote_append_literal, "a\x1b"
									 "1\xc2\x9b'\\"),
		   "E'a\\x1B1\\u009B''\\\\'", "literal: controls as E escapes, backslash doubled");
	ok(terminal_safe(run(quote_append_literal, hostile)), "literal: terminal-safe");

	is_str(run(quote_append_json, "a\"\\\n\x1b\x7f\xc2\x9b\xc3\xa9"),
		   "\"a\\\"\\\\\\n\\u001b\\u007f\\u009b\xc3\xa9\"", "json: C0, DEL and C1 as \\u");
	is_str(run(quote_append_json, "\xff"), "\"\\ufffd\"", "json: a stray byte is U+FFFD");

	is_str(run(quote_append_shell_word, "db"), "db", "shell: plain word");
	is_str(run(quote_append_shell_word, "my db's"), "'my db'\\''s'", "shell: single quotes");
	is_str(run(quote_append_shell_word, "\"a\x1b%'\\\xc2\x9b\""),
		   "\"$(printf '\"a\\033\\045\\047\\134\\302\\233\"')\"",
		   "shell: printf octal for controls");
	is_str(run(quote_append_shell_word, "a\x1b\n"), "$'a\\033\\012'",
		   "shell: trailing newline: $'...'");
	ok(terminal_safe(run(quote_append_shell_word, hostile)), "shell: terminal-safe");

	count(0, "orphan row", NULL, "0 orphan rows");
	count(1, "orphan row", NULL, "1 orphan row");
	count(2, "distinct key", NULL, "2 distinct keys");
	count(1, "index", "indexes", "1 index");
	count(3, "index", "indexes", "3 indexes");
	/* reading back, and the server's shortening of a name */
	ok(quote_hex_value("00e9", 4) == 0xe9 && quote_hex_value("D83D", 4) == 0xd83d &&
		   quote_hex_value("01F600", 6) == 0x1f600,
	   "hex: digits of either case");
	ok(quote_hex_value("00g0", 4) == -1 && quote_hex_value("12", 4) == -1,
	   "hex: a non-digit or the end of the string is -1");
	ok(quote_clip_name("abc", 63) == 3 && quote_clip_name("abcdef", 4) == 4,
	   "clip: short names whole, long ones at max");
	ok(quote_clip_name("ab\xc3\xa9z", 3) == 2 && quote_clip_name("ab\xc3\xa9z", 4) == 4 &&
		   quote_clip_name("\xe2\x82\xac\xe2\x82\xac", 5) == 3,
	   "clip: never inside a UTF-8 character");
	return done_testing();
}
