/* quarantine.c - the store of original messages (see mugai/quarantine/quarantine.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mugai/base/buf.h"
#include "mugai/base/dirs.h"
#include "mugai/base/json.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "quarantine_backend.h"

#define Q_TMP_PREFIX	".tmp"
#define Q_ID_MAX	64
#define Q_CHUNK		65536
#define Q_AUDIT_MAX	(64 * 1024)
#define Q_PART_DEPTH	100

struct mugai_quarantine {
	const struct mugai_qbackend *be;
	void	*ctx;
	struct mugai_config *cfg;
	int	 dfd;			/* quarantine_dir */
	uid_t	 uid;			/* owner of what we create, -1: keep */
	gid_t	 gid;
	atomic_ulong seq;		/* makes temporary names unique */
};

static const struct mugai_qbackend *q_backend_override;

/* ---- errors and small helpers ---------------------------------------- */

void
mugai_quarantine_set_backend(const struct mugai_qbackend *be)
{
	q_backend_override = be;
}

/* Message for a failed system call on path, with owner on EACCES. */
static void
q_syserr(const char *what, const char *path, int err)
{
	char owner[PATH_MAX + 128];

	owner[0] = '\0';
	if (err == EACCES || err == EPERM)
		mugai_owner_hint(path, owner, sizeof(owner));
	mugai_qerr_set("%s %s: %s%s", what, path, strerror(err), owner);
}

static void
q_sha256_hex(const void *p, size_t len, char hex[65])
{
	const unsigned char *b = p;
	GChecksum *c;
	size_t n;

	c = g_checksum_new(G_CHECKSUM_SHA256);
	while (len > 0) {
		n = len > Q_CHUNK ? Q_CHUNK : len;
		g_checksum_update(c, b, (gssize)n);
		b += n;
		len -= n;
	}
	snprintf(hex, 65, "%s", g_checksum_get_string(c));
	g_checksum_free(c);
}

static int
q_is_sha256(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* Ids become file names: keep them to a harmless alphabet. */
static int
q_id_valid(const char *id)
{
	size_t i;

	if (id == NULL || !g_ascii_isalnum(id[0]))
		return 0;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= Q_ID_MAX)
			return 0;
		if (!g_ascii_isalnum(id[i]) && strchr("._-", id[i]) == NULL)
			return 0;
	}
	return 1;
}

/* fan gets the two hex digits that name the directory of id. */
static void
q_fanout(const char *id, char fan[3])
{
	char hex[65];

	q_sha256_hex(id, strlen(id), hex);
	fan[0] = hex[0];
	fan[1] = hex[1];
	fan[2] = '\0';
}

/* Absolute path of the original of id (id already valid). */
static void
q_path(const struct mugai_quarantine *q, const char *id, char *buf,
    size_t len)
{
	char fan[3];

	q_fanout(id, fan);
	snprintf(buf, len, "%s/%s/%s.eml", q->cfg->quarantine_dir, fan, id);
}

/* Where the original of id is, for messages: a file or a database row. */
static void
q_where(const struct mugai_quarantine *q, const char *id, char *buf,
    size_t len)
{
	if (q->be->blob_put != NULL)
		snprintf(buf, len, "postgresql:originals/%s", id);
	else
		q_path(q, id, buf, len);
}

/* The index for messages: its file, never a connection string. */
static const char *
q_dbname(const struct mugai_quarantine *q, char *buf, size_t len)
{
	if (q->be->blob_put != NULL)
		return "(the PostgreSQL quarantine database)";
	return mugai_config_quarantine_db(q->cfg, buf, len);
}

static void
q_iso8601(time_t t, char *buf, size_t len)
{
	struct tm tm;
	char date[32];
	int off;

	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	off = (int)(tm.tm_gmtoff / 60);
	snprintf(buf, len, "%s%c%02d:%02d", date, off < 0 ? '-' : '+',
	    abs(off) / 60 % 100, abs(off) % 60);
}

/* ---- audit ------------------------------------------------------------ */

static mugai_status
q_json_str(struct mugai_buf *b, const char *s)
{
	return mugai_json_str(b, s != NULL ? s : "");
}

/*
 * One audit line for an admin action.  extra holds key, value pairs
 * ended by NULL; a NULL value leaves its key out.
 */
static mugai_status
q_audit(struct mugai_quarantine *q, const char *action, const char *actor,
    const char *id, const char *reason, const char *const *extra)
{
	struct mugai_buf b;
	mugai_status rc;
	char when[48];
	struct tm tm;
	time_t now;
	size_t i;

	/* UTC, like the message lines the sanitiser writes to the same log. */
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mugai_buf_init(&b, Q_AUDIT_MAX);
	rc = mugai_buf_printf(&b, "{\"time\":\"%s\",\"actor\":", when);
	if (rc == MUGAI_OK)
		rc = q_json_str(&b, actor);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(&b, ",\"action\":");
	if (rc == MUGAI_OK)
		rc = q_json_str(&b, action);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(&b, ",\"id\":");
	if (rc == MUGAI_OK)
		rc = q_json_str(&b, id);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(&b, ",\"reason\":");
	if (rc == MUGAI_OK)
		rc = q_json_str(&b, reason);
	for (i = 0; extra != NULL && extra[i] != NULL && rc == MUGAI_OK;
	    i += 2) {
		if (extra[i + 1] == NULL)
			continue;
		rc = mugai_buf_putc(&b, ',');
		if (rc == MUGAI_OK)
			rc = q_json_str(&b, extra[i]);
		if (rc == MUGAI_OK)
			rc = mugai_buf_putc(&b, ':');
		if (rc == MUGAI_OK)
			rc = q_json_str(&b, extra[i + 1]);
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(&b, '}');
	if (rc == MUGAI_OK)
		rc = mugai_quarantine_audit(q, b.data);
	else
		mugai_qerr_set("audit record for %s too long", id);
	mugai_buf_free(&b);
	return rc;
}

mugai_status
mugai_quarantine_audit(struct mugai_quarantine *q, const char *json)
{
	mugai_status rc;

	rc = mugai_audit(q->cfg, json);
	if (rc == MUGAI_OK && q->be->audit != NULL && q->ctx != NULL)
		q->be->audit(q->ctx, json);
	return rc;
}

/* ---- open, close ------------------------------------------------------ */

/*
 * postgresql:// or postgres:// URIs, and conninfo strings ("key=value
 * ..."), name a PostgreSQL database; anything else is a file path for
 * SQLite (a path with '=' in it would need "./").
 */
const struct mugai_qbackend *
mugai_qbackend_for(const char *db)
{
	if (q_backend_override != NULL)
		return q_backend_override;
	if (db == NULL)
		return &mugai_qbackend_sqlite;
	if (strncmp(db, "postgresql://", 13) == 0 ||
	    strncmp(db, "postgres://", 11) == 0)
		return &mugai_qbackend_pg;
	if (db[0] != '/' && db[0] != '.' && strchr(db, '=') != NULL)
		return &mugai_qbackend_pg;
	return &mugai_qbackend_sqlite;
}

/* Nonzero when the backend keeps the originals (no files). */
static int
q_blobs(const struct mugai_quarantine *q)
{
	return q->be->blob_put != NULL;
}

static mugai_status q_walk_any(struct mugai_quarantine *q, size_t *n);

/* Nonzero when the index file does not exist yet. */
static int
q_index_missing(const struct mugai_config *cfg)
{
	char buf[PATH_MAX];
	struct stat st;

	return stat(mugai_config_quarantine_db(cfg, buf, sizeof(buf)), &st) ==
	    -1 && errno == ENOENT;
}

/*
 * A new, empty index next to stored originals: the old index was lost
 * (deleted, or quarantine_db changed).  Mail flows on, but those
 * originals cannot be found until the index is rebuilt: say so.
 */
static void
q_warn_new_index(struct mugai_quarantine *q)
{
	char buf[PATH_MAX];
	size_t n = 0;

	if (q_walk_any(q, &n) != MUGAI_OK || n == 0)
		return;
	mugai_log(LOG_WARNING, NULL, "quarantine: the index %s was missing and"
	    " has been created empty, but %zu original%s stored in %s; run"
	    " 'mugai quarantine rebuild-index' (with mugai-milter stopped) to"
	    " index them again from their files and the audit log",
	    mugai_config_quarantine_db(q->cfg, buf, sizeof(buf)), n,
	    n == 1 ? " is" : "s are", q->cfg->quarantine_dir);
}

mugai_status
mugai_quarantine_open(const struct mugai_config *cfg,
    struct mugai_quarantine **out, char *err, size_t errlen)
{
	return mugai_qopen_at(cfg, NULL, out, err, errlen);
}

mugai_status
mugai_qopen_at(const struct mugai_config *cfg, const char *path,
    struct mugai_quarantine **out, char *err, size_t errlen)
{
	struct mugai_quarantine *q;
	mugai_status rc;
	int saved, missing;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return MUGAI_ERR_NOMEM;
	}
	/* The config is reference counted; holding it is not a change. */
	q->cfg = mugai_config_ref((struct mugai_config *)cfg);
	/* An explicit path is always an SQLite file (rebuild, copy). */
	q->be = path != NULL ? &mugai_qbackend_sqlite :
	    mugai_qbackend_for(cfg->quarantine_db);
	q->dfd = -1;
	atomic_init(&q->seq, 0);
	if ((rc = mugai_qowner(cfg, &q->uid, &q->gid)) != MUGAI_OK) {
		snprintf(err, errlen, "%s", mugai_quarantine_error());
		saved = EINVAL;
		goto fail;
	}
	if (q_blobs(q))
		goto backend;	/* no files: quarantine_dir is not used */
	if (mugai_mkdirs(cfg->quarantine_dir, q->uid, q->gid) == -1 ||
	    (q->dfd = open(cfg->quarantine_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		saved = errno;
		q_syserr("cannot open quarantine_dir", cfg->quarantine_dir,
		    saved);
		snprintf(err, errlen, "%s", mugai_quarantine_error());
		rc = MUGAI_ERR_IO;
		goto fail;
	}
backend:
	missing = path == NULL && !q_blobs(q) && q_index_missing(cfg);
	rc = q->be->open(cfg, path, &q->ctx, err, errlen);
	saved = errno;
	if (rc != MUGAI_OK)
		goto fail;
	if (missing)
		q_warn_new_index(q);
	*out = q;
	return MUGAI_OK;
fail:
	mugai_quarantine_close(q);
	errno = saved;
	return rc;
}

const struct mugai_config *
mugai_qconfig(const struct mugai_quarantine *q)
{
	return q->cfg;
}

mugai_status
mugai_quarantine_migrate(const struct mugai_config *cfg, int *from, int *to,
    char *err, size_t errlen)
{
	const struct mugai_qbackend *be = mugai_qbackend_for(cfg->quarantine_db);
	struct mugai_quarantine *q;
	mugai_status rc;

	*from = *to = -1;
	if (be->migrate != NULL)
		return be->migrate(cfg, from, to, err, errlen);
	/* SQLite: opening creates or upgrades the index. */
	rc = mugai_quarantine_open(cfg, &q, err, errlen);
	mugai_quarantine_close(q);
	return rc;
}

void
mugai_quarantine_close(struct mugai_quarantine *q)
{
	if (q == NULL)
		return;
	if (q->ctx != NULL)
		q->be->close(q->ctx);
	if (q->dfd != -1)
		close(q->dfd);
	mugai_config_unref(q->cfg);
	free(q);
}

/* ---- for quarantine_rebuild.c ------------------------------------------ */

mugai_status
mugai_qindex_add(struct mugai_quarantine *q, const struct mugai_qentry *e,
    const char *sha256)
{
	char fan[3], rel[Q_ID_MAX + 16];

	if (!q_id_valid(e->id)) {
		mugai_qerr_set("bad message id \"%.80s\"", e->id);
		return MUGAI_ERR_USAGE;
	}
	q_fanout(e->id, fan);
	snprintf(rel, sizeof(rel), "%s/%s.eml", fan, e->id);
	return q->be->insert(q->ctx, e, sha256, rel);
}

mugai_status
mugai_qindex_transition(struct mugai_quarantine *q, const char *id,
    unsigned from, const char *to, const struct mugai_qaction *a)
{
	return q->be->transition(q->ctx, id, from, to, a, NULL, 0);
}

/* ---- store ------------------------------------------------------------ */

static int
q_write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;
	int err;

	if ((err = mugai_qfault("write")) != 0) {
		errno = err;
		return -1;
	}
	while (len > 0) {
		n = write(fd, c, len > Q_CHUNK * 16 ? Q_CHUNK * 16 : len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* rename(2) that never replaces: an existing original is never lost. */
static int
q_rename_new(int dfd, const char *from, const char *to)
{
	int err;

	if ((err = mugai_qfault("rename")) != 0) {
		errno = err;
		return -1;
	}
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* Filesystems without RENAME_NOREPLACE: link(2) never replaces. */
	if (linkat(dfd, from, dfd, to, 0) == -1)
		return -1;
	unlinkat(dfd, from, 0);
	return 0;
}

/*
 * Make the fan-out directory fan, given to run_user: 1 when made here,
 * 0 when it was there (made by another thread, say), -1 on error.  Not
 * durable until the caller syncs q->dfd.
 */
static int
q_fan_make(struct mugai_quarantine *q, const char *fan)
{
	if (mkdirat(q->dfd, fan, 0700) == -1)
		return errno == EEXIST ? 0 : -1;
	if (fchownat(q->dfd, fan, q->uid, q->gid, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return 1;
}

/*
 * Open the fan-out directory fan, creating it when missing: only when
 * one was removed after mugai_quarantine_prepare made them all.
 */
static int
q_fanout_open(struct mugai_quarantine *q, const char *fan)
{
	int fd;

	fd = openat(q->dfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd != -1 || errno != ENOENT)
		return fd;
	if (q_fan_make(q, fan) == -1)
		return -1;
	/* The new entry must survive a crash as well as the file in it. */
	if (fsync(q->dfd) == -1)
		return -1;
	return openat(q->dfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
}

/*
 * All 256 fan-out directories at once, with one sync of quarantine_dir
 * for those made here, so that storing a message never makes one: each
 * cost a mkdir and a sync of quarantine_dir in the message's path, on
 * the first few hundred changed messages of a new quarantine (more on
 * storage without a journal, where each sync is a synchronous write).
 */
mugai_status
mugai_quarantine_prepare(struct mugai_quarantine *q)
{
	char fan[3];
	struct stat st;
	int i, made = 0, r;

	if (q_blobs(q))
		return MUGAI_OK;
	for (i = 0; i < 256; i++) {
		snprintf(fan, sizeof(fan), "%02x", i);
		if ((r = q_fan_make(q, fan)) == -1) {
			q_syserr("cannot create a directory in",
			    q->cfg->quarantine_dir, errno);
			return MUGAI_ERR_IO;
		}
		if (r == 0 && (fstatat(q->dfd, fan, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(st.st_mode))) {
			mugai_qerr_set("%s/%s is not a directory; move it out"
			    " of quarantine_dir", q->cfg->quarantine_dir, fan);
			return MUGAI_ERR_IO;
		}
		made |= r;
	}
	if (made && fsync(q->dfd) == -1) {
		q_syserr("cannot fsync", q->cfg->quarantine_dir, errno);
		return MUGAI_ERR_IO;
	}
	return MUGAI_OK;
}

/*
 * Write raw into a new temporary file in dfd, make it durable and give
 * it its final name.  On failure nothing visible is left behind.
 */
static mugai_status
q_put_file(struct mugai_quarantine *q, int dfd, const char *dirpath,
    const char *name, const void *raw, size_t len)
{
	char tmp[NAME_MAX + 1];
	const char *what;
	int fd = -1, err, tries;

	for (tries = 0; ; tries++) {
		snprintf(tmp, sizeof(tmp), "%s.%s.%ld.%lu", Q_TMP_PREFIX, name,
		    (long)getpid(), atomic_fetch_add(&q->seq, 1));
		if ((err = mugai_qfault("tmpfile")) != 0)
			errno = err;
		else
			fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd != -1 || errno != EEXIST || tries == 8)
			break;
	}
	if (fd == -1) {
		q_syserr("cannot create a file in", dirpath, errno);
		return MUGAI_ERR_IO;
	}
	what = "cannot give to run_user";
	if (fchown(fd, q->uid, q->gid) == -1)
		goto fail;
	what = "cannot write";
	if (q_write_all(fd, raw, len) == -1)
		goto fail;
	what = "cannot fsync";
	if ((err = mugai_qfault("fsync")) != 0) {
		errno = err;
		goto fail;
	}
	if (fsync(fd) == -1)
		goto fail;
	what = "cannot close";
	err = close(fd);
	fd = -1;
	if (err == -1)
		goto fail;
	what = "cannot rename";
	if (q_rename_new(dfd, tmp, name) == -1) {
		err = errno;
		unlinkat(dfd, tmp, 0);
		if (err == EEXIST) {
			mugai_qerr_set("an original named %s/%s is already"
			    " stored; ids must be unique", dirpath, name);
			return MUGAI_ERR_USAGE;
		}
		q_syserr(what, dirpath, err);
		return MUGAI_ERR_IO;
	}
	if (fsync(dfd) == -1) {
		err = errno;
		unlinkat(dfd, name, 0);
		q_syserr("cannot fsync", dirpath, err);
		return MUGAI_ERR_IO;
	}
	return MUGAI_OK;
fail:
	err = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dfd, tmp, 0);
	q_syserr(what, dirpath, err);
	return MUGAI_ERR_IO;
}

/*
 * The original into the backend first, then its row, as with files: a
 * crash between leaves an orphan original, never a row without one.
 */
static mugai_status
q_store_blob(struct mugai_quarantine *q, const struct mugai_qentry *e,
    const char *sha, const void *raw, size_t len)
{
	struct mugai_qentry row;
	mugai_status rc;
	char rel[Q_ID_MAX + 16];
	int err;

	snprintf(rel, sizeof(rel), "originals/%s", e->id);
	if ((err = mugai_qfault("write")) != 0) {
		mugai_qerr_set("%s: injected failure: %s", e->id, strerror(err));
		rc = MUGAI_ERR_IO;
		goto out;
	}
	if ((rc = q->be->blob_put(q->ctx, e->id, raw, len)) != MUGAI_OK)
		goto out;
	row = *e;
	row.size = len;
	if (row.received == 0)
		row.received = time(NULL);
	if ((err = mugai_qfault("insert")) != 0) {
		mugai_qerr_set("%s: injected failure: %s", e->id, strerror(err));
		rc = MUGAI_ERR_IO;
	} else
		rc = q->be->insert(q->ctx, &row, sha, rel);
	/* No row, so no original: the MTA will offer the message again. */
	if (rc != MUGAI_OK)
		q->be->blob_delete(q->ctx, e->id);
out:
	if (rc != MUGAI_OK)
		mugai_log(LOG_ERR, e->id, "quarantine: %s",
		    mugai_quarantine_error());
	return rc;
}

/*
 * The index keeps the notice for the console (the web message page,
 * "mugai quarantine show"), not as a copy of the text: the recipient
 * got the whole of it in the delivered message, and the original is in
 * the store.  Past quarantine_notice_max bytes it is cut before a UTF-8
 * character (at a line end when one is near) and a line says how much
 * was left out, so that 40 MB of text mail no longer puts 40 MB into
 * the index (and its WAL, and PostgreSQL) besides the original.
 * Returns notice itself, or a new string in *copy; NULL on no memory.
 */
static const char *
q_notice_bounded(const char *notice, size_t max, char **copy)
{
	static const char fmt[] = "\n[... %zu bytes more not kept in the"
	    " quarantine index / 以下 %zu バイトは索引に保存していません]\n";
	char tail[256];
	const char *nl;
	size_t len, cut, tn;
	int n;

	*copy = NULL;
	if (notice == NULL || (len = strlen(notice)) <= max)
		return notice;
	cut = max;
	while (cut > 0 && ((unsigned char)notice[cut] & 0xc0) == 0x80)
		cut--;
	if ((nl = memrchr(notice, '\n', cut)) != NULL &&
	    cut - (size_t)(nl - notice) <= 256)
		cut = (size_t)(nl - notice);
	/* memcpy, not "%.*s": glibc's printf took 300,000 instructions for
	 * the 8K head, ten times what storing the row does. */
	n = snprintf(tail, sizeof(tail), fmt, len - cut, len - cut);
	if (n < 0 || (size_t)n >= sizeof(tail))
		return NULL;
	tn = (size_t)n;
	if ((*copy = malloc(cut + tn + 1)) == NULL)
		return NULL;
	memcpy(*copy, notice, cut);
	memcpy(*copy + cut, tail, tn + 1);
	return *copy;
}

mugai_status
mugai_quarantine_store(struct mugai_quarantine *q,
    const struct mugai_qentry *e, const void *raw, size_t len)
{
	char sha[65], fan[3], name[Q_ID_MAX + 8], dirpath[PATH_MAX];
	char rel[Q_ID_MAX + 16], *notice;
	struct mugai_qentry row;
	mugai_status rc;
	int dfd = -1, err;

	if (!q_id_valid(e->id)) {
		mugai_qerr_set("bad message id \"%.80s\": use 1-%d letters,"
		    " digits, '.', '_' or '-'", e->id != NULL ? e->id : "",
		    Q_ID_MAX);
		mugai_log(LOG_ERR, NULL, "quarantine: %s",
		    mugai_quarantine_error());
		return MUGAI_ERR_USAGE;
	}
	if (e->sha256 != NULL && !q_is_sha256(e->sha256)) {
		mugai_qerr_set("%s: sha256 is not 64 lower-case hex digits",
		    e->id);
		mugai_log(LOG_ERR, e->id, "quarantine: %s",
		    mugai_quarantine_error());
		return MUGAI_ERR_USAGE;
	}
	if (e->sha256 != NULL)
		snprintf(sha, sizeof(sha), "%s", e->sha256);
	else
		q_sha256_hex(raw, len, sha);
	row = *e;
	row.notice = q_notice_bounded(e->notice, q->cfg->quarantine_notice_max,
	    &notice);
	if (e->notice != NULL && row.notice == NULL) {
		mugai_qerr_set("%s: out of memory", e->id);
		rc = MUGAI_ERR_NOMEM;
		goto out;
	}
	if (q_blobs(q)) {
		rc = q_store_blob(q, &row, sha, raw, len);
		free(notice);
		return rc;
	}
	q_fanout(e->id, fan);
	snprintf(name, sizeof(name), "%s.eml", e->id);
	snprintf(rel, sizeof(rel), "%s/%s", fan, name);
	snprintf(dirpath, sizeof(dirpath), "%s/%s", q->cfg->quarantine_dir,
	    fan);
	if ((dfd = q_fanout_open(q, fan)) == -1) {
		q_syserr("cannot open", dirpath, errno);
		rc = MUGAI_ERR_IO;
		goto out;
	}
	rc = q_put_file(q, dfd, dirpath, name, raw, len);
	if (rc != MUGAI_OK)
		goto out;
	row.size = len;
	if (row.received == 0)
		row.received = time(NULL);
	if ((err = mugai_qfault("renamed")) != 0 ||
	    (err = mugai_qfault("insert")) != 0) {
		mugai_qerr_set("%s: injected failure: %s", e->id, strerror(err));
		rc = MUGAI_ERR_IO;
	} else
		rc = q->be->insert(q->ctx, &row, sha, rel);
	if (rc != MUGAI_OK) {
		/* No row, so no file: the MTA will offer the message again. */
		unlinkat(dfd, name, 0);
		fsync(dfd);
	}
out:
	free(notice);
	if (dfd != -1)
		close(dfd);
	if (rc != MUGAI_OK)
		mugai_log(LOG_ERR, e->id, "quarantine: %s",
		    mugai_quarantine_error());
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

mugai_status
mugai_quarantine_get(struct mugai_quarantine *q, const char *id,
    struct mugai_qrecord **out)
{
	*out = NULL;
	if (!q_id_valid(id)) {
		mugai_qerr_set("no message with id %.80s", id);
		return MUGAI_ERR_NOTFOUND;
	}
	return q->be->get(q->ctx, id, out);
}

mugai_status
mugai_quarantine_list(struct mugai_quarantine *q,
    const struct mugai_qfilter *f, mugai_qrecord_fn fn, void *arg)
{
	static const struct mugai_qfilter all;

	return q->be->list(q->ctx, f != NULL ? f : &all, fn, arg);
}

mugai_status
mugai_quarantine_history(struct mugai_quarantine *q, const char *id,
    mugai_qaction_fn fn, void *arg)
{
	return q->be->history(q->ctx, id, fn, arg);
}

mugai_status
mugai_quarantine_report_parts(struct mugai_quarantine *q,
    const char *report_json, mugai_qpart_fn fn, void *arg)
{
	return q->be->report_parts(q->ctx, report_json != NULL ?
	    report_json : "", fn, arg);
}

/* SHA-256 of the file at path; -1 with errno on a read error. */
static int
q_hash_file(const char *path, char hex[65])
{
	char *chunk;
	GChecksum *c;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if ((chunk = malloc(Q_CHUNK)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	c = g_checksum_new(G_CHECKSUM_SHA256);
	while ((n = read(fd, chunk, Q_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		g_checksum_update(c, (const guchar *)chunk, n);
	}
	saved = errno;
	if (n == 0)
		snprintf(hex, 65, "%s", g_checksum_get_string(c));
	g_checksum_free(c);
	free(chunk);
	close(fd);
	errno = saved;
	return n == 0 ? 0 : -1;
}

struct q_blobread {
	struct mugai_buf *out;
	GChecksum *sum;
};

static mugai_status
q_blob_chunk(const void *p, size_t n, void *arg)
{
	struct q_blobread *b = arg;

	g_checksum_update(b->sum, p, (gssize)n);
	return b->out != NULL ? mugai_buf_append(b->out, p, n) : MUGAI_OK;
}

/* SHA-256 of the original of id kept by the backend (out: a copy too). */
static mugai_status
q_blob_hash(struct mugai_quarantine *q, const char *id, struct mugai_buf *out,
    char hex[65])
{
	struct q_blobread b;
	mugai_status rc;

	b.out = out;
	b.sum = g_checksum_new(G_CHECKSUM_SHA256);
	rc = q->be->blob_get(q->ctx, id, q_blob_chunk, &b);
	if (rc == MUGAI_OK)
		snprintf(hex, 65, "%s", g_checksum_get_string(b.sum));
	g_checksum_free(b.sum);
	return rc;
}

static mugai_status
q_read_blob(struct mugai_quarantine *q, const struct mugai_qrecord *r,
    struct mugai_buf *out)
{
	mugai_status rc;
	char hex[65];

	rc = q_blob_hash(q, r->id, out, hex);
	if (rc == MUGAI_ERR_NOTFOUND)
		rc = MUGAI_ERR_IO;
	else if (rc != MUGAI_OK && rc != MUGAI_ERR_LIMIT)
		mugai_qerr_set("%s: %s", r->path, mugai_status_str(rc));
	if (rc == MUGAI_OK && strcmp(hex, r->sha256) != 0) {
		mugai_qerr_set("%s does not match its recorded SHA-256 (%s,"
		    " stored original has %s); run 'mugai quarantine verify'",
		    r->path, r->sha256, hex);
		rc = MUGAI_ERR_IO;
	}
	if (rc != MUGAI_OK)
		mugai_buf_reset(out);
	return rc;
}

mugai_status
mugai_quarantine_read(struct mugai_quarantine *q,
    const struct mugai_qrecord *r, struct mugai_buf *out)
{
	char path[PATH_MAX], hex[65], *chunk = NULL;
	mugai_status rc = MUGAI_OK;
	ssize_t n;
	int fd;

	mugai_buf_reset(out);
	if (strcmp(r->status, "deleted") == 0) {
		mugai_qerr_set("the original of %s was deleted", r->id);
		return MUGAI_ERR_NOTFOUND;
	}
	if (!q_id_valid(r->id)) {
		mugai_qerr_set("bad message id \"%.80s\"", r->id);
		return MUGAI_ERR_USAGE;
	}
	if (q_blobs(q))
		return q_read_blob(q, r, out);
	q_path(q, r->id, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		q_syserr("cannot open the original", path, errno);
		return MUGAI_ERR_IO;
	}
	if ((chunk = malloc(Q_CHUNK)) == NULL) {
		rc = MUGAI_ERR_NOMEM;
		goto out;
	}
	while (rc == MUGAI_OK && (n = read(fd, chunk, Q_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			q_syserr("cannot read the original", path, errno);
			rc = MUGAI_ERR_IO;
			goto out;
		}
		rc = mugai_buf_append(out, chunk, (size_t)n);
	}
	if (rc != MUGAI_OK) {
		mugai_qerr_set("%s: %s", path, mugai_status_str(rc));
		goto out;
	}
	q_sha256_hex(out->data != NULL ? out->data : "", out->len, hex);
	if (strcmp(hex, r->sha256) != 0) {
		mugai_qerr_set("%s does not match its recorded SHA-256 (%s, file"
		    " has %s); run 'mugai quarantine verify'", path, r->sha256,
		    hex);
		rc = MUGAI_ERR_IO;
	}
out:
	free(chunk);
	close(fd);
	if (rc != MUGAI_OK)
		mugai_buf_reset(out);
	return rc;
}

/* ---- MIME parts ------------------------------------------------------- */

/* Split "1.2.3" into numbers; the first must be 1. */
static int
q_part_path(const char *path, unsigned long *v, size_t max, size_t *n)
{
	const char *p = path;
	char *end;

	*n = 0;
	while (*n < max) {
		if (!g_ascii_isdigit(*p))
			return -1;
		errno = 0;
		v[*n] = strtoul(p, &end, 10);
		if (errno != 0 || v[*n] == 0 || v[*n] > 1000000)
			return -1;
		(*n)++;
		if (*end == '\0')
			return v[0] == 1 ? 0 : -1;
		if (*end != '.')
			return -1;
		p = end + 1;
	}
	return -1;
}

/* The object at path below the message, or NULL (error set). */
static GMimeObject *
q_part_find(GMimeMessage *msg, const char *path, mugai_status *rc)
{
	unsigned long v[Q_PART_DEPTH];
	GMimeObject *o;
	GMimeMessage *inner;
	size_t n, i;

	if (q_part_path(path, v, Q_PART_DEPTH, &n) == -1) {
		mugai_qerr_set("bad part path \"%.80s\": write it like 1.2"
		    " (the message body is 1, its parts 1.1, 1.2, ...)", path);
		*rc = MUGAI_ERR_USAGE;
		return NULL;
	}
	o = g_mime_message_get_mime_part(msg);
	for (i = 1; i < n && o != NULL; i++) {
		if (GMIME_IS_MULTIPART(o)) {
			if (v[i] > (unsigned long)g_mime_multipart_get_count(
			    GMIME_MULTIPART(o)))
				o = NULL;
			else
				o = g_mime_multipart_get_part(GMIME_MULTIPART(o),
				    (int)v[i] - 1);
		} else if (GMIME_IS_MESSAGE_PART(o) && v[i] == 1) {
			inner = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(o));
			o = inner != NULL ? g_mime_message_get_mime_part(inner) :
			    NULL;
		} else
			o = NULL;
	}
	if (o == NULL) {
		mugai_qerr_set("the message has no part %s; 'mugai quarantine"
		    " show ID' lists its parts", path);
		*rc = MUGAI_ERR_NOTFOUND;
	}
	return o;
}

static mugai_status
q_stream_to_buf(GMimeStream *ms, struct mugai_buf *out)
{
	GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));

	return mugai_buf_append(out, a->data, a->len);
}

/* Parse raw as a message; NULL when GMime finds nothing. */
static GMimeMessage *
q_parse(const void *raw, size_t len)
{
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *msg;

	st = g_mime_stream_mem_new_with_buffer(raw, len);
	p = g_mime_parser_new_with_stream(st);
	msg = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	return msg;
}

mugai_status
mugai_quarantine_part(const void *raw, size_t len, const char *path,
    struct mugai_buf *out, char **name, char **type)
{
	GMimeMessage *msg;
	GMimeObject *o;
	GMimeStream *ms = NULL;
	GMimeDataWrapper *dw;
	const char *fn;
	char *gtype;
	mugai_status rc = MUGAI_OK;

	*name = *type = NULL;
	mugai_buf_reset(out);
	if ((msg = q_parse(raw, len)) == NULL) {
		mugai_qerr_set("the original cannot be parsed as a message");
		return MUGAI_ERR_PARSE;
	}
	if ((o = q_part_find(msg, path, &rc)) == NULL)
		goto out;
	if (GMIME_IS_MULTIPART(o)) {
		mugai_qerr_set("part %s is a multipart; name one of its parts"
		    " (%s.1, %s.2, ...)", path, path, path);
		rc = MUGAI_ERR_USAGE;
		goto out;
	}
	ms = g_mime_stream_mem_new();
	if (GMIME_IS_MESSAGE_PART(o)) {
		if (g_mime_message_part_get_message(GMIME_MESSAGE_PART(o)) != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(
			    g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(o))), NULL, ms);
		fn = g_mime_object_get_content_disposition_parameter(o,
		    "filename");
	} else if (GMIME_IS_PART(o)) {
		if ((dw = g_mime_part_get_content(GMIME_PART(o))) != NULL &&
		    g_mime_data_wrapper_write_to_stream(dw, ms) == -1) {
			mugai_qerr_set("cannot decode part %s", path);
			rc = MUGAI_ERR_PARSE;
			goto out;
		}
		fn = g_mime_part_get_filename(GMIME_PART(o));
	} else {
		mugai_qerr_set("part %s has no content of its own", path);
		rc = MUGAI_ERR_USAGE;
		goto out;
	}
	if ((rc = q_stream_to_buf(ms, out)) != MUGAI_OK) {
		mugai_qerr_set("part %s: %s", path, mugai_status_str(rc));
		goto out;
	}
	/* Callers free with free(); keep GLib's allocator out. */
	gtype = g_mime_content_type_get_mime_type(
	    g_mime_object_get_content_type(o));
	*name = strdup(fn != NULL ? fn : "");
	*type = strdup(gtype != NULL ? gtype : "application/octet-stream");
	g_free(gtype);
	if (*name == NULL || *type == NULL) {
		mugai_qerr_set("out of memory");
		rc = MUGAI_ERR_NOMEM;
	}
out:
	if (ms != NULL)
		g_object_unref(ms);
	g_object_unref(msg);
	if (rc != MUGAI_OK) {
		free(*name);
		free(*type);
		*name = *type = NULL;
		mugai_buf_reset(out);
	}
	return rc;
}

/* ---- release ---------------------------------------------------------- */

int
mugai_quarantine_dangerous(const struct mugai_qrecord *r)
{
	static const char *const bad[] = {
		"rejected", "reject", "discarded", "discard", "virus",
		"infected", NULL
	};
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		if (strcasecmp(r->verdict, bad[i]) == 0)
			return 1;
	return 0;
}

/* A fresh message from the original's From/Subject carrying one part. */
static mugai_status
q_part_message(const struct mugai_qrecord *r, const struct mugai_buf *orig,
    const struct mugai_qrelease *req, const char *to, struct mugai_buf *out)
{
	struct mugai_buf data;
	GMimeMessage *src = NULL, *m = NULL;
	GMimeMultipart *mp;
	GMimeTextPart *tp;
	GMimePart *att;
	GMimeStream *ds, *ms;
	GMimeDataWrapper *dw;
	GMimeContentType *ct;
	GDateTime *now;
	char *name = NULL, *type = NULL, *text, *msgid;
	mugai_status rc;

	/* Decoding never grows a part; GMime re-serialising barely does. */
	mugai_buf_init(&data, orig->len * 2 + 4096);
	rc = mugai_quarantine_part(orig->data, orig->len, req->part, &data,
	    &name, &type);
	if (rc != MUGAI_OK)
		goto out;
	src = q_parse(orig->data, orig->len);
	m = g_mime_message_new(TRUE);
	if (src != NULL && internet_address_list_length(
	    g_mime_message_get_from(src)) > 0)
		internet_address_list_append(g_mime_message_get_from(m),
		    g_mime_message_get_from(src));
	else
		g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL,
		    r->sender[0] != '\0' ? r->sender : "MAILER-DAEMON");
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, to);
	g_mime_message_set_subject(m, src != NULL &&
	    g_mime_message_get_subject(src) != NULL ?
	    g_mime_message_get_subject(src) : r->subject, "utf-8");
	now = g_date_time_new_now_local();
	g_mime_message_set_date(m, now);
	g_date_time_unref(now);
	msgid = g_mime_utils_generate_message_id("mugai.invalid");
	g_mime_message_set_message_id(m, msgid);
	g_free(msgid);
	g_mime_object_set_header(GMIME_OBJECT(m), "X-Mugai-Id", r->id, NULL);
	g_mime_object_set_header(GMIME_OBJECT(m), "X-Mugai-Released-Part",
	    req->part, NULL);

	mp = g_mime_multipart_new_with_subtype("mixed");
	tp = g_mime_text_part_new_with_subtype("plain");
	text = g_strdup_printf("Attachment %s of quarantined message %s,"
	    " released by %s.\nReason: %s\n", req->part, r->id, req->actor,
	    req->reason);
	g_mime_text_part_set_text(tp, text);
	g_free(text);
	g_mime_multipart_add(mp, GMIME_OBJECT(tp));
	g_object_unref(tp);

	ct = g_mime_content_type_parse(NULL, type);
	att = g_mime_part_new_with_type(
	    g_mime_content_type_get_media_type(ct),
	    g_mime_content_type_get_media_subtype(ct));
	g_object_unref(ct);
	ds = g_mime_stream_mem_new_with_buffer(data.data != NULL ?
	    data.data : "", data.len);
	dw = g_mime_data_wrapper_new_with_stream(ds,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(att, dw);
	g_object_unref(dw);
	g_object_unref(ds);
	g_mime_part_set_content_encoding(att, GMIME_CONTENT_ENCODING_BASE64);
	if (name[0] != '\0')
		g_mime_part_set_filename(att, name);
	else
		g_mime_object_set_disposition(GMIME_OBJECT(att),
		    GMIME_DISPOSITION_ATTACHMENT);
	g_mime_multipart_add(mp, GMIME_OBJECT(att));
	g_object_unref(att);
	g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
	g_object_unref(mp);

	ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, ms);
	rc = q_stream_to_buf(ms, out);
	g_object_unref(ms);
	if (rc != MUGAI_OK)
		mugai_qerr_set("released part too large: %s",
		    mugai_status_str(rc));
out:
	if (m != NULL)
		g_object_unref(m);
	if (src != NULL)
		g_object_unref(src);
	free(name);
	free(type);
	mugai_buf_free(&data);
	return rc;
}

/*
 * Hand data to "prog -i -f sender -- to".  A socket rather than a pipe:
 * send(MSG_NOSIGNAL) turns an early exit of sendmail into EPIPE instead
 * of a SIGPIPE that would kill the caller.
 */
mugai_status
mugai_qsendmail(const char *prog, const char *sender, const char *const *to,
    size_t nto, const char *data, size_t len)
{
	char a0[PATH_MAX], a1[] = "-i", a2[] = "-f", a4[] = "--";
	char *a3 = NULL, **argv = NULL;
	posix_spawn_file_actions_t fa;
	int sv[2], r, wst, werr = 0;
	mugai_status rc = MUGAI_OK;
	ssize_t n;
	size_t i;
	pid_t pid;

	/* Some posix_spawn()s report a failed exec only as exit 127. */
	if (prog[0] != '/' || access(prog, X_OK) == -1) {
		mugai_qerr_set("cannot run sendmail_path %s: %s; fix"
		    " sendmail_path", prog, prog[0] != '/' ?
		    "not an absolute path" : strerror(errno));
		return MUGAI_ERR_CONFIG;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		mugai_qerr_set("socketpair: %s", strerror(errno));
		return MUGAI_ERR_IO;
	}
	snprintf(a0, sizeof(a0), "%s", prog);
	a3 = strdup(sender);
	argv = calloc(nto + 6, sizeof(*argv));
	if (a3 == NULL || argv == NULL) {
		mugai_qerr_set("out of memory");
		rc = MUGAI_ERR_NOMEM;
		close(sv[1]);
		goto out;
	}
	argv[0] = a0; argv[1] = a1; argv[2] = a2; argv[3] = a3;
	argv[4] = a4;
	/* posix_spawn does not write to argv; its type is historical. */
	for (i = 0; i < nto; i++)
		argv[5 + i] = (char *)(uintptr_t)to[i];
	argv[5 + nto] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	r = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (r != 0) {
		mugai_qerr_set("cannot run sendmail_path %s: %s; fix"
		    " sendmail_path", prog, strerror(r));
		rc = MUGAI_ERR_CONFIG;
		goto out;
	}
	while (len > 0) {
		n = send(sv[0], data, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			werr = errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	close(sv[0]);
	sv[0] = -1;
	while (waitpid(pid, &wst, 0) == -1)
		if (errno != EINTR) {
			mugai_qerr_set("waitpid: %s", strerror(errno));
			rc = MUGAI_ERR_IO;
			goto out;
		}
	if (WIFSIGNALED(wst)) {
		mugai_qerr_set("%s was killed by signal %d", prog,
		    WTERMSIG(wst));
		rc = MUGAI_ERR_IO;
	} else if (WEXITSTATUS(wst) != 0) {
		mugai_qerr_set("%s exited with status %d; the message was not"
		    " released (see the mail log)", prog, WEXITSTATUS(wst));
		rc = MUGAI_ERR_IO;
	} else if (werr != 0) {
		mugai_qerr_set("%s stopped reading the message: %s", prog,
		    strerror(werr));
		rc = MUGAI_ERR_IO;
	}
out:
	if (sv[0] != -1)
		close(sv[0]);
	free(a3);
	free(argv);
	return rc;
}

int
mugai_qaddr_ok(const char *a)
{
	const unsigned char *p = (const unsigned char *)a;

	if (a == NULL || *a == '\0' || *a == '-')
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7F || *p == '<' || *p == '>')
			return 0;
	return 1;
}

/* Envelope sender without <>, as sendmail -f wants it. */
static void
q_bare_addr(const char *s, char *buf, size_t len)
{
	size_t n;

	while (*s == '<' || *s == ' ')
		s++;
	snprintf(buf, len, "%s", s);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '>' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

/*
 * The message for a change another command prevented: the status it
 * found says which.
 */
static void
q_state_err(const char *id, const char *status, const char *verb)
{
	if (strcmp(status, "deleted") == 0)
		mugai_qerr_set("the original of %s was deleted; it cannot be"
		    " %s (another command got there first, or it was deleted"
		    " earlier)", id, verb);
	else if (strcmp(status, "releasing") == 0)
		mugai_qerr_set("%s is being released by another command right"
		    " now, so it cannot be %s; try again when that has finished"
		    " ('mugai quarantine show %s')", id, verb, id);
	else
		mugai_qerr_set("%s is %s, so it cannot be %s", id, status, verb);
}

static mugai_status
q_release_check(const struct mugai_qrelease *req,
    const struct mugai_qrecord *r)
{
	if (strcmp(r->status, "deleted") == 0) {
		q_state_err(r->id, r->status, "released");
		return MUGAI_ERR_STATE;
	}
	if (mugai_quarantine_dangerous(r) && !req->force) {
		mugai_qerr_set("%s was %s (%s); releasing it needs --force",
		    r->id, r->verdict, r->reasons[0] != '\0' ? r->reasons :
		    "no reason recorded");
		return MUGAI_ERR_USAGE;
	}
	return MUGAI_OK;
}

/* The recipients of a release: to, else rcpts; each checked. */
static mugai_status
q_release_rcpts(const struct mugai_qrelease *req, const char *const **v,
    size_t *n)
{
	size_t i;

	if (req->to != NULL && req->to[0] != '\0') {
		*v = &req->to;
		*n = 1;
	} else {
		*v = req->rcpts;
		*n = req->rcpts != NULL ? req->nrcpts : 0;
	}
	if (*n == 0) {
		mugai_qerr_set("a release needs a recipient");
		return MUGAI_ERR_USAGE;
	}
	for (i = 0; i < *n; i++)
		if (!mugai_qaddr_ok((*v)[i])) {
			mugai_qerr_set("bad recipient address \"%.200s\"",
			    (*v)[i] != NULL ? (*v)[i] : "");
			return MUGAI_ERR_USAGE;
		}
	if (req->part != NULL && req->parts != NULL) {
		mugai_qerr_set("give either one part or a list of parts");
		return MUGAI_ERR_USAGE;
	}
	return MUGAI_OK;
}

/* "to=a,b" and the part or parts, for the history. */
static void
q_release_detail(const struct mugai_qrelease *req, const char *const *to,
    size_t nto, int failed, char *buf, size_t len)
{
	size_t i, used;

	snprintf(buf, len, "to=");
	for (i = 0; i < nto; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i > 0 ? "," : "",
		    to[i]);
	}
	used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s%s%s%s%s",
	    req->part != NULL ? " part=" : "",
	    req->part != NULL ? req->part : "",
	    req->parts != NULL ? " parts=" : "",
	    req->parts != NULL ? req->parts : "", req->force ? " force" : "",
	    failed ? " failed" : "");
}

struct q_pick {
	unsigned long want;		/* report position wanted, from 1 */
	unsigned long at;
	char	*path;
};

static int
q_pick_part(const struct mugai_qpart *p, void *arg)
{
	struct q_pick *k = arg;

	if (++k->at != k->want)
		return 0;
	k->path = p->path != NULL ? strdup(p->path) : NULL;
	return 1;
}

/*
 * The parts list of a release as paths: "1.2" stays, N becomes the
 * path of the Nth part of r's report.  *v is freed with g_strfreev.
 */
static mugai_status
q_parts_paths(struct mugai_quarantine *q, const struct mugai_qrecord *r,
    const char *parts, char ***v, size_t *n)
{
	struct q_pick k;
	mugai_status rc;
	char *end;
	size_t i;

	*v = g_strsplit(parts, ",", 0);
	*n = g_strv_length(*v);
	for (i = 0; i < *n; i++) {
		g_strstrip((*v)[i]);
		if (strchr((*v)[i], '.') != NULL)
			continue;
		memset(&k, 0, sizeof(k));
		errno = 0;
		k.want = strtoul((*v)[i], &end, 10);
		if ((*v)[i][0] < '1' || (*v)[i][0] > '9' || *end != '\0' ||
		    errno != 0) {
			mugai_qerr_set("bad part \"%.80s\" in the parts list:"
			    " give report numbers (1, 2, ...) or part paths"
			    " (1.2)", (*v)[i]);
			return MUGAI_ERR_USAGE;
		}
		rc = q->be->report_parts(q->ctx, r->report_json, q_pick_part,
		    &k);
		if (rc != MUGAI_OK)
			return rc;
		if (k.path == NULL) {
			mugai_qerr_set("%s has no part number %lu in its report;"
			    " 'mugai quarantine show %s' lists them", r->id,
			    k.want, r->id);
			return MUGAI_ERR_NOTFOUND;
		}
		g_free((*v)[i]);
		(*v)[i] = g_strdup(k.path);
		free(k.path);
	}
	if (*n == 0) {
		mugai_qerr_set("an empty list of parts");
		return MUGAI_ERR_USAGE;
	}
	return MUGAI_OK;
}

/* Read the original (or build the part's message) and hand it over. */
static mugai_status
q_release_send(struct mugai_quarantine *q, const struct mugai_qrelease *req,
    const struct mugai_qrecord *r, const char *const *to, size_t nto)
{
	struct mugai_buf orig, part;
	const struct mugai_buf *msg;
	char sender[512], **keep = NULL;
	size_t nkeep;
	mugai_status rc;

	/* A file bigger than recorded is damaged: let the cap refuse it. */
	mugai_buf_init(&orig, r->size + 1);
	mugai_buf_init(&part, r->size * 2 + 65536);
	if ((rc = mugai_quarantine_read(q, r, &orig)) != MUGAI_OK)
		goto out;
	msg = &orig;
	if (req->part != NULL) {
		if ((rc = q_part_message(r, &orig, req, to[0], &part)) !=
		    MUGAI_OK)
			goto out;
		msg = &part;
	} else if (req->parts != NULL) {
		rc = q_parts_paths(q, r, req->parts, &keep, &nkeep);
		if (rc == MUGAI_OK)
			rc = mugai_qparts_message(orig.data, orig.len,
			    (const char *const *)keep, nkeep, r->id, &part);
		if (rc != MUGAI_OK)
			goto out;
		msg = &part;
	}
	q_bare_addr(r->sender, sender, sizeof(sender));
	rc = mugai_qsendmail(q->cfg->sendmail_path, sender, to, nto,
	    msg->data != NULL ? msg->data : "", msg->len);
out:
	g_strfreev(keep);
	mugai_buf_free(&orig);
	mugai_buf_free(&part);
	return rc;
}

mugai_status
mugai_quarantine_release(struct mugai_quarantine *q,
    const struct mugai_qrelease *req)
{
	struct mugai_qrecord *r = NULL;
	struct mugai_qaction a;
	char detail[2048], errsave[1024], was[16], *tolist, *prev;
	const char *extra[11], *back, *const *to;
	mugai_status rc, rc2;
	size_t nto, i;

	if ((rc = q_release_rcpts(req, &to, &nto)) != MUGAI_OK)
		return rc;
	if (req->reason == NULL || req->reason[0] == '\0') {
		mugai_qerr_set("a release needs a reason");
		return MUGAI_ERR_USAGE;
	}
	if ((rc = mugai_quarantine_get(q, req->id, &r)) != MUGAI_OK)
		return rc;
	if ((rc = q_release_check(req, r)) != MUGAI_OK)
		goto out;
	/* Claim it: from here no delete can take the file away. */
	rc = q->be->transition(q->ctx, r->id, Q_ST_HELD | Q_ST_RELEASED |
	    Q_ST_STALE, "releasing", NULL, was, sizeof(was));
	if (rc == MUGAI_ERR_STATE)
		q_state_err(r->id, was, "released");
	if (rc != MUGAI_OK)
		goto out;
	rc = q_release_send(q, req, r, to, nto);

	/* Record the attempt either way; keep the first error's text. */
	snprintf(errsave, sizeof(errsave), "%s", mugai_quarantine_error());
	q_release_detail(req, to, nto, rc != MUGAI_OK, detail,
	    sizeof(detail));
	a.id = r->id;
	a.time = time(NULL);
	a.actor = req->actor;
	a.action = rc == MUGAI_OK ? "release" : "release-failed";
	a.detail = detail;
	a.reason = req->reason;
	/* A failed release gives the message back as it was. */
	back = strcmp(was, "released") == 0 ? "released" : "held";
	rc2 = q->be->transition(q->ctx, r->id, Q_ST_RELEASING,
	    rc == MUGAI_OK ? "released" : back, &a, NULL, 0);
	tolist = g_strdup(to[0]);
	for (i = 1; i < nto; i++) {
		prev = tolist;
		tolist = g_strconcat(prev, ",", to[i], NULL);
		g_free(prev);
	}
	extra[0] = "to"; extra[1] = tolist;
	extra[2] = "part"; extra[3] = req->part;
	extra[4] = "parts"; extra[5] = req->parts;
	extra[6] = "force"; extra[7] = req->force ? "yes" : NULL;
	extra[8] = "result"; extra[9] = rc == MUGAI_OK ? "ok" : errsave;
	extra[10] = NULL;
	if (rc2 == MUGAI_OK)
		rc2 = q_audit(q, "release", req->actor, r->id, req->reason,
		    extra);
	g_free(tolist);
	if (rc != MUGAI_OK)
		mugai_qerr_set("%s", errsave);
	else if (rc2 != MUGAI_OK) {
		snprintf(errsave, sizeof(errsave), "%s",
		    mugai_quarantine_error());
		mugai_qerr_set("%s was released, but recording it failed: %s",
		    r->id, errsave);
		rc = rc2;
	}
out:
	mugai_qrecord_free(r);
	return rc;
}

/* ---- for qrequest.c --------------------------------------------------- */

const struct mugai_qbackend *
mugai_qbe(struct mugai_quarantine *q, void **ctx)
{
	*ctx = q->ctx;
	return q->be;
}

mugai_status
mugai_qaudit(struct mugai_quarantine *q, const char *action,
    const char *actor, const char *id, const char *reason,
    const char *const *extra)
{
	return q_audit(q, action, actor, id, reason, extra);
}

/* ---- delete, purge, verify -------------------------------------------- */

/*
 * Mark id deleted first (one compare-and-set: a release running now
 * keeps it), then unlink: a crash leaves an orphan, not a gap.
 */
static mugai_status
q_remove(struct mugai_quarantine *q, const char *id, const char *action,
    const char *actor, const char *reason)
{
	struct mugai_qaction a;
	char path[PATH_MAX], fan[3], was[16];
	mugai_status rc;
	int dfd;

	if (!q_id_valid(id)) {
		mugai_qerr_set("no message with id %.80s", id);
		return MUGAI_ERR_NOTFOUND;
	}
	a.id = id;
	a.time = time(NULL);
	a.actor = actor;
	a.action = action;
	a.detail = "";
	a.reason = reason != NULL ? reason : "";
	rc = q->be->transition(q->ctx, id, Q_ST_HELD | Q_ST_RELEASED |
	    Q_ST_STALE, "deleted", &a, was, sizeof(was));
	if (rc == MUGAI_ERR_STATE && strcmp(was, "deleted") == 0)
		mugai_qerr_set("the original of %s was already deleted (another"
		    " command got there first, or it was deleted earlier)", id);
	else if (rc == MUGAI_ERR_STATE)
		q_state_err(id, was, "deleted");
	if (rc != MUGAI_OK)
		return rc;
	if (q_blobs(q)) {
		if ((rc = q->be->blob_delete(q->ctx, id)) != MUGAI_OK)
			return rc;
		return q_audit(q, action, actor, id, a.reason, NULL);
	}
	q_path(q, id, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT) {
		q_syserr("marked deleted, but cannot remove", path, errno);
		return MUGAI_ERR_IO;
	}
	q_fanout(id, fan);
	if ((dfd = openat(q->dfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		fsync(dfd);
		close(dfd);
	}
	return q_audit(q, action, actor, id, a.reason, NULL);
}

mugai_status
mugai_quarantine_delete(struct mugai_quarantine *q, const char *id,
    const char *actor, const char *reason)
{
	return q_remove(q, id, "delete", actor, reason);
}

/* Rows collected before acting on them: callbacks may not re-enter. */
struct q_row {
	char	*id;
	char	*sha256;
	int	 deleted;
	int	 releasing;
	time_t	 changed;
};

struct q_rows {
	struct q_row *v;
	size_t	 n, cap;
	int	 skip_deleted;
	mugai_status rc;
};

static int
q_rows_add(const struct mugai_qrecord *r, void *arg)
{
	struct q_rows *rows = arg;
	struct q_row *v;
	size_t ncap;

	if (rows->skip_deleted && strcmp(r->status, "deleted") == 0)
		return 0;
	if (rows->n == rows->cap) {
		ncap = rows->cap ? rows->cap * 2 : 64;
		if ((v = realloc(rows->v, ncap * sizeof(*v))) == NULL)
			goto nomem;
		rows->v = v;
		rows->cap = ncap;
	}
	v = &rows->v[rows->n];
	v->id = strdup(r->id);
	v->sha256 = strdup(r->sha256);
	v->deleted = strcmp(r->status, "deleted") == 0;
	v->releasing = strcmp(r->status, "releasing") == 0;
	v->changed = r->changed;
	if (v->id == NULL || v->sha256 == NULL) {
		free(v->id);
		free(v->sha256);
		goto nomem;
	}
	rows->n++;
	return 0;
nomem:
	mugai_qerr_set("out of memory");
	rows->rc = MUGAI_ERR_NOMEM;
	return 1;
}

static void
q_rows_free(struct q_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++) {
		free(rows->v[i].id);
		free(rows->v[i].sha256);
	}
	free(rows->v);
}

static mugai_status
q_rows_collect(struct mugai_quarantine *q, const struct mugai_qfilter *f,
    int skip_deleted, struct q_rows *rows)
{
	mugai_status rc;

	memset(rows, 0, sizeof(*rows));
	rows->skip_deleted = skip_deleted;
	rc = mugai_quarantine_list(q, f, q_rows_add, rows);
	return rc != MUGAI_OK ? rc : rows->rc;
}

static int
q_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct q_row *)a)->id,
	    ((const struct q_row *)b)->id);
}

enum q_entry {
	Q_ENTRY_ORIGINAL,
	Q_ENTRY_TEMP,
	Q_ENTRY_STRAY
};

typedef mugai_status (*q_walk_fn)(enum q_entry kind, int dfd,
    const char *name, const char *path, const struct stat *st, void *arg);

static enum q_entry
q_classify(const char *fan, const char *name, const struct stat *st,
    char *id, size_t idlen)
{
	char want[3];
	size_t n = strlen(name);

	if (strncmp(name, Q_TMP_PREFIX, strlen(Q_TMP_PREFIX)) == 0)
		return Q_ENTRY_TEMP;
	if (!S_ISREG(st->st_mode) || n < 5 || n - 4 >= idlen ||
	    strcmp(name + n - 4, ".eml") != 0)
		return Q_ENTRY_STRAY;
	memcpy(id, name, n - 4);
	id[n - 4] = '\0';
	if (!q_id_valid(id))
		return Q_ENTRY_STRAY;
	q_fanout(id, want);
	return strcmp(want, fan) == 0 ? Q_ENTRY_ORIGINAL : Q_ENTRY_STRAY;
}

static mugai_status
q_walk_fan(struct mugai_quarantine *q, const char *fan, q_walk_fn fn,
    void *arg)
{
	char path[PATH_MAX], id[Q_ID_MAX + 1];
	struct dirent *de;
	struct stat st;
	mugai_status rc = MUGAI_OK;
	enum q_entry kind;
	DIR *d;
	int dfd;

	snprintf(path, sizeof(path), "%s/%s", q->cfg->quarantine_dir, fan);
	if ((dfd = openat(q->dfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || (d = fdopendir(dfd)) == NULL) {
		q_syserr("cannot read", path, errno);
		if (dfd != -1)
			close(dfd);
		return MUGAI_ERR_IO;
	}
	while (rc == MUGAI_OK && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s",
		    q->cfg->quarantine_dir, fan, de->d_name);
		kind = q_classify(fan, de->d_name, &st, id, sizeof(id));
		rc = fn(kind, dfd, de->d_name, path, &st, arg);
	}
	closedir(d);
	return rc;
}

/* Call fn for every file in the fan-out directories of the store. */
static mugai_status
q_walk(struct mugai_quarantine *q, q_walk_fn fn, void *arg)
{
	struct dirent *de;
	struct stat st;
	mugai_status rc = MUGAI_OK;
	DIR *d;
	int fd;

	/* A new open file: a dup() would share its offset with q->dfd. */
	if ((fd = openat(q->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(fd)) == NULL) {
		q_syserr("cannot read", q->cfg->quarantine_dir, errno);
		if (fd != -1)
			close(fd);
		return MUGAI_ERR_IO;
	}
	while (rc == MUGAI_OK && (de = readdir(d)) != NULL) {
		/* Only XX directories: the index lives next to them. */
		if (strlen(de->d_name) != 2 || !g_ascii_isxdigit(de->d_name[0]) ||
		    !g_ascii_isxdigit(de->d_name[1]) ||
		    fstatat(q->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		rc = q_walk_fan(q, de->d_name, fn, arg);
	}
	closedir(d);
	return rc;
}

static mugai_status
q_count_original(enum q_entry kind, int dfd, const char *name,
    const char *path, const struct stat *st, void *arg)
{
	(void)dfd; (void)name; (void)path; (void)st;
	if (kind == Q_ENTRY_ORIGINAL)
		(*(size_t *)arg)++;
	return MUGAI_OK;
}

/* How many originals are stored. */
static mugai_status
q_walk_any(struct mugai_quarantine *q, size_t *n)
{
	*n = 0;
	return q_walk(q, q_count_original, n);
}

struct q_originals {
	mugai_qoriginal_fn fn;
	void	*arg;
};

static mugai_status
q_original_cb(enum q_entry kind, int dfd, const char *name, const char *path,
    const struct stat *st, void *arg)
{
	struct q_originals *o = arg;
	char id[Q_ID_MAX + 1];
	size_t n;

	(void)dfd;
	if (kind != Q_ENTRY_ORIGINAL)
		return MUGAI_OK;
	n = strlen(name) - 4;
	memcpy(id, name, n);
	id[n] = '\0';
	return o->fn(id, path, st, o->arg);
}

mugai_status
mugai_qwalk_originals(struct mugai_quarantine *q, mugai_qoriginal_fn fn,
    void *arg)
{
	struct q_originals o;

	o.fn = fn;
	o.arg = arg;
	return q_walk(q, q_original_cb, &o);
}

/*
 * q_young - whether something stamped t is younger than grace seconds
 * at now, so that a store or release may still be in flight.  A grace
 * of 0 skips nothing: a file's time stamp can be a second ahead of
 * time() (seen on virtual machines, where Postfix warns "file system
 * clock is 1 seconds ahead"), and "now, no grace" must still see it.
 */
static int
q_young(time_t now, time_t t, unsigned grace)
{
	return grace > 0 && now - t < (time_t)grace;
}

struct q_purge {
	time_t	 now;
	unsigned grace;
};

static mugai_status
q_purge_temp(enum q_entry kind, int dfd, const char *name, const char *path,
    const struct stat *st, void *arg)
{
	struct q_purge *p = arg;

	if (kind != Q_ENTRY_TEMP || q_young(p->now, st->st_mtime, p->grace))
		return MUGAI_OK;
	if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT) {
		q_syserr("cannot remove", path, errno);
		return MUGAI_ERR_IO;
	}
	mugai_log(LOG_INFO, NULL, "quarantine: removed leftover %s", path);
	return MUGAI_OK;
}

#define Q_PURGE_BATCH	500

/*
 * Purge the messages of one status in batches of Q_PURGE_BATCH, each a
 * short list and then one short transition per message: no lock is held
 * across the batch, and a store or an admin meanwhile waits for at most
 * one of them.  A message purged leaves the status, so the next batch
 * starts afresh; one left alone (STATE) does too, or is counted in skip.
 */
static mugai_status
q_purge_status(struct mugai_quarantine *q, const char *status, time_t before,
    const char *reason, const char *actor, size_t *count)
{
	struct mugai_qfilter f;
	struct q_rows rows;
	mugai_status rc = MUGAI_OK;
	size_t i, skip = 0, done;

	memset(&f, 0, sizeof(f));
	f.before = before;
	f.status = status;
	do {
		f.limit = Q_PURGE_BATCH + skip;
		if ((rc = q_rows_collect(q, &f, 1, &rows)) != MUGAI_OK)
			break;
		done = 0;
		for (i = skip; i < rows.n; i++) {
			rc = q_remove(q, rows.v[i].id, "purge", actor, reason);
			/* Released or deleted meanwhile: not ours to purge. */
			if (rc == MUGAI_ERR_STATE) {
				rc = MUGAI_OK;
				if (strcmp(status, "releasing") == 0)
					skip++;
				continue;
			}
			if (rc != MUGAI_OK)
				break;
			(*count)++;
			done++;
		}
		i = rows.n;
		q_rows_free(&rows);
	} while (rc == MUGAI_OK && i >= f.limit && (done > 0 || skip > 0) &&
	    skip < i);
	return rc;
}

mugai_status
mugai_quarantine_purge(struct mugai_quarantine *q, time_t before,
    unsigned grace, const char *actor, size_t *count)
{
	static const char *const st[] = { "held", "released", "releasing" };
	struct q_purge p;
	mugai_status rc = MUGAI_OK;
	char reason[96], when[48];
	size_t i;

	*count = 0;
	/* before 0 would mean "no bound" to the filter: purge nothing. */
	if (before > 0) {
		q_iso8601(before, when, sizeof(when));
		snprintf(reason, sizeof(reason), "received before %s", when);
		for (i = 0; i < 3 && rc == MUGAI_OK; i++)
			rc = q_purge_status(q, st[i], before, reason, actor,
			    count);
		if (rc != MUGAI_OK)
			return rc;
	}
	if (q_blobs(q))
		return MUGAI_OK;	/* no temporary files */
	p.now = time(NULL);
	p.grace = grace;
	return q_walk(q, q_purge_temp, &p);
}

struct q_verify {
	struct q_rows *rows;
	time_t	 now;
	unsigned grace;
	mugai_qproblem_fn fn;
	void	*arg;
	size_t	 n;
};

static void
q_problem(struct q_verify *v, enum mugai_qproblem_kind kind, const char *id,
    const char *path, const char *detail)
{
	struct mugai_qproblem p;

	p.kind = kind;
	p.id = id;
	p.path = path;
	p.detail = detail;
	v->n++;
	if (v->fn != NULL)
		v->fn(&p, v->arg);
}

static mugai_status
q_verify_file(enum q_entry kind, int dfd, const char *name, const char *path,
    const struct stat *st, void *arg)
{
	struct q_verify *v = arg;
	struct q_row key, *row;
	char id[Q_ID_MAX + 1];
	size_t n;

	if (kind != Q_ENTRY_STRAY && q_young(v->now, st->st_mtime, v->grace))
		return MUGAI_OK;	/* a store may be in flight */
	if (kind == Q_ENTRY_TEMP) {
		q_problem(v, MUGAI_QPROB_TEMP, NULL, path,
		    "left by an interrupted store; 'purge' removes it");
		return MUGAI_OK;
	}
	if (kind == Q_ENTRY_STRAY) {
		q_problem(v, MUGAI_QPROB_STRAY, NULL, path,
		    "not a file mugai writes here");
		return MUGAI_OK;
	}
	n = strlen(name) - 4;
	memcpy(id, name, n);
	id[n] = '\0';
	key.id = id;
	row = v->rows->n == 0 ? NULL : bsearch(&key, v->rows->v, v->rows->n,
	    sizeof(*row), q_row_cmp);
	if (row == NULL)
		q_problem(v, MUGAI_QPROB_ORPHAN, id, path,
		    "no index row (a store was interrupted)");
	else if (row->deleted)
		q_problem(v, MUGAI_QPROB_ORPHAN, id, path,
		    "index says deleted (a delete was interrupted)");
	return MUGAI_OK;
}

/* A release that claimed the message and never finished. */
static void
q_verify_stuck(struct mugai_quarantine *q, struct q_verify *v,
    const struct q_row *row)
{
	char path[PATH_MAX], when[48], detail[512];

	if (!row->releasing || q_young(v->now, row->changed, v->grace))
		return;
	q_where(q, row->id, path, sizeof(path));
	q_iso8601(row->changed, when, sizeof(when));
	snprintf(detail, sizeof(detail), "a release began at %s and never"
	    " finished (interrupted?); check the mail log for whether it went"
	    " out; %d minutes after it began, release or delete may be run"
	    " on it again", when, Q_STALE_RELEASE / 60);
	q_problem(v, MUGAI_QPROB_STUCK, row->id, path, detail);
}

/* Each row's original read back from the backend and hashed. */
static mugai_status
q_verify_blob_rows(struct mugai_quarantine *q, struct q_verify *v)
{
	char path[PATH_MAX], hex[65], detail[256];
	mugai_status rc;
	size_t i;

	for (i = 0; i < v->rows->n; i++) {
		if (v->rows->v[i].deleted)
			continue;
		q_verify_stuck(q, v, &v->rows->v[i]);
		q_where(q, v->rows->v[i].id, path, sizeof(path));
		rc = q_blob_hash(q, v->rows->v[i].id, NULL, hex);
		if (rc == MUGAI_ERR_NOTFOUND)
			q_problem(v, MUGAI_QPROB_MISSING, v->rows->v[i].id, path,
			    "no stored original");
		else if (rc == MUGAI_ERR_IO) {
			/* Stored, but not all of it can be read back. */
			snprintf(detail, sizeof(detail), "%s",
			    mugai_quarantine_error());
			q_problem(v, MUGAI_QPROB_CHECKSUM, v->rows->v[i].id,
			    path, detail);
		} else if (rc != MUGAI_OK)
			return rc;
		else if (strcmp(hex, v->rows->v[i].sha256) != 0) {
			snprintf(detail, sizeof(detail), "index has %s, stored"
			    " original has %s", v->rows->v[i].sha256, hex);
			q_problem(v, MUGAI_QPROB_CHECKSUM, v->rows->v[i].id,
			    path, detail);
		}
	}
	return MUGAI_OK;
}

struct q_verify_blob {
	struct mugai_quarantine *q;
	struct q_verify *v;
};

/* An original the backend keeps with no row, or a deleted one. */
static mugai_status
q_verify_blob(const char *id, size_t size, time_t stored, void *arg)
{
	struct q_verify_blob *b = arg;
	struct q_row key, *row;
	char path[PATH_MAX];

	(void)size;
	if (q_young(b->v->now, stored, b->v->grace))
		return MUGAI_OK;	/* a store may be in flight */
	key.id = (char *)id;
	row = b->v->rows->n == 0 ? NULL : bsearch(&key, b->v->rows->v,
	    b->v->rows->n, sizeof(*row), q_row_cmp);
	q_where(b->q, id, path, sizeof(path));
	if (row == NULL)
		q_problem(b->v, MUGAI_QPROB_ORPHAN, id, path,
		    "no index row (a store was interrupted)");
	else if (row->deleted)
		q_problem(b->v, MUGAI_QPROB_ORPHAN, id, path,
		    "index says deleted (a delete was interrupted)");
	return MUGAI_OK;
}

static void
q_verify_rows(struct mugai_quarantine *q, struct q_verify *v)
{
	char path[PATH_MAX], hex[65], detail[256];
	size_t i;

	for (i = 0; i < v->rows->n; i++) {
		if (v->rows->v[i].deleted)
			continue;
		q_verify_stuck(q, v, &v->rows->v[i]);
		q_path(q, v->rows->v[i].id, path, sizeof(path));
		if (q_hash_file(path, hex) == -1) {
			snprintf(detail, sizeof(detail), "%s", strerror(errno));
			q_problem(v, MUGAI_QPROB_MISSING, v->rows->v[i].id, path,
			    detail);
		} else if (strcmp(hex, v->rows->v[i].sha256) != 0) {
			snprintf(detail, sizeof(detail), "index has %s, file has"
			    " %s", v->rows->v[i].sha256, hex);
			q_problem(v, MUGAI_QPROB_CHECKSUM, v->rows->v[i].id,
			    path, detail);
		}
	}
}

static void
q_index_problem(struct mugai_quarantine *q, struct q_verify *v,
    const char *line)
{
	char buf[PATH_MAX], detail[1024];

	if (q_blobs(q))
		snprintf(detail, sizeof(detail), "%s; restore that original"
		    " from a backup of the database, or delete it", line);
	else
		snprintf(detail, sizeof(detail), "%s; stop mugai-milter and"
		    " run 'mugai quarantine rebuild-index'", line);
	q_problem(v, MUGAI_QPROB_INDEX, NULL, q_dbname(q, buf, sizeof(buf)),
	    detail);
}

struct q_index_ctx {
	struct mugai_quarantine *q;
	struct q_verify *v;
};

static void
q_index_line(const char *line, void *arg)
{
	struct q_index_ctx *c = arg;

	q_index_problem(c->q, c->v, line);
}

/* SQLite's integrity_check, each finding a problem of kind INDEX. */
static mugai_status
q_verify_index(struct mugai_quarantine *q, struct q_verify *v)
{
	struct q_index_ctx c;
	size_t n = 0;

	c.q = q;
	c.v = v;
	return q->be->check(q->ctx, 0, q_index_line, &c, &n);
}

struct q_first {
	char	 line[256];
};

static void
q_first_line(const char *line, void *arg)
{
	struct q_first *f = arg;

	if (f->line[0] == '\0')
		snprintf(f->line, sizeof(f->line), "%s", line);
}

mugai_status
mugai_quarantine_verify(struct mugai_quarantine *q, unsigned grace,
    mugai_qproblem_fn fn, void *arg, size_t *nproblems)
{
	struct q_rows rows;
	struct q_verify v;
	mugai_status rc;

	*nproblems = 0;
	v.rows = &rows;
	v.now = time(NULL);
	v.grace = grace;
	v.fn = fn;
	v.arg = arg;
	v.n = 0;
	memset(&rows, 0, sizeof(rows));
	if ((rc = q_verify_index(q, &v)) != MUGAI_OK)
		goto out;
	if ((rc = q_rows_collect(q, NULL, 0, &rows)) != MUGAI_OK) {
		if (rc != MUGAI_ERR_IO)
			goto out;
		/* Too damaged to list: that is the finding, not a failure. */
		q_index_problem(q, &v, mugai_quarantine_error());
		rc = MUGAI_OK;
		goto out;
	}
	if (rows.n > 0)
		qsort(rows.v, rows.n, sizeof(*rows.v), q_row_cmp);
	if (q_blobs(q)) {
		struct q_verify_blob vb;

		vb.q = q;
		vb.v = &v;
		if ((rc = q_verify_blob_rows(q, &v)) == MUGAI_OK)
			rc = q->be->blob_walk(q->ctx, q_verify_blob, &vb);
		goto out;
	}
	q_verify_rows(q, &v);
	rc = q_walk(q, q_verify_file, &v);
out:
	*nproblems = v.n;
	q_rows_free(&rows);
	return rc;
}

mugai_status
mugai_quarantine_check_index(struct mugai_quarantine *q, char *err,
    size_t errlen)
{
	struct q_first first;
	char buf[PATH_MAX];
	mugai_status rc;
	size_t n = 0;

	first.line[0] = '\0';
	rc = q->be->check(q->ctx, 1, q_first_line, &first, &n);
	if (rc != MUGAI_OK) {
		snprintf(err, errlen, "%s", mugai_quarantine_error());
		return rc;
	}
	if (n == 0)
		return MUGAI_OK;
	snprintf(err, errlen, "quarantine index %s is damaged (%s%s); stop"
	    " mugai-milter, run 'mugai quarantine verify' and then 'mugai"
	    " quarantine rebuild-index' (it rebuilds the index from the stored"
	    " originals and the audit log, keeping the damaged file)",
	    q_dbname(q, buf, sizeof(buf)), first.line,
	    n > 1 ? ", ..." : "");
	mugai_qerr_set("%s", err);
	return MUGAI_ERR_IO;
}

const char *
mugai_qproblem_str(enum mugai_qproblem_kind kind)
{
	switch (kind) {
	case MUGAI_QPROB_MISSING:	return "missing";
	case MUGAI_QPROB_CHECKSUM:	return "checksum";
	case MUGAI_QPROB_ORPHAN:	return "orphan";
	case MUGAI_QPROB_TEMP:		return "temp";
	case MUGAI_QPROB_STRAY:		return "stray";
	case MUGAI_QPROB_INDEX:		return "index";
	case MUGAI_QPROB_STUCK:		return "stuck";
	}
	return "unknown";
}
