/*
 * test_typing.c - detection by bytes, mismatch with names and declared
 * types, and one libmagic handle per thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "mugai/typing.h"

static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    "trailer\n<< /Root 1 0 R >>\n%%EOF\n";
static const unsigned char png[] = {
	0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
	'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
	0x90, 0x77, 0x53, 0xde
};

/* A minimal PE header: enough for libmagic to call it a DOS/PE program. */
static void
make_pe(unsigned char *b, size_t n)
{
	memset(b, 0, n);
	b[0] = 'M';
	b[1] = 'Z';
	b[0x3c] = 0x80;
	memcpy(b + 0x80, "PE\0\0", 4);
	b[0x84] = 0x4c;
	b[0x85] = 0x01;
}

static void
test_detect(void **state)
{
	char t[128];
	unsigned char pe[512];

	(void)state;
	assert_int_equal(mugai_type_detect(pdf, sizeof(pdf) - 1, t, sizeof(t)),
	    MUGAI_OK);
	assert_string_equal(t, "application/pdf");
	assert_int_equal(mugai_type_detect(png, sizeof(png), t, sizeof(t)),
	    MUGAI_OK);
	assert_string_equal(t, "image/png");
	assert_int_equal(mugai_type_detect("hello, world\n", 13, t, sizeof(t)),
	    MUGAI_OK);
	assert_string_equal(t, "text/plain");
	assert_int_equal(mugai_type_detect("", 0, t, sizeof(t)), MUGAI_OK);
	assert_string_equal(t, "application/x-empty");
	make_pe(pe, sizeof(pe));
	assert_int_equal(mugai_type_detect(pe, sizeof(pe), t, sizeof(t)),
	    MUGAI_OK);
	/* libmagic 5.44 names PE files by their registered type. */
	if (strcmp(t, "application/x-dosexec") != 0 &&
	    strcmp(t, "application/vnd.microsoft.portable-executable") != 0)
		fail_msg("PE detected as %s", t);
	assert_true(mugai_type_is_executable(t));
	assert_false(mugai_type_is_executable("application/pdf"));
}

/*
 * A zip libmagic cannot name is still a zip: the worker decides what it
 * holds (an Office package, an archive, or nothing readable).  Bytes
 * libmagic cannot name without the signature stay unnamed.
 */
static void
test_zip_fallback(void **state)
{
	unsigned char z[204], other[204];
	unsigned seed = 1;
	char t[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(z); i++) {
		seed = seed * 1103515245u + 12345u;
		z[i] = other[i] = (unsigned char)(seed >> 16);
	}
	memcpy(z, "PK\003\004", 4);
	memcpy(other, "QK\003\004", 4);
	assert_int_equal(mugai_type_detect(other, sizeof(other), t, sizeof(t)),
	    MUGAI_OK);
	assert_string_equal(t, "application/octet-stream");
	assert_int_equal(mugai_type_detect(z, sizeof(z), t, sizeof(t)),
	    MUGAI_OK);
	assert_string_equal(t, "application/zip");
}

static void
test_mismatch(void **state)
{
	static const struct {
		const char *declared, *name, *detected;
		int mismatch;
	} cases[] = {
		{ "application/pdf", "invoice.pdf", "application/x-dosexec", 1 },
		{ "application/octet-stream", "invoice.pdf", "application/x-dosexec", 1 },
		{ "application/octet-stream", "setup.exe", "application/x-dosexec", 0 },
		{ "application/x-msdownload", "setup.exe", "application/x-dosexec", 0 },
		{ "application/pdf", "report.pdf", "application/pdf", 0 },
		{ "application/octet-stream", "report.PDF", "application/pdf", 0 },
		{ "image/jpeg", "photo.jpg", "image/jpeg", 0 },
		{ "image/jpeg", "photo.jpg", "image/png", 1 },
		{ "text/plain", "memo.txt", "text/plain", 0 },
		{ "text/plain", "memo.txt", "application/pdf", 1 },
		{ "application/pdf", "", "application/zip", 1 },
		{ "application/vnd.ms-excel", "book.xls", "application/vnd.ms-excel", 0 },
		{ "application/octet-stream", "data.unknownext", "application/zip", 0 },
		{ "application/octet-stream", "", "application/zip", 0 },
		{ "text/plain", "", "text/x-shellscript", 1 },
	};
	char buf[256];
	size_t i;
	const char *r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = mugai_type_mismatch(cases[i].declared, cases[i].name,
		    cases[i].detected, buf, sizeof(buf));
		if ((r != NULL) != cases[i].mismatch)
			fail_msg("case %zu (%s, %s, %s): got %s", i,
			    cases[i].declared, cases[i].name, cases[i].detected,
			    r ? r : "no mismatch");
	}
	r = mugai_type_mismatch("application/pdf", "invoice.pdf",
	    "application/x-dosexec", buf, sizeof(buf));
	assert_non_null(strstr(r, ".pdf"));
	assert_non_null(strstr(r, "application/x-dosexec"));
}

static void *
detect_many(void *arg)
{
	char t[128];
	int i;

	(void)arg;
	for (i = 0; i < 200; i++) {
		if (mugai_type_detect(pdf, sizeof(pdf) - 1, t, sizeof(t)) !=
		    MUGAI_OK || strcmp(t, "application/pdf") != 0)
			return (void *)1;
		if (mugai_type_detect(png, sizeof(png), t, sizeof(t)) !=
		    MUGAI_OK || strcmp(t, "image/png") != 0)
			return (void *)1;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[4];
	void *res;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, detect_many, NULL), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &res);
		assert_null(res);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_zip_fallback),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("typing", tests, NULL, NULL);
}
