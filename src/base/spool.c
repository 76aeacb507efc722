/*
 * spool.c - one message in memory or in a private file (see mugai/base/spool.h).
 *
 * The file is made with O_TMPFILE where the file system allows it, else
 * with mkstemp() and unlinked at once: either way it has no name while
 * it holds mail, so a crash cannot leave a message lying in spool_dir.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mugai/base/buf.h"
#include "mugai/base/spool.h"

struct mugai_spool {
	char	*dir;
	size_t	 memory_max;
	size_t	 max;
	size_t	 size;
	struct mugai_buf mem;	/* the content until it moves to fd */
	int	 fd;		/* -1: in memory */
	void	*map;		/* mmap of fd once mapped */
	const char *view;	/* non-NULL once mapped: the content */
};

mugai_status
mugai_spool_dir_prepare(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (dir == NULL || *dir != '/') {
		snprintf(err, errlen, "spool_dir \"%s\" is not an absolute "
		    "path; set spool_dir to a directory such as "
		    "/var/spool/mugai/spool", dir ? dir : "");
		return MUGAI_ERR_CONFIG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool_dir %s: cannot create: %s; create "
		    "its parent directory or fix its permissions", dir,
		    strerror(errno));
		return MUGAI_ERR_IO;
	}
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "spool_dir %s: %s", dir, strerror(errno));
		return MUGAI_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "spool_dir %s is not a directory; point "
		    "spool_dir at a directory", dir);
		return MUGAI_ERR_CONFIG;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "spool_dir %s is owned by uid %ld, not "
		    "by uid %ld that mugai runs as; chown it", dir,
		    (long)st.st_uid, (long)geteuid());
		return MUGAI_ERR_CONFIG;
	}
	/* Spooled mail is private: no group or other access at all. */
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "spool_dir %s has mode %04o, so others "
		    "could read spooled mail; run chmod 700 %s", dir,
		    (unsigned)(st.st_mode & 07777), dir);
		return MUGAI_ERR_CONFIG;
	}
	return MUGAI_OK;
}

struct mugai_spool *
mugai_spool_new(const char *dir, size_t memory_max, size_t max)
{
	struct mugai_spool *sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	if ((sp->dir = strdup(dir ? dir : "")) == NULL) {
		free(sp);
		return NULL;
	}
	sp->memory_max = memory_max;
	sp->max = max;
	sp->fd = -1;
	mugai_buf_init(&sp->mem, 0);
	return sp;
}

/* A nameless 0600 file in the spool directory, or -1. */
static int
spool_open_file(const char *dir)
{
	char path[4096];
	mode_t old;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/.spool.XXXXXX", dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	old = umask(077);
	fd = mkostemp(path, O_CLOEXEC);
	umask(old);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static mugai_status
spool_write(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MUGAI_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return MUGAI_OK;
}

/* Move what is in memory to a new file. */
static mugai_status
spool_to_file(struct mugai_spool *sp)
{
	mugai_status rc;
	int fd;

	if ((fd = spool_open_file(sp->dir)) < 0)
		return MUGAI_ERR_IO;
	rc = spool_write(fd, sp->mem.data, sp->mem.len);
	if (rc != MUGAI_OK) {
		close(fd);
		return rc;
	}
	sp->fd = fd;
	mugai_buf_free(&sp->mem);
	return MUGAI_OK;
}

mugai_status
mugai_spool_append(struct mugai_spool *sp, const void *p, size_t n)
{
	mugai_status rc;

	if (sp->view != NULL)
		return MUGAI_ERR_USAGE;
	if (n > (size_t)-1 - sp->size || (sp->max != 0 &&
	    sp->size + n > sp->max))
		return MUGAI_ERR_LIMIT;
	if (n == 0)
		return MUGAI_OK;
	if (sp->fd < 0 && sp->size + n > sp->memory_max &&
	    (rc = spool_to_file(sp)) != MUGAI_OK)
		return rc;
	if (sp->fd >= 0)
		rc = spool_write(sp->fd, p, n);
	else
		rc = mugai_buf_append(&sp->mem, p, n);
	if (rc != MUGAI_OK)
		return rc;
	sp->size += n;
	return MUGAI_OK;
}

mugai_status
mugai_spool_map(struct mugai_spool *sp, const char **data, size_t *len)
{
	void *m;

	if (sp->view == NULL && sp->fd >= 0 && sp->size > 0) {
		m = mmap(NULL, sp->size, PROT_READ, MAP_PRIVATE, sp->fd, 0);
		if (m == MAP_FAILED)
			return MUGAI_ERR_IO;
		sp->map = m;
		sp->view = m;
	} else if (sp->view == NULL) {
		sp->view = sp->mem.data != NULL ? sp->mem.data : "";
	}
	*data = sp->view;
	*len = sp->size;
	return MUGAI_OK;
}

size_t
mugai_spool_size(const struct mugai_spool *sp)
{
	return sp->size;
}

int
mugai_spool_in_file(const struct mugai_spool *sp)
{
	return sp->fd >= 0;
}

void
mugai_spool_free(struct mugai_spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->map != NULL)
		munmap(sp->map, sp->size);
	if (sp->fd >= 0)
		close(sp->fd);
	mugai_buf_free(&sp->mem);
	free(sp->dir);
	free(sp);
}
