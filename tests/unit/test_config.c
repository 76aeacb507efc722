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

#include "mugai/base/config.h"
#include "mugai/base/policy.h"

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

/* Every problem a load reports, in order. */
struct problems {
	char	 msg[16][512];
	int	 sev[16];
	size_t	 n, nerrors, nwarnings;
};

static void
collect(void *arg, enum mugai_config_severity sev, const char *msg)
{
	struct problems *p = arg;

	if (sev == MUGAI_CONFIG_ERROR)
		p->nerrors++;
	else
		p->nwarnings++;
	if (p->n < 16) {
		snprintf(p->msg[p->n], sizeof(p->msg[0]), "%s", msg);
		p->sev[p->n++] = sev;
	}
}

/* The problem of severity sev that has both a and b in it, or NULL. */
static const char *
problem(const struct problems *p, int sev, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->sev[i] == sev && strstr(p->msg[i], a) != NULL &&
		    (b == NULL || strstr(p->msg[i], b) != NULL))
			return p->msg[i];
	return NULL;
}

static char *
write_tmp_len(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/mugai-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/*
 * Bad bypass items are errors at load (what the milter refused only at
 * start, with no file or line), each named with its line, all of them.
 */
static void
test_bypass_errors_all_listed(void **state)
{
	const char *path = write_tmp(
	    "max_mime_depth = 5\n"
	    "bypass_client_networks = 10.0.0.0/33, 192.0.2.300\n"
	    "    2001:db8::/129 192.0.2.0/24\n"
	    "bypass_recipients = @example.org nobody\n"
	    "max_mime_parts = none\n");
	struct problems p;
	char where[96];

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_null(mugai_config_load_report(path, NULL, 0, collect, &p));
	assert_int_equal(p.nerrors, 5);
	snprintf(where, sizeof(where), "%s:2: bypass_client_networks:", path);
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, where, "/33"));
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, where, "192.0.2.300"));
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, where, "/129"));
	snprintf(where, sizeof(where), "%s:4: bypass_recipients:", path);
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, where,
	    "\"nobody\" is not an address; write user@domain or @domain"));
	snprintf(where, sizeof(where), "%s:5: max_mime_parts:", path);
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, where, NULL));
	/* Each says what to write instead. */
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, "/33", "use 0 to 32"));
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, "/129",
	    "use 0 to 128"));
	unlink(path);
}

/* The one-line form counts the rest. */
static void
test_load_counts_the_rest(void **state)
{
	const char *path = write_tmp("bypass_client_networks = 10.0.0.0/33\n"
	    "bypass_recipients = nobody\nnosuch = 1\n");
	char err[512];

	(void)state;
	assert_null(mugai_config_load(path, NULL, 0, err, sizeof(err)));
	assert_non_null(strstr(err, ":1: bypass_client_networks:"));
	assert_non_null(strstr(err, "(and 2 more;"));
	assert_null(strchr(err, '\n'));
	unlink(path);
}

/* Overrides are checked the same way. */
static void
test_bypass_override_errors(void **state)
{
	char *ov[] = { "bypass_client_networks=::1/129",
	    "bypass_recipients=postmaster" };
	struct problems p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_null(mugai_config_load_report(NULL, ov, 2, collect, &p));
	assert_int_equal(p.nerrors, 2);
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR,
	    "-o bypass_client_networks=::1/129: bypass_client_networks:",
	    "/129"));
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR,
	    "-o bypass_recipients=postmaster: bypass_recipients:", NULL));
}

/* A NUL byte is an error, not the end of the value ("1\0 0" is not 1). */
static void
test_nul_byte(void **state)
{
	static const char text[] = "max_mime_parts = 10\n"
	    "max_mime_depth = 1\0 0\n";
	const char *path = write_tmp_len(text, sizeof(text) - 1);
	struct problems p;
	char where[96];

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_null(mugai_config_load_report(path, NULL, 0, collect, &p));
	assert_int_equal(p.nerrors, 1);
	snprintf(where, sizeof(where), "%s:2: NUL byte", path);
	assert_non_null(problem(&p, MUGAI_CONFIG_ERROR, where, "remove it"));
	unlink(path);
}

/* A key set twice loads, with the later value, and a warning. */
static void
test_duplicate_key_warns(void **state)
{
	const char *path = write_tmp("max_mime_depth = 5\n"
	    "max_mime_parts = 10\nmax_mime_depth = 7\n");
	struct mugai_config *cfg;
	struct problems p;
	char where[96];
	char *ov[] = { "max_mime_parts=20" };

	(void)state;
	memset(&p, 0, sizeof(p));
	cfg = mugai_config_load_report(path, ov, 1, collect, &p);
	assert_non_null(cfg);
	assert_int_equal(cfg->max_mime_depth, 7);
	assert_int_equal(cfg->max_mime_parts, 20);
	/* -o overrides on purpose: no warning for max_mime_parts. */
	assert_int_equal(p.nerrors, 0);
	assert_int_equal(p.nwarnings, 1);
	snprintf(where, sizeof(where), "%s:3: max_mime_depth:", path);
	assert_non_null(problem(&p, MUGAI_CONFIG_WARNING, where,
	    "first at line 1"));
	mugai_config_unref(cfg);
	unlink(path);
}

/* A bypass network that takes in every client loads, with a warning. */
static void
test_bypass_everything_warns(void **state)
{
	const char *path = write_tmp("bypass_client_networks = 10.0.0.0/8\n"
	    "    0.0.0.0/0 ::/0 2001:db8::/32\n");
	struct mugai_config *cfg;
	struct problems p;

	(void)state;
	memset(&p, 0, sizeof(p));
	cfg = mugai_config_load_report(path, NULL, 0, collect, &p);
	assert_non_null(cfg);
	assert_int_equal(p.nerrors, 0);
	assert_int_equal(p.nwarnings, 2);
	assert_non_null(problem(&p, MUGAI_CONFIG_WARNING, ":1: "
	    "bypass_client_networks: 0.0.0.0/0", "every IPv4 client"));
	assert_non_null(problem(&p, MUGAI_CONFIG_WARNING, ":1: "
	    "bypass_client_networks: ::/0", "every IPv6 client"));
	assert_null(problem(&p, MUGAI_CONFIG_WARNING, "10.0.0.0/8", NULL));
	mugai_config_unref(cfg);
	unlink(path);
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
		cmocka_unit_test(test_bypass_errors_all_listed),
		cmocka_unit_test(test_load_counts_the_rest),
		cmocka_unit_test(test_bypass_override_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_duplicate_key_warns),
		cmocka_unit_test(test_bypass_everything_warns),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
