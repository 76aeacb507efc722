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

#include "mugai/base/bigmem.h"
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

/*
 * What find_ink says of an RGB pixel: ink (dark, no colour), GREYISH
 * (no colour, neither ink nor paper: ink's edge if next to ink), or
 * COLOUR; 0 for paper.
 */
#define PX_INK		1
#define PX_GREYISH	2
#define PX_COLOUR	4

/* A one in each byte of a word (PX_INK in each of eight pixels). */
#define ONES	0x0101010101010101ull

/*
 * find_ink - for an RGB page, ink[i] what pixel i is (PX_*), once, so
 * that the tiles' tests read a byte a pixel.  A pixel with every
 * channel at paper's level is paper (its grey level is as high, its
 * spread below SPLIT_CHROMA) without the sums: most of a page.  A grey
 * page needs no such array: its ink is every pixel below
 * MUGAI_SPLIT_INK (ink_at).
 */
static inline uint8_t
rgb_class(const uint8_t *p)
{
	unsigned lum, lo, hi;

	if (p[0] >= SPLIT_PAPER && p[1] >= SPLIT_PAPER && p[2] >= SPLIT_PAPER)
		return 0;
	/* The spread first: a picture's pixels need no grey level. */
	lo = p[0] < p[1] ? p[0] : p[1];
	lo = lo < p[2] ? lo : p[2];
	hi = p[0] > p[1] ? p[0] : p[1];
	hi = hi > p[2] ? hi : p[2];
	if (hi - lo >= SPLIT_CHROMA)
		return PX_COLOUR;
	lum = (p[0] * 77u + p[1] * 150u + p[2] * 29u) >> 8;
	if (lum < MUGAI_SPLIT_INK)
		return PX_INK;
	return lum < SPLIT_PAPER ? PX_GREYISH : 0;
}

/* Paper's level is the top three bits of a byte: eight tested at once. */
_Static_assert(SPLIT_PAPER == 0xe0, "paper16 tests the top three bits");
#define TOP3	0xe0e0e0e0e0e0e0e0ull

/*
 * Whether the 16 RGB pixels at p are all paper by their channels: each
 * of their 48 bytes has its top three bits set, eight bytes a test.
 */
static inline int
paper16(const uint8_t *p)
{
	uint64_t v[6];

	memcpy(v, p, sizeof(v));
	return (v[0] & v[1] & v[2] & v[3] & v[4] & v[5] & TOP3) == TOP3;
}

static void
find_ink(const struct mugai_pixmap *pm, uint8_t *ink)
{
	size_t i = 0, k, n = (size_t)pm->width * pm->height;
	const uint8_t *p = pm->data;

	for (; i + 16 <= n; i += 16, p += 16 * 3) {
		if (paper16(p)) {
			memset(ink + i, 0, 16);
			continue;
		}
		for (k = 0; k < 16; k++)
			ink[i + k] = rgb_class(p + k * 3);
	}
	for (; i < n; i++, p += 3)
		ink[i] = rgb_class(p);
}

/* Whether pixel i is ink: ink is NULL for a grey page. */
static inline int
ink_at(const struct mugai_pixmap *pm, const uint8_t *ink, size_t i)
{
	return ink != NULL ? ink[i] & PX_INK :
	    pm->data[i] < MUGAI_SPLIT_INK;
}

/* Whether a pixel of (x, y)'s 3x3 neighbourhood is ink. */
static int
near_ink(const struct mugai_pixmap *pm, const uint8_t *ink, uint32_t x,
    uint32_t y)
{
	uint32_t w = pm->width, h = pm->height, x0 = x > 0 ? x - 1 : 0,
	    x1 = x + 1 < w ? x + 1 : x, y0 = y > 0 ? y - 1 : 0,
	    y1 = y + 1 < h ? y + 1 : y, i, j;

	for (j = y0; j <= y1; j++)
		for (i = x0; i <= x1; i++)
			if (ink_at(pm, ink, (size_t)j * w + i))
				return 1;
	return 0;
}

/*
 * grey_between - whether a grey pixel of d[0..n) is neither ink nor
 * paper: one test a pixel with no branch, so that the rows of a tile
 * of text and paper, nearly all, are passed over at once.
 */
static int
grey_between(const uint8_t *d, uint32_t n)
{
	unsigned any = 0;
	uint32_t k;

	if (n == MUGAI_SPLIT_TILE)
		/* A constant count, which compilers turn into vector code. */
		for (k = 0; k < MUGAI_SPLIT_TILE; k++)
			any |= (uint8_t)(d[k] - MUGAI_SPLIT_INK) <
			    SPLIT_PAPER - MUGAI_SPLIT_INK;
	else
		for (k = 0; k < n; k++)
			any |= (uint8_t)(d[k] - MUGAI_SPLIT_INK) <
			    SPLIT_PAPER - MUGAI_SPLIT_INK;
	return any != 0;
}

/*
 * rgb_between - whether a pixel of ink[0..n) is neither ink nor paper:
 * a whole tile's row as two words, whose bytes' other bits than PX_INK
 * are all clear for ink and paper.
 */
static int
rgb_between(const uint8_t *ink, uint32_t n)
{
	uint64_t v[2];
	unsigned any = 0;
	uint32_t k;

	if (n == MUGAI_SPLIT_TILE) {
		_Static_assert(MUGAI_SPLIT_TILE == sizeof(v), "a row two words");
		memcpy(v, ink, sizeof(v));
		return ((v[0] | v[1]) & ~(ONES * PX_INK)) != 0;
	}
	for (k = 0; k < n; k++)
		any |= ink[k];
	return (any & ~PX_INK) != 0;
}

/*
 * is_picture - whether tile (tx, ty) holds more than paper, ink and
 * ink's edges.  Only the few pixels that are neither paper nor ink
 * look at their neighbours.
 */
static int
is_picture(const struct mugai_pixmap *pm, const uint8_t *ink, uint32_t tx,
    uint32_t ty)
{
	uint32_t x, y, x0, x1, y1, stray = 0;
	const uint8_t *d;
	size_t i;

	x0 = tx * MUGAI_SPLIT_TILE;
	x1 = x0 + MUGAI_SPLIT_TILE;
	y1 = ty * MUGAI_SPLIT_TILE + MUGAI_SPLIT_TILE;
	x1 = x1 < pm->width ? x1 : pm->width;
	y1 = y1 < pm->height ? y1 : pm->height;
	for (y = ty * MUGAI_SPLIT_TILE; y < y1; y++) {
		i = (size_t)y * pm->width;
		if (pm->channels == 1) {
			d = pm->data + i;
			if (!grey_between(d + x0, x1 - x0))
				continue;
			for (x = x0; x < x1; x++) {
				if (d[x] >= SPLIT_PAPER ||
				    d[x] < MUGAI_SPLIT_INK ||
				    near_ink(pm, ink, x, y))
					continue;
				if (++stray > SPLIT_STRAY)
					return 1;
			}
			continue;
		}
		if (!rgb_between(ink + i + x0, x1 - x0))
			continue;
		for (x = x0; x < x1; x++) {
			if ((ink[i + x] & ~PX_INK) == 0 ||
			    (ink[i + x] == PX_GREYISH &&
			    near_ink(pm, ink, x, y)))
				continue;
			if (++stray > SPLIT_STRAY)
				return 1;
		}
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

/*
 * grey_mask - mask[k] 0 for ink, 255 for paper, for the grey pixels
 * d[0..n): the number of ink pixels.  Sixteen at a time, a constant
 * count compilers turn into vector code.
 */
static size_t
grey_mask(const uint8_t *d, size_t n, uint8_t *mask)
{
	size_t k = 0, j, nink = 0;
	unsigned char in;

	for (; k + 16 <= n; k += 16)
		for (j = k; j < k + 16; j++) {
			in = d[j] < MUGAI_SPLIT_INK;
			mask[j] = (uint8_t)(in - 1);
			nink += in;
		}
	for (; k < n; k++) {
		in = d[k] < MUGAI_SPLIT_INK;
		mask[k] = (uint8_t)(in - 1);
		nink += in;
	}
	return nink;
}

/*
 * fill_mask - pixels [i, i + n) of a text tile row (their ink) or of a
 * picture tile row (paper); the number of ink pixels.  ink is NULL for
 * a grey page, else PX_* a pixel, whose ink bit 0 - 1 is paper's 255.
 */
static size_t
fill_mask(const struct mugai_pixmap *pm, const uint8_t *ink, int pic,
    size_t i, size_t n, uint8_t *mask)
{
	size_t k, nink = 0;
	uint64_t v;

	if (pic) {
		memset(mask + i, 255, n);
		return 0;
	}
	if (ink == NULL)
		return grey_mask(pm->data + i, n, mask + i);
	/*
	 * Eight at a time: the ink bits, each byte 0 or 1, flipped and
	 * times 255 are each byte 255 or 0 with no carry between them.
	 */
	for (k = i; k + 8 <= i + n; k += 8) {
		memcpy(&v, ink + k, 8);
		v &= ONES;
		/* Bytes of 0 or 1 summed into the top byte (at most 8). */
		nink += (size_t)((v * ONES) >> 56);
		v = (v ^ ONES) * 0xff;
		memcpy(mask + k, &v, 8);
	}
	for (; k < i + n; k++) {
		mask[k] = (uint8_t)((ink[k] & PX_INK) - 1);
		nink += ink[k] & PX_INK;
	}
	return nink;
}

/* fill - the mask (ink of text tiles), a tile's row span at a time. */
static void
fill(const struct mugai_pixmap *pm, const uint8_t *ink, const uint8_t *tiles,
    uint32_t tw, uint8_t *mask, size_t *nink)
{
	const uint8_t *trow;
	uint32_t x, y, tx, n;

	*nink = 0;
	for (y = 0; y < pm->height; y++) {
		trow = tiles + (size_t)(y / MUGAI_SPLIT_TILE) * tw;
		for (tx = 0, x = 0; x < pm->width; tx++, x += n) {
			n = pm->width - x < MUGAI_SPLIT_TILE ? pm->width - x :
			    MUGAI_SPLIT_TILE;
			/* A run of tiles of one kind is one span. */
			while (x + n < pm->width && trow[tx + 1] == trow[tx]) {
				tx++;
				n += pm->width - x - n < MUGAI_SPLIT_TILE ?
				    pm->width - x - n : MUGAI_SPLIT_TILE;
			}
			*nink += fill_mask(pm, ink, trow[tx],
			    (size_t)y * pm->width + x, n, mask);
		}
	}
}

/*
 * bg_box - the bounding box of the picture tiles in pixels, clipped to
 * the page, into sp->bg's size and sp->bg_x, bg_y.
 */
static void
bg_box(const struct mugai_pixmap *pm, const uint8_t *tiles, uint32_t tw,
    uint32_t th, struct mugai_page_split *sp)
{
	uint32_t tx, ty, x0 = tw, y0 = th, x1 = 0, y1 = 0;

	for (ty = 0; ty < th; ty++)
		for (tx = 0; tx < tw; tx++)
			if (tiles[(size_t)ty * tw + tx]) {
				x0 = tx < x0 ? tx : x0;
				x1 = tx + 1 > x1 ? tx + 1 : x1;
				y0 = ty < y0 ? ty : y0;
				y1 = ty + 1 > y1 ? ty + 1 : y1;
			}
	sp->bg_x = x0 * MUGAI_SPLIT_TILE;
	sp->bg_y = y0 * MUGAI_SPLIT_TILE;
	x1 *= MUGAI_SPLIT_TILE;
	y1 *= MUGAI_SPLIT_TILE;
	sp->bg.width = (x1 < pm->width ? x1 : pm->width) - sp->bg_x;
	sp->bg.height = (y1 < pm->height ? y1 : pm->height) - sp->bg_y;
}

/*
 * fill_bg - the background's box: picture tiles' pixels as they are,
 * text tiles white.
 */
static void
fill_bg(const struct mugai_pixmap *pm, const uint8_t *tiles, uint32_t tw,
    const struct mugai_page_split *sp, uint8_t *bg)
{
	size_t c = pm->channels, bw = (size_t)sp->bg.width * c;
	uint32_t y, x, n;
	const uint8_t *trow;
	const uint8_t *src;

	for (y = 0; y < sp->bg.height; y++, bg += bw) {
		trow = tiles + (size_t)((sp->bg_y + y) / MUGAI_SPLIT_TILE) * tw;
		src = pm->data + ((size_t)(sp->bg_y + y) * pm->width +
		    sp->bg_x) * c;
		for (x = 0; x < sp->bg.width; x += n) {
			n = sp->bg.width - x < MUGAI_SPLIT_TILE ?
			    sp->bg.width - x : MUGAI_SPLIT_TILE;
			if (trow[(sp->bg_x + x) / MUGAI_SPLIT_TILE])
				memcpy(bg + x * c, src + x * c, n * c);
			else
				memset(bg + x * c, 255, n * c);
		}
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
	/* A page's worth each: mugai_big_alloc spares their page faults. */
	if ((pm->channels == 3 && (ink = mugai_big_alloc(npx)) == NULL) ||
	    (tiles = malloc((size_t)tw * th)) == NULL ||
	    (mask = mugai_big_alloc(npx)) == NULL)
		goto out;
	if (ink != NULL)
		find_ink(pm, ink);
	sp->tiles = (size_t)tw * th;
	sp->picture_tiles = classify(pm, ink, tw, th, tiles);
	if (sp->picture_tiles > 0) {
		bg_box(pm, tiles, tw, th, sp);
		if ((bg = mugai_big_alloc((size_t)sp->bg.width *
		    sp->bg.height * pm->channels)) == NULL)
			goto out;
		fill_bg(pm, tiles, tw, sp, bg);
	}
	fill(pm, ink, tiles, tw, mask, &sp->ink);
	sp->mask.width = pm->width;
	sp->mask.height = pm->height;
	sp->mask.channels = 1;
	sp->bg.channels = pm->channels;
	sp->mask.data = mask;
	sp->bg.data = bg;
	mask = bg = NULL;
	rc = MUGAI_OK;
out:
	mugai_big_free(ink);
	free(tiles);
	mugai_big_free(mask);
	mugai_big_free(bg);
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
	mugai_big_free((void *)(uintptr_t)sp->mask.data);
	mugai_big_free((void *)(uintptr_t)sp->bg.data);
	memset(sp, 0, sizeof(*sp));
}
