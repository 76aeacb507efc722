/*
 * page.c - the frame and helpers of every page (page.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "page.h"

static void
check(struct web_resp *resp, mugai_status rc)
{
	if (rc != MUGAI_OK)
		resp->failed = 1;
}

void
web_out(struct web_resp *resp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check(resp, mugai_buf_vprintf(&resp->body, fmt, ap));
	va_end(ap);
}

void
web_esc(struct web_resp *resp, const char *s)
{
	check(resp, web_html(&resp->body, s));
}

void
web_esc_n(struct web_resp *resp, const char *s, size_t len)
{
	check(resp, web_html_n(&resp->body, s, len));
}

void
web_urlenc(struct web_resp *resp, const char *s)
{
	struct mugai_buf u;

	mugai_buf_init(&u, 0);
	check(resp, web_url(&u, s));
	web_esc(resp, u.data ? u.data : "");
	mugai_buf_free(&u);
}

void
web_tr(struct web_req *req, struct web_resp *resp, const char *en)
{
	web_esc(resp, web_t(req->lang, en));
}

void
web_time(struct web_resp *resp, time_t t)
{
	char s[64];
	struct tm tm;

	if (t <= 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		strcpy(s, "-");
	web_esc(resp, s);
}

void
web_csrf_field(struct web_req *req, struct web_resp *resp)
{
	web_out(resp, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_esc(resp, req->sess.csrf);
	web_out(resp, "\">");
}

/* A navigation link, shown only when the role may open it. */
static void
nav(struct web_req *req, struct web_resp *resp, const char *path, const char *en)
{
	const struct web_route *r = web_route_find("GET", path);

	if (r == NULL || !(r->roles & (1u << req->user.role)))
		return;
	web_out(resp, "<a href=\"%s\">", path);
	web_tr(req, resp, en);
	web_out(resp, "</a> ");
}

void
web_page_begin(struct web_req *req, struct web_resp *resp, const char *title_en)
{
	web_out(resp, "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	    "<meta charset=\"utf-8\"><title>", web_lang_code(req->lang));
	web_tr(req, resp, title_en);
	web_out(resp, " - ");
	web_tr(req, resp, "mugai quarantine");
	web_out(resp, "</title><link rel=\"stylesheet\" href=\"/static/mugai.css\">"
	    "<script src=\"/static/mugai.js\" defer></script></head>\n<body>"
	    "<header><span class=\"brand\">");
	web_tr(req, resp, "mugai quarantine");
	web_out(resp, "</span> <nav>");
	if (req->logged_in) {
		nav(req, resp, "/messages", "Messages");
		nav(req, resp, "/requests", "Release requests");
		nav(req, resp, "/stats", "Statistics");
		nav(req, resp, "/audit", "Audit log");
	}
	web_out(resp, "</nav> <span class=\"lang\">");
	web_out(resp, "<a href=\"/lang?l=ja&amp;next=");
	web_urlenc(resp, req->path);
	web_out(resp, "\" lang=\"ja\" id=\"lang-ja\">日本語</a> | "
	    "<a href=\"/lang?l=en&amp;next=");
	web_urlenc(resp, req->path);
	web_out(resp, "\" lang=\"en\" id=\"lang-en\">English</a></span>");
	if (req->logged_in) {
		web_out(resp, " <span class=\"who\">");
		web_tr(req, resp, "Signed in as");
		web_out(resp, " <b id=\"user\">");
		web_esc(resp, req->user.name);
		web_out(resp, "</b> (");
		web_tr(req, resp, web_role_str(req->user.role));
		web_out(resp, ")</span> <form method=\"post\" action=\"/logout\" "
		    "class=\"inline\">");
		web_csrf_field(req, resp);
		web_out(resp, "<button type=\"submit\" id=\"logout\">");
		web_tr(req, resp, "Log out");
		web_out(resp, "</button></form>");
	}
	web_out(resp, "</header>\n<main>\n<h1>");
	web_tr(req, resp, title_en);
	web_out(resp, "</h1>\n");
}

void
web_page_end(struct web_req *req, struct web_resp *resp)
{
	(void)req;
	web_out(resp, "\n</main></body></html>\n");
}

void
web_table_head(struct web_req *req, struct web_resp *resp, const char *id,
    const char *const *heads)
{
	web_out(resp, "<table id=\"");
	web_esc(resp, id);
	web_out(resp, "\"><tr>");
	for (; *heads != NULL; heads++) {
		web_out(resp, "<th>");
		web_tr(req, resp, *heads);
		web_out(resp, "</th>");
	}
	web_out(resp, "</tr>\n");
}

void
web_page_error(struct web_req *req, struct web_resp *resp, unsigned status,
    const char *title_en, const char *en, const char *detail)
{
	mugai_buf_reset(&resp->body);
	resp->status = status;
	web_page_begin(req, resp, title_en);
	web_out(resp, "<p class=\"error\" id=\"error\">");
	web_tr(req, resp, en);
	if (detail != NULL) {
		web_out(resp, " ");
		web_esc(resp, detail);
	}
	web_out(resp, "</p>");
}
