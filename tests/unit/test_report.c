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

#include "fkscan/gate.h"
#include "fkscan/nextstep.h"
#include "fkscan/report.h"
#include "fkscan/strbuf.h"
#include "test.h"

#define NFKS 3

static CatColumn	 child_col[NFKS] = {{.name = "a"}, {.name = "b"}, {.name = "it's \"odd\""}};
static CatColumn	 parent_col[NFKS] = {{.name = "id"}, {.name = "id"}, {.name = "Key"}};
static char			*eq_std[] = {"OPERATOR(pg_catalog.=)"};
static char			*eq_odd[] = {"OPERATOR(public.=)"};
static char			*no_cast[] = {""};
static char			*int8_cast[] = {"::pg_catalog.int8"};
static CatForeignKey fks[NFKS];
static CatTable		 tables[NFKS + 1] = {
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
		fks[i] = (CatForeignKey){
			.name = (char *) names[i],
			.ncols = 1,
			.child_cols = &child_col[i],
			.parent_cols = &parent_col[i],
			.eq_ops = i == 2 ? eq_odd : eq_std,
			.parent_casts = no_cast,
			.child_casts = i == 1 ? int8_cast : no_cast,
			.match_type = 's',
			.declared = true,
			.validated = true,
			.enforced = true,
		};
		results[i] = (FkResult){
			.fk = &fks[i],
			.child = &tables[i + 1],
			.parent = &tables[0],
			.method = METHOD_BITMAP,
			.status = FKSTATUS_CLEAN,
			.child_rows = 10,
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
	FkOptions o;

	memset(&o, 0, sizeof(o));
	o.scan.gate.max_orphans = max_orphans;
	o.scan.gate.max_orphans_per_fk = max_per_fk;
	o.scan.gate.max_orphans_ratio = -1;
	o.verbosity = -1; /* no summary line in the TAP output */
	return o;
}

static void
check_gate(const ScanResult *res, int64_t total, int64_t per_fk, GateVerdict want, int want_rc)
{
	FkOptions o = limits(total, per_fk);
	char	  name[128];

	snprintf(name, sizeof(name), "--max-orphans %" PRId64 " --max-orphans-per-fk %" PRId64 ": %s",
			 total, per_fk, gate_verdict_name(want));
	is_str(gate_verdict_name(gate_verdict(res, &o.scan.gate)), gate_verdict_name(want), name);
	is_int(gate_exit_code(res, &o.scan.gate), want_rc, name);
}

static void
test_gate(void)
{
	ScanResult res;
	FkOptions  o;

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
	ok(!gate_fk_tolerated(&results[0], &o.scan.gate),
	   "--max-orphans 2: 3 orphans in one FK are over");
	ok(gate_fk_tolerated(&results[1], &o.scan.gate),
	   "--max-orphans 2: 2 orphans in one FK are within");
	ok(gate_fk_tolerated(&results[2], &o.scan.gate), "a clean FK is tolerated");
	o = limits(-1, -1);
	ok(!gate_fk_tolerated(&results[0], &o.scan.gate), "no limits: no orphan tolerated");

	/* clean */
	results[0].orphan_rows = results[1].orphan_rows = 0;
	check_gate(&res, -1, -1, VERDICT_CLEAN, FK_EXIT_OK);
	check_gate(&res, 0, 0, VERDICT_CLEAN, FK_EXIT_OK);

	/* never tolerated: errors, disagreement, interruption, output lost */
	build(&res);
	results[2].status = FKSTATUS_ERROR;
	check_gate(&res, INT64_MAX, INT64_MAX, VERDICT_ERROR, FK_EXIT_ERROR);
	o = limits(INT64_MAX, INT64_MAX);
	ok(!gate_fk_tolerated(&results[2], &o.scan.gate), "an FK in error is not tolerated");
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
	int n = 0;

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
	ScanResult	  res;
	FkOptions	  o = limits(-1, 3);
	char		 *text = NULL;
	size_t		  len = 0;
	FILE		 *out = open_memstream(&text, &len);
	ReportStream *rs;
	const char	 *last;

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
	ok(last && strstr(last, "\"max_orphans\":null,\"max_orphans_per_fk\":3,\"tolerated\":true,"
							"\"verdict\":\"tolerated\""),
	   "jsonl: the summary's verdict");
	ok(strstr(text, "\"constraints\":[") == NULL, "jsonl: no constraints[] array");
	free(text);
}

static void
test_next_steps(void)
{
	ScanResult res;
	FkOptions  o = limits(-1, -1);
	char	  *text = NULL;
	size_t	   len = 0;
	FILE	  *out = open_memstream(&text, &len);

	build(&res);
	results[2].status = FKSTATUS_ORPHANS;
	results[2].orphan_rows = 1;
	results[2].parent = &tables[3];
	res.database = "my db";
	ok(report_scan(&res, &o, out), "text report written");
	fclose(out);

	ok(strstr(text,
			  "    fkscan scan -t public.c1 -c c1_a_fkey --orphans-out c1_a_fkey.csv 'my db'\n") !=
		   NULL,
	   "next: the command, the database quoted for sh");
	ok(strstr(text, "    fkscan scan -t '\"Odd Schema\".\"it'\\''s\"' -c '\"it'\\''s \"\"fk\"\"\"' "
					"--orphans-out it_s__fk_.csv 'my db'\n") != NULL,
	   "next: patterns quoted for fkscan, then for sh");
	ok(strstr(text, "    SELECT c.ctid, c.* FROM ONLY \"public\".\"c1\" c\n"
					"     WHERE c.\"a\" IS NOT NULL\n"
					"       AND NOT EXISTS (SELECT FROM ONLY \"public\".\"p\" p WHERE p.\"id\" = "
					"c.\"a\");\n") != NULL,
	   "next: the anti-join, pg_catalog's = unqualified");
	ok(strstr(text, "    SELECT c.tableoid::regclass, c.ctid, c.* FROM \"public\".\"c2\" c\n") !=
		   NULL,
	   "next: a partitioned child is read without ONLY, its partition shown");
	ok(strstr(text, "p.\"id\" = c.\"b\"::pg_catalog.int8);") != NULL, "next: the FK's cast");
	ok(strstr(text, "FROM ONLY \"Odd Schema\".\"it's\" p WHERE p.\"Key\" OPERATOR(public.=) "
					"c.\"it's \"\"odd\"\"\");") != NULL,
	   "next: identifiers quoted, another schema's operator kept");
	free(text);

	/* with --orphans-out the command is not repeated */
	text = NULL;
	out = open_memstream(&text, &len);
	o.scan.orphans_out = "x.csv";
	ok(report_scan(&res, &o, out), "text report with --orphans-out");
	fclose(out);
	ok(strstr(text, "--orphans-out c1_a_fkey.csv") == NULL, "next: no command with --orphans-out");
	is_int(count(text, "  next: a look in psql:\n"), 3, "next: still the SQL");
	free(text);
}

/* "next:" commands keep the connection given, never its password. */
static void
test_connection(void)
{
	FkOptions o = limits(-1, -1);
	StrBuf	  b;

	strbuf_init(&b);
	o.conn.dbname = "host=db.example port=5433 user=ann dbname=shop password=s3cret";
	nextstep_connection(&b, &o, "shop");
	ok(starts_with(b.data, " -d 'user='\\''ann'\\'' "), "conninfo: -d and one shell word");
	ok(strstr(b.data, "s3cret") == NULL && strstr(b.data, "password") == NULL,
	   "conninfo: the password dropped");
	ok(strstr(b.data, " host='\\''db.example'\\'' port='\\''5433'\\''") != NULL &&
		   strstr(b.data, " dbname='\\''shop'\\''") != NULL,
	   "conninfo: host, port and dbname kept");
	strbuf_reset(&b);
	o.conn.dbname = "postgresql://ann:s3cret@db.example:5433/shop";
	nextstep_connection(&b, &o, "shop");
	ok(strstr(b.data, "s3cret") == NULL && strstr(b.data, "host='\\''db.example") != NULL &&
		   strstr(b.data, "port='\\''5433") != NULL && strstr(b.data, "user='\\''ann") != NULL,
	   "URI: as key='value' pairs, without the password");
	strbuf_reset(&b);
	o.conn.dbname = "shop";
	o.conn.host = "h";
	o.conn.port = "5433";
	o.conn.username = "ann";
	nextstep_connection(&b, &o, "other");
	is_str(b.data, " -h h -p 5433 -U ann shop", "options: -h -p -U and the name as given");
	strbuf_reset(&b);
	memset(&o.conn, 0, sizeof(o.conn));
	nextstep_connection(&b, &o, "srv db");
	is_str(b.data, " 'srv db'", "nothing given: the server's database name");
	strbuf_free(&b);
}

/* The FK's state now, and sample keys as literals. */
static void
test_state_and_samples(void)
{
	ScanResult	 res;
	FkOptions	 o = limits(-1, -1);
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*out;
	static char *key_blank[] = {"b "};
	static char *key_empty[] = {""};
	OrphanSample samples[2] = {
		{.ctid = "(0,1)", .nkeys = 1, .key = key_blank},
		{.ctid = "(0,2)", .nkeys = 1, .key = key_empty},
	};

	build(&res);
	child_col[0].type_oid = 25; /* text */
	results[0].samples = samples;
	results[0].nsamples = 2;
	results[0].orphan_rows = 1; /* one row, one key: no plural */
	results[0].orphan_keys = 1;
	res.orphan_rows = 3;
	fks[0].triggers = 2;
	fks[0].triggers_disabled = 2;
	fks[1].triggers = 2;
	fks[1].triggers_replica = 1;
	fks[1].validated = false;
	fks[2].triggers = 2;
	fks[2].triggers_disabled = 1; /* clean, yet its triggers are off */
	out = open_memstream(&text, &len);
	ok(report_scan(&res, &o, out), "text report written");
	fclose(out);
	ok(strstr(text, "  1 orphan row, 1 distinct key\n") != NULL,
	   "plurals: 1 orphan row, 1 distinct key");
	ok(strstr(text, "    ctid (0,1)        a = 'b '\n") != NULL,
	   "sample: a trailing blank shown in a literal");
	ok(strstr(text, "    ctid (0,2)        a = ''\n") != NULL, "sample: an empty string shown");
	ok(strstr(text,
			  "  its RI triggers are disabled now (2 of 2): rows arrive unchecked; "
			  "\"fkscan validate --apply\" re-enables them once the orphan rows are repaired\n") !=
		   NULL,
	   "state: triggers disabled now, and what validate does");
	ok(strstr(text, "  its RI triggers are replica-only now (1 of 2)") != NULL,
	   "state: replica-only");
	ok(strstr(text,
			  "  the constraint is NOT VALID; \"fkscan validate --apply\" validates it once") !=
		   NULL,
	   "state: NOT VALID");
	ok(strstr(text, "marked valid") == NULL, "state: not called valid when its triggers are off");
	ok(strstr(text,
			  ": clean, but\n  its RI triggers are disabled now (1 of 2): rows arrive unchecked; "
			  "\"fkscan validate --apply\" re-enables them now\n") != NULL,
	   "state: a clean FK with triggers off is named");
	free(text);
	memset(fks, 0, sizeof(fks));
	child_col[0].type_oid = 0;
}

int
main(void)
{
	test_gate();
	test_jsonl_stream();
	test_next_steps();
	test_connection();
	test_state_and_samples();
	return done_testing();
}
