/*
 * test_scan_count.c - which ClamAV scans a message gets.  The raw
 * message once without MIME decoding, each decoded part once, and the
 * text mugai writes once unless it is the very bytes of a part scanned
 * already; the new message is never scanned whole again.  Counted with
 * mugai_scanner_stats on the test database ($MUGAI_TESTDB, default
 * build/testdb); the layouts that must still be detected are
 * tests/e2e/scan-layouts.sh's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/log.h"
#include "mugai/sanitize/sanitize.h"
#include "mugai/scan/scan.h"

static const char *
testdb(void)
{
	const char *d = getenv("MUGAI_TESTDB");

	return d != NULL && *d != 0 ? d : "build/testdb";
}

/* Sanitise msg with scanning on; the verdict and the scans it took. */
static unsigned long long
scans_for(const char *msg, enum mugai_verdict want)
{
	char err[512], dbline[1024];
	char *ov[4] = { "quarantine_enable=no", "audit_log=",
	    "clamav_check_interval=0", dbline };
	struct mugai_services svc = { 0 };
	struct mugai_scan_stats st0, st1;
	struct mugai_result *r;
	struct mugai_config *c;

	snprintf(dbline, sizeof(dbline), "clamav_database_dir=%s", testdb());
	if ((c = mugai_config_load(NULL, ov, 4, err, sizeof(err))) == NULL)
		fail_msg("config: %s", err);
	svc.cfg = c;
	if (mugai_scanner_new(c, &svc.scanner, err, sizeof(err)) != MUGAI_OK)
		fail_msg("scanner: %s", err);
	mugai_scanner_stats(svc.scanner, &st0);
	r = mugai_sanitize(&svc, msg, strlen(msg), NULL);
	assert_non_null(r);
	mugai_scanner_stats(svc.scanner, &st1);
	assert_int_equal(r->verdict, want);
	mugai_result_free(r);
	mugai_scanner_free(svc.scanner);
	mugai_config_unref(c);
	return st1.scans - st0.scans;
}

#define HEAD "From: a@example.org\nTo: b@example.jp\nSubject: t\n" \
	"MIME-Version: 1.0\n"

/* Plain UTF-8 text goes out as the same bytes: raw message and part. */
static void
test_plain_text_two_scans(void **state)
{
	(void)state;
	assert_int_equal(scans_for(HEAD "Content-Type: text/plain; "
	    "charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
	    "本日の会議は午後3時からです。\n", MUGAI_VERDICT_DELIVER), 2);
}

/* HTML becomes new text: raw message, part, and the text written. */
static void
test_html_three_scans(void **state)
{
	(void)state;
	assert_int_equal(scans_for(HEAD "Content-Type: text/html; "
	    "charset=UTF-8\n\n<html><body><p>会議は<b>午後3時</b>から"
	    "</p></body></html>\n", MUGAI_VERDICT_DELIVER), 3);
}

/*
 * Text and a removed attachment: raw message, two parts, and the body
 * text, which now starts with the notice naming the attachment.
 */
static void
test_notice_text_scanned(void **state)
{
	(void)state;
	assert_int_equal(scans_for(HEAD "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=UTF-8\n"
	    "\n本文です。\n--b\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"x.exe\"\n"
	    "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA//8AALgAAAA=\n"
	    "--b--\n", MUGAI_VERDICT_DELIVER), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_two_scans),
		cmocka_unit_test(test_html_three_scans),
		cmocka_unit_test(test_notice_text_scanned),
	};

	mugai_log_open("test", MUGAI_LOG_NONE, 0, 0);
	mugai_library_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
