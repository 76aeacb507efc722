/*
 * quarantine_pg.c - the quarantine in PostgreSQL (libpq): index, originals
 * and audit rows, so several gateway hosts share one quarantine.
 *
 * quarantine_db = postgresql://... or a conninfo string ("host=... dbname=
 * ...") selects it.  The password comes from quarantine_db_password_file,
 * or libpq's own PGPASSWORD / ~/.pgpass: never from a command line.
 *
 * Each process keeps a small pool of connections (quarantine_db_pool),
 * one per call at a time; a connection that broke is made again on its
 * next use.  While the server cannot be reached every call fails at once
 * with MUGAI_ERR_LIMIT (a temporary failure: the MTA retries the message)
 * and the reason is logged once, when it goes down, and once more when
 * it is back; a new connection is tried at most once a second.
 *
 * Every state change is one conditional UPDATE ... WHERE status = ANY
 * (...) RETURNING: the row lock makes a second command racing on the
 * same message see the first one's change, so exactly one wins, on any
 * node; a release request's state changes the same way (table
 * requests, schema version 2).  Originals are rows of QPG_CHUNK bytes
 * in one transaction with their header row (all of a message or none of
 * it), read back chunk by chunk so no more than one chunk is in memory
 * per reader.
 *
 * The schema is made and upgraded only by "mugai quarantine migrate"
 * (migrate below); open refuses a database whose schema is missing or
 * of another version, naming the command.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "mugai/base/buf.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "quarantine_backend.h"

#define QPG_VERSION	2
#define QPG_CHUNK	(1024 * 1024)
#define QPG_PASSWORD_MAX 1024
#define QPG_RETRY	1	/* seconds between tries while down */

struct qpg_slot {
	PGconn	*conn;
	int	 busy;
};

struct qpg {
	pthread_mutex_t lock;
	pthread_cond_t free_slot;
	struct qpg_slot *slots;
	size_t	 nslots;
	char	*conninfo;
	char	*password;	/* NULL: libpq finds it */
	char	*label;		/* "PostgreSQL database D on H" */
	char	 timeout_s[16];	/* connect_timeout, unless conninfo has one */
	unsigned timeout;
	int	 down;		/* the server could not be reached */
	time_t	 next_try;	/* while down: no new connection before */
	char	 host[64];	/* this node, for audit rows */
};

/* Version 1.  A newer mugai adds "if version < N" steps in qpg_migrate. */
static const char qpg_schema_v1[] =
	"CREATE TABLE messages ("
	" id text PRIMARY KEY,"
	" received bigint NOT NULL,"
	" queue_id text NOT NULL DEFAULT '',"
	" client_addr text NOT NULL DEFAULT '',"
	" sender text NOT NULL DEFAULT '',"
	" recipients text[] NOT NULL DEFAULT '{}',"
	" subject text NOT NULL DEFAULT '',"
	" size bigint NOT NULL,"
	" sha256 text NOT NULL,"
	" verdict text NOT NULL DEFAULT '',"
	" reasons text NOT NULL DEFAULT '',"
	" report_json text NOT NULL DEFAULT '',"
	" notice text NOT NULL DEFAULT '',"
	" status text NOT NULL"
	"  CHECK (status IN ('held', 'releasing', 'released', 'deleted')),"
	" changed bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX messages_received ON messages(received);"
	"CREATE TABLE actions ("
	" seq bigserial PRIMARY KEY,"
	" id text NOT NULL REFERENCES messages(id),"
	" time bigint NOT NULL,"
	" actor text NOT NULL,"
	" action text NOT NULL,"
	" detail text NOT NULL DEFAULT '',"
	" reason text NOT NULL DEFAULT '');"
	"CREATE INDEX actions_id ON actions(id);"
	"CREATE TABLE originals ("
	" id text PRIMARY KEY,"
	" size bigint NOT NULL,"
	" nchunks integer NOT NULL,"
	" stored bigint NOT NULL);"
	"CREATE TABLE original_chunks ("
	" id text NOT NULL REFERENCES originals(id) ON DELETE CASCADE,"
	" seq integer NOT NULL,"
	" data bytea NOT NULL,"
	" PRIMARY KEY (id, seq));"
	"ALTER TABLE original_chunks ALTER COLUMN data SET STORAGE EXTERNAL;"
	"CREATE TABLE audit ("
	" seq bigserial PRIMARY KEY,"
	" logged timestamptz NOT NULL DEFAULT now(),"
	" node text NOT NULL DEFAULT '',"
	" line text NOT NULL);";

/*
 * Version 1 to 2: release requests (mugai/quarantine/request.h), as
 * SQLite's version 3.  Only a new table, so every row is kept.  The
 * partial unique index is what makes "one open request per requester
 * and message" hold between two nodes adding at once.
 */
static const char qpg_schema_v2[] =
	"CREATE TABLE requests ("
	" reqid bigserial PRIMARY KEY,"
	" id text NOT NULL REFERENCES messages(id),"
	" requested bigint NOT NULL,"
	" requester text NOT NULL,"
	" notify text NOT NULL DEFAULT '',"
	" reason text NOT NULL,"
	" state text NOT NULL"
	"  CHECK (state IN ('pending', 'approving', 'approved', 'refused')),"
	" decided bigint NOT NULL DEFAULT 0,"
	" decider text NOT NULL DEFAULT '',"
	" decision text NOT NULL DEFAULT '',"
	" release_to text NOT NULL DEFAULT '');"
	"CREATE INDEX requests_id ON requests(id);"
	"CREATE INDEX requests_state ON requests(state);"
	"CREATE UNIQUE INDEX requests_open ON requests(id, requester)"
	" WHERE state IN ('pending', 'approving');";

/*
 * Columns of a record, in the order qpg_record() reads them.  The
 * recipients come as one text, '\n' between them, '\' and newlines
 * escaped, so no array syntax needs parsing here.
 */
#define QPG_COLS \
	"id, received, queue_id, client_addr, sender," \
	" coalesce((SELECT string_agg(replace(replace(r, '\\', '\\\\')," \
	"  E'\\n', '\\n'), E'\\n' ORDER BY o) FROM unnest(recipients)" \
	"  WITH ORDINALITY u(r, o)), '')," \
	" subject, size, sha256, verdict, reasons, status, changed"
#define QPG_NCOLS	13

/* ---- connections -------------------------------------------------------- */

/* The part of the conninfo people may see: never the password. */
static char *
qpg_label(const char *conninfo)
{
	PQconninfoOption *o, *opts;
	const char *db = NULL, *host = NULL, *port = NULL;
	char buf[512];

	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return strdup("PostgreSQL (quarantine_db)");
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
	}
	snprintf(buf, sizeof(buf), "PostgreSQL database %s on %s%s%s",
	    db != NULL ? db : "(default)", host != NULL ? host : "(default)",
	    port != NULL ? " port " : "", port != NULL ? port : "");
	PQconninfoFree(opts);
	return strdup(buf);
}

/* Nonzero when conninfo sets key itself. */
static int
qpg_conninfo_has(const char *conninfo, const char *key)
{
	PQconninfoOption *o, *opts;
	int has = 0;

	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return 0;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL &&
		    o->val[0] != '\0')
			has = 1;
	PQconninfoFree(opts);
	return has;
}

/* The first line of path, for a password; NULL with err set. */
static char *
qpg_read_password(const char *path, char *err, size_t errlen)
{
	char buf[QPG_PASSWORD_MAX + 2];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "cannot read quarantine_db_password_file"
		    " %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	if (n > QPG_PASSWORD_MAX) {
		snprintf(err, errlen, "quarantine_db_password_file %s: the first"
		    " line is longer than %d bytes", path, QPG_PASSWORD_MAX);
		return NULL;
	}
	buf[n] = '\0';
	return strdup(buf);
}

static void
qpg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *
qpg_connect(struct qpg *s)
{
	const char *keys[6], *vals[6];
	size_t n = 0;
	PGconn *c;

	keys[n] = "dbname"; vals[n++] = s->conninfo;
	keys[n] = "fallback_application_name"; vals[n++] = "mugai";
	if (s->timeout_s[0] != '\0') {
		keys[n] = "connect_timeout"; vals[n++] = s->timeout_s;
	}
	if (s->password != NULL) {
		keys[n] = "password"; vals[n++] = s->password;
	}
	keys[n] = NULL; vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c != NULL && PQstatus(c) == CONNECTION_OK) {
		/* NOTICEs are not for the admin's terminal or mail log. */
		PQsetNoticeProcessor(c, qpg_notice, NULL);
		/* Bound what one statement may wait for a lock or run. */
		char sql[128];
		PGresult *res;

		snprintf(sql, sizeof(sql), "SET lock_timeout = %u;"
		    " SET statement_timeout = %u", s->timeout * 1000,
		    s->timeout * 6000);
		res = PQexec(c, sql);
		PQclear(res);
	}
	return c;
}

/* A first line of libpq's message, for one-line logs. */
static void
qpg_msg(PGconn *c, char *buf, size_t len)
{
	const char *m = c != NULL ? PQerrorMessage(c) : "out of memory";

	snprintf(buf, len, "%s", m != NULL && *m != '\0' ? m : "unknown error");
	buf[strcspn(buf, "\n")] = '\0';
}

/* The server went away: say so once, for every message it defers. */
static void
qpg_went_down(struct qpg *s, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->next_try = time(NULL) + QPG_RETRY;
	if (!s->down) {
		s->down = 1;
		mugai_log(LOG_ERR, NULL, "quarantine: %s cannot be reached (%s);"
		    " messages that need their original stored get a temporary"
		    " failure until it is back (this is logged once)", s->label,
		    why);
	}
	pthread_mutex_unlock(&s->lock);
}

static void
qpg_came_back(struct qpg *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->down) {
		s->down = 0;
		mugai_log(LOG_NOTICE, NULL, "quarantine: %s is reachable again",
		    s->label);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Nonzero when the idle conn has been closed by the server meanwhile. */
static int
qpg_stale(PGconn *c)
{
	struct pollfd p;

	if (PQstatus(c) != CONNECTION_OK)
		return 1;
	p.fd = PQsocket(c);
	p.events = POLLIN;
	p.revents = 0;
	/* An idle connection has nothing to read unless it is closing. */
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (!PQconsumeInput(c))
		return 1;
	return PQstatus(c) != CONNECTION_OK;
}

/*
 * Take a free slot, waiting at most the busy timeout for one, and make
 * sure it holds a live connection.
 */
static mugai_status
qpg_get(struct qpg *s, const char *what, struct qpg_slot **out)
{
	struct timespec dl;
	struct qpg_slot *sl = NULL;
	char why[256];
	size_t i;
	int r = 0, wait;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)s->timeout;
	pthread_mutex_lock(&s->lock);
	while (sl == NULL) {
		for (i = 0; i < s->nslots && sl == NULL; i++)
			if (!s->slots[i].busy)
				sl = &s->slots[i];
		if (sl != NULL || r == ETIMEDOUT)
			break;
		r = pthread_cond_clockwait(&s->free_slot, &s->lock,
		    CLOCK_MONOTONIC, &dl);
	}
	if (sl != NULL)
		sl->busy = 1;
	wait = s->down && time(NULL) < s->next_try;
	pthread_mutex_unlock(&s->lock);
	if (sl == NULL) {
		mugai_qerr_set("quarantine %s: waited %us for a free connection"
		    " while %s; retry, or raise quarantine_db_pool", s->label,
		    s->timeout, what);
		return MUGAI_ERR_LIMIT;
	}
	if (sl->conn != NULL && !qpg_stale(sl->conn)) {
		*out = sl;
		return MUGAI_OK;
	}
	PQfinish(sl->conn);
	sl->conn = NULL;
	if (wait) {
		mugai_qerr_set("quarantine %s is unavailable (the log says"
		    " why, once); retry later", s->label);
		goto fail;
	}
	sl->conn = qpg_connect(s);
	if (sl->conn == NULL || PQstatus(sl->conn) != CONNECTION_OK) {
		qpg_msg(sl->conn, why, sizeof(why));
		mugai_qerr_set("quarantine %s is unavailable: %s; retry later",
		    s->label, why);
		qpg_went_down(s, why);
		PQfinish(sl->conn);
		sl->conn = NULL;
		goto fail;
	}
	qpg_came_back(s);
	*out = sl;
	return MUGAI_OK;
fail:
	pthread_mutex_lock(&s->lock);
	sl->busy = 0;
	pthread_cond_signal(&s->free_slot);
	pthread_mutex_unlock(&s->lock);
	return MUGAI_ERR_LIMIT;
}

static void
qpg_put(struct qpg *s, struct qpg_slot *sl)
{
	/* A connection left inside a transaction is not reused as is. */
	if (sl->conn != NULL && (PQstatus(sl->conn) != CONNECTION_OK ||
	    PQtransactionStatus(sl->conn) != PQTRANS_IDLE)) {
		PQfinish(sl->conn);
		sl->conn = NULL;
	}
	pthread_mutex_lock(&s->lock);
	sl->busy = 0;
	pthread_cond_signal(&s->free_slot);
	pthread_mutex_unlock(&s->lock);
}

/* ---- statements --------------------------------------------------------- */

/* Turn a failed result into a status and this thread's message. */
static mugai_status
qpg_fail(struct qpg *s, PGconn *c, PGresult *res, const char *what)
{
	const char *state = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char why[512];

	qpg_msg(c, why, sizeof(why));
	if (PQstatus(c) != CONNECTION_OK) {
		mugai_qerr_set("quarantine %s is unavailable: connection lost"
		    " while %s: %s; retry later", s->label, what, why);
		qpg_went_down(s, why);
		return MUGAI_ERR_LIMIT;
	}
	mugai_qerr_set("quarantine %s: %s: %s", s->label, what, why);
	if (state == NULL)
		return MUGAI_ERR_INTERNAL;
	if (strcmp(state, "23505") == 0)
		return MUGAI_ERR_USAGE;		/* unique_violation */
	if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
	    strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strncmp(state, "53", 2) == 0 || strncmp(state, "57", 2) == 0)
		return MUGAI_ERR_LIMIT;		/* locks, timeouts, shutdown */
	if (strncmp(state, "42", 2) == 0) {
		mugai_qerr_set("quarantine %s: %s: %s; run 'mugai quarantine"
		    " migrate'", s->label, what, why);
		return MUGAI_ERR_CONFIG;
	}
	return MUGAI_ERR_IO;
}

/*
 * Run sql with text parameters (binary where len[i] > 0); *out gets the
 * result when it has rows (else it is cleared).  fmt: result format.
 */
static mugai_status
qpg_run(struct qpg *s, PGconn *c, const char *sql, int n,
    const char *const *v, const int *len, int fmt, PGresult **out,
    const char *what)
{
	int formats[16], i;
	PGresult *res;
	ExecStatusType st;

	if (out != NULL)
		*out = NULL;
	for (i = 0; i < n && i < 16; i++)
		formats[i] = len != NULL && len[i] > 0 ? 1 : 0;
	res = PQexecParams(c, sql, n, NULL, v, len, formats, fmt);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		mugai_status rc = qpg_fail(s, c, res, what);

		PQclear(res);
		return rc;
	}
	if (out != NULL && st == PGRES_TUPLES_OK)
		*out = res;
	else
		PQclear(res);
	return MUGAI_OK;
}

/* sql may hold several statements (PQexec, no parameters). */
static mugai_status
qpg_simple(struct qpg *s, PGconn *c, const char *sql, const char *what)
{
	PGresult *res;
	ExecStatusType st;
	mugai_status rc = MUGAI_OK;

	res = PQexec(c, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = qpg_fail(s, c, res, what);
	PQclear(res);
	return rc;
}

static void
qpg_rollback(PGconn *c)
{
	PQclear(PQexec(c, "ROLLBACK"));
}

/* ---- open, migrate, close ---------------------------------------------- */

static void
qpg_close(void *ctx)
{
	struct qpg *s = ctx;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; s->slots != NULL && i < s->nslots; i++)
		PQfinish(s->slots[i].conn);
	free(s->slots);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->free_slot);
	free(s->conninfo);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s->label);
	free(s);
}

static mugai_status
qpg_new(const struct mugai_config *cfg, struct qpg **out, char *err,
    size_t errlen)
{
	pthread_condattr_t ca;
	struct qpg *s;
	char *msg = NULL;
	PQconninfoOption *opts;

	*out = NULL;
	if ((opts = PQconninfoParse(cfg->quarantine_db, &msg)) == NULL) {
		snprintf(err, errlen, "quarantine_db is not a PostgreSQL"
		    " connection string: %s; write postgresql://HOST/DB or"
		    " \"host=... dbname=...\"", msg != NULL ? msg :
		    "out of memory");
		PQfreemem(msg);
		return MUGAI_ERR_CONFIG;
	}
	PQconninfoFree(opts);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->free_slot, &ca);
	pthread_condattr_destroy(&ca);
	s->timeout = cfg->quarantine_busy_timeout;
	s->nslots = cfg->quarantine_db_pool > 0 ? cfg->quarantine_db_pool : 1;
	if (!qpg_conninfo_has(cfg->quarantine_db, "connect_timeout"))
		snprintf(s->timeout_s, sizeof(s->timeout_s), "%u",
		    s->timeout < 2 ? 2 : s->timeout);
	if (gethostname(s->host, sizeof(s->host)) == -1)
		s->host[0] = '\0';
	s->host[sizeof(s->host) - 1] = '\0';
	if ((s->slots = calloc(s->nslots, sizeof(*s->slots))) == NULL ||
	    (s->conninfo = strdup(cfg->quarantine_db)) == NULL ||
	    (s->label = qpg_label(cfg->quarantine_db)) == NULL) {
		qpg_close(s);
		goto nomem;
	}
	if (cfg->quarantine_db_password_file[0] != '\0' &&
	    (s->password = qpg_read_password(cfg->quarantine_db_password_file,
	    err, errlen)) == NULL) {
		qpg_close(s);
		return MUGAI_ERR_CONFIG;
	}
	*out = s;
	return MUGAI_OK;
nomem:
	snprintf(err, errlen, "out of memory");
	return MUGAI_ERR_NOMEM;
}

/* The schema version; 0 when there is none yet. */
static mugai_status
qpg_version(struct qpg *s, PGconn *c, int *version)
{
	PGresult *res = NULL;
	mugai_status rc;

	*version = 0;
	/* Two statements: a missing table fails the second at parse time. */
	rc = qpg_run(s, c, "SELECT to_regclass('mugai_schema') IS NOT NULL",
	    0, NULL, NULL, 0, &res, "reading its schema version");
	if (rc != MUGAI_OK || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return rc;
	}
	PQclear(res);
	rc = qpg_run(s, c, "SELECT max(version) FROM mugai_schema", 0, NULL,
	    NULL, 0, &res, "reading its schema version");
	if (rc == MUGAI_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/*
 * The schema is checked on the first connection; a server that cannot
 * be reached is not an error here (mugai-milter starts, and defers
 * what needs the quarantine until it is back).
 */
static mugai_status
qpg_open(const struct mugai_config *cfg, const char *path, void **ctxp,
    char *err, size_t errlen)
{
	struct qpg_slot *sl;
	struct qpg *s;
	mugai_status rc;
	int version = 0;

	(void)path;
	*ctxp = NULL;
	if ((rc = qpg_new(cfg, &s, err, errlen)) != MUGAI_OK)
		return rc;
	rc = qpg_get(s, "opening it", &sl);
	if (rc == MUGAI_ERR_LIMIT) {
		*ctxp = s;
		return MUGAI_OK;
	}
	if (rc == MUGAI_OK) {
		rc = qpg_version(s, sl->conn, &version);
		qpg_put(s, sl);
	}
	if (rc == MUGAI_OK && version != QPG_VERSION) {
		mugai_qerr_set("quarantine %s has schema version %d, this mugai"
		    " needs %d; run 'mugai quarantine migrate'%s", s->label,
		    version, QPG_VERSION, version > QPG_VERSION ?
		    " with a newer mugai" : "");
		rc = MUGAI_ERR_CONFIG;
	}
	if (rc != MUGAI_OK) {
		snprintf(err, errlen, "%s", mugai_quarantine_error());
		qpg_close(s);
		return rc;
	}
	*ctxp = s;
	return MUGAI_OK;
}

/*
 * One transaction under an advisory lock, so two nodes migrating at
 * once do it once.
 */
static mugai_status
qpg_migrate(const struct mugai_config *cfg, int *from, int *to, char *err,
    size_t errlen)
{
	struct qpg_slot *sl = NULL;
	struct qpg *s;
	mugai_status rc;
	PGconn *c;

	*from = *to = 0;
	if ((rc = qpg_new(cfg, &s, err, errlen)) != MUGAI_OK)
		return rc;
	if ((rc = qpg_get(s, "migrating it", &sl)) != MUGAI_OK)
		goto out;
	c = sl->conn;
	rc = qpg_simple(s, c, "BEGIN; SET LOCAL lock_timeout = 0;"
	    " SET LOCAL statement_timeout = 0;"
	    " SELECT pg_advisory_xact_lock(1836410465);"
	    " CREATE TABLE IF NOT EXISTS mugai_schema (version integer NOT"
	    " NULL, applied timestamptz NOT NULL DEFAULT now())",
	    "creating its version table");
	if (rc == MUGAI_OK)
		rc = qpg_version(s, c, from);
	*to = *from;
	if (rc == MUGAI_OK && *from > QPG_VERSION) {
		mugai_qerr_set("quarantine %s has schema version %d, newer than"
		    " this mugai understands (%d); upgrade mugai", s->label,
		    *from, QPG_VERSION);
		rc = MUGAI_ERR_CONFIG;
	}
	if (rc == MUGAI_OK && *from < 1) {
		rc = qpg_simple(s, c, qpg_schema_v1, "creating its tables");
		if (rc == MUGAI_OK)
			rc = qpg_simple(s, c, "INSERT INTO mugai_schema (version)"
			    " VALUES (1)", "recording its version");
		*to = 1;
	}
	if (rc == MUGAI_OK && *from < 2) {
		rc = qpg_simple(s, c, qpg_schema_v2, "upgrading it to version 2");
		if (rc == MUGAI_OK)
			rc = qpg_simple(s, c, "INSERT INTO mugai_schema (version)"
			    " VALUES (2)", "recording its version");
		*to = 2;
	}
	if (rc == MUGAI_OK)
		rc = qpg_simple(s, c, "COMMIT", "committing the schema");
	if (rc != MUGAI_OK)
		qpg_rollback(c);
out:
	if (sl != NULL)
		qpg_put(s, sl);
	if (rc != MUGAI_OK)
		snprintf(err, errlen, "%s", mugai_quarantine_error());
	qpg_close(s);
	return rc;
}

/* ---- rows --------------------------------------------------------------- */

/* recipients as a text[] literal: {"a","b"} with '"' and '\' escaped. */
static mugai_status
qpg_array(const struct mugai_qentry *e, struct mugai_buf *b)
{
	mugai_status rc;
	const char *p;
	size_t i;

	rc = mugai_buf_putc(b, '{');
	for (i = 0; rc == MUGAI_OK && i < e->nrecipients; i++) {
		if (i > 0)
			rc = mugai_buf_putc(b, ',');
		if (rc == MUGAI_OK)
			rc = mugai_buf_putc(b, '"');
		for (p = e->recipients[i] != NULL ? e->recipients[i] : "";
		    rc == MUGAI_OK && *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				rc = mugai_buf_putc(b, '\\');
			if (rc == MUGAI_OK)
				rc = mugai_buf_putc(b, *p);
		}
		if (rc == MUGAI_OK)
			rc = mugai_buf_putc(b, '"');
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(b, '}');
	return rc;
}

static const char *
qpg_s(const char *v)
{
	return v != NULL ? v : "";
}

static mugai_status
qpg_insert(void *ctx, const struct mugai_qentry *e, const char *sha256,
    const char *relpath)
{
	static const char sql[] =
	    "INSERT INTO messages (id, received, queue_id, client_addr,"
	    " sender, recipients, subject, size, sha256, verdict, reasons,"
	    " report_json, notice, status, changed) VALUES ($1, $2, $3, $4,"
	    " $5, $6, $7, $8, $9, $10, $11, $12, $13, 'held', $2)";
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	struct mugai_buf rcpt;
	char received[32], size[32];
	const char *v[13];
	mugai_status rc;

	(void)relpath;
	mugai_buf_init(&rcpt, 1024 * 1024);
	if ((rc = qpg_array(e, &rcpt)) != MUGAI_OK) {
		mugai_qerr_set("%s: recipient list too long", e->id);
		mugai_buf_free(&rcpt);
		return rc;
	}
	snprintf(received, sizeof(received), "%lld", (long long)e->received);
	snprintf(size, sizeof(size), "%zu", e->size);
	v[0] = e->id; v[1] = received; v[2] = qpg_s(e->queue_id);
	v[3] = qpg_s(e->client_addr); v[4] = qpg_s(e->sender);
	v[5] = rcpt.data; v[6] = qpg_s(e->subject); v[7] = size;
	v[8] = sha256; v[9] = qpg_s(e->verdict); v[10] = qpg_s(e->reasons);
	v[11] = qpg_s(e->report_json); v[12] = qpg_s(e->notice);
	if ((rc = qpg_get(s, "adding a message", &sl)) == MUGAI_OK) {
		rc = qpg_run(s, sl->conn, sql, 13, v, NULL, 0, NULL,
		    "adding a message");
		qpg_put(s, sl);
	}
	mugai_buf_free(&rcpt);
	return rc;
}

static char *
qpg_dup(const PGresult *res, int row, int col)
{
	return strdup(PQgetisnull(res, row, col) ? "" :
	    PQgetvalue(res, row, col));
}

/* Split the escaped, newline-separated recipients of QPG_COLS. */
static mugai_status
qpg_recipients(const char *t, struct mugai_qrecord *r)
{
	const char *p;
	char **v, *d;

	if (*t == '\0')
		return MUGAI_OK;
	for (;;) {
		v = realloc(r->recipients, (r->nrecipients + 1) * sizeof(*v));
		if (v == NULL)
			return MUGAI_ERR_NOMEM;
		r->recipients = v;
		if ((d = malloc(strcspn(t, "\n") + 1)) == NULL)
			return MUGAI_ERR_NOMEM;
		v[r->nrecipients++] = d;
		for (p = t; *p != '\0' && *p != '\n'; p++) {
			if (*p == '\\' && p[1] == 'n') {
				*d++ = '\n';
				p++;
			} else if (*p == '\\' && p[1] == '\\') {
				*d++ = '\\';
				p++;
			} else
				*d++ = *p;
		}
		*d = '\0';
		if (*p == '\0')
			return MUGAI_OK;
		t = p + 1;
	}
}

static mugai_status
qpg_record(struct qpg *s, const PGresult *res, int row, int full,
    struct mugai_qrecord **out)
{
	struct mugai_qrecord *r;
	size_t n;

	(void)s;
	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->received = (time_t)strtoll(PQgetvalue(res, row, 1), NULL, 10);
	r->size = (size_t)strtoull(PQgetvalue(res, row, 7), NULL, 10);
	r->changed = (time_t)strtoll(PQgetvalue(res, row, 12), NULL, 10);
	if ((r->id = qpg_dup(res, row, 0)) == NULL ||
	    (r->queue_id = qpg_dup(res, row, 2)) == NULL ||
	    (r->client_addr = qpg_dup(res, row, 3)) == NULL ||
	    (r->sender = qpg_dup(res, row, 4)) == NULL ||
	    (r->subject = qpg_dup(res, row, 6)) == NULL ||
	    (r->sha256 = qpg_dup(res, row, 8)) == NULL ||
	    (r->verdict = qpg_dup(res, row, 9)) == NULL ||
	    (r->reasons = qpg_dup(res, row, 10)) == NULL ||
	    (r->status = qpg_dup(res, row, 11)) == NULL)
		goto nomem;
	if (full && ((r->report_json = qpg_dup(res, row, 13)) == NULL ||
	    (r->notice = qpg_dup(res, row, 14)) == NULL))
		goto nomem;
	/* Not a file: where an admin finds it, for messages. */
	n = strlen(r->id) + 32;
	if ((r->path = malloc(n)) == NULL)
		goto nomem;
	snprintf(r->path, n, "postgresql:originals/%s", r->id);
	if (qpg_recipients(PQgetvalue(res, row, 5), r) != MUGAI_OK)
		goto nomem;
	*out = r;
	return MUGAI_OK;
nomem:
	mugai_qrecord_free(r);
	mugai_qerr_set("quarantine: out of memory");
	return MUGAI_ERR_NOMEM;
}

static mugai_status
qpg_get_rec(void *ctx, const char *id, struct mugai_qrecord **out)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	PGresult *res = NULL;
	mugai_status rc;

	*out = NULL;
	if ((rc = qpg_get(s, "looking up a message", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, "SELECT " QPG_COLS ", report_json, notice"
	    " FROM messages WHERE id = $1", 1, &id, NULL, 0, &res,
	    "looking up a message");
	qpg_put(s, sl);
	if (rc == MUGAI_OK && PQntuples(res) == 0) {
		mugai_qerr_set("no message with id %s", id);
		rc = MUGAI_ERR_NOTFOUND;
	} else if (rc == MUGAI_OK)
		rc = qpg_record(s, res, 0, 1, out);
	PQclear(res);
	return rc;
}

/*
 * The rows are fetched whole and the connection given back before the
 * callbacks run: a callback may take its time (or call other handles).
 * Callers that walk everything (purge) ask in batches with a limit.
 */
static mugai_status
qpg_list(void *ctx, const struct mugai_qfilter *f, mugai_qrecord_fn fn,
    void *arg)
{
	static const char sql[] =
	    "SELECT " QPG_COLS " FROM messages m"
	    " WHERE ($1::bigint IS NULL OR received >= $1::bigint)"
	    " AND ($2::bigint IS NULL OR received < $2::bigint)"
	    " AND ($3::text IS NULL OR status = $3::text)"
	    " AND ($4::text IS NULL OR lower(btrim(sender, '<> ')) ="
	    "  lower(btrim($4::text, '<> ')))"
	    " AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM"
	    "  unnest(m.recipients) r WHERE lower(btrim(r, '<> ')) ="
	    "  lower(btrim($5::text, '<> '))))"
	    " ORDER BY received, id LIMIT $6::bigint";
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	struct mugai_qrecord *r;
	char since[32], before[32], limit[32];
	const char *v[6];
	PGresult *res = NULL;
	mugai_status rc;
	int i, n;

	snprintf(since, sizeof(since), "%lld", (long long)f->since);
	snprintf(before, sizeof(before), "%lld", (long long)f->before);
	snprintf(limit, sizeof(limit), "%zu", f->limit);
	v[0] = f->since != 0 ? since : NULL;
	v[1] = f->before != 0 ? before : NULL;
	v[2] = f->status != NULL && *f->status != '\0' ? f->status : NULL;
	v[3] = f->sender != NULL && *f->sender != '\0' ? f->sender : NULL;
	v[4] = f->recipient != NULL && *f->recipient != '\0' ?
	    f->recipient : NULL;
	v[5] = f->limit != 0 ? limit : NULL;
	if ((rc = qpg_get(s, "listing messages", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, sql, 6, v, NULL, 0, &res,
	    "listing messages");
	qpg_put(s, sl);
	n = rc == MUGAI_OK ? PQntuples(res) : 0;
	for (i = 0; i < n; i++) {
		if ((rc = qpg_record(s, res, i, 0, &r)) != MUGAI_OK)
			break;
		i = fn(r, arg) ? n : i;
		mugai_qrecord_free(r);
	}
	PQclear(res);
	return rc;
}

/* The bits of from in st as a text[] literal of their names. */
static void
qpg_states(const struct mugai_qstate *st, unsigned from, char *buf,
    size_t len)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "{");
	for (; st->name != NULL; st++)
		if ((from & st->bit) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n > 1 ? "," : "", st->name);
	if (n < len)
		snprintf(buf + n, len - n, "}");
}

/* One history row, inside the caller's transaction. */
static mugai_status
qpg_add_action(struct qpg *s, PGconn *c, const struct mugai_qaction *a)
{
	char atime[32];
	const char *v[6];

	snprintf(atime, sizeof(atime), "%lld", (long long)a->time);
	v[0] = a->id; v[1] = atime; v[2] = qpg_s(a->actor);
	v[3] = qpg_s(a->action); v[4] = qpg_s(a->detail);
	v[5] = qpg_s(a->reason);
	return qpg_run(s, c, "INSERT INTO actions (id, time, actor, action,"
	    " detail, reason) VALUES ($1, $2, $3, $4, $5, $6)", 6, v, NULL, 0,
	    NULL, "recording an action");
}

/*
 * One compare-and-set of a row's state, for qpg_transition and
 * qpg_request_transition: upd is one conditional UPDATE that locks the
 * row (FOR UPDATE) and returns its old state when the state was
 * allowed, so of two commands on one row (on any node) the second
 * re-reads it after the first commits and finds its state no longer
 * allowed.  When nothing changed, sel ($1 = v[0]) tells whether the row
 * is in another state or gone.  The action goes in the same
 * transaction.
 */
struct qpg_cas {
	const char	*what;		/* "changing a status", for errors */
	const char	*upd;		/* UPDATE ... RETURNING the old state */
	int		 nv;
	const char	*const *v;	/* upd's parameters; v[0] the key */
	const char	*sel;		/* SELECT the state WHERE key = $1 */
	const char	*label;		/* the row in errors: "ID is deleted" */
	const char	*gone;		/* the error when there is no row */
};

static mugai_status
qpg_cas_run(struct qpg *s, PGconn *c, const struct qpg_cas *x, char *cur,
    size_t curlen)
{
	PGresult *res = NULL;
	mugai_status rc;

	rc = qpg_run(s, c, x->upd, x->nv, x->v, NULL, 0, &res, x->what);
	if (rc == MUGAI_OK && PQntuples(res) == 1) {
		snprintf(cur, curlen, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		return MUGAI_OK;
	}
	PQclear(res);
	if (rc != MUGAI_OK)
		return rc;
	/* Not changed: say what it is (or that it is not there). */
	rc = qpg_run(s, c, x->sel, 1, x->v, NULL, 0, &res, x->what);
	if (rc == MUGAI_OK && PQntuples(res) == 1) {
		snprintf(cur, curlen, "%s", PQgetvalue(res, 0, 0));
		mugai_qerr_set("%s is %s", x->label, cur);
		rc = MUGAI_ERR_STATE;
	} else if (rc == MUGAI_OK) {
		mugai_qerr_set("%s", x->gone);
		rc = MUGAI_ERR_NOTFOUND;
	}
	PQclear(res);
	return rc;
}

static mugai_status
qpg_cas(struct qpg *s, const struct qpg_cas *x, const struct mugai_qaction *a,
    char *was, size_t waslen)
{
	struct qpg_slot *sl;
	char cur[16] = "";
	mugai_status rc;

	if ((rc = qpg_get(s, x->what, &sl)) != MUGAI_OK)
		goto out;
	rc = qpg_simple(s, sl->conn, "BEGIN", x->what);
	if (rc == MUGAI_OK)
		rc = qpg_cas_run(s, sl->conn, x, cur, sizeof(cur));
	if (rc == MUGAI_OK && a != NULL)
		rc = qpg_add_action(s, sl->conn, a);
	if (rc == MUGAI_OK)
		rc = qpg_simple(s, sl->conn, "COMMIT", x->what);
	else if (PQstatus(sl->conn) == CONNECTION_OK)
		qpg_rollback(sl->conn);
	qpg_put(s, sl);
out:
	if (was != NULL && waslen > 0)
		snprintf(was, waslen, "%s", cur);
	return rc;
}

/* A message's status, by qpg_cas; to NULL: tested, not changed. */
static mugai_status
qpg_transition(void *ctx, const char *id, unsigned from, const char *to,
    const struct mugai_qaction *a, char *was, size_t waslen)
{
	static const char upd[] =
	    "UPDATE messages m SET status = coalesce($2::text, m.status),"
	    " changed = CASE WHEN $2::text IS NULL THEN m.changed"
	    "  ELSE $3::bigint END"
	    " FROM (SELECT id, status FROM messages WHERE id = $1"
	    "  FOR UPDATE) o"
	    " WHERE m.id = o.id AND (m.status = ANY ($4::text[])"
	    "  OR ($5::boolean AND m.status = 'releasing'"
	    "  AND m.changed < $3::bigint - $6::bigint))"
	    " RETURNING o.status";
	char now[32], set[64], stale[16], gone[300];
	const char *v[6];
	struct qpg_cas x = { "changing a status", upd, 6, v,
	    "SELECT status FROM messages WHERE id = $1", id, gone };

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(stale, sizeof(stale), "%d", Q_STALE_RELEASE);
	snprintf(gone, sizeof(gone), "no message with id %s", id);
	qpg_states(mugai_qmsg_states, from, set, sizeof(set));
	v[0] = id; v[1] = to; v[2] = now; v[3] = set;
	v[4] = from & Q_ST_STALE ? "true" : "false"; v[5] = stale;
	return qpg_cas(ctx, &x, a, was, waslen);
}

/*
 * The database checks its own pages; what is ours to check is that the
 * schema is the one expected and every original has all its chunks.
 */
static mugai_status
qpg_check(void *ctx, int quick, void (*fn)(const char *msg, void *arg),
    void *arg, size_t *n)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	PGresult *res = NULL;
	mugai_status rc;
	char line[256];
	int version = 0, i;

	*n = 0;
	rc = qpg_get(s, "checking it", &sl);
	/* At mugai-milter's start: unreachable is not damage. */
	if (rc == MUGAI_ERR_LIMIT && quick)
		return MUGAI_OK;
	if (rc != MUGAI_OK)
		return rc;
	rc = qpg_version(s, sl->conn, &version);
	if (rc == MUGAI_OK && version != QPG_VERSION) {
		snprintf(line, sizeof(line), "schema version %d, expected %d"
		    " (run 'mugai quarantine migrate')", version, QPG_VERSION);
		(*n)++;
		fn(line, arg);
	}
	if (rc == MUGAI_OK && !quick && version == QPG_VERSION)
		rc = qpg_run(s, sl->conn, "SELECT o.id, o.nchunks, count(c.seq),"
		    " o.size, coalesce(sum(length(c.data)), 0) FROM originals o"
		    " LEFT JOIN original_chunks c ON c.id = o.id GROUP BY o.id"
		    " HAVING count(c.seq) <> o.nchunks OR"
		    " coalesce(sum(length(c.data)), 0) <> o.size", 0, NULL, NULL,
		    0, &res, "checking it");
	qpg_put(s, sl);
	for (i = 0; res != NULL && i < PQntuples(res); i++) {
		snprintf(line, sizeof(line), "original %.64s: %s of %s chunks,"
		    " %s of %s bytes", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 4), PQgetvalue(res, i, 3));
		(*n)++;
		fn(line, arg);
	}
	PQclear(res);
	return rc;
}

static mugai_status
qpg_delete(void *ctx, const char *id)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	mugai_status rc;

	if ((rc = qpg_get(s, "removing a message", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_simple(s, sl->conn, "BEGIN", "removing a message");
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "DELETE FROM requests WHERE id = $1",
		    1, &id, NULL, 0, NULL, "removing a message");
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "DELETE FROM actions WHERE id = $1",
		    1, &id, NULL, 0, NULL, "removing a message");
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "DELETE FROM messages WHERE id = $1",
		    1, &id, NULL, 0, NULL, "removing a message");
	if (rc == MUGAI_OK)
		rc = qpg_simple(s, sl->conn, "COMMIT", "removing a message");
	else if (PQstatus(sl->conn) == CONNECTION_OK)
		qpg_rollback(sl->conn);
	qpg_put(s, sl);
	return rc;
}

static mugai_status
qpg_history(void *ctx, const char *id, mugai_qaction_fn fn, void *arg)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	struct mugai_qaction a;
	PGresult *res = NULL;
	mugai_status rc;
	int i, n;

	if ((rc = qpg_get(s, "reading the history", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, "SELECT id, time, actor, action, detail,"
	    " reason FROM actions WHERE id = $1 ORDER BY seq", 1, &id, NULL, 0,
	    &res, "reading the history");
	qpg_put(s, sl);
	n = rc == MUGAI_OK ? PQntuples(res) : 0;
	for (i = 0; i < n; i++) {
		a.id = PQgetvalue(res, i, 0);
		a.time = (time_t)strtoll(PQgetvalue(res, i, 1), NULL, 10);
		a.actor = PQgetvalue(res, i, 2);
		a.action = PQgetvalue(res, i, 3);
		a.detail = PQgetvalue(res, i, 4);
		a.reason = PQgetvalue(res, i, 5);
		if (fn(&a, arg))
			break;
	}
	PQclear(res);
	return rc;
}

static const char *
qpg_val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/*
 * The report is parsed by PostgreSQL's JSON functions: no second JSON
 * parser to trust.  A report that is not JSON (SQLSTATE class 22)
 * simply has no parts.
 */
static mugai_status
qpg_report_parts(void *ctx, const char *report_json, mugai_qpart_fn fn,
    void *arg)
{
	static const char sql[] =
	    "SELECT p->>'path', p->>'declared_type', p->>'detected_type',"
	    " CASE WHEN jsonb_typeof(p->'size') = 'number'"
	    "  AND abs((p->>'size')::numeric) < 9e18"
	    "  THEN trunc((p->>'size')::numeric)::bigint ELSE -1 END,"
	    " p->>'sha256', p->>'name', p->>'action', p->>'reason'"
	    " FROM jsonb_array_elements(CASE WHEN jsonb_typeof($1::jsonb) ="
	    "  'object' AND jsonb_typeof($1::jsonb->'parts') = 'array'"
	    "  THEN $1::jsonb->'parts' ELSE '[]' END) WITH ORDINALITY t(p, k)"
	    " WHERE jsonb_typeof(p) = 'object' ORDER BY k";
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	struct mugai_qpart p;
	PGresult *res;
	mugai_status rc = MUGAI_OK;
	const char *state;
	int i, n;

	if ((rc = qpg_get(s, "reading a report", &sl)) != MUGAI_OK)
		return rc;
	res = PQexecParams(sl->conn, sql, 1, NULL, &report_json, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state == NULL || strncmp(state, "22", 2) != 0)
			rc = qpg_fail(s, sl->conn, res, "reading a report");
		PQclear(res);
		res = NULL;
	}
	qpg_put(s, sl);
	n = res != NULL ? PQntuples(res) : 0;
	for (i = 0; i < n; i++) {
		p.path = qpg_val(res, i, 0);
		p.declared_type = qpg_val(res, i, 1);
		p.detected_type = qpg_val(res, i, 2);
		p.size = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		p.sha256 = qpg_val(res, i, 4);
		p.name = qpg_val(res, i, 5);
		p.action = qpg_val(res, i, 6);
		p.reason = qpg_val(res, i, 7);
		if (fn(&p, arg))
			break;
	}
	PQclear(res);
	return rc;
}

/* ---- originals ---------------------------------------------------------- */

/*
 * The header row and every chunk in one transaction: a crash or a lost
 * connection leaves nothing.  Each chunk is sent straight from raw (a
 * binary parameter), so no copy of the message is made.
 */
static mugai_status
qpg_blob_put(void *ctx, const char *id, const void *raw, size_t len)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	char size[32], nchunks[32], stored[32], seq[24];
	const char *v[4];
	int lens[4];
	size_t off, n, k;
	mugai_status rc;

	snprintf(size, sizeof(size), "%zu", len);
	snprintf(nchunks, sizeof(nchunks), "%zu",
	    (len + QPG_CHUNK - 1) / QPG_CHUNK);
	snprintf(stored, sizeof(stored), "%lld", (long long)time(NULL));
	if ((rc = qpg_get(s, "storing an original", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_simple(s, sl->conn, "BEGIN", "storing an original");
	v[0] = id; v[1] = size; v[2] = nchunks; v[3] = stored;
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "INSERT INTO originals (id, size,"
		    " nchunks, stored) VALUES ($1, $2, $3, $4)", 4, v, NULL, 0,
		    NULL, "storing an original");
	if (rc == MUGAI_ERR_USAGE)
		mugai_qerr_set("an original of %s is already stored; ids must"
		    " be unique", id);
	for (off = 0, k = 0; rc == MUGAI_OK && off < len; off += n, k++) {
		n = len - off > QPG_CHUNK ? QPG_CHUNK : len - off;
		snprintf(seq, sizeof(seq), "%zu", k);
		v[1] = seq;
		v[2] = (const char *)raw + off;
		lens[0] = 0; lens[1] = 0; lens[2] = (int)n;
		rc = qpg_run(s, sl->conn, "INSERT INTO original_chunks (id, seq,"
		    " data) VALUES ($1, $2, $3)", 3, v, lens, 0, NULL,
		    "storing an original");
	}
	if (rc == MUGAI_OK)
		rc = qpg_simple(s, sl->conn, "COMMIT", "storing an original");
	else if (PQstatus(sl->conn) == CONNECTION_OK)
		qpg_rollback(sl->conn);
	qpg_put(s, sl);
	return rc;
}

/* One snapshot for all chunks: a delete meanwhile cannot cut it short. */
static mugai_status
qpg_blob_get(void *ctx, const char *id,
    mugai_status (*fn)(const void *p, size_t n, void *arg), void *arg)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	char seq[24];
	const char *v[2];
	PGresult *res = NULL;
	mugai_status rc;
	long k, nchunks = 0;

	if ((rc = qpg_get(s, "reading an original", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_simple(s, sl->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", "reading an original");
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "SELECT nchunks FROM originals"
		    " WHERE id = $1", 1, &id, NULL, 0, &res,
		    "reading an original");
	if (rc == MUGAI_OK && PQntuples(res) == 0) {
		mugai_qerr_set("the original of %s is not in %s", id, s->label);
		rc = MUGAI_ERR_NOTFOUND;
	} else if (rc == MUGAI_OK)
		nchunks = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	v[0] = id;
	for (k = 0; rc == MUGAI_OK && k < nchunks; k++) {
		snprintf(seq, sizeof(seq), "%ld", k);
		v[1] = seq;
		rc = qpg_run(s, sl->conn, "SELECT data FROM original_chunks"
		    " WHERE id = $1 AND seq = $2", 2, v, NULL, 1, &res,
		    "reading an original");
		if (rc == MUGAI_OK && PQntuples(res) != 1) {
			mugai_qerr_set("the original of %s in %s lacks chunk %ld"
			    " of %ld; run 'mugai quarantine verify'", id,
			    s->label, k, nchunks);
			rc = MUGAI_ERR_IO;
		} else if (rc == MUGAI_OK)
			rc = fn(PQgetvalue(res, 0, 0),
			    (size_t)PQgetlength(res, 0, 0), arg);
		PQclear(res);
		res = NULL;
	}
	if (PQstatus(sl->conn) == CONNECTION_OK)
		qpg_rollback(sl->conn);
	qpg_put(s, sl);
	return rc;
}

static mugai_status
qpg_blob_delete(void *ctx, const char *id)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	mugai_status rc;

	if ((rc = qpg_get(s, "removing an original", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, "DELETE FROM originals WHERE id = $1", 1,
	    &id, NULL, 0, NULL, "removing an original");
	qpg_put(s, sl);
	return rc;
}

static mugai_status
qpg_blob_walk(void *ctx, mugai_status (*fn)(const char *id, size_t size,
    time_t stored, void *arg), void *arg)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	PGresult *res = NULL;
	mugai_status rc;
	int i, n;

	if ((rc = qpg_get(s, "listing originals", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, "SELECT id, size, stored FROM originals"
	    " ORDER BY id", 0, NULL, NULL, 0, &res, "listing originals");
	qpg_put(s, sl);
	n = rc == MUGAI_OK ? PQntuples(res) : 0;
	for (i = 0; i < n && rc == MUGAI_OK; i++)
		rc = fn(PQgetvalue(res, i, 0),
		    (size_t)strtoull(PQgetvalue(res, i, 1), NULL, 10),
		    (time_t)strtoll(PQgetvalue(res, i, 2), NULL, 10), arg);
	PQclear(res);
	return rc;
}

static void
qpg_audit(void *ctx, const char *json)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	const char *v[2];

	v[0] = s->host;
	v[1] = json;
	/* While down, qpg_get fails at once: plain mail is not slowed. */
	if (qpg_get(s, "writing an audit row", &sl) != MUGAI_OK)
		return;
	if (qpg_run(s, sl->conn, "INSERT INTO audit (node, line) VALUES"
	    " ($1, $2)", 2, v, NULL, 0, NULL, "writing an audit row") !=
	    MUGAI_OK)
		mugai_log(LOG_WARNING, NULL, "quarantine: %s (the line is in"
		    " audit_log)", mugai_quarantine_error());
	qpg_put(s, sl);
}

/* ---- release requests (mugai/quarantine/request.h) -------------------- */

/* Columns of a request, in the order qpg_request() reads them. */
#define QPG_RCOLS \
	"reqid, id, requested, requester, notify, reason, state, decided," \
	" decider, decision, release_to"

static mugai_status
qpg_request(const PGresult *res, int row, struct mugai_qrequest **out)
{
	struct mugai_qrequest *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->reqid = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	r->requested = (time_t)strtoll(PQgetvalue(res, row, 2), NULL, 10);
	r->decided = (time_t)strtoll(PQgetvalue(res, row, 7), NULL, 10);
	if ((r->id = qpg_dup(res, row, 1)) == NULL ||
	    (r->requester = qpg_dup(res, row, 3)) == NULL ||
	    (r->notify = qpg_dup(res, row, 4)) == NULL ||
	    (r->reason = qpg_dup(res, row, 5)) == NULL ||
	    (r->state = qpg_dup(res, row, 6)) == NULL ||
	    (r->decider = qpg_dup(res, row, 8)) == NULL ||
	    (r->decision = qpg_dup(res, row, 9)) == NULL ||
	    (r->release_to = qpg_dup(res, row, 10)) == NULL)
		goto nomem;
	*out = r;
	return MUGAI_OK;
nomem:
	mugai_qrequest_free(r);
	mugai_qerr_set("quarantine: out of memory");
	return MUGAI_ERR_NOMEM;
}

/*
 * MUGAI_ERR_STATE, saying so, when requester has an open request for
 * id; MUGAI_OK when not.
 */
static mugai_status
qpg_request_open(struct qpg *s, PGconn *c, const char *id,
    const char *requester)
{
	const char *v[2];
	PGresult *res = NULL;
	mugai_status rc;

	v[0] = id;
	v[1] = requester;
	rc = qpg_run(s, c, "SELECT reqid FROM requests WHERE id = $1 AND"
	    " requester = $2 AND state IN ('pending', 'approving')", 2, v,
	    NULL, 0, &res, "adding a request");
	if (rc == MUGAI_OK && PQntuples(res) > 0) {
		mugai_qerr_set("%s has asked for %s already (request %s is"
		    " pending)", requester, id, PQgetvalue(res, 0, 0));
		rc = MUGAI_ERR_STATE;
	}
	PQclear(res);
	return rc;
}

/*
 * The checks and the insert in one transaction.  FOR SHARE on the
 * message makes a delete on any node wait for this transaction (or
 * this one see its "deleted"); the partial unique index requests_open
 * makes a second open request by the same requester, from any node,
 * conflict (ON CONFLICT DO NOTHING: no row returned); the plain check
 * before it just spares the sequence a number in the common case.
 */
static mugai_status
qpg_request_add(void *ctx, const char *id, time_t when,
    const char *requester, const char *notify, const char *reason,
    const struct mugai_qaction *a, long long *reqid)
{
	static const char ins[] =
	    "INSERT INTO requests (id, requested, requester, notify, reason,"
	    " state) VALUES ($1, $2, $3, $4, $5, 'pending')"
	    " ON CONFLICT (id, requester) WHERE state IN ('pending',"
	    " 'approving') DO NOTHING RETURNING reqid";
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	char requested[32];
	const char *v[5];
	PGresult *res = NULL;
	mugai_status rc;

	*reqid = 0;
	snprintf(requested, sizeof(requested), "%lld", (long long)when);
	v[0] = id; v[1] = requested; v[2] = requester; v[3] = qpg_s(notify);
	v[4] = qpg_s(reason);
	if ((rc = qpg_get(s, "adding a request", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_simple(s, sl->conn, "BEGIN", "adding a request");
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "SELECT status FROM messages"
		    " WHERE id = $1 FOR SHARE", 1, v, NULL, 0, &res,
		    "adding a request");
	if (rc == MUGAI_OK && PQntuples(res) == 0) {
		mugai_qerr_set("no message with id %s", id);
		rc = MUGAI_ERR_NOTFOUND;
	} else if (rc == MUGAI_OK &&
	    strcmp(PQgetvalue(res, 0, 0), "deleted") == 0) {
		mugai_qerr_set("the original of %s was deleted; it cannot be"
		    " requested", id);
		rc = MUGAI_ERR_STATE;
	}
	PQclear(res);
	res = NULL;
	if (rc == MUGAI_OK)
		rc = qpg_request_open(s, sl->conn, id, requester);
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, ins, 5, v, NULL, 0, &res,
		    "adding a request");
	if (rc == MUGAI_OK && PQntuples(res) == 1)
		*reqid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (rc == MUGAI_OK) {
		/* Another node added one meanwhile. */
		rc = qpg_request_open(s, sl->conn, id, requester);
		if (rc == MUGAI_OK) {
			mugai_qerr_set("%s has asked for %s already",
			    requester, id);
			rc = MUGAI_ERR_STATE;
		}
	}
	PQclear(res);
	if (rc == MUGAI_OK && a != NULL)
		rc = qpg_add_action(s, sl->conn, a);
	if (rc == MUGAI_OK)
		rc = qpg_simple(s, sl->conn, "COMMIT", "adding a request");
	else if (PQstatus(sl->conn) == CONNECTION_OK)
		qpg_rollback(sl->conn);
	if (rc != MUGAI_OK)
		*reqid = 0;
	qpg_put(s, sl);
	return rc;
}

static mugai_status
qpg_request_get(void *ctx, long long reqid, struct mugai_qrequest **out)
{
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	char num[32];
	const char *v[1];
	PGresult *res = NULL;
	mugai_status rc;

	*out = NULL;
	snprintf(num, sizeof(num), "%lld", reqid);
	v[0] = num;
	if ((rc = qpg_get(s, "looking up a request", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, "SELECT " QPG_RCOLS " FROM requests"
	    " WHERE reqid = $1::bigint", 1, v, NULL, 0, &res,
	    "looking up a request");
	qpg_put(s, sl);
	if (rc == MUGAI_OK && PQntuples(res) == 0) {
		mugai_qerr_set("no request %lld; see 'mugai quarantine"
		    " requests'", reqid);
		rc = MUGAI_ERR_NOTFOUND;
	} else if (rc == MUGAI_OK)
		rc = qpg_request(res, 0, out);
	PQclear(res);
	return rc;
}

/* As qpg_list: fetched whole, the connection given back first. */
static mugai_status
qpg_request_list(void *ctx, const struct mugai_qrfilter *f,
    mugai_qrequest_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT " QPG_RCOLS " FROM requests"
	    " WHERE ($1::text IS NULL OR state = $1::text)"
	    " AND ($2::text IS NULL OR id = $2::text)"
	    " AND ($3::text IS NULL OR requester = $3::text)"
	    " ORDER BY reqid LIMIT $4::bigint";
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	struct mugai_qrequest *r;
	char limit[32];
	const char *v[4];
	PGresult *res = NULL;
	mugai_status rc;
	int i, n;

	snprintf(limit, sizeof(limit), "%zu", f->limit);
	v[0] = f->state != NULL && *f->state != '\0' ? f->state : NULL;
	v[1] = f->id != NULL && *f->id != '\0' ? f->id : NULL;
	v[2] = f->requester != NULL && *f->requester != '\0' ?
	    f->requester : NULL;
	v[3] = f->limit != 0 ? limit : NULL;
	if ((rc = qpg_get(s, "listing requests", &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_run(s, sl->conn, sql, 4, v, NULL, 0, &res,
	    "listing requests");
	qpg_put(s, sl);
	n = rc == MUGAI_OK ? PQntuples(res) : 0;
	for (i = 0; i < n; i++) {
		if ((rc = qpg_request(res, i, &r)) != MUGAI_OK)
			break;
		i = fn(r, arg) ? n : i;
		mugai_qrequest_free(r);
	}
	PQclear(res);
	return rc;
}

/* A release request's state and decision, by qpg_cas. */
static mugai_status
qpg_request_transition(void *ctx, long long reqid, unsigned from,
    const char *to, const char *decider, const char *decision,
    const char *release_to, const struct mugai_qaction *a, char *was,
    size_t waslen)
{
	static const char upd[] =
	    "UPDATE requests r SET state = $2::text,"
	    " decided = CASE WHEN $3::text IS NULL THEN r.decided"
	    "  WHEN $3::text = '' THEN 0 ELSE $4::bigint END,"
	    " decider = coalesce($3::text, r.decider),"
	    " decision = CASE WHEN $3::text IS NULL THEN r.decision"
	    "  ELSE coalesce($5::text, '') END,"
	    " release_to = CASE WHEN $3::text IS NULL THEN r.release_to"
	    "  ELSE coalesce($6::text, '') END"
	    " FROM (SELECT reqid, state FROM requests WHERE reqid = $1::bigint"
	    "  FOR UPDATE) o"
	    " WHERE r.reqid = o.reqid AND (r.state = ANY ($7::text[])"
	    "  OR ($8::boolean AND r.state = 'approving'"
	    "  AND r.decided < $4::bigint - $9::bigint))"
	    " RETURNING o.state";
	char num[32], now[32], set[64], stale[16], label[48], gone[96];
	const char *v[9];
	struct qpg_cas x = { "changing a request", upd, 9, v,
	    "SELECT state FROM requests WHERE reqid = $1::bigint", label,
	    gone };

	snprintf(num, sizeof(num), "%lld", reqid);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(stale, sizeof(stale), "%d", Q_STALE_RELEASE);
	snprintf(label, sizeof(label), "request %lld", reqid);
	snprintf(gone, sizeof(gone), "no request %lld; see 'mugai quarantine"
	    " requests'", reqid);
	qpg_states(mugai_qreq_states, from, set, sizeof(set));
	v[0] = num; v[1] = to; v[2] = decider; v[3] = now; v[4] = decision;
	v[5] = release_to; v[6] = set;
	v[7] = from & QR_ST_STALE ? "true" : "false"; v[8] = stale;
	return qpg_cas(ctx, &x, a, was, waslen);
}

/*
 * The lock keeps every node's new requests out for the transaction: no
 * number is taken from the sequence between the check that r->reqid is
 * free, its insert and the move of the sequence above it.  The sequence only moves
 * up (nextval, then at least that): a number it handed out once, to a
 * request since removed with its message, is not handed out again.
 */
static mugai_status
qpg_request_import(void *ctx, const struct mugai_qrequest *r, int renumber,
    long long *reqid)
{
	static const char what[] = "copying a request";
	static const char ins[] =
	    "INSERT INTO requests (reqid, id, requested, requester, notify,"
	    " reason, state, decided, decider, decision, release_to)"
	    " SELECT CASE WHEN $12::int = 0 THEN $1::bigint ELSE"
	    " nextval(pg_get_serial_sequence('requests', 'reqid')) END,"
	    " $2, $3::bigint, $4, $5, $6, $7, $8::bigint, $9, $10, $11"
	    " WHERE $12::int = 1 OR NOT EXISTS (SELECT 1 FROM requests"
	    " WHERE reqid = $1::bigint) RETURNING reqid";
	static const char seq[] =
	    "SELECT setval(pg_get_serial_sequence('requests', 'reqid'),"
	    " GREATEST(nextval(pg_get_serial_sequence('requests', 'reqid')),"
	    " $1::bigint))";
	struct qpg *s = ctx;
	struct qpg_slot *sl;
	char num[32], requested[32], decided[32];
	const char *v[12];
	PGresult *res = NULL;
	mugai_status rc;

	*reqid = 0;
	snprintf(num, sizeof(num), "%lld", r->reqid);
	snprintf(requested, sizeof(requested), "%lld", (long long)r->requested);
	snprintf(decided, sizeof(decided), "%lld", (long long)r->decided);
	v[0] = num; v[1] = qpg_s(r->id); v[2] = requested;
	v[3] = qpg_s(r->requester); v[4] = qpg_s(r->notify);
	v[5] = qpg_s(r->reason); v[6] = qpg_s(r->state); v[7] = decided;
	v[8] = qpg_s(r->decider); v[9] = qpg_s(r->decision);
	v[10] = qpg_s(r->release_to);
	v[11] = renumber ? "1" : "0";
	if ((rc = qpg_get(s, what, &sl)) != MUGAI_OK)
		return rc;
	rc = qpg_simple(s, sl->conn, "BEGIN; LOCK TABLE requests IN SHARE ROW"
	    " EXCLUSIVE MODE", what);
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, "SELECT 1 FROM messages WHERE id = $1"
		    " FOR SHARE", 1, v + 1, NULL, 0, &res, what);
	if (rc == MUGAI_OK && PQntuples(res) == 0) {
		mugai_qerr_set("no message with id %s", r->id);
		rc = MUGAI_ERR_NOTFOUND;
	}
	PQclear(res);
	res = NULL;
	if (rc == MUGAI_OK)
		rc = qpg_run(s, sl->conn, ins, 12, v, NULL, 0, &res, what);
	if (rc == MUGAI_OK && PQntuples(res) == 1)
		*reqid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (rc == MUGAI_OK) {
		mugai_qerr_set("request number %lld is taken", r->reqid);
		rc = MUGAI_ERR_STATE;
	}
	PQclear(res);
	res = NULL;
	if (rc == MUGAI_OK && !renumber) {
		rc = qpg_run(s, sl->conn, seq, 1, v, NULL, 0, &res, what);
		PQclear(res);
	}
	if (rc == MUGAI_OK)
		rc = qpg_simple(s, sl->conn, "COMMIT", what);
	else if (PQstatus(sl->conn) == CONNECTION_OK)
		qpg_rollback(sl->conn);
	if (rc != MUGAI_OK)
		*reqid = 0;
	qpg_put(s, sl);
	return rc;
}

const struct mugai_qbackend mugai_qbackend_pg = {
	.name = "postgresql",
	.open = qpg_open,
	.close = qpg_close,
	.insert = qpg_insert,
	.get = qpg_get_rec,
	.list = qpg_list,
	.transition = qpg_transition,
	.check = qpg_check,
	.delete = qpg_delete,
	.history = qpg_history,
	.report_parts = qpg_report_parts,
	.blob_put = qpg_blob_put,
	.blob_get = qpg_blob_get,
	.blob_delete = qpg_blob_delete,
	.blob_walk = qpg_blob_walk,
	.audit = qpg_audit,
	.migrate = qpg_migrate,
	.request_add = qpg_request_add,
	.request_get = qpg_request_get,
	.request_list = qpg_request_list,
	.request_transition = qpg_request_transition,
	.request_import = qpg_request_import,
};
