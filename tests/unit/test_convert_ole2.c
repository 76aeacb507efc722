/*
 * test_convert_ole2.c - what a compound file is (convert/ole2.c): the
 * files are written here by libgsf's OLE2 writer with the streams and
 * headers Word, Excel and PowerPoint write, small (mini stream) and
 * large, with and without their password markers.  Real password-
 * protected .xls and .doc files made by LibreOffice go through
 * tests/e2e/office.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-memory.h>
#include <gsf/gsf-utils.h>

#include "../../convert/convert.h"

struct stream {
	const char *name;
	const unsigned char *data;
	size_t	 len;
};

/* A compound file of the streams; caller frees. */
static unsigned char *
make_ole2(const struct stream *s, size_t n, size_t *lenp)
{
	GsfOutput *mem = gsf_output_memory_new(), *child;
	GsfOutfile *ole = gsf_outfile_msole_new(mem);
	unsigned char *copy;
	size_t i;

	assert_non_null(ole);
	for (i = 0; i < n; i++) {
		child = gsf_outfile_new_child(ole, s[i].name, FALSE);
		assert_non_null(child);
		assert_true(gsf_output_write(child, s[i].len, s[i].data));
		assert_true(gsf_output_close(child));
		g_object_unref(child);
	}
	assert_true(gsf_output_close(GSF_OUTPUT(ole)));
	g_object_unref(ole);
	*lenp = (size_t)gsf_output_size(mem);
	copy = malloc(*lenp);
	assert_non_null(copy);
	memcpy(copy, gsf_output_memory_get_bytes(GSF_OUTPUT_MEMORY(mem)),
	    *lenp);
	g_object_unref(mem);
	return copy;
}

static int
judge(const struct stream *s, size_t n, const char *want)
{
	struct convert_opts o;
	struct mugai_buf out;
	unsigned char *f;
	size_t len;
	char why[256];
	int rc;

	memset(&o, 0, sizeof(o));
	f = make_ole2(s, n, &len);
	mugai_buf_init(&out, 0);
	rc = convert_ole2(f, len, &o, &out, why, sizeof(why));
	print_message("%s -> %d %s\n", s[0].name, rc, rc ? why : out.data);
	if (rc == 0) {
		assert_int_equal(out.len, 4);
		assert_memory_equal(out.data, want, 3);
	} else
		assert_true(why[0] != '\0' && strchr(why, '\n') == NULL);
	mugai_buf_free(&out);
	free(f);
	return rc;
}

/* A FIB start: wIdent, nFib, unused, lid, pnNext, then the flags. */
static void
fib(unsigned char *b, size_t len, unsigned ident, unsigned flags)
{
	memset(b, 0, len);
	b[0] = ident & 0xff;
	b[1] = ident >> 8;
	b[2] = 0xc1;
	b[0x0a] = flags & 0xff;
	b[0x0b] = flags >> 8;
}

static void
test_word(void **state)
{
	static unsigned char big[8192], small[512];
	struct stream s[] = { { "WordDocument", big, sizeof(big) } };

	(void)state;
	fib(big, sizeof(big), 0xa5ec, 0x0200);
	assert_int_equal(judge(s, 1, "doc"), 0);
	fib(big, sizeof(big), 0xa5dc, 0);		/* Word 6/95 */
	assert_int_equal(judge(s, 1, "doc"), 0);
	fib(big, sizeof(big), 0xa5ec, 0x0100 | 0x0200);	/* fEncrypted */
	assert_int_equal(judge(s, 1, NULL), MUGAI_CONVERT_EXIT_ENCRYPTED);
	fib(small, sizeof(small), 0xa5dc, 0x0100);	/* in the mini stream */
	s[0].data = small;
	s[0].len = sizeof(small);
	assert_int_equal(judge(s, 1, NULL), MUGAI_CONVERT_EXIT_ENCRYPTED);
	fib(small, sizeof(small), 0x1234, 0);
	assert_int_equal(judge(s, 1, NULL), MUGAI_CONVERT_EXIT_BAD_INPUT);
}

static void
test_excel(void **state)
{
	/* BOF (0x0809), a WINDOW1-ish record, FILEPASS (0x002F), EOF. */
	static const unsigned char plain[] = {
		0x09, 0x08, 4, 0, 0, 6, 5, 0,
		0x3d, 0x00, 2, 0, 1, 2,
		0x0a, 0x00, 0, 0,
	};
	static const unsigned char locked[] = {
		0x09, 0x08, 4, 0, 0, 6, 5, 0,
		0x2f, 0x00, 6, 0, 1, 0, 1, 0, 1, 0,
		0x0a, 0x00, 0, 0,
	};
	/* FILEPASS only after the globals' EOF: not the workbook's. */
	static const unsigned char late[] = {
		0x09, 0x08, 4, 0, 0, 6, 5, 0,
		0x0a, 0x00, 0, 0,
		0x2f, 0x00, 0, 0,
	};
	/* A record claiming more bytes than the stream has. */
	static const unsigned char cut[] = {
		0x09, 0x08, 0xff, 0x7f, 0, 6,
	};
	struct stream s[] = { { "Workbook", plain, sizeof(plain) } };

	(void)state;
	assert_int_equal(judge(s, 1, "xls"), 0);
	s[0].data = locked;
	s[0].len = sizeof(locked);
	assert_int_equal(judge(s, 1, NULL), MUGAI_CONVERT_EXIT_ENCRYPTED);
	s[0].name = "Book";				/* Excel 5/95 */
	assert_int_equal(judge(s, 1, NULL), MUGAI_CONVERT_EXIT_ENCRYPTED);
	s[0].data = late;
	s[0].len = sizeof(late);
	assert_int_equal(judge(s, 1, "xls"), 0);
	s[0].data = cut;
	s[0].len = sizeof(cut);
	assert_int_equal(judge(s, 1, "xls"), 0);
}

static void
test_powerpoint_and_ooxml(void **state)
{
	static const unsigned char any[64];
	struct stream ppt[] = {
		{ "PowerPoint Document", any, sizeof(any) },
		{ "EncryptedSummary", any, sizeof(any) },
	};
	struct stream agile[] = {
		{ "EncryptionInfo", any, sizeof(any) },
		{ "EncryptedPackage", any, sizeof(any) },
	};
	struct stream other[] = { { "Contents", any, sizeof(any) } };

	(void)state;
	assert_int_equal(judge(ppt, 1, "ppt"), 0);
	assert_int_equal(judge(ppt, 2, NULL), MUGAI_CONVERT_EXIT_ENCRYPTED);
	assert_int_equal(judge(agile, 2, NULL), MUGAI_CONVERT_EXIT_ENCRYPTED);
	/* One of the two is not an encrypted package. */
	assert_int_equal(judge(agile, 1, NULL), MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_int_equal(judge(other, 1, NULL), MUGAI_CONVERT_EXIT_BAD_INPUT);
}

static void
test_not_ole2(void **state)
{
	static const struct stream w[] = {
		{ "WordDocument", (const unsigned char *)"\xec\xa5", 2 },
	};
	unsigned char noise[4096], *f;
	struct convert_opts o;
	struct mugai_buf out;
	size_t i, len;
	char why[256];

	(void)state;
	memset(&o, 0, sizeof(o));
	srand(3);
	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)rand();
	memcpy(noise, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	mugai_buf_init(&out, 0);
	assert_int_equal(convert_ole2(noise, sizeof(noise), &o, &out, why,
	    sizeof(why)), MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_int_equal(convert_ole2((const unsigned char *)"{\\rtf1}", 7, &o,
	    &out, why, sizeof(why)), MUGAI_CONVERT_EXIT_BAD_INPUT);
	/* A real one cut in half. */
	f = make_ole2(w, 1, &len);
	assert_int_equal(convert_ole2(f, len / 2, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_int_equal(out.len, 0);
	free(f);
	mugai_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word),
		cmocka_unit_test(test_excel),
		cmocka_unit_test(test_powerpoint_and_ooxml),
		cmocka_unit_test(test_not_ole2),
	};

	convert_ole2_prepare();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
