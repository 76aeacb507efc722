/*
 * message.c - one quarantined message: envelope, headers, the part tree
 * with what happened to each part and why, the notice and the body text
 * the recipient got, the history of actions, and (for admins) download,
 * release and delete; for staff, the form asking for the original.
 *
 * Nothing of the message is ever rendered as HTML: every value goes
 * through web_esc(), headers and text are shown in <pre> as text.  The
 * notice the quarantine keeps is the text body the recipient got (the
 * notice, then the sanitised text) up to quarantine_notice_max bytes,
 * with a line saying how much more there was, so it is shown as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "mugai/base/log.h"
#include "page.h"
#include "pages.h"

#define MAX_HEADER_SHOWN	(64 * 1024)

struct parts_ctx {
	struct web_req *req;
	struct web_resp *resp;
	const struct mugai_buf *raw;	/* NULL: original gone */
};

static void
row(struct web_req *req, struct web_resp *resp, const char *en, const char *v,
    const char *id)
{
	web_out(resp, "<tr><th>");
	web_tr(req, resp, en);
	web_out(resp, "</th><td id=\"%s\">", id);
	web_esc(resp, v ? v : "");
	web_out(resp, "</td></tr>");
}

static void
envelope(struct web_req *req, struct web_resp *resp, const struct mugai_qrecord *r)
{
	size_t i;
	char size[32];

	web_out(resp, "<h2>");
	web_tr(req, resp, "Envelope");
	web_out(resp, "</h2><table id=\"envelope\"><tr><th>ID</th><td id=\"msg-id\">");
	web_esc(resp, r->id);
	web_out(resp, "</td></tr><tr><th>");
	web_tr(req, resp, "Received");
	web_out(resp, "</th><td>");
	web_time(resp, r->received);
	web_out(resp, "</td></tr>");
	row(req, resp, "Subject", r->subject, "subject");
	row(req, resp, "Sender", r->sender, "sender");
	web_out(resp, "<tr><th>");
	web_tr(req, resp, "Recipients");
	web_out(resp, "</th><td id=\"recipients\">");
	for (i = 0; i < r->nrecipients; i++) {
		web_esc(resp, r->recipients[i]);
		web_out(resp, "<br>");
	}
	web_out(resp, "</td></tr>");
	row(req, resp, "Client address", r->client_addr, "client");
	row(req, resp, "Queue id", r->queue_id, "queue-id");
	snprintf(size, sizeof(size), "%zu", r->size);
	row(req, resp, "Size", size, "size");
	row(req, resp, "SHA-256", r->sha256, "sha256");
	web_out(resp, "<tr><th>");
	web_tr(req, resp, "Verdict");
	web_out(resp, "</th><td id=\"verdict\">");
	web_tr(req, resp, r->verdict ? r->verdict : "");
	web_out(resp, "</td></tr><tr><th>");
	web_tr(req, resp, "Status");
	web_out(resp, "</th><td id=\"status\">");
	web_tr(req, resp, r->status ? r->status : "");
	web_out(resp, "</td></tr>");
	row(req, resp, "Reasons", r->reasons, "reasons");
	web_out(resp, "</table>\n");
}

/* The header block of the original: up to the first empty line. */
static void
headers(struct web_req *req, struct web_resp *resp, const struct mugai_buf *raw)
{
	const char *end = NULL, *p;
	size_t n;

	if (raw == NULL)
		return;
	for (p = raw->data; p != NULL && p < raw->data + raw->len; p++) {
		p = memchr(p, '\n', (size_t)(raw->data + raw->len - p));
		if (p == NULL)
			break;
		if (p + 1 < raw->data + raw->len && (p[1] == '\n' ||
		    (p[1] == '\r' && p + 2 < raw->data + raw->len && p[2] == '\n'))) {
			end = p + 1;
			break;
		}
	}
	n = end ? (size_t)(end - raw->data) : raw->len;
	web_out(resp, "<h2>");
	web_tr(req, resp, "Headers");
	web_out(resp, "</h2><pre id=\"headers\">");
	web_esc_n(resp, raw->data, n > MAX_HEADER_SHOWN ? MAX_HEADER_SHOWN : n);
	web_out(resp, "%s</pre>\n", n > MAX_HEADER_SHOWN ? "\n[...]" : "");
}

static int
depth(const char *path)
{
	int d = 1;

	for (; path && *path; path++)
		d += *path == '.';
	return d > 4 ? 4 : d;
}

static int
on_part(const struct mugai_qpart *p, void *arg)
{
	struct parts_ctx *c = arg;
	struct web_resp *resp = c->resp;

	web_out(resp, "<tr class=\"part\"><td class=\"part-depth-%d\">",
	    depth(p->path));
	web_esc(resp, p->path);
	web_out(resp, "</td><td>");
	web_esc(resp, p->detected_type ? p->detected_type : p->declared_type);
	if (p->declared_type && p->detected_type &&
	    strcmp(p->declared_type, p->detected_type) != 0) {
		web_out(resp, " <small>(");
		web_esc(resp, p->declared_type);
		web_out(resp, ")</small>");
	}
	web_out(resp, "</td><td>");
	web_esc(resp, p->name);
	web_out(resp, "</td><td class=\"num\">");
	if (p->size >= 0)
		web_out(resp, "%lld", p->size);
	web_out(resp, "</td><td class=\"action\">");
	web_esc(resp, p->action);
	web_out(resp, "</td><td>");
	web_esc(resp, p->reason);
	web_out(resp, "</td></tr>\n");
	return 0;
}

static void
parts(struct web_req *req, struct web_resp *resp, const struct mugai_qrecord *r,
    struct parts_ctx *c)
{
	web_out(resp, "<h2>");
	web_tr(req, resp, "Parts");
	web_out(resp, "</h2>");
	web_table_head(req, resp, "parts", (const char *const[]){ "Part",
	    "Type", "File name", "Size", "Action", "Reason", NULL });
	(void)mugai_quarantine_report_parts(req->app->q, r->report_json, on_part, c);
	web_out(resp, "</table>\n<h2>");
	web_tr(req, resp, "The notice and text as the recipient saw it");
	web_out(resp, "</h2><pre id=\"notice\">");
	if (r->notice && *r->notice)
		web_esc(resp, r->notice);
	else
		web_tr(req, resp, "no notice");
	web_out(resp, "</pre>\n");
}

static int
on_action(const struct mugai_qaction *a, void *arg)
{
	struct parts_ctx *c = arg;
	struct web_resp *resp = c->resp;

	web_out(resp, "<tr class=\"action\"><td>");
	web_time(resp, a->time);
	web_out(resp, "</td><td>");
	web_esc(resp, a->actor);
	web_out(resp, "</td><td>");
	web_esc(resp, a->action);
	web_out(resp, "</td><td>");
	web_esc(resp, a->detail);
	web_out(resp, "</td><td>");
	web_esc(resp, a->reason);
	web_out(resp, "</td></tr>\n");
	return 0;
}

static void
history(struct web_req *req, struct web_resp *resp, const struct mugai_qrecord *r,
    struct parts_ctx *c)
{
	web_out(resp, "<h2>");
	web_tr(req, resp, "History");
	web_out(resp, "</h2>");
	web_table_head(req, resp, "history", (const char *const[]){ "Time",
	    "Who", "Action", "Detail", "Reason", NULL });
	if (mugai_quarantine_history(req->app->q, r->id, on_action, c) != MUGAI_OK)
		mugai_log(LOG_ERR, "web", "%s: history: %s", r->id,
		    mugai_quarantine_error());
	web_out(resp, "</table>\n");
}

static int
on_part_option(const struct mugai_qpart *p, void *arg)
{
	struct parts_ctx *c = arg;

	if (p->path == NULL || strchr(p->path, '.') == NULL)
		return 0;	/* "1", the whole body, is "whole message" */
	web_out(c->resp, "<option value=\"");
	web_esc(c->resp, p->path);
	web_out(c->resp, "\">");
	web_esc(c->resp, p->path);
	web_out(c->resp, " ");
	web_esc(c->resp, p->name && *p->name ? p->name : p->detected_type);
	web_out(c->resp, "</option>");
	return 0;
}

/* Download, release and delete: admins only, while the original exists. */
static void
admin_actions(struct web_req *req, struct web_resp *resp,
    const struct mugai_qrecord *r, struct parts_ctx *c)
{
	if (req->user.role != WEB_ROLE_ADMIN || r->status == NULL ||
	    strcmp(r->status, "deleted") == 0)
		return;
	web_out(resp, "<h2>");
	web_tr(req, resp, "Action");
	web_out(resp, "</h2><p><a id=\"download\" href=\"/original/");
	web_urlenc(resp, r->id);
	web_out(resp, "\">");
	web_tr(req, resp, "Download the original");
	web_out(resp, "</a></p>\n<form method=\"post\" id=\"release\" action=\"/release/");
	web_urlenc(resp, r->id);
	web_out(resp, "\">");
	web_csrf_field(req, resp);
	web_out(resp, "<label>");
	web_tr(req, resp, "Release to");
	web_out(resp, " <input name=\"to\" id=\"release-to\" placeholder=\"");
	web_tr(req, resp, "the original recipients");
	web_out(resp, "\"></label> <label>");
	web_tr(req, resp, "Part");
	web_out(resp, " <select name=\"part\" id=\"release-part\"><option value=\"\">");
	web_tr(req, resp, "Whole message");
	web_out(resp, "</option>");
	(void)mugai_quarantine_report_parts(req->app->q, r->report_json,
	    on_part_option, c);
	web_out(resp, "</select></label> <label>");
	web_tr(req, resp, "Reason");
	web_out(resp, " <input name=\"reason\" id=\"release-reason\" required "
	    "maxlength=\"500\"></label> ");
	if (mugai_quarantine_dangerous(r)) {
		web_out(resp, "<label class=\"danger\"><input type=\"checkbox\" "
		    "name=\"force\" value=\"1\"> ");
		web_tr(req, resp, "Release even though it is dangerous");
		web_out(resp, "</label> ");
	}
	web_out(resp, "<button type=\"submit\" id=\"release-button\">");
	web_tr(req, resp, "Release");
	web_out(resp, "</button></form>\n<form method=\"post\" id=\"delete\" "
	    "action=\"/delete/");
	web_urlenc(resp, r->id);
	web_out(resp, "\" data-confirm=\"");
	web_tr(req, resp, "Delete the original");
	web_out(resp, "?\">");
	web_csrf_field(req, resp);
	web_out(resp, "<label>");
	web_tr(req, resp, "Reason");
	web_out(resp, " <input name=\"reason\" id=\"delete-reason\" required "
	    "maxlength=\"500\"></label> <button type=\"submit\" id=\"delete-button\">");
	web_tr(req, resp, "Delete the original");
	web_out(resp, "</button></form>\n");
}

void
page_message(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qrecord *r;
	struct mugai_buf raw;
	struct parts_ctx c;
	const char *done = web_arg(req, "done");
	int have_raw = 0;

	if ((r = web_message_for(req, resp, "/message/")) == NULL)
		return;
	mugai_buf_init(&raw, 0);
	if (strcmp(r->status, "deleted") != 0 &&
	    mugai_quarantine_read(req->app->q, r, &raw) == MUGAI_OK)
		have_raw = 1;
	memset(&c, 0, sizeof(c));
	c.req = req;
	c.resp = resp;
	c.raw = have_raw ? &raw : NULL;
	web_page_begin(req, resp, "Message");
	if (done != NULL && (strcmp(done, "released") == 0 ||
	    strcmp(done, "deleted") == 0)) {
		web_out(resp, "<p class=\"ok\" id=\"done\">");
		web_tr(req, resp, strcmp(done, "released") == 0 ? "Released." :
		    "Deleted.");
		web_out(resp, "</p>");
	}
	envelope(req, resp, r);
	admin_actions(req, resp, r, &c);
	web_request_form(req, resp, r);
	headers(req, resp, c.raw);
	parts(req, resp, r, &c);
	history(req, resp, r, &c);
	web_page_end(req, resp);
	mugai_buf_free(&raw);
	mugai_qrecord_free(r);
}
