/*
 * fpset.h
 *	  A parent key set of fingerprints (keyenc_fingerprint), built once and
 *	  probed many times: 16 bytes a key and a small index, about half what a
 *	  hash table that must stay three quarters empty takes.
 *
 * Lifecycle: create -> add_many (one thread per set) -> merge_inplace
 * (moves the partials of several workers into one) -> freeze (whole, or by
 * parts on several threads) -> probe from any number of threads -> free.
 * Adding after freeze is a programming error (asserted); probing before
 * freeze finds nothing.
 *
 * While it is built a set is a list of blocks per part (the top bits of
 * hash128_mix): appending never copies.  freeze() moves each part into
 * its own stretch of one array, grouped by bucket (more top bits, about
 * eight keys a bucket) behind an index of bucket starts, unmapping the
 * part's blocks as it goes: the peak is the array plus a part per thread.
 * A probe reads the index and then one bucket, two cache misses that the
 * batch probe overlaps.
 * A set of pairs of int32 values, one half of a small range (the exact
 * fingerprints of (region, id) keys), is frozen into a KeySet64 of the
 * pairs packed into one int64 instead: a probe as cheap as an integer key's.
 */
#ifndef FKSCAN_FPSET_H
#define FKSCAN_FPSET_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"
#include "fkscan/hset128.h"

typedef struct FpSet FpSet;

FpSet *fpset_create(void);
void   fpset_free(FpSet *s); /* NULL is a no-op */

void fpset_add_many(FpSet *s, const Hash128 *h, size_t n);

/* dst gains every value of src, which is left empty; neither frozen. */
void fpset_merge_inplace(FpSet *dst, FpSet *src);

/* Make read-only and build the index; twice is a no-op. */
void fpset_freeze(FpSet *s);

/*
 * The same on several threads: begin returns how many parts are left to
 * freeze (0: done already, e.g. packed); each part in [0, that) is then
 * frozen once, from any thread, distinct parts at the same time; end, on
 * one thread once they all are, finishes.  The parts' blocks go as they
 * are frozen.
 */
int	 fpset_freeze_begin(FpSet *s);
void fpset_freeze_part(FpSet *s, int part);
void fpset_freeze_end(FpSet *s);

bool fpset_contains(const FpSet *s, Hash128 h);

/*
 * Probe n fingerprints; write the indexes of those NOT in the set to
 * missing (caller gives room for n) in increasing order, and return how many.
 */
size_t fpset_probe_missing(const FpSet *s, const Hash128 *h, size_t n, uint32_t *missing);

/* Frozen into packed integers (see above). */
bool fpset_is_packed(const FpSet *s);
/* Fingerprints held (a value added twice counts once once frozen). */
size_t fpset_size(const FpSet *s);
size_t fpset_memory_bytes(const FpSet *s);

#endif /* FKSCAN_FPSET_H */
