/*
 * test_worker.c - the worker plumbing (src/cdr/worker.c) and the sandbox of
 * mugai-convert (convert/sandbox.c), through its test-* modes.
 *
 * $MUGAI_CONVERT names the mugai-convert to run (tests/run-unit sets
 * it); the sandbox tests are skipped without it.  Plain programs
 * (/bin/sh, /usr/bin/env) test the plumbing itself, and a shell script
 * that counts its running copies tests the gate (convert_max_workers).
 * The sandbox tests run twice: spawned (mugai_worker_run) and forked by
 * the zygote (mugai_worker_convert), which has tests of its own: a
 * fresh process per document, a killed zygote replaced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mugai/cdr/worker.h"

#define MB		((size_t)1 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/* 1 while the zygote group runs: run_mode goes through the zygote. */
static int use_zygote;

static const char *
convert_path(void)
{
	const char *p = getenv("MUGAI_CONVERT");

	return p != NULL && p[0] != '\0' ? p : NULL;
}

/* Run mugai-convert MODE [OPTION]; OK expected whatever the ending. */
static void
run_mode(const char *mode, const char *opt, const void *in, size_t inlen,
    const struct mugai_worker_limits *lim, struct mugai_buf *out,
    struct mugai_worker_status *st)
{
	const char *argv[] = { convert_path(), mode, opt, NULL };

	assert_int_equal((use_zygote ? mugai_worker_convert :
	    mugai_worker_run)(argv, in, inlen, lim, out, st), MUGAI_OK);
}

static int
need_convert(void **state)
{
	(void)state;
	if (convert_path() != NULL)
		return 0;
	print_message("MUGAI_CONVERT is not set: skipping the sandbox "
	    "tests (run them through tests/run-unit)\n");
	return -1;
}

/* 5 MB through test-ok, far more than a pipe holds, both ways. */
static void
test_ok_big(void **state)
{
	struct mugai_worker_limits lim = { 60, 16 * MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	size_t i, n = 5 * MB;
	unsigned char *in;

	(void)state;
	if (need_convert(state) != 0)
		skip();
	in = malloc(n);
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (unsigned char)(i * 7 + i / 65521);
	mugai_buf_init(&out, 0);
	run_mode("test-ok", NULL, in, n, &lim, &out, &st);
	if (st.end != MUGAI_WORKER_DONE)
		fail_msg("test-ok ended %d sig %d: %s", st.end, st.sig,
		    st.message);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, in, n);
	mugai_buf_free(&out);
	free(in);
}

/*
 * Every forbidden call ends in SIGSYS from the seccomp filter: among
 * them stat and statx on a path (no metadata of files in the strict
 * modes) and, in the mode that reads fonts, an O_PATH open (which
 * Landlock does not check).
 */
static void
test_forbidden(void **state)
{
	static const char *const modes[] = { "test-open", "test-write-file",
	    "test-connect", "test-exec", "test-fork", "test-stat",
	    "test-statx", "test-open-path", "test-tgkill-parent" };
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	size_t i;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		run_mode(modes[i], NULL, "x", 1, &lim, &out, &st);
		if (st.end != MUGAI_WORKER_SIGNAL || st.sig != SIGSYS)
			fail_msg("%s ended %d code %d sig %d: %s", modes[i],
			    st.end, st.code, st.sig, st.message);
	}
	mugai_buf_free(&out);
	unlink("/tmp/mugai-test-write-file");
}

/* fstat on a descriptor (no path) stays allowed: the control. */
static void
test_fstat_allowed(void **state)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-fstat", NULL, "x", 1, &lim, &out, &st);
	if (st.end != MUGAI_WORKER_DONE)
		fail_msg("test-fstat ended %d code %d sig %d: %s", st.end,
		    st.code, st.sig, st.message);
	mugai_buf_free(&out);
}

/*
 * tgkill to ourselves stays allowed (abort): the filter carries this
 * worker's own pid, set as it is loaded, spawned or forked by the
 * zygote (test_forbidden: another pid ends in SIGSYS).
 */
static void
test_abort_own_pid(void **state)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	int i;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	for (i = 0; i < 2; i++) {
		run_mode("test-abort", NULL, "x", 1, &lim, &out, &st);
		if (st.end != MUGAI_WORKER_SIGNAL || st.sig != SIGABRT)
			fail_msg("test-abort ended %d code %d sig %d: %s",
			    st.end, st.code, st.sig, st.message);
	}
	mugai_buf_free(&out);
}

/*
 * The mode that reads fonts (pdf) may read nothing else: Landlock
 * refuses /etc/passwd (the worker exits 1 saying so), while a font
 * configuration file opens (so the refusal is about the path).
 */
static void
test_read_outside_fonts(void **state)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-read-secret", NULL, "x", 1, &lim, &out, &st);
	if (st.end != MUGAI_WORKER_EXIT || st.code != 1 ||
	    strstr(st.message, "Permission denied") == NULL)
		fail_msg("test-read-secret ended %d code %d sig %d: %s",
		    st.end, st.code, st.sig, st.message);
	run_mode("test-read-font", NULL, "x", 1, &lim, &out, &st);
	if (st.end != MUGAI_WORKER_DONE)
		fail_msg("test-read-font ended %d code %d sig %d: %s",
		    st.end, st.code, st.sig, st.message);
	mugai_buf_free(&out);
}

/* Running out of memory is a failure, never a success. */
static void
test_memory(void **state)
{
	struct mugai_worker_limits lim = { 120, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-memory", "--memory=268435456", "", 0, &lim, &out, &st);
	assert_true(st.end == MUGAI_WORKER_SIGNAL ||
	    (st.end == MUGAI_WORKER_EXIT && st.code != 0));
	mugai_buf_free(&out);
}

static void
test_spin(void **state)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-spin", "--cpu=1", "", 0, &lim, &out, &st);
	assert_int_equal(st.end, MUGAI_WORKER_SIGNAL);
	assert_true(st.sig == SIGXCPU || st.sig == SIGKILL);
	mugai_buf_free(&out);
}

static void
test_sleep(void **state)
{
	struct mugai_worker_limits lim = { 1, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	char line[300];

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-sleep", NULL, "", 0, &lim, &out, &st);
	assert_int_equal(st.end, MUGAI_WORKER_TIMEOUT);
	mugai_worker_describe(&st, line, sizeof(line));
	assert_string_equal(line, "timed out after 1 s");
	mugai_buf_free(&out);
}

static void
test_flood(void **state)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	char line[300];

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-flood", NULL, "", 0, &lim, &out, &st);
	assert_int_equal(st.end, MUGAI_WORKER_OUTPUT);
	assert_true(out.len <= MB);
	mugai_worker_describe(&st, line, sizeof(line));
	assert_string_equal(line, "output over 1048576 bytes");
	mugai_buf_free(&out);
}

static void
test_unknown_mode(void **state)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;

	if (need_convert(state) != 0)
		skip();
	mugai_buf_init(&out, 0);
	run_mode("test-nonesuch", NULL, "", 0, &lim, &out, &st);
	assert_int_equal(st.end, MUGAI_WORKER_EXIT);
	assert_int_equal(st.code, MUGAI_CONVERT_EXIT_USAGE);
	assert_string_equal(st.message, "unknown test mode test-nonesuch");
	mugai_buf_free(&out);
}

/* Run /bin/sh -c SCRIPT; returns the status. */
static mugai_status
run_sh(const char *script, const void *in, size_t inlen,
    struct mugai_buf *out, struct mugai_worker_status *st)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct mugai_worker_limits lim = { 60, 16 * MB, 0 };

	return mugai_worker_run(argv, in, inlen, &lim, out, st);
}

/* A worker that never reads: no hang, and no SIGPIPE for us. */
static void
test_no_read(void **state)
{
	struct mugai_worker_status st;
	struct mugai_buf out;
	size_t n = 5 * MB;
	sigset_t pending;
	char *in;

	(void)state;
	in = calloc(1, n);
	assert_non_null(in);
	mugai_buf_init(&out, 0);
	assert_int_equal(run_sh("exec 0<&-; echo bye", in, n, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	assert_string_equal(out.data, "bye\n");
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	mugai_buf_free(&out);
	free(in);
}

/* Exit code, and the first line of stderr, sanitised and capped. */
static void
test_exit_message(void **state)
{
	struct mugai_worker_status st;
	struct mugai_buf out;
	char line[300], want[256];

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run_sh("printf 'bad\\033[31m input\\nmore\\n' >&2; "
	    "exit 12", "", 0, &out, &st), MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_EXIT);
	assert_int_equal(st.code, 12);
	assert_string_equal(st.message, "bad?[31m input");
	mugai_worker_describe(&st, line, sizeof(line));
	assert_string_equal(line, "exit 12: bad?[31m input");
	/* 300 KB on stderr: drained, the first 255 bytes kept. */
	assert_int_equal(run_sh("head -c 300000 /dev/zero | tr '\\0' x >&2",
	    "", 0, &out, &st), MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	memset(want, 'x', 255);
	want[255] = '\0';
	assert_string_equal(st.message, want);
	mugai_buf_free(&out);
}

/* Nothing but 0, 1 and 2 reaches the worker, even without CLOEXEC. */
static void
test_no_fd_leak(void **state)
{
	struct mugai_worker_status st;
	struct mugai_buf out;
	int fd;

	(void)state;
	fd = dup(2);
	assert_true(fd > 2);
	mugai_buf_init(&out, 0);
	assert_int_equal(run_sh("ls /proc/$$/fd", "", 0, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	assert_string_equal(out.data, "0\n1\n2\n");
	mugai_buf_free(&out);
	close(fd);
}

/* Only PATH, LANG and the sanitizers' options are passed on. */
static void
test_environment(void **state)
{
	const char *argv[] = { "/usr/bin/env", NULL };
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	char *line, *save;

	(void)state;
	setenv("MUGAI_TEST_SECRET", "leak", 1);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_worker_run(argv, NULL, 0, &lim, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	assert_non_null(strstr(out.data, "PATH=/usr/bin:/bin\n"));
	assert_non_null(strstr(out.data, "LANG=C.UTF-8\n"));
	for (line = strtok_r(out.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "PATH=", 5) != 0 &&
		    strncmp(line, "LANG=", 5) != 0 &&
		    strncmp(line, "ASAN_OPTIONS=", 13) != 0 &&
		    strncmp(line, "UBSAN_OPTIONS=", 14) != 0)
			fail_msg("unexpected in the environment: %s", line);
	mugai_buf_free(&out);
	unsetenv("MUGAI_TEST_SECRET");
}

/* A child left in the background dies with the worker. */
static void
test_group_killed(void **state)
{
	struct mugai_worker_status st;
	struct mugai_buf out;
	char path[64], buf[512], *p;
	int fd, i, dead = 0;
	ssize_t n;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run_sh("sleep 1000 & echo $!", "", 0, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	snprintf(path, sizeof(path), "/proc/%ld/stat", atol(out.data));
	for (i = 0; i < 500 && !dead; i++) {
		if ((fd = open(path, O_RDONLY)) < 0) {
			dead = 1;
			break;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strrchr(buf, ')');
		dead = p != NULL && (p[2] == 'Z' || p[2] == 'X');
		if (!dead)
			usleep(10000);
	}
	assert_true(dead);
	mugai_buf_free(&out);
}

/* Descriptors open in this process. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_not_found(void **state)
{
	const char *argv[] = { "/nonexistent/mugai-convert", "image", NULL };
	const char *rel[] = { "mugai-convert", NULL };
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	int nfd;

	(void)state;
	nfd = count_fds();
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_worker_run(argv, "x", 1, &lim, &out, &st),
	    MUGAI_ERR_NOTFOUND);
	assert_int_equal(mugai_worker_run(rel, "x", 1, &lim, &out, &st),
	    MUGAI_ERR_USAGE);
	/* No pipe was left open. */
	assert_int_equal(count_fds(), nfd);
	mugai_buf_free(&out);
}

static void
test_describe(void **state)
{
	static const struct {
		struct mugai_worker_status st;
		const char *want;
	} cases[] = {
		{ { MUGAI_WORKER_DONE, 0, 0, "" }, "done" },
		{ { MUGAI_WORKER_EXIT, 11, 0, "image is 100000 x 100000 "
		    "pixels" }, "exit 11: image is 100000 x 100000 pixels" },
		{ { MUGAI_WORKER_SIGNAL, 0, SIGSYS, "" },
		    "killed by signal 31 (SIGSYS)" },
		{ { MUGAI_WORKER_SIGNAL, 0, SIGABRT, "out of memory" },
		    "killed by signal 6 (SIGABRT): out of memory" },
		{ { MUGAI_WORKER_TIMEOUT, 30, 0, "" }, "timed out after 30 s" },
		{ { MUGAI_WORKER_OUTPUT, 52428800, 0, "" },
		    "output over 52428800 bytes" },
	};
	char line[300], small[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mugai_worker_describe(&cases[i].st, line, sizeof(line));
		assert_string_equal(line, cases[i].want);
	}
	mugai_worker_describe(&cases[1].st, small, sizeof(small));
	assert_string_equal(small, "exit 11");
}

static void
test_path(void **state)
{
	struct mugai_config cfg;
	char out[4096], *saved = NULL;
	const char *env = getenv("MUGAI_CONVERT");

	(void)state;
	if (env != NULL)
		saved = strdup(env);
	memset(&cfg, 0, sizeof(cfg));
	setenv("MUGAI_CONVERT", "/bin/true", 1);
	cfg.convert_worker = (char *)"/bin/false";
	assert_int_equal(mugai_worker_path(&cfg, out, sizeof(out)), MUGAI_OK);
	assert_string_equal(out, "/bin/true");
	unsetenv("MUGAI_CONVERT");
	assert_int_equal(mugai_worker_path(&cfg, out, sizeof(out)), MUGAI_OK);
	assert_string_equal(out, "/bin/false");
	assert_int_equal(mugai_worker_path(&cfg, out, 4),
	    MUGAI_ERR_LIMIT);
	cfg.convert_worker = (char *)"bin/false";
	assert_int_equal(mugai_worker_path(&cfg, out, sizeof(out)),
	    MUGAI_ERR_NOTFOUND);
	cfg.convert_worker = (char *)"/etc/passwd";
	assert_int_equal(mugai_worker_path(&cfg, out, sizeof(out)),
	    MUGAI_ERR_NOTFOUND);
	/* Beside this test program: build/tests/ has no mugai-convert. */
	cfg.convert_worker = (char *)"";
	assert_int_equal(mugai_worker_path(&cfg, out, sizeof(out)),
	    MUGAI_ERR_NOTFOUND);
	if (saved != NULL)
		setenv("MUGAI_CONVERT", saved, 1);
	free(saved);
}

/* ---- the gate: at most max_workers at once ----------------------------- */

/*
 * A worker that notes how many of its copies run as it starts (one line
 * per run in DIR/seen), then sleeps $1 seconds.  Each copy makes its
 * marker before it counts, so the last of k copies running together
 * sees k.
 */
static const char gate_script[] =
    "#!/bin/sh\n"
    "d=${0%/*}\n"
    ": > \"$d/run.$$\"\n"
    "ls \"$d\" | grep -c '^run\\.' >> \"$d/seen\"\n"
    "sleep \"$1\"\n"
    "rm -f \"$d/run.$$\"\n";

struct gate_job {
	const char *argv[3];
	struct mugai_worker_limits lim;
	struct mugai_worker_status st;
	mugai_status rc;
};

static void
gate_dir(char *dir, size_t len, char *script, size_t slen)
{
	FILE *fp;

	snprintf(dir, len, "%s/gate.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(script, slen, "%s/worker.sh", dir);
	assert_non_null(fp = fopen(script, "w"));
	fputs(gate_script, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(script, 0755), 0);
}

/* Lines in DIR/seen (runs started) and the largest count in them. */
static void
gate_seen(const char *dir, int *runs, int *most)
{
	char path[512], line[64];
	FILE *fp;

	*runs = *most = 0;
	snprintf(path, sizeof(path), "%s/seen", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		(*runs)++;
		if (atoi(line) > *most)
			*most = atoi(line);
	}
	fclose(fp);
}

static void
gate_clean(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void *
gate_thread(void *arg)
{
	struct gate_job *j = arg;
	struct mugai_buf out;

	mugai_buf_init(&out, MB);
	j->rc = mugai_worker_run(j->argv, "", 0, &j->lim, &out, &j->st);
	mugai_buf_free(&out);
	return NULL;
}

/* n jobs of the script at once under max; how many ran, most together. */
static void
gate_burst(unsigned max, int n, const char *secs, int *runs, int *most)
{
	char dir[256], script[300];
	struct gate_job jobs[8];
	pthread_t tid[8];
	int i;

	assert_true(n <= 8);
	gate_dir(dir, sizeof(dir), script, sizeof(script));
	for (i = 0; i < n; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].argv[0] = script;
		jobs[i].argv[1] = secs;
		jobs[i].lim.timeout_s = 120;
		jobs[i].lim.output_max = MB;
		jobs[i].lim.max_workers = max;
		assert_int_equal(pthread_create(&tid[i], NULL, gate_thread,
		    &jobs[i]), 0);
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(jobs[i].rc, MUGAI_OK);
		assert_int_equal(jobs[i].st.end, MUGAI_WORKER_DONE);
	}
	gate_seen(dir, runs, most);
	gate_clean(dir);
}

/* Six documents, two slots: all done, never more than two at once. */
static void
test_gate_bounds(void **state)
{
	int runs, most;

	(void)state;
	gate_burst(2, 6, "1", &runs, &most);
	print_message("# 6 runs under max_workers=2: %d ran, at most %d at "
	    "once\n", runs, most);
	assert_int_equal(runs, 6);
	assert_true(most >= 1 && most <= 2);
}

/* The same burst ungated overlaps: the bound above is the gate's. */
static void
test_gate_off(void **state)
{
	int runs, most;

	(void)state;
	gate_burst(0, 5, "3", &runs, &most);
	print_message("# 5 runs ungated: %d ran, at most %d at once\n", runs,
	    most);
	assert_int_equal(runs, 5);
	assert_true(most >= 3);
}

/*
 * One slot, held for 4 s: a document with a 1 s timeout gives up
 * waiting, as a timeout, without running; its message says why.
 */
static void
test_gate_timeout(void **state)
{
	char dir[256], script[300];
	struct gate_job busy, late;
	struct timespec t0, t1;
	pthread_t tid;
	int runs, most, tries;

	(void)state;
	gate_dir(dir, sizeof(dir), script, sizeof(script));
	memset(&busy, 0, sizeof(busy));
	busy.argv[0] = script;
	busy.argv[1] = "4";
	busy.lim.timeout_s = 120;
	busy.lim.output_max = MB;
	busy.lim.max_workers = 1;
	assert_int_equal(pthread_create(&tid, NULL, gate_thread, &busy), 0);
	for (tries = 0; tries < 300; tries++) {	/* until it runs */
		gate_seen(dir, &runs, &most);
		if (runs > 0)
			break;
		usleep(10000);
	}
	assert_int_equal(runs, 1);
	late = busy;
	late.argv[1] = "0";
	late.lim.timeout_s = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gate_thread(&late);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(late.rc, MUGAI_OK);
	assert_int_equal(late.st.end, MUGAI_WORKER_TIMEOUT);
	assert_non_null(strstr(late.st.message, "convert_max_workers"));
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	gate_seen(dir, &runs, &most);
	assert_int_equal(runs, 1);		/* it never started */
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(busy.st.end, MUGAI_WORKER_DONE);
	gate_clean(dir);
}

/*
 * A slot taken by mugai_worker_slot_take (the PDF rebuild's) is one of
 * the max: another thread's document waits and gives up as a timeout
 * without running, while the holder's own worker runs in that slot.
 * Takes nest; after the last give another thread runs at once.
 */
static void
test_slot_held(void **state)
{
	char dir[256], script[300];
	struct gate_job mine, other;
	int runs, most;

	(void)state;
	gate_dir(dir, sizeof(dir), script, sizeof(script));
	memset(&mine, 0, sizeof(mine));
	mine.argv[0] = script;
	mine.argv[1] = "0";
	mine.lim.timeout_s = 30;
	mine.lim.output_max = MB;
	mine.lim.max_workers = 1;
	other = mine;
	other.lim.timeout_s = 1;

	assert_int_equal(mugai_worker_slot_take(1, 5), 1);
	assert_int_equal(mugai_worker_slot_take(1, 5), 1);	/* nested */
	gate_thread(&mine);
	assert_int_equal(mine.rc, MUGAI_OK);
	assert_int_equal(mine.st.end, MUGAI_WORKER_DONE);
	{
		pthread_t tid;

		assert_int_equal(pthread_create(&tid, NULL, gate_thread,
		    &other), 0);
		assert_int_equal(pthread_join(tid, NULL), 0);
	}
	assert_int_equal(other.st.end, MUGAI_WORKER_TIMEOUT);
	assert_non_null(strstr(other.st.message, "convert_max_workers"));
	gate_seen(dir, &runs, &most);
	assert_int_equal(runs, 1);		/* only the holder's */

	mugai_worker_slot_give(1);		/* still held: nested */
	assert_int_equal(mugai_worker_slot_take(1, 0), 1);
	mugai_worker_slot_give(1);
	mugai_worker_slot_give(1);		/* now free */
	{
		pthread_t tid;

		other.lim.timeout_s = 30;
		assert_int_equal(pthread_create(&tid, NULL, gate_thread,
		    &other), 0);
		assert_int_equal(pthread_join(tid, NULL), 0);
	}
	assert_int_equal(other.st.end, MUGAI_WORKER_DONE);
	gate_seen(dir, &runs, &most);
	assert_int_equal(runs, 2);
	gate_clean(dir);
}

/* test-pid through the zygote: the child's pid and its parent's. */
static void
zygote_pids(long *pid, long *ppid)
{
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;

	mugai_buf_init(&out, 0);
	run_mode("test-pid", NULL, "", 0, &lim, &out, &st);
	if (st.end != MUGAI_WORKER_DONE)
		fail_msg("test-pid ended %d code %d sig %d: %s", st.end,
		    st.code, st.sig, st.message);
	assert_int_equal(sscanf(out.data, "%ld %ld", pid, ppid), 2);
	mugai_buf_free(&out);
}

/* The state letter of /proc/PID/stat; 0 when it is gone. */
static char
proc_state(long pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

/* Whether PID's command line is "... zygote". */
static int
is_zygote(long pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return n > 8 && strcmp(buf + n - 7, "zygote") == 0;
}

/* Threads of PID (fork is safe only in a process of one thread). */
static int
threads_of(long pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Six documents: six processes, none used twice, each a child of the
 * same zygote (not of this process, and of one thread), each gone once
 * its answer is in.
 */
static void
test_zygote_fresh(void **state)
{
	long pid[6], ppid[6];
	int i, j;

	if (need_convert(state) != 0)
		skip();
	for (i = 0; i < 6; i++) {
		zygote_pids(&pid[i], &ppid[i]);
		assert_true(ppid[i] != (long)getpid());
		assert_int_equal(ppid[i], ppid[0]);
		assert_true(is_zygote(ppid[i]));
		assert_int_equal(threads_of(ppid[i]), 1);
		assert_int_equal(proc_state(pid[i]), 0);
		for (j = 0; j < i; j++)
			assert_true(pid[j] != pid[i]);
	}
}

/*
 * A child of the zygote is sandboxed as a spawned worker is: the
 * forbidden calls end in SIGSYS, and the same zygote forked each (it
 * served the documents before and after).
 */
static void
test_zygote_sandboxed(void **state)
{
	static const char *const modes[] = { "test-open", "test-connect",
	    "test-exec", "test-fork", "test-stat", "test-tgkill-parent" };
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	long pid, before, after;
	size_t i;

	if (need_convert(state) != 0)
		skip();
	zygote_pids(&pid, &before);
	mugai_buf_init(&out, 0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		run_mode(modes[i], NULL, "x", 1, &lim, &out, &st);
		if (st.end != MUGAI_WORKER_SIGNAL || st.sig != SIGSYS)
			fail_msg("%s ended %d code %d sig %d: %s", modes[i],
			    st.end, st.code, st.sig, st.message);
	}
	mugai_buf_free(&out);
	zygote_pids(&pid, &after);
	assert_int_equal(before, after);
}

struct sleeper {
	struct mugai_worker_status st;
	mugai_status rc;
};

static void *
sleeper_thread(void *arg)
{
	struct sleeper *s = arg;
	struct mugai_worker_limits lim = { 60, MB, 0 };
	struct mugai_buf out;
	const char *argv[] = { convert_path(), "test-sleep", NULL };

	mugai_buf_init(&out, 0);
	s->rc = mugai_worker_convert(argv, "", 0, &lim, &out, &s->st);
	mugai_buf_free(&out);
	return NULL;
}

/* Wait until PID is a zombie or gone (ours to reap: the zygote's). */
static void
wait_dead(long pid)
{
	char c;
	int i;

	for (i = 0; i < 500; i++) {
		c = proc_state(pid);
		if (c == 0 || c == 'Z' || c == 'X')
			return;
		usleep(10000);
	}
	fail_msg("process %ld did not die", pid);
}

/*
 * The zygote killed while its child works on a document: that document
 * fails at once (never "done"), its child dies with the zygote, and the
 * next document gets a new zygote.
 */
static void
test_zygote_recovered(void **state)
{
	struct sleeper s;
	struct timespec t0, t1;
	pthread_t tid;
	long pid, zpid, pid2, zpid2;
	char line[300];

	if (need_convert(state) != 0)
		skip();
	zygote_pids(&pid, &zpid);
	memset(&s, 0, sizeof(s));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&tid, NULL, sleeper_thread, &s), 0);
	usleep(300000);
	assert_int_equal(kill((pid_t)zpid, SIGKILL), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(s.rc, MUGAI_OK);
	mugai_worker_describe(&s.st, line, sizeof(line));
	print_message("# the sleeper, its zygote killed: %s\n", line);
	assert_int_equal(s.st.end, MUGAI_WORKER_SIGNAL);
	assert_true(t1.tv_sec - t0.tv_sec < 20);
	wait_dead(zpid);
	zygote_pids(&pid2, &zpid2);
	assert_true(zpid2 != zpid);
	assert_true(zpid2 != (long)getpid());
	assert_true(is_zygote(zpid2));
	/* And once more with no document running when it dies. */
	assert_int_equal(kill((pid_t)zpid2, SIGKILL), 0);
	wait_dead(zpid2);
	zygote_pids(&pid, &zpid);
	assert_true(zpid != zpid2 && is_zygote(zpid));
}

static int
zygote_on(void **state)
{
	(void)state;
	use_zygote = 1;
	return 0;
}

static int
zygote_off(void **state)
{
	(void)state;
	mugai_worker_zygote_stop();
	use_zygote = 0;
	return 0;
}

int
main(void)
{
	/* The sandbox and its limits, for workers forked by the zygote. */
	const struct CMUnitTest zygote[] = {
		cmocka_unit_test(test_ok_big),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_fstat_allowed),
		cmocka_unit_test(test_abort_own_pid),
		cmocka_unit_test(test_read_outside_fonts),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_spin),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_unknown_mode),
		cmocka_unit_test(test_zygote_fresh),
		cmocka_unit_test(test_zygote_sandboxed),
		cmocka_unit_test(test_zygote_recovered),
	};
#ifdef TEST_ASAN
	const int asan = 1;
#else
	const int asan = 0;
#endif
	int failed;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_big),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_fstat_allowed),
		cmocka_unit_test(test_abort_own_pid),
		cmocka_unit_test(test_read_outside_fonts),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_spin),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_unknown_mode),
		cmocka_unit_test(test_no_read),
		cmocka_unit_test(test_exit_message),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_group_killed),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_gate_bounds),
		cmocka_unit_test(test_gate_off),
		cmocka_unit_test(test_gate_timeout),
		cmocka_unit_test(test_slot_held),
	};

	failed = cmocka_run_group_tests_name("spawned", tests, NULL, NULL);
	/* Under ASan mugai_worker_convert spawns: nothing to test here. */
	if (asan)
		return failed;
	return failed + cmocka_run_group_tests_name("zygote", zygote,
	    zygote_on, zygote_off);
}
