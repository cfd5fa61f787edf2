/*
 * bench_keyset.c
 *	  Micro-benchmark of the key sets' build and probe (not a test).
 *
 * Shapes the baseline's scan: 5M parent keys, 50M child keys with about 1%
 * orphans, probed in batches of 4096 as the scan engine does.  Each batch
 * of child keys is generated just before it is probed, outside the timer,
 * so that it is cache-hot like a freshly decoded COPY buffer.
 *
 *	  bench_keyset [parents [children [variants]]]
 *
 * Defaults: 5000000 50000000 abcefdg; variants are the letters below.
 *
 * Variants: (a) dense keys 1..N, frozen as a bitset; (b) N random keys over
 * all of int64 (a singleton bucket each); (c) the dense keys forced through
 * CRoaring (keyset64_freeze_roaring_only); (e) dense keys plus INT64_MIN and
 * INT64_MAX (roaring, the dense bucket a bitset); (f) every 100th id
 * (roaring, the bucket a sorted array); (d) hset128 with N random 16-byte
 * uuids; (g) the same uuids in an fpset, the parent set of hashed keys (a
 * uuid is its own fingerprint there).  Each also times one contains() call per key, for scale.  Every
 * time is the best of REPS runs, as the server and other processes share
 * the two cores.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fkscan/fpset.h"
#include "fkscan/hset128.h"
#include "fkscan/keyset.h"
#include "fkscan/mem.h"

#define BATCH	  4096
#define REPS	  3
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

/* splitmix64: fast, and every output distinct within 2^64 calls. */
static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

typedef enum ChildShape
{
	CHILD_DENSE,	   /* uniform in 1 .. parents * 1.01 */
	CHILD_FROM_PARENTS /* 99% a random parent, 1% in [min, max] */
} ChildShape;

typedef struct Parents
{
	int64_t *keys;
	size_t	 n;
	int64_t	 min;
	int64_t	 max;
} Parents;

static void
make_children(int64_t *keys, size_t n, ChildShape shape, const Parents *p)
{
	uint64_t range = p->n + p->n / 100;
	uint64_t span = (uint64_t) p->max - (uint64_t) p->min;

	for (size_t i = 0; i < n; i++)
	{
		uint64_t r = rng_next();

		if (shape == CHILD_DENSE)
			keys[i] = (int64_t) (1 + r % range);
		else if (r % 100 != 0)
			keys[i] = p->keys[(r >> 8) % p->n];
		else
			keys[i] = (int64_t) ((uint64_t) p->min +
								 (span == UINT64_MAX ? rng_next() : rng_next() % (span + 1)));
	}
}

/* Seconds to probe nchildren fresh child keys, batch by batch. */
static double
time_probes(const KeySet64 *s, const Parents *p, size_t nchildren, ChildShape shape,
			bool use_contains, uint64_t *nmissing)
{
	int64_t	 keys[BATCH];
	uint32_t missing[BATCH];
	double	 total = 0;

	*nmissing = 0;
	for (size_t done = 0; done < nchildren; done += BATCH)
	{
		size_t n = nchildren - done < BATCH ? nchildren - done : BATCH;
		double t0;

		make_children(keys, n, shape, p);
		t0 = now_sec();
		if (use_contains)
		{
			for (size_t i = 0; i < n; i++)
				*nmissing += !keyset64_contains(s, keys[i]);
		}
		else
			*nmissing += keyset64_probe_missing(s, keys, n, missing);
		total += now_sec() - t0;
	}
	return total;
}

static void
bench_keyset(const char *label, const Parents *p, size_t nchildren, ChildShape shape,
			 bool roaring_only)
{
	KeySet64 *s = NULL;
	double	  build = 1e30, freeze = 1e30, probe = 1e30, contains = 1e30;
	uint64_t  nmissing = 0, nmissing2 = 0;

	/* Best of REPS: other processes share these two cores. */
	for (int rep = 0; rep < REPS; rep++)
	{
		double t0, t1, t2;

		keyset64_free(s);
		s = keyset64_create();
		t0 = now_sec();
		for (size_t i = 0; i < p->n; i += BATCH)
			keyset64_add_many(s, p->keys + i, p->n - i < BATCH ? p->n - i : BATCH);
		t1 = now_sec();
		if (roaring_only)
			keyset64_freeze_roaring_only(s);
		else
			keyset64_freeze(s);
		t2 = now_sec();
		build = MIN(build, t1 - t0);
		freeze = MIN(freeze, t2 - t1);
	}
	for (int rep = 0; rep < REPS; rep++)
	{
		probe = MIN(probe, time_probes(s, p, nchildren, shape, false, &nmissing));
		contains = MIN(contains, time_probes(s, p, nchildren, shape, true, &nmissing2));
	}

	printf("%-32s method %-7s card %" PRIu64 "\n", label, keyset64_method(s),
		   keyset64_cardinality(s));
	printf("  build %.3f s (%.1f ns/key), freeze %.3f s, memory %.3f MB\n", build,
		   build * 1e9 / (double) p->n, freeze, (double) keyset64_memory_bytes(s) / 1e6);
	printf("  probe_missing %.3f s = %.2f ns/key (%.2f%% missing); "
		   "contains loop %.2f ns/key (%.2f%%)\n",
		   probe, probe * 1e9 / (double) nchildren, 100.0 * (double) nmissing / (double) nchildren,
		   contains * 1e9 / (double) nchildren, 100.0 * (double) nmissing2 / (double) nchildren);
	fflush(stdout);
	keyset64_free(s);
}

static void
parents_init(Parents *p, size_t n)
{
	p->keys = fk_malloc(n * sizeof(int64_t));
	p->n = n;
}

static void
parents_range(Parents *p)
{
	p->min = INT64_MAX;
	p->max = INT64_MIN;
	for (size_t i = 0; i < p->n; i++)
	{
		if (p->keys[i] < p->min)
			p->min = p->keys[i];
		if (p->keys[i] > p->max)
			p->max = p->keys[i];
	}
}

static double
hset_build(HSet128 **out, const uint64_t *uuids, size_t n, size_t hint, bool batch)
{
	HSet128 *s = hset128_create(hint);
	Hash128	 hashes[BATCH];
	double	 t0 = now_sec();

	for (size_t done = 0; done < n; done += BATCH)
	{
		size_t m = n - done < BATCH ? n - done : BATCH;

		for (size_t i = 0; i < m; i++)
			hashes[i] = hset128_hash(&uuids[(done + i) * 2], 16);
		if (batch)
			hset128_add_many(s, hashes, m);
		else
			for (size_t i = 0; i < m; i++)
				hset128_add(s, hashes[i]);
	}
	*out = s;
	return now_sec() - t0;
}

/* Seconds to probe nchildren fresh uuids (99% parents); hashing apart. */
static double
time_hset_probes(const HSet128 *s, const uint64_t *uuids, size_t nparents, size_t nchildren,
				 bool use_contains, double *hash, uint64_t *nmissing)
{
	uint64_t batch[BATCH][2];
	Hash128	 hashes[BATCH];
	uint32_t missing[BATCH];
	double	 total = 0;

	*hash = 0;
	*nmissing = 0;
	for (size_t done = 0; done < nchildren; done += BATCH)
	{
		size_t n = nchildren - done < BATCH ? nchildren - done : BATCH;
		double t0;

		for (size_t i = 0; i < n; i++)
		{
			uint64_t r = rng_next();

			if (r % 100 != 0)
				memcpy(batch[i], &uuids[((r >> 8) % nparents) * 2], 16);
			else
			{
				batch[i][0] = rng_next();
				batch[i][1] = rng_next();
			}
		}
		t0 = now_sec();
		for (size_t i = 0; i < n; i++)
			hashes[i] = hset128_hash(batch[i], 16);
		*hash += now_sec() - t0;
		t0 = now_sec();
		if (use_contains)
		{
			for (size_t i = 0; i < n; i++)
				*nmissing += !hset128_contains(s, hashes[i]);
		}
		else
			*nmissing += hset128_probe_missing(s, hashes, n, missing);
		total += now_sec() - t0;
	}
	return total;
}

static void
bench_hset(size_t nparents, size_t nchildren)
{
	HSet128	 *s = NULL;
	uint64_t *uuids = fk_malloc(nparents * 2 * sizeof(uint64_t));
	double	  build_one = 1e30, build_many = 1e30, build_hint = 1e30, hash = 1e30, probe = 1e30,
		   contains = 1e30;
	uint64_t nmissing = 0, nmissing2 = 0;

	for (size_t i = 0; i < nparents * 2; i++)
		uuids[i] = rng_next();
	for (int rep = 0; rep < REPS; rep++)
	{
		build_one = MIN(build_one, hset_build(&s, uuids, nparents, 0, false));
		hset128_free(s);
		build_hint = MIN(build_hint, hset_build(&s, uuids, nparents, nparents, true));
		hset128_free(s);
		build_many = MIN(build_many, hset_build(&s, uuids, nparents, 0, true));
		if (rep < REPS - 1)
			hset128_free(s);
	}
	for (int rep = 0; rep < REPS; rep++)
	{
		double h;

		probe = MIN(probe, time_hset_probes(s, uuids, nparents, nchildren, false, &h, &nmissing));
		hash = MIN(hash, h);
		contains =
			MIN(contains, time_hset_probes(s, uuids, nparents, nchildren, true, &h, &nmissing2));
		hash = MIN(hash, h);
	}

	printf("%-32s size %zu, memory %.1f MB\n", "(d) hset128, random uuids", hset128_size(s),
		   (double) hset128_memory_bytes(s) / 1e6);
	printf("  build incl. hashing: add %.1f ns/key, add_many %.1f ns/key, "
		   "add_many sized by hint %.1f ns/key\n",
		   build_one * 1e9 / (double) nparents, build_many * 1e9 / (double) nparents,
		   build_hint * 1e9 / (double) nparents);
	printf("  hash %.2f ns/key; probe_missing %.3f s = %.2f ns/key (%.2f%% missing); "
		   "contains loop %.2f ns/key (%.2f%%)\n",
		   hash * 1e9 / (double) nchildren, probe, probe * 1e9 / (double) nchildren,
		   100.0 * (double) nmissing / (double) nchildren, contains * 1e9 / (double) nchildren,
		   100.0 * (double) nmissing2 / (double) nchildren);
	fflush(stdout);
	free(uuids);
	hset128_free(s);
}

/* (g): build (add_many, then freeze) and batch probes of an fpset. */
static void
bench_fpset(size_t nparents, size_t nchildren)
{
	uint64_t *uuids = fk_malloc(nparents * 2 * sizeof(uint64_t));
	double	  build = 1e30, probe = 1e30;
	uint64_t  nmissing = 0;
	FpSet	 *s = NULL;

	for (size_t i = 0; i < nparents * 2; i++)
		uuids[i] = rng_next();
	for (int rep = 0; rep < REPS; rep++)
	{
		double t0 = now_sec();

		fpset_free(s);
		s = fpset_create();
		for (size_t done = 0; done < nparents; done += BATCH)
			fpset_add_many(s, (const Hash128 *) &uuids[done * 2], MIN(BATCH, nparents - done));
		fpset_freeze(s);
		build = MIN(build, now_sec() - t0);
	}
	for (int rep = 0; rep < REPS; rep++)
	{
		Hash128	 batch[BATCH];
		uint32_t missing[BATCH];
		double	 total = 0;

		nmissing = 0;
		for (size_t done = 0; done < nchildren; done += BATCH)
		{
			size_t n = MIN(BATCH, nchildren - done);
			double t0;

			for (size_t i = 0; i < n; i++)
			{
				uint64_t r = rng_next();

				if (r % 100 != 0)
					memcpy(&batch[i], &uuids[((r >> 8) % nparents) * 2], 16);
				else
					batch[i] = (Hash128){rng_next(), rng_next()};
			}
			t0 = now_sec();
			nmissing += fpset_probe_missing(s, batch, n, missing);
			total += now_sec() - t0;
		}
		probe = MIN(probe, total);
	}
	printf("%-32s size %zu, memory %.1f MB\n", "(g) fpset, random uuids", fpset_size(s),
		   (double) fpset_memory_bytes(s) / 1e6);
	printf("  build (add_many + freeze) %.1f ns/key; probe_missing %.3f s = %.2f ns/key "
		   "(%.2f%% missing)\n",
		   build * 1e9 / (double) nparents, probe, probe * 1e9 / (double) nchildren,
		   100.0 * (double) nmissing / (double) nchildren);
	fflush(stdout);
	free(uuids);
	fpset_free(s);
}

int
main(int argc, char **argv)
{
	size_t		nparents = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	size_t		nchildren = argc > 2 ? strtoull(argv[2], NULL, 10) : 50000000;
	const char *only = argc > 3 ? argv[3] : "abcefdg";
	Parents		dense, sparse, gappy, outlier;

	if (nparents < 2)
	{
		fprintf(stderr, "usage: bench_keyset [parents [children [variants]]]\n");
		return 2;
	}
	parents_init(&dense, nparents);
	parents_init(&sparse, nparents);
	parents_init(&gappy, nparents);
	parents_init(&outlier, nparents);
	for (size_t i = 0; i < nparents; i++)
	{
		dense.keys[i] = (int64_t) i + 1;
		sparse.keys[i] = (int64_t) rng_next();
		gappy.keys[i] = ((int64_t) i + 1) * 100;
		outlier.keys[i] = (int64_t) i + 1;
	}
	/* A sentinel at each end of int64: too sparse for one bitset. */
	outlier.keys[0] = INT64_MIN;
	outlier.keys[nparents - 1] = INT64_MAX;
	parents_range(&dense);
	parents_range(&sparse);
	parents_range(&gappy);
	parents_range(&outlier);

	printf("%zu parents, %zu children, batches of %d\n", nparents, nchildren, BATCH);
	if (strchr(only, 'a'))
		bench_keyset("(a) dense 1..N", &dense, nchildren, CHILD_DENSE, false);
	if (strchr(only, 'b'))
		bench_keyset("(b) sparse: random int64", &sparse, nchildren, CHILD_FROM_PARENTS, false);
	if (strchr(only, 'c'))
		bench_keyset("(c) dense, roaring forced", &dense, nchildren, CHILD_DENSE, true);
	if (strchr(only, 'e'))
		bench_keyset("(e) dense + INT64_MIN/MAX", &outlier, nchildren, CHILD_DENSE, false);
	if (strchr(only, 'f'))
		bench_keyset("(f) gappy: every 100th id", &gappy, nchildren, CHILD_FROM_PARENTS, false);
	if (strchr(only, 'd'))
		bench_hset(nparents, nchildren);
	if (strchr(only, 'g'))
		bench_fpset(nparents, nchildren);
	free(dense.keys);
	free(sparse.keys);
	free(gappy.keys);
	free(outlier.keys);
	return 0;
}
