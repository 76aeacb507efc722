/*
 * list.c - search and list the quarantine.
 *
 * The index is asked for what it can filter (dates, status, sender, one
 * recipient); the rest is filtered here on each row: a staff account's
 * addresses, the verdict, the virus name (the "signatures=" of the
 * reasons), and the subject words.  Subject words are all required,
 * matched in NFKC form and case-folded, so 全角 ＡＢＣ finds "ABC" and
 * half-width katakana finds full-width; words are split at ASCII and
 * ideographic (U+3000) spaces.  At most web_max_results rows (the
 * newest) are kept, then sorted and paged here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <glib.h>

#include "mugai/base/log.h"
#include "form.h"
#include "page.h"
#include "pages.h"

#define PAGE_SIZE 50

struct row {
	char	*id, *sender, *rcpts, *subject, *verdict, *status;
	time_t	 received;
	size_t	 size;
};

struct search {
	struct web_req *req;
	const char *verdict, *virus;
	char	**words;		/* normalised subject words */
	struct row *rows;		/* ring of at most cap rows */
	size_t	 cap, n, head;
	int	 dropped, failed;
};

static char *
norm(const char *s)
{
	char *n, *f;

	if ((n = g_utf8_normalize(s, -1, G_NORMALIZE_ALL_COMPOSE)) == NULL)
		return g_strdup("");
	f = g_utf8_casefold(n, -1);
	g_free(n);
	return f;
}

static char **
split_words(const char *q)
{
	char *n, **w, **out;
	size_t i, k = 0;

	if (q == NULL || *q == '\0')
		return NULL;
	n = norm(q);
	/* After NFKC the ideographic space is a plain space already. */
	w = g_strsplit_set(n, " \t", -1);
	g_free(n);
	out = g_new0(char *, g_strv_length(w) + 1);
	for (i = 0; w[i] != NULL; i++)
		if (w[i][0] != '\0')
			out[k++] = g_strdup(w[i]);
	g_strfreev(w);
	if (k == 0) {
		g_free(out);
		return NULL;
	}
	return out;
}

static int
subject_matches(char **words, const char *subject)
{
	char *s;
	size_t i;
	int ok = 1;

	if (words == NULL)
		return 1;
	s = norm(subject ? subject : "");
	for (i = 0; ok && words[i] != NULL; i++)
		ok = strstr(s, words[i]) != NULL;
	g_free(s);
	return ok;
}

static int
virus_matches(const char *virus, const char *reasons)
{
	const char *sig;

	if (virus == NULL || *virus == '\0')
		return 1;
	if (reasons == NULL || (sig = strstr(reasons, "signatures=")) == NULL)
		return 0;
	return strcasestr(sig + 11, virus) != NULL;
}

static void
row_free(struct row *r)
{
	free(r->id);
	free(r->sender);
	free(r->rcpts);
	free(r->subject);
	free(r->verdict);
	free(r->status);
	memset(r, 0, sizeof(*r));
}

static char *
dup0(const char *s)
{
	return strdup(s ? s : "");
}

static int
on_record(const struct mugai_qrecord *r, void *arg)
{
	struct search *s = arg;
	struct row *w;
	size_t i, len = 0;

	if (!web_may_see(&s->req->user, r) ||
	    (s->verdict && *s->verdict && strcmp(s->verdict, r->verdict ?
	    r->verdict : "") != 0) || !virus_matches(s->virus, r->reasons) ||
	    !subject_matches(s->words, r->subject))
		return 0;
	if (s->n == s->cap) {		/* keep the newest: drop the oldest */
		w = &s->rows[s->head];
		row_free(w);
		s->head = (s->head + 1) % s->cap;
		s->dropped = 1;
	} else
		w = &s->rows[(s->head + s->n++) % s->cap];
	w->received = r->received;
	w->size = r->size;
	for (i = 0; i < r->nrecipients; i++)
		len += strlen(r->recipients[i]) + 2;
	if ((w->rcpts = calloc(1, len + 1)) != NULL)
		for (i = 0; i < r->nrecipients; i++) {
			if (i > 0)
				strcat(w->rcpts, ", ");
			strcat(w->rcpts, r->recipients[i]);
		}
	w->id = dup0(r->id);
	w->sender = dup0(r->sender);
	w->subject = dup0(r->subject);
	w->verdict = dup0(r->verdict);
	w->status = dup0(r->status);
	if (!w->rcpts || !w->id || !w->sender || !w->subject || !w->verdict ||
	    !w->status) {
		s->failed = 1;
		return 1;
	}
	return 0;
}

/* ---- sorting ------------------------------------------------------------- */

static const char *sort_keys[] = { "received", "sender", "subject", "size",
	"verdict", "status", "recipient" };

struct order {
	int	 key, desc;
};

static int
cmp_rows(const void *a, const void *b, void *arg)
{
	const struct row *x = a, *y = b;
	const struct order *o = arg;
	int c = 0;

	switch (o->key) {
	case 1:	c = strcasecmp(x->sender, y->sender); break;
	case 2:	c = strcmp(x->subject, y->subject); break;
	case 3:	c = (x->size > y->size) - (x->size < y->size); break;
	case 4:	c = strcmp(x->verdict, y->verdict); break;
	case 5:	c = strcmp(x->status, y->status); break;
	case 6:	c = strcasecmp(x->rcpts, y->rcpts); break;
	}
	if (c == 0)
		c = (x->received > y->received) - (x->received < y->received);
	if (c == 0)
		c = strcmp(x->id, y->id);
	return o->desc ? -c : c;
}

/* ---- the page ------------------------------------------------------------ */


/* A link to this search with another sort or page. */
static void
self_link(struct web_req *req, struct web_resp *resp, const char *sort,
    int desc, long page)
{
	static const char *keep[] = { "from", "to", "sender", "rcpt", "subject",
		"verdict", "status", "virus" };
	size_t i;

	web_out(resp, "/messages?sort=%s&amp;dir=%s&amp;page=%ld", sort,
	    desc ? "desc" : "asc", page);
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (web_arg_set(req, keep[i]) != NULL) {
			web_out(resp, "&amp;%s=", keep[i]);
			web_urlenc(resp, web_arg_set(req, keep[i]));
		}
}

static void
text_input(struct web_req *req, struct web_resp *resp, const char *name,
    const char *label_en, const char *type)
{
	web_out(resp, "<label>");
	web_tr(req, resp, label_en);
	web_out(resp, " <input type=\"%s\" name=\"%s\" id=\"q-%s\" value=\"",
	    type, name, name);
	web_esc(resp, web_arg_set(req, name));
	web_out(resp, "\"></label>");
}

static void
select_input(struct web_req *req, struct web_resp *resp, const char *name,
    const char *label_en, const char *const *values)
{
	const char *cur = web_arg_set(req, name);

	web_out(resp, "<label>");
	web_tr(req, resp, label_en);
	web_out(resp, " <select name=\"%s\" id=\"q-%s\"><option value=\"\">",
	    name, name);
	web_tr(req, resp, "any");
	web_out(resp, "</option>");
	for (; *values != NULL; values++) {
		web_out(resp, "<option value=\"%s\"%s>", *values,
		    cur && strcmp(cur, *values) == 0 ? " selected" : "");
		web_tr(req, resp, *values);
		web_out(resp, "</option>");
	}
	web_out(resp, "</select></label>");
}

static void
search_form(struct web_req *req, struct web_resp *resp)
{
	static const char *const verdicts[] = { "sanitised", "rejected",
		"discarded", NULL };
	static const char *const statuses[] = { "held", "releasing",
		"released", "deleted", NULL };

	web_out(resp, "<form method=\"get\" action=\"/messages\" class=\"search\" "
	    "id=\"search\">");
	text_input(req, resp, "from", "From date", "date");
	text_input(req, resp, "to", "To date", "date");
	text_input(req, resp, "sender", "Sender", "text");
	text_input(req, resp, "rcpt", "Recipient", "text");
	text_input(req, resp, "subject", "Subject words", "text");
	select_input(req, resp, "verdict", "Verdict", verdicts);
	select_input(req, resp, "status", "Status", statuses);
	text_input(req, resp, "virus", "Virus name", "text");
	web_out(resp, " <button type=\"submit\" id=\"search-button\">");
	web_tr(req, resp, "Search");
	web_out(resp, "</button></form>\n");
}

static void
header_cell(struct web_req *req, struct web_resp *resp, const struct order *o,
    int key, const char *en)
{
	web_out(resp, "<th><a href=\"");
	self_link(req, resp, sort_keys[key], key == o->key ? !o->desc :
	    key == 0, 1);
	web_out(resp, "\">");
	web_tr(req, resp, en);
	if (key == o->key)
		web_out(resp, o->desc ? " &#9660;" : " &#9650;");
	web_out(resp, "</a></th>");
}

static void
table(struct web_req *req, struct web_resp *resp, const struct order *o,
    struct row *rows, size_t n, long page)
{
	size_t i, first = (size_t)(page - 1) * PAGE_SIZE;

	web_out(resp, "<p id=\"count\">%zu ", n);
	web_tr(req, resp, "messages");
	web_out(resp, "</p>");
	if (n == 0) {
		web_out(resp, "<p id=\"none\">");
		web_tr(req, resp, "No messages match.");
		web_out(resp, "</p>");
		return;
	}
	web_out(resp, "<table id=\"messages\"><tr>");
	header_cell(req, resp, o, 0, "Received");
	header_cell(req, resp, o, 1, "Sender");
	header_cell(req, resp, o, 6, "Recipients");
	header_cell(req, resp, o, 2, "Subject");
	header_cell(req, resp, o, 3, "Size");
	header_cell(req, resp, o, 4, "Verdict");
	header_cell(req, resp, o, 5, "Status");
	web_out(resp, "</tr>\n");
	for (i = first; i < n && i < first + PAGE_SIZE; i++) {
		web_out(resp, "<tr class=\"msg\"><td>");
		web_time(resp, rows[i].received);
		web_out(resp, "</td><td>");
		web_esc(resp, rows[i].sender);
		web_out(resp, "</td><td>");
		web_esc(resp, rows[i].rcpts);
		web_out(resp, "</td><td><a class=\"subject\" href=\"/message/");
		web_urlenc(resp, rows[i].id);
		web_out(resp, "\">");
		web_esc(resp, *rows[i].subject ? rows[i].subject : "-");
		web_out(resp, "</a></td><td class=\"num\">%zu</td><td>", rows[i].size);
		web_tr(req, resp, rows[i].verdict);
		web_out(resp, "</td><td>");
		web_tr(req, resp, rows[i].status);
		web_out(resp, "</td></tr>\n");
	}
	web_out(resp, "</table><p class=\"pages\">");
	if (page > 1) {
		web_out(resp, "<a id=\"prev\" href=\"");
		self_link(req, resp, sort_keys[o->key], o->desc, page - 1);
		web_out(resp, "\">");
		web_tr(req, resp, "Previous");
		web_out(resp, "</a> ");
	}
	web_tr(req, resp, "Page");
	web_out(resp, " %ld / %zu ", page, (n + PAGE_SIZE - 1) / PAGE_SIZE);
	if (first + PAGE_SIZE < n) {
		web_out(resp, "<a id=\"next\" href=\"");
		self_link(req, resp, sort_keys[o->key], o->desc, page + 1);
		web_out(resp, "\">");
		web_tr(req, resp, "Next");
		web_out(resp, "</a>");
	}
	web_out(resp, "</p>");
}

void
page_messages(struct web_req *req, struct web_resp *resp)
{
	struct mugai_qfilter f;
	struct search s;
	struct row *sorted = NULL;
	struct order o = { 0, 1 };
	const char *v;
	size_t i;
	long page = 1;
	mugai_status rc;

	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	s.req = req;
	f.since = web_form_day(web_arg_set(req, "from"), 0);
	f.before = web_form_day(web_arg_set(req, "to"), 1);
	if (f.since < 0 || f.before < 0) {
		web_error(req, resp, 400, "Bad request.");
		return;
	}
	f.status = web_arg_set(req, "status");
	f.sender = web_arg_set(req, "sender");
	f.recipient = web_arg_set(req, "rcpt");
	s.verdict = web_arg_set(req, "verdict");
	s.virus = web_arg_set(req, "virus");
	s.words = split_words(web_arg_set(req, "subject"));
	if ((v = web_arg_set(req, "sort")) != NULL)
		for (i = 0; i < sizeof(sort_keys) / sizeof(sort_keys[0]); i++)
			if (strcmp(v, sort_keys[i]) == 0)
				o.key = (int)i;
	if ((v = web_arg_set(req, "dir")) != NULL)
		o.desc = strcmp(v, "asc") != 0;
	if ((v = web_arg_set(req, "page")) != NULL && (page = strtol(v, NULL, 10)) < 1)
		page = 1;
	s.cap = req->app->cfg->web_max_results;
	if ((s.rows = calloc(s.cap, sizeof(*s.rows))) == NULL) {
		g_strfreev(s.words);
		web_error(req, resp, 500, "Internal error; see the log.");
		return;
	}
	rc = mugai_quarantine_list(req->app->q, &f, on_record, &s);
	if (rc != MUGAI_OK || s.failed ||
	    (sorted = calloc(s.n + 1, sizeof(*sorted))) == NULL) {
		mugai_log(LOG_ERR, "web", "search: %s", rc != MUGAI_OK ?
		    mugai_quarantine_error() : "out of memory");
		web_error(req, resp, 500, "Internal error; see the log.");
		goto done;
	}
	for (i = 0; i < s.n; i++)
		sorted[i] = s.rows[(s.head + i) % s.cap];
	qsort_r(sorted, s.n, sizeof(*sorted), cmp_rows, &o);
	web_page_begin(req, resp, "Messages");
	search_form(req, resp);
	if (s.dropped) {
		web_out(resp, "<p class=\"error\">");
		web_tr(req, resp, "Only the newest messages were searched; "
		    "narrow the dates.");
		web_out(resp, "</p>");
	}
	table(req, resp, &o, sorted, s.n, page);
	web_page_end(req, resp);
done:
	free(sorted);
	for (i = 0; i < s.cap; i++)
		row_free(&s.rows[i]);
	free(s.rows);
	g_strfreev(s.words);
}
