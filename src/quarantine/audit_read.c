/*
 * audit_read.c - the audit log read back (see mugai/quarantine/auditlog.h).
 *
 * Each line goes through one prepared statement on a private in-memory
 * SQLite connection: json_extract does the parsing, as the index's
 * report_parts does, so no hand-written JSON parser reads the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/auditlog.h"
#include "mugai/quarantine/quarantine.h"
#include "qbase.h"

#define AR_LINE_MAX	(1024 * 1024)

time_t
mugai_audit_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return timegm(&tm);
}

static const char *
ar_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

static int
ar_match(const struct mugai_afilter *f, const struct mugai_aentry *e)
{
	if (f->since != 0 && e->time < f->since)
		return 0;
	if (f->before != 0 && e->time >= f->before)
		return 0;
	if (f->actor != NULL && strcmp(f->actor, e->actor) != 0)
		return 0;
	if (f->action != NULL && strcmp(f->action, e->action) != 0)
		return 0;
	if (f->id != NULL && strcmp(f->id, e->id) != 0)
		return 0;
	return 1;
}

/* Parse one line; 1: e filled, 0: not a JSON object, -1: SQLite failed. */
static int
ar_parse(sqlite3_stmt *st, const char *line, size_t len,
    struct mugai_aentry *e)
{
	int step;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, line, (int)len, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) != SQLITE_ROW)
		return step == SQLITE_DONE ? 0 : -1;
	if (sqlite3_column_int(st, 0) != 1)
		return 0;
	e->time_text = ar_col(st, 1);
	e->actor = ar_col(st, 2);
	e->action = ar_col(st, 3);
	e->id = ar_col(st, 4);
	e->reason = ar_col(st, 5);
	e->time = mugai_audit_parse_time(e->time_text);
	return e->time == (time_t)-1 ? 0 : 1;
}

mugai_status
mugai_audit_query(const struct mugai_config *cfg, const char *path,
    const struct mugai_afilter *f, mugai_aentry_fn fn, void *arg,
    size_t *skipped)
{
	/* json_extract fails on malformed JSON: test validity first. */
	static const char sql[] =
	    "SELECT v, CASE WHEN v THEN json_extract(j, '$.time') END,"
	    " CASE WHEN v THEN json_extract(j, '$.actor') END,"
	    " CASE WHEN v THEN json_extract(j, '$.action') END,"
	    " CASE WHEN v THEN json_extract(j, '$.id') END,"
	    " CASE WHEN v THEN json_extract(j, '$.reason') END"
	    " FROM (SELECT ?1 AS j, CASE WHEN json_valid(?1) THEN"
	    "  json_type(?1) = 'object' ELSE 0 END AS v)";
	static const struct mugai_afilter all;
	struct mugai_aentry e;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *line = NULL;
	size_t cap = 0, nskip = 0, nout = 0, lineno = 0;
	ssize_t n;
	mugai_status rc = MUGAI_OK;
	FILE *fp;
	int r;

	if (f == NULL)
		f = &all;
	if (path == NULL)
		path = cfg->audit_log;
	if ((fp = fopen(path, "r")) == NULL) {
		mugai_qerr_set("cannot read audit log %s: %s; check audit_log"
		    " and run as a user that may read it", path,
		    strerror(errno));
		return errno == ENOENT ? MUGAI_ERR_NOTFOUND : MUGAI_ERR_IO;
	}
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		mugai_qerr_set("reading audit log %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		rc = MUGAI_ERR_INTERNAL;
		goto out;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		memset(&e, 0, sizeof(e));
		if (n > AR_LINE_MAX || (r = ar_parse(st, line, (size_t)n,
		    &e)) == 0) {
			nskip++;
			continue;
		}
		if (r == -1) {
			mugai_qerr_set("reading audit log %s line %zu: %s", path,
			    lineno, sqlite3_errmsg(db));
			rc = MUGAI_ERR_INTERNAL;
			goto out;
		}
		if (!ar_match(f, &e))
			continue;
		e.json = line;
		e.lineno = lineno;
		e.priv = db;
		if (fn(&e, arg) != 0 || (f->limit != 0 && ++nout >= f->limit))
			break;
	}
	if (ferror(fp)) {
		mugai_qerr_set("cannot read audit log %s: %s", path,
		    strerror(errno));
		rc = MUGAI_ERR_IO;
	}
out:
	if (skipped != NULL)
		*skipped = nskip;
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(line);
	fclose(fp);
	return rc;
}

char *
mugai_audit_json_get(const struct mugai_aentry *e, const char *key)
{
	sqlite3_stmt *st = NULL;
	char *path, *v = NULL;

	if (e->priv == NULL || (path = sqlite3_mprintf("$.\"%w\"", key)) ==
	    NULL)
		return NULL;
	if (sqlite3_prepare_v2(e->priv, "SELECT CASE json_type(?1, ?2)"
	    " WHEN 'array' THEN json_extract(?1, ?2)"
	    " WHEN 'object' THEN json_extract(?1, ?2)"
	    " ELSE CAST(json_extract(?1, ?2) AS TEXT) END", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, e->json, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL)
			v = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_free(path);
	return v;
}

mugai_status
mugai_csv_cell(struct mugai_buf *out, const char *s)
{
	mugai_status rc;

	s = s != NULL ? s : "";
	rc = mugai_buf_putc(out, '"');
	if (rc == MUGAI_OK && (*s == '=' || *s == '+' || *s == '-' ||
	    *s == '@' || *s == '\t' || *s == '\r'))
		rc = mugai_buf_putc(out, '\'');
	for (; *s != '\0' && rc == MUGAI_OK; s++)
		rc = *s == '"' ? mugai_buf_puts(out, "\"\"") :
		    mugai_buf_putc(out, *s);
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(out, '"');
	return rc;
}

mugai_status
mugai_audit_csv_header(struct mugai_buf *out)
{
	return mugai_buf_puts(out, "time,actor,action,id,reason,json\r\n");
}

mugai_status
mugai_audit_csv_row(const struct mugai_aentry *e, struct mugai_buf *out)
{
	const char *v[6] = { e->time_text, e->actor, e->action, e->id,
	    e->reason, e->json };
	mugai_status rc = MUGAI_OK;
	size_t i;

	for (i = 0; i < 6 && rc == MUGAI_OK; i++) {
		if (i > 0)
			rc = mugai_buf_putc(out, ',');
		if (rc == MUGAI_OK)
			rc = mugai_csv_cell(out, v[i]);
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(out, "\r\n");
	return rc;
}
