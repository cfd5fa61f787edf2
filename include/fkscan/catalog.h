/*
 * catalog.h
 *	  Every foreign key in scope, read from the system catalogs, with what
 *	  the audit shows and what the scan plans from.
 *
 * One CatForeignKey per logical FK (pg_constraint.conparentid = 0): the
 * partition clones are folded into it, and only used to count RI triggers.
 * Tables are shared: an FK points at its child and parent CatTable in
 * Catalog.tables, and each table lists the leaf relations to read (itself
 * for a plain table, its leaf partitions for a partitioned one).
 *
 * catalog_read() runs on a connection whose transaction is the scan's
 * snapshot, so relation sizes are those at snapshot time.  The Catalog is
 * read-only once built and may be shared by threads.  Names are as in the
 * catalog, unquoted; quote them (pgconn_append_ident) before they reach SQL.
 */
#ifndef FKSCAN_CATALOG_H
#define FKSCAN_CATALOG_H

#include "fkscan/common.h"
#include "fkscan/pgconn.h"
#include "fkscan/relation.h"
#include "fkscan/strbuf.h"

typedef uint32_t Oid;

/* Type OIDs the scan recognises (pg_type.dat; stable across versions). */
#define FK_INT2OID 21
#define FK_INT4OID 23
#define FK_INT8OID 20

typedef struct CatColumn
{
	char   *name; /* attname */
	int16_t attnum;
	Oid		type_oid;				 /* atttypid */
	Oid		base_type_oid;			 /* domains resolved to their base type */
	char   *type_name;				 /* format_type(atttypid, atttypmod) */
	Oid		collation_oid;			 /* attcollation, 0 if not collatable */
	char   *collation_name;			 /* qualified, quoted, e.g. "pg_catalog"."C"; NULL if none */
	bool	collation_deterministic; /* true when no collation */
	bool	not_null;
	bool	generated;	 /* attgenerated <> '' */
	bool	is_enum;	 /* the base type is an enum */
	Oid		op_type_oid; /* the FK operator's input type on this side:
								 * RI casts the column to it before comparing */
} CatColumn;

/* A relation rows are actually read from (FROM ONLY): a plain table or a leaf. */
typedef struct CatRelation
{
	Oid		oid;
	char   *schema;
	char   *name;
	int64_t pages;		   /* pg_relation_size / block_size at snapshot time */
	char	persistence;   /* relpersistence: 'p', 'u' or 't' */
	bool	heap;		   /* table AM is heap: ctid ranges work */
	bool	ctid_readable; /* the role may SELECT ctid (not with column
								 * privileges on the keys alone) */
	bool	bulk_read;	   /* > shared_buffers / 4: a plain scan reads it through
								 * a small ring, a ctid range scan through the
								 * whole buffer pool */
	Oid		filenode;	   /* pg_relation_filenode once locked (catalog_read_filenodes) */
} CatRelation;

typedef struct CatTable
{
	Oid			 oid;
	char		*schema;
	char		*name;
	char		 relkind;	 /* 'r' or 'p' */
	int64_t		 est_rows;	 /* reltuples summed over leaves; -1 if never analyzed */
	int64_t		 size_bytes; /* pg_relation_size summed over leaves */
	CatRelation *leaves;	 /* nleaves entries, owned */
	int			 nleaves;
} CatTable;

typedef struct CatForeignKey
{
	Oid		   oid;		 /* 0 for an undeclared relationship */
	bool	   declared; /* a constraint; false: --relation */
	char	  *name;	 /* conname */
	int		   child;	 /* index into Catalog.tables (conrelid) */
	int		   parent;	 /* index into Catalog.tables (confrelid) */
	int		   ncols;
	CatColumn *child_cols;	  /* conkey order */
	CatColumn *parent_cols;	  /* confkey order, matching child_cols pairwise */
	char	 **eq_ops;		  /* conpfeqop as schema-qualified OPERATOR(s.=) text */
	char	 **parent_casts;  /* "::s.type" RI puts on the parent column, or "" */
	char	 **child_casts;	  /* "::s.type" RI puts on the child value, or "" */
	char	   match_type;	  /* 's' simple, 'f' full */
	char	   update_action; /* confupdtype: a r c n d */
	char	   delete_action; /* confdeltype */
	bool	   deferrable;
	bool	   deferred;
	bool	   validated;		  /* convalidated */
	bool	   enforced;		  /* conenforced (PG18+), true before */
	bool	   period;			  /* conperiod (PG18+) */
	int		   triggers;		  /* RI triggers over the FK and its clones */
	int		   triggers_disabled; /* tgenabled = 'D' */
	int		   triggers_replica;  /* tgenabled = 'R': dead in origin sessions */
	char	  *trigger_detail;	  /* "rel.func=D, ...", NULL when all are 'O' */
	int		   triggers_missing;  /* RI triggers that should exist and do not */
	char	  *missing_detail;	  /* "rel.func, ..." of those; NULL when none */
	bool	   index_covered;	  /* child columns lead some index on the child */
	char	  *parent_index;	  /* undeclared: the parent's unique index ADD FOREIGN
								   * KEY would use (quoted), NULL if it has none */
	char	  *relation;		  /* undeclared: its --relation text, names quoted */
} CatForeignKey;

typedef struct Catalog
{
	int			   server_version;
	bool		   in_recovery;
	CatTable	  *tables;
	int			   ntables;
	CatForeignKey *fks; /* sorted by child schema, table, constraint name */
	int			   nfks;
} Catalog;

/* pg_dump-style selection; patterns are matched by the catalog module. */
typedef struct FilterOptions
{
	StringList	 schemas;		  /* -n */
	StringList	 exclude_schemas; /* -N */
	StringList	 tables;		  /* -t */
	StringList	 exclude_tables;  /* -T */
	StringList	 constraints;	  /* -c: constraint name patterns */
	bool		 strict_names;	  /* a pattern matching nothing is an error */
	RelationList relations;		  /* --relation, --relations: in scope as FKs are */
} FilterOptions;

/*
 * Read every FK selected by the filters, and every undeclared relationship
 * as an FK (declared = false, oid 0: no RI triggers, never validated).
 * Patterns follow pg_dump (-n/-N on the child's schema, -t/-T on the child
 * table, -c on the constraint or relationship name); with strict_names a
 * pattern that matches nothing is an error.
 * Returns false after logging; *out is then NULL.
 */
bool catalog_read(PgConn *c, const FilterOptions *filter, Catalog **out);

/*
 * Every FK in the database and the given relationships, unfiltered: the
 * graph cascades walk when the scan itself reads only some FKs.
 */
bool catalog_read_graph(PgConn *c, const RelationList *relations, Catalog **out);

/*
 * Each relation's filenode, once the tables are locked (a rewrite then
 * waits for the scan): what identifies the pages a --state chunk covers.
 */
bool catalog_read_filenodes(PgConn *c, Catalog *cat);
void catalog_free(Catalog *cat);

/* Is any leaf of the table unlogged (unreadable on a hot standby)? */
bool catalog_table_unlogged(const CatTable *t);

/* The pages of all the table's leaves. */
int64_t catalog_table_pages(const CatTable *t);

/* May the role read ctid in every leaf (sample rows are named by it)? */
bool catalog_table_ctid_readable(const CatTable *t);

/*
 * The index in `in` of FK i of `of` (another server's catalog of the same
 * system: a constraint by oid, a relationship by name and child), or -1.
 */
int catalog_find_fk(const Catalog *in, const Catalog *of, int i);

/* The partitioned table rel is a leaf of, or NULL (rel is a table of its own). */
const CatTable *catalog_partitioned_of(const Catalog *cat, const CatRelation *rel);

/* Do its RI triggers check every new row: enforced, none missing, disabled or replica-only? */
bool catalog_fk_triggers_fire(const CatForeignKey *fk);

/* Is the FK in a broken state: not validated, or its triggers do not fire? */
bool catalog_fk_broken(const CatForeignKey *fk);

/* "NO ACTION", "CASCADE", ... for an action letter; "SIMPLE"/"FULL" for match. */
const char *catalog_action_name(char action);
const char *catalog_match_name(char match_type);

#endif /* FKSCAN_CATALOG_H */
