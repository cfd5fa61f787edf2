/*
 * bench_copybin.c
 *	  Micro-benchmark of the binary COPY decoder on the shape of a real scan:
 *	  one int8 key per row, 1% NULL.
 *
 * Usage: bench_copybin [ROWS [REPEATS]]   (default 50000000 rows, best of 3)
 *
 * The stream is built in memory once, then decoded four ways: (a) one feed
 * per row, the way libpq hands over CopyData messages (header glued to the
 * first row, trailer alone); (b) in 64 kB buffers, the way a file or a
 * socket read would deliver it; (c) and (d) the same in key mode (batches
 * of int64 keys, copybin_feed_keys), which is the hot path in production
 * for integer keys: (c) is what a scan's decoding costs.  The callbacks sum
 * the keys and the sum is checked, so the decoding cannot be optimised away
 * and a wrong decode fails the benchmark.
 */
#include "fkscan/copybin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fkscan/mem.h"

#define HEADER_LEN	 19
#define ROW_LEN		 14 /* count, length, 8 bytes */
#define NULL_ROW_LEN 6	/* count, length -1 */
#define CHUNK		 (64 * 1024)

typedef struct Sum
{
	int64_t	 sum;
	uint64_t nulls;
} Sum;

static bool
sum_row(void *arg, const CopyField *f, int nfields)
{
	Sum *s = arg;

	(void) nfields;
	if (f[0].len == 8)
		s->sum += copybin_int64(f[0].data);
	else
		s->nulls++;
	return true;
}

static bool
sum_keys(void *arg, const CopyKeyBatch *b)
{
	Sum *s = arg;

	for (size_t i = 0; i < b->nkeys; i++)
		s->sum += b->keys[i];
	s->nulls += b->nnulls;
	return true;
}

/* Feed in key mode or row mode, whichever d is. */
static bool
feed(CopyBinDecoder *d, bool keys, const uint8_t *buf, size_t len, Sum *s)
{
	return keys ? copybin_feed_keys(d, buf, len) : copybin_feed(d, buf, len, sum_row, s);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* xorshift64: values and NULL positions without libc's rand() */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

int
main(int argc, char **argv)
{
	static const uint8_t signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
	uint64_t			 nrows = argc > 1 ? strtoull(argv[1], NULL, 10) : 50000000;
	int					 repeats = argc > 2 ? atoi(argv[2]) : 3;
	uint64_t			 rng = 0x9e3779b97f4a7c15;
	uint8_t				*isnull = fk_calloc(nrows / 8 + 1, 1);
	uint8_t				*stream;
	uint8_t				*p;
	size_t				 len;
	int64_t				 want_sum = 0;
	uint64_t			 want_nulls = 0;
	CopyBinDecoder		*rowd = copybin_create(1);
	Sum					 ks = {0, 0};
	CopyBinDecoder		*keyd = copybin_create_keys(sum_keys, &ks);

	if (nrows == 0 || repeats < 1)
	{
		fprintf(stderr, "usage: bench_copybin [ROWS [REPEATS]]\n");
		return 2;
	}

	/* build the stream */
	stream = fk_malloc(HEADER_LEN + nrows * ROW_LEN + 2);
	p = stream;
	memcpy(p, signature, sizeof(signature));
	put32(p + 11, 0);
	put32(p + 15, 0);
	p += HEADER_LEN;
	for (uint64_t i = 0; i < nrows; i++)
	{
		uint64_t r = next_random(&rng);

		p[0] = 0;
		p[1] = 1;
		if (r % 100 == 0)
		{
			isnull[i / 8] |= (uint8_t) (1 << (i % 8));
			put32(p + 2, 0xffffffff);
			p += NULL_ROW_LEN;
			want_nulls++;
		}
		else
		{
			/* keys up to 2^40, like a big table's ids */
			int64_t key = (int64_t) (r >> 24);

			put32(p + 2, 8);
			put32(p + 6, (uint32_t) ((uint64_t) key >> 32));
			put32(p + 10, (uint32_t) key);
			p += ROW_LEN;
			want_sum += key;
		}
	}
	p[0] = 0xff;
	p[1] = 0xff;
	p += 2;
	len = (size_t) (p - stream);
	printf("stream: %" PRIu64 " rows, %" PRIu64 " NULL, %zu bytes\n", nrows, want_nulls, len);

	for (int mode = 0; mode < 4; mode++)
	{
		static const char *const names[] = {"(a) per-row messages", "(b) 64 kB buffers",
											"(c) keys, per-row", "(d) keys, 64 kB"};
		bool					 keys = mode >= 2;
		CopyBinDecoder			*d = keys ? keyd : rowd;
		double					 best = 1e30;

		for (int rep = 0; rep < repeats; rep++)
		{
			Sum	   s0 = {0, 0};
			Sum	  *sp = keys ? &ks : &s0;
			bool   fed = true;
			double t0, t;

			copybin_reset(d);
			ks.sum = 0;
			ks.nulls = 0;
			t0 = now();
			if (mode % 2 == 0)
			{
				/* per-row messages: the header rides with row 0 */
				const uint8_t *m = stream;
				size_t		   mlen = HEADER_LEN;

				for (uint64_t i = 0; i < nrows && fed; i++)
				{
					mlen += (isnull[i / 8] >> (i % 8)) & 1 ? NULL_ROW_LEN : ROW_LEN;
					fed = feed(d, keys, m, mlen, sp);
					m += mlen;
					mlen = 0;
				}
				if (fed)
					fed = feed(d, keys, m, 2, sp);
			}
			else
			{
				for (size_t off = 0; off < len && fed; off += CHUNK)
					fed = feed(d, keys, stream + off, len - off < CHUNK ? len - off : CHUNK, sp);
			}
			if (!fed || !copybin_finish(d))
			{
				fprintf(stderr, "bench_copybin: decode failed: %s\n", copybin_error(d));
				return 1;
			}
			t = now() - t0;
			if (sp->sum != want_sum || sp->nulls != want_nulls || copybin_rows(d) != nrows)
			{
				fprintf(stderr, "bench_copybin: wrong result (sum %" PRId64 ", want %" PRId64 ")\n",
						sp->sum, want_sum);
				return 1;
			}
			if (t < best)
				best = t;
		}
		printf("%-22s %8.3f s  %6.2f ns/row  %7.1f M rows/s  (best of %d)\n", names[mode], best,
			   best * 1e9 / (double) nrows, (double) nrows / best / 1e6, repeats);
	}

	copybin_free(rowd);
	copybin_free(keyd);
	free(stream);
	free(isnull);
	return 0;
}
