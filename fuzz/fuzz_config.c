/*
 * fuzz_config.c - libFuzzer target: the config file parser.
 *
 * mugai_config_load reads a path, so the input is put in a memfd and
 * read back through /proc/self/fd.  A config that loads must dump to a
 * file that loads again and dumps the same ("check-config -v" promises
 * its output is a valid config file).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mugai/base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding data[0..size); its /proc path goes in path. */
static int
memfile(const void *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz-config", 0);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* The dump of cfg, malloc'd, its length in *len. */
static char *
dump(const struct mugai_config *cfg, size_t *len)
{
	char *s = NULL;
	FILE *fp = open_memstream(&s, len);

	if (fp == NULL)
		abort();
	mugai_config_dump(cfg, fp);
	fclose(fp);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_config *cfg, *again;
	char path[64], err[1024], *d1, *d2;
	size_t n1, n2;
	int fd, fd2;

	err[0] = '\0';
	fd = memfile(data, size, path, sizeof(path));
	cfg = mugai_config_load(path, NULL, 0, err, sizeof(err));
	close(fd);
	if (cfg == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	d1 = dump(cfg, &n1);
	fd2 = memfile(d1, n1, path, sizeof(path));
	again = mugai_config_load(path, NULL, 0, err, sizeof(err));
	close(fd2);
	if (again == NULL) {
		fprintf(stderr, "dump does not load again: %s\n%s", err, d1);
		abort();
	}
	d2 = dump(again, &n2);
	if (n1 != n2 || memcmp(d1, d2, n1) != 0) {
		fprintf(stderr, "dump changes on reload:\n%s\n---\n%s", d1, d2);
		abort();
	}
	free(d1);
	free(d2);
	mugai_config_unref(again);
	mugai_config_unref(cfg);
	return 0;
}
