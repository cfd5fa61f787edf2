/*
 * verify.c
 *	  Server-side checks on the scan's snapshot; see verify.h.
 */
#include "fkscan/verify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/keyset.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/risql.h"
#include "fkscan/strbuf.h"

/* Candidates per confirmation query: one round trip for thousands of keys. */
#define CONFIRM_BATCH 10000

/* ---- the server's own anti-join ---- */

static bool
counts_row(void *ctx, const PGresult *res, int row)
{
	uint64_t *out = ctx;

	for (int i = 0; i < PQnfields(res); i++)
		out[i] = strtoull(PQgetvalue(res, row, i), NULL, 10);
	return true;
}

/* One sample row: ctid, then the key columns as text. */
static bool
sample_row(void *ctx, const PGresult *res, int row)
{
	FkResult	 *r = ctx;
	OrphanSample *smp;
	int			  nkeys = PQnfields(res) - 1;

	r->samples = fk_realloc(r->samples, sizeof(OrphanSample) * (size_t) (r->nsamples + 1));
	smp = &r->samples[r->nsamples++];
	smp->ctid = fk_strdup(PQgetvalue(res, row, 0));
	smp->nkeys = nkeys;
	smp->key = fk_calloc((size_t) (nkeys ? nkeys : 1), sizeof(char *));
	for (int i = 0; i < nkeys; i++)
		smp->key[i] = PQgetisnull(res, row, i + 1) ? NULL : fk_strdup(PQgetvalue(res, row, i + 1));
	return true;
}

/* Append a sample taken from another FkResult (which must forget it). */
static void
sample_row_move(FkResult *r, const OrphanSample *smp)
{
	r->samples = fk_realloc(r->samples, sizeof(OrphanSample) * (size_t) (r->nsamples + 1));
	r->samples[r->nsamples++] = *smp;
}

/* "SELECT c.ctid::text, c.k1::text, ..." */
static void
append_sample_select(StrBuf *sql, const CatColumn *cols, int ncols)
{
	strbuf_append(sql, "SELECT c.ctid::pg_catalog.text");
	for (int i = 0; i < ncols; i++)
	{
		strbuf_append(sql, ", ");
		pgconn_append_ident(sql, "c", cols[i].name);
		strbuf_append(sql, "::pg_catalog.text");
	}
}

bool
verify_fk_on_server(PgConn *c, const Catalog *cat, const CatForeignKey *fk, int sample, FkResult *r)
{
	RiConditions q;
	StrBuf		 from, sql;
	uint64_t	 counts[3] = {0, 0, 0};
	uint64_t	 orphans[2] = {0, 0};
	bool		 ok;

	risql_conditions(cat, fk, &q);
	strbuf_init(&from);
	strbuf_init(&sql);
	risql_append_from(&from, &cat->tables[fk->child]);
	strbuf_append(&from, " c");

	strbuf_appendf(&sql,
				   "SELECT count(*), count(*) FILTER (WHERE %s), "
				   "count(*) FILTER (WHERE %s) FROM %s",
				   q.exempt.data, q.partial.data, from.data);
	ok = pgconn_exec(c, sql.data, 0, NULL, counts_row, counts);
	if (ok)
	{
		/* grouping uses the child type's own equality: distinct keys, exactly */
		strbuf_reset(&sql);
		strbuf_appendf(&sql,
					   "SELECT coalesce(sum(n), 0), count(*) FROM "
					   "(SELECT count(*) AS n FROM %s WHERE %s GROUP BY %s) g",
					   from.data, q.orphan.data, q.keys.data);
		ok = pgconn_exec(c, sql.data, 0, NULL, counts_row, orphans);
	}
	/* samples are named by their ctid: none when the role may not read it */
	if (ok && sample > 0 && orphans[0] + counts[2] > 0 &&
		catalog_table_ctid_readable(&cat->tables[fk->child]))
	{
		strbuf_reset(&sql);
		append_sample_select(&sql, fk->child_cols, fk->ncols);
		strbuf_appendf(&sql, " FROM %s WHERE (%s) OR %s ORDER BY c.ctid LIMIT %d", from.data,
					   q.orphan.data, q.partial.data, sample);
		ok = pgconn_exec(c, sql.data, 0, NULL, sample_row, r);
	}
	if (ok)
	{
		r->child_rows = counts[0];
		r->null_rows = counts[1];
		r->partial_null_rows = counts[2];
		r->orphan_rows = orphans[0] + counts[2];
		r->orphan_keys = orphans[1];
	}
	risql_conditions_free(&q);
	strbuf_free(&from);
	strbuf_free(&sql);
	return ok;
}

/* ---- integer orphans, re-checked ---- */

/* Walks a key set in batches: keys after "after", CONFIRM_BATCH at a time. */
typedef struct IntBatch
{
	StrBuf			text; /* "{1,2,3}" */
	int				n;
	int64_t			after;
	bool			started; /* "after" is meaningful */
	const KeySet64 *skip;	 /* keys in this set are left out, if set */
} IntBatch;

static bool
add_int_key(int64_t key, void *ctx)
{
	IntBatch *b = ctx;

	if ((b->started && key <= b->after) || (b->skip && keyset64_contains(b->skip, key)))
		return true;
	strbuf_appendf(&b->text, "%c%" PRId64, b->n++ ? ',' : '{', key);
	b->after = key;
	return b->n < CONFIRM_BATCH;
}

/* Run sql once per batch of the keys of set (less skip) as an int8[] in $1. */
static bool
per_int_batch(PgConn *c, const char *sql, const KeySet64 *set, const KeySet64 *skip, PgRowFn fn,
			  void *ctx)
{
	IntBatch b = {.skip = skip};
	bool	 ok = true;

	strbuf_init(&b.text);
	do
	{
		const char *params[1];

		strbuf_reset(&b.text);
		b.n = 0;
		keyset64_iterate(set, add_int_key, &b);
		b.started = true;
		if (b.n == 0)
			break;
		strbuf_append_char(&b.text, '}');
		params[0] = b.text.data;
		ok = pgconn_exec(c, sql, 1, params, fn, ctx);
	} while (ok && b.n == CONFIRM_BATCH);
	strbuf_free(&b.text);
	return ok;
}

static bool
still_row(void *ctx, const PGresult *res, int row)
{
	keyset64_add(ctx, strtoll(PQgetvalue(res, row, 0), NULL, 10));
	return true;
}

static bool
count_row(void *ctx, const PGresult *res, int row)
{
	*(uint64_t *) ctx += strtoull(PQgetvalue(res, row, 0), NULL, 10);
	return true;
}

bool
verify_int_orphans(PgConn *c, const Catalog *cat, const CatForeignKey *fk, const KeySet64 *keys,
				   KeySet64 *still, uint64_t *gone_rows)
{
	StrBuf sql;
	bool   ok;

	*gone_rows = 0;
	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT u.k FROM pg_catalog.unnest($1::pg_catalog.int8[]) AS u(k) "
						"WHERE NOT EXISTS (SELECT 1 FROM ");
	risql_append_from(&sql, &cat->tables[fk->parent]);
	strbuf_append(&sql, " p WHERE ");
	pgconn_append_ident(&sql, "p", fk->parent_cols[0].name);
	strbuf_append(&sql, " OPERATOR(pg_catalog.=) u.k)");
	ok = per_int_batch(c, sql.data, keys, NULL, still_row, still);
	if (ok && keyset64_cardinality(still) < keyset64_cardinality(keys))
	{
		/* the keys that have a parent after all: how many child rows held them */
		strbuf_reset(&sql);
		strbuf_append(&sql, "SELECT count(*) FROM ");
		risql_append_from(&sql, &cat->tables[fk->child]);
		strbuf_append(&sql, " c WHERE ");
		pgconn_append_ident(&sql, "c", fk->child_cols[0].name);
		strbuf_append(&sql, " OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])");
		ok = per_int_batch(c, sql.data, keys, still, count_row, gone_rows);
	}
	strbuf_free(&sql);
	return ok;
}

/* ---- keys as binary array parameters ---- */

static void
append_be32(StrBuf *b, uint32_t v)
{
	char x[4] = {(char) (v >> 24), (char) (v >> 16), (char) (v >> 8), (char) v};

	strbuf_append_len(b, x, 4);
}

/* array_recv's format: ndim, has-null flag, element type, length, lower bound. */
static void
build_array(StrBuf *out, Oid elemtype, const CandSet *cands, const uint32_t *idx, int n, int col)
{
	strbuf_reset(out);
	append_be32(out, 1);
	append_be32(out, 0);
	append_be32(out, elemtype);
	append_be32(out, (uint32_t) n);
	append_be32(out, 1);
	for (int i = 0; i < n; i++)
	{
		int32_t		   len;
		const uint8_t *v = candset_value(cands, idx[i], col, &len);

		append_be32(out, (uint32_t) len);
		strbuf_append_len(out, (const char *) v, (size_t) len);
	}
}

typedef struct KeyParams
{
	int			 n;
	StrBuf		*arrays;
	const char **values;
	int			*lengths;
	int			*formats;
} KeyParams;

static void
key_params_build(KeyParams *kp, const CatForeignKey *fk, const CandSet *cands, const uint32_t *idx,
				 int n)
{
	kp->n = fk->ncols;
	kp->arrays = fk_calloc((size_t) fk->ncols, sizeof(StrBuf));
	kp->values = fk_calloc((size_t) fk->ncols, sizeof(char *));
	kp->lengths = fk_calloc((size_t) fk->ncols, sizeof(int));
	kp->formats = fk_calloc((size_t) fk->ncols, sizeof(int));
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_init(&kp->arrays[k]);
		build_array(&kp->arrays[k], fk->child_cols[k].base_type_oid, cands, idx, n, k);
		kp->values[k] = kp->arrays[k].data;
		kp->lengths[k] = (int) kp->arrays[k].len;
		kp->formats[k] = 1;
	}
}

static void
key_params_free(KeyParams *kp)
{
	for (int k = 0; k < kp->n; k++)
		strbuf_free(&kp->arrays[k]);
	free(kp->arrays);
	free(kp->values);
	free(kp->lengths);
	free(kp->formats);
}

static bool
type_name_row(void *ctx, const PGresult *res, int row)
{
	StrBuf *b = ctx;

	strbuf_append(b, PQgetvalue(res, row, 0));
	return true;
}

/* "unnest($1::t1[], $2::t2[]) AS u(k1, k2[, extra])" over the child's base types. */
static bool
append_unnest(PgConn *c, StrBuf *sql, const CatForeignKey *fk, const char *extra)
{
	strbuf_append(sql, "unnest(");
	for (int k = 0; k < fk->ncols; k++)
	{
		char		oid[16];
		const char *params[1] = {oid};

		snprintf(oid, sizeof(oid), "%u", fk->child_cols[k].base_type_oid);
		strbuf_appendf(sql, "%s$%d::", k ? ", " : "", k + 1);
		/* the bare type name: format_type's "character" would mean char(1) */
		if (!pgconn_exec(c,
						 "SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' "
						 "OPERATOR(pg_catalog.||) pg_catalog.quote_ident(t.typname) "
						 "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
						 "ON n.oid OPERATOR(pg_catalog.=) t.typnamespace "
						 "WHERE t.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid",
						 1, params, type_name_row, sql))
			return false;
		strbuf_append(sql, "[]");
	}
	strbuf_append(sql, ")");
	if (extra)
		strbuf_append(sql, " WITH ORDINALITY");
	strbuf_append(sql, " AS u(");
	for (int k = 0; k < fk->ncols; k++)
		strbuf_appendf(sql, "%sk%d", k ? ", " : "", k + 1);
	if (extra)
		strbuf_appendf(sql, ", %s", extra);
	strbuf_append(sql, ")");
	return true;
}

typedef struct ConfirmCtx
{
	bool		   *confirmed;
	const uint32_t *idx;
	int				n;
} ConfirmCtx;

static bool
confirm_row(void *ctx, const PGresult *res, int row)
{
	ConfirmCtx *cc = ctx;
	long		ord = strtol(PQgetvalue(res, row, 0), NULL, 10);

	if (ord < 1 || ord > cc->n)
		return false;
	cc->confirmed[cc->idx[ord - 1]] = true;
	return true;
}

bool
verify_candidates(PgConn *c, const Catalog *cat, const CatForeignKey *fk, const CandSet *cands,
				  bool *confirmed)
{
	uint32_t	total = candset_size(cands);
	uint32_t   *idx;
	const char *names[PLAN_MAX_KEYS];
	char		namebuf[PLAN_MAX_KEYS][16];
	StrBuf		sql;
	bool		ok = true;

	if (total == 0)
		return true;
	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT u.ord FROM ");
	if (!append_unnest(c, &sql, fk, "ord"))
	{
		strbuf_free(&sql);
		return false;
	}
	for (int k = 0; k < fk->ncols; k++)
	{
		snprintf(namebuf[k], sizeof(namebuf[k]), "k%d", k + 1);
		names[k] = namebuf[k];
	}
	strbuf_append(&sql, " WHERE NOT EXISTS (SELECT 1 FROM ");
	risql_append_from(&sql, &cat->tables[fk->parent]);
	strbuf_append(&sql, " p WHERE ");
	risql_append_join(&sql, fk, "u", names, RISQL_EXACT);
	strbuf_append(&sql, ")");

	idx = fk_malloc(sizeof(uint32_t) * CONFIRM_BATCH);
	for (uint32_t start = 0; ok && start < total; start += CONFIRM_BATCH)
	{
		int		   n = (int) (total - start < CONFIRM_BATCH ? total - start : CONFIRM_BATCH);
		KeyParams  kp;
		ConfirmCtx cc = {confirmed, idx, n};

		for (int i = 0; i < n; i++)
			idx[i] = start + (uint32_t) i;
		key_params_build(&kp, fk, cands, idx, n);
		ok = pgconn_exec_binary(c, sql.data, kp.n, kp.values, kp.lengths, kp.formats, false,
								confirm_row, &cc);
		key_params_free(&kp);
	}
	free(idx);
	strbuf_free(&sql);
	return ok;
}

bool
verify_candidates_text(PgConn *c, const CatForeignKey *fk, const CandSet *cands,
					   const bool *confirmed, PgRowFn fn, void *ctx)
{
	uint32_t  total = candset_size(cands);
	uint32_t *idx;
	StrBuf	  sql;
	bool	  ok = true;
	int		  n = 0;

	if (total == 0)
		return true;
	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT ");
	for (int k = 0; k < fk->ncols; k++)
		strbuf_appendf(&sql, "%su.k%d::pg_catalog.text", k ? ", " : "", k + 1);
	strbuf_append(&sql, " FROM ");
	if (!append_unnest(c, &sql, fk, NULL))
	{
		strbuf_free(&sql);
		return false;
	}
	idx = fk_malloc(sizeof(uint32_t) * CONFIRM_BATCH);
	for (uint32_t i = 0; ok && i <= total; i++)
	{
		if (n == CONFIRM_BATCH || (i == total && n > 0))
		{
			KeyParams kp;

			key_params_build(&kp, fk, cands, idx, n);
			ok = pgconn_exec_binary(c, sql.data, kp.n, kp.values, kp.lengths, kp.formats, false, fn,
									ctx);
			key_params_free(&kp);
			n = 0;
		}
		if (i < total && confirmed[i])
			idx[n++] = i;
	}
	free(idx);
	strbuf_free(&sql);
	return ok;
}

/* ---- sample rows ---- */

typedef struct SampleCtx
{
	FkResult *r;
	int		  limit;
} SampleCtx;

static bool
limited_sample_row(void *ctx, const PGresult *res, int row)
{
	SampleCtx *sc = ctx;

	if (sc->r->nsamples >= sc->limit)
		return true;
	return sample_row(sc->r, res, row);
}

/*
 * One sample query: the rows of part (a chunk or a prefix of it) whose key
 * is among arg's, in ctid order, at most want, each to fn.
 */
typedef bool (*SampleQueryFn)(PgConn *c, const Chunk *part, int want, PgRowFn fn, void *fnctx,
							  void *arg);

/* Pages of a chunk tried first for its samples; 8 times more at each step. */
#define SAMPLE_PREFIX_PAGES 64

/*
 * The samples are the chunk's first orphans, so they usually sit in its
 * first pages: a scan of the whole chunk (the whole table at -j 1, 1/32 of
 * it at -j 2, at the end of the run, when nothing overlaps it) mostly reads
 * pages after the last one needed.  Try growing prefixes of the chunk: a
 * prefix that yields all `want` rows yields exactly the rows the whole
 * chunk would (the first ones in ctid order); a shorter answer is dropped
 * and the next, 8 times larger, prefix or the chunk tried.
 */
static bool
samples_by_prefix(PgConn *c, const Chunk *chunk, int limit, FkResult *r, SampleQueryFn query,
				  void *arg)
{
	SampleCtx sc = {r, limit};
	int		  want = limit - r->nsamples;
	int64_t	  first = chunk->first_page < 0 ? 0 : chunk->first_page;
	int64_t	  end = chunk->end_page >= 0 ? chunk->end_page : chunk->rel->pages;

	/* samples are named by their ctid: none when the role may not read it */
	if (want <= 0 || !chunk->rel->ctid_readable)
		return true;
	for (int64_t pages = SAMPLE_PREFIX_PAGES; first + pages < end; pages *= 8)
	{
		Chunk	 part = *chunk;
		FkResult got;
		bool	 ok;

		memset(&got, 0, sizeof(got));
		part.first_page = first;
		part.end_page = first + pages;
		ok = query(c, &part, want, sample_row, &got, arg);
		if (ok && got.nsamples == want)
		{
			for (int i = 0; i < got.nsamples; i++)
				sample_row_move(r, &got.samples[i]);
			got.nsamples = 0;
		}
		fkresult_reset(&got);
		if (!ok || r->nsamples == limit)
			return ok;
	}
	return query(c, chunk, want, limited_sample_row, &sc, arg);
}

typedef struct IntSampleArgs
{
	const CatColumn *col;
	const char		*keys; /* an int8[] literal */
} IntSampleArgs;

static bool
samples_int_query(PgConn *c, const Chunk *part, int want, PgRowFn fn, void *fnctx, void *arg)
{
	const IntSampleArgs *a = arg;
	StrBuf				 sql;
	const char			*params[1] = {a->keys};
	bool				 ok;

	strbuf_init(&sql);
	append_sample_select(&sql, a->col, 1);
	strbuf_append(&sql, " FROM ONLY ");
	pgconn_append_relation(&sql, part->rel->schema, part->rel->name);
	strbuf_append(&sql, " c WHERE ");
	pgconn_append_ident(&sql, "c", a->col->name);
	strbuf_append(&sql, " = ANY ($1::pg_catalog.int8[])");
	plan_append_chunk_predicate(&sql, part, " AND c.");
	strbuf_appendf(&sql, " ORDER BY c.ctid LIMIT %d", want);
	ok = pgconn_exec(c, sql.data, 1, params, fn, fnctx);
	strbuf_free(&sql);
	return ok;
}

bool
verify_samples_int(PgConn *c, const Chunk *chunk, const CatColumn *col, const int64_t *ints, int n,
				   int limit, FkResult *r)
{
	StrBuf		  keys;
	IntSampleArgs a;
	bool		  ok;

	strbuf_init(&keys);
	strbuf_append_char(&keys, '{');
	for (int i = 0; i < n; i++)
		strbuf_appendf(&keys, "%s%" PRId64, i ? "," : "", ints[i]);
	strbuf_append_char(&keys, '}');
	a.col = col;
	a.keys = keys.data;
	ok = samples_by_prefix(c, chunk, limit, r, samples_int_query, &a);
	strbuf_free(&keys);
	return ok;
}

typedef struct HashSampleArgs
{
	const char *head; /* "SELECT ... WHERE ((keys) IN (...) [OR partial])" */
	KeyParams	kp;
} HashSampleArgs;

static bool
samples_hash_query(PgConn *c, const Chunk *part, int want, PgRowFn fn, void *fnctx, void *arg)
{
	const HashSampleArgs *a = arg;
	StrBuf				  sql;
	bool				  ok;

	strbuf_init(&sql);
	strbuf_append(&sql, a->head);
	plan_append_chunk_predicate(&sql, part, " AND c.");
	strbuf_appendf(&sql, " ORDER BY c.ctid LIMIT %d", want);
	ok = pgconn_exec_binary(c, sql.data, a->kp.n, a->kp.values, a->kp.lengths, a->kp.formats, false,
							fn, fnctx);
	strbuf_free(&sql);
	return ok;
}

bool
verify_samples_hash(PgConn *c, const Catalog *cat, const Chunk *chunk, const CatForeignKey *fk,
					const CandSet *cands, const uint32_t *cand_idx, int n, bool partial, int limit,
					FkResult *r)
{
	StrBuf		   sql;
	HashSampleArgs a;
	bool		   ok;

	strbuf_init(&sql);
	append_sample_select(&sql, fk->child_cols, fk->ncols);
	strbuf_append(&sql, " FROM ONLY ");
	pgconn_append_relation(&sql, chunk->rel->schema, chunk->rel->name);
	strbuf_append(&sql, " c WHERE ((");
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_append(&sql, k ? ", " : "");
		pgconn_append_ident(&sql, "c", fk->child_cols[k].name);
	}
	strbuf_append(&sql, ") IN (SELECT * FROM ");
	if (!append_unnest(c, &sql, fk, NULL))
	{
		strbuf_free(&sql);
		return false;
	}
	strbuf_append(&sql, ")");
	if (partial)
	{
		RiConditions q;

		risql_conditions(cat, fk, &q);
		strbuf_appendf(&sql, " OR %s", q.partial.data);
		risql_conditions_free(&q);
	}
	strbuf_append(&sql, ")");
	a.head = sql.data;
	key_params_build(&a.kp, fk, cands, cand_idx, n);
	ok = samples_by_prefix(c, chunk, limit, r, samples_hash_query, &a);
	key_params_free(&a.kp);
	strbuf_free(&sql);
	return ok;
}
