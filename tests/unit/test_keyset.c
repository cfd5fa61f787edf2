/*
 * test_keyset.c
 *	  Unit tests for the integer key set (keyset.h).
 *
 * Every check compares against a reference: the same keys in a sorted,
 * deduplicated array searched with bsearch.  Sets are checked while being
 * built, after freeze (bitset or roaring, whichever it picks) and after
 * keyset64_freeze_roaring_only, on boundary keys and on random data of
 * several shapes and seeds.
 */
#include <pthread.h>
#include <stdlib.h>

#include "fkscan/keyset.h"
#include "test.h"

#define P32 (INT64_C(1) << 32)

typedef enum FreezeMode
{
	FREEZE_NONE,
	FREEZE_AUTO,
	FREEZE_ROARING
} FreezeMode;

static const char *const mode_names[] = {"building", "frozen", "roaring-only"};

/* ---- reference: a sorted, deduplicated array ---- */

typedef struct Ref
{
	int64_t *keys;
	size_t	 n;
} Ref;

/* Sorts and deduplicates a copy of keys. */
static Ref
ref_make(const int64_t *keys, size_t n)
{
	Ref ref;

	ref.keys = malloc((n ? n : 1) * sizeof(int64_t));
	memcpy(ref.keys, keys, n * sizeof(int64_t));
	ref.n = sort_unique(ref.keys, n);
	return ref;
}

static bool
ref_contains(const Ref *ref, int64_t key)
{
	return bsearch(&key, ref->keys, ref->n, sizeof(int64_t), cmp_i64) != NULL;
}

/* ---- random numbers ---- */

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint64_t
rng_below(uint64_t n)
{
	return rng_next() % n;
}

/* ---- checks against the reference ---- */

typedef struct Collect
{
	int64_t *keys;
	size_t	 n;
	size_t	 cap;
	size_t	 stop_after; /* 0: never stop */
} Collect;

static bool
collect_key(int64_t key, void *ctx)
{
	Collect *c = ctx;

	if (c->n < c->cap)
		c->keys[c->n] = key;
	c->n++;
	return c->stop_after == 0 || c->n < c->stop_after;
}

/* Iterate gives exactly the reference, in order. */
static bool
iterate_matches(const KeySet64 *s, const Ref *ref)
{
	Collect c = {malloc((ref->n + 1) * sizeof(int64_t)), 0, ref->n + 1, 0};
	bool	good = keyset64_iterate(s, collect_key, &c) && c.n == ref->n &&
				memcmp(c.keys, ref->keys, ref->n * sizeof(int64_t)) == 0;

	free(c.keys);
	return good;
}

/*
 * probe_missing and contains agree with the reference on probes; the
 * missing indexes are exactly the absent ones, in increasing order.
 */
static bool
probes_match(const KeySet64 *s, const Ref *ref, const int64_t *probes, size_t n)
{
	uint32_t *missing = malloc((n ? n : 1) * sizeof(uint32_t));
	size_t	  nmissing = keyset64_probe_missing(s, probes, n, missing);
	size_t	  j = 0;
	bool	  good = true;

	for (size_t i = 0; i < n && good; i++)
	{
		bool want = ref_contains(ref, probes[i]);

		if (keyset64_contains(s, probes[i]) != want)
		{
			printf("#   contains(%" PRId64 ") is %d\n", probes[i], !want);
			good = false;
		}
		if (!want)
		{
			if (j >= nmissing || missing[j] != i)
			{
				printf("#   probe_missing: key %" PRId64 " (index %zu) not reported\n", probes[i],
					   i);
				good = false;
			}
			j++;
		}
		else if (j < nmissing && missing[j] == i)
		{
			printf("#   probe_missing: key %" PRId64 " (index %zu) reported\n", probes[i], i);
			good = false;
		}
	}
	if (good && j != nmissing)
	{
		printf("#   probe_missing returned %zu, expected %zu\n", nmissing, j);
		good = false;
	}
	for (size_t k = 1; k < nmissing && good; k++)
		good = missing[k - 1] < missing[k];
	free(missing);
	return good;
}

/* Probes near the keys: every member, its neighbours, and random values. */
static int64_t *
make_probes(const Ref *ref, size_t *nprobes)
{
	size_t	 n = ref->n * 3 + 1000;
	int64_t *p = malloc(n * sizeof(int64_t));
	size_t	 m = 0;

	for (size_t i = 0; i < ref->n; i++)
	{
		int64_t k = ref->keys[i];

		p[m++] = k;
		p[m++] = k == INT64_MIN ? INT64_MAX : k - 1;
		p[m++] = k == INT64_MAX ? INT64_MIN : k + 1;
	}
	while (m < n)
		p[m++] = (int64_t) rng_next();
	/* Shuffle part of it, so that high parts change between neighbours. */
	for (size_t i = 0; i < n / 2; i++)
	{
		size_t	a = rng_below(n);
		size_t	b = rng_below(n);
		int64_t t = p[a];

		p[a] = p[b];
		p[b] = t;
	}
	*nprobes = n;
	return p;
}

static KeySet64 *
build(const int64_t *keys, size_t n)
{
	KeySet64 *s = keyset64_create();
	size_t	  i = 0;

	/* Mix single adds with add_many calls of random sizes. */
	while (i < n)
	{
		size_t chunk = 1 + rng_below(5000);

		if (chunk > n - i)
			chunk = n - i;
		if (chunk < 3)
			keyset64_add(s, keys[i]);
		else
			keyset64_add_many(s, keys + i, chunk);
		i += chunk < 3 ? 1 : chunk;
	}
	return s;
}

static void
freeze(KeySet64 *s, FreezeMode mode)
{
	if (mode == FREEZE_AUTO)
		keyset64_freeze(s);
	else if (mode == FREEZE_ROARING)
		keyset64_freeze_roaring_only(s);
}

/* The whole battery for one key list, in every freeze mode. */
static void
check_keys(const char *label, const int64_t *keys, size_t n, const char *want_method)
{
	Ref		 ref = ref_make(keys, n);
	size_t	 nprobes;
	int64_t *probes = make_probes(&ref, &nprobes);
	char	 name[200];

	for (int mode = FREEZE_NONE; mode <= FREEZE_ROARING; mode++)
	{
		KeySet64 *s = build(keys, n);

		freeze(s, mode);
		snprintf(name, sizeof(name), "%s, %s: cardinality", label, mode_names[mode]);
		is_int(keyset64_cardinality(s), ref.n, name);
		snprintf(name, sizeof(name), "%s, %s: probes agree with reference", label,
				 mode_names[mode]);
		ok(probes_match(s, &ref, probes, nprobes), name);
		snprintf(name, sizeof(name), "%s, %s: iterate in order", label, mode_names[mode]);
		ok(iterate_matches(s, &ref), name);
		if (mode == FREEZE_AUTO && want_method != NULL)
		{
			snprintf(name, sizeof(name), "%s: method", label);
			is_str(keyset64_method(s), want_method, name);
		}
		if (mode != FREEZE_AUTO)
		{
			snprintf(name, sizeof(name), "%s, %s: method", label, mode_names[mode]);
			is_str(keyset64_method(s), "roaring", name);
		}
		keyset64_free(s);
	}
	free(probes);
	free(ref.keys);
}

/* ---- the tests ---- */

static void
test_empty(void)
{
	int64_t	 probes[] = {0, -1, 1, INT64_MIN, INT64_MAX, P32};
	uint32_t missing[FK_LENGTHOF(probes)];

	for (int mode = FREEZE_NONE; mode <= FREEZE_ROARING; mode++)
	{
		KeySet64 *s = keyset64_create();
		Collect	  c = {NULL, 0, 0, 0};
		size_t	  nmissing;
		bool	  all = true;

		freeze(s, mode);
		is_int(keyset64_cardinality(s), 0, "empty: cardinality 0");
		ok(!keyset64_contains(s, 0), "empty: contains nothing");
		nmissing = keyset64_probe_missing(s, probes, FK_LENGTHOF(probes), missing);
		for (size_t i = 0; i < nmissing; i++)
			all = all && missing[i] == i;
		ok(nmissing == FK_LENGTHOF(probes) && all, "empty: every probe missing");
		ok(keyset64_iterate(s, collect_key, &c) && c.n == 0, "empty: iterate visits nothing");
		ok(keyset64_memory_bytes(s) > 0 && keyset64_memory_bytes(s) < 4096, "empty: small memory");
		ok(keyset64_probe_missing(s, probes, 0, missing) == 0, "empty batch");
		keyset64_free(s);
	}
	keyset64_free(NULL);
	ok(true, "keyset64_free(NULL) is a no-op");
}

static void
test_boundaries(void)
{
	int64_t edges[] = {
		INT64_MIN, INT64_MIN + 1, -P32 - 1, -P32,	 -P32 + 1,		-2,		  -1, 0, 1,
		P32 - 1,   P32,			  P32 + 1,	2 * P32, INT64_MAX - 1, INT64_MAX};
	int64_t keys[4096];
	size_t	n;

	check_keys("boundary keys", edges, FK_LENGTHOF(edges), "roaring");
	check_keys("INT64_MIN and INT64_MAX", (int64_t[]){INT64_MIN, INT64_MAX}, 2, "roaring");
	check_keys("INT64_MAX alone", (int64_t[]){INT64_MAX}, 1, "bitmap");
	check_keys("INT64_MIN alone", (int64_t[]){INT64_MIN}, 1, "bitmap");

	/* Dense ranges across each bucket boundary: one bitset. */
	n = 0;
	for (int64_t k = -1000; k <= 1000; k++)
		keys[n++] = k;
	check_keys("dense across 0", keys, n, "bitmap");
	n = 0;
	for (int64_t k = P32 - 1000; k <= P32 + 1000; k++)
		keys[n++] = k;
	check_keys("dense across 2^32", keys, n, "bitmap");
	n = 0;
	for (int64_t k = -P32 - 1000; k <= -P32 + 1000; k++)
		keys[n++] = k;
	check_keys("dense across -2^32", keys, n, "bitmap");
	n = 0;
	for (int64_t k = INT64_MAX - 2000; k < INT64_MAX; k++)
		keys[n++] = k;
	keys[n++] = INT64_MAX;
	check_keys("dense up to INT64_MAX", keys, n, "bitmap");
	n = 0;
	for (int64_t k = INT64_MIN; k < INT64_MIN + 2000; k++)
		keys[n++] = k;
	check_keys("dense from INT64_MIN", keys, n, "bitmap");

	/* A dense block plus both extremes: roaring, the block a bucket bitset. */
	n = 0;
	for (int64_t k = 1; k <= 3000; k++)
		keys[n++] = k;
	keys[n++] = INT64_MIN;
	keys[n++] = INT64_MAX;
	check_keys("dense block and both extremes", keys, n, "roaring");
}

/* The density rule: at most one 64-bit word of bitset per key. */
static void
test_method_choice(void)
{
	int64_t	 *keys = malloc(200000 * sizeof(int64_t));
	KeySet64 *s;
	size_t	  n = 0;

	for (int64_t k = 1; k <= 100000; k++)
		keys[n++] = k;
	check_keys("dense 1..100000", keys, n, "bitmap");

	n = 0;
	for (int64_t k = 0; k < 1000; k++)
		keys[n++] = 1 + k * 64;
	check_keys("every 64th key", keys, n, "bitmap");

	n = 0;
	for (int64_t k = 0; k < 1000; k++)
		keys[n++] = 1 + k * 65;
	check_keys("every 65th key", keys, n, "roaring");

	/* Runs of consecutive keys are added as ranges; this one wraps in its bucket. */
	n = 0;
	keys[n++] = 5; /* makes the bucket: the rest come as one run */
	keys[n++] = INT64_C(0xffffffff);
	for (int64_t k = 0; k < 100; k++)
		keys[n++] = k;
	check_keys("5, 0xffffffff, then 0..99 (one bucket)", keys, n, "roaring");
	n = 0;
	for (int64_t k = 0; k < 3000; k++)
		keys[n++] = 1000 + k + (k == 2000); /* one gap, one duplicate */
	check_keys("a run of 3000 with a gap and a duplicate", keys, n, "bitmap");

	/* A bitset over 1 MB: the probe loop that prefetches (smaller ones do not). */
	n = 0;
	for (int64_t k = 0; k < 150000; k++)
		keys[n++] = -4000000 + k * 60;
	check_keys("150000 keys 60 apart (a 1.1 MB bitset)", keys, n, "bitmap");

	n = 0;
	for (int64_t k = 0; k < 1000; k++)
		keys[n++] = -5000000 + k * 100;
	check_keys("every 100th key, negative", keys, n, "roaring");

	/* The rule's edge: two keys 127 apart need 2 words, 128 apart 3. */
	check_keys("two keys 127 apart", (int64_t[]){-64, 63}, 2, "bitmap");
	check_keys("two keys 128 apart", (int64_t[]){-64, 64}, 2, "roaring");

	/* Bitset size cap: 2^32 bits. */
	s = keyset64_create();
	keyset64_add(s, 0);
	keyset64_add(s, P32);
	keyset64_freeze(s);
	is_str(keyset64_method(s), "roaring", "two keys 2^32 apart: roaring");
	keyset64_free(s);

	free(keys);
}

/* Random sets of several shapes, several seeds. */
static void
test_random(void)
{
	size_t	 cap = 60000;
	int64_t *keys = malloc(cap * sizeof(int64_t));
	char	 label[100];

	for (uint64_t seed = 1; seed <= 4; seed++)
	{
		size_t	n;
		int64_t base;

		rng_state = seed * 1000003;

		/* Dense: half the keys of a range, anywhere (also across 0). */
		n = 0;
		base = (int64_t) rng_next() >> (seed % 2 ? 1 : 33);
		for (int64_t k = 0; k < 40000; k++)
			if (rng_below(2))
				keys[n++] = base + k;
		snprintf(label, sizeof(label), "seed %" PRIu64 ": dense", seed);
		check_keys(label, keys, n, "bitmap");

		/* Sparse: random over all of int64, with duplicates. */
		n = 0;
		while (n < 20000)
		{
			keys[n] = (int64_t) rng_next();
			n++;
			if (n < 20000 && rng_below(10) == 0)
			{
				keys[n] = keys[n - 1];
				n++;
			}
		}
		snprintf(label, sizeof(label), "seed %" PRIu64 ": sparse int64", seed);
		check_keys(label, keys, n, "roaring");

		/* Many high buckets, each of a random shape. */
		n = 0;
		for (int b = 0; b < 200 && n < cap - 2000; b++)
		{
			int64_t	 high = (int64_t) rng_below(600) - 300;
			uint32_t low = (uint32_t) rng_next();
			int		 shape = (int) rng_below(4);
			int		 count = 1 + (int) rng_below(1500);

			for (int j = 0; j < count; j++)
			{
				uint32_t l;

				if (shape == 0)
					l = low + (uint32_t) j; /* a run, may wrap in the bucket */
				else if (shape == 1)
					l = low + (uint32_t) rng_below(4000); /* dense-ish */
				else if (shape == 2)
					l = low + (uint32_t) j * (uint32_t) (70 + rng_below(200)); /* gappy */
				else
					l = (uint32_t) rng_next(); /* spread over the bucket */
				keys[n++] = (int64_t) ((uint64_t) high << 32) + (int64_t) l;
			}
		}
		snprintf(label, sizeof(label), "seed %" PRIu64 ": many buckets", seed);
		check_keys(label, keys, n, "roaring");

		/* Gappy ids: sorted arrays, clusters inside (binary-search path). */
		n = 0;
		base = (int64_t) rng_below(1 << 20);
		for (int64_t k = 0; k < 20000; k++)
			keys[n++] = base + k * 100 + (int64_t) rng_below(100);
		for (int64_t k = 0; k < 3000; k++)
			keys[n++] = base + 777777 + k;
		snprintf(label, sizeof(label), "seed %" PRIu64 ": gappy with a cluster", seed);
		check_keys(label, keys, n, "roaring");
	}
	free(keys);
}

/* merge_inplace of partials equals one set built from all keys. */
static void
test_merge(void)
{
	size_t	  n = 0;
	int64_t	 *keys = malloc(50000 * sizeof(int64_t));
	KeySet64 *part[3];
	KeySet64 *all;
	KeySet64 *empty;
	Ref		  ref;
	Ref		  ref1;
	int64_t	 *keys1 = malloc(50000 * sizeof(int64_t));
	size_t	  n1 = 0;
	size_t	  nprobes;
	int64_t	 *probes;

	rng_state = 42;
	for (int i = 0; i < 20000; i++)
		keys[n++] = (int64_t) rng_below(100000); /* dense part */
	for (int i = 0; i < 5000; i++)
		keys[n++] = (int64_t) rng_next(); /* singletons */
	for (int i = 0; i < 5000; i++)
		keys[n++] = 7 * P32 + (int64_t) rng_below(1 << 24); /* a sparse bucket */
	ref = ref_make(keys, n);

	/* Each key to one or two partials: overlaps too. */
	for (int p = 0; p < 3; p++)
		part[p] = keyset64_create();
	for (size_t i = 0; i < n; i++)
	{
		int p = (int) rng_below(3);

		keyset64_add(part[p], keys[i]);
		if (p == 1)
			keys1[n1++] = keys[i];
		if (rng_below(5) == 0)
		{
			keyset64_add(part[(p + 1) % 3], keys[i]);
			if ((p + 1) % 3 == 1)
				keys1[n1++] = keys[i];
		}
	}
	ref1 = ref_make(keys1, n1);

	empty = keyset64_create();
	keyset64_merge_inplace(empty, part[0]);
	keyset64_merge_inplace(part[0], part[1]);
	keyset64_merge_inplace(part[0], part[2]);
	keyset64_merge_inplace(empty, part[1]);
	keyset64_merge_inplace(empty, part[2]);
	ok(iterate_matches(part[1], &ref1), "merge: source unchanged");

	all = build(keys, n);
	is_int(keyset64_cardinality(part[0]), ref.n, "merge: cardinality of merged");
	ok(iterate_matches(part[0], &ref), "merge: merged equals reference before freeze");
	keyset64_freeze(part[0]);
	keyset64_freeze(all);
	keyset64_freeze(empty);
	ok(iterate_matches(part[0], &ref), "merge: merged equals reference after freeze");
	ok(iterate_matches(empty, &ref), "merge into an empty set");
	is_str(keyset64_method(part[0]), keyset64_method(all), "merge: same method");
	probes = make_probes(&ref, &nprobes);
	ok(probes_match(part[0], &ref, probes, nprobes), "merge: probes agree");
	ok(probes_match(empty, &ref, probes, nprobes), "merge into empty: probes agree");

	free(probes);
	for (int p = 0; p < 3; p++)
		keyset64_free(part[p]);
	keyset64_free(all);
	keyset64_free(empty);
	free(ref.keys);
	free(ref1.keys);
	free(keys);
	free(keys1);
}

static void
test_iterate_stop(void)
{
	int64_t keys[3000];
	size_t	n = 0;

	for (int64_t k = 0; k < 1000; k++)
	{
		keys[n++] = k - 500;				 /* dense, across 0 */
		keys[n++] = (k + 1) * 1000003 * P32; /* one per bucket */
		keys[n++] = 5 * P32 + k * 1000;		 /* a sorted bucket */
	}
	for (int mode = FREEZE_NONE; mode <= FREEZE_ROARING; mode++)
	{
		KeySet64 *s = build(keys, n);
		Ref		  ref = ref_make(keys, n);
		int64_t	  got[10];
		Collect	  c = {got, 0, 10, 10};
		char	  name[100];

		freeze(s, mode);
		snprintf(name, sizeof(name), "iterate stops early (%s)", mode_names[mode]);
		ok(!keyset64_iterate(s, collect_key, &c) && c.n == 10 &&
			   memcmp(got, ref.keys, sizeof(got)) == 0,
		   name);
		keyset64_free(s);
		free(ref.keys);
	}

	/* A bitmap-mode set stops too. */
	{
		KeySet64 *s = keyset64_create();
		int64_t	  got[3];
		Collect	  c = {got, 0, 3, 3};

		for (int64_t k = -500; k < 500; k++)
			keyset64_add(s, k);
		keyset64_freeze(s);
		is_str(keyset64_method(s), "bitmap", "dense -500..499: bitmap");
		ok(!keyset64_iterate(s, collect_key, &c) && c.n == 3 && got[0] == -500 && got[1] == -499 &&
			   got[2] == -498,
		   "bitmap iterate stops early");
		keyset64_free(s);
	}
}

static void
test_memory(void)
{
	int64_t	 *keys = malloc(5000000 * sizeof(int64_t));
	KeySet64 *s;
	size_t	  bytes;

	for (int64_t k = 0; k < 5000000; k++)
		keys[k] = k + 1;
	s = keyset64_create();
	keyset64_add_many(s, keys, 5000000);
	keyset64_freeze(s);
	bytes = keyset64_memory_bytes(s);
	is_str(keyset64_method(s), "bitmap", "dense 5M: bitmap");
	ok(bytes < 1000000 && bytes >= 5000000 / 8, "dense 5M: under 1 MB, at least the bitset");
	printf("#   dense 5M keys: %zu bytes\n", bytes);
	is_int(keyset64_cardinality(s), 5000000, "dense 5M: cardinality");
	ok(keyset64_contains(s, 1) && keyset64_contains(s, 5000000) && !keyset64_contains(s, 0) &&
		   !keyset64_contains(s, 5000001),
	   "dense 5M: ends");
	keyset64_freeze(s);
	is_str(keyset64_method(s), "bitmap", "freezing twice is a no-op");
	keyset64_free(s);

	/* Building (CRoaring) and roaring-only: far below 1 MB too. */
	s = keyset64_create();
	keyset64_add_many(s, keys, 5000000);
	ok(keyset64_memory_bytes(s) < 1000000, "dense 5M while building: under 1 MB");
	keyset64_freeze_roaring_only(s);
	ok(keyset64_memory_bytes(s) < 1000000, "dense 5M roaring-only: under 1 MB");
	keyset64_free(s);

	/* Sparse: bytes per key within reason (at least 8, at most 64). */
	rng_state = 7;
	for (int k = 0; k < 100000; k++)
		keys[k] = (int64_t) rng_next();
	s = keyset64_create();
	keyset64_add_many(s, keys, 100000);
	keyset64_freeze(s);
	bytes = keyset64_memory_bytes(s);
	printf("#   100k random int64 keys: %zu bytes\n", bytes);
	ok(bytes >= 100000 * 8 && bytes <= 100000 * 64, "sparse: memory per key sane");
	keyset64_free(s);

	/* Gappy: about 2 bytes a key plus the directory. */
	for (int k = 0; k < 1000000; k++)
		keys[k] = (int64_t) k * 100;
	s = keyset64_create();
	keyset64_add_many(s, keys, 1000000);
	keyset64_freeze(s);
	bytes = keyset64_memory_bytes(s);
	printf("#   1M keys 100 apart: %zu bytes\n", bytes);
	ok(bytes >= 1000000 * 2 && bytes <= 1000000 * 4, "gappy: memory per key sane");
	keyset64_free(s);
	free(keys);
}

/* Frozen sets are probed from several threads at once. */
typedef struct ProbeJob
{
	const KeySet64 *s;
	const Ref	   *ref;
	const int64_t  *probes;
	size_t			n;
	bool			good;
} ProbeJob;

static void *
probe_job(void *arg)
{
	ProbeJob *job = arg;

	job->good = true;
	for (int round = 0; round < 5; round++)
		job->good = job->good && probes_match(job->s, job->ref, job->probes, job->n);
	return NULL;
}

static void
test_threads(void)
{
	size_t	  n = 0;
	int64_t	 *keys = malloc(30000 * sizeof(int64_t));
	KeySet64 *s;
	Ref		  ref;
	int64_t	 *probes;
	size_t	  nprobes;
	pthread_t th[3];
	ProbeJob  job[3];

	rng_state = 99;
	for (int i = 0; i < 10000; i++)
	{
		keys[n++] = (int64_t) rng_below(20000);
		keys[n++] = (int64_t) rng_next();
		keys[n++] = 3 * P32 + (int64_t) rng_below(10000000);
	}
	s = build(keys, n);
	keyset64_freeze(s);
	ref = ref_make(keys, n);
	probes = make_probes(&ref, &nprobes);
	for (int t = 0; t < 3; t++)
	{
		job[t] = (ProbeJob){s, &ref, probes + t * (nprobes / 3), nprobes / 3, false};
		pthread_create(&th[t], NULL, probe_job, &job[t]);
	}
	for (int t = 0; t < 3; t++)
	{
		pthread_join(th[t], NULL);
		ok(job[t].good, "concurrent probes agree with reference");
	}
	free(probes);
	free(ref.keys);
	keyset64_free(s);
	free(keys);
}

int
main(void)
{
	test_empty();
	test_boundaries();
	test_method_choice();
	test_random();
	test_merge();
	test_iterate_stop();
	test_memory();
	test_threads();
	return done_testing();
}
