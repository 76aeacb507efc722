/*
 * page.h - writing the HTML of a page: the frame every page shares
 * (title, navigation for the role, language switch, logout), and the
 * small helpers pages write with.  web_out() is for the page's own
 * markup only; anything that came from a message or a request goes
 * through web_esc(), which escapes it (html.h).
 */
#ifndef MUGAI_WEB_PAGE_H
#define MUGAI_WEB_PAGE_H

#include <time.h>

#include "web.h"

void web_page_begin(struct web_req *req, struct web_resp *resp, const char *title_en);
void web_page_end(struct web_req *req, struct web_resp *resp);

void web_out(struct web_resp *resp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void web_esc(struct web_resp *resp, const char *s);
void web_esc_n(struct web_resp *resp, const char *s, size_t len);
void web_urlenc(struct web_resp *resp, const char *s);
/* web_tr - the translation of en, escaped (translations are trusted, but
   escaping costs nothing and keeps the rule simple). */
void web_tr(struct web_req *req, struct web_resp *resp, const char *en);
void web_time(struct web_resp *resp, time_t t);
/* web_csrf_field - the hidden input every form of a logged-in page carries. */
void web_csrf_field(struct web_req *req, struct web_resp *resp);
/*
 * web_table_head - '<table id="ID"><tr>' and a <th> for each heading of
 * the NULL-ended list, translated, then '</tr>' and a newline.
 */
void web_table_head(struct web_req *req, struct web_resp *resp,
    const char *id, const char *const *heads);
/*
 * web_page_error - a fresh page titled title_en with status: the error
 * en, translated, and the library's one-line detail (or NULL), in
 * '<p class="error" id="error">'.  The caller adds its way back and
 * ends the page.
 */
void web_page_error(struct web_req *req, struct web_resp *resp,
    unsigned status, const char *title_en, const char *en,
    const char *detail);

#endif
