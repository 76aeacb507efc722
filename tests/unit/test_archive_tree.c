/*
 * test_archive_tree.c - archives inside archives through the archive
 * copy (src/cdr/convert.c): how deep, and how many in all.
 *
 * A zip that contains itself (scripts/zipquine.py, written by
 * tests/run-unit to $MUGAI_ZIPQUINE): the worker must read it as one
 * member, r.zip, with exactly the archive's own bytes, so the loop is
 * real and not a chain that ends.  The recursion must stop at
 * archive_max_depth, and the held result must name the innermost copy
 * as too deep, for every depth allowed.  ClamAV stops the quine first
 * in "mugai sanitize" (MaxRecursion, tests/e2e/slow-bombs.sh); this is
 * the converter's own defence.
 *
 * A zip of zips, each within archive_max_members, whose members in all
 * are not: the attachment is held as too big.
 *
 * With no time left of the message's convert_message_timeout, nothing
 * is started: held with reason "time" (the e2e test in cdr_check.py
 * shows a hanging worker cut short).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/config.h"
#include "mugai/cdr/convert.h"
#include "mugai/cdr/members.h"
#include "mugai/base/policy.h"
#include "mugai/cdr/worker.h"

static struct mugai_buf quine;

static int
setup(void **state)
{
	const char *path = getenv("MUGAI_ZIPQUINE");
	char chunk[4096];
	FILE *fp;
	size_t n;

	(void)state;
	if (path == NULL || *path == '\0') {
		fprintf(stderr, "MUGAI_ZIPQUINE is not set (tests/run-unit "
		    "sets it)\n");
		return -1;
	}
	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	mugai_buf_init(&quine, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (mugai_buf_append(&quine, chunk, n) != MUGAI_OK)
			break;
	fclose(fp);
	return quine.len > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	mugai_buf_free(&quine);
	return 0;
}

static struct mugai_config *
config(const char *key, unsigned value)
{
	char opt[64], err[256];
	char *ov[] = { opt };
	struct mugai_config *c;

	snprintf(opt, sizeof(opt), "%s=%u", key, value);
	c = mugai_config_load(NULL, ov, 1, err, sizeof(err));
	if (c == NULL)
		fail_msg("config: %s", err);
	return c;
}

/* mugai_convert of in[0..len) as act, under the defaults and key=value. */
static void
copy_with(const char *key, unsigned value, enum mugai_action act,
    const void *in, size_t len, unsigned seconds,
    struct mugai_convert_result *res)
{
	struct mugai_config *c = config(key, value);

	assert_int_equal(mugai_convert(c, "test", act, "application/zip",
	    "r.zip", in, len, seconds, res), MUGAI_OK);
	mugai_config_unref(c);
}

/* The worker lists one member whose bytes are the archive itself. */
static void
test_worker_sees_itself(void **state)
{
	struct mugai_config *c = config("archive_max_depth", 3);
	struct mugai_worker_limits lim = { 60, 1024 * 1024, 0 };
	struct mugai_worker_status st;
	struct mugai_member *m;
	struct mugai_buf out;
	char path[4096];
	const char *argv[3];
	size_t n;

	(void)state;
	assert_int_equal(mugai_worker_path(c, path, sizeof(path)), MUGAI_OK);
	argv[0] = path;
	argv[1] = "archive";
	argv[2] = NULL;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_worker_run(argv, quine.data, quine.len, &lim,
	    &out, &st), MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, quine.len,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "r.zip");
	assert_int_equal(m[0].size, quine.len);
	assert_memory_equal(m[0].data, quine.data, quine.len);
	mugai_members_free(m, n);
	mugai_buf_free(&out);
	mugai_config_unref(c);
}

/*
 * Every level keeps nothing (its one member is the next level), so the
 * copy is held as empty; the members left out name each level, the
 * innermost as too deep: "r.zip/r.zip/.../r.zip" with depth parts.
 */
static void
test_depth_stops_the_loop(void **state)
{
	struct mugai_convert_result res;
	char want[256];
	unsigned depth, i;

	(void)state;
	for (depth = 1; depth <= 6; depth++) {
		copy_with("archive_max_depth", depth, MUGAI_ACT_ARCHIVE,
		    quine.data, quine.len, 600, &res);
		assert_true(res.held);
		assert_string_equal(res.reason, "archive-empty");
		assert_int_equal(res.data.len, 0);
		assert_int_equal(res.ninner, depth);
		want[0] = '\0';
		for (i = 0; i < depth; i++) {
			strcat(want, i ? "/r.zip" : "r.zip");
			assert_string_equal(res.inner[i].name, want);
			assert_string_equal(res.inner[i].reason,
			    i + 1 < depth ? "archive-empty" : "depth");
			assert_int_equal(res.inner[i].size, quine.len);
		}
		assert_non_null(strstr(res.detail, want));
		assert_non_null(strstr(res.detail, "(depth)"));
		mugai_convert_result_free(&res);
	}
}

/* A zip of `outer` zips, each of `inner` short text files; returns
 * the size of one inner zip. */
static size_t
zip_of_zips(unsigned outer, unsigned inner, struct mugai_buf *out)
{
	struct mugai_zipw *z;
	struct mugai_buf one;
	char name[32];
	unsigned i;
	size_t len;

	assert_non_null(z = mugai_zipw_new());
	for (i = 0; i < inner; i++) {
		snprintf(name, sizeof(name), "memo%u.txt", i);
		assert_int_equal(mugai_zipw_add(z, name, "minutes\n", 8),
		    MUGAI_OK);
	}
	mugai_buf_init(&one, 0);
	assert_int_equal(mugai_zipw_finish(z, &one), MUGAI_OK);
	assert_non_null(z = mugai_zipw_new());
	for (i = 0; i < outer; i++) {
		snprintf(name, sizeof(name), "part%u.zip", i);
		assert_int_equal(mugai_zipw_add(z, name, one.data, one.len),
		    MUGAI_OK);
	}
	mugai_buf_init(out, 0);
	assert_int_equal(mugai_zipw_finish(z, out), MUGAI_OK);
	len = one.len;
	mugai_buf_free(&one);
	return len;
}

/*
 * 10 zips of 10 files: 110 members in all.  Each archive alone is
 * within archive_max_members=50, the tree is not; at 110 it is.
 * The same for archive_max_size, counted over every level's members.
 */
static void
test_members_counted_over_the_tree(void **state)
{
	struct mugai_convert_result res;
	struct mugai_buf zip;
	size_t inner;

	(void)state;
	inner = zip_of_zips(10, 10, &zip);

	copy_with("archive_max_members", 50, MUGAI_ACT_ARCHIVE, zip.data,
	    zip.len, 600, &res);
	assert_true(res.held);
	assert_string_equal(res.reason, "too-big");
	assert_int_equal(res.data.len, 0);
	assert_non_null(strstr(res.detail,
	    "more than 50 members in all (archive_max_members)"));
	mugai_convert_result_free(&res);

	copy_with("archive_max_members", 110, MUGAI_ACT_ARCHIVE, zip.data,
	    zip.len, 600, &res);
	assert_false(res.held);
	assert_string_equal(res.reason, "archive");
	assert_int_equal(res.ninner, 0);
	assert_true(res.data.len > 0);
	mugai_convert_result_free(&res);

	/* The ten inner zips fit, with their 10 x 10 x 8 bytes of memos not. */
	copy_with("archive_max_size",
	    (unsigned)(10 * inner + 400), MUGAI_ACT_ARCHIVE, zip.data,
	    zip.len, 600, &res);
	assert_true(res.held);
	assert_string_equal(res.reason, "too-big");
	assert_non_null(strstr(res.detail, "(archive_max_size)"));
	mugai_convert_result_free(&res);
	mugai_buf_free(&zip);
}

static void
test_no_time_left(void **state)
{
	static const enum mugai_action acts[] = {
		MUGAI_ACT_ARCHIVE, MUGAI_ACT_IMAGE, MUGAI_ACT_PDF,
		MUGAI_ACT_OOXML, MUGAI_ACT_OFFICE,
	};
	struct mugai_convert_result res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		copy_with("convert_message_timeout", 7, acts[i], quine.data,
		    quine.len, 0, &res);
		assert_true(res.held);
		assert_string_equal(res.reason, "time");
		assert_non_null(strstr(res.detail,
		    "(convert_message_timeout 7 s)"));
		mugai_convert_result_free(&res);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_sees_itself),
		cmocka_unit_test(test_depth_stops_the_loop),
		cmocka_unit_test(test_members_counted_over_the_tree),
		cmocka_unit_test(test_no_time_left),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
