/*
 * plan.h
 *	  What a scan will read, decided before any row is read.
 *
 * From the catalog and the options: for each FK its method (integer key
 * set, or the server's own anti-join for what the client cannot reproduce
 * yet), one parent key set per referenced (table, column), shared by every
 * FK that references it, one pass per child table for all its integer FKs,
 * and the chunks: ctid page ranges per leaf relation ([first, end) pages,
 * the last one open-ended), one list for phase 1 (parents) and one for
 * phase 2 (children and server-side checks).
 *
 * A ScanPlan is read-only once built; it borrows the Catalog, which must
 * outlive it.
 */
#ifndef FKSCAN_PLAN_H
#define FKSCAN_PLAN_H

#include "fkscan/catalog.h"
#include "fkscan/keyenc.h"
#include "fkscan/options.h"

typedef enum KeyKind
{
	KEYKIND_INT,   /* one integer column each side: integer key sets */
	KEYKIND_HASH,  /* canonical bytes the client can compare: fingerprints */
	KEYKIND_SERVER /* server-side anti-join on the snapshot */
} KeyKind;

/* PostgreSQL's INDEX_MAX_KEYS: no FK has more columns. */
#define PLAN_MAX_KEYS 32

typedef struct FkPlan
{
	const CatForeignKey *fk;
	KeyKind				 kind;
	const char			*server_reason;			   /* why KEYKIND_SERVER (static text) */
	int					 parent_set;			   /* INT/HASH: index into sets */
	int					 pass;					   /* INT/HASH: index into passes */
	int					 fields[PLAN_MAX_KEYS];	   /* INT/HASH: column indexes within the pass */
	KeyEncKind			 child_enc[PLAN_MAX_KEYS]; /* HASH: the child side's encodings
											 * (the parent's are its set's) */
	bool				 skip; /* finished in an earlier run (--state): nothing read */
} FkPlan;

/* One set of parent keys, shared by every FK with the same target and encoding. */
typedef struct ParentSet
{
	KeyKind			 kind;	/* KEYKIND_INT or KEYKIND_HASH */
	int				 table; /* Catalog.tables index */
	int				 ncols;
	const CatColumn *cols[PLAN_MAX_KEYS]; /* referenced columns, FK order */
	KeyEncKind		 enc[PLAN_MAX_KEYS];  /* KEYKIND_HASH: the parent side's encoding per column */
} ParentSet;

typedef struct ChildPass
{
	int				  table; /* Catalog.tables index */
	int				  nfks;
	int				 *fks; /* indexes into ScanPlan.fks */
	int				  ncols;
	const CatColumn **cols; /* distinct child columns read by the pass */
} ChildPass;

typedef enum ChunkRole
{
	CHUNK_PARENT, /* target: a ParentSet */
	CHUNK_CHILD,  /* target: a ChildPass */
	CHUNK_SERVER  /* target: an FkPlan checked on the server */
} ChunkRole;

typedef struct Chunk
{
	ChunkRole		   role;
	int				   target;
	const CatRelation *rel;		   /* NULL for CHUNK_SERVER */
	int64_t			   first_page; /* -1: the whole relation, no ctid predicate */
	int64_t			   end_page;   /* -1: open-ended */
	int				   recorded;   /* >= 0: finished by an earlier run (--state chunk
								 * record, the caller's index): not read again */
} Chunk;

typedef struct ScanPlan
{
	const Catalog *cat;
	FkPlan		  *fks; /* one per Catalog.fks entry, same order */
	int			   nfks;
	ParentSet	  *sets;
	int			   nsets;
	ChildPass	  *passes;
	int			   npasses;
	Chunk		  *parent_chunks; /* phase 1 */
	int			   nparent_chunks;
	Chunk		  *child_chunks; /* phase 2: passes in --order, then leaf and page order */
	int			   nchild_chunks;
	int64_t		   parent_pages; /* for progress and ETA */
	int64_t		   child_pages;
	int64_t		   hash_bytes; /* estimated peak memory of the hashed parent sets */
	int			   key_passes; /* hashed keys split into this many passes (>= 1) */
} ScanPlan;

/*
 * Peak bytes per hashed parent key (fpset.h): 16 in the blocks, 16 in the
 * frozen array as the blocks go, under 1 of index, the blocks' slack; and
 * a margin for reltuples below the truth.
 */
#define PLAN_HASH_BYTES_PER_KEY 24

/*
 * Build the plan.  tid_ranges: the server has TID Range Scans (PG14+), so
 * relations can be split; otherwise each relation is one chunk.  When the
 * hashed parent sets would not fit in options->engine.memory_limit, their key
 * space is split into key_passes passes by fingerprint; integer sets (a bit
 * or two per key) always fit in one.  FKs with skip[i] set (skip may be
 * NULL) finished in an earlier run (--state): they get no pass, no server check and no chunk, and a parent
 * table only they need is not read.  Phase 2's passes come in
 * options->scan.order.
 */
ScanPlan *plan_build_skipping(const Catalog *cat, const FkOptions *options, bool tid_ranges,
							  const bool *skip);
void	  plan_free(ScanPlan *plan);

/* A child page range an earlier run finished (--state chunk record). */
typedef struct PlanRecorded
{
	int				   pass; /* ChildPass index */
	const CatRelation *rel;	 /* a leaf of the pass's table */
	int64_t			   first_page;
	int64_t			   end_page; /* -1: open-ended */
	int				   id;		 /* becomes Chunk.recorded */
} PlanRecorded;

/*
 * Replace the child chunks of the passes rec names by the same page ranges
 * cut around the recorded ones, which join them as chunks of their own
 * (Chunk.recorded) in page order.  rec: no two ranges of a leaf overlap.
 */
void plan_apply_recorded(ScanPlan *plan, const PlanRecorded *rec, int nrec);

/*
 * Append the chunk's ctid predicate, introduced by conj (" WHERE " or
 * " AND "); nothing for a whole relation.
 */
struct StrBuf;
void plan_append_chunk_predicate(struct StrBuf *sql, const Chunk *chunk, const char *conj);

#endif /* FKSCAN_PLAN_H */
