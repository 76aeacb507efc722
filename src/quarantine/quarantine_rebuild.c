/*
 * quarantine_rebuild.c - a new quarantine index from what survives a
 * damaged one: the stored originals and the audit log
 * (mugai_quarantine_rebuild, see mugai/quarantine/quarantine.h).
 *
 * The audit log holds one "message" line per sanitised message (with
 * "quarantined": true when its original was stored: envelope, size,
 * verdict) and one line per release, delete and purge.  Its JSON is read
 * by SQLite's JSON functions in a private in-memory database, as the
 * index reads reports: no second JSON parser to trust.  Each original
 * becomes a "held" row (metadata from its message line, or from its own
 * headers when the log has none); then the admin actions are replayed
 * in order through the same state transitions the commands use, so the
 * statuses and histories come out as the commands left them.  What the
 * log never held (the sanitise report, the notice) stays empty.
 *
 * The new index is written next to the old one and renamed into place
 * only when complete; the old one is kept as NAME.damaged-TIMESTAMP.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <sqlite3.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/quarantine.h"
#include "quarantine_backend.h"

#define RB_LINE_MAX	(16 * 1024 * 1024)
#define RB_ANY		(Q_ST_HELD | Q_ST_RELEASING | Q_ST_RELEASED | \
			 Q_ST_DELETED)

struct rb {
	const struct mugai_config *cfg;
	struct mugai_quarantine *q;	/* on the new index */
	sqlite3	*mem;			/* the audit log, parsed */
	void	(*fn)(const char *line, void *arg);
	void	*arg;
	size_t	 rows, from_log, from_headers, lost, actions;
	size_t	 lines, bad_lines;
};

static const char rb_schema[] =
	"CREATE TABLE meta (id TEXT PRIMARY KEY, received INTEGER,"
	" queue_id TEXT, client TEXT, sender TEXT, recipients TEXT,"
	" size INTEGER, verdict TEXT, reasons TEXT);"
	"CREATE TABLE acts (seq INTEGER PRIMARY KEY, id TEXT, time INTEGER,"
	" actor TEXT, action TEXT, reason TEXT, detail TEXT, ok INTEGER);"
	"CREATE TABLE seen (id TEXT PRIMARY KEY);";

/* A "message" line of a stored original: its metadata, the last wins. */
static const char rb_meta_sql[] =
	"INSERT OR REPLACE INTO meta SELECT json_extract(j, '$.id'),"
	" CAST(strftime('%s', json_extract(j, '$.time')) AS INTEGER),"
	" ifnull(json_extract(j, '$.queue_id'), ''),"
	" ifnull(json_extract(j, '$.client'), ''),"
	" ifnull(json_extract(j, '$.sender'), ''),"
	" CASE WHEN json_type(j, '$.recipients') = 'array'"
	"  THEN json_extract(j, '$.recipients') ELSE '[]' END,"
	" ifnull(json_extract(j, '$.size'), 0),"
	" CASE json_extract(j, '$.verdict') WHEN 'deliver' THEN 'sanitised'"
	"  WHEN 'reject' THEN 'rejected' WHEN 'discard' THEN 'discarded'"
	"  ELSE ifnull(json_extract(j, '$.verdict'), '') END,"
	" ifnull(json_extract(j, '$.reason'), '')"
	" FROM (SELECT ?1 AS j) WHERE json_valid(j)"
	" AND json_extract(j, '$.action') = 'message'"
	" AND json_extract(j, '$.quarantined') = 1"
	" AND json_type(j, '$.id') = 'text'";

/* An admin action, with the detail the commands record. */
static const char rb_act_sql[] =
	"INSERT INTO acts (id, time, actor, action, reason, detail, ok)"
	" SELECT json_extract(j, '$.id'),"
	" ifnull(CAST(strftime('%s', json_extract(j, '$.time')) AS INTEGER),"
	"  0),"
	" ifnull(json_extract(j, '$.actor'), ''),"
	" json_extract(j, '$.action'),"
	" ifnull(json_extract(j, '$.reason'), ''),"
	" CASE WHEN json_extract(j, '$.action') = 'release' THEN"
	"  'to=' || ifnull(json_extract(j, '$.to'), '') ||"
	"  CASE WHEN json_type(j, '$.part') = 'text'"
	"   THEN ' part=' || json_extract(j, '$.part') ELSE '' END ||"
	"  CASE WHEN json_extract(j, '$.force') = 'yes' THEN ' force'"
	"   ELSE '' END ||"
	"  CASE WHEN json_extract(j, '$.result') = 'ok' THEN '' ELSE"
	"   ' failed' END ELSE '' END,"
	" json_extract(j, '$.action') <> 'release' OR"
	"  json_extract(j, '$.result') = 'ok'"
	" FROM (SELECT ?1 AS j) WHERE json_valid(j)"
	" AND json_extract(j, '$.action') IN ('release', 'delete', 'purge')"
	" AND json_type(j, '$.id') = 'text'";

static void
rb_say(struct rb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
rb_say(struct rb *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (b->fn != NULL)
		b->fn(line, b->arg);
}

static mugai_status
rb_sqlfail(struct rb *b, const char *what)
{
	mugai_qerr_set("rebuilding the index: %s: %s", what,
	    sqlite3_errmsg(b->mem));
	return MUGAI_ERR_INTERNAL;
}

/*
 * The milter keeps the index open: a new file renamed under it would
 * lose what it writes.  Its pid_file names it when it runs.
 */
static mugai_status
rb_milter_stopped(const struct mugai_config *cfg)
{
	char buf[64], path[64], comm[64];
	long pid = 0;
	FILE *fp;

	if (cfg->pid_file == NULL || cfg->pid_file[0] == '\0' ||
	    (fp = fopen(cfg->pid_file, "r")) == NULL)
		return MUGAI_OK;
	if (fgets(buf, sizeof(buf), fp) != NULL)
		pid = strtol(buf, NULL, 10);
	fclose(fp);
	if (pid <= 1 || (kill((pid_t)pid, 0) == -1 && errno == ESRCH))
		return MUGAI_OK;
	/* A stale pid_file whose number was reused is not the milter. */
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	comm[0] = '\0';
	if ((fp = fopen(path, "r")) != NULL) {
		if (fgets(comm, sizeof(comm), fp) == NULL)
			comm[0] = '\0';
		fclose(fp);
	}
	if (strncmp(comm, "mugai-milter", 12) != 0)
		return MUGAI_OK;
	mugai_qerr_set("mugai-milter is running (pid %ld, %s); stop it first"
	    " (systemctl stop mugai-milter): it keeps the old index open and"
	    " would write to it", pid, cfg->pid_file);
	return MUGAI_ERR_STATE;
}

/* One statement with ?1 = text, for each line of the audit log. */
static mugai_status
rb_read_audit(struct rb *b)
{
	sqlite3_stmt *meta = NULL, *act = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	mugai_status rc = MUGAI_OK;
	FILE *fp;

	if (b->cfg->audit_log[0] == '\0' ||
	    (fp = fopen(b->cfg->audit_log, "r")) == NULL) {
		rb_say(b, "no audit log (%s): statuses and envelopes cannot be"
		    " recovered; every original will be held",
		    b->cfg->audit_log[0] != '\0' ? strerror(errno) :
		    "audit_log is empty");
		return MUGAI_OK;
	}
	if (sqlite3_prepare_v2(b->mem, rb_meta_sql, -1, &meta, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(b->mem, rb_act_sql, -1, &act,
	    NULL) != SQLITE_OK) {
		rc = rb_sqlfail(b, "reading the audit log");
		goto out;
	}
	sqlite3_exec(b->mem, "BEGIN", NULL, NULL, NULL);
	while ((n = getline(&line, &cap, fp)) != -1) {
		b->lines++;
		if (n > RB_LINE_MAX) {
			b->bad_lines++;
			continue;
		}
		sqlite3_bind_text(meta, 1, line, (int)n, SQLITE_STATIC);
		sqlite3_bind_text(act, 1, line, (int)n, SQLITE_STATIC);
		if (sqlite3_step(meta) != SQLITE_DONE ||
		    sqlite3_step(act) != SQLITE_DONE)
			b->bad_lines++;
		sqlite3_reset(meta);
		sqlite3_reset(act);
	}
	sqlite3_exec(b->mem, "COMMIT", NULL, NULL, NULL);
	rb_say(b, "read %zu audit log lines from %s", b->lines,
	    b->cfg->audit_log);
out:
	sqlite3_finalize(meta);
	sqlite3_finalize(act);
	free(line);
	fclose(fp);
	return rc;
}

static mugai_status
rb_seen(struct rb *b, const char *id)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(b->mem, "INSERT OR IGNORE INTO seen VALUES"
	    " (?1)", -1, &st, NULL) != SQLITE_OK)
		return rb_sqlfail(b, "noting a row");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? MUGAI_OK : rb_sqlfail(b, "noting a row");
}

/* Recipients of a JSON array, as the C strings an entry wants. */
static char **
rb_recipients(struct rb *b, const char *json, size_t *n)
{
	sqlite3_stmt *st = NULL;
	char **v = NULL, **nv;

	*n = 0;
	if (sqlite3_prepare_v2(b->mem, "SELECT value FROM json_each(?1)"
	    " WHERE type = 'text'", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[*n] = strdup((const char *)sqlite3_column_text(st,
		    0))) == NULL)
			break;
		(*n)++;
	}
	sqlite3_finalize(st);
	return v;
}

static void
rb_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Add a row for id from its audit metadata; 0 when the log has none.
 * sha256 and size come from the file when there is one.
 */
static mugai_status
rb_add_from_log(struct rb *b, const char *id, const char *sha256,
    long long size, const char *subject, int *found)
{
	sqlite3_stmt *st = NULL;
	struct mugai_qentry e;
	char **rcpt = NULL;
	size_t nrcpt = 0;
	mugai_status rc = MUGAI_OK;

	*found = 0;
	if (sqlite3_prepare_v2(b->mem, "SELECT received, queue_id, client,"
	    " sender, recipients, size, verdict, reasons FROM meta"
	    " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return rb_sqlfail(b, "looking up a message");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*found = 1;
		memset(&e, 0, sizeof(e));
		rcpt = rb_recipients(b, (const char *)sqlite3_column_text(st,
		    4), &nrcpt);
		e.id = id;
		e.received = (time_t)sqlite3_column_int64(st, 0);
		e.queue_id = (const char *)sqlite3_column_text(st, 1);
		e.client_addr = (const char *)sqlite3_column_text(st, 2);
		e.sender = (const char *)sqlite3_column_text(st, 3);
		e.recipients = (const char *const *)rcpt;
		e.nrecipients = nrcpt;
		e.size = (size_t)(size >= 0 ? size :
		    sqlite3_column_int64(st, 5));
		e.verdict = (const char *)sqlite3_column_text(st, 6);
		e.reasons = (const char *)sqlite3_column_text(st, 7);
		e.subject = subject != NULL ? subject : "";
		e.report_json = "";
		e.notice = "";
		rc = mugai_qindex_add(b->q, &e, sha256);
	}
	sqlite3_finalize(st);
	rb_strv_free(rcpt, nrcpt);
	return rc;
}

/* Add a row from the original's own headers (no audit line for it). */
static mugai_status
rb_add_from_headers(struct rb *b, const char *id, const char *raw,
    size_t len, const char *sha256, time_t mtime)
{
	GMimeStream *gs;
	GMimeParser *p;
	GMimeMessage *m;
	InternetAddressList *to;
	struct mugai_qentry e;
	const char *rcpt[64];
	char *from = NULL, *rv[64];
	size_t nr = 0;
	int i, n;
	mugai_status rc;

	gs = g_mime_stream_mem_new_with_buffer(raw, len);
	p = g_mime_parser_new_with_stream(gs);
	m = g_mime_parser_construct_message(p, NULL);
	memset(&e, 0, sizeof(e));
	if (m != NULL) {
		from = internet_address_list_to_string(
		    g_mime_message_get_from(m), NULL, FALSE);
		to = g_mime_message_get_to(m);
		n = internet_address_list_length(to);
		for (i = 0; i < n && nr < 64; i++) {
			InternetAddress *a = internet_address_list_get_address(
			    to, i);

			if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
				rv[nr] = g_strdup(internet_address_mailbox_get_addr(
				    INTERNET_ADDRESS_MAILBOX(a)));
				rcpt[nr] = rv[nr];
				nr++;
			}
		}
		e.subject = g_mime_message_get_subject(m);
	}
	e.id = id;
	e.received = mtime;
	e.sender = from != NULL ? from : "";
	e.recipients = rcpt;
	e.nrecipients = nr;
	e.subject = e.subject != NULL ? e.subject : "";
	e.size = len;
	e.verdict = "";
	e.reasons = "rebuilt from the original's headers (no audit record)";
	e.report_json = "";
	e.notice = "";
	rc = mugai_qindex_add(b->q, &e, sha256);
	while (nr > 0)
		g_free(rv[--nr]);
	g_free(from);
	if (m != NULL)
		g_object_unref(m);
	g_object_unref(p);
	g_object_unref(gs);
	return rc;
}

/* The decoded Subject of a stored original (the log does not keep it). */
static gchar *
rb_subject(const char *raw, size_t len)
{
	GMimeStream *gs;
	GMimeParser *p;
	GMimeMessage *m;
	gchar *subject = NULL;

	gs = g_mime_stream_mem_new_with_buffer(raw, len);
	p = g_mime_parser_new_with_stream(gs);
	if ((m = g_mime_parser_construct_message(p, NULL)) != NULL) {
		subject = g_strdup(g_mime_message_get_subject(m));
		g_object_unref(m);
	}
	g_object_unref(p);
	g_object_unref(gs);
	return subject;
}

static mugai_status
rb_original(const char *id, const char *path, const struct stat *st,
    void *arg)
{
	struct rb *b = arg;
	gchar *contents = NULL, *sha, *subject;
	gsize len = 0;
	GError *gerr = NULL;
	mugai_status rc;
	int found;

	if (!g_file_get_contents(path, &contents, &len, &gerr)) {
		rb_say(b, "skipped %s: %s", path, gerr->message);
		g_error_free(gerr);
		return MUGAI_OK;
	}
	sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)contents, len);
	subject = rb_subject(contents, len);
	rc = rb_add_from_log(b, id, sha, (long long)len, subject, &found);
	if (rc == MUGAI_OK && found)
		b->from_log++;
	else if (rc == MUGAI_OK) {
		rc = rb_add_from_headers(b, id, contents, len, sha,
		    st->st_mtime);
		b->from_headers++;
	}
	if (rc == MUGAI_OK)
		rc = rb_seen(b, id);
	if (rc == MUGAI_OK)
		b->rows++;
	g_free(subject);
	g_free(sha);
	g_free(contents);
	return rc;
}

/*
 * Rows for ids the log knows but the store has no file for (deleted,
 * or lost): the log's metadata, or just the id.
 */
static mugai_status
rb_add_fileless(struct rb *b)
{
	static const char sql[] =
	    "SELECT id, MIN(t) FROM (SELECT id, received AS t FROM meta"
	    " UNION ALL SELECT id, time AS t FROM acts)"
	    " WHERE id NOT IN (SELECT id FROM seen) GROUP BY id ORDER BY id";
	sqlite3_stmt *st = NULL;
	struct mugai_qentry e;
	const char *id;
	mugai_status rc = MUGAI_OK;
	int found;

	if (sqlite3_prepare_v2(b->mem, sql, -1, &st, NULL) != SQLITE_OK)
		return rb_sqlfail(b, "finding messages without an original");
	while (rc == MUGAI_OK && sqlite3_step(st) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		rc = rb_add_from_log(b, id, "", -1, NULL, &found);
		if (rc == MUGAI_OK && !found) {
			memset(&e, 0, sizeof(e));
			e.id = id;
			e.received = (time_t)sqlite3_column_int64(st, 1);
			e.reasons = "known only from admin actions in the"
			    " audit log";
			rc = mugai_qindex_add(b->q, &e, "");
		}
		/* A bad id in a hand-edited log is skipped, not fatal. */
		if (rc == MUGAI_ERR_USAGE) {
			rc = MUGAI_OK;
			continue;
		}
		if (rc == MUGAI_OK) {
			b->lost++;
			b->rows++;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The admin actions again, in order, through the real transitions. */
static mugai_status
rb_replay(struct rb *b)
{
	sqlite3_stmt *st = NULL;
	struct mugai_qaction a;
	const char *to;
	unsigned from;
	mugai_status rc = MUGAI_OK;
	int ok;

	if (sqlite3_prepare_v2(b->mem, "SELECT id, time, actor, action,"
	    " reason, detail, ok FROM acts ORDER BY seq", -1, &st, NULL) !=
	    SQLITE_OK)
		return rb_sqlfail(b, "replaying actions");
	while (rc == MUGAI_OK && sqlite3_step(st) == SQLITE_ROW) {
		a.id = (const char *)sqlite3_column_text(st, 0);
		a.time = (time_t)sqlite3_column_int64(st, 1);
		a.actor = (const char *)sqlite3_column_text(st, 2);
		a.action = (const char *)sqlite3_column_text(st, 3);
		a.reason = (const char *)sqlite3_column_text(st, 4);
		a.detail = (const char *)sqlite3_column_text(st, 5);
		ok = sqlite3_column_int(st, 6);
		if (strcmp(a.action, "release") == 0 && !ok)
			a.action = "release-failed";
		to = !ok ? NULL : strcmp(a.action, "release") == 0 ?
		    "released" : "deleted";
		from = to != NULL ? Q_ST_HELD | Q_ST_RELEASED : RB_ANY;
		rc = mugai_qindex_transition(b->q, a.id, from, to, &a);
		/* Out of order in the log: keep the history, not the change. */
		if (rc == MUGAI_ERR_STATE)
			rc = mugai_qindex_transition(b->q, a.id, RB_ANY, NULL,
			    &a);
		if (rc == MUGAI_ERR_NOTFOUND)
			rc = MUGAI_OK;
		else if (rc == MUGAI_OK)
			b->actions++;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Move path (and its -wal) to keep, dropping its -shm. */
static int
rb_move_aside(const char *path, const char *keep)
{
	char from[PATH_MAX + 64], to[PATH_MAX + 64];

	if (rename(path, keep) == -1)
		return errno == ENOENT ? 0 : -1;
	snprintf(from, sizeof(from), "%s-wal", path);
	snprintf(to, sizeof(to), "%s-wal", keep);
	if (rename(from, to) == -1 && errno != ENOENT)
		return -1;
	snprintf(from, sizeof(from), "%s-shm", path);
	unlink(from);
	return 1;
}

static void
rb_unlink_db(const char *path)
{
	char p[PATH_MAX + 32];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static mugai_status
rb_build(struct rb *b, const char *newpath)
{
	char err[1024];
	mugai_status rc;

	rb_unlink_db(newpath);
	rc = mugai_qopen_at(b->cfg, newpath, &b->q, err, sizeof(err));
	if (rc != MUGAI_OK) {
		mugai_qerr_set("%s", err);
		return rc;
	}
	if ((rc = rb_read_audit(b)) != MUGAI_OK)
		return rc;
	if ((rc = mugai_qwalk_originals(b->q, rb_original, b)) != MUGAI_OK)
		return rc;
	rb_say(b, "indexed %zu stored originals (%zu with their audit record,"
	    " %zu from their own headers)", b->from_log + b->from_headers,
	    b->from_log, b->from_headers);
	if ((rc = rb_add_fileless(b)) != MUGAI_OK)
		return rc;
	if (b->lost > 0)
		rb_say(b, "%zu message%s known from the audit log ha%s no"
		    " original (deleted, or lost: 'verify' tells which)",
		    b->lost, b->lost == 1 ? "" : "s", b->lost == 1 ? "s" : "ve");
	if ((rc = rb_replay(b)) != MUGAI_OK)
		return rc;
	rb_say(b, "replayed %zu release, delete and purge actions", b->actions);
	if (b->bad_lines > 0)
		rb_say(b, "%zu audit log line%s could not be read and %s"
		    " skipped", b->bad_lines, b->bad_lines == 1 ? "" : "s",
		    b->bad_lines == 1 ? "was" : "were");
	return MUGAI_OK;
}

mugai_status
mugai_quarantine_rebuild(const struct mugai_config *cfg,
    void (*fn)(const char *line, void *arg), void *arg, size_t *nrows)
{
	char dbbuf[PATH_MAX], newpath[PATH_MAX + 16], keep[PATH_MAX + 32];
	char stamp[32];
	const char *db;
	struct rb b;
	struct tm tm;
	time_t now;
	mugai_status rc;
	int moved;

	*nrows = 0;
	if (mugai_qbackend_for(cfg->quarantine_db) != &mugai_qbackend_sqlite) {
		mugai_qerr_set("rebuild-index is for the SQLite index; a"
		    " PostgreSQL quarantine keeps its originals and index in"
		    " one database (use the database's own backups)");
		return MUGAI_ERR_USAGE;
	}
	memset(&b, 0, sizeof(b));
	b.cfg = cfg;
	b.fn = fn;
	b.arg = arg;
	if ((rc = rb_milter_stopped(cfg)) != MUGAI_OK)
		return rc;
	db = mugai_config_quarantine_db(cfg, dbbuf, sizeof(dbbuf));
	snprintf(newpath, sizeof(newpath), "%s.rebuild", db);
	if (sqlite3_open(":memory:", &b.mem) != SQLITE_OK ||
	    sqlite3_exec(b.mem, rb_schema, NULL, NULL, NULL) != SQLITE_OK) {
		rc = rb_sqlfail(&b, "starting");
		goto out;
	}
	rc = rb_build(&b, newpath);
	/* Closing checkpoints the new index into its one file. */
	mugai_quarantine_close(b.q);
	b.q = NULL;
	if (rc != MUGAI_OK)
		goto out;
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(keep, sizeof(keep), "%s.damaged-%s", db, stamp);
	if ((moved = rb_move_aside(db, keep)) == -1 ||
	    rename(newpath, db) == -1) {
		mugai_qerr_set("cannot put the new index %s in place of %s: %s",
		    newpath, db, strerror(errno));
		rc = MUGAI_ERR_IO;
		goto out;
	}
	if (moved)
		rb_say(&b, "kept the old index as %s", keep);
	rb_say(&b, "new index %s: %zu messages", db, b.rows);
	*nrows = b.rows;
out:
	if (rc != MUGAI_OK)
		rb_unlink_db(newpath);
	sqlite3_close(b.mem);
	return rc;
}
