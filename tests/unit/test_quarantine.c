/* test_quarantine.c - the store of originals, its index and the audit log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <sqlite3.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/text/charset.h"
#include "mugai/quarantine/quarantine.h"
#include "../../src/quarantine/quarantine_backend.h"

#define NTHREADS	8
#define NPERTHREAD	50

struct fx {
	char	 root[64];
	char	 qdir[128];
	char	 audit[PATH_MAX];
	char	 db[PATH_MAX];
	char	 sendmail[PATH_MAX];
	struct mugai_config *cfg;
	struct mugai_quarantine *q;
};

/* ---- helpers ------------------------------------------------------------ */

static struct mugai_config *
fx_config(struct fx *f, const char *sendmail, unsigned timeout)
{
	char o1[PATH_MAX + 32], o2[PATH_MAX + 32], o3[PATH_MAX + 32], o4[64];
	char o5[PATH_MAX + 32], *ov[5], err[512];
	struct mugai_config *cfg;

	snprintf(o1, sizeof(o1), "quarantine_dir=%s", f->qdir);
	snprintf(o2, sizeof(o2), "audit_log=%s", f->audit);
	snprintf(o3, sizeof(o3), "sendmail_path=%s", sendmail);
	snprintf(o4, sizeof(o4), "quarantine_busy_timeout=%u", timeout);
	/* rebuild-index looks for a running milter there. */
	snprintf(o5, sizeof(o5), "pid_file=%s/milter.pid", f->root);
	ov[0] = o1; ov[1] = o2; ov[2] = o3; ov[3] = o4; ov[4] = o5;
	cfg = mugai_config_load(NULL, ov, 5, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("config: %s", err);
	return cfg;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Whole file, NUL terminated; NULL when it does not exist. */
static char *
slurp(const char *path, size_t *lenp)
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
	return mugai_buf_steal(&b, lenp);
}

static int
fx_setup(void **state)
{
	static const char stub[] =
	    "#!/bin/sh\n"
	    "d=$(dirname \"$0\")\n"
	    ": > \"$d/argv\"\n"
	    "for a in \"$@\"; do printf '%s\\n' \"$a\" >> \"$d/argv\"; done\n"
	    "cat > \"$d/stdin\"\n"
	    "exit $(cat \"$d/sendmail.exit\" 2>/dev/null || echo 0)\n";
	struct fx *f = calloc(1, sizeof(*f));
	char err[512];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/mugai-qtest.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->qdir, sizeof(f->qdir), "%s/spool/q", f->root);
	snprintf(f->audit, sizeof(f->audit), "%s/log/audit.jsonl", f->root);
	snprintf(f->db, sizeof(f->db), "%s/index.sqlite", f->qdir);
	snprintf(f->sendmail, sizeof(f->sendmail), "%s/sendmail", f->root);
	write_file(f->sendmail, stub, 0755);
	f->cfg = fx_config(f, f->sendmail, 1);
	if (mugai_quarantine_open(f->cfg, &f->q, err, sizeof(err)) != MUGAI_OK)
		fail_msg("open: %s", err);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	mugai_quarantine_set_fault(NULL);
	mugai_quarantine_close(f->q);
	mugai_config_unref(f->cfg);
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
sha256_hex(const void *p, size_t len, char hex[65])
{
	gchar *s = g_compute_checksum_for_data(G_CHECKSUM_SHA256, p, len);

	snprintf(hex, 65, "%s", s);
	g_free(s);
}

static mugai_status
store(struct mugai_quarantine *q, const char *id, const char *sender,
    const char *rcpt1, const char *rcpt2, const char *verdict,
    time_t received, const char *raw)
{
	const char *rcpts[2] = { rcpt1, rcpt2 };
	struct mugai_qentry e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.received = received;
	e.queue_id = "4Q1x2y";
	e.client_addr = "192.0.2.1";
	e.sender = sender;
	e.recipients = rcpts;
	e.nrecipients = rcpt2 != NULL ? 2 : 1;
	e.subject = "件名 subject";
	e.size = strlen(raw);
	e.verdict = verdict;
	e.reasons = "";
	e.report_json = "{}";
	e.notice = "notice text";
	return mugai_quarantine_store(q, &e, raw, strlen(raw));
}

/* Number of files in the fan-out directories (temporary ones too). */
static size_t
count_store_files(const struct fx *f)
{
	char path[PATH_MAX * 2];
	struct dirent *de, *fe;
	DIR *d, *fd;
	size_t n = 0;

	assert_non_null(d = opendir(f->qdir));
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->qdir, de->d_name);
		assert_non_null(fd = opendir(path));
		while ((fe = readdir(fd)) != NULL)
			if (strcmp(fe->d_name, ".") != 0 &&
			    strcmp(fe->d_name, "..") != 0)
				n++;
		closedir(fd);
	}
	closedir(d);
	return n;
}

struct problems {
	size_t	 n;
	enum mugai_qproblem_kind kind[16];
	char	 id[16][80];
	char	 path[16][PATH_MAX];
};

static void
collect_problem(const struct mugai_qproblem *p, void *arg)
{
	struct problems *ps = arg;

	if (ps->n < 16) {
		ps->kind[ps->n] = p->kind;
		snprintf(ps->id[ps->n], sizeof(ps->id[0]), "%s",
		    p->id != NULL ? p->id : "");
		snprintf(ps->path[ps->n], sizeof(ps->path[0]), "%s", p->path);
	}
	ps->n++;
}

static size_t
verify(struct fx *f, unsigned grace, struct problems *ps)
{
	size_t n = 99;

	memset(ps, 0, sizeof(*ps));
	assert_int_equal(mugai_quarantine_verify(f->q, grace, collect_problem,
	    ps, &n), MUGAI_OK);
	assert_int_equal(n, ps->n);
	return n;
}

static struct mugai_qrecord *
get(struct fx *f, const char *id)
{
	struct mugai_qrecord *r = NULL;

	assert_int_equal(mugai_quarantine_get(f->q, id, &r), MUGAI_OK);
	assert_non_null(r);
	return r;
}

/* Last line of the audit log. */
static char *
audit_last(const struct fx *f)
{
	char *all, *nl, *last;
	size_t len;

	assert_non_null(all = slurp(f->audit, &len));
	assert_true(len > 0 && all[len - 1] == '\n');
	all[len - 1] = '\0';
	nl = strrchr(all, '\n');
	last = strdup(nl != NULL ? nl + 1 : all);
	free(all);
	return last;
}

/* ---- concurrent store --------------------------------------------------- */

struct worker {
	struct mugai_quarantine *q;
	int	 t;
	mugai_status rc[NPERTHREAD];
};

/* Message t/i: headers, CRLF lines, every byte value, varying size. */
static char *
make_message(int t, int i, size_t *lenp)
{
	struct mugai_buf b;
	size_t k, extra = (size_t)((t * NPERTHREAD + i) * 37 % 5000);

	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_buf_printf(&b, "From: <s%d@example.jp>\r\n"
	    "Subject: message %d/%d\r\n\r\nbody\r\n", t, t, i), MUGAI_OK);
	for (k = 0; k < 256 + extra; k++)
		assert_int_equal(mugai_buf_putc(&b, (char)((k * 7 + (size_t)i) &
		    0xff)), MUGAI_OK);
	return mugai_buf_steal(&b, lenp);
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct mugai_qentry e;
	char id[32], sender[64], rcpt[64], hex[65], *raw;
	const char *rcpts[1];
	size_t len;
	int i;

	for (i = 0; i < NPERTHREAD; i++) {
		raw = make_message(w->t, i, &len);
		snprintf(id, sizeof(id), "m%d-%d", w->t, i);
		snprintf(sender, sizeof(sender), "s%d@example.jp", w->t);
		snprintf(rcpt, sizeof(rcpt), "r%d@lg.example", i);
		rcpts[0] = rcpt;
		memset(&e, 0, sizeof(e));
		e.id = id;
		e.received = 1700000000 + i;
		e.sender = sender;
		e.recipients = rcpts;
		e.nrecipients = 1;
		e.size = len;
		e.verdict = "sanitised";
		/* Half give their checksum, half let the store compute it. */
		if (i % 2 == 0) {
			sha256_hex(raw, len, hex);
			e.sha256 = hex;
		}
		w->rc[i] = mugai_quarantine_store(w->q, &e, raw, len);
		free(raw);
	}
	return NULL;
}

static int
count_one(const struct mugai_qrecord *r, void *arg)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

/*
 * Another process (the admin CLI, a second milter) stores through its
 * own connection at the same time: thread NTHREADS's messages.
 */
static pid_t
other_process(struct fx *f)
{
	struct mugai_quarantine *q;
	struct mugai_config *cfg;
	struct worker w;
	char err[512];
	pid_t pid;
	int i;

	pid = fork();
	assert_true(pid != -1);
	if (pid != 0)
		return pid;
	cfg = fx_config(f, f->sendmail, 60);
	if (mugai_quarantine_open(cfg, &q, err, sizeof(err)) != MUGAI_OK)
		_exit(2);
	w.q = q;
	w.t = NTHREADS;
	worker_run(&w);
	for (i = 0; i < NPERTHREAD; i++)
		if (w.rc[i] != MUGAI_OK)
			_exit(3);
	mugai_quarantine_close(q);
	mugai_config_unref(cfg);
	_exit(0);
}

static void
test_store_concurrent(void **state)
{
	struct fx *f = *state;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct mugai_quarantine *q;
	struct mugai_config *cfg;
	char err[512];
	pid_t pid;
	int wst;
	struct mugai_qrecord *r;
	struct mugai_buf out;
	struct problems ps;
	struct stat st;
	char id[32], want[64], hex[65], *raw, fan[PATH_MAX];
	size_t len, n = 0;
	int t, i;

	/* Contention is the point here: wait as long as it takes. */
	cfg = fx_config(f, f->sendmail, 60);
	assert_int_equal(mugai_quarantine_open(cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	pid = other_process(f);
	for (t = 0; t < NTHREADS; t++) {
		w[t].q = q;
		w[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, worker_run, &w[t]),
		    0);
	}
	for (t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	mugai_quarantine_close(q);
	mugai_config_unref(cfg);
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFEXITED(wst));
	assert_int_equal(WEXITSTATUS(wst), 0);

	mugai_buf_init(&out, 0);
	for (t = 0; t <= NTHREADS; t++) {
		for (i = 0; i < NPERTHREAD; i++) {
			if (t < NTHREADS)
				assert_int_equal(w[t].rc[i], MUGAI_OK);
			snprintf(id, sizeof(id), "m%d-%d", t, i);
			raw = make_message(t, i, &len);
			r = get(f, id);
			sha256_hex(raw, len, hex);
			assert_string_equal(r->sha256, hex);
			assert_int_equal(r->size, len);
			assert_string_equal(r->status, "held");
			snprintf(want, sizeof(want), "s%d@example.jp", t);
			assert_string_equal(r->sender, want);
			assert_int_equal(r->nrecipients, 1);
			snprintf(want, sizeof(want), "r%d@lg.example", i);
			assert_string_equal(r->recipients[0], want);
			assert_int_equal(r->received, 1700000000 + i);
			assert_int_equal(mugai_quarantine_read(f->q, r, &out),
			    MUGAI_OK);
			assert_int_equal(out.len, len);
			assert_memory_equal(out.data, raw, len);
			assert_int_equal(stat(r->path, &st), 0);
			assert_int_equal(st.st_mode & 07777, 0600);
			snprintf(fan, sizeof(fan), "%s", r->path);
			*strrchr(fan, '/') = '\0';
			assert_int_equal(stat(fan, &st), 0);
			assert_int_equal(st.st_mode & 07777, 0700);
			mugai_qrecord_free(r);
			free(raw);
		}
	}
	mugai_buf_free(&out);
	assert_int_equal(mugai_quarantine_list(f->q, NULL, count_one, &n),
	    MUGAI_OK);
	assert_int_equal(n, (NTHREADS + 1) * NPERTHREAD);
	assert_int_equal(count_store_files(f), (NTHREADS + 1) * NPERTHREAD);
	assert_int_equal(verify(f, 0, &ps), 0);
	assert_int_equal(stat(f->qdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* ---- group commit ------------------------------------------------------ */

#define NGROUP	6

static atomic_int group_inserts, group_commits;
static int group_errno;

/*
 * The first commit waits until every thread has reached the index
 * ("insert" comes just before it), so that the others queue behind it
 * and the next leader writes them as one group.
 */
static int
group_hook(const char *step)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	if (strcmp(step, "insert") == 0)
		atomic_fetch_add(&group_inserts, 1);
	if (strcmp(step, "commit") != 0)
		return 0;
	if (atomic_fetch_add(&group_commits, 1) == 0) {
		for (i = 0; i < 20000 &&
		    atomic_load(&group_inserts) < NGROUP; i++)
			nanosleep(&ts, NULL);
		ts.tv_nsec = 100000000;
		nanosleep(&ts, NULL);
		return 0;
	}
	return group_errno;
}

struct group_arg {
	struct mugai_quarantine *q;
	char	 id[16];
	mugai_status rc;
	char	 err[1024];
};

static void *
group_run(void *arg)
{
	struct group_arg *g = arg;
	char raw[64];

	snprintf(raw, sizeof(raw), "Subject: %s\n\nbody of %s\n", g->id,
	    g->id);
	g->rc = store(g->q, g->id, "a@b", "c@d", NULL, "sanitised", 0, raw);
	snprintf(g->err, sizeof(g->err), "%s", mugai_quarantine_error());
	return NULL;
}

/* NGROUP threads store at once (ids g0..); the first waits in its commit. */
static void
group_store(struct fx *f, struct group_arg *g)
{
	pthread_t th[NGROUP];
	struct mugai_quarantine *q;
	struct mugai_config *cfg;
	char err[512];
	int t;

	cfg = fx_config(f, f->sendmail, 60);
	assert_int_equal(mugai_quarantine_open(cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	atomic_store(&group_inserts, 0);
	atomic_store(&group_commits, 0);
	mugai_quarantine_set_fault(group_hook);
	for (t = 0; t < NGROUP; t++) {
		g[t].q = q;
		snprintf(g[t].id, sizeof(g[t].id), "g%d", t);
		assert_int_equal(pthread_create(&th[t], NULL, group_run, &g[t]),
		    0);
	}
	for (t = 0; t < NGROUP; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	mugai_quarantine_set_fault(NULL);
	mugai_quarantine_close(q);
	mugai_config_unref(cfg);
	/* The first alone, the rest in fewer transactions than rows. */
	assert_true(atomic_load(&group_commits) < NGROUP);
}

/*
 * Rows of threads storing at once share a transaction, yet each caller
 * gets its own outcome: g3's id is already in the index (its file was
 * lost), so g3 alone fails and leaves no file; every other row and file
 * is there, each under its own id.
 */
static void
test_group_commit(void **state)
{
	struct fx *f = *state;
	struct group_arg g[NGROUP];
	struct mugai_qrecord *r;
	struct mugai_buf out;
	struct problems ps;
	char want[64];
	size_t n = 0;
	int t;

	assert_int_equal(store(f->q, "g3", "a@b", "c@d", NULL, "sanitised", 0,
	    "Subject: first g3\n\nbody\n"), MUGAI_OK);
	r = get(f, "g3");
	assert_int_equal(unlink(r->path), 0);
	mugai_qrecord_free(r);
	group_errno = 0;
	group_store(f, g);
	mugai_buf_init(&out, 0);
	for (t = 0; t < NGROUP; t++) {
		if (t == 3) {
			assert_int_equal(g[t].rc, MUGAI_ERR_USAGE);
			assert_non_null(strstr(g[t].err, "UNIQUE"));
			continue;
		}
		if (g[t].rc != MUGAI_OK)
			fail_msg("%s: %s", g[t].id, g[t].err);
		r = get(f, g[t].id);
		assert_string_equal(r->id, g[t].id);
		assert_int_equal(mugai_quarantine_read(f->q, r, &out),
		    MUGAI_OK);
		snprintf(want, sizeof(want), "Subject: %s\n\nbody of %s\n",
		    g[t].id, g[t].id);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.data, want, out.len);
		mugai_qrecord_free(r);
	}
	mugai_buf_free(&out);
	assert_int_equal(mugai_quarantine_list(f->q, NULL, count_one, &n),
	    MUGAI_OK);
	assert_int_equal(n, NGROUP);
	/* g3's row without its file, the one problem made on purpose. */
	assert_int_equal(count_store_files(f), NGROUP - 1);
	assert_int_equal(verify(f, 0, &ps), 1);
	assert_int_equal(ps.kind[0], MUGAI_QPROB_MISSING);
}

/* A group whose commit fails fails every caller in it: no row, no file. */
static void
test_group_commit_fails(void **state)
{
	struct fx *f = *state;
	struct group_arg g[NGROUP];
	struct mugai_qrecord *r;
	struct problems ps;
	size_t n = 0, failed = 0;
	int t;

	group_errno = EIO;
	group_store(f, g);
	for (t = 0; t < NGROUP; t++) {
		if (g[t].rc == MUGAI_OK) {
			/* Only the first, alone, committed. */
			r = get(f, g[t].id);
			mugai_qrecord_free(r);
			continue;
		}
		assert_int_equal(g[t].rc, MUGAI_ERR_IO);
		assert_non_null(strstr(g[t].err, strerror(EIO)));
		assert_int_equal(mugai_quarantine_get(f->q, g[t].id, &r),
		    MUGAI_ERR_NOTFOUND);
		failed++;
	}
	assert_int_equal(failed, NGROUP - 1);
	assert_int_equal(mugai_quarantine_list(f->q, NULL, count_one, &n),
	    MUGAI_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count_store_files(f), 1);
	assert_int_equal(verify(f, 0, &ps), 0);
}

/* ---- failures and crashes ----------------------------------------------- */

static const char *fault_step;
static int fault_errno;

static int
fault_hook(const char *step)
{
	return strcmp(step, fault_step) == 0 ? fault_errno : 0;
}

static void
test_store_faults(void **state)
{
	static const struct { const char *step; int err; } cases[] = {
		{ "tmpfile", ENOSPC },
		{ "write", ENOSPC },
		{ "fsync", EIO },
		{ "rename", EIO },
		{ "renamed", EIO },
		{ "insert", EIO },
	};
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct problems ps;
	size_t i;

	mugai_quarantine_set_fault(fault_hook);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fault_step = cases[i].step;
		fault_errno = cases[i].err;
		assert_int_equal(store(f->q, "faulty", "a@b", "c@d", NULL,
		    "sanitised", 0, "Subject: x\n\nbody\n"), MUGAI_ERR_IO);
		if (strstr(mugai_quarantine_error(),
		    strerror(cases[i].err)) == NULL)
			fail_msg("%s: error \"%s\"", cases[i].step,
			    mugai_quarantine_error());
		assert_int_equal(mugai_quarantine_get(f->q, "faulty", &r),
		    MUGAI_ERR_NOTFOUND);
		assert_null(r);
		assert_int_equal(count_store_files(f), 0);
		assert_int_equal(verify(f, 0, &ps), 0);
	}
	/* Without the fault the same message stores fine. */
	mugai_quarantine_set_fault(NULL);
	assert_int_equal(store(f->q, "faulty", "a@b", "c@d", NULL,
	    "sanitised", 0, "Subject: x\n\nbody\n"), MUGAI_OK);
	assert_int_equal(count_store_files(f), 1);
}

/* A real write failure: the file size limit makes write(2) fail. */
static void
test_store_efbig(void **state)
{
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct rlimit old, lim;
	struct problems ps;
	char *raw;

	raw = malloc(256 * 1024);
	assert_non_null(raw);
	memset(raw, 'x', 256 * 1024 - 1);
	raw[256 * 1024 - 1] = '\0';
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(store(f->q, "big", "a@b", "c@d", NULL, "sanitised",
	    0, raw), MUGAI_ERR_IO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(mugai_quarantine_get(f->q, "big", &r),
	    MUGAI_ERR_NOTFOUND);
	assert_int_equal(count_store_files(f), 0);
	assert_int_equal(verify(f, 0, &ps), 0);
	free(raw);
}

static const char *crash_step;

static int
crash_hook(const char *step)
{
	if (strcmp(step, crash_step) == 0)
		_exit(0);
	return 0;
}

/* Store in a child process that dies at step, as a crash would. */
static void
crash_store(struct fx *f, const char *step, const char *id, const char *raw)
{
	struct mugai_quarantine *q;
	char err[512];
	pid_t pid;
	int st;

	crash_step = step;
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		mugai_quarantine_set_fault(crash_hook);
		if (mugai_quarantine_open(f->cfg, &q, err, sizeof(err)) != MUGAI_OK)
			_exit(2);
		store(q, id, "a@b", "c@d", NULL, "sanitised", 0, raw);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_crash_after_rename(void **state)
{
	static const char raw[] = "Subject: crash\n\nthe whole original\n";
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct problems ps;
	char *got;
	size_t len;

	assert_int_equal(store(f->q, "fine", "a@b", "c@d", NULL, "sanitised",
	    0, "Subject: ok\n\nok\n"), MUGAI_OK);
	crash_store(f, "renamed", "crashed", raw);
	assert_int_equal(mugai_quarantine_get(f->q, "crashed", &r),
	    MUGAI_ERR_NOTFOUND);
	assert_int_equal(verify(f, 0, &ps), 1);
	assert_int_equal(ps.kind[0], MUGAI_QPROB_ORPHAN);
	assert_string_equal(ps.id[0], "crashed");
	/* The orphan is the complete original, not a torn file. */
	assert_non_null(got = slurp(ps.path[0], &len));
	assert_int_equal(len, strlen(raw));
	assert_memory_equal(got, raw, len);
	free(got);
	/* Inside the grace period it may be a store in flight: not reported. */
	assert_int_equal(verify(f, 3600, &ps), 0);
}

static void
test_crash_before_rename(void **state)
{
	struct fx *f = *state;
	struct problems ps;
	size_t n = 99;

	crash_store(f, "rename", "torn", "Subject: t\n\nt\n");
	assert_int_equal(verify(f, 0, &ps), 1);
	assert_int_equal(ps.kind[0], MUGAI_QPROB_TEMP);
	assert_non_null(strstr(ps.path[0], "/.tmp"));
	/* purge leaves young temporary files alone, removes old ones. */
	assert_int_equal(mugai_quarantine_purge(f->q, 0, 3600, "tester", &n),
	    MUGAI_OK);
	assert_int_equal(n, 0);
	assert_int_equal(count_store_files(f), 1);
	assert_int_equal(mugai_quarantine_purge(f->q, 0, 0, "tester", &n),
	    MUGAI_OK);
	assert_int_equal(count_store_files(f), 0);
	assert_int_equal(verify(f, 0, &ps), 0);
}

static void
test_duplicate_id(void **state)
{
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct mugai_buf out;

	assert_int_equal(store(f->q, "dup", "a@b", "c@d", NULL, "sanitised",
	    0, "first\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "dup", "a@b", "c@d", NULL, "sanitised",
	    0, "second\n"), MUGAI_ERR_USAGE);
	r = get(f, "dup");
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_quarantine_read(f->q, r, &out), MUGAI_OK);
	assert_string_equal(out.data, "first\n");
	assert_int_equal(count_store_files(f), 1);
	mugai_buf_free(&out);
	mugai_qrecord_free(r);
}

/* Number of fan-out directories ("00".."ff") in the store. */
static int
count_fans(const struct fx *f)
{
	char path[PATH_MAX * 2];
	struct stat st;
	int i, n = 0;

	for (i = 0; i < 256; i++) {
		snprintf(path, sizeof(path), "%s/%02x", f->qdir, i);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			assert_int_equal(st.st_mode & 07777, 0700);
			n++;
		}
	}
	return n;
}

/*
 * prepare makes every fan-out directory before mail comes, again after
 * one was removed, and refuses a file where a directory must be; a
 * store into a fan removed after prepare still makes it.
 */
static void
test_prepare(void **state)
{
	struct fx *f = *state;
	struct mugai_qrecord *r;
	char path[PATH_MAX * 2], id2[16], hex[65], hex2[65];
	int i;

	assert_int_equal(count_fans(f), 0);
	assert_int_equal(mugai_quarantine_prepare(f->q), MUGAI_OK);
	assert_int_equal(count_fans(f), 256);
	assert_int_equal(mugai_quarantine_prepare(f->q), MUGAI_OK);
	assert_int_equal(count_fans(f), 256);
	assert_int_equal(count_store_files(f), 0);

	/*
	 * A fan removed after prepare (the admin emptied it by hand):
	 * storing into it makes it again.  id2 falls in the fan of "m1".
	 */
	sha256_hex("m1", 2, hex);
	for (i = 2; ; i++) {
		snprintf(id2, sizeof(id2), "m%d", i);
		sha256_hex(id2, strlen(id2), hex2);
		if (memcmp(hex, hex2, 2) == 0)
			break;
	}
	assert_int_equal(store(f->q, "m1", "a@b", "c@d", NULL, "sanitised",
	    0, "one\n"), MUGAI_OK);
	assert_int_equal(mugai_quarantine_delete(f->q, "m1", "admin", "test"),
	    MUGAI_OK);
	snprintf(path, sizeof(path), "%s/%.2s", f->qdir, hex);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(count_fans(f), 255);
	assert_int_equal(store(f->q, id2, "a@b", "c@d", NULL, "sanitised",
	    0, "two\n"), MUGAI_OK);
	assert_int_equal(count_fans(f), 256);
	r = get(f, id2);
	assert_non_null(strstr(r->path, path));
	mugai_qrecord_free(r);
	assert_int_equal(mugai_quarantine_prepare(f->q), MUGAI_OK);

	/* A file where a fan must be. */
	snprintf(path, sizeof(path), "%s/7f", f->qdir);
	assert_int_equal(rmdir(path), 0);
	write_file(path, "not a directory\n", 0600);
	assert_int_equal(mugai_quarantine_prepare(f->q), MUGAI_ERR_IO);
	assert_non_null(strstr(mugai_quarantine_error(), "/7f is not a "
	    "directory"));
}

static void
test_bad_ids(void **state)
{
	static const char *const bad[] = {
		"", "../etc", ".hidden", "a/b", "a b", "-x",
		"x1234567890123456789012345678901234567890123456789012345678901234",
	};
	struct fx *f = *state;
	struct mugai_qrecord *r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store(f->q, bad[i], "a@b", "c@d", NULL,
		    "sanitised", 0, "x\n"), MUGAI_ERR_USAGE);
		assert_int_equal(mugai_quarantine_get(f->q, bad[i], &r),
		    MUGAI_ERR_NOTFOUND);
	}
	assert_int_equal(count_store_files(f), 0);
	assert_int_equal(mugai_quarantine_get(f->q, "nosuch", &r),
	    MUGAI_ERR_NOTFOUND);
	assert_non_null(strstr(mugai_quarantine_error(), "nosuch"));
}

/* Another process holds the write lock beyond the busy timeout. */
static void
test_db_locked(void **state)
{
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct problems ps;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(store(f->q, "locked", "a@b", "c@d", NULL,
	    "sanitised", 0, "x\n"), MUGAI_ERR_LIMIT);
	assert_non_null(strstr(mugai_quarantine_error(), "locked"));
	assert_non_null(strstr(mugai_quarantine_error(),
	    "quarantine_busy_timeout"));
	/* WAL: reading goes on while the writer waits. */
	assert_int_equal(mugai_quarantine_get(f->q, "locked", &r),
	    MUGAI_ERR_NOTFOUND);
	assert_int_equal(count_store_files(f), 0);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store(f->q, "locked", "a@b", "c@d", NULL,
	    "sanitised", 0, "x\n"), MUGAI_OK);
	assert_int_equal(verify(f, 0, &ps), 0);
}

static int
int_cb(void *arg, int n, char **v, char **names)
{
	(void)n; (void)names;
	*(int *)arg = atoi(v[0]);
	return 0;
}

static void
test_schema_version(void **state)
{
	struct fx *f = *state;
	struct mugai_quarantine *q = NULL;
	char err[512];
	sqlite3 *db;
	int v = -1;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version", int_cb, &v,
	    NULL), SQLITE_OK);
	assert_int_equal(v, 3);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(mugai_quarantine_open(f->cfg, &q, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_null(q);
	assert_non_null(strstr(err, "version 99"));
	assert_non_null(strstr(err, f->db));
}

/* ---- list filters ------------------------------------------------------- */

struct idlist {
	char	 ids[256];
};

static int
collect_id(const struct mugai_qrecord *r, void *arg)
{
	struct idlist *l = arg;
	size_t n = strlen(l->ids);

	snprintf(l->ids + n, sizeof(l->ids) - n, "%s%s", n > 0 ? "," : "",
	    r->id);
	assert_null(r->report_json);
	return 0;
}

static void
test_list_filters(void **state)
{
	struct fx *f = *state;
	const struct {
		struct mugai_qfilter f;
		const char *want;
	} cases[] = {
		{ { 0, 0, NULL, NULL, NULL, 0 }, "a,b,c,d,e" },
		{ { 1000, 0, NULL, NULL, NULL, 0 }, "c,d,e" },
		{ { 1000, 3000, NULL, NULL, NULL, 0 }, "c,d" },
		{ { 0, 0, "held", NULL, NULL, 0 }, "a,c,d,e" },
		{ { 0, 0, "deleted", NULL, NULL, 0 }, "b" },
		{ { 0, 0, NULL, "<Alice@Example.JP>", NULL, 0 }, "a,c" },
		{ { 0, 0, NULL, "alice@example.jp", NULL, 0 }, "a,c" },
		{ { 0, 0, NULL, NULL, "TWO@lg.jp", 0 }, "a,e" },
		{ { 0, 0, NULL, NULL, "one@lg.jp", 0 }, "a,b,c,d" },
		{ { 0, 0, NULL, "bob@example.org", "one@lg.jp", 0 }, "b,d" },
		{ { 0, 0, NULL, NULL, NULL, 2 }, "a,b" },
		{ { 0, 0, NULL, "nobody@x", NULL, 0 }, "" },
	};
	struct idlist l;
	size_t i;

	assert_int_equal(store(f->q, "a", "<alice@example.jp>", "one@lg.jp",
	    "two@lg.jp", "sanitised", 100, "a\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "b", "bob@example.org", "one@lg.jp", NULL,
	    "sanitised", 200, "b\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "c", "ALICE@example.jp", "<one@lg.jp>",
	    NULL, "sanitised", 1000, "c\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "d", "bob@example.org", "one@lg.jp", NULL,
	    "rejected", 2000, "d\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "e", "", "two@lg.jp", NULL, "sanitised",
	    3000, "e\n"), MUGAI_OK);
	assert_int_equal(mugai_quarantine_delete(f->q, "b", "tester", "test"),
	    MUGAI_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&l, 0, sizeof(l));
		assert_int_equal(mugai_quarantine_list(f->q, &cases[i].f,
		    collect_id, &l), MUGAI_OK);
		if (strcmp(l.ids, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, l.ids,
			    cases[i].want);
	}
}

/* ---- delete, purge, verify ---------------------------------------------- */

struct hist {
	char	 text[1024];
};

static int
collect_action(const struct mugai_qaction *a, void *arg)
{
	struct hist *h = arg;
	size_t n = strlen(h->text);

	snprintf(h->text + n, sizeof(h->text) - n, "%s|%s|%s|%s;", a->actor,
	    a->action, a->detail, a->reason);
	return 0;
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct mugai_buf out;
	struct problems ps;
	struct hist h;
	char *line;

	assert_int_equal(store(f->q, "del", "a@b", "c@d", NULL, "sanitised",
	    0, "doomed\n"), MUGAI_OK);
	assert_int_equal(mugai_quarantine_delete(f->q, "del", "alice",
	    "asked by the sender"), MUGAI_OK);
	r = get(f, "del");
	assert_string_equal(r->status, "deleted");
	assert_string_equal(r->notice, "notice text");
	assert_int_equal(access(r->path, F_OK), -1);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_quarantine_read(f->q, r, &out),
	    MUGAI_ERR_NOTFOUND);
	mugai_buf_free(&out);
	mugai_qrecord_free(r);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "del", collect_action,
	    &h), MUGAI_OK);
	assert_string_equal(h.text, "alice|delete||asked by the sender;");
	line = audit_last(f);
	assert_non_null(strstr(line, "\"actor\":\"alice\",\"action\":\"delete\","
	    "\"id\":\"del\",\"reason\":\"asked by the sender\""));
	assert_true(strncmp(line, "{\"time\":\"", 9) == 0);
	free(line);
	assert_int_equal(mugai_quarantine_delete(f->q, "del", "alice", "x"),
	    MUGAI_ERR_STATE);
	assert_non_null(strstr(mugai_quarantine_error(), "already deleted"));
	assert_int_equal(mugai_quarantine_delete(f->q, "nosuch", "alice", "x"),
	    MUGAI_ERR_NOTFOUND);
	assert_int_equal(verify(f, 0, &ps), 0);
}

static void
test_purge_age(void **state)
{
	struct fx *f = *state;
	time_t now = time(NULL), day = 86400;
	struct mugai_qrecord *r;
	struct problems ps;
	struct hist h;
	size_t n = 0;
	char *line;

	assert_int_equal(store(f->q, "old", "a@b", "c@d", NULL, "sanitised",
	    now - 100 * day, "old\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "older", "a@b", "c@d", NULL, "sanitised",
	    now - 400 * day, "older\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "mid", "a@b", "c@d", NULL, "sanitised",
	    now - 10 * day, "mid\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "new", "a@b", "c@d", NULL, "sanitised",
	    now, "new\n"), MUGAI_OK);
	assert_int_equal(mugai_quarantine_purge(f->q, now - 90 * day, 3600,
	    "cron", &n), MUGAI_OK);
	assert_int_equal(n, 2);
	r = get(f, "old");
	assert_string_equal(r->status, "deleted");
	assert_int_equal(access(r->path, F_OK), -1);
	mugai_qrecord_free(r);
	r = get(f, "older");
	assert_string_equal(r->status, "deleted");
	mugai_qrecord_free(r);
	r = get(f, "mid");
	assert_string_equal(r->status, "held");
	assert_int_equal(access(r->path, F_OK), 0);
	mugai_qrecord_free(r);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "old", collect_action,
	    &h), MUGAI_OK);
	assert_non_null(strstr(h.text, "cron|purge||received before "));
	line = audit_last(f);
	assert_non_null(strstr(line, "\"action\":\"purge\""));
	free(line);
	/* Nothing left to purge; a second run is a no-op. */
	assert_int_equal(mugai_quarantine_purge(f->q, now - 90 * day, 3600,
	    "cron", &n), MUGAI_OK);
	assert_int_equal(n, 0);
	assert_int_equal(count_store_files(f), 2);
	assert_int_equal(verify(f, 0, &ps), 0);
}

static void
test_verify_problems(void **state)
{
	struct fx *f = *state;
	struct mugai_qrecord *ra, *rb;
	struct problems ps;
	char path[PATH_MAX + 16], dir[PATH_MAX];
	struct timespec ahead[2];
	int seen[5] = { 0 };
	size_t i;
	FILE *fp;

	assert_int_equal(store(f->q, "va", "a@b", "c@d", NULL, "sanitised", 0,
	    "aaa\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "vb", "a@b", "c@d", NULL, "sanitised", 0,
	    "bbb\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "vc", "a@b", "c@d", NULL, "sanitised", 0,
	    "ccc\n"), MUGAI_OK);
	ra = get(f, "va");
	rb = get(f, "vb");
	assert_non_null(fp = fopen(ra->path, "a"));
	fputc('!', fp);
	fclose(fp);
	assert_int_equal(unlink(rb->path), 0);
	snprintf(dir, sizeof(dir), "%s", ra->path);
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "stray\n", 0600);
	snprintf(path, sizeof(path), "%s/.tmp.left", dir);
	write_file(path, "half", 0600);
	/* Stamped ahead of the clock, as a VM's file system can: grace 0
	 * still reports it. */
	ahead[0].tv_sec = ahead[1].tv_sec = time(NULL) + 5;
	ahead[0].tv_nsec = ahead[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ahead, 0), 0);

	assert_int_equal(verify(f, 0, &ps), 4);
	for (i = 0; i < ps.n; i++)
		seen[ps.kind[i]]++;
	assert_int_equal(seen[MUGAI_QPROB_CHECKSUM], 1);
	assert_int_equal(seen[MUGAI_QPROB_MISSING], 1);
	assert_int_equal(seen[MUGAI_QPROB_STRAY], 1);
	assert_int_equal(seen[MUGAI_QPROB_TEMP], 1);
	for (i = 0; i < ps.n; i++) {
		if (ps.kind[i] == MUGAI_QPROB_CHECKSUM)
			assert_string_equal(ps.id[i], "va");
		if (ps.kind[i] == MUGAI_QPROB_MISSING)
			assert_string_equal(ps.id[i], "vb");
	}
	/* The grace period hides only what a store in flight could be. */
	assert_int_equal(verify(f, 3600, &ps), 3);
	mugai_qrecord_free(ra);
	mugai_qrecord_free(rb);
}

/* ---- MIME parts and release --------------------------------------------- */

static const char part_msg[] =
    "From: Sender <sender@example.org>\r\n"
    "To: one@lg.jp\r\n"
    "Subject: =?UTF-8?B?6KuL5rGC5pu4?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"OUTER\"\r\n"
    "\r\n"
    "--OUTER\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Hello=3Dworld\r\n"
    "--OUTER\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*=UTF-8''%E3%83%87%E3%83%BC%E3%82%BF.bin\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECA/7/TVo=\r\n"
    "--OUTER\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: inner@example.org\r\n"
    "Subject: inner\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"INNER\"\r\n"
    "\r\n"
    "--INNER\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "inner text\r\n"
    "--INNER\r\n"
    "Content-Type: text/plain; name=\"inner.txt\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aW5uZXIgYXR0YWNobWVudA==\r\n"
    "--INNER--\r\n"
    "\r\n"
    "--OUTER--\r\n";

static const unsigned char part_bin[] = {
	0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 'M', 'Z'
};

static void
test_part_extract(void **state)
{
	static const struct {
		const char *path;
		mugai_status rc;
		const char *data;	/* NULL: the binary attachment */
		const char *name;
		const char *type;
	} cases[] = {
		{ "1", MUGAI_ERR_USAGE, "", "", "" },
		{ "1.1", MUGAI_OK, "Hello=world", "", "text/plain" },
		{ "1.2", MUGAI_OK, NULL, "データ.bin",
		    "application/octet-stream" },
		{ "1.3", MUGAI_OK, "From: inner@example.org", "",
		    "message/rfc822" },
		{ "1.3.1", MUGAI_ERR_USAGE, "", "", "" },
		{ "1.3.1.1", MUGAI_OK, "inner text", "", "text/plain" },
		{ "1.3.1.2", MUGAI_OK, "inner attachment", "inner.txt",
		    "text/plain" },
		{ "1.4", MUGAI_ERR_NOTFOUND, "", "", "" },
		{ "1.2.1", MUGAI_ERR_NOTFOUND, "", "", "" },
		{ "1.3.2", MUGAI_ERR_NOTFOUND, "", "", "" },
		{ "2", MUGAI_ERR_USAGE, "", "", "" },
		{ "1..2", MUGAI_ERR_USAGE, "", "", "" },
		{ "1.0", MUGAI_ERR_USAGE, "", "", "" },
		{ "1.2.", MUGAI_ERR_USAGE, "", "", "" },
		{ "", MUGAI_ERR_USAGE, "", "", "" },
		{ "1.x", MUGAI_ERR_USAGE, "", "", "" },
	};
	struct mugai_buf out;
	char *name, *type;
	size_t i;

	(void)state;
	mugai_buf_init(&out, 1024 * 1024);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mugai_status rc = mugai_quarantine_part(part_msg,
		    strlen(part_msg), cases[i].path, &out, &name, &type);
		if (rc != cases[i].rc)
			fail_msg("%s: status %s, want %s", cases[i].path,
			    mugai_status_str(rc), mugai_status_str(cases[i].rc));
		if (rc != MUGAI_OK) {
			assert_null(name);
			assert_null(type);
			continue;
		}
		if (cases[i].data == NULL) {
			assert_int_equal(out.len, sizeof(part_bin));
			assert_memory_equal(out.data, part_bin,
			    sizeof(part_bin));
		} else
			assert_true(strncmp(out.data, cases[i].data,
			    strlen(cases[i].data)) == 0);
		assert_string_equal(name, cases[i].name);
		assert_string_equal(type, cases[i].type);
		free(name);
		free(type);
	}
	mugai_buf_free(&out);
}

static char *
read_argv(const struct fx *f)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/argv", f->root);
	return slurp(path, NULL);
}

static void
set_sendmail_exit(const struct fx *f, const char *code)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/sendmail.exit", f->root);
	if (code == NULL)
		unlink(path);
	else
		write_file(path, code, 0600);
}

static void
test_release_whole(void **state)
{
	static const char raw[] = "From: x@example.org\r\nSubject: s\r\n\r\n"
	    "binary \x01\xff body\r\n.\r\n..\r\n";
	struct fx *f = *state;
	struct mugai_qrelease req;
	struct mugai_qrecord *r;
	char path[PATH_MAX + 8], *got, *argv;
	struct hist h;
	size_t len;

	assert_int_equal(store(f->q, "rel", "<bob@example.org>", "c@d", NULL,
	    "sanitised", 0, raw), MUGAI_OK);
	memset(&req, 0, sizeof(req));
	req.id = "rel";
	req.to = "admin@lg.jp";
	req.reason = "the recipient needs the PDF";
	req.actor = "alice";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_OK);
	snprintf(path, sizeof(path), "%s/stdin", f->root);
	assert_non_null(got = slurp(path, &len));
	assert_int_equal(len, strlen(raw));
	assert_memory_equal(got, raw, len);
	free(got);
	argv = read_argv(f);
	assert_string_equal(argv, "-i\n-f\nbob@example.org\n--\nadmin@lg.jp\n");
	free(argv);
	r = get(f, "rel");
	assert_string_equal(r->status, "released");
	mugai_qrecord_free(r);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "rel", collect_action,
	    &h), MUGAI_OK);
	assert_string_equal(h.text,
	    "alice|release|to=admin@lg.jp|the recipient needs the PDF;");
	got = audit_last(f);
	assert_non_null(strstr(got, "\"actor\":\"alice\",\"action\":\"release\","
	    "\"id\":\"rel\",\"reason\":\"the recipient needs the PDF\","
	    "\"to\":\"admin@lg.jp\",\"result\":\"ok\"}"));
	free(got);

	/* sendmail fails: an error, the status stays, the attempt is kept. */
	assert_int_equal(store(f->q, "rel2", "", "c@d", NULL, "sanitised", 0,
	    raw), MUGAI_OK);
	set_sendmail_exit(f, "75");
	req.id = "rel2";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_IO);
	assert_non_null(strstr(mugai_quarantine_error(), "status 75"));
	set_sendmail_exit(f, NULL);
	argv = read_argv(f);
	assert_string_equal(argv, "-i\n-f\n\n--\nadmin@lg.jp\n");
	free(argv);
	r = get(f, "rel2");
	assert_string_equal(r->status, "held");
	mugai_qrecord_free(r);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "rel2",
	    collect_action, &h), MUGAI_OK);
	assert_non_null(strstr(h.text, "alice|release-failed|"));

	/* Bad requests never reach sendmail. */
	req.to = "-oQ/tmp";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_USAGE);
	req.to = "admin@lg.jp";
	req.reason = "";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_USAGE);
	req.reason = "r";
	req.id = "nosuch";
	assert_int_equal(mugai_quarantine_release(f->q, &req),
	    MUGAI_ERR_NOTFOUND);
}

static void
test_release_dangerous(void **state)
{
	struct fx *f = *state;
	struct mugai_qrelease req;
	struct mugai_quarantine *q2;
	struct mugai_config *cfg2;
	char err[512], *argv;

	assert_int_equal(store(f->q, "virus", "a@b", "c@d", NULL, "rejected", 0,
	    "X5O!P%@AP\n"), MUGAI_OK);
	memset(&req, 0, sizeof(req));
	req.id = "virus";
	req.to = "admin@lg.jp";
	req.reason = "analysis";
	req.actor = "alice";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_USAGE);
	assert_non_null(strstr(mugai_quarantine_error(), "--force"));
	assert_null(argv = read_argv(f));
	req.force = 1;
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_OK);
	assert_non_null(argv = read_argv(f));
	free(argv);
	assert_non_null(argv = audit_last(f));
	assert_non_null(strstr(argv, "\"force\":\"yes\""));
	free(argv);

	/* A sendmail_path that cannot run is a configuration error. */
	cfg2 = fx_config(f, "/nonexistent/sendmail", 1);
	assert_int_equal(mugai_quarantine_open(cfg2, &q2, err, sizeof(err)),
	    MUGAI_OK);
	assert_int_equal(mugai_quarantine_release(q2, &req), MUGAI_ERR_CONFIG);
	assert_non_null(strstr(mugai_quarantine_error(), "sendmail_path"));
	mugai_quarantine_close(q2);
	mugai_config_unref(cfg2);
}

static void
test_release_part(void **state)
{
	struct fx *f = *state;
	struct mugai_qrelease req;
	struct mugai_buf out;
	char path[PATH_MAX + 8], *got, *name, *type;
	GMimeMessage *m;
	GMimeStream *st;
	GMimeParser *p;
	size_t len;

	assert_int_equal(store(f->q, "withpart", "sender@example.org", "c@d",
	    NULL, "sanitised", 0, part_msg), MUGAI_OK);
	memset(&req, 0, sizeof(req));
	req.id = "withpart";
	req.to = "one@lg.jp";
	req.part = "1.2";
	req.reason = "needed";
	req.actor = "alice";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_OK);
	snprintf(path, sizeof(path), "%s/stdin", f->root);
	assert_non_null(got = slurp(path, &len));

	/* The new message carries the attachment, decodable to the bytes. */
	st = g_mime_stream_mem_new_with_buffer(got, len);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	assert_string_equal(g_mime_message_get_subject(m), "請求書");
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m),
	    "X-Mugai-Id"), "withpart");
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_quarantine_part(got, len, "1.2", &out, &name,
	    &type), MUGAI_OK);
	assert_int_equal(out.len, sizeof(part_bin));
	assert_memory_equal(out.data, part_bin, sizeof(part_bin));
	assert_string_equal(name, "データ.bin");
	assert_string_equal(type, "application/octet-stream");
	free(name);
	free(type);
	mugai_buf_free(&out);
	free(got);
}

/* ---- report, JSON, audit ------------------------------------------------ */

static int
collect_part(const struct mugai_qpart *p, void *arg)
{
	struct hist *h = arg;
	size_t n = strlen(h->text);

	snprintf(h->text + n, sizeof(h->text) - n, "%s|%s|%s|%lld|%s|%s;",
	    p->path ? p->path : "-", p->detected_type ? p->detected_type : "-",
	    p->name ? p->name : "-", p->size, p->action ? p->action : "-",
	    p->reason ? p->reason : "-");
	return 0;
}

static void
test_report_parts(void **state)
{
	static const struct { const char *json, *want; } cases[] = {
		{ "{\"id\":\"x\",\"parts\":[{\"path\":\"1\",\"declared_type\":"
		  "\"multipart/mixed\"},{\"path\":\"1.2\",\"detected_type\":"
		  "\"application/zip\",\"size\":1234,\"name\":\"\u8acb.zip\","
		  "\"action\":\"removed\",\"reason\":\"policy\",\"extra\":[1]},"
		  "7,{\"path\":1.3,\"size\":12.5}]}",
		  "1|-|-|-1|-|-;1.2|application/zip|\u8acb.zip|1234|removed|"
		  "policy;1.3|-|-|12|-|-;" },
		{ "{\"parts\":[]}", "" },
		{ "{\"id\":\"x\"}", "" },
		{ "not json", "" },
		{ "", "" },
		{ "{\"parts\":\"1.2\"}", "" },
	};
	struct fx *f = *state;
	struct hist h;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&h, 0, sizeof(h));
		assert_int_equal(mugai_quarantine_report_parts(f->q,
		    cases[i].json, collect_part, &h), MUGAI_OK);
		assert_string_equal(h.text, cases[i].want);
	}
}

struct auditor {
	const char *path;
	int	 t;
	mugai_status rc;
};

static void *
audit_run(void *arg)
{
	struct auditor *a = arg;
	char line[128];
	int i;

	a->rc = MUGAI_OK;
	for (i = 0; i < NPERTHREAD && a->rc == MUGAI_OK; i++) {
		snprintf(line, sizeof(line), "{\"t\":%d,\"i\":%d,\"pad\":\"%0*d\"}",
		    a->t, i, 40 + i, 0);
		a->rc = mugai_audit_write(a->path, line);
	}
	return NULL;
}

static void
test_audit(void **state)
{
	struct fx *f = *state;
	struct auditor a[NTHREADS];
	pthread_t th[NTHREADS];
	char path[PATH_MAX], dir[128], *all, *line, *save;
	int seen[NTHREADS][NPERTHREAD], t, i, n = 0, w;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/deep/er", f->root);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	for (t = 0; t < NTHREADS; t++) {
		a[t].path = path;
		a[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, audit_run, &a[t]),
		    0);
	}
	for (t = 0; t < NTHREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(a[t].rc, MUGAI_OK);
	}
	memset(seen, 0, sizeof(seen));
	assert_non_null(all = slurp(path, NULL));
	for (line = strtok_r(all, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(sscanf(line, "{\"t\":%d,\"i\":%d,\"pad\":\"%*d\"}",
		    &t, &i), 2);
		w = snprintf(path, sizeof(path), "{\"t\":%d,\"i\":%d,\"pad\":"
		    "\"%0*d\"}", t, i, 40 + i, 0);
		assert_int_equal((int)strlen(line), w);
		assert_string_equal(line, path);
		seen[t][i]++;
		n++;
	}
	free(all);
	assert_int_equal(n, NTHREADS * NPERTHREAD);
	for (t = 0; t < NTHREADS; t++)
		for (i = 0; i < NPERTHREAD; i++)
			assert_int_equal(seen[t][i], 1);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(mugai_audit_write(path, "{\"a\":1}\n{\"b\":2}"),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_audit(f->cfg, "{\"x\":1}"), MUGAI_OK);
	assert_non_null(all = audit_last(f));
	assert_string_equal(all, "{\"x\":1}");
	free(all);
}

/*
 * The log rotated (renamed away) while threads append and share their
 * fsyncs: every line still lands exactly once, whole, in one of the
 * files, and nobody's write fails.
 */
static void
test_audit_rotated(void **state)
{
	struct fx *f = *state;
	struct auditor a[NTHREADS];
	pthread_t th[NTHREADS];
	char path[PATH_MAX], old[PATH_MAX + 16], *all, *line, *save;
	int seen[NTHREADS][NPERTHREAD], t, i, k, n = 0, nfiles = 0;

	snprintf(path, sizeof(path), "%s/rot.jsonl", f->root);
	for (t = 0; t < NTHREADS; t++) {
		a[t].path = path;
		a[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, audit_run, &a[t]),
		    0);
	}
	for (k = 0; k < 20; k++) {
		usleep(2000);
		snprintf(old, sizeof(old), "%s.%d", path, nfiles);
		if (rename(path, old) == 0)
			nfiles++;
	}
	for (t = 0; t < NTHREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(a[t].rc, MUGAI_OK);
	}
	memset(seen, 0, sizeof(seen));
	for (k = 0; k <= nfiles; k++) {
		if (k < nfiles)
			snprintf(old, sizeof(old), "%s.%d", path, k);
		else
			snprintf(old, sizeof(old), "%s", path);
		if ((all = slurp(old, NULL)) == NULL)
			continue;	/* renamed before anything came */
		for (line = strtok_r(all, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			assert_int_equal(sscanf(line, "{\"t\":%d,\"i\":%d,"
			    "\"pad\":\"%*d\"}", &t, &i), 2);
			assert_true(t >= 0 && t < NTHREADS && i >= 0 &&
			    i < NPERTHREAD);
			assert_int_equal((int)strlen(line),
			    snprintf(NULL, 0, "{\"t\":%d,\"i\":%d,\"pad\":"
			    "\"%0*d\"}", t, i, 40 + i, 0));
			seen[t][i]++;
			n++;
		}
		free(all);
	}
	assert_int_equal(n, NTHREADS * NPERTHREAD);
	for (t = 0; t < NTHREADS; t++)
		for (i = 0; i < NPERTHREAD; i++)
			assert_int_equal(seen[t][i], 1);
}


/* ---- bounded waits on a locked index (issue 16, item 4) ---------------- */

struct locked_worker {
	struct mugai_quarantine *q;
	int	 n;
	mugai_status rc;
	double	 secs;
};

static double
now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
locked_store(void *arg)
{
	struct locked_worker *w = arg;
	char id[32];
	double t0 = now_secs();

	snprintf(id, sizeof(id), "lw%d", w->n);
	w->rc = store(w->q, id, "a@b", "c@d", NULL, "sanitised", 0, "x\n");
	w->secs = now_secs() - t0;
	return NULL;
}

#define NLOCKED 4

/*
 * Messages of one milter (threads on one handle) waiting on an index
 * another process holds: each gives up within its own bound (the
 * busy timeout, 2 s here), not one bound after another; and once the
 * lock goes they all get through at once.
 */
static void
test_db_locked_bound(void **state)
{
	struct fx *f = *state;
	struct locked_worker w[NLOCKED];
	struct mugai_quarantine *q;
	struct mugai_config *cfg;
	pthread_t tid[NLOCKED];
	struct problems ps;
	char err[512];
	sqlite3 *db;
	double t0;
	int i;

	cfg = fx_config(f, f->sendmail, 2);
	assert_int_equal(mugai_quarantine_open(cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < NLOCKED; i++) {
		w[i].q = q;
		w[i].n = i;
		assert_int_equal(pthread_create(&tid[i], NULL, locked_store,
		    &w[i]), 0);
	}
	for (i = 0; i < NLOCKED; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < NLOCKED; i++) {
		assert_int_equal(w[i].rc, MUGAI_ERR_LIMIT);
		/* Today's code: 2 s, 4 s, 6 s, 8 s. */
		if (w[i].secs > 3.5)
			fail_msg("message %d waited %.1f s with a 2 s bound", i,
			    w[i].secs);
	}
	assert_int_equal(count_store_files(f), 0);

	/* The lock goes after 0.5 s: every waiter proceeds then. */
	for (i = 0; i < NLOCKED; i++) {
		w[i].n = 10 + i;
		assert_int_equal(pthread_create(&tid[i], NULL, locked_store,
		    &w[i]), 0);
	}
	t0 = now_secs();
	usleep(500000);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < NLOCKED; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < NLOCKED; i++)
		assert_int_equal(w[i].rc, MUGAI_OK);
	if (now_secs() - t0 > 1.9)
		fail_msg("waiters took %.1f s after the lock went",
		    now_secs() - t0 - 0.5);
	sqlite3_close(db);
	mugai_quarantine_close(q);
	mugai_config_unref(cfg);
	assert_int_equal(verify(f, 0, &ps), 0);
}

/* ---- state transitions (issue 16, item 2) ------------------------------ */

static void
sql(const struct fx *f, const char *text)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", text, msg);
	sqlite3_close(db);
}

/*
 * A release in progress ("releasing") keeps its file from a delete, and
 * a second release waits its turn; a release that died an hour ago may
 * be taken over.
 */
static void
test_release_claim(void **state)
{
	struct fx *f = *state;
	struct mugai_qrelease req;
	struct mugai_qrecord *r;
	struct problems ps;
	struct hist h;

	assert_int_equal(store(f->q, "busy", "a@b", "c@d", NULL, "sanitised",
	    0, "busy\n"), MUGAI_OK);
	sql(f, "UPDATE messages SET status = 'releasing', changed ="
	    " strftime('%s', 'now') WHERE id = 'busy'");
	assert_int_equal(mugai_quarantine_delete(f->q, "busy", "bob", "x"),
	    MUGAI_ERR_STATE);
	assert_non_null(strstr(mugai_quarantine_error(), "being released"));
	r = get(f, "busy");
	assert_string_equal(r->status, "releasing");
	assert_int_equal(access(r->path, F_OK), 0);
	mugai_qrecord_free(r);
	memset(&req, 0, sizeof(req));
	req.id = "busy";
	req.to = "admin@lg.jp";
	req.reason = "r";
	req.actor = "alice";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_STATE);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "busy", collect_action,
	    &h), MUGAI_OK);
	assert_string_equal(h.text, "");
	/* Not yet stuck within the grace; stuck after it. */
	assert_int_equal(verify(f, 3600, &ps), 0);
	sql(f, "UPDATE messages SET changed = changed - 7200"
	    " WHERE id = 'busy'");
	assert_int_equal(verify(f, 60, &ps), 1);
	assert_int_equal(ps.kind[0], MUGAI_QPROB_STUCK);
	/* Stale: a release takes it over, and a failure gives it back. */
	set_sendmail_exit(f, "75");
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_IO);
	set_sendmail_exit(f, NULL);
	r = get(f, "busy");
	assert_string_equal(r->status, "held");
	mugai_qrecord_free(r);
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_OK);
	r = get(f, "busy");
	assert_string_equal(r->status, "released");
	mugai_qrecord_free(r);
	/* Released, then released again: stays released on failure. */
	set_sendmail_exit(f, "1");
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_IO);
	set_sendmail_exit(f, NULL);
	r = get(f, "busy");
	assert_string_equal(r->status, "released");
	mugai_qrecord_free(r);
	assert_int_equal(mugai_quarantine_delete(f->q, "busy", "bob", "x"),
	    MUGAI_OK);
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_ERR_STATE);
	assert_non_null(strstr(mugai_quarantine_error(), "deleted"));
	assert_int_equal(verify(f, 0, &ps), 0);
}

struct racer {
	struct fx *f;
	int	 release;
	mugai_status rc;
	pthread_barrier_t *go;
};

static void *
racer_run(void *arg)
{
	struct racer *rc = arg;
	struct mugai_quarantine *q;
	struct mugai_qrelease req;
	char err[512];

	/* Its own handle: its own connection, as another process has. */
	assert_int_equal(mugai_quarantine_open(rc->f->cfg, &q, err,
	    sizeof(err)), MUGAI_OK);
	pthread_barrier_wait(rc->go);
	if (rc->release) {
		memset(&req, 0, sizeof(req));
		req.id = "race";
		req.to = "admin@lg.jp";
		req.reason = "r";
		req.actor = "alice";
		rc->rc = mugai_quarantine_release(q, &req);
	} else
		rc->rc = mugai_quarantine_delete(q, "race", "bob", "r");
	mugai_quarantine_close(q);
	return NULL;
}

/*
 * Release and delete of one message at once, 30 times: exactly one
 * wins, the other changes nothing, and the row, the file, what
 * sendmail got and the history agree.
 */
static void
test_release_delete_race(void **state)
{
	struct fx *f = *state;
	struct racer rel, del;
	pthread_barrier_t go;
	pthread_t t1, t2;
	struct mugai_qrecord *r;
	struct problems ps;
	struct hist h;
	char path[PATH_MAX + 16];
	int round, rel_won = 0, del_won = 0;

	snprintf(path, sizeof(path), "%s/stdin", f->root);
	for (round = 0; round < 30; round++) {
		sql(f, "DELETE FROM actions; DELETE FROM messages");
		unlink(path);
		assert_int_equal(store(f->q, "race", "a@b", "c@d", NULL,
		    "sanitised", 0, "race\n"), MUGAI_OK);
		pthread_barrier_init(&go, NULL, 2);
		rel.f = del.f = f;
		rel.go = del.go = &go;
		rel.release = 1;
		del.release = 0;
		assert_int_equal(pthread_create(&t1, NULL, racer_run, &rel), 0);
		assert_int_equal(pthread_create(&t2, NULL, racer_run, &del), 0);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		pthread_barrier_destroy(&go);
		r = get(f, "race");
		memset(&h, 0, sizeof(h));
		assert_int_equal(mugai_quarantine_history(f->q, "race",
		    collect_action, &h), MUGAI_OK);
		if (rel.rc == MUGAI_OK && del.rc == MUGAI_OK) {
			/* Only right if one ran wholly after the other. */
			assert_string_equal(r->status, "deleted");
			assert_string_equal(h.text, "alice|release|to=admin@lg.jp"
			    "|r;bob|delete||r;");
		} else if (rel.rc == MUGAI_OK) {
			assert_int_equal(del.rc, MUGAI_ERR_STATE);
			assert_string_equal(r->status, "released");
			assert_int_equal(access(r->path, F_OK), 0);
			assert_int_equal(access(path, F_OK), 0);
			assert_string_equal(h.text,
			    "alice|release|to=admin@lg.jp|r;");
			rel_won++;
		} else {
			assert_int_equal(rel.rc, MUGAI_ERR_STATE);
			assert_int_equal(del.rc, MUGAI_OK);
			assert_string_equal(r->status, "deleted");
			assert_int_equal(access(r->path, F_OK), -1);
			/* The deleted original never reached sendmail. */
			assert_int_equal(access(path, F_OK), -1);
			assert_string_equal(h.text, "bob|delete||r;");
			del_won++;
		}
		assert_int_equal(verify(f, 0, &ps), 0);
		unlink(r->path);
		mugai_qrecord_free(r);
	}
	print_message("release won %d, delete won %d of 30\n", rel_won,
	    del_won);
}

/* ---- schema upgrade ----------------------------------------------------- */

/* An index written by the first mugai gains "releasing" on opening. */
static void
test_schema_upgrade(void **state)
{
	struct fx *f = *state;
	struct mugai_quarantine *q = NULL;
	struct mugai_qrecord *r;
	struct problems ps;
	struct hist h;
	char err[512];
	sqlite3 *db;
	int v = -1;

	assert_int_equal(store(f->q, "old1", "a@b", "c@d", NULL, "sanitised",
	    1700000000, "one\n"), MUGAI_OK);
	assert_int_equal(mugai_quarantine_delete(f->q, "old1", "bob", "gone"),
	    MUGAI_OK);
	assert_int_equal(store(f->q, "old2", "a@b", "c@d", NULL, "sanitised",
	    1700000100, "two\n"), MUGAI_OK);
	mugai_quarantine_close(f->q);
	f->q = NULL;
	/* Back to version 1's table, as an old mugai left it. */
	sql(f, "PRAGMA foreign_keys = OFF; BEGIN; DROP TABLE requests;"
	    "CREATE TABLE m1 (id TEXT PRIMARY KEY NOT NULL, received INTEGER"
	    " NOT NULL, queue_id TEXT NOT NULL DEFAULT '', client_addr TEXT"
	    " NOT NULL DEFAULT '', sender TEXT NOT NULL DEFAULT '', recipients"
	    " TEXT NOT NULL DEFAULT '[]', subject TEXT NOT NULL DEFAULT '',"
	    " size INTEGER NOT NULL, sha256 TEXT NOT NULL, verdict TEXT NOT"
	    " NULL DEFAULT '', reasons TEXT NOT NULL DEFAULT '', report_json"
	    " TEXT NOT NULL DEFAULT '', notice TEXT NOT NULL DEFAULT '',"
	    " status TEXT NOT NULL CHECK (status IN ('held', 'released',"
	    " 'deleted')), path TEXT NOT NULL);"
	    "INSERT INTO m1 SELECT id, received, queue_id, client_addr, sender,"
	    " recipients, subject, size, sha256, verdict, reasons, report_json,"
	    " notice, status, path FROM messages;"
	    "DROP TABLE messages; ALTER TABLE m1 RENAME TO messages;"
	    "CREATE INDEX messages_received ON messages(received);"
	    "PRAGMA user_version = 1; COMMIT;");
	assert_int_equal(mugai_quarantine_open(f->cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	f->q = q;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version", int_cb, &v,
	    NULL), SQLITE_OK);
	assert_int_equal(v, 3);
	sqlite3_close(db);
	r = get(f, "old1");
	assert_string_equal(r->status, "deleted");
	mugai_qrecord_free(r);
	r = get(f, "old2");
	assert_string_equal(r->status, "held");
	assert_int_equal(r->received, 1700000100);
	mugai_qrecord_free(r);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "old1", collect_action,
	    &h), MUGAI_OK);
	assert_string_equal(h.text, "bob|delete||gone;");
	sql(f, "UPDATE messages SET status = 'releasing' WHERE id = 'old2';"
	    "UPDATE messages SET status = 'held' WHERE id = 'old2'");
	assert_int_equal(verify(f, 0, &ps), 0);
}

/* ---- a damaged index (issue 16, item 3) --------------------------------- */

static int
page_cb(void *arg, int n, char **v, char **names)
{
	(void)n; (void)names;
	*(long *)arg = atol(v[0]);
	return 0;
}

/* Overwrite the root page of table "messages" with garbage. */
static void
corrupt_messages_page(const struct fx *f)
{
	char junk[65536];
	long root = 0, psize = 0;
	sqlite3 *db;
	int fd;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "SELECT rootpage FROM sqlite_master"
	    " WHERE name = 'messages'", page_cb, &root, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA page_size", page_cb, &psize,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_true(root > 1 && psize > 0 && psize <= (long)sizeof(junk));
	memset(junk, 0x5a, sizeof(junk));
	assert_true((fd = open(f->db, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, junk, (size_t)psize, (root - 1) * psize),
	    psize);
	close(fd);
}

static void
rebuild_line(const char *line, void *arg)
{
	(void)line;
	(*(int *)arg)++;
}

/*
 * A corrupted page: verify says so (and what to do), a milter would
 * not start on it, and rebuild-index brings back every message with its
 * status and history from the originals and the audit log.
 */
static void
test_corrupt_index(void **state)
{
	struct fx *f = *state;
	struct mugai_quarantine *q = NULL;
	struct mugai_qrelease req;
	struct mugai_qrecord *r;
	struct problems ps;
	struct hist h;
	char err[1024], path[PATH_MAX + 64];
	size_t n = 0, i;
	int lines = 0;
	DIR *d;
	struct dirent *de;

	assert_int_equal(store(f->q, "ca", "a@b", "c@d", NULL, "sanitised", 0,
	    "From: x@example.org\r\nSubject: first\r\n\r\na\r\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "cb", "a@b", "c@d", NULL, "sanitised", 0,
	    "From: x@example.org\r\nSubject: second\r\n\r\nb\r\n"), MUGAI_OK);
	assert_int_equal(store(f->q, "cc", "a@b", "c@d", NULL, "sanitised", 0,
	    "From: x@example.org\r\nSubject: third\r\n\r\nc\r\n"), MUGAI_OK);
	memset(&req, 0, sizeof(req));
	req.id = "cb";
	req.to = "admin@lg.jp";
	req.reason = "needed";
	req.actor = "alice";
	assert_int_equal(mugai_quarantine_release(f->q, &req), MUGAI_OK);
	assert_int_equal(mugai_quarantine_delete(f->q, "cc", "bob", "spam"),
	    MUGAI_OK);
	assert_int_equal(mugai_quarantine_check_index(f->q, err, sizeof(err)),
	    MUGAI_OK);
	mugai_quarantine_close(f->q);
	f->q = NULL;
	corrupt_messages_page(f);

	assert_int_equal(mugai_quarantine_open(f->cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	f->q = q;
	assert_int_equal(mugai_quarantine_check_index(f->q, err, sizeof(err)),
	    MUGAI_ERR_IO);
	assert_non_null(strstr(err, "damaged"));
	assert_non_null(strstr(err, "rebuild-index"));
	n = verify(f, 0, &ps);
	assert_true(n >= 1);
	for (i = 0; i < ps.n && i < 16; i++)
		assert_int_equal(ps.kind[i], MUGAI_QPROB_INDEX);
	mugai_quarantine_close(f->q);
	f->q = NULL;

	assert_int_equal(mugai_quarantine_rebuild(f->cfg, rebuild_line, &lines,
	    &n), MUGAI_OK);
	assert_int_equal(n, 3);
	assert_true(lines > 0);
	assert_int_equal(mugai_quarantine_open(f->cfg, &q, err, sizeof(err)),
	    MUGAI_OK);
	f->q = q;
	assert_int_equal(mugai_quarantine_check_index(f->q, err, sizeof(err)),
	    MUGAI_OK);
	assert_int_equal(verify(f, 0, &ps), 0);
	r = get(f, "ca");
	assert_string_equal(r->status, "held");
	assert_string_equal(r->subject, "first");
	mugai_qrecord_free(r);
	r = get(f, "cb");
	assert_string_equal(r->status, "released");
	mugai_qrecord_free(r);
	r = get(f, "cc");
	assert_string_equal(r->status, "deleted");
	mugai_qrecord_free(r);
	memset(&h, 0, sizeof(h));
	assert_int_equal(mugai_quarantine_history(f->q, "cb", collect_action,
	    &h), MUGAI_OK);
	assert_string_equal(h.text, "alice|release|to=admin@lg.jp|needed;");
	/* The damaged file is kept beside the new one. */
	assert_non_null(d = opendir(f->qdir));
	n = 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "index.sqlite.damaged-", 21) == 0)
			n++;
	closedir(d);
	assert_int_equal(n, 1);
	snprintf(path, sizeof(path), "%s.rebuild", f->db);
	assert_int_equal(access(path, F_OK), -1);
}

/*
 * The index keeps at most quarantine_notice_max (8K) bytes of the
 * notice and text: longer text is cut before a character, at a line end
 * when one is near, and says how much was left out; shorter stays whole
 * (test_delete).  The original file is the whole message still.
 */
static void
store_notice(struct fx *f, const char *id, const char *notice)
{
	const char *rcpts[1] = { "c@d" };
	struct mugai_qentry e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.sender = "a@b";
	e.recipients = rcpts;
	e.nrecipients = 1;
	e.subject = "";
	e.verdict = "sanitised";
	e.reasons = "";
	e.report_json = "{}";
	e.notice = notice;
	assert_int_equal(mugai_quarantine_store(f->q, &e, notice,
	    strlen(notice)), MUGAI_OK);
}

static void
test_notice_bounded(void **state)
{
	static const char line[] = "本日の会議は午後3時からです。\n";
	struct fx *f = *state;
	struct mugai_qrecord *r;
	struct mugai_buf text, out;
	char more[64];
	size_t i, kept;

	/* Lines: cut at the last line end before 8K. */
	mugai_buf_init(&text, 0);
	assert_int_equal(mugai_buf_puts(&text, "notice / 通知\n"), MUGAI_OK);
	for (i = 0; i < 1000; i++)
		assert_int_equal(mugai_buf_puts(&text, line), MUGAI_OK);
	store_notice(f, "longlines", text.data);
	r = get(f, "longlines");
	kept = strcspn(r->notice, "[");
	assert_true(kept <= 8192 && kept > 8192 - sizeof(line));
	assert_memory_equal(r->notice, text.data, kept);
	assert_int_equal(text.data[kept - 1], '\n');
	snprintf(more, sizeof(more), "[... %zu bytes more not kept",
	    text.len - (kept - 1));
	assert_non_null(strstr(r->notice + kept, more));
	assert_true(mugai_utf8_valid(r->notice, strlen(r->notice)));
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_quarantine_read(f->q, r, &out), MUGAI_OK);
	assert_int_equal(out.len, text.len);
	mugai_buf_free(&out);
	mugai_qrecord_free(r);
	mugai_buf_free(&text);

	/* One line of 3-byte characters: cut before the one at 8K. */
	mugai_buf_init(&text, 0);
	for (i = 0; i < 3000; i++)
		assert_int_equal(mugai_buf_puts(&text, "あ"), MUGAI_OK);
	store_notice(f, "oneline", text.data);
	r = get(f, "oneline");
	assert_memory_equal(r->notice, text.data, 8190);
	assert_int_equal(r->notice[8190], '\n');
	snprintf(more, sizeof(more), "[... %zu bytes more not kept",
	    text.len - 8190);
	assert_non_null(strstr(r->notice, more));
	assert_true(mugai_utf8_valid(r->notice, strlen(r->notice)));
	mugai_qrecord_free(r);
	mugai_buf_free(&text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_store_concurrent),
		T(test_group_commit),
		T(test_group_commit_fails),
		T(test_store_faults),
		T(test_store_efbig),
		T(test_crash_after_rename),
		T(test_crash_before_rename),
		T(test_duplicate_id),
		T(test_prepare),
		T(test_bad_ids),
		T(test_db_locked),
		T(test_schema_version),
		T(test_list_filters),
		T(test_delete),
		T(test_notice_bounded),
		T(test_purge_age),
		T(test_verify_problems),
		cmocka_unit_test(test_part_extract),
		T(test_release_whole),
		T(test_release_dangerous),
		T(test_release_part),
		T(test_report_parts),
		T(test_audit),
		T(test_audit_rotated),
		T(test_db_locked_bound),
		T(test_release_claim),
		T(test_release_delete_race),
		T(test_schema_upgrade),
		T(test_corrupt_index),
#undef T
	};
	int rc;

	mugai_log_open("test_quarantine", MUGAI_LOG_NONE, 0, LOG_DEBUG);
	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
