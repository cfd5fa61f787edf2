/*
 * fixsteps.h
 *	  "fkscan fix" inside: a repair is a list of steps, planned from the
 *	  scan's findings (fix_plan.c), printed as a psql script
 *	  (fix_script.c) or run with --apply (fix_apply.c).  fix.c drives them.
 */
#ifndef FKSCAN_FIXSTEPS_H
#define FKSCAN_FIXSTEPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fkscan/catalog.h"
#include "fkscan/common.h"
#include "fkscan/options.h"
#include "fkscan/pgconn.h"
#include "fkscan/result.h"
#include "fkscan/strbuf.h"

typedef enum StepKind
{
	STEP_COMMENT, /* what comes next, for people (--apply prints it too) */
	STEP_BEGIN,	  /* a transaction, with its timeouts */
	STEP_COMMIT,  /* --apply: the restore script first */
	STEP_SQL,	  /* run as is */
	STEP_COPY_IN, /* COPY ... FROM STDIN with keys */
	STEP_EXPECT,  /* measure the next statement's expected count */
	STEP_DML,	  /* counted: must equal expect (or the measured one) */
	STEP_UNSEEN,  /* counts the DML's rows the scan did not see: must be 0 */
	STEP_BACKUP	  /* COPY a backup table TO a CSV file */
} StepKind;

typedef struct FixStep
{
	StepKind	  kind;
	char		 *sql;	/* the statement; STEP_COMMENT: the text */
	const char	 *data; /* STEP_COPY_IN: a slice of FixFk.keys */
	size_t		  len;
	int64_t		  expect; /* STEP_DML: -1 when measured by STEP_EXPECT */
	char		 *what;	  /* STEP_DML, STEP_UNSEEN: "delete from s.t (fk)" */
	char		 *path;	  /* STEP_BACKUP: the CSV file */
	struct FixFk *fk;	  /* STEP_DML, STEP_BACKUP: whose */
	int			  n;	  /* STEP_BACKUP: the number of its tables */
} FixStep;

/* One broken FK: its orphan keys as COPY text, and what the repair needs. */
typedef struct FixFk
{
	bool			seen;	  /* keys() was called */
	char		   *snapshot; /* the scan's, as pg_current_snapshot() text */
	StrBuf			keys;	  /* "k1\tk2\n" per distinct orphan key */
	uint64_t		nkeys;
	const FkResult *r;
	char		  **cols; /* delete: the child's columns, not generated */
	int				ncols;
	char		  **pk; /* nullify: the child's primary key */
	int				npk;
	bool		   *nullify;	/* nullify: which FK columns become NULL */
	bool			touched;	/* an earlier FK of the run changes the same table */
	char		   *quarantine; /* quarantine: the table, quoted schema.name */
	int				nbatches;
	uint64_t		done; /* --apply: rows (keys) repaired so far */
} FixFk;

typedef struct Fix
{
	const FkOptions *opt;
	PgConn			*wc;  /* the primary: catalog questions, and --apply */
	FixFk			*fks; /* indexed like ScanResult.fks */
	int				 nfks;
	FixStep			*steps;
	int				 nsteps;
	int				 capsteps;
	char			*backup_dir; /* absolute once created */
	const Catalog	*cat;		 /* the scan's, which the FkResults point into */
	bool			 txn_used;	 /* the open transaction has a batch already */
	char			 run[40];	 /* quarantine: this run's fkscan_run value */
} Fix;

/* Does the strategy delete the orphan rows (delete, quarantine)? */
bool fix_deletes(const Fix *f);

/* "[, ]alias.a, alias.b": quoted column names (alias may be NULL), lead: a comma first. */
void append_columns(StrBuf *b, const char *alias, char *const *cols, int ncols, bool lead);

/* Append a step (sql owned by it). */
FixStep *add_step(Fix *f, StepKind kind, char *sql);

/*
 * fix_plan.c.  fix_check: may x be repaired as asked (refusals logged)?
 * build_fk: x's steps, n counting backup tables.  order_fks: children
 * before their parents' repairs need them (see there).
 */
bool fix_check(Fix *f, FixFk *x);
void build_fk(Fix *f, const Catalog *cat, FixFk *x, int *n);
void order_fks(const Catalog *graph, FixFk **list, int n);

/* fix_script.c: the steps as a psql script. */
void print_script(const Fix *f, const char *database, FILE *out);

/* fix_apply.c: the backup directory, then the steps in checked transactions. */
bool prepare_backup_dir(Fix *f, bool create);
bool apply_steps(Fix *f);

#endif /* FKSCAN_FIXSTEPS_H */
