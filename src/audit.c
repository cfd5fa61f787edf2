/*
 * audit.c
 *	  "fkscan audit": every FK in scope and its state, from the catalog only.
 *
 * One read-only REPEATABLE READ transaction on one connection: the catalog
 * is read, the report is built in memory, the transaction commits, and only
 * then is the report written, so a failure never leaves half a report on
 * stdout.  The audit sees what the catalog says: NOT VALID, RI triggers
 * disabled, replica-only or missing, NOT ENFORCED.  An FK that is valid and enforced
 * today may still hide orphans from a past bulk load; only a scan can tell.
 *
 * Text output is a psql-like aligned table; names are shown quoted where
 * they would need quoting in SQL.  JSON output uses the field names of the
 * scan report (DESIGN.md), with names exactly as in the catalog.
 */
#include "fkscan/audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkscan/catalog.h"
#include "fkscan/jsonw.h"
#include "fkscan/log.h"
#include "fkscan/mem.h"
#include "fkscan/pgconn.h"
#include "fkscan/quote.h"
#include "fkscan/reportfmt.h"
#include "fkscan/strbuf.h"
#include "fkscan/texttable.h"

/* What is wrong with an FK, in the order the report lists it. */
typedef struct FkProblems
{
	bool not_valid; /* not reported for NOT ENFORCED: implied */
	bool triggers_disabled;
	bool triggers_replica_only;
	bool triggers_missing; /* gone from pg_trigger: rows arrive unchecked */
	bool not_enforced;
	bool undeclared; /* --relation: none of the above applies */
} FkProblems;

static FkProblems
fk_problems(const CatForeignKey *fk)
{
	FkProblems p;

	memset(&p, 0, sizeof(p));
	p.undeclared = !fk->declared;
	if (p.undeclared)
		return p;
	p.not_enforced = !fk->enforced;
	p.not_valid = !fk->validated && fk->enforced;
	p.triggers_disabled = fk->triggers_disabled > 0;
	p.triggers_replica_only = fk->triggers_replica > 0;
	p.triggers_missing = fk->triggers_missing > 0;
	return p;
}

/* JSON */

static void
json_fk(JsonWriter *w, const Catalog *cat, const CatForeignKey *fk)
{
	const CatTable *child = &cat->tables[fk->child];
	const CatTable *parent = &cat->tables[fk->parent];
	FkProblems		p = fk_problems(fk);
	char			buf[32];

	jsonw_object_begin(w);
	report_json_fk_identity(w, child, parent, fk, true);
	jsonw_key(w, "on_update");
	jsonw_string(w, str_lower(catalog_action_name(fk->update_action), buf, sizeof(buf)));
	jsonw_key(w, "on_delete");
	jsonw_string(w, str_lower(catalog_action_name(fk->delete_action), buf, sizeof(buf)));
	jsonw_key(w, "deferrable");
	jsonw_bool(w, fk->deferrable);
	jsonw_key(w, "deferred");
	jsonw_bool(w, fk->deferred);
	jsonw_key(w, "validated");
	jsonw_bool(w, fk->validated);
	jsonw_key(w, "enforced");
	jsonw_bool(w, fk->enforced);
	jsonw_key(w, "period");
	jsonw_bool(w, fk->period);
	jsonw_key(w, "triggers_enabled");
	jsonw_bool(w, catalog_fk_triggers_fire(fk));
	jsonw_key(w, "triggers");
	jsonw_int(w, fk->triggers);
	jsonw_key(w, "triggers_disabled");
	jsonw_int(w, fk->triggers_disabled);
	jsonw_key(w, "triggers_replica_only");
	jsonw_int(w, fk->triggers_replica);
	jsonw_key(w, "trigger_detail");
	jsonw_string(w, fk->trigger_detail);
	jsonw_key(w, "triggers_missing");
	jsonw_int(w, fk->triggers_missing);
	jsonw_key(w, "missing_trigger_detail");
	jsonw_string(w, fk->missing_detail);
	jsonw_key(w, "index_covered");
	jsonw_bool(w, fk->index_covered);
	jsonw_key(w, "partitioned");
	jsonw_bool(w, child->relkind == 'p');
	jsonw_key(w, "ref_partitioned");
	jsonw_bool(w, parent->relkind == 'p');
	jsonw_key(w, "est_rows");
	jsonw_int(w, child->est_rows);
	jsonw_key(w, "size_bytes");
	jsonw_int(w, child->size_bytes);
	jsonw_key(w, "broken");
	jsonw_bool(w, catalog_fk_broken(fk));
	jsonw_key(w, "problems");
	jsonw_array_begin(w);
	if (p.not_valid)
		jsonw_string(w, "not_valid");
	if (p.triggers_disabled)
		jsonw_string(w, "triggers_disabled");
	if (p.triggers_replica_only)
		jsonw_string(w, "triggers_replica_only");
	if (p.triggers_missing)
		jsonw_string(w, "triggers_missing");
	if (p.not_enforced)
		jsonw_string(w, "not_enforced");
	if (p.undeclared)
		jsonw_string(w, "undeclared");
	jsonw_array_end(w);
	jsonw_object_end(w);
}

static void
audit_json(StrBuf *out, const Catalog *cat, int broken)
{
	JsonWriter w;

	jsonw_init(&w, out, true);
	jsonw_object_begin(&w);
	jsonw_key(&w, "tool");
	jsonw_string(&w, "fkscan");
	jsonw_key(&w, "version");
	jsonw_string(&w, FKSCAN_VERSION);
	jsonw_key(&w, "server_version_num");
	jsonw_int(&w, cat->server_version);
	jsonw_key(&w, "in_recovery");
	jsonw_bool(&w, cat->in_recovery);
	jsonw_key(&w, "constraints");
	jsonw_array_begin(&w);
	for (int i = 0; i < cat->nfks; i++)
		json_fk(&w, cat, &cat->fks[i]);
	jsonw_array_end(&w);
	jsonw_key(&w, "totals");
	jsonw_object_begin(&w);
	jsonw_key(&w, "constraints");
	jsonw_int(&w, cat->nfks);
	jsonw_key(&w, "broken");
	jsonw_int(&w, broken);
	jsonw_object_end(&w);
	jsonw_object_end(&w);
	strbuf_append_char(out, '\n');
}

/* Text */

#define TEXT_COLUMNS 8

static const char *const text_headers[TEXT_COLUMNS] = {
	"table", "constraint", "columns", "references", "match", "on update", "on delete", "state"};

static void
append_state(StrBuf *b, const CatForeignKey *fk)
{
	FkProblems p = fk_problems(fk);
	size_t	   start = b->len;

	if (p.not_valid)
		strbuf_append(b, "NOT VALID");
	if (p.triggers_disabled)
		strbuf_appendf(b, "%striggers disabled (%d of %d)", b->len > start ? ", " : "",
					   fk->triggers_disabled, fk->triggers);
	if (p.triggers_replica_only)
		strbuf_appendf(b, "%sreplica-only triggers (%d of %d)", b->len > start ? ", " : "",
					   fk->triggers_replica, fk->triggers);
	if (p.triggers_missing)
	{
		strbuf_appendf(b, "%sRI triggers missing (%d: ", b->len > start ? ", " : "",
					   fk->triggers_missing);
		quote_append_visible(b, fk->missing_detail ? fk->missing_detail : "", false);
		strbuf_append_char(b, ')');
	}
	if (p.not_enforced)
		strbuf_appendf(b, "%sNOT ENFORCED", b->len > start ? ", " : "");
	if (p.undeclared)
		strbuf_append(b, fk->parent_index ? "no constraint"
										  : "no constraint, no unique index on the parent key");
	if (b->len == start)
		strbuf_append(b, "ok");
}

/*
 * ", 4 broken: 2 not valid, 1 with triggers disabled, 1 with RI triggers
 * missing": each class named (an FK may be in more than one).
 */
static void
append_problem_counts(StrBuf *out, const Catalog *cat, int broken)
{
	int						 n[6] = {0};
	static const char *const what[6] = {"not valid",
										"not enforced",
										"with triggers disabled",
										"with replica-only triggers",
										"with RI triggers missing",
										"declared by no constraint"};
	bool					 first = true;

	for (int i = 0; i < cat->nfks; i++)
	{
		FkProblems p = fk_problems(&cat->fks[i]);

		n[0] += p.not_valid;
		n[1] += p.not_enforced;
		n[2] += p.triggers_disabled;
		n[3] += p.triggers_replica_only;
		n[4] += p.triggers_missing;
		n[5] += p.undeclared;
	}
	strbuf_appendf(out, ", %d broken", broken);
	for (int i = 0; i < 6; i++)
	{
		if (n[i] == 0)
			continue;
		strbuf_appendf(out, "%s%d %s", first ? ": " : ", ", n[i], what[i]);
		first = false;
	}
}

static void
audit_text(StrBuf *out, const Catalog *cat, int broken)
{
	TextTable t;
	char	  buf[32];

	texttable_init(&t, TEXT_COLUMNS, text_headers, NULL);
	for (int r = 0; r < cat->nfks; r++)
	{
		const CatForeignKey *fk = &cat->fks[r];
		const CatTable		*child = &cat->tables[fk->child];
		const CatTable		*parent = &cat->tables[fk->parent];
		StrBuf				 b;

		strbuf_init(&b);
		texttable_append_qualified(&b, child->schema, child->name);
		texttable_add(&t, strbuf_take(&b));
		strbuf_init(&b);
		texttable_append_name(&b, fk->name);
		texttable_add(&t, strbuf_take(&b));
		strbuf_init(&b);
		texttable_append_columns(&b, fk->child_cols, fk->ncols);
		texttable_add(&t, strbuf_take(&b));
		strbuf_init(&b);
		texttable_append_qualified(&b, parent->schema, parent->name);
		strbuf_append_char(&b, '(');
		texttable_append_columns(&b, fk->parent_cols, fk->ncols);
		strbuf_append_char(&b, ')');
		texttable_add(&t, strbuf_take(&b));
		texttable_add_copy(&t, str_lower(catalog_match_name(fk->match_type), buf, sizeof(buf)));
		/* a relationship has no actions: nothing fires */
		texttable_add_copy(
			&t, fk->declared ? str_lower(catalog_action_name(fk->update_action), buf, sizeof(buf))
							 : "");
		texttable_add_copy(
			&t, fk->declared ? str_lower(catalog_action_name(fk->delete_action), buf, sizeof(buf))
							 : "");
		strbuf_init(&b);
		append_state(&b, fk);
		texttable_add(&t, strbuf_take(&b));
	}
	if (cat->nfks > 0)
	{
		texttable_render(&t, out);
		strbuf_append_char(out, '\n');
	}
	texttable_free(&t);

	strbuf_append_count(out, (uint64_t) cat->nfks, "foreign key", NULL);
	if (cat->nfks > 0)
		append_problem_counts(out, cat, broken);
	if (cat->in_recovery)
		strbuf_append(out, " (read on a hot standby)");
	strbuf_append_char(out, '\n');
	if (broken > 0)
		strbuf_append(out,
					  "Hint: rows that violate a foreign key may have entered while it was "
					  "not valid, not enforced or its triggers did not fire; run \"fkscan scan\" "
					  "to find them, and \"fkscan validate\" to validate them and re-enable "
					  "their triggers.\n");
}

/* Write the whole report; false (logged) if stdout would not take it. */
static bool
write_stdout(const StrBuf *report)
{
	if (fwrite(report->data, 1, report->len, stdout) != report->len || fflush(stdout) != 0)
	{
		log_error("could not write the report: %s", strerror(errno));
		return false;
	}
	return true;
}

int
audit_run(const FkOptions *options)
{
	PgConn	*c;
	Catalog *cat = NULL;
	StrBuf	 report;
	int		 broken = 0;
	int		 rc = FK_EXIT_ERROR;

	c = pgconn_connect(&options->conn, "coordinator");
	if (c == NULL)
		return FK_EXIT_ERROR;
	strbuf_init(&report);

	if (!pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, NULL) ||
		!catalog_read(c, &options->filter, &cat))
		goto done;
	for (int i = 0; i < cat->nfks; i++)
		if (catalog_fk_broken(&cat->fks[i]))
			broken++;
	if (options->format == FORMAT_JSON)
		audit_json(&report, cat, broken);
	else
		audit_text(&report, cat, broken);
	if (!pgconn_exec(c, "COMMIT", 0, NULL, NULL, NULL))
		goto done;
	if (!write_stdout(&report))
		goto done;
	rc = broken > 0 ? FK_EXIT_FOUND : FK_EXIT_OK;

done:
	strbuf_free(&report);
	catalog_free(cat);
	pgconn_free(c);
	return rc;
}
