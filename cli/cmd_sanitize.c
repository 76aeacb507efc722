/*
 * cmd_sanitize.c - "mugai sanitize": one message from a file or stdin,
 * the sanitised message to a file or stdout.
 *
 * Exit status, as Postfix's pipe(8) reads sysexits: 0 delivered (or
 * discarded by virus_action), 2 rejected, 75 temporary failure; on
 * anything but delivery nothing is written to OUTPUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mugai/base/log.h"
#include "mugai/sanitize/sanitize.h"
#include "cmd.h"
#include "input.h"

static void
sanitize_usage(FILE *fp)
{
	fprintf(fp, "usage: mugai sanitize [-c CONFIG] [-o key=value]... "
	    "[--report FILE] [INPUT|-] [OUTPUT|-]\n");
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Write in place to what is not a regular file: a device, a FIFO, a
 * socket, a terminal.  Renaming a temporary file over /dev/null (as
 * root) would replace the device with a file for every later program.
 * Returns 1 when path turned out to be a regular file after all (so the
 * caller renames), 0 when written, else an exit status.
 */
static int
write_in_place(const char *path, const char *p, size_t n)
{
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "mugai sanitize: %s: %s\n", path,
		    strerror(errno));
		return EX_CANTCREAT;
	}
	/* It may have been replaced by a file since the caller looked. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		rc = 1;
	else if (write_all(fd, p, n) != 0) {
		fprintf(stderr, "mugai sanitize: %s: %s\n", path,
		    strerror(errno));
		rc = EX_IOERR;
	}
	if (close(fd) != 0 && rc == 0) {
		fprintf(stderr, "mugai sanitize: %s: %s\n", path,
		    strerror(errno));
		rc = EX_IOERR;
	}
	return rc;
}

/*
 * Write to path: a new path or a regular file through a temporary file
 * renamed over it, so a reader never sees half; anything else in place.
 */
static int
write_file(const char *path, const char *p, size_t n)
{
	struct stat st;
	char tmp[4096];
	int fd, rc;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, p, n) != 0) {
			fprintf(stderr, "mugai sanitize: stdout: %s\n",
			    strerror(errno));
			return EX_IOERR;
		}
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    (rc = write_in_place(path, p, n)) != 1)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mugai sanitize: %s: %s\n", tmp, strerror(errno));
		return EX_CANTCREAT;
	}
	if (write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "mugai sanitize: %s: %s\n", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return EX_IOERR;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "mugai sanitize: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return EX_IOERR;
	}
	return 0;
}

static int
exit_for(const struct mugai_result *r)
{
	switch (r->verdict) {
	case MUGAI_VERDICT_DELIVER:
	case MUGAI_VERDICT_DISCARD:
		return EX_OK;
	case MUGAI_VERDICT_REJECT:
		return MUGAI_EXIT_REJECT;
	case MUGAI_VERDICT_TEMPFAIL:
		return EX_TEMPFAIL;
	}
	return EX_TEMPFAIL;
}

static int
deliver(const struct mugai_result *r, const char *raw, size_t len,
    const char *out)
{
	struct mugai_buf b;
	int rc;

	mugai_buf_init(&b, 0);
	if (mugai_result_write(r, raw, len, &b) != MUGAI_OK) {
		fprintf(stderr, "mugai sanitize: out of memory writing the "
		    "message\n");
		mugai_buf_free(&b);
		return EX_TEMPFAIL;
	}
	rc = write_file(out, b.data, b.len);
	mugai_buf_free(&b);
	return rc;
}

int
cmd_sanitize(int argc, char **argv, struct mugai_config *cfg)
{
	const char *report = NULL, *in = NULL, *out = NULL;
	struct mugai_services svc;
	struct mugai_envelope env;
	struct mugai_result *r;
	char *raw = NULL;
	size_t len;
	int i, rc, nargs = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--report") == 0 && i + 1 < argc) {
			report = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			sanitize_usage(stdout);
			return EX_OK;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0' &&
		    strcmp(argv[i], "--") != 0) {
			fprintf(stderr, "mugai sanitize: unknown option %s\n",
			    argv[i]);
			sanitize_usage(stderr);
			return EX_USAGE;
		} else if (strcmp(argv[i], "--") != 0) {
			if (nargs == 0)
				in = argv[i];
			else if (nargs == 1)
				out = argv[i];
			nargs++;
		}
	}
	if (nargs > 2) {
		sanitize_usage(stderr);
		return EX_USAGE;
	}
	if ((rc = cli_read("sanitize", in, cfg->max_message_size, &raw, &len)))
		return rc;
	mugai_library_init();
	if ((rc = cli_services_open("sanitize", cfg, &svc)) != 0)
		goto out;
	memset(&env, 0, sizeof(env));
	env.queue_id = "";
	if ((r = mugai_sanitize(&svc, raw, len, &env)) == NULL) {
		fprintf(stderr, "mugai sanitize: out of memory\n");
		rc = EX_TEMPFAIL;
		goto out;
	}
	mugai_log(LOG_INFO, r->id, "%s", r->summary);
	if (r->verdict != MUGAI_VERDICT_DELIVER)
		fprintf(stderr, "mugai sanitize: %s: %s (id %s)\n",
		    mugai_verdict_str(r->verdict),
		    r->reason ? r->reason : "-", r->id);
	rc = exit_for(r);
	if (report != NULL && write_file(report, r->report_json,
	    strlen(r->report_json)) != 0 && rc == EX_OK)
		rc = EX_IOERR;
	if (rc == EX_OK && r->verdict == MUGAI_VERDICT_DELIVER)
		rc = deliver(r, raw, len, out);
	mugai_result_free(r);
out:
	cli_services_close(&svc);
	mugai_library_shutdown();
	free(raw);
	return rc;
}
