/*
 * test_pixelruns.c - PDF pages run-length coded in the pixel stream
 * (src/cdr/pixels.c, MUGAI_PIX_RUNS): pages of paper, text-like rows,
 * noise and colour come back byte for byte, next to a plain page and
 * with the words that follow; the coded length and every count are
 * checked (a run or a literal past either end, a short page, the
 * reserved control byte, more decoded bytes than allowed), also when
 * the pages are left coded and decoded one at a time
 * (mugai_pixels_parse_coded, mugai_pixels_unpack); and the parsers of
 * plain images refuse a coded one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pixels.h"

#define MAXPX	1000000
#define W	300
#define H	40

/* Rows: paper, a text-like row (runs and edges), noise, short runs. */
static void
page_fill(uint8_t *p, uint32_t w, uint32_t h, uint32_t ch, unsigned seed)
{
	size_t i, n = (size_t)w * ch;
	uint32_t y;

	for (y = 0; y < h; y++) {
		uint8_t *r = p + y * n;

		switch (y % 4) {
		case 0:
			memset(r, 255, n);
			break;
		case 1:
			for (i = 0; i < n; i++)
				r[i] = (i / 7) % 3 ? 255 : (uint8_t)(i * 13);
			break;
		case 2:
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				r[i] = (uint8_t)(seed >> 16);
			}
			break;
		default:
			for (i = 0; i < n; i++)
				r[i] = (uint8_t)(i / 2);
		}
	}
}

/* A coded page of w x h x ch from p, as the worker writes it. */
static void
add_coded(struct mugai_buf *out, uint32_t w, uint32_t h, uint32_t ch,
    const uint8_t *p)
{
	size_t at, n = (size_t)w * ch;
	uint8_t *scratch = malloc(MUGAI_PIXELS_RUNS_BOUND(n));
	uint32_t y;

	assert_non_null(scratch);
	assert_int_equal(mugai_pixels_runs_begin(out, w, h, ch, &at),
	    MUGAI_OK);
	for (y = 0; y < h; y++)
		assert_int_equal(mugai_pixels_runs_row(out, p + y * n, n,
		    scratch), MUGAI_OK);
	assert_int_equal(mugai_pixels_runs_end(out, at), MUGAI_OK);
	free(scratch);
}

static void
test_round_trip(void **state)
{
	static uint8_t grey[W * H], rgb[W * H * 3], plain[7 * 5],
	    page[W * H * 3];
	struct mugai_pixmap *pm, one;
	size_t *coded;
	struct mugai_buf out;
	uint8_t *store;
	size_t n, used, plain_len;

	(void)state;
	page_fill(grey, W, H, 1, 1);
	page_fill(rgb, W, H, 3, 2);
	memset(plain, 9, sizeof(plain));
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pixels_begin(&out, 3), MUGAI_OK);
	add_coded(&out, W, H, 1, grey);
	assert_int_equal(mugai_pixels_add(&out, 7, 5, 1, 0, plain), MUGAI_OK);
	plain_len = out.len;
	add_coded(&out, W, H, 3, rgb);
	/* Paper and runs make the coded pages smaller than their pixels. */
	assert_true(out.len < sizeof(grey) + sizeof(rgb));
	assert_int_equal(mugai_buf_append(&out, "words", 5), MUGAI_OK);
	assert_int_equal(mugai_pixels_parse_pages(out.data, out.len, MAXPX, 3,
	    sizeof(grey) + sizeof(rgb), &pm, &n, &used, &store), MUGAI_OK);
	assert_int_equal(n, 3);
	assert_int_equal(used, out.len - 5);
	assert_non_null(store);
	assert_int_equal(pm[0].width, W);
	assert_int_equal(pm[0].channels, 1);
	assert_int_equal(pm[0].flags, 0);
	assert_memory_equal(pm[0].data, grey, sizeof(grey));
	assert_int_equal(pm[1].width, 7);
	assert_memory_equal(pm[1].data, plain, sizeof(plain));
	/* The plain page points into the stream, the coded ones do not. */
	assert_ptr_equal(pm[1].data, (const uint8_t *)out.data + plain_len -
	    sizeof(plain));
	assert_int_equal(pm[2].channels, 3);
	assert_memory_equal(pm[2].data, rgb, sizeof(rgb));
	free(pm);
	free(store);

	/* Left coded: pages decoded one at a time come back the same. */
	assert_int_equal(mugai_pixels_parse_coded(out.data, out.len, MAXPX, 3,
	    sizeof(grey) + sizeof(rgb), &pm, &coded, &n, &used), MUGAI_OK);
	assert_int_equal(n, 3);
	assert_int_equal(used, out.len - 5);
	assert_int_equal(pm[0].flags, MUGAI_PIX_RUNS);
	assert_int_equal(pm[1].flags, 0);
	assert_int_equal(pm[2].flags, MUGAI_PIX_RUNS);
	assert_int_equal(mugai_pixels_unpack(&pm[0], coded[0], page, &one),
	    MUGAI_OK);
	assert_memory_equal(one.data, grey, sizeof(grey));
	assert_int_equal(mugai_pixels_unpack(&pm[1], coded[1], page, &one),
	    MUGAI_OK);
	assert_ptr_equal(one.data, pm[1].data);
	assert_int_equal(mugai_pixels_unpack(&pm[2], coded[2], page, &one),
	    MUGAI_OK);
	assert_int_equal(one.flags, 0);
	assert_memory_equal(one.data, rgb, sizeof(rgb));
	free(pm);
	free(coded);
	assert_int_equal(mugai_pixels_parse_coded(out.data, out.len, MAXPX, 3,
	    sizeof(grey) + sizeof(rgb) - 1, &pm, &coded, &n, &used),
	    MUGAI_ERR_PARSE);
	assert_null(pm);
	assert_null(coded);

	/* One byte fewer allowed decoded: refused. */
	assert_int_equal(mugai_pixels_parse_pages(out.data, out.len, MAXPX, 3,
	    sizeof(grey) + sizeof(rgb) - 1, &pm, &n, &used, &store),
	    MUGAI_ERR_PARSE);
	assert_null(pm);
	assert_null(store);
	/* The plain parsers know no coded image. */
	assert_int_equal(mugai_pixels_parse_prefix(out.data, out.len, MAXPX, 3,
	    &pm, &n, &used), MUGAI_ERR_PARSE);
	assert_int_equal(mugai_pixels_parse(out.data, out.len - 5, MAXPX, 3,
	    &pm, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&out);
}

/*
 * parse_undecoded - the one-page stream buf[0..len) through
 * mugai_pixels_parse_coded and, when accepted, the page decoded by
 * mugai_pixels_unpack (its stream used bytes long): its result.
 */
static mugai_status
parse_undecoded(const uint8_t *buf, size_t len, size_t used)
{
	struct mugai_pixmap *pm, one;
	uint8_t page[8];
	size_t *coded, n, u;
	mugai_status rc;

	rc = mugai_pixels_parse_coded(buf, len, MAXPX, 1, 100, &pm, &coded,
	    &n, &u);
	if (rc != MUGAI_OK) {
		assert_null(pm);
		assert_null(coded);
		return rc;
	}
	assert_int_equal(n, 1);
	assert_int_equal(u, used);
	assert_true(pm[0].flags & MUGAI_PIX_RUNS);
	assert_int_equal(mugai_pixels_unpack(&pm[0], coded[0], page, &one),
	    MUGAI_OK);
	assert_int_equal(one.flags, 0);
	assert_ptr_equal(one.data, page);
	assert_memory_equal(page, "\1\2\3\7\7\7\7\7", 8);
	/* A coded length one short no longer decodes to the page. */
	assert_int_equal(mugai_pixels_unpack(&pm[0], coded[0] - 1, page, &one),
	    MUGAI_ERR_PARSE);
	free(pm);
	free(coded);
	return rc;
}

/* A one-image stream of a 4 x 2 grey page with the given coded bytes. */
static mugai_status
parse_coded(const uint8_t *code, size_t len, uint32_t coded_len,
    size_t extra)
{
	uint8_t buf[128];
	struct mugai_pixmap *pm;
	uint8_t *store;
	size_t n, used, off = 0;
	const uint32_t head[] = { 4, 2, 1, MUGAI_PIX_RUNS, coded_len };
	mugai_status rc;
	size_t i;

	memcpy(buf, "MPIX\1\0\0\0", 8);
	off = 8;
	for (i = 0; i < 5; i++, off += 4) {
		buf[off] = head[i] & 0xff;
		buf[off + 1] = (head[i] >> 8) & 0xff;
		buf[off + 2] = (head[i] >> 16) & 0xff;
		buf[off + 3] = (uint8_t)(head[i] >> 24);
	}
	memcpy(buf + off, code, len);
	off += len;
	rc = mugai_pixels_parse_pages(buf, off + extra, MAXPX, 1, 100, &pm, &n,
	    &used, &store);
	/* Checked without decoding, the page is refused just the same. */
	assert_int_equal(parse_undecoded(buf, off + extra, off), rc);
	if (rc == MUGAI_OK) {
		assert_int_equal(n, 1);
		assert_int_equal(used, off);
		assert_memory_equal(pm[0].data, "\1\2\3\7\7\7\7\7", 8);
		free(pm);
		free(store);
	} else {
		assert_null(pm);
		assert_null(store);
	}
	return rc;
}

static void
test_bad_runs(void **state)
{
	/* 3 literal bytes, then 5 times 7: the 8 bytes of the page. */
	static const uint8_t good[] = { 2, 1, 2, 3, 252, 7 };
	static const uint8_t too_long[] = { 2, 1, 2, 3, 251, 7 };
	static const uint8_t short_page[] = { 2, 1, 2, 3, 253, 7 };
	static const uint8_t lit_past[] = { 9, 1, 2, 3 };
	static const uint8_t run_no_byte[] = { 2, 1, 2, 3, 252 };
	static const uint8_t reserved[] = { 128, 2, 1, 2, 3, 252, 7 };

	(void)state;
	assert_int_equal(parse_coded(good, sizeof(good), sizeof(good), 0),
	    MUGAI_OK);
	/* The coded length must match what is there. */
	assert_int_equal(parse_coded(good, sizeof(good), sizeof(good) + 1, 0),
	    MUGAI_ERR_PARSE);
	assert_int_equal(parse_coded(good, sizeof(good), 0xffffffffu, 0),
	    MUGAI_ERR_PARSE);
	assert_int_equal(parse_coded(too_long, sizeof(too_long),
	    sizeof(too_long), 0), MUGAI_ERR_PARSE);
	assert_int_equal(parse_coded(short_page, sizeof(short_page),
	    sizeof(short_page), 0), MUGAI_ERR_PARSE);
	assert_int_equal(parse_coded(lit_past, sizeof(lit_past),
	    sizeof(lit_past), 0), MUGAI_ERR_PARSE);
	assert_int_equal(parse_coded(run_no_byte, sizeof(run_no_byte),
	    sizeof(run_no_byte), 0), MUGAI_ERR_PARSE);
	assert_int_equal(parse_coded(reserved, sizeof(reserved),
	    sizeof(reserved), 0), MUGAI_ERR_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
