/*
 * bench_sanitize.c - in-process sanitising throughput: the library alone,
 * without process start or database load.  Prints one line per file:
 * name, bytes, runs, messages/s, MB/s, scan, and the process CPU time
 * per message in ms (wall time suffers from other load on the machine;
 * CPU time much less), and the memory one message needs: the peak RSS
 * while the runs went on above the RSS before them (the input already
 * read), in KB; with scanning, also the ClamAV scans per message and
 * their CPU time per message in ms (mugai_scanner_stats).  Scanning is
 * on when a database directory is given.  Each -o KEY=VALUE overrides a
 * configuration key; -o quarantine_enable=yes (with quarantine_dir)
 * stores each changed original as the milter does (file, fsync, index
 * row), so that cost is counted too.
 *
 *   bench_sanitize [-o KEY=VALUE]... DBDIR|- RUNS FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/sanitize/sanitize.h"
#include "mugai/scan/scan.h"

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

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One "Name:  N kB" line of /proc/self/status, in KB; 0 if not there. */
static long
status_kb(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long kb = 0;
	FILE *fp = fopen("/proc/self/status", "r");

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			kb = atol(line + n + 1);
	fclose(fp);
	return kb;
}

/* Start a new peak: "5" resets VmHWM to the current RSS (Linux 4.0). */
static long
peak_reset(void)
{
	FILE *fp = fopen("/proc/self/clear_refs", "w");

	if (fp != NULL) {
		fputs("5", fp);
		fclose(fp);
	}
	return status_kb("VmRSS");
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

int
main(int argc, char **argv)
{
	char err[1024], dbopt[4200];
	char *ov[32] = { "quarantine_enable=no", "audit_log=", dbopt, NULL };
	int nov = 3;
	struct mugai_config *cfg;
	struct mugai_services svc = { 0 };
	int runs, i, f;

	while (argc > 2 && strcmp(argv[1], "-o") == 0 && nov < 31) {
		ov[nov++] = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 4)
		return 64;
	if (strcmp(argv[1], "-") == 0)
		snprintf(dbopt, sizeof(dbopt), "clamav_enable=no");
	else
		snprintf(dbopt, sizeof(dbopt), "clamav_database_dir=%s", argv[1]);
	runs = atoi(argv[2]);
	mugai_log_open("bench", MUGAI_LOG_NONE, 0, 0);
	mugai_library_init();
	if ((cfg = mugai_config_load(NULL, ov, nov, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 78;
	}
	svc.cfg = cfg;
	if (cfg->clamav_enable &&
	    mugai_scanner_new(cfg, &svc.scanner, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "%s\n", err);
		return 78;
	}
	if (cfg->quarantine_enable && mugai_quarantine_open(cfg,
	    &svc.quarantine, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "%s\n", err);
		return 78;
	}
	for (f = 3; f < argc; f++) {
		size_t len;
		char *raw = slurp(argv[f], &len);
		double t0 = now(), t, c;
		double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		long rss0 = peak_reset();
		struct mugai_scan_stats s0 = { 0 }, s1 = { 0 };

		if (svc.scanner != NULL)
			mugai_scanner_stats(svc.scanner, &s0);

		for (i = 0; i < runs; i++) {
			struct mugai_result *r = mugai_sanitize(&svc, raw, len, NULL);

			if (r == NULL || r->verdict != MUGAI_VERDICT_DELIVER) {
				fprintf(stderr, "%s: not delivered\n", argv[f]);
				return 1;
			}
			mugai_result_free(r);
		}
		t = (now() - t0) / runs;
		c = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / runs;
		printf("%-24s %10zu %6d %10.1f %10.2f %s %.3f %ld",
		    strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f],
		    len, runs, 1 / t, (double)len / t / 1048576,
		    svc.scanner ? "scan" : "no-scan", c * 1000,
		    status_kb("VmHWM") - rss0);
		if (svc.scanner != NULL) {
			mugai_scanner_stats(svc.scanner, &s1);
			printf(" %.1f %.3f", (double)(s1.scans - s0.scans) /
			    runs, (double)(s1.cpu_ns - s0.cpu_ns) / 1e6 / runs);
		}
		printf("\n");
		free(raw);
	}
	mugai_quarantine_close(svc.quarantine);
	mugai_scanner_free(svc.scanner);
	mugai_config_unref(cfg);
	mugai_library_shutdown();
	return 0;
}
