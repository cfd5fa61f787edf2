/*
 * rb64.c
 *	  A 64-bit roaring set of int64 keys over CRoaring's 32-bit bitmaps.
 *
 * Each key becomes u = (uint64) key ^ 2^63 (unsigned order is then signed
 * order); the high 32 bits of u name a bucket and the low 32 bits go into
 * that bucket.  Dense integer keys (serials, identities) fill one bucket
 * per 2^32 keys, so for them this is a single CRoaring bitmap.
 *
 * Building.  Keys arrive in heap order, and sparse keys (snowflake or
 * hashed ids) create millions of buckets: inserting into a sorted array
 * would be quadratic.  So buckets are appended and found through an
 * open-addressing index (high -> position, linear probing, at most half
 * full), plus a one-entry cache of the last bucket touched, as consecutive
 * keys usually share their high part.  The index hash is a fixed
 * multiplicative one: keys crafted to collide can slow the build down,
 * never make it wrong.  A bucket holding one key keeps it inline: with
 * sparse keys nearly every bucket is a singleton, and a CRoaring bitmap of
 * one value costs several allocations and about 140 bytes of heap.
 *
 * Freezing.  CRoaring builds and merges well but probes slowly: its
 * contains() is two dependent binary searches whose mispredicted branches
 * also stop the CPU from overlapping the cache misses of neighbouring
 * keys (about 200 ns a key for ids with gaps of 100, against 12 ns below).
 * So freeze gives each bucket the fastest read-only form its memory allows:
 *	- a flat bitset over the bucket's own [min, max] when that is at most one
 *	  64-bit word per key.  A dense block keeps its one-load probe even when
 *	  outliers (a -1 sentinel, ids of another sequence) make the whole set
 *	  too sparse for keyset.c's global bitset.
 *	- otherwise a sorted array of the low parts with a directory: the
 *	  bucket's range is cut into cells of 2^shift values holding about four
 *	  keys each, and dir[cell] is the position of the cell's first key.  A
 *	  probe is a directory load and a scan of a few neighbouring values:
 *	  two cache lines, and no branch that depends on the data's order.
 *	  Values take 16 bits when cells are at most 2^16 wide (the cell gives
 *	  the rest), 32 bits otherwise.  Chosen when it takes at most twice the
 *	  memory of the run-optimized bitmap.
 *	- otherwise (long runs with wide gaps) the run-optimized CRoaring bitmap.
 * The buckets are then sorted (a radix sort: there may be millions), the
 * hash index dropped, and a directory built over the bucket array the same
 * way as over a sorted bucket.
 *
 * Probing.  The probe keeps the current bucket in local variables and looks
 * it up again only when the high part changes, so it never writes to the
 * set and may run in parallel.  It prefetches for the keys 16 and 8
 * positions ahead: the first directory or bitset line, then the line it
 * leads to.  That halves the cost of sets larger than the L2 cache (ids
 * with gaps of 100: 20 -> 12 ns a key; random int64: 60 -> 30 ns).  The
 * builder prefetches its index slots the same way.
 */
#include "fkscan/rb64.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <roaring/roaring.h>

#include "fkscan/mem.h"

#define RB64_SIGN_BIT	   UINT64_C(0x8000000000000000)
#define RB64_MIN_SLOT_BITS 4
#define RB64_NO_BUCKET	   UINT32_MAX

/* Average keys per cell of a sorted bucket: 4 gives one line per probe. */
#define RB64_KEYS_PER_CELL 4

/* Cells up to this many keys are scanned; larger ones binary-searched. */
#define RB64_SCAN_MAX 16

#if defined(__GNUC__)
#define RB64_ALWAYS_INLINE __attribute__((always_inline))
#else
#define RB64_ALWAYS_INLINE
#endif

/* Probe prefetch distances, in keys. */
#define RB64_PREFETCH_FAR  16
#define RB64_PREFETCH_NEAR 8

/* Rb64Bucket.tag when data is not NULL: what data points to. */
#define RB64_ROARING 0
#define RB64_BITSET	 1
#define RB64_SORTED	 2

/* What a probe does with a bucket. */
typedef enum Rb64Kind
{
	RB64_KIND_ABSENT,
	RB64_KIND_SINGLE,
	RB64_KIND_ROARING,
	RB64_KIND_BITSET,
	RB64_KIND_SORTED16,
	RB64_KIND_SORTED32
} Rb64Kind;

typedef struct Rb64Bucket
{
	uint32_t high; /* high 32 bits of the flipped keys */
	uint32_t tag;  /* data NULL: the only key's low part;
								 * else RB64_ROARING, _BITSET or _SORTED */
	void	*data; /* roaring_bitmap_t, Rb64Bitset, Rb64Sorted */
} Rb64Bucket;

/* A frozen bucket's flat bitset: bit d is low part base + d. */
typedef struct Rb64Bitset
{
	uint32_t base; /* the bucket's smallest low part */
	uint32_t span; /* largest - smallest: nbits - 1 */
	uint64_t card;
	uint64_t words[];
} Rb64Bitset;

/*
 * A frozen bucket's sorted array: the key with low part base + d is in
 * cell d >> shift, and stored among values[dir[cell] .. dir[cell + 1]) as
 * d (wide) or as d's low 16 bits.
 */
typedef struct Rb64Sorted
{
	uint32_t  base;
	uint32_t  span;
	uint32_t  shift;
	uint32_t  ncells;
	uint64_t  card;
	bool	  wide;
	uint32_t *dir;	  /* ncells + 1 entries, in the same block */
	void	 *values; /* uint16_t or uint32_t, in the same block */
} Rb64Sorted;

typedef struct Rb64Slot
{
	uint32_t high;
	uint32_t pos1; /* bucket position + 1; 0 marks a free slot */
} Rb64Slot;

struct Roaring64
{
	Rb64Bucket *buckets;
	uint32_t	nbuckets;
	uint32_t	capbuckets;
	bool		sorted; /* buckets in ascending order of high */
	bool		frozen;

	/* Building: the hash index, and the last bucket touched. */
	Rb64Slot *slots;
	uint32_t  slotbits; /* the index has 1 << slotbits slots */
	uint32_t  last;

	/* Frozen: the directory over the sorted buckets, as in Rb64Sorted. */
	uint32_t *dir;
	uint32_t  dirbase; /* high of the first bucket */
	uint32_t  dirspan; /* last high - first high */
	uint32_t  dirshift;
	uint32_t  ncells;
};

static inline uint64_t
key_flip(int64_t key)
{
	return (uint64_t) key ^ RB64_SIGN_BIT;
}

static inline int64_t
key_unflip(uint64_t u)
{
	return (int64_t) (u ^ RB64_SIGN_BIT);
}

/*
 * CRoaring returns NULL when out of memory; report it the way our own
 * allocations do (mem.c prints the message and exits).
 */
static roaring_bitmap_t *
bitmap_check(roaring_bitmap_t *bm)
{
	if (bm == NULL)
		bm = fk_malloc(SIZE_MAX);
	return bm;
}

/* Smallest shift that cuts [0, span] into at most maxcells cells. */
static uint32_t
cell_shift(uint32_t span, uint64_t maxcells)
{
	uint32_t shift = 0;

	if (maxcells == 0)
		maxcells = 1;
	while (((uint64_t) span >> shift) >= maxcells)
		shift++;
	return shift;
}

static inline uint32_t
cell_of(uint32_t d, uint32_t shift)
{
	return (uint32_t) ((uint64_t) d >> shift);
}

/* ---- sorted-array search ---- */

/*
 * Whether x is in the sorted v[a .. b).  Short ranges, the usual case, are
 * scanned without an early exit; long ones (a cluster inside a sparse
 * bucket) get a branch-free binary search.  One copy per value width, from
 * one definition.
 */
#define RB64_DEFINE_SEARCH(name, T)                                  \
	static inline bool name(const T *v, uint32_t a, uint32_t b, T x) \
	{                                                                \
		const T *p = v + a;                                          \
		uint32_t len = b - a;                                        \
		bool	 found = false;                                      \
                                                                     \
		if (len <= RB64_SCAN_MAX)                                    \
		{                                                            \
			for (uint32_t j = 0; j < len; j++)                       \
				found |= p[j] == x;                                  \
			return found;                                            \
		}                                                            \
		while (len > 1)                                              \
		{                                                            \
			uint32_t half = len / 2;                                 \
                                                                     \
			p = p[half] <= x ? p + half : p;                         \
			len -= half;                                             \
		}                                                            \
		return *p == x;                                              \
	}

RB64_DEFINE_SEARCH(search16, uint16_t)
RB64_DEFINE_SEARCH(search32, uint32_t)

/* ---- the build index ---- */

/* Fibonacci hashing: the top bits of high * 2^64/phi spread runs of highs. */
static inline uint32_t
slot_hash(uint32_t high, uint32_t bits)
{
	return (uint32_t) (((uint64_t) high * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

static void
slots_insert(Rb64Slot *slots, uint32_t bits, Rb64Slot slot)
{
	uint32_t mask = (UINT32_C(1) << bits) - 1;
	uint32_t i = slot_hash(slot.high, bits);

	while (slots[i].pos1 != 0)
		i = (i + 1) & mask;
	slots[i] = slot;
}

/*
 * Double the index.  Walking the old slots in order writes the new table
 * nearly in order too (the hash takes the top bits), instead of one cache
 * miss per bucket.
 */
static void
index_grow(Roaring64 *r)
{
	uint32_t  oldn = UINT32_C(1) << r->slotbits;
	Rb64Slot *old = r->slots;

	r->slotbits++;
	r->slots = fk_calloc((size_t) 1 << r->slotbits, sizeof(Rb64Slot));
	for (uint32_t i = 0; i < oldn; i++)
		if (old[i].pos1 != 0)
			slots_insert(r->slots, r->slotbits, old[i]);
	free(old);
}

/* The first index slot for a key's bucket. */
static inline const Rb64Slot *
index_slot(const Roaring64 *r, int64_t key)
{
	return &r->slots[slot_hash((uint32_t) (key_flip(key) >> 32), r->slotbits)];
}

static inline const Rb64Bucket *
index_find(const Roaring64 *r, uint32_t high)
{
	uint32_t mask = (UINT32_C(1) << r->slotbits) - 1;

	for (uint32_t i = slot_hash(high, r->slotbits);; i = (i + 1) & mask)
	{
		const Rb64Slot *slot = &r->slots[i];

		if (slot->pos1 == 0)
			return NULL;
		if (slot->high == high)
			return &r->buckets[slot->pos1 - 1];
	}
}

/* ---- the frozen directory over the buckets ---- */

static void
dir_build(Roaring64 *r)
{
	uint32_t pos = 0;

	if (r->nbuckets == 0)
		return;
	r->dirbase = r->buckets[0].high;
	r->dirspan = r->buckets[r->nbuckets - 1].high - r->dirbase;
	r->dirshift = cell_shift(r->dirspan, r->nbuckets);
	r->ncells = cell_of(r->dirspan, r->dirshift) + 1;
	r->dir = fk_malloc(((size_t) r->ncells + 1) * sizeof(uint32_t));
	for (uint32_t c = 0; c < r->ncells; c++)
	{
		while (pos < r->nbuckets && cell_of(r->buckets[pos].high - r->dirbase, r->dirshift) < c)
			pos++;
		r->dir[c] = pos;
	}
	r->dir[r->ncells] = r->nbuckets;
}

static inline const Rb64Bucket *
dir_find(const Roaring64 *r, uint32_t high)
{
	uint32_t d = high - r->dirbase; /* wraps above dirspan if too small */
	uint32_t cell;

	if (r->dir == NULL || d > r->dirspan)
		return NULL;
	cell = cell_of(d, r->dirshift);
	/* Usually one or two buckets. */
	for (uint32_t pos = r->dir[cell]; pos < r->dir[cell + 1]; pos++)
	{
		if (r->buckets[pos].high >= high)
			return r->buckets[pos].high == high ? &r->buckets[pos] : NULL;
	}
	return NULL;
}

static inline const Rb64Bucket *
bucket_find(const Roaring64 *r, uint32_t high)
{
	return r->frozen ? dir_find(r, high) : index_find(r, high);
}

/* ---- buckets ---- */

/*
 * The bucket for high, created if missing.  A new bucket is a singleton
 * holding low; *created tells the caller that low is already in.
 */
static Rb64Bucket *
bucket_get(Roaring64 *r, uint32_t high, uint32_t low, bool *created)
{
	const Rb64Bucket *found;
	Rb64Bucket		 *b;
	Rb64Slot		  slot;

	*created = false;
	if (r->last != RB64_NO_BUCKET && r->buckets[r->last].high == high)
		return &r->buckets[r->last];
	found = index_find(r, high);
	if (found != NULL)
	{
		r->last = (uint32_t) (found - r->buckets);
		return &r->buckets[r->last];
	}

	if (r->nbuckets == r->capbuckets)
	{
		r->capbuckets = r->capbuckets ? r->capbuckets * 2 : 4;
		r->buckets = fk_realloc(r->buckets, (size_t) r->capbuckets * sizeof(Rb64Bucket));
	}
	if (r->nbuckets > 0 && high < r->buckets[r->nbuckets - 1].high)
		r->sorted = false;
	b = &r->buckets[r->nbuckets];
	b->high = high;
	b->tag = low;
	b->data = NULL;
	r->last = r->nbuckets++;
	if ((uint64_t) r->nbuckets * 2 > ((uint64_t) 1 << r->slotbits))
		index_grow(r);
	slot.high = high;
	slot.pos1 = r->nbuckets;
	slots_insert(r->slots, r->slotbits, slot);
	*created = true;
	return b;
}

/*
 * Are lows n consecutive values, ascending?  Serial keys read in heap order
 * (parent ids, most often) come so, and a range is added a word at a time
 * rather than a value at a time (about 80 instructions a key less).
 */
static bool
lows_consecutive(const uint32_t *lows, size_t n)
{
	uint32_t diff = 0;

	/* lows[0] <= lows[n - 1]: 0xffffffff, 0, 1, ... steps by one modulo 2^32 */
	if (n < 64 || lows[0] > lows[n - 1] || lows[n - 1] - lows[0] != n - 1)
		return false;
	for (size_t i = 1; i < n; i++)
		diff |= lows[i] - lows[i - 1] - 1;
	return diff == 0;
}

/* Add low parts to a bucket being built, giving it a bitmap when needed. */
static void
bucket_add_lows(Rb64Bucket *b, const uint32_t *lows, size_t n)
{
	if (b->data == NULL)
	{
		roaring_bitmap_t *bm;
		size_t			  i = 0;

		while (i < n && lows[i] == b->tag)
			i++;
		if (i == n)
			return;
		bm = bitmap_check(roaring_bitmap_create());
		roaring_bitmap_add(bm, b->tag);
		b->data = bm;
		b->tag = RB64_ROARING;
		lows += i;
		n -= i;
	}
	assert(b->tag == RB64_ROARING);
	if (lows_consecutive(lows, n))
		roaring_bitmap_add_range_closed(b->data, lows[0], lows[n - 1]);
	else
		roaring_bitmap_add_many(b->data, n, lows);
}

static inline Rb64Kind
bucket_kind(const Rb64Bucket *b)
{
	if (b == NULL)
		return RB64_KIND_ABSENT;
	if (b->data == NULL)
		return RB64_KIND_SINGLE;
	switch (b->tag)
	{
		case RB64_BITSET:
			return RB64_KIND_BITSET;
		case RB64_SORTED:
			return ((const Rb64Sorted *) b->data)->wide ? RB64_KIND_SORTED32 : RB64_KIND_SORTED16;
		default:
			return RB64_KIND_ROARING;
	}
}

static uint64_t
bucket_cardinality(const Rb64Bucket *b)
{
	switch (bucket_kind(b))
	{
		case RB64_KIND_ROARING:
			return roaring_bitmap_get_cardinality(b->data);
		case RB64_KIND_BITSET:
			return ((const Rb64Bitset *) b->data)->card;
		case RB64_KIND_SORTED16:
		case RB64_KIND_SORTED32:
			return ((const Rb64Sorted *) b->data)->card;
		default:
			return 1;
	}
}

/* The bucket's smallest (or largest) low part. */
static uint32_t
bucket_extreme(const Rb64Bucket *b, bool largest)
{
	const Rb64Bitset *bs = b->data;
	const Rb64Sorted *ss = b->data;

	switch (bucket_kind(b))
	{
		case RB64_KIND_ROARING:
			return largest ? roaring_bitmap_maximum(b->data) : roaring_bitmap_minimum(b->data);
		case RB64_KIND_BITSET:
			return bs->base + (largest ? bs->span : 0);
		case RB64_KIND_SORTED16:
		case RB64_KIND_SORTED32:
			return ss->base + (largest ? ss->span : 0);
		default:
			return b->tag;
	}
}

static void
bucket_free_data(Rb64Bucket *b)
{
	if (bucket_kind(b) == RB64_KIND_ROARING)
		roaring_bitmap_free(b->data);
	else
		free(b->data); /* bitset and sorted are one block each */
	b->data = NULL;
}

/*
 * CRoaring 0.2.66 has no call for a bitmap's heap size.  Its statistics give
 * the container payloads; add the bitmap struct, its three parallel arrays
 * (container pointer, 16-bit key, type code per slot) and the 16-byte
 * container headers.  malloc's own overhead is not counted.
 */
static size_t
bitmap_memory_bytes(const roaring_bitmap_t *bm)
{
	roaring_statistics_t st;

	roaring_bitmap_statistics(bm, &st);
	return sizeof(roaring_bitmap_t) +
		   (size_t) bm->high_low_container.allocation_size *
			   (sizeof(void *) + sizeof(uint16_t) + sizeof(uint8_t)) +
		   (size_t) st.n_containers * 16 + st.n_bytes_array_containers + st.n_bytes_run_containers +
		   st.n_bytes_bitset_containers;
}

static size_t
bitset_bytes(uint32_t span)
{
	return offsetof(Rb64Bitset, words) + ((size_t) span / 64 + 1) * sizeof(uint64_t);
}

static size_t
sorted_bytes(uint32_t ncells, uint64_t card, bool wide)
{
	return sizeof(Rb64Sorted) + ((size_t) ncells + 1) * sizeof(uint32_t) +
		   (size_t) card * (wide ? sizeof(uint32_t) : sizeof(uint16_t));
}

static size_t
bucket_memory_bytes(const Rb64Bucket *b)
{
	const Rb64Bitset *bs = b->data;
	const Rb64Sorted *ss = b->data;

	switch (bucket_kind(b))
	{
		case RB64_KIND_ROARING:
			return bitmap_memory_bytes(b->data);
		case RB64_KIND_BITSET:
			return bitset_bytes(bs->span);
		case RB64_KIND_SORTED16:
		case RB64_KIND_SORTED32:
			return sorted_bytes(ss->ncells, ss->card, ss->wide);
		default:
			return 0;
	}
}

/* Calls fn(lows, n, ctx) with the bitmap's values in blocks, ascending. */
static void
bitmap_read_blocks(const roaring_bitmap_t *bm,
				   void (*fn)(const uint32_t *lows, uint32_t n, void *ctx), void *ctx)
{
	roaring_uint32_iterator_t it;
	uint32_t				  lows[256];
	uint32_t				  n;

	roaring_init_iterator(bm, &it);
	while (it.has_value && (n = roaring_read_uint32_iterator(&it, lows, FK_LENGTHOF(lows))) > 0)
		fn(lows, n, ctx);
}

static void
bitset_fill_block(const uint32_t *lows, uint32_t n, void *ctx)
{
	Rb64Bitset *bs = ctx;

	for (uint32_t j = 0; j < n; j++)
	{
		uint32_t d = lows[j] - bs->base;

		bs->words[d >> 6] |= UINT64_C(1) << (d & 63);
	}
}

static void
sorted_count_block(const uint32_t *lows, uint32_t n, void *ctx)
{
	Rb64Sorted *ss = ctx;

	for (uint32_t j = 0; j < n; j++)
		ss->dir[cell_of(lows[j] - ss->base, ss->shift) + 1]++;
}

typedef struct Rb64SortedFill
{
	Rb64Sorted *ss;
	uint32_t	n; /* values stored so far */
} Rb64SortedFill;

static void
sorted_fill_block(const uint32_t *lows, uint32_t n, void *ctx)
{
	Rb64SortedFill *f = ctx;
	Rb64Sorted	   *ss = f->ss;

	for (uint32_t j = 0; j < n; j++, f->n++)
	{
		uint32_t d = lows[j] - ss->base;

		if (ss->wide)
			((uint32_t *) ss->values)[f->n] = d;
		else
			((uint16_t *) ss->values)[f->n] = (uint16_t) d;
	}
}

/*
 * Give a bucket being frozen its probe structure (see the file header);
 * with convert false, keep the bitmap (run-optimized).
 */
static void
bucket_freeze(Rb64Bucket *b, bool convert)
{
	roaring_bitmap_t *bm = b->data;
	uint64_t		  card;
	uint32_t		  min;
	uint32_t		  span;
	uint32_t		  shift;
	uint32_t		  ncells;
	bool			  wide;
	size_t			  bytes;
	Rb64Sorted		 *ss;
	Rb64SortedFill	  fill;

	if (bucket_kind(b) != RB64_KIND_ROARING)
		return;
	card = roaring_bitmap_get_cardinality(bm);
	min = roaring_bitmap_minimum(bm);
	span = roaring_bitmap_maximum(bm) - min;
	if (convert && (uint64_t) span / 64 + 1 <= card)
	{
		Rb64Bitset *bs = fk_calloc(1, bitset_bytes(span));

		bs->base = min;
		bs->span = span;
		bs->card = card;
		bitmap_read_blocks(bm, bitset_fill_block, bs);
		roaring_bitmap_free(bm);
		b->data = bs;
		b->tag = RB64_BITSET;
		return;
	}

	roaring_bitmap_run_optimize(bm);
	roaring_bitmap_shrink_to_fit(bm);
	if (!convert)
		return;
	shift = cell_shift(span, card / RB64_KEYS_PER_CELL);
	ncells = cell_of(span, shift) + 1;
	wide = shift > 16;
	bytes = sorted_bytes(ncells, card, wide);
	if (bytes > 2 * bitmap_memory_bytes(bm))
		return;

	ss = fk_calloc(1, bytes);
	ss->base = min;
	ss->span = span;
	ss->shift = shift;
	ss->card = card;
	ss->wide = wide;
	ss->dir = (uint32_t *) (ss + 1);
	ss->values = ss->dir + ncells + 1;
	ss->ncells = ncells;
	bitmap_read_blocks(bm, sorted_count_block, ss);
	for (uint32_t c = 0; c < ncells; c++)
		ss->dir[c + 1] += ss->dir[c];
	fill.ss = ss;
	fill.n = 0;
	bitmap_read_blocks(bm, sorted_fill_block, &fill);
	roaring_bitmap_free(bm);
	b->data = ss;
	b->tag = RB64_SORTED;
}

static int
bucket_cmp(const void *a, const void *b)
{
	uint32_t ha = ((const Rb64Bucket *) a)->high;
	uint32_t hb = ((const Rb64Bucket *) b)->high;

	return (ha > hb) - (ha < hb);
}

/* Sort buckets by high: LSD radix sort, two 16-bit digits. */
static void
buckets_sort(Rb64Bucket *buckets, uint32_t n)
{
	Rb64Bucket *tmp = fk_malloc((size_t) n * sizeof(Rb64Bucket));
	uint32_t   *count = fk_malloc(65537 * sizeof(uint32_t));
	Rb64Bucket *from = buckets;
	Rb64Bucket *to = tmp;

	for (int shift = 0; shift < 32; shift += 16)
	{
		Rb64Bucket *swap;

		memset(count, 0, 65537 * sizeof(uint32_t));
		for (uint32_t i = 0; i < n; i++)
			count[((from[i].high >> shift) & 0xFFFF) + 1]++;
		for (uint32_t d = 1; d <= 65536; d++)
			count[d] += count[d - 1];
		for (uint32_t i = 0; i < n; i++)
			to[count[(from[i].high >> shift) & 0xFFFF]++] = from[i];
		swap = from;
		from = to;
		to = swap;
	}
	/* After an even number of passes the result is back in buckets. */
	free(count);
	free(tmp);
}

/* ---- building ---- */

Roaring64 *
rb64_create(void)
{
	Roaring64 *r = fk_calloc(1, sizeof(Roaring64));

	r->slotbits = RB64_MIN_SLOT_BITS;
	r->slots = fk_calloc((size_t) 1 << r->slotbits, sizeof(Rb64Slot));
	r->last = RB64_NO_BUCKET;
	r->sorted = true;
	return r;
}

void
rb64_free(Roaring64 *r)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->nbuckets; i++)
		bucket_free_data(&r->buckets[i]);
	free(r->buckets);
	free(r->slots);
	free(r->dir);
	free(r);
}

void
rb64_add(Roaring64 *r, int64_t key)
{
	uint64_t	u = key_flip(key);
	uint32_t	low = (uint32_t) u;
	bool		created;
	Rb64Bucket *b;

	assert(!r->frozen);
	b = bucket_get(r, (uint32_t) (u >> 32), low, &created);
	if (!created)
		bucket_add_lows(b, &low, 1);
}

void
rb64_add_many(Roaring64 *r, const int64_t *keys, size_t n)
{
	uint32_t lows[1024];
	size_t	 i = 0;

	assert(!r->frozen);
	while (i < n)
	{
		uint64_t	u = key_flip(keys[i]);
		uint32_t	high = (uint32_t) (u >> 32);
		bool		created;
		Rb64Bucket *b;
		size_t		nlows = 0;

		/*
		 * Sparse keys change bucket at every key, and each lookup misses in
		 * the index: fetch the slot of a key some way ahead.  (Once per
		 * run: nearly free for dense keys.)
		 */
		if (i + RB64_PREFETCH_FAR < n)
			__builtin_prefetch(index_slot(r, keys[i + RB64_PREFETCH_FAR]));
		b = bucket_get(r, high, (uint32_t) u, &created);

		/* The bucket's run; b stays valid, as no bucket is created in it. */
		if (created)
			i++;
		while (i < n && (u = key_flip(keys[i])) >> 32 == high)
		{
			lows[nlows++] = (uint32_t) u;
			i++;
			if (nlows == FK_LENGTHOF(lows))
			{
				bucket_add_lows(b, lows, nlows);
				nlows = 0;
			}
		}
		if (nlows > 0)
			bucket_add_lows(b, lows, nlows);
	}
}

void
rb64_or_inplace(Roaring64 *dst, const Roaring64 *src)
{
	assert(dst != src && !dst->frozen && !src->frozen);
	for (uint32_t i = 0; i < src->nbuckets; i++)
	{
		const Rb64Bucket *sb = &src->buckets[i];
		bool			  created;
		Rb64Bucket		 *db = bucket_get(dst, sb->high, sb->tag, &created);

		if (sb->data == NULL)
		{
			if (!created)
				bucket_add_lows(db, &sb->tag, 1);
		}
		else if (created)
		{
			db->data = bitmap_check(roaring_bitmap_copy(sb->data));
			db->tag = RB64_ROARING;
		}
		else if (db->data != NULL)
			roaring_bitmap_or_inplace(db->data, sb->data);
		else
		{
			roaring_bitmap_t *bm = bitmap_check(roaring_bitmap_copy(sb->data));

			roaring_bitmap_add(bm, db->tag);
			db->data = bm;
			db->tag = RB64_ROARING;
		}
	}
}

void
rb64_freeze(Roaring64 *r, bool convert)
{
	if (r->frozen)
		return;
	for (uint32_t i = 0; i < r->nbuckets; i++)
		bucket_freeze(&r->buckets[i], convert);
	if (!r->sorted)
	{
		if (r->nbuckets < 4096)
			qsort(r->buckets, r->nbuckets, sizeof(Rb64Bucket), bucket_cmp);
		else
			buckets_sort(r->buckets, r->nbuckets);
		r->sorted = true;
	}
	if (r->nbuckets < r->capbuckets)
	{
		r->capbuckets = r->nbuckets;
		r->buckets = fk_realloc(r->buckets, (size_t) r->capbuckets * sizeof(Rb64Bucket));
	}
	free(r->slots);
	r->slots = NULL;
	r->slotbits = 0;
	r->last = RB64_NO_BUCKET;
	dir_build(r);
	r->frozen = true;
}

/* ---- probing ---- */

/* A probe's current bucket, unpacked into locals. */
typedef struct Rb64Cursor
{
	uint32_t				high;
	Rb64Kind				kind;
	uint32_t				single; /* SINGLE */
	uint32_t				base;	/* BITSET, SORTED* */
	uint32_t				span;
	uint32_t				shift; /* SORTED* */
	const uint64_t		   *words; /* BITSET */
	const uint32_t		   *dir;   /* SORTED* */
	const void			   *values;
	const roaring_bitmap_t *bm; /* ROARING */
} Rb64Cursor;

static inline void
cursor_load(const Roaring64 *r, uint32_t high, Rb64Cursor *cur)
{
	const Rb64Bucket *b = bucket_find(r, high);
	const Rb64Bitset *bs;
	const Rb64Sorted *ss;

	cur->high = high;
	cur->kind = bucket_kind(b);
	switch (cur->kind)
	{
		case RB64_KIND_SINGLE:
			cur->single = b->tag;
			break;
		case RB64_KIND_ROARING:
			cur->bm = b->data;
			break;
		case RB64_KIND_BITSET:
			bs = b->data;
			cur->words = bs->words;
			cur->base = bs->base;
			cur->span = bs->span;
			break;
		case RB64_KIND_SORTED16:
		case RB64_KIND_SORTED32:
			ss = b->data;
			cur->base = ss->base;
			cur->span = ss->span;
			cur->shift = ss->shift;
			cur->dir = ss->dir;
			cur->values = ss->values;
			break;
		case RB64_KIND_ABSENT:
			break;
	}
}

/*
 * The probe functions take the bucket's kind as an argument of its own:
 * passed a constant, they compile down to that kind's code alone.
 */
static inline bool
cursor_contains(const Rb64Cursor *cur, Rb64Kind kind, uint32_t low)
{
	uint32_t d = low - cur->base; /* wraps above span if too small */
	uint32_t cell;

	switch (kind)
	{
		case RB64_KIND_BITSET:
			return d <= cur->span && (cur->words[d >> 6] >> (d & 63)) & 1;
		case RB64_KIND_SORTED16:
			if (d > cur->span)
				return false;
			cell = cell_of(d, cur->shift);
			return search16(cur->values, cur->dir[cell], cur->dir[cell + 1], (uint16_t) d);
		case RB64_KIND_SORTED32:
			if (d > cur->span)
				return false;
			cell = cell_of(d, cur->shift);
			return search32(cur->values, cur->dir[cell], cur->dir[cell + 1], d);
		case RB64_KIND_ROARING:
			return roaring_bitmap_contains(cur->bm, low);
		case RB64_KIND_SINGLE:
			return low == cur->single;
		case RB64_KIND_ABSENT:
			break;
	}
	return false;
}

/*
 * The line a key's lookup starts with, to prefetch some keys ahead: the
 * bucket directory's cell when the key is in another bucket (only a frozen
 * set has one), else the bitset word or the sorted array's directory cell.
 * NULL when there is nothing worth fetching; prefetching NULL is harmless.
 * (These return addresses rather than prefetch themselves: GCC finds a
 * function whose only effect is a prefetch pure, and drops the call.)
 */
static inline const void *
line_far(const Roaring64 *r, const Rb64Cursor *cur, Rb64Kind kind, uint64_t u)
{
	uint32_t d;

	if ((uint32_t) (u >> 32) != cur->high)
	{
		d = (uint32_t) (u >> 32) - r->dirbase;
		if (r->dir == NULL || d > r->dirspan)
			return NULL;
		return &r->dir[cell_of(d, r->dirshift)];
	}
	if (kind != RB64_KIND_BITSET && kind != RB64_KIND_SORTED16 && kind != RB64_KIND_SORTED32)
		return NULL;
	d = (uint32_t) u - cur->base;
	if (d > cur->span)
		return NULL;
	if (kind == RB64_KIND_BITSET)
		return &cur->words[d >> 6];
	if (kind == RB64_KIND_SORTED16 || kind == RB64_KIND_SORTED32)
		return &cur->dir[cell_of(d, cur->shift)];
	return NULL;
}

/* The line line_far's leads to: the bucket, or the run of sorted values. */
static inline const void *
line_near(const Roaring64 *r, const Rb64Cursor *cur, Rb64Kind kind, uint64_t u)
{
	uint32_t d;

	if ((uint32_t) (u >> 32) != cur->high)
	{
		d = (uint32_t) (u >> 32) - r->dirbase;
		if (r->dir == NULL || d > r->dirspan)
			return NULL;
		return &r->buckets[r->dir[cell_of(d, r->dirshift)]];
	}
	if (kind != RB64_KIND_SORTED16 && kind != RB64_KIND_SORTED32)
		return NULL;
	d = (uint32_t) u - cur->base;
	if (d > cur->span)
		return NULL;
	if (kind == RB64_KIND_SORTED16)
		return (const uint16_t *) cur->values + cur->dir[cell_of(d, cur->shift)];
	if (kind == RB64_KIND_SORTED32)
		return (const uint32_t *) cur->values + cur->dir[cell_of(d, cur->shift)];
	return NULL;
}

bool
rb64_contains(const Roaring64 *r, int64_t key)
{
	uint64_t   u = key_flip(key);
	Rb64Cursor cur = {0};

	cursor_load(r, (uint32_t) (u >> 32), &cur);
	return cursor_contains(&cur, cur.kind, (uint32_t) u);
}

/*
 * Probe keys[i ..] for as long as they stay in the cursor's bucket, whose
 * kind is given as a constant; returns the index of the first key of
 * another bucket (or n).
 */
static inline RB64_ALWAYS_INLINE size_t
probe_run(const Roaring64 *r, const Rb64Cursor *cur, Rb64Kind kind, const int64_t *keys, size_t i,
		  size_t n, uint32_t *missing, size_t *nmissing)
{
	size_t m = *nmissing;

	for (; i < n; i++)
	{
		uint64_t u = key_flip(keys[i]);

		if ((uint32_t) (u >> 32) != cur->high)
			break;
		if (i + RB64_PREFETCH_FAR < n)
			__builtin_prefetch(line_far(r, cur, kind, key_flip(keys[i + RB64_PREFETCH_FAR])));
		if (i + RB64_PREFETCH_NEAR < n)
			__builtin_prefetch(line_near(r, cur, kind, key_flip(keys[i + RB64_PREFETCH_NEAR])));
		/* Write every index, advance only on a miss: no branch on it. */
		missing[m] = (uint32_t) i;
		m += !cursor_contains(cur, kind, (uint32_t) u);
	}
	*nmissing = m;
	return i;
}

size_t
rb64_probe_missing(const Roaring64 *r, const int64_t *keys, size_t n, uint32_t *missing)
{
	Rb64Cursor cur = {0};
	size_t	   nmissing = 0;
	size_t	   i = 0;

	/* One bucket at a time, with a loop compiled for its kind. */
	while (i < n)
	{
		cursor_load(r, (uint32_t) (key_flip(keys[i]) >> 32), &cur);
		switch (cur.kind)
		{
			case RB64_KIND_BITSET:
				i = probe_run(r, &cur, RB64_KIND_BITSET, keys, i, n, missing, &nmissing);
				break;
			case RB64_KIND_SORTED16:
				i = probe_run(r, &cur, RB64_KIND_SORTED16, keys, i, n, missing, &nmissing);
				break;
			case RB64_KIND_SORTED32:
				i = probe_run(r, &cur, RB64_KIND_SORTED32, keys, i, n, missing, &nmissing);
				break;
			case RB64_KIND_ROARING:
				i = probe_run(r, &cur, RB64_KIND_ROARING, keys, i, n, missing, &nmissing);
				break;
			case RB64_KIND_SINGLE:
				i = probe_run(r, &cur, RB64_KIND_SINGLE, keys, i, n, missing, &nmissing);
				break;
			case RB64_KIND_ABSENT:
				i = probe_run(r, &cur, RB64_KIND_ABSENT, keys, i, n, missing, &nmissing);
				break;
		}
	}
	return nmissing;
}

/* ---- accessors ---- */

uint64_t
rb64_cardinality(const Roaring64 *r)
{
	uint64_t card = 0;

	for (uint32_t i = 0; i < r->nbuckets; i++)
		card += bucket_cardinality(&r->buckets[i]);
	return card;
}

bool
rb64_range(const Roaring64 *r, int64_t *min, int64_t *max)
{
	const Rb64Bucket *lo = NULL;
	const Rb64Bucket *hi = NULL;

	if (r->nbuckets == 0)
		return false;
	for (uint32_t i = 0; i < r->nbuckets; i++)
	{
		const Rb64Bucket *b = &r->buckets[i];

		if (lo == NULL || b->high < lo->high)
			lo = b;
		if (hi == NULL || b->high > hi->high)
			hi = b;
	}
	*min = key_unflip((uint64_t) lo->high << 32 | bucket_extreme(lo, false));
	*max = key_unflip((uint64_t) hi->high << 32 | bucket_extreme(hi, true));
	return true;
}

size_t
rb64_memory_bytes(const Roaring64 *r)
{
	size_t bytes = sizeof(Roaring64);

	bytes += (size_t) r->capbuckets * sizeof(Rb64Bucket);
	if (r->slots)
		bytes += ((size_t) 1 << r->slotbits) * sizeof(Rb64Slot);
	if (r->dir)
		bytes += ((size_t) r->ncells + 1) * sizeof(uint32_t);
	for (uint32_t i = 0; i < r->nbuckets; i++)
		bytes += bucket_memory_bytes(&r->buckets[i]);
	return bytes;
}

void
rb64_stats(const Roaring64 *r, Rb64Stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->buckets = r->nbuckets;
	for (uint32_t i = 0; i < r->nbuckets; i++)
	{
		switch (bucket_kind(&r->buckets[i]))
		{
			case RB64_KIND_SINGLE:
				stats->singletons++;
				break;
			case RB64_KIND_ROARING:
				stats->roaring++;
				break;
			case RB64_KIND_BITSET:
				stats->bitsets++;
				break;
			case RB64_KIND_SORTED16:
				stats->sorted16++;
				break;
			case RB64_KIND_SORTED32:
				stats->sorted32++;
				break;
			case RB64_KIND_ABSENT:
				break;
		}
	}
}

/* ---- visiting the keys ---- */

/* Visitor of flipped keys; returns false to stop. */
typedef bool (*Rb64VisitFn)(uint64_t u, void *ctx);

typedef struct Rb64Visit
{
	Rb64VisitFn fn;
	void	   *ctx;
	uint64_t	high; /* the bucket's high part, shifted in place */
} Rb64Visit;

static bool
visit_low(uint32_t low, void *arg)
{
	Rb64Visit *v = arg;

	return v->fn(v->high | low, v->ctx);
}

/* Visit one bucket's keys in ascending order. */
static bool
bucket_visit(const Rb64Bucket *b, Rb64VisitFn fn, void *ctx)
{
	Rb64Visit		  v = {fn, ctx, (uint64_t) b->high << 32};
	const Rb64Bitset *bs = b->data;
	const Rb64Sorted *ss = b->data;

	switch (bucket_kind(b))
	{
		case RB64_KIND_ROARING:
			return roaring_iterate(b->data, visit_low, &v);
		case RB64_KIND_BITSET:
			for (size_t w = 0; w <= bs->span / 64; w++)
			{
				for (uint64_t word = bs->words[w]; word != 0; word &= word - 1)
				{
					uint32_t low =
						bs->base + (uint32_t) (w * 64) + (uint32_t) __builtin_ctzll(word);

					if (!fn(v.high | low, ctx))
						return false;
				}
			}
			return true;
		case RB64_KIND_SORTED16:
		case RB64_KIND_SORTED32:
			for (uint32_t c = 0; c < ss->ncells; c++)
			{
				for (uint32_t j = ss->dir[c]; j < ss->dir[c + 1]; j++)
				{
					uint32_t d;

					if (ss->wide)
						d = ((const uint32_t *) ss->values)[j];
					else
					{
						/* shift <= 16: the cell gives the bits above it */
						uint32_t mask = (UINT32_C(1) << ss->shift) - 1;

						d = (uint32_t) ((uint64_t) c << ss->shift) |
							(((const uint16_t *) ss->values)[j] & mask);
					}
					if (!fn(v.high | (ss->base + d), ctx))
						return false;
				}
			}
			return true;
		default:
			return fn(v.high | b->tag, ctx);
	}
}

typedef struct Rb64Fill
{
	uint64_t  base;
	uint64_t *words;
} Rb64Fill;

static bool
fill_one(uint64_t u, void *ctx)
{
	Rb64Fill *f = ctx;
	uint64_t  bit = u - f->base;

	f->words[bit >> 6] |= UINT64_C(1) << (bit & 63);
	return true;
}

typedef struct Rb64FillBlock
{
	Rb64Fill *fill;
	uint64_t  high;
} Rb64FillBlock;

static void
fill_block(const uint32_t *lows, uint32_t n, void *ctx)
{
	Rb64FillBlock *fb = ctx;

	for (uint32_t j = 0; j < n; j++)
		fill_one(fb->high | lows[j], fb->fill);
}

void
rb64_fill_bitset(const Roaring64 *r, int64_t min, uint64_t *words)
{
	Rb64Fill f = {key_flip(min), words};

	for (uint32_t i = 0; i < r->nbuckets; i++)
	{
		const Rb64Bucket *b = &r->buckets[i];
		Rb64FillBlock	  fb = {&f, (uint64_t) b->high << 32};

		/* Blocks of values rather than a callback per key, where it counts. */
		if (bucket_kind(b) == RB64_KIND_ROARING)
			bitmap_read_blocks(b->data, fill_block, &fb);
		else
			bucket_visit(b, fill_one, &f);
	}
}

typedef struct Rb64Iter
{
	Rb64IterFn fn;
	void	  *ctx;
} Rb64Iter;

static bool
iterate_one(uint64_t u, void *ctx)
{
	Rb64Iter *it = ctx;

	return it->fn(key_unflip(u), it->ctx);
}

static int
bucket_ptr_cmp(const void *a, const void *b)
{
	return bucket_cmp(*(const Rb64Bucket *const *) a, *(const Rb64Bucket *const *) b);
}

bool
rb64_iterate(const Roaring64 *r, Rb64IterFn fn, void *ctx)
{
	Rb64Iter		   it = {fn, ctx};
	const Rb64Bucket **order;
	bool			   complete = true;

	if (r->sorted)
	{
		for (uint32_t i = 0; i < r->nbuckets; i++)
			if (!bucket_visit(&r->buckets[i], iterate_one, &it))
				return false;
		return true;
	}

	/* Still building: visit the buckets through a sorted list of pointers. */
	order = fk_malloc((size_t) r->nbuckets * sizeof(*order));
	for (uint32_t i = 0; i < r->nbuckets; i++)
		order[i] = &r->buckets[i];
	qsort(order, r->nbuckets, sizeof(*order), bucket_ptr_cmp);
	for (uint32_t i = 0; i < r->nbuckets && complete; i++)
		complete = bucket_visit(order[i], iterate_one, &it);
	free(order);
	return complete;
}
