/*
 * outfile.c
 *	  Files fkscan creates: exclusively, never through a link, 0600, and
 *	  complete or absent (see outfile.h).
 */
#include "fkscan/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fkscan/log.h"
#include "fkscan/mem.h"

#define CREATE_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

/*
 * Make room for the partial: a regular file there is a killed run's
 * leftover; anything else (a link above all) was put there by someone else.
 */
static bool
clear_partial(const char *partial)
{
	struct stat st;

	if (lstat(partial, &st) != 0)
		return errno == ENOENT ||
			   (log_error("could not stat \"%s\": %s", partial, strerror(errno)), false);
	if (!S_ISREG(st.st_mode))
	{
		log_error("refusing to write \"%s\": it exists and is %s", partial,
				  S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		log_hint("Remove it, or write elsewhere.");
		return false;
	}
	if (unlink(partial) != 0)
	{
		log_error("could not remove \"%s\": %s", partial, strerror(errno));
		return false;
	}
	return true;
}

bool
outfile_open(OutFile *f, const char *path)
{
	f->fd = -1;
	f->created = false;
	f->path = fk_strdup(path);
	f->partial = fk_malloc(strlen(path) + sizeof(".partial"));
	sprintf(f->partial, "%s.partial", path);
	if (!clear_partial(f->partial))
		return false;
	f->fd = open(f->partial, CREATE_FLAGS, 0600);
	if (f->fd < 0)
	{
		log_error("could not create \"%s\": %s", f->partial,
				  errno == EEXIST ? "it appeared meanwhile" : strerror(errno));
		return false;
	}
	f->created = true;
	/* the umask may only narrow 0600; make sure nothing widened it */
	(void) fchmod(f->fd, 0600);
	return true;
}

bool
outfile_open_scratch(OutFile *f, const char *path)
{
	f->fd = -1;
	f->created = false;
	f->path = NULL;
	f->partial = fk_malloc(strlen(path) + sizeof(".partial.XXXXXX"));
	sprintf(f->partial, "%s.partial.XXXXXX", path);
	f->fd = mkstemp(f->partial);
	if (f->fd < 0)
	{
		log_error("could not create a file beside \"%s\": %s", path, strerror(errno));
		return false;
	}
	(void) unlink(f->partial);
	(void) fchmod(f->fd, 0600);
	return true;
}

bool
outfile_append_scratch(OutFile *f, OutFile *scratch)
{
	char	buf[65536];
	ssize_t n;

	if (lseek(scratch->fd, 0, SEEK_SET) < 0)
	{
		log_error("could not rewind \"%s\": %s", scratch->partial, strerror(errno));
		return false;
	}
	while ((n = read(scratch->fd, buf, sizeof(buf))) != 0)
	{
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			log_error("could not read \"%s\": %s", scratch->partial, strerror(errno));
			return false;
		}
		if (!outfile_write(f, buf, (size_t) n))
			return false;
	}
	return true;
}

bool
outfile_write(OutFile *f, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t n = write(f->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			log_error("could not write \"%s\": %s", f->partial,
					  n < 0 ? strerror(errno) : "no space left on device");
			return false;
		}
		p += n;
		len -= (size_t) n;
	}
	return true;
}

void
outfile_sync_dir(const char *path)
{
	char *copy = fk_strdup(path);
	int	  dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0)
	{
		(void) fsync(dfd);
		close(dfd);
	}
	free(copy);
}

static void
outfile_release(OutFile *f)
{
	free(f->path);
	free(f->partial);
	f->path = f->partial = NULL;
}

bool
outfile_commit(OutFile *f)
{
	bool ok = true;

	if (fsync(f->fd) != 0)
	{
		log_error("could not fsync \"%s\": %s", f->partial, strerror(errno));
		ok = false;
	}
	if (close(f->fd) != 0 && ok)
	{
		log_error("could not close \"%s\": %s", f->partial, strerror(errno));
		ok = false;
	}
	f->fd = -1;
	/* rename replaces whatever NAME is, a link included, never its target */
	if (ok && rename(f->partial, f->path) != 0)
	{
		log_error("could not rename \"%s\" to \"%s\": %s", f->partial, f->path, strerror(errno));
		ok = false;
	}
	if (!ok)
	{
		outfile_abort(f);
		return false;
	}
	outfile_sync_dir(f->path);
	outfile_release(f);
	return true;
}

void
outfile_abort(OutFile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->created)
		(void) unlink(f->partial);
	f->fd = -1;
	f->created = false;
	outfile_release(f);
}

bool
outfile_save(const char *path, const void *data, size_t len)
{
	OutFile f;

	if (!outfile_open(&f, path))
	{
		outfile_abort(&f);
		return false;
	}
	if (!outfile_write(&f, data, len))
	{
		outfile_abort(&f);
		return false;
	}
	return outfile_commit(&f);
}

int
outfile_open_existing(const char *path)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		log_error("could not open \"%s\": %s", path,
				  errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	return fd;
}
