/*
 * state.c
 *	  The --state file: finished FKs recorded as they finish, read back to
 *	  resume a long sweep.
 *
 * Format (version 1), one record per line, fields separated by tabs, with
 * \\, \t, \n and \r escaped and \N for a NULL:
 *
 *   fkscan-state	1
 *   run	DATABASE	SELECTION-HASH	CREATED-AT
 *   fk	OID	SCHEMA	TABLE	CONSTRAINT	STATUS	METHOD	CHILD_ROWS	NULL_ROWS
 *       PARTIAL_NULL_ROWS	ORPHAN_ROWS	ORPHAN_KEYS	ELAPSED_S	SNAPSHOT	FINISHED_AT
 *   sample	CTID	NKEYS	KEY...				(the fk's sample rows, in order)
 *   cascade	DEPTH	VIA-OID	TABLE-OID	ACTION	ROWS	(its cascade steps)
 *   compare	AGREE	SERVER_ELAPSED_S	SERVER_ORPHAN_ROWS	SERVER_ORPHAN_KEYS
 *   end	OID
 *
 * Version 2 adds chunk records: a finished child chunk of a pass with more
 * than one chunk (kill -9 loses only the chunks in flight):
 *
 *   chunk	TABLE-OID	LEAF-OID	FIRST-PAGE	END-PAGE (\N: open-ended)	SNAPSHOT	FILENODE
 *   cfk	FK-OID	CHILD_ROWS	NULL_ROWS	PARTIAL_NULL_ROWS	ORPHAN_ROWS	KIND (i|h)	NCOLS
 *   okey	KEY	ROWS				(integer FK: an orphan key of the chunk)
 *   ocand	HASH-HI	HASH-LO	ROWS	HEX...	(hashed FK: a candidate, raw values)
 *   csample	ORDINAL	PARTIAL	KEY	HASH-HI	HASH-LO	(a sample reference)
 *   end	chunk
 *
 * okey, ocand and csample lines belong to the cfk line before them.
 * Version 3 adds FILENODE (the leaf's file when the chunk was read) to the
 * chunk line; version 2's chunk lines, without it, are read but never
 * reused.  Files of versions 1 and 2 are read too (and may get chunk
 * records appended: the header is never rewritten).
 *
 * The two header lines are written to FILE.partial (outfile: created
 * exclusively, never through a link, 0600), fsynced and renamed into place; every FK record (fk ... end) is one write() followed by fsync().
 * Whatever follows the last "end" line is a record torn by a crash: it is
 * cut off when the file is opened again.
 */
#include "fkscan/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/outfile.h"
#include "fkscan/strbuf.h"

#define STATE_MAGIC "fkscan-state"
#define STATE_VERSION 3

typedef struct StateStep
{
	int			depth;
	Oid			via;
	Oid			table;
	char		action;
	uint64_t	rows;
} StateStep;

typedef struct StateRecord
{
	Oid			oid;
	char	  **fields;			/* the fk line's fields */
	int			nfields;
	OrphanSample *samples;
	int			nsamples;
	StateStep  *steps;
	int			nsteps;
	bool		compared;
	bool		agree;
	double		compare_elapsed_s;
	uint64_t	compare_rows;
	uint64_t	compare_keys;
	bool		taken;
} StateRecord;

struct StateFile
{
	char	   *path;
	int			fd;
	StateRecord *recs;
	int			nrecs;
	int			cap;
	StateChunk *chunks;
	int			nchunks;
	int			chunks_cap;
	pthread_mutex_t write_lock; /* one record at a time */
};

/* The fk line's fields, by position. */
enum
{
	F_TAG, F_OID, F_SCHEMA, F_TABLE, F_CONSTRAINT, F_STATUS, F_METHOD, F_CHILD_ROWS,
	F_NULL_ROWS, F_PARTIAL_NULL_ROWS, F_ORPHAN_ROWS, F_ORPHAN_KEYS, F_ELAPSED,
	F_SNAPSHOT, F_FINISHED_AT, F_COUNT
};

/* ---- fields ---- */

static void
append_field(StrBuf *b, const char *v)
{
	strbuf_append_char(b, '\t');
	if (v == NULL)
	{
		strbuf_append(b, "\\N");
		return;
	}
	strbuf_append_copy_text(b, v);
}

/* Split one line (no newline) at tabs, unescaping; NULL fields for \N. */
static char **
split_line(const char *line, size_t len, int *nfields)
{
	char	  **f = NULL;
	int			n = 0,
				cap = 0;
	size_t		i = 0;

	for (;;)
	{
		StrBuf		v;
		bool		null = false;

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
				char		e = line[++i];

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
		i++;					/* the tab */
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

static bool
parse_u64(const char *s, uint64_t *out)
{
	char	   *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
parse_double(const char *s, double *out)
{
	char	   *end;

	if (s == NULL)
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0';
}

/* ---- identity ---- */

static void
hash_list(StrBuf *b, const char *what, const StringList *l)
{
	strbuf_appendf(b, "%s:%d", what, l->n);
	for (int i = 0; i < l->n; i++)
		strbuf_appendf(b, "\x1f%s", l->items[i]);
	strbuf_append_char(b, '\x1e');
}

/* What decides the results: the selection, --sample and --compare. */
static char *
selection_hash(const FkOptions *o)
{
	StrBuf		b;
	char		hex[32];

	strbuf_init(&b);
	hash_list(&b, "n", &o->filter.schemas);
	hash_list(&b, "N", &o->filter.exclude_schemas);
	hash_list(&b, "t", &o->filter.tables);
	hash_list(&b, "T", &o->filter.exclude_tables);
	hash_list(&b, "c", &o->filter.constraints);
	strbuf_appendf(&b, "sample:%d\x1e" "compare:%d\x1e", o->sample, o->compare_server ? 1 : 0);
	snprintf(hex, sizeof(hex), "%016llx",
			 (unsigned long long) XXH3_64bits(b.data, b.len));
	strbuf_free(&b);
	return fk_strdup(hex);
}

/* ---- reading ---- */

static void
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

static void
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
	char	   *end;

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
	StateChunk *c = *cur;
	StateChunkFk *cf = c->nfks > 0 ? &c->fks[c->nfks - 1] : NULL;
	uint64_t	u[6];
	bool		ok = true;

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
		int64_t		key;

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
		CopyField	fields[32];
		int			cols[32];
		uint8_t    *raw[32] = {0};
		int			ncols = n - 4;
		Hash128		h;

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
				int			hi = hex_digit(x[2 * j]),
							lo = hex_digit(x[2 * j + 1]);

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
		int64_t		key;

		ok = parse_u64(f[1], &smp.ordinal) && f[2] && parse_i64(f[3], &key) &&
			parse_u64(f[4], &u[0]) && parse_u64(f[5], &u[1]);
		if (ok)
		{
			smp.partial = strcmp(f[2], "1") == 0;
			smp.key = key;
			smp.hash.hi = u[0];
			smp.hash.lo = u[1];
			cf->samples = fk_realloc(cf->samples,
									 sizeof(StateChunkSample) * (size_t) (cf->nsamples + 1));
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

/* A chunk line: the start of a chunk record into st (freeing f). */
static bool
start_chunk(StateFile *st, StateChunk **cur, char **f, int n)
{
	uint64_t	table,
				leaf,
				first,
				end = 0,
				filenode = 0;
	StateChunk *c;

	/* version 2: no FILENODE (0: never reused) */
	if ((n != 6 && n != 7) || !parse_u64(f[1], &table) || !parse_u64(f[2], &leaf) ||
		!parse_u64(f[3], &first) || (f[4] != NULL && !parse_u64(f[4], &end)) ||
		(n == 7 && (f[6] == NULL || !parse_u64(f[6], &filenode))) ||
		table > UINT32_MAX || leaf > UINT32_MAX || first > INT64_MAX || end > INT64_MAX ||
		filenode > UINT32_MAX)
	{
		free_fields(f, n);
		return false;
	}
	fk_array_grow((void **) &st->chunks, &st->chunks_cap, st->nchunks + 1, sizeof(StateChunk));
	c = &st->chunks[st->nchunks++];
	memset(c, 0, sizeof(*c));
	c->table = (Oid) table;
	c->leaf = (Oid) leaf;
	c->filenode = (Oid) filenode;
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
	uint64_t	u;

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
		StateStep	step;
		uint64_t	d,
					via,
					tab;

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

static bool
read_all(int fd, StrBuf *b)
{
	char		buf[65536];
	ssize_t		n;

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
static bool
parse_state(StateFile *st, const StrBuf *text, const char *database, const char *sel,
			size_t *valid_end)
{
	size_t		pos = 0;
	int			lineno = 0;
	StateRecord *cur = NULL;
	StateChunk *curc = NULL;
	bool		v1 = false;		/* a version 1 file: this fkscan may append chunks to it */

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
			break;				/* a torn last line */
		len = (size_t) (nl - line);
		lineno++;
		f = split_line(line, len, &n);
		if (lineno == 1)
		{
			bool		ok = n == 2 && f[0] && strcmp(f[0], STATE_MAGIC) == 0 && f[1];

			v1 = ok && strcmp(f[1], "1") == 0;
			if (ok && !v1 && strcmp(f[1], "2") != 0 && strcmp(f[1], "3") != 0)
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
			bool		ok = n == 4 && f[0] && strcmp(f[0], "run") == 0 && f[1] && f[2];

			if (ok && (strcmp(f[1], database) != 0 || strcmp(f[2], sel) != 0))
			{
				log_error("state file \"%s\" belongs to another scan", st->path);
				log_detail("It was written for database \"%s\"%s; this scan is of \"%s\".",
						   f[1], strcmp(f[2], sel) != 0 ? " with other filters, --sample or --compare" : "",
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
				   chunk_line ? (curc ? parse_chunk_line(&curc, f, n) : start_chunk(st, &curc, f, n)) :
				   parse_record_line(st, &cur, f, n)))
		{
			bool		owned = cur != NULL && cur->fields == f;

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
			*valid_end = pos + len + 1;		/* a record just ended */
		pos += len + 1;
	}
	if (lineno < 2)
		goto garbled;
	drop_torn(st, cur, curc);
	return true;

garbled:
	log_error("state file \"%s\" is not a valid fkscan state file (line %d)", st->path,
			  lineno);
	log_hint("Remove it to start afresh, or give another --state file.");
	return false;
}

/* Write the header as a new file (outfile: exclusive, 0600, renamed into place). */
static bool
create_state(const char *path, const char *database, const char *sel)
{
	StrBuf		b;
	char		when[32];
	time_t		now = time(NULL);
	struct tm	tm;
	bool		ok;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_init(&b);
	strbuf_appendf(&b, "%s\t%d\nrun", STATE_MAGIC, STATE_VERSION);
	append_field(&b, database);
	append_field(&b, sel);
	append_field(&b, when);
	strbuf_append_char(&b, '\n');
	ok = outfile_save(path, b.data, b.len);
	if (!ok)
		log_error("could not create state file \"%s\"", path);
	strbuf_free(&b);
	return ok;
}

StateFile *
state_open(const char *path, const char *database, const FkOptions *options)
{
	StateFile  *st = fk_calloc(1, sizeof(StateFile));
	char	   *sel = selection_hash(options);
	StrBuf		text;
	size_t		valid_end = 0;
	struct stat sb;
	bool		ok = true;

	st->path = fk_strdup(path);
	st->fd = -1;
	pthread_mutex_init(&st->write_lock, NULL);
	strbuf_init(&text);
	if ((stat(path, &sb) != 0 && errno == ENOENT) || (ok && stat(path, &sb) == 0 && sb.st_size == 0))
		ok = create_state(path, database, sel);
	if (ok)
	{
		st->fd = outfile_open_existing(path);
		if (st->fd < 0)
			ok = false;
		else if (!read_all(st->fd, &text))
		{
			log_error("could not read state file \"%s\": %s", path, strerror(errno));
			ok = false;
		}
	}
	ok = ok && parse_state(st, &text, database, sel, &valid_end);
	if (ok && valid_end < text.len)
	{
		log_warning("state file \"%s\": dropping a record a crash left unfinished", path);
		if (ftruncate(st->fd, (off_t) valid_end) != 0 || fsync(st->fd) != 0)
		{
			log_error("could not truncate state file \"%s\": %s", path, strerror(errno));
			ok = false;
		}
	}
	if (ok && lseek(st->fd, 0, SEEK_END) < 0)
		ok = false;
	strbuf_free(&text);
	free(sel);
	if (!ok)
	{
		state_close(st);
		return NULL;
	}
	if (st->nrecs > 0)
		log_info("state file \"%s\": %d finished foreign keys from earlier runs", path, st->nrecs);
	if (st->nchunks > 0)
		log_info("state file \"%s\": %d finished chunks from earlier runs", path, st->nchunks);
	return st;
}

int
state_count(const StateFile *st)
{
	return st ? st->nrecs : 0;
}

/* The method names the reports use, as static text. */
static const char *
method_static(const char *m)
{
	static const char *const names[] = {"bitmap", "roaring", "hash", "server"};

	for (size_t i = 0; i < FK_LENGTHOF(names); i++)
		if (strcmp(m, names[i]) == 0)
			return names[i];
	return NULL;
}

static const CatForeignKey *
find_fk(const Catalog *c, Oid oid)
{
	for (int i = 0; c && i < c->nfks; i++)
		if (c->fks[i].oid == oid)
			return &c->fks[i];
	return NULL;
}

static const CatTable *
find_table(const Catalog *c, Oid oid)
{
	for (int i = 0; c && i < c->ntables; i++)
		if (c->tables[i].oid == oid)
			return &c->tables[i];
	return NULL;
}

bool
state_take_fk(StateFile *st, const CatForeignKey *fk, const Catalog *cat,
			  const Catalog *graph, FkResult *r, bool *need_graph)
{
	const CatTable *child = &cat->tables[fk->child];
	StateRecord *rec = NULL;
	CascadeStep *steps;
	uint64_t	v[5];

	*need_graph = false;
	/* the last record of this FK, with the same names */
	for (int i = st->nrecs - 1; i >= 0 && rec == NULL; i--)
		if (st->recs[i].oid == fk->oid)
			rec = &st->recs[i];
	if (rec == NULL || strcmp(rec->fields[F_SCHEMA], child->schema) != 0 ||
		strcmp(rec->fields[F_TABLE], child->name) != 0 ||
		strcmp(rec->fields[F_CONSTRAINT], fk->name) != 0 ||
		method_static(rec->fields[F_METHOD]) == NULL ||
		(strcmp(rec->fields[F_STATUS], "clean") != 0 &&
		 strcmp(rec->fields[F_STATUS], "orphans") != 0))
		return false;
	steps = fk_calloc((size_t) rec->nsteps + 1, sizeof(CascadeStep));
	for (int i = 0; i < rec->nsteps; i++)
	{
		const StateStep *ss = &rec->steps[i];
		const CatForeignKey *via = find_fk(cat, ss->via);
		const CatTable *t = find_table(cat, ss->table);

		if (via == NULL || t == NULL)
		{
			via = find_fk(graph, ss->via);
			t = find_table(graph, ss->table);
		}
		if (via == NULL || t == NULL)
		{
			*need_graph = graph == NULL;
			free(steps);
			return false;
		}
		steps[i].via = via;
		steps[i].table = t;
		steps[i].depth = ss->depth;
		steps[i].action = ss->action;
		steps[i].rows = ss->rows;
	}
	for (int i = 0; i < 5; i++)
		parse_u64(rec->fields[F_CHILD_ROWS + i], &v[i]);
	r->child_rows = v[0];
	r->null_rows = v[1];
	r->partial_null_rows = v[2];
	r->orphan_rows = v[3];
	r->orphan_keys = v[4];
	r->status = strcmp(rec->fields[F_STATUS], "orphans") == 0 ? FKSTATUS_ORPHANS : FKSTATUS_CLEAN;
	r->method = method_static(rec->fields[F_METHOD]);
	if (!parse_double(rec->fields[F_ELAPSED], &r->elapsed_s))
		r->elapsed_s = 0;
	r->snapshot = rec->fields[F_SNAPSHOT] ? fk_strdup(rec->fields[F_SNAPSHOT]) : NULL;
	r->finished_at = rec->fields[F_FINISHED_AT] ? fk_strdup(rec->fields[F_FINISHED_AT]) : NULL;
	r->cascade = steps;
	r->ncascade = rec->nsteps;
	r->samples = fk_calloc((size_t) rec->nsamples + 1, sizeof(OrphanSample));
	r->nsamples = rec->nsamples;
	for (int i = 0; i < rec->nsamples; i++)
	{
		OrphanSample *d = &r->samples[i];
		const OrphanSample *src = &rec->samples[i];

		d->ctid = fk_strdup(src->ctid);
		d->nkeys = src->nkeys;
		d->key = fk_calloc((size_t) src->nkeys + 1, sizeof(char *));
		for (int k = 0; k < src->nkeys; k++)
			d->key[k] = src->key[k] ? fk_strdup(src->key[k]) : NULL;
	}
	r->compared = rec->compared;
	r->compare_agree = rec->agree;
	r->compare_elapsed_s = rec->compare_elapsed_s;
	r->compare_orphan_rows = rec->compare_rows;
	r->compare_orphan_keys = rec->compare_keys;
	r->resumed = true;
	rec->taken = true;
	return true;
}

/* One record, one write(), fsynced; one writer at a time. */
static bool
write_record(StateFile *st, const StrBuf *b)
{
	bool		ok;

	pthread_mutex_lock(&st->write_lock);
	ok = write(st->fd, b->data, b->len) == (ssize_t) b->len && fsync(st->fd) == 0;
	if (!ok)
		log_error("could not write state file \"%s\": %s", st->path, strerror(errno));
	pthread_mutex_unlock(&st->write_lock);
	return ok;
}

bool
state_record_fk(StateFile *st, const FkResult *r)
{
	StrBuf		b;
	char		num[64];
	bool		ok;

	/* a cascade step that could not be counted is not final: read it again */
	for (int i = 0; i < r->ncascade; i++)
		if (r->cascade[i].error)
			return true;
	strbuf_init(&b);
	strbuf_appendf(&b, "fk\t%u", r->fk->oid);
	append_field(&b, r->child->schema);
	append_field(&b, r->child->name);
	append_field(&b, r->fk->name);
	append_field(&b, scanresult_status_name(r->status));
	append_field(&b, r->method);
	strbuf_appendf(&b, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64,
				   r->child_rows, r->null_rows, r->partial_null_rows, r->orphan_rows,
				   r->orphan_keys);
	snprintf(num, sizeof(num), "%.3f", r->elapsed_s);
	append_field(&b, num);
	append_field(&b, r->snapshot);
	append_field(&b, r->finished_at);
	strbuf_append_char(&b, '\n');
	for (int i = 0; i < r->nsamples; i++)
	{
		strbuf_append(&b, "sample");
		append_field(&b, r->samples[i].ctid);
		strbuf_appendf(&b, "\t%d", r->samples[i].nkeys);
		for (int k = 0; k < r->samples[i].nkeys; k++)
			append_field(&b, r->samples[i].key[k]);
		strbuf_append_char(&b, '\n');
	}
	for (int i = 0; i < r->ncascade; i++)
	{
		const CascadeStep *cs = &r->cascade[i];

		strbuf_appendf(&b, "cascade\t%d\t%u\t%u\t%c\t%" PRIu64 "\n", cs->depth, cs->via->oid,
					   cs->table->oid, cs->action, cs->rows);
	}
	if (r->compared)
		strbuf_appendf(&b, "compare\t%d\t%.3f\t%" PRIu64 "\t%" PRIu64 "\n",
					   r->compare_agree ? 1 : 0, r->compare_elapsed_s,
					   r->compare_orphan_rows, r->compare_orphan_keys);
	strbuf_appendf(&b, "end\t%u\n", r->fk->oid);
	ok = write_record(st, &b);
	strbuf_free(&b);
	return ok;
}

int
state_nchunks(const StateFile *st)
{
	return st ? st->nchunks : 0;
}

const StateChunk *
state_chunk(const StateFile *st, int i)
{
	return &st->chunks[i];
}

bool
state_record_chunk(StateFile *st, const StateChunk *c)
{
	StrBuf		b;
	bool		ok;

	strbuf_init(&b);
	strbuf_appendf(&b, "chunk\t%u\t%u\t%" PRId64, c->table, c->leaf, c->first_page);
	if (c->end_page < 0)
		strbuf_append(&b, "\t\\N");
	else
		strbuf_appendf(&b, "\t%" PRId64, c->end_page);
	append_field(&b, c->snapshot);
	strbuf_appendf(&b, "\t%u\n", c->filenode);
	for (int i = 0; i < c->nfks; i++)
	{
		const StateChunkFk *cf = &c->fks[i];
		strbuf_appendf(&b, "cfk\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\t%d\n",
					   cf->fk, cf->child_rows, cf->null_rows, cf->partial_null_rows,
					   cf->orphan_rows, cf->cands ? "h" : "i",
					   cf->cands ? candset_nkeys(cf->cands) : 1);
		for (int k = 0; k < cf->nkeys; k++)
			strbuf_appendf(&b, "okey\t%" PRId64 "\t%" PRIu64 "\n", cf->keys[k], cf->key_rows[k]);
		for (uint32_t k = 0; cf->cands && k < candset_size(cf->cands); k++)
		{
			Hash128		h = candset_hash(cf->cands, k);

			strbuf_appendf(&b, "ocand\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64, h.hi, h.lo,
						   candset_rows(cf->cands, k));
			for (int col = 0; col < candset_nkeys(cf->cands); col++)
			{
				int32_t		len;
				const uint8_t *v = candset_value(cf->cands, k, col, &len);

				if (len < 0)
				{
					strbuf_append(&b, "\t\\N");
					continue;
				}
				strbuf_append_char(&b, '\t');
				for (int32_t j = 0; j < len; j++)
					strbuf_appendf(&b, "%02x", v[j]);
			}
			strbuf_append_char(&b, '\n');
		}
		for (int k = 0; k < cf->nsamples; k++)
		{
			const StateChunkSample *smp = &cf->samples[k];

			strbuf_appendf(&b, "csample\t%" PRIu64 "\t%d\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\n",
						   smp->ordinal, smp->partial ? 1 : 0, smp->key, smp->hash.hi,
						   smp->hash.lo);
		}
	}
	strbuf_append(&b, "end\tchunk\n");
	ok = write_record(st, &b);
	strbuf_free(&b);
	return ok;
}

void
state_close(StateFile *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	for (int i = 0; i < st->nrecs; i++)
		record_free(&st->recs[i]);
	free(st->recs);
	for (int i = 0; i < st->nchunks; i++)
		chunk_free(&st->chunks[i]);
	free(st->chunks);
	pthread_mutex_destroy(&st->write_lock);
	free(st->path);
	free(st);
}
