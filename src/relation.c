/*
 * relation.c
 *	  Undeclared relationships: parse the FOREIGN KEY-like syntax, read
 *	  --relations files, resolve on the server; see relation.h.
 *
 * The syntax is the one users already write in ALTER TABLE ... FOREIGN KEY
 * (tables and columns as SQL names, MATCH as in SQL) rather than YAML or
 * JSON: one line says the whole relationship, can be pasted from or into
 * SQL, and needs no parser library.  Resolution is two queries kept in
 * src/sql/ (relation_tables, relation_columns); nothing the user typed is
 * ever part of SQL text.
 */
#include "fkscan/relation.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/quote.h"
#include "fkscan/sqltext.h"

#define NAMEDATALEN 64 /* the server's identifier limit, terminator included */

/* Parsing */

typedef struct Lexer
{
	const char *p;
	const char *err;	  /* what was expected where p stopped */
	char		msg[128]; /* or, when err is NULL, what is wrong */
} Lexer;

static void
skip_space(Lexer *lx)
{
	while (isspace((unsigned char) *lx->p))
		lx->p++;
}

static bool
ident_start(char c)
{
	return isalpha((unsigned char) c) || c == '_' || (unsigned char) c >= 0x80;
}

/* \XXXX or \+XXXXXX of a U&"..." identifier at p; returns the digits read, 0 if malformed. */
static int
unicode_escape(const char *p, uint32_t *cp)
{
	int	 skip = *p == '+';
	int	 n = skip ? 6 : 4;
	long v = quote_hex_value(p + skip, n);

	if (v <= 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = (uint32_t) v;
	return skip + n;
}

/*
 * An SQL identifier: "quoted" as written ("" is one quote), U&"quoted" with
 * \XXXX and \+XXXXXX escapes (as quote_append_ident writes controls), or
 * unquoted and folded to lower case (ASCII, as the server folds).
 */
static char *
lex_ident(Lexer *lx, const char *what)
{
	StrBuf b;
	bool   unicode;

	skip_space(lx);
	strbuf_init(&b);
	unicode = (lx->p[0] == 'U' || lx->p[0] == 'u') && lx->p[1] == '&' && lx->p[2] == '"';
	if (unicode)
		lx->p += 2;
	if (*lx->p == '"')
	{
		for (lx->p++;; lx->p++)
		{
			uint32_t cp;
			int		 n;

			if (*lx->p == '\0')
			{
				lx->err = "a closing double quote";
				strbuf_free(&b);
				return NULL;
			}
			if (*lx->p == '"' && lx->p[1] != '"')
				break;
			if (*lx->p == '"')
				lx->p++;
			else if (unicode && *lx->p == '\\' && lx->p[1] == '\\')
				lx->p++;
			else if (unicode && *lx->p == '\\')
			{
				if ((n = unicode_escape(lx->p + 1, &cp)) == 0)
				{
					lx->err = "a valid Unicode escape (\\XXXX or \\+XXXXXX)";
					strbuf_free(&b);
					return NULL;
				}
				strbuf_append_utf8(&b, cp);
				lx->p += n;
				continue;
			}
			strbuf_append_char(&b, *lx->p);
		}
		lx->p++;
		if (b.len == 0)
		{
			lx->err = "a name (\"\" is a zero-length name)";
			strbuf_free(&b);
			return NULL;
		}
		return strbuf_take(&b);
	}
	if (!ident_start(*lx->p))
	{
		lx->err = what;
		strbuf_free(&b);
		return NULL;
	}
	while (ident_start(*lx->p) || isdigit((unsigned char) *lx->p) || *lx->p == '$')
	{
		char c = *lx->p++;

		strbuf_append_char(&b, (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c);
	}
	return strbuf_take(&b);
}

/* Consume token (after blanks) if it is next. */
static bool
lex_token(Lexer *lx, const char *token)
{
	size_t n = strlen(token);

	skip_space(lx);
	if (strncmp(lx->p, token, n) != 0)
		return false;
	lx->p += n;
	return true;
}

/* Consume an unquoted keyword, any case. */
static bool
lex_keyword(Lexer *lx, const char *word)
{
	size_t n = strlen(word);

	skip_space(lx);
	if (strncasecmp(lx->p, word, n) != 0 || ident_start(lx->p[n]) ||
		isdigit((unsigned char) lx->p[n]))
		return false;
	lx->p += n;
	return true;
}

/* [schema.]table */
static bool
lex_table(Lexer *lx, char **schema, char **table)
{
	char *first = lex_ident(lx, "a table name");

	if (first == NULL)
		return false;
	if (!lex_token(lx, "."))
	{
		*table = first;
		return true;
	}
	*schema = first;
	*table = lex_ident(lx, "a table name after the dot");
	return *table != NULL;
}

/* (col, ...) */
static bool
lex_columns(Lexer *lx, StringList *cols)
{
	if (!lex_token(lx, "("))
	{
		lx->err = "\"(\" and the column list";
		return false;
	}
	do
	{
		char *col = lex_ident(lx, "a column name");

		if (col == NULL)
			return false;
		for (int i = 0; i < cols->n; i++)
			if (strcmp(cols->items[i], col) == 0)
			{
				lx->err = "each column once";
				free(col);
				return false;
			}
		stringlist_append(cols, col);
		free(col);
	} while (lex_token(lx, ","));
	if (!lex_token(lx, ")"))
	{
		lx->err = "\",\" or \")\"";
		return false;
	}
	return true;
}

/* The end of the text, or a # comment. */
static bool
lex_end(Lexer *lx)
{
	skip_space(lx);
	return *lx->p == '\0' || *lx->p == '#';
}

/*
 * The name ADD FOREIGN KEY would give it (ChooseForeignKeyConstraintNameAddition
 * and makeObjectName): TABLE_COL1_COL2_fkey, the longer of the two parts
 * shortened until it fits in NAMEDATALEN - 1 bytes, never inside a UTF-8
 * character.  The server also adds a number when the name is taken; a
 * relationship is no constraint, so it does not.
 */
static char *
default_name(const RelationSpec *spec)
{
	StrBuf		cols;
	StrBuf		name;
	const char *label = "fkey";
	size_t		n1 = strlen(spec->child_table);
	size_t		n2;
	size_t		avail;

	strbuf_init(&cols);
	for (int i = 0; i < spec->child_cols.n && cols.len < NAMEDATALEN; i++)
	{
		if (i > 0)
			strbuf_append_char(&cols, '_');
		strbuf_append(&cols, spec->child_cols.items[i]);
	}
	n2 = cols.len;
	avail = NAMEDATALEN - 1 - (strlen(label) + 1) - (n2 > 0);
	while (n1 + n2 > avail)
	{
		if (n1 > n2)
			n1--;
		else
			n2--;
	}
	n1 = quote_clip_name(spec->child_table, n1);
	n2 = quote_clip_name(cols.data, n2);
	strbuf_init(&name);
	strbuf_append_len(&name, spec->child_table, n1);
	strbuf_append_char(&name, '_');
	strbuf_append_len(&name, cols.data, n2);
	strbuf_appendf(&name, "_%s", label);
	strbuf_free(&cols);
	return strbuf_take(&name);
}

static void
spec_free(RelationSpec *s)
{
	free(s->name);
	free(s->child_schema);
	free(s->child_table);
	free(s->parent_schema);
	free(s->parent_table);
	stringlist_reset(&s->child_cols);
	stringlist_reset(&s->parent_cols);
}

static bool
parse(Lexer *lx, RelationSpec *s)
{
	const char *start;
	char	   *first;

	/* NAME= first, if an identifier is followed by "=" */
	start = lx->p;
	first = lex_ident(lx, "a table name");
	if (first != NULL && lex_token(lx, "="))
		s->name = first;
	else
	{
		free(first);
		lx->p = start;
	}
	if (!lex_table(lx, &s->child_schema, &s->child_table) || !lex_columns(lx, &s->child_cols))
		return false;
	if (!lex_token(lx, "->"))
	{
		lx->err = "\"->\" and the referenced table";
		return false;
	}
	if (!lex_table(lx, &s->parent_schema, &s->parent_table) || !lex_columns(lx, &s->parent_cols))
		return false;
	s->match_type = 's';
	if (lex_keyword(lx, "match"))
	{
		if (lex_keyword(lx, "full"))
			s->match_type = 'f';
		else if (!lex_keyword(lx, "simple"))
		{
			lx->err = "FULL or SIMPLE after MATCH";
			return false;
		}
	}
	if (!lex_end(lx))
	{
		lx->err = "the end (or MATCH FULL, MATCH SIMPLE)";
		return false;
	}
	if (s->child_cols.n != s->parent_cols.n)
	{
		lx->err = NULL;
		snprintf(lx->msg, sizeof(lx->msg), "%d referencing and %d referenced columns",
				 s->child_cols.n, s->parent_cols.n);
		return false;
	}
	if (s->name == NULL)
		s->name = default_name(s);
	return true;
}

bool
relation_list_add(RelationList *l, const char *text, const char *origin)
{
	Lexer		  lx = {text, NULL, ""};
	RelationSpec *s;

	fk_array_grow((void **) &l->items, &l->cap, l->n + 1, sizeof(RelationSpec));
	s = &l->items[l->n];
	memset(s, 0, sizeof(*s));
	if (!parse(&lx, s))
	{
		if (lx.err != NULL)
			log_error("invalid relationship \"%s\" (%s): expected %s at \"%s\"", text, origin,
					  lx.err, lx.p);
		else
			log_error("invalid relationship \"%s\" (%s): %s", text, origin, lx.msg);
		spec_free(s);
		return false;
	}
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->items[i].name, s->name) == 0)
		{
			log_error("relationship name \"%s\" given twice (%s)", s->name, origin);
			log_hint("Name one of them: --relation NAME=CHILD(...) -> PARENT(...).");
			spec_free(s);
			return false;
		}
	l->n++;
	return true;
}

bool
relation_list_read_file(RelationList *l, const char *path)
{
	FILE   *f = fopen(path, "r");
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t len;
	int		lineno = 0;
	bool	ok = true;

	if (f == NULL)
	{
		log_error("could not open relations file \"%s\": %s", path, strerror(errno));
		return false;
	}
	while (ok && (len = getline(&line, &cap, f)) >= 0)
	{
		Lexer lx = {line, NULL, ""};
		char  origin[64];

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (lex_end(&lx))
			continue;
		snprintf(origin, sizeof(origin), "line %d of the relations file", lineno);
		ok = relation_list_add(l, line, origin);
		if (!ok)
			log_detail("File: \"%s\".", path);
	}
	if (ok && ferror(f))
	{
		log_error("could not read relations file \"%s\": %s", path, strerror(errno));
		ok = false;
	}
	free(line);
	fclose(f);
	return ok;
}

bool
relation_parse_table(const char *text, char **schema, char **table)
{
	Lexer lx = {text, NULL, ""};

	*schema = *table = NULL;
	if (lex_table(&lx, schema, table) && lex_end(&lx) && *lx.p == '\0')
		return true;
	free(*schema);
	free(*table);
	*schema = *table = NULL;
	return false;
}

void
relation_list_free(RelationList *l)
{
	for (int i = 0; i < l->n; i++)
		spec_free(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Resolution */

typedef struct TablesCtx
{
	Oid	 oid[2];
	char kind[2];
	int	 found[2];
	bool in_scope[2];
} TablesCtx;

static bool
table_row(void *arg, const PGresult *res, int row)
{
	TablesCtx *ctx = arg;
	int		   side = atoi(PQgetvalue(res, row, 0)) - 1;

	if (side < 0 || side > 1)
		return false;
	ctx->found[side]++;
	ctx->oid[side] = (Oid) strtoul(PQgetvalue(res, row, 1), NULL, 10);
	ctx->kind[side] = PQgetvalue(res, row, 3)[0];
	ctx->in_scope[side] = PQgetvalue(res, row, 4)[0] == 't';
	return true;
}

/* The relationship's tables: each must exist once and be a table. */
static bool
resolve_tables(PgConn *c, const RelationSpec *s, RelationResolved *out)
{
	const char *params[4] = {s->child_schema, s->child_table, s->parent_schema, s->parent_table};
	TablesCtx	ctx;

	memset(&ctx, 0, sizeof(ctx));
	if (!pgconn_exec(c, SQL_RELATION_TABLES, 4, params, table_row, &ctx))
		return false;
	for (int side = 0; side < 2; side++)
	{
		const char *schema = side == 0 ? s->child_schema : s->parent_schema;
		const char *table = side == 0 ? s->child_table : s->parent_table;
		StrBuf		name;
		const char *problem = NULL;

		if (ctx.found[side] == 0)
			problem = "does not exist";
		else if (ctx.found[side] > 1)
			problem = "is ambiguous: there is one in several schemas (qualify it)";
		else if (ctx.kind[side] != 'r' && ctx.kind[side] != 'p')
			problem = "is not a table";
		else if (side == 0 && !ctx.in_scope[side])
			problem = "is a system table or another session's temporary table";
		if (problem == NULL)
			continue;
		strbuf_init(&name);
		if (schema)
		{
			quote_append_name(&name, schema);
			strbuf_append_char(&name, '.');
		}
		quote_append_name(&name, table);
		log_error("relationship \"%s\": table %s %s", s->name, name.data, problem);
		strbuf_free(&name);
		return false;
	}
	out->child = ctx.oid[0];
	out->parent = ctx.oid[1];
	return true;
}

typedef struct ColumnsCtx
{
	const RelationSpec *spec;
	RelationResolved   *out;
	int					rows;
	bool				failed;
} ColumnsCtx;

static bool
column_row(void *arg, const PGresult *res, int row)
{
	ColumnsCtx		   *ctx = arg;
	const RelationSpec *s = ctx->spec;
	RelationResolved   *out = ctx->out;
	int					i = atoi(PQgetvalue(res, row, 0)) - 1;

	if (i < 0 || i >= out->ncols)
		return false;
	ctx->rows++;
	if (ctx->failed)
		return true; /* one error is enough */
	ctx->failed = true;
	if (PQgetisnull(res, row, 1))
		log_error("relationship \"%s\": column \"%s\" of table \"%s\" does not exist", s->name,
				  s->child_cols.items[i], s->child_table);
	else if (PQgetisnull(res, row, 2))
		log_error("relationship \"%s\": column \"%s\" of table \"%s\" does not exist", s->name,
				  s->parent_cols.items[i], s->parent_table);
	else if (PQgetisnull(res, row, 5))
		log_error("relationship \"%s\": type %s of column \"%s\" has no btree operator class, "
				  "so no equality to compare keys with",
				  s->name, PQgetvalue(res, row, 4), s->parent_cols.items[i]);
	else if (PQgetisnull(res, row, 6))
		log_error("relationship \"%s\": no equality operator between \"%s\" (%s) and \"%s\" (%s)",
				  s->name, s->child_cols.items[i], PQgetvalue(res, row, 3), s->parent_cols.items[i],
				  PQgetvalue(res, row, 4));
	else
		ctx->failed = false;
	if (ctx->failed)
		return true;
	out->child_attnums[i] = (int16_t) atoi(PQgetvalue(res, row, 1));
	out->parent_attnums[i] = (int16_t) atoi(PQgetvalue(res, row, 2));
	out->eq_ops[i] = (Oid) strtoul(PQgetvalue(res, row, 6), NULL, 10);
	if (i == 0 && !PQgetisnull(res, row, 7))
	{
		StrBuf b;

		strbuf_init(&b);
		pgconn_append_relation(&b, PQgetvalue(res, row, 7), PQgetvalue(res, row, 8));
		out->parent_index = strbuf_take(&b);
	}
	return true;
}

bool
relation_resolve(PgConn *c, const RelationSpec *spec, RelationResolved *out)
{
	StrBuf		child_oid;
	StrBuf		parent_oid;
	StrBuf		cols[2];
	const char *params[4];
	ColumnsCtx	ctx = {spec, out, 0, false};
	bool		ok;

	memset(out, 0, sizeof(*out));
	if (!resolve_tables(c, spec, out))
		return false;
	out->ncols = spec->child_cols.n;
	out->child_attnums = fk_calloc((size_t) out->ncols, sizeof(int16_t));
	out->parent_attnums = fk_calloc((size_t) out->ncols, sizeof(int16_t));
	out->eq_ops = fk_calloc((size_t) out->ncols, sizeof(Oid));
	strbuf_init(&child_oid);
	strbuf_init(&parent_oid);
	strbuf_appendf(&child_oid, "%u", out->child);
	strbuf_appendf(&parent_oid, "%u", out->parent);
	for (int side = 0; side < 2; side++)
	{
		const StringList *l = side == 0 ? &spec->child_cols : &spec->parent_cols;

		strbuf_init(&cols[side]);
		for (int i = 0; i < l->n; i++)
			pgconn_array_add(&cols[side], l->items[i]);
		pgconn_array_end(&cols[side]);
	}
	params[0] = child_oid.data;
	params[1] = parent_oid.data;
	params[2] = cols[0].data;
	params[3] = cols[1].data;
	ok = pgconn_exec(c, SQL_RELATION_COLUMNS, 4, params, column_row, &ctx);
	if (ok && ctx.rows != out->ncols)
	{
		log_error("relationship \"%s\": the tables changed while they were being read", spec->name);
		ok = false;
	}
	ok = ok && !ctx.failed;
	strbuf_free(&child_oid);
	strbuf_free(&parent_oid);
	strbuf_free(&cols[0]);
	strbuf_free(&cols[1]);
	if (!ok)
		relation_resolved_free(out);
	return ok;
}

void
relation_resolved_free(RelationResolved *r)
{
	free(r->child_attnums);
	free(r->parent_attnums);
	free(r->eq_ops);
	free(r->parent_index);
	memset(r, 0, sizeof(*r));
}
