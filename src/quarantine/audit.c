/* audit.c - the append-only audit log: one JSON object per line. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mugai/base/dirs.h"
#include "mugai/quarantine/quarantine.h"
#include "quarantine_backend.h"

/*
 * O_APPEND makes each write() land whole at the end even when another
 * process (the CLI next to the milter) appends too; the mutex orders the
 * open and write of our own threads.
 *
 * Group commit: a line is durable once an fsync of its file has started
 * after its write.  The fsync runs outside the mutex, by one thread at a
 * time (the leader) for every line written before it began; threads
 * that wrote meanwhile wait for it and then for one more, instead of
 * each queueing a disk flush of its own behind the mutex.  Nobody
 * returns before its own line is durable.  Tickets count lines of one
 * file (sync_dev, sync_ino): a writer whose open found another file
 * (the log was rotated) while lines of the old one still wait syncs its
 * own line by itself.
 */
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t audit_cond = PTHREAD_COND_INITIALIZER;
static unsigned long audit_written;	/* tickets handed out */
static unsigned long audit_durable;	/* tickets covered by an fsync */
static int audit_syncing;		/* a leader is in fsync */
static dev_t sync_dev;			/* the file the tickets are for */
static ino_t sync_ino;

/* Create the parent directories of path, 0700, as needed. */
static int
audit_mkparents(const char *path, uid_t uid, gid_t gid)
{
	char dir[PATH_MAX], *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	return mugai_mkdirs(dir, uid, gid);
}

/*
 * Open path for appending, creating it (and its directories) for
 * uid:gid when missing: the log root starts must stay writable by the
 * milter's run_user.
 */
static int
audit_open(const char *path, uid_t uid, gid_t gid)
{
	int fd, made = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		if (audit_mkparents(path, uid, gid) == -1)
			return -1;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		made = fd != -1;
		if (fd == -1 && errno == EEXIST)
			fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC |
			    O_NOFOLLOW);
	}
	if (made && fchown(fd, uid, gid) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Make the line just written to fd durable (see the group commit
 * above).  Called and returns with audit_lock held.  -1 with errno set
 * when the fsync that was to cover the line failed.
 */
static int
audit_sync(int fd)
{
	unsigned long mine, upto;
	struct stat st;
	int rc, err;

	if (fstat(fd, &st) == -1)
		return -1;
	if (audit_durable == audit_written && !audit_syncing) {
		sync_dev = st.st_dev;
		sync_ino = st.st_ino;
	} else if (st.st_dev != sync_dev || st.st_ino != sync_ino) {
		pthread_mutex_unlock(&audit_lock);
		rc = fsync(fd);
		err = errno;
		pthread_mutex_lock(&audit_lock);
		errno = err;
		return rc;
	}
	mine = ++audit_written;
	while (audit_durable < mine) {
		if (audit_syncing) {
			pthread_cond_wait(&audit_cond, &audit_lock);
			continue;
		}
		audit_syncing = 1;
		upto = audit_written;
		pthread_mutex_unlock(&audit_lock);
		rc = fsync(fd);
		err = errno;
		pthread_mutex_lock(&audit_lock);
		audit_syncing = 0;
		if (rc == 0 && audit_durable < upto)
			audit_durable = upto;
		pthread_cond_broadcast(&audit_cond);
		if (rc == -1) {
			/*
			 * Lines the failed fsync was to cover are not known
			 * durable: their writers' turn comes next, and this
			 * ticket counts as done so no one waits for it.
			 */
			if (audit_durable < mine && mine == audit_written)
				audit_durable = mine;
			errno = err;
			return -1;
		}
	}
	return 0;
}

static mugai_status
audit_append(const char *path, const char *line, size_t len, uid_t uid,
    gid_t gid)
{
	char owner[256];
	ssize_t n;
	int fd;

	fd = audit_open(path, uid, gid);
	if (fd == -1) {
		owner[0] = '\0';
		if (errno == EACCES || errno == EPERM)
			mugai_owner_hint(path, owner, sizeof(owner));
		mugai_qerr_set("cannot open audit log %s: %s%s; check audit_log"
		    " and its directory", path, strerror(errno), owner);
		return MUGAI_ERR_IO;
	}
	do
		n = write(fd, line, len);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)len || audit_sync(fd) == -1) {
		/* A short write cannot be finished without splitting the line. */
		mugai_qerr_set("cannot write audit log %s: %s", path,
		    n == -1 || n == (ssize_t)len ? strerror(errno) :
		    "short write");
		close(fd);
		return MUGAI_ERR_IO;
	}
	if (close(fd) == -1) {
		mugai_qerr_set("cannot write audit log %s: %s", path,
		    strerror(errno));
		return MUGAI_ERR_IO;
	}
	return MUGAI_OK;
}

/*
 * mugai_audit_write - append json plus a newline to path in one write.
 * A newline inside json would break the one-object-per-line format, so
 * it is refused (MUGAI_ERR_USAGE).
 */
static mugai_status
audit_write(const char *path, const char *json, uid_t uid, gid_t gid)
{
	mugai_status rc;
	size_t len;
	char *line;

	if (path == NULL || *path == '\0' || json == NULL) {
		mugai_qerr_set("audit: no log file or no record");
		return MUGAI_ERR_USAGE;
	}
	if (strpbrk(json, "\r\n") != NULL) {
		mugai_qerr_set("audit: record contains a line break");
		return MUGAI_ERR_USAGE;
	}
	len = strlen(json);
	if ((line = malloc(len + 2)) == NULL) {
		mugai_qerr_set("audit: out of memory");
		return MUGAI_ERR_NOMEM;
	}
	memcpy(line, json, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	pthread_mutex_lock(&audit_lock);
	rc = audit_append(path, line, len + 1, uid, gid);
	pthread_mutex_unlock(&audit_lock);
	free(line);
	return rc;
}

mugai_status
mugai_audit_write(const char *path, const char *json)
{
	return audit_write(path, json, (uid_t)-1, (gid_t)-1);
}

mugai_status
mugai_audit(const struct mugai_config *cfg, const char *json)
{
	uid_t uid;
	gid_t gid;
	mugai_status rc;

	if ((rc = mugai_qowner(cfg, &uid, &gid)) != MUGAI_OK)
		return rc;
	return audit_write(cfg->audit_log, json, uid, gid);
}
