/*
 * actions.c - what admins do to an original from the console: download
 * it, release it, delete it.  The quarantine library does each (its
 * state changes, its audit line with the actor); the console names the
 * actor "web:USER" so the audit log says who it was and from where.
 * A download changes nothing in the store, so this file writes its
 * audit line itself.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mugai/base/json.h"
#include "mugai/base/log.h"
#include "form.h"
#include "page.h"
#include "pages.h"

static void
actor(const struct web_req *req, char *out, size_t len)
{
	snprintf(out, len, "web:%s", req->user.name);
}

/* A page naming what went wrong, with the library's one-line reason. */
static void
failed(struct web_req *req, struct web_resp *resp, unsigned status,
    const char *id, const char *en, const char *detail)
{
	web_page_error(req, resp, status, "Message", en, detail);
	web_out(resp, "<p><a href=\"/message/");
	web_urlenc(resp, id);
	web_out(resp, "\">");
	web_esc(resp, id);
	web_out(resp, "</a></p>");
	web_page_end(req, resp);
}

static void
audit_download(struct web_req *req, const struct mugai_qrecord *r)
{
	struct mugai_buf b;
	char when[48], who[96];
	time_t now = time(NULL);
	struct tm tm;
	mugai_status rc;

	if (req->app->cfg->audit_log[0] == '\0')
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	actor(req, who, sizeof(who));
	mugai_buf_init(&b, 64 * 1024);
	rc = mugai_buf_puts(&b, "{");
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "time", when);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "actor", who);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "action", "download");
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "id", r->id);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "client", req->client);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, '}');
	if (rc == MUGAI_OK) rc = mugai_audit(req->app->cfg, b.data);
	if (rc != MUGAI_OK)
		mugai_log(LOG_ERR, "web", "%s: download by %s not written to "
		    "the audit log: %s", r->id, who, mugai_status_str(rc));
	mugai_buf_free(&b);
}

void
page_original(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrecord *r;
	char disp[256];

	if ((r = web_message_for(req, resp, "/original/")) == NULL)
		return;
	if (strcmp(r->status, "deleted") == 0 ||
	    mugai_quarantine_read(req->app->q, r, &resp->body) != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "%s: download: %s", r->id,
		    strcmp(r->status, "deleted") == 0 ? "deleted" :
		    mugai_quarantine_error());
		failed(req, resp, 404, r->id, "Not found.", NULL);
		mugai_qrecord_free(r);
		return;
	}
	/* Never shown by the browser: a download, of a type it will not
	 * sniff into something it renders.  Ids are [A-Za-z0-9._-]. */
	resp->ctype = "application/octet-stream";
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.eml\"", r->id);
	resp->disposition = strdup(disp);
	if (resp->disposition == NULL)
		resp->failed = 1;
	audit_download(req, r);
	mugai_log(LOG_INFO, "web", "%s: original downloaded by %s from %s",
	    r->id, req->user.name, req->client);
	mugai_qrecord_free(r);
}

/* The reason field, trimmed; NULL after an error page when empty. */
static const char *
reason_of(struct web_req *req, struct web_resp *resp, const char *id)
{
	char *reason = (char *)web_field(req, "reason");

	if (reason == NULL || *web_form_trim(reason) == '\0') {
		failed(req, resp, 400, id, "A reason is required.", NULL);
		return NULL;
	}
	return reason;
}

/* An envelope address as recorded, without its <>. */
static const char *
bare(const char *a, char *out, size_t len)
{
	size_t n;

	if (*a == '<')
		a++;
	snprintf(out, len, "%s", a);
	n = strlen(out);
	if (n > 0 && out[n - 1] == '>')
		out[n - 1] = '\0';
	return out;
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

void
page_release(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrecord *r;
	struct mugai_qrelease rel;
	char *to, who[96], addr[512];
	const char *reason, *part, *force;
	size_t i, n;
	mugai_status rc = MUGAI_OK;

	if ((r = web_message_for(req, resp, "/release/")) == NULL)
		return;
	if ((reason = reason_of(req, resp, r->id)) == NULL)
		goto done;
	to = web_form_trim((char *)web_field(req, "to"));
	part = web_field(req, "part");
	force = web_field(req, "force");
	if (to != NULL && *to != '\0' && !web_addr_ok(to)) {
		failed(req, resp, 400, r->id, "Bad request.", to);
		goto done;
	}
	if (part != NULL && *part == '\0')
		part = NULL;
	actor(req, who, sizeof(who));
	memset(&rel, 0, sizeof(rel));
	rel.id = r->id;
	rel.part = part;
	rel.reason = reason;
	rel.actor = who;
	rel.force = force != NULL && strcmp(force, "1") == 0;
	/* To the original recipients, one release each, or to one address. */
	n = to != NULL && *to != '\0' ? 1 : r->nrecipients;
	for (i = 0; i < n && rc == MUGAI_OK; i++) {
		rel.to = to != NULL && *to != '\0' ? to :
		    bare(r->recipients[i], addr, sizeof(addr));
		rc = mugai_quarantine_release(req->app->q, &rel);
		mugai_log(rc == MUGAI_OK ? LOG_INFO : LOG_ERR, "web", "%s: release "
		    "to %s by %s: %s", r->id, rel.to, req->user.name,
		    rc == MUGAI_OK ? "done" : mugai_quarantine_error());
	}
	if (rc != MUGAI_OK) {
		failed(req, resp, status_of(rc), r->id, rc == MUGAI_ERR_USAGE &&
		    mugai_quarantine_dangerous(r) && !rel.force ?
		    "This message was rejected or carries a virus." :
		    "The action failed:", mugai_quarantine_error());
		goto done;
	}
	mugai_buf_reset(&resp->body);
	{
		char loc[256];

		snprintf(loc, sizeof(loc), "/message/%s?done=released", r->id);
		web_redirect(resp, loc);
	}
done:
	mugai_qrecord_free(r);
}

void
page_delete(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrecord *r;
	const char *reason;
	char who[96], loc[256];
	mugai_status rc;

	if ((r = web_message_for(req, resp, "/delete/")) == NULL)
		return;
	if ((reason = reason_of(req, resp, r->id)) == NULL)
		goto done;
	actor(req, who, sizeof(who));
	rc = mugai_quarantine_delete(req->app->q, r->id, who, reason);
	mugai_log(rc == MUGAI_OK ? LOG_INFO : LOG_ERR, "web", "%s: delete by %s: "
	    "%s", r->id, req->user.name, rc == MUGAI_OK ? "done" :
	    mugai_quarantine_error());
	if (rc != MUGAI_OK) {
		failed(req, resp, status_of(rc), r->id, "The action failed:",
		    mugai_quarantine_error());
		goto done;
	}
	snprintf(loc, sizeof(loc), "/message/%s?done=deleted", r->id);
	web_redirect(resp, loc);
done:
	mugai_qrecord_free(r);
}
