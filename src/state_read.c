/*
 * state_read.c
 *	  A --state file read back: its lines split and unescaped, its records
 *	  checked against this run (database, selection), a torn tail dropped
 */
#include "fkscan/stateint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/strbuf.h"

/* Split one line (no newline) at tabs, unescaping; NULL fields for \N. */
static char **
split_line(const char *line, size_t len, int *nfields)
{
	char **f = NULL;
	int	   n = 0, cap = 0;
	size_t i = 0;

	for (;;)
	{
		StrBuf v;
		bool   null = false;

		strbuf_init(&v);
		if (i + 1 < len + 1 && len - i >= 2 && line[i] == '\\' && line[i + 1] == 'N' &&
			(i + 2 == len || line[i + 2] == '\t'))
		{
			null = true;
			i += 2;
		}
		while (!null && i < len && line[i] != '\t')
		{
			if (line[i] == '\\' && i + 1 < len)
			{
				char e = line[++i];

				strbuf_append_char(&v, e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e);
			}
			else
				strbuf_append_char(&v, line[i]);
			i++;
		}
		fk_array_grow((void **) &f, &cap, n + 1, sizeof(char *));
		if (null)
		{
			f[n++] = NULL;
			strbuf_free(&v);
		}
		else
			f[n++] = strbuf_take(&v);
		if (i >= len)
			break;
		i++; /* the tab */
	}
	*nfields = n;
	return f;
}

static void
free_fields(char **f, int n)
{
	for (int i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

bool
parse_double(const char *s, double *out)
{
	char *end;

	if (s == NULL)
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0';
}

/* ---- reading ---- */

void
record_free(StateRecord *r)
{
	free_fields(r->fields, r->nfields);
	for (int i = 0; i < r->nsamples; i++)
	{
		for (int k = 0; k < r->samples[i].nkeys; k++)
			free(r->samples[i].key[k]);
		free(r->samples[i].key);
		free(r->samples[i].ctid);
	}
	free(r->samples);
	free(r->steps);
}

void
chunk_free(StateChunk *c)
{
	for (int i = 0; i < c->nfks; i++)
	{
		free(c->fks[i].keys);
		free(c->fks[i].key_rows);
		candset_free(c->fks[i].cands);
		free(c->fks[i].samples);
	}
	free(c->fks);
	free(c->snapshot);
}

static bool
parse_i64(const char *s, int64_t *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static int
hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One line of a chunk record into *cur; false if malformed.  Frees f. */
static bool
parse_chunk_line(StateChunk **cur, char **f, int n)
{
	StateChunk	 *c = *cur;
	StateChunkFk *cf = c->nfks > 0 ? &c->fks[c->nfks - 1] : NULL;
	uint64_t	  u[6];
	bool		  ok = true;

	if (strcmp(f[0], "cfk") == 0 && n == 8)
	{
		for (int i = 0; ok && i < 5; i++)
			ok = parse_u64(f[1 + i], &u[i]) && u[0] <= UINT32_MAX;
		ok = ok && f[6] && (strcmp(f[6], "i") == 0 || strcmp(f[6], "h") == 0) &&
			 parse_u64(f[7], &u[5]) && u[5] >= 1 && u[5] <= 32;
		if (ok)
		{
			c->fks = fk_realloc(c->fks, sizeof(StateChunkFk) * (size_t) (c->nfks + 1));
			cf = &c->fks[c->nfks++];
			memset(cf, 0, sizeof(*cf));
			cf->fk = (Oid) u[0];
			cf->child_rows = u[1];
			cf->null_rows = u[2];
			cf->partial_null_rows = u[3];
			cf->orphan_rows = u[4];
			if (f[6][0] == 'h')
				cf->cands = candset_create((int) u[5]);
		}
	}
	else if (strcmp(f[0], "okey") == 0 && n == 3 && cf && cf->cands == NULL)
	{
		int64_t key;

		ok = parse_i64(f[1], &key) && parse_u64(f[2], &u[0]);
		if (ok)
		{
			cf->keys = fk_realloc(cf->keys, sizeof(int64_t) * (size_t) (cf->nkeys + 1));
			cf->key_rows = fk_realloc(cf->key_rows, sizeof(uint64_t) * (size_t) (cf->nkeys + 1));
			cf->keys[cf->nkeys] = key;
			cf->key_rows[cf->nkeys++] = u[0];
		}
	}
	else if (strcmp(f[0], "ocand") == 0 && n >= 5 && cf && cf->cands)
	{
		CopyField fields[32];
		int		  cols[32];
		uint8_t	 *raw[32] = {0};
		int		  ncols = n - 4;
		Hash128	  h;

		ok = ncols <= 32 && parse_u64(f[1], &u[0]) && parse_u64(f[2], &u[1]) &&
			 parse_u64(f[3], &u[2]);
		for (int k = 0; ok && k < ncols; k++)
		{
			const char *x = f[4 + k];
			size_t		len = x ? strlen(x) : 0;

			cols[k] = k;
			if (x == NULL)
			{
				fields[k].len = -1;
				fields[k].data = NULL;
				continue;
			}
			if (len % 2 != 0)
			{
				ok = false;
				break;
			}
			raw[k] = fk_malloc(len / 2 + 1);
			for (size_t j = 0; ok && j < len / 2; j++)
			{
				int hi = hex_digit(x[2 * j]), lo = hex_digit(x[2 * j + 1]);

				ok = hi >= 0 && lo >= 0;
				raw[k][j] = (uint8_t) (hi * 16 + lo);
			}
			fields[k].len = (int32_t) (len / 2);
			fields[k].data = raw[k];
		}
		if (ok)
		{
			h.hi = u[0];
			h.lo = u[1];
			if (candset_find(cf->cands, h) != UINT32_MAX)
				ok = false;
			else
				candset_add_rows(cf->cands, h, fields, cols, u[2]);
		}
		for (int k = 0; k < ncols && k < 32; k++)
			free(raw[k]);
	}
	else if (strcmp(f[0], "csample") == 0 && n == 6 && cf)
	{
		StateChunkSample smp;
		int64_t			 key;

		ok = parse_u64(f[1], &smp.ordinal) && f[2] && parse_i64(f[3], &key) &&
			 parse_u64(f[4], &u[0]) && parse_u64(f[5], &u[1]);
		if (ok)
		{
			smp.partial = strcmp(f[2], "1") == 0;
			smp.key = key;
			smp.hash.hi = u[0];
			smp.hash.lo = u[1];
			cf->samples =
				fk_realloc(cf->samples, sizeof(StateChunkSample) * (size_t) (cf->nsamples + 1));
			cf->samples[cf->nsamples++] = smp;
		}
	}
	else if (strcmp(f[0], "end") == 0 && n == 2 && f[1] && strcmp(f[1], "chunk") == 0)
		*cur = NULL;
	else
		ok = false;
	free_fields(f, n);
	return ok;
}

/*
 * A chunk line: the start of a chunk record into st (freeing f).  Records
 * of files before version 4 are never reused (filenode 0): their hashed
 * keys' fingerprints followed an older rule.
 */
static bool
start_chunk(StateFile *st, StateChunk **cur, char **f, int n, bool reusable)
{
	uint64_t	table, leaf, first, end = 0, filenode = 0;
	StateChunk *c;

	/* version 2: no FILENODE (0: never reused) */
	if ((n != 6 && n != 7) || !parse_u64(f[1], &table) || !parse_u64(f[2], &leaf) ||
		!parse_u64(f[3], &first) || (f[4] != NULL && !parse_u64(f[4], &end)) ||
		(n == 7 && (f[6] == NULL || !parse_u64(f[6], &filenode))) || table > UINT32_MAX ||
		leaf > UINT32_MAX || first > INT64_MAX || end > INT64_MAX || filenode > UINT32_MAX)
	{
		free_fields(f, n);
		return false;
	}
	fk_array_grow((void **) &st->chunks, &st->chunks_cap, st->nchunks + 1, sizeof(StateChunk));
	c = &st->chunks[st->nchunks++];
	memset(c, 0, sizeof(*c));
	c->table = (Oid) table;
	c->leaf = (Oid) leaf;
	c->filenode = reusable ? (Oid) filenode : 0;
	c->first_page = (int64_t) first;
	c->end_page = f[4] ? (int64_t) end : -1;
	c->snapshot = f[5] ? fk_strdup(f[5]) : NULL;
	*cur = c;
	free_fields(f, n);
	return true;
}

/* One line of a record into cur (NULL before an fk line); false if malformed. */
static bool
parse_record_line(StateFile *st, StateRecord **cur, char **f, int n)
{
	StateRecord *r = *cur;
	uint64_t	 u;

	if (strcmp(f[0], "fk") == 0)
	{
		if (r != NULL || n != F_COUNT || !parse_u64(f[F_OID], &u) || u > UINT32_MAX)
			return false;
		for (int i = F_SCHEMA; i <= F_METHOD; i++)
			if (f[i] == NULL)
				return false;
		for (int i = F_CHILD_ROWS; i <= F_ORPHAN_KEYS; i++)
			if (!parse_u64(f[i], &u))
				return false;
		fk_array_grow((void **) &st->recs, &st->cap, st->nrecs + 1, sizeof(StateRecord));
		r = &st->recs[st->nrecs++];
		memset(r, 0, sizeof(*r));
		parse_u64(f[F_OID], &u);
		r->oid = (Oid) u;
		r->fields = f;
		r->nfields = n;
		*cur = r;
		return true;
	}
	if (r == NULL)
		return false;
	if (strcmp(f[0], "sample") == 0 && n >= 3 && f[1] && parse_u64(f[2], &u) &&
		u == (uint64_t) (n - 3))
	{
		OrphanSample *smp;

		r->samples = fk_realloc(r->samples, sizeof(OrphanSample) * (size_t) (r->nsamples + 1));
		smp = &r->samples[r->nsamples++];
		smp->ctid = fk_strdup(f[1]);
		smp->nkeys = (int) u;
		smp->key = fk_calloc((size_t) u + 1, sizeof(char *));
		for (int k = 0; k < smp->nkeys; k++)
			smp->key[k] = f[3 + k] ? fk_strdup(f[3 + k]) : NULL;
	}
	else if (strcmp(f[0], "cascade") == 0 && n == 6)
	{
		StateStep step;
		uint64_t  d, via, tab;

		if (!parse_u64(f[1], &d) || !parse_u64(f[2], &via) || !parse_u64(f[3], &tab) ||
			f[4] == NULL || strlen(f[4]) != 1 || !parse_u64(f[5], &step.rows))
			return false;
		step.depth = (int) d;
		step.via = (Oid) via;
		step.table = (Oid) tab;
		step.action = f[4][0];
		r->steps = fk_realloc(r->steps, sizeof(StateStep) * (size_t) (r->nsteps + 1));
		r->steps[r->nsteps++] = step;
	}
	else if (strcmp(f[0], "compare") == 0 && n == 5)
	{
		if (!f[1] || !parse_double(f[2], &r->compare_elapsed_s) ||
			!parse_u64(f[3], &r->compare_rows) || !parse_u64(f[4], &r->compare_keys))
			return false;
		r->compared = true;
		r->agree = strcmp(f[1], "1") == 0;
	}
	else if (strcmp(f[0], "end") == 0 && n == 2 && parse_u64(f[1], &u) && u == r->oid)
		*cur = NULL;
	else
		return false;
	free_fields(f, n);
	return true;
}

bool
read_all(int fd, StrBuf *b)
{
	char	buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append_len(b, buf, (size_t) n);
	return n == 0;
}

/* A record or chunk left without its "end" by a crash: not counted. */
static void
drop_torn(StateFile *st, StateRecord *cur, StateChunk *curc)
{
	if (cur != NULL)
	{
		record_free(cur);
		st->nrecs--;
	}
	if (curc != NULL)
	{
		chunk_free(curc);
		st->nchunks--;
	}
}

/* Parse the file's text; false (logged) if it is not a state file for us. */
bool
parse_state(StateFile *st, const StrBuf *text, const char *database, const char *sel,
			size_t *valid_end)
{
	size_t		 pos = 0;
	int			 lineno = 0;
	StateRecord *cur = NULL;
	StateChunk	*curc = NULL;
	int			 version = 0;

	*valid_end = 0;
	while (pos < text->len)
	{
		const char *line = text->data + pos;
		const char *nl = memchr(line, '\n', text->len - pos);
		size_t		len;
		char	  **f;
		int			n;
		bool		chunk_line = false;

		if (nl == NULL)
			break; /* a torn last line */
		len = (size_t) (nl - line);
		lineno++;
		f = split_line(line, len, &n);
		if (lineno == 1)
		{
			bool ok = n == 2 && f[0] && strcmp(f[0], STATE_MAGIC) == 0 && f[1];

			if (ok && strlen(f[1]) == 1 && f[1][0] >= '1' && f[1][0] <= '0' + STATE_VERSION)
				version = f[1][0] - '0';
			if (ok && version == 0)
			{
				log_error("state file \"%s\" has version %s; this fkscan reads version %d",
						  st->path, f[1], STATE_VERSION);
				free_fields(f, n);
				return false;
			}
			free_fields(f, n);
			if (!ok)
				goto garbled;
		}
		else if (lineno == 2)
		{
			bool ok = n == 4 && f[0] && strcmp(f[0], "run") == 0 && f[1] && f[2];

			if (ok && (strcmp(f[1], database) != 0 || strcmp(f[2], sel) != 0))
			{
				log_error("state file \"%s\" belongs to another scan", st->path);
				log_detail("It was written for database \"%s\"%s; this scan is of \"%s\".", f[1],
						   strcmp(f[2], sel) != 0 ? " with other filters, --sample or --compare"
												  : "",
						   database);
				log_hint("Give the same database and options to resume, or another --state file.");
				free_fields(f, n);
				return false;
			}
			free_fields(f, n);
			if (!ok)
				goto garbled;
			*valid_end = pos + len + 1;
		}
		else if (n < 1 || f[0] == NULL ||
				 !(chunk_line = curc != NULL || (cur == NULL && strcmp(f[0], "chunk") == 0),
				   chunk_line ? (curc ? parse_chunk_line(&curc, f, n)
									  : start_chunk(st, &curc, f, n, version >= 4))
							  : parse_record_line(st, &cur, f, n)))
		{
			bool owned = cur != NULL && cur->fields == f;

			/* chunk lines free their fields, parsed or not */
			if (!owned && !chunk_line)
				free_fields(f, n);
			/* a malformed line inside the torn tail is the crash's, not garbage */
			if (memmem(nl, text->len - (size_t) (nl - text->data), "\nend\t", 5) == NULL)
			{
				drop_torn(st, cur, curc);
				return true;
			}
			goto garbled;
		}
		else if (cur == NULL && curc == NULL)
			*valid_end = pos + len + 1; /* a record just ended */
		pos += len + 1;
	}
	if (lineno < 2)
		goto garbled;
	drop_torn(st, cur, curc);
	return true;

garbled:
	log_error("state file \"%s\" is not a valid fkscan state file (line %d)", st->path, lineno);
	log_hint("Remove it to start afresh, or give another --state file.");
	return false;
}
