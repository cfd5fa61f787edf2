/*
 * test_report.c
 *	  Unit tests for the report module (report.h) on a hand-built result:
 *	  the gate's verdicts and exit codes around every boundary, JSON lines
 *	  streamed per FK (each FK once, in any order, the summary last), and
 *	  the next-step hints for names that need quoting, in SQL and in sh.
 *
 * The reports' full text is checked by the golden files of
 * tests/integration/060_reports.t; here, the logic.
 */
#include <stdlib.h>

#include "fkscan/report.h"
#include "test.h"

#define NFKS 3

static CatColumn child_col[NFKS] = {
	{.name = "a"}, {.name = "b"}, {.name = "it's \"odd\""}
};
static CatColumn parent_col[NFKS] = {
	{.name = "id"}, {.name = "id"}, {.name = "Key"}
};
static char *eq_std[] = {"OPERATOR(pg_catalog.=)"};
static char *eq_odd[] = {"OPERATOR(public.=)"};
static char *no_cast[] = {""};
static char *int8_cast[] = {"::pg_catalog.int8"};
static CatForeignKey fks[NFKS];
static CatTable tables[NFKS + 1] = {
	{.schema = "public", .name = "p", .relkind = 'r'},
	{.schema = "public", .name = "c1", .relkind = 'r'},
	{.schema = "public", .name = "c2", .relkind = 'p'},
	{.schema = "Odd Schema", .name = "it's", .relkind = 'r'},
};
static FkResult results[NFKS];

/* Three FKs: c1 with 3 orphans, c2 (partitioned) with 2, an odd one clean. */
static void
build(ScanResult *res)
{
	static const char *const names[NFKS] = {"c1_a_fkey", "c2_b_fkey", "it's \"fk\""};

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < NFKS; i++)
	{
		fks[i] = (CatForeignKey) {
			.name = (char *) names[i], .ncols = 1, .child_cols = &child_col[i],
			.parent_cols = &parent_col[i], .eq_ops = i == 2 ? eq_odd : eq_std,
			.parent_casts = no_cast, .child_casts = i == 1 ? int8_cast : no_cast,
			.match_type = 's', .validated = true, .enforced = true,
		};
		results[i] = (FkResult) {
			.fk = &fks[i], .child = &tables[i + 1], .parent = &tables[0],
			.method = "bitmap", .status = FKSTATUS_CLEAN, .child_rows = 10,
		};
	}
	results[0].status = results[1].status = FKSTATUS_ORPHANS;
	results[0].orphan_rows = 3;
	results[1].orphan_rows = 2;
	res->fks = results;
	res->nfks = NFKS;
	res->database = "db";
	res->nwith_orphans = 2;
	res->orphan_rows = 5;
	res->consistency = "snapshot";
	res->attempts = 1;
}

static FkOptions
limits(int64_t max_orphans, int64_t max_per_fk)
{
	FkOptions	o;

	memset(&o, 0, sizeof(o));
	o.max_orphans = max_orphans;
	o.max_orphans_per_fk = max_per_fk;
	o.verbosity = -1;			/* no summary line in the TAP output */
	return o;
}

static void
check_gate(const ScanResult *res, int64_t total, int64_t per_fk, ReportVerdict want,
		   int want_rc)
{
	FkOptions	o = limits(total, per_fk);
	char		name[128];

	snprintf(name, sizeof(name), "--max-orphans %" PRId64 " --max-orphans-per-fk %" PRId64
			 ": %s", total, per_fk, report_verdict_name(want));
	is_str(report_verdict_name(report_verdict(res, &o)), report_verdict_name(want), name);
	is_int(report_exit_code(res, &o), want_rc, name);
}

static void
test_gate(void)
{
	ScanResult	res;
	FkOptions	o;

	build(&res);
	check_gate(&res, -1, -1, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, 0, -1, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, 4, -1, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, 5, -1, VERDICT_TOLERATED, FK_EXIT_OK);
	check_gate(&res, 2, -1, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, -1, 2, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, -1, 3, VERDICT_TOLERATED, FK_EXIT_OK);
	check_gate(&res, 5, 3, VERDICT_TOLERATED, FK_EXIT_OK);
	check_gate(&res, 4, 3, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, 5, 2, VERDICT_ORPHANS, FK_EXIT_FOUND);
	check_gate(&res, INT64_MAX, INT64_MAX, VERDICT_TOLERATED, FK_EXIT_OK);

	/* an FK's own limit is the smaller one given */
	o = limits(2, -1);
	ok(!report_fk_tolerated(&results[0], &o), "--max-orphans 2: 3 orphans in one FK are over");
	ok(report_fk_tolerated(&results[1], &o), "--max-orphans 2: 2 orphans in one FK are within");
	ok(report_fk_tolerated(&results[2], &o), "a clean FK is tolerated");
	o = limits(-1, -1);
	ok(!report_fk_tolerated(&results[0], &o), "no limits: no orphan tolerated");

	/* clean */
	results[0].orphan_rows = results[1].orphan_rows = 0;
	check_gate(&res, -1, -1, VERDICT_CLEAN, FK_EXIT_OK);
	check_gate(&res, 0, 0, VERDICT_CLEAN, FK_EXIT_OK);

	/* never tolerated: errors, disagreement, interruption, output lost */
	build(&res);
	results[2].status = FKSTATUS_ERROR;
	check_gate(&res, INT64_MAX, INT64_MAX, VERDICT_ERROR, FK_EXIT_ERROR);
	o = limits(INT64_MAX, INT64_MAX);
	ok(!report_fk_tolerated(&results[2], &o), "an FK in error is not tolerated");
	build(&res);
	results[1].compared = true;
	results[1].compare_agree = false;
	check_gate(&res, INT64_MAX, INT64_MAX, VERDICT_ERROR, FK_EXIT_ERROR);
	build(&res);
	res.interrupted = true;
	check_gate(&res, INT64_MAX, INT64_MAX, VERDICT_ERROR, FK_EXIT_ERROR);
	build(&res);
	res.output_failed = true;
	check_gate(&res, INT64_MAX, INT64_MAX, VERDICT_ERROR, FK_EXIT_ERROR);
}

static int
count(const char *haystack, const char *needle)
{
	int			n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_jsonl_stream(void)
{
	ScanResult	res;
	FkOptions	o = limits(-1, 3);
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *out = open_memstream(&text, &len);
	ReportStream *rs;
	const char *last;

	o.format = FORMAT_JSONL;
	build(&res);
	rs = report_stream_create(&o, out);
	ok(report_fk_done(rs, &res, 1), "jsonl: the second FK done first");
	ok(report_fk_done(rs, &res, 1), "jsonl: reported twice");
	ok(report_stream_finish(rs, &res), "jsonl: finish");
	report_stream_free(rs);
	report_stream_free(NULL);
	fclose(out);

	is_int(count(text, "\n"), NFKS + 1, "jsonl: a line per FK and the summary");
	is_int(count(text, "\"type\":\"constraint\""), NFKS, "jsonl: each FK once");
	ok(starts_with(text, "{\"type\":\"constraint\",\"tool\":\"fkscan\",\"database\":\"db\","
				   "\"schema\":\"public\",\"table\":\"c2\","),
	   "jsonl: the FK done first comes first");
	last = strstr(text, "{\"type\":\"summary\"");
	ok(last && strchr(last, '\n') == text + len - 1, "jsonl: the summary is the last line");
	ok(last && strstr(last, "\"max_orphans\":null,\"max_orphans_per_fk\":3,\"tolerated\":true,\"verdict\":\"tolerated\""),
	   "jsonl: the summary's verdict");
	ok(strstr(text, "\"constraints\":[") == NULL, "jsonl: no constraints[] array");
	free(text);
}

static void
test_next_steps(void)
{
	ScanResult	res;
	FkOptions	o = limits(-1, -1);
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *out = open_memstream(&text, &len);

	build(&res);
	results[2].status = FKSTATUS_ORPHANS;
	results[2].orphan_rows = 1;
	results[2].parent = &tables[3];
	res.database = "my db";
	ok(report_scan(&res, &o, out), "text report written");
	fclose(out);

	ok(strstr(text, "    fkscan scan -t public.c1 -c c1_a_fkey --orphans-out c1_a_fkey.csv 'my db'\n") != NULL,
	   "next: the command, the database quoted for sh");
	ok(strstr(text, "    fkscan scan -t '\"Odd Schema\".\"it'\\''s\"' -c '\"it'\\''s \"\"fk\"\"\"' "
			  "--orphans-out it_s__fk_.csv 'my db'\n") != NULL,
	   "next: patterns quoted for fkscan, then for sh");
	ok(strstr(text, "    SELECT c.ctid, c.* FROM ONLY \"public\".\"c1\" c\n"
			  "     WHERE c.\"a\" IS NOT NULL\n"
			  "       AND NOT EXISTS (SELECT FROM ONLY \"public\".\"p\" p WHERE p.\"id\" = c.\"a\");\n") != NULL,
	   "next: the anti-join, pg_catalog's = unqualified");
	ok(strstr(text, "    SELECT c.tableoid::regclass, c.ctid, c.* FROM \"public\".\"c2\" c\n") != NULL,
	   "next: a partitioned child is read without ONLY, its partition shown");
	ok(strstr(text, "p.\"id\" = c.\"b\"::pg_catalog.int8);") != NULL, "next: the FK's cast");
	ok(strstr(text, "FROM ONLY \"Odd Schema\".\"it's\" p WHERE p.\"Key\" OPERATOR(public.=) "
			  "c.\"it's \"\"odd\"\"\");") != NULL,
	   "next: identifiers quoted, another schema's operator kept");
	free(text);

	/* with --orphans-out the command is not repeated */
	text = NULL;
	out = open_memstream(&text, &len);
	o.orphans_out = "x.csv";
	ok(report_scan(&res, &o, out), "text report with --orphans-out");
	fclose(out);
	ok(strstr(text, "--orphans-out c1_a_fkey.csv") == NULL, "next: no command with --orphans-out");
	is_int(count(text, "  next: a look in psql:\n"), 3, "next: still the SQL");
	free(text);
}

int
main(void)
{
	test_gate();
	test_jsonl_stream();
	test_next_steps();
	return done_testing();
}
