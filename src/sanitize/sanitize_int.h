/*
 * sanitize_int.h - what sanitize.c shares with result.c, report.c and
 * finish.c.
 * Not installed; not part of the library's interface.
 */
#ifndef MUGAI_SANITIZE_INT_H
#define MUGAI_SANITIZE_INT_H

#include <gmime/gmime.h>
#include "mugai/sanitize/sanitize.h"

#define TYPE_MAX	128

/* Header names a result can list in remove[] (see report.c). */
#define RESULT_MAX_REMOVE	256

/* One report row per MIME part (numbering: root "1", children "1.N"). */
struct part_row {
	char	 path[64];
	char	 declared[TYPE_MAX];
	char	 detected[TYPE_MAX];
	char	*name;		/* g_malloc'd, decoded UTF-8 */
	size_t	 size;
	char	 sha256[65];
	const char *action;	/* "body", "kept", "converted", "removed" */
	const char *reason;	/* notice phrase key, "" for body text */
	char	*mismatch;	/* g_malloc'd or NULL */
	char	 scan[160];	/* "clean", "infected:X", "unscanned:X", "-" */
	int	 in_notice;
	unsigned count;		/* reason "unread": parts it stands for */
	unsigned frag_n, frag_m; /* reason "partial": fragment n of m */
};

/* Length of a UTF-8 byte-order mark before the first header (0 or 3). */
size_t sanitize_bom_len(const char *raw, size_t len);

/*
 * End of the header field starting at p (after its continuation lines),
 * or of a blank line; LF or CRLF line ends.
 */
size_t sanitize_field_end(const char *p, size_t n);

/*
 * The colon of the header field field[0..n), or NULL when it has none
 * (not a field); *namelen then the length of its name, without blanks
 * before the colon.
 */
const char *sanitize_field_name(const char *field, size_t n,
    size_t *namelen);

/*
 * asis.c: may raw, read by GMime as one text/plain part in charset (its
 * canonical name) whose text mugai wrote as text[0..tlen), go out with
 * its own body and MIME headers?  1 if so.
 */
int sanitize_plain_as_is(const char *raw, size_t len, const char *charset,
    const char *text, size_t tlen);

/* A zeroed result with empty strings where callers expect strings. */
struct mugai_result *sanitize_result_new(void);

/* Add a signature name to r->signatures (comma separated, no repeats). */
void sanitize_add_signature(struct mugai_result *r, const char *name);

/*
 * Split the serialised top object into r->set (its MIME headers, plus
 * MIME-Version) and r->body.
 */
mugai_status sanitize_serialize(struct mugai_result *r, GMimeObject *top);

/*
 * Fill r->remove with X-Mugai-*, and unless r->body_kept also with
 * MIME-Version and every Content-* header name found in the top-level
 * header block of raw.
 */
mugai_status sanitize_collect_removals(struct mugai_result *r,
    const char *raw, size_t len);

/*
 * report.c, also used for the audit line: ',"queue_id":...,"client":...,
 * "sender":...,"recipients":[...]' and ',"signatures":[...]' (from the
 * comma-separated list) appended to b.
 */
mugai_status sanitize_json_envelope(struct mugai_buf *b,
    const struct mugai_envelope *env);
mugai_status sanitize_json_signatures(struct mugai_buf *b, const char *sigs);

/*
 * sanitize_report_json - the JSON report of r (id, verdict, counts,
 * envelope, one object per row) appended to b.  MUGAI_ERR_NOMEM or
 * MUGAI_ERR_LIMIT when b cannot hold it.
 */
mugai_status sanitize_report_json(const struct mugai_result *r,
    const struct mugai_envelope *env, size_t len, const char *rawsha,
    const struct part_row *rows, size_t nrows, struct mugai_buf *b);

/*
 * The last step of every sanitise call: X-Mugai-* headers and remove[],
 * summary, report JSON, quarantine store and audit line.  A failed store
 * or audit turns the verdict into TEMPFAIL (the original must be kept).
 */
void sanitize_finish(struct mugai_result *r, const struct mugai_services *svc,
    const struct mugai_envelope *env, const char *raw, size_t len,
    const char *rawsha, const struct part_row *rows, size_t nrows);

#endif
