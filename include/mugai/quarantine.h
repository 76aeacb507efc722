/*
 * mugai/quarantine.h - the store of original messages and its index.
 *
 * Originals are stored byte-identical, atomically (temporary file, fsync,
 * rename, fsync of the directory) before the MTA gets an answer; a failed
 * store makes the message a temporary failure.  The index (SQLite by
 * default) holds the metadata admins search by.  Callers see only this
 * interface; backends sit behind a table of functions in src/.
 */
#ifndef MUGAI_QUARANTINE_H
#define MUGAI_QUARANTINE_H

#include <stddef.h>
#include <time.h>
#include "mugai/status.h"
#include "mugai/config.h"

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
	const char *notice;		/* the notice the recipient got */
};

/*
 * mugai_quarantine_open - open (creating when missing) the store and
 * index named by cfg.  Errors name the file and what to do.
 */
mugai_status mugai_quarantine_open(const struct mugai_config *cfg,
    struct mugai_quarantine **out, char *err, size_t errlen);
void mugai_quarantine_close(struct mugai_quarantine *q);

/*
 * mugai_quarantine_store - store raw[0..len) with its metadata, durably.
 * Safe to call from many threads at once on one handle.
 */
mugai_status mugai_quarantine_store(struct mugai_quarantine *q,
    const struct mugai_qentry *e, const void *raw, size_t len);

/*
 * mugai_audit - append one JSON object (a complete line, without the
 * newline) to the audit log and fsync it.  Thread safe.
 */
mugai_status mugai_audit(const struct mugai_config *cfg, const char *json);

#endif
