/*
 * input.c - CLI input and services (see input.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mugai/quarantine/quarantine.h"
#include "mugai/scan/scan.h"
#include "input.h"

int
cli_read(const char *cmd, const char *path, size_t cap, char **data,
    size_t *len)
{
	int fd = STDIN_FILENO;
	size_t n = 0, size = 65536;
	ssize_t got;
	char *buf, *nb;
	const char *shown = path && strcmp(path, "-") != 0 ? path : "stdin";

	if (path != NULL && strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "mugai %s: %s: %s\n", cmd, path, strerror(errno));
		return EX_NOINPUT;
	}
	if ((buf = malloc(size + 1)) == NULL)
		goto nomem;
	while (n <= cap) {
		if (n == size) {
			size = size * 2 > cap + 1 ? cap + 1 : size * 2;
			if ((nb = realloc(buf, size + 1)) == NULL)
				goto nomem;
			buf = nb;
		}
		got = read(fd, buf + n, size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "mugai %s: %s: %s\n", cmd, shown,
			    strerror(errno));
			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return EX_IOERR;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
nomem:
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	fprintf(stderr, "mugai %s: %s: out of memory\n", cmd, shown);
	return EX_TEMPFAIL;
}

int
cli_services_open(const char *cmd, const struct mugai_config *cfg,
    struct mugai_services *svc)
{
	char err[1024];

	memset(svc, 0, sizeof(*svc));
	svc->cfg = cfg;
	if (cfg->clamav_enable &&
	    mugai_scanner_new(cfg, &svc->scanner, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "mugai %s: %s\n", cmd, err);
		return EX_CONFIG;
	}
	if (cfg->quarantine_enable && mugai_quarantine_open(cfg,
	    &svc->quarantine, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "mugai %s: %s\n", cmd, err);
		cli_services_close(svc);
		return EX_TEMPFAIL;
	}
	return 0;
}

void
cli_services_close(struct mugai_services *svc)
{
	mugai_scanner_free(svc->scanner);
	mugai_quarantine_close(svc->quarantine);
	svc->scanner = NULL;
	svc->quarantine = NULL;
}
