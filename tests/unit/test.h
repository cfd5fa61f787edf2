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
#include <string.h>

static int	test_count;
static int	test_failed;

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

#define is_int(got, want, name) \
	do { \
		int64_t g_ = (int64_t) (got), w_ = (int64_t) (want); \
		if (!test_ok(g_ == w_, (name), __FILE__, __LINE__)) \
			printf("#   got %" PRId64 ", want %" PRId64 "\n", g_, w_); \
	} while (0)

#define is_str(got, want, name) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_; \
		if (!test_ok(same_, (name), __FILE__, __LINE__)) \
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

#endif /* FKSCAN_TEST_H */
