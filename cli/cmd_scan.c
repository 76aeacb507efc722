/*
 * cmd_scan.c - "mugai scan FILE...": scan files with the in-process
 * ClamAV engine, printing one clamscan-style line per file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "mugai/scan/scan.h"
#include "cmd.h"
#include "input.h"

static void
scan_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: mugai scan FILE...\n"
	    "\n"
	    "Scan each FILE (\"-\" for standard input) with libclamav, using\n"
	    "clamav_database_dir and the clamav_* limits of the configuration\n"
	    "(scanning runs even when clamav_enable = no).  Prints one line\n"
	    "per file:\n"
	    "  FILE: OK\n"
	    "  FILE: SIGNATURE FOUND\n"
	    "  FILE: UNSCANNED (reason)     encrypted, or a scan limit reached\n"
	    "\n"
	    "Exit status: 0 every file is clean; 2 a virus was found or a file\n"
	    "could not be scanned; 66 a file cannot be read; 75 the scanner\n"
	    "failed; 78 the scanner cannot start (no database).  The highest\n"
	    "of these wins when files differ.\n");
}

/* Exit statuses from least to most serious, for "the worst one wins". */
static int
exit_rank(int ex)
{
	switch (ex) {
	case EX_OK:		return 0;
	case MUGAI_EXIT_REJECT:	return 1;
	case EX_NOINPUT:	return 2;
	default:		return 3;	/* EX_TEMPFAIL */
	}
}

static int
worst(int a, int b)
{
	return exit_rank(b) > exit_rank(a) ? b : a;
}

static int
scan_one(struct mugai_scanner *sc, const struct mugai_config *cfg,
    const char *path)
{
	struct mugai_scan_verdict v;
	const char *shown = strcmp(path, "-") == 0 ? "stdin" : path;
	char *data = NULL;
	size_t len = 0;
	int ex;

	/*
	 * Read at most one byte over clamav_max_filesize: the scanner
	 * reports anything bigger as unscanned, so more is never needed.
	 */
	ex = cli_read("scan", path, cfg->clamav_max_filesize, &data, &len);
	if (ex != 0)
		return ex == EX_TEMPFAIL ? EX_TEMPFAIL : EX_NOINPUT;
	if (mugai_scanner_scan(sc, data, len, shown, &v) != MUGAI_OK) {
		fprintf(stderr, "mugai scan: %s: scanner failed; try again, "
		    "or run with -v for libclamav's reason\n", shown);
		ex = EX_TEMPFAIL;
		goto out;
	}
	switch (v.outcome) {
	case MUGAI_SCAN_CLEAN:
		printf("%s: OK\n", shown);
		ex = EX_OK;
		break;
	case MUGAI_SCAN_INFECTED:
		printf("%s: %s FOUND\n", shown, v.name);
		ex = MUGAI_EXIT_REJECT;
		break;
	case MUGAI_SCAN_UNSCANNED:
		printf("%s: UNSCANNED (%s)\n", shown, v.name);
		ex = MUGAI_EXIT_REJECT;
		break;
	}
out:
	free(data);
	fflush(stdout);
	return ex;
}

int
cmd_scan(int argc, char **argv, struct mugai_config *cfg)
{
	struct mugai_scanner *sc = NULL;
	struct mugai_config once;
	char err[1024];
	int i, first = 1, ex = EX_OK;

	for (; first < argc; first++) {
		if (strcmp(argv[first], "-h") == 0 ||
		    strcmp(argv[first], "--help") == 0) {
			scan_usage(stdout);
			return EX_OK;
		}
		if (strcmp(argv[first], "--") == 0) {
			first++;
			break;
		}
		if (argv[first][0] != '-' || strcmp(argv[first], "-") == 0)
			break;
		fprintf(stderr, "mugai scan: unknown option %s; run 'mugai "
		    "scan --help'\n", argv[first]);
		return EX_USAGE;
	}
	if (first >= argc) {
		fprintf(stderr, "mugai scan: no file given; run 'mugai scan "
		    "--help'\n");
		return EX_USAGE;
	}
	/* One pass over the files: no database watcher thread. */
	once = *cfg;
	once.clamav_check_interval = 0;
	if (mugai_scanner_new(&once, &sc, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "mugai scan: %s\n", err);
		return EX_CONFIG;
	}
	for (i = first; i < argc; i++)
		ex = worst(ex, scan_one(sc, cfg, argv[i]));
	mugai_scanner_free(sc);
	return ex;
}
