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
 * reused.  Version 4 changes no line, only the fingerprint rule of
 * hashed keys (keyenc_fingerprint): chunk records of earlier versions are
 * read but never reused.  Files of versions 1 to 3 are read too (and may
 * get chunk records appended: the header is never rewritten).
 *
 * The two header lines are written to FILE.partial (outfile: created
 * exclusively, never through a link, 0600), fsynced and renamed into place; every FK record (fk ... end) is one write() followed by fsync().
 * Whatever follows the last "end" line is a record torn by a crash: it is
 * cut off when the file is opened again.
 */
#include "fkscan/stateint.h"

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
	StrBuf b;
	char   hex[32];

	strbuf_init(&b);
	hash_list(&b, "n", &o->filter.schemas);
	hash_list(&b, "N", &o->filter.exclude_schemas);
	hash_list(&b, "t", &o->filter.tables);
	hash_list(&b, "T", &o->filter.exclude_tables);
	hash_list(&b, "c", &o->filter.constraints);
	strbuf_appendf(&b,
				   "sample:%d\x1e"
				   "compare:%d\x1e",
				   o->scan.sample, o->scan.compare_server ? 1 : 0);
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long) XXH3_64bits(b.data, b.len));
	strbuf_free(&b);
	return fk_strdup(hex);
}

/* Write the header as a new file (outfile: exclusive, 0600, renamed into place). */
static bool
create_state(const char *path, const char *database, const char *sel)
{
	StrBuf	  b;
	char	  when[32];
	time_t	  now = time(NULL);
	struct tm tm;
	bool	  ok;

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
	if ((stat(path, &sb) != 0 && errno == ENOENT) ||
		(ok && stat(path, &sb) == 0 && sb.st_size == 0))
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
state_take_fk(StateFile *st, const CatForeignKey *fk, const Catalog *cat, const Catalog *graph,
			  FkResult *r, bool *need_graph)
{
	const CatTable *child = &cat->tables[fk->child];
	StateRecord	   *rec = NULL;
	CascadeStep	   *steps;
	uint64_t		v[5];

	*need_graph = false;
	/* a relationship has no oid to tie a record to: its --relation may have changed */
	if (!fk->declared)
		return false;
	/* the last record of this FK, with the same names */
	for (int i = st->nrecs - 1; i >= 0 && rec == NULL; i--)
		if (st->recs[i].oid == fk->oid)
			rec = &st->recs[i];
	if (rec == NULL || strcmp(rec->fields[F_SCHEMA], child->schema) != 0 ||
		strcmp(rec->fields[F_TABLE], child->name) != 0 ||
		strcmp(rec->fields[F_CONSTRAINT], fk->name) != 0 ||
		check_method_parse(rec->fields[F_METHOD]) == METHOD_NONE ||
		(strcmp(rec->fields[F_STATUS], "clean") != 0 &&
		 strcmp(rec->fields[F_STATUS], "orphans") != 0))
		return false;
	steps = fk_calloc((size_t) rec->nsteps + 1, sizeof(CascadeStep));
	for (int i = 0; i < rec->nsteps; i++)
	{
		const StateStep		*ss = &rec->steps[i];
		const CatForeignKey *via = find_fk(cat, ss->via);
		const CatTable		*t = find_table(cat, ss->table);

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
	r->method = check_method_parse(rec->fields[F_METHOD]);
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
		OrphanSample	   *d = &r->samples[i];
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
	bool ok;

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
	StrBuf b;
	char   num[64];
	bool   ok;

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
	append_field(&b, check_method_name(r->method));
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
					   r->compare_agree ? 1 : 0, r->compare_elapsed_s, r->compare_orphan_rows,
					   r->compare_orphan_keys);
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
	StrBuf b;
	bool   ok;

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
			Hash128 h = candset_hash(cf->cands, k);

			strbuf_appendf(&b, "ocand\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64, h.hi, h.lo,
						   candset_rows(cf->cands, k));
			for (int col = 0; col < candset_nkeys(cf->cands); col++)
			{
				int32_t		   len;
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
