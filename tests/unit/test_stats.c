/*
 * test_stats.c - reading the audit log back (auditlog.h) and the
 * figures per day and month (stats.h).
 *
 * The log is written with mugai_audit_write in the shape the sanitiser
 * and the quarantine write it, at chosen times; the index gets messages
 * with reports through mugai_quarantine_store.  The expected figures
 * are counted here from what was written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/quarantine/auditlog.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/stats.h"
#include "../../src/quarantine/quarantine_backend.h"

struct fx {
	char	 root[64];
	char	 audit[PATH_MAX];
	struct mugai_config *cfg;
	struct mugai_quarantine *q;
};

/* Local noon of day d of December 2026, so no period edge is near. */
static time_t
day(int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 126;
	tm.tm_mon = 11;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static void
utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
msg_line(struct fx *f, time_t t, const char *id, const char *verdict,
    int removed, int converted, int quar, const char *sigs)
{
	char line[1024], when[32];

	utc(t, when, sizeof(when));
	snprintf(line, sizeof(line), "{\"time\":\"%s\",\"actor\":\"mugai\","
	    "\"action\":\"message\",\"id\":\"%s\",\"queue_id\":\"\",\"size\":"
	    "100,\"verdict\":\"%s\",\"removed\":%d,\"converted\":%d,"
	    "\"quarantined\":%s,\"signatures\":[%s],\"reason\":null}", when,
	    id, verdict, removed, converted, quar ? "true" : "false", sigs);
	assert_int_equal(mugai_audit_write(f->audit, line), MUGAI_OK);
}

static void
store(struct fx *f, const char *id, time_t t, const char *report)
{
	static const char raw[] = "From: a@b\r\nSubject: s\r\n\r\nbody\r\n";
	const char *rcpt[1] = { "staff@city.lg.jp" };
	struct mugai_qentry e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.received = t;
	e.sender = "a@b";
	e.recipients = rcpt;
	e.nrecipients = 1;
	e.subject = "s";
	e.size = strlen(raw);
	e.verdict = "sanitised";
	e.report_json = report;
	e.notice = "";
	assert_int_equal(mugai_quarantine_store(f->q, &e, raw, strlen(raw)),
	    MUGAI_OK);
}

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char o1[PATH_MAX + 32], o2[PATH_MAX + 32], *ov[2], err[512];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/mugai-stats.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->audit, sizeof(f->audit), "%s/audit.jsonl", f->root);
	snprintf(o1, sizeof(o1), "quarantine_dir=%s/q", f->root);
	snprintf(o2, sizeof(o2), "audit_log=%s", f->audit);
	ov[0] = o1;
	ov[1] = o2;
	assert_non_null(f->cfg = mugai_config_load(NULL, ov, 2, err,
	    sizeof(err)));
	if (mugai_quarantine_open(f->cfg, &f->q, err, sizeof(err)) != MUGAI_OK)
		fail_msg("open: %s", err);
	*state = f;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	mugai_quarantine_close(f->q);
	mugai_config_unref(f->cfg);
	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- audit queries ------------------------------------------------------ */

struct seen {
	char	 text[2048];
	size_t	 n;
};

static int
collect(const struct mugai_aentry *e, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s/%s/%s;", e->actor,
	    e->action, e->id);
	s->n++;
	return 0;
}

static void
test_audit_query(void **state)
{
	struct fx *f = *state;
	struct mugai_afilter flt;
	struct seen s;
	struct mugai_buf b;
	FILE *fp;

	msg_line(f, day(1), "m1", "deliver", 1, 0, 1, "");
	assert_int_equal(mugai_quarantine_delete(f->q, "nosuch", "alice", "x"),
	    MUGAI_ERR_NOTFOUND);
	msg_line(f, day(2), "m2", "reject", 0, 0, 1, "\"Eicar-Test\"");
	/* A damaged line, and one that is not an object: skipped. */
	assert_non_null(fp = fopen(f->audit, "a"));
	fputs("{\"time\":\"2026-12-0\n[1,2]\n", fp);
	fclose(fp);
	assert_int_equal(mugai_audit_write(f->audit, "{\"time\":"
	    "\"2026-12-03T01:00:00Z\",\"actor\":\"bob\",\"action\":\"release\","
	    "\"id\":\"m1\",\"reason\":\"=HYPERLINK(\\\"http://x\\\")\"}"),
	    MUGAI_OK);

	memset(&s, 0, sizeof(s));
	size_t skipped = 0;
	assert_int_equal(mugai_audit_query(f->cfg, NULL, NULL, collect, &s,
	    &skipped), MUGAI_OK);
	assert_string_equal(s.text, "mugai/message/m1;mugai/message/m2;"
	    "bob/release/m1;");
	assert_int_equal(skipped, 2);

	memset(&flt, 0, sizeof(flt));
	flt.id = "m1";
	memset(&s, 0, sizeof(s));
	assert_int_equal(mugai_audit_query(f->cfg, NULL, &flt, collect, &s,
	    NULL), MUGAI_OK);
	assert_string_equal(s.text, "mugai/message/m1;bob/release/m1;");
	memset(&flt, 0, sizeof(flt));
	flt.actor = "bob";
	flt.action = "release";
	memset(&s, 0, sizeof(s));
	assert_int_equal(mugai_audit_query(f->cfg, NULL, &flt, collect, &s,
	    NULL), MUGAI_OK);
	assert_int_equal(s.n, 1);
	memset(&flt, 0, sizeof(flt));
	flt.since = day(2) - 3600;
	flt.before = day(2) + 3600;
	memset(&s, 0, sizeof(s));
	assert_int_equal(mugai_audit_query(f->cfg, NULL, &flt, collect, &s,
	    NULL), MUGAI_OK);
	assert_string_equal(s.text, "mugai/message/m2;");

	/* CSV: quoted, and the formula made text. */
	struct mugai_aentry e;
	memset(&e, 0, sizeof(e));
	e.time_text = "2026-12-03T01:00:00Z";
	e.actor = "bob";
	e.action = "release";
	e.id = "m1";
	e.reason = "=HYPERLINK(\"http://x\")";
	e.json = "{}";
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_audit_csv_row(&e, &b), MUGAI_OK);
	assert_string_equal(b.data, "\"2026-12-03T01:00:00Z\",\"bob\","
	    "\"release\",\"m1\",\"'=HYPERLINK(\"\"http://x\"\")\",\"{}\"\r\n");
	mugai_buf_free(&b);
	assert_int_equal(mugai_audit_parse_time("2026-12-03T01:00:00Z"),
	    (time_t)1796259600);
	assert_int_equal(mugai_audit_parse_time("2026-12-03"), (time_t)-1);
	assert_int_equal(mugai_audit_query(f->cfg, "/nonexistent/a.jsonl",
	    NULL, collect, &s, NULL), MUGAI_ERR_NOTFOUND);
}

/* ---- statistics --------------------------------------------------------- */

static void
test_stats(void **state)
{
	static const char rep_exe[] =
	    "{\"parts\":[{\"path\":\"1.1\",\"action\":\"body\"},"
	    "{\"path\":\"1.2\",\"detected_type\":\"application/x-dosexec\","
	    "\"action\":\"removed\",\"reason\":\"policy\"}]}";
	static const char rep_fail[] =
	    "{\"parts\":[{\"path\":\"1.2\",\"detected_type\":"
	    "\"application/pdf\",\"action\":\"removed\",\"reason\":"
	    "\"convert-failed\"},{\"path\":\"1.3\",\"detected_type\":"
	    "\"application/x-dosexec\",\"action\":\"removed\",\"reason\":"
	    "\"policy\"},{\"path\":\"1.4\",\"detected_type\":\"image/png\","
	    "\"action\":\"converted\",\"reason\":\"image\"}]}";
	struct fx *f = *state;
	struct mugai_stats *s = NULL;
	struct mugai_buf b;

	/* Day 1: three messages, one held with an .exe removed. */
	msg_line(f, day(1), "a1", "deliver", 0, 0, 0, "");
	msg_line(f, day(1), "a2", "deliver", 1, 0, 1, "");
	store(f, "a2", day(1), rep_exe);
	msg_line(f, day(1), "a3", "deliver", 0, 1, 0, "");
	/* Day 2: a virus rejected, a conversion failure, a tempfail. */
	msg_line(f, day(2), "b1", "reject", 0, 0, 1, "\"Eicar-Test-Signature\"");
	msg_line(f, day(2), "b2", "deliver", 2, 1, 1, "");
	store(f, "b2", day(2), rep_fail);
	msg_line(f, day(2), "b3", "tempfail", 0, 0, 0, "");
	/* Day 9: another virus of the same name, and one other. */
	msg_line(f, day(9), "c1", "discard", 0, 0, 1,
	    "\"Eicar-Test-Signature\",\"Win.Trojan.X\"");

	assert_int_equal(mugai_stats_compute(f->cfg, f->q, 0, 0, 0, 0, &s),
	    MUGAI_OK);
	assert_int_equal(s->nrows, 3);
	assert_string_equal(s->rows[0].period, "2026-12-01");
	assert_int_equal(s->rows[0].messages, 3);
	assert_int_equal(s->rows[0].sanitised, 2);
	assert_int_equal(s->rows[0].converted, 1);
	assert_int_equal(s->rows[0].held, 1);
	assert_string_equal(s->rows[1].period, "2026-12-02");
	assert_int_equal(s->rows[1].messages, 2);
	assert_int_equal(s->rows[1].rejected, 1);
	assert_int_equal(s->rows[1].virus, 1);
	assert_int_equal(s->rows[1].conversion_failures, 1);
	assert_string_equal(s->rows[2].period, "2026-12-09");
	assert_int_equal(s->total.messages, 6);
	assert_int_equal(s->total.virus, 2);
	assert_int_equal(s->total.rejected, 2);
	assert_int_equal(s->total.held, 4);
	assert_int_equal(s->nremoved_types, 2);
	assert_string_equal(s->removed_types[0].name, "application/x-dosexec");
	assert_int_equal(s->removed_types[0].n, 2);
	assert_string_equal(s->removed_types[1].name, "application/pdf");
	assert_int_equal(s->nviruses, 2);
	assert_string_equal(s->viruses[0].name, "Eicar-Test-Signature");
	assert_int_equal(s->viruses[0].n, 2);
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_stats_csv(s, &b), MUGAI_OK);
	assert_non_null(strstr(b.data, "period,messages,sanitised,converted,"
	    "held,rejected,virus,conversion_failures\r\n"
	    "2026-12-01,3,2,1,1,0,0,0\r\n2026-12-02,2,1,1,2,1,1,1\r\n"));
	assert_non_null(strstr(b.data, "total,6,3,2,4,2,2,1\r\n"));
	assert_non_null(strstr(b.data, "\r\nvirus,count\r\n"
	    "\"Eicar-Test-Signature\",2\r\n\"Win.Trojan.X\",1\r\n"));
	mugai_buf_free(&b);
	mugai_stats_free(s);

	/* Monthly, a range, and a top of one. */
	assert_int_equal(mugai_stats_compute(f->cfg, f->q, day(2) - 7200,
	    day(3), 1, 1, &s), MUGAI_OK);
	assert_int_equal(s->nrows, 1);
	assert_string_equal(s->rows[0].period, "2026-12");
	assert_int_equal(s->rows[0].messages, 2);
	assert_int_equal(s->nremoved_types, 1);
	assert_int_equal(s->nviruses, 1);
	mugai_stats_free(s);

	/* No log and no index: zeros, not an error. */
	unlink(f->audit);
	assert_int_equal(mugai_stats_compute(f->cfg, NULL, 0, 0, 0, 0, &s),
	    MUGAI_OK);
	assert_int_equal(s->nrows, 0);
	assert_int_equal(s->total.messages, 0);
	mugai_stats_free(s);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_audit_query),
		T(test_stats),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
