/*
 * test_copybin.c
 *	  Unit tests for the binary COPY decoder: known vectors, every truncation
 *	  and split point, corrupt input, stops, reset and reuse; the same for
 *	  key mode (batches of integer keys), plus batch boundaries and bad keys.
 *
 * The vectors are written out byte by byte as PostgreSQL 15 sends them
 * (reference/pg-internals.md section 9).  A collector callback renders every
 * row as text ("42,N,'hi';"), so each test compares decoded values, not just
 * the absence of a crash, and a split or truncated feed must reproduce
 * exactly the rows of the whole stream.
 */
#include "fkscan/copybin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"
#include "fkscan/strbuf.h"
#include "test.h"

#define SIG 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0x00
#define I32(v)                                                         \
	(uint8_t)((uint32_t) (v) >> 24), (uint8_t) ((uint32_t) (v) >> 16), \
		(uint8_t) ((uint32_t) (v) >> 8), (uint8_t) (v)
#define NULLF	0xff, 0xff, 0xff, 0xff
#define TRAILER 0xff, 0xff

/*
 * Vector 1: int2, int4, int8 (3 fields); positive, negative, extreme and
 * NULL values; no header extension.
 */
static const uint8_t v1_header[] = {SIG, I32(0), I32(0)};
static const uint8_t v1_row1[] = {
	0x00,	0x03, I32(2), 0x00, 0x2a, I32(4), 0x00, 0x01, 0x86, 0xa0,
	I32(8), 0x00, 0x00,	  0x00, 0x01, 0x2a,	  0x05, 0xf2, 0x00,
};
static const uint8_t v1_row2[] = {
	0x00,	0x03, I32(2), 0xff, 0xff, I32(4), 0x80, 0x00, 0x00, 0x00,
	I32(8), 0xff, 0xff,	  0xff, 0xff, 0xff,	  0xff, 0xff, 0xd6,
};
static const uint8_t v1_row3[] = {
	0x00, 0x03, NULLF, I32(4), 0x00, 0x00, 0x00, 0x07, I32(8),
	0x80, 0x00, 0x00,  0x00,   0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_trailer[] = {TRAILER};

/*
 * Vector 2: int8 and text; ignorable flag bits set, a 5-byte header
 * extension, an empty (zero-length, not NULL) text value.
 */
static const uint8_t v2_header[] = {SIG, I32(0x00008001), I32(5), 'x', 't', 'r', 'a', '!'};
static const uint8_t v2_row1[] = {
	0x00, 0x02, I32(8), 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, I32(0),
};
static const uint8_t v2_row2[] = {
	0x00, 0x02, NULLF, I32(2), 'h', 'i',
};
static const uint8_t v2_row3[] = {
	0x00, 0x02, I32(8), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf7, NULLF,
};

/* Vector 3: one int8, the production shape (14-byte rows, 6 when NULL). */
static const uint8_t v3_header[] = {SIG, I32(0), I32(0)};
static const uint8_t v3_row1[] = {0x00, 0x01, I32(8), 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t v3_row2[] = {0x00, 0x01, NULLF};
static const uint8_t v3_row3[] = {0x00, 0x01, I32(8), 0xff, 0xff, 0xff,
								  0xff, 0xff, 0xff,	  0xff, 0xff};
static const uint8_t v3_row4[] = {0x00, 0x01, I32(8), 0x7f, 0xff, 0xff,
								  0xff, 0xff, 0xff,	  0xff, 0xff};

/* Vector 4: a header and the trailer, no rows. */
static const uint8_t v4_header[] = {SIG, I32(0), I32(0)};

typedef struct Part
{
	const uint8_t *bytes;
	size_t		   len;
} Part;

#define PART(a)        \
	{                  \
		(a), sizeof(a) \
	}

/* parts[0] is the header, parts[nparts - 1] the trailer, rows between. */
typedef struct Vector
{
	const char *name;
	const char *types; /* per field: '2', '4', '8' or 't' (text) */
	Part		parts[6];
	int			nparts;
	const char *expect; /* every row, rendered by collect_row */
} Vector;

static const Vector vectors[] = {
	{"int2/int4/int8",
	 "248",
	 {PART(v1_header), PART(v1_row1), PART(v1_row2), PART(v1_row3), PART(v_trailer)},
	 5,
	 "42,100000,5000000000;-1,-2147483648,-42;N,7,-9223372036854775808;"},
	{"int8/text with extension",
	 "8t",
	 {PART(v2_header), PART(v2_row1), PART(v2_row2), PART(v2_row3), PART(v_trailer)},
	 5,
	 "1,'';N,'hi';-9,N;"},
	{"one int8",
	 "8",
	 {PART(v3_header), PART(v3_row1), PART(v3_row2), PART(v3_row3), PART(v3_row4), PART(v_trailer)},
	 6,
	 "1;N;-1;9223372036854775807;"},
	{"no rows", "8", {PART(v4_header), PART(v_trailer)}, 2, ""},
};

/* The callback's view of a stream: every row rendered, contract checked. */
typedef struct Collect
{
	const char	  *types;
	StrBuf		   out;
	int			   calls;
	int			   stop_at; /* return false on this call (1-based); 0 never */
	int			   broken;	/* rows that broke the CopyField contract */
	const uint8_t *lo;		/* if set, non-NULL fields must lie in [lo, hi) */
	const uint8_t *hi;
	int			   outside; /* fields found outside [lo, hi) */
} Collect;

static void
collect_init(Collect *c, const char *types)
{
	memset(c, 0, sizeof(*c));
	c->types = types;
	strbuf_init(&c->out);
}

static bool
collect_row(void *arg, const CopyField *f, int n)
{
	Collect *c = arg;

	c->calls++;
	if (n != (int) strlen(c->types))
		c->broken++;
	for (int i = 0; i < n; i++)
	{
		char	t = i < (int) strlen(c->types) ? c->types[i] : '?';
		int32_t len = f[i].len;

		if (i > 0)
			strbuf_append_char(&c->out, ',');
		if (len == -1)
		{
			if (f[i].data != NULL)
				c->broken++;
			strbuf_append_char(&c->out, 'N');
			continue;
		}
		if (len < 0 || f[i].data == NULL)
		{
			c->broken++;
			continue;
		}
		if (c->lo && (f[i].data < c->lo || f[i].data + len > c->hi))
			c->outside++;
		if (t == '2' && len == 2)
			strbuf_appendf(&c->out, "%d", copybin_int16(f[i].data));
		else if (t == '4' && len == 4)
			strbuf_appendf(&c->out, "%d", copybin_int32(f[i].data));
		else if (t == '8' && len == 8)
			strbuf_appendf(&c->out, "%" PRId64, copybin_int64(f[i].data));
		else if (t == 't')
		{
			strbuf_append_char(&c->out, '\'');
			strbuf_append_len(&c->out, (const char *) f[i].data, (size_t) len);
			strbuf_append_char(&c->out, '\'');
		}
		else
			strbuf_appendf(&c->out, "?%d", (int) len);
	}
	strbuf_append_char(&c->out, ';');
	return c->stop_at == 0 || c->calls < c->stop_at;
}

/*
 * Feed a private copy of exactly n bytes, freed right after: under
 * AddressSanitizer a read past the piece, or a pointer into it kept for a
 * later feed, is caught rather than landing in the rest of the stream.
 */
static bool
feed_copy(CopyBinDecoder *d, const uint8_t *p, size_t n, Collect *c)
{
	uint8_t *copy = n ? fk_malloc(n) : NULL;
	bool	 fed;

	if (n)
		memcpy(copy, p, n);
	fed = copybin_feed(d, copy, n, collect_row, c);
	free(copy);
	return fed;
}

/* The whole stream of a vector, in a buffer the caller frees. */
static uint8_t *
vector_bytes(const Vector *v, size_t *len)
{
	size_t	 total = 0;
	uint8_t *buf;

	for (int i = 0; i < v->nparts; i++)
		total += v->parts[i].len;
	buf = fk_malloc(total);
	total = 0;
	for (int i = 0; i < v->nparts; i++)
	{
		memcpy(buf + total, v->parts[i].bytes, v->parts[i].len);
		total += v->parts[i].len;
	}
	*len = total;
	return buf;
}

/* The first nrows rows of the expected rendering. */
static char *
expect_rows(const Vector *v, int nrows)
{
	const char *s = v->expect;
	char	   *r;

	for (int i = 0; i < nrows; i++)
		s = strchr(s, ';') + 1;
	r = fk_malloc((size_t) (s - v->expect) + 1);
	memcpy(r, v->expect, (size_t) (s - v->expect));
	r[s - v->expect] = '\0';
	return r;
}

/*
 * Decode buf cut into pieces at the offsets cuts[0..ncuts) (ascending) and
 * check the rows, the row count and a clean finish.  Returns NULL on
 * success, otherwise a description of the first difference (static).
 */
static const char *
decode_split(const Vector *v, const uint8_t *buf, size_t len, const size_t *cuts, int ncuts)
{
	static char		why[256];
	CopyBinDecoder *d = copybin_create((int) strlen(v->types));
	Collect			c;
	size_t			from = 0;
	int				nrows = v->nparts - 2;
	bool			fed = true;

	collect_init(&c, v->types);
	for (int i = 0; i <= ncuts && fed; i++)
	{
		size_t to = i < ncuts ? cuts[i] : len;

		fed = feed_copy(d, buf + from, to - from, &c);
		from = to;
	}
	why[0] = '\0';
	if (!fed)
		snprintf(why, sizeof(why), "feed failed: %s", copybin_error(d));
	else if (!copybin_finish(d))
		snprintf(why, sizeof(why), "finish failed: %s", copybin_error(d));
	else if (strcmp(c.out.data, v->expect) != 0)
		snprintf(why, sizeof(why), "got rows \"%s\"", c.out.data);
	else if (copybin_rows(d) != (uint64_t) nrows || c.calls != nrows)
		snprintf(why, sizeof(why), "copybin_rows %" PRIu64 ", callbacks %d", copybin_rows(d),
				 c.calls);
	else if (c.broken)
		snprintf(why, sizeof(why), "%d fields broke the contract", c.broken);
	copybin_free(d);
	strbuf_free(&c.out);
	return why[0] ? why : NULL;
}

static void
test_vectors(void)
{
	for (size_t k = 0; k < FK_LENGTHOF(vectors); k++)
	{
		const Vector   *v = &vectors[k];
		size_t			len;
		uint8_t		   *buf = vector_bytes(v, &len);
		CopyBinDecoder *d = copybin_create((int) strlen(v->types));
		Collect			c;
		char			name[128];

		collect_init(&c, v->types);
		snprintf(name, sizeof(name), "%s: one buffer decodes", v->name);
		ok(copybin_feed(d, buf, len, collect_row, &c), name);
		snprintf(name, sizeof(name), "%s: values", v->name);
		is_str(c.out.data, v->expect, name);
		snprintf(name, sizeof(name), "%s: finish", v->name);
		ok(copybin_finish(d), name);
		snprintf(name, sizeof(name), "%s: copybin_rows", v->name);
		is_int(copybin_rows(d), v->nparts - 2, name);
		snprintf(name, sizeof(name), "%s: no error text", v->name);
		is_str(copybin_error(d), "", name);
		snprintf(name, sizeof(name), "%s: NULL fields have data NULL, others data", v->name);
		is_int(c.broken, 0, name);
		snprintf(name, sizeof(name), "%s: finish again", v->name);
		ok(copybin_finish(d), name);
		snprintf(name, sizeof(name), "%s: empty feed after the trailer", v->name);
		ok(copybin_feed(d, NULL, 0, collect_row, &c), name);

		copybin_free(d);
		strbuf_free(&c.out);
		free(buf);
	}
}

/*
 * Every proper prefix of a valid stream is accepted by feed, delivers
 * exactly the rows it contains, and fails finish with the message for where
 * it was cut.
 */
static void
test_truncation(void)
{
	for (size_t k = 0; k < FK_LENGTHOF(vectors); k++)
	{
		const Vector *v = &vectors[k];
		size_t		  len;
		uint8_t		 *buf = vector_bytes(v, &len);
		size_t		  header_len = v->parts[0].len;
		size_t		  fixed_header = 19;
		int			  bad = 0;
		char		  name[128];

		for (size_t cut = 0; cut < len; cut++)
		{
			CopyBinDecoder *d = copybin_create((int) strlen(v->types));
			Collect			c;
			int				complete = 0;
			bool			at_boundary = cut == header_len;
			size_t			end = header_len;
			char			want_err[128];
			char		   *want_rows;
			bool			fed;
			bool			finished;

			for (int i = 1; i < v->nparts - 1; i++)
			{
				end += v->parts[i].len;
				if (end <= cut)
					complete++;
				if (end == cut)
					at_boundary = true;
			}
			if (cut == 0)
				snprintf(want_err, sizeof(want_err), "COPY stream is empty");
			else if (cut < fixed_header)
				snprintf(want_err, sizeof(want_err), "COPY stream ended inside the header");
			else if (cut < header_len)
				snprintf(want_err, sizeof(want_err),
						 "COPY stream ended inside the header extension");
			else if (at_boundary)
				snprintf(want_err, sizeof(want_err),
						 "COPY stream ended without a trailer after %d rows", complete);
			else
				snprintf(want_err, sizeof(want_err), "row %d: COPY stream ended inside a row",
						 complete + 1);
			want_rows = expect_rows(v, complete);

			collect_init(&c, v->types);
			fed = feed_copy(d, buf, cut, &c);
			finished = copybin_finish(d);
			if (!fed || finished || strcmp(copybin_error(d), want_err) != 0 ||
				strcmp(c.out.data, want_rows) != 0 || copybin_rows(d) != (uint64_t) complete ||
				copybin_feed(d, buf + cut, len - cut, collect_row, &c) ||
				strcmp(copybin_error(d), want_err) != 0)
			{
				if (bad++ == 0)
					printf("# %s cut at %zu: fed %d, finished %d, error \"%s\" (want \"%s\"), rows "
						   "\"%s\"\n",
						   v->name, cut, fed, finished, copybin_error(d), want_err, c.out.data);
			}
			free(want_rows);
			strbuf_free(&c.out);
			copybin_free(d);
		}
		snprintf(name, sizeof(name),
				 "%s: every truncation point (%zu) fails finish, right rows and message", v->name,
				 len);
		is_int(bad, 0, name);
		free(buf);
	}
}

static void
test_splits(void)
{
	for (size_t k = 0; k < FK_LENGTHOF(vectors); k++)
	{
		const Vector *v = &vectors[k];
		size_t		  len;
		uint8_t		 *buf = vector_bytes(v, &len);
		const char	 *why;
		int			  bad;
		char		  name[160];
		size_t		 *cuts;

		/* two buffers, every split point (0 and len give an empty piece) */
		bad = 0;
		for (size_t s = 0; s <= len; s++)
		{
			if ((why = decode_split(v, buf, len, &s, 1)) != NULL && bad++ == 0)
				printf("# %s split at %zu: %s\n", v->name, s, why);
		}
		snprintf(name, sizeof(name), "%s: two buffers, every split point", v->name);
		is_int(bad, 0, name);

		/* three buffers, every pair of split points */
		bad = 0;
		for (size_t s = 0; s <= len; s++)
			for (size_t t = s; t <= len; t++)
			{
				size_t st[2] = {s, t};

				if ((why = decode_split(v, buf, len, st, 2)) != NULL && bad++ == 0)
					printf("# %s split at %zu and %zu: %s\n", v->name, s, t, why);
			}
		snprintf(name, sizeof(name), "%s: three buffers, every pair of split points", v->name);
		is_int(bad, 0, name);

		/* one byte at a time */
		cuts = fk_malloc(len * sizeof(size_t));
		for (size_t i = 0; i < len; i++)
			cuts[i] = i + 1;
		why = decode_split(v, buf, len, cuts, (int) len - 1);
		snprintf(name, sizeof(name), "%s: one byte at a time", v->name);
		ok(why == NULL, name);
		if (why)
			printf("# %s\n", why);
		free(cuts);
		free(buf);
	}
}

/*
 * libpq's shape: the header glued to the first row, then one message per
 * row, the trailer alone.  Every row is complete in its message, so every
 * field must point into the caller's message: the zero-copy path.
 */
static void
test_messages(void)
{
	for (size_t k = 0; k < FK_LENGTHOF(vectors); k++)
	{
		const Vector   *v = &vectors[k];
		CopyBinDecoder *d = copybin_create((int) strlen(v->types));
		Collect			c;
		bool			fed = true;
		char			name[128];
		size_t			len;
		uint8_t		   *msg = fk_malloc(v->parts[0].len + v->parts[1].len);

		collect_init(&c, v->types);
		/* header + first row (or + trailer when there are no rows) */
		memcpy(msg, v->parts[0].bytes, v->parts[0].len);
		memcpy(msg + v->parts[0].len, v->parts[1].bytes, v->parts[1].len);
		len = v->parts[0].len + v->parts[1].len;
		c.lo = msg;
		c.hi = msg + len;
		fed = copybin_feed(d, msg, len, collect_row, &c);
		for (int i = 2; i < v->nparts && fed; i++)
		{
			c.lo = v->parts[i].bytes;
			c.hi = v->parts[i].bytes + v->parts[i].len;
			fed = copybin_feed(d, v->parts[i].bytes, v->parts[i].len, collect_row, &c);
		}
		snprintf(name, sizeof(name), "%s: per-row messages decode", v->name);
		ok(fed && copybin_finish(d), name);
		snprintf(name, sizeof(name), "%s: per-row messages, values", v->name);
		is_str(c.out.data, v->expect, name);
		snprintf(name, sizeof(name), "%s: per-row messages, fields point into the message",
				 v->name);
		is_int(c.outside, 0, name);
		free(msg);
		strbuf_free(&c.out);
		copybin_free(d);
	}
}

/*
 * Feed bytes whole and then one byte at a time: either way some feed (or,
 * for want_feed_ok, finish) fails with want_err after want_rows rows, and
 * the decoder stays failed with the same message.
 */
static void
expect_error(const char *name, const char *types, const uint8_t *buf, size_t len, bool want_feed_ok,
			 const char *want_err, int want_rows)
{
	for (int bytewise = 0; bytewise <= 1; bytewise++)
	{
		CopyBinDecoder		*d = copybin_create((int) strlen(types));
		Collect				 c;
		bool				 fed = true;
		char				 tname[256];
		static const uint8_t valid_row[] = {0x00, 0x01, I32(0)};

		collect_init(&c, types);
		if (bytewise)
			for (size_t i = 0; i < len && fed; i++)
				fed = copybin_feed(d, buf + i, 1, collect_row, &c);
		else
			fed = copybin_feed(d, buf, len, collect_row, &c);
		snprintf(tname, sizeof(tname), "%s%s: feed %s", name, bytewise ? " (bytewise)" : "",
				 want_feed_ok ? "accepts" : "fails");
		ok(fed == want_feed_ok, tname);
		snprintf(tname, sizeof(tname), "%s%s: finish fails", name, bytewise ? " (bytewise)" : "");
		ok(!copybin_finish(d), tname);
		snprintf(tname, sizeof(tname), "%s%s: message", name, bytewise ? " (bytewise)" : "");
		is_str(copybin_error(d), want_err, tname);
		snprintf(tname, sizeof(tname), "%s%s: rows delivered", name, bytewise ? " (bytewise)" : "");
		is_int(copybin_rows(d), want_rows, tname);
		snprintf(tname, sizeof(tname), "%s%s: callbacks made", name, bytewise ? " (bytewise)" : "");
		is_int(c.calls, want_rows, tname);
		snprintf(tname, sizeof(tname), "%s%s: stays failed, same message", name,
				 bytewise ? " (bytewise)" : "");
		ok(!copybin_feed(d, valid_row, sizeof(valid_row), collect_row, &c) && !copybin_finish(d) &&
			   strcmp(copybin_error(d), want_err) == 0 && c.calls == want_rows,
		   tname);
		strbuf_free(&c.out);
		copybin_free(d);
	}
}

/* Copy of vector 1 with the 4 bytes at off replaced by the int32 v. */
static uint8_t *
v1_with_int32(size_t off, uint32_t v, size_t *len)
{
	uint8_t		 *buf = vector_bytes(&vectors[0], len);
	const uint8_t b[] = {I32(v)};

	memcpy(buf + off, b, 4);
	return buf;
}

static void
test_corrupt(void)
{
	size_t	 len;
	uint8_t *buf;
	size_t	 row1 = sizeof(v1_header);
	size_t	 row2 = row1 + sizeof(v1_row1);
	size_t	 row3 = row2 + sizeof(v1_row2);

	/* signature: first byte, last byte, a text-format COPY */
	buf = vector_bytes(&vectors[0], &len);
	buf[0] = 'Q';
	expect_error("signature byte 0", "248", buf, len, false, "invalid COPY signature", 0);
	buf[0] = 'P';
	buf[10] = 0x01;
	expect_error("signature byte 10", "248", buf, len, false, "invalid COPY signature", 0);
	free(buf);
	expect_error("text COPY", "248", (const uint8_t *) "42\t100000\t5\n\\.\n", 16, false,
				 "invalid COPY signature", 0);
	expect_error("signature prefix only", "248", (const uint8_t *) "PGCOPY\n", 7, true,
				 "COPY stream ended inside the header", 0);

	/* flags */
	buf = v1_with_int32(11, 0x00010000, &len);
	expect_error("OID flag", "248", buf, len, false,
				 "COPY header has the OIDs flag set (not supported)", 0);
	free(buf);
	buf = v1_with_int32(11, 0x00020000, &len);
	expect_error("unknown critical flag 17", "248", buf, len, false,
				 "COPY header has unknown critical flags 0x00020000", 0);
	free(buf);
	buf = v1_with_int32(11, 0x80000000, &len);
	expect_error("unknown critical flag 31", "248", buf, len, false,
				 "COPY header has unknown critical flags 0x80000000", 0);
	free(buf);
	buf = v1_with_int32(11, 0x0000ffff, &len);
	{
		CopyBinDecoder *d = copybin_create(3);
		Collect			c;

		collect_init(&c, "248");
		ok(copybin_feed(d, buf, len, collect_row, &c) && copybin_finish(d),
		   "ignorable flag bits 0..15 are ignored");
		is_str(c.out.data, vectors[0].expect, "ignorable flag bits: values");
		strbuf_free(&c.out);
		copybin_free(d);
	}
	free(buf);

	/* header extension length */
	buf = v1_with_int32(15, 0xffffffff, &len);
	expect_error("negative extension length", "248", buf, len, false,
				 "invalid COPY header extension length -1", 0);
	free(buf);
	buf = v1_with_int32(15, 0x7fffffff, &len);
	expect_error("extension longer than the stream", "248", buf, len, true,
				 "COPY stream ended inside the header extension", 0);
	free(buf);

	/* field counts */
	buf = vector_bytes(&vectors[0], &len);
	buf[row2 + 1] = 4;
	expect_error("row with too many fields", "248", buf, len, false,
				 "row 2: expected 3 fields, found 4", 1);
	buf[row2 + 1] = 0;
	expect_error("row with no fields", "248", buf, len, false, "row 2: expected 3 fields, found 0",
				 1);
	buf[row2] = 0xff;
	buf[row2 + 1] = 0xfe;
	expect_error("negative field count", "248", buf, len, false,
				 "row 2: expected 3 fields, found -2", 1);
	free(buf);
	buf = vector_bytes(&vectors[2], &len);
	buf[sizeof(v3_header) + 1] = 2;
	expect_error("one-field decoder, two fields", "8", buf, len, false,
				 "row 1: expected 1 field, found 2", 0);
	free(buf);

	/* field lengths: invalid negatives, over the 1 GB limit */
	buf = v1_with_int32(row3 + 2, (uint32_t) -7, &len);
	expect_error("field length -7", "248", buf, len, false, "row 3: invalid field length -7", 2);
	free(buf);
	buf = v1_with_int32(row2 + 2 + 6, 0x80000000, &len);
	expect_error("field length INT32_MIN", "248", buf, len, false,
				 "row 2: invalid field length -2147483648", 1);
	free(buf);
	buf = v1_with_int32(row1 + 2, 0x7fffffff, &len);
	expect_error("field length INT32_MAX", "248", buf, len, false,
				 "row 1: field 1 length 2147483647 exceeds the 1 GB limit", 0);
	free(buf);
	buf = v1_with_int32(row2 + 2 + 6 + 8, 0x40000000, &len);
	expect_error("field length 1 GB", "248", buf, len, false,
				 "row 2: field 3 length 1073741824 exceeds the 1 GB limit", 1);
	free(buf);
	{
		/* the limit is on the row: 1 GB - 1 (MaxAllocSize) counting its 6+ header bytes */
		static const uint8_t at_limit[] = {SIG,	 I32(0),		  I32(0), 0x00,
										   0x01, I32(0x3ffffff9), 'a',	  'b'};
		static const uint8_t over_limit[] = {SIG,  I32(0),			I32(0), 0x00,
											 0x01, I32(0x3ffffffa), 'a',	'b'};
		static const uint8_t row_over[] = {
			SIG, I32(0), I32(0), 0x00, 0x02, I32(8), 0, 0, 0, 0, 0, 0, 0, 1, I32(0x3ffffff0), 'a'};

		expect_error("largest legal field length, data missing", "t", at_limit, sizeof(at_limit),
					 true, "row 1: COPY stream ended inside a row", 0);
		expect_error("field length one over the row limit", "t", over_limit, sizeof(over_limit),
					 false, "row 1: field 1 length 1073741818 exceeds the 1 GB limit", 0);
		expect_error("row over the limit by its second field", "8t", row_over, sizeof(row_over),
					 false, "row 1: field 2 length 1073741808 exceeds the 1 GB limit", 0);
	}

	/* data after the trailer: same buffer, next buffer, a second trailer */
	{
		size_t				 vlen;
		uint8_t				*v = vector_bytes(&vectors[0], &vlen);
		CopyBinDecoder		*d = copybin_create(3);
		Collect				 c;
		static const uint8_t junk[] = {0x00};

		buf = fk_malloc(vlen + 2);
		memcpy(buf, v, vlen);
		buf[vlen] = 0x00;
		expect_error("byte after the trailer", "248", buf, vlen + 1, false,
					 "unexpected data after the COPY trailer", 3);
		buf[vlen] = 0xff;
		buf[vlen + 1] = 0xff;
		expect_error("two trailers", "248", buf, vlen + 2, false,
					 "unexpected data after the COPY trailer", 3);

		collect_init(&c, "248");
		ok(copybin_feed(d, v, vlen, collect_row, &c), "stream then junk: stream decodes");
		ok(!copybin_feed(d, junk, 1, collect_row, &c),
		   "stream then junk: junk in its own feed fails");
		is_str(copybin_error(d), "unexpected data after the COPY trailer",
			   "stream then junk: message");
		ok(!copybin_finish(d), "stream then junk: finish fails");
		strbuf_free(&c.out);
		copybin_free(d);
		free(v);
		free(buf);
	}
}

/*
 * Feed vector v as one buffer (how 0), byte by byte (1) or in libpq's
 * per-row messages (2); stops at the first failed feed.
 */
static bool
feed_vector(CopyBinDecoder *d, const Vector *v, int how, Collect *c)
{
	size_t	 len;
	uint8_t *buf = vector_bytes(v, &len);
	bool	 fed = true;

	if (how == 0)
		fed = copybin_feed(d, buf, len, collect_row, c);
	else if (how == 1)
		for (size_t i = 0; i < len && fed; i++)
			fed = copybin_feed(d, buf + i, 1, collect_row, c);
	else
	{
		/* the header rides with the first message */
		size_t from = 0;
		size_t to = v->parts[0].len;

		for (int i = 1; i < v->nparts && fed; i++)
		{
			to += v->parts[i].len;
			fed = copybin_feed(d, buf + from, to - from, collect_row, c);
			from = to;
		}
	}
	free(buf);
	return fed;
}

/* The callback returning false stops the stream, however it is fed. */
static void
test_stop(void)
{
	static const char *const how_name[] = {"one buffer", "bytewise", "per-row messages"};
	size_t					 len;
	uint8_t					*buf = vector_bytes(&vectors[0], &len);

	for (int how = 0; how < 3; how++)
		for (int stop_at = 1; stop_at <= 3; stop_at++)
		{
			CopyBinDecoder *d = copybin_create(3);
			Collect			c;
			char		   *want = expect_rows(&vectors[0], stop_at);
			char			name[128];

			collect_init(&c, "248");
			c.stop_at = stop_at;
			snprintf(name, sizeof(name), "stop at row %d (%s): feed fails", stop_at, how_name[how]);
			ok(!feed_vector(d, &vectors[0], how, &c), name);
			snprintf(name, sizeof(name), "stop at row %d (%s): message", stop_at, how_name[how]);
			is_str(copybin_error(d), "stopped by caller", name);
			snprintf(name, sizeof(name), "stop at row %d (%s): rows counts the stopping row",
					 stop_at, how_name[how]);
			is_int(copybin_rows(d), stop_at, name);
			snprintf(name, sizeof(name), "stop at row %d (%s): rows seen", stop_at, how_name[how]);
			is_str(c.out.data, want, name);
			snprintf(name, sizeof(name), "stop at row %d (%s): no more rows, finish fails", stop_at,
					 how_name[how]);
			ok(!copybin_feed(d, buf, len, collect_row, &c) && !copybin_finish(d) &&
				   c.calls == stop_at && strcmp(copybin_error(d), "stopped by caller") == 0,
			   name);
			free(want);
			strbuf_free(&c.out);
			copybin_free(d);
		}
	free(buf);
}

/* A field bigger than the initial buffer, whole and in 64 kB pieces. */
static void
test_big_field(void)
{
	const size_t		 flen = 3 * 1024 * 1024 + 7;
	static const uint8_t head[] = {SIG, I32(0), I32(0), 0x00, 0x01, I32(3 * 1024 * 1024 + 7)};
	size_t				 len = sizeof(head) + flen + 2;
	uint8_t				*buf = fk_malloc(len);

	memcpy(buf, head, sizeof(head));
	for (size_t i = 0; i < flen; i++)
		buf[sizeof(head) + i] = (uint8_t) (i * 31 + 7);
	buf[len - 2] = 0xff;
	buf[len - 1] = 0xff;

	/* the same decoder throughout: each reset releases the grown buffer */
	CopyBinDecoder	   *d = copybin_create(1);
	static const size_t steps[] = {0, 65536, 1000};

	for (size_t k = 0; k < FK_LENGTHOF(steps); k++)
	{
		size_t	step = steps[k] ? steps[k] : len;
		Collect c;
		bool	fed = true;
		char	name[128];

		collect_init(&c, "t");
		for (size_t off = 0; off < len && fed; off += step)
			fed = copybin_feed(d, buf + off, off + step > len ? len - off : step, collect_row, &c);
		snprintf(name, sizeof(name), "3 MB field in %zu-byte pieces: decodes", step);
		ok(fed && copybin_finish(d), name);
		snprintf(name, sizeof(name), "3 MB field in %zu-byte pieces: content", step);
		ok(c.out.len == flen + 3 && memcmp(c.out.data + 1, buf + sizeof(head), flen) == 0, name);
		strbuf_free(&c.out);
		copybin_reset(d);
	}
	copybin_free(d);
	free(buf);
}

static void
test_reset(void)
{
	size_t			len1, len2;
	uint8_t		   *v1 = vector_bytes(&vectors[0], &len1);
	uint8_t		   *bad = vector_bytes(&vectors[0], &len2);
	CopyBinDecoder *d = copybin_create(3);
	Collect			c;

	bad[20] = 0x07; /* row 1's field count */

	collect_init(&c, "248");
	ok(copybin_feed(d, v1, len1, collect_row, &c) && copybin_finish(d), "reuse: first stream");
	copybin_reset(d);
	is_int(copybin_rows(d), 0, "reuse: reset zeroes the row count");
	is_str(copybin_error(d), "", "reuse: reset clears the error text");
	ok(!copybin_finish(d), "reuse: finish right after reset fails (no header)");
	copybin_reset(d);
	strbuf_reset(&c.out);
	ok(copybin_feed(d, v1, len1, collect_row, &c) && copybin_finish(d), "reuse: second stream");
	is_str(c.out.data, vectors[0].expect, "reuse: second stream values");
	is_int(copybin_rows(d), 3, "reuse: second stream rows");

	/* after an error */
	copybin_reset(d);
	ok(!copybin_feed(d, bad, len2, collect_row, &c), "reuse: a corrupt stream fails");
	copybin_reset(d);
	strbuf_reset(&c.out);
	ok(copybin_feed(d, v1, len1, collect_row, &c) && copybin_finish(d), "reuse: after an error");
	is_str(c.out.data, vectors[0].expect, "reuse: after an error, values");

	/* after a stream abandoned mid-row (partial data pending) */
	copybin_reset(d);
	ok(copybin_feed(d, v1, 30, collect_row, &c), "reuse: stream abandoned mid-row");
	copybin_reset(d);
	strbuf_reset(&c.out);
	ok(copybin_feed(d, v1, len1, collect_row, &c) && copybin_finish(d),
	   "reuse: after a partial row");
	is_str(c.out.data, vectors[0].expect, "reuse: after a partial row, values");
	is_int(copybin_rows(d), 3, "reuse: after a partial row, rows");

	strbuf_free(&c.out);
	copybin_free(d);
	free(v1);
	free(bad);
}

/* Field counts at and beyond the limits of copybin_create. */
static void
test_nfields(void)
{
	static const uint8_t header[] = {SIG, I32(0), I32(0)};
	CopyBinDecoder		*d;
	Collect				 c;
	size_t				 len = sizeof(header) + 2 + 1600 * 4 + 2;
	uint8_t				*buf = fk_malloc(len);
	char				 types[1601];

	d = copybin_create(0);
	ok(!copybin_feed(d, header, sizeof(header), collect_row, NULL), "0 fields: feed fails");
	is_str(copybin_error(d), "invalid number of COPY fields 0 (must be 1..1600)",
		   "0 fields: message");
	copybin_reset(d);
	ok(!copybin_finish(d), "0 fields: still failing after reset");
	is_str(copybin_error(d), "invalid number of COPY fields 0 (must be 1..1600)",
		   "0 fields: same message after reset");
	copybin_free(d);
	d = copybin_create(1601);
	ok(!copybin_feed(d, header, sizeof(header), collect_row, NULL), "1601 fields: feed fails");
	copybin_free(d);

	/* 1600 NULLs */
	memcpy(buf, header, sizeof(header));
	buf[sizeof(header)] = 1600 >> 8;
	buf[sizeof(header) + 1] = 1600 & 0xff;
	memset(buf + sizeof(header) + 2, 0xff, 1600 * 4 + 2);
	memset(types, '8', 1600);
	types[1600] = '\0';
	d = copybin_create(1600);
	collect_init(&c, types);
	ok(copybin_feed(d, buf, len, collect_row, &c) && copybin_finish(d), "1600 fields: decodes");
	is_int(c.calls, 1, "1600 fields: one row");
	ok(c.out.len == 1600 * 2 && c.out.data[0] == 'N' && c.out.data[c.out.len - 2] == 'N' &&
		   c.broken == 0,
	   "1600 fields: all NULL");
	strbuf_free(&c.out);
	copybin_free(d);
	free(buf);

	copybin_free(NULL); /* a no-op: a crash would fail the test */
}

/* Empty feeds anywhere change nothing. */
static void
test_empty_feeds(void)
{
	const Vector   *v = &vectors[1];
	size_t			len;
	uint8_t		   *buf = vector_bytes(v, &len);
	CopyBinDecoder *d = copybin_create(2);
	Collect			c;
	bool			fed = true;

	collect_init(&c, v->types);
	for (size_t i = 0; i < len && fed; i++)
	{
		fed = copybin_feed(d, NULL, 0, collect_row, &c) &&
			  copybin_feed(d, buf + i, 1, collect_row, &c) &&
			  copybin_feed(d, buf + i, 0, collect_row, &c);
	}
	ok(fed && copybin_feed(d, NULL, 0, collect_row, &c) && copybin_finish(d),
	   "empty feeds between every byte");
	is_str(c.out.data, v->expect, "empty feeds: values");
	strbuf_free(&c.out);
	copybin_free(d);
	free(buf);
}

/* ---- key mode ---- */

/* Vectors 5 and 6: one int4 column, one int2 column (10- and 8-byte rows). */
static const uint8_t v5_row1[] = {0x00, 0x01, I32(4), 0x00, 0x01, 0x86, 0xa0};
static const uint8_t v5_row2[] = {0x00, 0x01, NULLF};
static const uint8_t v5_row3[] = {0x00, 0x01, I32(4), 0x80, 0x00, 0x00, 0x00};
static const uint8_t v6_row1[] = {0x00, 0x01, I32(2), 0x00, 0x2a};
static const uint8_t v6_row2[] = {0x00, 0x01, I32(2), 0xff, 0xff};
static const uint8_t v6_row3[] = {0x00, 0x01, NULLF};

static const Vector key_vectors[] = {
	{"keys: one int8",
	 "8",
	 {PART(v3_header), PART(v3_row1), PART(v3_row2), PART(v3_row3), PART(v3_row4), PART(v_trailer)},
	 6,
	 "1;N;-1;9223372036854775807;"},
	{"keys: one int4",
	 "4",
	 {PART(v3_header), PART(v5_row1), PART(v5_row2), PART(v5_row3), PART(v_trailer)},
	 5,
	 "100000;N;-2147483648;"},
	{"keys: one int2",
	 "2",
	 {PART(v3_header), PART(v6_row1), PART(v6_row2), PART(v6_row3), PART(v_trailer)},
	 5,
	 "42;-1;N;"},
	{"keys: no rows", "8", {PART(v4_header), PART(v_trailer)}, 2, ""},
	{"keys: extension",
	 "8",
	 {PART(v2_header), PART(v3_row2), PART(v3_row1), PART(v_trailer)},
	 4,
	 "N;1;"},
};

/* A key-mode callback's view: rows rendered as collect_row does, batches checked. */
typedef struct KeyCollect
{
	StrBuf	 out;
	StrBuf	 batches; /* "first_row+rows " per batch */
	uint64_t rows;	  /* rows seen in batches so far */
	int		 calls;
	int		 stop_at; /* return false on this call (1-based); 0 never */
	int		 broken;  /* contract breaks: gaps, bad offsets, key_row wrong */
} KeyCollect;

static void
keycollect_init(KeyCollect *c)
{
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->out);
	strbuf_init(&c->batches);
}

static void
keycollect_free(KeyCollect *c)
{
	strbuf_free(&c->out);
	strbuf_free(&c->batches);
}

static bool
collect_keys(void *arg, const CopyKeyBatch *b)
{
	KeyCollect *c = arg;
	size_t		nrows = b->nkeys + b->nnulls;
	size_t		k = 0, n = 0;

	c->calls++;
	if (b->first_row != c->rows || nrows == 0 || nrows > COPYBIN_KEY_BATCH)
		c->broken++;
	strbuf_appendf(&c->batches, "%" PRIu64 "+%zu ", b->first_row, nrows);
	for (size_t r = 0; r < nrows; r++)
	{
		if (n < b->nnulls && b->null_rows[n] == r)
		{
			strbuf_append(&c->out, "N;");
			n++;
			continue;
		}
		if (n < b->nnulls && b->null_rows[n] < r)
		{
			c->broken++; /* not ascending */
			n++;
		}
		if (k >= b->nkeys)
		{
			c->broken++;
			break;
		}
		if (copybin_key_row(b, k) != b->first_row + r)
			c->broken++;
		strbuf_appendf(&c->out, "%" PRId64 ";", b->keys[k++]);
	}
	if (k != b->nkeys || n != b->nnulls)
		c->broken++;
	c->rows += nrows;
	return c->stop_at == 0 || c->calls < c->stop_at;
}

/* Feed buf cut at cuts[0..ncuts) to a key-mode decoder, each piece a private copy. */
static bool
feed_keys_cut(CopyBinDecoder *d, const uint8_t *buf, size_t len, const size_t *cuts, int ncuts)
{
	size_t from = 0;
	bool   fed = true;

	for (int i = 0; i <= ncuts && fed; i++)
	{
		size_t	 to = i < ncuts ? cuts[i] : len;
		uint8_t *copy = to > from ? fk_malloc(to - from) : NULL;

		if (copy)
			memcpy(copy, buf + from, to - from);
		fed = copybin_feed_keys(d, copy, to - from);
		free(copy);
		from = to;
	}
	return fed;
}

/* Decode split at cuts; NULL when the rows match the vector, else why. */
static const char *
decode_keys_split(const Vector *v, const uint8_t *buf, size_t len, const size_t *cuts, int ncuts)
{
	static char		why[256];
	KeyCollect		c;
	CopyBinDecoder *d;
	int				nrows = v->nparts - 2;

	keycollect_init(&c);
	d = copybin_create_keys(collect_keys, &c);
	why[0] = '\0';
	if (!feed_keys_cut(d, buf, len, cuts, ncuts))
		snprintf(why, sizeof(why), "feed failed: %s", copybin_error(d));
	else if (!copybin_finish(d))
		snprintf(why, sizeof(why), "finish failed: %s", copybin_error(d));
	else if (strcmp(c.out.data, v->expect) != 0)
		snprintf(why, sizeof(why), "got rows \"%s\"", c.out.data);
	else if (copybin_rows(d) != (uint64_t) nrows || c.calls != (nrows > 0))
		snprintf(why, sizeof(why), "copybin_rows %" PRIu64 ", batches %d", copybin_rows(d),
				 c.calls);
	else if (c.broken || copybin_bad_key(d))
		snprintf(why, sizeof(why), "%d batch contract breaks", c.broken);
	copybin_free(d);
	keycollect_free(&c);
	return why[0] ? why : NULL;
}

/*
 * Key mode on the valid vectors: libpq's messages (the fast path), one
 * buffer, every split point and pair of them, and every truncation, which
 * must fail with exactly the message a row-mode decoder gives.
 */
static void
test_keys_vectors(void)
{
	for (size_t k = 0; k < FK_LENGTHOF(key_vectors); k++)
	{
		const Vector *v = &key_vectors[k];
		size_t		  len;
		uint8_t		 *buf = vector_bytes(v, &len);
		size_t		  msg_cuts[8];
		int			  nmsg = 0;
		size_t		  at = v->parts[0].len;
		const char	 *why;
		int			  bad;
		char		  name[160];

		/* messages: the header rides with the first row */
		for (int i = 1; i < v->nparts - 1; i++)
		{
			at += v->parts[i].len;
			msg_cuts[nmsg++] = at;
		}
		why = decode_keys_split(v, buf, len, msg_cuts, nmsg);
		snprintf(name, sizeof(name), "%s: per-row messages", v->name);
		ok(why == NULL, name);
		if (why)
			printf("# %s\n", why);
		why = decode_keys_split(v, buf, len, NULL, 0);
		snprintf(name, sizeof(name), "%s: one buffer", v->name);
		ok(why == NULL, name);
		if (why)
			printf("# %s\n", why);

		bad = 0;
		for (size_t s = 0; s <= len; s++)
			for (size_t t = s; t <= len; t++)
			{
				size_t st[2] = {s, t};

				if ((why = decode_keys_split(v, buf, len, st, 2)) != NULL && bad++ == 0)
					printf("# %s split at %zu and %zu: %s\n", v->name, s, t, why);
			}
		snprintf(name, sizeof(name), "%s: every pair of split points", v->name);
		is_int(bad, 0, name);

		bad = 0;
		for (size_t cut = 0; cut < len; cut++)
		{
			CopyBinDecoder *rd = copybin_create(1);
			KeyCollect		c;
			CopyBinDecoder *kd;
			Collect			rc;
			bool			kfed, rfed;

			keycollect_init(&c);
			kd = copybin_create_keys(collect_keys, &c);
			collect_init(&rc, v->types);
			rfed = feed_copy(rd, buf, cut, &rc) && copybin_finish(rd);
			kfed = feed_keys_cut(kd, buf, cut, NULL, 0) && copybin_finish(kd);
			if (rfed || kfed || strcmp(copybin_error(rd), copybin_error(kd)) != 0 ||
				copybin_rows(rd) != copybin_rows(kd) || c.calls != 0)
			{
				if (bad++ == 0)
					printf("# %s cut at %zu: key mode \"%s\", row mode \"%s\"\n", v->name, cut,
						   copybin_error(kd), copybin_error(rd));
			}
			copybin_free(kd);
			copybin_free(rd);
			keycollect_free(&c);
			strbuf_free(&rc.out);
		}
		snprintf(name, sizeof(name), "%s: every truncation fails as in row mode", v->name);
		is_int(bad, 0, name);
		free(buf);
	}
}

/* A one-column stream of nrows rows, row i NULL when isnull(i), key i * 7919 - 5e6. */
static uint8_t *
key_stream(uint64_t nrows, int width, bool (*isnull)(uint64_t), size_t *len, size_t **msg_ends)
{
	static const uint8_t header[] = {SIG, I32(0), I32(0)};
	uint8_t				*buf = fk_malloc(sizeof(header) + nrows * (6 + (size_t) width) + 2);
	size_t				 off = sizeof(header);

	*msg_ends = fk_malloc(sizeof(size_t) * (nrows + 1));
	memcpy(buf, header, sizeof(header));
	for (uint64_t i = 0; i < nrows; i++)
	{
		int64_t key = (int64_t) i * 7919 - 5000000;

		buf[off++] = 0;
		buf[off++] = 1;
		if (isnull(i))
		{
			memset(buf + off, 0xff, 4);
			off += 4;
		}
		else
		{
			uint8_t l[4] = {I32(width)};

			memcpy(buf + off, l, 4);
			off += 4;
			for (int b = width - 1; b >= 0; b--)
				buf[off++] = (uint8_t) ((uint64_t) key >> (8 * b));
		}
		(*msg_ends)[i] = off;
	}
	buf[off++] = 0xff;
	buf[off++] = 0xff;
	*len = off;
	return buf;
}

static bool
every_7th(uint64_t i)
{
	return i % 7 == 3;
}

static bool
all_null_but_few(uint64_t i)
{
	return i % 1000 != 999;
}

/*
 * Streams longer than a batch: the batches are the same, and every key's
 * row right, whether fed as messages (fast path), in odd-sized pieces
 * (general path) or mixed; batches of keys, of NULLs and of both.
 */
static void
test_keys_batches(void)
{
	struct
	{
		const char *name;
		uint64_t	nrows;
		int			width;
		bool (*isnull)(uint64_t);
	} cases[] = {
		{"int8, NULL every 7th", 2 * COPYBIN_KEY_BATCH + 777, 8, every_7th},
		{"int4, NULL every 7th", COPYBIN_KEY_BATCH + 1, 4, every_7th},
		{"int2, mostly NULL", 3 * COPYBIN_KEY_BATCH + 5, 2, all_null_but_few},
	};

	for (size_t k = 0; k < FK_LENGTHOF(cases); k++)
	{
		size_t	 len;
		size_t	*ends;
		uint8_t *buf = key_stream(cases[k].nrows, cases[k].width, cases[k].isnull, &len, &ends);
		char	 want[64];
		char	*ref_out = NULL, *ref_batches = NULL;
		char	 name[160];

		for (int how = 0; how < 3; how++)
		{
			static const char *const how_name[] = {"messages", "pieces of 1000 bytes",
												   "messages, two rows glued every 100"};
			KeyCollect				 c;
			CopyBinDecoder			*d;
			size_t *cuts = fk_malloc(sizeof(size_t) * (cases[k].nrows + len / 1000 + 1));
			int		ncuts = 0;
			bool	fed;

			for (uint64_t i = 0; how != 1 && i < cases[k].nrows; i++)
				if (how == 0 || i % 100 != 50)
					cuts[ncuts++] = ends[i];
			for (size_t at = 1000; how == 1 && at < len; at += 1000)
				cuts[ncuts++] = at;
			keycollect_init(&c);
			d = copybin_create_keys(collect_keys, &c);
			fed = feed_keys_cut(d, buf, len, cuts, ncuts) && copybin_finish(d);
			snprintf(name, sizeof(name), "keys: %s, %s: decodes, batches well formed",
					 cases[k].name, how_name[how]);
			ok(fed && c.broken == 0 && c.rows == cases[k].nrows &&
				   copybin_rows(d) == cases[k].nrows,
			   name);
			if (how == 0)
			{
				ref_out = fk_strdup(c.out.data);
				ref_batches = fk_strdup(c.batches.data);
				snprintf(want, sizeof(want), "%" PRId64 ";",
						 cases[k].isnull(0) ? 0 : (int64_t) -5000000);
				snprintf(name, sizeof(name), "keys: %s: first key", cases[k].name);
				ok(cases[k].isnull(0) || strncmp(c.out.data, want, strlen(want)) == 0, name);
			}
			else
			{
				snprintf(name, sizeof(name), "keys: %s, %s: same rows and batches as messages",
						 cases[k].name, how_name[how]);
				ok(strcmp(c.out.data, ref_out) == 0 && strcmp(c.batches.data, ref_batches) == 0,
				   name);
			}
			copybin_free(d);
			keycollect_free(&c);
			free(cuts);
		}
		free(ref_out);
		free(ref_batches);
		free(ends);
		free(buf);
	}
}

/* Bad keys, corrupt rows, stops, misuse and reuse. */
static void
test_keys_errors(void)
{
	static const uint8_t bad3[] = {SIG, I32(0), I32(0), 0x00, 0x01, I32(8), 0, 0, 0, 0,		 0,
								   0,	0,		5,		0x00, 0x01, I32(3), 1, 2, 3, TRAILER};
	static const uint8_t bad0[] = {SIG, I32(0), I32(0), 0x00, 0x01, I32(0), TRAILER};
	static const uint8_t two_fields[] = {SIG, I32(0), I32(0), 0x00, 0x02, I32(8), 0,	 0,
										 0,	  0,	  0,	  0,	0,	  5,	  NULLF, TRAILER};
	static const uint8_t after[] = {SIG, I32(0), I32(0), 0x00, 0x01, I32(8), 0,		  0,
									0,	 0,		 0,		 0,	   0,	 5,		 TRAILER, 0x00};
	size_t				 len, *ends;
	uint8_t				*big = key_stream(2 * COPYBIN_KEY_BATCH + 10, 8, every_7th, &len, &ends);
	KeyCollect			 c;
	CopyBinDecoder		*d;

	for (int split = 0; split < 2; split++)
	{
		size_t cut = split ? 19 + 14 + 7 : 19 + 14; /* a message, or mid-row */
		char   name[128];

		keycollect_init(&c);
		d = copybin_create_keys(collect_keys, &c);
		snprintf(name, sizeof(name), "keys: a 3-byte field fails (cut at %zu)", cut);
		ok(!(feed_keys_cut(d, bad3, sizeof(bad3), &cut, 1) && copybin_finish(d)), name);
		is_str(copybin_error(d), "row 2: a field of 3 bytes is not an integer key",
			   "keys: the bad key's message");
		ok(copybin_bad_key(d), "keys: copybin_bad_key");
		is_int(c.calls, 0, "keys: no batch delivered from a failed stream");
		ok(!copybin_feed_keys(d, bad3, 0) && !copybin_finish(d), "keys: failed for good");
		copybin_reset(d);
		ok(!copybin_bad_key(d), "keys: reset clears bad_key");
		copybin_free(d);
		keycollect_free(&c);
	}

	keycollect_init(&c);
	d = copybin_create_keys(collect_keys, &c);
	ok(!copybin_feed_keys(d, bad0, sizeof(bad0)), "keys: an empty field fails");
	is_str(copybin_error(d), "row 1: a field of 0 bytes is not an integer key",
		   "keys: the empty field's message");
	copybin_reset(d);
	ok(!copybin_feed_keys(d, two_fields, sizeof(two_fields)) && !copybin_bad_key(d),
	   "keys: two fields fail as malformed, not as a bad key");
	is_str(copybin_error(d), "row 1: expected 1 field, found 2", "keys: field count message");
	copybin_reset(d);
	ok(!copybin_feed_keys(d, after, sizeof(after)), "keys: data after the trailer fails");
	is_str(copybin_error(d), "unexpected data after the COPY trailer",
		   "keys: data after the trailer: message");
	is_int(c.calls, 1, "keys: the last batch went before the complaint");

	/* reuse after reset, then a stop in the second batch */
	copybin_reset(d);
	keycollect_free(&c);
	keycollect_init(&c);
	ok(feed_keys_cut(d, big, len, ends, 2 * COPYBIN_KEY_BATCH + 10) && copybin_finish(d) &&
		   c.rows == 2 * COPYBIN_KEY_BATCH + 10 && c.broken == 0,
	   "keys: reused after reset");
	copybin_reset(d);
	keycollect_free(&c);
	keycollect_init(&c);
	c.stop_at = 2;
	ok(!feed_keys_cut(d, big, len, ends, 2 * COPYBIN_KEY_BATCH + 10),
	   "keys: a callback that stops fails the feed");
	is_str(copybin_error(d), "stopped by caller", "keys: stop message");
	is_int(c.calls, 2, "keys: no batch after the stop");
	ok(!copybin_bad_key(d), "keys: a stop is not a bad key");
	copybin_free(d);
	keycollect_free(&c);

	d = copybin_create(1);
	ok(!copybin_feed_keys(d, big, len), "keys: feed_keys on a row-mode decoder fails");
	is_str(copybin_error(d), "copybin_feed_keys needs a key-mode decoder", "keys: misuse message");
	copybin_free(d);
	free(ends);
	free(big);
}

int
main(void)
{
	test_vectors();
	test_truncation();
	test_splits();
	test_messages();
	test_corrupt();
	test_stop();
	test_big_field();
	test_reset();
	test_nfields();
	test_empty_feeds();
	test_keys_vectors();
	test_keys_batches();
	test_keys_errors();
	return done_testing();
}
