/*
 * fuzz_copybin.c
 *	  libFuzzer target for the binary COPY decoder.
 *
 * Input: byte 0 chooses the decoder and the feeding, the rest is the stream.
 *	  bits 0-1	nfields - 1 (1..4)
 *	  bits 2-3	how the stream is cut: 0 whole, 1 pieces of (bits 4-7) + 1
 *				bytes, 2 one byte at a time, 3 pseudo-random pieces
 *	  bits 4-7	the piece size, or the random seed
 *
 * Every piece is copied into its own allocation of exactly its size and
 * freed after its feed, so AddressSanitizer catches a read past a piece or
 * a pointer into caller memory kept across feeds.  Beyond "no crash":
 *	- each field is NULL with data NULL, or 0 <= len, its bytes readable,
 *	  and the fields of a row lie in stream order, 4 length bytes apart;
 *	- a reference parser that sees the whole input at once (written here
 *	  separately, as plainly as possible) agrees on accept or reject, on
 *	  the number of rows delivered and on their bytes (a running hash);
 *	- the cut feed and a one-shot feed agree on outcome and error text;
 *	- a callback that stops at row k stops the stream after k rows.
 * With one field, key mode (copybin_feed_keys) runs too, cut the same way,
 * and must agree with row mode: the same keys and NULL rows, in order, in
 * well-formed batches, when every field is NULL or 2, 4 or 8 bytes; else a
 * failure with row mode's error, or the bad-key error at the first field of
 * another length if that comes first.
 */
#include "fkscan/copybin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROW_LEN ((size_t) 0x3fffffff)

typedef struct Seen
{
	int		 nfields;
	uint64_t rows;
	uint64_t hash;
	uint64_t stop_at;	  /* return false on this row (1-based); 0 never */
	uint64_t key_hash;	  /* one field: the keys as key mode sees them */
	uint64_t bad_key_row; /* one field: first row not NULL/2/4/8 bytes; 0 none */
	int32_t	 bad_key_len;
} Seen;

static void
fail_check(const char *what)
{
	fprintf(stderr, "fuzz_copybin: invariant broken: %s\n", what);
	abort();
}

/* FNV-1a, enough to tell row contents apart */
static uint64_t
hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		h ^= p[i];
		h *= 0x100000001b3;
	}
	return h;
}

static uint64_t
hash_field(uint64_t h, const uint8_t *data, int32_t len)
{
	uint8_t l[4] = {(uint8_t) (len >> 24), (uint8_t) (len >> 16), (uint8_t) (len >> 8),
					(uint8_t) len};

	h = hash_bytes(h, l, 4);
	return len > 0 ? hash_bytes(h, data, (size_t) len) : h;
}

static bool
check_row(void *arg, const CopyField *f, int nfields)
{
	Seen		  *s = arg;
	const uint8_t *cursor = NULL; /* just past the previous data, if known */
	int			   gap = 1;		  /* length words since then */

	if (nfields != s->nfields)
		fail_check("callback got the wrong field count");
	for (int i = 0; i < nfields; i++)
	{
		if (f[i].len == -1)
		{
			if (f[i].data != NULL)
				fail_check("NULL field with data");
			gap++;
			continue;
		}
		if (f[i].len < 0 || f[i].data == NULL || (size_t) f[i].len > MAX_ROW_LEN)
			fail_check("bad field length or data");
		if (cursor && f[i].data != cursor + 4 * gap)
			fail_check("fields not laid out as in the stream");
		cursor = f[i].data + f[i].len;
		gap = 1;
	}
	for (int i = 0; i < nfields; i++)
		s->hash = hash_field(s->hash, f[i].data, f[i].len);
	s->rows++;
	if (nfields == 1 && s->bad_key_row == 0)
	{
		int64_t key = 0;
		uint8_t kb[9];

		if (f[0].len == 8)
			key = copybin_int64(f[0].data);
		else if (f[0].len == 4)
			key = copybin_int32(f[0].data);
		else if (f[0].len == 2)
			key = copybin_int16(f[0].data);
		else if (f[0].len != -1)
		{
			s->bad_key_row = s->rows;
			s->bad_key_len = f[0].len;
		}
		kb[0] = f[0].len == -1;
		memcpy(kb + 1, &key, 8);
		s->key_hash = hash_bytes(s->key_hash, kb, 9);
	}
	return s->stop_at == 0 || s->rows < s->stop_at;
}

static int32_t
get32(const uint8_t *p)
{
	return copybin_int32(p);
}

/*
 * The reference: the whole stream in one buffer, one pass, no state
 * machine.  Returns true iff the stream is valid; *rows and *hash cover the
 * complete rows before the first fault, as the decoder delivers them.
 */
static bool
reference_parse(const uint8_t *p, size_t n, int nfields, uint64_t *rows, uint64_t *hash)
{
	static const uint8_t sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
	size_t				 off;
	uint32_t			 flags;
	int32_t				 ext;

	*rows = 0;
	*hash = 0xcbf29ce484222325;
	if (n < 19 || memcmp(p, sig, 11) != 0)
		return false;
	flags = (uint32_t) get32(p + 11);
	ext = get32(p + 15);
	if ((flags & 0xffff0000) != 0 || ext < 0 || (size_t) ext > n - 19)
		return false;
	off = 19 + (size_t) ext;
	for (;;)
	{
		size_t	 start = off;
		int		 count;
		uint64_t h = *hash;

		if (n - off < 2)
			return false;
		count = copybin_int16(p + off);
		off += 2;
		if (count == -1)
			return off == n;
		if (count != nfields)
			return false;
		for (int i = 0; i < nfields; i++)
		{
			int32_t len;

			if (n - off < 4)
				return false;
			len = get32(p + off);
			off += 4;
			if (len < -1)
				return false;
			if (len == -1)
			{
				h = hash_field(h, NULL, -1);
				continue;
			}
			if (off - start + (size_t) len > MAX_ROW_LEN || n - off < (size_t) len)
				return false;
			h = hash_field(h, p + off, len);
			off += (size_t) len;
		}
		*hash = h;
		(*rows)++;
	}
}

/* The next piece's size for cut mode (byte 0 says which), before clipping. */
static size_t
next_piece(int mode, int param, size_t n, uint64_t *rnd)
{
	switch (mode)
	{
		case 0:
			return n;
		case 1:
			return (size_t) param + 1;
		case 2:
			return 1;
		default:
			*rnd ^= *rnd << 13;
			*rnd ^= *rnd >> 7;
			*rnd ^= *rnd << 17;
			/* mostly small, sometimes empty, sometimes large */
			return (*rnd & 7) == 0 ? 0 : (*rnd & 7) == 1 ? 4096 : (size_t) (*rnd >> 59);
	}
}

/*
 * Feed the stream cut as byte 0 says, row by row into s, or with s NULL in
 * key mode; returns whether every feed and finish passed.
 */
static bool
decode_cut(CopyBinDecoder *d, const uint8_t *p, size_t n, int mode, int param, Seen *s)
{
	uint64_t rnd = 0x9e3779b97f4a7c15 ^ ((uint64_t) param << 32) ^ n;
	size_t	 off = 0;
	bool	 fed = true;

	do
	{
		size_t	 piece;
		uint8_t *copy;

		piece = next_piece(mode, param, n, &rnd);
		if (piece > n - off)
			piece = n - off;
		copy = malloc(piece ? piece : 1);
		if (copy == NULL)
			abort();
		memcpy(copy, p + off, piece);
		fed = s ? copybin_feed(d, piece ? copy : NULL, piece, check_row, s)
				: copybin_feed_keys(d, piece ? copy : NULL, piece);
		free(copy);
		off += piece;
	} while (fed && off < n);
	return fed && copybin_finish(d);
}

/* Key mode's view: the same key hash as check_row builds, batches checked. */
typedef struct KeySeen
{
	uint64_t rows;
	uint64_t key_hash;
	int		 batches;
} KeySeen;

static bool
check_keys(void *arg, const CopyKeyBatch *b)
{
	KeySeen *s = arg;
	size_t	 nrows = b->nkeys + b->nnulls;
	size_t	 k = 0, n = 0;

	if (b->first_row != s->rows || nrows == 0 || nrows > COPYBIN_KEY_BATCH)
		fail_check("key batch out of place or oversized");
	for (size_t r = 0; r < nrows; r++)
	{
		uint8_t kb[9] = {0};
		int64_t key = 0;

		if (n < b->nnulls && b->null_rows[n] == r)
		{
			kb[0] = 1;
			n++;
		}
		else
		{
			if (k >= b->nkeys || copybin_key_row(b, k) != b->first_row + r)
				fail_check("key batch rows inconsistent");
			key = b->keys[k++];
		}
		memcpy(kb + 1, &key, 8);
		s->key_hash = hash_bytes(s->key_hash, kb, 9);
	}
	if (k != b->nkeys || n != b->nnulls)
		fail_check("key batch NULL positions inconsistent");
	s->rows += nrows;
	s->batches++;
	return true;
}

/* Key mode against row mode's findings (s: the row-mode run, cut the same way). */
static void
check_key_mode(const uint8_t *p, size_t n, int mode, int param, const Seen *s, bool row_ok,
			   const char *row_error)
{
	KeySeen			ks = {0, 0xcbf29ce484222325, 0};
	CopyBinDecoder *d = copybin_create_keys(check_keys, &ks);
	bool			key_ok = decode_cut(d, p, n, mode, param, NULL);
	char			want[128];

	if (s->bad_key_row > 0)
	{
		snprintf(want, sizeof(want), "row %llu: a field of %d bytes is not an integer key",
				 (unsigned long long) s->bad_key_row, (int) s->bad_key_len);
		if (key_ok || !copybin_bad_key(d) || strcmp(copybin_error(d), want) != 0)
			fail_check("key mode missed a bad key");
	}
	else if (key_ok != row_ok)
		fail_check("key mode and row mode disagree on the outcome");
	else if (!key_ok && (copybin_bad_key(d) || strcmp(copybin_error(d), row_error) != 0))
		fail_check("key mode failed with another error than row mode");
	else if (key_ok &&
			 (ks.rows != s->rows || copybin_rows(d) != s->rows || ks.key_hash != s->key_hash))
		fail_check("key mode delivered other keys than row mode");
	/* a failed stream delivers only whole batches, each a prefix of row mode's rows */
	if (ks.rows > s->rows && s->bad_key_row == 0)
		fail_check("key mode delivered more rows than row mode");
	copybin_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int				nfields, mode, param;
	const uint8_t  *p;
	size_t			n;
	uint64_t		ref_rows, ref_hash;
	bool			ref_ok, cut_ok, whole_ok;
	char			cut_error[256];
	CopyBinDecoder *d;
	Seen			s;

	if (size < 1)
		return 0;
	nfields = (data[0] & 3) + 1;
	mode = (data[0] >> 2) & 3;
	param = data[0] >> 4;
	p = data + 1;
	n = size - 1;

	ref_ok = reference_parse(p, n, nfields, &ref_rows, &ref_hash);
	d = copybin_create(nfields);

	/* cut as byte 0 says */
	memset(&s, 0, sizeof(s));
	s.nfields = nfields;
	s.hash = 0xcbf29ce484222325;
	s.key_hash = 0xcbf29ce484222325;
	cut_ok = decode_cut(d, p, n, mode, param, &s);
	if (cut_ok != ref_ok)
		fail_check(cut_ok ? "decoder accepted what the reference rejects"
						  : "decoder rejected what the reference accepts");
	if (cut_ok != (copybin_error(d)[0] == '\0'))
		fail_check("error text does not match the outcome");
	if (s.rows != ref_rows || copybin_rows(d) != ref_rows || s.hash != ref_hash)
		fail_check("rows differ from the reference");
	snprintf(cut_error, sizeof(cut_error), "%s", copybin_error(d));
	if (nfields == 1)
		check_key_mode(p, n, mode, param, &s, cut_ok, cut_error);

	/* whole, after a reset: same outcome, same message */
	copybin_reset(d);
	memset(&s, 0, sizeof(s));
	s.nfields = nfields;
	s.hash = 0xcbf29ce484222325;
	whole_ok = decode_cut(d, p, n, 0, 0, &s);
	if (whole_ok != cut_ok || strcmp(copybin_error(d), cut_error) != 0 || s.rows != ref_rows ||
		s.hash != ref_hash)
		fail_check("whole and cut feeds disagree");

	/* stopped half way: exactly that many rows, then failed for good */
	if (ref_rows > 0)
	{
		copybin_reset(d);
		memset(&s, 0, sizeof(s));
		s.nfields = nfields;
		s.stop_at = ref_rows / 2 + 1;
		if (decode_cut(d, p, n, mode, param, &s) ||
			strcmp(copybin_error(d), "stopped by caller") != 0 || s.rows != s.stop_at ||
			copybin_rows(d) != s.stop_at)
			fail_check("stopping callback did not stop the stream");
		if (copybin_feed(d, p, n, check_row, &s) || s.rows != s.stop_at)
			fail_check("feed after a stop did not fail");
	}

	copybin_free(d);
	return 0;
}
