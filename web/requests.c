/*
 * requests.c - requests for an original (原本取り出し申請) in the
 * console: a staff member asks for the original of one of their
 * messages with a reason (the form on the message page, and
 * /request/ID, where the notice's link lands); admins approve or refuse
 * each in the queue at /requests, auditors read it, staff see their own
 * requests and how they were decided.
 *
 * The library (mugai/quarantine/request.h) keeps the requests, decides
 * what may happen, releases, mails the requester and writes the audit
 * line; this file only asks and shows.  Every actor is "web:USER", as
 * for the console's other actions, so a staff member's own requests are
 * those whose requester is "web:" and their name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/log.h"
#include "mugai/quarantine/request.h"
#include "form.h"
#include "html.h"
#include "page.h"
#include "pages.h"

#define MAX_SHOWN	500	/* requests a page lists */

static void
actor(const struct web_req *req, char *out, size_t len)
{
	snprintf(out, len, "web:%s", req->user.name);
}

/* A page naming what went wrong, with the library's one-line reason. */
static void
failed(struct web_req *req, struct web_resp *resp, unsigned status,
    const char *en, const char *detail)
{
	web_page_error(req, resp, status, "Release requests", en, detail);
	web_out(resp, "<p><a href=\"/requests\">");
	web_tr(req, resp, "Release requests");
	web_out(resp, "</a></p>");
	web_page_end(req, resp);
}

static unsigned
status_of(mugai_status rc)
{
	switch (rc) {
	case MUGAI_ERR_USAGE:		return 400;
	case MUGAI_ERR_STATE:		return 409;
	case MUGAI_ERR_NOTFOUND:	return 404;
	default:			return 500;
	}
}

/* The trimmed reason field; NULL (after an error page) when empty. */
static const char *
reason_of(struct web_req *req, struct web_resp *resp)
{
	char *reason = (char *)web_field(req, "reason");

	if (reason == NULL || *web_form_trim(reason) == '\0') {
		failed(req, resp, 400, "A reason is required.", NULL);
		return NULL;
	}
	return reason;
}

/* ---- staff: the form ------------------------------------------------------ */

/* The form staff ask with; message.c shows it on the message page too. */
void
web_request_form(struct web_req *req, struct web_resp *resp,
    const struct mugai_qrecord *r)
{
	if (req->user.role != WEB_ROLE_STAFF || r->status == NULL ||
	    strcmp(r->status, "deleted") == 0)
		return;
	web_out(resp, "<h2>");
	web_tr(req, resp, "Request the original");
	web_out(resp, "</h2><form method=\"post\" id=\"request\" "
	    "action=\"/request/");
	web_urlenc(resp, r->id);
	web_out(resp, "\">");
	web_csrf_field(req, resp);
	web_out(resp, "<label>");
	web_tr(req, resp, "Reason");
	web_out(resp, " <input name=\"reason\" id=\"request-reason\" required "
	    "maxlength=\"500\"></label> <button type=\"submit\" "
	    "id=\"request-button\">");
	web_tr(req, resp, "Request the original");
	web_out(resp, "</button></form>\n");
}

static void
summary(struct web_req *req, struct web_resp *resp, const struct mugai_qrecord *r)
{
	web_out(resp, "<table id=\"summary\"><tr><th>ID</th><td id=\"msg-id\">"
	    "<a href=\"/message/");
	web_urlenc(resp, r->id);
	web_out(resp, "\">");
	web_esc(resp, r->id);
	web_out(resp, "</a></td></tr><tr><th>");
	web_tr(req, resp, "Received");
	web_out(resp, "</th><td>");
	web_time(resp, r->received);
	web_out(resp, "</td></tr><tr><th>");
	web_tr(req, resp, "Sender");
	web_out(resp, "</th><td id=\"sender\">");
	web_esc(resp, r->sender ? r->sender : "");
	web_out(resp, "</td></tr><tr><th>");
	web_tr(req, resp, "Subject");
	web_out(resp, "</th><td id=\"subject\">");
	web_esc(resp, r->subject ? r->subject : "");
	web_out(resp, "</td></tr><tr><th>");
	web_tr(req, resp, "Status");
	web_out(resp, "</th><td id=\"status\">");
	web_tr(req, resp, r->status ? r->status : "");
	web_out(resp, "</td></tr></table>\n");
}

/*
 * GET /request/ID, the notice's link: staff get the message's summary
 * and the form (404 for another address's mail, as everywhere); admins
 * and auditors go to the message page, where admins release directly.
 */
void
page_request_form(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrecord *r;
	struct mugai_buf loc;

	if ((r = web_message_for(req, resp, "/request/")) == NULL)
		return;
	if (req->user.role != WEB_ROLE_STAFF) {
		mugai_buf_init(&loc, 0);
		if (mugai_buf_puts(&loc, "/message/") != MUGAI_OK ||
		    web_url(&loc, r->id) != MUGAI_OK)
			resp->failed = 1;
		else
			web_redirect(resp, loc.data);
		mugai_buf_free(&loc);
		mugai_qrecord_free(r);
		return;
	}
	web_page_begin(req, resp, "Request the original");
	summary(req, resp, r);
	if (strcmp(r->status, "deleted") == 0) {
		web_out(resp, "<p class=\"error\" id=\"error\">");
		web_tr(req, resp, "The original was deleted.");
		web_out(resp, "</p>");
	} else
		web_request_form(req, resp, r);
	web_page_end(req, resp);
	mugai_qrecord_free(r);
}

/* The staff member's address the message was for: the one to tell. */
static const char *
notify_addr(const struct web_user *u, const struct mugai_qrecord *r)
{
	struct web_user one = *u;
	size_t i, j;

	one.naddrs = 1;
	for (j = 0; j < u->naddrs; j++) {
		one.addrs = &u->addrs[j];
		for (i = 0; i < r->nrecipients; i++)
			if (web_user_has_addr(&one, r->recipients[i]))
				return u->addrs[j];
	}
	return u->naddrs > 0 ? u->addrs[0] : NULL;
}

/* POST /request/ID: staff ask, with a reason. */
void
page_request(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrecord *r;
	const char *reason, *notify;
	char who[96];
	long long reqid = 0;
	mugai_status rc;

	if ((r = web_message_for(req, resp, "/request/")) == NULL)
		return;
	if ((reason = reason_of(req, resp)) == NULL)
		goto done;
	actor(req, who, sizeof(who));
	notify = notify_addr(&req->user, r);
	rc = mugai_quarantine_request(req->app->q, r->id, who, notify, reason,
	    &reqid);
	mugai_log(rc == MUGAI_OK ? LOG_INFO : LOG_ERR, "web", "%s: original "
	    "requested by %s: %s", r->id, req->user.name, rc == MUGAI_OK ?
	    "recorded" : mugai_quarantine_error());
	if (rc != MUGAI_OK) {
		failed(req, resp, status_of(rc), "The request failed:",
		    mugai_quarantine_error());
		goto done;
	}
	web_redirect(resp, "/requests?done=requested");
done:
	mugai_qrecord_free(r);
}

/* ---- the queue ------------------------------------------------------------ */

/* What the queue shows of each request's message, looked up between
 * two walks of the requests (the index is not asked while it lists). */
struct msginfo {
	char	*id;
	char	*subject;		/* NULL: the message is gone */
	int	 dangerous;
};

struct queue {
	struct web_req *req;
	struct web_resp *resp;
	size_t	 n;
	struct msginfo *info;		/* MAX_SHOWN of them */
	size_t	 ninfo;
	int	 failed;
};

static int
on_collect(const struct mugai_qrequest *q, void *arg)
{
	struct queue *c = arg;

	if (c->ninfo >= MAX_SHOWN)
		return 1;
	if ((c->info[c->ninfo].id = strdup(q->id)) == NULL) {
		c->failed = 1;
		return 1;
	}
	c->ninfo++;
	return 0;
}

static void
lookup(struct queue *c)
{
	struct mugai_qrecord *r;
	size_t i;

	for (i = 0; i < c->ninfo; i++) {
		r = NULL;
		if (mugai_quarantine_get(c->req->app->q, c->info[i].id, &r) !=
		    MUGAI_OK)
			continue;
		c->info[i].subject = strdup(r->subject ? r->subject : "");
		c->info[i].dangerous = mugai_quarantine_dangerous(r);
		mugai_qrecord_free(r);
	}
}

static void
info_free(struct queue *c)
{
	size_t i;

	for (i = 0; c->info != NULL && i < c->ninfo; i++) {
		free(c->info[i].id);
		free(c->info[i].subject);
	}
	free(c->info);
}

static void
decide_forms(struct web_req *req, struct web_resp *resp,
    const struct mugai_qrequest *q, const struct msginfo *m)
{
	web_out(resp, "<form method=\"post\" class=\"approve\" "
	    "id=\"approve-%lld\" action=\"/approve/%lld\">", q->reqid, q->reqid);
	web_csrf_field(req, resp);
	web_out(resp, "<label>");
	web_tr(req, resp, "Release to");
	web_out(resp, " <input name=\"to\" placeholder=\"");
	web_tr(req, resp, "the original recipients");
	web_out(resp, "\"></label> <label>");
	web_tr(req, resp, "Parts");
	web_out(resp, " <input name=\"parts\" size=\"8\" placeholder=\"");
	web_tr(req, resp, "all, or e.g. 1.2,1.3");
	web_out(resp, "\"></label> <label>");
	web_tr(req, resp, "Reason");
	web_out(resp, " <input name=\"reason\" required maxlength=\"500\">"
	    "</label> ");
	if (m == NULL || m->dangerous) {
		web_out(resp, "<label class=\"danger\"><input type=\"checkbox\" "
		    "name=\"force\" value=\"1\"> ");
		web_tr(req, resp, "Release even though it is dangerous");
		web_out(resp, "</label> ");
	}
	web_out(resp, "<button type=\"submit\">");
	web_tr(req, resp, "Approve");
	web_out(resp, "</button></form>\n<form method=\"post\" class=\"refuse\" "
	    "id=\"refuse-%lld\" action=\"/refuse/%lld\">", q->reqid, q->reqid);
	web_csrf_field(req, resp);
	web_out(resp, "<label>");
	web_tr(req, resp, "Reason");
	web_out(resp, " <input name=\"reason\" required maxlength=\"500\">"
	    "</label> <button type=\"submit\">");
	web_tr(req, resp, "Refuse");
	web_out(resp, "</button></form>");
}

static int
on_request(const struct mugai_qrequest *q, void *arg)
{
	struct queue *c = arg;
	struct web_req *req = c->req;
	struct web_resp *resp = c->resp;
	const struct msginfo *m = NULL;

	if (c->n < c->ninfo && strcmp(c->info[c->n].id, q->id) == 0)
		m = &c->info[c->n];
	if (c->n++ >= MAX_SHOWN)
		return 1;
	web_out(resp, "<tr class=\"req\" id=\"req-%lld\"><td class=\"num\">%lld"
	    "</td><td>", q->reqid, q->reqid);
	web_time(resp, q->requested);
	web_out(resp, "</td><td><a href=\"/message/");
	web_urlenc(resp, q->id);
	web_out(resp, "\">");
	web_esc(resp, q->id);
	web_out(resp, "</a></td><td class=\"subject\">");
	if (m != NULL && m->subject != NULL)
		web_esc(resp, m->subject);
	web_out(resp, "</td><td>");
	web_esc(resp, q->requester);
	web_out(resp, "</td><td>");
	web_esc(resp, q->reason);
	web_out(resp, "</td><td class=\"state\">");
	web_tr(req, resp, q->state);
	web_out(resp, "</td><td>");
	if (q->decided > 0) {
		web_time(resp, q->decided);
		web_out(resp, " ");
		web_esc(resp, q->decider);
		web_out(resp, ": ");
		web_esc(resp, q->decision);
		if (q->release_to && *q->release_to) {
			web_out(resp, " &rarr; ");
			web_esc(resp, q->release_to);
		}
	} else if (req->user.role == WEB_ROLE_ADMIN &&
	    strcmp(q->state, "pending") == 0)
		decide_forms(req, resp, q, m);
	web_out(resp, "</td></tr>\n");
	return 0;
}

static void
state_links(struct web_req *req, struct web_resp *resp, const char *cur)
{
	static const char *const states[] = { "pending", "approved", "refused",
		"all", NULL };
	size_t i;

	web_out(resp, "<p class=\"states\">");
	for (i = 0; states[i] != NULL; i++) {
		if (strcmp(cur, states[i]) == 0) {
			web_out(resp, "<b>");
			web_tr(req, resp, states[i]);
			web_out(resp, "</b> ");
			continue;
		}
		web_out(resp, "<a href=\"/requests?state=%s\">", states[i]);
		web_tr(req, resp, states[i]);
		web_out(resp, "</a> ");
	}
	web_out(resp, "</p>");
}

static void
done_note(struct web_req *req, struct web_resp *resp)
{
	static const char *const done[][2] = {
		{ "requested", "Your request was sent to the administrators." },
		{ "approved", "Approved; the original was released." },
		{ "mailfail", "Approved, but the requester could not be told by "
		    "mail." },
		{ "refused", "Refused." },
	};
	const char *v = web_arg(req, "done");
	size_t i;

	for (i = 0; v != NULL && i < sizeof(done) / sizeof(done[0]); i++)
		if (strcmp(v, done[i][0]) == 0) {
			web_out(resp, "<p class=\"%s\" id=\"done\">",
			    strcmp(v, "mailfail") == 0 ? "error" : "ok");
			web_tr(req, resp, done[i][1]);
			web_out(resp, "</p>");
		}
}

/*
 * GET /requests[?state=pending|approved|refused|all]: admins and
 * auditors the queue (pending by default), staff their own, all states.
 */
void
page_requests(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrfilter f;
	struct queue c;
	const char *state = web_arg(req, "state");
	char who[96];
	mugai_status rc;

	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	c.req = req;
	c.resp = resp;
	if (req->user.role == WEB_ROLE_STAFF) {
		actor(req, who, sizeof(who));
		f.requester = who;
		state = "all";
	} else if (state == NULL || (strcmp(state, "approved") != 0 &&
	    strcmp(state, "refused") != 0 && strcmp(state, "all") != 0))
		state = "pending";
	if (strcmp(state, "all") != 0)
		f.state = state;
	web_page_begin(req, resp, "Release requests");
	done_note(req, resp);
	if (req->user.role != WEB_ROLE_STAFF)
		state_links(req, resp, state);
	web_table_head(req, resp, "requests", (const char *const[]){ "#",
	    "Requested", "ID", "Subject", "Requester", "Reason", "State",
	    "Decision", NULL });
	if ((c.info = calloc(MAX_SHOWN, sizeof(*c.info))) == NULL)
		c.failed = 1;
	rc = c.failed ? MUGAI_OK : mugai_quarantine_requests(req->app->q, &f,
	    on_collect, &c);
	if (rc == MUGAI_OK && !c.failed) {
		lookup(&c);
		rc = mugai_quarantine_requests(req->app->q, &f, on_request, &c);
	}
	info_free(&c);
	web_out(resp, "</table>\n");
	if (rc == MUGAI_OK && c.failed) {
		web_error(req, resp, 500, "Internal error; see the log.");
		return;
	}
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "requests: %s", mugai_quarantine_error());
		web_error(req, resp, 500, "Internal error; see the log.");
		return;
	}
	if (c.n == 0) {
		web_out(resp, "<p id=\"none\">");
		web_tr(req, resp, "No requests.");
		web_out(resp, "</p>");
	} else if (c.n > MAX_SHOWN) {
		web_out(resp, "<p class=\"error\">");
		web_tr(req, resp, "Only the oldest requests are shown.");
		web_out(resp, "</p>");
	}
	web_page_end(req, resp);
}

/* ---- admins decide -------------------------------------------------------- */

/* The request number after prefix; 0 (after an error page) when bad. */
static long long
reqid_of(struct web_req *req, struct web_resp *resp, const char *prefix)
{
	const char *s = req->path + strlen(prefix);
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s < '1' || *s > '9' || *end != '\0' || errno != 0) {
		web_error(req, resp, 404, "Not found.");
		return 0;
	}
	return n;
}

static void
decide(struct web_req *req, struct web_resp *resp, int approve)
{
	struct mugai_qdecision d;
	const char *force;
	char who[96], *to, *parts;
	mugai_status rc;

	memset(&d, 0, sizeof(d));
	if ((d.reqid = reqid_of(req, resp, approve ? "/approve/" :
	    "/refuse/")) == 0)
		return;
	if ((d.reason = reason_of(req, resp)) == NULL)
		return;
	actor(req, who, sizeof(who));
	d.actor = who;
	if (approve) {
		to = web_form_trim((char *)web_field(req, "to"));
		if (to != NULL && *to != '\0' && !web_addr_ok(to)) {
			failed(req, resp, 400, "Bad request.", to);
			return;
		}
		d.to = to != NULL && *to != '\0' ? to : NULL;
		parts = web_form_trim((char *)web_field(req, "parts"));
		d.parts = parts != NULL && *parts != '\0' ? parts : NULL;
		force = web_field(req, "force");
		d.force = force != NULL && strcmp(force, "1") == 0;
		rc = mugai_quarantine_approve(req->app->q, &d);
	} else
		rc = mugai_quarantine_refuse(req->app->q, &d);
	mugai_log(rc == MUGAI_OK ? LOG_INFO : LOG_ERR, "web", "request %lld: "
	    "%s by %s: %s", d.reqid, approve ? "approve" : "refuse",
	    req->user.name, rc == MUGAI_OK ? "done" : mugai_quarantine_error());
	if (rc == MUGAI_ERR_IO && approve) {
		/* The release stands; only the mail to the requester failed
		 * (the library says which: a failed release is not IO). */
		struct mugai_qrequest *q = NULL;

		if (mugai_quarantine_request_get(req->app->q, d.reqid, &q) ==
		    MUGAI_OK && strcmp(q->state, "approved") == 0) {
			mugai_qrequest_free(q);
			web_redirect(resp, "/requests?done=mailfail");
			return;
		}
		mugai_qrequest_free(q);
	}
	if (rc != MUGAI_OK) {
		failed(req, resp, status_of(rc), "The action failed:",
		    mugai_quarantine_error());
		return;
	}
	web_redirect(resp, approve ? "/requests?done=approved" :
	    "/requests?done=refused");
}

void
page_approve(struct web_req *req, struct web_resp *resp)
{
	decide(req, resp, 1);
}

void
page_refuse(struct web_req *req, struct web_resp *resp)
{
	decide(req, resp, 0);
}
