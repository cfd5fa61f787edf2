/*
 * snapshot.c
 *	  Export and import of the run's synchronized snapshot.
 */
#include "fkscan/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/strbuf.h"

static const char BEGIN_RR_RO[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

bool
snapshot_export(PgConn *c, char **snapshot_id)
{
	*snapshot_id = NULL;
	if (!pgconn_exec(c, BEGIN_RR_RO, 0, NULL, NULL, NULL))
		return false;
	return pgconn_fetch_string(c, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL, snapshot_id);
}

bool
snapshot_import(PgConn *c, const char *snapshot_id)
{
	char  *lit;
	char  *sql;
	size_t len;
	bool   ok;

	if (pgconn_in_transaction(c) && !pgconn_exec(c, "ROLLBACK", 0, NULL, NULL, NULL))
		return false;
	if (!pgconn_exec(c, BEGIN_RR_RO, 0, NULL, NULL, NULL))
		return false;
	/* SET TRANSACTION SNAPSHOT takes no parameters: quote the id. */
	lit = pgconn_quote_literal(c, snapshot_id);
	if (lit == NULL)
		return false;
	len = sizeof("SET TRANSACTION SNAPSHOT ") + strlen(lit);
	sql = fk_malloc(len);
	snprintf(sql, len, "SET TRANSACTION SNAPSHOT %s", lit);
	ok = pgconn_exec(c, sql, 0, NULL, NULL, NULL);
	free(sql);
	free(lit);
	return ok;
}

bool
snapshot_begin_fresh(PgConn *c)
{
	if (pgconn_in_transaction(c) && !pgconn_exec(c, "ROLLBACK", 0, NULL, NULL, NULL))
		return false;
	return pgconn_exec(c, BEGIN_RR_RO, 0, NULL, NULL, NULL);
}

typedef struct LockCtx
{
	PgConn		  *c;
	const Catalog *cat;
} LockCtx;

/* One table of snapshot_lock_tables, by its own statement: a timeout names it. */
static bool
lock_row(void *arg, const PGresult *res, int row)
{
	LockCtx		   *lc = arg;
	long			i = strtol(PQgetvalue(res, row, 0), NULL, 10) - 1;
	const CatTable *t;
	StrBuf			sql;
	bool			ok;

	if (i < 0 || i >= lc->cat->ntables)
		return false;
	t = &lc->cat->tables[i];
	strbuf_init(&sql);
	if (strcmp(PQgetvalue(res, row, 1), "t") == 0)
	{
		strbuf_append(&sql, "LOCK TABLE ");
		pgconn_append_relation(&sql, t->schema, t->name);
		strbuf_append(&sql, " IN ACCESS SHARE MODE");
	}
	else
	{
		/*
		 * Column privileges only: LOCK TABLE wants table-level SELECT, but a
		 * query reading no column takes the same lock (and its partitions'
		 * or children's at planning) on any column's privilege.
		 */
		strbuf_append(&sql, "SELECT FROM ");
		pgconn_append_relation(&sql, t->schema, t->name);
		strbuf_append(&sql, " LIMIT 0");
	}
	pgconn_set_quiet(lc->c, true);
	ok = pgconn_exec(lc->c, sql.data, 0, NULL, NULL, NULL);
	pgconn_set_quiet(lc->c, false);
	strbuf_free(&sql);
	if (!ok && strcmp(pgconn_sqlstate(lc->c), "55P03") == 0)
	{
		StrBuf name;

		strbuf_init(&name);
		pgconn_append_relation(&name, t->schema, t->name);
		log_error("%s: could not lock table %s within --lock-timeout (%d ms)", pgconn_name(lc->c),
				  name.data, pgconn_lock_timeout_ms(lc->c));
		log_hint("Another session holds or awaits a conflicting lock (DDL, VACUUM FULL, TRUNCATE); "
				 "retry, or raise --lock-timeout.");
		strbuf_free(&name);
	}
	else if (!ok)
		log_error("%s: %s", pgconn_name(lc->c), pgconn_error(lc->c, "LOCK TABLE failed"));
	return ok;
}

bool
snapshot_lock_tables(PgConn *c, const Catalog *cat)
{
	StrBuf		oids;
	const char *params[1];
	LockCtx		lc = {c, cat};
	bool		ok;

	if (cat->ntables == 0)
		return true;
	strbuf_init(&oids);
	for (int i = 0; i < cat->ntables; i++)
		pgconn_oids_add(&oids, cat->tables[i].oid);
	params[0] = pgconn_array_end(&oids);
	ok = pgconn_exec(c,
					 "SELECT t.i, pg_catalog.has_table_privilege(t.oid, 'SELECT') "
					 "FROM pg_catalog.unnest($1::pg_catalog.oid[]) "
					 "WITH ORDINALITY AS t(oid, i) "
					 "WHERE pg_catalog.has_any_column_privilege(t.oid, 'SELECT') ORDER BY t.i",
					 1, params, lock_row, &lc);
	strbuf_free(&oids);
	return ok;
}
