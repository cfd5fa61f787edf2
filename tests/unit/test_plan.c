/*
 * test_plan.c
 *	  plan_apply_recorded without a server: the chunks an earlier run
 *	  recorded (--state) are cut out of the plan's child chunks as half-open
 *	  page ranges; what is left is read, every page exactly once, and each
 *	  recorded range joins once, in the chunk its start falls in.
 *	  And plan_build_skipping on a catalog made here: which options split a
 *	  child table above shared_buffers / 4 into ctid ranges.
 */
#include "fkscan/plan.h"
#include "test.h"

static CatRelation rel_a = {.oid = 1, .pages = 300, .heap = true};
static CatRelation rel_b = {.oid = 2, .pages = 300, .heap = true};

typedef struct Want
{
	const CatRelation *rel;
	int				   target;
	int64_t			   first;
	int64_t			   end;
	int				   recorded;
} Want;

static Chunk
chunk(ChunkRole role, int target, const CatRelation *rel, int64_t first, int64_t end)
{
	Chunk c = {role, target, rel, first, end, -1};

	return c;
}

/* Apply rec to chunks and compare the result with want, chunk by chunk. */
static void
check(const char *name, const Chunk *chunks, int nchunks, const PlanRecorded *rec, int nrec,
	  const Want *want, int nwant)
{
	ScanPlan p = {0};
	char	 label[160];
	bool	 same;

	p.child_chunks = malloc(sizeof(Chunk) * (size_t) nchunks);
	memcpy(p.child_chunks, chunks, sizeof(Chunk) * (size_t) nchunks);
	p.nchild_chunks = nchunks;
	plan_apply_recorded(&p, rec, nrec);
	snprintf(label, sizeof(label), "%s: %d chunks", name, nwant);
	is_int(p.nchild_chunks, nwant, label);
	same = p.nchild_chunks == nwant;
	for (int i = 0; same && i < nwant; i++)
	{
		const Chunk *c = &p.child_chunks[i];

		same = c->rel == want[i].rel && c->target == want[i].target &&
			   c->first_page == want[i].first && c->end_page == want[i].end &&
			   c->recorded == want[i].recorded;
		if (!same)
			printf("# chunk %d: rel %u target %d [%lld, %lld) recorded %d\n", i,
				   c->rel ? c->rel->oid : 0, c->target, (long long) c->first_page,
				   (long long) c->end_page, c->recorded);
	}
	snprintf(label, sizeof(label), "%s: the pieces and what each is", name);
	ok(same, label);
	free(p.child_chunks);
}

/*
 * An int8 FK whose child is above shared_buffers / 4 (bulk_read) and whose
 * parent is not: at -j2 the child is one chunk (a plain scan, through the
 * server's ring) and the parent several, unless an option whose unit of
 * progress is a chunk is given.  Each case sets one option on defaults.
 */
static void
test_bulk_split(void)
{
	CatColumn	col = {.name = "id",
					   .attnum = 1,
					   .type_oid = 20,
					   .base_type_oid = 20,
					   .type_name = "bigint",
					   .collation_deterministic = true,
					   .op_type_oid = 20};
	CatRelation leaves[2] = {
		{.oid = 10, .pages = 20000, .persistence = 'p', .heap = true, .ctid_readable = true},
		{.oid = 11,
		 .pages = 400000,
		 .persistence = 'p',
		 .heap = true,
		 .ctid_readable = true,
		 .bulk_read = true}};
	CatTable tables[2] = {
		{.oid = 10, .relkind = 'r', .est_rows = 1000000, .leaves = &leaves[0], .nleaves = 1},
		{.oid = 11, .relkind = 'r', .est_rows = 50000000, .leaves = &leaves[1], .nleaves = 1}};
	CatForeignKey fk = {.oid = 100,
						.declared = true,
						.name = "fk",
						.child = 1,
						.parent = 0,
						.ncols = 1,
						.child_cols = &col,
						.parent_cols = &col,
						.match_type = 's',
						.enforced = true};
	Catalog cat = {.server_version = 170000, .tables = tables, .ntables = 2, .fks = &fk, .nfks = 1};
	const char *names[] = {"defaults",
						   "--chunk-size",
						   "--max-time",
						   "--state",
						   "--consistency chunk",
						   "--replica --spread chunk",
						   "--replica --spread fk"};

	for (int c = 0; c < 7; c++)
	{
		FkOptions o = {0};
		ScanPlan *p;
		char	  label[160];
		bool	  split = c > 0 && c < 6;

		o.engine.jobs = 2;
		if (c == 1)
			o.engine.chunk_pages = 8192;
		else if (c == 2)
			o.scan.max_time_s = 3600;
		else if (c == 3)
			o.scan.state_file = "state";
		else if (c == 4)
			o.engine.consistency = CONSISTENCY_CHUNK;
		else if (c >= 5)
		{
			o.scan.replicas.n = 1;
			o.scan.spread = c == 5 ? SPREAD_CHUNK : SPREAD_FK;
		}
		p = plan_build_skipping(&cat, &o, true, NULL);
		snprintf(label, sizeof(label), "bulk child, %s: %s", names[c],
				 split ? "in ctid ranges" : "one plain scan");
		ok(split ? p->nchild_chunks > 1 && p->child_chunks[0].end_page > 0
				 : p->nchild_chunks == 1 && p->child_chunks[0].end_page < 0,
		   label);
		snprintf(label, sizeof(label), "bulk child, %s: the parent in ctid ranges", names[c]);
		ok(p->nparent_chunks > 1, label);
		plan_free(p);
	}
}

int
main(void)
{
	test_bulk_split();
	const Chunk three[] = {chunk(CHUNK_CHILD, 0, &rel_a, 0, 100),
						   chunk(CHUNK_CHILD, 0, &rel_a, 100, 200),
						   chunk(CHUNK_CHILD, 0, &rel_a, 200, -1)};

	{
		/* a range across a chunk border: cut out once, where it starts */
		const PlanRecorded rec[] = {{0, &rel_a, 50, 150, 7}};
		const Want		   want[] = {{&rel_a, 0, 0, 50, -1},
									 {&rel_a, 0, 50, 150, 7},
									 {&rel_a, 0, 150, 200, -1},
									 {&rel_a, 0, 200, -1, -1}};

		check("across a border", three, 3, rec, 1, want, 4);
	}
	{
		/* a range equal to a chunk, and one at the open end */
		const PlanRecorded rec[] = {{0, &rel_a, 100, 200, 1}, {0, &rel_a, 250, -1, 2}};
		const Want		   want[] = {{&rel_a, 0, 0, 100, -1},
									 {&rel_a, 0, 100, 200, 1},
									 {&rel_a, 0, 200, 250, -1},
									 {&rel_a, 0, 250, -1, 2}};

		check("equal and open-ended", three, 3, rec, 2, want, 4);
	}
	{
		/* a whole relation (no ctid predicate) cut into three */
		const Chunk		   whole[] = {chunk(CHUNK_CHILD, 0, &rel_a, -1, -1)};
		const PlanRecorded rec[] = {{0, &rel_a, 10, 20, 3}};
		const Want		   want[] = {
					{&rel_a, 0, 0, 10, -1}, {&rel_a, 0, 10, 20, 3}, {&rel_a, 0, 20, -1, -1}};

		check("a whole relation", whole, 1, rec, 1, want, 3);
	}
	{
		/* other passes, other leaves and server checks are left alone */
		const Chunk mixed[] = {
			chunk(CHUNK_CHILD, 1, &rel_a, 0, 100), chunk(CHUNK_CHILD, 0, &rel_b, 0, 100),
			chunk(CHUNK_SERVER, 0, NULL, -1, -1), chunk(CHUNK_CHILD, 0, &rel_a, 0, 100)};
		const PlanRecorded rec[] = {{0, &rel_a, 0, 40, 5}};
		const Want		   want[] = {{&rel_a, 1, 0, 100, -1},
									 {&rel_b, 0, 0, 100, -1},
									 {NULL, 0, -1, -1, -1},
									 {&rel_a, 0, 0, 40, 5},
									 {&rel_a, 0, 40, 100, -1}};

		check("only its pass and leaf", mixed, 4, rec, 1, want, 5);
	}
	{
		/* nothing recorded: the plan as it was */
		const Want want[] = {
			{&rel_a, 0, 0, 100, -1}, {&rel_a, 0, 100, 200, -1}, {&rel_a, 0, 200, -1, -1}};

		check("nothing recorded", three, 3, NULL, 0, want, 3);
	}
	return done_testing();
}
