/*
 * mugai/sanitize/notice.h - the notice put at the top of a sanitised message,
 * telling the recipient (in Japanese and English) what was removed or
 * converted and how to ask for the original.
 *
 * Wording comes from three templates: notice.txt (the frame: {items},
 * {id}, {admin_contact}, {request_link}), notice-item.txt (one per item: {action},
 * {name}, {declared}, {detected}, {size}, {reason} and the label_*
 * phrases) and notice-phrases.txt ("key = text" lines).  A warning
 * item is one line, the phrase line.warning ("■ {action}: {reason}",
 * action being action.warning).  Reason phrases
 * may hold {n} and {m} (counts, fragment numbers).  They are read
 * from notice_template_dir when it is set, else the built-in copies are
 * used; a missing file in the directory falls back to the built-in one
 * with a warning.
 */
#ifndef MUGAI_NOTICE_H
#define MUGAI_NOTICE_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"

struct mugai_notice_item {
	const char *action;	/* "removed", "converted", "kept" */
	const char *name;	/* decoded file name, "" when none */
	const char *declared;	/* declared MIME type */
	const char *detected;	/* detected MIME type */
	size_t	 size;		/* decoded bytes */
	const char *reason;	/* phrase key: "policy", "virus", ... */
	const char *mismatch;	/* NULL, or why name/type disagree */
	int	 warning;	/* a warning line ("action.warning: reason"),
				   not about one file */
	unsigned n, m;		/* {n} and {m} in the reason phrase */
};

/*
 * mugai_notice_render - append the notice for items[0..n) to out.
 * Writes nothing when n == 0.  The frame's {request_link} becomes the
 * phrase line.request with {url} = web_public_url/request/ID when
 * web_public_url is set (an http:// or https:// URL) and stored (the
 * original is kept, so there is something to ask for); else nothing.
 * mugai_notice_render is mugai_notice_render_stored with stored = 1.
 */
mugai_status mugai_notice_render(const struct mugai_config *cfg,
    const char *id, const struct mugai_notice_item *items, size_t n,
    struct mugai_buf *out);
mugai_status mugai_notice_render_stored(const struct mugai_config *cfg,
    const char *id, const struct mugai_notice_item *items, size_t n,
    int stored, struct mugai_buf *out);

/*
 * mugai_notice_url_ok - nonzero when url may stand in the notice: empty,
 * or http:// or https:// followed by printable ASCII without spaces,
 * quotes or angle brackets (check-config refuses any other).
 */
int mugai_notice_url_ok(const char *url);

/*
 * mugai_notice_check - load every template once and report the first
 * problem in err (for check-config).  0 when all is well.
 */
int mugai_notice_check(const struct mugai_config *cfg, char *err,
    size_t errlen);

#endif
