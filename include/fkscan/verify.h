/*
 * verify.h
 *	  The server's own word, on the scan's snapshot: the anti-join RI
 *	  itself runs (for FKs the client cannot compare), confirmation of the
 *	  client's candidate orphans with the FK's operators and collations, and
 *	  the lookup of sample rows in the chunks they were seen in.
 *
 * Every query is RI's own (risql.h).
 * Keys travel as parameters (binary arrays of the child's base types),
 * never as SQL text.  Functions log failures and return false.
 */
#ifndef FKSCAN_VERIFY_H
#define FKSCAN_VERIFY_H

#include "fkscan/candset.h"
#include "fkscan/catalog.h"
#include "fkscan/pgconn.h"
#include "fkscan/plan.h"
#include "fkscan/result.h"

/* Fill r's counts and up to sample rows from the server's anti-join. */
bool verify_fk_on_server(PgConn *c, const Catalog *cat, const CatForeignKey *fk, int sample,
						 FkResult *r);

/*
 * Integer orphans seen on several snapshots (--consistency chunk after a
 * conflict): keep in still those of keys that have no parent now, and set
 * *gone_rows to the child rows holding the keys that do.
 */
struct KeySet64;
bool verify_int_orphans(PgConn *c, const Catalog *cat, const CatForeignKey *fk,
						const struct KeySet64 *keys, struct KeySet64 *still, uint64_t *gone_rows);

/* Set confirmed[i] for every candidate i that has no parent (caller sizes it). */
bool verify_candidates(PgConn *c, const Catalog *cat, const CatForeignKey *fk, const CandSet *cands,
					   bool *confirmed);

/*
 * The confirmed candidates' keys as text (the child's base types' output,
 * in the session's settings): fn gets one row per key, a column per key
 * column.  For fix, which sends them on as COPY data.
 */
bool verify_candidates_text(PgConn *c, const CatForeignKey *fk, const CandSet *cands,
							const bool *confirmed, PgRowFn fn, void *ctx);

/*
 * Append to r->samples (at most limit in all) the rows of chunk whose key is
 * one of the given ones, in ctid order.  Integer keys: ints[n]; others:
 * candidates cand_idx[n] of cands, and with partial, MATCH FULL's rows
 * mixing NULLs and values too.
 */
bool verify_samples_int(PgConn *c, const Chunk *chunk, const CatColumn *col, const int64_t *ints,
						int n, int limit, FkResult *r);
bool verify_samples_hash(PgConn *c, const Catalog *cat, const Chunk *chunk, const CatForeignKey *fk,
						 const CandSet *cands, const uint32_t *cand_idx, int n, bool partial,
						 int limit, FkResult *r);

#endif /* FKSCAN_VERIFY_H */
