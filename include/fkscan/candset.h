/*
 * candset.h
 *	  Candidate orphan keys of one FK: distinct keys, by fingerprint, with
 *	  the raw child values (to confirm them on the server) and row counts.
 *
 * Used on the client-hash path, where a key missing from the parent
 * fingerprints is only a candidate until the server's own operator says so.
 * Candidates are rare (orphans), so this favours simplicity over speed.
 * One writer at a time; merge per-worker sets at the end of a phase.
 */
#ifndef FKSCAN_CANDSET_H
#define FKSCAN_CANDSET_H

#include "fkscan/copybin.h"
#include "fkscan/hset128.h"

typedef struct CandSet CandSet;

CandSet *candset_create(int nkeys);
void	 candset_free(CandSet *s); /* NULL is a no-op */

/*
 * Count one more row with key fingerprint h; the first time, keep the key's
 * raw values fields[cols[0..nkeys-1]].  Returns the candidate's index.
 */
uint32_t candset_add(CandSet *s, Hash128 h, const CopyField *fields, const int *cols);

/* The same for rows rows at once (a --state chunk record's candidate). */
uint32_t candset_add_rows(CandSet *s, Hash128 h, const CopyField *fields, const int *cols,
						  uint64_t rows);

/* Add src's candidates and counts to dst. */
void candset_merge_inplace(CandSet *dst, const CandSet *src);

int		 candset_nkeys(const CandSet *s);
uint32_t candset_size(const CandSet *s);
uint64_t candset_rows(const CandSet *s, uint32_t i);
Hash128	 candset_hash(const CandSet *s, uint32_t i);

/* Index of fingerprint h, or UINT32_MAX. */
uint32_t candset_find(const CandSet *s, Hash128 h);

/* Raw value of key column col of candidate i (borrowed). */
const uint8_t *candset_value(const CandSet *s, uint32_t i, int col, int32_t *len);

#endif /* FKSCAN_CANDSET_H */
