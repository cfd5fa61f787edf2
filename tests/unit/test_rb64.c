/*
 * test_rb64.c
 *	  Unit tests for the 64-bit roaring set (rb64.h): which structure each
 *	  bucket gets at freeze, and that every kind answers like a reference.
 *
 * test_keyset.c covers the public key set on random data; here each bucket
 * kind (singleton, CRoaring bitmap, bitset, sorted array of 16- and 32-bit
 * values) is built on purpose, checked through rb64_stats, and probed.
 */
#include <stdlib.h>

#include "fkscan/rb64.h"
#include "test.h"

#define P32 (INT64_C(1) << 32)

static uint64_t rng_state = 12345;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

typedef struct Collect
{
	int64_t *keys;
	size_t	 n;
	size_t	 cap;
} Collect;

static bool
collect_key(int64_t key, void *ctx)
{
	Collect *c = ctx;

	if (c->n < c->cap)
		c->keys[c->n] = key;
	c->n++;
	return true;
}

/*
 * r holds exactly ref[0..n) (sorted, unique): cardinality, range, iterate,
 * and probes of every key, its neighbours and random keys.
 */
static bool
matches(const Roaring64 *r, const int64_t *ref, size_t n)
{
	Collect	  c = {malloc((n + 1) * sizeof(int64_t)), 0, n + 1};
	size_t	  nprobes = 5 * n + 500;
	int64_t	 *probes = malloc(nprobes * sizeof(int64_t));
	uint32_t *missing = malloc(nprobes * sizeof(uint32_t));
	size_t	  nmissing;
	size_t	  j = 0;
	int64_t	  min = 0;
	int64_t	  max = 0;
	bool	  good = true;

	if (rb64_cardinality(r) != n)
	{
		printf("#   cardinality %" PRIu64 ", want %zu\n", rb64_cardinality(r), n);
		good = false;
	}
	if (rb64_range(r, &min, &max) != (n > 0) || (n > 0 && (min != ref[0] || max != ref[n - 1])))
	{
		printf("#   range [%" PRId64 ", %" PRId64 "] wrong\n", min, max);
		good = false;
	}
	if (!rb64_iterate(r, collect_key, &c) || c.n != n ||
		memcmp(c.keys, ref, n * sizeof(int64_t)) != 0)
	{
		printf("#   iterate gave %zu keys, want %zu, or out of order\n", c.n, n);
		good = false;
	}

	/* Neighbours, and keys sharing the low 16 bits (a 16-bit value's). */
	for (size_t i = 0; i < n; i++)
	{
		probes[5 * i] = ref[i];
		probes[5 * i + 1] = ref[i] == INT64_MIN ? 0 : ref[i] - 1;
		probes[5 * i + 2] = ref[i] == INT64_MAX ? 0 : ref[i] + 1;
		probes[5 * i + 3] = ref[i] < INT64_MIN + 65536 ? 0 : ref[i] - 65536;
		probes[5 * i + 4] = ref[i] > INT64_MAX - 65536 ? 0 : ref[i] + 65536;
	}
	for (size_t i = 5 * n; i < nprobes; i++)
		probes[i] = (int64_t) rng_next();
	nmissing = rb64_probe_missing(r, probes, nprobes, missing);
	for (size_t i = 0; i < nprobes && good; i++)
	{
		bool want = bsearch(&probes[i], ref, n, sizeof(int64_t), cmp_i64) != NULL;
		bool reported = j < nmissing && missing[j] == i;

		if (rb64_contains(r, probes[i]) != want || reported == want)
		{
			printf("#   key %" PRId64 ": want %d, contains %d, reported missing %d\n", probes[i],
				   want, rb64_contains(r, probes[i]), reported);
			good = false;
		}
		if (reported)
			j++;
	}
	if (good && j != nmissing)
	{
		printf("#   %zu missing reported, %zu expected\n", nmissing, j);
		good = false;
	}
	free(c.keys);
	free(probes);
	free(missing);
	return good;
}

typedef struct Want
{
	uint32_t singletons;
	uint32_t roaring;
	uint32_t bitsets;
	uint32_t sorted16;
	uint32_t sorted32;
} Want;

static bool
stats_are(const Roaring64 *r, Want want)
{
	Rb64Stats st;

	rb64_stats(r, &st);
	if (st.singletons == want.singletons && st.roaring == want.roaring &&
		st.bitsets == want.bitsets && st.sorted16 == want.sorted16 &&
		st.sorted32 == want.sorted32 &&
		st.buckets == st.singletons + st.roaring + st.bitsets + st.sorted16 + st.sorted32)
		return true;
	printf("#   buckets %u: single %u roaring %u bitset %u sorted16 %u sorted32 %u\n", st.buckets,
		   st.singletons, st.roaring, st.bitsets, st.sorted16, st.sorted32);
	return false;
}

/*
 * Build from keys (shuffled, half one by one and half with add_many),
 * check before freeze, after freeze(convert) against want, and after a
 * freeze keeping CRoaring.
 */
static void
check_shape(const char *label, int64_t *keys, size_t n, Want want)
{
	int64_t *ref = malloc((n ? n : 1) * sizeof(int64_t));
	size_t	 nref;
	char	 name[200];

	for (size_t i = n; i > 1; i--)
	{
		size_t	k = rng_next() % i;
		int64_t t = keys[i - 1];

		keys[i - 1] = keys[k];
		keys[k] = t;
	}
	memcpy(ref, keys, n * sizeof(int64_t));
	nref = sort_unique(ref, n);

	for (int convert = -1; convert <= 1; convert++)
	{
		Roaring64  *r = rb64_create();
		const char *what = convert < 0 ? "building" : convert ? "frozen" : "kept CRoaring";

		for (size_t i = 0; i < n / 2; i++)
			rb64_add(r, keys[i]);
		rb64_add_many(r, keys + n / 2, n - n / 2);
		if (convert >= 0)
			rb64_freeze(r, convert);
		if (convert == 1)
		{
			snprintf(name, sizeof(name), "%s: bucket kinds", label);
			ok(stats_are(r, want), name);
		}
		snprintf(name, sizeof(name), "%s (%s): matches reference", label, what);
		ok(matches(r, ref, nref), name);
		rb64_free(r);
	}
	free(ref);
}

static void
test_kinds(void)
{
	int64_t *keys = malloc(400000 * sizeof(int64_t));
	size_t	 n;

	/* Random int64: a singleton per key. */
	for (n = 0; n < 5000; n++)
		keys[n] = (int64_t) rng_next();
	check_shape("singletons", keys, n, (Want){.singletons = 5000});

	/* Dense bucket: a bitset; plus a far singleton. */
	n = 0;
	for (int64_t k = 0; k < 100000; k++)
		if (rng_next() % 3)
			keys[n++] = 9 * P32 + 12345 + k;
	keys[n++] = -7;
	check_shape("dense bucket", keys, n, (Want){.singletons = 1, .bitsets = 1});

	/* Gappy ids (1 in 100): sorted, 16-bit values. */
	n = 0;
	for (int64_t k = 0; k < 100000; k++)
		keys[n++] = -P32 + 5 + k * 100 + (int64_t) (rng_next() % 100);
	check_shape("gappy bucket", keys, n, (Want){.sorted16 = 1});

	/* Gappy with a dense cluster: long cells, binary search. */
	n = 0;
	for (int64_t k = 0; k < 50000; k++)
		keys[n++] = k * 150;
	for (int64_t k = 0; k < 5000; k++)
		keys[n++] = 3000000 + k;
	check_shape("gappy bucket with a cluster", keys, n, (Want){.sorted16 = 1});

	/* A few thousand keys over a whole bucket: sorted, 32-bit values. */
	n = 0;
	for (int k = 0; k < 3000; k++)
		keys[n++] = 2 * P32 + (int64_t) (uint32_t) rng_next();
	keys[n++] = 2 * P32;
	keys[n++] = 3 * P32 - 1;
	check_shape("sparse bucket", keys, n, (Want){.sorted32 = 1});

	/*
	 * 4000 keys, so 1000 cells: spans that make cells 2^15, 2^16 (the
	 * widest with 16-bit values) and 2^17 wide.
	 */
	for (int shift = 15; shift <= 17; shift++)
	{
		char	label[64];
		int64_t span = (INT64_C(1000) << shift) - 1;

		n = 0;
		keys[n++] = 11 * P32;
		keys[n++] = 11 * P32 + span;
		while (n < 4000)
			keys[n++] = 11 * P32 + (int64_t) (rng_next() % (uint64_t) span);
		snprintf(label, sizeof(label), "cells 2^%d wide", shift);
		check_shape(label, keys, n, shift <= 16 ? (Want){.sorted16 = 1} : (Want){.sorted32 = 1});
	}

	/* The bitset rule's edge: 127 apart is 2 words for 2 keys, 128 is 3. */
	n = 0;
	keys[n++] = 8 * P32 + 1000;
	keys[n++] = 8 * P32 + 1127;
	keys[n++] = 9 * P32 + 1000;
	keys[n++] = 9 * P32 + 1128;
	check_shape("bitset rule edge", keys, n, (Want){.bitsets = 1, .sorted16 = 1});

	/* Long runs far apart: CRoaring's run containers are smallest. */
	n = 0;
	for (int64_t run = 0; run < 100; run++)
		for (int64_t k = 0; k < 2000; k++)
			keys[n++] = run * 40000000 + k;
	check_shape("runs far apart", keys, n, (Want){.roaring = 1});

	/* All kinds together, buckets arriving in descending order. */
	n = 0;
	for (int64_t b = 40; b > 0; b--)
	{
		int64_t high = (b - 20) * P32;

		switch (b % 4)
		{
			case 0:
				keys[n++] = high + (int64_t) (b * 1000);
				break;
			case 1:
				for (int64_t k = 0; k < 1000; k++)
					keys[n++] = high + k * 2;
				break;
			case 2:
				for (int64_t k = 0; k < 1000; k++)
					keys[n++] = high + k * 100;
				break;
			case 3:
				for (int64_t k = 0; k < 300; k++)
					keys[n++] = high + (int64_t) (uint32_t) rng_next();
				break;
		}
	}
	check_shape("mixed buckets", keys, n,
				(Want){.singletons = 10, .bitsets = 10, .sorted16 = 10, .sorted32 = 10});

	/* Extremes of the bucket range and of the low parts. */
	n = 0;
	keys[n++] = INT64_MIN;
	keys[n++] = INT64_MIN + 1;
	keys[n++] = INT64_MAX;
	keys[n++] = INT64_MAX - 1;
	keys[n++] = -1;
	keys[n++] = 0;
	check_shape("extremes", keys, n, (Want){.singletons = 2, .bitsets = 2});

	free(keys);
}

static void
test_merge_kinds(void)
{
	Roaring64 *a = rb64_create();
	Roaring64 *b = rb64_create();
	int64_t	   ref[16];
	size_t	   n = 0;

	/* singleton+singleton (same and different), singleton+bitmap, both ways */
	rb64_add(a, 1 * P32 + 5);
	rb64_add(b, 1 * P32 + 5);
	rb64_add(a, 2 * P32 + 5);
	rb64_add(b, 2 * P32 + 6);
	rb64_add(a, 3 * P32 + 7);
	rb64_add_many(b, (int64_t[]){3 * P32 + 8, 3 * P32 + 9}, 2);
	rb64_add_many(a, (int64_t[]){4 * P32 + 8, 4 * P32 + 9}, 2);
	rb64_add(b, 4 * P32 + 10);
	rb64_add_many(a, (int64_t[]){5 * P32, 5 * P32 + 1}, 2);
	rb64_add_many(b, (int64_t[]){5 * P32 + 1, 5 * P32 + 2}, 2);
	rb64_add(b, 6 * P32);									/* only in b */
	rb64_add_many(b, (int64_t[]){7 * P32, 7 * P32 + 3}, 2); /* only in b */
	rb64_or_inplace(a, b);

	ref[n++] = 1 * P32 + 5;
	ref[n++] = 2 * P32 + 5;
	ref[n++] = 2 * P32 + 6;
	ref[n++] = 3 * P32 + 7;
	ref[n++] = 3 * P32 + 8;
	ref[n++] = 3 * P32 + 9;
	ref[n++] = 4 * P32 + 8;
	ref[n++] = 4 * P32 + 9;
	ref[n++] = 4 * P32 + 10;
	ref[n++] = 5 * P32;
	ref[n++] = 5 * P32 + 1;
	ref[n++] = 5 * P32 + 2;
	ref[n++] = 6 * P32;
	ref[n++] = 7 * P32;
	ref[n++] = 7 * P32 + 3;
	ok(matches(a, ref, n), "merge of every bucket pairing");
	ok(matches(b,
			   (int64_t[]){1 * P32 + 5, 2 * P32 + 6, 3 * P32 + 8, 3 * P32 + 9, 4 * P32 + 10,
						   5 * P32 + 1, 5 * P32 + 2, 6 * P32, 7 * P32, 7 * P32 + 3},
			   10),
	   "merge leaves the source unchanged");
	rb64_freeze(a, true);
	ok(matches(a, ref, n), "merged set after freeze");
	rb64_free(a);
	rb64_free(b);
	rb64_free(NULL);
	ok(true, "rb64_free(NULL) is a no-op");
}

static void
test_duplicates(void)
{
	Roaring64 *r = rb64_create();
	int64_t	   same[1000];

	for (int i = 0; i < 1000; i++)
		same[i] = 77;
	rb64_add_many(r, same, 1000);
	rb64_add(r, 77);
	ok(stats_are(r, (Want){.singletons = 1}), "one key added many times stays a singleton");
	ok(matches(r, (int64_t[]){77}, 1), "one key added many times");
	rb64_free(r);
}

int
main(void)
{
	test_kinds();
	test_merge_kinds();
	test_duplicates();
	return done_testing();
}
