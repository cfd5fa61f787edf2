/*
 * test_hset128.c
 *	  Unit tests for the 128-bit fingerprint set (hset128.h).
 *
 * Values are built so that membership is known without a second set:
 * value i is {lo, hi} derived from i, and the set holds the even i.  Some
 * families differ in a few bits only, as exact fingerprints (small
 * integers) do, to exercise the mix, probing, growth and the all-zero value.
 */
#include <stdlib.h>

#include "fkscan/hset128.h"
#include "test.h"

/* Value i of a family; distinct for distinct i within a family. */
static Hash128
value(int family, uint64_t i)
{
	Hash128 h;

	switch (family)
	{
		case 0: /* spread: a bijective mix of i */
			h.lo = i * UINT64_C(0x9E3779B97F4A7C15);
			h.hi = ~i;
			break;
		case 1: /* lo's low 32 bits all 0 */
			h.lo = i << 32;
			h.hi = i;
			break;
		case 2: /* same lo, hi tells them apart */
			h.lo = 12345;
			h.hi = i;
			break;
		default: /* lo zero, hi not: must not look empty */
			h.lo = 0;
			h.hi = i + 1;
			break;
	}
	return h;
}

/* Add the even i of [0, n) with a mix of add and add_many; check all. */
static void
check_family(int family, uint64_t n, size_t hint)
{
	HSet128	 *s = hset128_create(hint);
	Hash128	 *batch = malloc(n * sizeof(Hash128));
	uint32_t *missing = malloc(n * sizeof(uint32_t));
	size_t	  nbatch = 0;
	bool	  fresh = true;
	bool	  dup = true;
	bool	  good = true;
	size_t	  nmissing;
	char	  name[100];

	for (uint64_t i = 0; i < n; i += 2)
	{
		if (i % 4 == 0)
			fresh = hset128_add(s, value(family, i)) && fresh;
		else
			batch[nbatch++] = value(family, i);
	}
	hset128_add_many(s, batch, nbatch);
	for (uint64_t i = 0; i < n; i += 2)
		dup = !hset128_add(s, value(family, i)) && dup;

	snprintf(name, sizeof(name), "family %d, %" PRIu64 " values: add says new", family, n);
	ok(fresh, name);
	snprintf(name, sizeof(name), "family %d: duplicates are not added", family);
	ok(dup, name);
	snprintf(name, sizeof(name), "family %d: size", family);
	is_int(hset128_size(s), (n + 1) / 2, name);

	for (uint64_t i = 0; i < n && good; i++)
		good = hset128_contains(s, value(family, i)) == (i % 2 == 0);
	snprintf(name, sizeof(name), "family %d: contains exactly the even values", family);
	ok(good, name);

	for (uint64_t i = 0; i < n; i++)
		batch[i] = value(family, i);
	nmissing = hset128_probe_missing(s, batch, n, missing);
	good = nmissing == n / 2;
	for (size_t j = 0; j < nmissing && good; j++)
		good = missing[j] == 2 * j + 1;
	snprintf(name, sizeof(name), "family %d: probe_missing gives the odd indexes", family);
	ok(good, name);

	snprintf(name, sizeof(name), "family %d: at most three quarters full", family);
	ok(hset128_memory_bytes(s) * 3 >= 4 * hset128_size(s) * sizeof(Hash128), name);

	free(batch);
	free(missing);
	hset128_free(s);
}

static void
test_basics(void)
{
	HSet128 *s = hset128_create(0);
	Hash128	 a = {1, 2};
	Hash128	 b = {2, 1};
	Hash128	 zero = {0, 0};

	ok(!hset128_contains(s, a), "empty set contains nothing");
	ok(!hset128_contains(s, zero), "empty set does not contain zero");
	is_int(hset128_size(s), 0, "empty size");
	ok(hset128_add(s, a), "add new");
	ok(!hset128_add(s, a), "add again");
	ok(hset128_contains(s, a) && !hset128_contains(s, b), "contains a, not b");
	ok(!hset128_contains(s, zero), "zero not in before it is added");
	ok(hset128_add(s, zero), "add zero");
	ok(!hset128_add(s, zero), "add zero again");
	ok(hset128_contains(s, zero), "zero in after it is added");
	is_int(hset128_size(s), 2, "size counts zero once");
	hset128_free(s);
	hset128_free(NULL);
	ok(true, "hset128_free(NULL) is a no-op");

	/* Zero alone, zero with lo == 0 values around it. */
	s = hset128_create(100);
	hset128_add(s, zero);
	ok(hset128_contains(s, zero) && !hset128_contains(s, (Hash128){0, 1}), "a set of zero only");
	ok(hset128_memory_bytes(s) >= 200 * sizeof(Hash128), "capacity hint honoured");
	hset128_free(s);
}

static void
test_families(void)
{
	check_family(0, 300000, 0);		 /* many resizes from the smallest table */
	check_family(0, 300000, 150000); /* sized up front */
	check_family(1, 3000, 0);
	check_family(2, 3000, 0);
	check_family(3, 3000, 0);
}

static void
test_hash(void)
{
	Hash128 e = hset128_hash("", 0);
	Hash128 x = hset128_hash("abc", 3);
	Hash128 y = hset128_hash("abc", 3);
	Hash128 z = hset128_hash("abc\0", 4);

	/* XXH3-128 of the empty input (xxHash's published test vector). */
	ok(e.lo == UINT64_C(0x6001C324468D497F) && e.hi == UINT64_C(0x99AA06D3014798D8),
	   "hash of empty input is XXH3-128's");
	ok(x.lo == y.lo && x.hi == y.hi, "hash is deterministic");
	ok(x.lo != z.lo || x.hi != z.hi, "hash covers the length");
}

int
main(void)
{
	test_basics();
	test_families();
	test_hash();
	return done_testing();
}
