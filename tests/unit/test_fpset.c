/*
 * test_fpset.c
 *	  Unit tests for the frozen fingerprint set (fpset.h).
 *
 * As in test_hset128.c, value i of a family is derived from i and the sets
 * hold the even i, so membership is known without a second set.  The
 * families are exact fingerprints as keyenc_fingerprint makes them (small
 * integers, two integers) beside spread ones, the all-zero value, and
 * duplicates: many copies of a few values, which make long buckets.
 * Sets of two int32 values, one of them of a small range, are kept packed
 * as integers: families 1 and 2; 3 (spread pairs with negative values and
 * int32's ends), 4 (one value past int32) and 0 stay fingerprints.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fkscan/fpset.h"
#include "test.h"

static Hash128
value(int family, uint64_t i)
{
	Hash128 h;

	switch (family)
	{
		case 0: /* spread */
			h.lo = i * UINT64_C(0x9E3779B97F4A7C15);
			h.hi = ~i;
			break;
		case 1: /* one integer column: {i, 0}, zero included */
			h.lo = i;
			h.hi = 0;
			break;
		case 2: /* two integer columns: {i % 7, i / 7} */
			h.lo = i % 7;
			h.hi = i / 7;
			break;
		case 3: /* two int4 columns, negatives and int32's ends among them */
			h.lo = (uint64_t) (int64_t) (int32_t) (uint32_t) (i * UINT64_C(0x9E3779B1));
			h.hi = (uint64_t) - (int64_t) (i % 3 ? i / 3 : INT32_MAX - i / 3);
			break;
		default: /* two integer columns, one value past int32 */
			h.lo = i % 7;
			h.hi = i == 6 ? UINT64_C(1) << 31 : i / 7;
			break;
	}
	return h;
}

/*
 * A set holding the even i of [0, n) of a family answers for exactly them:
 * contains agrees, and probe_missing gives the odd indexes in order.
 */
static void
check_members(const FpSet *s, int family, uint64_t n, const char *label)
{
	Hash128	 *probe = malloc(n * sizeof(Hash128));
	uint32_t *missing = malloc(n * sizeof(uint32_t));
	size_t	  nmissing;
	bool	  good = true;
	char	  name[100];

	for (uint64_t i = 0; i < n && good; i++)
		good = fpset_contains(s, value(family, i)) == (i % 2 == 0);
	snprintf(name, sizeof(name), "%s: contains exactly the even values", label);
	ok(good, name);

	for (uint64_t i = 0; i < n; i++)
		probe[i] = value(family, i);
	nmissing = fpset_probe_missing(s, probe, n, missing);
	good = nmissing == n / 2;
	for (size_t j = 0; j < nmissing && good; j++)
		good = missing[j] == 2 * j + 1;
	snprintf(name, sizeof(name), "%s: probe_missing gives the odd indexes", label);
	ok(good, name);
	free(probe);
	free(missing);
}

/*
 * The even i of [0, n), each added copies times, split over two builders
 * and merged; then every i probed.
 */
static void
check_family(int family, uint64_t n, int copies)
{
	FpSet	*a = fpset_create();
	FpSet	*b = fpset_create();
	Hash128 *batch = malloc(1000 * sizeof(Hash128));
	size_t	 nbatch = 0;
	char	 name[100];

	for (int c = 0; c < copies; c++)
		for (uint64_t i = 0; i < n; i += 2)
		{
			batch[nbatch++] = value(family, i);
			if (nbatch == 1000)
			{
				fpset_add_many(i % 3 ? a : b, batch, nbatch);
				nbatch = 0;
			}
		}
	fpset_add_many(a, batch, nbatch);
	fpset_merge_inplace(a, b);
	snprintf(name, sizeof(name), "family %d, %" PRIu64 " values x%d: merge empties the source",
			 family, n, copies);
	is_int(fpset_size(b), 0, name);
	ok(!fpset_contains(a, value(family, 0)), "... and nothing is found before freeze");
	fpset_freeze(a);
	fpset_freeze(a);
	snprintf(name, sizeof(name), "family %d: %s", family,
			 family == 1 || family == 2 ? "packed" : "fingerprints");
	ok(fpset_is_packed(a) == (family == 1 || family == 2), name);
	snprintf(name, sizeof(name), "family %d: size counts each value once", family);
	is_int(fpset_size(a), (n + 1) / 2, name);

	snprintf(name, sizeof(name), "family %d", family);
	check_members(a, family, n, name);

	/* the index is sized by the values added, copies included */
	snprintf(name, sizeof(name), "family %d: under 18 bytes a value added", family);
	ok(fpset_memory_bytes(a) < 18 * (n + 1) / 2 * (uint64_t) copies + 1024, name);

	free(batch);
	fpset_free(a);
	fpset_free(b);
}

/*
 * Packing is relative to the parents' ranges: a narrow half of [-3, 2] in
 * three bits, below a wide half of [100, 1000].  Pairs just past either
 * range, or inside the narrow half's three bits but not a parent's, are
 * missing; every member is found whatever the order.
 */
static void
test_packed_ranges(void)
{
	FpSet	*s = fpset_create();
	Hash128	 in[5406], probe[7];
	uint32_t missing[5406];
	size_t	 n = 0;

	for (int64_t w = 100; w <= 1000; w++)
		for (int64_t k = -3; k <= 2; k++)
			in[n++] = (Hash128){(uint64_t) w, (uint64_t) k};
	fpset_add_many(s, in, n);
	fpset_freeze(s);
	ok(fpset_is_packed(s), "ranges: packed");
	for (size_t i = n - 1; i > 0; i--) /* a fixed shuffle */
	{
		size_t	j = (i * 2654435761u) % (i + 1);
		Hash128 t = in[i];

		in[i] = in[j];
		in[j] = t;
	}
	is_int(fpset_probe_missing(s, in, n, missing), 0, "ranges: every member found, shuffled");
	probe[0] = (Hash128){100, (uint64_t) -4};
	probe[1] = (Hash128){100, 3};
	probe[2] = (Hash128){100, 4};
	probe[3] = (Hash128){99, 0};
	probe[4] = (Hash128){1001, 0};
	probe[5] = (Hash128){(uint64_t) -1, 0};
	probe[6] = (Hash128){100, 5}; /* 5 - -3 = 8 would carry into the wide half */
	is_int(fpset_probe_missing(s, probe, 7, missing), 7,
		   "ranges: pairs past the parents' ranges missing");
	ok(!fpset_contains(s, probe[2]) && fpset_contains(s, (Hash128){1000, (uint64_t) -3}),
	   "ranges: contains agrees");
	fpset_free(s);
}

/*
 * A packed set answers only for the exact pairs: a probe whose half is past
 * int32 (2^32, or -2^31 - 1 as int8 sends it) is missing even when its low
 * 32 bits are a member's, and a dense packed set takes a few bits a value.
 */
static void
test_packed(void)
{
	FpSet	*s = fpset_create();
	Hash128	 in[3] = {{0, 5}, {1, (uint64_t) INT32_MIN}, {2, INT32_MAX}};
	Hash128 *dense = malloc(100000 * sizeof(Hash128));
	Hash128	 probe[6] = {in[0],
						 {UINT64_C(1) << 32, 5},
						 in[1],
						 {1, INT32_MAX},
						 {2, (uint64_t) (-(int64_t) INT32_MAX - 2)},
						 in[2]};
	uint32_t missing[6];
	size_t	 n;

	fpset_add_many(s, in, 3);
	fpset_freeze(s);
	ok(fpset_is_packed(s), "three pairs with a small first half are packed");
	n = fpset_probe_missing(s, probe, 6, missing);
	ok(n == 3 && missing[0] == 1 && missing[1] == 3 && missing[2] == 4,
	   "packed: only the exact pairs are found (int32's ends, values past them missing)");
	ok(fpset_contains(s, in[1]) && !fpset_contains(s, probe[4]) && !fpset_contains(s, probe[1]),
	   "packed: contains agrees");
	fpset_free(s);

	for (uint64_t i = 0; i < 100000; i++)
		dense[i] = value(2, i);
	s = fpset_create();
	fpset_add_many(s, dense, 100000);
	fpset_freeze(s);
	ok(fpset_is_packed(s), "packed: {i % 7, i / 7}, the small half first");
	is_int(fpset_size(s), 100000, "packed: dense pairs all held");
	ok(fpset_memory_bytes(s) < 100000 / 2, "packed: dense pairs take under 4 bits a value");
	fpset_free(s);
	free(dense);
	test_packed_ranges();
}

static void
test_edges(void)
{
	FpSet	*s = fpset_create();
	Hash128	 zero = {0, 0};
	Hash128	 one = {1, 0};
	uint32_t missing[2];
	Hash128	 probe[2] = {zero, one};

	fpset_freeze(s);
	is_int(fpset_size(s), 0, "an empty set");
	ok(!fpset_contains(s, zero), "... contains nothing");
	is_int(fpset_probe_missing(s, probe, 2, missing), 2, "... misses every probe");
	fpset_free(s);
	fpset_free(NULL);
	ok(true, "fpset_free(NULL) is a no-op");

	s = fpset_create();
	fpset_add_many(s, &zero, 1);
	fpset_freeze(s);
	ok(fpset_contains(s, zero) && !fpset_contains(s, one), "the all-zero value is a value");
	fpset_free(s);

	/* never frozen: its blocks are freed all the same (the leak check) */
	s = fpset_create();
	fpset_add_many(s, probe, 2);
	fpset_free(s);
}

/* Two threads, each freezing every other part, from the last down. */
typedef struct Freezer
{
	FpSet *s;
	int	   nparts;
	int	   first;
} Freezer;

static void *
freeze_parts(void *arg)
{
	Freezer *f = arg;

	for (int p = f->nparts - 1 - f->first; p >= 0; p -= 2)
		fpset_freeze_part(f->s, p);
	return NULL;
}

/*
 * Frozen by parts on two threads, with duplicates (parts shrink and leave
 * gaps that end closes): the same answers as any family's.
 */
static void
test_parted_freeze(void)
{
	FpSet	 *s = fpset_create();
	pthread_t th[2];
	Freezer	  f[2];
	int		  nparts;

	for (int c = 0; c < 3; c++)
		for (uint64_t i = 0; i < 100000; i += 2)
		{
			Hash128 h = value(0, i);

			fpset_add_many(s, &h, 1);
		}
	nparts = fpset_freeze_begin(s);
	ok(nparts > 1, "parted freeze: a set of fingerprints has parts to freeze");
	for (int t = 0; t < 2; t++)
	{
		f[t] = (Freezer){s, nparts, t};
		pthread_create(&th[t], NULL, freeze_parts, &f[t]);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	fpset_freeze_end(s);
	is_int(fpset_size(s), 50000, "parted freeze: each value once, duplicates dropped");
	check_members(s, 0, 100000, "parted freeze");
	is_int(fpset_freeze_begin(s), 0, "parted freeze: a frozen set has no parts left");
	fpset_free(s);
}

int
main(void)
{
	test_edges();
	check_family(0, 400000, 1);
	check_family(1, 100000, 1);
	check_family(2, 100000, 1);
	check_family(3, 100000, 1);
	check_family(4, 100000, 1);
	test_packed();
	check_family(0, 20000, 5); /* duplicates: buckets sorted to drop them */
	check_family(1, 40, 100);  /* a few values, hundreds of copies each */
	test_parted_freeze();
	return done_testing();
}
