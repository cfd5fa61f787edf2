/*
 * keyenc.c
 *	  Canonical encodings of binary send formats; see keyenc.h.
 */
#include "fkscan/keyenc.h"

#include <string.h>

#include "fkscan/copybin.h"

/* Type OIDs from pg_type.dat (stable across versions). */
#define BOOLOID		   16
#define BYTEAOID	   17
#define CHAROID		   18
#define TEXTOID		   25
#define OIDOID		   26
#define FLOAT4OID	   700
#define FLOAT8OID	   701
#define MONEYOID	   790
#define MACADDR8OID	   774
#define MACADDROID	   829
#define BPCHAROID	   1042
#define VARCHAROID	   1043
#define DATEOID		   1082
#define TIMEOID		   1083
#define TIMESTAMPOID   1114
#define TIMESTAMPTZOID 1184
#define TIMETZOID	   1266
#define NUMERICOID	   1700
#define UUIDOID		   2950

#define NUMERIC_NEG	 0x4000
#define NUMERIC_NAN	 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000

/* Same-type pairs whose send bytes are equal exactly when the values are. */
static bool
raw_safe(Oid t)
{
	switch (t)
	{
		case BOOLOID:
		case BYTEAOID:
		case CHAROID:
		case OIDOID:
		case MONEYOID:
		case MACADDROID:
		case MACADDR8OID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case TIMETZOID:
		case UUIDOID:
			return true;
		default:
			return false;
	}
}

static bool
text_family(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID;
}

static bool
int_type(Oid t)
{
	return t == FK_INT2OID || t == FK_INT4OID || t == FK_INT8OID;
}

/*
 * A text-family side's encoding: char(n) semantics (trailing blanks
 * insignificant) when the column is char(n), whose cast to text drops its
 * padding, or when the operator compares as char(n).  An unknown operator
 * type (0) is taken as the column's own.
 */
static KeyEncKind
text_side(const CatColumn *col)
{
	return col->base_type_oid == BPCHAROID || col->op_type_oid == BPCHAROID ? KEYENC_BPCHAR
																			: KEYENC_RAW;
}

static KeyEncKind
same_kind(const CatColumn *child, const CatColumn *parent, const char **reason)
{
	Oid c = child->base_type_oid;
	Oid p = parent->base_type_oid;

	if (int_type(c) && int_type(p))
		return KEYENC_INT;
	if (c != p)
	{
		*reason = "cross-type key";
		return KEYENC_NONE;
	}
	/* enum_send sends the label: within one type, one label is one value */
	if (raw_safe(c) || child->is_enum)
		return KEYENC_RAW;
	if (c == NUMERICOID)
		return KEYENC_NUMERIC;
	if (c == FLOAT4OID)
		return KEYENC_FLOAT4;
	if (c == FLOAT8OID)
		return KEYENC_FLOAT8;
	*reason = "key type";
	return KEYENC_NONE;
}

KeyEncPair
keyenc_pair(const CatColumn *child, const CatColumn *parent, const char **reason)
{
	KeyEncPair pair;

	*reason = NULL;
	if (text_family(child->base_type_oid) && text_family(parent->base_type_oid))
	{
		/* RI compares with the parent column's collation */
		if (!parent->collation_deterministic || !child->collation_deterministic)
		{
			*reason = "nondeterministic collation";
			pair.child = pair.parent = KEYENC_NONE;
			return pair;
		}
		pair.child = text_side(child);
		pair.parent = text_side(parent);
		return pair;
	}
	pair.child = pair.parent = same_kind(child, parent, reason);
	return pair;
}

static void
append_u32(StrBuf *out, uint32_t v)
{
	char b[4] = {(char) (v >> 24), (char) (v >> 16), (char) (v >> 8), (char) v};

	strbuf_append_len(out, b, 4);
}

static void
append_field(StrBuf *out, const void *data, size_t len)
{
	append_u32(out, (uint32_t) len);
	strbuf_append_len(out, data, len);
}

/* numeric_send: ndigits, weight, sign, dscale (int16 each), then digits. */
static bool
append_numeric(const uint8_t *d, int32_t len, StrBuf *out)
{
	int		 ndigits, weight, first, last;
	uint16_t sign;
	StrBuf	 canon;

	if (len < 8)
		return false;
	ndigits = copybin_int16(d);
	weight = copybin_int16(d + 2);
	sign = (uint16_t) copybin_int16(d + 4);
	if (ndigits < 0 || len != 8 + 2 * ndigits)
		return false;
	if (sign == NUMERIC_NAN || sign == NUMERIC_PINF || sign == NUMERIC_NINF)
	{
		uint8_t special[2] = {(uint8_t) (sign >> 8), 0};

		append_field(out, special, 2);
		return true;
	}
	if (sign != 0 && sign != NUMERIC_NEG)
		return false;
	/* strip zero digits at both ends; leading ones shift the weight */
	first = 0;
	last = ndigits;
	while (first < last && copybin_int16(d + 8 + 2 * first) == 0)
	{
		first++;
		weight--;
	}
	while (last > first && copybin_int16(d + 8 + 2 * (last - 1)) == 0)
		last--;
	strbuf_init(&canon);
	if (first == last)
		strbuf_append_char(&canon, 'z'); /* zero: sign and weight do not matter */
	else
	{
		/*
		 * Four bytes of weight: stripping leading zero digits can take it
		 * below int16's range, and a value's weight must never wrap onto
		 * another's.
		 */
		uint32_t w = (uint32_t) weight;
		char	 hdr[5] = {sign ? '-' : '+', (char) (w >> 24), (char) (w >> 16), (char) (w >> 8),
					   (char) w};

		strbuf_append_len(&canon, hdr, 5);
		strbuf_append_len(&canon, (const char *) d + 8 + 2 * first, (size_t) (2 * (last - first)));
	}
	append_field(out, canon.data, canon.len);
	strbuf_free(&canon);
	return true;
}

static bool
append_float(const uint8_t *d, int32_t len, int width, StrBuf *out)
{
	uint8_t b[8];

	if (len != width)
		return false;
	memcpy(b, d, (size_t) width);
	if (width == 8)
	{
		uint64_t bits = (uint64_t) copybin_int64(b);
		bool	 nan = (bits & 0x7ff0000000000000ULL) == 0x7ff0000000000000ULL &&
				   (bits & 0x000fffffffffffffULL) != 0;

		if (nan)
			bits = 0x7ff8000000000000ULL;
		else if ((bits & 0x7fffffffffffffffULL) == 0)
			bits = 0; /* -0 = +0 */
		for (int i = 7; i >= 0; i--, bits >>= 8)
			b[i] = (uint8_t) bits;
	}
	else
	{
		uint32_t bits = (uint32_t) copybin_int32(b);
		bool	 nan = (bits & 0x7f800000U) == 0x7f800000U && (bits & 0x007fffffU) != 0;

		if (nan)
			bits = 0x7fc00000U;
		else if ((bits & 0x7fffffffU) == 0)
			bits = 0;
		for (int i = 3; i >= 0; i--, bits >>= 8)
			b[i] = (uint8_t) bits;
	}
	append_field(out, b, (size_t) width);
	return true;
}

bool
keyenc_append(KeyEncKind kind, const uint8_t *data, int32_t len, StrBuf *out)
{
	if (len < 0)
		return false;
	switch (kind)
	{
		case KEYENC_INT:
		{
			int64_t v;
			uint8_t b[8];

			if (!copybin_int_field(data, len, &v))
				return false;
			for (int i = 7; i >= 0; i--, v = (int64_t) ((uint64_t) v >> 8))
				b[i] = (uint8_t) v;
			append_field(out, b, 8);
			return true;
		}
		case KEYENC_RAW:
			append_field(out, data, (size_t) len);
			return true;
		case KEYENC_BPCHAR:
			while (len > 0 && data[len - 1] == ' ')
				len--;
			append_field(out, data, (size_t) len);
			return true;
		case KEYENC_NUMERIC:
			return append_numeric(data, len, out);
		case KEYENC_FLOAT4:
			return append_float(data, len, 4, out);
		case KEYENC_FLOAT8:
			return append_float(data, len, 8, out);
		case KEYENC_NONE:
			break;
	}
	return false;
}
