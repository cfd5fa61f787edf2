/*
 * test_plan.c
 *	  plan_apply_recorded without a server: the chunks an earlier run
 *	  recorded (--state) are cut out of the plan's child chunks as half-open
 *	  page ranges; what is left is read, every page exactly once, and each
 *	  recorded range joins once, in the chunk its start falls in.
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

int
main(void)
{
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
