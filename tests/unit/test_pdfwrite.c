/*
 * test_pdfwrite.c - the image-only PDF the parent writes (src/cdr/pdfwrite.c):
 * its structure byte by byte (every xref offset lands on its object,
 * stream lengths, page sizes in points), the JPEG images decoded back,
 * nothing active in it, and the error paths.  That poppler reads the
 * result is checked in test_convert_pdf.c, which links poppler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "mugai/cdr/pdfwrite.h"

#define GW	300
#define GH	200
#define CW	150
#define CH	120

static uint8_t grey[GW * GH];
static uint8_t rgb[CW * CH * 3];

/* Smooth gradients, so that JPEG keeps them close. */
static int
setup(void **state)
{
	size_t x, y;

	(void)state;
	for (y = 0; y < GH; y++)
		for (x = 0; x < GW; x++)
			grey[y * GW + x] = (uint8_t)(x * 255 / (GW - 1));
	for (y = 0; y < CH; y++)
		for (x = 0; x < CW; x++) {
			rgb[(y * CW + x) * 3] = (uint8_t)(x * 255 / (CW - 1));
			rgb[(y * CW + x) * 3 + 1] = (uint8_t)(y * 255 / (CH - 1));
			rgb[(y * CW + x) * 3 + 2] = 200;
		}
	return 0;
}

static void
two_pages(struct mugai_pixmap pm[2])
{
	pm[0] = (struct mugai_pixmap){ GW, GH, 1, 0, grey };
	pm[1] = (struct mugai_pixmap){ CW, CH, 3, 0, rgb };
}

static const char *
find(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle));
}

static size_t
count(const char *hay, size_t len, const char *needle)
{
	const char *p = hay, *end = hay + len;
	size_t n = 0;

	while ((p = find(p, (size_t)(end - p), needle)) != NULL) {
		n++;
		p++;
	}
	return n;
}

/*
 * check_xref - parse the file from its end as a reader does: startxref,
 * the table there, and each of its entries pointing at "N 0 obj".
 * Returns the number of objects (without the free entry 0).
 */
static size_t
check_xref(const char *pdf, size_t len)
{
	const char *p, *tail;
	char want[96];
	size_t xref, size, i, off;
	unsigned long long v;
	int used;

	assert_true(len > 32);
	assert_memory_equal(pdf, "%PDF-1.4\n", 9);
	assert_memory_equal(pdf + len - 6, "%%EOF\n", 6);
	tail = pdf + len - 6;
	for (p = tail - 2; p > pdf && *p != '\n'; p--)
		;
	assert_int_equal(sscanf(p + 1, "%llu", &v), 1);
	xref = (size_t)v;
	assert_memory_equal(p - 9, "startxref", 9);
	assert_true(xref < len);
	assert_int_equal(sscanf(pdf + xref, "xref\n0 %zu\n%n", &size, &used), 1);
	assert_true(size >= 4);
	p = pdf + xref + used;
	assert_memory_equal(p, "0000000000 65535 f \n", 20);
	for (i = 1; i < size; i++) {
		p += 20;
		/* Fixed-width entries: 10-digit offset, generation, "n", EOL. */
		assert_memory_equal(p + 10, " 00000 n \n", 10);
		assert_int_equal(sscanf(p, "%10zu", &off), 1);
		assert_true(off < xref);
		snprintf(want, sizeof(want), "%zu 0 obj\n", i);
		if (memcmp(pdf + off, want, strlen(want)) != 0)
			fail_msg("xref entry %zu points at \"%.12s\"", i,
			    pdf + off);
	}
	p += 20;
	snprintf(want, sizeof(want), "trailer\n<< /Size %zu /Root 1 0 R "
	    "/Info 3 0 R >>\n", size);
	assert_memory_equal(p, want, strlen(want));
	return size - 1;
}

/*
 * check_streams - each stream's /Length ends it right before
 * "\nendstream"; returns the number of streams.
 */
static size_t
check_streams(const char *pdf, size_t len)
{
	const char *p = pdf, *end = pdf + len, *s, *l;
	size_t n = 0, slen;

	while ((s = find(p, (size_t)(end - p), ">>\nstream\n")) != NULL) {
		for (l = s; l > p && memcmp(l, "/Length ", 8) != 0; l--)
			;
		assert_true(l > p);
		assert_int_equal(sscanf(l, "/Length %zu >>", &slen), 1);
		s += 10;
		assert_true(slen <= (size_t)(end - s) - 10);
		assert_memory_equal(s + slen, "\nendstream\n", 11);
		p = s + slen;
		n++;
	}
	return n;
}

/*
 * outside_streams - needle in the PDF's syntax, streams skipped: the
 * JPEG data may hold any short run of bytes by chance.
 */
static int
outside_streams(const char *pdf, size_t len, const char *needle)
{
	const char *p = pdf, *end = pdf + len, *s, *e;

	while (p < end) {
		if ((s = find(p, (size_t)(end - p), "stream\n")) == NULL)
			s = end;
		if (memmem(p, (size_t)(s - p), needle, strlen(needle)) != NULL)
			return 1;
		if (s == end)
			break;
		e = find(s, (size_t)(end - s), "\nendstream");
		assert_non_null(e);
		p = e + 10;
	}
	return 0;
}

/* The stream data of the image of width w, at *data, *len. */
static void
image_stream(const char *pdf, size_t len, unsigned w, const char *cs,
    const unsigned char **data, size_t *dlen)
{
	char key[160];
	const char *p;

	snprintf(key, sizeof(key), "<< /Type /XObject /Subtype /Image /Width "
	    "%u /Height ", w);
	p = find(pdf, len, key);
	assert_non_null(p);
	p = strstr(p, "/ColorSpace /");
	assert_non_null(p);
	assert_memory_equal(p + 13, cs, strlen(cs));
	p = strstr(p, "/Length ");
	assert_int_equal(sscanf(p, "/Length %zu", dlen), 1);
	p = strstr(p, ">>\nstream\n");
	*data = (const unsigned char *)p + 10;
}

/* Decode a JPEG and compare it with the pixels it was made from. */
static void
check_jpeg(const unsigned char *data, size_t len,
    const struct mugai_pixmap *pm)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr e;
	unsigned char *row;
	unsigned long diff = 0;
	size_t i, n;

	assert_true(len > 2 && data[0] == 0xff && data[1] == 0xd8);
	d.err = jpeg_std_error(&e);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, (unsigned long)len);
	assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
	assert_int_equal(d.image_width, pm->width);
	assert_int_equal(d.image_height, pm->height);
	assert_int_equal(d.num_components, (int)pm->channels);
	jpeg_start_decompress(&d);
	n = (size_t)pm->width * pm->channels;
	row = malloc(n);
	assert_non_null(row);
	while (d.output_scanline < d.output_height) {
		const uint8_t *src = pm->data + d.output_scanline * n;

		jpeg_read_scanlines(&d, &row, 1);
		for (i = 0; i < n; i++)
			diff += (unsigned long)abs(row[i] - src[i]);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	free(row);
	/* Mean error of a few levels at quality 90 on smooth gradients. */
	assert_true(diff / ((size_t)pm->height * n) < 4);
}

static void
test_structure(void **state)
{
	static const char *const absent[] = {
		"/JavaScript", "/JS", "/OpenAction", "/AA", "/AcroForm",
		"/Names", "/EmbeddedFile", "/Launch", "/URI", "/Annots",
		"/Metadata", "/Font", "/Outlines", "/XFA", "/RichMedia",
	};
	struct mugai_pixmap pm[2];
	struct mugai_buf out;
	const unsigned char *img;
	const char *c;
	size_t len, i;

	(void)state;
	two_pages(pm);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, 100, 90, &out), MUGAI_OK);
	/* Catalog, pages, info, and three objects for each page. */
	assert_int_equal(check_xref(out.data, out.len), 9);
	/* Two content streams, two images. */
	assert_int_equal(check_streams(out.data, out.len), 4);
	assert_int_equal(count(out.data, out.len, "/Type /Page "), 2);
	assert_int_equal(count(out.data, out.len, "/Type /Pages "), 1);
	assert_non_null(find(out.data, out.len, "/Type /Catalog /Pages 2 0 R"));
	assert_non_null(find(out.data, out.len,
	    "/Kids [4 0 R 7 0 R] /Count 2"));
	assert_non_null(find(out.data, out.len, "3 0 obj\n<< /Producer (mugai) "
	    ">>\nendobj"));
	/* 300 x 200 px at 100 dpi is 216 x 144 pt; 150 x 120 is 108 x 86.4. */
	assert_non_null(find(out.data, out.len, "/MediaBox [0 0 216.000 144.000]"));
	assert_non_null(find(out.data, out.len, "/MediaBox [0 0 108.000 86.400]"));
	c = find(out.data, out.len, "stream\nq 216.000 0 0 144.000 0 0 cm "
	    "/Im0 Do Q\nendstream");
	assert_non_null(c);
	assert_non_null(find(out.data, out.len, "stream\nq 108.000 0 0 86.400 0 "
	    "0 cm /Im0 Do Q\nendstream"));
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (outside_streams(out.data, out.len, absent[i]))
			fail_msg("%s in the PDF", absent[i]);
	image_stream(out.data, out.len, GW, "DeviceGray", &img, &len);
	check_jpeg(img, len, &pm[0]);
	image_stream(out.data, out.len, CW, "DeviceRGB", &img, &len);
	check_jpeg(img, len, &pm[1]);
	mugai_buf_free(&out);
}

/* Offsets count from the start of the PDF, not of the buffer. */
static void
test_appends(void **state)
{
	struct mugai_pixmap pm[2];
	struct mugai_buf out;

	(void)state;
	two_pages(pm);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_buf_puts(&out, "PREFIX"), MUGAI_OK);
	assert_int_equal(mugai_pdf_from_pages(pm + 1, 1, 150, 50, &out),
	    MUGAI_OK);
	assert_memory_equal(out.data, "PREFIX%PDF-", 11);
	assert_int_equal(check_xref(out.data + 6, out.len - 6), 6);
	/* 150 x 120 px at 150 dpi: 72 x 57.6 pt. */
	assert_non_null(find(out.data, out.len, "/MediaBox [0 0 72.000 57.600]"));
	mugai_buf_free(&out);
}

/* Points to three decimals, rounded, with no locale in the way. */
static void
test_sizes(void **state)
{
	static const struct {
		uint32_t w, h;
		unsigned dpi;
		const char *box;
	} cases[] = {
		{ 1275, 1650, 150, "[0 0 612.000 792.000]" },
		{ 1, 1, 7, "[0 0 10.286 10.286]" },
		{ 1, 3, 300, "[0 0 0.240 0.720]" },
		{ 20000, 1, 1, "[0 0 1440000.000 72.000]" },
	};
	static uint8_t px[1275 * 1650];
	struct mugai_pixmap pm;
	struct mugai_buf out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pm = (struct mugai_pixmap){ cases[i].w, cases[i].h, 1, 0, px };
		mugai_buf_init(&out, 0);
		assert_int_equal(mugai_pdf_from_pages(&pm, 1, cases[i].dpi, 75,
		    &out), MUGAI_OK);
		if (find(out.data, out.len, cases[i].box) == NULL)
			fail_msg("%u x %u at %u dpi: no MediaBox %s", cases[i].w,
			    cases[i].h, cases[i].dpi, cases[i].box);
		check_xref(out.data, out.len);
		mugai_buf_free(&out);
	}
}

static void
test_usage(void **state)
{
	struct mugai_pixmap pm[2], bad;
	struct mugai_buf out;

	(void)state;
	two_pages(pm);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 0, 150, 80, &out),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pdf_from_pages(NULL, 1, 150, 80, &out),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, 0, 80, &out),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, 150, 0, &out),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, 150, 101, &out),
	    MUGAI_ERR_USAGE);
	bad = pm[0];
	bad.channels = 2;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, 150, 80, &out),
	    MUGAI_ERR_USAGE);
	bad = pm[0];
	bad.width = 0;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, 150, 80, &out),
	    MUGAI_ERR_USAGE);
	bad = pm[1];
	bad.data = NULL;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, 150, 80, &out),
	    MUGAI_ERR_USAGE);
	assert_int_equal(out.len, 0);
	mugai_buf_free(&out);
}

/* Over the buffer's cap: an error, and the partial file taken back. */
static void
test_cap(void **state)
{
	struct mugai_pixmap pm[2];
	struct mugai_buf out;
	size_t cap;

	(void)state;
	two_pages(pm);
	for (cap = 100; cap <= 3000; cap += 700) {
		mugai_buf_init(&out, cap);
		assert_int_equal(mugai_buf_puts(&out, "keep"), MUGAI_OK);
		assert_int_equal(mugai_pdf_from_pages(pm, 2, 150, 80, &out),
		    MUGAI_ERR_LIMIT);
		assert_int_equal(out.len, 4);
		assert_string_equal(out.data, "keep");
		mugai_buf_free(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
