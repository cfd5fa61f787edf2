/*
 * baseline.h
 *	  --baseline FILE: the orphans an earlier run reported, so that a gate
 *	  counts only the new ones.
 *
 * The file is an earlier run's --orphans-out FILE.csv (every orphan row:
 * every known key) or its --format json report (only the sampled keys:
 * raise --sample, or the rest count as new).  An orphan row is known when
 * its FK (schema, table, constraint) is in the baseline with the same key
 * text, column by column (NULL matching NULL): a key written differently
 * (1.0 for 1.00) is new.  The count is the server's, on the scan's snapshot:
 * RI's violation test on the child rows whose key is a baseline key.
 */
#ifndef FKSCAN_BASELINE_H
#define FKSCAN_BASELINE_H

#include "fkscan/catalog.h"
#include "fkscan/common.h"
#include "fkscan/pgconn.h"

/* The known orphan keys of one FK. */
typedef struct BaselineFk
{
	char  *schema;
	char  *table;
	char  *constraint;
	int	   ncols;
	char **columns; /* the key's column names, in the order of values */
	char **values;	/* nkeys * ncols key texts, NULL for SQL NULL */
	int	   nkeys;
	int	   cap;
	bool   sampled; /* from a JSON report's samples, fewer than its orphan keys */
} BaselineFk;

typedef struct Baseline
{
	char	   *path;
	BaselineFk *fks;
	int			n;
	int			cap;
} Baseline;

/* Read path; false after logging one line naming it and what is wrong. */
bool			  baseline_read(const char *path, Baseline **out);
const BaselineFk *baseline_find(const Baseline *b, const char *schema, const char *table,
								const char *constraint);
void			  baseline_free(Baseline *b);

/*
 * How many of fk's violating rows have a key of bfk, on c's snapshot.
 * A baseline naming other key columns than fk's knows none (warned).
 */
bool baseline_count_known(PgConn *c, const Catalog *cat, const CatForeignKey *fk,
						  const BaselineFk *bfk, uint64_t *known);

#endif /* FKSCAN_BASELINE_H */
