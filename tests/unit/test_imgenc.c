/*
 * test_imgenc.c - the pixel stream (src/cdr/pixels.c) and the parent's PNG
 * and JPEG encoders (src/cdr/imgenc.c), checked by decoding their output
 * with libpng and libjpeg and by walking its chunks and markers.
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
#include <png.h>
#include <zlib.h>

#include "mugai/cdr/imgenc.h"
#include "mugai/cdr/pixels.h"

#define MAXPX	1000000

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *
pattern(uint32_t w, uint32_t h, uint32_t ch)
{
	uint8_t *p = malloc((size_t)w * h * ch);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < (size_t)w * h * ch; i++)
		p[i] = (uint8_t)(i * 7 + i / 13);
	return p;
}

/* Pixel stream */

static void
test_pixels_round_trip(void **state)
{
	uint8_t *a = pattern(5, 3, 3), *b = pattern(2, 7, 1);
	struct mugai_pixmap *pm;
	struct mugai_buf out;
	size_t n;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pixels_begin(&out, 2), MUGAI_OK);
	assert_int_equal(mugai_pixels_add(&out, 5, 3, 3, MUGAI_PIX_PHOTO, a),
	    MUGAI_OK);
	assert_int_equal(mugai_pixels_add(&out, 2, 7, 1, 0, b), MUGAI_OK);
	assert_int_equal(out.len, 8 + 16 + 45 + 16 + 14);
	assert_memory_equal(out.data, "MPIX\2\0\0\0\5\0\0\0\3\0\0\0\3\0\0\0"
	    "\1\0\0\0", 24);
	assert_int_equal(mugai_pixels_parse(out.data, out.len, MAXPX, 2, &pm,
	    &n), MUGAI_OK);
	assert_int_equal(n, 2);
	assert_int_equal(pm[0].width, 5);
	assert_int_equal(pm[0].height, 3);
	assert_int_equal(pm[0].channels, 3);
	assert_int_equal(pm[0].flags, MUGAI_PIX_PHOTO);
	assert_memory_equal(pm[0].data, a, 45);
	assert_int_equal(pm[1].width, 2);
	assert_int_equal(pm[1].height, 7);
	assert_int_equal(pm[1].channels, 1);
	assert_int_equal(pm[1].flags, 0);
	assert_memory_equal(pm[1].data, b, 14);
	free(pm);
	/* Limits are inclusive. */
	assert_int_equal(mugai_pixels_parse(out.data, out.len, 15, 2, &pm,
	    &n), MUGAI_OK);
	free(pm);
	mugai_buf_free(&out);
	free(a);
	free(b);
}

static void
test_pixels_writer_refuses(void **state)
{
	uint8_t px[12] = { 0 };
	struct mugai_buf out;

	(void)state;
	mugai_buf_init(&out, 30);
	assert_int_equal(mugai_pixels_begin(&out, 0), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pixels_begin(&out, 1), MUGAI_OK);
	assert_int_equal(mugai_pixels_add(&out, 2, 2, 2, 0, px),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pixels_add(&out, 0, 2, 1, 0, px),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pixels_add(&out, 2, 2, 1, 0x80, px),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pixels_add(&out, 0xffffffff, 0xffffffff, 3, 0,
	    px), MUGAI_ERR_USAGE);
	/* Over the cap: nothing of the image is left behind. */
	assert_int_equal(mugai_pixels_add(&out, 2, 2, 3, 0, px),
	    MUGAI_ERR_LIMIT);
	assert_int_equal(out.len, 8);
	assert_int_equal(mugai_pixels_add(&out, 2, 3, 1, 0, px), MUGAI_OK);
	assert_int_equal(out.len, 30);
	mugai_buf_free(&out);
}

/* A stream of one w x h x ch image, with len bytes of data after it. */
static size_t
one_image(uint8_t *buf, const char *magic, uint32_t count, uint32_t w,
    uint32_t h, uint32_t ch, uint32_t flags, size_t len)
{
	memcpy(buf, magic, 4);
	put32(buf + 4, count);
	put32(buf + 8, w);
	put32(buf + 12, h);
	put32(buf + 16, ch);
	put32(buf + 20, flags);
	memset(buf + 24, 0x33, len);
	return 24 + len;
}

static void
test_pixels_parser_refuses(void **state)
{
	static const struct {
		const char *what, *magic;
		uint32_t count, w, h, ch, flags;
		size_t len, max_pixels, max_images;
	} cases[] = {
		{ "good", "MPIX", 1, 4, 3, 3, 0, 36, 12, 1 },
		{ "wrong magic", "MPIY", 1, 4, 3, 3, 0, 36, 12, 1 },
		{ "count 0", "MPIX", 0, 4, 3, 3, 0, 36, 12, 1 },
		{ "count over max", "MPIX", 2, 4, 3, 3, 0, 36, 12, 1 },
		{ "count past the data", "MPIX", 0xffffffff, 4, 3, 3, 0, 36,
		    12, (size_t)-1 },
		{ "channels 2", "MPIX", 1, 4, 3, 2, 0, 24, 12, 1 },
		{ "channels 4", "MPIX", 1, 4, 3, 4, 0, 48, 12, 1 },
		{ "channels 0", "MPIX", 1, 4, 3, 0, 0, 0, 12, 1 },
		{ "width 0", "MPIX", 1, 0, 3, 3, 0, 0, 12, 1 },
		{ "height 0", "MPIX", 1, 4, 0, 3, 0, 0, 12, 1 },
		{ "over max_pixels", "MPIX", 1, 4, 3, 3, 0, 36, 11, 1 },
		{ "a byte short", "MPIX", 1, 4, 3, 3, 0, 35, 12, 1 },
		{ "a byte over", "MPIX", 1, 4, 3, 3, 0, 37, 12, 1 },
		{ "unknown flag", "MPIX", 1, 4, 3, 3, 2, 36, 12, 1 },
		/* w*h fits 64 bits, w*h*3 does not: the overflow check. */
		{ "w*h*c overflows", "MPIX", 1, 0xffffffff, 0xffffffff, 3, 0,
		    36, (size_t)-1, 1 },
		/* ... and one whose product wraps to exactly the data size. */
		{ "w*h*c wraps to 26", "MPIX", 1, 2154230017u, 2854344542u, 3,
		    0, 26, (size_t)-1, 1 },
		{ "w*h*c huge", "MPIX", 1, 0x10000, 0x10000, 3, 0, 36,
		    (size_t)-1, 1 },
	};
	struct mugai_pixmap *pm;
	uint8_t buf[128];
	size_t i, len, n;
	mugai_status want, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = one_image(buf, cases[i].magic, cases[i].count,
		    cases[i].w, cases[i].h, cases[i].ch, cases[i].flags,
		    cases[i].len);
		pm = (void *)buf;
		n = 99;
		rc = mugai_pixels_parse(buf, len, cases[i].max_pixels,
		    cases[i].max_images, &pm, &n);
		want = i == 0 ? MUGAI_OK : MUGAI_ERR_PARSE;
		if (rc != want)
			fail_msg("%s: %d", cases[i].what, rc);
		if (rc == MUGAI_OK) {
			assert_int_equal(n, 1);
			assert_ptr_equal(pm[0].data, buf + 24);
			free(pm);
			continue;
		}
		assert_null(pm);
		assert_int_equal(n, 0);
	}
	/* Shorter than the stream header, and the second header cut. */
	assert_int_equal(mugai_pixels_parse("MPIX\1\0\0", 7, 12, 1, &pm, &n),
	    MUGAI_ERR_PARSE);
	len = one_image(buf, "MPIX", 2, 4, 3, 3, 0, 36);
	memset(buf + len, 0, 20);
	assert_int_equal(mugai_pixels_parse(buf, len + 15, 12, 2, &pm, &n),
	    MUGAI_ERR_PARSE);
}

/* PNG */

struct mem {
	const uint8_t	*p;
	size_t		 len, off;
};

static void
png_r(png_structp png, png_bytep out, size_t n)
{
	struct mem *m = png_get_io_ptr(png);

	if (n > m->len - m->off)
		png_error(png, "short");
	memcpy(out, m->p + m->off, n);
	m->off += n;
}

/* Decode with libpng: must be 8-bit grey or RGB of w x h, pixels px. */
static void
png_check(const struct mugai_buf *b, uint32_t w, uint32_t h, uint32_t ch,
    const uint8_t *px)
{
	struct mem m = { (const uint8_t *)b->data, b->len, 0 };
	png_structp png;
	png_infop info;
	uint8_t *row;
	uint32_t y;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	assert_non_null(png);
	info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng cannot read the encoded PNG");
	png_set_read_fn(png, &m, png_r);
	png_read_info(png, info);
	assert_int_equal(png_get_image_width(png, info), w);
	assert_int_equal(png_get_image_height(png, info), h);
	assert_int_equal(png_get_bit_depth(png, info), 8);
	assert_int_equal(png_get_color_type(png, info), ch == 1 ?
	    PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB);
	row = malloc((size_t)w * ch);
	assert_non_null(row);
	for (y = 0; y < h; y++) {
		png_read_row(png, row, NULL);
		assert_memory_equal(row, px + (size_t)y * w * ch,
		    (size_t)w * ch);
	}
	png_read_end(png, info);
	png_destroy_read_struct(&png, &info, NULL);
	free(row);
}

/* The chunks are IHDR, IDAT..., IEND and nothing else, to the last byte. */
static void
png_chunks_check(const struct mugai_buf *b)
{
	const uint8_t *p = (const uint8_t *)b->data;
	size_t off = 8;
	uint32_t len;
	char type[5] = "";
	int n = 0;

	assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
	while (off < b->len) {
		assert_true(b->len - off >= 12);
		len = be32(p + off);
		memcpy(type, p + off + 4, 4);
		if (n == 0)
			assert_string_equal(type, "IHDR");
		else if (strcmp(type, "IEND") != 0)
			assert_string_equal(type, "IDAT");
		off += 12 + (size_t)len;
		n++;
	}
	assert_int_equal(off, b->len);
	assert_string_equal(type, "IEND");
}

static void
test_png_encode(void **state)
{
	struct mugai_pixmap pm = { 31, 17, 1, 0, NULL };
	struct mugai_buf out;
	uint8_t *px;

	(void)state;
	for (pm.channels = 1; pm.channels <= 3; pm.channels += 2) {
		px = pattern(pm.width, pm.height, pm.channels);
		pm.data = px;
		mugai_buf_init(&out, 0);
		mugai_buf_puts(&out, "kept");
		assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_OK);
		/* Appended to what was there. */
		assert_memory_equal(out.data, "kept", 4);
		memmove(out.data, out.data + 4, out.len - 4);
		out.len -= 4;
		png_chunks_check(&out);
		png_check(&out, pm.width, pm.height, pm.channels, px);
		mugai_buf_free(&out);
		free(px);
	}
}

/*
 * The filter byte of every row of the IDAT, after inflating it whole:
 * how many rows use filter 4 (Paeth).
 */
static uint32_t
png_paeth_rows(const struct mugai_buf *b, uint32_t w, uint32_t h,
    uint32_t ch)
{
	const uint8_t *p = (const uint8_t *)b->data;
	size_t off = 8, zlen = 0, rawlen = ((size_t)w * ch + 1) * h;
	uint8_t *z = malloc(b->len), *raw = malloc(rawlen);
	uLongf got = rawlen;
	uint32_t len, y, paeth = 0;

	assert_non_null(z);
	assert_non_null(raw);
	while (off + 12 <= b->len) {
		len = be32(p + off);
		if (memcmp(p + off + 4, "IDAT", 4) == 0) {
			memcpy(z + zlen, p + off + 8, len);
			zlen += len;
		}
		off += 12 + (size_t)len;
	}
	assert_int_equal(uncompress(raw, &got, z, zlen), Z_OK);
	assert_int_equal(got, rawlen);
	for (y = 0; y < h; y++) {
		assert_in_range(raw[y * ((size_t)w * ch + 1)], 0, 4);
		paeth += raw[y * ((size_t)w * ch + 1)] == 4;
	}
	free(z);
	free(raw);
	return paeth;
}

/*
 * Noise (a photo to deflate) and flat areas with strokes (a screenshot)
 * are encoded differently (imgenc.c, png_deflate_set: Paeth and Z_RLE
 * for the first, libpng's filter per row and deflate's full search for
 * the second), at sizes that take each hash table size: each still
 * decodes to exactly its pixels.
 */
static void
test_png_encode_kinds(void **state)
{
	static const uint32_t dim[][2] = { { 1, 1 }, { 3, 2 }, { 100, 80 },
	    { 200, 150 }, { 700, 450 } };
	struct mugai_pixmap pm = { 0, 0, 1, 0, NULL };
	struct mugai_buf out;
	uint32_t seed = 1, d, kind;
	uint8_t *px;
	size_t i, n;

	(void)state;
	for (d = 0; d < sizeof(dim) / sizeof(dim[0]); d++)
	for (pm.channels = 1; pm.channels <= 3; pm.channels += 2)
	for (kind = 0; kind < 2; kind++) {
		pm.width = dim[d][0];
		pm.height = dim[d][1];
		n = (size_t)pm.width * pm.height * pm.channels;
		px = malloc(n);
		assert_non_null(px);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			if (kind == 0)		/* noise */
				px[i] = (uint8_t)(seed >> 16);
			else			/* white, a dark stroke in 9 */
				px[i] = (i / pm.channels) % 9 == 4 ?
				    0x20 : 0xf0;
		}
		pm.data = px;
		mugai_buf_init(&out, 0);
		assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_OK);
		png_chunks_check(&out);
		png_check(&out, pm.width, pm.height, pm.channels, px);
		/* Noise wide enough to judge: Paeth on every row. */
		if (kind == 0 && pm.width > 2)
			assert_int_equal(png_paeth_rows(&out, pm.width,
			    pm.height, pm.channels), pm.height);
		if (kind == 1 && pm.height > 2)
			assert_true(png_paeth_rows(&out, pm.width, pm.height,
			    pm.channels) < pm.height);
		mugai_buf_free(&out);
		free(px);
	}
}

/* JPEG */

static void
jpeg_check(const struct mugai_buf *b, uint32_t w, uint32_t h, uint32_t ch,
    const uint8_t *px)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_error_mgr err;
	uint8_t *row;
	JSAMPROW r;
	uint32_t x;

	ci.err = jpeg_std_error(&err);
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, (const unsigned char *)b->data, b->len);
	assert_int_equal(jpeg_read_header(&ci, TRUE), JPEG_HEADER_OK);
	jpeg_start_decompress(&ci);
	assert_int_equal(ci.output_width, w);
	assert_int_equal(ci.output_height, h);
	assert_int_equal(ci.output_components, ch);
	row = malloc((size_t)w * ch);
	assert_non_null(row);
	r = row;
	while (ci.output_scanline < h) {
		const uint8_t *want = px + (size_t)ci.output_scanline * w * ch;

		jpeg_read_scanlines(&ci, &r, 1);
		for (x = 0; x < w * ch; x++)
			if (abs((int)row[x] - (int)want[x]) > 20)
				fail_msg("row %u sample %u: %u, want %u",
				    ci.output_scanline - 1, x, row[x],
				    want[x]);
	}
	jpeg_finish_decompress(&ci);
	assert_int_equal(err.num_warnings, 0);
	jpeg_destroy_decompress(&ci);
	free(row);
}

/* Markers up to SOS: SOI, APP0 (JFIF), then only tables and the frame. */
static void
jpeg_markers_check(const struct mugai_buf *b)
{
	const uint8_t *p = (const uint8_t *)b->data;
	size_t off = 2;
	uint8_t m;

	assert_memory_equal(p, "\xff\xd8\xff\xe0", 4);
	assert_memory_equal(p + 6, "JFIF\0", 5);
	for (;;) {
		assert_true(off + 4 <= b->len);
		assert_int_equal(p[off], 0xff);
		m = p[off + 1];
		if (m == 0xda)
			break;
		/* No APP1..APP15 (EXIF, XMP, ICC, Adobe), no COM. */
		if ((m > 0xe0 && m <= 0xef) || m == 0xfe)
			fail_msg("marker %#x in the output", m);
		off += 2 + ((size_t)p[off + 2] << 8 | p[off + 3]);
	}
	assert_memory_equal(p + b->len - 2, "\xff\xd9", 2);
}

/* Smooth enough for JPEG to keep close. */
static uint8_t *
smooth(uint32_t w, uint32_t h, uint32_t ch)
{
	uint8_t *p = malloc((size_t)w * h * ch);
	uint32_t x, y, c;

	assert_non_null(p);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			for (c = 0; c < ch; c++)
				p[(y * w + x) * ch + c] = (uint8_t)(x * 2 +
				    y * c + 40);
	return p;
}

static void
test_jpeg_encode(void **state)
{
	struct mugai_pixmap pm = { 48, 40, 1, MUGAI_PIX_PHOTO, NULL };
	struct mugai_buf out;
	uint8_t *px;

	(void)state;
	for (pm.channels = 1; pm.channels <= 3; pm.channels += 2) {
		px = smooth(pm.width, pm.height, pm.channels);
		pm.data = px;
		mugai_buf_init(&out, 0);
		assert_int_equal(mugai_jpeg_encode(&pm, 90, &out), MUGAI_OK);
		jpeg_markers_check(&out);
		jpeg_check(&out, pm.width, pm.height, pm.channels, px);
		mugai_buf_free(&out);
		free(px);
	}
}

/* Big enough that the output passes the encoder's 16 KiB chunk. */
static void
test_jpeg_encode_large(void **state)
{
	struct mugai_pixmap pm = { 300, 200, 3, 0, NULL };
	struct mugai_buf out;
	uint8_t *px = pattern(300, 200, 3);

	(void)state;
	pm.data = px;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_jpeg_encode(&pm, 100, &out), MUGAI_OK);
	assert_true(out.len > 16384);
	jpeg_markers_check(&out);
	mugai_buf_free(&out);
	free(px);
}

static void
test_encode_refuses(void **state)
{
	uint8_t px[64] = { 0 }, *wide;
	struct mugai_pixmap pm = { 4, 4, 3, 0, px };
	struct mugai_buf out;

	(void)state;
	mugai_buf_init(&out, 0);
	pm.channels = 2;
	assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_jpeg_encode(&pm, 80, &out), MUGAI_ERR_USAGE);
	pm.channels = 3;
	pm.width = 0;
	assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_jpeg_encode(&pm, 80, &out), MUGAI_ERR_USAGE);
	pm.width = 4;
	pm.data = NULL;
	assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_ERR_USAGE);
	pm.data = px;
	assert_int_equal(mugai_jpeg_encode(&pm, 0, &out), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_jpeg_encode(&pm, 101, &out), MUGAI_ERR_USAGE);
	assert_int_equal(out.len, 0);
	mugai_buf_free(&out);

	/* Over the output cap: an error, and out as it was. */
	mugai_buf_init(&out, 40);
	mugai_buf_puts(&out, "before");
	assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_ERR_LIMIT);
	assert_int_equal(out.len, 6);
	assert_string_equal(out.data, "before");
	assert_int_equal(mugai_jpeg_encode(&pm, 80, &out), MUGAI_ERR_LIMIT);
	assert_int_equal(out.len, 6);
	assert_string_equal(out.data, "before");
	mugai_buf_free(&out);

	/* Wider than JPEG allows: refused, not a libjpeg crash. */
	wide = calloc(65501, 1);
	assert_non_null(wide);
	pm.width = 65501;
	pm.height = 1;
	pm.channels = 1;
	pm.data = wide;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_jpeg_encode(&pm, 80, &out), MUGAI_ERR_LIMIT);
	assert_int_equal(out.len, 0);
	/* PNG takes it. */
	assert_int_equal(mugai_png_encode(&pm, &out), MUGAI_OK);
	png_check(&out, 65501, 1, 1, wide);
	mugai_buf_free(&out);
	free(wide);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pixels_round_trip),
		cmocka_unit_test(test_pixels_writer_refuses),
		cmocka_unit_test(test_pixels_parser_refuses),
		cmocka_unit_test(test_png_encode),
		cmocka_unit_test(test_png_encode_kinds),
		cmocka_unit_test(test_jpeg_encode),
		cmocka_unit_test(test_jpeg_encode_large),
		cmocka_unit_test(test_encode_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
