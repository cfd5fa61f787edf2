/*
 * test_state.c
 *	  The --state file parser without a server: complete records are read,
 *	  a record or line torn by a crash is dropped (and where the file's
 *	  valid part ends is known), files of versions 1 to 3 are read, a file
 *	  of another scan or version, or garbage before a later record, is
 *	  refused.
 */
#include "fkscan/stateint.h"
#include "test.h"

#define HEADER(v) "fkscan-state\t" v "\nrun\tshop\tSEL\t2026-12-05T00:00:00Z\n"
#define FK_LINE(oid)                                                                     \
	"fk\t" oid "\tpublic\torders\torders_cid_fkey\torphans\tbitmap\t100\t1\t0\t3\t2\t0." \
	"5\t\\N\t2026-12-05T00:00:01Z\n"
#define FK_RECORD(oid) \
	FK_LINE(oid) "sample\t(0,1)\t1\t42\ncascade\t1\t16500\t16501\tc\t4\nend\t" oid "\n"
#define CHUNK_RECORD                                                                              \
	"chunk\t16390\t16391\t0\t128\t\\N\t16392\ncfk\t16400\t10\t0\t0\t2\ti\t1\nokey\t7\t2\ncsample" \
	"\t3\t0\t7\t0\t0\nend\tchunk\n"

typedef struct Parsed
{
	StateFile st;
	bool	  ok;
	size_t	  valid_end;
} Parsed;

static void
parse(Parsed *p, const char *text, const char *database)
{
	StrBuf b;

	memset(p, 0, sizeof(*p));
	p->st.path = "test.state";
	p->st.fd = -1;
	strbuf_init(&b);
	strbuf_append(&b, text);
	p->ok = parse_state(&p->st, &b, database, "SEL", &p->valid_end);
	strbuf_free(&b);
}

static void
parsed_free(Parsed *p)
{
	for (int i = 0; i < p->st.nrecs; i++)
		record_free(&p->st.recs[i]);
	free(p->st.recs);
	for (int i = 0; i < p->st.nchunks; i++)
		chunk_free(&p->st.chunks[i]);
	free(p->st.chunks);
}

int
main(void)
{
	Parsed		p;
	const char *whole = HEADER("4") FK_RECORD("16400") CHUNK_RECORD;

	parse(&p, whole, "shop");
	ok(p.ok, "a complete file is read");
	is_int(p.st.nrecs, 1, "... its FK record");
	is_int(p.st.recs[0].oid, 16400, "... with its oid");
	is_int(p.st.recs[0].nsamples, 1, "... its sample");
	is_int(p.st.recs[0].nsteps, 1, "... its cascade step");
	is_int(p.st.nchunks, 1, "... its chunk record");
	is_int(p.st.chunks[0].filenode, 16392, "... with the filenode");
	is_int(p.st.chunks[0].end_page, 128, "... and its pages");
	is_int(p.st.chunks[0].nfks, 1, "... one FK in it");
	is_int(p.st.chunks[0].fks[0].nkeys, 1, "... one orphan key");
	is_int(p.st.chunks[0].fks[0].key_rows[0], 2, "... in two rows");
	is_int(p.valid_end, strlen(whole), "all of it is valid");
	parsed_free(&p);

	/* version 3: the same records, its hashed keys' fingerprints another rule */
	parse(&p, HEADER("3") FK_RECORD("16400") CHUNK_RECORD, "shop");
	ok(p.ok, "a version 3 file is read");
	is_int(p.st.nchunks, 1, "... its chunk record");
	is_int(p.st.chunks[0].filenode, 0, "... never reused (filenode 0)");
	parsed_free(&p);

	/* kill -9 in the middle of a record: it is dropped, the rest stands */
	parse(&p, HEADER("3") FK_RECORD("16400") FK_LINE("16401") "sample\t(0,2)\t1\t43\n", "shop");
	ok(p.ok, "a torn record: read");
	is_int(p.st.nrecs, 1, "... without the torn record");
	is_int(p.valid_end, strlen(HEADER("3") FK_RECORD("16400")), "... valid up to the last end");
	parsed_free(&p);

	parse(&p,
		  HEADER("3") FK_RECORD("16400") "chunk\t16390\t16391\t128\t256\t\\N\t16392\ncfk\t16400",
		  "shop");
	ok(p.ok, "a torn chunk record and a torn last line: read");
	is_int(p.st.nchunks, 0, "... without the torn chunk");
	is_int(p.valid_end, strlen(HEADER("3") FK_RECORD("16400")), "... valid up to the last end");
	parsed_free(&p);

	/* a malformed line after which a record ends is no crash's: garbage */
	parse(&p, HEADER("3") "fk\tbanana\n" FK_RECORD("16400"), "shop");
	ok(!p.ok, "garbage before a complete record: refused");
	parsed_free(&p);

	parse(&p, HEADER("1") FK_RECORD("16400"), "shop");
	ok(p.ok && p.st.nrecs == 1, "a version 1 file is read");
	parsed_free(&p);
	parse(
		&p,
		HEADER("2") "chunk\t16390\t16391\t0\t\\N\t\\N\ncfk\t16400\t1\t0\t0\t0\ti\t1\nend\tchunk\n",
		"shop");
	ok(p.ok && p.st.nchunks == 1, "a version 2 chunk record is read");
	is_int(p.ok ? (int64_t) p.st.chunks[0].filenode : -1, 0,
		   "... without a filenode: never reused");
	is_int(p.ok ? p.st.chunks[0].end_page : 0, -1, "... open-ended");
	parsed_free(&p);

	parse(&p, HEADER("9") FK_RECORD("16400"), "shop");
	ok(!p.ok, "a later version: refused");
	parsed_free(&p);
	parse(&p, whole, "other");
	ok(!p.ok, "another database's file: refused");
	parsed_free(&p);
	parse(&p, "not a state file\n", "shop");
	ok(!p.ok, "not a state file: refused");
	parsed_free(&p);
	parse(&p, "", "shop");
	ok(!p.ok, "an empty file: refused");
	parsed_free(&p);
	return done_testing();
}
