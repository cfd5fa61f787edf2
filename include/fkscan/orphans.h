/*
 * orphans.h
 *	  --orphans-out: every orphan row, as CSV people can act on.
 *
 * One streamed pass over the child table of each FK with orphans (on the
 * scan's snapshot), recognising the orphan rows with the scan's own final
 * orphan keys: an integer key set, or the fingerprints of the confirmed
 * orphan keys; FKs checked on the server stream RI's anti-join instead.
 * Nothing is held in memory but one row.
 *
 * Each row: the relation it lives in (a leaf, for a partitioned table), its
 * ctid, the child's primary key columns, the FK columns, and a ready WHERE
 * predicate (on the primary key, or the ctid where there is none).  RFC 4180
 * quoting; an empty field is NULL, "" an empty string.  Output goes to FILE
 * (one CSV, the FK named in its first columns) or to a directory (one CSV
 * per FK); each file is written beside its name and renamed when complete,
 * so a failure never leaves a file that looks complete.
 */
#ifndef FKSCAN_ORPHANS_H
#define FKSCAN_ORPHANS_H

#include "fkscan/catalog.h"
#include "fkscan/copybin.h"
#include "fkscan/hset128.h"
#include "fkscan/keyenc.h"
#include "fkscan/keyset.h"
#include "fkscan/pgconn.h"
#include "fkscan/strbuf.h"

/* How to recognise the orphan rows of one FK. */
typedef struct OrphanMatcher
{
	const CatForeignKey *fk;
	const KeySet64		*ints;		  /* one integer column: the orphan keys */
	const HSet128		*hashes;	  /* other keys: confirmed orphan fingerprints */
	const KeyEncKind	*enc;		  /* hashes: the encoding of each key column */
	uint64_t			 orphan_rows; /* what the scan counted: the file must agree */
} OrphanMatcher;

/*
 * Is a child row with these key fields (binary, in FK column order) one of
 * m's orphan rows?  A MATCH FULL row mixing NULLs and values is.  Only for
 * matchers with ints or hashes; scratch is reused; *bad set on malformed data.
 */
bool orphans_match(const OrphanMatcher *m, const CopyField *keys, StrBuf *scratch, bool *bad);

/*
 * Write the orphan rows of n FKs to path, from workers in parallel: open
 * for n slots, write each slot's FK (any thread, one slot each), close;
 * false after logging.  One file holds the
 * slots in order behind one header; it, or a directory's file, appears only
 * complete.  orphans_close(ok = false) leaves no file for a slot not written.
 */
typedef struct OrphansOut OrphansOut;
OrphansOut				 *orphans_open(const char *path, int n);
bool					  orphans_write_fk(OrphansOut *o, int slot, PgConn *c, const Catalog *cat,
										   const OrphanMatcher *m);
bool					  orphans_close(OrphansOut *o, bool ok);

#endif /* FKSCAN_ORPHANS_H */
