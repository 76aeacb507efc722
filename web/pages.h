/*
 * pages.h - the pages of mugai-web, one handler each; routes.c says
 * which URL, method and roles reach them.
 */
#ifndef MUGAI_WEB_PAGES_H
#define MUGAI_WEB_PAGES_H

#include "web.h"

/* login.c */
void page_root(struct web_req *, struct web_resp *);
void page_login_form(struct web_req *, struct web_resp *);
void page_login(struct web_req *, struct web_resp *);
void page_logout(struct web_req *, struct web_resp *);
void page_lang(struct web_req *, struct web_resp *);

/* static.c: the console's own CSS and script. */
void page_static(struct web_req *, struct web_resp *);

/* list.c */
void page_messages(struct web_req *, struct web_resp *);

/* message.c */
void page_message(struct web_req *, struct web_resp *);

/* actions.c */
void page_original(struct web_req *, struct web_resp *);
void page_release(struct web_req *, struct web_resp *);
void page_delete(struct web_req *, struct web_resp *);

/* requests.c: requests for an original, the queue, decisions. */
void page_request_form(struct web_req *, struct web_resp *);
void page_request(struct web_req *, struct web_resp *);
void page_requests(struct web_req *, struct web_resp *);
void page_approve(struct web_req *, struct web_resp *);
void page_refuse(struct web_req *, struct web_resp *);
/* web_request_form - staff's "request the original" form for r (nothing
   for other roles or a deleted original). */
void web_request_form(struct web_req *req, struct web_resp *resp,
    const struct mugai_qrecord *r);

/* stats.c */
void page_stats(struct web_req *, struct web_resp *);

/* audit.c */
void page_audit(struct web_req *, struct web_resp *);

/*
 * access.c - the message named by the path after prefix, when the user
 * may see it: staff only messages with one of their addresses among the
 * recipients.  NULL after an error page (404 alike for "no such id" and
 * "not yours", so guessing ids tells nothing).
 */
struct mugai_qrecord *web_message_for(struct web_req *req,
    struct web_resp *resp, const char *prefix);
int web_may_see(const struct web_user *u, const struct mugai_qrecord *r);

#endif
