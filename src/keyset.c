/*
 * keyset.c
 *	  The integer key set: a 64-bit roaring set (rb64.c) while it is built,
 *	  and at freeze the fastest read-only probe structure for its shape.
 *
 * The probe is the hot path of a scan: every child row's key goes through
 * keyset64_probe_missing, on a machine whose cores the server needs too.
 * When the keys are dense enough (one 64-bit word or less per key over
 * [min, max], and at most 512 MB) freeze turns the set into a flat bitset:
 * one subtraction, one bounds check, one load and a shift per key.  Serial
 * keys land here, and 5M of them are a 0.6 MB bitset that stays in cache.
 * Sparser sets stay roaring (rb64.c): memory proportional to the keys, a
 * bucket lookup per key when the high 32 bits change, and inside a bucket a
 * bitset if the bucket alone is dense, else a sorted array behind a small
 * directory (about two cache lines a probe), else the CRoaring bitmap.
 * Both probe loops prefetch a few keys ahead (the bitset's only when it is
 * over 1 MB), so that sets bigger than the cache cost a fraction of a miss
 * per key rather than a whole one.
 *
 * Bitset positions are taken on the flipped key u = (uint64) key ^ 2^63, so
 * [min, max] is an unsigned range and max - min cannot overflow, even for
 * INT64_MIN and INT64_MAX together.
 */
#include "fkscan/keyset.h"

#include <assert.h>
#include <stdlib.h>

#include "fkscan/mem.h"
#include "fkscan/rb64.h"

#define KEYSET_SIGN_BIT UINT64_C(0x8000000000000000)

/* A bitset may spend at most one 64-bit word per key and 2^32 bits (512 MB). */
#define KEYSET_BITSET_MAX_BITS (UINT64_C(1) << 32)

typedef enum KeySetMethod
{
	KEYSET_BUILDING,
	KEYSET_ROARING,
	KEYSET_BITMAP
} KeySetMethod;

struct KeySet64
{
	KeySetMethod method;
	Roaring64	*rb;	/* the keys, except in KEYSET_BITMAP */
	uint64_t	*words; /* KEYSET_BITMAP: bit u - base */
	uint64_t	 base;	/* flipped smallest key */
	uint64_t	 nbits; /* flipped max - min + 1 */
	uint64_t	 card;	/* once frozen */
};

static inline uint64_t
key_flip(int64_t key)
{
	return (uint64_t) key ^ KEYSET_SIGN_BIT;
}

KeySet64 *
keyset64_create(void)
{
	KeySet64 *s = fk_calloc(1, sizeof(KeySet64));

	s->method = KEYSET_BUILDING;
	s->rb = rb64_create();
	return s;
}

void
keyset64_free(KeySet64 *s)
{
	if (s == NULL)
		return;
	rb64_free(s->rb);
	free(s->words);
	free(s);
}

void
keyset64_add(KeySet64 *s, int64_t key)
{
	assert(s->method == KEYSET_BUILDING);
	rb64_add(s->rb, key);
}

void
keyset64_add_many(KeySet64 *s, const int64_t *keys, size_t n)
{
	assert(s->method == KEYSET_BUILDING);
	rb64_add_many(s->rb, keys, n);
}

void
keyset64_merge_inplace(KeySet64 *dst, const KeySet64 *src)
{
	assert(dst->method == KEYSET_BUILDING && src->method == KEYSET_BUILDING);
	rb64_or_inplace(dst->rb, src->rb);
}

static void
freeze_as(KeySet64 *s, bool convert)
{
	int64_t	 min;
	int64_t	 max;
	uint64_t span;

	if (s->method != KEYSET_BUILDING)
		return;
	s->card = rb64_cardinality(s->rb);
	if (convert && rb64_range(s->rb, &min, &max))
	{
		span = key_flip(max) - key_flip(min); /* nbits - 1: no overflow */
		if (span < KEYSET_BITSET_MAX_BITS && span / 64 + 1 <= s->card)
		{
			s->base = key_flip(min);
			s->nbits = span + 1;
			s->words = fk_calloc(span / 64 + 1, sizeof(uint64_t));
			rb64_fill_bitset(s->rb, min, s->words);
			/* The bitset answers everything: give the bitmaps back. */
			rb64_free(s->rb);
			s->rb = NULL;
			s->method = KEYSET_BITMAP;
			return;
		}
	}
	rb64_freeze(s->rb, convert);
	s->method = KEYSET_ROARING;
}

void
keyset64_freeze(KeySet64 *s)
{
	freeze_as(s, true);
}

void
keyset64_freeze_roaring_only(KeySet64 *s)
{
	freeze_as(s, false);
}

static inline bool
bitset_contains(const KeySet64 *s, int64_t key)
{
	uint64_t bit = key_flip(key) - s->base;

	return bit < s->nbits && (s->words[bit >> 6] >> (bit & 63)) & 1;
}

bool
keyset64_contains(const KeySet64 *s, int64_t key)
{
	if (s->method == KEYSET_BITMAP)
		return bitset_contains(s, key);
	return rb64_contains(s->rb, key);
}

/* How many keys ahead the bitset probe prefetches, for bitsets over 1 MB. */
#define KEYSET_PREFETCH			   16
#define KEYSET_PREFETCH_ABOVE_BITS (UINT64_C(8) << 20)

size_t
keyset64_probe_missing(const KeySet64 *s, const int64_t *keys, size_t n, uint32_t *missing)
{
	const uint64_t *words = s->words;
	uint64_t		base = s->base;
	uint64_t		nbits = s->nbits;
	size_t			nmissing = 0;

	if (s->method != KEYSET_BITMAP)
		return rb64_probe_missing(s->rb, keys, n, missing);

	/*
	 * A bitset the core's L2 holds (5M dense keys: 0.6 MB) gains nothing
	 * from prefetching, the loads being independent: the same loop without
	 * it, a third fewer instructions a key.
	 */
	if (nbits <= KEYSET_PREFETCH_ABOVE_BITS)
	{
		for (size_t i = 0; i < n; i++)
		{
			uint64_t bit = key_flip(keys[i]) - base;
			bool	 inside = bit < nbits;
			uint64_t word = words[inside ? bit >> 6 : 0];

			missing[nmissing] = (uint32_t) i;
			nmissing += !(inside & (word >> (bit & 63)));
		}
		return nmissing;
	}

	/*
	 * Write every index and advance only on a miss: no branch on the
	 * outcome.  An out-of-range key reads word 0 instead, harmlessly.  The
	 * prefetch hides most of the miss of a bitset beyond the cache (a 40 MB
	 * one: 8 ns a key without, 3.4 with).
	 */
	for (size_t i = 0; i < n; i++)
	{
		uint64_t bit = key_flip(keys[i]) - base;
		bool	 inside = bit < nbits;
		uint64_t word;

		if (i + KEYSET_PREFETCH < n)
		{
			uint64_t ahead = key_flip(keys[i + KEYSET_PREFETCH]) - base;

			if (ahead < nbits)
				__builtin_prefetch(&words[ahead >> 6]);
		}
		word = words[inside ? bit >> 6 : 0];
		missing[nmissing] = (uint32_t) i;
		nmissing += !(inside & (word >> (bit & 63)));
	}
	return nmissing;
}

uint64_t
keyset64_cardinality(const KeySet64 *s)
{
	if (s->method == KEYSET_BUILDING)
		return rb64_cardinality(s->rb);
	return s->card;
}

size_t
keyset64_memory_bytes(const KeySet64 *s)
{
	size_t bytes = sizeof(KeySet64);

	if (s->words)
		bytes += (size_t) ((s->nbits + 63) / 64) * sizeof(uint64_t);
	if (s->rb)
		bytes += rb64_memory_bytes(s->rb);
	return bytes;
}

bool
keyset64_is_bitmap(const KeySet64 *s)
{
	return s->method == KEYSET_BITMAP;
}

const char *
keyset64_method(const KeySet64 *s)
{
	return keyset64_is_bitmap(s) ? "bitmap" : "roaring";
}

static bool
bitset_iterate(const KeySet64 *s, KeySet64IterFn fn, void *ctx)
{
	uint64_t nwords = (s->nbits + 63) / 64;

	for (uint64_t w = 0; w < nwords; w++)
	{
		uint64_t word = s->words[w];

		while (word != 0)
		{
			uint64_t u = s->base + w * 64 + (uint64_t) __builtin_ctzll(word);

			if (!fn((int64_t) (u ^ KEYSET_SIGN_BIT), ctx))
				return false;
			word &= word - 1;
		}
	}
	return true;
}

bool
keyset64_iterate(const KeySet64 *s, KeySet64IterFn fn, void *ctx)
{
	if (s->method == KEYSET_BITMAP)
		return bitset_iterate(s, fn, ctx);
	return rb64_iterate(s->rb, fn, ctx);
}
