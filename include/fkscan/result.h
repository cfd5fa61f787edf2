/*
 * result.h
 *	  What a scan found, per FK: the stage between the scan and the reports.
 *
 * Built by the scan once every worker has finished, read-only afterwards.
 * Counts follow DESIGN.md: child_rows every row of the child; null_rows the
 * rows exempt because of NULLs (MATCH SIMPLE: any key column NULL; MATCH
 * FULL: all NULL); partial_null_rows MATCH FULL rows with some but not all
 * key columns NULL, which are violations and also counted in orphan_rows;
 * orphan_keys the distinct keys of the other orphan rows.
 */
#ifndef FKSCAN_RESULT_H
#define FKSCAN_RESULT_H

#include "fkscan/catalog.h"

typedef struct OrphanSample
{
	char  *ctid; /* "(12,7)" */
	int	   nkeys;
	char **key; /* text of each key column; NULL entries are SQL NULL */
} OrphanSample;

/*
 * What deleting an FK's orphan rows would do to the rows that reference
 * them, level by level, following each FK's ON DELETE action.
 */
typedef struct CascadeStep
{
	const CatForeignKey *via;	 /* the referencing FK (borrowed from the Catalog) */
	const CatTable		*table;	 /* where the affected rows are */
	int					 depth;	 /* 1: rows referencing the orphan rows themselves */
	char				 action; /* via->delete_action: c deleted too, n/d updated, a/r blocking */
	uint64_t			 rows;
	const char			*error; /* static text when the step could not be counted */
} CascadeStep;

typedef enum FkStatus
{
	FKSTATUS_CLEAN,
	FKSTATUS_ORPHANS,
	FKSTATUS_ERROR,
	FKSTATUS_INCOMPLETE /* --max-time ran out before it was read: no counts */
} FkStatus;

/* How an FK was checked: the reports' and the state file's "method". */
typedef enum CheckMethod
{
	METHOD_NONE = 0, /* not checked: no name */
	METHOD_BITMAP,	 /* integer keys, a flat bitset */
	METHOD_ROARING,	 /* integer keys, roaring bitmaps */
	METHOD_HASH,	 /* fingerprints of canonical bytes */
	METHOD_SERVER	 /* the server's own anti-join */
} CheckMethod;

typedef struct FkResult
{
	const CatForeignKey *fk;	/* borrowed from the Catalog */
	const CatTable		*child; /* borrowed from the Catalog */
	const CatTable		*parent;
	CheckMethod			 method;
	const char			*method_reason; /* why "server", or NULL */
	FkStatus			 status;
	char				*error; /* FKSTATUS_ERROR: the reason */
	uint64_t			 child_rows;
	uint64_t			 null_rows;
	uint64_t			 partial_null_rows;
	uint64_t			 orphan_rows;
	uint64_t			 orphan_keys;
	bool				 baselined;			/* --baseline: known_orphan_rows counted */
	uint64_t			 known_orphan_rows; /* of orphan_rows, those the baseline knows */
	OrphanSample		*samples;
	int					 nsamples;
	CascadeStep			*cascade; /* in the order found, breadth first */
	int					 ncascade;
	double				 elapsed_s; /* from scan start until its last chunk ended */
	/* --compare server: the server's anti-join on the same snapshot */
	bool	 compared;
	bool	 compare_agree;
	double	 compare_elapsed_s;
	uint64_t compare_orphan_rows;
	uint64_t compare_orphan_keys;
	/* where the result came from: this run's snapshot, or a --state file */
	char  *snapshot;		/* the snapshot it was read on */
	bool   resumed;			/* taken from the --state file, not read in this run */
	int	   resumed_chunks;	/* child chunks taken from --state chunk records */
	char **chunk_snapshots; /* ... the snapshots they were read on (distinct) */
	int	   nchunk_snapshots;
	char  *finished_at; /* when it was final (UTC, ISO 8601) */
	/* --replica: the server it was read on (in ScanResult.servers), or NULL */
	const struct ServerFigures *server;
} FkResult;

/* Where a hot standby's WAL replay stood (--format json "replay"). */
typedef struct ReplayPosition
{
	bool   known;
	char   receive_lsn[32]; /* "" if none (not streaming) */
	char   replay_lsn[32];
	double lag_s; /* 0 when everything received is replayed */
} ReplayPosition;

/* --replica: one server's share of the sweep ("servers" in JSON). */
typedef struct ServerFigures
{
	char	*name;	  /* "main", "replica 1", ... in --replica order */
	char	*address; /* host:port as libpq connected (never a password) */
	bool	 in_recovery;
	bool	 lost; /* gone mid-sweep: its unfinished FKs were read elsewhere */
	int		 nfks; /* FKs whose result came from it */
	int		 chunks;
	uint64_t rows;
	uint64_t bytes;
	double	 seconds;
	char	 lsn_start[32]; /* a standby's replay LSN, a primary's insert LSN */
	char	 lsn_end[32];
} ServerFigures;

typedef struct ScanResult
{
	int				server_version;
	bool			in_recovery;
	int				jobs;
	char		   *database;
	char		   *snapshot;
	double			elapsed_s;
	bool			interrupted;
	int				key_passes;		 /* passes over the hashed key space */
	const char	   *consistency;	 /* "snapshot", "chunk" or "paused-replay" */
	const char	   *guarantee;		 /* what the answer promises, one sentence */
	int				attempts;		 /* 1 + restarts after recovery conflicts */
	int				chunk_retries;	 /* chunks re-read on a fresh snapshot */
	bool			mixed_snapshots; /* not all read on one snapshot: weaker guarantee */
	ReplayPosition	replay_start;
	ReplayPosition	replay_end;
	uint64_t		rows_read; /* every row streamed, parents and children */
	double			rows_per_s;
	int64_t			peak_rss_kb; /* the client's peak resident memory */
	FkResult	   *fks;
	int				nfks;
	struct Catalog *graph; /* every FK, for cascade steps when a filter applied; owned */
	/* totals */
	int		 nerrors;
	int		 ndisagree;		/* --compare server: FKs whose counts differ */
	bool	 output_failed; /* --orphans-out could not be written */
	int		 nwith_orphans;
	uint64_t orphan_rows;
	/* long sweeps: --max-time, --max-rate, --state */
	int		 nincomplete;	 /* FKs left unread when --max-time ran out */
	bool	 budget_expired; /* --max-time ran out */
	double	 max_time_s;	 /* the budget, 0 if none */
	uint64_t bytes_read;	 /* COPY bytes streamed */
	double	 bytes_per_s;
	int		 nresumed; /* FKs taken from the --state file */
	/* --replica */
	int			   chunks_read;		 /* handed to workers (a server's share) */
	ServerFigures *servers;			 /* every server used, the main one first */
	int			   nservers;		 /* 0 without --replica */
	const char	  *spread;			 /* "fk" or "chunk" */
	char		   window_start[32]; /* --spread chunk: the lowest LSN read at */
	char		   window_end[32];	 /* ... and the highest */
} ScanResult;

void scanresult_free(ScanResult *r);

/* Free one FK result's samples and error; the struct is the caller's. */
void		fkresult_reset(FkResult *r);
const char *scanresult_status_name(FkStatus status);

/* "bitmap", "roaring", "hash", "server"; NULL for METHOD_NONE. */
const char *check_method_name(CheckMethod m);
/* The method a name stands for; METHOD_NONE if none. */
CheckMethod check_method_parse(const char *name);

#endif /* FKSCAN_RESULT_H */
