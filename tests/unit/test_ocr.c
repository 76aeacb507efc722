/*
 * test_ocr.c - Tesseract's words checked by the parent (src/cdr/ocr.c):
 * TSV lines of Tesseract 5 parsed into text-layer words with boxes in
 * 1/100 pt, odd words skipped, malformed lines and boxes outside the
 * page refused, the word cap kept; the PGM the parent writes for it,
 * at its size and at twice; and mugai_office_ocr refusing languages
 * that are not a plain list.  Tesseract itself is run by
 * tests/e2e/pdf-ocr.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mugai/base/config.h"
#include "mugai/cdr/ocr.h"
#include "mugai/cdr/office.h"

#define HEAD "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t" \
	"left\ttop\twidth\theight\tconf\ttext\n"

static void
test_parse(void **state)
{
	static const char tsv[] = HEAD
	    "1\t1\t0\t0\t0\t0\t0\t0\t300\t200\t-1\t\n"
	    "4\t1\t1\t1\t1\t0\t30\t15\t120\t30\t-1\t\n"
	    "5\t1\t1\t1\t1\t1\t30\t15\t60\t30\t96.5\t議事録\n"
	    "5\t1\t1\t1\t1\t2\t100\t15\t50\t30\t91.2\tminutes\r\n"
	    "5\t1\t1\t1\t1\t3\t160\t15\t10\t30\t10.0\t \n"
	    "5\t1\t1\t1\t1\t4\t170\t15\t10\t30\t10.0\ta\x01" "b\n";
	struct mugai_pagetext t;
	size_t total = 0;

	(void)state;
	assert_int_equal(mugai_ocr_parse(tsv, sizeof(tsv) - 1, 300, 200, 150,
	    100, &total, &t), MUGAI_OK);
	/* The blank word and the one with a control character: none. */
	assert_int_equal(t.nwords, 2);
	assert_int_equal(total, 2);
	assert_int_equal(t.words[0].len, strlen("議事録"));
	assert_memory_equal(t.words[0].text, "議事録", t.words[0].len);
	/* 30 px at 150 dpi is 14.4 pt. */
	assert_int_equal(t.words[0].x0, 1440);
	assert_int_equal(t.words[0].y0, 720);
	assert_int_equal(t.words[0].x1, 4320);
	assert_int_equal(t.words[0].y1, 2160);
	assert_int_equal(t.words[1].len, 7);
	assert_memory_equal(t.words[1].text, "minutes", 7);
	free(t.words);

	/* The cap counts words of earlier pages. */
	total = 99;
	assert_int_equal(mugai_ocr_parse(tsv, sizeof(tsv) - 1, 300, 200, 150,
	    100, &total, &t), MUGAI_OK);
	assert_int_equal(t.nwords, 1);
	free(t.words);

	/* Only the header: no words, no array. */
	total = 0;
	assert_int_equal(mugai_ocr_parse(HEAD, strlen(HEAD), 300, 200, 150,
	    100, &total, &t), MUGAI_OK);
	assert_int_equal(t.nwords, 0);
	assert_null(t.words);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		/* Outside the page (300 x 200). */
		HEAD "5\t1\t1\t1\t1\t1\t250\t15\t60\t30\t96\tx\n",
		HEAD "5\t1\t1\t1\t1\t1\t10\t190\t60\t30\t96\tx\n",
		/* Fields missing, too many, not numbers. */
		HEAD "5\t1\t1\t1\t1\t1\t10\t10\t60\t30\tx\n",
		HEAD "5\t1\t1\t1\t1\t1\t10\t10\t60\t30\t96\tx\ty\n",
		HEAD "5\t1\t1\t1\t1\t1\t-10\t10\t60\t30\t96\tx\n",
		HEAD "5\t1\t1\t1\t1\t1\t10\t10\t9999999999\t30\t96\tx\n",
		"garbage\n",
	};
	struct mugai_pagetext t;
	size_t i, total = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mugai_ocr_parse(bad[i], strlen(bad[i]), 300,
		    200, 150, 100, &total, &t), MUGAI_ERR_PARSE);
		assert_null(t.words);
		assert_int_equal(total, 0);
	}
	assert_int_equal(mugai_ocr_parse(bad[0], strlen(bad[0]), 300, 200, 0,
	    100, &total, &t), MUGAI_ERR_USAGE);
}

static void
test_pgm(void **state)
{
	static const uint8_t rgb[2 * 2 * 3] = {
		0, 0, 0, 255, 255, 255,
		255, 255, 255, 255, 255, 255,
	};
	struct mugai_pixmap pm = { 2, 2, 3, 0, rgb };
	struct mugai_buf out;
	static const char head1[] = "P5\n2 2\n255\n", head2[] = "P5\n4 4\n255\n";
	const uint8_t *px;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_ocr_pgm(&pm, 1, &out), MUGAI_OK);
	assert_int_equal(out.len, strlen(head1) + 4);
	assert_memory_equal(out.data, head1, strlen(head1));
	px = (const uint8_t *)out.data + strlen(head1);
	assert_int_equal(px[0], 0);
	assert_int_equal(px[1], 255);
	mugai_buf_reset(&out);
	assert_int_equal(mugai_ocr_pgm(&pm, 2, &out), MUGAI_OK);
	assert_int_equal(out.len, strlen(head2) + 16);
	assert_memory_equal(out.data, head2, strlen(head2));
	px = (const uint8_t *)out.data + strlen(head2);
	/* The black pixel, then between black and white: their mean. */
	assert_int_equal(px[0], 0);
	assert_in_range(px[1], 127, 128);
	assert_int_equal(px[2], 255);
	/* The last row and column are the page's edge repeated. */
	assert_int_equal(px[15], 255);
	assert_int_equal(mugai_ocr_pgm(&pm, 3, &out), MUGAI_ERR_USAGE);
	mugai_buf_free(&out);
}

static void
test_languages(void **state)
{
	static const char *const bad[] = {
		"pdf_ocr_languages=jpn;id", "pdf_ocr_languages=jpn eng",
		"pdf_ocr_languages=", "pdf_ocr_languages=../x",
	};
	struct mugai_config *cfg;
	struct mugai_worker_status st;
	struct mugai_buf tsv;
	char *ov[1], err[256];
	size_t i;
	int avail = 1;

	(void)state;
	mugai_buf_init(&tsv, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ov[0] = (char *)(uintptr_t)bad[i];
		cfg = mugai_config_load(NULL, ov, 1, err, sizeof(err));
		assert_non_null(cfg);
		assert_int_equal(mugai_office_ocr(cfg, "P5\n1 1\n255\n\n", 13,
		    150, 10, &tsv, &st, &avail), MUGAI_ERR_USAGE);
		assert_int_equal(avail, 0);
		mugai_config_unref(cfg);
	}
	mugai_buf_free(&tsv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pgm),
		cmocka_unit_test(test_languages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
