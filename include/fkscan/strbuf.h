/*
 * strbuf.h
 *	  A growable, always NUL-terminated string buffer for SQL and report text.
 *
 * Usage: StrBuf b; strbuf_init(&b); strbuf_appendf(&b, ...); use b.data;
 * strbuf_reset(&b) to empty it, strbuf_free(&b) to release it.
 */
#ifndef FKSCAN_STRBUF_H
#define FKSCAN_STRBUF_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"

typedef struct StrBuf
{
	char  *data;
	size_t len;
	size_t cap;
} StrBuf;

void strbuf_init(StrBuf *b);
void strbuf_reset(StrBuf *b);
void strbuf_free(StrBuf *b);
void strbuf_append(StrBuf *b, const char *s);
void strbuf_append_len(StrBuf *b, const char *s, size_t len);
void strbuf_append_char(StrBuf *b, char c);
/* Grow by len bytes and return where they go (the caller fills them). */
char *strbuf_extend(StrBuf *b, size_t len);
void  strbuf_appendf(StrBuf *b, const char *fmt, ...) FK_PRINTF(2, 3);

/* v in COPY's text format: backslash escapes for \\ and \t \n \r. */
void strbuf_append_copy_text(StrBuf *b, const char *v);

/*
 * "1 orphan row", "2 orphan rows": the count and its noun, singular only
 * for 1; plural NULL means singular + "s".  Every count in text for
 * people goes through it.
 */
void strbuf_append_count(StrBuf *b, uint64_t n, const char *singular, const char *plural);

/* Append code point cp (at most U+10FFFF) as UTF-8. */
void strbuf_append_utf8(StrBuf *b, uint32_t cp);

/* Hand the string to the caller (who frees it) and leave b empty. */
char *strbuf_take(StrBuf *b);

/* A growable list of owned strings. */
typedef struct StringList
{
	char **items;
	int	   n;
	int	   cap;
} StringList;

void stringlist_append(StringList *l, const char *s);
void stringlist_reset(StringList *l);

/* "NO ACTION" -> "no action" (ASCII), into a caller's buffer; returns buf. */
const char *str_lower(const char *s, char *buf, size_t size);

#endif /* FKSCAN_STRBUF_H */
