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

static const char BEGIN_RR_RO[] =
	"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

bool
snapshot_export(PgConn *c, char **snapshot_id)
{
	*snapshot_id = NULL;
	if (!pgconn_exec(c, BEGIN_RR_RO, 0, NULL, NULL, NULL))
		return false;
	return pgconn_fetch_string(c, "SELECT pg_catalog.pg_export_snapshot()",
							   0, NULL, snapshot_id);
}

bool
snapshot_import(PgConn *c, const char *snapshot_id)
{
	char	   *lit;
	char	   *sql;
	size_t		len;
	bool		ok;

	if (PQtransactionStatus(c->conn) != PQTRANS_IDLE &&
		!pgconn_exec(c, "ROLLBACK", 0, NULL, NULL, NULL))
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
	if (PQtransactionStatus(c->conn) != PQTRANS_IDLE &&
		!pgconn_exec(c, "ROLLBACK", 0, NULL, NULL, NULL))
		return false;
	return pgconn_exec(c, BEGIN_RR_RO, 0, NULL, NULL, NULL);
}
