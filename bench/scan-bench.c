/*
 * scan-bench.c - how long a ClamAV engine takes to load, how much memory
 * it holds, and how fast it scans generated data.  A benchmark, not a
 * test: it prints numbers and fails only when the scanner does.
 *
 *   scan-bench DBDIR [MB]
 *
 * Prints "key value" lines for bench/scan-bench.sh to format.  Every
 * scanned buffer is different: libclamav caches clean results by hash,
 * and scanning one buffer over and over would measure the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/scan/scan.h"

#define CHUNK	(1024 * 1024)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process in KiB, from /proc/self/status. */
static long
proc_kib(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *fp;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

static unsigned long rng_state = 88172645463325252UL;

static unsigned long
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Mail-like text: words and line breaks, different every call. */
static void
fill_text(char *p, size_t n)
{
	static const char *words[] = {
		"the", "meeting", "minutes", "attached", "please", "review",
		"budget", "2024", "city", "office", "report", "schedule",
		"<p>", "</p>", "https://example.lg.jp/", "=E3=81=82", "data",
	};
	size_t i = 0, w, len;

	while (i < n) {
		w = rng() % (sizeof(words) / sizeof(words[0]));
		len = strlen(words[w]);
		if (i + len + 1 > n)
			break;
		memcpy(p + i, words[w], len);
		i += len;
		p[i++] = rng() % 12 == 0 ? '\n' : ' ';
	}
	memset(p + i, '\n', n - i);
}

static void
fill_binary(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(rng() >> 24);
}

/* Wrap text as a base64 MIME attachment, so the mail parser works. */
static void
make_mail(const char *text, size_t n, struct mugai_buf *m)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)text;
	unsigned long v;
	size_t i;

	mugai_buf_puts(m, "From: a@example.jp\nTo: b@city.example.lg.jp\n"
	    "Subject: bench\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
	    "Content-Type: text/plain\n\nhello\n--b\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n\n");
	for (i = 0; i + 3 <= n; i += 3) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 |
		    s[i + 2];
		mugai_buf_putc(m, tab[v >> 18 & 63]);
		mugai_buf_putc(m, tab[v >> 12 & 63]);
		mugai_buf_putc(m, tab[v >> 6 & 63]);
		mugai_buf_putc(m, tab[v & 63]);
		if (i % 57 == 54)
			mugai_buf_putc(m, '\n');
	}
	mugai_buf_puts(m, "\n--b--\n");
}

enum kind { KIND_TEXT, KIND_BINARY, KIND_MAIL };

/* Scan mb distinct 1 MiB inputs of one kind; MB/s of input bytes. */
static double
bench_scan(struct mugai_scanner *sc, enum kind kind, unsigned mb)
{
	struct mugai_scan_verdict v;
	struct mugai_buf m;
	char *chunk = malloc(CHUNK);
	double t0, spent = 0, bytes = 0;
	unsigned i;

	if (chunk == NULL)
		return -1;
	for (i = 0; i < mb; i++) {
		mugai_buf_init(&m, 0);
		if (kind == KIND_BINARY)
			fill_binary(chunk, CHUNK);
		else
			fill_text(chunk, CHUNK);
		if (kind == KIND_MAIL)
			make_mail(chunk, CHUNK, &m);
		else
			mugai_buf_append(&m, chunk, CHUNK);
		t0 = now_s();
		if (mugai_scanner_scan(sc, m.data, m.len, "bench", &v) !=
		    MUGAI_OK || v.outcome != MUGAI_SCAN_CLEAN) {
			fprintf(stderr, "scan-bench: scan failed or not clean "
			    "(%s)\n", v.name);
			mugai_buf_free(&m);
			free(chunk);
			return -1;
		}
		spent += now_s() - t0;
		bytes += (double)m.len;
		mugai_buf_free(&m);
	}
	free(chunk);
	return bytes / (1024.0 * 1024.0) / spent;
}

int
main(int argc, char **argv)
{
	char dirline[4096], err[1024];
	char *ov[3] = { dirline, "clamav_check_interval=0",
	    "clamav_max_filesize=64M" };
	struct mugai_config *cfg;
	struct mugai_scanner *sc;
	struct mugai_scan_verdict v;
	char eicar[80];
	unsigned mb = argc > 2 ? (unsigned)atoi(argv[2]) : 8;
	long rss0, rss1;
	double t0, t1;
	int rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: scan-bench DBDIR [MB]\n");
		return 64;
	}
	mugai_log_open("scan-bench", MUGAI_LOG_STDERR, LOG_MAIL, LOG_ERR);
	snprintf(dirline, sizeof(dirline), "clamav_database_dir=%s", argv[1]);
	if ((cfg = mugai_config_load(NULL, ov, 3, err, sizeof(err))) == NULL) {
		fprintf(stderr, "scan-bench: %s\n", err);
		return 78;
	}
	rss0 = proc_kib("VmRSS");
	t0 = now_s();
	if (mugai_scanner_new(cfg, &sc, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "scan-bench: %s\n", err);
		goto out;
	}
	t1 = now_s();
	rss1 = proc_kib("VmRSS");
	printf("load_ms %.0f\n", (t1 - t0) * 1000);
	printf("engine_rss_mib %.1f\n", (rss1 - rss0) / 1024.0);

	/* A benchmark of a scanner that detects nothing would be void. */
	snprintf(eicar, sizeof(eicar), "%s%s",
	    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR",
	    "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
	if (mugai_scanner_scan(sc, eicar, strlen(eicar), "eicar", &v) !=
	    MUGAI_OK || v.outcome != MUGAI_SCAN_INFECTED) {
		fprintf(stderr, "scan-bench: EICAR not detected\n");
		goto out_sc;
	}
	/* Warm up: first-touch page faults are not scanning. */
	if (bench_scan(sc, KIND_TEXT, 1) < 0 ||
	    bench_scan(sc, KIND_BINARY, 1) < 0)
		goto out_sc;
	printf("scan_text_mibps %.1f\n", bench_scan(sc, KIND_TEXT, mb));
	printf("scan_binary_mibps %.1f\n", bench_scan(sc, KIND_BINARY, mb));
	printf("scan_mail_mibps %.1f\n", bench_scan(sc, KIND_MAIL, mb));

	t0 = now_s();
	if (mugai_scanner_reload(sc, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "scan-bench: reload: %s\n", err);
		goto out_sc;
	}
	printf("reload_ms %.0f\n", (now_s() - t0) * 1000);
	printf("peak_rss_mib %.1f\n", proc_kib("VmHWM") / 1024.0);
	rc = 0;
out_sc:
	mugai_scanner_free(sc);
out:
	mugai_config_unref(cfg);
	return rc;
}
