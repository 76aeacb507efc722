/*
 * copycost.c - where the time of one sanitised copy goes, with the worker
 * spawned for each document and forked by the zygote, side by side (the
 * two alternate, run by run, so other load on the machine hits both).
 * A benchmark: it prints numbers and asserts nothing.
 *
 *   copycost CONVERT DBDIR RUNS TYPE=FILE...
 *
 * TYPE is png, docx or pdf.  For each file, in ms (median wall; cpu is
 * the mean CPU time of one copy: this process, its reaped children and,
 * for the zygote, the zygote's reaped children):
 *
 *   start      a worker that does nothing (test-ok, no input): process
 *              start and dynamic linking (spawned) or fork (zygote), the
 *              sandbox set-up, exit and reaping
 *   sandbox    the sandbox set-up alone (sandbox_enter in a forked
 *              child of this process), for the file's mode
 *   decode     the mode's converter called in this process on the file
 *              (parse and write primitive data; no process, no sandbox)
 *   worker     mugai-convert MODE on the file: start + decode + pipes
 *   copy       mugai_convert: the worker, then checking and rebuilding
 *              the copy in this process (PNG/JPEG/PDF encode, zip)
 *   rebuild    copy - worker
 *   scan       libclamav on the copy, from memory
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/cdr/convert.h"
#include "mugai/cdr/worker.h"
#include "mugai/scan/scan.h"
#include "../convert/convert.h"

#define RUNS_MAX	1000

typedef mugai_status worker_fn(const char *const argv[], const void *in,
    size_t inlen, const struct mugai_worker_limits *lim,
    struct mugai_buf *out, struct mugai_worker_status *st);

struct kind {
	const char *name, *mode, *mime;
	enum mugai_action act;
	convert_fn *fn;
	unsigned needs;
};

static const struct kind kinds[] = {
	{ "png", "image", "image/png", MUGAI_ACT_IMAGE, convert_image, 0 },
	{ "docx", "ooxml", "application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document", MUGAI_ACT_OOXML,
	    convert_ooxml_framed, 0 },
	{ "pdf", "pdf", "application/pdf", MUGAI_ACT_PDF, convert_pdf,
	    SANDBOX_READ_FILES },
};

static const char *convert_path;
static long zygote_pid;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU ms of this process, its reaped children and the zygote's. */
static double
cpu_ms(void)
{
	struct rusage self, kids;
	char path[64], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	double ms;
	FILE *fp;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	ms = (self.ru_utime.tv_sec + kids.ru_utime.tv_sec +
	    self.ru_stime.tv_sec + kids.ru_stime.tv_sec) * 1e3 +
	    (self.ru_utime.tv_usec + kids.ru_utime.tv_usec +
	    self.ru_stime.tv_usec + kids.ru_stime.tv_usec) / 1e3;
	if (zygote_pid <= 0)
		return ms;
	snprintf(path, sizeof(path), "/proc/%ld/stat", zygote_pid);
	if ((fp = fopen(path, "r")) == NULL)
		return ms;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %llu %llu", &ut, &st, &cut, &cst) == 4)
		ms += (double)(ut + st + cut + cst) * 1e3 /
		    (double)sysconf(_SC_CLK_TCK);
	fclose(fp);
	return ms;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0)
		exit(1);
	rewind(fp);
	if ((p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, fp) != (size_t)n)
		exit(1);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

/* One worker run: ms of wall time; exits when it did not finish. */
static double
worker_once(worker_fn *fn, const char *mode, const void *in, size_t len)
{
	const char *argv[] = { convert_path, mode, "--memory=2147483648",
	    "--max-pages=50", NULL };
	struct mugai_worker_limits lim = { 60, (size_t)512 << 20, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	double t0 = now_ms();

	mugai_buf_init(&out, 0);
	if (fn(argv, in, len, &lim, &out, &st) != MUGAI_OK ||
	    st.end != MUGAI_WORKER_DONE) {
		fprintf(stderr, "copycost: %s did not finish: %s\n", mode,
		    st.message);
		exit(1);
	}
	t0 = now_ms() - t0;
	mugai_buf_free(&out);
	return t0;
}

/* The sandbox set-up alone, in a forked child: ms. */
static double
sandbox_once(unsigned needs)
{
	struct convert_opts o;
	double t = -1;
	char why[256];
	int p[2];
	pid_t pid;

	memset(&o, 0, sizeof(o));
	o.memory = (size_t)2 << 30;
	o.cpu_s = 60;
	if (pipe(p) != 0 || (pid = fork()) < 0)
		exit(1);
	if (pid == 0) {
		double t0 = now_ms();

		/* The filter lets it write to stdout only. */
		if (dup2(p[1], 1) != 1)
			_exit(1);
		close(p[0]);
		close(p[1]);
		t0 = now_ms();
		if (sandbox_enter(&o, needs, why, sizeof(why)) != 0)
			_exit(1);
		t0 = now_ms() - t0;
		_exit(write(1, &t0, sizeof(t0)) == sizeof(t0) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &t, sizeof(t)) != sizeof(t))
		t = -1;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return t;
}

static double
decode_once(const struct kind *k, const void *in, size_t len)
{
	struct convert_opts o;
	struct mugai_buf out;
	char why[256];
	double t0;

	memset(&o, 0, sizeof(o));
	o.memory = (size_t)2 << 30;
	o.cpu_s = 60;
	o.max_pixels = 50000000;
	o.max_pages = 50;
	o.dpi = 150;
	o.max_members = 1000;
	o.max_total = (size_t)100 << 20;
	o.max_ratio = 100;
	o.max_words = 100000;
	o.max_text = (size_t)4 << 20;
	mugai_buf_init(&out, 0);
	t0 = now_ms();
	if (k->fn(in, len, &o, &out, why, sizeof(why)) != 0) {
		fprintf(stderr, "copycost: decode %s: %s\n", k->name, why);
		exit(1);
	}
	t0 = now_ms() - t0;
	mugai_buf_free(&out);
	return t0;
}

/* mugai_convert: ms; the copy is left in res. */
static double
copy_once(const struct mugai_config *cfg, const struct kind *k,
    const void *in, size_t len, struct mugai_convert_result *res)
{
	double t0 = now_ms();

	if (mugai_convert(cfg, "bench", k->act, k->mime, "x", in, len, 120,
	    res) != MUGAI_OK || res->held) {
		fprintf(stderr, "copycost: copy of %s: %s\n", k->name,
		    res->detail);
		exit(1);
	}
	return now_ms() - t0;
}

struct row {
	double start[2][RUNS_MAX], worker[2][RUNS_MAX], copy[2][RUNS_MAX];
	double cpu[2], sandbox[RUNS_MAX], decode[RUNS_MAX], scan[RUNS_MAX];
	size_t outlen;
};

/* Run r of one side (0 spawned, 1 zygote). */
static void
one_side(struct row *w, int side, int r, const struct kind *k,
    struct mugai_config *cfg[2], const char *in, size_t len,
    struct mugai_scanner *sc)
{
	worker_fn *fn = side ? mugai_worker_convert : mugai_worker_run;
	struct mugai_convert_result res;
	struct mugai_scan_verdict v;
	double c0, t0;

	w->start[side][r] = worker_once(fn, "test-ok", "", 0);
	w->worker[side][r] = worker_once(fn, k->mode, in, len);
	c0 = cpu_ms();
	w->copy[side][r] = copy_once(cfg[side], k, in, len, &res);
	w->cpu[side] += cpu_ms() - c0;
	if (side == 0) {
		w->outlen = res.data.len;
		t0 = now_ms();
		if (sc != NULL && mugai_scanner_scan_copy(sc, res.data.data,
		    res.data.len, "copy", &v) != MUGAI_OK)
			exit(1);
		w->scan[r] = now_ms() - t0;
	}
	mugai_convert_result_free(&res);
}

static void
bench_file(const struct kind *k, const char *path, int runs,
    struct mugai_config *cfg[2], struct mugai_scanner *sc)
{
	static struct row w;
	double s[2], wk[2], cp[2];
	size_t len;
	char *in = slurp(path, &len);
	int r, side;

	memset(&w, 0, sizeof(w));
	for (r = 0; r < runs; r++) {
		for (side = 0; side < 2; side++)
			one_side(&w, (side + r) % 2, r, k, cfg, in, len, sc);
		w.sandbox[r] = sandbox_once(k->needs);
		w.decode[r] = decode_once(k, in, len);
	}
	for (side = 0; side < 2; side++) {
		s[side] = median(w.start[side], runs);
		wk[side] = median(w.worker[side], runs);
		cp[side] = median(w.copy[side], runs);
	}
	printf("%-5s %7zu %5s %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f "
	    "%6.1fx\n", k->name, len, "spawn", s[0], median(w.sandbox, runs),
	    median(w.decode, runs), wk[0], cp[0], cp[0] - wk[0],
	    w.cpu[0] / runs, cp[0] / cp[1]);
	printf("%-5s %7zu %5s %7.1f %7s %7s %7.1f %7.1f %7.1f %7.1f "
	    "%7s scan %.1f ms of %zu bytes\n", "", len, "zyg", s[1], "", "",
	    wk[1], cp[1], cp[1] - wk[1], w.cpu[1] / runs, "",
	    sc ? median(w.scan, runs) : 0.0, w.outlen);
	free(in);
}

/* The zygote's pid, from a test-pid run through it. */
static void
zygote_find(void)
{
	const char *argv[] = { convert_path, "test-pid", NULL };
	struct mugai_worker_limits lim = { 60, 4096, 0 };
	struct mugai_worker_status st;
	struct mugai_buf out;
	long pid;

	mugai_buf_init(&out, 0);
	if (mugai_worker_convert(argv, "", 0, &lim, &out, &st) == MUGAI_OK &&
	    st.end == MUGAI_WORKER_DONE && out.data != NULL &&
	    sscanf(out.data, "%ld %ld", &pid, &zygote_pid) == 2 &&
	    zygote_pid == (long)getpid())
		zygote_pid = 0;		/* spawned (ASan): none */
	mugai_buf_free(&out);
}

int
main(int argc, char **argv)
{
	char err[1024], dbopt[4200], wopt[4200];
	char *ov[2][5] = {
		{ "convert_zygote=no", dbopt, wopt, "quarantine_enable=no",
		  NULL },
		{ "convert_zygote=yes", dbopt, wopt, "quarantine_enable=no",
		  NULL },
	};
	struct mugai_config *cfg[2];
	struct mugai_scanner *sc = NULL;
	int runs, i, side;
	size_t j;

	if (argc < 5)
		return 64;
	convert_path = argv[1];
	snprintf(wopt, sizeof(wopt), "convert_worker=%s", convert_path);
	if (strcmp(argv[2], "-") == 0)
		snprintf(dbopt, sizeof(dbopt), "clamav_enable=no");
	else
		snprintf(dbopt, sizeof(dbopt), "clamav_database_dir=%s",
		    argv[2]);
	runs = atoi(argv[3]);
	if (runs < 1 || runs > RUNS_MAX)
		return 64;
	mugai_log_open("copycost", MUGAI_LOG_NONE, 0, 0);
	for (side = 0; side < 2; side++)
		if ((cfg[side] = mugai_config_load(NULL, ov[side], 4, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "%s\n", err);
			return 78;
		}
	if (cfg[0]->clamav_enable &&
	    mugai_scanner_new(cfg[0], &sc, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "%s\n", err);
		return 78;
	}
	zygote_find();
	/* What the zygote loads before any document, loaded here too. */
	tzset();
	(void)convert_archive_prepare();
	(void)convert_ole2_prepare();
	(void)convert_pdf_prepare();
	printf("%-5s %7s %5s %7s %7s %7s %7s %7s %7s %7s %7s\n", "type",
	    "bytes", "how", "start", "sandbox", "decode", "worker", "copy",
	    "rebuild", "cpu", "speedup");
	for (i = 4; i < argc; i++)
		for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
			if (strncmp(argv[i], kinds[j].name,
			    strlen(kinds[j].name)) == 0 &&
			    argv[i][strlen(kinds[j].name)] == '=')
				bench_file(&kinds[j], argv[i] +
				    strlen(kinds[j].name) + 1, runs, cfg, sc);
	mugai_worker_zygote_stop();
	mugai_scanner_free(sc);
	mugai_config_unref(cfg[0]);
	mugai_config_unref(cfg[1]);
	return 0;
}
