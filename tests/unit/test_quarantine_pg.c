/*
 * test_quarantine_pg.c - the PostgreSQL quarantine backend without a
 * server: which quarantine_db values choose it, the configuration errors
 * it gives, and what happens while the server cannot be reached (every
 * call a temporary failure at once, the reason logged once, nothing
 * written to quarantine_dir).  Everything that needs a running server is
 * in tests/e2e/quarantine-pg.sh and postfix-pg.sh (release requests:
 * quarantine-pg.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include "../../src/quarantine/quarantine_backend.h"

struct fx {
	char	 root[PATH_MAX];
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "%s/test_qpg.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->root));
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A config with quarantine_db = db and the store under f->root. */
static struct mugai_config *
fx_config(struct fx *f, const char *db, const char *pwfile)
{
	char o1[PATH_MAX + 32], o2[PATH_MAX + 32], o3[PATH_MAX + 64];
	char o4[PATH_MAX + 64], *ov[5], err[512];
	struct mugai_config *cfg;
	size_t n = 0;

	snprintf(o1, sizeof(o1), "quarantine_dir=%s/q", f->root);
	snprintf(o2, sizeof(o2), "audit_log=%s/audit.jsonl", f->root);
	snprintf(o3, sizeof(o3), "quarantine_db=%s", db);
	ov[n++] = o1; ov[n++] = o2; ov[n++] = o3;
	if (pwfile != NULL) {
		snprintf(o4, sizeof(o4), "quarantine_db_password_file=%s",
		    pwfile);
		ov[n++] = o4;
	}
	ov[n] = NULL;
	cfg = mugai_config_load(NULL, ov, n, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("config: %s", err);
	return cfg;
}

static void
test_backend_for(void **state)
{
	(void)state;
	assert_ptr_equal(mugai_qbackend_for("postgresql://mugai@db/mugai"),
	    &mugai_qbackend_pg);
	assert_ptr_equal(mugai_qbackend_for("postgres://db/mugai"),
	    &mugai_qbackend_pg);
	assert_ptr_equal(mugai_qbackend_for("host=/run/pg dbname=mugai"),
	    &mugai_qbackend_pg);
	assert_ptr_equal(mugai_qbackend_for(""), &mugai_qbackend_sqlite);
	assert_ptr_equal(mugai_qbackend_for(NULL), &mugai_qbackend_sqlite);
	assert_ptr_equal(mugai_qbackend_for("/var/spool/q/index.sqlite"),
	    &mugai_qbackend_sqlite);
	/* A file name with '=' in it: a path, written as one. */
	assert_ptr_equal(mugai_qbackend_for("./a=b.sqlite"),
	    &mugai_qbackend_sqlite);
	assert_ptr_equal(mugai_qbackend_for("/srv/a=b.sqlite"),
	    &mugai_qbackend_sqlite);
	/* Release requests are kept by both (issue 17 with issue 18). */
	assert_non_null(mugai_qbackend_pg.request_add);
	assert_non_null(mugai_qbackend_pg.request_get);
	assert_non_null(mugai_qbackend_pg.request_list);
	assert_non_null(mugai_qbackend_pg.request_transition);
}

static void
test_bad_conninfo(void **state)
{
	struct fx *f = *state;
	struct mugai_config *cfg;
	struct mugai_quarantine *q = NULL;
	char err[1024];

	cfg = fx_config(f, "host=/nonexistent dbname", NULL);
	assert_int_equal(mugai_quarantine_open(cfg, &q, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_null(q);
	assert_non_null(strstr(err, "not a PostgreSQL connection string"));
	mugai_config_unref(cfg);
}

static void
test_password_file_missing(void **state)
{
	struct fx *f = *state;
	struct mugai_config *cfg;
	struct mugai_quarantine *q = NULL;
	char err[1024], pw[PATH_MAX + 16];

	snprintf(pw, sizeof(pw), "%s/no-such-file", f->root);
	cfg = fx_config(f, "postgresql:///mugai", pw);
	assert_int_equal(mugai_quarantine_open(cfg, &q, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_null(q);
	assert_non_null(strstr(err, pw));
	assert_non_null(strstr(err, "quarantine_db_password_file"));
	mugai_config_unref(cfg);
}

/* Lines of path that contain s. */
static int
count_lines(const char *path, const char *s)
{
	char line[4096];
	FILE *fp = fopen(path, "r");
	int n = 0;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(fp);
	return n;
}

/*
 * A socket directory with no server: open succeeds (mugai-milter
 * starts), every call is a temporary failure at once, the reason is
 * logged once for five messages (two of them trying to connect again),
 * and no file is made.
 */
static void
test_unreachable(void **state)
{
	struct fx *f = *state;
	struct mugai_config *cfg;
	struct mugai_quarantine *q = NULL;
	struct mugai_qentry e;
	struct mugai_qrecord *r = NULL;
	struct mugai_qrequest *rq = NULL;
	struct mugai_qdecision d;
	long long reqid;
	char db[PATH_MAX + 64], pw[PATH_MAX + 16], log[PATH_MAX + 16];
	char id[32], err[1024], qdir[PATH_MAX + 8];
	struct stat st;
	int fd, saved, i;

	snprintf(pw, sizeof(pw), "%s/pw", f->root);
	fd = open(pw, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	snprintf(db, sizeof(db), "host=%s port=5999 dbname=mugai user=mugai"
	    " connect_timeout=2", f->root);
	cfg = fx_config(f, db, pw);

	/* The log to a file for this test: it must say why once. */
	snprintf(log, sizeof(log), "%s/log", f->root);
	fflush(stderr);
	saved = dup(2);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	close(fd);
	mugai_log_open("test_quarantine_pg", MUGAI_LOG_STDERR, 0, LOG_DEBUG);

	assert_int_equal(mugai_quarantine_open(cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	memset(&e, 0, sizeof(e));
	e.subject = "s";
	for (i = 0; i < 5; i++) {
		/* Past the once-a-second retry: connecting fails again. */
		if (i == 3)
			usleep(1200 * 1000);
		snprintf(id, sizeof(id), "m%d", i);
		e.id = id;
		assert_int_equal(mugai_quarantine_store(q, &e, "x", 1),
		    MUGAI_ERR_LIMIT);
		assert_non_null(strstr(mugai_quarantine_error(),
		    "unavailable"));
	}
	assert_int_equal(mugai_quarantine_get(q, "m1", &r), MUGAI_ERR_LIMIT);
	assert_null(r);
	assert_int_equal(mugai_quarantine_delete(q, "m1", "t", "r"),
	    MUGAI_ERR_LIMIT);
	/* Requests too: a temporary failure, no call through NULL. */
	reqid = 9;
	assert_int_equal(mugai_quarantine_request(q, "m1", "staff@city.lg.jp",
	    "staff@city.lg.jp", "need it", &reqid), MUGAI_ERR_LIMIT);
	assert_int_equal(reqid, 0);
	assert_int_equal(mugai_quarantine_request_get(q, 1, &rq),
	    MUGAI_ERR_LIMIT);
	assert_null(rq);
	memset(&d, 0, sizeof(d));
	d.reqid = 1;
	d.actor = "admin";
	d.reason = "ok";
	assert_int_equal(mugai_quarantine_approve(q, &d), MUGAI_ERR_LIMIT);
	assert_int_equal(mugai_quarantine_refuse(q, &d), MUGAI_ERR_LIMIT);
	mugai_quarantine_close(q);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	mugai_log_open("test_quarantine_pg", MUGAI_LOG_NONE, 0, LOG_DEBUG);
	assert_int_equal(count_lines(log, "cannot be reached"), 1);
	/* The password never reaches a log line. */
	assert_int_equal(count_lines(log, "s3cret"), 0);
	snprintf(qdir, sizeof(qdir), "%s/q", f->root);
	assert_int_equal(stat(qdir, &st), -1);
	mugai_config_unref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		cmocka_unit_test(test_backend_for),
		T(test_bad_conninfo),
		T(test_password_file_missing),
		T(test_unreachable),
#undef T
	};

	mugai_log_open("test_quarantine_pg", MUGAI_LOG_NONE, 0, LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
