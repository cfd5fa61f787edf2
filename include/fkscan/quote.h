/*
 * quote.h
 *	  The one owner of how text from the database is written out: for a
 *	  terminal (control characters made visible), and as SQL (identifiers
 *	  and literals that type back to the very same object or value).
 *
 * Names and values come from the catalog and the tables: anything may be
 * in them, ESC sequences and C1 controls (U+009B is CSI) included.  Every
 * output for people goes through quote_append_visible, quote_append_name
 * or quote_append_literal; every identifier in SQL, sent or printed,
 * through quote_append_ident.  The SQL forms never hold a raw control
 * character (U&"..." and E'...' escape them), so printed SQL is safe on a
 * terminal and still runs.  Input is UTF-8 (every connection's
 * client_encoding); a byte that is not valid UTF-8 is shown as \xNN.
 *
 * All functions append to b and never fail.
 */
#ifndef FKSCAN_QUOTE_H
#define FKSCAN_QUOTE_H

#include <stdbool.h>

#include "fkscan/strbuf.h"

/*
 * s for a terminal: C0 and C1 controls, DEL, line and paragraph
 * separators and bidi overrides as \xNN or \uXXXX; everything else as is.
 * keep_newlines: '\n' and '\t' pass (multi-line messages); else escaped
 * as \n and \t too.
 */
void quote_append_visible(StrBuf *b, const char *s, bool keep_newlines);

/* Whether s holds a character quote_append_visible would escape (not \n, \t). */
bool quote_needs_escape(const char *s);

/*
 * An identifier in SQL: "name" with "" doubled, or U&"..." with \XXXX
 * escapes when it holds a control character.  Always quoted.
 */
void quote_append_ident(StrBuf *b, const char *name);

/*
 * SQL text whose identifiers the server quoted (format's %I, quote_ident:
 * bare or "..."), with every quoted identifier that holds a control
 * character re-quoted as quote_append_ident does; the rest copied.  For
 * casts and operators built by catalog queries, so printed SQL stays safe.
 */
void quote_append_requoted(StrBuf *b, const char *sql);

/*
 * A name for people, as it would be typed back in SQL: bare when it is a
 * lower-case identifier ([a-z_][a-z0-9_]*), else as quote_append_ident.
 */
void quote_append_name(StrBuf *b, const char *name);

/*
 * s as a JSON string, quotes included: \" \\ \n \r \t, every other
 * control as \uXXXX (C1 and DEL too: the value is the same, a terminal
 * showing the JSON is safe); a byte that is not UTF-8 as U+FFFD.
 */
void quote_append_json(StrBuf *b, const char *s);

/*
 * One word for a POSIX shell: as is when plainly safe, else '...' ('\''
 * for '), or "$(printf '...')" with octal escapes when it holds a control
 * character (the shell gives the command the raw bytes; the terminal never
 * sees them).
 */
void quote_append_shell_word(StrBuf *b, const char *word);

/* A value as a SQL literal: 'v' with '' doubled, or E'...' with escapes. */
void quote_append_literal(StrBuf *b, const char *value);

/*
 * Reading back: the value of the ndigits hex digits at p (either case), or
 * -1 if one is not a hex digit (a '\0' included): JSON's \uXXXX and
 * U&"..."'s \XXXX and \+XXXXXX.
 */
long quote_hex_value(const char *p, int ndigits);

/*
 * The length of the longest prefix of s of at most max bytes that does not
 * end inside a UTF-8 character: how the server shortens a name that is too
 * long (NAMEDATALEN - 1 bytes).
 */
size_t quote_clip_name(const char *s, size_t max);

#endif /* FKSCAN_QUOTE_H */
