/*
 * stateint.h
 *	  Inside the --state file (state.h is its contract): the records in
 *	  memory, shared by state.c (open, take, record, close) and
 *	  state_read.c (the file's text parsed back, a torn tail cut off).
 */
#ifndef FKSCAN_STATEINT_H
#define FKSCAN_STATEINT_H

#include <pthread.h>

#include "fkscan/state.h"
#include "fkscan/strbuf.h"

#define STATE_MAGIC	  "fkscan-state"
#define STATE_VERSION 4

typedef struct StateStep
{
	int		 depth;
	Oid		 via;
	Oid		 table;
	char	 action;
	uint64_t rows;
} StateStep;

typedef struct StateRecord
{
	Oid			  oid;
	char		**fields; /* the fk line's fields */
	int			  nfields;
	OrphanSample *samples;
	int			  nsamples;
	StateStep	 *steps;
	int			  nsteps;
	bool		  compared;
	bool		  agree;
	double		  compare_elapsed_s;
	uint64_t	  compare_rows;
	uint64_t	  compare_keys;
	bool		  taken;
} StateRecord;

struct StateFile
{
	char		   *path;
	int				fd;
	StateRecord	   *recs;
	int				nrecs;
	int				cap;
	StateChunk	   *chunks;
	int				nchunks;
	int				chunks_cap;
	pthread_mutex_t write_lock; /* one record at a time */
};

/* The fk line's fields, by position. */
enum
{
	F_TAG,
	F_OID,
	F_SCHEMA,
	F_TABLE,
	F_CONSTRAINT,
	F_STATUS,
	F_METHOD,
	F_CHILD_ROWS,
	F_NULL_ROWS,
	F_PARTIAL_NULL_ROWS,
	F_ORPHAN_ROWS,
	F_ORPHAN_KEYS,
	F_ELAPSED,
	F_SNAPSHOT,
	F_FINISHED_AT,
	F_COUNT
};

/* state_read.c */
bool parse_u64(const char *s, uint64_t *out);
bool parse_double(const char *s, double *out);
void record_free(StateRecord *r);
void chunk_free(StateChunk *c);
bool read_all(int fd, StrBuf *b);

/*
 * The file's text into st; false (logged) if it is not a state file for
 * this database and selection.  *valid_end: where the last complete record
 * ends (what follows was torn by a crash).
 */
bool parse_state(StateFile *st, const StrBuf *text, const char *database, const char *sel,
				 size_t *valid_end);

#endif /* FKSCAN_STATEINT_H */
