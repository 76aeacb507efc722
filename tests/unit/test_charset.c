/*
 * test_charset.c - Japanese and other charsets to UTF-8, detection, and
 * strict ISO-2022-JP encoding.
 *
 * ISO-2022-JP test bytes are built from published JIS codes: NEC row 13
 * (① 0x2D21, Ⅳ 0x2D38, ㍻ 0x2D5F, ㈱ 0x2D6A) and the NEC-selected IBM
 * extensions that CP50221 writes for CP932's IBM kanji (髙 0x7C62 for
 * CP932 0xFBFC/0xEEE0, 﨑 0x7975 for 0xED95).  Written as ASCII: 0x2D21
 * is "-!", 0x7C62 is "|b".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "mugai/text/charset.h"

struct dcase {
	const char	*charset;
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	const char	*want;
	size_t		 nbad;
};

static void
run_cases(const struct dcase *c, size_t n)
{
	struct mugai_buf b;
	size_t i, len, nbad;

	for (i = 0; i < n; i++) {
		mugai_buf_init(&b, 0);
		len = c[i].len ? c[i].len : strlen(c[i].in);
		nbad = 12345;
		assert_int_equal(mugai_charset_to_utf8(c[i].charset, c[i].in,
		    len, &b, &nbad), MUGAI_OK);
		if (strcmp(b.data ? b.data : "", c[i].want) != 0 ||
		    nbad != c[i].nbad)
			fail_msg("case %zu (%s): got [%s] nbad %zu, want [%s] "
			    "nbad %zu", i, c[i].charset ? c[i].charset : "NULL",
			    b.data ? b.data : "", nbad, c[i].want, c[i].nbad);
		mugai_buf_free(&b);
	}
}

static void
test_iso2022jp(void **state)
{
	static const struct dcase c[] = {
		{ "ISO-2022-JP", "\x1b$BF|K\\8l%F%9%H\x1b(B abc", 0,
		    "日本語テスト abc", 0 },
		/* NEC row 13 and IBM extensions, as Outlook writes them. */
		{ "iso-2022-jp", "\x1b$B-!-j|byu-_-8\x1b(B", 0,
		    "①㈱髙﨑㍻Ⅳ", 0 },
		/* Wave dash: CP932 mapping (U+FF5E) for Windows senders. */
		{ "ISO-2022-JP", "\x1b$B!A\x1b(B", 0, "～", 0 },
		/* Half-width katakana, by designation and by SO/SI. */
		{ "ISO-2022-JP", "\x1b(I123^_\x1b(Bx", 0, "ｱｲｳﾞﾟx", 0 },
		{ "ISO-2022-JP", "a\x0e" "123\x0f" "b", 0, "aｱｲｳb", 0 },
		/* ESC ( J read as ASCII; ESC $ @ is JIS X 0208 too. */
		{ "ISO-2022-JP", "\x1b(Ja\\b~\x1b$@$\"\x1b(B", 0,
		    "a\\b~あ", 0 },
		/* JIS X 0208-1990 announcer before ESC $ B. */
		{ "ISO-2022-JP", "\x1b&@\x1b$B$\"\x1b(B", 0, "あ", 0 },
		/* Line breaks inside two-byte mode stay line breaks. */
		{ "ISO-2022-JP", "\x1b$B$\"\r\n$$\x1b(B", 0, "あ\r\nい", 0 },
		/* An unassigned unit is one U+FFFD, neighbours intact. */
		{ "ISO-2022-JP", "\x1b$B$\"\"/$$\x1b(Bz", 0,
		    "あ\xEF\xBF\xBDいz", 1 },
		/* 8-bit bytes, unknown escapes, a bad kana byte. */
		{ "ISO-2022-JP", "a\x82" "b\x1bZc\x1b(I~\x1b(B", 0,
		    "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "Zc\xEF\xBF\xBD", 3 },
		/* Truncated unit at the end. */
		{ "ISO-2022-JP", "\x1b$B$\"$", 0, "あ\xEF\xBF\xBD", 1 },
		/* Truncated escape at the end. */
		{ "ISO-2022-JP", "ab\x1b$", 0, "ab\xEF\xBF\xBD$", 1 },
		/* JIS X 0212 (ISO-2022-JP-1): 0x2237 is ～ in eucJP-ms. */
		{ "ISO-2022-JP", "\x1b$(D\"7\x1b(B", 0, "～", 0 },
		/* Mislabelled US-ASCII that is really ISO-2022-JP. */
		{ "us-ascii", "\x1b$B$\"\x1b(B", 0, "あ", 0 },
	};

	(void)state;
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void
test_cp932(void **state)
{
	static const struct dcase c[] = {
		{ "Shift_JIS", "\x93\xfa\x96{\x8c\xea", 0, "日本語", 0 },
		{ "shift_jis", "\x87\x40\x95\x5c", 0, "①表", 0 },
		{ "SJIS", "\xfb\xfc\xed\x95\x87\x8a", 0, "髙﨑㈱", 0 },
		{ "x-sjis", "\x81\x60\x81\x61\x81\x7c", 0, "～∥－", 0 },
		{ "Windows-31J", "\xb1\xb2\xb3", 0, "ｱｲｳ", 0 },
		{ "MS932", "a\\b", 0, "a\\b", 0 },
		/* Bad bytes: one U+FFFD each, text around them intact. */
		{ "CP932", "a\x80" "b\xff" "c", 0,
		    "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c", 2 },
		/* Unmapped pair with an 8-bit trail: one character. */
		{ "cp932", "\x82\xa0\x85\x9f\x82\xa2", 0,
		    "あ\xEF\xBF\xBDい", 1 },
		/* A lead byte before ASCII does not eat the ASCII. */
		{ "cp932", "\x85<b>", 0, "\xEF\xBF\xBD<b>", 1 },
		/* Truncated at the end. */
		{ "cp932", "abc\x82", 0, "abc\xEF\xBF\xBD", 1 },
	};

	(void)state;
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void
test_eucjp(void **state)
{
	static const struct dcase c[] = {
		{ "EUC-JP", "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xc7\xa4\xb9", 0,
		    "日本語です", 0 },
		{ "x-euc-jp", "\xad\xa1\xa1\xc1\x8e\xb1", 0, "①～ｱ", 0 },
		{ "eucJP-ms", "\x8f\xa2\xb7", 0, "～", 0 },
		{ "CP51932", "\xc6\xfc", 0, "日", 0 },
		{ "euc-jp", "\xc6\xfc\xcb", 0, "日\xEF\xBF\xBD", 1 },
		/* glibc would pass these through as C1 controls. */
		{ "euc-jp", "a\x80" "b\x9f\xa0" "c", 0, "a\xEF\xBF\xBD" "b"
		    "\xEF\xBF\xBD\xEF\xBF\xBD" "c", 3 },
		{ "euc-jp", "\xa4\x80\xa4\xa2", 0,
		    "\xEF\xBF\xBD\xEF\xBF\xBDあ", 2 },
		{ "euc-jp", "\x8e\xe0x\xff", 0,
		    "\xEF\xBF\xBDx\xEF\xBF\xBD", 2 },
	};

	(void)state;
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void
test_utf8(void **state)
{
	static const struct dcase c[] = {
		{ "UTF-8", "日本語", 0, "日本語", 0 },
		{ "utf8", "\xEF\xBB\xBF" "abc", 0, "abc", 0 },
		/* Maximal subparts: overlong, surrogate, truncated. */
		{ "UTF-8", "a\xc0\xaf" "b", 0,
		    "a\xEF\xBF\xBD\xEF\xBF\xBD" "b", 2 },
		{ "UTF-8", "\xed\xa0\x80", 0,
		    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3 },
		{ "UTF-8", "\xf0\x9f\x98x", 0, "\xEF\xBF\xBDx", 1 },
		{ "UTF-8", "abc\xe3\x81", 0, "abc\xEF\xBF\xBD", 1 },
		{ "UTF-8", "\xf4\x90\x80\x80", 0,
		    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4 },
	};

	(void)state;
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void
test_other_charsets(void **state)
{
	static const struct dcase c[] = {
		{ "iso-8859-2", "\xb1", 0, "ą", 0 },
		{ "ISO-8859-1", "caf\xe9 \x80", 0, "café €", 0 },
		{ "windows-1252", "a\x81" "b", 0, "a\xEF\xBF\xBD" "b", 1 },
		{ "koi8-r", "\xd2\xd5\xd3", 0, "рус", 0 },
		{ "big5", "\xa4\xa4", 0, "中", 0 },
		{ "gb2312", "\xd6\xd0", 0, "中", 0 },
		{ "euc-kr", "\xc7\xd1", 0, "한", 0 },
		{ "ks_c_5601-1987", "\xc7\xd1", 0, "한", 0 },
		{ "utf-16le", "a\0", 2, "a", 0 },
		/* Missing or unknown labels: detected. */
		{ NULL, "\x93\xfa\x96{", 0, "日本", 0 },
		{ "x-unknown", "日本", 0, "日本", 0 },
		{ "", "\xc6\xfc\xcb\xdc\xa4\xce\xa4\xa2", 0, "日本のあ", 0 },
		{ NULL, "\x1b$B$\"\x1b(B", 0, "あ", 0 },
		{ "us-ascii", "\x82\xa0", 0, "あ", 0 },
		{ NULL, "", 0, "", 0 },
	};

	(void)state;
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void
test_canonical(void **state)
{
	static const struct { const char *label, *want; } c[] = {
		{ "Shift_JIS", "CP932" }, { "shift-jis", "CP932" },
		{ "SJIS", "CP932" }, { "x-sjis", "CP932" },
		{ "windows-31j", "CP932" }, { "MS932", "CP932" },
		{ "cp932", "CP932" },
		{ "\"utf-8\"", "UTF-8" }, { " UTF8 ", "UTF-8" },
		{ "iso-2022-jp", "ISO-2022-JP" }, { "CP50221", "ISO-2022-JP" },
		{ "euc-jp", "EUC-JP" }, { "x-euc-jp", "EUC-JP" },
		{ "eucJP-ms", "EUC-JP" }, { "CP51932", "EUC-JP" },
		{ "us-ascii", "US-ASCII" }, { "ANSI_X3.4-1968", "US-ASCII" },
		{ "iso-8859-1", "WINDOWS-1252" }, { "ISO_8859-15", "ISO-8859-15" },
		{ "ks_c_5601-1987", "CP949" }, { "gb2312", "GBK" },
		{ "", NULL }, { "\"\"", NULL }, { "bogus", NULL },
		{ "unknown-8bit", NULL },
		{ "a-label-much-too-long-to-be-any-charset-name-at-all-really",
		    NULL },
	};
	const char *got;
	size_t i;

	(void)state;
	assert_null(mugai_charset_canonical(NULL));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		got = mugai_charset_canonical(c[i].label);
		if ((got == NULL) != (c[i].want == NULL) ||
		    (got != NULL && strcmp(got, c[i].want) != 0))
			fail_msg("%s: got %s want %s", c[i].label,
			    got ? got : "NULL", c[i].want ? c[i].want : "NULL");
	}
}

static void
test_detect(void **state)
{
	static const struct { const char *in, *want; } c[] = {
		{ "hello, world\r\n", "US-ASCII" },
		{ "", "US-ASCII" },
		{ "\x1b$BF|K\\\x1b(B", "ISO-2022-JP" },
		{ "x \x1b(I1\x1b(B", "ISO-2022-JP" },
		{ "a\x1bZ", "US-ASCII" },
		{ "日本語のテキスト", "UTF-8" },
		{ "\x93\xfa\x96{\x8c\xea\x82\xcc\x83\x65\x83\x4c\x83\x58\x83"
		    "\x67", "CP932" },
		{ "\x87\x40\x95\x5c", "CP932" },
		{ "\xb1\xb2\xb3", "CP932" },
		{ "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xc6\xa5\xad\xa5\xb9"
		    "\xa5\xc8", "EUC-JP" },
		{ "\xa4\xa2\xa4\xa4\xa4\xa6\xa4\xa8\xa4\xaa", "EUC-JP" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (strcmp(mugai_charset_detect(c[i].in, strlen(c[i].in)),
		    c[i].want) != 0)
			fail_msg("case %zu: got %s want %s", i,
			    mugai_charset_detect(c[i].in, strlen(c[i].in)),
			    c[i].want);
}

static void
test_utf8_valid(void **state)
{
	(void)state;
	assert_true(mugai_utf8_valid("", 0));
	assert_true(mugai_utf8_valid("abc 日本 \xf0\x9f\x98\x80", 15));
	assert_false(mugai_utf8_valid("\xc0\xaf", 2));
	assert_false(mugai_utf8_valid("\xed\xa0\x80", 3));
	assert_false(mugai_utf8_valid("\xe6\x97", 2));
	assert_false(mugai_utf8_valid("\x93\xfa", 2));
}

static void
test_to_iso2022jp(void **state)
{
	static const char *ok[] = {
		"日本語テスト abc",
		"〜 U+301C is JIS 0x2141",
		"plain ASCII\r\n",
		"末尾が漢字",
		"",
	};
	static const char *refused[] = {
		"丸数字 ① は不可",
		"全角チルダ ～",
		"半角ｶﾀｶﾅ",
		"髙橋",
		"invalid \xff",
	};
	struct mugai_buf b, back;
	size_t i, nbad;

	(void)state;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_charset_utf8_to_iso2022jp("日本語テスト abc",
	    strlen("日本語テスト abc"), &b), MUGAI_OK);
	assert_string_equal(b.data, "\x1b$BF|K\\8l%F%9%H\x1b(B abc");
	mugai_buf_free(&b);

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		mugai_buf_init(&b, 0);
		mugai_buf_init(&back, 0);
		assert_int_equal(mugai_charset_utf8_to_iso2022jp(ok[i],
		    strlen(ok[i]), &b), MUGAI_OK);
		for (nbad = 0; nbad < b.len; nbad++)
			assert_true((unsigned char)b.data[nbad] < 0x80);
		/* Ends in ASCII, and decodes back to the same text. */
		if (b.len >= 3 && b.data[b.len - 3] == 0x1b)
			assert_memory_equal(b.data + b.len - 3, "\x1b(B", 3);
		assert_int_equal(mugai_charset_to_utf8("ISO-2022-JP",
		    b.data ? b.data : "", b.len, &back, &nbad), MUGAI_OK);
		assert_int_equal(nbad, 0);
		if (i == 1)	/* 〜 comes back in its CP932 form ～ */
			assert_string_equal(back.data,
			    "～ U+301C is JIS 0x2141");
		else
			assert_string_equal(back.data ? back.data : "", ok[i]);
		mugai_buf_free(&b);
		mugai_buf_free(&back);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		mugai_buf_init(&b, 0);
		assert_int_equal(mugai_buf_puts(&b, "keep"), MUGAI_OK);
		assert_int_equal(mugai_charset_utf8_to_iso2022jp(refused[i],
		    strlen(refused[i]), &b), MUGAI_ERR_NOTFOUND);
		assert_string_equal(b.data, "keep");
		mugai_buf_free(&b);
	}
}

static void
test_limit(void **state)
{
	struct mugai_buf b;
	size_t nbad;

	(void)state;
	mugai_buf_init(&b, 5);
	assert_int_equal(mugai_charset_to_utf8("Shift_JIS",
	    "\x93\xfa\x96{\x8c\xea", 6, &b, &nbad), MUGAI_ERR_LIMIT);
	assert_true(b.len <= 5);
	mugai_buf_free(&b);
	mugai_buf_init(&b, 5);
	assert_int_equal(mugai_charset_utf8_to_iso2022jp("日本語", 9, &b),
	    MUGAI_ERR_LIMIT);
	assert_int_equal(b.len, 0);
	mugai_buf_free(&b);
}

/* Many threads decoding at once must each get their own right answer. */
static void *
thread_main(void *arg)
{
	static const char jis[] = "\x1b$B-!-j|byu\x1b(I1\x1b(B";
	static const char sjis[] = "\x87\x40\x95\x5c\xfb\xfc";
	struct mugai_buf b;
	int i, *bad = arg;

	for (i = 0; i < 200; i++) {
		mugai_buf_init(&b, 0);
		if (mugai_charset_to_utf8("ISO-2022-JP", jis, sizeof(jis) - 1,
		    &b, NULL) != MUGAI_OK || mugai_charset_to_utf8("cp932",
		    sjis, sizeof(sjis) - 1, &b, NULL) != MUGAI_OK ||
		    strcmp(b.data, "①㈱髙﨑ｱ①表髙") != 0)
			(*bad)++;
		mugai_buf_free(&b);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[4];
	int bad[4] = { 0, 0, 0, 0 };
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main,
		    &bad[i]), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso2022jp),
		cmocka_unit_test(test_cp932),
		cmocka_unit_test(test_eucjp),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_other_charsets),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_to_iso2022jp),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
