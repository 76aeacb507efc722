/*
 * mugai/cdr/pagesplit.h - a rendered page split for a small copy
 * (mixed raster content): the text, as a black-and-white mask to be
 * coded as fax (CCITT Group 4), and what is not text (photographs,
 * colour, shading), as a background image with the text areas left
 * white, to be coded as JPEG.  A page of text on white has no
 * background at all.
 *
 * The page is cut into square tiles.  A tile is text when each of its
 * pixels is paper (near white, no colour), ink (dark, no colour) or
 * the antialiased edge of ink (next to an ink pixel); any other tile
 * is a picture tile, and so are its neighbours, so that a picture's
 * edge is not cut off.  Ink in text tiles goes to the mask; picture
 * tiles go to the background as they are, which covers only their
 * bounding box: a picture in a page of text is coded at its own size,
 * not with a page of white around it.  Runs in the trusted parent
 * on validated pixels.
 */
#ifndef MUGAI_PAGESPLIT_H
#define MUGAI_PAGESPLIT_H

#include <stddef.h>
#include <stdint.h>
#include "mugai/base/status.h"
#include "mugai/cdr/pixels.h"

/* Side of a tile in pixels (about 2.7 mm at 150 dpi). */
#define MUGAI_SPLIT_TILE	16
/* Below this grey level (and with no colour) a pixel is ink. */
#define MUGAI_SPLIT_INK		160

struct mugai_page_split {
	/* width x height, 1 channel: 0 ink, 255 paper. */
	struct mugai_pixmap mask;
	/* The page's channels, over the smallest rectangle of whole tiles
	   that holds every picture tile (at bg_x, bg_y on the page), text
	   tiles white; data NULL when the page has no picture tile. */
	struct mugai_pixmap bg;
	uint32_t bg_x, bg_y;		/* its top left pixel on the page */
	size_t	 tiles;			/* in the page */
	size_t	 picture_tiles;		/* of those, in the background */
	size_t	 ink;			/* pixels in the mask */
};

/*
 * mugai_page_split - split pm (1 or 3 channels) into sp, which the
 * caller frees with mugai_page_split_free.  MUGAI_ERR_USAGE for a bad
 * pixmap, MUGAI_ERR_NOMEM.  On failure sp holds nothing to free.
 */
mugai_status mugai_page_split(const struct mugai_pixmap *pm,
    struct mugai_page_split *sp);

/* mugai_page_split_free - the split's pixels; NULL safe. */
void mugai_page_split_free(struct mugai_page_split *sp);

#endif
