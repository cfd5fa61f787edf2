/*
 * orphans.c
 *	  The orphan rows of each FK, streamed to CSV; see orphans.h.
 */
#include "fkscan/orphans.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "fkscan/jsonw.h"
#include "fkscan/log.h"
#include "fkscan/outfile.h"
#include "fkscan/mem.h"
#include "fkscan/risql.h"
#include "fkscan/rowsrc.h"
#include "fkscan/strbuf.h"

/* One open CSV being written under a temporary name (outfile), buffered. */
typedef struct CsvFile
{
	OutFile out;
	StrBuf	buf;
	bool	failed; /* a write failed (logged) */
} CsvFile;

#define CSV_FLUSH_BYTES 65536

/* path itself, or (scratch) an unnamed piece beside it. */
static bool
csv_open(CsvFile *f, const char *path, bool scratch)
{
	strbuf_init(&f->buf);
	f->failed = false;
	return scratch ? outfile_open_scratch(&f->out, path) : outfile_open(&f->out, path);
}

static bool
csv_flush(CsvFile *f)
{
	if (!f->failed && f->buf.len > 0 && !outfile_write(&f->out, f->buf.data, f->buf.len))
		f->failed = true;
	strbuf_reset(&f->buf);
	return !f->failed;
}

/* Append len bytes; false once a write failed. */
static bool
csv_put(CsvFile *f, const char *data, size_t len)
{
	strbuf_append_len(&f->buf, data, len);
	return f->buf.len < CSV_FLUSH_BYTES || csv_flush(f);
}

/* Close, and rename into place only if every write succeeded. */
static bool
csv_close(CsvFile *f, bool ok)
{
	ok = ok && csv_flush(f);
	strbuf_free(&f->buf);
	if (ok)
		return outfile_commit(&f->out);
	outfile_abort(&f->out);
	return false;
}

/* A key column that is also a primary key column is written once, as such. */
static bool
name_in(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* RFC 4180: quote fields holding a comma, quote, CR or LF; NULL is empty. */
static void
csv_field(StrBuf *b, const char *v, size_t len, bool first)
{
	bool quote = false;

	if (!first)
		strbuf_append_char(b, ',');
	if (v == NULL)
		return;
	quote = len == 0; /* "" is an empty string, nothing is NULL */
	for (size_t i = 0; i < len && !quote; i++)
		quote = v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n';
	if (!quote)
	{
		strbuf_append_len(b, v, len);
		return;
	}
	strbuf_append_char(b, '"');
	for (size_t i = 0; i < len; i++)
	{
		if (v[i] == '"')
			strbuf_append_char(b, '"');
		strbuf_append_char(b, v[i]);
	}
	strbuf_append_char(b, '"');
}

static void
csv_cstr(StrBuf *b, const char *v, bool first)
{
	csv_field(b, v, v ? strlen(v) : 0, first);
}

/* A SQL literal, for the WHERE predicate: '...' with quotes doubled. */
static void
append_literal(StrBuf *b, const char *v, size_t len)
{
	strbuf_append_char(b, '\'');
	for (size_t i = 0; i < len; i++)
	{
		if (v[i] == '\'')
			strbuf_append_char(b, '\'');
		strbuf_append_char(b, v[i]);
	}
	strbuf_append_char(b, '\'');
}

typedef struct PkCols
{
	char **names;
	int	   n;
} PkCols;

static bool
pk_row(void *ctx, const PGresult *res, int row)
{
	PkCols *pk = ctx;

	pk->names = fk_realloc(pk->names, sizeof(char *) * (size_t) (pk->n + 1));
	pk->names[pk->n++] = fk_strdup(PQgetvalue(res, row, 0));
	return true;
}

static void
pk_free(PkCols *pk)
{
	for (int i = 0; i < pk->n; i++)
		free(pk->names[i]);
	free(pk->names);
}

/* The state of one FK's pass. */
typedef struct PassCtx
{
	const OrphanMatcher *m;
	const CatTable		*child;
	int					 npk;
	const char *const	*pk;
	CsvFile				*out;
	bool				 one_file; /* prefix the FK's names */
	bool				 filtered; /* the query returns only violating rows */
	StrBuf				 line;
	StrBuf				 enc;
	StrBuf				 where;
	uint64_t			 written;
	bool				 bad_value;
} PassCtx;

/* {"name": "value", ...} of text fields into b (names, or the columns'). */
static void
json_object(StrBuf *b, const char *const *names, const CopyField *v, int n, const CatColumn *cols)
{
	strbuf_reset(b);
	strbuf_append_char(b, '{');
	for (int i = 0; i < n; i++)
	{
		char *text;

		strbuf_append(b, i ? ", " : "");
		jsonw_escape(b, names ? names[i] : cols[i].name);
		strbuf_append(b, ": ");
		if (v[i].len < 0)
		{
			strbuf_append(b, "null");
			continue;
		}
		text = fk_malloc((size_t) v[i].len + 1);
		memcpy(text, v[i].data, (size_t) v[i].len);
		text[v[i].len] = '\0';
		jsonw_escape(b, text);
		free(text);
	}
	strbuf_append_char(b, '}');
}

bool
orphans_match(const OrphanMatcher *m, const CopyField *keys, StrBuf *scratch, bool *bad)
{
	int		 ncols = m->fk->ncols;
	KeyNulls nulls = keyenc_nulls(keys, NULL, ncols, m->fk->match_type == 'f');
	Hash128	 h;

	if (nulls != KEY_NO_NULLS)
		return nulls == KEY_MIXED_NULLS;
	if (m->ints)
	{
		int64_t v;

		if (!copybin_int_field(keys[0].data, keys[0].len, &v))
		{
			*bad = true;
			return false;
		}
		return keyset64_contains(m->ints, v);
	}
	if (!keyenc_fingerprint(keys, NULL, m->enc, ncols, scratch, &h))
	{
		*bad = true;
		return false;
	}
	return hset128_contains(m->hashes, h);
}

static bool
orphan_row(void *arg, const CopyField *f, int nf)
{
	PassCtx				*pc = arg;
	const CatForeignKey *fk = pc->m->fk;
	int					 ncols = fk->ncols;
	const CopyField		*keys = f + 2 + pc->npk;
	const CopyField		*texts = keys + ncols;
	StrBuf				*b = &pc->line;

	(void) nf;
	if (!pc->filtered && !orphans_match(pc->m, keys, &pc->enc, &pc->bad_value))
		return !pc->bad_value;
	strbuf_reset(b);
	strbuf_reset(&pc->where);
	if (pc->one_file)
	{
		/* one file for every FK: fixed columns, keys as {"column": "value"} */
		csv_cstr(b, pc->child->schema, true);
		csv_cstr(b, pc->child->name, false);
		csv_cstr(b, fk->name, false);
		for (int i = 0; i < 2; i++)
			csv_field(b, (const char *) f[i].data, (size_t) f[i].len, false);
		json_object(&pc->enc, (const char *const *) pc->pk, f + 2, pc->npk, NULL);
		csv_field(b, pc->enc.data, pc->enc.len, false);
		json_object(&pc->enc, NULL, texts, ncols, fk->child_cols);
		csv_field(b, pc->enc.data, pc->enc.len, false);
	}
	else
	{
		/* relation, ctid, primary key, foreign key columns: all sent as text */
		for (int i = 0; i < 2 + pc->npk; i++)
			csv_field(b, f[i].len < 0 ? NULL : (const char *) f[i].data,
					  f[i].len < 0 ? 0 : (size_t) f[i].len, i == 0);
		for (int k = 0; k < ncols; k++)
			if (!name_in(pc->pk, pc->npk, fk->child_cols[k].name))
				csv_field(b, texts[k].len < 0 ? NULL : (const char *) texts[k].data,
						  texts[k].len < 0 ? 0 : (size_t) texts[k].len, false);
	}
	/* WHERE: the primary key, or the ctid where there is none */
	if (pc->npk > 0)
		for (int i = 0; i < pc->npk; i++)
		{
			const CopyField *v = &f[2 + i];

			strbuf_append(&pc->where, i ? " AND " : "");
			pgconn_append_ident(&pc->where, NULL, pc->pk[i]);
			strbuf_append(&pc->where, " = ");
			append_literal(&pc->where, (const char *) v->data, (size_t) (v->len > 0 ? v->len : 0));
		}
	else
	{
		strbuf_append(&pc->where, "ctid = ");
		append_literal(&pc->where, (const char *) f[1].data, (size_t) f[1].len);
	}
	csv_field(b, pc->where.data, pc->where.len, false);
	strbuf_append(b, "\r\n");
	if (!csv_put(pc->out, b->data, b->len))
		return false;
	pc->written++;
	return true;
}

/* The header of a per-FK file: its own column names. */
static void
write_header(CsvFile *out, const PkCols *pk, const CatForeignKey *fk)
{
	StrBuf b;

	strbuf_init(&b);
	csv_cstr(&b, "relation", true);
	csv_cstr(&b, "ctid", false);
	for (int i = 0; i < pk->n; i++)
		csv_cstr(&b, pk->names[i], false);
	for (int k = 0; k < fk->ncols; k++)
		if (!name_in((const char *const *) pk->names, pk->n, fk->child_cols[k].name))
			csv_cstr(&b, fk->child_cols[k].name, false);
	csv_cstr(&b, "where", false);
	strbuf_append(&b, "\r\n");
	(void) csv_put(out, b.data, b.len); /* a failure shows at csv_close */
	strbuf_free(&b);
}

/* "SELECT relation, ctid, pk::text..., keys..., keys::text... FROM child c [WHERE ...]" */
static void
pass_select(StrBuf *sql, const Catalog *cat, const OrphanMatcher *m, const PkCols *pk,
			bool filtered)
{
	const CatForeignKey *fk = m->fk;
	const CatTable		*child = &cat->tables[fk->child];

	strbuf_append(sql, "SELECT c.tableoid::pg_catalog.regclass::pg_catalog.text, "
					   "c.ctid::pg_catalog.text");
	for (int i = 0; i < pk->n; i++)
	{
		strbuf_append(sql, ", ");
		pgconn_append_ident(sql, "c", pk->names[i]);
		strbuf_append(sql, "::pg_catalog.text");
	}
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_append(sql, ", ");
		pgconn_append_ident(sql, "c", fk->child_cols[k].name);
	}
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_append(sql, ", ");
		pgconn_append_ident(sql, "c", fk->child_cols[k].name);
		strbuf_append(sql, "::pg_catalog.text");
	}
	strbuf_append(sql, child->relkind == 'p' ? " FROM " : " FROM ONLY ");
	pgconn_append_relation(sql, child->schema, child->name);
	strbuf_append(sql, " c");
	if (filtered)
	{
		strbuf_append(sql, " WHERE ");
		risql_append_violation(sql, cat, fk);
	}
}

/* A file name from the FK's names: anything unusual becomes "_". */
static char *
file_name(const char *dir, const CatTable *child, const CatForeignKey *fk)
{
	StrBuf		b;
	bool		changed = false;
	const char *parts[3] = {child->schema, child->name, fk->name};

	strbuf_init(&b);
	strbuf_appendf(&b, "%s/", dir);
	for (int p = 0; p < 3; p++)
	{
		for (const char *c = parts[p]; *c; c++)
		{
			bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
						 (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';

			strbuf_append_char(&b, plain ? *c : '_');
			changed |= !plain;
		}
		strbuf_append_char(&b, p < 2 ? '.' : '\0');
		b.len -= p == 2;
	}
	/* two FKs could sanitise to one name: the OID (a relationship has none:
	 * a hash of its text) keeps them apart */
	if (changed && fk->declared)
		strbuf_appendf(&b, "-%u", fk->oid);
	else if (changed)
		strbuf_appendf(&b, "-%08x", (unsigned) XXH32(fk->relation, strlen(fk->relation), 0));
	strbuf_append(&b, ".csv");
	return strbuf_take(&b);
}

static bool
is_directory(const char *path)
{
	struct stat st;
	size_t		len = strlen(path);

	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode);
	if (len > 0 && path[len - 1] == '/')
	{
		if (mkdir(path, 0700) != 0) /* the files hold table rows */
		{
			log_error("could not create directory \"%s\": %s", path, strerror(errno));
			return false;
		}
		return true;
	}
	return false;
}

static bool
write_fk(PgConn *c, const Catalog *cat, const OrphanMatcher *m, CsvFile *out, bool one_file)
{
	const CatForeignKey *fk = m->fk;
	PkCols				 pk = {NULL, 0};
	char				 oid[16];
	const char			*params[1] = {oid};
	StrBuf				 sql;
	PassCtx				 pc;
	bool				 ok;

	snprintf(oid, sizeof(oid), "%u", cat->tables[fk->child].oid);
	ok = pgconn_exec(
		c,
		"SELECT a.attname FROM pg_catalog.pg_index i "
		"CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
		"AND a.attnum OPERATOR(pg_catalog.=) k.attnum "
		"WHERE i.indrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND i.indisprimary "
		"ORDER BY k.n",
		1, params, pk_row, &pk);
	if (!ok)
		return false;
	if (!one_file)
		write_header(out, &pk, fk);

	memset(&pc, 0, sizeof(pc));
	pc.m = m;
	pc.child = &cat->tables[fk->child];
	pc.npk = pk.n;
	pc.pk = (const char *const *) pk.names;
	pc.out = out;
	pc.one_file = one_file;
	pc.filtered = m->ints == NULL && m->hashes == NULL;
	strbuf_init(&pc.line);
	strbuf_init(&pc.enc);
	strbuf_init(&pc.where);
	strbuf_init(&sql);
	pass_select(&sql, cat, m, &pk, pc.filtered);
	ok = rowsrc_stream(c, FETCH_COPY_BINARY, sql.data, 2 + pk.n + 2 * fk->ncols, orphan_row, &pc,
					   NULL);
	if (pc.bad_value)
		log_error("malformed key data in %s.%s", pc.child->schema, pc.child->name);
	/* the file must hold exactly what the scan counted */
	if (ok && pc.written != m->orphan_rows)
	{
		log_error("%s: wrote %llu orphan rows, the scan counted %llu", fk->name,
				  (unsigned long long) pc.written, (unsigned long long) m->orphan_rows);
		ok = false;
	}
	strbuf_free(&sql);
	strbuf_free(&pc.line);
	strbuf_free(&pc.enc);
	strbuf_free(&pc.where);
	pk_free(&pk);
	return ok;
}

struct OrphansOut
{
	char	*path;
	bool	 dir; /* one file per FK in it; else one file */
	int		 n;
	CsvFile *parts;	  /* one file: per slot, its piece (scratch) */
	bool	*written; /* per slot: orphans_write_fk ran */
	bool	*ok;	  /* ... and succeeded */
};

OrphansOut *
orphans_open(const char *path, int n)
{
	OrphansOut *o = fk_calloc(1, sizeof(OrphansOut));

	o->path = fk_strdup(path);
	o->dir = is_directory(path);
	o->n = n;
	o->parts = fk_calloc((size_t) n + 1, sizeof(CsvFile));
	o->written = fk_calloc((size_t) n + 1, sizeof(bool));
	o->ok = fk_calloc((size_t) n + 1, sizeof(bool));
	return o;
}

bool
orphans_write_fk(OrphansOut *o, int slot, PgConn *c, const Catalog *cat, const OrphanMatcher *m)
{
	CsvFile *f = &o->parts[slot];
	bool	 ok;

	if (o->dir)
	{
		char *name = file_name(o->path, &cat->tables[m->fk->child], m->fk);

		ok = csv_open(f, name, false) && write_fk(c, cat, m, f, false);
		ok = csv_close(f, ok);
		free(name);
	}
	else
	{
		ok = csv_open(f, o->path, true) && write_fk(c, cat, m, f, true) && csv_flush(f);
	}
	o->written[slot] = true;
	o->ok[slot] = ok;
	return ok;
}

bool
orphans_close(OrphansOut *o, bool ok)
{
	static const char header[] = "schema,table,constraint,relation,ctid,primary_key,key,where\r\n";
	CsvFile			  one;

	for (int i = 0; i < o->n; i++)
		ok = ok && (!o->written[i] || o->ok[i]);
	if (!o->dir && ok)
	{
		/* the pieces in slot order, behind one header, renamed into place */
		ok = csv_open(&one, o->path, false) && csv_put(&one, header, sizeof(header) - 1);
		for (int i = 0; ok && i < o->n; i++)
			if (o->written[i])
				ok = csv_flush(&one) && outfile_append_scratch(&one.out, &o->parts[i].out);
		ok = csv_close(&one, ok);
	}
	for (int i = 0; !o->dir && i < o->n; i++)
		if (o->written[i])
		{
			strbuf_free(&o->parts[i].buf);
			outfile_abort(&o->parts[i].out);
		}
	free(o->parts);
	free(o->written);
	free(o->ok);
	free(o->path);
	free(o);
	return ok;
}
