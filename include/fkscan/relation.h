/*
 * relation.h
 *	  Relationships no constraint declares (--relation, --relations): their
 *	  syntax, and how ADD FOREIGN KEY would implement them.
 *
 * A relationship is written as the FOREIGN KEY clause reads:
 *
 *   [NAME=]SCHEMA.CHILD(COL, ...) -> SCHEMA.PARENT(COL, ...) [MATCH FULL | MATCH SIMPLE]
 *
 * Names are SQL identifiers: unquoted ones fold to lower case, "double
 * quotes" keep anything ("" is one quote).  An unqualified table must be the
 * only table of that name outside the system schemas.  Without NAME= the
 * relationship is named as ADD FOREIGN KEY would name it (CHILD_COL_fkey).
 *
 * relation_resolve() finds what ADD FOREIGN KEY would: the parent's unique
 * index on exactly those columns (first by oid, valid, immediate, without
 * predicate or expressions) and its operator classes; without one, each
 * parent type's default btree operator class.  Per column pair, the
 * equality operator as tablecmds.c chooses it (the family's operator for
 * the two types, else the class's own when both sides coerce implicitly).
 * The catalog (catalog_read) turns the result into a CatForeignKey with
 * declared = false, so every command treats it like a declared FK.
 */
#ifndef FKSCAN_RELATION_H
#define FKSCAN_RELATION_H

#include "fkscan/common.h"
#include "fkscan/pgconn.h"
#include "fkscan/strbuf.h"

typedef struct RelationSpec
{
	char	  *name;		  /* NAME=, else ADD FOREIGN KEY's choice */
	char	  *child_schema;  /* NULL when unqualified */
	char	  *child_table;	  /* as in the catalog (folded unless quoted) */
	char	  *parent_schema; /* NULL when unqualified */
	char	  *parent_table;
	StringList child_cols;
	StringList parent_cols; /* as many as child_cols */
	char	   match_type;	/* 's' or 'f' */
} RelationSpec;

typedef struct RelationList
{
	RelationSpec *items;
	int			  n;
	int			  cap;
} RelationList;

/*
 * Parse one relationship and append it; origin names where it came from in
 * messages ("--relation", "FILE:LINE").  Returns false after logging one line
 * naming the text and what is wrong with it.
 */
bool relation_list_add(RelationList *l, const char *text, const char *origin);

/* Every relationship of a --relations file: one a line, # comments, blank lines. */
bool relation_list_read_file(RelationList *l, const char *path);
void relation_list_free(RelationList *l);

/*
 * [SCHEMA.]TABLE alone, by the same rules (--quarantine-table); *schema is
 * NULL when unqualified.  False when text is not exactly such a name.
 */
bool relation_parse_table(const char *text, char **schema, char **table);

/* A relationship as the server resolved it. */
typedef struct RelationResolved
{
	Oid		 child;
	Oid		 parent;
	int		 ncols;
	int16_t *child_attnums;
	int16_t *parent_attnums;
	Oid		*eq_ops;	   /* pg_operator oids, as conpfeqop would hold them */
	char	*parent_index; /* quoted schema.index ADD FOREIGN KEY would use; NULL if none */
} RelationResolved;

/*
 * Resolve spec on c (inside the scan's snapshot).  Unknown or ambiguous
 * tables, unknown columns, a type pair without equality: one error naming
 * the relationship and the culprit, false.
 */
bool relation_resolve(PgConn *c, const RelationSpec *spec, RelationResolved *out);
void relation_resolved_free(RelationResolved *r);

#endif /* FKSCAN_RELATION_H */
