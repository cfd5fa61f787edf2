/*
 * test_candset.c
 *	  Candidate keys: dedup by fingerprint, counts, raw values, merge.
 */
#include <stdio.h>
#include <string.h>

#include "fkscan/candset.h"
#include "test.h"

static Hash128
h(uint64_t v)
{
	Hash128 x = {v * 0x9E3779B97F4A7C15ULL, v};

	return x;
}

int
main(void)
{
	CandSet		  *a = candset_create(2);
	CandSet		  *b = candset_create(2);
	int			   cols[2] = {1, 0};
	char		   buf[32];
	int32_t		   len;
	const uint8_t *v;

	for (int i = 0; i < 5000; i++)
	{
		CopyField f[2];

		snprintf(buf, sizeof(buf), "key%d", i % 1000);
		f[0].data = (const uint8_t *) "x";
		f[0].len = 1;
		f[1].data = (const uint8_t *) buf;
		f[1].len = (int32_t) strlen(buf);
		candset_add(i < 2500 ? a : b, h((uint64_t) (i % 1000)), f, cols);
	}
	is_int(candset_size(a), 1000, "a: 1000 distinct keys");
	is_int(candset_rows(a, candset_find(a, h(7))), 3, "a: key 7 seen 3 times");
	v = candset_value(a, candset_find(a, h(42)), 0, &len);
	ok(len == 5 && memcmp(v, "key42", 5) == 0, "a: first column is fields[1]");
	v = candset_value(a, candset_find(a, h(42)), 1, &len);
	ok(len == 1 && v[0] == 'x', "a: second column is fields[0]");
	candset_merge_inplace(a, b);
	is_int(candset_size(a), 1000, "merged: still 1000 keys");
	is_int(candset_rows(a, candset_find(a, h(7))), 5, "merged: key 7 counted 5 times");
	is_int(candset_find(a, h(5000)), UINT32_MAX, "absent key not found");
	{
		uint64_t total = 0;

		for (uint32_t i = 0; i < candset_size(a); i++)
			total += candset_rows(a, i);
		is_int(total, 5000, "merged: every row counted once");
	}
	{
		CopyField nullf[1] = {{NULL, -1}};
		int		  c0[1] = {0};
		CandSet	 *n = candset_create(1);

		candset_add(n, h(1), nullf, c0);
		candset_value(n, 0, 0, &len);
		is_int(len, -1, "a NULL value keeps length -1");
		candset_free(n);
	}
	{
		/* a --state chunk record's candidate: many rows at once */
		CopyField f[1] = {{(const uint8_t *) "ab", 2}};
		int		  c0[1] = {0};
		CandSet	 *n = candset_create(1);

		is_int(candset_nkeys(n), 1, "nkeys");
		candset_add_rows(n, h(9), f, c0, 41);
		candset_add(n, h(9), f, c0);
		is_int(candset_size(n), 1, "add_rows: one key");
		is_int(candset_rows(n, 0), 42, "add_rows: its rows added up");
		candset_free(n);
	}
	candset_free(a);
	candset_free(b);
	candset_free(NULL);
	return done_testing();
}
