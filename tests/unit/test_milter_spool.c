/*
 * test_milter_spool.c - the per-message spool the milter fills: memory
 * below the threshold, a nameless private file above it, the hard cap,
 * one contiguous view at the end, and the spool directory checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mugai/base/spool.h"

struct fixture {
	char	 dir[64];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mugai-spool-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rmdir(f->dir);
	free(f);
	return 0;
}

/* Entries in dir other than . and .. */
static int
dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Open file descriptors of this process. */
static int
open_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Append text in pieces of step bytes, as body chunks arrive. */
static void
append_steps(struct mugai_spool *sp, const char *text, size_t len, size_t step)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		assert_int_equal(mugai_spool_append(sp, text + off, n), MUGAI_OK);
	}
}

static void
test_memory_below_threshold(void **state)
{
	struct fixture *f = *state;
	struct mugai_spool *sp = mugai_spool_new(f->dir, 1024, 0);
	const char msg[] = "Subject: hi\r\n\r\nbody\r\n";
	const char *data;
	size_t len;

	assert_non_null(sp);
	append_steps(sp, msg, sizeof(msg) - 1, 3);
	assert_int_equal(mugai_spool_size(sp), sizeof(msg) - 1);
	assert_false(mugai_spool_in_file(sp));
	assert_int_equal(mugai_spool_map(sp, &data, &len), MUGAI_OK);
	assert_int_equal(len, sizeof(msg) - 1);
	assert_memory_equal(data, msg, len);
	assert_int_equal(dir_entries(f->dir), 0);
	mugai_spool_free(sp);
}

/* Every byte value, in chunk sizes that straddle the threshold. */
static void
test_file_above_threshold(void **state)
{
	struct fixture *f = *state;
	static const size_t thresholds[] = { 0, 1, 100, 4096, 65536 };
	static const size_t steps[] = { 1, 7, 4096, 70000 };
	size_t len = 200000, i, t, s;
	char *text = malloc(len);
	const char *data;
	size_t got;

	assert_non_null(text);
	for (i = 0; i < len; i++)
		text[i] = (char)(i * 31 + i / 256);
	for (t = 0; t < sizeof(thresholds) / sizeof(thresholds[0]); t++) {
		for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct mugai_spool *sp = mugai_spool_new(f->dir,
			    thresholds[t], 0);

			assert_non_null(sp);
			append_steps(sp, text, len, steps[s]);
			assert_true(mugai_spool_in_file(sp));
			/* The file has no name: nothing to leak on a crash. */
			assert_int_equal(dir_entries(f->dir), 0);
			assert_int_equal(mugai_spool_map(sp, &data, &got),
			    MUGAI_OK);
			assert_int_equal(got, len);
			assert_memory_equal(data, text, len);
			mugai_spool_free(sp);
		}
	}
	free(text);
}

static void
test_cap_refuses_and_keeps_content(void **state)
{
	struct fixture *f = *state;
	static const size_t thresholds[] = { 0, 8, 1000 };
	const char *data;
	size_t len, t;

	for (t = 0; t < sizeof(thresholds) / sizeof(thresholds[0]); t++) {
		struct mugai_spool *sp = mugai_spool_new(f->dir, thresholds[t],
		    10);

		assert_non_null(sp);
		assert_int_equal(mugai_spool_append(sp, "0123456", 7), MUGAI_OK);
		assert_int_equal(mugai_spool_append(sp, "789A", 4),
		    MUGAI_ERR_LIMIT);
		assert_int_equal(mugai_spool_size(sp), 7);
		/* Exactly the cap is allowed. */
		assert_int_equal(mugai_spool_append(sp, "789", 3), MUGAI_OK);
		assert_int_equal(mugai_spool_append(sp, "X", 1),
		    MUGAI_ERR_LIMIT);
		assert_int_equal(mugai_spool_map(sp, &data, &len), MUGAI_OK);
		assert_int_equal(len, 10);
		assert_memory_equal(data, "0123456789", 10);
		mugai_spool_free(sp);
	}
}

static void
test_empty_and_after_map(void **state)
{
	struct fixture *f = *state;
	struct mugai_spool *sp = mugai_spool_new(f->dir, 0, 0);
	const char *data = NULL, *again = NULL;
	size_t len = 99;

	assert_non_null(sp);
	assert_int_equal(mugai_spool_append(sp, "", 0), MUGAI_OK);
	assert_int_equal(mugai_spool_map(sp, &data, &len), MUGAI_OK);
	assert_non_null(data);
	assert_int_equal(len, 0);
	mugai_spool_free(sp);

	sp = mugai_spool_new(f->dir, 0, 0);
	assert_int_equal(mugai_spool_append(sp, "abc", 3), MUGAI_OK);
	assert_int_equal(mugai_spool_map(sp, &data, &len), MUGAI_OK);
	assert_int_equal(mugai_spool_map(sp, &again, &len), MUGAI_OK);
	assert_ptr_equal(data, again);
	assert_int_equal(mugai_spool_append(sp, "d", 1), MUGAI_ERR_USAGE);
	assert_int_equal(len, 3);
	mugai_spool_free(sp);
	mugai_spool_free(NULL);
}

/* Freeing closes the file: no descriptor leaks per message. */
static void
test_no_fd_leak(void **state)
{
	struct fixture *f = *state;
	int before = open_fds(), i;
	const char *data;
	size_t len;

	for (i = 0; i < 50; i++) {
		struct mugai_spool *sp = mugai_spool_new(f->dir, 2, 0);

		assert_int_equal(mugai_spool_append(sp, "hello", 5), MUGAI_OK);
		if (i % 2)
			assert_int_equal(mugai_spool_map(sp, &data, &len),
			    MUGAI_OK);
		mugai_spool_free(sp);
	}
	assert_int_equal(open_fds(), before);
}

static void
test_missing_dir_is_io_error(void **state)
{
	struct fixture *f = *state;
	char dir[128];
	struct mugai_spool *sp;

	snprintf(dir, sizeof(dir), "%s/no/such", f->dir);
	sp = mugai_spool_new(dir, 4, 0);
	assert_non_null(sp);
	assert_int_equal(mugai_spool_append(sp, "abc", 3), MUGAI_OK);
	assert_int_equal(mugai_spool_append(sp, "defg", 4), MUGAI_ERR_IO);
	assert_int_equal(mugai_spool_size(sp), 3);
	mugai_spool_free(sp);
}

static void
test_dir_prepare(void **state)
{
	struct fixture *f = *state;
	char dir[128], err[512];
	struct stat st;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/spool", f->dir);
	assert_int_equal(mugai_spool_dir_prepare(dir, err, sizeof(err)),
	    MUGAI_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	/* Idempotent. */
	assert_int_equal(mugai_spool_dir_prepare(dir, err, sizeof(err)),
	    MUGAI_OK);

	/* Readable by others: refused, and the message says what to do. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(mugai_spool_dir_prepare(dir, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_non_null(strstr(err, "chmod 700"));
	assert_int_equal(rmdir(dir), 0);

	/* A file in the way. */
	fp = fopen(dir, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_not_equal(mugai_spool_dir_prepare(dir, err, sizeof(err)),
	    MUGAI_OK);
	assert_non_null(strstr(err, "not a directory"));
	assert_int_equal(unlink(dir), 0);

	/* Relative paths and a missing parent. */
	assert_int_equal(mugai_spool_dir_prepare("spool", err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	assert_int_equal(mugai_spool_dir_prepare(dir, err, sizeof(err)),
	    MUGAI_ERR_IO);
	assert_non_null(strstr(err, dir));
}

/* The spool file is private and already unlinked while it is in use. */
static void
test_file_mode(void **state)
{
	struct fixture *f = *state;
	struct mugai_spool *sp = mugai_spool_new(f->dir, 0, 0);
	char link[300], path[4096];
	struct dirent *de;
	struct stat st;
	int found = 0;
	ssize_t n;
	DIR *d;

	assert_int_equal(mugai_spool_append(sp, "x", 1), MUGAI_OK);
	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, path, sizeof(path) - 1);
		if (n <= 0)
			continue;
		path[n] = '\0';
		if (strncmp(path, f->dir, strlen(f->dir)) != 0)
			continue;
		found++;
		assert_non_null(strstr(path, "(deleted)"));
		assert_int_equal(stat(link, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	closedir(d);
	assert_int_equal(found, 1);
	mugai_spool_free(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory_below_threshold,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_above_threshold,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_refuses_and_keeps_content,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_after_map,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fd_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir_is_io_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_prepare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
