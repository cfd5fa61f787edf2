/*
 * fpset.c
 *	  Parent fingerprints in blocks while built, in buckets once frozen;
 *	  see fpset.h.
 *
 * 5M uuid parents: a hash table at most three quarters full needs 8M
 * 16-byte slots (128 MB), and the workers' partial tables beside the merged
 * one doubled that (264 MB of client RSS in bench/).  Here the blocks take
 * 16 bytes a key, the frozen array 16 and the index under 1, and the blocks
 * go as the array fills: the peak is about 17 bytes a key.
 *
 * A set whose every fingerprint is two int32 values (the exact key of two
 * integer columns, keyenc.h) is frozen into an integer key set instead, each
 * pair packed into one int64: a composite key of small integers is probed
 * as an integer key is (a few ns from a cache-resident bitset, where the
 * buckets take two cache misses), in a few bytes a key.
 */
#include "fkscan/fpset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/keyset.h"
#include "fkscan/mem.h"

/* Parts: the top PART_BITS bits of a fingerprint's mix. */
#define PART_BITS 4
#define NPARTS	  (1 << PART_BITS)
/*
 * A part's blocks grow with it: the one filling is at most an eighth of the
 * part (slack), and a big set is not thousands of mappings.
 */
#define BLOCK_MIN_BYTES ((size_t) 64 * 1024)
#define BLOCK_MAX_BYTES ((size_t) 16 * 1024 * 1024)
/* Keys per bucket, on average between half this and this. */
#define BUCKET_KEYS 8
/* A bucket this long is sorted to drop duplicates; shorter ones compared. */
#define SORT_BUCKET 32
/* Fingerprints packed at a time for a packed set's probe. */
#define PACK_BATCH 1024

/* How a packed set turns two int32 halves into one int64 (pack). */
typedef struct Packing
{
	bool	 narrow_hi;	 /* the half of smaller range is hi */
	int		 shift;		 /* bits for the narrow half's range */
	int64_t	 narrow_min; /* the parents' smallest narrow half */
	int64_t	 wide_min;
	uint64_t wide_span; /* wide_max - wide_min */
} Packing;

typedef struct Block
{
	struct Block *next;
	size_t		  bytes; /* mapped */
	size_t		  n;
	size_t		  cap;
	Hash128		  keys[];
} Block;

struct FpSet
{
	Block	 *parts[NPARTS];	 /* while built: the first block is the one filling */
	size_t	  part_keys[NPARTS]; /* keys added to each part */
	size_t	  part_at[NPARTS];	 /* freezing: where each part's keys go */
	size_t	  part_end[NPARTS];	 /* and end, duplicates dropped */
	size_t	  nadded;
	size_t	  mapped; /* bytes of blocks */
	bool	  frozen;
	Hash128	 *keys; /* frozen: grouped by bucket */
	size_t	  nkeys;
	size_t	  keys_bytes; /* mapped for keys */
	uint32_t *index;	  /* frozen: bucket b is keys[index[b] .. index[b + 1]) */
	int		  bits;		  /* buckets: the top bits of the mix */
	KeySet64 *packed;	  /* frozen, every fingerprint two int32s: them, packed */
	Packing	  pk;
};

/* Both halves of h are int32 values (sign-extended): two integer columns. */
static inline bool
halves_int32(Hash128 h)
{
	return (int64_t) h.lo == (int32_t) h.lo && (int64_t) h.hi == (int32_t) h.hi;
}

/*
 * h as one int64, (wide - wide_min) << shift | (narrow - narrow_min), if it
 * lies in the parents' ranges (else no parent has it).  The narrow half
 * goes below: child keys in any order then mostly share their top 32 bits,
 * the integer set's bucket, and its probe runs long.
 */
static inline bool
pack(const Packing *pk, Hash128 h, int64_t *out)
{
	uint64_t narrow, wide;

	if (!halves_int32(h))
		return false;
	narrow = (uint64_t) ((int64_t) (pk->narrow_hi ? h.hi : h.lo) - pk->narrow_min);
	wide = (uint64_t) ((int64_t) (pk->narrow_hi ? h.lo : h.hi) - pk->wide_min);
	if (narrow >> pk->shift != 0 || wide > pk->wide_span)
		return false;
	*out = (int64_t) (wide << pk->shift | narrow);
	return true;
}

static inline size_t
bucket_of(const FpSet *s, Hash128 h)
{
	return (size_t) (hash128_mix(h) >> (64 - s->bits));
}

FpSet *
fpset_create(void)
{
	return fk_calloc(1, sizeof(FpSet));
}

static Block *
new_block(FpSet *s, size_t part_keys)
{
	size_t bytes = part_keys / 8 * sizeof(Hash128);
	Block *b;

	if (bytes < BLOCK_MIN_BYTES)
		bytes = BLOCK_MIN_BYTES;
	else if (bytes > BLOCK_MAX_BYTES)
		bytes = BLOCK_MAX_BYTES;
	else
		bytes = (bytes + BLOCK_MIN_BYTES - 1) / BLOCK_MIN_BYTES * BLOCK_MIN_BYTES;
	b = fk_map(bytes);
	b->bytes = bytes;
	b->cap = (bytes - sizeof(Block)) / sizeof(Hash128);
	s->mapped += bytes;
	return b;
}

/* Unmap a list of blocks; returns the bytes. */
static size_t
free_blocks(Block *b)
{
	size_t bytes = 0;

	while (b)
	{
		Block *next = b->next;

		bytes += b->bytes;
		fk_unmap(b, b->bytes);
		b = next;
	}
	return bytes;
}

void
fpset_free(FpSet *s)
{
	if (s == NULL)
		return;
	for (int p = 0; p < NPARTS; p++)
		free_blocks(s->parts[p]);
	fk_unmap(s->keys, s->keys_bytes);
	free(s->index);
	keyset64_free(s->packed);
	free(s);
}

void
fpset_add_many(FpSet *s, const Hash128 *h, size_t n)
{
	assert(!s->frozen);
	for (size_t i = 0; i < n; i++)
	{
		size_t	p = hash128_mix(h[i]) >> (64 - PART_BITS);
		Block **part = &s->parts[p];

		if (*part == NULL || (*part)->n == (*part)->cap)
		{
			Block *b = new_block(s, s->part_keys[p]);

			b->next = *part;
			*part = b;
		}
		(*part)->keys[(*part)->n++] = h[i];
		s->part_keys[p]++;
	}
	s->nadded += n;
}

void
fpset_merge_inplace(FpSet *dst, FpSet *src)
{
	assert(!dst->frozen && !src->frozen);
	for (int p = 0; p < NPARTS; p++)
	{
		Block *b = src->parts[p];

		while (b)
		{
			Block *next = b->next;

			/* behind dst's filling block, which stays first */
			if (dst->parts[p])
			{
				b->next = dst->parts[p]->next;
				dst->parts[p]->next = b;
			}
			else
			{
				b->next = NULL;
				dst->parts[p] = b;
			}
			b = next;
		}
		src->parts[p] = NULL;
		dst->part_keys[p] += src->part_keys[p];
		src->part_keys[p] = 0;
	}
	dst->nadded += src->nadded;
	dst->mapped += src->mapped;
	src->nadded = 0;
	src->mapped = 0;
}

static int
compare_hash(const void *a, const void *b)
{
	const Hash128 *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* keys[from, to) without duplicates, moved to keys[at...); returns the end. */
static size_t
compact_bucket(Hash128 *keys, size_t from, size_t to, size_t at)
{
	size_t start = at;

	if (to - from > SORT_BUCKET)
	{
		qsort(keys + from, to - from, sizeof(Hash128), compare_hash);
		for (size_t i = from; i < to; i++)
			if (at == start || !hash128_equal(keys[at - 1], keys[i]))
				keys[at++] = keys[i];
		return at;
	}
	for (size_t i = from; i < to; i++)
	{
		size_t j = start;

		while (j < at && !hash128_equal(keys[j], keys[i]))
			j++;
		if (j == at)
			keys[at++] = keys[i];
	}
	return at;
}

/*
 * Part p's blocks into keys[part_at[p]...], by bucket, duplicates dropped;
 * its buckets' starts into the index, its end into part_end[p].  Touches
 * nothing another part's freezing does: mapped is settled in freeze_end.
 */
void
fpset_freeze_part(FpSet *s, int p)
{
	size_t	  nb = (size_t) 1 << (s->bits - PART_BITS);
	size_t	  first = (size_t) p * nb;
	size_t	  at = s->part_at[p];
	size_t	  pos = at;
	uint32_t *cursor = fk_malloc(nb * sizeof(uint32_t));

	memset(cursor, 0, nb * sizeof(uint32_t));
	for (Block *b = s->parts[p]; b; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			cursor[bucket_of(s, b->keys[i]) - first]++;
	for (size_t k = 0; k < nb; k++)
	{
		uint32_t n = cursor[k];

		s->index[first + k] = (uint32_t) pos;
		cursor[k] = (uint32_t) pos;
		pos += n;
	}
	for (Block *b = s->parts[p]; b; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			s->keys[cursor[bucket_of(s, b->keys[i]) - first]++] = b->keys[i];
	free(cursor);
	(void) free_blocks(s->parts[p]);
	s->parts[p] = NULL;

	/* buckets in order, each compacted towards the start */
	for (size_t k = 0; k < nb; k++)
	{
		size_t from = s->index[first + k];
		size_t to = k + 1 < nb ? s->index[first + k + 1] : pos;

		s->index[first + k] = (uint32_t) at;
		at = compact_bucket(s->keys, from, to, at);
	}
	s->part_end[p] = at;
}

/*
 * Freeze into a packed integer set if every fingerprint is two int32s and
 * the half that varies less takes fewer values than max(64, keys / 64):
 * (region, id) does, two spread integers do not.
 */
static bool
freeze_packed(FpSet *s)
{
	int64_t batch[PACK_BATCH];
	int64_t lo_min = INT32_MAX, lo_max = INT32_MIN, hi_min = INT32_MAX, hi_max = INT32_MIN;
	int64_t narrow_range;
	size_t	n = 0;
	Packing pk = {0};

	for (int p = 0; p < NPARTS; p++)
		for (Block *b = s->parts[p]; b; b = b->next)
			for (size_t i = 0; i < b->n; i++)
			{
				Hash128 h = b->keys[i];

				if (!halves_int32(h))
					return false;
				lo_min = (int64_t) h.lo < lo_min ? (int64_t) h.lo : lo_min;
				lo_max = (int64_t) h.lo > lo_max ? (int64_t) h.lo : lo_max;
				hi_min = (int64_t) h.hi < hi_min ? (int64_t) h.hi : hi_min;
				hi_max = (int64_t) h.hi > hi_max ? (int64_t) h.hi : hi_max;
			}
	pk.narrow_hi = hi_max - hi_min < lo_max - lo_min;
	narrow_range = pk.narrow_hi ? hi_max - hi_min : lo_max - lo_min;
	if ((uint64_t) narrow_range >= (s->nadded / 64 > 64 ? s->nadded / 64 : 64))
		return false;
	while ((narrow_range >> pk.shift) != 0)
		pk.shift++;
	pk.narrow_min = pk.narrow_hi ? hi_min : lo_min;
	pk.wide_min = pk.narrow_hi ? lo_min : hi_min;
	pk.wide_span = (uint64_t) (pk.narrow_hi ? lo_max - lo_min : hi_max - hi_min);
	s->pk = pk;
	s->packed = keyset64_create();
	for (int p = 0; p < NPARTS; p++)
	{
		for (Block *b = s->parts[p]; b; b = b->next)
			for (size_t i = 0; i < b->n; i++)
			{
				(void) pack(&s->pk, b->keys[i], &batch[n]);
				if (++n == PACK_BATCH)
				{
					keyset64_add_many(s->packed, batch, n);
					n = 0;
				}
			}
		s->mapped -= free_blocks(s->parts[p]);
		s->parts[p] = NULL;
	}
	keyset64_add_many(s->packed, batch, n);
	keyset64_freeze(s->packed);
	s->nkeys = keyset64_cardinality(s->packed);
	s->frozen = true;
	return true;
}

int
fpset_freeze_begin(FpSet *s)
{
	size_t nbuckets;
	size_t at = 0;

	if (s->frozen || (s->nadded > 0 && freeze_packed(s)))
		return 0;
	/* offsets are 32-bit: 4G keys would be 64 GB of fingerprints */
	if (s->nadded > UINT32_MAX)
		fk_out_of_memory(s->nadded * sizeof(Hash128));
	s->bits = PART_BITS;
	while (((size_t) 1 << s->bits) * BUCKET_KEYS < s->nadded)
		s->bits++;
	nbuckets = (size_t) 1 << s->bits;
	s->index = fk_malloc((nbuckets + 1) * sizeof(uint32_t));
	s->keys_bytes = s->nadded > 0 ? s->nadded * sizeof(Hash128) : 0;
	s->keys = s->keys_bytes ? fk_map(s->keys_bytes) : NULL;
	for (int p = 0; p < NPARTS; p++)
	{
		s->part_at[p] = at;
		at += s->part_keys[p];
	}
	return NPARTS;
}

void
fpset_freeze_end(FpSet *s)
{
	size_t nb;
	size_t at = 0;

	if (s->frozen)
		return;
	nb = (size_t) 1 << (s->bits - PART_BITS);
	/* parts that dropped duplicates left gaps: close them */
	for (int p = 0; p < NPARTS; p++)
	{
		size_t shift = s->part_at[p] - at;

		if (shift > 0)
		{
			memmove(&s->keys[at], &s->keys[s->part_at[p]],
					(s->part_end[p] - s->part_at[p]) * sizeof(Hash128));
			for (size_t k = (size_t) p * nb; k < (size_t) (p + 1) * nb; k++)
				s->index[k] -= (uint32_t) shift;
		}
		at += s->part_end[p] - s->part_at[p];
	}
	s->index[(size_t) 1 << s->bits] = (uint32_t) at;
	s->nkeys = at;
	s->mapped = 0;
	s->frozen = true;
}

void
fpset_freeze(FpSet *s)
{
	int nparts = fpset_freeze_begin(s);

	for (int p = 0; p < nparts; p++)
		fpset_freeze_part(s, p);
	fpset_freeze_end(s);
}

static inline bool
bucket_contains(const FpSet *s, size_t b, Hash128 h)
{
	for (uint32_t i = s->index[b]; i < s->index[b + 1]; i++)
		if (hash128_equal(s->keys[i], h))
			return true;
	return false;
}

bool
fpset_contains(const FpSet *s, Hash128 h)
{
	int64_t v;

	if (s->packed)
		return pack(&s->pk, h, &v) && keyset64_contains(s->packed, v);
	return s->frozen && s->nkeys > 0 && bucket_contains(s, bucket_of(s, h), h);
}

/* probe_missing of a packed set: a fingerprint that does not pack is missing. */
static size_t
probe_packed(const FpSet *s, const Hash128 *h, size_t n, uint32_t *missing)
{
	int64_t	 batch[PACK_BATCH];
	uint32_t where[PACK_BATCH], miss[PACK_BATCH];
	size_t	 nmissing = 0;

	for (size_t at = 0; at < n; at += PACK_BATCH)
	{
		size_t m = n - at < PACK_BATCH ? n - at : PACK_BATCH;
		size_t np = 0, nm, k = 0, j = 0;

		for (size_t i = 0; i < m; i++)
			if (pack(&s->pk, h[at + i], &batch[np]))
				where[np++] = (uint32_t) i;
		nm = keyset64_probe_missing(s->packed, batch, np, miss);
		/* both lists are in order: merge them */
		for (size_t i = 0; i < m; i++)
		{
			bool gone = true;

			if (k < np && where[k] == i)
			{
				gone = j < nm && miss[j] == k;
				j += gone;
				k++;
			}
			if (gone)
				missing[nmissing++] = (uint32_t) (at + i);
		}
	}
	return nmissing;
}

/*
 * How many fingerprints ahead the batch probe prefetches the index (a power
 * of two: it is taken modulo).  32 against 16: 24-26 ns a probe against 29
 * (bench_keyset g, 5M parents).
 */
#define FPSET_AHEAD 32

size_t
fpset_probe_missing(const FpSet *s, const Hash128 *h, size_t n, uint32_t *missing)
{
	size_t nmissing = 0;
	size_t bucket[FPSET_AHEAD];

	if (s->packed)
		return probe_packed(s, h, n, missing);
	if (!s->frozen || s->nkeys == 0)
	{
		for (size_t i = 0; i < n; i++)
			missing[i] = (uint32_t) i;
		return n;
	}
	/*
	 * Three stages FPSET_AHEAD / 2 apart: the index entry prefetched, then
	 * the bucket it points at, then the bucket searched.
	 */
	for (size_t i = 0; i < n + FPSET_AHEAD; i++)
	{
		if (i >= FPSET_AHEAD)
		{
			size_t k = i - FPSET_AHEAD;

			missing[nmissing] = (uint32_t) k;
			nmissing += !bucket_contains(s, bucket[k % FPSET_AHEAD], h[k]);
		}
		if (i >= FPSET_AHEAD / 2 && i - FPSET_AHEAD / 2 < n)
		{
			/* a bucket of 5 keys takes two cache lines more often than one */
			size_t	  b = bucket[(i - FPSET_AHEAD / 2) % FPSET_AHEAD];
			uintptr_t line = (uintptr_t) &s->keys[s->index[b]] & ~(uintptr_t) 63;

			for (; line < (uintptr_t) &s->keys[s->index[b + 1]]; line += 64)
				__builtin_prefetch((const void *) line);
		}
		if (i < n)
		{
			bucket[i % FPSET_AHEAD] = bucket_of(s, h[i]);
			__builtin_prefetch(&s->index[bucket[i % FPSET_AHEAD]]);
		}
	}
	return nmissing;
}

bool
fpset_is_packed(const FpSet *s)
{
	return s->packed != NULL;
}

size_t
fpset_size(const FpSet *s)
{
	return s->frozen ? s->nkeys : s->nadded;
}

size_t
fpset_memory_bytes(const FpSet *s)
{
	if (!s->frozen)
		return s->mapped;
	if (s->packed)
		return keyset64_memory_bytes(s->packed);
	return s->nkeys * sizeof(Hash128) + (((size_t) 1 << s->bits) + 1) * sizeof(uint32_t);
}
