/*
 * access.c - who may see which message (pages.h).  Admins and auditors
 * see every message; a staff account only those with one of its
 * addresses among the envelope recipients.  A message a staff member
 * may not see answers exactly as one that does not exist.
 */
#include <string.h>

#include "mugai/base/log.h"
#include "pages.h"

int
web_may_see(const struct web_user *u, const struct mugai_qrecord *r)
{
	size_t i;

	if (u->role != WEB_ROLE_STAFF)
		return 1;
	for (i = 0; i < r->nrecipients; i++)
		if (web_user_has_addr(u, r->recipients[i]))
			return 1;
	return 0;
}

struct mugai_qrecord *
web_message_for(struct web_req *req, struct web_resp *resp, const char *prefix)
{
	struct mugai_qrecord *r = NULL;
	const char *id = req->path + strlen(prefix);
	mugai_status rc;

	rc = mugai_quarantine_get(req->app->q, id, &r);
	if (rc == MUGAI_ERR_NOTFOUND || rc == MUGAI_ERR_USAGE) {
		web_error(req, resp, 404, "Not found.");
		return NULL;
	}
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "%s: %s", id, mugai_quarantine_error());
		web_error(req, resp, 500, "Internal error; see the log.");
		return NULL;
	}
	if (!web_may_see(&req->user, r)) {
		mugai_log(LOG_WARNING, "web", "%s asked for %s, which is not "
		    "addressed to them; answered 404", req->user.name, id);
		mugai_qrecord_free(r);
		web_error(req, resp, 404, "Not found.");
		return NULL;
	}
	return r;
}
