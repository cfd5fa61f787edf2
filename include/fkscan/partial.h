/*
 * partial.h
 *	  One FK's findings in a part of its child rows: a chunk, a worker's
 *	  chunks, or the chunks an earlier run recorded (--state).  The scan
 *	  sums them into the FK's result when its last chunk is done.
 */
#ifndef FKSCAN_PARTIAL_H
#define FKSCAN_PARTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fkscan/candset.h"
#include "fkscan/hset128.h"
#include "fkscan/keyset.h"

/* Where an orphan row was seen, to fetch it as a sample at the end. */
typedef struct SampleRef
{
	int		 chunk;	  /* index into plan->child_chunks */
	uint64_t ordinal; /* row number within the chunk */
	int64_t	 key;	  /* integer FKs */
	Hash128	 hash;	  /* hashed FKs: the candidate's fingerprint */
	bool	 partial; /* a MATCH FULL row mixing NULLs and values */
} SampleRef;

typedef struct FkPartial
{
	uint64_t   child_rows;
	uint64_t   null_rows;
	uint64_t   partial_null_rows;
	uint64_t   orphan_rows; /* integer FKs; hashed ones count after confirmation */
	KeySet64  *orphans;		/* integer FKs: distinct orphan keys */
	CandSet	  *cands;		/* hashed FKs: candidate orphan keys */
	SampleRef *samples;		/* first orphans (candidates) in chunk order */
	int		   nsamples;
	int64_t	  *olist; /* a recorded chunk's integer orphans, row by row */
	size_t	   nolist;
	int		   olcap;
} FkPartial;

/* Add src's findings to dst's; samples stay the first ones, up to sample_cap. */
void partial_merge(FkPartial *dst, const FkPartial *src, int sample_cap);

/* What it owns (not the struct itself). */
void partial_free(FkPartial *p);

#endif /* FKSCAN_PARTIAL_H */
