/*
 * texttable.c
 *	  Names and aligned tables for the text reports; see texttable.h.
 */
#include "fkscan/texttable.h"

#include <stdlib.h>

#include "fkscan/mem.h"
#include "fkscan/quote.h"

void
texttable_append_name(StrBuf *b, const char *name)
{
	quote_append_name(b, name);
}

void
texttable_append_qualified(StrBuf *b, const char *schema, const char *name)
{
	texttable_append_name(b, schema);
	strbuf_append_char(b, '.');
	texttable_append_name(b, name);
}

void
texttable_append_columns(StrBuf *b, const CatColumn *cols, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			strbuf_append(b, ", ");
		texttable_append_name(b, cols[i].name);
	}
}

/* Columns a string takes on a terminal: UTF-8 code points. */
static int
texttable_width(const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			w++;
	return w;
}

void
texttable_init(TextTable *t, int ncols, const char *const *headers, const bool *right)
{
	t->ncols = ncols;
	t->headers = headers;
	t->right = right;
	t->cells = NULL;
	t->ncells = 0;
	t->cap = 0;
}

void
texttable_add(TextTable *t, char *cell)
{
	fk_array_grow((void **) &t->cells, &t->cap, t->ncells + 1, sizeof(char *));
	t->cells[t->ncells++] = cell;
}

void
texttable_add_copy(TextTable *t, const char *cell)
{
	texttable_add(t, fk_strdup(cell));
}

static void
append_padded(StrBuf *out, const char *s, int width, int left)
{
	int pad = width - texttable_width(s);

	for (int i = 0; i < left; i++)
		strbuf_append_char(out, ' ');
	strbuf_append(out, s);
	for (int i = left; i < pad; i++)
		strbuf_append_char(out, ' ');
}

/* One line; the last column is not padded, as in psql. */
static void
append_line(const TextTable *t, StrBuf *out, const char *const *cells, const int *widths,
			bool header)
{
	for (int c = 0; c < t->ncols; c++)
	{
		int pad = widths[c] - texttable_width(cells[c]);
		int left = header ? pad / 2 : (t->right && t->right[c]) ? pad : 0;

		strbuf_append(out, c == 0 ? " " : " | ");
		append_padded(out, cells[c], widths[c], left);
	}
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	strbuf_append_char(out, '\n');
}

void
texttable_render(const TextTable *t, StrBuf *out)
{
	int *widths = fk_calloc((size_t) t->ncols, sizeof(int));
	int	 nrows = t->ncells / t->ncols;

	for (int c = 0; c < t->ncols; c++)
		widths[c] = texttable_width(t->headers[c]);
	for (int i = 0; i < nrows * t->ncols; i++)
	{
		int w = texttable_width(t->cells[i]);

		if (w > widths[i % t->ncols])
			widths[i % t->ncols] = w;
	}
	append_line(t, out, t->headers, widths, true);
	for (int c = 0; c < t->ncols; c++)
	{
		strbuf_append(out, c == 0 ? "-" : "-+-");
		for (int i = 0; i < widths[c]; i++)
			strbuf_append_char(out, '-');
	}
	strbuf_append(out, "-\n");
	for (int r = 0; r < nrows; r++)
		append_line(t, out, (const char *const *) &t->cells[r * t->ncols], widths, false);
	free(widths);
}

void
texttable_free(TextTable *t)
{
	for (int i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->ncells = t->cap = 0;
}
