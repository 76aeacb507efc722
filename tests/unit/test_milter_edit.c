/*
 * test_milter_edit.c - turning a sanitise result into milter edits:
 * which header instances are deleted (the MTA counts per name, from 1),
 * what is added, how the body is cut into pieces, and that a refusal
 * by the MTA fails the whole edit.  The libmilter seam is a recorder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../../milter/edit.h"
#include "../../milter/seam.h"

#define LOG_MAX	2048

/* What the fake MTA was asked to do, in order. */
static struct {
	char	 ops[LOG_MAX][256];
	size_t	 nops;
	char	 body[256 * 1024];
	size_t	 body_len;
	size_t	 pieces;
	size_t	 max_piece;
	int	 refuse_body;		/* replacebody fails */
	int	 refuse_chg;		/* chgheader fails */
} rec;

static void rec_op(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
rec_op(const char *fmt, ...)
{
	va_list ap;

	assert_true(rec.nops < LOG_MAX);
	va_start(ap, fmt);
	vsnprintf(rec.ops[rec.nops++], sizeof(rec.ops[0]), fmt, ap);
	va_end(ap);
}

static int
fake_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	if (rec.refuse_chg)
		return MI_FAILURE;
	rec_op("chg %s %d %s", name, idx, value ? value : "(delete)");
	return MI_SUCCESS;
}

static int
fake_addheader(SMFICTX *ctx, char *name, char *value)
{
	rec_op("add %s [%s]", name, value);
	return MI_SUCCESS;
}

static int
fake_replacebody(SMFICTX *ctx, unsigned char *p, int n)
{
	if (rec.refuse_body)
		return MI_FAILURE;
	assert_true(rec.body_len + (size_t)n <= sizeof(rec.body));
	memcpy(rec.body + rec.body_len, p, (size_t)n);
	rec.body_len += (size_t)n;
	rec.pieces++;
	if ((size_t)n > rec.max_piece)
		rec.max_piece = (size_t)n;
	return MI_SUCCESS;
}

static const struct milter_seam fake_seam = {
	.chgheader = fake_chgheader,
	.addheader = fake_addheader,
	.replacebody = fake_replacebody,
};

/* edit.c calls libmilter only through this pointer. */
const struct milter_seam *milter_seam = &fake_seam;

static int
reset(void **state)
{
	memset(&rec, 0, sizeof(rec));
	return 0;
}

/* The spooled form of a message, as context.c writes it. */
static const char raw_msg[] =
    "Received: from a\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed;\r\n"
    "\tboundary=\"b\"\r\n"
    "Subject: hi\r\n"
    "content-type: text/html\r\n"
    "Content-Type : text/plain\r\n"
    "X-Other: Content-Type: not a header\r\n"
    "\r\n"
    "Content-Type: in the body\r\n";

static void
test_count_by_name(void **state)
{
	size_t len = sizeof(raw_msg) - 1;

	assert_int_equal(edit_count(raw_msg, len, "Content-Type", 12), 2);
	assert_int_equal(edit_count(raw_msg, len, "Content-Type ", 13), 1);
	assert_int_equal(edit_count(raw_msg, len, "MIME-Version", 12), 1);
	assert_int_equal(edit_count(raw_msg, len, "X-Missing", 9), 0);
	/* A folded line or a line of the body is not a header. */
	assert_int_equal(edit_count(raw_msg, len, "\tboundary=\"b\"", 13), 0);
}

static struct mugai_result *
result(char **remove, size_t nremove, struct mugai_header *set, size_t nset,
    const char *body)
{
	static struct mugai_result r;

	memset(&r, 0, sizeof(r));
	r.remove = remove;
	r.nremove = nremove;
	r.set = set;
	r.nset = nset;
	r.body = (char *)body;
	r.body_len = strlen(body);
	return &r;
}

/*
 * Every spelling of the name is deleted, highest index first so the
 * lower indexes stay valid; headers that only mention the name are not.
 */
static void
test_delete_every_instance(void **state)
{
	char *remove[] = { "Content-Type", "MIME-Version" };
	const char *what = NULL;

	assert_int_equal(edit_apply(NULL, result(remove, 2, NULL, 0, "x\n"),
	    raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), 0);
	assert_int_equal(rec.nops, 4);
	assert_string_equal(rec.ops[0], "chg Content-Type 2 (delete)");
	assert_string_equal(rec.ops[1], "chg Content-Type 1 (delete)");
	assert_string_equal(rec.ops[2], "chg Content-Type  1 (delete)");
	assert_string_equal(rec.ops[3], "chg MIME-Version 1 (delete)");
}

static void
test_add_headers(void **state)
{
	struct mugai_header set[] = {
		{ "X-Mugai-Status", "sanitised; removed=1" },
		{ "Content-Type", "text/plain;\r\n charset=UTF-8" },
	};
	const char *what = NULL;

	assert_int_equal(edit_apply(NULL, result(NULL, 0, set, 2, "x\n"),
	    raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), 0);
	assert_int_equal(rec.nops, 2);
	/* The MTA adds CR itself: values carry bare LF folds. */
	assert_string_equal(rec.ops[0], "add X-Mugai-Status [sanitised; "
	    "removed=1]");
	assert_string_equal(rec.ops[1], "add Content-Type [text/plain;\n "
	    "charset=UTF-8]");
	memset(&rec, 0, sizeof(rec));
	/* With SMFIP_HDR_LEADSPC the value carries its leading space. */
	assert_int_equal(edit_apply(NULL, result(NULL, 0, set, 1, "x\n"),
	    raw_msg, sizeof(raw_msg) - 1, 1, 1000, &what), 0);
	assert_string_equal(rec.ops[0], "add X-Mugai-Status [ sanitised; "
	    "removed=1]");
}

/* LF becomes CRLF, pieces stay within the limit, a CRLF is never split. */
static void
test_body_pieces(void **state)
{
	static char body[100 * 1024];
	const char *what = NULL;
	size_t i, lines = 0;

	for (i = 0; i + 1 < sizeof(body); i++) {
		body[i] = i % 37 == 36 ? '\n' : (char)('a' + i % 26);
		lines += body[i] == '\n';
	}
	body[i] = '\0';
	assert_int_equal(edit_apply(NULL, result(NULL, 0, NULL, 0, body),
	    raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), 0);
	assert_true(rec.max_piece <= 1000);
	assert_true(rec.pieces >= sizeof(body) / 1000);
	/* Every LF got its CR, and the body now ends with CRLF. */
	assert_int_equal(rec.body_len, strlen(body) + lines + 2);
	assert_memory_equal(rec.body + rec.body_len - 2, "\r\n", 2);
	for (i = 0; i < rec.body_len; i++)
		if (rec.body[i] == '\n')
			assert_int_equal(rec.body[i - 1], '\r');
}

/* Existing CRLF pairs are not doubled. */
static void
test_body_crlf_kept(void **state)
{
	const char *what = NULL;

	assert_int_equal(edit_apply(NULL, result(NULL, 0, NULL, 0,
	    "a\r\nb\nc"), raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), 0);
	assert_int_equal(rec.body_len, 9);
	assert_memory_equal(rec.body, "a\r\nb\r\nc\r\n", 9);
}

/* An empty body is still replaced, so the original never survives. */
static void
test_empty_body_replaced(void **state)
{
	const char *what = NULL;

	assert_int_equal(edit_apply(NULL, result(NULL, 0, NULL, 0, ""),
	    raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), 0);
	assert_int_equal(rec.pieces, 1);
	assert_int_equal(rec.body_len, 2);
}

/* A body kept as it came: mugai's headers change, the body is untouched. */
static void
test_body_kept_not_replaced(void **state)
{
	char *remove[] = { "X-Mugai-Status" };
	struct mugai_header set[] = {
		{ "X-Mugai-Status", "sanitised; converted=0; removed=0" },
	};
	struct mugai_result *r = result(remove, 1, set, 1, "");
	const char *what = NULL;

	r->body = NULL;
	r->body_kept = 1;
	assert_int_equal(edit_apply(NULL, r, raw_msg, sizeof(raw_msg) - 1, 0,
	    1000, &what), 0);
	assert_int_equal(rec.nops, 1);
	assert_string_equal(rec.ops[0], "add X-Mugai-Status [sanitised; "
	    "converted=0; removed=0]");
	assert_int_equal(rec.pieces, 0);
}

static void
test_refusals_fail(void **state)
{
	char *remove[] = { "Content-Type" };
	const char *what = NULL;

	rec.refuse_body = 1;
	assert_int_equal(edit_apply(NULL, result(NULL, 0, NULL, 0, "x\n"),
	    raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), -1);
	assert_string_equal(what, "replacing the body");
	rec.refuse_body = 0;
	rec.refuse_chg = 1;
	assert_int_equal(edit_apply(NULL, result(remove, 1, NULL, 0, "x\n"),
	    raw_msg, sizeof(raw_msg) - 1, 0, 1000, &what), -1);
	assert_string_equal(what, "deleting a header");
	/* The body must not be replaced after a failed header edit. */
	assert_int_equal(rec.pieces, 0);
}

/*
 * Many headers: 2,000 Received lines (some folded with a line that
 * looks like a header) among 1,000 Content-Type lines in three
 * spellings and 200 Content-Disposition lines.  Each spelling is
 * deleted as one group, in the order it first appears, highest index
 * first; the first header of a group gives the group's spelling.
 */
static void
test_delete_many_headers(void **state)
{
	static const char *ct[] = { "content-type", "Content-Type",
	    "Content-Type ", "Content-Type\t" };
	char *remove[] = { "Content-Type", "MIME-Version",
	    "Content-Disposition", "X-Absent" };
	struct { const char *name; int count; } want[] = {
		{ "content-type", 500 }, { "Content-Type ", 250 },
		{ "Content-Type\t", 250 }, { "MIME-Version", 1 },
		{ "Content-Disposition", 200 },
	};
	GString *raw = g_string_new(NULL);
	char line[256];
	const char *what = NULL;
	size_t i, op = 0;
	int n;

	for (i = 0; i < 2000; i++) {
		g_string_append_printf(raw, "Received: from h%zu by mx;\r\n"
		    "\tMon, 23 Nov 2026 10:00:00 +0900\r\n", i);
		if (i % 7 == 3)
			g_string_append(raw, " Content-Type: folded\r\n");
		if (i % 2 == 0)
			g_string_append_printf(raw, "%s: text/plain\r\n",
			    ct[(i / 2) % 4]);
		if (i % 10 == 1)
			g_string_append(raw, "Content-Disposition: inline\r\n");
		if (i % 10 == 5)
			g_string_append(raw, "X-Content-Type: kept\r\n");
		if (i == 1000)
			g_string_append(raw, "mime-version: 1.0\r\n"
			    "MIME-Version : 1.0\r\n");
	}
	g_string_append(raw, "\r\nContent-Type: in the body\r\n");
	/* "mime-version" and "MIME-Version " are two spellings. */
	want[3].name = "mime-version";
	assert_int_equal(edit_apply(NULL, result(remove, 4, NULL, 0, "x\n"),
	    raw->str, raw->len, 0, 1000, &what), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		for (n = want[i].count; n > 0; n--) {
			snprintf(line, sizeof(line), "chg %s %d (delete)",
			    want[i].name, n);
			assert_true(op < rec.nops);
			assert_string_equal(rec.ops[op], line);
			op++;
			if (i == 3) {
				assert_string_equal(rec.ops[op],
				    "chg MIME-Version  1 (delete)");
				op++;
			}
		}
	assert_int_equal(rec.nops, op);
	g_string_free(raw, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_count_by_name, reset),
		cmocka_unit_test_setup(test_delete_every_instance, reset),
		cmocka_unit_test_setup(test_add_headers, reset),
		cmocka_unit_test_setup(test_body_pieces, reset),
		cmocka_unit_test_setup(test_body_crlf_kept, reset),
		cmocka_unit_test_setup(test_empty_body_replaced, reset),
		cmocka_unit_test_setup(test_body_kept_not_replaced, reset),
		cmocka_unit_test_setup(test_refusals_fail, reset),
		cmocka_unit_test_setup(test_delete_many_headers, reset),
	};

	return cmocka_run_group_tests_name("milter_edit", tests, NULL, NULL);
}
