/*
 * test_bigmem.c - large buffers in transparent huge pages
 * (mugai/base/bigmem.h) and the byte buffers that grow in them
 * (mugai_buf_init_big): every byte asked for is there and kept, a
 * large buffer is a mapping of its own on a 2 MB boundary advised for
 * huge pages, and a big buffer's bytes, stolen, are free()'s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mugai/base/bigmem.h"
#include "mugai/base/buf.h"

/* As bigmem.c: under AddressSanitizer every buffer is malloc's. */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN	1
#endif
#endif
#ifndef ASAN
#define ASAN	0
#endif

#define MB	((size_t)1024 * 1024)

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + seed + (i >> 12));
}

static int
same(const uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 131 + seed + (i >> 12)))
			return 0;
	return 1;
}

/*
 * vma_flags - the VmFlags line of the mapping of /proc/self/smaps that
 * holds p, into flags; 0 when found.
 */
static int
vma_flags(const void *p, char *flags, size_t len)
{
	char line[512];
	unsigned long lo, hi;
	int in = 0, rc = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, len, "%s", line + 8);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static void
test_sizes_hold_their_bytes(void **state)
{
	const size_t sizes[] = { 1, 100, MUGAI_BIG_MIN - 1, MUGAI_BIG_MIN,
	    2 * MB - 64, 2 * MB, 5 * MB + 3 };
	uint8_t *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i;

	(void)state;
	/* All at once, so that one overrunning another would show. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = mugai_big_alloc(sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		fill(p[i], sizes[i], (unsigned)i);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_true(same(p[i], sizes[i], (unsigned)i));
		mugai_big_free(p[i]);
	}
	mugai_big_free(NULL);
	assert_null(mugai_big_alloc(0));
	assert_null(mugai_big_alloc(SIZE_MAX - 10));
}

static void
test_large_is_huge_page_mapping(void **state)
{
	char flags[512];
	uint8_t *p, *q;

	(void)state;
	if (ASAN || access("/sys/kernel/mm/transparent_hugepage", F_OK) != 0)
		skip();
	p = mugai_big_alloc(3 * MB);
	assert_non_null(p);
	fill(p, 3 * MB, 7);
	/* Its own mapping, from a 2 MB boundary, advised for huge pages. */
	assert_int_equal(vma_flags(p, flags, sizeof(flags)), 0);
	assert_non_null(strstr(flags, " hg"));
	assert_int_equal(vma_flags(p + 3 * MB - 1, flags, sizeof(flags)), 0);
	assert_non_null(strstr(flags, " hg"));
	assert_int_equal(((uintptr_t)p - 64) % (2 * MB), 0);
	/* A small one is malloc's: not advised. */
	q = mugai_big_alloc(1000);
	assert_non_null(q);
	assert_int_equal(vma_flags(q, flags, sizeof(flags)), 0);
	assert_null(strstr(flags, " hg"));
	assert_true(same(p, 3 * MB, 7));
	mugai_big_free(q);
	mugai_big_free(p);
}

static void
test_big_buf_grows_and_steals(void **state)
{
	struct mugai_buf b;
	uint8_t chunk[65536];
	size_t i, n, len;
	char *s;

	(void)state;
	mugai_buf_init_big(&b, 0);
	/* 5 MB in pieces: it grows through small and big allocations. */
	for (i = 0; i < 80; i++) {
		fill(chunk, sizeof(chunk), (unsigned)i);
		assert_int_equal(mugai_buf_append(&b, chunk, sizeof(chunk)),
		    MUGAI_OK);
	}
	assert_int_equal(b.len, 80 * sizeof(chunk));
	assert_int_equal(b.data[b.len], '\0');
	for (i = 0; i < 80; i++)
		assert_true(same((uint8_t *)b.data + i * sizeof(chunk),
		    sizeof(chunk), (unsigned)i));
	/* Stolen: malloc'd bytes, which free() takes. */
	n = b.len;
	s = mugai_buf_steal(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, n);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_true(same((uint8_t *)s + 79 * sizeof(chunk), sizeof(chunk),
	    79));
	free(s);
	/* Still big, and still capped. */
	mugai_buf_init_big(&b, 3 * MB);
	fill(chunk, sizeof(chunk), 1);
	for (i = 0; i < 3 * MB / sizeof(chunk); i++)
		assert_int_equal(mugai_buf_append(&b, chunk, sizeof(chunk)),
		    MUGAI_OK);
	assert_int_equal(mugai_buf_append(&b, "x", 1), MUGAI_ERR_LIMIT);
	assert_int_equal(b.len, 3 * MB);
	mugai_buf_reset(&b);
	assert_int_equal(mugai_buf_puts(&b, "again"), MUGAI_OK);
	assert_string_equal(b.data, "again");
	mugai_buf_free(&b);
	mugai_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_hold_their_bytes),
		cmocka_unit_test(test_large_is_huge_page_mapping),
		cmocka_unit_test(test_big_buf_grows_and_steals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
