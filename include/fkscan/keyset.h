/*
 * keyset.h
 *	  The integer key set: a 64-bit roaring set while it is built, frozen
 *	  into the fastest read-only probe structure for its shape.
 *
 * Lifecycle: create -> add/add_many (one thread) -> merge_inplace (partials
 * of several workers into one) -> freeze -> probe from any number of threads
 * -> free.  Adding after freeze is a programming error (asserted).
 *
 * Built on CRoaring 0.2.66's 32-bit bitmaps (Debian has no roaring64): the
 * high 32 bits of the key (sign bit flipped, so that unsigned order is
 * signed order) select a bitmap, the low 32 bits go into it.
 *
 * freeze() picks the probe structure: a flat bitset over [min, max] when it
 * is dense enough (at most 64 bits per key, and at most 512 MB), otherwise
 * the 64-bit roaring set (rb64.h), whose buckets of 2^32 keys become
 * bitsets or sorted arrays where that probes faster.  A 5M-key dense set is
 * a 0.6 MB bitset: cache resident, one load and a shift per probe.
 */
#ifndef FKSCAN_KEYSET_H
#define FKSCAN_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"

typedef struct KeySet64 KeySet64;

KeySet64 *keyset64_create(void);
void	  keyset64_free(KeySet64 *s); /* NULL is a no-op */

void keyset64_add(KeySet64 *s, int64_t key);
void keyset64_add_many(KeySet64 *s, const int64_t *keys, size_t n);

/* dst |= src; src is unchanged.  Neither may be frozen. */
void keyset64_merge_inplace(KeySet64 *dst, const KeySet64 *src);

/*
 * Make read-only and choose the probe structure (see keyset64_method).
 * Freezing twice is a no-op; an empty set freezes fine and misses every key.
 */
void keyset64_freeze(KeySet64 *s);

/*
 * Freeze, but keep the CRoaring bitmaps as they are: no flat bitset for the
 * whole set, and no bitset or sorted array for a bucket.  For tests and
 * benchmarks that exercise the CRoaring probe (on dense data, say).
 */
void keyset64_freeze_roaring_only(KeySet64 *s);

/* Probes; work before and after freeze (faster after). */
bool keyset64_contains(const KeySet64 *s, int64_t key);

/*
 * Probe n keys; write the indexes of the keys NOT in the set to missing
 * (caller gives room for n) in increasing order, and return how many.
 */
size_t keyset64_probe_missing(const KeySet64 *s, const int64_t *keys, size_t n, uint32_t *missing);

uint64_t keyset64_cardinality(const KeySet64 *s);
size_t	 keyset64_memory_bytes(const KeySet64 *s);

/* "bitmap" (flat bitset) or "roaring" once frozen; "roaring" before. */
const char *keyset64_method(const KeySet64 *s);
bool		keyset64_is_bitmap(const KeySet64 *s);

/* Visit keys in ascending (signed) order; fn returns false to stop early. */
typedef bool (*KeySet64IterFn)(int64_t key, void *ctx);
bool keyset64_iterate(const KeySet64 *s, KeySet64IterFn fn, void *ctx);

#endif /* FKSCAN_KEYSET_H */
