/* quarantine_sqlite.c - the quarantine index in SQLite (WAL mode). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mugai/base/buf.h"
#include "mugai/base/dirs.h"
#include "mugai/base/json.h"
#include "mugai/quarantine/quarantine.h"
#include "quarantine_backend.h"

/*
 * One connection per handle, serialised by a mutex: milter threads only
 * hold it for one short transaction (the file is written before), and
 * WAL lets the admin CLI read and write from its own process meanwhile.
 *
 * Waiting is bounded per call, not per wait: each call takes a deadline
 * of timeout seconds from its start, and both the wait for the mutex
 * (other threads' statements) and SQLite's wait for another process's
 * lock (our busy handler) stop at that deadline.  With SQLite's plain
 * busy timeout each thread queued behind the mutex would add a whole
 * timeout for the next (10 s, 20 s, 30 s... past the MTA's patience).
 */
struct qsql {
	sqlite3	*db;
	pthread_mutex_t lock;
	struct timespec deadline; /* CLOCK_MONOTONIC, of the call holding lock */
	char	*dir;		/* quarantine_dir, for absolute paths */
	char	*path;		/* the database file, for messages */
	unsigned timeout;	/* seconds, for messages */
	sqlite3_stmt *insert;	/* qsql_insert's, prepared once, under lock */
	/* Group commit (see qsql_insert): rows waiting for a transaction. */
	pthread_mutex_t gmu;	/* guards the three below */
	pthread_cond_t gdone;	/* a group was committed or failed */
	struct qsql_row *queue, **qtail;
	int	 leading;	/* a thread is writing a group */
};

/* One row of qsql_insert waiting for, or in, a group transaction. */
struct qsql_row {
	const struct mugai_qentry *e;
	const char *sha256, *relpath, *rcpt;
	struct timespec deadline;	/* of this call, CLOCK_MONOTONIC */
	mugai_status rc;		/* set by the group's leader */
	int	 done;
	char	 err[1024];		/* the failure, for this thread */
	struct qsql_row *next;
};

#define QSQL_VERSION	3
#define QSQL_MAX_JSON	(1024 * 1024)

/* The messages table's columns, in version 2 and in its upgrade. */
#define QSQL_MESSAGES_COLUMNS \
	" id TEXT PRIMARY KEY NOT NULL," \
	" received INTEGER NOT NULL," \
	" queue_id TEXT NOT NULL DEFAULT ''," \
	" client_addr TEXT NOT NULL DEFAULT ''," \
	" sender TEXT NOT NULL DEFAULT ''," \
	" recipients TEXT NOT NULL DEFAULT '[]'," \
	" subject TEXT NOT NULL DEFAULT ''," \
	" size INTEGER NOT NULL," \
	" sha256 TEXT NOT NULL," \
	" verdict TEXT NOT NULL DEFAULT ''," \
	" reasons TEXT NOT NULL DEFAULT ''," \
	" report_json TEXT NOT NULL DEFAULT ''," \
	" notice TEXT NOT NULL DEFAULT ''," \
	" status TEXT NOT NULL" \
	"  CHECK (status IN ('held', 'releasing', 'released', 'deleted'))," \
	" path TEXT NOT NULL," \
	" changed INTEGER NOT NULL DEFAULT 0);"

/* Version 2.  A newer mugai adds "if version < N" steps after it. */
static const char qsql_schema_sql[] =
	"CREATE TABLE messages ("
	QSQL_MESSAGES_COLUMNS
	"CREATE INDEX messages_received ON messages(received);"
	"CREATE TABLE actions ("
	" id TEXT NOT NULL REFERENCES messages(id),"
	" time INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" detail TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX actions_id ON actions(id);"
	"PRAGMA user_version = 2;";

/*
 * Version 1 to 2: the state "releasing" and the time of the last state
 * change.  SQLite cannot alter a CHECK, so the table is copied (with
 * foreign keys off, which the caller sees to).
 */
static const char qsql_v2_sql[] =
	"CREATE TABLE messages_v2 ("
	QSQL_MESSAGES_COLUMNS
	"INSERT INTO messages_v2 SELECT id, received, queue_id, client_addr,"
	" sender, recipients, subject, size, sha256, verdict, reasons,"
	" report_json, notice, status, path, received FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v2 RENAME TO messages;"
	"CREATE INDEX messages_received ON messages(received);"
	"PRAGMA user_version = 2;";

/*
 * Version 2 to 3: release requests (mugai/quarantine/request.h).  Only a
 * new table, so an existing index keeps every row as it is.
 */
static const char qsql_v3_sql[] =
	"CREATE TABLE IF NOT EXISTS requests ("
	" reqid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL REFERENCES messages(id),"
	" requested INTEGER NOT NULL,"
	" requester TEXT NOT NULL,"
	" notify TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL,"
	" state TEXT NOT NULL"
	"  CHECK (state IN ('pending', 'approving', 'approved', 'refused')),"
	" decided INTEGER NOT NULL DEFAULT 0,"
	" decider TEXT NOT NULL DEFAULT '',"
	" decision TEXT NOT NULL DEFAULT '',"
	" release_to TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS requests_id ON requests(id);"
	"CREATE INDEX IF NOT EXISTS requests_state ON requests(state);"
	"PRAGMA user_version = 3;";

/* Columns of a record, in the order qsql_record() reads them. */
#define QSQL_COLS \
	"id, received, queue_id, client_addr, sender," \
	" CASE WHEN json_valid(recipients) THEN recipients ELSE '[]' END," \
	" subject, size, sha256, verdict, reasons, status, path, changed"

/* ---- bounded waiting ------------------------------------------------- */

/* The group commit's condition: its waits count on the deadlines' clock. */
static void
qsql_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static void
qsql_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* Milliseconds from now to the deadline; <= 0 when it has passed. */
static long
qsql_left_ms(const struct qsql *s)
{
	struct timespec now;

	qsql_now(&now);
	return (long)(s->deadline.tv_sec - now.tv_sec) * 1000 +
	    (s->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * SQLite's busy handler: poll briefly (a released lock is taken within
 * milliseconds) until this call's deadline, then give up.
 */
static int
qsql_busy(void *arg, int count)
{
	struct qsql *s = arg;
	struct timespec ts;
	long left = qsql_left_ms(s), ms;

	if (left <= 0)
		return 0;
	ms = count < 10 ? 1 : count < 50 ? 5 : 20;
	if (ms > left)
		ms = left;
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
	return 1;
}

/*
 * Take the handle for one call: the deadline starts now, and the wait
 * for other threads of this process counts against it.
 */
static mugai_status
qsql_waited(struct qsql *s, int r, const char *what)
{
	mugai_qerr_set("quarantine index %s: waited %us for other"
	    " messages' index writes while %s; retry, or raise"
	    " quarantine_busy_timeout", s->path, s->timeout, what);
	return r == ETIMEDOUT ? MUGAI_ERR_LIMIT : MUGAI_ERR_INTERNAL;
}

/* Take the handle until the deadline dl, which then bounds SQLite too. */
static mugai_status
qsql_lock_until(struct qsql *s, const struct timespec *dl, const char *what)
{
	int r;

	r = pthread_mutex_clocklock(&s->lock, CLOCK_MONOTONIC, dl);
	if (r != 0)
		return qsql_waited(s, r, what);
	s->deadline = *dl;
	return MUGAI_OK;
}

static mugai_status
qsql_lock(struct qsql *s, const char *what)
{
	struct timespec dl;

	qsql_now(&dl);
	dl.tv_sec += (time_t)s->timeout;
	return qsql_lock_until(s, &dl, what);
}

static void
qsql_unlock(struct qsql *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Turn an SQLite failure into a status and this thread's message. */
static mugai_status
qsql_fail(struct qsql *s, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		mugai_qerr_set("quarantine index %s stayed locked for %us while"
		    " %s: another process is using it; retry, or raise"
		    " quarantine_busy_timeout", s->path, s->timeout, what);
		return MUGAI_ERR_LIMIT;
	case SQLITE_CONSTRAINT:
		mugai_qerr_set("quarantine index %s: %s: %s", s->path, what,
		    sqlite3_errmsg(s->db));
		return MUGAI_ERR_USAGE;
	case SQLITE_NOMEM:
		mugai_qerr_set("quarantine index: out of memory");
		return MUGAI_ERR_NOMEM;
	case SQLITE_NOTADB:
		mugai_qerr_set("quarantine index %s is not an SQLite database"
		    " (overwritten or damaged beyond reading); stop mugai-milter"
		    " and run 'mugai quarantine rebuild-index' (it rebuilds the"
		    " index from the stored originals and the audit log, keeping"
		    " this file)", s->path);
		return MUGAI_ERR_IO;
	case SQLITE_CORRUPT:
		mugai_qerr_set("quarantine index %s is damaged (%s while %s);"
		    " run 'mugai quarantine verify', then stop mugai-milter and"
		    " run 'mugai quarantine rebuild-index' (it rebuilds the index"
		    " from the stored originals and the audit log)", s->path,
		    sqlite3_errmsg(s->db), what);
		return MUGAI_ERR_IO;
	case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_READONLY:
	case SQLITE_CANTOPEN: case SQLITE_PERM:
		mugai_qerr_set("quarantine index %s: %s: %s", s->path, what,
		    sqlite3_errmsg(s->db));
		return MUGAI_ERR_IO;
	default:
		mugai_qerr_set("quarantine index %s: %s: %s", s->path, what,
		    sqlite3_errmsg(s->db));
		return MUGAI_ERR_INTERNAL;
	}
}

static mugai_status
qsql_exec(struct qsql *s, const char *sql, const char *what)
{
	int rc;

	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? MUGAI_OK : qsql_fail(s, rc, what);
}

static mugai_status
qsql_prepare(struct qsql *s, const char *sql, sqlite3_stmt **st,
    const char *what)
{
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? MUGAI_OK : qsql_fail(s, rc, what);
}

/* Run a statement that returns no rows. */
static mugai_status
qsql_step_done(struct qsql *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? MUGAI_OK : qsql_fail(s, rc, what);
}

static void
qsql_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
}

static void
qsql_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static mugai_status
qsql_user_version(struct qsql *s, int *version)
{
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int r;

	rc = qsql_prepare(s, "PRAGMA user_version", &st, "reading its version");
	if (rc != MUGAI_OK)
		return rc;
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else
		rc = qsql_fail(s, r, "reading its version");
	sqlite3_finalize(st);
	return rc;
}

/*
 * Create or upgrade the schema once: two processes opening a new index
 * race here, so the version is read again under the write lock.
 */
static mugai_status
qsql_schema_step(struct qsql *s, int *version)
{
	mugai_status rc;

	rc = qsql_exec(s, "BEGIN IMMEDIATE", "creating its tables");
	if (rc != MUGAI_OK)
		return rc;
	rc = qsql_user_version(s, version);
	if (rc == MUGAI_OK && *version == 0)
		rc = qsql_exec(s, qsql_schema_sql, "creating its tables");
	else if (rc == MUGAI_OK && *version == 1)
		rc = qsql_exec(s, qsql_v2_sql, "upgrading it to version 2");
	if (rc == MUGAI_OK && *version < 3)
		rc = qsql_exec(s, qsql_v3_sql, "upgrading it to version 3");
	if (rc == MUGAI_OK && *version < QSQL_VERSION)
		rc = qsql_exec(s, "PRAGMA foreign_key_check", "upgrading it");
	if (rc == MUGAI_OK)
		rc = qsql_exec(s, "COMMIT", "creating its tables");
	if (rc != MUGAI_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (*version < QSQL_VERSION)
		*version = QSQL_VERSION;
	return MUGAI_OK;
}

static mugai_status
qsql_schema(struct qsql *s, char *err, size_t errlen)
{
	mugai_status rc;
	int version = 0;

	if ((rc = qsql_user_version(s, &version)) != MUGAI_OK)
		goto out;
	if (version < QSQL_VERSION) {
		/* Copying a table that others reference needs them off. */
		rc = qsql_exec(s, "PRAGMA foreign_keys = OFF", "upgrading it");
		if (rc == MUGAI_OK)
			rc = qsql_schema_step(s, &version);
		if (rc == MUGAI_OK)
			rc = qsql_exec(s, "PRAGMA foreign_keys = ON",
			    "upgrading it");
		if (rc != MUGAI_OK)
			goto out;
	}
	if (version > QSQL_VERSION) {
		mugai_qerr_set("quarantine index %s has schema version %d, newer"
		    " than this mugai understands (%d); upgrade mugai", s->path,
		    version, QSQL_VERSION);
		rc = MUGAI_ERR_CONFIG;
	}
out:
	if (rc != MUGAI_OK)
		snprintf(err, errlen, "%s", mugai_quarantine_error());
	return rc;
}

static void
qsql_close(void *ctx)
{
	struct qsql *s = ctx;

	if (s == NULL)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->gmu);
	pthread_cond_destroy(&s->gdone);
	free(s->dir);
	free(s->path);
	free(s);
}

/*
 * Create the file 0600 ourselves: SQLite gives the -wal and -shm files
 * the mode of the database, so none of them is ever world readable.
 * When root creates it for run_user, the file (and the -wal and -shm
 * files, which SQLite gives the owner of the database) is run_user's.
 */
static mugai_status
qsql_create_file(const struct mugai_config *cfg, const char *path, char *err,
    size_t errlen)
{
	char dir[PATH_MAX], owner[256], *slash;
	uid_t uid;
	gid_t gid;
	int fd, saved;

	if (mugai_qowner(cfg, &uid, &gid) != MUGAI_OK) {
		snprintf(err, errlen, "%s", mugai_quarantine_error());
		errno = EINVAL;
		return MUGAI_ERR_CONFIG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mugai_mkdirs(dir, uid, gid) == -1)
			goto fail;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd != -1 && fchown(fd, uid, gid) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		goto fail;
	}
	if (fd == -1 && errno == EEXIST)
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		goto fail;
	close(fd);
	return MUGAI_OK;
fail:
	saved = errno;
	owner[0] = '\0';
	if (saved == EACCES || saved == EPERM)
		mugai_owner_hint(path, owner, sizeof(owner));
	snprintf(err, errlen, "cannot open quarantine index %s: %s%s; run as"
	    " the user that owns it (mugai-milter's run_user), or give the"
	    " files to that user (chown -R), or fix quarantine_db", path,
	    strerror(saved), owner);
	mugai_qerr_set("%s", err);
	errno = saved;
	return MUGAI_ERR_IO;
}

static mugai_status
qsql_open(const struct mugai_config *cfg, const char *path, void **ctxp,
    char *err, size_t errlen)
{
	char dbbuf[PATH_MAX];
	const char *dbpath;
	struct qsql *s;
	mugai_status rc;
	int r;

	*ctxp = NULL;
	dbpath = path != NULL ? path :
	    mugai_config_quarantine_db(cfg, dbbuf, sizeof(dbbuf));
	if ((rc = qsql_create_file(cfg, dbpath, err, errlen)) != MUGAI_OK)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->gmu, NULL);
	qsql_cond_init(&s->gdone);
	s->qtail = &s->queue;
	s->timeout = cfg->quarantine_busy_timeout;
	if ((s->dir = strdup(cfg->quarantine_dir)) == NULL ||
	    (s->path = strdup(dbpath)) == NULL) {
		qsql_close(s);
		goto nomem;
	}
	r = sqlite3_open_v2(dbpath, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (r != SQLITE_OK) {
		snprintf(err, errlen, "cannot open quarantine index %s: %s",
		    dbpath, s->db != NULL ? sqlite3_errmsg(s->db) :
		    sqlite3_errstr(r));
		mugai_qerr_set("%s", err);
		qsql_close(s);
		return MUGAI_ERR_IO;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, qsql_busy, s);
	/* Opening waits like any other call, within one timeout. */
	qsql_now(&s->deadline);
	s->deadline.tv_sec += (time_t)s->timeout;
	/* FULL: a row the MTA was told about survives a power cut. */
	rc = qsql_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    " PRAGMA foreign_keys = ON", "setting it up");
	if (rc != MUGAI_OK)
		snprintf(err, errlen, "%s", mugai_quarantine_error());
	else
		rc = qsql_schema(s, err, errlen);
	if (rc != MUGAI_OK) {
		qsql_close(s);
		return rc;
	}
	*ctxp = s;
	return MUGAI_OK;
nomem:
	snprintf(err, errlen, "out of memory");
	return MUGAI_ERR_NOMEM;
}

static mugai_status
qsql_recipients_json(const struct mugai_qentry *e, struct mugai_buf *b)
{
	mugai_status rc;
	size_t i;

	if ((rc = mugai_buf_putc(b, '[')) != MUGAI_OK)
		return rc;
	for (i = 0; i < e->nrecipients; i++) {
		if (i > 0 && (rc = mugai_buf_putc(b, ',')) != MUGAI_OK)
			return rc;
		if ((rc = mugai_json_str(b, e->recipients[i] != NULL ?
		    e->recipients[i] : "")) != MUGAI_OK)
			return rc;
	}
	return mugai_buf_putc(b, ']');
}

/*
 * Group commit.  With synchronous=FULL every transaction syncs the WAL,
 * which cost a milter thread as much CPU as the fsync of the original
 * itself (about 0.35 ms a message on the 2-core test VM).  Threads that
 * add rows while another thread writes its group queue up; when it is
 * done, the first of them to run (the leader) takes every queued row,
 * writes them all in one transaction, one sync, and hands each waiter
 * its own outcome.  No caller returns before the transaction holding its
 * row has committed, so a row the MTA hears about is as durable as one
 * committed alone.  A row that breaks a constraint (an id stored twice)
 * fails alone; any other failure, or a failed COMMIT, rolls the group
 * back and fails every row in it (the store then removes their files).
 * A lone row is written as before, without BEGIN and COMMIT.
 * Waiting stays bounded per call: a row still queued at its deadline
 * leaves the queue and fails; a leader holds the handle and SQLite's
 * busy wait only until the earliest deadline of its group.
 */
/* Take row out of the queue (under gmu); 0 if a leader has it. */
static int
qsql_unqueue(struct qsql *s, struct qsql_row *row)
{
	struct qsql_row **pp;

	for (pp = &s->queue; *pp != NULL; pp = &(*pp)->next) {
		if (*pp != row)
			continue;
		*pp = row->next;
		if (s->qtail == &row->next)
			s->qtail = pp;
		return 1;
	}
	return 0;
}

/* Bind and run the prepared INSERT for one row; *constraint if that. */
static mugai_status
qsql_insert_row(struct qsql *s, const struct qsql_row *row, int *constraint)
{
	const struct mugai_qentry *e = row->e;
	sqlite3_stmt *st = s->insert;
	mugai_status rc = MUGAI_OK;
	int r;

	qsql_bind_text(st, 1, e->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->received);
	qsql_bind_text(st, 3, e->queue_id);
	qsql_bind_text(st, 4, e->client_addr);
	qsql_bind_text(st, 5, e->sender);
	qsql_bind_text(st, 6, row->rcpt);
	qsql_bind_text(st, 7, e->subject);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)e->size);
	qsql_bind_text(st, 9, row->sha256);
	qsql_bind_text(st, 10, e->verdict);
	qsql_bind_text(st, 11, e->reasons);
	qsql_bind_text(st, 12, e->report_json);
	qsql_bind_text(st, 13, e->notice);
	qsql_bind_text(st, 14, row->relpath);
	r = sqlite3_step(st);
	*constraint = (r & 0xff) == SQLITE_CONSTRAINT;
	if (r != SQLITE_DONE)
		rc = qsql_fail(s, r, "adding a message");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* Give every row of the group that has no outcome yet rc and this
 * thread's error message. */
static void
qsql_group_fail(struct qsql_row *group, mugai_status rc)
{
	struct qsql_row *r;

	for (r = group; r != NULL; r = r->next)
		if (r->rc == MUGAI_OK) {
			r->rc = rc;
			snprintf(r->err, sizeof(r->err), "%s",
			    mugai_quarantine_error());
		}
}

/* One transaction for the rows of group, under the handle's lock. */
static void
qsql_group_write(struct qsql *s, struct qsql_row *group, int grouped)
{
	struct qsql_row *r;
	mugai_status rc;
	int err, constraint;

	if (grouped && (rc = qsql_exec(s, "BEGIN IMMEDIATE",
	    "adding messages")) != MUGAI_OK)
		goto fail;
	if (!grouped && (err = mugai_qfault("commit")) != 0) {
		mugai_qerr_set("%s: injected failure at commit: %s",
		    group->e->id, strerror(err));
		rc = MUGAI_ERR_IO;
		goto fail;
	}
	for (r = group; r != NULL; r = r->next) {
		rc = qsql_insert_row(s, r, &constraint);
		if (rc == MUGAI_OK)
			continue;
		/* An id stored twice fails alone, if the group lives on. */
		if (!grouped || !constraint || sqlite3_get_autocommit(s->db))
			goto fail;
		r->rc = rc;
		snprintf(r->err, sizeof(r->err), "%s",
		    mugai_quarantine_error());
	}
	if (!grouped)
		return;
	if ((err = mugai_qfault("commit")) != 0) {
		mugai_qerr_set("quarantine index %s: injected failure at"
		    " commit: %s", s->path, strerror(err));
		rc = MUGAI_ERR_IO;
		goto fail;
	}
	if ((rc = qsql_exec(s, "COMMIT", "adding messages")) == MUGAI_OK)
		return;
fail:
	if (grouped && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	qsql_group_fail(group, rc);
}

/* As leader: write every row queued now, then wake their threads. */
static void
qsql_group_lead(struct qsql *s)
{
	static const char sql[] =
	    "INSERT INTO messages (id, received, queue_id, client_addr,"
	    " sender, recipients, subject, size, sha256, verdict, reasons,"
	    " report_json, notice, status, path, changed) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " 'held', ?14, ?2)";
	struct qsql_row *group, *r;
	struct timespec dl;
	mugai_status rc;

	group = s->queue;
	s->queue = NULL;
	s->qtail = &s->queue;
	s->leading = 1;
	pthread_mutex_unlock(&s->gmu);
	dl = group->deadline;
	for (r = group->next; r != NULL; r = r->next)
		if (r->deadline.tv_sec < dl.tv_sec ||
		    (r->deadline.tv_sec == dl.tv_sec &&
		    r->deadline.tv_nsec < dl.tv_nsec))
			dl = r->deadline;
	if ((rc = qsql_lock_until(s, &dl, "adding a message")) != MUGAI_OK) {
		qsql_group_fail(group, rc);
		goto done;
	}
	/* One statement for every message: parsing and planning the INSERT
	 * each time was a sixth of the insert's CPU time in the milter. */
	if (s->insert == NULL && (rc = qsql_prepare(s, sql, &s->insert,
	    "adding a message")) != MUGAI_OK)
		qsql_group_fail(group, rc);
	else
		qsql_group_write(s, group, group->next != NULL);
	qsql_unlock(s);
done:
	pthread_mutex_lock(&s->gmu);
	for (r = group; r != NULL; r = r->next)
		r->done = 1;
	s->leading = 0;
	pthread_cond_broadcast(&s->gdone);
}

static mugai_status
qsql_insert(void *ctx, const struct mugai_qentry *e, const char *sha256,
    const char *relpath)
{
	struct qsql *s = ctx;
	struct qsql_row row;
	struct mugai_buf rcpt;
	mugai_status rc;
	int r = 0;

	mugai_buf_init(&rcpt, QSQL_MAX_JSON);
	if ((rc = qsql_recipients_json(e, &rcpt)) != MUGAI_OK) {
		mugai_qerr_set("%s: recipient list too long", e->id);
		mugai_buf_free(&rcpt);
		return rc;
	}
	memset(&row, 0, sizeof(row));
	row.e = e;
	row.sha256 = sha256;
	row.relpath = relpath;
	row.rcpt = rcpt.data != NULL ? rcpt.data : "[]";
	qsql_now(&row.deadline);
	row.deadline.tv_sec += (time_t)s->timeout;
	pthread_mutex_lock(&s->gmu);
	*s->qtail = &row;
	s->qtail = &row.next;
	while (s->leading && !row.done) {
		if (r == ETIMEDOUT)
			/* Past the deadline but in a group: its leader is
			 * bounded by that deadline, wait for its outcome. */
			pthread_cond_wait(&s->gdone, &s->gmu);
		else if ((r = pthread_cond_timedwait(&s->gdone, &s->gmu,
		    &row.deadline)) == ETIMEDOUT && qsql_unqueue(s, &row)) {
			pthread_mutex_unlock(&s->gmu);
			rc = qsql_waited(s, r, "adding a message");
			goto out;
		}
	}
	if (!row.done)
		qsql_group_lead(s);
	pthread_mutex_unlock(&s->gmu);
	if ((rc = row.rc) != MUGAI_OK)
		mugai_qerr_set("%s", row.err);
out:
	mugai_buf_free(&rcpt);
	return rc;
}

static char *
qsql_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	if (t != NULL)
		memcpy(p, t, n);
	p[n] = '\0';
	return p;
}

static mugai_status
qsql_record_recipients(struct qsql *s, const char *json,
    struct mugai_qrecord *r)
{
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	char **v;
	int step;

	rc = qsql_prepare(s, "SELECT value FROM json_each(?1)"
	    " WHERE type = 'text' ORDER BY key", &st, "reading recipients");
	if (rc != MUGAI_OK)
		return rc;
	qsql_bind_text(st, 1, json);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		v = realloc(r->recipients, (r->nrecipients + 1) * sizeof(*v));
		if (v == NULL)
			goto nomem;
		r->recipients = v;
		if ((v[r->nrecipients] = qsql_col(st, 0)) == NULL)
			goto nomem;
		r->nrecipients++;
	}
	if (step != SQLITE_DONE)
		rc = qsql_fail(s, step, "reading recipients");
	sqlite3_finalize(st);
	return rc;
nomem:
	sqlite3_finalize(st);
	mugai_qerr_set("quarantine index: out of memory");
	return MUGAI_ERR_NOMEM;
}

/* Copy the row at st (QSQL_COLS, then report and notice if full). */
static mugai_status
qsql_record(struct qsql *s, sqlite3_stmt *st, int full,
    struct mugai_qrecord **out)
{
	struct mugai_qrecord *r;
	const char *rel;
	mugai_status rc;
	size_t n;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->received = (time_t)sqlite3_column_int64(st, 1);
	r->size = (size_t)sqlite3_column_int64(st, 7);
	if ((r->id = qsql_col(st, 0)) == NULL ||
	    (r->queue_id = qsql_col(st, 2)) == NULL ||
	    (r->client_addr = qsql_col(st, 3)) == NULL ||
	    (r->sender = qsql_col(st, 4)) == NULL ||
	    (r->subject = qsql_col(st, 6)) == NULL ||
	    (r->sha256 = qsql_col(st, 8)) == NULL ||
	    (r->verdict = qsql_col(st, 9)) == NULL ||
	    (r->reasons = qsql_col(st, 10)) == NULL ||
	    (r->status = qsql_col(st, 11)) == NULL)
		goto nomem;
	r->changed = (time_t)sqlite3_column_int64(st, 13);
	if (full && ((r->report_json = qsql_col(st, 14)) == NULL ||
	    (r->notice = qsql_col(st, 15)) == NULL))
		goto nomem;
	rel = (const char *)sqlite3_column_text(st, 12);
	rel = rel != NULL ? rel : "";
	n = strlen(s->dir) + strlen(rel) + 2;
	if ((r->path = malloc(n)) == NULL)
		goto nomem;
	snprintf(r->path, n, "%s/%s", s->dir, rel);
	rc = qsql_record_recipients(s,
	    (const char *)sqlite3_column_text(st, 5), r);
	if (rc != MUGAI_OK) {
		mugai_qrecord_free(r);
		return rc;
	}
	*out = r;
	return MUGAI_OK;
nomem:
	mugai_qrecord_free(r);
	mugai_qerr_set("quarantine index: out of memory");
	return MUGAI_ERR_NOMEM;
}

static mugai_status
qsql_get(void *ctx, const char *id, struct mugai_qrecord **out)
{
	struct qsql *s = ctx;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step;

	*out = NULL;
	if ((rc = qsql_lock(s, "looking up a message")) != MUGAI_OK)
		return rc;
	rc = qsql_prepare(s, "SELECT " QSQL_COLS ", report_json, notice"
	    " FROM messages WHERE id = ?1", &st, "looking up a message");
	if (rc != MUGAI_OK)
		goto out;
	qsql_bind_text(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = qsql_record(s, st, 1, out);
	else if (step == SQLITE_DONE) {
		mugai_qerr_set("no message with id %s", id);
		rc = MUGAI_ERR_NOTFOUND;
	} else
		rc = qsql_fail(s, step, "looking up a message");
out:
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

static mugai_status
qsql_list(void *ctx, const struct mugai_qfilter *f, mugai_qrecord_fn fn,
    void *arg)
{
	static const char sql[] =
	    "SELECT " QSQL_COLS " FROM messages m"
	    " WHERE (?1 IS NULL OR received >= ?1)"
	    " AND (?2 IS NULL OR received < ?2)"
	    " AND (?3 IS NULL OR status = ?3)"
	    " AND (?4 IS NULL OR lower(trim(sender, '<> ')) ="
	    "  lower(trim(?4, '<> ')))"
	    " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(CASE WHEN"
	    "  json_valid(m.recipients) THEN m.recipients ELSE '[]' END) r"
	    "  WHERE r.type = 'text' AND lower(trim(r.value, '<> ')) ="
	    "  lower(trim(?5, '<> '))))"
	    " ORDER BY received, id LIMIT ?6";
	struct qsql *s = ctx;
	struct mugai_qrecord *r;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step, stop = 0;

	if ((rc = qsql_lock(s, "listing messages")) != MUGAI_OK)
		return rc;
	rc = qsql_prepare(s, sql, &st, "listing messages");
	if (rc != MUGAI_OK)
		goto out;
	if (f->since != 0)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)f->since);
	if (f->before != 0)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)f->before);
	qsql_bind_opt(st, 3, f->status);
	qsql_bind_opt(st, 4, f->sender);
	qsql_bind_opt(st, 5, f->recipient);
	sqlite3_bind_int64(st, 6, f->limit == 0 || f->limit > INT64_MAX ? -1 :
	    (sqlite3_int64)f->limit);
	while (!stop && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = qsql_record(s, st, 0, &r)) != MUGAI_OK)
			goto out;
		stop = fn(r, arg);
		mugai_qrecord_free(r);
	}
	if (!stop && step != SQLITE_DONE)
		rc = qsql_fail(s, step, "listing messages");
out:
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

static mugai_status
qsql_add_action(struct qsql *s, const struct mugai_qaction *a)
{
	sqlite3_stmt *st = NULL;
	mugai_status rc;

	rc = qsql_prepare(s, "INSERT INTO actions (id, time, actor, action,"
	    " detail, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st,
	    "recording an action");
	if (rc != MUGAI_OK)
		return rc;
	qsql_bind_text(st, 1, a->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)a->time);
	qsql_bind_text(st, 3, a->actor);
	qsql_bind_text(st, 4, a->action);
	qsql_bind_text(st, 5, a->detail);
	qsql_bind_text(st, 6, a->reason);
	rc = qsql_step_done(s, st, "recording an action");
	sqlite3_finalize(st);
	return rc;
}

/*
 * The two kinds of row with a state that commands change: messages (by
 * id) and release requests (by number).  busy is the state a crashed
 * command can leave behind; from's stale bit allows it once it is
 * Q_STALE_RELEASE old.
 */
struct qsql_kind {
	const char	*what;		/* "changing a status", for errors */
	const char	*sel;		/* SELECT state, its time WHERE key = ?1 */
	const struct mugai_qstate *states;
	unsigned	 busy, stale;
};

static const struct qsql_kind qsql_msg = { "changing a status",
    "SELECT status, changed FROM messages WHERE id = ?1",
    mugai_qmsg_states, Q_ST_RELEASING, Q_ST_STALE };
static const struct qsql_kind qsql_req = { "changing a request",
    "SELECT state, decided FROM requests WHERE reqid = ?1",
    mugai_qreq_states, QR_ST_APPROVING, QR_ST_STALE };

/* One row: a message's id, or a request's number (id NULL). */
struct qsql_key {
	const char	*id;
	long long	 num;
};

/* The state of k and when it last changed; MUGAI_ERR_NOTFOUND. */
static mugai_status
qsql_state_of(struct qsql *s, const struct qsql_kind *kd,
    const struct qsql_key *k, char *cur, size_t curlen, time_t *since)
{
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step;

	if ((rc = qsql_prepare(s, kd->sel, &st, kd->what)) != MUGAI_OK)
		return rc;
	if (k->id != NULL)
		qsql_bind_text(st, 1, k->id);
	else
		sqlite3_bind_int64(st, 1, (sqlite3_int64)k->num);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(cur, curlen, "%s", sqlite3_column_text(st, 0) != NULL ?
		    (const char *)sqlite3_column_text(st, 0) : "");
		*since = (time_t)sqlite3_column_int64(st, 1);
	} else if (step == SQLITE_DONE) {
		if (k->id != NULL)
			mugai_qerr_set("no message with id %s", k->id);
		else
			mugai_qerr_set("no request %lld; see 'mugai quarantine"
			    " requests'", k->num);
		rc = MUGAI_ERR_NOTFOUND;
	} else
		rc = qsql_fail(s, step, kd->what);
	sqlite3_finalize(st);
	return rc;
}

/* MUGAI_ERR_STATE, saying so, unless cur (since then) is one of from. */
static mugai_status
qsql_allowed(const struct qsql_kind *kd, const struct qsql_key *k,
    const char *cur, time_t since, unsigned from)
{
	unsigned bit;

	bit = mugai_qstate_bit(kd->states, cur);
	if (bit == kd->busy && (from & kd->stale) &&
	    since < time(NULL) - Q_STALE_RELEASE)
		bit |= kd->stale;
	if (bit & from)
		return MUGAI_OK;
	if (k->id != NULL)
		mugai_qerr_set("%s is %s", k->id, cur);
	else
		mugai_qerr_set("request %lld is %s", k->num, cur);
	return MUGAI_ERR_STATE;
}

/* Sets the state read as cur to the caller's (compare-and-set). */
typedef mugai_status (*qsql_set_fn)(struct qsql *s, const char *cur,
    const void *arg);

/*
 * Read, test and set under one write transaction (BEGIN IMMEDIATE takes
 * the lock before the read), so two commands racing on one row see each
 * other's change: exactly one of them makes its transition.  set NULL:
 * tested, not changed.  The action goes in the same transaction.
 */
static mugai_status
qsql_cas(struct qsql *s, const struct qsql_kind *kd, const struct qsql_key *k,
    unsigned from, qsql_set_fn set, const void *arg,
    const struct mugai_qaction *a, char *was, size_t waslen)
{
	char cur[16] = "";
	time_t since = 0;
	mugai_status rc;

	if ((rc = qsql_lock(s, kd->what)) != MUGAI_OK)
		return rc;
	rc = qsql_exec(s, "BEGIN IMMEDIATE", kd->what);
	if (rc != MUGAI_OK)
		goto out;
	rc = qsql_state_of(s, kd, k, cur, sizeof(cur), &since);
	if (rc == MUGAI_OK)
		rc = qsql_allowed(kd, k, cur, since, from);
	if (rc == MUGAI_OK && set != NULL)
		rc = set(s, cur, arg);
	if (rc == MUGAI_OK && a != NULL)
		rc = qsql_add_action(s, a);
	if (rc == MUGAI_OK)
		rc = qsql_exec(s, "COMMIT", kd->what);
	if (rc != MUGAI_OK)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	qsql_unlock(s);
	if (was != NULL && waslen > 0)
		snprintf(was, waslen, "%s", cur);
	return rc;
}

/* A message's new status, for qsql_cas. */
struct qsql_status {
	const char	*id;
	const char	*to;
};

static mugai_status
qsql_set_status(struct qsql *s, const char *cur, const void *arg)
{
	const struct qsql_status *n = arg;
	sqlite3_stmt *st = NULL;
	mugai_status rc;

	rc = qsql_prepare(s, "UPDATE messages SET status = ?1, changed = ?2"
	    " WHERE id = ?3 AND status = ?4", &st, "changing a status");
	if (rc != MUGAI_OK)
		return rc;
	qsql_bind_text(st, 1, n->to);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	qsql_bind_text(st, 3, n->id);
	qsql_bind_text(st, 4, cur);
	rc = qsql_step_done(s, st, "changing a status");
	if (rc == MUGAI_OK && sqlite3_changes(s->db) != 1) {
		mugai_qerr_set("%s changed under a write lock", n->id);
		rc = MUGAI_ERR_INTERNAL;
	}
	sqlite3_finalize(st);
	return rc;
}

static mugai_status
qsql_transition(void *ctx, const char *id, unsigned from, const char *to,
    const struct mugai_qaction *a, char *was, size_t waslen)
{
	struct qsql_key k = { id, 0 };
	struct qsql_status n = { id, to };

	return qsql_cas(ctx, &qsql_msg, &k, from, to != NULL ?
	    qsql_set_status : NULL, &n, a, was, waslen);
}

/*
 * SQLite's own check of every page, index and constraint (quick: skip
 * the cross-check of indexes against their tables, which is the slow
 * part).  A statement that cannot even run is damage too.
 */
static mugai_status
qsql_check(void *ctx, int quick, void (*fn)(const char *msg, void *arg),
    void *arg, size_t *n)
{
	struct qsql *s = ctx;
	sqlite3_stmt *st = NULL;
	const char *line;
	mugai_status rc;
	int r;

	*n = 0;
	if ((rc = qsql_lock(s, "checking it")) != MUGAI_OK)
		return rc;
	r = sqlite3_prepare_v2(s->db, quick ? "PRAGMA quick_check(20)" :
	    "PRAGMA integrity_check(20)", -1, &st, NULL);
	while (r == SQLITE_OK || r == SQLITE_ROW) {
		if ((r = sqlite3_step(st)) != SQLITE_ROW)
			break;
		line = (const char *)sqlite3_column_text(st, 0);
		if (line == NULL || strcmp(line, "ok") == 0)
			continue;
		(*n)++;
		fn(line, arg);
	}
	if (r != SQLITE_DONE) {
		if ((r & 0xff) == SQLITE_BUSY || (r & 0xff) == SQLITE_NOMEM)
			rc = qsql_fail(s, r, "checking it");
		else {
			(*n)++;
			fn(sqlite3_errmsg(s->db), arg);
		}
	}
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

/*
 * The index rows of id: its requests and history first (they refer to
 * it), then the message, in one transaction.
 */
static mugai_status
qsql_delete(void *ctx, const char *id)
{
	static const char *const sql[] = {
		"DELETE FROM requests WHERE id = ?1",
		"DELETE FROM actions WHERE id = ?1",
		"DELETE FROM messages WHERE id = ?1",
	};
	struct qsql *s = ctx;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	size_t i;

	if ((rc = qsql_lock(s, "removing a message")) != MUGAI_OK)
		return rc;
	rc = qsql_exec(s, "BEGIN IMMEDIATE", "removing a message");
	if (rc != MUGAI_OK)
		goto out;
	for (i = 0; rc == MUGAI_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
		rc = qsql_prepare(s, sql[i], &st, "removing a message");
		if (rc != MUGAI_OK)
			break;
		qsql_bind_text(st, 1, id);
		rc = qsql_step_done(s, st, "removing a message");
		sqlite3_finalize(st);
	}
	if (rc == MUGAI_OK)
		rc = qsql_exec(s, "COMMIT", "removing a message");
	if (rc != MUGAI_OK)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	qsql_unlock(s);
	return rc;
}

static mugai_status
qsql_history(void *ctx, const char *id, mugai_qaction_fn fn, void *arg)
{
	struct qsql *s = ctx;
	struct mugai_qaction a;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step, stop = 0;

	if ((rc = qsql_lock(s, "reading the history")) != MUGAI_OK)
		return rc;
	rc = qsql_prepare(s, "SELECT id, time, actor, action, detail, reason"
	    " FROM actions WHERE id = ?1 ORDER BY rowid", &st,
	    "reading the history");
	if (rc != MUGAI_OK)
		goto out;
	qsql_bind_text(st, 1, id);
	while (!stop && (step = sqlite3_step(st)) == SQLITE_ROW) {
		a.id = (const char *)sqlite3_column_text(st, 0);
		a.time = (time_t)sqlite3_column_int64(st, 1);
		a.actor = (const char *)sqlite3_column_text(st, 2);
		a.action = (const char *)sqlite3_column_text(st, 3);
		a.detail = (const char *)sqlite3_column_text(st, 4);
		a.reason = (const char *)sqlite3_column_text(st, 5);
		stop = fn(&a, arg);
	}
	if (!stop && step != SQLITE_DONE)
		rc = qsql_fail(s, step, "reading the history");
out:
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

/*
 * The report is parsed by SQLite's JSON functions: no second JSON parser
 * to trust.  Anything malformed or missing simply yields fewer fields.
 */
static mugai_status
qsql_report_parts(void *ctx, const char *report_json, mugai_qpart_fn fn,
    void *arg)
{
	static const char sql[] =
	    "SELECT json_extract(p.value, '$.path'),"
	    " json_extract(p.value, '$.declared_type'),"
	    " json_extract(p.value, '$.detected_type'),"
	    " CASE json_type(p.value, '$.size')"
	    "  WHEN 'integer' THEN json_extract(p.value, '$.size')"
	    "  WHEN 'real' THEN CAST(json_extract(p.value, '$.size') AS INTEGER)"
	    "  ELSE -1 END,"
	    " json_extract(p.value, '$.sha256'),"
	    " json_extract(p.value, '$.name'),"
	    " json_extract(p.value, '$.action'),"
	    " json_extract(p.value, '$.reason')"
	    " FROM json_each(CASE WHEN json_valid(?1) THEN ?1 ELSE '{}' END,"
	    "  '$.parts') p WHERE p.type = 'object' ORDER BY p.key";
	struct qsql *s = ctx;
	struct mugai_qpart p;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step, stop = 0;

	if ((rc = qsql_lock(s, "reading a report")) != MUGAI_OK)
		return rc;
	rc = qsql_prepare(s, sql, &st, "reading a report");
	if (rc != MUGAI_OK)
		goto out;
	qsql_bind_text(st, 1, report_json);
	while (!stop && (step = sqlite3_step(st)) == SQLITE_ROW) {
		p.path = (const char *)sqlite3_column_text(st, 0);
		p.declared_type = (const char *)sqlite3_column_text(st, 1);
		p.detected_type = (const char *)sqlite3_column_text(st, 2);
		p.size = sqlite3_column_int64(st, 3);
		p.sha256 = (const char *)sqlite3_column_text(st, 4);
		p.name = (const char *)sqlite3_column_text(st, 5);
		p.action = (const char *)sqlite3_column_text(st, 6);
		p.reason = (const char *)sqlite3_column_text(st, 7);
		stop = fn(&p, arg);
	}
	if (!stop && step != SQLITE_DONE)
		rc = qsql_fail(s, step, "reading a report");
out:
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

/* ---- release requests (mugai/quarantine/request.h) -------------------- */

/* Columns of a request, in the order qsql_request() reads them. */
#define QSQL_RCOLS \
	"reqid, id, requested, requester, notify, reason, state, decided," \
	" decider, decision, release_to"

static mugai_status
qsql_request(sqlite3_stmt *st, struct mugai_qrequest **out)
{
	struct mugai_qrequest *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->reqid = sqlite3_column_int64(st, 0);
	r->requested = (time_t)sqlite3_column_int64(st, 2);
	r->decided = (time_t)sqlite3_column_int64(st, 7);
	if ((r->id = qsql_col(st, 1)) == NULL ||
	    (r->requester = qsql_col(st, 3)) == NULL ||
	    (r->notify = qsql_col(st, 4)) == NULL ||
	    (r->reason = qsql_col(st, 5)) == NULL ||
	    (r->state = qsql_col(st, 6)) == NULL ||
	    (r->decider = qsql_col(st, 8)) == NULL ||
	    (r->decision = qsql_col(st, 9)) == NULL ||
	    (r->release_to = qsql_col(st, 10)) == NULL)
		goto nomem;
	*out = r;
	return MUGAI_OK;
nomem:
	mugai_qrequest_free(r);
	mugai_qerr_set("quarantine index: out of memory");
	return MUGAI_ERR_NOMEM;
}

/* The checks of a new request, under the write lock already taken. */
static mugai_status
qsql_request_check(struct qsql *s, const char *id, const char *requester)
{
	sqlite3_stmt *st = NULL;
	struct qsql_key k = { id, 0 };
	char cur[16] = "";
	time_t changed;
	mugai_status rc;
	int step;

	rc = qsql_state_of(s, &qsql_msg, &k, cur, sizeof(cur), &changed);
	if (rc != MUGAI_OK)
		return rc;
	if (strcmp(cur, "deleted") == 0) {
		mugai_qerr_set("the original of %s was deleted; it cannot be"
		    " requested", id);
		return MUGAI_ERR_STATE;
	}
	rc = qsql_prepare(s, "SELECT reqid FROM requests WHERE id = ?1 AND"
	    " requester = ?2 AND state IN ('pending', 'approving')", &st,
	    "adding a request");
	if (rc != MUGAI_OK)
		return rc;
	qsql_bind_text(st, 1, id);
	qsql_bind_text(st, 2, requester);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		mugai_qerr_set("%s has asked for %s already (request %lld is"
		    " pending)", requester, id,
		    (long long)sqlite3_column_int64(st, 0));
		rc = MUGAI_ERR_STATE;
	} else if (step != SQLITE_DONE)
		rc = qsql_fail(s, step, "adding a request");
	sqlite3_finalize(st);
	return rc;
}

static mugai_status
qsql_request_add(void *ctx, const char *id, time_t when,
    const char *requester, const char *notify, const char *reason,
    const struct mugai_qaction *a, long long *reqid)
{
	struct qsql *s = ctx;
	sqlite3_stmt *st = NULL;
	mugai_status rc;

	*reqid = 0;
	if ((rc = qsql_lock(s, "adding a request")) != MUGAI_OK)
		return rc;
	rc = qsql_exec(s, "BEGIN IMMEDIATE", "adding a request");
	if (rc != MUGAI_OK)
		goto out;
	rc = qsql_request_check(s, id, requester);
	if (rc == MUGAI_OK)
		rc = qsql_prepare(s, "INSERT INTO requests (id, requested,"
		    " requester, notify, reason, state) VALUES (?1, ?2, ?3,"
		    " ?4, ?5, 'pending')", &st, "adding a request");
	if (rc == MUGAI_OK) {
		qsql_bind_text(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)when);
		qsql_bind_text(st, 3, requester);
		qsql_bind_text(st, 4, notify);
		qsql_bind_text(st, 5, reason);
		rc = qsql_step_done(s, st, "adding a request");
		*reqid = sqlite3_last_insert_rowid(s->db);
		sqlite3_finalize(st);
	}
	if (rc == MUGAI_OK && a != NULL)
		rc = qsql_add_action(s, a);
	if (rc == MUGAI_OK)
		rc = qsql_exec(s, "COMMIT", "adding a request");
	if (rc != MUGAI_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		*reqid = 0;
	}
out:
	qsql_unlock(s);
	return rc;
}

static mugai_status
qsql_request_get(void *ctx, long long reqid, struct mugai_qrequest **out)
{
	struct qsql *s = ctx;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step;

	*out = NULL;
	if ((rc = qsql_lock(s, "looking up a request")) != MUGAI_OK)
		return rc;
	rc = qsql_prepare(s, "SELECT " QSQL_RCOLS " FROM requests"
	    " WHERE reqid = ?1", &st, "looking up a request");
	if (rc != MUGAI_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)reqid);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = qsql_request(st, out);
	else if (step == SQLITE_DONE) {
		mugai_qerr_set("no request %lld; see 'mugai quarantine"
		    " requests'", reqid);
		rc = MUGAI_ERR_NOTFOUND;
	} else
		rc = qsql_fail(s, step, "looking up a request");
out:
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

static mugai_status
qsql_request_list(void *ctx, const struct mugai_qrfilter *f,
    mugai_qrequest_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT " QSQL_RCOLS " FROM requests"
	    " WHERE (?1 IS NULL OR state = ?1)"
	    " AND (?2 IS NULL OR id = ?2)"
	    " AND (?3 IS NULL OR requester = ?3)"
	    " ORDER BY reqid LIMIT ?4";
	struct qsql *s = ctx;
	struct mugai_qrequest *r;
	sqlite3_stmt *st = NULL;
	mugai_status rc;
	int step, stop = 0;

	if ((rc = qsql_lock(s, "listing requests")) != MUGAI_OK)
		return rc;
	rc = qsql_prepare(s, sql, &st, "listing requests");
	if (rc != MUGAI_OK)
		goto out;
	qsql_bind_opt(st, 1, f->state);
	qsql_bind_opt(st, 2, f->id);
	qsql_bind_opt(st, 3, f->requester);
	sqlite3_bind_int64(st, 4, f->limit == 0 || f->limit > INT64_MAX ? -1 :
	    (sqlite3_int64)f->limit);
	while (!stop && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = qsql_request(st, &r)) != MUGAI_OK)
			goto out;
		stop = fn(r, arg);
		mugai_qrequest_free(r);
	}
	if (!stop && step != SQLITE_DONE)
		rc = qsql_fail(s, step, "listing requests");
out:
	sqlite3_finalize(st);
	qsql_unlock(s);
	return rc;
}

/* A request's new state, with the decision when decider is set. */
struct qsql_rstate {
	long long	 reqid;
	const char	*to, *decider, *decision, *release_to;
};

static mugai_status
qsql_set_rstate(struct qsql *s, const char *cur, const void *arg)
{
	const struct qsql_rstate *n = arg;
	sqlite3_stmt *st = NULL;
	mugai_status rc;

	rc = qsql_prepare(s, n->decider == NULL ?
	    "UPDATE requests SET state = ?1 WHERE reqid = ?2 AND state = ?3" :
	    "UPDATE requests SET state = ?1, decided = ?4, decider = ?5,"
	    " decision = ?6, release_to = ?7 WHERE reqid = ?2 AND state = ?3",
	    &st, "changing a request");
	if (rc != MUGAI_OK)
		return rc;
	qsql_bind_text(st, 1, n->to);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)n->reqid);
	qsql_bind_text(st, 3, cur);
	if (n->decider != NULL) {
		sqlite3_bind_int64(st, 4, n->decider[0] != '\0' ?
		    (sqlite3_int64)time(NULL) : 0);
		qsql_bind_text(st, 5, n->decider);
		qsql_bind_text(st, 6, n->decision);
		qsql_bind_text(st, 7, n->release_to);
	}
	rc = qsql_step_done(s, st, "changing a request");
	if (rc == MUGAI_OK && sqlite3_changes(s->db) != 1) {
		mugai_qerr_set("request %lld changed under a write lock",
		    n->reqid);
		rc = MUGAI_ERR_INTERNAL;
	}
	sqlite3_finalize(st);
	return rc;
}

static mugai_status
qsql_request_transition(void *ctx, long long reqid, unsigned from,
    const char *to, const char *decider, const char *decision,
    const char *release_to, const struct mugai_qaction *a, char *was,
    size_t waslen)
{
	struct qsql_key k = { NULL, reqid };
	struct qsql_rstate n = { reqid, to, decider, decision, release_to };

	return qsql_cas(ctx, &qsql_req, &k, from, qsql_set_rstate, &n, a,
	    was, waslen);
}

/*
 * An explicit reqid above the others moves AUTOINCREMENT's counter up
 * with it; NULL takes the next number, never one used before.
 */
static mugai_status
qsql_request_import(void *ctx, const struct mugai_qrequest *r, int renumber,
    long long *reqid)
{
	static const char what[] = "copying a request";
	struct qsql *s = ctx;
	struct qsql_key msg = { r->id, 0 }, num = { NULL, r->reqid };
	sqlite3_stmt *st = NULL;
	char cur[16];
	time_t since;
	mugai_status rc;

	*reqid = 0;
	if ((rc = qsql_lock(s, what)) != MUGAI_OK)
		return rc;
	rc = qsql_exec(s, "BEGIN IMMEDIATE", what);
	if (rc != MUGAI_OK)
		goto out;
	rc = qsql_state_of(s, &qsql_msg, &msg, cur, sizeof(cur), &since);
	/* The number: taken when it has a state, free when not found. */
	if (rc == MUGAI_OK && !renumber) {
		rc = qsql_state_of(s, &qsql_req, &num, cur, sizeof(cur),
		    &since);
		if (rc == MUGAI_OK) {
			mugai_qerr_set("request number %lld is taken",
			    r->reqid);
			rc = MUGAI_ERR_STATE;
		} else if (rc == MUGAI_ERR_NOTFOUND)
			rc = MUGAI_OK;
	}
	if (rc == MUGAI_OK)
		rc = qsql_prepare(s, "INSERT INTO requests (reqid, id,"
		    " requested, requester, notify, reason, state, decided,"
		    " decider, decision, release_to) VALUES (?1, ?2, ?3, ?4,"
		    " ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &st, what);
	if (rc == MUGAI_OK) {
		if (renumber)
			sqlite3_bind_null(st, 1);
		else
			sqlite3_bind_int64(st, 1, (sqlite3_int64)r->reqid);
		qsql_bind_text(st, 2, r->id);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)r->requested);
		qsql_bind_text(st, 4, r->requester);
		qsql_bind_text(st, 5, r->notify);
		qsql_bind_text(st, 6, r->reason);
		qsql_bind_text(st, 7, r->state);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)r->decided);
		qsql_bind_text(st, 9, r->decider);
		qsql_bind_text(st, 10, r->decision);
		qsql_bind_text(st, 11, r->release_to);
		rc = qsql_step_done(s, st, what);
		*reqid = sqlite3_last_insert_rowid(s->db);
		sqlite3_finalize(st);
	}
	if (rc == MUGAI_OK)
		rc = qsql_exec(s, "COMMIT", what);
	if (rc != MUGAI_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		*reqid = 0;
	}
out:
	qsql_unlock(s);
	return rc;
}

const struct mugai_qbackend mugai_qbackend_sqlite = {
	.name = "sqlite",
	.open = qsql_open,
	.close = qsql_close,
	.insert = qsql_insert,
	.get = qsql_get,
	.list = qsql_list,
	.transition = qsql_transition,
	.check = qsql_check,
	.delete = qsql_delete,
	.history = qsql_history,
	.report_parts = qsql_report_parts,
	.request_add = qsql_request_add,
	.request_get = qsql_request_get,
	.request_list = qsql_request_list,
	.request_transition = qsql_request_transition,
	.request_import = qsql_request_import,
};
