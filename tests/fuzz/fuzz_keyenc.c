/*
 * fuzz_keyenc.c
 *	  libFuzzer target for the canonical key encoder (keyenc_append).
 *
 * Input: byte 0 chooses the kind (byte 0 % 7: KEYENC_NONE .. KEYENC_FLOAT8);
 * its top bit passes length -1 (a NULL field) instead of the data.  The
 * rest is one field in PostgreSQL's binary send format, copied into an
 * allocation of exactly its size so AddressSanitizer catches any read past
 * it.
 *
 * Beyond "no crash", for every kind:
 *	- false leaves the buffer as it was; true appends exactly one value, a
 *	  4-byte big-endian length and that many bytes, after what was there;
 *	- the same bytes in another allocation encode the same (no dependence on
 *	  the address or on what lies around the field);
 *	- acceptance is exactly the format's own rule (a reference written here
 *	  separately, as plainly as possible), and the value is the canonical
 *	  form the reference computes: integers widened to int64, raw bytes
 *	  as sent, char(n) padding dropped, numerics with zero digits stripped
 *	  at both ends, their display scale dropped, every zero one zero and
 *	  every NaN one NaN (floats: -0 = +0, one NaN);
 *	- canonical is canonical: a numeric or float rebuilt from its encoding
 *	  (and a char(n) value so stripped) encodes the same again, and so do
 *	  the forms the server calls equal (another display scale, zero digits
 *	  added at either end, more trailing spaces, another NaN payload).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/copybin.h"
#include "fkscan/keyenc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NKINDS		 7
#define NUMERIC_NEG	 0x4000
#define NUMERIC_NAN	 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000

static const char prefix[] = "keep"; /* what the buffer held before */

static void
fail_check(KeyEncKind kind, const char *what)
{
	fprintf(stderr, "fuzz_keyenc: invariant broken (kind %d): %s\n", (int) kind, what);
	abort();
}

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void
put_i16(uint8_t *p, int v)
{
	p[0] = (uint8_t) ((unsigned) v >> 8);
	p[1] = (uint8_t) v;
}

/*
 * Encode data[0..len) (len < 0: a NULL field) into a buffer that already
 * holds prefix; check the framing.  Returns whether it was accepted; the
 * value (without its length word) goes to *val, malloc'd, or NULL.
 */
static bool
encode(KeyEncKind kind, const uint8_t *data, int32_t len, uint8_t **val, size_t *vlen)
{
	StrBuf	 out;
	uint8_t *copy = NULL;
	bool	 ok;

	*val = NULL;
	*vlen = 0;
	if (len > 0)
	{
		copy = malloc((size_t) len);
		if (copy == NULL)
			abort();
		memcpy(copy, data, (size_t) len);
	}
	strbuf_init(&out);
	strbuf_append(&out, prefix);
	ok = keyenc_append(kind, len > 0 ? copy : (const uint8_t *) "", len, &out);
	free(copy);
	if (out.len < sizeof(prefix) - 1 || memcmp(out.data, prefix, sizeof(prefix) - 1) != 0)
		fail_check(kind, "what the buffer held before was changed");
	if (!ok)
	{
		if (out.len != sizeof(prefix) - 1)
			fail_check(kind, "rejected, yet bytes were appended");
	}
	else
	{
		size_t		   n = out.len - (sizeof(prefix) - 1);
		const uint8_t *p = (const uint8_t *) out.data + sizeof(prefix) - 1;

		if (n < 4 || get_u32(p) != n - 4)
			fail_check(kind, "the appended value is not one length-prefixed value");
		*vlen = n - 4;
		*val = malloc(*vlen + 1);
		if (*val == NULL)
			abort();
		memcpy(*val, p + 4, *vlen);
	}
	strbuf_free(&out);
	return ok;
}

static void
require_same(KeyEncKind kind, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			 const char *what)
{
	if (alen != blen || memcmp(a, b, alen) != 0)
		fail_check(kind, what);
}

/* Encode another form of the value: it must be accepted and encode as val. */
static void
require_encodes_as(KeyEncKind kind, const uint8_t *form, int32_t len, const uint8_t *val,
				   size_t vlen, const char *what)
{
	uint8_t *v2;
	size_t	 v2len;

	if (!encode(kind, form, len, &v2, &v2len))
		fail_check(kind, what);
	require_same(kind, v2, v2len, val, vlen, what);
	free(v2);
}

/* ---- the reference: each kind's rule, written out ---- */

static bool
ref_int(const uint8_t *d, int32_t len, uint8_t *canon)
{
	int64_t v;

	if (len == 2)
		v = (int16_t) (((unsigned) d[0] << 8) | d[1]);
	else if (len == 4)
		v = (int32_t) get_u32(d);
	else if (len == 8)
		v = (int64_t) (((uint64_t) get_u32(d) << 32) | get_u32(d + 4));
	else
		return false;
	for (int i = 0; i < 8; i++)
		canon[i] = (uint8_t) ((uint64_t) v >> (56 - 8 * i));
	return true;
}

/* A numeric value in the clear: digits base 10000, the first worth 10000^weight. */
typedef struct Num
{
	int			   special; /* 0, or the sign word of NaN / +Inf / -Inf */
	bool		   neg;
	long		   weight;	/* of the first non-zero digit */
	int			   ndigits; /* without zero digits at either end; 0: zero */
	const uint8_t *digits;	/* 2 bytes each, as sent */
} Num;

static bool
ref_numeric(const uint8_t *d, int32_t len, Num *n)
{
	int		 nd, first, last;
	unsigned sign;

	if (len < 8)
		return false;
	nd = (int16_t) (((unsigned) d[0] << 8) | d[1]);
	sign = ((unsigned) d[4] << 8) | d[5];
	if (nd < 0 || len != 8 + 2 * nd)
		return false;
	memset(n, 0, sizeof(*n));
	if (sign == NUMERIC_NAN || sign == NUMERIC_PINF || sign == NUMERIC_NINF)
	{
		n->special = (int) sign;
		return true;
	}
	if (sign != 0 && sign != NUMERIC_NEG)
		return false;
	first = 0;
	last = nd;
	while (first < last && d[8 + 2 * first] == 0 && d[9 + 2 * first] == 0)
		first++;
	while (last > first && d[8 + 2 * (last - 1)] == 0 && d[9 + 2 * (last - 1)] == 0)
		last--;
	n->neg = sign == NUMERIC_NEG;
	n->weight = (long) (int16_t) (((unsigned) d[2] << 8) | d[3]) - first;
	n->ndigits = last - first;
	n->digits = d + 8 + 2 * first;
	return true;
}

/* numeric_send's layout for n: ndigits, weight, sign, dscale, digits. */
static uint8_t *
numeric_form(const Num *n, int lead_zeros, int trail_zeros, int dscale, int32_t *len)
{
	int		 nd = n->ndigits + lead_zeros + trail_zeros;
	uint8_t *p;

	if (n->special)
		nd = 0;
	*len = 8 + 2 * nd;
	p = calloc(1, (size_t) *len);
	if (p == NULL)
		abort();
	put_i16(p, nd);
	put_i16(p + 2, n->special ? 0 : (int) (n->weight + lead_zeros));
	put_i16(p + 4, n->special ? n->special : n->neg ? NUMERIC_NEG : 0);
	put_i16(p + 6, dscale);
	if (!n->special && n->ndigits > 0)
		memcpy(p + 8 + 2 * lead_zeros, n->digits, (size_t) (2 * n->ndigits));
	return p;
}

static void
check_numeric(const uint8_t *d, int32_t len, bool ok, const uint8_t *val, size_t vlen)
{
	const KeyEncKind kind = KEYENC_NUMERIC;
	Num				 n;
	uint8_t			*form;
	int32_t			 flen;

	if (ok != ref_numeric(d, len, &n))
		fail_check(kind, ok ? "accepted a malformed numeric" : "rejected a well-formed numeric");
	if (!ok)
		return;
	/* the value is the reference's canonical form */
	if (n.special)
	{
		uint8_t want[2] = {(uint8_t) (n.special >> 8), 0};

		require_same(kind, val, vlen, want, 2, "NaN/Infinity is not its one canonical form");
	}
	else if (n.ndigits == 0)
		require_same(kind, val, vlen, (const uint8_t *) "z", 1,
					 "zero is not the one canonical zero");
	else
	{
		/* sign, weight (int32), the digits from the first to the last non-zero */
		if (vlen != 5 + 2 * (size_t) n.ndigits || val[0] != (n.neg ? '-' : '+') ||
			memcmp(val + 5, n.digits, 2 * (size_t) n.ndigits) != 0)
			fail_check(kind, "sign or digits not as the value has them");
		if ((long) (int32_t) get_u32(val + 1) != n.weight)
			fail_check(kind, "the weight of the first non-zero digit does not survive the "
							 "encoding (two values could share one)");
	}
	/* rebuilt from the value, and other forms of it, encode the same */
	if (n.special || (n.weight >= -32768 && n.weight <= 32767))
	{
		form = numeric_form(&n, 0, 0, 0, &flen);
		require_encodes_as(kind, form, flen, val, vlen,
						   "not idempotent: the rebuilt numeric differs");
		free(form);
		form = numeric_form(&n, 0, 0, 16383, &flen);
		require_encodes_as(kind, form, flen, val, vlen, "the display scale changed the encoding");
		free(form);
		if (!n.special && n.ndigits + 2 <= 32767 && n.weight + 1 <= 32767)
		{
			form = numeric_form(&n, 1, 1, 3, &flen);
			require_encodes_as(kind, form, flen, val, vlen,
							   "zero digits at the ends changed the encoding");
			free(form);
		}
	}
	if (n.ndigits == 0 && !n.special)
	{
		/* -0, and zero at any weight, is zero */
		uint8_t negzero[8] = {0, 0, 0x7f, 0xff, 0x40, 0, 0, 9};

		require_encodes_as(kind, negzero, 8, val, vlen, "-0 is not 0");
	}
}

static void
check_float(KeyEncKind kind, const uint8_t *d, int32_t len, bool ok, const uint8_t *val,
			size_t vlen)
{
	int		width = kind == KEYENC_FLOAT4 ? 4 : 8;
	uint8_t want[8];
	uint8_t other[8];
	bool	nan, zero;

	if (ok != (len == width))
		fail_check(kind, ok ? "accepted a float of the wrong size" : "rejected a float");
	if (!ok)
		return;
	memcpy(want, d, (size_t) width);
	if (width == 4)
	{
		uint32_t bits = get_u32(d);

		nan = (bits & 0x7f800000U) == 0x7f800000U && (bits & 0x007fffffU) != 0;
		zero = (bits & 0x7fffffffU) == 0;
		if (nan)
			memcpy(want, "\x7f\xc0\x00\x00", 4);
		else if (zero)
			memset(want, 0, 4);
	}
	else
	{
		uint64_t bits = ((uint64_t) get_u32(d) << 32) | get_u32(d + 4);

		nan = (bits & 0x7ff0000000000000ULL) == 0x7ff0000000000000ULL &&
			  (bits & 0x000fffffffffffffULL) != 0;
		zero = (bits & 0x7fffffffffffffffULL) == 0;
		if (nan)
			memcpy(want, "\x7f\xf8\x00\x00\x00\x00\x00\x00", 8);
		else if (zero)
			memset(want, 0, 8);
	}
	require_same(kind, val, vlen, want, (size_t) width,
				 "not the value itself, -0 as +0 and one NaN");
	require_encodes_as(kind, val, width, val, vlen, "not idempotent");
	if (nan)
	{
		/* another payload, the other sign: the same NaN */
		memcpy(other, d, (size_t) width);
		other[0] ^= 0x80;
		other[width - 1] ^= 0x01;
		if (width == 4 ? (get_u32(other) & 0x007fffffU) != 0
					   : ((((uint64_t) get_u32(other) << 32) | get_u32(other + 4)) &
						  0x000fffffffffffffULL) != 0)
			require_encodes_as(kind, other, width, val, vlen, "NaNs encode differently");
	}
	if (zero)
	{
		memcpy(other, d, (size_t) width);
		other[0] ^= 0x80;
		require_encodes_as(kind, other, width, val, vlen, "-0 and +0 encode differently");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KeyEncKind	   kind;
	const uint8_t *d;
	int32_t		   len;
	uint8_t		  *val, *again;
	size_t		   vlen, alen;
	bool		   ok;

	if (size < 1 || size - 1 > 1 << 20)
		return 0;
	kind = (KeyEncKind) (data[0] % NKINDS);
	d = data + 1;
	len = (data[0] & 0x80) ? -1 : (int32_t) (size - 1);

	ok = encode(kind, d, len, &val, &vlen);
	/* the same bytes elsewhere: the same answer */
	if (encode(kind, d, len, &again, &alen) != ok)
		fail_check(kind, "the same field was accepted once and rejected once");
	if (ok)
		require_same(kind, val, vlen, again, alen, "the same field encoded two ways");
	free(again);

	if (len < 0 || kind == KEYENC_NONE)
	{
		if (ok)
			fail_check(kind,
					   len < 0 ? "accepted a negative length" : "KEYENC_NONE accepted a field");
		free(val);
		return 0;
	}
	switch (kind)
	{
		case KEYENC_INT:
		{
			uint8_t canon[8];

			if (ok != ref_int(d, len, canon))
				fail_check(kind, ok ? "accepted a malformed integer" : "rejected an integer");
			if (ok)
				require_same(kind, val, vlen, canon, 8, "not the value widened to int64");
			break;
		}
		case KEYENC_RAW:
			if (!ok)
				fail_check(kind, "rejected raw bytes");
			require_same(kind, val, vlen, d, (size_t) len, "raw bytes were changed");
			break;
		case KEYENC_BPCHAR:
		{
			int32_t	 n = len;
			uint8_t *padded;

			if (!ok)
				fail_check(kind, "rejected a string");
			while (n > 0 && d[n - 1] == ' ')
				n--;
			require_same(kind, val, vlen, d, (size_t) n,
						 "not the string without its trailing spaces");
			require_encodes_as(kind, val, (int32_t) vlen, val, vlen, "not idempotent");
			padded = malloc((size_t) len + 3);
			if (padded == NULL)
				abort();
			memcpy(padded, d, (size_t) len);
			memcpy(padded + len, "   ", 3);
			require_encodes_as(kind, padded, len + 3, val, vlen,
							   "more padding changed the encoding");
			free(padded);
			break;
		}
		case KEYENC_NUMERIC:
			check_numeric(d, len, ok, val, vlen);
			break;
		case KEYENC_FLOAT4:
		case KEYENC_FLOAT8:
			check_float(kind, d, len, ok, val, vlen);
			break;
		case KEYENC_NONE:
			break;
	}
	free(val);
	return 0;
}
