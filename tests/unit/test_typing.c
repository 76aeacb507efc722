/*
 * test_typing.c - detection by bytes, mismatch with names and declared
 * types, and libmagic handles lent to threads that come and go.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "mugai/scan/typing.h"

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

/* detect_part with a declared type; the answer, in a static buffer. */
static const char *
part_type(const void *data, size_t len, const char *declared,
    const char *charset)
{
	static char t[128];

	assert_int_equal(mugai_type_detect_part(data, len, declared, charset,
	    t, sizeof(t)), MUGAI_OK);
	return t;
}

static const char *
part_type_s(const char *text, const char *declared, const char *charset)
{
	return part_type(text, strlen(text), declared, charset);
}

/*
 * Each format by its signature gives what libmagic itself says of the
 * same bytes (mugai_type_detect with no declared type asks libmagic
 * only for what has no signature, so compare with a second opinion:
 * the answers libmagic 5.44 gives, listed).
 */
static void
test_signatures(void **state)
{
	static const unsigned char jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10,
	    'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0 };
	static const unsigned char gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
	    3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	unsigned char bmp[64], webp[40], zip[64], lzh[32];
	static const struct {
		const char *bytes;
		size_t len;
		const char *type;
	} cases[] = {
		{ "GIF89a\1\0\1\0\0\0\0;", 13, "image/gif" },
		{ "II*\0\x08\0\0\0\0\0", 10, "image/tiff" },
		{ "MM\0*\0\0\0\x08\0\0", 10, "image/tiff" },
		{ "7z\xbc\xaf\x27\x1c\0\x04", 8, "application/x-7z-compressed" },
		{ "Rar!\x1a\x07\0\xcf\x90\x73", 10, "application/x-rar" },
		{ "{\\rtf1\\ansi hello}", 18, "text/rtf" },
		/* A PDF header anywhere in the first 1 KB, as readers allow. */
		{ "junk before\n%PDF-1.4\n%%EOF\n", 27, "application/pdf" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(part_type(cases[i].bytes, cases[i].len,
		    NULL, NULL), cases[i].type);
		/* Declared as text, the bytes still decide. */
		assert_string_equal(part_type(cases[i].bytes, cases[i].len,
		    "text/plain", "us-ascii"), cases[i].type);
	}
	assert_string_equal(part_type(jpeg, sizeof(jpeg), "text/plain", NULL),
	    "image/jpeg");
	assert_string_equal(part_type(gz, sizeof(gz), NULL, NULL),
	    "application/gzip");
	memset(bmp, 0, sizeof(bmp));
	memcpy(bmp, "BM", 2);
	bmp[2] = sizeof(bmp);
	bmp[10] = 54;
	bmp[14] = 40;
	assert_string_equal(part_type(bmp, sizeof(bmp), "text/plain", NULL),
	    "image/bmp");
	memset(webp, 0, sizeof(webp));
	memcpy(webp, "RIFF\x20\0\0\0WEBPVP8 ", 16);
	assert_string_equal(part_type(webp, sizeof(webp), NULL, NULL),
	    "image/webp");
	memset(lzh, 0, sizeof(lzh));
	memcpy(lzh, "\x20\0-lh5-", 7);
	assert_string_equal(part_type(lzh, sizeof(lzh), NULL, NULL),
	    "application/x-lzh-compressed");
	/* A plain zip is a zip; an OOXML package keeps libmagic's name. */
	memset(zip, 0, sizeof(zip));
	memcpy(zip, "PK\3\4\x14\0", 6);
	zip[26] = 9;
	memcpy(zip + 30, "notes.txt", 9);
	assert_string_equal(part_type(zip, sizeof(zip), "text/plain", NULL),
	    "application/zip");
	/* "BM" and "PK" starting text are not a bitmap or a zip. */
	assert_string_equal(part_type_s("BMW cars\n", "text/plain", NULL),
	    "text/plain");
	assert_string_equal(part_type_s("PK fire\n", "text/plain", NULL),
	    "text/plain");
}

/*
 * Parts declared as text: a program or PDF under text/plain is still
 * caught; real text in Japanese charsets is text without libmagic's
 * pattern tests; text that is not valid in its charset goes to libmagic.
 */
static void
test_declared_text(void **state)
{
	/* 月曜日 in Shift_JIS starts 8C 8E: libmagic guesses a DOS program. */
	static const char sjis[] = "\x8c\x8e\x97\x6a\x93\xfa\x82\xc9"
	    "\x89\xef\x8b\x63\x82\xaa\x82\xa0\x82\xe8\x82\xdc\x82"
	    "\xb7\x81\x42\r\n";
	static const char eucjp[] = "\xb7\xee\xcd\xcb\xc6\xfc\xa4\xcb"
	    "\xb2\xf1\xb5\xc4\xa4\xac\xa4\xa2\xa4\xea\xa4\xde\xa4"
	    "\xb9\xa1\xa3\n";
	static const char jis[] = "\x1b$B7nMKF|$K2q5D$,$\"$j$^$9!#\x1b(B\n";
	static const char utf8[] = "会議は午後3時からです。\n";
	unsigned char pe[512];
	const char *t;

	(void)state;
	assert_string_equal(part_type(sjis, sizeof(sjis) - 1, "text/plain",
	    "Shift_JIS"), "text/plain");
	assert_string_equal(part_type(eucjp, sizeof(eucjp) - 1, "text/plain",
	    "EUC-JP"), "text/plain");
	assert_string_equal(part_type(jis, sizeof(jis) - 1, "text/plain",
	    "ISO-2022-JP"), "text/plain");
	assert_string_equal(part_type(utf8, sizeof(utf8) - 1, "text/plain",
	    "utf-8"), "text/plain");
	/* No charset label: detected, and still text. */
	assert_string_equal(part_type(sjis, sizeof(sjis) - 1, "text/plain",
	    NULL), "text/plain");
	/* A program or a PDF declared as text is caught by its bytes. */
	make_pe(pe, sizeof(pe));
	t = part_type(pe, sizeof(pe), "text/plain", "us-ascii");
	assert_true(mugai_type_is_executable(t));
	assert_string_equal(part_type(pdf, sizeof(pdf) - 1, "text/plain",
	    "us-ascii"), "application/pdf");
	assert_string_equal(part_type(png, sizeof(png), "text/html", NULL),
	    "image/png");
	/* Scripts keep libmagic's names, which the policy removes. */
	assert_true(mugai_type_is_executable(part_type_s("#!/bin/sh\nrm -rf /\n", "text/plain", NULL)));
	assert_true(mugai_type_is_executable(part_type_s("@echo off\r\ndel "
	    "*.*\r\n", "text/plain", NULL)));
	assert_string_equal(part_type_s("<?php system($_GET['c']); ?>\n",
	    "text/plain", NULL), "text/x-php");
	/* HTML, CSV and JSON by their content. */
	assert_string_equal(part_type_s("<html><body>hi</body></html>\n",
	    "text/plain", NULL), "text/html");
	assert_string_equal(part_type_s("a,b,c\n1,2,3\n4,5,6\n",
	    "text/plain", NULL), "text/csv");
	assert_string_equal(part_type_s("{\"a\": [1, 2]}\n", "text/plain",
	    NULL), "application/json");
	/* A NUL or a byte invalid in the charset: libmagic decides. */
	assert_string_not_equal(part_type("abc\0def\1\2\3\n", 12,
	    "text/plain", NULL), "text/plain");
	assert_string_equal(part_type_s("caf\xe9\n", "text/plain", "utf-8"),
	    part_type_s("caf\xe9\n", NULL, NULL));
	/* A BinHex or uuencoded file is named by libmagic, not text. */
	assert_string_equal(part_type_s("(This file must be converted with "
	    "BinHex 4.0)\n\n:", "text/plain", NULL),
	    "application/mac-binhex40");
}

static const char binhex[] = "(This file must be converted with BinHex 4.0)"
    "\n\n:";
static const char script[] = "#!/bin/sh\necho hello\n";

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
		/* These two go to libmagic: handles lent across threads. */
		if (mugai_type_detect(binhex, sizeof(binhex) - 1, t,
		    sizeof(t)) != MUGAI_OK ||
		    strcmp(t, "application/mac-binhex40") != 0)
			return (void *)1;
		if (mugai_type_detect(script, sizeof(script) - 1, t,
		    sizeof(t)) != MUGAI_OK ||
		    strcmp(t, "text/x-shellscript") != 0)
			return (void *)1;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[4];
	void *res;
	int i, round;

	(void)state;
	/* Threads come and go, as libmilter's workers do. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++)
			assert_int_equal(pthread_create(&th[i], NULL,
			    detect_many, NULL), 0);
		for (i = 0; i < 4; i++) {
			pthread_join(th[i], &res);
			assert_null(res);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_zip_fallback),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_declared_text),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("typing", tests, NULL, NULL);
}
