/*
 * test.h
 *	  Tiny TAP-emitting assertions for the unit tests.
 *
 *	  ok(cond, "name"); is_int(got, want, "name"); is_str(got, want, "name");
 *	  return done_testing();
 */
#ifndef FKSCAN_TEST_H
#define FKSCAN_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_count;
static int test_failed;

static inline int
test_ok(int cond, const char *name, const char *file, int line)
{
	test_count++;
	if (cond)
		printf("ok %d - %s\n", test_count, name);
	else
	{
		test_failed++;
		printf("not ok %d - %s\n#   at %s line %d\n", test_count, name, file, line);
	}
	return cond;
}

#define ok(cond, name) test_ok((cond) ? 1 : 0, (name), __FILE__, __LINE__)

#define is_int(got, want, name)                                        \
	do                                                                 \
	{                                                                  \
		int64_t g_ = (int64_t) (got), w_ = (int64_t) (want);           \
		if (!test_ok(g_ == w_, (name), __FILE__, __LINE__))            \
			printf("#   got %" PRId64 ", want %" PRId64 "\n", g_, w_); \
	} while (0)

#define is_str(got, want, name)                                                              \
	do                                                                                       \
	{                                                                                        \
		const char *g_ = (got), *w_ = (want);                                                \
		int			same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                     \
		if (!test_ok(same_, (name), __FILE__, __LINE__))                                     \
			printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

static inline int
done_testing(void)
{
	printf("1..%d\n", test_count);
	if (test_failed)
		printf("# %d of %d tests failed\n", test_failed, test_count);
	return test_failed ? 1 : 0;
}

/* Reference sets of keys, for the key set tests: qsort/bsearch order. */
static inline int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a;
	int64_t y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* Sort and deduplicate keys in place; returns the new count. */
static inline size_t
sort_unique(int64_t *keys, size_t n)
{
	size_t m = 0;

	qsort(keys, n, sizeof(int64_t), cmp_i64);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || keys[m - 1] != keys[i])
			keys[m++] = keys[i];
	return m;
}

#endif /* FKSCAN_TEST_H */
