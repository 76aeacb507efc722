/*
 * quarantine_backend.h - the index behind mugai/quarantine/quarantine.h.
 *
 * quarantine.c owns the files, unless the backend keeps the originals
 * itself (blob_put below); a backend owns the metadata.  A backend
 * is a table of functions over an opaque context, so another database
 * (PostgreSQL) can be added without touching callers: write a new
 * quarantine_NAME.c exporting one struct mugai_qbackend and pick it in
 * quarantine.c.  Every function is safe to call from many threads on one
 * context, reports failures with mugai_qerr_set(), and returns
 * MUGAI_ERR_LIMIT when one call waited for the index (for other threads
 * of this process or for another process) longer than
 * quarantine_busy_timeout in total: the bound is per call, so waiters
 * never add up.  Records handed to callbacks are freed by the backend.
 */
#ifndef MUGAI_QUARANTINE_BACKEND_H
#define MUGAI_QUARANTINE_BACKEND_H

#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include <sys/types.h>
#include "qbase.h"

struct mugai_qbackend {
	const char *name;

	/*
	 * Open or create the index for cfg (at path, or where cfg says
	 * when path is NULL); err gets "what; what to do".  A file it
	 * creates belongs to mugai_qowner() of cfg.
	 */
	mugai_status (*open)(const struct mugai_config *cfg, const char *path,
	    void **ctx, char *err, size_t errlen);
	void	(*close)(void *ctx);

	/*
	 * Add a row with status "held".  relpath is relative to
	 * quarantine_dir.  MUGAI_ERR_USAGE: id already present.
	 */
	mugai_status (*insert)(void *ctx, const struct mugai_qentry *e,
	    const char *sha256, const char *relpath);

	/* One record, report and notice included; MUGAI_ERR_NOTFOUND. */
	mugai_status (*get)(void *ctx, const char *id,
	    struct mugai_qrecord **out);

	mugai_status (*list)(void *ctx, const struct mugai_qfilter *f,
	    mugai_qrecord_fn fn, void *arg);

	/*
	 * One state change, atomically: when the status of id is one of
	 * the set from (Q_ST_* bits), set it to "to" (NULL: leave it) and
	 * append the action a (NULL: none).  Otherwise nothing changes
	 * and MUGAI_ERR_STATE is returned; MUGAI_ERR_NOTFOUND when there
	 * is no such row.  was gets the status found (either way).
	 */
	mugai_status (*transition)(void *ctx, const char *id, unsigned from,
	    const char *to, const struct mugai_qaction *a, char *was,
	    size_t waslen);

	/*
	 * Check the index itself (integrity_check, or the faster
	 * quick_check when quick): fn gets one line per damage found,
	 * *n their count.  An index too damaged to check counts as one.
	 */
	mugai_status (*check)(void *ctx, int quick,
	    void (*fn)(const char *msg, void *arg), void *arg, size_t *n);

	/* Remove the row and its actions (undoing a failed store). */
	mugai_status (*delete)(void *ctx, const char *id);

	mugai_status (*history)(void *ctx, const char *id,
	    mugai_qaction_fn fn, void *arg);

	mugai_status (*report_parts)(void *ctx, const char *report_json,
	    mugai_qpart_fn fn, void *arg);

	/* ---- issue 18: originals, audit rows and schema in the backend ----
	 *
	 * All optional.  A backend that leaves blob_put NULL leaves the
	 * originals to quarantine.c, as files in quarantine_dir (SQLite);
	 * one that sets it keeps them itself (PostgreSQL, so nodes share
	 * no filesystem) and sets blob_get, blob_delete and blob_walk too.
	 *
	 * blob_put: store raw[0..len) as the original of id, all of it or
	 * nothing (MUGAI_ERR_USAGE: id already has one).  blob_get: fn
	 * gets the original of id chunk by chunk, in order (a nonzero
	 * status from fn stops and is returned); MUGAI_ERR_NOTFOUND.
	 * blob_delete: remove it (none: MUGAI_OK).  blob_walk: fn for
	 * every stored original with its size and when it was stored;
	 * fn must not call back into ctx.
	 */
	mugai_status (*blob_put)(void *ctx, const char *id, const void *raw,
	    size_t len);
	mugai_status (*blob_get)(void *ctx, const char *id,
	    mugai_status (*fn)(const void *p, size_t n, void *arg), void *arg);
	mugai_status (*blob_delete)(void *ctx, const char *id);
	mugai_status (*blob_walk)(void *ctx,
	    mugai_status (*fn)(const char *id, size_t size, time_t stored,
	    void *arg), void *arg);
	/*
	 * audit: keep one audit line (JSON) in the database as well as in
	 * audit_log.  Best effort: the file is the record that must not
	 * fail, so a failure here is logged by the backend, not returned.
	 */
	void	(*audit)(void *ctx, const char *json);
	/*
	 * migrate: create or upgrade the schema of the database cfg names
	 * without opening a handle (open refuses a database whose schema
	 * is missing or old); *from and *to get the versions.  NULL: open
	 * does it by itself (SQLite).
	 */
	mugai_status (*migrate)(const struct mugai_config *cfg, int *from,
	    int *to, char *err, size_t errlen);
	/* ---- end of issue 18 ---------------------------------------------- */

	/*
	 * ---- Release requests (issue 17, mugai/quarantine/request.h) ----
	 * Kept together at the end so a backend adds them in one place.
	 * Requests live beside the messages (table "requests": SQLite
	 * schema version 3, PostgreSQL version 2); reqid is a number the
	 * backend hands out.  A backend may leave all five NULL: qrequest.c
	 * then says requests are not available with it.
	 */

	/*
	 * Add a "pending" request of requester for message id, in one
	 * transaction with its checks: MUGAI_ERR_NOTFOUND when there is no
	 * such message, MUGAI_ERR_STATE when it is deleted or requester
	 * has a request for it pending (or being approved) already.  The
	 * action a ("request") goes into the message's history.  *reqid
	 * gets the new request's number.
	 */
	mugai_status (*request_add)(void *ctx, const char *id, time_t when,
	    const char *requester, const char *notify, const char *reason,
	    const struct mugai_qaction *a, long long *reqid);

	/* One request; MUGAI_ERR_NOTFOUND. */
	mugai_status (*request_get)(void *ctx, long long reqid,
	    struct mugai_qrequest **out);

	/* Matching requests, oldest first. */
	mugai_status (*request_list)(void *ctx, const struct mugai_qrfilter *f,
	    mugai_qrequest_fn fn, void *arg);

	/*
	 * One state change of a request, atomically, as transition():
	 * when its state is one of from (QR_ST_* bits) set it to "to";
	 * when decider is not NULL also set decided (now), decider,
	 * decision and release_to (NULL: ""); append the action a (NULL:
	 * none) to its message's history.  Otherwise nothing changes and
	 * MUGAI_ERR_STATE is returned; MUGAI_ERR_NOTFOUND when there is no
	 * such request.  was gets the state found (either way).
	 * QR_ST_STALE: "approving" whose decided is Q_STALE_RELEASE old.
	 */
	mugai_status (*request_transition)(void *ctx, long long reqid,
	    unsigned from, const char *to, const char *decider,
	    const char *decision, const char *release_to,
	    const struct mugai_qaction *a, char *was, size_t waslen);

	/*
	 * For "mugai quarantine copy": r as it is, every field kept;
	 * renumber 0: under its own number r->reqid, MUGAI_ERR_STATE with
	 * nothing added when that is taken; 1: under a new number.
	 * Numbers handed out later stay above both.  *reqid gets the
	 * number.  No checks of state and nothing in the history (copied
	 * with the message).  MUGAI_ERR_NOTFOUND when the index has no
	 * message r->id.  NULL when the backend has no requests.
	 */
	mugai_status (*request_import)(void *ctx,
	    const struct mugai_qrequest *r, int renumber, long long *reqid);
};

/* Request states as bits, for request_transition(). */
#define QR_ST_PENDING	0x01u
#define QR_ST_APPROVING	0x02u
#define QR_ST_APPROVED	0x04u
#define QR_ST_REFUSED	0x08u
#define QR_ST_STALE	0x10u

/* Statuses as bits, for transition(). */
#define Q_ST_HELD	0x01u
#define Q_ST_RELEASING	0x02u
#define Q_ST_RELEASED	0x04u
#define Q_ST_DELETED	0x08u
/* "releasing" untouched for Q_STALE_RELEASE seconds: its release died. */
#define Q_ST_STALE	0x10u
#define Q_STALE_RELEASE	3600

/*
 * The states above with the names the index keeps (qbase.c), for both
 * backends: mugai_qmsg_states (Q_ST_*) and mugai_qreq_states (QR_ST_*),
 * each ended by { 0, NULL }.  mugai_qstate_bit: the bit of name in st,
 * 0 when it has none.
 */
struct mugai_qstate {
	unsigned bit;
	const char *name;
};
extern const struct mugai_qstate mugai_qmsg_states[];
extern const struct mugai_qstate mugai_qreq_states[];
unsigned mugai_qstate_bit(const struct mugai_qstate *st, const char *name);

extern const struct mugai_qbackend mugai_qbackend_sqlite;
/* issue 18: quarantine_db = postgresql://... or a conninfo string. */
extern const struct mugai_qbackend mugai_qbackend_pg;
/* mugai_qbackend_for - the backend quarantine_db (cfg's value) names. */
const struct mugai_qbackend *mugai_qbackend_for(const char *quarantine_db);

/*
 * Test seam: when set, called before each step of a store with its name
 * ("tmpfile", "write", "fsync", "rename", "renamed", "insert", and the
 * SQLite index's "commit"); a nonzero
 * return is an errno value that makes that step fail.  NULL (always, in
 * production) means no faults.  Set it before threads start.
 */
typedef int (*mugai_qfault_fn)(const char *step);
void mugai_quarantine_set_fault(mugai_qfault_fn fn);

/*
 * The same seam for a backend's own steps (the SQLite index's "commit"
 * of a group of rows): the errno value a test asks for, or 0.
 */
int mugai_qfault(const char *step);

/*
 * Test seam: when set, mugai_qbackend_for returns be whatever
 * quarantine_db says (a test's table with some optional functions
 * left NULL).  NULL (always, in production) means none.
 */
void mugai_quarantine_set_backend(const struct mugai_qbackend *be);

/*
 * For quarantine_rebuild.c.  mugai_qopen_at: a handle whose index is
 * the file at path rather than cfg's.  mugai_qindex_add: a "held" row
 * for e (its original's path derived from the id).
 * mugai_qindex_transition: the backend's transition.
 * mugai_qwalk_originals: fn for every original file in the store, with
 * its id; a status other than MUGAI_OK stops the walk.
 */
mugai_status mugai_qopen_at(const struct mugai_config *cfg, const char *path,
    struct mugai_quarantine **out, char *err, size_t errlen);
mugai_status mugai_qindex_add(struct mugai_quarantine *q,
    const struct mugai_qentry *e, const char *sha256);
mugai_status mugai_qindex_transition(struct mugai_quarantine *q,
    const char *id, unsigned from, const char *to,
    const struct mugai_qaction *a);
struct stat;
typedef mugai_status (*mugai_qoriginal_fn)(const char *id, const char *path,
    const struct stat *st, void *arg);
mugai_status mugai_qwalk_originals(struct mugai_quarantine *q,
    mugai_qoriginal_fn fn, void *arg);

/*
 * For qrequest.c (release requests), which builds on the store without
 * the store calling back into it.  mugai_qbe: the handle's backend and
 * its context.  mugai_qconfig: its config.  mugai_qsendmail: data into
 * "sendmail_path -i -f sender -- to[0] ...", its exit status checked.
 * mugai_qaudit: one audit line (extra: key, value pairs ended by NULL;
 * a NULL value leaves its key out).  mugai_qaddr_ok: an address fit for
 * sendmail's command line.
 */
const struct mugai_qbackend *mugai_qbe(struct mugai_quarantine *q,
    void **ctx);
const struct mugai_config *mugai_qconfig(const struct mugai_quarantine *q);
mugai_status mugai_qsendmail(const char *prog, const char *sender,
    const char *const *to, size_t nto, const char *data, size_t len);
mugai_status mugai_qaudit(struct mugai_quarantine *q, const char *action,
    const char *actor, const char *id, const char *reason,
    const char *const *extra);
int mugai_qaddr_ok(const char *a);

/*
 * mugai_qparts_message (qparts.c) - the original raw[0..len) with only
 * the parts at keep[0..nkeep) (paths, as in the report) and whatever is
 * below them; every other leaf part becomes a short text/plain note
 * naming it.  MUGAI_ERR_USAGE / MUGAI_ERR_NOTFOUND for a path that is
 * malformed or names no part.  Needs GMime initialised.
 */
mugai_status mugai_qparts_message(const void *raw, size_t len,
    const char *const *keep, size_t nkeep, const char *id,
    struct mugai_buf *out);

/* mugai_audit_write - mugai_audit() to an explicit file. */
mugai_status mugai_audit_write(const char *path, const char *json);

#endif
