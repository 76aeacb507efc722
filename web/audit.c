/*
 * audit.c - the audit log in the console (/audit, admins and auditors):
 * filtered by time range, user, action and message id, newest first,
 * paged; and as CSV (the same rows "mugai audit --csv" writes).
 *
 * The library reads and filters the log (mugai/quarantine/auditlog.h);
 * this file shows it.  A page is found in two walks of the log, one to
 * count the matching lines and one to keep only that page's, so a long
 * log never sits in memory; the CSV is the whole matching log, bounded
 * by the page limit (WEB_MAX_PAGE).
 *
 *   /audit?from=&to=&user=&action=&id=&page=N	 (dates local, to inclusive)
 *   /audit?...&csv=1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/log.h"
#include "mugai/quarantine/auditlog.h"
#include "form.h"
#include "page.h"
#include "pages.h"

#define PAGE_SIZE 100

static const char *const keep[] = { "from", "to", "user", "action", "id" };
#define NKEEP (sizeof(keep) / sizeof(keep[0]))

struct walk {
	struct web_req *req;
	struct web_resp *resp;
	size_t	 n;			/* lines matched so far */
	size_t	 first, last;		/* this page: lines [first, last) */
	char	**rows;			/* their HTML, in log order */
	mugai_status rc;
};


static int
count(const struct mugai_aentry *e, void *arg)
{
	(void)e;
	((struct walk *)arg)->n++;
	return 0;
}

/* One line of the table, escaped, into w->rows when it is on the page. */
static int
collect(const struct mugai_aentry *e, void *arg)
{
	struct walk *w = arg;
	struct web_resp tmp;
	size_t i = w->n++;

	if (i < w->first || i >= w->last)
		return 0;
	memset(&tmp, 0, sizeof(tmp));
	mugai_buf_init(&tmp.body, 1024 * 1024);
	web_out(&tmp, "<tr class=\"entry\"><td>");
	web_esc(&tmp, e->time_text);
	web_out(&tmp, "</td><td class=\"actor\">");
	web_esc(&tmp, e->actor);
	web_out(&tmp, "</td><td class=\"act\">");
	web_esc(&tmp, e->action);
	web_out(&tmp, "</td><td>");
	if (*e->id != '\0') {
		web_out(&tmp, "<a href=\"/message/");
		web_urlenc(&tmp, e->id);
		web_out(&tmp, "\">");
		web_esc(&tmp, e->id);
		web_out(&tmp, "</a>");
	}
	web_out(&tmp, "</td><td>");
	web_esc(&tmp, e->reason);
	web_out(&tmp, "</td><td><code>");
	web_esc(&tmp, e->json);
	web_out(&tmp, "</code></td></tr>\n");
	if (tmp.failed) {
		mugai_buf_free(&tmp.body);
		w->rc = MUGAI_ERR_NOMEM;
		return 1;
	}
	w->rows[i - w->first] = mugai_buf_steal(&tmp.body, NULL);
	return 0;
}

static int
csv_row(const struct mugai_aentry *e, void *arg)
{
	struct walk *w = arg;

	w->rc = mugai_audit_csv_row(e, &w->resp->body);
	return w->rc != MUGAI_OK;
}

static void
self_link(struct web_req *req, struct web_resp *resp, const char *more)
{
	size_t i;

	web_out(resp, "/audit?%s", more);
	for (i = 0; i < NKEEP; i++)
		if (web_arg_set(req, keep[i]) != NULL) {
			web_out(resp, "&amp;%s=", keep[i]);
			web_urlenc(resp, web_arg_set(req, keep[i]));
		}
}

static void
filter_form(struct web_req *req, struct web_resp *resp)
{
	static const char *const labels[] = { "From date", "To date", "User",
		"Action", "ID" };
	size_t i;

	web_out(resp, "<form method=\"get\" action=\"/audit\" class=\"search\" "
	    "id=\"filter\">");
	for (i = 0; i < NKEEP; i++) {
		web_out(resp, "<label>");
		web_tr(req, resp, labels[i]);
		web_out(resp, " <input type=\"%s\" name=\"%s\" id=\"q-%s\" "
		    "value=\"", i < 2 ? "date" : "text", keep[i], keep[i]);
		web_esc(resp, web_arg_set(req, keep[i]));
		web_out(resp, "\"></label>");
	}
	web_out(resp, " <button type=\"submit\">");
	web_tr(req, resp, "Search");
	web_out(resp, "</button></form>\n<p><a id=\"csv\" href=\"");
	self_link(req, resp, "csv=1");
	web_out(resp, "\">");
	web_tr(req, resp, "Export as CSV");
	web_out(resp, "</a></p>\n");
}

static void
pager(struct web_req *req, struct web_resp *resp, long page, size_t total)
{
	char more[64];
	size_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;

	web_out(resp, "<p class=\"pages\">");
	if (page > 1) {
		snprintf(more, sizeof(more), "page=%ld", page - 1);
		web_out(resp, "<a id=\"prev\" href=\"");
		self_link(req, resp, more);
		web_out(resp, "\">");
		web_tr(req, resp, "Previous");
		web_out(resp, "</a> ");
	}
	web_tr(req, resp, "Page");
	web_out(resp, " %ld / %zu ", page, pages ? pages : 1);
	if ((size_t)page < pages) {
		snprintf(more, sizeof(more), "page=%ld", page + 1);
		web_out(resp, "<a id=\"next\" href=\"");
		self_link(req, resp, more);
		web_out(resp, "\">");
		web_tr(req, resp, "Next");
		web_out(resp, "</a>");
	}
	web_out(resp, "</p>");
}

static void
show(struct web_req *req, struct web_resp *resp, const struct mugai_afilter *f,
    long page)
{
	struct walk w;
	size_t i, total, skipped = 0;
	mugai_status rc;

	memset(&w, 0, sizeof(w));
	w.req = req;
	w.resp = resp;
	rc = mugai_audit_query(req->app->cfg, NULL, f, count, &w, NULL);
	if (rc == MUGAI_ERR_NOTFOUND)
		rc = MUGAI_OK;		/* no log yet: nothing done yet */
	total = w.n;
	/* Newest first: page 1 is the last PAGE_SIZE lines. */
	if ((size_t)(page - 1) * PAGE_SIZE >= total && page > 1)
		page = total > 0 ? (long)((total + PAGE_SIZE - 1) / PAGE_SIZE) : 1;
	w.last = total > (size_t)(page - 1) * PAGE_SIZE ?
	    total - (size_t)(page - 1) * PAGE_SIZE : 0;
	w.first = w.last > PAGE_SIZE ? w.last - PAGE_SIZE : 0;
	w.n = 0;
	if (rc == MUGAI_OK && w.last > w.first) {
		if ((w.rows = calloc(w.last - w.first, sizeof(char *))) == NULL)
			rc = MUGAI_ERR_NOMEM;
		else
			rc = mugai_audit_query(req->app->cfg, NULL, f, collect,
			    &w, &skipped);
		if (rc == MUGAI_OK)
			rc = w.rc;
	}
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "audit: %s", rc == MUGAI_ERR_NOMEM ?
		    "out of memory" : mugai_quarantine_error());
		web_error(req, resp, 500, "Internal error; see the log.");
		goto done;
	}
	web_page_begin(req, resp, "Audit log");
	filter_form(req, resp);
	web_out(resp, "<p id=\"count\">%zu ", total);
	web_tr(req, resp, "entries");
	web_out(resp, "</p>");
	if (skipped > 0) {
		web_out(resp, "<p class=\"error\">%zu ", skipped);
		web_tr(req, resp, "unreadable audit lines skipped");
		web_out(resp, "</p>");
	}
	web_table_head(req, resp, "audit", (const char *const[]){
	    "Time (UTC)", "Who", "Action", "ID", "Reason", "Detail", NULL });
	for (i = w.last - w.first; i > 0; i--)
		if (w.rows[i - 1] != NULL)
			web_out(resp, "%s", w.rows[i - 1]);
	web_out(resp, "</table>\n");
	pager(req, resp, page, total);
	web_page_end(req, resp);
done:
	for (i = 0; w.rows != NULL && i < w.last - w.first; i++)
		free(w.rows[i]);
	free(w.rows);
}

static void
csv(struct web_req *req, struct web_resp *resp, const struct mugai_afilter *f)
{
	struct walk w;
	mugai_status rc;

	memset(&w, 0, sizeof(w));
	w.resp = resp;
	rc = mugai_audit_csv_header(&resp->body);
	if (rc == MUGAI_OK) {
		rc = mugai_audit_query(req->app->cfg, NULL, f, csv_row, &w, NULL);
		if (rc == MUGAI_ERR_NOTFOUND)
			rc = MUGAI_OK;
		if (rc == MUGAI_OK)
			rc = w.rc;
	}
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "audit CSV: %s", mugai_quarantine_error());
		web_error(req, resp, 500, "Internal error; see the log.");
		return;
	}
	resp->ctype = "text/csv; charset=utf-8";
	if ((resp->disposition = strdup("attachment; filename=\"mugai-audit.csv\""))
	    == NULL)
		resp->failed = 1;
}

void
page_audit(struct web_req *req, struct web_resp *resp)
{
	struct mugai_afilter f;
	const char *v;
	long page = 1;

	memset(&f, 0, sizeof(f));
	f.since = web_form_day(web_arg_set(req, "from"), 0);
	f.before = web_form_day(web_arg_set(req, "to"), 1);
	if (f.since < 0 || f.before < 0) {
		web_error(req, resp, 400, "Bad request.");
		return;
	}
	f.actor = web_arg_set(req, "user");
	f.action = web_arg_set(req, "action");
	f.id = web_arg_set(req, "id");
	if ((v = web_arg_set(req, "page")) != NULL &&
	    ((page = strtol(v, NULL, 10)) < 1 || page > 1000000000L))
		page = 1;
	if (web_arg_set(req, "csv") != NULL)
		csv(req, resp, &f);
	else
		show(req, resp, &f, page);
}
