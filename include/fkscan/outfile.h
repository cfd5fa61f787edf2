/*
 * outfile.h
 *	  The one owner of how fkscan creates files: --orphans-out CSVs, the
 *	  --state file, fix's backups and restore script.  They hold table data,
 *	  and they are written where others may write too.
 *
 * A file is written as NAME.partial, created exclusively (O_EXCL) without
 * following a symbolic link (O_NOFOLLOW), mode 0600 whatever the umask,
 * then fsynced and renamed over NAME, and the directory fsynced: NAME is
 * either absent or complete, and nothing planted beside it is written
 * through.  A partial left by a killed run (a regular file) is replaced; a
 * link or anything else in its place is refused.
 */
#ifndef FKSCAN_OUTFILE_H
#define FKSCAN_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct OutFile
{
	int	  fd;	   /* -1 when closed */
	char *path;	   /* final name */
	char *partial; /* written here */
	bool  created; /* the partial is ours to remove */
} OutFile;

/* Create path's partial; false after logging a line naming it. */
bool outfile_open(OutFile *f, const char *path);

/*
 * A scratch file beside path, for one piece of a file written in pieces:
 * created exclusively (0600) and unlinked at once, so it is gone when
 * closed (outfile_abort), whatever happens.  False after logging.
 */
bool outfile_open_scratch(OutFile *f, const char *path);

/* Append all of a scratch file's content to f; false after logging. */
bool outfile_append_scratch(OutFile *f, OutFile *scratch);

/* All of data; false after logging (the file is then only fit for abort). */
bool outfile_write(OutFile *f, const void *data, size_t len);

/* fsync, close, rename into place, fsync the directory; false after logging. */
bool outfile_commit(OutFile *f);

/* Close and remove the partial (after a failure); safe on a closed file. */
void outfile_abort(OutFile *f);

/* path, whole: open, write, commit (or abort); false after logging. */
bool outfile_save(const char *path, const void *data, size_t len);

/* fsync the directory holding path (its new entries become durable). */
void outfile_sync_dir(const char *path);

/*
 * Open an existing file for reading and writing without following a link
 * at path; -1 after logging.
 */
int outfile_open_existing(const char *path);

#endif /* FKSCAN_OUTFILE_H */
