/*
 * qstore-bench.c - latency of mugai_quarantine_store() for one original
 * size, in whichever store the configuration names (SQLite files or
 * PostgreSQL): the part of bench/quarantine-pg.sh that needs C.
 *
 *   qstore-bench SIZE N [key=value]...
 *
 * Stores N originals of SIZE random bytes one after another, each under
 * a new id, and prints one line: "SIZE N median_ms p95_ms MB/s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mugai/base/config.h"
#include "mugai/quarantine/quarantine.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct mugai_quarantine *q;
	struct mugai_config *cfg;
	struct mugai_qentry e;
	const char *rcpt[1] = { "staff@city.example.lg.jp" };
	char err[1024], id[64];
	double *ms, t0, total = 0;
	unsigned char *raw;
	size_t size, n, i;

	if (argc < 3) {
		fprintf(stderr, "usage: qstore-bench SIZE N [key=value]...\n");
		return 64;
	}
	size = strtoul(argv[1], NULL, 10);
	n = strtoul(argv[2], NULL, 10);
	if ((cfg = mugai_config_load(NULL, argv + 3, (size_t)(argc - 3), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "qstore-bench: %s\n", err);
		return 78;
	}
	if (mugai_quarantine_open(cfg, &q, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "qstore-bench: %s\n", err);
		return 74;
	}
	raw = malloc(size + 1);
	ms = calloc(n + 1, sizeof(*ms));
	if (raw == NULL || ms == NULL)
		return 71;
	srand((unsigned)getpid());
	for (i = 0; i < size; i++)
		raw[i] = (unsigned char)rand();
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(id, sizeof(id), "bench-%ld-%zu-%zu", (long)getpid(),
		    size, i);
		raw[0] = (unsigned char)i;	/* a different hash each time */
		e.id = id;
		e.sender = "sender@example.org";
		e.recipients = rcpt;
		e.nrecipients = 1;
		e.subject = "bench";
		e.verdict = "sanitised";
		e.reasons = "bench";
		e.report_json = "{}";
		t0 = now_ms();
		if (mugai_quarantine_store(q, &e, raw, size) != MUGAI_OK) {
			fprintf(stderr, "qstore-bench: %s\n",
			    mugai_quarantine_error());
			return 74;
		}
		ms[i] = now_ms() - t0;
		total += ms[i];
	}
	qsort(ms, n, sizeof(*ms), cmp_d);
	printf("%zu %zu %.2f %.2f %.1f\n", size, n, ms[n / 2],
	    ms[(n * 95 + 99) / 100 - 1], total > 0 ?
	    (double)size * n / 1048576.0 / (total / 1e3) : 0.0);
	free(raw);
	free(ms);
	mugai_quarantine_close(q);
	mugai_config_unref(cfg);
	return 0;
}
