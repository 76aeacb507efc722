/*
 * mugai/quarantine/quarantine.h - the store of original messages and its index.
 *
 * Originals are stored byte-identical, atomically (temporary file, fsync,
 * rename, fsync of the directory) before the MTA gets an answer; a failed
 * store makes the message a temporary failure.  The index (SQLite by
 * default) holds the metadata admins search by.  Callers see only this
 * interface; backends sit behind a table of functions in src/.
 *
 * Layout: quarantine_dir/XX/ID.eml, XX the first two hex digits of the
 * SHA-256 of ID (an even spread whatever the ids look like).  Files are
 * 0600, directories 0700; temporary files start with ".tmp".  IDs are
 * 1-64 characters of [A-Za-z0-9._-] starting with a letter or digit.
 */
#ifndef MUGAI_QUARANTINE_H
#define MUGAI_QUARANTINE_H

#include <stddef.h>
#include <time.h>
#include "mugai/base/status.h"
#include "mugai/base/buf.h"
#include "mugai/base/config.h"

struct mugai_quarantine;

/* What is known about one message when it is stored. */
struct mugai_qentry {
	const char *id;			/* X-Mugai-Id */
	time_t	 received;
	const char *queue_id;		/* MTA queue id, "" from the CLI */
	const char *client_addr;
	const char *sender;
	const char *const *recipients;
	size_t	 nrecipients;
	const char *subject;		/* decoded, UTF-8 */
	size_t	 size;
	const char *sha256;		/* hex of the raw message */
	const char *verdict;		/* "sanitised", "rejected", ... */
	const char *reasons;		/* short text: signatures, parts */
	const char *report_json;	/* the full sanitise report */
	const char *notice;		/* the notice the recipient got; the
					   index keeps quarantine_notice_max
					   bytes of it */
};

/*
 * mugai_quarantine_open - open (creating when missing) the store and
 * index named by cfg.  Errors name the file and what to do.  The handle
 * holds a reference to cfg until closed.
 */
mugai_status mugai_quarantine_open(const struct mugai_config *cfg,
    struct mugai_quarantine **out, char *err, size_t errlen);
void mugai_quarantine_close(struct mugai_quarantine *q);

/*
 * mugai_quarantine_prepare - make the store ready for writing before
 * mail comes: its fan-out directories exist and are durable, so that
 * storing never creates one (mugai-milter calls it once at start).
 * Idempotent; nothing to do when originals live in the database.  On
 * failure mugai_quarantine_error() says which directory and why.
 */
mugai_status mugai_quarantine_prepare(struct mugai_quarantine *q);

/*
 * mugai_quarantine_store - store raw[0..len) with its metadata, durably.
 * Safe to call from many threads at once on one handle.  The file is
 * written and renamed into place before the index row is inserted, so a
 * crash leaves at worst an orphan file, never a row without its file.
 * An id already stored is refused (MUGAI_ERR_USAGE), its original kept.
 * e->sha256 NULL: computed here.
 */
mugai_status mugai_quarantine_store(struct mugai_quarantine *q,
    const struct mugai_qentry *e, const void *raw, size_t len);

/*
 * Reading the store back (the admin CLI).  Every call below may be made
 * while milter threads store; on failure, mugai_quarantine_error() gives
 * a one-line English message for the calling thread ("what; what to do").
 * MUGAI_ERR_NOTFOUND: no such id.  MUGAI_ERR_LIMIT: the index stayed
 * locked by another process beyond quarantine_busy_timeout.  After a
 * failed mugai_quarantine_open with MUGAI_ERR_IO, errno is EACCES when
 * the cause was a permission (the message names the file and its owner).
 */

/* One stored message as the index knows it; owned by the reader. */
struct mugai_qrecord {
	char	*id;
	time_t	 received;
	char	*queue_id;
	char	*client_addr;
	char	*sender;
	char	**recipients;
	size_t	 nrecipients;
	char	*subject;
	size_t	 size;
	char	*sha256;
	char	*verdict;
	char	*reasons;
	char	*report_json;		/* NULL in list results */
	char	*notice;		/* NULL in list results */
	char	*status;		/* "held", "releasing", "released",
					   "deleted" */
	char	*path;			/* absolute path of the original;
					   "postgresql:originals/ID" when
					   the database keeps it */
	time_t	 changed;		/* when status last changed */
};

void mugai_qrecord_free(struct mugai_qrecord *r);

/* Which messages a list returns; zero / NULL fields match anything. */
struct mugai_qfilter {
	time_t	 since;			/* received >= since */
	time_t	 before;		/* received < before */
	const char *status;
	const char *sender;		/* whole address, any case, <> ignored */
	const char *recipient;		/* one of the recipients, likewise */
	size_t	 limit;
};

/*
 * Callbacks see records valid only during the call, and must not call
 * back into the same handle.  A nonzero return stops the walk (the
 * function then still returns MUGAI_OK).
 */
typedef int (*mugai_qrecord_fn)(const struct mugai_qrecord *r, void *arg);

/* mugai_quarantine_get - one message with every field; free with mugai_qrecord_free. */
mugai_status mugai_quarantine_get(struct mugai_quarantine *q, const char *id,
    struct mugai_qrecord **out);

/* mugai_quarantine_list - matching messages, oldest first. */
mugai_status mugai_quarantine_list(struct mugai_quarantine *q,
    const struct mugai_qfilter *f, mugai_qrecord_fn fn, void *arg);

/* One entry of a message's action history. */
struct mugai_qaction {
	const char *id;
	time_t	 time;
	const char *actor;
	const char *action;		/* "store", "release", "delete", "purge", ... */
	const char *detail;
	const char *reason;
};
typedef int (*mugai_qaction_fn)(const struct mugai_qaction *a, void *arg);

/* mugai_quarantine_history - actions on id, oldest first. */
mugai_status mugai_quarantine_history(struct mugai_quarantine *q,
    const char *id, mugai_qaction_fn fn, void *arg);

/*
 * One part of a sanitise report (report_json "parts" array).  Fields the
 * report lacks are NULL, size is -1 when unknown.
 */
struct mugai_qpart {
	const char *path;
	const char *declared_type;
	const char *detected_type;
	long long size;
	const char *sha256;
	const char *name;
	const char *action;
	const char *reason;
};
typedef int (*mugai_qpart_fn)(const struct mugai_qpart *p, void *arg);

/*
 * mugai_quarantine_report_parts - walk the "parts" of a report document.
 * A report that is not valid JSON or has no parts array gives no calls.
 */
mugai_status mugai_quarantine_report_parts(struct mugai_quarantine *q,
    const char *report_json, mugai_qpart_fn fn, void *arg);

/*
 * mugai_quarantine_read - the stored original of r, byte for byte, into
 * out (reset first).  Fails with MUGAI_ERR_IO when the file is missing
 * or no longer matches the recorded SHA-256.
 */
mugai_status mugai_quarantine_read(struct mugai_quarantine *q,
    const struct mugai_qrecord *r, struct mugai_buf *out);

/*
 * MIME part paths, shared with the sanitise report: the top-level part
 * of the message (its whole body) is "1".  The children of a multipart
 * "N" are "N.1", "N.2", ... in order.  A message/rfc822 part "N" has
 * one child, "N.1": the top-level part of the message it carries (so an
 * attachment inside a forwarded message is e.g. "1.2.1.2").
 *
 * mugai_quarantine_part - the decoded content of the leaf part at path
 * (transfer encoding removed; a message/rfc822 part gives the embedded
 * message as GMime writes it).  *name gets its file name and *type its MIME type
 * (both malloc'd, name "" when none).  MUGAI_ERR_USAGE for a malformed
 * path or a multipart, MUGAI_ERR_NOTFOUND when no part has that path.
 * Needs GMime initialised (mugai_library_init).
 */
mugai_status mugai_quarantine_part(const void *raw, size_t len,
    const char *path, struct mugai_buf *out, char **name, char **type);

/* What an admin asks for when releasing an original. */
struct mugai_qrelease {
	const char *id;
	const char *to;			/* one envelope recipient */
	const char *part;		/* NULL: the whole original */
	const char *reason;		/* required, non-empty */
	const char *actor;		/* unix user doing it */
	int	 force;			/* release even a rejected/virus message */
	/* Added for mugai-web (issue 17): */
	const char *const *rcpts;	/* to NULL or "": these recipients */
	size_t	 nrcpts;
	const char *parts;		/* NULL: every part; else the parts to
					   keep, comma separated: part paths
					   ("1.2") or numbers N, the Nth part
					   of the report (as 'show' lists
					   them); the others become a note
					   naming them.  Not with part. */
};

/*
 * mugai_quarantine_dangerous - nonzero when r was rejected or carried a
 * virus; releasing it needs force.
 */
int mugai_quarantine_dangerous(const struct mugai_qrecord *r);

/*
 * States and their changes.  Each change is one atomic compare-and-set
 * in the index, so of two commands racing on one message exactly one
 * wins and the other gets MUGAI_ERR_STATE ("another command got there
 * first") with nothing changed:
 *
 *   held, released  --release claims it-->  releasing
 *   releasing       --sendmail took it-->   released
 *   releasing       --release failed-->     the status it had before
 *   held, released  --delete, purge-->      deleted  (then the file goes)
 *
 * A "releasing" row left by a release that died (a crash) is reported
 * by verify; after an hour (Q_STALE_RELEASE) release and delete may take
 * it over.
 */

/*
 * mugai_quarantine_release - pipe the original (or, with part, a new
 * message carrying that one attachment; with parts, the original with
 * the other parts replaced by a note) into "sendmail_path -i -f SENDER
 * -- TO..." (to, else rcpts), check its exit status, mark the message released and record
 * the action in the index and the audit log.  A failed attempt is
 * recorded too.  MUGAI_ERR_CONFIG when sendmail cannot be started,
 * MUGAI_ERR_IO when it fails, MUGAI_ERR_USAGE when it is dangerous
 * without force, MUGAI_ERR_STATE when it was deleted or another release
 * is running.
 */
mugai_status mugai_quarantine_release(struct mugai_quarantine *q,
    const struct mugai_qrelease *req);

/*
 * mugai_quarantine_delete - remove the original; the row stays with
 * status "deleted" so the audit trail keeps its metadata.  The row says
 * deleted before the file goes.  MUGAI_ERR_STATE when it was already
 * deleted or a release of it is running.
 */
mugai_status mugai_quarantine_delete(struct mugai_quarantine *q,
    const char *id, const char *actor, const char *reason);

/*
 * mugai_quarantine_purge - delete every original received before
 * "before" (as mugai_quarantine_delete, action "purge"), and remove
 * temporary files left by crashed stores that are older than grace
 * seconds.  *count gets the number of originals deleted; one being
 * released meanwhile is left alone.
 */
mugai_status mugai_quarantine_purge(struct mugai_quarantine *q, time_t before,
    unsigned grace, const char *actor, size_t *count);

enum mugai_qproblem_kind {
	MUGAI_QPROB_MISSING,		/* row says held/released, no file */
	MUGAI_QPROB_CHECKSUM,		/* file does not match its SHA-256 */
	MUGAI_QPROB_ORPHAN,		/* file with no row (or a deleted row) */
	MUGAI_QPROB_TEMP,		/* leftover temporary file */
	MUGAI_QPROB_STRAY,		/* something else in the store */
	MUGAI_QPROB_INDEX,		/* the index itself is damaged */
	MUGAI_QPROB_STUCK		/* a release that never finished */
};

struct mugai_qproblem {
	enum mugai_qproblem_kind kind;
	const char *id;			/* NULL for temp and stray files */
	const char *path;
	const char *detail;
};
typedef void (*mugai_qproblem_fn)(const struct mugai_qproblem *p, void *arg);

/*
 * mugai_quarantine_verify - check the index itself (SQLite's
 * integrity_check), then every original against the index.  Orphan and
 * temporary files younger than grace seconds are skipped: a store may
 * be in flight.  An index too damaged to read gives INDEX problems, not
 * an error.  *nproblems gets the count.
 */
mugai_status mugai_quarantine_verify(struct mugai_quarantine *q, unsigned grace,
    mugai_qproblem_fn fn, void *arg, size_t *nproblems);

/*
 * mugai_quarantine_check_index - a quick check of the index pages (for
 * mugai-milter's start: a damaged index would defer every message that
 * needs an original).  MUGAI_ERR_IO with err saying what to do.
 */
mugai_status mugai_quarantine_check_index(struct mugai_quarantine *q,
    char *err, size_t errlen);

/*
 * mugai_quarantine_rebuild - build a new index from the stored originals
 * (metadata from their headers) and the audit log (envelope, verdict,
 * and every release, delete and purge, which set the status), then put
 * it in place of the old one, which is kept beside it as
 * NAME.damaged-TIMESTAMP.  mugai-milter must be stopped (its pid_file
 * is checked).  fn gets one line of progress at a time.  *nrows gets the
 * number of rows written.
 */
mugai_status mugai_quarantine_rebuild(const struct mugai_config *cfg,
    void (*fn)(const char *line, void *arg), void *arg, size_t *nrows);

/*
 * mugai_qproblem_str - "missing", "checksum", "orphan", "temp", "stray",
 * "index", "stuck".
 */
const char *mugai_qproblem_str(enum mugai_qproblem_kind kind);

/*
 * A shared quarantine in PostgreSQL (quarantine_db = postgresql://... or
 * a conninfo string): originals, index and audit rows all live in the
 * database, so several gateway hosts see one quarantine.
 *
 * mugai_quarantine_migrate - create or upgrade the database schema of
 * the store cfg names; *from and *to get the versions before and after
 * (both -1 for SQLite, whose index is made and upgraded on open).
 */
mugai_status mugai_quarantine_migrate(const struct mugai_config *cfg,
    int *from, int *to, char *err, size_t errlen);

/*
 * mugai_quarantine_copy - copy every message of the SQLite store whose
 * index is sqlite_path (originals in dir; NULL: the index's directory)
 * into dst, with its status and history.  Each original is read back
 * from dst and must have the SHA-256 the source recorded.  A message
 * dst already has with the same SHA-256 is skipped (so a copy can be
 * run again); with another, it is an error.  Then every release
 * request, as it was, under its own number where dst has not used it,
 * else under a new one (fn is told); one dst has already is skipped.
 * fn gets one line per problem or new number and one with the
 * requests' counts; *copied and *skipped the messages'.
 */
mugai_status mugai_quarantine_copy(struct mugai_quarantine *dst,
    const char *sqlite_path, const char *dir,
    void (*fn)(const char *line, void *arg), void *arg, size_t *copied,
    size_t *skipped);

/*
 * mugai_quarantine_audit - mugai_audit(), and the same line as a row of
 * the database when the store keeps an audit table (PostgreSQL).
 */
mugai_status mugai_quarantine_audit(struct mugai_quarantine *q,
    const char *json);

/* mugai_quarantine_error - this thread's last quarantine error, never NULL. */
const char *mugai_quarantine_error(void);

/*
 * mugai_audit - append one JSON object (a complete line, without the
 * newline) to the audit log and fsync it.  Thread safe.
 */
mugai_status mugai_audit(const struct mugai_config *cfg, const char *json);

#endif
