/*
 * candset.c
 *	  Candidate keys: an open-addressing index over an entry array, raw
 *	  values packed in one blob.
 */
#include "fkscan/candset.h"

#include <stdlib.h>
#include <string.h>

#include "fkscan/mem.h"
#include "fkscan/strbuf.h"

typedef struct Entry
{
	Hash128	 h;
	uint64_t rows;
	size_t	 offset; /* into blob: nkeys x (int32 len, bytes) */
} Entry;

struct CandSet
{
	int		  nkeys;
	Entry	 *entries;
	uint32_t  n;
	uint32_t  cap;
	uint32_t *index; /* slots: entry index + 1, 0 = empty */
	uint32_t  mask;
	StrBuf	  blob;
};

CandSet *
candset_create(int nkeys)
{
	CandSet *s = fk_calloc(1, sizeof(CandSet));

	s->nkeys = nkeys;
	s->mask = 63;
	s->index = fk_calloc(s->mask + 1, sizeof(uint32_t));
	strbuf_init(&s->blob);
	return s;
}

void
candset_free(CandSet *s)
{
	if (s == NULL)
		return;
	free(s->entries);
	free(s->index);
	strbuf_free(&s->blob);
	free(s);
}

static uint32_t
slot_of(const CandSet *s, Hash128 h)
{
	uint32_t i = (uint32_t) hash128_mix(h) & s->mask;

	while (s->index[i] != 0)
	{
		const Entry *e = &s->entries[s->index[i] - 1];

		if (hash128_equal(e->h, h))
			break;
		i = (i + 1) & s->mask;
	}
	return i;
}

static void
grow_index(CandSet *s)
{
	free(s->index);
	s->mask = s->mask * 2 + 1;
	s->index = fk_calloc((size_t) s->mask + 1, sizeof(uint32_t));
	for (uint32_t e = 0; e < s->n; e++)
		s->index[slot_of(s, s->entries[e].h)] = e + 1;
}

static uint32_t
insert(CandSet *s, Hash128 h, uint64_t rows, bool *is_new)
{
	uint32_t slot = slot_of(s, h);

	*is_new = s->index[slot] == 0;
	if (!*is_new)
	{
		s->entries[s->index[slot] - 1].rows += rows;
		return s->index[slot] - 1;
	}
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 64;
		s->entries = fk_realloc(s->entries, sizeof(Entry) * s->cap);
	}
	s->entries[s->n].h = h;
	s->entries[s->n].rows = rows;
	s->entries[s->n].offset = s->blob.len;
	s->index[slot] = ++s->n;
	if ((uint64_t) s->n * 2 > s->mask)
		grow_index(s);
	return s->n - 1;
}

static void
append_value(StrBuf *blob, const uint8_t *data, int32_t len)
{
	strbuf_append_len(blob, (const char *) &len, sizeof(len));
	if (len > 0)
		strbuf_append_len(blob, (const char *) data, (size_t) len);
}

uint32_t
candset_add(CandSet *s, Hash128 h, const CopyField *fields, const int *cols)
{
	return candset_add_rows(s, h, fields, cols, 1);
}

uint32_t
candset_add_rows(CandSet *s, Hash128 h, const CopyField *fields, const int *cols, uint64_t rows)
{
	bool	 is_new;
	uint32_t i = insert(s, h, rows, &is_new);

	if (is_new)
		for (int k = 0; k < s->nkeys; k++)
			append_value(&s->blob, fields[cols[k]].data, fields[cols[k]].len);
	return i;
}

void
candset_merge_inplace(CandSet *dst, const CandSet *src)
{
	for (uint32_t i = 0; i < src->n; i++)
	{
		bool is_new;

		insert(dst, src->entries[i].h, src->entries[i].rows, &is_new);
		if (is_new)
			for (int k = 0; k < src->nkeys; k++)
			{
				int32_t		   len;
				const uint8_t *v = candset_value(src, i, k, &len);

				append_value(&dst->blob, v, len);
			}
	}
}

int
candset_nkeys(const CandSet *s)
{
	return s->nkeys;
}

uint32_t
candset_size(const CandSet *s)
{
	return s->n;
}

uint64_t
candset_rows(const CandSet *s, uint32_t i)
{
	return s->entries[i].rows;
}

Hash128
candset_hash(const CandSet *s, uint32_t i)
{
	return s->entries[i].h;
}

uint32_t
candset_find(const CandSet *s, Hash128 h)
{
	uint32_t slot = slot_of(s, h);

	return s->index[slot] ? s->index[slot] - 1 : UINT32_MAX;
}

const uint8_t *
candset_value(const CandSet *s, uint32_t i, int col, int32_t *len)
{
	const char *p = s->blob.data + s->entries[i].offset;
	int32_t		l;

	for (int k = 0;; k++)
	{
		memcpy(&l, p, sizeof(l));
		p += sizeof(l);
		if (k == col)
			break;
		if (l > 0)
			p += l;
	}
	*len = l;
	return (const uint8_t *) p;
}
