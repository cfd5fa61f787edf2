/*
 * texttable.h
 *	  Text for people: names quoted as psql would show them, and tables in
 *	  psql's aligned format (centered headers, right-aligned numbers, the
 *	  last column unpadded).  Used by the audit and the scan reports.
 *
 * Usage: TextTable t; texttable_init(&t, ncols, headers, right);
 * texttable_add(&t, cell) ncols times per row (cells adopted);
 * texttable_render(&t, out); texttable_free(&t).
 */
#ifndef FKSCAN_TEXTTABLE_H
#define FKSCAN_TEXTTABLE_H

#include "fkscan/catalog.h"
#include "fkscan/strbuf.h"

/*
 * A name as it would be typed back: bare when it is a lower-case
 * identifier, else quoted (quote_append_name: U&"..." with escapes when it
 * holds control characters), so that a report stays one line per row and
 * never drives the terminal, whatever the names hold.
 */
void texttable_append_name(StrBuf *b, const char *name);
void texttable_append_qualified(StrBuf *b, const char *schema, const char *name);
void texttable_append_columns(StrBuf *b, const CatColumn *cols, int n);

typedef struct TextTable
{
	int				   ncols;
	const char *const *headers; /* borrowed */
	const bool		  *right;	/* borrowed; NULL: all left-aligned */
	char			 **cells;	/* owned */
	int				   ncells;
	int				   cap;
} TextTable;

void texttable_init(TextTable *t, int ncols, const char *const *headers, const bool *right);
void texttable_add(TextTable *t, char *cell); /* adopts cell (fk_malloc'd) */
void texttable_add_copy(TextTable *t, const char *cell);
void texttable_render(const TextTable *t, StrBuf *out);
void texttable_free(TextTable *t);

#endif /* FKSCAN_TEXTTABLE_H */
