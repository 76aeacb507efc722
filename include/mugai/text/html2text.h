/*
 * mugai/text/html2text.h - HTML to readable plain text, for mail bodies.
 *
 * Parsing uses libxml2's HTML parser in recover mode with no network
 * access.  Active and invisible content is dropped (script, style, head,
 * template, object, embed, iframe, comments, [hidden], display:none);
 * structure is kept as text: paragraphs, <br>, headings, lists, tables
 * (one row per line, cells separated by " | "), blockquote ("> "), <pre>.
 * Links become "text <URL>"; a link whose visible text looks like a URL
 * or domain different from its target gets a warning line.  Images
 * become "[image: alt]".
 */
#ifndef MUGAI_HTML2TEXT_H
#define MUGAI_HTML2TEXT_H

#include <stddef.h>
#include "mugai/base/buf.h"

struct mugai_html_stats {
	unsigned links;			/* <a href> rendered */
	unsigned suspicious_links;	/* phishing warnings written */
	unsigned images;
	unsigned dropped;		/* script/style/hidden/... subtrees */
	int	 truncated;		/* depth or output cap was reached */
};

/*
 * mugai_html_to_text - append the text rendering of html[0..len) to out.
 * charset: from the MIME header, NULL if none (then <meta>, then
 * detection).  max_depth caps element nesting (deeper content is kept as
 * flat text).  Output is UTF-8 with "\n" line ends.  Fails with
 * MUGAI_ERR_LIMIT when out reaches its cap, MUGAI_ERR_NOMEM, or
 * MUGAI_ERR_PARSE when libxml2 gives up entirely.
 */
mugai_status mugai_html_to_text(const char *html, size_t len,
    const char *charset, unsigned max_depth, struct mugai_buf *out,
    struct mugai_html_stats *stats);

#endif
