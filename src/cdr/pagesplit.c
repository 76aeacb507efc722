/*
 * pagesplit.c - a rendered page split into a text mask and a picture
 * background (mugai/cdr/pagesplit.h), so that the copy can code text
 * as fax and only the pictures as JPEG: what DjVu and scanners call
 * mixed raster content, done here by hand because no Debian library
 * segments a page this way (leptonica's page segmentation is built
 * for scans and would be a new dependency for a few loops).
 */
#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pagesplit.h"

/* At least this grey level (and no colour) is paper. */
#define SPLIT_PAPER	224
/* From this spread between a pixel's channels it has colour. */
#define SPLIT_CHROMA	40
/*
 * Pixels of a tile that may be neither paper, ink nor ink's edge
 * before it counts as picture: the faint far end of a thin stroke.
 */
#define SPLIT_STRAY	8

/* The grey level and colour spread of pixel i. */
static void
pixel(const struct mugai_pixmap *pm, size_t i, unsigned *lum,
    unsigned *chroma)
{
	const uint8_t *p;
	unsigned lo, hi;

	if (pm->channels == 1) {
		*lum = pm->data[i];
		*chroma = 0;
		return;
	}
	p = pm->data + i * 3;
	*lum = (p[0] * 77u + p[1] * 150u + p[2] * 29u) >> 8;
	lo = p[0] < p[1] ? p[0] : p[1];
	lo = lo < p[2] ? lo : p[2];
	hi = p[0] > p[1] ? p[0] : p[1];
	hi = hi > p[2] ? hi : p[2];
	*chroma = hi - lo;
}

/* ink - 1 where pixel is dark with no colour, else 0. */
static void
find_ink(const struct mugai_pixmap *pm, uint8_t *ink)
{
	size_t i, n = (size_t)pm->width * pm->height;
	unsigned lum, chroma;

	for (i = 0; i < n; i++) {
		pixel(pm, i, &lum, &chroma);
		ink[i] = lum < MUGAI_SPLIT_INK && chroma < SPLIT_CHROMA;
	}
}

/* Whether a pixel of (x, y)'s 3x3 neighbourhood is ink. */
static int
near_ink(const uint8_t *ink, uint32_t w, uint32_t h, uint32_t x, uint32_t y)
{
	uint32_t x0 = x > 0 ? x - 1 : 0, x1 = x + 1 < w ? x + 1 : x,
	    y0 = y > 0 ? y - 1 : 0, y1 = y + 1 < h ? y + 1 : y, i, j;

	for (j = y0; j <= y1; j++)
		for (i = x0; i <= x1; i++)
			if (ink[(size_t)j * w + i])
				return 1;
	return 0;
}

/* Whether tile (tx, ty) holds more than paper, ink and ink's edges. */
static int
is_picture(const struct mugai_pixmap *pm, const uint8_t *ink, uint32_t tx,
    uint32_t ty)
{
	uint32_t x, y, x1, y1, stray = 0;
	unsigned lum, chroma;
	size_t i;

	x1 = tx * MUGAI_SPLIT_TILE + MUGAI_SPLIT_TILE;
	y1 = ty * MUGAI_SPLIT_TILE + MUGAI_SPLIT_TILE;
	x1 = x1 < pm->width ? x1 : pm->width;
	y1 = y1 < pm->height ? y1 : pm->height;
	for (y = ty * MUGAI_SPLIT_TILE; y < y1; y++)
		for (x = tx * MUGAI_SPLIT_TILE; x < x1; x++) {
			i = (size_t)y * pm->width + x;
			if (ink[i])
				continue;
			pixel(pm, i, &lum, &chroma);
			if (chroma < SPLIT_CHROMA && (lum >= SPLIT_PAPER ||
			    near_ink(ink, pm->width, pm->height, x, y)))
				continue;
			if (++stray > SPLIT_STRAY)
				return 1;
		}
	return 0;
}

/*
 * classify - tiles[t] 1 for each picture tile and its eight
 * neighbours, 0 for text; the number of picture tiles.
 */
static size_t
classify(const struct mugai_pixmap *pm, const uint8_t *ink, uint32_t tw,
    uint32_t th, uint8_t *tiles)
{
	uint32_t tx, ty, x, y;
	size_t n = 0, t;

	memset(tiles, 0, (size_t)tw * th);
	for (ty = 0; ty < th; ty++)
		for (tx = 0; tx < tw; tx++) {
			if (!is_picture(pm, ink, tx, ty))
				continue;
			for (y = ty > 0 ? ty - 1 : 0; y <= ty + 1 && y < th;
			    y++)
				for (x = tx > 0 ? tx - 1 : 0;
				    x <= tx + 1 && x < tw; x++)
					tiles[(size_t)y * tw + x] = 1;
		}
	for (t = 0; t < (size_t)tw * th; t++)
		n += tiles[t];
	return n;
}

/* Fill the mask (ink of text tiles) and the background (picture tiles). */
static void
fill(const struct mugai_pixmap *pm, const uint8_t *ink, const uint8_t *tiles,
    uint32_t tw, uint8_t *mask, uint8_t *bg, size_t *nink)
{
	uint32_t x, y;
	size_t i, t;
	int pic;

	*nink = 0;
	for (y = 0; y < pm->height; y++)
		for (x = 0; x < pm->width; x++) {
			i = (size_t)y * pm->width + x;
			t = (size_t)(y / MUGAI_SPLIT_TILE) * tw +
			    x / MUGAI_SPLIT_TILE;
			pic = tiles[t];
			mask[i] = !pic && ink[i] ? 0 : 255;
			*nink += !pic && ink[i];
			if (bg == NULL)
				continue;
			if (pic)
				memcpy(bg + i * pm->channels,
				    pm->data + i * pm->channels, pm->channels);
			else
				memset(bg + i * pm->channels, 255,
				    pm->channels);
		}
}

mugai_status
mugai_page_split(const struct mugai_pixmap *pm, struct mugai_page_split *sp)
{
	uint8_t *ink = NULL, *tiles = NULL, *mask = NULL, *bg = NULL;
	uint32_t tw, th;
	size_t npx;
	mugai_status rc = MUGAI_ERR_NOMEM;

	memset(sp, 0, sizeof(*sp));
	if (pm == NULL || pm->data == NULL || pm->width == 0 ||
	    pm->height == 0 || (pm->channels != 1 && pm->channels != 3) ||
	    pm->width > 65535 || pm->height > 65535)
		return MUGAI_ERR_USAGE;
	npx = (size_t)pm->width * pm->height;
	tw = (pm->width + MUGAI_SPLIT_TILE - 1) / MUGAI_SPLIT_TILE;
	th = (pm->height + MUGAI_SPLIT_TILE - 1) / MUGAI_SPLIT_TILE;
	if ((ink = malloc(npx)) == NULL ||
	    (tiles = malloc((size_t)tw * th)) == NULL ||
	    (mask = malloc(npx)) == NULL)
		goto out;
	find_ink(pm, ink);
	sp->tiles = (size_t)tw * th;
	sp->picture_tiles = classify(pm, ink, tw, th, tiles);
	if (sp->picture_tiles > 0 && (bg = malloc(npx * pm->channels)) == NULL)
		goto out;
	fill(pm, ink, tiles, tw, mask, bg, &sp->ink);
	sp->mask.width = sp->bg.width = pm->width;
	sp->mask.height = sp->bg.height = pm->height;
	sp->mask.channels = 1;
	sp->bg.channels = pm->channels;
	sp->mask.data = mask;
	sp->bg.data = bg;
	mask = bg = NULL;
	rc = MUGAI_OK;
out:
	free(ink);
	free(tiles);
	free(mask);
	free(bg);
	if (rc != MUGAI_OK)
		memset(sp, 0, sizeof(*sp));
	return rc;
}

void
mugai_page_split_free(struct mugai_page_split *sp)
{
	if (sp == NULL)
		return;
	/* The pixels are ours: data is const only for the parsed streams. */
	free((void *)(uintptr_t)sp->mask.data);
	free((void *)(uintptr_t)sp->bg.data);
	memset(sp, 0, sizeof(*sp));
}
