/*
 * test_g4enc.c - the fax coding of black-and-white pages
 * (src/cdr/g4enc.c, mugai_g4_encode): pages of ink strokes, noise and
 * paper, of widths that are and are not a multiple of eight, at the
 * threshold a split page's mask is coded with (128, which has a word-
 * at-a-time path) and at others, decoded by libtiff from a TIFF made
 * around the coded strip, come back exactly as the pixels below the
 * threshold; and the refusals.
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

#include <tiffio.h>

#include "mugai/cdr/imgenc.h"

/* Rows of paper, ink strokes (runs of 0 and 255) and noise. */
static void
page_fill(uint8_t *p, uint32_t w, uint32_t h, unsigned seed)
{
	uint32_t x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			seed = seed * 1103515245u + 12345u;
			switch (y % 3) {
			case 0:
				p[y * w + x] = 255;
				break;
			case 1:
				p[y * w + x] = (x / 5 + y) % 3 ? 255 : 0;
				break;
			default:
				p[y * w + x] = (uint8_t)(seed >> 16);
			}
		}
}

/*
 * decode - the Group 4 strip g[0..n) of a w x h page through libtiff:
 * a one-strip TIFF written around it, read back a row at a time into
 * bits (1 for black, the first pixel in the top bit).
 */
static uint8_t *
decode(const struct mugai_buf *g, uint32_t w, uint32_t h, size_t *rowlen)
{
	char path[] = "/tmp/test_g4enc.XXXXXX";
	uint8_t *bits;
	TIFF *tif;
	uint32_t y;
	int fd;

	*rowlen = (w + 7) / 8;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_non_null(tif = TIFFOpen(path, "w"));
	assert_true(TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w));
	assert_true(TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h));
	assert_true(TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1));
	assert_true(TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1));
	assert_true(TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
	    PHOTOMETRIC_MINISWHITE));
	assert_true(TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, h));
	assert_true(TIFFSetField(tif, TIFFTAG_COMPRESSION,
	    COMPRESSION_CCITTFAX4));
	assert_true(TIFFWriteRawStrip(tif, 0, g->data, (tmsize_t)g->len) ==
	    (tmsize_t)g->len);
	TIFFClose(tif);
	assert_non_null(tif = TIFFOpen(path, "r"));
	assert_non_null(bits = calloc(h, *rowlen));
	for (y = 0; y < h; y++)
		assert_int_equal(TIFFReadScanline(tif, bits + y * *rowlen, y,
		    0), 1);
	TIFFClose(tif);
	unlink(path);
	return bits;
}

/* Page w x h at each threshold: the decoded bits are its dark pixels. */
static void
round_trip(uint32_t w, uint32_t h)
{
	static const unsigned thresholds[] = { 128, 160, 1, 255, 127, 129 };
	struct mugai_pixmap pm = { w, h, 1, 0, NULL };
	struct mugai_buf g;
	uint8_t *px, *bits;
	size_t rowlen, i;
	uint32_t x, y;
	unsigned t, bit;

	assert_non_null(px = malloc((size_t)w * h));
	page_fill(px, w, h, w);
	pm.data = px;
	for (i = 0; i < sizeof(thresholds) / sizeof(thresholds[0]); i++) {
		t = thresholds[i];
		mugai_buf_init(&g, 0);
		assert_int_equal(mugai_g4_encode(&pm, t, &g), MUGAI_OK);
		bits = decode(&g, w, h, &rowlen);
		for (y = 0; y < h; y++)
			for (x = 0; x < w; x++) {
				bit = bits[y * rowlen + x / 8] >> (7 - x % 8) &
				    1;
				if (bit != (px[y * w + x] < t))
					fail_msg("%u x %u, threshold %u: pixel "
					    "%u,%u is %u, decoded %u", w, h, t,
					    x, y, px[y * w + x], bit);
			}
		free(bits);
		mugai_buf_free(&g);
	}
	free(px);
}

static void
test_round_trip(void **state)
{
	(void)state;
	round_trip(64, 30);
	round_trip(61, 37);
	round_trip(1240, 12);
	round_trip(7, 5);
}

static void
test_refuses(void **state)
{
	uint8_t px[12] = { 0 };
	struct mugai_pixmap pm = { 2, 2, 3, 0, px };
	struct mugai_buf g;

	(void)state;
	mugai_buf_init(&g, 0);
	assert_int_equal(mugai_g4_encode(&pm, 128, &g), MUGAI_ERR_USAGE);
	pm.channels = 1;
	pm.width = 0;
	assert_int_equal(mugai_g4_encode(&pm, 128, &g), MUGAI_ERR_USAGE);
	pm.width = 2;
	pm.data = NULL;
	assert_int_equal(mugai_g4_encode(&pm, 128, &g), MUGAI_ERR_USAGE);
	assert_int_equal(g.len, 0);
	mugai_buf_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
