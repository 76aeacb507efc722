/*
 * test_sanitize.c - the library's whole job on small messages built in
 * the test: body text, HTML, alternatives, attachments by policy,
 * forwarded mail, limits, headers.  Virus scanning and the quarantine
 * have their own tests; here they are off so every case is about
 * sanitising alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mugai/sanitize/sanitize.h"

static struct mugai_config *
config(const char *extra)
{
	char err[512];
	char *ov[4] = { "clamav_enable=no", "quarantine_enable=no",
	    "audit_log=", NULL };
	size_t n = 3;
	struct mugai_config *c;

	if (extra != NULL)
		ov[n++] = (char *)extra;
	c = mugai_config_load(NULL, ov, n, err, sizeof(err));
	if (c == NULL)
		fail_msg("config: %s", err);
	return c;
}

/* Sanitise msg and return the whole output message (caller frees). */
static char *
run(const char *msg, const char *extra, struct mugai_result **rp)
{
	struct mugai_config *c = config(extra);
	struct mugai_services svc = { c, NULL, NULL };
	struct mugai_result *r;
	struct mugai_buf out;

	r = mugai_sanitize(&svc, msg, strlen(msg), NULL);
	assert_non_null(r);
	mugai_buf_init(&out, 0);
	if (r->verdict == MUGAI_VERDICT_DELIVER)
		assert_int_equal(mugai_result_write(r, msg, strlen(msg), &out),
		    MUGAI_OK);
	mugai_config_unref(c);
	if (rp != NULL)
		*rp = r;
	else
		mugai_result_free(r);
	return mugai_buf_steal(&out, NULL);
}

/* The decoded text of the first text/plain part of a message. */
static char *
first_text(const char *msg)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	GMimeObject *o;
	char *text = NULL;

	assert_non_null(m);
	o = g_mime_message_get_mime_part(m);
	if (GMIME_IS_MULTIPART(o))
		o = g_mime_multipart_get_part(GMIME_MULTIPART(o), 0);
	assert_true(GMIME_IS_TEXT_PART(o));
	text = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	return text;
}

static int
count_parts(const char *msg)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	GMimeObject *o = g_mime_message_get_mime_part(m);
	int n = GMIME_IS_MULTIPART(o) ?
	    g_mime_multipart_get_count(GMIME_MULTIPART(o)) : 1;

	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	return n;
}

#define HDRS "From: Taro <taro@example.jp>\nTo: hanako@city.example.lg.jp\n" \
	"Subject: test\nDate: Mon, 23 Nov 2026 10:00:00 +0900\n" \
	"Message-ID: <1@example.jp>\nMIME-Version: 1.0\n"

static void
test_plain_kept_headers_rewritten(void **state)
{
	const char *msg = HDRS "Received: from x by y; Mon, 23 Nov 2026\n"
	    "X-Mugai-Status: clean (forged)\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Disposition: inline\n\nHello Hanako.\n";
	char *out = run(msg, NULL, NULL), *text;

	(void)state;
	assert_non_null(strstr(out, "From: Taro <taro@example.jp>\n"));
	assert_non_null(strstr(out, "Received: from x by y;"));
	assert_non_null(strstr(out, "Message-ID: <1@example.jp>\n"));
	assert_null(strstr(out, "forged"));
	assert_null(strstr(out, "Content-Disposition"));
	assert_non_null(strstr(out, "X-Mugai-Status: sanitised; converted=0; "
	    "removed=0\n"));
	/* Nothing changed, nothing stored: no id that would find nothing. */
	assert_null(strstr(out, "X-Mugai-Id: "));
	assert_non_null(strstr(out, "charset=UTF-8"));
	text = first_text(out);
	assert_string_equal(text, "Hello Hanako.\n");
	g_free(text);
	free(out);
}

static void
test_html_only(void **state)
{
	const char *msg = HDRS "Content-Type: text/html; charset=utf-8\n\n"
	    "<html><head><style>p{}</style><script>evil()</script></head>"
	    "<body><p>お知らせ</p><a href=\"https://real.example/\">"
	    "click</a></body></html>\n";
	struct mugai_result *r;
	char *out = run(msg, NULL, &r), *text;

	(void)state;
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_int_equal(r->converted, 1);
	assert_null(strstr(out, "text/html"));
	text = first_text(out);
	assert_non_null(strstr(text, "お知らせ"));
	assert_non_null(strstr(text, "click <https://real.example/>"));
	assert_null(strstr(text, "evil"));
	/* The notice comes first and names the message id. */
	assert_true(strstr(text, "無害化") < strstr(text, "お知らせ"));
	assert_non_null(strstr(text, r->id));
	g_free(text);
	free(out);
	mugai_result_free(r);
}

/* HTML too deep to convert whole: the notice says text was left out. */
static void
test_html_truncated_told(void **state)
{
	GString *msg = g_string_new(HDRS "Content-Type: text/html; "
	    "charset=utf-8\n\n<html><body><p>before</p>");
	struct mugai_result *r;
	char *out, *text;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		g_string_append(msg, "<div>");
	g_string_append(msg, "inner");
	for (i = 0; i < 100; i++)
		g_string_append(msg, "</div>");
	g_string_append(msg, "</body></html>\n");
	out = run(msg->str, "max_html_depth=20", &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	text = first_text(out);
	assert_non_null(strstr(text, "before"));
	assert_non_null(strstr(text, "part of it was left out"));
	g_free(text);
	free(out);
	mugai_result_free(r);
	/* Shallow HTML says nothing of the kind. */
	out = run(HDRS "Content-Type: text/html\n\n<p>short</p>\n", NULL,
	    &r);
	text = first_text(out);
	assert_null(strstr(text, "left out"));
	g_free(text);
	free(out);
	mugai_result_free(r);
	g_string_free(msg, TRUE);
}

static void
test_alternative_prefers_text(void **state)
{
	const char *msg = HDRS "Content-Type: multipart/alternative; "
	    "boundary=\"a\"\n\n--a\nContent-Type: text/plain; charset=utf-8\n\n"
	    "plain version\n--a\nContent-Type: text/html\n\n<p>html version</p>\n"
	    "--a--\n";
	const char *empty_text = HDRS "Content-Type: multipart/alternative; "
	    "boundary=\"a\"\n\n--a\nContent-Type: text/plain\n\n \n--a\n"
	    "Content-Type: text/html\n\n<p>html version</p>\n--a--\n";
	char *out, *text;

	(void)state;
	out = run(msg, NULL, NULL);
	text = first_text(out);
	assert_non_null(strstr(text, "plain version"));
	assert_null(strstr(text, "html version"));
	g_free(text);
	free(out);
	out = run(empty_text, NULL, NULL);
	text = first_text(out);
	assert_non_null(strstr(text, "html version"));
	g_free(text);
	free(out);
}

/* The HTML form not shown is counted and told, not dropped silently. */
static void
test_alternative_counted(void **state)
{
	const char *msg = HDRS "Content-Type: multipart/alternative; "
	    "boundary=\"a\"\n\n--a\nContent-Type: text/plain; charset=utf-8\n\n"
	    "plain version\n--a\nContent-Type: text/html\n\n<p>html version</p>\n"
	    "--a--\n";
	struct mugai_result *r;
	char *out;

	(void)state;
	out = run(msg, NULL, &r);
	assert_int_equal(r->removed, 1);
	assert_non_null(strstr(out, "X-Mugai-Status: sanitised; converted=0; "
	    "removed=1\n"));
	assert_non_null(strstr(r->notice, "an alternative form of the body"));
	assert_non_null(strstr(r->report_json, "\"reason\":\"alternative\""));
	mugai_result_free(r);
	free(out);
}

/*
 * A part header running straight into a 6,000-byte line of base64 (no
 * blank line) ends at that line, as mail clients read it: the part and
 * the ones after it are all there.
 */
static void
test_header_runs_into_body(void **state)
{
	GString *m = g_string_new(HDRS "Content-Type: multipart/mixed; "
	    "boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\nbody text\n"
	    "--m\nContent-Type: text/plain; name=\"notes.txt\"\n"
	    "Content-Disposition: attachment; filename=\"notes.txt\"\n"
	    "Content-Transfer-Encoding: base64\n");
	struct mugai_result *r;
	char *out, *b64, *text;
	char plain[4500];

	(void)state;
	memset(plain, 'n', sizeof(plain));
	memcpy(plain, "NOTESMARKER ", 12);
	b64 = g_base64_encode((const guchar *)plain, sizeof(plain));
	g_string_append_printf(m, "%s\n--m\nContent-Type: text/plain\n\n"
	    "LATERMARKER\n--m--\n", b64);
	out = run(m->str, NULL, &r);
	text = first_text(out);
	assert_non_null(strstr(text, "LATERMARKER"));
	assert_int_equal(r->parts, 3);
	assert_non_null(strstr(out, "notes.txt"));
	assert_null(strstr(r->notice, "could not be read"));
	g_free(text);
	mugai_result_free(r);
	free(out);
	g_free(b64);
	g_string_free(m, TRUE);
}

/* A multipart with no boundary: nothing to split, so told as unread. */
static void
test_no_boundary_told(void **state)
{
	const char *msg = HDRS "Content-Type: multipart/mixed\n\n--x\n"
	    "Content-Type: text/plain\n\nlost\n--x--\n";
	struct mugai_result *r;
	char *out;

	(void)state;
	out = run(msg, NULL, &r);
	assert_int_equal(r->removed, 1);
	assert_non_null(strstr(r->notice, "1 parts could not be read"));
	assert_non_null(strstr(r->notice, "警告 / warning"));
	mugai_result_free(r);
	free(out);
}

/* message/partial: told as a fragment; fragment 1's text shown. */
static void
test_partial_fragment(void **state)
{
	const char *msg = HDRS "Content-Type: message/partial; id=\"p@x\"; "
	    "number=1; total=3\n\nFrom: a@example.jp\nSubject: split\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"i\"\n"
	    "\n--i\nContent-Type: text/plain\n\nFRAGMENTMARKER\n--i\n"
	    "Content-Type: application/pdf; name=\"r.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n";
	struct mugai_result *r;
	char *out, *text;

	(void)state;
	out = run(msg, NULL, &r);
	text = first_text(out);
	assert_non_null(strstr(text, "fragment 1 of 3 of a split message"));
	assert_non_null(strstr(text, "FRAGMENTMARKER"));
	assert_non_null(strstr(text, "attachment: r.pdf"));
	assert_non_null(strstr(text, "Subject: split"));
	assert_int_equal(r->removed, 1);
	g_free(text);
	mugai_result_free(r);
	free(out);
}

/* A byte-order mark before the first header is not copied out. */
static void
test_leading_bom_dropped(void **state)
{
	const char *msg = "\xEF\xBB\xBF" HDRS
	    "Content-Type: text/plain\n\nhello\n";
	char *out;

	(void)state;
	out = run(msg, NULL, NULL);
	assert_true(strncmp(out, "From: Taro", 10) == 0);
	free(out);
}

/*
 * A Shift_JIS CSV stays Shift_JIS after the formula guard (Excel in
 * Japan reads it so), or becomes UTF-8 with a BOM when configured; it
 * is named in the notice either way.
 */
static void
test_csv_charset(void **state)
{
	/* "表,=1+1\n" in Shift_JIS, base64 */
	const char *msg = HDRS "Content-Type: multipart/mixed; boundary=\"m\"\n\n"
	    "--m\nContent-Type: text/plain\n\nbody\n--m\n"
	    "Content-Type: text/csv; charset=Shift_JIS; name=\"a.csv\"\n"
	    "Content-Transfer-Encoding: base64\n\nlVwsPTErMQo=\n--m--\n";
	struct mugai_result *r;
	char *out;

	(void)state;
	out = run(msg, NULL, &r);
	assert_non_null(strstr(out, "charset=Shift_JIS"));
	/* "表,'=1+1\n" in Shift_JIS */
	assert_non_null(strstr(out, "lVwsJz0xKzEK"));
	assert_non_null(strstr(r->notice, "a.csv"));
	assert_int_equal(r->converted, 1);
	mugai_result_free(r);
	free(out);
	out = run(msg, "csv_charset=utf-8-bom", &r);
	/* BOM "表,'=1+1\n" in UTF-8 */
	assert_non_null(strstr(out, "77u/6KGoLCc9MSsxCg=="));
	assert_non_null(strstr(r->notice, "byte-order mark"));
	mugai_result_free(r);
	free(out);
}

/* A body, a program named .pdf, a CSV with a formula, a .bat as text. */
static const char policy_msg[] = HDRS
    "Content-Type: multipart/mixed; boundary=\"m\"\n\n"
    "--m\nContent-Type: text/plain\n\nbody text\n"
    "--m\nContent-Type: application/pdf; name=\"invoice.pdf\"\n"
    "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
    "Content-Transfer-Encoding: base64\n\n"
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    "--m\nContent-Type: text/csv; charset=shift_jis\n"
    "Content-Disposition: attachment; filename=\"list.csv\"\n\n"
    "a,=1+1\n"
    "--m\nContent-Type: text/plain\n"
    "Content-Disposition: attachment; filename=\"run.bat\"\n\n"
    "echo hi\n"
    "--m--\n";

static void
test_attachments_by_policy(void **state)
{
	struct mugai_result *r;
	char *out = run(policy_msg, NULL, &r), *text;

	(void)state;
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_int_equal(r->removed, 1);
	assert_int_equal(r->mismatches, 1);
	/* body + list.csv + run.bat.txt */
	assert_int_equal(count_parts(out), 3);
	assert_null(strstr(out, "application/pdf;"));
	assert_non_null(strstr(out, "text/csv"));
	assert_non_null(strstr(out, "run.bat.txt"));
	text = first_text(out);
	assert_non_null(strstr(text, "invoice.pdf"));
	assert_non_null(strstr(text, "body text"));
	g_free(text);
	assert_non_null(strstr(r->report_json, "\"mismatch\":true"));
	free(out);
	mugai_result_free(r);
}

/*
 * The exact bytes of policy_msg rewritten: the headers for the MTA and
 * the body, part by part.  Only the boundary (random) and the notice
 * (it quotes the message id, also random) vary; the notice part must be
 * the notice in base64, 76 characters a line.
 */
static void
test_output_bytes(void **state)
{
	struct mugai_result *r;
	const char *b, *e;
	char *out = run(policy_msg, NULL, &r), *bound, *b64, *want;
	GString *lines = g_string_new(NULL);
	size_t i, n;

	(void)state;
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_int_equal(r->nset, 3);
	assert_string_equal(r->set[0].name, "MIME-Version");
	assert_string_equal(r->set[0].value, "1.0");
	assert_string_equal(r->set[1].name, "Content-Type");
	b = "multipart/mixed; boundary=\"";
	assert_memory_equal(r->set[1].value, b, strlen(b));
	b = r->set[1].value + strlen(b);
	assert_non_null(e = strchr(b, '"'));
	assert_string_equal(e, "\"");
	bound = g_strndup(b, (size_t)(e - b));
	assert_true(strlen(bound) > 2);
	assert_string_equal(r->set[2].name, "X-Mugai-Status");
	assert_string_equal(r->set[2].value,
	    "sanitised; converted=2; removed=1");
	b64 = g_base64_encode((const guchar *)r->notice, strlen(r->notice));
	for (i = 0, n = strlen(b64); i < n; i += 76)
		g_string_append_printf(lines, "%.76s\n", b64 + i);
	want = g_strdup_printf(
	    "--%s\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "%s\n"
	    "--%s\n"
	    "Content-Type: text/csv; charset=Shift_JIS; name=list.csv\n"
	    "Content-Disposition: attachment; filename=list.csv\n\n"
	    "a,'=1+1\n"
	    "--%s\n"
	    "Content-Type: text/plain; charset=UTF-8; name=run.bat.txt\n"
	    "Content-Disposition: attachment; filename=run.bat.txt\n\n"
	    "echo hi\n"
	    "--%s--\n", bound, lines->str, bound, bound, bound);
	assert_int_equal(r->body_len, strlen(r->body));
	assert_string_equal(r->body, want);
	assert_non_null(strstr(r->notice, "invoice.pdf"));
	assert_non_null(strstr(r->notice, "body text"));
	g_free(want);
	g_string_free(lines, TRUE);
	g_free(b64);
	g_free(bound);
	free(out);
	mugai_result_free(r);
}

static void
test_forwarded_message(void **state)
{
	const char *msg = HDRS "Content-Type: multipart/mixed; boundary=\"m\"\n\n"
	    "--m\nContent-Type: text/plain\n\nsee below\n"
	    "--m\nContent-Type: message/rfc822\n\n"
	    "From: Jiro <jiro@example.com>\nSubject: =?UTF-8?B?5paH5pu4?=\n"
	    "Date: Sun, 22 Nov 2026 09:00:00 +0900\n"
	    "Content-Type: multipart/mixed; boundary=\"i\"\n\n"
	    "--i\nContent-Type: text/plain\n\ninner words\n"
	    "--i\nContent-Type: application/zip\n"
	    "Content-Disposition: attachment; filename=\"x.zip\"\n\nPK\x03\x04\n"
	    "--i--\n--m--\n";
	struct mugai_result *r;
	char *out = run(msg, NULL, &r), *text;

	(void)state;
	text = first_text(out);
	assert_non_null(strstr(text, "see below"));
	assert_non_null(strstr(text, "> From: Jiro <jiro@example.com>"));
	assert_non_null(strstr(text, "> Subject: 文書"));
	assert_non_null(strstr(text, "> inner words"));
	assert_non_null(strstr(text, "x.zip"));
	assert_int_equal(r->removed, 1);
	g_free(text);
	free(out);
	mugai_result_free(r);
}

static void
test_depth_and_part_limits(void **state)
{
	char msg[8192], *out, *text;
	struct mugai_result *r;
	int i;
	size_t n;

	(void)state;
	n = (size_t)snprintf(msg, sizeof(msg), HDRS);
	for (i = 0; i < 8; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
		    "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n",
		    i, i);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n,
	    "Content-Type: text/plain\n\ndeep secret\n");
	for (i = 7; i >= 0; i--)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "--b%d--\n", i);
	out = run(msg, "max_mime_depth=3", &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	text = first_text(out);
	assert_null(strstr(text, "deep secret"));
	assert_non_null(strstr(r->report_json, "\"reason\":\"depth\""));
	g_free(text);
	free(out);
	mugai_result_free(r);

	n = (size_t)snprintf(msg, sizeof(msg), HDRS
	    "Content-Type: multipart/mixed; boundary=\"p\"\n\n");
	for (i = 0; i < 10; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
		    "--p\nContent-Type: text/plain\n\nline %d\n", i);
	snprintf(msg + n, sizeof(msg) - n, "--p--\n");
	out = run(msg, "max_mime_parts=4", &r);
	text = first_text(out);
	assert_non_null(strstr(text, "line 3"));
	assert_null(strstr(text, "line 4"));
	assert_int_equal(r->removed, 6);
	g_free(text);
	free(out);
	mugai_result_free(r);
}

static void
test_oversize_rejected(void **state)
{
	char *msg = malloc(4096);
	struct mugai_result *r;
	char *out;

	(void)state;
	memset(msg, 'a', 4095);
	memcpy(msg, HDRS "\n", sizeof(HDRS));
	msg[4095] = '\0';
	out = run(msg, "max_message_size=2K", &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_REJECT);
	assert_non_null(strstr(r->reason, "max_message_size"));
	assert_string_equal(out, "");
	free(out);
	free(msg);
	mugai_result_free(r);
}

/*
 * GMime costs about 1 KB per part and 0.5 KB per header field: parsing
 * stops after 10 x max_mime_parts lines starting "--" and 50 x
 * max_mime_parts header fields, and a "structure" row tells the rest is
 * gone (a 7 MB message of empty parts took 1.8 GB before).
 */
static void
test_structure_budget(void **state)
{
	static char msg[65536];
	char *out, *text;
	struct mugai_result *r;
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(msg, sizeof(msg), HDRS
	    "Content-Type: multipart/mixed; boundary=\"p\"\n\n"
	    "--p\nContent-Type: text/plain\n\nfirst\n");
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "--p\n\n%d\n", i);
	snprintf(msg + n, sizeof(msg) - n, "--p--\n");
	out = run(msg, "max_mime_parts=1", &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_non_null(strstr(r->report_json, "\"reason\":\"structure\""));
	text = first_text(out);
	assert_non_null(strstr(text, "first"));
	assert_non_null(strstr(text, "too many parts or header lines"));
	g_free(text);
	free(out);
	mugai_result_free(r);

	/* GMime reads 4 KB ahead: the fields go on well past that. */
	n = (size_t)snprintf(msg, sizeof(msg), "%s", HDRS);
	for (i = 0; i < 2000; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "X-Pad: %d\n", i);
	snprintf(msg + n, sizeof(msg) - n, "Content-Type: text/plain\n\n"
	    "after the headers\n");
	out = run(msg, "max_mime_parts=1", &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_non_null(strstr(r->report_json, "\"reason\":\"structure\""));
	text = first_text(out);
	assert_null(strstr(text, "after the headers"));
	g_free(text);
	free(out);
	mugai_result_free(r);

	/* Under the budget nothing changes. */
	out = run(msg, NULL, &r);
	assert_null(strstr(r->report_json, "\"structure\""));
	text = first_text(out);
	assert_non_null(strstr(text, "after the headers"));
	g_free(text);
	free(out);
	mugai_result_free(r);
}

/*
 * More distinct Content-* names than remove[] can list: refused, not
 * deferred (a deferred hostile message comes back for days).
 */
static void
test_too_many_content_headers(void **state)
{
	static char msg[16384];
	struct mugai_result *r;
	char *out;
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(msg, sizeof(msg), "%s", HDRS);
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
		    "Content-X%d: y\n", i);
	snprintf(msg + n, sizeof(msg) - n, "Content-Type: text/plain\n\nhi\n");
	out = run(msg, NULL, &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_REJECT);
	assert_non_null(strstr(r->reason, "Content-*"));
	assert_string_equal(out, "");
	free(out);
	mugai_result_free(r);
}

static void
test_no_mime_at_all(void **state)
{
	const char *msg = "this is not even a header\n\njust bytes\n";
	struct mugai_result *r;
	char *out = run(msg, NULL, &r);

	(void)state;
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_non_null(strstr(out, "Content-Type: text/plain"));
	free(out);
	mugai_result_free(r);
}

static void
test_iso2022jp_output(void **state)
{
	const char *msg = HDRS "Content-Type: text/plain; charset=utf-8\n\n"
	    "会議のお知らせ\n";
	const char *wide = HDRS "Content-Type: text/plain; charset=utf-8\n\n"
	    "① 会議\n";
	char *out, *text;

	(void)state;
	out = run(msg, "output_charset=iso-2022-jp", NULL);
	assert_non_null(strstr(out, "charset=ISO-2022-JP"));
	assert_non_null(strstr(out, "\x1b$B"));
	text = first_text(out);
	assert_non_null(strstr(text, "会議のお知らせ"));
	g_free(text);
	free(out);
	/* ① has no ISO-2022-JP form: the message stays UTF-8. */
	out = run(wide, "output_charset=iso-2022-jp", NULL);
	assert_non_null(strstr(out, "charset=UTF-8"));
	free(out);
}

/*
 * A clean UTF-8 text message goes with its own body and MIME headers,
 * byte for byte; only mugai's X-Mugai-Status is added (a forged one
 * still goes).  CRLF line ends stay as they came for the MTA to see.
 */
static void
test_clean_plain_as_is(void **state)
{
	const char *hdr = "From: Taro <taro@example.jp>\n"
	    "To: hanako@city.example.lg.jp\nSubject: test\n"
	    "X-Mugai-Status: clean (forged)\n"
	    "MIME-Version: 1.0 (Mac OS X Mail 16.0)\n"
	    "Content-Type: text/plain;\n\tcharset=\"utf-8\"; format=flowed;"
	    " DelSp=yes; reply-type=original\n"
	    "Content-Transfer-Encoding: 8bit\n";
	const char *body = "会議のお知らせ\n\n① 10時から ㈱髙橋\n\tindented\n";
	const char *ascii = HDRS "Content-Type: text/plain\n\nplain ascii";
	struct mugai_result *r;
	char *msg, *want, *out;

	(void)state;
	msg = g_strconcat(hdr, "\n", body, NULL);
	out = run(msg, NULL, &r);
	assert_int_equal(r->verdict, MUGAI_VERDICT_DELIVER);
	assert_true(r->body_kept);
	assert_null(r->body);
	assert_int_equal(r->nset, 1);
	want = g_strconcat("From: Taro <taro@example.jp>\n"
	    "To: hanako@city.example.lg.jp\nSubject: test\n"
	    "MIME-Version: 1.0 (Mac OS X Mail 16.0)\n"
	    "Content-Type: text/plain;\n\tcharset=\"utf-8\"; format=flowed;"
	    " DelSp=yes; reply-type=original\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "X-Mugai-Status: sanitised; converted=0; removed=0\n\n", body,
	    NULL);
	assert_string_equal(out, want);
	g_free(want);
	free(out);
	mugai_result_free(r);
	g_free(msg);

	/* No charset means US-ASCII; no final line end is fine too. */
	out = run(ascii, NULL, &r);
	assert_true(r->body_kept);
	assert_non_null(want = strstr(out, "Content-Type: text/plain\n"
	    "X-Mugai-Status: sanitised; converted=0; removed=0\n\n"));
	assert_string_equal(want + strlen(want) - 12, "\nplain ascii");
	free(out);
	mugai_result_free(r);

	/* ASCII is ISO-2022-JP too: it may go as it came. */
	out = run(ascii, "output_charset=iso-2022-jp", &r);
	assert_true(r->body_kept);
	free(out);
	mugai_result_free(r);
}

/*
 * Whatever would make the text or the MIME headers say something else
 * to another reader is rebuilt as before: each of these is sanitised
 * into a new body, and its text is the clean text.
 */
static void
test_plain_rebuilt_unless_plain(void **state)
{
	static char longline[1200];
	const char *ct = "Content-Type: text/plain; charset=utf-8\n";
	const char *ct8 = "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n";
	struct {
		const char *hdr, *body, *text, *extra;
	} c[] = {
		/* the text mugai writes differs */
		{ ct8, "a\x01" "b\n", "ab\n", NULL },
		{ ct8, "abc\xe2\x80\xae" "cba\n", "abccba\n", NULL },
		{ ct8, "bare\rcr\n", "barecr\n", NULL },
		{ ct8, "会議\n", "会議\n", "output_charset=iso-2022-jp" },
		{ ct, "会議 7bit\n", "会議 7bit\n", NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Transfer-Encoding: 7bit\n", "会議\n", "会議\n", NULL },
		/* the MIME headers could be read differently */
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Type: text/html\n", "hi\n", NULL, NULL },
		{ "Content-Type: text/plain; charset=utf-8; charset=iso-8859-1\n",
		  "hi\n", NULL, NULL },
		{ "Content-Type: text/plain; charset*=utf-8''\n", "hi\n",
		  NULL, NULL },
		{ "Content-Type: text/plain (note); charset=utf-8\n", "hi\n",
		  NULL, NULL },
		{ "Content-Type: text/plain; charset=utf-8; name=run.exe\n",
		  "hi\n", "", NULL },
		{ "Content-Type: text/plain; charset=utf-8; x-mac-type=54455854\n",
		  "hi\n", NULL, NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Disposition: inline\n", "hi\n", NULL, NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Transfer-Encoding: quoted-printable\n",
		  "caf=C3=A9\n", "café\n", NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Transfer-Encoding: base64\n", "aGk=\n", "hi", NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Content-Transfer-Encoding: 8bit\n"
		  "Content-Transfer-Encoding: base64\n", "hi\n", "", NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "Not a field\n", "hi\n", NULL, NULL },
		{ "Content-Type: text/plain; charset=utf-8\n"
		  "X-\xe6\x97\xa5: 8-bit name\n", "hi\n", NULL, NULL },
		{ ct8, longline, NULL, NULL },
	};
	struct mugai_result *r;
	char *msg, *out, *text;
	size_t i;

	(void)state;
	memset(longline, 'x', 1000);
	longline[1000] = '\n';
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		msg = g_strconcat(HDRS, c[i].hdr, "\n", c[i].body, NULL);
		out = run(msg, c[i].extra, &r);
		if (r->body_kept || r->verdict != MUGAI_VERDICT_DELIVER)
			fail_msg("case %zu kept as it came", i);
		if (r->body == NULL || r->nset < 3 ||
		    strcmp(r->set[1].name, "Content-Type") != 0)
			fail_msg("case %zu: no new body", i);
		text = first_text(out);
		if (strstr(text, c[i].text ? c[i].text : c[i].body) == NULL)
			fail_msg("case %zu: text \"%s\"", i, text);
		g_free(text);
		free(out);
		mugai_result_free(r);
		g_free(msg);
	}
	/* Without MIME-Version the Content-Type may be ignored. */
	out = run("From: a@example.jp\nContent-Type: text/plain; "
	    "charset=utf-8\n\nhi\n", NULL, &r);
	assert_false(r->body_kept);
	assert_non_null(strstr(out, "MIME-Version: 1.0\n"));
	free(out);
	mugai_result_free(r);
	/* A byte-order mark before the header: GMime read it without. */
	out = run("\xef\xbb\xbf" HDRS "Content-Type: text/plain\n\nhi\n",
	    NULL, &r);
	assert_false(r->body_kept);
	free(out);
	mugai_result_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_kept_headers_rewritten),
		cmocka_unit_test(test_html_only),
		cmocka_unit_test(test_html_truncated_told),
		cmocka_unit_test(test_alternative_prefers_text),
		cmocka_unit_test(test_alternative_counted),
		cmocka_unit_test(test_header_runs_into_body),
		cmocka_unit_test(test_no_boundary_told),
		cmocka_unit_test(test_partial_fragment),
		cmocka_unit_test(test_leading_bom_dropped),
		cmocka_unit_test(test_csv_charset),
		cmocka_unit_test(test_attachments_by_policy),
		cmocka_unit_test(test_output_bytes),
		cmocka_unit_test(test_forwarded_message),
		cmocka_unit_test(test_depth_and_part_limits),
		cmocka_unit_test(test_oversize_rejected),
		cmocka_unit_test(test_structure_budget),
		cmocka_unit_test(test_too_many_content_headers),
		cmocka_unit_test(test_no_mime_at_all),
		cmocka_unit_test(test_iso2022jp_output),
		cmocka_unit_test(test_clean_plain_as_is),
		cmocka_unit_test(test_plain_rebuilt_unless_plain),
	};
	int rc;

	mugai_library_init();
	rc = cmocka_run_group_tests_name("sanitize", tests, NULL, NULL);
	mugai_library_shutdown();
	return rc;
}
