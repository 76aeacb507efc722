/*
 * mugai/sanitize/sanitize.h - one message in, one safe message (or a verdict) out.
 *
 * This is the whole job of mugai as a function: the CLI and the milter
 * are thin front ends over it.  The raw message is parsed with GMime,
 * its body turned into plain text, every attachment typed by its bytes
 * and removed, converted or kept by the policy table, everything scanned,
 * a notice written, and (when anything was removed, converted, held or
 * detected) the original stored in the quarantine before returning.
 *
 * Fail closed: any internal error gives verdict MUGAI_VERDICT_TEMPFAIL;
 * nothing unsanitised is ever returned for delivery.
 */
#ifndef MUGAI_SANITIZE_H
#define MUGAI_SANITIZE_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"

struct mugai_scanner;
struct mugai_quarantine;

/* The SMTP envelope, as far as the front end knows it (all may be ""). */
struct mugai_envelope {
	const char *queue_id;
	const char *client_addr;
	const char *helo;
	const char *sender;
	const char *const *recipients;
	size_t	 nrecipients;
};

/* Long-lived things a sanitise call uses; owned by the front end. */
struct mugai_services {
	const struct mugai_config *cfg;
	struct mugai_scanner *scanner;		/* NULL only if !clamav_enable */
	struct mugai_quarantine *quarantine;	/* NULL: originals not kept */
};

enum mugai_verdict {
	MUGAI_VERDICT_DELIVER,		/* deliver the sanitised message */
	MUGAI_VERDICT_REJECT,		/* refuse (virus): 550 / exit 2 */
	MUGAI_VERDICT_DISCARD,		/* accept and drop (virus_action) */
	MUGAI_VERDICT_TEMPFAIL		/* try again later: 451 / exit 75 */
};

/* One header to set at the top level; value is ready for the wire. */
struct mugai_header {
	char	*name;
	char	*value;
};

struct mugai_result {
	enum mugai_verdict verdict;
	char	 id[40];		/* X-Mugai-Id */
	char	*reason;		/* why, for REJECT/DISCARD/TEMPFAIL */

	/*
	 * For DELIVER: the original top-level headers stay as received,
	 * except every header named in remove[] (all occurrences, compared
	 * case-insensitively), and set[] is added after them.  body is the
	 * new body (after the blank line), "\n" line ends.  body_kept: the
	 * body goes as it came and body is NULL (a clean text/plain message
	 * mugai would write back byte for byte; its MIME headers stay too,
	 * so remove[] and set[] only hold mugai's own).
	 */
	char	**remove;
	size_t	 nremove;
	struct mugai_header *set;
	size_t	 nset;
	char	*body;
	size_t	 body_len;
	int	 body_kept;

	/* What happened, for logs, reports and the quarantine. */
	unsigned parts;			/* MIME leaves seen */
	unsigned kept;
	unsigned converted;
	unsigned removed;
	unsigned mismatches;		/* detected type != declared/extension */
	char	*signatures;		/* "Eicar-Signature,..." or "" */
	char	*summary;		/* one line: "removed=2 converted=1 ..." */
	char	*subject;		/* decoded Subject, UTF-8 */
	char	*notice;		/* the notice text put in the body */
	char	*report_json;		/* the --report document */
	int	 quarantined;		/* original was stored */
};

/*
 * mugai_sanitize - sanitise raw[0..len).  Always returns a result (NULL
 * only when memory for the result itself runs out, which callers treat
 * as TEMPFAIL); check result->verdict.  Thread safe: any number of calls
 * may run at once with the same services.
 */
struct mugai_result *mugai_sanitize(const struct mugai_services *svc,
    const char *raw, size_t len, const struct mugai_envelope *env);

/* mugai_result_free - free a result; NULL is safe. */
void mugai_result_free(struct mugai_result *r);

/*
 * mugai_result_write - the whole sanitised message (original headers
 * minus remove[], plus set[], blank line, body) appended to out.
 * Only for DELIVER results.
 */
mugai_status mugai_result_write(const struct mugai_result *r,
    const char *raw, size_t len, struct mugai_buf *out);

/* mugai_verdict_str - "deliver", "reject", "discard", "tempfail". */
const char *mugai_verdict_str(enum mugai_verdict v);

/*
 * mugai_library_init - once per process before threads: GMime and
 * libxml2 global state.  mugai_library_shutdown at exit.
 */
void mugai_library_init(void);
void mugai_library_shutdown(void);

#endif
