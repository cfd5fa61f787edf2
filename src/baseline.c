/*
 * baseline.c
 *	  --baseline: the known orphan keys of an earlier run; see baseline.h.
 *
 * A file starting with "{" is a JSON report, anything else must be the
 * one-file --orphans-out CSV (its fixed header is checked): RFC 4180, each
 * row's key a JSON object {"column": "text" or null}.
 */
#include "fkscan/baseline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/jsonr.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/risql.h"
#include "fkscan/strbuf.h"

#define CSV_HEADER "schema,table,constraint,relation,ctid,primary_key,key,where"
#define CSV_FIELDS 8

static BaselineFk *
fk_entry(Baseline *b, const char *schema, const char *table, const char *constraint)
{
	BaselineFk *e = (BaselineFk *) baseline_find(b, schema, table, constraint);

	if (e != NULL)
		return e;
	fk_array_grow((void **) &b->fks, &b->cap, b->n + 1, sizeof(BaselineFk));
	e = &b->fks[b->n++];
	memset(e, 0, sizeof(*e));
	e->schema = fk_strdup(schema);
	e->table = fk_strdup(table);
	e->constraint = fk_strdup(constraint);
	e->ncols = -1;
	return e;
}

/*
 * One key: names and values (JSON strings or null) in order.  The first key
 * of an FK sets its columns; a later one with other columns is an error.
 */
static bool
add_key(BaselineFk *e, const char *const *names, const JsonValue *const *values, int n)
{
	if (e->ncols < 0)
	{
		e->ncols = n;
		e->columns = fk_calloc((size_t) (n > 0 ? n : 1), sizeof(char *));
		for (int i = 0; i < n; i++)
			e->columns[i] = fk_strdup(names[i]);
	}
	if (n != e->ncols || n == 0)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], e->columns[i]) != 0 ||
			(values[i]->kind != JSON_STRING && values[i]->kind != JSON_NULL))
			return false;
	if ((e->nkeys + 1) * n > e->cap)
	{
		int cap = e->cap;

		fk_array_grow((void **) &e->values, &cap, (e->nkeys + 1) * n, sizeof(char *));
		e->cap = cap;
	}
	for (int i = 0; i < n; i++)
		e->values[e->nkeys * n + i] = fk_strdup(jsonr_string(values[i]));
	e->nkeys++;
	return true;
}

/* A JSON report: each constraint's sampled keys. */
static bool
read_report(Baseline *b, const JsonValue *root)
{
	const JsonValue *cons = jsonr_get(root, "constraints");

	if (cons == NULL || cons->kind != JSON_ARRAY)
		return false;
	for (int i = 0; i < cons->n; i++)
	{
		const JsonValue *c = &cons->items[i];
		const JsonValue *cols = jsonr_get(c, "columns");
		const JsonValue *sample = jsonr_get(c, "sample");
		const JsonValue *nkeys = jsonr_get(c, "orphan_keys");
		const char		*schema = jsonr_string(jsonr_get(c, "schema"));
		const char		*table = jsonr_string(jsonr_get(c, "table"));
		const char		*name = jsonr_string(jsonr_get(c, "constraint"));
		BaselineFk		*e;
		const char		*names[64];

		if (!schema || !table || !name || !cols || cols->kind != JSON_ARRAY || cols->n > 64 ||
			(sample && sample->kind != JSON_ARRAY))
			return false;
		for (int k = 0; k < cols->n; k++)
			if ((names[k] = jsonr_string(&cols->items[k])) == NULL)
				return false;
		e = fk_entry(b, schema, table, name);
		for (int s = 0; sample && s < sample->n; s++)
		{
			const JsonValue *key = jsonr_get(&sample->items[s], "key");
			const JsonValue *vals[64];

			if (key == NULL || key->kind != JSON_ARRAY || key->n != cols->n)
				return false;
			for (int k = 0; k < key->n; k++)
				vals[k] = &key->items[k];
			if (!add_key(e, names, vals, key->n))
				return false;
		}
		/* samples repeat keys: fewer sampled rows than keys means some are missing */
		e->sampled = nkeys != NULL && nkeys->kind == JSON_NUMBER &&
					 strtoull(nkeys->text, NULL, 10) > (unsigned long long) e->nkeys;
	}
	return true;
}

/* The next RFC 4180 field at *p (CRLF or LF rows); *eol when it ended a row. */
static bool
csv_field(const char **p, const char *end, StrBuf *out, bool *eol)
{
	strbuf_reset(out);
	if (*p < end && **p == '"')
	{
		for ((*p)++;; (*p)++)
		{
			if (*p >= end)
				return false;
			if (**p == '"' && (*p + 1 >= end || (*p)[1] != '"'))
				break;
			if (**p == '"')
				(*p)++;
			strbuf_append_char(out, **p);
		}
		(*p)++;
	}
	else
		while (*p < end && **p != ',' && **p != '\r' && **p != '\n')
			strbuf_append_char(out, *(*p)++);
	if (*p < end && **p == ',')
	{
		(*p)++;
		*eol = false;
		return true;
	}
	if (*p < end && **p == '\r')
		(*p)++;
	if (*p < end && **p != '\n')
		return false;
	if (*p < end)
		(*p)++;
	*eol = true;
	return true;
}

/* The one-file --orphans-out CSV: every row's key. */
static bool
read_csv(Baseline *b, const char *text, size_t len, int *line)
{
	const char *p = text, *end = text + len;
	StrBuf		f[CSV_FIELDS];
	bool		ok = true;

	*line = 1;
	if (len < strlen(CSV_HEADER) || strncmp(text, CSV_HEADER, strlen(CSV_HEADER)) != 0)
		return false;
	p += strlen(CSV_HEADER);
	p += p < end && *p == '\r';
	p += p < end && *p == '\n';
	for (int i = 0; i < CSV_FIELDS; i++)
		strbuf_init(&f[i]);
	while (ok && p < end)
	{
		bool			 eol = false;
		JsonValue		*key;
		const char		*err;
		size_t			 off;
		const char		*names[64];
		const JsonValue *vals[64];

		(*line)++;
		for (int i = 0; ok && i < CSV_FIELDS; i++)
			ok = csv_field(&p, end, &f[i], &eol) && eol == (i == CSV_FIELDS - 1);
		if (!ok)
			break;
		key = jsonr_parse(f[6].data, f[6].len, &err, &off);
		ok = key != NULL && key->kind == JSON_OBJECT && key->n <= 64;
		for (int k = 0; ok && k < key->n; k++)
		{
			names[k] = key->keys[k];
			vals[k] = &key->items[k];
		}
		ok = ok && add_key(fk_entry(b, f[0].data, f[1].data, f[2].data), names, vals, key->n);
		jsonr_free(key);
	}
	for (int i = 0; i < CSV_FIELDS; i++)
		strbuf_free(&f[i]);
	return ok;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE  *f = fopen(path, "rb");
	StrBuf b;
	char   buf[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	strbuf_init(&b);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_append_len(&b, buf, n);
	if (ferror(f))
	{
		fclose(f);
		strbuf_free(&b);
		return NULL;
	}
	fclose(f);
	*len = b.len;
	return strbuf_take(&b);
}

bool
baseline_read(const char *path, Baseline **out)
{
	size_t	  len = 0;
	char	 *text = slurp(path, &len);
	Baseline *b;
	bool	  ok;
	int		  line = 0;

	*out = NULL;
	if (text == NULL)
	{
		log_error("could not read baseline file \"%s\": %s", path, strerror(errno));
		return false;
	}
	b = fk_calloc(1, sizeof(Baseline));
	b->path = fk_strdup(path);
	if (len > 0 && text[0] == '{')
	{
		const char *err = NULL;
		size_t		off = 0;
		JsonValue  *root = jsonr_parse(text, len, &err, &off);

		if (root == NULL)
			log_error("baseline file \"%s\" is not valid JSON: %s at byte %zu", path, err, off);
		ok = root != NULL && read_report(b, root);
		if (root != NULL && !ok)
			log_error("baseline file \"%s\" is not an fkscan scan report", path);
		jsonr_free(root);
	}
	else if (!(ok = read_csv(b, text, len, &line)))
	{
		if (line <= 1)
			log_error("baseline file \"%s\" is neither an fkscan JSON report nor an --orphans-out "
					  "CSV file",
					  path);
		else
			log_error("baseline file \"%s\": line %d is not an --orphans-out row", path, line);
	}
	free(text);
	if (!ok)
	{
		baseline_free(b);
		return false;
	}
	*out = b;
	return true;
}

const BaselineFk *
baseline_find(const Baseline *b, const char *schema, const char *table, const char *constraint)
{
	for (int i = 0; b && i < b->n; i++)
		if (strcmp(b->fks[i].schema, schema) == 0 && strcmp(b->fks[i].table, table) == 0 &&
			strcmp(b->fks[i].constraint, constraint) == 0)
			return &b->fks[i];
	return NULL;
}

void
baseline_free(Baseline *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < b->n; i++)
	{
		BaselineFk *e = &b->fks[i];

		for (int k = 0; k < e->nkeys * (e->ncols > 0 ? e->ncols : 0); k++)
			free(e->values[k]);
		for (int k = 0; k < e->ncols; k++)
			free(e->columns[k]);
		free(e->values);
		free(e->columns);
		free(e->schema);
		free(e->table);
		free(e->constraint);
	}
	free(b->fks);
	free(b->path);
	free(b);
}

static bool
count_row(void *ctx, const PGresult *res, int row)
{
	*(uint64_t *) ctx = strtoull(PQgetvalue(res, row, 0), NULL, 10);
	return true;
}

bool
baseline_count_known(PgConn *c, const Catalog *cat, const CatForeignKey *fk, const BaselineFk *bfk,
					 uint64_t *known)
{
	int			*pos = fk_calloc((size_t) fk->ncols, sizeof(int));
	StrBuf		 sql;
	StrBuf		*arrays = fk_calloc((size_t) fk->ncols, sizeof(StrBuf));
	const char **params = fk_calloc((size_t) fk->ncols, sizeof(char *));
	bool		 fits = bfk->ncols == fk->ncols;
	bool		 ok = true;

	*known = 0;
	/* the baseline's column of each FK column */
	for (int k = 0; fits && k < fk->ncols; k++)
	{
		pos[k] = -1;
		for (int j = 0; j < bfk->ncols; j++)
			if (strcmp(bfk->columns[j], fk->child_cols[k].name) == 0)
				pos[k] = j;
		fits = pos[k] >= 0;
	}
	if (!fits)
		log_warning("%s: the baseline's keys are on other columns: every orphan counts as new",
					fk->name);
	if (!fits || bfk->nkeys == 0)
		goto done;

	/* the baseline keys as one text[] per column; rows filtered first, then RI's test */
	strbuf_init(&sql);
	strbuf_append(&sql, "SELECT pg_catalog.count(*) FROM (SELECT c.* FROM ");
	risql_append_from(&sql, &cat->tables[fk->child]);
	strbuf_append(&sql, " c WHERE ARRAY[");
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_append(&sql, k ? ", " : "");
		pgconn_append_ident(&sql, "c", fk->child_cols[k].name);
		strbuf_append(&sql, "::pg_catalog.text");
	}
	strbuf_append(&sql, "] IN (SELECT ARRAY[");
	for (int k = 0; k < fk->ncols; k++)
		strbuf_appendf(&sql, "%sb.v%d", k ? ", " : "", k);
	strbuf_append(&sql, "] FROM ROWS FROM (");
	for (int k = 0; k < fk->ncols; k++)
	{
		strbuf_appendf(&sql, "%spg_catalog.unnest($%d::pg_catalog.text[])", k ? ", " : "", k + 1);
		strbuf_init(&arrays[k]);
		for (int i = 0; i < bfk->nkeys; i++)
			pgconn_array_add(&arrays[k], bfk->values[i * bfk->ncols + pos[k]]);
		params[k] = pgconn_array_end(&arrays[k]);
	}
	strbuf_append(&sql, ") AS b(");
	for (int k = 0; k < fk->ncols; k++)
		strbuf_appendf(&sql, "%sv%d", k ? ", " : "", k);
	strbuf_append(&sql, ")) OFFSET 0) c WHERE ");
	risql_append_violation(&sql, cat, fk);
	ok = pgconn_exec(c, sql.data, fk->ncols, params, count_row, known);
	strbuf_free(&sql);
	for (int k = 0; k < fk->ncols; k++)
		strbuf_free(&arrays[k]);
done:
	free(pos);
	free(arrays);
	free(params);
	return ok;
}
