/*
 * test_config.c - the config loader: defaults, file syntax, overrides,
 * and the one-line errors an admin sees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mugai/config.h"
#include "mugai/policy.h"

static char *
write_tmp(const char *text)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mugai-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void
test_defaults(void **state)
{
	char err[512];
	struct mugai_config *c = mugai_config_load(NULL, NULL, 0, err,
	    sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->max_message_size, 50 * 1024 * 1024);
	assert_int_equal(c->max_mime_depth, 20);
	assert_int_equal(c->max_mime_parts, 1000);
	assert_int_equal(c->clamav_enable, 1);
	assert_string_equal(c->clamav_database_dir, "/var/lib/clamav");
	assert_int_equal(c->virus_action, MUGAI_VIRUS_REJECT);
	assert_int_equal(c->clamav_max_scantime, 120);
	assert_int_equal(mugai_policy_lookup(c->policy, "text/plain"),
	    MUGAI_ACT_TEXT);
	assert_int_equal(mugai_policy_lookup(c->policy, "text/csv"),
	    MUGAI_ACT_CSV);
	assert_int_equal(mugai_policy_lookup(c->policy, "application/pdf"),
	    MUGAI_ACT_PDF);
	/* Prefix rules: macro-enabled OOXML cleaned, binary xlsb and
	 * legacy Office through LibreOffice, programs removed. */
	assert_int_equal(mugai_policy_lookup(c->policy,
	    "application/vnd.ms-word.document.macroenabled.12"),
	    MUGAI_ACT_OOXML);
	assert_int_equal(mugai_policy_lookup(c->policy,
	    "application/vnd.ms-excel.sheet.binary.macroenabled.12"),
	    MUGAI_ACT_OFFICE);
	assert_int_equal(c->office_output, MUGAI_OFFICE_OUTPUT_OOXML);
	assert_int_equal(mugai_policy_lookup(c->policy, "application/vnd.ms-excel"),
	    MUGAI_ACT_OFFICE);
	assert_int_equal(mugai_policy_lookup(c->policy, "application/zip"),
	    MUGAI_ACT_ARCHIVE);
	assert_int_equal(mugai_policy_lookup(c->policy,
	    "application/x-dosexec"), MUGAI_ACT_REMOVE);
	/* Text kept as CSV by declared type or name; other types as found. */
	assert_int_equal(mugai_policy_for_file(c->policy, "text/plain",
	    "text/csv", "a"), MUGAI_ACT_CSV);
	assert_int_equal(mugai_policy_for_file(c->policy, "text/plain", NULL,
	    "売上.CSV"), MUGAI_ACT_CSV);
	assert_int_equal(mugai_policy_for_file(c->policy, "text/plain",
	    "text/plain", "memo.txt"), MUGAI_ACT_TEXT);
	assert_int_equal(mugai_policy_for_file(c->policy, "application/pdf",
	    "text/csv", "a.csv"), MUGAI_ACT_PDF);
	assert_int_equal(c->convert_timeout, 60);
	assert_string_equal(c->convert_worker, "");
	mugai_config_unref(c);
}

static void
test_file_and_continuation(void **state)
{
	char err[512];
	const char *path = write_tmp(
	    "# comment\n"
	    "max_mime_depth = 7\n"
	    "\n"
	    "max_part_size=3M\n"
	    "clamav_max_scantime = 2m\n"
	    "virus_action = discard\n"
	    "attachment_policy =\n"
	    "    image/* remove,\n"
	    "    text/html html\n"
	    "    text/* text\n"
	    "admin_contact = 情報政策課 (内線 1234)\n");
	struct mugai_config *c = mugai_config_load(path, NULL, 0, err,
	    sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->max_mime_depth, 7);
	assert_int_equal(c->max_part_size, 3 * 1024 * 1024);
	assert_int_equal(c->clamav_max_scantime, 120);
	assert_int_equal(c->virus_action, MUGAI_VIRUS_DISCARD);
	assert_string_equal(c->admin_contact, "情報政策課 (内線 1234)");
	assert_int_equal(mugai_policy_lookup(c->policy, "text/html"),
	    MUGAI_ACT_HTML);
	assert_int_equal(mugai_policy_lookup(c->policy, "text/x-c"),
	    MUGAI_ACT_TEXT);
	assert_int_equal(mugai_policy_lookup(c->policy, "image/png"),
	    MUGAI_ACT_REMOVE);
	/* No rule matches: removed. */
	assert_int_equal(mugai_policy_lookup(c->policy, "application/zip"),
	    MUGAI_ACT_REMOVE);
	mugai_config_unref(c);
	unlink(path);
}

static void
test_overrides_win(void **state)
{
	char err[512];
	char *ov[] = { "max_mime_parts = 12", "clamav_enable=no",
	    "quarantine_dir=/tmp/q" };
	const char *path = write_tmp("max_mime_parts = 99\n");
	struct mugai_config *c = mugai_config_load(path, ov, 3, err,
	    sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->max_mime_parts, 12);
	assert_int_equal(c->clamav_enable, 0);
	assert_string_equal(c->quarantine_dir, "/tmp/q");
	mugai_config_unref(c);
	unlink(path);
}

struct bad_case {
	const char *text;
	const char *expect[3];	/* substrings of the error line */
};

static void
test_errors_name_file_and_line(void **state)
{
	static const struct bad_case cases[] = {
		{ "max_mime_depth = 5\nmax_mime_dept = 5\n",
		    { ":2:", "unknown key \"max_mime_dept\"", "max_mime_depth" } },
		{ "\n\nmax_part_size = lots\n",
		    { ":3:", "max_part_size", "not a size" } },
		{ "max_mime_depth = 0\n", { ":1:", "out of range", NULL } },
		{ "clamav_enable = maybe\n", { ":1:", "yes or no", NULL } },
		{ "virus_action = bounce\n", { ":1:", "quarantine-only", NULL } },
		{ "just some words\n", { ":1:", "key = value", NULL } },
		{ "  indented = 1\n", { ":1:", "continuation", NULL } },
		{ "a = 1\nattachment_policy = text/plain keep\n",
		    { ":1:", "unknown key", NULL } },
		{ "attachment_policy = text/plain keep\n",
		    { ":1:", "unknown action \"keep\"", NULL } },
		{ "attachment_policy = text/plain\n",
		    { ":1:", "PATTERN ACTION", NULL } },
		{ "clamav_scan_options = archive, bogus\n",
		    { ":1:", "bogus", NULL } },
		{ "output_charset = shift_jis\n",
		    { ":1:", "utf-8 or iso-2022-jp", NULL } },
	};
	char err[512];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_tmp(cases[i].text);

		err[0] = '\0';
		assert_null(mugai_config_load(path, NULL, 0, err, sizeof(err)));
		assert_non_null(strstr(err, path));
		for (j = 0; j < 3 && cases[i].expect[j]; j++) {
			if (strstr(err, cases[i].expect[j]) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				    cases[i].expect[j]);
		}
		assert_null(strchr(err, '\n'));
		unlink(path);
	}
}

static void
test_override_errors(void **state)
{
	char err[512];
	char *ov1[] = { "max_mime_depth" };
	char *ov2[] = { "nosuch=1" };

	(void)state;
	assert_null(mugai_config_load(NULL, ov1, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "-o max_mime_depth"));
	assert_null(mugai_config_load(NULL, ov2, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown key \"nosuch\""));
}

static void
test_missing_file(void **state)
{
	char err[512];

	(void)state;
	assert_null(mugai_config_load("/nonexistent/mugai.cf", NULL, 0, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/mugai.cf"));
	assert_non_null(strstr(err, "No such file"));
}

static void
test_refcount_and_dump(void **state)
{
	char err[512], *text = NULL;
	size_t len = 0;
	struct mugai_config *c = mugai_config_load(NULL, NULL, 0, err,
	    sizeof(err)), *d;
	FILE *fp = open_memstream(&text, &len);

	(void)state;
	d = mugai_config_ref(c);
	assert_ptr_equal(c, d);
	mugai_config_unref(c);
	/* Still alive through the second reference. */
	mugai_config_dump(d, fp);
	fclose(fp);
	assert_non_null(strstr(text, "max_message_size = 50M\n"));
	assert_non_null(strstr(text, "clamav_max_scantime = 120s\n"));
	assert_non_null(strstr(text, "clamav_scan_options = archive, mail"));
	/* The dump is itself a valid config file. */
	{
		const char *path = write_tmp(text);
		struct mugai_config *e = mugai_config_load(path, NULL, 0, err,
		    sizeof(err));

		if (e == NULL)
			fail_msg("dump does not re-load: %s", err);
		assert_int_equal(e->max_message_size, d->max_message_size);
		mugai_config_unref(e);
		unlink(path);
	}
	free(text);
	mugai_config_unref(d);
}

/*
 * Found by fuzz_config: a string value continued on a second line was
 * dumped with a bare new line, so the dump did not load; and scan
 * options without "archive" were dumped with a leading ", ".
 */
static void
test_dump_multiline(void **state)
{
	char err[512], *text = NULL;
	size_t len = 0;
	const char *path = write_tmp("admin_contact = a\n  b\n"
	    "clamav_scan_options = mail, pdf\n");
	struct mugai_config *c = mugai_config_load(path, NULL, 0, err,
	    sizeof(err)), *d;
	FILE *fp = open_memstream(&text, &len);

	(void)state;
	unlink(path);
	assert_non_null(c);
	assert_string_equal(c->admin_contact, "a\nb");
	mugai_config_dump(c, fp);
	fclose(fp);
	assert_non_null(strstr(text, "\nadmin_contact = a\n    b\n"));
	assert_non_null(strstr(text, "\nclamav_scan_options = mail, pdf\n"));
	path = write_tmp(text);
	d = mugai_config_load(path, NULL, 0, err, sizeof(err));
	unlink(path);
	if (d == NULL)
		fail_msg("dump does not re-load: %s", err);
	assert_string_equal(d->admin_contact, "a\nb");
	assert_int_equal(d->clamav_scan_options, c->clamav_scan_options);
	mugai_config_unref(d);
	mugai_config_unref(c);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_and_continuation),
		cmocka_unit_test(test_overrides_win),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_refcount_and_dump),
		cmocka_unit_test(test_dump_multiline),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
