/*
 * test_web_html.c - mugai-web's escaping, URL encoding, form decoding
 * and language choice: what stands between a hostile subject or form
 * field and the page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "form.h"
#include "html.h"
#include "i18n.h"

static char *
esc(const char *s, size_t len)
{
	struct mugai_buf b;

	mugai_buf_init(&b, 0);
	assert_int_equal(web_html_n(&b, s, len), MUGAI_OK);
	return mugai_buf_steal(&b, NULL);
}

static void
test_escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "a & b", "a &amp; b" },
		{ "\" onmouseover='x'", "&quot; onmouseover=&#39;x&#39;" },
		{ "件名：会議資料", "件名：会議資料" },
		{ "tab\tand\nnewline", "tab\tand\nnewline" },
		{ "crlf\r\nlone\rcr\r", "crlf\nlone?cr?" },
		{ "bell\a esc\x1b del\x7f", "bell? esc? del?" },
		/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+200F RLM */
		{ "exe\xE2\x80\xAEtxt.doc", "exe?txt.doc" },
		{ "a\xE2\x81\xA6" "b\xE2\x80\x8F" "c", "a?b?c" },
		/* C1 control U+0085 */
		{ "x\xC2\x85y", "x?y" },
		/* invalid UTF-8: lone continuation, overlong '<', surrogate, truncated */
		{ "\x80", "\xEF\xBF\xBD" },
		{ "\xC0\xBCscript", "\xEF\xBF\xBD\xEF\xBF\xBDscript" },
		{ "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "\xE6\x97", "\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "", "" },
	};
	size_t i;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = esc(cases[i].in, strlen(cases[i].in));
		assert_string_equal(out ? out : "", cases[i].out);
		free(out);
	}
	/* A NUL inside counted input is a control character, not an end. */
	out = esc("a\0<", 3);
	assert_string_equal(out, "a?&lt;");
	free(out);
}

static void
test_escape_cap(void **state)
{
	struct mugai_buf b;

	mugai_buf_init(&b, 8);
	assert_int_equal(web_html(&b, "<<<"), MUGAI_ERR_LIMIT);
	mugai_buf_free(&b);
}

static void
test_url(void **state)
{
	struct mugai_buf b;

	mugai_buf_init(&b, 0);
	assert_int_equal(web_url(&b, "a b&c=d/会\"<"), MUGAI_OK);
	assert_string_equal(b.data, "a%20b%26c%3Dd%2F%E4%BC%9A%22%3C");
	mugai_buf_reset(&b);
	assert_int_equal(web_url(&b, "20261203-0123.ab_c~"), MUGAI_OK);
	assert_string_equal(b.data, "20261203-0123.ab_c~");
	mugai_buf_free(&b);
}

/* Search dates: local days, "to" through the end of its day. */
static void
test_form_day(void **state)
{
	struct tm tm;
	time_t t;

	(void)state;
	assert_int_equal(web_form_day(NULL, 0), 0);
	assert_int_equal(web_form_day("", 1), 0);
	assert_int_equal(web_form_day("2026-12-3x", 0), -1);
	assert_int_equal(web_form_day("12/03/2026", 0), -1);
	assert_int_equal(web_form_day("2026-12-03 10:00", 0), -1);
	t = web_form_day("2026-12-03", 0);
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(tm.tm_year, 126);
	assert_int_equal(tm.tm_mon, 11);
	assert_int_equal(tm.tm_mday, 3);
	assert_int_equal(tm.tm_hour, 0);
	assert_int_equal(tm.tm_min, 0);
	/* The end of the last day of a month is the next month's start. */
	t = web_form_day("2026-12-31", 1);
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(tm.tm_year, 127);
	assert_int_equal(tm.tm_mon, 0);
	assert_int_equal(tm.tm_mday, 1);
	assert_int_equal(tm.tm_hour, 0);
}

static void
test_form(void **state)
{
	const char *body = "csrf=abc&reason=kondo+asked%21+%E5%8E%9F%E6%9C%AC"
	    "&to=&flag&bad=%zz&nul=a%00b&cut=%4&x=1;y=2";
	char *v;

	v = web_form_get(body, "reason");
	assert_string_equal(v, "kondo asked! 原本");
	free(v);
	v = web_form_get(body, "to");
	assert_string_equal(v, "");
	free(v);
	v = web_form_get(body, "flag");
	assert_string_equal(v, "");
	free(v);
	assert_null(web_form_get(body, "bad"));
	assert_null(web_form_get(body, "nul"));
	assert_null(web_form_get(body, "cut"));
	assert_null(web_form_get(body, "missing"));
	assert_null(web_form_get(body, "csr"));	/* no prefix matches */
	v = web_form_get(body, "y");
	assert_string_equal(v, "2");
	free(v);
	/* The first of a repeated field wins. */
	v = web_form_get("a=1&a=2", "a");
	assert_string_equal(v, "1");
	free(v);
	v = strdup("  \t x y \r\n");
	assert_string_equal(web_form_trim(v), "x y");
	free(v);
}

static void
test_lang(void **state)
{
	assert_int_equal(web_lang_pick(NULL, NULL), WEB_LANG_JA);
	assert_int_equal(web_lang_pick(NULL, "en-US,en;q=0.9"), WEB_LANG_EN);
	assert_int_equal(web_lang_pick(NULL, "en-US,en;q=0.9,ja;q=0.8"), WEB_LANG_EN);
	assert_int_equal(web_lang_pick(NULL, "en;q=0.5, ja-JP"), WEB_LANG_JA);
	assert_int_equal(web_lang_pick(NULL, "fr,de"), WEB_LANG_JA);
	assert_int_equal(web_lang_pick(NULL, "ja;q=0, en;q=0.1"), WEB_LANG_EN);
	assert_int_equal(web_lang_pick(NULL, "english,eng"), WEB_LANG_JA);
	assert_int_equal(web_lang_pick("en", "ja"), WEB_LANG_EN);
	assert_int_equal(web_lang_pick("ja", "en"), WEB_LANG_JA);
	assert_int_equal(web_lang_pick("xx", "en"), WEB_LANG_EN);
	assert_string_equal(web_t(WEB_LANG_JA, "Log in"), "ログイン");
	assert_string_equal(web_t(WEB_LANG_EN, "Log in"), "Log in");
	assert_string_equal(web_t(WEB_LANG_JA, "not in the table"), "not in the table");
	assert_int_equal(web_t_missing(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_cap),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_form_day),
		cmocka_unit_test(test_lang),
	};
	return cmocka_run_group_tests_name("web_html", tests, NULL, NULL);
}
