/*
 * html.h - making untrusted text safe to put in an HTML page.
 *
 * Everything a page shows that came from a mail message or a request is
 * written through web_html(): & < > " ' become character references, so
 * the value can stand in element content and in quoted attribute values
 * alike.  Bytes that are not valid UTF-8 become U+FFFD and control and
 * bidirectional-override characters become '?', so a subject cannot
 * reorder or hide the text around it (a CR before an LF is dropped:
 * it is a line end, not a character).  web_url() percent-encodes a value
 * for a query string or path segment (everything but A-Z a-z 0-9 - . _ ~).
 */
#ifndef MUGAI_WEB_HTML_H
#define MUGAI_WEB_HTML_H

#include "mugai/base/buf.h"

mugai_status web_html(struct mugai_buf *b, const char *s);
mugai_status web_html_n(struct mugai_buf *b, const char *s, size_t len);
mugai_status web_url(struct mugai_buf *b, const char *s);

#endif
