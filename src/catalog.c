/*
 * catalog.c
 *	  Read every foreign key in scope from the system catalogs; see catalog.h.
 *
 * Four queries, each kept as text in src/sql/:
 *   catalog_unmatched   (only with --strict-names) include patterns that
 *                       match no FK, so the user hears about typos first;
 *   catalog_fks         one row per logical FK, filtered and sorted, with
 *                       trigger states folded over its partition clones;
 *   catalog_fk_columns  the column pairs of those FKs, in conkey order;
 *   catalog_tables      the child and parent tables and their leaves.
 * Filters travel as text[] parameters of regexes made by pattern.c; nothing
 * the user typed is ever part of the SQL text.  An FK is in scope when its
 * child table's schema matches some -n (if any is given), the child table
 * some -t, the constraint some -c, and no -N or -T matches; system schemas
 * and other sessions' temporary tables never are.  PostgreSQL 18's conenforced
 * and conperiod are chosen here by server version: those columns do not
 * exist before.
 *
 * Undeclared relationships (--relation) are resolved first (relation.c)
 * and travel into catalog_fks and catalog_fk_columns as arrays, so they are
 * filtered, sorted and described by the same SQL as declared FKs.
 *
 * Tables are kept sorted by oid so FKs can find theirs by binary search, and
 * each is listed once however many FKs use it.
 */
#include "fkscan/catalog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/pattern.h"
#include "fkscan/quote.h"
#include "fkscan/sqltext.h"
#include "fkscan/strbuf.h"

/* The filters as text[] literals, in the order catalog_fks.sql numbers them. */
enum
{
	FP_SCHEMAS,				  /* -n */
	FP_EXCLUDE_SCHEMAS,		  /* -N */
	FP_TABLE_SCHEMAS,		  /* -t, schema part (NULL when unqualified) */
	FP_TABLES,				  /* -t, table part */
	FP_EXCLUDE_TABLE_SCHEMAS, /* -T, schema part */
	FP_EXCLUDE_TABLES,		  /* -T, table part */
	FP_CONSTRAINTS,			  /* -c */
	FP_REL_NAMES,			  /* undeclared relationships: names */
	FP_REL_CHILDREN,		  /* child oids */
	FP_REL_PARENTS,			  /* parent oids */
	FP_REL_MATCH,			  /* match types */
	FP_REL_KEYS,			  /* child attnums, each an int2[] literal */
	FP_COUNT
};

typedef struct FilterParams
{
	char			 *arrays[FP_COUNT];
	RelationResolved *rels; /* one per filter->relations item */
	int				  nrels;
} FilterParams;

/*
 * Is s well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF)?  Every connection's client_encoding is UTF8: a pattern that is
 * not would fail on the server with a message that does not name it.
 */
static bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		unsigned char c = *p;
		int			  n;
		uint32_t	  cp;

		if (c < 0x80)
		{
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
		{
			n = 1;
			cp = c & 0x1f;
		}
		else if (c >= 0xe0 && c <= 0xef)
		{
			n = 2;
			cp = c & 0x0f;
		}
		else if (c >= 0xf0 && c <= 0xf4)
		{
			n = 3;
			cp = c & 0x07;
		}
		else
			return false;
		for (int i = 1; i <= n; i++)
		{
			if ((p[i] & 0xc0) != 0x80)
				return false; /* also stops at the terminating NUL */
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
			cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

/*
 * Convert the patterns of one option into one (single-part options) or two
 * (-t/-T: schema and table) text[] literals.  Returns false after logging.
 */
static bool
patterns_to_arrays(const StringList *patterns, bool qualified, char **schema_array,
				   char **name_array)
{
	StrBuf schemas;
	StrBuf names;

	strbuf_init(&schemas);
	strbuf_init(&names);
	for (int i = 0; i < patterns->n; i++)
	{
		char *parts[PATTERN_MAX_PARTS] = {NULL};
		int	  n;

		if (!valid_utf8(patterns->items[i]))
		{
			log_error("invalid pattern \"%s\": not valid UTF-8", patterns->items[i]);
			strbuf_free(&schemas);
			strbuf_free(&names);
			return false;
		}
		n = pattern_to_regexes(patterns->items[i], qualified ? 2 : 1, parts);
		if (n == 0)
		{
			strbuf_free(&schemas);
			strbuf_free(&names);
			return false;
		}
		pgconn_array_add(&schemas, n == 2 ? parts[0] : NULL);
		pgconn_array_add(&names, parts[n - 1]);
		pattern_free_parts(parts, n);
	}
	pgconn_array_end(&schemas);
	pgconn_array_end(&names);
	*name_array = strbuf_take(&names);
	if (schema_array)
		*schema_array = strbuf_take(&schemas);
	else
		strbuf_free(&schemas);
	return true;
}

static void
filter_params_reset(FilterParams *fp)
{
	for (int i = 0; i < FP_COUNT; i++)
	{
		free(fp->arrays[i]);
		fp->arrays[i] = NULL;
	}
	for (int i = 0; i < fp->nrels; i++)
		relation_resolved_free(&fp->rels[i]);
	free(fp->rels);
	fp->rels = NULL;
	fp->nrels = 0;
}

/* Resolve the undeclared relationships into the arrays catalog_fks.sql takes. */
static bool
relations_to_arrays(PgConn *c, const RelationList *l, FilterParams *fp)
{
	StrBuf b[5];

	fp->rels = fk_calloc((size_t) (l->n > 0 ? l->n : 1), sizeof(RelationResolved));
	for (int i = 0; i < l->n; i++)
	{
		if (!relation_resolve(c, &l->items[i], &fp->rels[i]))
			return false;
		fp->nrels++;
	}
	for (int k = 0; k < 5; k++)
		strbuf_init(&b[k]);
	for (int i = 0; i < l->n; i++)
	{
		const RelationResolved *r = &fp->rels[i];
		char					match[2] = {l->items[i].match_type, '\0'};
		StrBuf					keys;

		pgconn_array_add(&b[0], l->items[i].name);
		pgconn_oids_add(&b[1], r->child);
		pgconn_oids_add(&b[2], r->parent);
		pgconn_array_add(&b[3], match);
		strbuf_init(&keys);
		for (int j = 0; j < r->ncols; j++)
			pgconn_oids_add(&keys, (Oid) r->child_attnums[j]);
		pgconn_array_add(&b[4], pgconn_array_end(&keys));
		strbuf_free(&keys);
	}
	for (int k = 0; k < 5; k++)
	{
		pgconn_array_end(&b[k]);
		fp->arrays[FP_REL_NAMES + k] = strbuf_take(&b[k]);
	}
	return true;
}

static bool
filter_params_build(PgConn *c, const FilterOptions *f, FilterParams *fp)
{
	char **a = fp->arrays;

	memset(fp, 0, sizeof(*fp));
	if (patterns_to_arrays(&f->schemas, false, NULL, &a[FP_SCHEMAS]) &&
		patterns_to_arrays(&f->exclude_schemas, false, NULL, &a[FP_EXCLUDE_SCHEMAS]) &&
		patterns_to_arrays(&f->tables, true, &a[FP_TABLE_SCHEMAS], &a[FP_TABLES]) &&
		patterns_to_arrays(&f->exclude_tables, true, &a[FP_EXCLUDE_TABLE_SCHEMAS],
						   &a[FP_EXCLUDE_TABLES]) &&
		patterns_to_arrays(&f->constraints, false, NULL, &a[FP_CONSTRAINTS]) &&
		relations_to_arrays(c, &f->relations, fp))
		return true;
	filter_params_reset(fp);
	return false;
}

/* A copy of text with every occurrence of from replaced by to. */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	StrBuf		b;
	const char *p = text;
	const char *hit;
	size_t		fromlen = strlen(from);

	strbuf_init(&b);
	while ((hit = strstr(p, from)) != NULL)
	{
		strbuf_append_len(&b, p, (size_t) (hit - p));
		strbuf_append(&b, to);
		p = hit + fromlen;
	}
	strbuf_append(&b, p);
	return strbuf_take(&b);
}

/* Result accessors: row values are text; NULL reads as NULL / 0 / false. */
static char *
get_str(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : fk_strdup(PQgetvalue(res, row, col));
}

/* SQL text the server quoted (casts, operators), made safe to print. */
static char *
get_requoted(const PGresult *res, int row, int col)
{
	StrBuf b;

	if (PQgetisnull(res, row, col))
		return NULL;
	strbuf_init(&b);
	quote_append_requoted(&b, PQgetvalue(res, row, col));
	return strbuf_take(&b);
}

static int64_t
get_int(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static double
get_double(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0.0 : strtod(PQgetvalue(res, row, col), NULL);
}

static bool
get_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static char
get_char(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? '\0' : PQgetvalue(res, row, col)[0];
}

/* --strict-names */

typedef struct UnmatchedCtx
{
	const FilterOptions *filter;
	int					 unmatched;
} UnmatchedCtx;

static bool
unmatched_row(void *arg, const PGresult *res, int row)
{
	UnmatchedCtx	 *ctx = arg;
	char			  kind = get_char(res, row, 0);
	int64_t			  ord = get_int(res, row, 1);
	const StringList *list;

	if (kind == 'n')
		list = &ctx->filter->schemas;
	else if (kind == 't')
		list = &ctx->filter->tables;
	else
		list = &ctx->filter->constraints;
	if (ord < 1 || ord > list->n)
	{
		log_error("unexpected pattern position %lld in --strict-names check", (long long) ord);
		return false;
	}
	log_error("no matching foreign keys found for pattern \"%s\"", list->items[ord - 1]);
	ctx->unmatched++;
	return true;
}

static bool
check_strict_names(PgConn *c, const FilterOptions *filter, const FilterParams *fp)
{
	const char	*params[] = {fp->arrays[FP_SCHEMAS],   fp->arrays[FP_TABLE_SCHEMAS],
							 fp->arrays[FP_TABLES],	   fp->arrays[FP_CONSTRAINTS],
							 fp->arrays[FP_REL_NAMES], fp->arrays[FP_REL_CHILDREN]};
	UnmatchedCtx ctx = {filter, 0};

	if (!pgconn_exec(c, SQL_CATALOG_UNMATCHED, (int) FK_LENGTHOF(params), params, unmatched_row,
					 &ctx))
		return false;
	return ctx.unmatched == 0;
}

/* Foreign keys */

/* An FK's child and parent table oids, until the tables are read. */
typedef struct FkTableOids
{
	Oid child;
	Oid parent;
} FkTableOids;

typedef struct FkCtx
{
	Catalog			   *cat;
	int					cap;
	FkTableOids		   *oids; /* per FK, same capacity as cat->fks */
	int				   *rel;  /* per FK: 1-based index into fp->rels, 0 if declared */
	const FilterParams *fp;
} FkCtx;

static bool
fk_row(void *arg, const PGresult *res, int row)
{
	FkCtx		  *ctx = arg;
	Catalog		  *cat = ctx->cat;
	CatForeignKey *fk;
	int			   i = cat->nfks;

	if (i + 1 > ctx->cap)
	{
		fk_array_grow((void **) &cat->fks, &ctx->cap, i + 1, sizeof(CatForeignKey));
		ctx->oids = fk_realloc(ctx->oids, sizeof(FkTableOids) * (size_t) ctx->cap);
		ctx->rel = fk_realloc(ctx->rel, sizeof(int) * (size_t) ctx->cap);
	}
	fk = &cat->fks[i];
	memset(fk, 0, sizeof(*fk));
	cat->nfks++;

	fk->oid = (Oid) get_int(res, row, 0);
	fk->name = get_str(res, row, 1);
	ctx->oids[i].child = (Oid) get_int(res, row, 2);
	ctx->oids[i].parent = (Oid) get_int(res, row, 3);
	fk->child = fk->parent = -1;
	fk->match_type = get_char(res, row, 4);
	fk->update_action = get_char(res, row, 5);
	fk->delete_action = get_char(res, row, 6);
	fk->deferrable = get_bool(res, row, 7);
	fk->deferred = get_bool(res, row, 8);
	fk->validated = get_bool(res, row, 9);
	fk->enforced = get_bool(res, row, 10);
	fk->period = get_bool(res, row, 11);
	fk->ncols = (int) get_int(res, row, 12);
	fk->index_covered = get_bool(res, row, 13);
	fk->triggers = (int) get_int(res, row, 14);
	fk->triggers_disabled = (int) get_int(res, row, 15);
	fk->triggers_replica = (int) get_int(res, row, 16);
	fk->trigger_detail = get_str(res, row, 17);
	fk->triggers_missing = (int) get_int(res, row, 18);
	fk->missing_detail = get_str(res, row, 19);
	ctx->rel[i] = (int) get_int(res, row, 20);
	fk->declared = ctx->rel[i] == 0;
	if (ctx->rel[i] < 0 || ctx->rel[i] > ctx->fp->nrels)
	{
		log_error("unexpected relationship %d in the catalog", ctx->rel[i]);
		return false;
	}
	if (!fk->declared)
		fk->parent_index = fk_strdup(ctx->fp->rels[ctx->rel[i] - 1].parent_index);
	if (fk->ncols < 1)
	{
		log_error("foreign key \"%s\" has no columns", fk->name);
		return false;
	}
	fk->child_cols = fk_calloc((size_t) fk->ncols, sizeof(CatColumn));
	fk->parent_cols = fk_calloc((size_t) fk->ncols, sizeof(CatColumn));
	fk->eq_ops = fk_calloc((size_t) fk->ncols, sizeof(char *));
	fk->parent_casts = fk_calloc((size_t) fk->ncols, sizeof(char *));
	fk->child_casts = fk_calloc((size_t) fk->ncols, sizeof(char *));
	return true;
}

static bool
read_fks(PgConn *c, const FilterParams *fp, FkCtx *ctx)
{
	/* 18 adds conenforced and conperiod; before, every FK is enforced and none temporal */
	bool  pg18 = pgconn_server_version(c) >= FK_PG18;
	char *with_enforced =
		replace_all(SQL_CATALOG_FKS, "@ENFORCED@", pg18 ? "c.conenforced" : "true");
	char	   *sql = replace_all(with_enforced, "@PERIOD@", pg18 ? "c.conperiod" : "false");
	const char *params[FP_COUNT];
	bool		ok;

	for (int i = 0; i < FP_COUNT; i++)
		params[i] = fp->arrays[i];
	ok = pgconn_exec(c, sql, FP_COUNT, params, fk_row, ctx);
	free(sql);
	free(with_enforced);
	return ok;
}

/* Columns */

typedef struct ColumnCtx
{
	Catalog *cat;
	int		 rows;
} ColumnCtx;

/* Fill col from the 11 result columns starting at base. */
static void
column_fill(CatColumn *col, const PGresult *res, int row, int base)
{
	col->name = get_str(res, row, base);
	col->attnum = (int16_t) get_int(res, row, base + 1);
	col->type_oid = (Oid) get_int(res, row, base + 2);
	col->base_type_oid = (Oid) get_int(res, row, base + 3);
	col->type_name = get_str(res, row, base + 4);
	col->collation_oid = (Oid) get_int(res, row, base + 5);
	if (col->collation_oid != 0 && !PQgetisnull(res, row, base + 6))
	{
		StrBuf b;

		strbuf_init(&b);
		pgconn_append_relation(&b, PQgetvalue(res, row, base + 6), PQgetvalue(res, row, base + 7));
		col->collation_name = strbuf_take(&b);
	}
	col->collation_deterministic = get_bool(res, row, base + 8);
	col->not_null = get_bool(res, row, base + 9);
	col->generated = get_bool(res, row, base + 10);
}

static bool
column_row(void *arg, const PGresult *res, int row)
{
	ColumnCtx	  *ctx = arg;
	Catalog		  *cat = ctx->cat;
	int64_t		   ord = get_int(res, row, 0);
	int64_t		   pos = get_int(res, row, 1);
	CatForeignKey *fk;

	if (ord < 1 || ord > cat->nfks)
	{
		log_error("columns of unknown foreign key %lld", (long long) ord);
		return false;
	}
	fk = &cat->fks[ord - 1];
	if (pos < 1 || pos > fk->ncols || fk->eq_ops[pos - 1] != NULL)
	{
		log_error("unexpected column %lld of foreign key \"%s\"", (long long) pos, fk->name);
		return false;
	}
	column_fill(&fk->child_cols[pos - 1], res, row, 2);
	column_fill(&fk->parent_cols[pos - 1], res, row, 13);
	/* the server quoted these names: re-quoted so printed SQL holds no control */
	fk->eq_ops[pos - 1] = get_requoted(res, row, 24);
	fk->parent_casts[pos - 1] = get_requoted(res, row, 25);
	fk->child_casts[pos - 1] = get_requoted(res, row, 26);
	fk->child_cols[pos - 1].is_enum = get_bool(res, row, 27);
	fk->parent_cols[pos - 1].is_enum = get_bool(res, row, 28);
	fk->child_cols[pos - 1].op_type_oid = (Oid) get_int(res, row, 29);
	fk->parent_cols[pos - 1].op_type_oid = (Oid) get_int(res, row, 30);
	ctx->rows++;
	return true;
}

/*
 * The parameters of catalog_fk_columns.sql: the FK oids in catalog order,
 * then the column pairs of the undeclared relationships, as 7 arrays.
 */
static bool
read_columns(PgConn *c, Catalog *cat, const FkCtx *fks)
{
	StrBuf		b[8];
	const char *params[8];
	ColumnCtx	ctx = {cat, 0};
	int			want = 0;
	bool		ok;

	for (int k = 0; k < 8; k++)
		strbuf_init(&b[k]);
	for (int i = 0; i < cat->nfks; i++)
	{
		const RelationResolved *r;

		pgconn_oids_add(&b[0], cat->fks[i].oid);
		if (fks->rel[i] == 0)
			continue;
		r = &fks->fp->rels[fks->rel[i] - 1];
		for (int j = 0; j < r->ncols; j++)
		{
			pgconn_oids_add(&b[1], (Oid) i + 1);
			pgconn_oids_add(&b[2], (Oid) j + 1);
			pgconn_oids_add(&b[3], r->child);
			pgconn_oids_add(&b[4], (Oid) r->child_attnums[j]);
			pgconn_oids_add(&b[5], r->parent);
			pgconn_oids_add(&b[6], (Oid) r->parent_attnums[j]);
			pgconn_oids_add(&b[7], r->eq_ops[j]);
		}
	}
	for (int k = 0; k < 8; k++)
		params[k] = pgconn_array_end(&b[k]);
	ok = pgconn_exec(c, SQL_CATALOG_FK_COLUMNS, 8, params, column_row, &ctx);
	for (int k = 0; k < 8; k++)
		strbuf_free(&b[k]);
	if (!ok)
		return false;
	for (int i = 0; i < cat->nfks; i++)
		want += cat->fks[i].ncols;
	if (ctx.rows != want)
	{
		/* a concurrent DROP between our queries; the user can just retry */
		log_error("the foreign keys changed while they were being read");
		log_hint("Run the command again.");
		return false;
	}
	return true;
}

/* Tables */

static int
oid_cmp(const void *a, const void *b)
{
	Oid x = *(const Oid *) a;
	Oid y = *(const Oid *) b;

	return x < y ? -1 : x > y;
}

static int
table_index(const Catalog *cat, Oid oid)
{
	int lo = 0;
	int hi = cat->ntables;

	while (lo < hi)
	{
		int mid = lo + (hi - lo) / 2;

		if (cat->tables[mid].oid == oid)
			return mid;
		if (cat->tables[mid].oid < oid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

typedef struct TableCtx
{
	Catalog *cat;
	int		 table; /* index of the table the last row filled */
	int		 leaves_cap;
	bool	 estimate_unknown; /* some leaf of this table never analyzed */
	double	 estimate;
	int		 filled;
} TableCtx;

static void
table_finish(TableCtx *ctx)
{
	CatTable *t;

	if (ctx->table < 0)
		return;
	t = &ctx->cat->tables[ctx->table];
	t->est_rows = ctx->estimate_unknown ? -1 : (int64_t) llround(ctx->estimate);
}

static bool
table_row(void *arg, const PGresult *res, int row)
{
	TableCtx	*ctx = arg;
	Catalog		*cat = ctx->cat;
	Oid			 oid = (Oid) get_int(res, row, 0);
	CatTable	*t;
	CatRelation *leaf;
	double		 reltuples;
	int64_t		 relpages;

	if (ctx->table < 0 || cat->tables[ctx->table].oid != oid)
	{
		int i = table_index(cat, oid);

		if (i < 0 || cat->tables[i].schema != NULL)
		{
			log_error("unexpected table %u in the catalog", oid);
			return false;
		}
		table_finish(ctx);
		ctx->table = i;
		ctx->leaves_cap = 0;
		ctx->estimate_unknown = false;
		ctx->estimate = 0;
		ctx->filled++;
		t = &cat->tables[i];
		t->schema = get_str(res, row, 1);
		t->name = get_str(res, row, 2);
		t->relkind = get_char(res, row, 3);
	}
	t = &cat->tables[ctx->table];
	if (PQgetisnull(res, row, 4))
		return true; /* a partitioned table without partitions */

	fk_array_grow((void **) &t->leaves, &ctx->leaves_cap, t->nleaves + 1, sizeof(CatRelation));
	leaf = &t->leaves[t->nleaves++];
	memset(leaf, 0, sizeof(*leaf));
	leaf->oid = (Oid) get_int(res, row, 4);
	leaf->schema = get_str(res, row, 5);
	leaf->name = get_str(res, row, 6);
	leaf->persistence = get_char(res, row, 7);
	leaf->heap = get_bool(res, row, 8);
	reltuples = get_double(res, row, 9);
	relpages = get_int(res, row, 10);
	t->size_bytes += get_int(res, row, 11);
	leaf->pages = get_int(res, row, 12);
	leaf->ctid_readable = get_bool(res, row, 13);
	leaf->bulk_read = get_bool(res, row, 14);

	/*
	 * Never analyzed: reltuples is -1 from PG14 on; before, 0 with relpages
	 * 0 (which is also how an analyzed empty table looked).  An empty file is
	 * zero rows whatever the statistics say.
	 */
	if (leaf->pages == 0)
		return true;
	if (reltuples < 0 || (cat->server_version < FK_PG14 && reltuples == 0 && relpages == 0))
		ctx->estimate_unknown = true;
	else
		ctx->estimate += reltuples;
	return true;
}

static bool
read_tables(PgConn *c, Catalog *cat, const FkCtx *fks)
{
	Oid		   *oids = fk_malloc(sizeof(Oid) * (size_t) (2 * cat->nfks));
	int			n = 0;
	StrBuf		b;
	const char *params[1];
	TableCtx	ctx = {cat, -1, 0, false, 0, 0};
	bool		ok;

	for (int i = 0; i < cat->nfks; i++)
	{
		oids[n++] = fks->oids[i].child;
		oids[n++] = fks->oids[i].parent;
	}
	qsort(oids, (size_t) n, sizeof(Oid), oid_cmp);
	cat->tables = fk_calloc((size_t) (n > 0 ? n : 1), sizeof(CatTable));
	strbuf_init(&b);
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && oids[i] == oids[i - 1])
			continue;
		cat->tables[cat->ntables++].oid = oids[i];
		pgconn_oids_add(&b, oids[i]);
	}
	free(oids);

	params[0] = pgconn_array_end(&b);
	ok = pgconn_exec(c, SQL_CATALOG_TABLES, 1, params, table_row, &ctx);
	strbuf_free(&b);
	if (!ok)
		return false;
	table_finish(&ctx);
	if (ctx.filled != cat->ntables)
	{
		log_error("the tables of the foreign keys changed while they were being read");
		log_hint("Run the command again.");
		return false;
	}
	for (int i = 0; i < cat->nfks; i++)
	{
		cat->fks[i].child = table_index(cat, fks->oids[i].child);
		cat->fks[i].parent = table_index(cat, fks->oids[i].parent);
	}
	return true;
}

/* An undeclared relationship in relation.h's syntax, every name quoted. */
static char *
relation_text(const Catalog *cat, const CatForeignKey *fk)
{
	StrBuf b;

	strbuf_init(&b);
	for (int side = 0; side < 2; side++)
	{
		const CatTable	*t = &cat->tables[side == 0 ? fk->child : fk->parent];
		const CatColumn *cols = side == 0 ? fk->child_cols : fk->parent_cols;

		if (side == 0)
		{
			quote_append_ident(&b, fk->name);
			strbuf_append_char(&b, '=');
		}
		else
			strbuf_append(&b, " -> ");
		quote_append_ident(&b, t->schema);
		strbuf_append_char(&b, '.');
		quote_append_ident(&b, t->name);
		for (int j = 0; j < fk->ncols; j++)
		{
			strbuf_append(&b, j == 0 ? "(" : ", ");
			quote_append_ident(&b, cols[j].name);
		}
		strbuf_append_char(&b, ')');
	}
	if (fk->match_type == 'f')
		strbuf_append(&b, " MATCH FULL");
	return strbuf_take(&b);
}

bool
catalog_read(PgConn *c, const FilterOptions *filter, Catalog **out)
{
	FilterParams fp;
	FkCtx		 fks;
	Catalog		*cat;
	bool		 ok = false;

	*out = NULL;
	if (!filter_params_build(c, filter, &fp))
		return false;
	memset(&fks, 0, sizeof(fks));
	cat = fk_calloc(1, sizeof(Catalog));
	cat->server_version = pgconn_server_version(c);
	fks.cat = cat;
	fks.fp = &fp;

	if (!pgconn_in_recovery(c, &cat->in_recovery))
		goto done;
	if (filter->strict_names && !check_strict_names(c, filter, &fp))
		goto done;
	if (!read_fks(c, &fp, &fks))
		goto done;
	if (cat->nfks > 0 && (!read_columns(c, cat, &fks) || !read_tables(c, cat, &fks)))
		goto done;
	for (int i = 0; i < cat->nfks; i++)
		if (!cat->fks[i].declared)
			cat->fks[i].relation = relation_text(cat, &cat->fks[i]);
	log_info("%d foreign keys over %d tables", cat->nfks, cat->ntables);
	ok = true;

done:
	free(fks.oids);
	free(fks.rel);
	filter_params_reset(&fp);
	if (!ok)
	{
		catalog_free(cat);
		return false;
	}
	*out = cat;
	return true;
}

bool
catalog_read_graph(PgConn *c, const RelationList *relations, Catalog **out)
{
	FilterOptions all;

	memset(&all, 0, sizeof(all));
	all.relations = *relations; /* borrowed */
	return catalog_read(c, &all, out);
}

typedef struct FilenodeCtx
{
	CatRelation **rels;
	int			  nrels;
	int			  filled;
} FilenodeCtx;

static bool
filenode_row(void *arg, const PGresult *res, int row)
{
	FilenodeCtx *ctx = arg;

	if (ctx->filled >= ctx->nrels)
		return true; /* counted below */
	ctx->rels[ctx->filled++]->filenode = (Oid) get_int(res, row, 0);
	return true;
}

bool
catalog_read_filenodes(PgConn *c, Catalog *cat)
{
	FilenodeCtx ctx = {NULL, 0, 0};
	StrBuf		oids;
	const char *params[1];
	bool		ok;

	strbuf_init(&oids);
	for (int i = 0; i < cat->ntables; i++)
		ctx.nrels += cat->tables[i].nleaves;
	ctx.rels = fk_calloc((size_t) ctx.nrels + 1, sizeof(CatRelation *));
	ctx.nrels = 0;
	for (int i = 0; i < cat->ntables; i++)
		for (int j = 0; j < cat->tables[i].nleaves; j++)
		{
			pgconn_oids_add(&oids, cat->tables[i].leaves[j].oid);
			ctx.rels[ctx.nrels++] = &cat->tables[i].leaves[j];
		}
	params[0] = pgconn_array_end(&oids);
	ok = pgconn_exec(c, SQL_CATALOG_FILENODES, 1, params, filenode_row, &ctx);
	if (ok && ctx.filled != ctx.nrels)
	{
		log_error("the relations of the foreign keys changed while they were being read");
		log_hint("Run the command again.");
		ok = false;
	}
	strbuf_free(&oids);
	free(ctx.rels);
	return ok;
}

static void
column_free(CatColumn *col)
{
	free(col->name);
	free(col->type_name);
	free(col->collation_name);
}

void
catalog_free(Catalog *cat)
{
	if (cat == NULL)
		return;
	for (int i = 0; i < cat->nfks; i++)
	{
		CatForeignKey *fk = &cat->fks[i];

		for (int j = 0; j < fk->ncols; j++)
		{
			column_free(&fk->child_cols[j]);
			column_free(&fk->parent_cols[j]);
			free(fk->eq_ops[j]);
			free(fk->parent_casts[j]);
			free(fk->child_casts[j]);
		}
		free(fk->child_cols);
		free(fk->parent_cols);
		free(fk->eq_ops);
		free(fk->parent_casts);
		free(fk->child_casts);
		free(fk->name);
		free(fk->trigger_detail);
		free(fk->missing_detail);
		free(fk->parent_index);
		free(fk->relation);
	}
	free(cat->fks);
	for (int i = 0; i < cat->ntables; i++)
	{
		CatTable *t = &cat->tables[i];

		for (int j = 0; j < t->nleaves; j++)
		{
			free(t->leaves[j].schema);
			free(t->leaves[j].name);
		}
		free(t->leaves);
		free(t->schema);
		free(t->name);
	}
	free(cat->tables);
	free(cat);
}

bool
catalog_fk_triggers_fire(const CatForeignKey *fk)
{
	return fk->enforced && fk->triggers_missing == 0 && fk->triggers_disabled == 0 &&
		   fk->triggers_replica == 0;
}

bool
catalog_fk_broken(const CatForeignKey *fk)
{
	return !fk->validated || !catalog_fk_triggers_fire(fk);
}

const char *
catalog_action_name(char action)
{
	switch (action)
	{
		case 'a':
			return "NO ACTION";
		case 'r':
			return "RESTRICT";
		case 'c':
			return "CASCADE";
		case 'n':
			return "SET NULL";
		case 'd':
			return "SET DEFAULT";
		default:
			return "UNKNOWN";
	}
}

const char *
catalog_match_name(char match_type)
{
	switch (match_type)
	{
		case 's':
			return "SIMPLE";
		case 'f':
			return "FULL";
		case 'p':
			return "PARTIAL";
		default:
			return "UNKNOWN";
	}
}

bool
catalog_table_unlogged(const CatTable *t)
{
	for (int i = 0; i < t->nleaves; i++)
		if (t->leaves[i].persistence == 'u')
			return true;
	return false;
}

int64_t
catalog_table_pages(const CatTable *t)
{
	int64_t pages = 0;

	for (int i = 0; i < t->nleaves; i++)
		pages += t->leaves[i].pages;
	return pages;
}

int
catalog_find_fk(const Catalog *in, const Catalog *of, int i)
{
	const CatForeignKey *fk = &of->fks[i];

	for (int j = 0; j < in->nfks; j++)
	{
		const CatForeignKey *f = &in->fks[j];

		if (f->declared != fk->declared)
			continue;
		if (fk->declared ? f->oid == fk->oid
						 : strcmp(f->name, fk->name) == 0 &&
							   in->tables[f->child].oid == of->tables[fk->child].oid)
			return j;
	}
	return -1;
}

const CatTable *
catalog_partitioned_of(const Catalog *cat, const CatRelation *rel)
{
	for (int i = 0; i < cat->ntables; i++)
	{
		const CatTable *t = &cat->tables[i];

		if (t->relkind == 'p' && rel >= t->leaves && rel < t->leaves + t->nleaves)
			return t;
	}
	return NULL;
}

bool
catalog_table_ctid_readable(const CatTable *t)
{
	for (int i = 0; i < t->nleaves; i++)
		if (!t->leaves[i].ctid_readable)
			return false;
	return true;
}
