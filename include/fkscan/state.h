/*
 * state.h
 *	  The --state file of a long sweep: each finished FK's final result,
 *	  so that a later run with the same file skips it (resume).
 *
 * A versioned, line-based, append-only text file.  The header (written
 * whole, then renamed into place) names the database and a hash of the
 * options that decide the results (filters, --sample, --compare); a file
 * written for another database or selection is refused.  Then one record
 * per finished FK, appended with one write() and fsync()ed: its counts,
 * samples, cascade chain, compare figures, and the snapshot it was read
 * on.  A record counts only with its closing "end" line, so a kill -9
 * mid-write loses that FK alone (the torn tail is cut off on the next
 * open).  Only FKs whose result is final (clean or orphans) are recorded;
 * errors and incomplete FKs are read again.  A child table read in several
 * chunks also gets a record per finished chunk (its page range, counts,
 * and the orphan keys themselves: distinct keys do not add up), so a kill
 * loses only the chunks in flight; an FK's record supersedes them.
 *
 * Only the two record functions may be called from several threads.
 */
#ifndef FKSCAN_STATE_H
#define FKSCAN_STATE_H

#include "fkscan/candset.h"
#include "fkscan/catalog.h"
#include "fkscan/options.h"
#include "fkscan/result.h"

typedef struct StateFile StateFile;

/*
 * Open path for this run, creating it if it does not exist.  NULL on a
 * file that cannot be read or written, is not a state file, or belongs to
 * another database or selection (logged, with a hint).
 */
StateFile *state_open(const char *path, const char *database, const FkOptions *options);

/*
 * The recorded result of fk, into r (counts, samples, cascade, compare,
 * snapshot; r->resumed set); r->fk, child and parent are the caller's.
 * Cascade steps are resolved in cat, then graph (may be NULL).  False if
 * there is no record for it (by OID and names), or a step cannot be
 * resolved: *need_graph is then set when graph was NULL.
 */
bool state_take_fk(StateFile *st, const CatForeignKey *fk, const Catalog *cat, const Catalog *graph,
				   FkResult *r, bool *need_graph);

/* Append r's record and fsync; false (logged) if it could not be written. */
bool state_record_fk(StateFile *st, const FkResult *r);

/*
 * Chunk records (version 3): a finished child chunk of a pass with more
 * than one chunk, so that a kill -9 loses only the chunks in flight.  Per
 * FK of the pass: its counts, its orphan keys with their rows (integer
 * FKs) or its candidates with raw values and rows (hashed FKs), and the
 * chunk's sample references (row ordinal within the chunk).  An FK record
 * supersedes them: the FK is then not read at all.  A record is reused
 * only for the same table, leaf and filenode: a rewrite between runs
 * (VACUUM FULL, CLUSTER, TRUNCATE, ALTER TYPE) puts other rows on those
 * pages.  Records of versions 1 and 2 carry no filenode: never reused.
 */
typedef struct StateChunkSample
{
	uint64_t ordinal;
	int64_t	 key;	  /* integer FKs */
	Hash128	 hash;	  /* hashed FKs */
	bool	 partial; /* a MATCH FULL row mixing NULLs and values */
} StateChunkSample;

typedef struct StateChunkFk
{
	Oid				  fk;
	uint64_t		  child_rows;
	uint64_t		  null_rows;
	uint64_t		  partial_null_rows;
	uint64_t		  orphan_rows; /* integer FKs */
	int64_t			 *keys;		   /* integer FKs: distinct orphan keys, ascending */
	uint64_t		 *key_rows;	   /* ... and their rows */
	int				  nkeys;
	CandSet			 *cands; /* hashed FKs: the candidates (else NULL) */
	StateChunkSample *samples;
	int				  nsamples;
} StateChunkFk;

typedef struct StateChunk
{
	Oid			  table;	/* the pass's child table */
	Oid			  leaf;		/* the relation read */
	Oid			  filenode; /* its file then (0: unknown, never reused) */
	int64_t		  first_page;
	int64_t		  end_page; /* -1: open-ended */
	char		 *snapshot;
	StateChunkFk *fks;
	int			  nfks;
} StateChunk;

/* Chunk records the file holds (borrowed until state_close). */
int				  state_nchunks(const StateFile *st);
const StateChunk *state_chunk(const StateFile *st, int i);

/*
 * Append c's record and fsync; false (logged) if it could not be written.
 * Thread-safe against itself and state_record_fk.
 */
bool state_record_chunk(StateFile *st, const StateChunk *c);

void state_close(StateFile *st);

#endif /* FKSCAN_STATE_H */
