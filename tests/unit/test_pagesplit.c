/*
 * test_pagesplit.c - a rendered page split into its text mask and its
 * picture background (src/cdr/pagesplit.c): ink with an antialiased
 * edge on white is text; shading, colour and photographs are picture
 * tiles, with their neighbours; the mask holds ink of text tiles only
 * and the background holds picture tiles only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pagesplit.h"

#define T	MUGAI_SPLIT_TILE
#define W	(10 * T)
#define H	(6 * T)

static uint8_t grey[W * H];
static uint8_t rgb[W * H * 3];

/* A stroke in tile (tx, ty): black core, grey edge on its right. */
static void
stroke(uint8_t *px, unsigned ch, unsigned tx, unsigned ty)
{
	unsigned x, y;

	for (y = ty * T + 2; y < ty * T + 12; y++)
		for (x = tx * T + 4; x < tx * T + 8; x++)
			memset(px + ((size_t)y * W + x) * ch, x == tx * T + 7 ?
			    180 : 0, ch);
}

/* The background's sample c of page pixel (x, y), in its box. */
static uint8_t
bg_at(const struct mugai_page_split *sp, unsigned x, unsigned y, unsigned c)
{
	assert_true(x >= sp->bg_x && x < sp->bg_x + sp->bg.width);
	assert_true(y >= sp->bg_y && y < sp->bg_y + sp->bg.height);
	return sp->bg.data[((size_t)(y - sp->bg_y) * sp->bg.width + x -
	    sp->bg_x) * sp->bg.channels + c];
}

static int
is_pic(const struct mugai_page_split *sp, unsigned tx, unsigned ty)
{
	unsigned x = tx * T + 1, y = ty * T + 1;

	/* The background keeps a picture tile's pixels, whitens text. */
	if (sp->bg.data == NULL || x < sp->bg_x || y < sp->bg_y ||
	    x >= sp->bg_x + sp->bg.width || y >= sp->bg_y + sp->bg.height)
		return 0;
	return bg_at(sp, x, y, 0) != 255 ||
	    bg_at(sp, x, y, sp->bg.channels - 1) != 255;
}

static void
test_text_only(void **state)
{
	struct mugai_pixmap pm = { W, H, 1, 0, grey };
	struct mugai_page_split sp;

	(void)state;
	memset(grey, 255, sizeof(grey));
	stroke(grey, 1, 1, 1);
	stroke(grey, 1, 5, 3);
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_OK);
	assert_int_equal(sp.tiles, 60);
	assert_int_equal(sp.picture_tiles, 0);
	assert_null(sp.bg.data);
	/* Core in the mask, the grey edge not. */
	assert_int_equal(sp.ink, 2 * 10 * 3);
	assert_int_equal(sp.mask.data[(T + 5) * W + T + 4], 0);
	assert_int_equal(sp.mask.data[(T + 5) * W + T + 7], 255);
	mugai_page_split_free(&sp);
	mugai_page_split_free(&sp);
	mugai_page_split_free(NULL);
}

/*
 * Grey shading in tile (8, 4) and a red stroke in tile (1, 4): picture
 * tiles with their neighbours; the black stroke far away stays text.
 */
static void
test_pictures(void **state)
{
	struct mugai_pixmap pm = { W, H, 3, 0, rgb };
	struct mugai_page_split sp;
	unsigned x, y;

	(void)state;
	memset(rgb, 255, sizeof(rgb));
	stroke(rgb, 3, 5, 1);
	for (y = 4 * T; y < 5 * T; y++)
		for (x = 8 * T; x < 9 * T; x++)
			memset(rgb + ((size_t)y * W + x) * 3, 220, 3);
	for (y = 4 * T + 3; y < 4 * T + 6; y++)
		for (x = T + 3; x < T + 6; x++)
			rgb[((size_t)y * W + x) * 3 + 1] =
			    rgb[((size_t)y * W + x) * 3 + 2] = 0;
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_OK);
	/* Each with its eight neighbours: 9 + 9. */
	assert_int_equal(sp.picture_tiles, 18);
	assert_non_null(sp.bg.data);
	assert_true(is_pic(&sp, 8, 4));
	assert_false(is_pic(&sp, 5, 1));
	/* The background is the picture tiles' box: rows 3 to 5, all
	   columns (0 to 2 and 7 to 9), the white between them kept. */
	assert_int_equal(sp.bg_x, 0);
	assert_int_equal(sp.bg_y, 3 * T);
	assert_int_equal(sp.bg.width, W);
	assert_int_equal(sp.bg.height, 3 * T);
	assert_int_equal(bg_at(&sp, 5 * T, 4 * T, 0), 255);
	/* The red is in the background, not in the mask. */
	assert_int_equal(sp.mask.data[(4 * T + 4) * W + T + 4], 255);
	assert_int_equal(bg_at(&sp, T + 4, 4 * T + 4, 0), 255);
	assert_int_equal(bg_at(&sp, T + 4, 4 * T + 4, 1), 0);
	/* The black stroke is in the mask and not in the background. */
	assert_int_equal(sp.mask.data[(T + 5) * W + 5 * T + 4], 0);
	assert_int_equal(sp.ink, 10 * 3);
	mugai_page_split_free(&sp);
}

/* Fill tile (tx, ty) of the RGB page with one colour. */
static void
tint(unsigned tx, unsigned ty, uint8_t r, uint8_t g, uint8_t b)
{
	unsigned x, y;
	uint8_t *p;

	for (y = ty * T; y < ty * T + T; y++)
		for (x = tx * T; x < tx * T + T; x++) {
			p = rgb + ((size_t)y * W + x) * 3;
			p[0] = r;
			p[1] = g;
			p[2] = b;
		}
}

/*
 * An RGB page's levels: off-white paper (every channel at paper's
 * level, or a spread under the colour limit) is not a picture; a pale
 * highlighter yellow, a mid grey and a dark blue are.
 */
static void
test_rgb_levels(void **state)
{
	struct mugai_pixmap pm = { W, H, 3, 0, rgb };
	struct mugai_page_split sp;

	(void)state;
	memset(rgb, 255, sizeof(rgb));
	tint(1, 1, 224, 240, 255);
	tint(3, 1, 250, 250, 218);
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_OK);
	assert_int_equal(sp.picture_tiles, 0);
	mugai_page_split_free(&sp);
	tint(1, 1, 255, 255, 200);
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_OK);
	assert_int_equal(sp.picture_tiles, 9);
	assert_true(is_pic(&sp, 1, 1));
	mugai_page_split_free(&sp);
	tint(1, 1, 255, 255, 255);
	tint(5, 3, 190, 190, 190);
	tint(8, 1, 20, 20, 120);
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_OK);
	assert_int_equal(sp.picture_tiles, 18);
	assert_true(is_pic(&sp, 5, 3));
	assert_true(is_pic(&sp, 8, 1));
	assert_int_equal(sp.ink, 0);
	mugai_page_split_free(&sp);
}

/*
 * A picture amid text, its box cut at the page's edge: the background
 * is that box alone, its text tiles white, not the page.
 */
static void
test_picture_box(void **state)
{
	struct mugai_pixmap pm = { W - 5, H, 3, 0, NULL };
	static uint8_t px[(W - 5) * H * 3];
	struct mugai_page_split sp;
	unsigned x, y;

	(void)state;
	pm.data = px;
	memset(px, 255, sizeof(px));
	/* A photo-like gradient in tile (9, 2), the last, narrow column. */
	for (y = 2 * T; y < 3 * T; y++)
		for (x = 9 * T; x < W - 5; x++) {
			px[((size_t)y * (W - 5) + x) * 3] = (uint8_t)(x * 7);
			px[((size_t)y * (W - 5) + x) * 3 + 1] = (uint8_t)(y * 5);
			px[((size_t)y * (W - 5) + x) * 3 + 2] = 90;
		}
	/* Black text in tile (3, 2), outside the box, and (8, 1), in it. */
	for (x = 3 * T + 2; x < 3 * T + 6; x++)
		memset(px + ((size_t)(2 * T + 3) * (W - 5) + x) * 3, 0, 3);
	for (x = 8 * T + 2; x < 8 * T + 6; x++)
		memset(px + ((size_t)(T + 3) * (W - 5) + x) * 3, 0, 3);
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_OK);
	/* (9, 2) and its neighbours, x 8 to 9 and y 1 to 3: six tiles. */
	assert_int_equal(sp.picture_tiles, 6);
	assert_int_equal(sp.bg_x, 8 * T);
	assert_int_equal(sp.bg_y, T);
	assert_int_equal(sp.bg.width, 2 * T - 5);
	assert_int_equal(sp.bg.height, 3 * T);
	assert_int_equal(bg_at(&sp, 9 * T + 3, 2 * T + 4, 0),
	    (uint8_t)((9 * T + 3) * 7));
	assert_int_equal(bg_at(&sp, 9 * T + 3, 2 * T + 4, 1),
	    (uint8_t)((2 * T + 4) * 5));
	assert_int_equal(bg_at(&sp, W - 6, 3 * T + 2, 2), 255);
	/* Ink in a picture tile stays in the background, not the mask. */
	assert_int_equal(bg_at(&sp, 8 * T + 3, T + 3, 0), 0);
	assert_int_equal(sp.mask.data[(T + 3) * (W - 5) + 8 * T + 3], 255);
	/* Ink outside the box is the mask's. */
	assert_int_equal(sp.mask.data[(2 * T + 3) * (W - 5) + 3 * T + 3], 0);
	assert_int_equal(sp.ink, 4);
	mugai_page_split_free(&sp);
}

static void
test_usage(void **state)
{
	struct mugai_pixmap pm = { W, H, 2, 0, grey };
	struct mugai_page_split sp;

	(void)state;
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_ERR_USAGE);
	assert_null(sp.mask.data);
	pm.channels = 1;
	pm.width = 0;
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_ERR_USAGE);
	pm.width = W;
	pm.data = NULL;
	assert_int_equal(mugai_page_split(&pm, &sp), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_page_split(NULL, &sp), MUGAI_ERR_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_only),
		cmocka_unit_test(test_pictures),
		cmocka_unit_test(test_picture_box),
		cmocka_unit_test(test_rgb_levels),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
