/*
 * strbuf.c
 *	  Growable string buffer.
 */
#include "fkscan/strbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"

static void
reserve(StrBuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = fk_realloc(b->data, b->cap);
}

void
strbuf_init(StrBuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	reserve(b, 0);
	b->data[0] = '\0';
}

void
strbuf_reset(StrBuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
strbuf_free(StrBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
strbuf_append_len(StrBuf *b, const char *s, size_t len)
{
	reserve(b, len);
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

char *
strbuf_extend(StrBuf *b, size_t len)
{
	char *at;

	reserve(b, len);
	at = b->data + b->len;
	b->len += len;
	b->data[b->len] = '\0';
	return at;
}

void
strbuf_append(StrBuf *b, const char *s)
{
	strbuf_append_len(b, s, strlen(s));
}

void
strbuf_append_char(StrBuf *b, char c)
{
	strbuf_append_len(b, &c, 1);
}

void
strbuf_appendf(StrBuf *b, const char *fmt, ...)
{
	va_list ap;
	int		n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	reserve(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

char *
strbuf_take(StrBuf *b)
{
	char *s = b->data;

	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
strbuf_append_copy_text(StrBuf *b, const char *v)
{
	for (const char *p = v; *p; p++)
	{
		switch (*p)
		{
			case '\\':
				strbuf_append(b, "\\\\");
				break;
			case '\t':
				strbuf_append(b, "\\t");
				break;
			case '\n':
				strbuf_append(b, "\\n");
				break;
			case '\r':
				strbuf_append(b, "\\r");
				break;
			default:
				strbuf_append_char(b, *p);
		}
	}
}

void
strbuf_append_count(StrBuf *b, uint64_t n, const char *singular, const char *plural)
{
	strbuf_appendf(b, "%" PRIu64 " ", n);
	if (n == 1)
		strbuf_append(b, singular);
	else if (plural)
		strbuf_append(b, plural);
	else
	{
		strbuf_append(b, singular);
		strbuf_append_char(b, 's');
	}
}

void
stringlist_append(StringList *l, const char *s)
{
	fk_array_grow((void **) &l->items, &l->cap, l->n + 1, sizeof(char *));
	l->items[l->n++] = fk_strdup(s);
}

void
stringlist_reset(StringList *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

const char *
str_lower(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] - 'A' + 'a') : s[i];
	buf[i] = '\0';
	return buf;
}

void
strbuf_append_utf8(StrBuf *b, uint32_t cp)
{
	if (cp < 0x80)
		strbuf_append_char(b, (char) cp);
	else if (cp < 0x800)
		strbuf_appendf(b, "%c%c", 0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
	else if (cp < 0x10000)
		strbuf_appendf(b, "%c%c%c", 0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f),
					   0x80 | (cp & 0x3f));
	else
		strbuf_appendf(b, "%c%c%c%c", 0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f),
					   0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}
