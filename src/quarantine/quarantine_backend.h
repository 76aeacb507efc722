/*
 * quarantine_backend.h - the index behind mugai/quarantine/quarantine.h.
 *
 * quarantine.c owns the files; a backend owns the metadata.  A backend
 * is a table of functions over an opaque context, so another database
 * (PostgreSQL) can be added without touching callers: write a new
 * quarantine_NAME.c exporting one struct mugai_qbackend and pick it in
 * quarantine.c.  Every function is safe to call from many threads on one
 * context, reports failures with mugai_qerr_set(), and returns
 * MUGAI_ERR_LIMIT when the database stayed locked beyond the configured
 * busy timeout.  Records handed to callbacks are freed by the backend.
 */
#ifndef MUGAI_QUARANTINE_BACKEND_H
#define MUGAI_QUARANTINE_BACKEND_H

#include "mugai/quarantine/quarantine.h"
#include "qbase.h"

struct mugai_qbackend {
	const char *name;

	/* Open or create the index for cfg; err gets "what; what to do". */
	mugai_status (*open)(const struct mugai_config *cfg, void **ctx,
	    char *err, size_t errlen);
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
	 * Set the status of a->id and append the action a, atomically.
	 * status NULL: append the action only.
	 */
	mugai_status (*update_status)(void *ctx, const char *status,
	    const struct mugai_qaction *a);

	/* Remove the row and its actions (undoing a failed store). */
	mugai_status (*delete)(void *ctx, const char *id);

	mugai_status (*history)(void *ctx, const char *id,
	    mugai_qaction_fn fn, void *arg);

	mugai_status (*report_parts)(void *ctx, const char *report_json,
	    mugai_qpart_fn fn, void *arg);
};

extern const struct mugai_qbackend mugai_qbackend_sqlite;

/*
 * Test seam: when set, called before each step of a store with its name
 * ("tmpfile", "write", "fsync", "rename", "renamed", "insert"); a nonzero
 * return is an errno value that makes that step fail.  NULL (always, in
 * production) means no faults.  Set it before threads start.
 */
typedef int (*mugai_qfault_fn)(const char *step);
void mugai_quarantine_set_fault(mugai_qfault_fn fn);

/* mugai_audit_write - mugai_audit() to an explicit file. */
mugai_status mugai_audit_write(const char *path, const char *json);

#endif
