/*
 * quote.c
 *	  Text from the database for terminals and for SQL; see quote.h.
 *
 * One small UTF-8 decoder tells a character from a byte; one predicate
 * says which characters a terminal must never receive raw.  The three
 * writers (visible, identifier, literal) differ only in how they spell
 * an escape.
 */
#include "fkscan/quote.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

/*
 * The code point at p and its length in bytes; 0 for a byte that does not
 * start a valid, shortest-form UTF-8 sequence (p[0] != 0).
 */
static int
decode_utf8(const unsigned char *p, uint32_t *cp)
{
	int		 len;
	uint32_t c, min;

	if (p[0] < 0x80)
	{
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xE0) == 0xC0)
		len = 2, c = p[0] & 0x1F, min = 0x80;
	else if ((p[0] & 0xF0) == 0xE0)
		len = 3, c = p[0] & 0x0F, min = 0x800;
	else if ((p[0] & 0xF8) == 0xF0)
		len = 4, c = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (int i = 1; i < len; i++)
	{
		if ((p[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/*
 * Characters a terminal acts on, or that make a line read other than it
 * is: C0, DEL, C1 (U+009B is CSI), the line and paragraph separators and
 * the bidirectional marks, embeddings, overrides and isolates.
 */
static bool
is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x200E || c == 0x200F ||
		   (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

bool
quote_needs_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		uint32_t c;
		int		 len = decode_utf8(p, &c);

		if (len == 0 || (is_control(c) && c != '\n' && c != '\t'))
			return true;
		p += len;
	}
	return false;
}

static bool
has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		uint32_t c;
		int		 len = decode_utf8(p, &c);

		if (len > 0 && is_control(c))
			return true;
		p += len > 0 ? len : 1;
	}
	return false;
}

void
quote_append_visible(StrBuf *b, const char *s, bool keep_newlines)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		uint32_t c;
		int		 len = decode_utf8(p, &c);

		if (len == 0)
		{
			strbuf_appendf(b, "\\x%02X", *p);
			p++;
			continue;
		}
		if (!is_control(c) || (keep_newlines && (c == '\n' || c == '\t')))
			strbuf_append_len(b, (const char *) p, (size_t) len);
		else if (c == '\n')
			strbuf_append(b, "\\n");
		else if (c == '\t')
			strbuf_append(b, "\\t");
		else if (c == '\r')
			strbuf_append(b, "\\r");
		else if (c < 0x80)
			strbuf_appendf(b, "\\x%02X", (unsigned) c);
		else
			strbuf_appendf(b, "\\u%04X", (unsigned) c);
		p += len;
	}
}

/*
 * The characters of s between quotes: quote doubled; with escapes (U&""
 * and E''), backslash doubled and each control as the escape spells it.
 * Bytes that are not UTF-8 pass as they are: the server never sends them
 * (client_encoding UTF8) and would refuse them back.
 */
static void
append_quoted_body(StrBuf *b, const char *s, char quote, bool escapes, const char *ascii_fmt,
				   const char *unicode_fmt)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		uint32_t c;
		int		 len = decode_utf8(p, &c);

		if (len == 0)
		{
			strbuf_append_char(b, (char) *p++);
			continue;
		}
		if (c == (uint32_t) quote)
			strbuf_append_char(b, quote);
		if (escapes && c == '\\')
			strbuf_append_char(b, '\\');
		if (escapes && is_control(c))
			strbuf_appendf(b, c < 0x80 ? ascii_fmt : unicode_fmt, (unsigned) c);
		else
			strbuf_append_len(b, (const char *) p, (size_t) len);
		p += len;
	}
}

void
quote_append_ident(StrBuf *b, const char *name)
{
	bool escapes = has_control(name);

	/* U&"..." needs no standard_conforming_strings: it is an identifier */
	strbuf_append(b, escapes ? "U&\"" : "\"");
	append_quoted_body(b, name, '"', escapes, "\\%04X", "\\%04X");
	strbuf_append_char(b, '"');
}

void
quote_append_name(StrBuf *b, const char *name)
{
	bool bare = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';

	for (const char *p = name; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (bare)
		strbuf_append(b, name);
	else
		quote_append_ident(b, name);
}

void
quote_append_literal(StrBuf *b, const char *value)
{
	bool escapes = has_control(value);

	/* E'...' reads the same whatever standard_conforming_strings says */
	strbuf_append(b, escapes ? "E'" : "'");
	append_quoted_body(b, value, '\'', escapes, "\\x%02X", "\\u%04X");
	strbuf_append_char(b, '\'');
}

void
quote_append_json(StrBuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	strbuf_append_char(b, '"');
	while (*p)
	{
		uint32_t c;
		int		 len = decode_utf8(p, &c);

		if (len == 0)
		{
			strbuf_append(b, "\\ufffd");
			p++;
			continue;
		}
		if (c == '"')
			strbuf_append(b, "\\\"");
		else if (c == '\\')
			strbuf_append(b, "\\\\");
		else if (c == '\n')
			strbuf_append(b, "\\n");
		else if (c == '\r')
			strbuf_append(b, "\\r");
		else if (c == '\t')
			strbuf_append(b, "\\t");
		else if (is_control(c))
			strbuf_appendf(b, "\\u%04x", (unsigned) c);
		else
			strbuf_append_len(b, (const char *) p, (size_t) len);
		p += len;
	}
	strbuf_append_char(b, '"');
}

void
quote_append_shell_word(StrBuf *b, const char *word)
{
	bool plain = word[0] != '\0' && word[0] != '-';

	for (const char *p = word; plain && *p; p++)
		plain = isalnum((unsigned char) *p) || strchr("_./:,@%+=-", *p) != NULL;
	if (plain)
	{
		strbuf_append(b, word);
		return;
	}
	if (!quote_needs_escape(word) && strpbrk(word, "\n\t") == NULL)
	{
		strbuf_append_char(b, '\'');
		for (const char *p = word; *p; p++)
		{
			if (*p == '\'')
				strbuf_append(b, "'\\''");
			else
				strbuf_append_char(b, *p);
		}
		strbuf_append_char(b, '\'');
		return;
	}
	/*
	 * "$(printf '...')", every byte of a control (and ' \ %) in octal:
	 * any POSIX sh gives the command the raw bytes, the terminal sees none.
	 * Command substitution drops trailing newlines: such a word ends in
	 * the form bash, ksh and zsh read, $'...'.
	 */
	{
		bool dollar = word[strlen(word) - 1] == '\n';

		strbuf_append(b, dollar ? "$'" : "\"$(printf '");
		for (const unsigned char *p = (const unsigned char *) word; *p;)
		{
			uint32_t c;
			int		 len = decode_utf8(p, &c);

			if (len == 0 || is_control(c) || c == '\'' || c == '\\' || c == '%')
			{
				for (int i = 0; i < (len ? len : 1); i++)
					strbuf_appendf(b, "\\%03o", p[i]);
				p += len ? len : 1;
				continue;
			}
			strbuf_append_len(b, (const char *) p, (size_t) len);
			p += len;
		}
		strbuf_append(b, dollar ? "'" : "')\"");
	}
}

void
quote_append_requoted(StrBuf *b, const char *sql)
{
	const char *p = sql;

	while (*p)
	{
		StrBuf name;

		if (*p != '"')
		{
			strbuf_append_char(b, *p++);
			continue;
		}
		/* "...": "" is a quote; an unterminated one is copied as it is */
		strbuf_init(&name);
		for (p++; *p && (*p != '"' || p[1] == '"'); p++)
		{
			if (*p == '"')
				p++;
			strbuf_append_char(&name, *p);
		}
		if (*p == '"')
		{
			quote_append_ident(b, name.data);
			p++;
		}
		else
		{
			strbuf_append_char(b, '"');
			strbuf_append(b, name.data);
		}
		strbuf_free(&name);
	}
}

long
quote_hex_value(const char *p, int ndigits)
{
	long v = 0;

	for (int i = 0; i < ndigits; i++)
	{
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

size_t
quote_clip_name(const char *s, size_t max)
{
	size_t len = strnlen(s, max);

	while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80)
		len--;
	return len;
}
