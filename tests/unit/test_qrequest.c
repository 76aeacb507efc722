/*
 * test_qrequest.c - requests for originals (mugai/quarantine/request.h)
 * and the release of chosen parts (qparts.c).
 *
 * sendmail_path is a shell stub that keeps each call's arguments and
 * input as call.N.argv / call.N.stdin, so a test sees the release and
 * the requester's mail separately.  The messages are built with GMime
 * the way a mail client lays them out (body, attachment, CSV).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include "../../src/quarantine/quarantine_backend.h"

struct fx {
	char	 root[64];
	char	 qdir[128];
	char	 audit[PATH_MAX];
	char	 sendmail[PATH_MAX];
	struct mugai_config *cfg;
	struct mugai_quarantine *q;
	char	*raw;			/* the test message */
};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
slurp(const char *path)
{
	struct mugai_buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	mugai_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(mugai_buf_append(&b, chunk, n), MUGAI_OK);
	fclose(fp);
	if (b.data == NULL)
		return strdup("");
	return mugai_buf_steal(&b, NULL);
}

/* call.N.argv or call.N.stdin of the Nth sendmail call, from 1. */
static char *
call_file(const struct fx *f, int n, const char *what)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/call.%d.%s", f->root, n, what);
	return slurp(path);
}

static int
ncalls(const struct fx *f)
{
	char path[PATH_MAX + 32], *s;
	int n;

	snprintf(path, sizeof(path), "%s/calls", f->root);
	if ((s = slurp(path)) == NULL)
		return 0;
	n = atoi(s);
	free(s);
	return n;
}

/* A message as mail clients send one: text, an .exe, a CSV. */
static char *
make_message(void)
{
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");
	GMimeStream *ds, *ms;
	GMimeDataWrapper *dw;
	GMimePart *att;
	GByteArray *a;
	char *raw;
	const char *names[2] = { "setup.exe", "一覧.csv" };
	const char *types[2][2] = { { "application", "octet-stream" },
	    { "text", "csv" } };
	const char *data[2] = { "MZ\x90\x01\x02binary", "a,b\n1,2\n" };
	int i;

	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "取引先",
	    "partner@example.co.jp");
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL,
	    "staff@city.lg.jp");
	g_mime_message_set_subject(m, "見積書", "utf-8");
	g_mime_text_part_set_text(tp, "見積書を添付します。\n");
	g_mime_multipart_add(mp, GMIME_OBJECT(tp));
	g_object_unref(tp);
	for (i = 0; i < 2; i++) {
		att = g_mime_part_new_with_type(types[i][0], types[i][1]);
		ds = g_mime_stream_mem_new_with_buffer(data[i],
		    strlen(data[i]));
		dw = g_mime_data_wrapper_new_with_stream(ds,
		    GMIME_CONTENT_ENCODING_DEFAULT);
		g_mime_part_set_content(att, dw);
		g_object_unref(dw);
		g_object_unref(ds);
		g_mime_part_set_content_encoding(att,
		    GMIME_CONTENT_ENCODING_BASE64);
		g_mime_part_set_filename(att, names[i]);
		g_mime_multipart_add(mp, GMIME_OBJECT(att));
		g_object_unref(att);
	}
	g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
	g_object_unref(mp);
	ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, ms);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	raw = strndup((const char *)a->data, a->len);
	g_object_unref(ms);
	g_object_unref(m);
	return raw;
}

static const char report[] =
    "{\"parts\":[{\"path\":\"1.1\",\"action\":\"body\"},"
    "{\"path\":\"1.2\",\"name\":\"setup.exe\",\"action\":\"removed\"},"
    "{\"path\":\"1.3\",\"name\":\"一覧.csv\",\"action\":\"kept\"}]}";

static void
store(struct fx *f, const char *id, const char *verdict)
{
	const char *rcpts[2] = { "staff@city.lg.jp", "boss@city.lg.jp" };
	struct mugai_qentry e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.received = time(NULL);
	e.queue_id = "";
	e.client_addr = "192.0.2.1";
	e.sender = "partner@example.co.jp";
	e.recipients = rcpts;
	e.nrecipients = 2;
	e.subject = "見積書";
	e.size = strlen(f->raw);
	e.verdict = verdict;
	e.reasons = "";
	e.report_json = report;
	e.notice = "";
	assert_int_equal(mugai_quarantine_store(f->q, &e, f->raw,
	    strlen(f->raw)), MUGAI_OK);
}

static int
fx_setup(void **state)
{
	static const char stub[] =
	    "#!/bin/sh\n"
	    "d=$(dirname \"$0\")\n"
	    "n=$(( $(cat \"$d/calls\" 2>/dev/null || echo 0) + 1 ))\n"
	    "echo $n > \"$d/calls\"\n"
	    "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$d/call.$n.argv\"\n"
	    "cat > \"$d/call.$n.stdin\"\n"
	    "exit $(cat \"$d/sendmail.exit\" 2>/dev/null || echo 0)\n";
	char o1[PATH_MAX + 32], o2[PATH_MAX + 32], o3[PATH_MAX + 32];
	char *ov[4], err[512], o4[] = "admin_contact=postmaster@city.lg.jp";
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/mugai-qrtest.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->qdir, sizeof(f->qdir), "%s/q", f->root);
	snprintf(f->audit, sizeof(f->audit), "%s/audit.jsonl", f->root);
	snprintf(f->sendmail, sizeof(f->sendmail), "%s/sendmail", f->root);
	write_file(f->sendmail, stub, 0755);
	snprintf(o1, sizeof(o1), "quarantine_dir=%s", f->qdir);
	snprintf(o2, sizeof(o2), "audit_log=%s", f->audit);
	snprintf(o3, sizeof(o3), "sendmail_path=%s", f->sendmail);
	ov[0] = o1; ov[1] = o2; ov[2] = o3; ov[3] = o4;
	if ((f->cfg = mugai_config_load(NULL, ov, 4, err, sizeof(err))) ==
	    NULL)
		fail_msg("config: %s", err);
	if (mugai_quarantine_open(f->cfg, &f->q, err, sizeof(err)) != MUGAI_OK)
		fail_msg("open: %s", err);
	f->raw = make_message();
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
	free(f->raw);
	free(f);
	return 0;
}

static struct mugai_qrequest *
req_get(struct fx *f, long long reqid)
{
	struct mugai_qrequest *r = NULL;

	assert_int_equal(mugai_quarantine_request_get(f->q, reqid, &r),
	    MUGAI_OK);
	return r;
}

static int
count_req(const struct mugai_qrequest *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

/* ---- request, list, approve ---------------------------------------------- */

static void
test_request_approve(void **state)
{
	struct fx *f = *state;
	struct mugai_qrfilter flt;
	struct mugai_qdecision d;
	struct mugai_qrequest *r;
	struct mugai_qrecord *m;
	long long reqid = 0, other = 0;
	char *s;
	int n = 0;

	store(f, "msg1", "sanitised");
	assert_int_equal(mugai_quarantine_request(f->q, "msg1",
	    "staff@city.lg.jp", "staff@city.lg.jp", "原本が必要", &reqid),
	    MUGAI_OK);
	assert_true(reqid > 0);
	/* The same requester again, while pending: refused. */
	assert_int_equal(mugai_quarantine_request(f->q, "msg1",
	    "staff@city.lg.jp", "staff@city.lg.jp", "again", &other),
	    MUGAI_ERR_STATE);
	assert_int_equal(other, 0);
	/* Another requester may ask too. */
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "boss",
	    "boss@city.lg.jp", "me too", &other), MUGAI_OK);
	memset(&flt, 0, sizeof(flt));
	flt.state = "pending";
	assert_int_equal(mugai_quarantine_requests(f->q, &flt, count_req, &n),
	    MUGAI_OK);
	assert_int_equal(n, 2);

	memset(&d, 0, sizeof(d));
	d.reqid = reqid;
	d.actor = "admin";
	d.reason = "確認済み";
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_OK);
	r = req_get(f, reqid);
	assert_string_equal(r->state, "approved");
	assert_string_equal(r->decider, "admin");
	assert_string_equal(r->decision, "確認済み");
	assert_string_equal(r->release_to, "staff@city.lg.jp,boss@city.lg.jp");
	assert_true(r->decided > 0);
	mugai_qrequest_free(r);
	m = NULL;
	assert_int_equal(mugai_quarantine_get(f->q, "msg1", &m), MUGAI_OK);
	assert_string_equal(m->status, "released");
	mugai_qrecord_free(m);

	/* Call 1: the original, to both recipients, byte for byte. */
	assert_int_equal(ncalls(f), 2);
	s = call_file(f, 1, "argv");
	assert_string_equal(s, "-i\n-f\npartner@example.co.jp\n--\n"
	    "staff@city.lg.jp\nboss@city.lg.jp\n");
	free(s);
	s = call_file(f, 1, "stdin");
	assert_string_equal(s, f->raw);
	free(s);
	/* Call 2: the requester's mail. */
	s = call_file(f, 2, "argv");
	assert_string_equal(s, "-i\n-f\npostmaster@city.lg.jp\n--\n"
	    "staff@city.lg.jp\n");
	free(s);
	s = call_file(f, 2, "stdin");
	assert_non_null(strstr(s, "To: staff@city.lg.jp"));
	assert_non_null(strstr(s, "X-Mugai-Id: msg1"));
	assert_non_null(strstr(s, "Auto-Submitted: auto-generated"));
	assert_non_null(strstr(s, "was approved"));
	assert_non_null(strstr(s, "承認されました"));
	assert_non_null(strstr(s, "判断理由 / Reason: 確認済み"));
	assert_non_null(strstr(s, "送付先 / Sent to: staff@city.lg.jp,"
	    "boss@city.lg.jp"));
	free(s);

	/* Decided: neither approved again nor refused. */
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_ERR_STATE);
	assert_non_null(strstr(mugai_quarantine_error(), "approved already"));
	assert_int_equal(mugai_quarantine_refuse(f->q, &d), MUGAI_ERR_STATE);
	assert_int_equal(ncalls(f), 2);
	s = slurp(f->audit);
	assert_non_null(strstr(s, "\"actor\":\"staff@city.lg.jp\",\"action\":"
	    "\"request\",\"id\":\"msg1\",\"reason\":\"原本が必要\""));
	assert_non_null(strstr(s, "\"actor\":\"admin\",\"action\":\"approve\","
	    "\"id\":\"msg1\",\"reason\":\"確認済み\""));
	free(s);
}

static void
test_request_usage(void **state)
{
	struct fx *f = *state;
	struct mugai_qdecision d;
	long long reqid = 0;

	store(f, "msg1", "sanitised");
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "staff",
	    "staff@city.lg.jp", "", &reqid), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "",
	    "staff@city.lg.jp", "r", &reqid), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "staff",
	    "-oQ/tmp", "r", &reqid), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_quarantine_request(f->q, "nosuch", "staff",
	    "staff@city.lg.jp", "r", &reqid), MUGAI_ERR_NOTFOUND);
	memset(&d, 0, sizeof(d));
	d.reqid = 999;
	d.actor = "admin";
	d.reason = "r";
	assert_int_equal(mugai_quarantine_approve(f->q, &d),
	    MUGAI_ERR_NOTFOUND);
	d.reason = "";
	assert_int_equal(mugai_quarantine_refuse(f->q, &d), MUGAI_ERR_USAGE);
	assert_int_equal(ncalls(f), 0);
}

/* ---- refuse, a deleted message, a failed release --------------------------- */

static void
test_refuse(void **state)
{
	struct fx *f = *state;
	struct mugai_qdecision d;
	struct mugai_qrequest *r;
	struct mugai_qrecord *m = NULL;
	long long reqid = 0;
	char *s;

	store(f, "msg1", "sanitised");
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "tanaka",
	    "tanaka@city.lg.jp", "念のため", &reqid), MUGAI_OK);
	memset(&d, 0, sizeof(d));
	d.reqid = reqid;
	d.actor = "admin";
	d.reason = "実行ファイルは渡せません";
	assert_int_equal(mugai_quarantine_refuse(f->q, &d), MUGAI_OK);
	r = req_get(f, reqid);
	assert_string_equal(r->state, "refused");
	assert_string_equal(r->decider, "admin");
	mugai_qrequest_free(r);
	assert_int_equal(mugai_quarantine_get(f->q, "msg1", &m), MUGAI_OK);
	assert_string_equal(m->status, "held");
	mugai_qrecord_free(m);
	assert_int_equal(ncalls(f), 1);
	s = call_file(f, 1, "stdin");
	assert_non_null(strstr(s, "To: tanaka@city.lg.jp"));
	assert_non_null(strstr(s, "was refused"));
	assert_non_null(strstr(s, "却下されました"));
	assert_non_null(strstr(s, "実行ファイルは渡せません"));
	assert_null(strstr(s, "Sent to"));
	free(s);
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_ERR_STATE);
	assert_int_equal(mugai_quarantine_refuse(f->q, &d), MUGAI_ERR_STATE);
}

static void
test_approve_deleted(void **state)
{
	struct fx *f = *state;
	struct mugai_qdecision d;
	struct mugai_qrequest *r;
	long long reqid = 0, other = 0;

	store(f, "msg1", "sanitised");
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "staff",
	    "staff@city.lg.jp", "r", &reqid), MUGAI_OK);
	assert_int_equal(mugai_quarantine_delete(f->q, "msg1", "admin",
	    "retention"), MUGAI_OK);
	memset(&d, 0, sizeof(d));
	d.reqid = reqid;
	d.actor = "admin";
	d.reason = "ok";
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_ERR_STATE);
	assert_non_null(strstr(mugai_quarantine_error(), "was deleted"));
	r = req_get(f, reqid);
	assert_string_equal(r->state, "pending");
	mugai_qrequest_free(r);
	assert_int_equal(ncalls(f), 0);
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "boss",
	    "boss@city.lg.jp", "r", &other), MUGAI_ERR_STATE);
	/* It can still be refused, and the requester is told. */
	assert_int_equal(mugai_quarantine_refuse(f->q, &d), MUGAI_OK);
	assert_int_equal(ncalls(f), 1);
}

static void
test_approve_release_fails(void **state)
{
	struct fx *f = *state;
	struct mugai_qdecision d;
	struct mugai_qrequest *r;
	struct mugai_qrecord *m = NULL;
	char path[PATH_MAX + 32];
	long long reqid = 0;

	store(f, "msg1", "sanitised");
	store(f, "bad1", "virus");
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "staff",
	    "staff@city.lg.jp", "r", &reqid), MUGAI_OK);
	snprintf(path, sizeof(path), "%s/sendmail.exit", f->root);
	write_file(path, "75", 0600);
	memset(&d, 0, sizeof(d));
	d.reqid = reqid;
	d.actor = "admin";
	d.reason = "ok";
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_ERR_IO);
	assert_non_null(strstr(mugai_quarantine_error(), "not approved"));
	r = req_get(f, reqid);
	assert_string_equal(r->state, "pending");
	assert_string_equal(r->decider, "");
	mugai_qrequest_free(r);
	assert_int_equal(mugai_quarantine_get(f->q, "msg1", &m), MUGAI_OK);
	assert_string_equal(m->status, "held");
	mugai_qrecord_free(m);
	/* Retried once sendmail works. */
	unlink(path);
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_OK);

	/* A virus needs force, and nothing is claimed without it. */
	assert_int_equal(mugai_quarantine_request(f->q, "bad1", "staff",
	    "staff@city.lg.jp", "r", &reqid), MUGAI_OK);
	d.reqid = reqid;
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_ERR_USAGE);
	r = req_get(f, reqid);
	assert_string_equal(r->state, "pending");
	mugai_qrequest_free(r);
	d.force = 1;
	d.to = "security@city.lg.jp";
	assert_int_equal(mugai_quarantine_approve(f->q, &d), MUGAI_OK);
	r = req_get(f, reqid);
	assert_string_equal(r->release_to, "security@city.lg.jp");
	mugai_qrequest_free(r);
}

/* ---- two admins at once ----------------------------------------------------- */

struct racer {
	struct fx *f;
	long long reqid;
	const char *who;
	pthread_barrier_t *go;
	mugai_status rc;
};

static void *
race_approve(void *arg)
{
	struct racer *r = arg;
	struct mugai_quarantine *q = NULL;
	struct mugai_qdecision d;
	char err[512];

	/* Its own handle: its own connection, as another process has. */
	if (mugai_quarantine_open(r->f->cfg, &q, err, sizeof(err)) !=
	    MUGAI_OK) {
		r->rc = MUGAI_ERR_INTERNAL;
		pthread_barrier_wait(r->go);
		return NULL;
	}
	memset(&d, 0, sizeof(d));
	d.reqid = r->reqid;
	d.actor = r->who;
	d.reason = r->who;
	pthread_barrier_wait(r->go);
	r->rc = mugai_quarantine_approve(q, &d);
	mugai_quarantine_close(q);
	return NULL;
}

static void
test_approve_race(void **state)
{
	struct fx *f = *state;
	struct racer rs[2];
	pthread_barrier_t go;
	pthread_t t[2];
	struct mugai_qrequest *r;
	char id[16];
	int round, i, wins;

	for (round = 0; round < 5; round++) {
		snprintf(id, sizeof(id), "race%d", round);
		store(f, id, "sanitised");
		pthread_barrier_init(&go, NULL, 2);
		for (i = 0; i < 2; i++) {
			rs[i].f = f;
			rs[i].who = i == 0 ? "alice" : "bob";
			rs[i].go = &go;
		}
		assert_int_equal(mugai_quarantine_request(f->q, id, "staff",
		    "staff@city.lg.jp", "r", &rs[0].reqid), MUGAI_OK);
		rs[1].reqid = rs[0].reqid;
		for (i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL,
			    race_approve, &rs[i]), 0);
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		wins = 0;
		for (i = 0; i < 2; i++) {
			if (rs[i].rc == MUGAI_OK)
				wins++;
			else
				assert_int_equal(rs[i].rc, MUGAI_ERR_STATE);
		}
		assert_int_equal(wins, 1);
		r = req_get(f, rs[0].reqid);
		assert_string_equal(r->state, "approved");
		assert_string_equal(r->decider, rs[0].rc == MUGAI_OK ?
		    "alice" : "bob");
		mugai_qrequest_free(r);
	}
	/* One release and one mail per round. */
	assert_int_equal(ncalls(f), 10);
}

/* ---- chosen parts ----------------------------------------------------------- */

static void
test_parts_message(void **state)
{
	struct fx *f = *state;
	const char *keep[2] = { "1.1", "1.3" }, *bad[1] = { "2.1" };
	const char *none[1] = { "1.7" };
	struct mugai_buf out;
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *m;
	GMimeMultipart *mp;
	GMimeObject *o;
	char *text;

	mugai_buf_init(&out, 1024 * 1024);
	assert_int_equal(mugai_qparts_message(f->raw, strlen(f->raw), keep, 2,
	    "msg1", &out), MUGAI_OK);
	st = g_mime_stream_mem_new_with_buffer(out.data, out.len);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m),
	    "X-Mugai-Released-Parts"), "1.1,1.3");
	assert_string_equal(g_mime_message_get_subject(m), "見積書");
	mp = GMIME_MULTIPART(g_mime_message_get_mime_part(m));
	assert_int_equal(g_mime_multipart_get_count(mp), 3);
	o = g_mime_multipart_get_part(mp, 1);
	assert_string_equal(g_mime_object_get_header(o,
	    "X-Mugai-Omitted-Part"), "1.2");
	text = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
	assert_non_null(strstr(text, "setup.exe"));
	assert_non_null(strstr(text, "was not released"));
	g_free(text);
	o = g_mime_multipart_get_part(mp, 2);
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(o)),
	    "一覧.csv");
	assert_null(g_mime_object_get_header(o, "X-Mugai-Omitted-Part"));
	assert_null(strstr(out.data, "TVqQ"));	/* the .exe, base64 */
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);

	assert_int_equal(mugai_qparts_message(f->raw, strlen(f->raw), bad, 1,
	    "msg1", &out), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_qparts_message(f->raw, strlen(f->raw), none, 1,
	    "msg1", &out), MUGAI_ERR_NOTFOUND);
	mugai_buf_free(&out);
}

/* Release with --parts by report number, through the public call. */
static void
test_release_parts(void **state)
{
	struct fx *f = *state;
	struct mugai_qrelease req;
	char *s;

	store(f, "msg1", "sanitised");
	memset(&req, 0, sizeof(req));
	req.id = "msg1";
	req.to = "clerk@city.lg.jp";
	req.reason = "CSVのみ";
	req.actor = "admin";
	req.parts = "3";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_OK);
	s = call_file(f, 1, "stdin");
	assert_non_null(strstr(s, "X-Mugai-Released-Parts: 1.3"));
	assert_non_null(strstr(s, "X-Mugai-Omitted-Part: 1.1"));
	assert_non_null(strstr(s, "X-Mugai-Omitted-Part: 1.2"));
	free(s);
	req.parts = "4";
	assert_int_equal(mugai_quarantine_release(f->q, &req),
	    MUGAI_ERR_NOTFOUND);
	req.parts = "x";
	assert_int_equal(mugai_quarantine_release(f->q, &req),
	    MUGAI_ERR_USAGE);
	req.parts = "3";
	req.part = "1.3";
	assert_int_equal(mugai_quarantine_release(f->q, &req),
	    MUGAI_ERR_USAGE);
}

/* ---- a backend without requests ------------------------------------------ */

static int
no_req(const struct mugai_qrequest *r, void *arg)
{
	(void)r;
	(void)arg;
	fail_msg("a backend without requests listed one");
	return 1;
}

/*
 * The SQLite backend with the four request functions left NULL, as a
 * backend written before them would be: every request call gets a
 * clear error instead of a call through NULL, and the message stays as
 * it was.
 */
static void
test_backend_without_requests(void **state)
{
	struct fx *f = *state;
	struct mugai_qbackend stub = mugai_qbackend_sqlite;
	struct mugai_quarantine *q = NULL;
	struct mugai_qrequest *r = NULL;
	struct mugai_qrecord *m = NULL;
	struct mugai_qdecision d;
	long long reqid = 7;
	char err[512];

	stub.name = "stub";
	stub.request_add = NULL;
	stub.request_get = NULL;
	stub.request_list = NULL;
	stub.request_transition = NULL;
	store(f, "m-stub", "sanitized");
	mugai_quarantine_set_backend(&stub);
	if (mugai_quarantine_open(f->cfg, &q, err, sizeof(err)) != MUGAI_OK) {
		mugai_quarantine_set_backend(NULL);
		fail_msg("open: %s", err);
	}
	mugai_quarantine_set_backend(NULL);
	assert_int_equal(mugai_quarantine_request(q, "m-stub",
	    "staff@city.lg.jp", "staff@city.lg.jp", "need it", &reqid),
	    MUGAI_ERR_CONFIG);
	assert_int_equal(reqid, 0);
	assert_non_null(strstr(mugai_quarantine_error(), "release requests"
	    " are not available with this quarantine backend (stub)"));
	assert_int_equal(mugai_quarantine_request_get(q, 1, &r),
	    MUGAI_ERR_CONFIG);
	assert_null(r);
	assert_int_equal(mugai_quarantine_requests(q, NULL, no_req, NULL),
	    MUGAI_ERR_CONFIG);
	memset(&d, 0, sizeof(d));
	d.reqid = 1;
	d.actor = "admin";
	d.reason = "ok";
	assert_int_equal(mugai_quarantine_approve(q, &d), MUGAI_ERR_CONFIG);
	assert_int_equal(mugai_quarantine_refuse(q, &d), MUGAI_ERR_CONFIG);
	assert_non_null(strstr(mugai_quarantine_error(), "not available"));
	/* Nothing was released: no sendmail call, still held. */
	assert_int_equal(mugai_quarantine_get(q, "m-stub", &m), MUGAI_OK);
	assert_string_equal(m->status, "held");
	mugai_qrecord_free(m);
	assert_int_equal(ncalls(f), 0);
	mugai_quarantine_close(q);
}

/* fn of mugai_quarantine_copy: the lines, one after another. */
static void
copy_line(const char *line, void *arg)
{
	struct mugai_buf *b = arg;

	assert_int_equal(mugai_buf_append(b, line, strlen(line)), MUGAI_OK);
	assert_int_equal(mugai_buf_append(b, "\n", 1), MUGAI_OK);
}

/*
 * "mugai quarantine copy" carries the release requests over, every
 * field as it was: under their own numbers where the destination has
 * not used them, else under new ones it names; a second run adds none;
 * a copied pending request can be decided there, and a new request
 * there gets a number above them all.
 */
static void
test_copy_requests(void **state)
{
	struct fx *f = *state;
	char o1[PATH_MAX + 32], o2[PATH_MAX + 32], o3[PATH_MAX + 32];
	char *ov[3], err[512], src[PATH_MAX], dqdir[PATH_MAX];
	struct mugai_quarantine *src_q, *dq;
	struct mugai_config *dcfg;
	struct mugai_qrequest *a, *b, *r;
	struct mugai_qdecision d;
	struct mugai_buf lines;
	long long r1 = 0, r2 = 0, r3 = 0, r4 = 0;
	size_t copied, skipped;
	int n = 0;

	/* The source: two requests, the second refused. */
	store(f, "msg1", "sanitised");
	store(f, "msg2", "sanitised");
	assert_int_equal(mugai_quarantine_request(f->q, "msg1", "tanaka",
	    "tanaka@city.lg.jp", "契約書の原本が必要", &r1), MUGAI_OK);
	assert_int_equal(mugai_quarantine_request(f->q, "msg2", "suzuki",
	    "suzuki@city.lg.jp", "念のため", &r2), MUGAI_OK);
	assert_int_equal(r2, r1 + 1);
	memset(&d, 0, sizeof(d));
	d.reqid = r2;
	d.actor = "admin";
	d.reason = "実行ファイルは渡せません";
	assert_int_equal(mugai_quarantine_refuse(f->q, &d), MUGAI_OK);

	/* The destination has a request of its own, numbered as r1. */
	snprintf(dqdir, sizeof(dqdir), "%s/dst", f->root);
	snprintf(o1, sizeof(o1), "quarantine_dir=%s", dqdir);
	snprintf(o2, sizeof(o2), "audit_log=%s/dst-audit.jsonl", f->root);
	snprintf(o3, sizeof(o3), "sendmail_path=%s", f->sendmail);
	ov[0] = o1; ov[1] = o2; ov[2] = o3;
	if ((dcfg = mugai_config_load(NULL, ov, 3, err, sizeof(err))) == NULL)
		fail_msg("config: %s", err);
	if (mugai_quarantine_open(dcfg, &dq, err, sizeof(err)) != MUGAI_OK)
		fail_msg("open: %s", err);
	src_q = f->q;
	f->q = dq;
	store(f, "msg3", "sanitised");
	f->q = src_q;
	assert_int_equal(mugai_quarantine_request(dq, "msg3", "sato",
	    "sato@city.lg.jp", "自分の分", &r3), MUGAI_OK);
	assert_int_equal(r3, r1);

	snprintf(src, sizeof(src), "%s/index.sqlite", f->qdir);
	mugai_buf_init(&lines, 0);
	assert_int_equal(mugai_quarantine_copy(dq, src, f->qdir, copy_line,
	    &lines, &copied, &skipped), MUGAI_OK);
	assert_int_equal(copied, 2);
	assert_non_null(lines.data);
	/* r2 kept its number; r1, taken there, got the next one. */
	assert_non_null(strstr(lines.data, "2 release requests copied, 0"
	    " already there"));
	snprintf(err, sizeof(err), "request %lld (tanaka for msg1) is request"
	    " %lld in the destination", r1, r2 + 1);
	assert_non_null(strstr(lines.data, err));
	f->q = dq;
	b = req_get(f, r2);
	a = req_get(f, r2 + 1);
	f->q = src_q;
	assert_string_equal(b->id, "msg2");
	assert_string_equal(b->state, "refused");
	assert_string_equal(b->decider, "admin");
	assert_string_equal(b->decision, "実行ファイルは渡せません");
	assert_string_equal(b->notify, "suzuki@city.lg.jp");
	assert_true(b->decided > 0);
	assert_string_equal(a->id, "msg1");
	assert_string_equal(a->state, "pending");
	assert_string_equal(a->requester, "tanaka");
	assert_string_equal(a->reason, "契約書の原本が必要");
	r = req_get(f, r1);
	assert_int_equal(a->requested, r->requested);
	mugai_qrequest_free(r);
	r = req_get(f, r2);
	assert_int_equal(b->requested, r->requested);
	assert_int_equal(b->decided, r->decided);
	mugai_qrequest_free(r);

	/* Again: nothing new. */
	mugai_buf_reset(&lines);
	assert_int_equal(mugai_quarantine_copy(dq, src, f->qdir, copy_line,
	    &lines, &copied, &skipped), MUGAI_OK);
	assert_int_equal(skipped, 2);
	assert_non_null(strstr(lines.data, "0 release requests copied, 2"
	    " already there"));
	assert_int_equal(mugai_quarantine_requests(dq, NULL, count_req, &n),
	    MUGAI_OK);
	assert_int_equal(n, 3);

	/* Decided there, and a new one numbered above all of them. */
	d.reqid = a->reqid;
	d.reason = "不要";
	assert_int_equal(mugai_quarantine_refuse(dq, &d), MUGAI_OK);
	assert_int_equal(mugai_quarantine_request(dq, "msg1", "tanaka",
	    "tanaka@city.lg.jp", "もう一度", &r4), MUGAI_OK);
	assert_int_equal(r4, r2 + 2);

	mugai_qrequest_free(a);
	mugai_qrequest_free(b);
	mugai_buf_free(&lines);
	mugai_quarantine_close(dq);
	mugai_config_unref(dcfg);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_request_approve),
		T(test_request_usage),
		T(test_refuse),
		T(test_approve_deleted),
		T(test_approve_release_fails),
		T(test_approve_race),
		T(test_parts_message),
		T(test_release_parts),
		T(test_backend_without_requests),
		T(test_copy_requests),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
