/*
 * test_convert_why.c - the refusal line of mugai-convert modes: hostile
 * bytes never reach the log, Japanese names stay readable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "convert.h"

static void why(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	convert_vwhy(out, len, fmt, ap);
	va_end(ap);
}

static void
test_controls_and_bad_bytes(void **state)
{
	char out[128];

	(void)state;
	why(out, sizeof(out), "entry %s refused", "a\nb\x1b[31m\x7f");
	assert_string_equal(out, "entry a?b?[31m? refused");
	why(out, sizeof(out), "name %s", "\xff\xfe\xc0\xaf x");
	assert_string_equal(out, "name ???? x");
	why(out, sizeof(out), "資料%s.txt", "\xe8\xb3");	/* a cut 資 */
	assert_string_equal(out, "資料??.txt");
}

static void
test_utf8_kept(void **state)
{
	char out[128];

	(void)state;
	why(out, sizeof(out), "\"%s\" is password protected", "見積書.zip");
	assert_string_equal(out, "\"見積書.zip\" is password protected");
}

/* A sequence cut by the end of the buffer is replaced, not read past. */
static void
test_cut_at_the_end(void **state)
{
	char out[6];

	(void)state;
	why(out, sizeof(out), "abc%s", "資");
	assert_string_equal(out, "abc??");
	why(NULL, 0, "nothing %d", 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_and_bad_bytes),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_cut_at_the_end),
	};
	return cmocka_run_group_tests_name("convert_why", tests, NULL, NULL);
}
