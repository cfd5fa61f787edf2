/*
 * test_keyenc.c
 *	  Canonical key bytes: values the server calls equal encode equally,
 *	  values it does not, differently.
 */
#include <stdlib.h>
#include <string.h>

#include "fkscan/keyenc.h"
#include "test.h"

static char *
enc(KeyEncKind kind, const uint8_t *d, int32_t len, size_t *outlen)
{
	StrBuf b;

	strbuf_init(&b);
	if (!keyenc_append(kind, d, len, &b))
	{
		strbuf_free(&b);
		return NULL;
	}
	*outlen = b.len;
	return strbuf_take(&b);
}

static int
same(KeyEncKind ka, const uint8_t *a, int32_t la, KeyEncKind kb, const uint8_t *b, int32_t lb)
{
	size_t na = 0, nb = 0;
	char  *x = enc(ka, a, la, &na);
	char  *y = enc(kb, b, lb, &nb);
	int	   r = x && y && na == nb && memcmp(x, y, na) == 0;

	free(x);
	free(y);
	return r;
}

static CatColumn
col(Oid type, bool deterministic)
{
	CatColumn c;

	memset(&c, 0, sizeof(c));
	c.base_type_oid = type;
	c.collation_deterministic = deterministic;
	return c;
}

int
main(void)
{
	const char *reason;

	/* integers of every width meet as int64 */
	{
		uint8_t i2[2] = {0xff, 0xfe}; /* -2 */
		uint8_t i4[4] = {0xff, 0xff, 0xff, 0xfe};
		uint8_t i8[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
		uint8_t i8b[8] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe}; /* 4294967294 */

		ok(same(KEYENC_INT, i2, 2, KEYENC_INT, i8, 8), "int2 -2 = int8 -2");
		ok(same(KEYENC_INT, i4, 4, KEYENC_INT, i8, 8), "int4 -2 = int8 -2");
		ok(!same(KEYENC_INT, i4, 4, KEYENC_INT, i8b, 8), "int4 -2 <> int8 4294967294");
		ok(!same(KEYENC_INT, i4, 3, KEYENC_INT, i4, 3), "a 3-byte integer is malformed");
	}
	/* numeric: 1.00 = 1.0 = 1; 10000 <> 1; -0 = 0; NaN = NaN */
	{
		/* ndigits, weight, sign, dscale, digits */
		uint8_t one_00[10] = {0, 1, 0, 0, 0, 0, 0, 2, 0, 1};
		uint8_t one_0[10] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 1};
		uint8_t one_pad[12] = {0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}; /* leading zero digit */
		uint8_t ten_k[10] = {0, 1, 0, 1, 0, 0, 0, 0, 0, 1};
		uint8_t neg_one[10] = {0, 1, 0, 0, 0x40, 0, 0, 0, 0, 1};
		uint8_t zero[8] = {0, 0, 0, 0, 0, 0, 0, 3};
		uint8_t neg_zero[8] = {0, 0, 0, 0, 0x40, 0, 0, 1};
		uint8_t nan1[8] = {0, 0, 0, 0, 0xC0, 0, 0, 0};
		uint8_t nan2[8] = {0, 0, 0, 0, 0xC0, 0, 0, 5};
		uint8_t trail[12] = {0, 2, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0}; /* 1.0000 0000 */
		uint8_t bad[9] = {0, 1, 0, 0, 0, 0, 0, 2, 0};

		ok(same(KEYENC_NUMERIC, one_00, 10, KEYENC_NUMERIC, one_0, 10), "numeric 1.00 = 1.0");
		ok(same(KEYENC_NUMERIC, one_00, 10, KEYENC_NUMERIC, one_pad, 12),
		   "numeric leading zero digit stripped");
		ok(same(KEYENC_NUMERIC, one_00, 10, KEYENC_NUMERIC, trail, 12),
		   "numeric trailing zero digits stripped");
		ok(!same(KEYENC_NUMERIC, one_0, 10, KEYENC_NUMERIC, ten_k, 10), "numeric 1 <> 10000");
		ok(!same(KEYENC_NUMERIC, one_0, 10, KEYENC_NUMERIC, neg_one, 10), "numeric 1 <> -1");
		ok(same(KEYENC_NUMERIC, zero, 8, KEYENC_NUMERIC, neg_zero, 8), "numeric -0 = 0");
		ok(same(KEYENC_NUMERIC, nan1, 8, KEYENC_NUMERIC, nan2, 8), "numeric NaN = NaN");
		ok(!same(KEYENC_NUMERIC, nan1, 8, KEYENC_NUMERIC, zero, 8), "numeric NaN <> 0");
		ok(!same(KEYENC_NUMERIC, bad, 9, KEYENC_NUMERIC, bad, 9),
		   "numeric with a short digit is malformed");
	}
	/*
	 * numeric weights past int16 once leading zero digits are stripped
	 * (found by fuzz_keyenc): 1 * 10000^-32769 <> 1 * 10000^32767
	 */
	{
		uint8_t tiny[12] = {0, 2, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 1};
		uint8_t huge[10] = {0, 1, 0x7f, 0xff, 0, 0, 0, 0, 0, 1};

		ok(!same(KEYENC_NUMERIC, tiny, 12, KEYENC_NUMERIC, huge, 10),
		   "numeric weight below int16 after stripping does not wrap onto another value");
	}
	/* floats: -0 = 0, every NaN equal, 1 <> 2 */
	{
		uint8_t pz[8] = {0};
		uint8_t nz[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
		uint8_t nan_a[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
		uint8_t nan_b[8] = {0xff, 0xf8, 0, 0, 0, 0, 0, 1};
		uint8_t inf[8] = {0x7f, 0xf0, 0, 0, 0, 0, 0, 0};
		uint8_t f4n[4] = {0x80, 0, 0, 0};
		uint8_t f4p[4] = {0, 0, 0, 0};
		uint8_t f4nan_a[4] = {0x7f, 0xc0, 0, 0};
		uint8_t f4nan_b[4] = {0xff, 0x80, 0, 1};

		ok(same(KEYENC_FLOAT8, pz, 8, KEYENC_FLOAT8, nz, 8), "float8 -0 = 0");
		ok(same(KEYENC_FLOAT8, nan_a, 8, KEYENC_FLOAT8, nan_b, 8), "float8 NaNs are equal");
		ok(!same(KEYENC_FLOAT8, nan_a, 8, KEYENC_FLOAT8, inf, 8), "float8 NaN <> Infinity");
		ok(same(KEYENC_FLOAT4, f4n, 4, KEYENC_FLOAT4, f4p, 4), "float4 -0 = 0");
		ok(same(KEYENC_FLOAT4, f4nan_a, 4, KEYENC_FLOAT4, f4nan_b, 4), "float4 NaNs are equal");
	}
	/* char(n): trailing spaces do not count; leading ones do */
	{
		ok(same(KEYENC_BPCHAR, (const uint8_t *) "ab   ", 5, KEYENC_BPCHAR, (const uint8_t *) "ab",
				2),
		   "bpchar 'ab   ' = 'ab'");
		ok(!same(KEYENC_BPCHAR, (const uint8_t *) " ab", 3, KEYENC_BPCHAR, (const uint8_t *) "ab",
				 2),
		   "bpchar ' ab' <> 'ab'");
		ok(!same(KEYENC_RAW, (const uint8_t *) "ab ", 3, KEYENC_RAW, (const uint8_t *) "ab", 2),
		   "text 'ab ' <> 'ab'");
	}
	/* composite keys: lengths keep ('a','bc') apart from ('ab','c') */
	{
		StrBuf x, y;

		strbuf_init(&x);
		strbuf_init(&y);
		keyenc_append(KEYENC_RAW, (const uint8_t *) "a", 1, &x);
		keyenc_append(KEYENC_RAW, (const uint8_t *) "bc", 2, &x);
		keyenc_append(KEYENC_RAW, (const uint8_t *) "ab", 2, &y);
		keyenc_append(KEYENC_RAW, (const uint8_t *) "c", 1, &y);
		ok(x.len != y.len || memcmp(x.data, y.data, x.len) != 0, "('a','bc') <> ('ab','c')");
		strbuf_free(&x);
		strbuf_free(&y);
	}
	/* which pairs the client may handle */
	{
		CatColumn i4 = col(FK_INT4OID, true), i8 = col(FK_INT8OID, true), txt = col(25, true),
				  bp = col(1042, true), vc = col(1043, true), ci = col(25, false),
				  num = col(1700, true), uuid = col(2950, true), jsonb = col(3802, true),
				  ts = col(1114, true), tstz = col(1184, true);

		KeyEncPair e;

		is_int(keyenc_pair(&i4, &i8, &reason).child, KEYENC_INT, "int4 -> int8: int");
		is_int(keyenc_pair(&txt, &txt, &reason).parent, KEYENC_RAW, "text -> text: raw");
		is_int(keyenc_pair(&txt, &ci, &reason).child, KEYENC_NONE,
			   "nondeterministic parent: server");
		is_int(keyenc_pair(&num, &num, &reason).child, KEYENC_NUMERIC, "numeric: numeric");
		is_int(keyenc_pair(&i4, &num, &reason).parent, KEYENC_NONE, "int -> numeric: server");
		is_int(keyenc_pair(&uuid, &uuid, &reason).child, KEYENC_RAW, "uuid: raw");
		is_int(keyenc_pair(&jsonb, &jsonb, &reason).child, KEYENC_NONE, "jsonb: server");
		is_int(keyenc_pair(&ts, &tstz, &reason).child, KEYENC_NONE,
			   "timestamp -> timestamptz: server");
		ok(reason != NULL, "a reason is given for the server");

		/* text family: each side by (column type, operator input type), as RI casts */
		txt.op_type_oid = bp.op_type_oid = 1042; /* =(bpchar,bpchar) */
		e = keyenc_pair(&txt, &bp, &reason);
		ok(e.child == KEYENC_BPCHAR && e.parent == KEYENC_BPCHAR,
		   "text -> char(n) under =(bpchar,bpchar): blanks insignificant on both sides");
		txt.op_type_oid = bp.op_type_oid = 25; /* =(text,text) */
		e = keyenc_pair(&bp, &txt, &reason);
		ok(e.child == KEYENC_BPCHAR && e.parent == KEYENC_RAW,
		   "char(n) -> text under =(text,text): the child's padding goes, the parent's blanks "
		   "count");
		e = keyenc_pair(&txt, &txt, &reason);
		ok(e.child == KEYENC_RAW && e.parent == KEYENC_RAW, "text -> text: raw on both sides");
		vc.op_type_oid = 25;
		e = keyenc_pair(&bp, &vc, &reason);
		ok(e.child == KEYENC_BPCHAR && e.parent == KEYENC_RAW,
		   "char(n) -> varchar under =(text,text): the parent's blanks count");
	}
	/* the fingerprint: one rule for every hashed set and lookup */
	{
		uint8_t	   i2[2] = {0, 7};
		uint8_t	   i8[8] = {0, 0, 0, 0, 0, 0, 0, 7};
		uint8_t	   t[2] = {'a', ' '};
		KeyEncKind ints[2] = {KEYENC_INT, KEYENC_INT};
		KeyEncKind mixed[2] = {KEYENC_INT, KEYENC_BPCHAR};
		KeyEncKind raw[2] = {KEYENC_INT, KEYENC_RAW};
		CopyField  a[2] = {{i2, 2}, {i8, 8}};
		CopyField  b[3] = {{t, 1}, {i8, 8}, {i8, 8}}; /* picked by cols */
		CopyField  c[2] = {{i8, 8}, {t, 2}};
		CopyField  d[2] = {{i8, 8}, {t, 1}};
		CopyField  bad[2] = {{i8, 3}, {i8, 8}};
		int		   cols[2] = {2, 1};
		Hash128	   ha, hb, hc, hd;
		StrBuf	   scratch;

		strbuf_init(&scratch);
		ok(keyenc_fingerprint(a, NULL, ints, 2, &scratch, &ha) &&
			   keyenc_fingerprint(b, cols, ints, 2, &scratch, &hb) &&
			   memcmp(&ha, &hb, sizeof(ha)) == 0,
		   "fingerprint: (int2 7, int8 7) = fields picked by cols (int8 7, int8 7)");
		ok(keyenc_fingerprint(c, NULL, mixed, 2, &scratch, &hc) &&
			   keyenc_fingerprint(d, NULL, mixed, 2, &scratch, &hd) &&
			   memcmp(&hc, &hd, sizeof(hc)) == 0,
		   "fingerprint: char(n) 'a ' = 'a' under the bpchar rule");
		ok(keyenc_fingerprint(c, NULL, raw, 2, &scratch, &hc) &&
			   keyenc_fingerprint(d, NULL, raw, 2, &scratch, &hd) &&
			   memcmp(&hc, &hd, sizeof(hc)) != 0,
		   "fingerprint: text 'a ' <> 'a'");
		ok(!keyenc_fingerprint(bad, NULL, ints, 2, &scratch, &ha),
		   "fingerprint: a malformed field fails");
		strbuf_free(&scratch);
	}
	/* RI's NULL rule */
	{
		uint8_t	  v[8] = {0};
		CopyField none[2] = {{v, 8}, {v, 8}};
		CopyField one[2] = {{v, 8}, {NULL, -1}};
		CopyField all[2] = {{NULL, -1}, {NULL, -1}};
		int		  rev[2] = {1, 0};

		ok(keyenc_nulls(none, NULL, 2, false) == KEY_NO_NULLS &&
			   keyenc_nulls(none, NULL, 2, true) == KEY_NO_NULLS,
		   "nulls: no NULL is checked");
		ok(keyenc_nulls(one, NULL, 2, false) == KEY_EXEMPT, "nulls: MATCH SIMPLE exempts any NULL");
		ok(keyenc_nulls(one, rev, 2, true) == KEY_MIXED_NULLS,
		   "nulls: MATCH FULL, mixed: a violation");
		ok(keyenc_nulls(all, NULL, 2, true) == KEY_EXEMPT, "nulls: MATCH FULL, all NULL: exempt");
		ok(keyenc_nulls(one, NULL, 1, true) == KEY_NO_NULLS,
		   "nulls: only the key's own columns count");
	}
	return done_testing();
}
