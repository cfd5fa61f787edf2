/*
 * rb64.h
 *	  A 64-bit roaring set of int64 keys, built on CRoaring 0.2.66's 32-bit
 *	  bitmaps (Debian ships no roaring64).  The building block of keyset.h;
 *	  the rest of fkscan should use KeySet64, which also knows when a flat
 *	  bitset beats it.
 *
 * A key k is stored as u = (uint64) k ^ 2^63, so that unsigned order is
 * signed order.  The high 32 bits of u select a bucket, the low 32 bits go
 * into the bucket's bitmap.  A bucket holding a single key keeps it inline
 * and has no bitmap at all; freeze may turn a bucket into a flat bitset or
 * a sorted array, which probe several times faster than CRoaring.
 *
 * Thread-safety: none while building.  Once nothing modifies the set any
 * more (typically after rb64_freeze), contains, probe_missing, iterate and
 * the accessors only read it and may run from any number of threads.
 *
 * Failure: out of memory ends the program (mem.h); CRoaring allocation
 * failures are treated the same way.
 */
#ifndef FKSCAN_RB64_H
#define FKSCAN_RB64_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"

typedef struct Roaring64 Roaring64;

Roaring64 *rb64_create(void);
void	   rb64_free(Roaring64 *r); /* NULL is a no-op */

void rb64_add(Roaring64 *r, int64_t key);

/* Add n keys; runs of keys sharing their high 32 bits go in one call. */
void rb64_add_many(Roaring64 *r, const int64_t *keys, size_t n);

/* dst |= src, bucket by bucket; src is unchanged. */
void rb64_or_inplace(Roaring64 *dst, const Roaring64 *src);

/*
 * Make the set read-only and fast to probe: sort the buckets and index them
 * with a directory, and give each bucket the fastest probe structure its
 * memory allows (a flat bitset, a sorted array with a directory, or the
 * run-optimized CRoaring bitmap; see rb64.c).  With convert false, buckets
 * keep their CRoaring bitmaps (for tests and benchmarks).  Adding or
 * merging afterwards is a programming error (asserted).  Twice is a no-op.
 */
void rb64_freeze(Roaring64 *r, bool convert);

bool rb64_contains(const Roaring64 *r, int64_t key);

/*
 * Probe n keys; write the indexes of the keys NOT in the set to missing
 * (room for n) in increasing order, and return how many.  Keeps its caches
 * in local variables: safe to call from several threads at once.
 */
size_t rb64_probe_missing(const Roaring64 *r, const int64_t *keys, size_t n, uint32_t *missing);

uint64_t rb64_cardinality(const Roaring64 *r);

/* Smallest and largest key; false (and *min, *max untouched) if empty. */
bool rb64_range(const Roaring64 *r, int64_t *min, int64_t *max);

/* Estimated heap bytes: bucket array, index, bitmaps with their containers. */
size_t rb64_memory_bytes(const Roaring64 *r);

/* How the buckets are stored: for tests, and for logging a set's shape. */
typedef struct Rb64Stats
{
	uint32_t buckets;
	uint32_t singletons; /* one key, kept inline */
	uint32_t roaring;	 /* CRoaring bitmaps */
	uint32_t bitsets;	 /* flat bitsets (frozen only) */
	uint32_t sorted16;	 /* sorted arrays of 16-bit values (frozen only) */
	uint32_t sorted32;	 /* sorted arrays of 32-bit values (frozen only) */
} Rb64Stats;

void rb64_stats(const Roaring64 *r, Rb64Stats *stats);

/*
 * Set bit (key - min) in words for every key: the conversion to a flat
 * bitset.  words must be zeroed and cover max - min + 1 bits (rb64_range).
 */
void rb64_fill_bitset(const Roaring64 *r, int64_t min, uint64_t *words);

/*
 * Visit keys in ascending order; fn returns false to stop early, and then
 * so do we (returning false).  Before rb64_freeze this sorts a temporary
 * copy of the bucket order.
 */
typedef bool (*Rb64IterFn)(int64_t key, void *ctx);
bool rb64_iterate(const Roaring64 *r, Rb64IterFn fn, void *ctx);

#endif /* FKSCAN_RB64_H */
