/*
 * hset128.h
 *	  A growing set of 128-bit fingerprints (keyenc_fingerprint: XXH3-128
 *	  of a key's canonical bytes, or the key itself where it fits), and the
 *	  hash: an FK's orphan keys, cascade tracing.  Parent sets, built once and
 *	  probed millions of times, are fpset.h's.
 *
 * Open addressing with linear probing over 16-byte slots; the table stays
 * at most three quarters full, so memory is 21 to 43 bytes per value.  Pass the
 * expected number of values to create when it is known (reltuples): growing
 * by doubling costs about twice the build of a table sized up front.  A
 * 128-bit fingerprint can hide an orphan only by a collision: with n parent
 * keys and m child keys, probability about n*m / 2^128.  Candidates are
 * confirmed on the server anyway.
 *
 * Lifecycle: create -> add/add_many (one thread) -> (read-only)
 * contains/probe_missing from any number of threads -> free.
 */
#ifndef FKSCAN_HSET128_H
#define FKSCAN_HSET128_H

#include <stddef.h>
#include <stdint.h>

#include "fkscan/common.h"

typedef struct Hash128
{
	uint64_t lo;
	uint64_t hi;
} Hash128;

static inline bool
hash128_equal(Hash128 a, Hash128 b)
{
	return a.lo == b.lo && a.hi == b.hi;
}

/*
 * 64 well-mixed bits of a fingerprint.  Exact fingerprints (keyenc.h) are
 * raw values, uuids or small integers, not hashes: every choice made from a
 * fingerprint's bits takes them from here.  fpset's parts and buckets use
 * the top bits; a key pass and a slot here the low ones.
 */
static inline uint64_t
hash128_mix(Hash128 h)
{
	uint64_t x = h.lo ^ (h.hi * 0x9E3779B97F4A7C15ULL);

	x ^= x >> 32;
	x *= 0xD6E8FEB86659FD93ULL;
	x ^= x >> 32;
	return x;
}

typedef struct HSet128 HSet128;

/* capacity_hint: values expected (0 if unknown), held without a resize. */
HSet128 *hset128_create(size_t capacity_hint);
void	 hset128_free(HSet128 *s); /* NULL is a no-op */

/* Returns true if h was not in the set before. */
bool hset128_add(HSet128 *s, Hash128 h);
bool hset128_contains(const HSet128 *s, Hash128 h);

/*
 * Batch forms of add and contains, for the hot paths: they prefetch the
 * slots of the hashes a few places ahead, so that the cache misses of a
 * table bigger than the cache overlap instead of queueing.
 * probe_missing writes the indexes of the hashes NOT in the set to missing
 * (caller gives room for n) in increasing order, and returns how many.
 */
void   hset128_add_many(HSet128 *s, const Hash128 *h, size_t n);
size_t hset128_probe_missing(const HSet128 *s, const Hash128 *h, size_t n, uint32_t *missing);

size_t hset128_size(const HSet128 *s);
size_t hset128_memory_bytes(const HSet128 *s);

/* Hash bytes with XXH3-128 (the one hash fkscan uses). */
Hash128 hset128_hash(const void *data, size_t len);

#endif /* FKSCAN_HSET128_H */
