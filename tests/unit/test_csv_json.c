/*
 * test_csv_json.c - the CSV formula guard and JSON string escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mugai/base/csv.h"
#include "mugai/base/json.h"

static void
test_csv_guard(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "a,b,c\n", "a,b,c\n" },
		{ "=1+2,b\n", "'=1+2,b\n" },
		{ "a,+1,-2,@SUM(A1)\n", "a,'+1,'-2,'@SUM(A1)\n" },
		{ "x\n=HYPERLINK(\"http://e\")\n", "x\n'=HYPERLINK(\"http://e\")\n" },
		{ "\"=cmd|' /C calc'!A0\",ok\n", "\"'=cmd|' /C calc'!A0\",ok\n" },
		{ "\"a,=b\",c\n", "\"a,=b\",c\n" },
		{ "\"a\"\"=b\",=c\n", "\"a\"\"=b\",'=c\n" },
		{ "\t=1,x\n", "'\t=1,x\n" },
		{ "名前,=金額\n", "名前,'=金額\n" },
		/* A lone CR ends a row in spreadsheets (found by fuzz_csv). */
		{ "x\r=1+1\r-2,\r\n", "x\r'=1+1\r'-2,\r\n" },
		{ "a,b\r\n=c\r\n", "a,b\r\n'=c\r\n" },
		{ "\"a\r=b\",c", "\"a\r=b\",c" },
		{ "", "" },
	};
	struct mugai_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mugai_buf_init(&b, 0);
		assert_int_equal(mugai_csv_guard(cases[i].in,
		    strlen(cases[i].in), &b), MUGAI_OK);
		if (strcmp(b.data ? b.data : "", cases[i].out) != 0)
			fail_msg("case %zu: got [%s] want [%s]", i, b.data,
			    cases[i].out);
		mugai_buf_free(&b);
	}
}

static void
test_json_escape(void **state)
{
	struct mugai_buf b;

	(void)state;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_json_strn(&b, "a\"b\\c\n\x01\xff日本", 14),
	    MUGAI_OK);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\\ufffd日本\"");
	mugai_buf_reset(&b);
	assert_int_equal(mugai_json_str(&b, NULL), MUGAI_OK);
	assert_string_equal(b.data, "null");
	mugai_buf_reset(&b);
	/* Overlong and surrogate encodings are not valid UTF-8. */
	assert_int_equal(mugai_json_strn(&b, "\xc0\xaf\xed\xa0\x80", 5),
	    MUGAI_OK);
	assert_string_equal(b.data,
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	mugai_buf_free(&b);
}

static void
test_buf_cap(void **state)
{
	struct mugai_buf b;

	(void)state;
	mugai_buf_init(&b, 8);
	assert_int_equal(mugai_buf_puts(&b, "12345678"), MUGAI_OK);
	assert_int_equal(mugai_buf_putc(&b, '9'), MUGAI_ERR_LIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(mugai_buf_printf(&b, "%d", 1), MUGAI_ERR_LIMIT);
	mugai_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_guard),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_buf_cap),
	};
	return cmocka_run_group_tests_name("csv_json", tests, NULL, NULL);
}
