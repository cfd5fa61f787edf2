/*
 * pattern.h
 *	  pg_dump-style name patterns (-n, -t, -c) turned into POSIX regular
 *	  expressions for the server's ~ operator.
 *
 * A pattern is split at unquoted dots into parts, leftmost first ("s.t" is
 * schema s, table t).  Within a part:
 *   - unquoted ASCII letters fold to lower case, as identifiers do;
 *   - unquoted * matches any string, unquoted ? any one character;
 *   - double quotes keep case and make * ? . literal; "" inside quotes is
 *     one literal double quote;
 *   - every other character matches itself.  Regular-expression characters
 *     are escaped, quoted or not (psql passes some through; fkscan does not,
 *     so a pattern can never be an invalid regex nor match by accident).
 * Each part becomes "^(...)$".  An empty part matches nothing.
 *
 * The regexes are sent as query parameters, never spliced into SQL text.
 */
#ifndef FKSCAN_PATTERN_H
#define FKSCAN_PATTERN_H

#include "fkscan/common.h"

/* -t accepts schema.table; nothing accepts database.schema.table. */
#define PATTERN_MAX_PARTS 2

/*
 * Convert pattern into between 1 and max_parts (<= PATTERN_MAX_PARTS)
 * anchored regexes, stored leftmost first in parts[]; the caller frees them
 * with pattern_free_parts().  Returns the number of parts, or 0 after
 * logging "improper qualified name (too many dotted names)" when the pattern
 * has more than max_parts parts.
 */
int	 pattern_to_regexes(const char *pattern, int max_parts, char **parts);
void pattern_free_parts(char **parts, int nparts);

#endif /* FKSCAN_PATTERN_H */
