/*
 * stats.c - the figures for the monthly report (/stats, admins and
 * auditors): per day and per month, for a date range, as tables and
 * bar charts, and as CSV for a spreadsheet.
 *
 * The library counts (mugai/quarantine/stats.h, the same figures as
 * "mugai stats"); this file shows them.  The charts are SVG drawn here,
 * inline in the page, with no script and no style attribute, so the
 * page keeps Content-Security-Policy: default-src 'self'.  Every label
 * (virus names and types come from mail) goes through web_esc().
 *
 *   /stats?from=YYYY-MM-DD&to=YYYY-MM-DD	  the page (to: inclusive)
 *   /stats?...&csv=month | csv=day		  mugai_stats_csv, attached
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/log.h"
#include "mugai/quarantine/stats.h"
#include "form.h"
#include "page.h"
#include "pages.h"

#define BAR_W	360	/* the longest bar, in SVG units */
#define ROW_H	18
#define LABEL_W	220


/* ---- charts ----------------------------------------------------------------- */

struct bar {
	const char *label;
	size_t	 n;
};

/* A horizontal bar chart: one labelled bar per entry, its value after it. */
static void
chart(struct web_req *req, struct web_resp *resp, const char *id,
    const char *title_en, const struct bar *bars, size_t n)
{
	size_t i, max = 1, w;
	unsigned h = (unsigned)(n * ROW_H + 8);

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		if (bars[i].n > max)
			max = bars[i].n;
	web_out(resp, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"chart\" id=\"%s\" role=\"img\" width=\"%d\" height=\"%u\" "
	    "viewBox=\"0 0 %d %u\" font-size=\"12\" "
	    "font-family=\"sans-serif\"><title>", id, LABEL_W + BAR_W + 80, h,
	    LABEL_W + BAR_W + 80, h);
	web_tr(req, resp, title_en);
	web_out(resp, "</title>\n");
	for (i = 0; i < n; i++) {
		w = bars[i].n * BAR_W / max;
		web_out(resp, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">",
		    LABEL_W - 6, i * ROW_H + 17);
		web_esc(resp, bars[i].label);
		web_out(resp, "</text><rect x=\"%d\" y=\"%zu\" width=\"%zu\" "
		    "height=\"%d\" fill=\"#36a\"/><text x=\"%zu\" y=\"%zu\">%zu"
		    "</text>\n", LABEL_W, i * ROW_H + 5, w, ROW_H - 4,
		    LABEL_W + w + 4, i * ROW_H + 17, bars[i].n);
	}
	web_out(resp, "</svg><figcaption>");
	web_tr(req, resp, title_en);
	web_out(resp, "</figcaption></figure>\n");
}

static void
period_chart(struct web_req *req, struct web_resp *resp, const char *id,
    const char *title_en, const struct mugai_stats *s)
{
	struct bar *bars;
	size_t i;

	if (s->nrows == 0)
		return;
	if ((bars = calloc(s->nrows, sizeof(*bars))) == NULL) {
		resp->failed = 1;
		return;
	}
	for (i = 0; i < s->nrows; i++) {
		bars[i].label = s->rows[i].period;
		bars[i].n = s->rows[i].messages;
	}
	chart(req, resp, id, title_en, bars, s->nrows);
	free(bars);
}

static void
top_chart(struct web_req *req, struct web_resp *resp, const char *id,
    const char *title_en, const struct mugai_stats_count *c, size_t n)
{
	struct bar *bars;
	char tid[64];
	size_t i;

	web_out(resp, "<h2>");
	web_tr(req, resp, title_en);
	web_out(resp, "</h2>");
	if (n == 0) {
		web_out(resp, "<p>");
		web_tr(req, resp, "None.");
		web_out(resp, "</p>");
		return;
	}
	if ((bars = calloc(n, sizeof(*bars))) == NULL) {
		resp->failed = 1;
		return;
	}
	snprintf(tid, sizeof(tid), "%s-table", id);
	web_table_head(req, resp, tid, (const char *const[]){ "Name", "Count",
	    NULL });
	for (i = 0; i < n; i++) {
		bars[i].label = c[i].name;
		bars[i].n = c[i].n;
		web_out(resp, "<tr><td>");
		web_esc(resp, c[i].name);
		web_out(resp, "</td><td class=\"num\">%zu</td></tr>\n", c[i].n);
	}
	web_out(resp, "</table>\n");
	chart(req, resp, id, title_en, bars, n);
	free(bars);
}

/* ---- tables ----------------------------------------------------------------- */

static void
row(struct web_resp *resp, const struct mugai_stats_row *r, int total)
{
	web_out(resp, "<tr%s><td>", total ? " class=\"total\"" : "");
	web_esc(resp, r->period);
	web_out(resp, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
	    "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
	    "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
	    "<td class=\"num\">%zu</td></tr>\n", r->messages, r->sanitised,
	    r->converted, r->held, r->rejected, r->virus,
	    r->conversion_failures);
}

static void
table(struct web_req *req, struct web_resp *resp, const char *id,
    const char *title_en, const struct mugai_stats *s)
{
	static const char *const heads[] = { "Period", "Mail count", "Sanitised",
		"Converted", "Held", "Rejected", "Virus", "Conversion failures",
		NULL };
	size_t i;

	web_out(resp, "<h2>");
	web_tr(req, resp, title_en);
	web_out(resp, "</h2>");
	web_table_head(req, resp, id, heads);
	for (i = 0; i < s->nrows; i++)
		row(resp, &s->rows[i], 0);
	row(resp, &s->total, 1);
	web_out(resp, "</table>\n");
}

/* A link to this range, with more arguments. */
static void
self_link(struct web_req *req, struct web_resp *resp, const char *more)
{
	web_out(resp, "/stats?%s", more);
	if (web_arg_set(req, "from") != NULL) {
		web_out(resp, "&amp;from=");
		web_urlenc(resp, web_arg_set(req, "from"));
	}
	if (web_arg_set(req, "to") != NULL) {
		web_out(resp, "&amp;to=");
		web_urlenc(resp, web_arg_set(req, "to"));
	}
}

static void
range_form(struct web_req *req, struct web_resp *resp)
{
	static const char *const names[] = { "from", "to" };
	static const char *const labels[] = { "From date", "To date" };
	size_t i;

	web_out(resp, "<form method=\"get\" action=\"/stats\" class=\"search\" "
	    "id=\"range\">");
	for (i = 0; i < 2; i++) {
		web_out(resp, "<label>");
		web_tr(req, resp, labels[i]);
		web_out(resp, " <input type=\"date\" name=\"%s\" id=\"q-%s\" "
		    "value=\"", names[i], names[i]);
		web_esc(resp, web_arg_set(req, names[i]));
		web_out(resp, "\"></label>");
	}
	web_out(resp, " <button type=\"submit\">");
	web_tr(req, resp, "Show");
	web_out(resp, "</button></form>\n<p><a id=\"csv-month\" href=\"");
	self_link(req, resp, "csv=month");
	web_out(resp, "\">");
	web_tr(req, resp, "Monthly report (CSV)");
	web_out(resp, "</a> <a id=\"csv-day\" href=\"");
	self_link(req, resp, "csv=day");
	web_out(resp, "\">");
	web_tr(req, resp, "Daily figures (CSV)");
	web_out(resp, "</a></p>\n");
}

static void
csv(struct web_req *req, struct web_resp *resp, const struct mugai_stats *s,
    int monthly)
{
	char disp[128];

	(void)req;
	if (mugai_stats_csv(s, &resp->body) != MUGAI_OK) {
		resp->failed = 1;
		return;
	}
	resp->ctype = "text/csv; charset=utf-8";
	snprintf(disp, sizeof(disp), "attachment; filename=\"mugai-stats-%s"
	    ".csv\"", monthly ? "monthly" : "daily");
	if ((resp->disposition = strdup(disp)) == NULL)
		resp->failed = 1;
}

void
page_stats(struct web_req *req, struct web_resp *resp)
{
	struct mugai_stats *days = NULL, *months = NULL;
	const char *want = web_arg_set(req, "csv");
	time_t from = web_form_day(web_arg_set(req, "from"), 0);
	time_t to = web_form_day(web_arg_set(req, "to"), 1);
	mugai_status rc;

	if (from < 0 || to < 0 || (want != NULL && strcmp(want, "month") != 0 &&
	    strcmp(want, "day") != 0)) {
		web_error(req, resp, 400, "Bad request.");
		return;
	}
	rc = mugai_stats_compute(req->app->cfg, req->app->q, from, to, 1, 0,
	    &months);
	if (rc == MUGAI_OK && (want == NULL || strcmp(want, "day") == 0))
		rc = mugai_stats_compute(req->app->cfg, req->app->q, from, to,
		    0, 0, &days);
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "stats: %s", mugai_quarantine_error());
		web_error(req, resp, rc == MUGAI_ERR_NOTFOUND ? 404 : 500,
		    rc == MUGAI_ERR_NOTFOUND ? "No audit log yet." :
		    "Internal error; see the log.");
		goto done;
	}
	if (want != NULL) {
		csv(req, resp, strcmp(want, "month") == 0 ? months : days,
		    strcmp(want, "month") == 0);
		goto done;
	}
	web_page_begin(req, resp, "Statistics");
	range_form(req, resp);
	table(req, resp, "monthly", "Per month", months);
	period_chart(req, resp, "chart-monthly", "Messages per month", months);
	table(req, resp, "daily", "Per day", days);
	period_chart(req, resp, "chart-daily", "Messages per day", days);
	top_chart(req, resp, "chart-types", "Top removed types",
	    months->removed_types, months->nremoved_types);
	top_chart(req, resp, "chart-viruses", "Top virus names",
	    months->viruses, months->nviruses);
	if (months->skipped > 0) {
		web_out(resp, "<p class=\"error\">%zu ", months->skipped);
		web_tr(req, resp, "unreadable audit lines skipped");
		web_out(resp, "</p>");
	}
	web_page_end(req, resp);
done:
	mugai_stats_free(days);
	mugai_stats_free(months);
}
