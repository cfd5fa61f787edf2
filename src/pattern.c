/*
 * pattern.c
 *	  pg_dump-style name patterns to anchored POSIX regexes; see pattern.h.
 *
 * One left-to-right pass with a quote flag: the rules are those of
 * identifiers (fold unquoted letters, "" is a quote inside quotes) plus the
 * two wildcards, and the unquoted dot that separates schema from name.
 */
#include "fkscan/pattern.h"

#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/strbuf.h"

/* Characters with a meaning in a POSIX (ARE) regex outside brackets. */
static const char regex_specials[] = "\\^$.|?*+()[]{}";

static void
part_begin(StrBuf *b)
{
	strbuf_init(b);
	strbuf_append(b, "^(");
}

static char *
part_end(StrBuf *b)
{
	strbuf_append(b, ")$");
	return strbuf_take(b);
}

int
pattern_to_regexes(const char *pattern, int max_parts, char **parts)
{
	StrBuf cur;
	bool   inquotes = false;
	int	   nparts = 0;

	part_begin(&cur);
	for (const char *p = pattern; *p; p++)
	{
		char ch = *p;

		if (ch == '"')
		{
			if (inquotes && p[1] == '"')
			{
				strbuf_append_char(&cur, '"');
				p++;
			}
			else
				inquotes = !inquotes;
		}
		else if (!inquotes && ch == '.')
		{
			if (nparts + 1 >= max_parts)
			{
				strbuf_free(&cur);
				pattern_free_parts(parts, nparts);
				log_error("improper qualified name (too many dotted names): %s", pattern);
				return 0;
			}
			parts[nparts++] = part_end(&cur);
			part_begin(&cur);
		}
		else if (!inquotes && ch == '*')
			strbuf_append(&cur, ".*");
		else if (!inquotes && ch == '?')
			strbuf_append_char(&cur, '.');
		else
		{
			/* ASCII only, like the server's identifier folding in UTF8 */
			if (!inquotes && ch >= 'A' && ch <= 'Z')
				ch = (char) (ch - 'A' + 'a');
			if (strchr(regex_specials, ch) != NULL)
				strbuf_append_char(&cur, '\\');
			strbuf_append_char(&cur, ch);
		}
	}
	/* An unterminated quote simply ends with the pattern, as in pg_dump. */
	parts[nparts++] = part_end(&cur);
	return nparts;
}

void
pattern_free_parts(char **parts, int nparts)
{
	for (int i = 0; i < nparts; i++)
	{
		free(parts[i]);
		parts[i] = NULL;
	}
}
