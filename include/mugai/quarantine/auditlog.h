/*
 * mugai/quarantine/auditlog.h - reading the audit log back: the lines
 * mugai_audit() wrote (one JSON object each: "time" in UTC as
 * YYYY-MM-DDTHH:MM:SSZ, "actor", "action", "id", "reason" and more keys
 * by action), filtered, and as CSV for a spreadsheet.
 *
 * Lines are parsed by SQLite's JSON functions (no second JSON parser to
 * trust); a line that is not a JSON object, or longer than 1 MB, is
 * skipped and counted.
 */
#ifndef MUGAI_QUARANTINE_AUDITLOG_H
#define MUGAI_QUARANTINE_AUDITLOG_H

#include <stddef.h>
#include <time.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/base/status.h"

/* One line of the log; strings are "" when the line lacks the key. */
struct mugai_aentry {
	time_t	 time;
	const char *time_text;		/* as written */
	const char *actor;
	const char *action;
	const char *id;
	const char *reason;
	const char *json;		/* the whole line */
	size_t	 lineno;
	void	*priv;			/* for mugai_audit_json_get */
};

/* Which lines a query returns; zero / NULL fields match anything. */
struct mugai_afilter {
	time_t	 since;			/* time >= since */
	time_t	 before;		/* time < before */
	const char *actor;
	const char *action;
	const char *id;
	size_t	 limit;
};

/* Entries are valid only during the call; nonzero stops the walk. */
typedef int (*mugai_aentry_fn)(const struct mugai_aentry *e, void *arg);

/*
 * mugai_audit_query - walk the lines of path (cfg->audit_log when NULL)
 * that match f, in the order written.  *skipped (may be NULL) gets the
 * number of lines that could not be read.  MUGAI_ERR_NOTFOUND when the
 * log does not exist, MUGAI_ERR_IO when it cannot be read; the message
 * is in mugai_quarantine_error().
 */
mugai_status mugai_audit_query(const struct mugai_config *cfg,
    const char *path, const struct mugai_afilter *f, mugai_aentry_fn fn,
    void *arg, size_t *skipped);

/*
 * mugai_audit_json_get - the value of a top-level key of e's line as
 * text (arrays and objects as JSON, NULL when missing); free() it.
 * Only during the callback that got e.
 */
char *mugai_audit_json_get(const struct mugai_aentry *e, const char *key);

/* mugai_audit_csv_header - the CSV header line (with CRLF). */
mugai_status mugai_audit_csv_header(struct mugai_buf *out);

/*
 * mugai_audit_csv_row - e as one CSV line (time, actor, action, id,
 * reason, the whole JSON line), CRLF-ended, each field quoted, cells a
 * spreadsheet would run as a formula neutralised (mugai_csv_cell).
 */
mugai_status mugai_audit_csv_row(const struct mugai_aentry *e,
    struct mugai_buf *out);

/*
 * mugai_csv_cell - append s as one quoted CSV field: quotes doubled,
 * and a leading = + - @ TAB or CR gets an apostrophe first, so a
 * spreadsheet shows it as text (values come from mail senders).
 */
mugai_status mugai_csv_cell(struct mugai_buf *out, const char *s);

/*
 * mugai_audit_parse_time - "YYYY-MM-DDTHH:MM:SSZ" (UTC) to time_t; -1
 * when malformed.
 */
time_t mugai_audit_parse_time(const char *s);

#endif
