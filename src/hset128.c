/*
 * hset128.c
 *	  Set of 128-bit fingerprints: open addressing with linear probing.
 *
 * Slots are the 16-byte fingerprints themselves, so a probe touches one
 * cache line in the common case and there is no pointer to chase.  The
 * all-zero value marks a free slot; the one fingerprint that is all zero
 * is kept in a flag instead.  The slot is the low bits of hash128_mix: an
 * exact fingerprint (a uuid, two integers) is not a hash.  Capacity is a
 * power of two and the table at most three quarters full: with linear
 * probing a hit then looks at 2.5 slots on average and a miss at 8.5, four
 * to a cache line.  The batch calls prefetch the slot 16 places ahead, so
 * that the cache misses of a big table overlap (bench/bench_keyset.c (d):
 * 5M uuids, about 26 ns a probe against 54 in a contains() loop).
 */
#include "fkscan/hset128.h"

#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fkscan/mem.h"

#define HSET_MIN_CAPACITY 16

/* At most three quarters full (see above). */
static inline bool
holds(size_t capacity, size_t n)
{
	return n <= capacity / 4 * 3;
}

struct HSet128
{
	Hash128 *slots;
	size_t	 mask; /* capacity - 1 */
	size_t	 used; /* occupied slots (the zero value excluded) */
	bool	 has_zero;
};

static inline bool
hash_is_zero(Hash128 h)
{
	return (h.lo | h.hi) == 0;
}

/* Insert a nonzero h known to be absent; there is a free slot. */
static void
slots_insert(Hash128 *slots, size_t mask, Hash128 h)
{
	size_t i = (size_t) hash128_mix(h) & mask;

	while (!hash_is_zero(slots[i]))
		i = (i + 1) & mask;
	slots[i] = h;
}

static void
hset_resize(HSet128 *s, size_t capacity)
{
	Hash128 *old = s->slots;
	size_t	 oldcap = s->mask + 1;
	Hash128 *slots = fk_calloc(capacity, sizeof(Hash128));

	for (size_t i = 0; i < oldcap; i++)
		if (!hash_is_zero(old[i]))
			slots_insert(slots, capacity - 1, old[i]);
	free(old);
	s->slots = slots;
	s->mask = capacity - 1;
}

HSet128 *
hset128_create(size_t capacity_hint)
{
	HSet128 *s = fk_calloc(1, sizeof(HSet128));
	size_t	 capacity = HSET_MIN_CAPACITY;

	/* Room for capacity_hint values without a resize. */
	while (!holds(capacity, capacity_hint) && capacity <= SIZE_MAX / 4)
		capacity *= 2;
	s->slots = fk_calloc(capacity, sizeof(Hash128));
	s->mask = capacity - 1;
	return s;
}

void
hset128_free(HSet128 *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s);
}

bool
hset128_add(HSet128 *s, Hash128 h)
{
	size_t i;

	if (hash_is_zero(h))
	{
		bool added = !s->has_zero;

		s->has_zero = true;
		return added;
	}
	for (i = (size_t) hash128_mix(h) & s->mask; !hash_is_zero(s->slots[i]); i = (i + 1) & s->mask)
	{
		if (hash128_equal(s->slots[i], h))
			return false;
	}
	s->slots[i] = h;
	s->used++;
	if (!holds(s->mask + 1, s->used))
		hset_resize(s, (s->mask + 1) * 2);
	return true;
}

/* Is nonzero h in the table, from its home slot i? */
static inline bool
slots_contain(const HSet128 *s, size_t i, Hash128 h)
{
	for (; !hash_is_zero(s->slots[i]); i = (i + 1) & s->mask)
	{
		if (hash128_equal(s->slots[i], h))
			return true;
	}
	return false;
}

bool
hset128_contains(const HSet128 *s, Hash128 h)
{
	if (hash_is_zero(h))
		return s->has_zero;
	return slots_contain(s, (size_t) hash128_mix(h) & s->mask, h);
}

/* How many hashes ahead the batch calls prefetch a slot. */
#define HSET_PREFETCH 16

void
hset128_add_many(HSet128 *s, const Hash128 *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		/* A resize in between only makes the prefetch useless, not wrong. */
		if (i + HSET_PREFETCH < n)
			__builtin_prefetch(&s->slots[(size_t) hash128_mix(h[i + HSET_PREFETCH]) & s->mask], 1);
		hset128_add(s, h[i]);
	}
}

size_t
hset128_probe_missing(const HSet128 *s, const Hash128 *h, size_t n, uint32_t *missing)
{
	size_t nmissing = 0;
	size_t home[HSET_PREFETCH];

	/* each slot computed once, HSET_PREFETCH keys ahead: prefetched, then probed */
	for (size_t i = 0; i < n + HSET_PREFETCH; i++)
	{
		size_t j = i % HSET_PREFETCH;

		if (i >= HSET_PREFETCH)
		{
			size_t k = i - HSET_PREFETCH;

			missing[nmissing] = (uint32_t) k;
			nmissing += hash_is_zero(h[k]) ? !s->has_zero : !slots_contain(s, home[j], h[k]);
		}
		if (i < n)
		{
			home[j] = (size_t) hash128_mix(h[i]) & s->mask;
			__builtin_prefetch(&s->slots[home[j]]);
		}
	}
	return nmissing;
}

size_t
hset128_size(const HSet128 *s)
{
	return s->used + (s->has_zero ? 1 : 0);
}

size_t
hset128_memory_bytes(const HSet128 *s)
{
	return sizeof(HSet128) + (s->mask + 1) * sizeof(Hash128);
}

Hash128
hset128_hash(const void *data, size_t len)
{
	XXH128_hash_t x = XXH3_128bits(data, len);
	Hash128		  h = {x.low64, x.high64};

	return h;
}
