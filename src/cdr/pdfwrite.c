/*
 * pdfwrite.c - the PDF copy from rendered pages and their words (see
 * mugai/cdr/pdfwrite.h), written with cairo's PDF surface.
 *
 * The text layer lies under the page image rather than over it in
 * PDF's invisible text mode, which cairo cannot write: the opaque image
 * hides it on screen and on paper, while search, selection, copy and
 * pdftotext read it all the same.  Each word is set in the configured
 * font (IPA Gothic by default: it covers Japanese) at the height of its
 * box and stretched to its width (both to within 0.8 %, put_word), so
 * that a selection falls where the word is on the image.  cairo embeds
 * only the glyphs used and maps them back to Unicode.
 *
 * A page split into text and pictures (pagesplit.h) is drawn as white
 * paper, its pictures' JPEG over their bounding box, and the text over
 * both as a one-bit stencil that cairo writes as /ImageMask with the
 * fax data attached.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <zlib.h>

#include "mugai/base/bigmem.h"
#include "mugai/cdr/imgenc.h"
#include "mugai/cdr/pagesplit.h"
#include "mugai/cdr/pdfwrite.h"

/* The largest page count written. */
#define PDF_MAX_PAGES	100000

/* Colours a page may have to be stored losslessly (as palette images). */
#define LOSSLESS_COLOURS	256

/*
 * Grey levels kept on a grey page stored losslessly: antialiased text
 * looks the same with 4 as with 256 at 150 dpi, and deflates to a
 * third.  A bilevel page (o->bilevel) has black and white only, below
 * and from BILEVEL_THRESHOLD, which cairo stores at one bit a pixel.
 */
#define GREY_LEVELS	4
#define BILEVEL_THRESHOLD 160

/* A text page's split is taken unseen up to a byte per this many pixels. */
#define MIXED_SURE_PIXELS 32

enum page_kind { PAGE_JPEG, PAGE_GREY, PAGE_COLOUR, PAGE_FAX, PAGE_MIXED };

/*
 * A page as drawn: an image over the whole page (NULL: white paper),
 * then, for a mixed page, its text as a stencil in black.
 */
struct page_img {
	enum page_kind	 kind;
	cairo_surface_t	*img;
	int		 paper;		/* img is one white pixel to stretch:
					   cairo drops all that is under an
					   opaque solid colour covering the
					   page (a paint, or a fill it turns
					   into one), the hidden words too */
	cairo_surface_t	*bg;		/* a mixed page's pictures, NULL:
					   none; at bg_x, bg_y over paper */
	uint32_t	 bg_x, bg_y;
	cairo_surface_t	*mask;
};

struct sink {
	struct mugai_buf *out;
	mugai_status rc;		/* why a write failed */
};

/* cairo's write callback: into the capped buffer. */
static cairo_status_t
sink_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct sink *s = closure;
	mugai_status rc;

	if ((rc = mugai_buf_append(s->out, data, len)) != MUGAI_OK) {
		if (s->rc == MUGAI_OK)
			s->rc = rc;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

/*
 * few_colours - whether the RGB pixmap has at most LOSSLESS_COLOURS
 * colours: an open-addressing set, given up on at the first colour
 * too many.
 */
static int
few_colours(const struct mugai_pixmap *pm)
{
	uint32_t set[LOSSLESS_COLOURS * 4];
	size_t i, npx = (size_t)pm->width * pm->height, seen = 0, h;
	const uint8_t *p;
	uint32_t c;

	/* 0xffffffff is no RGB value: the empty slot. */
	memset(set, 0xff, sizeof(set));
	for (i = 0, p = pm->data; i < npx; i++, p += 3) {
		c = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		h = (c * 2654435761u) % (LOSSLESS_COLOURS * 4);
		while (set[h] != 0xffffffffu && set[h] != c)
			h = (h + 1) % (LOSSLESS_COLOURS * 4);
		if (set[h] == c)
			continue;
		if (++seen > LOSSLESS_COLOURS)
			return 0;
		set[h] = c;
	}
	return 1;
}

/* The size zlib makes of n bytes, as cairo stores a lossless image. */
static mugai_status
deflated_size(const uint8_t *data, size_t n, size_t *size)
{
	uLongf dlen = compressBound((uLong)n);
	Bytef *tmp;

	if ((uLong)n != n)
		return MUGAI_ERR_LIMIT;
	if ((tmp = malloc(dlen)) == NULL)
		return MUGAI_ERR_NOMEM;
	if (compress2(tmp, &dlen, data, (uLong)n, Z_DEFAULT_COMPRESSION) !=
	    Z_OK) {
		free(tmp);
		return MUGAI_ERR_INTERNAL;
	}
	free(tmp);
	*size = dlen;
	return MUGAI_OK;
}

/*
 * lossless_samples - the samples a lossless page would store, in a
 * malloc'd *out of *n bytes: grey reduced to GREY_LEVELS levels or to
 * black and white, or the RGB as it is.
 */
static mugai_status
lossless_samples(const struct mugai_pixmap *pm, int bilevel, uint8_t **out,
    size_t *n)
{
	size_t i, len = (size_t)pm->width * pm->height * pm->channels;
	const unsigned step = 255 / (GREY_LEVELS - 1);

	if ((*out = malloc(len)) == NULL)
		return MUGAI_ERR_NOMEM;
	if (pm->channels == 3)
		memcpy(*out, pm->data, len);
	else if (bilevel)
		for (i = 0; i < len; i++)
			(*out)[i] = pm->data[i] < BILEVEL_THRESHOLD ? 0 : 255;
	else
		for (i = 0; i < len; i++)
			(*out)[i] = (uint8_t)((pm->data[i] + step / 2) / step *
			    step);
	*n = len;
	return MUGAI_OK;
}

/*
 * attach - b's bytes as the surface's MIME data of type mime: cairo
 * then embeds them as they are.  b is left empty.
 */
static mugai_status
attach(cairo_surface_t *s, const char *mime, struct mugai_buf *b)
{
	unsigned char *data;
	size_t n;

	if ((data = (unsigned char *)mugai_buf_steal(b, &n)) == NULL)
		return MUGAI_ERR_NOMEM;
	if (cairo_surface_set_mime_data(s, mime, data, n, free, data) !=
	    CAIRO_STATUS_SUCCESS) {
		free(data);
		return MUGAI_ERR_NOMEM;
	}
	return MUGAI_OK;
}

static const cairo_user_data_key_t big_key;

/*
 * big_surface - a cairo image of the format and size on pixels from
 * mugai_big_alloc (a page's picture is megabytes: see bigmem.h), which
 * cairo frees with the surface, however late it lets go; the caller
 * sets every pixel.  NULL when out of memory.
 */
static cairo_surface_t *
big_surface(cairo_format_t format, uint32_t width, uint32_t height)
{
	cairo_surface_t *s;
	uint8_t *px;
	int stride = cairo_format_stride_for_width(format, (int)width);

	if (stride <= 0 || height == 0 ||
	    (px = mugai_big_alloc((size_t)stride * height)) == NULL)
		return NULL;
	s = cairo_image_surface_create_for_data(px, format, (int)width,
	    (int)height, stride);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_set_user_data(s, &big_key, px, mugai_big_free) !=
	    CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		mugai_big_free(px);
		return NULL;
	}
	return s;
}

/*
 * rgb_surface - a cairo image of pm's pixels, which cairo deflates
 * unless MIME data is attached.
 */
static cairo_surface_t *
rgb_surface(const struct mugai_pixmap *pm)
{
	cairo_surface_t *s;
	const uint8_t *src = pm->data;
	uint8_t *row;
	size_t x, y;
	int stride;

	if ((s = big_surface(CAIRO_FORMAT_RGB24, pm->width, pm->height)) ==
	    NULL)
		return NULL;
	cairo_surface_flush(s);
	stride = cairo_image_surface_get_stride(s);
	row = cairo_image_surface_get_data(s);
	/* A loop for each kind, with no test of the kind in it. */
	for (y = 0; y < pm->height; y++, row += stride) {
		uint32_t *px = (uint32_t *)(void *)row;

		if (pm->channels == 1)
			for (x = 0; x < pm->width; x++, src++)
				px[x] = (uint32_t)src[0] * 0x010101u;
		else
			for (x = 0; x < pm->width; x++, src += 3)
				px[x] = (uint32_t)src[0] << 16 |
				    (uint32_t)src[1] << 8 | src[2];
	}
	cairo_surface_mark_dirty(s);
	return s;
}

/*
 * page_surface - the page as a cairo image, stored the smaller way: the
 * JPEG attached as its MIME data (cairo then embeds those bytes as
 * they are), or the lossless samples, which cairo deflates.  When the
 * split page's mixed_size is smaller than either, *kind is PAGE_MIXED
 * and *sp is left alone.
 */
static mugai_status
page_surface(const struct mugai_pixmap *pm, const struct mugai_pdf_opts *o,
    size_t mixed_size, cairo_surface_t **sp, enum page_kind *kind)
{
	struct mugai_buf jpeg, fax;
	struct mugai_pixmap shown;
	cairo_surface_t *s = NULL;
	uint8_t *lossless = NULL;
	size_t n = 0, zsize = SIZE_MAX;
	mugai_status rc;

	mugai_buf_init(&jpeg, 0);
	mugai_buf_init(&fax, 0);
	*kind = PAGE_JPEG;
	if (pm->channels == 1 || few_colours(pm)) {
		if ((rc = lossless_samples(pm, o->bilevel, &lossless, &n)) !=
		    MUGAI_OK ||
		    (rc = deflated_size(lossless, n, &zsize)) != MUGAI_OK)
			goto out;
	}
	if ((rc = mugai_jpeg_encode(pm, o->quality, &jpeg)) != MUGAI_OK)
		goto out;
	if (zsize <= jpeg.len)
		*kind = pm->channels == 1 ? PAGE_GREY : PAGE_COLOUR;
	if (o->bilevel && pm->channels == 1) {
		if ((rc = mugai_g4_encode(pm, BILEVEL_THRESHOLD, &fax)) !=
		    MUGAI_OK)
			goto out;
		if (fax.len < jpeg.len && fax.len < zsize)
			*kind = PAGE_FAX;
	}
	/* The split is smaller than any whole-page way: the caller's. */
	if (*kind != PAGE_FAX && mixed_size < zsize && mixed_size < jpeg.len) {
		*kind = PAGE_MIXED;
		rc = MUGAI_OK;
		goto out;
	}
	shown = *pm;
	if (*kind != PAGE_JPEG)
		shown.data = lossless;
	if ((s = rgb_surface(&shown)) == NULL) {
		rc = MUGAI_ERR_NOMEM;
		goto out;
	}
	if (*kind == PAGE_JPEG &&
	    (rc = attach(s, CAIRO_MIME_TYPE_JPEG, &jpeg)) != MUGAI_OK)
		goto out;
	if (*kind == PAGE_FAX) {
		mugai_buf_reset(&jpeg);
		if ((rc = mugai_buf_printf(&jpeg, "Columns=%u Rows=%u K=-1 "
		    "BlackIs1=false", (unsigned)pm->width,
		    (unsigned)pm->height)) != MUGAI_OK ||
		    (rc = attach(s, CAIRO_MIME_TYPE_CCITT_FAX_PARAMS, &jpeg)) !=
		    MUGAI_OK ||
		    (rc = attach(s, CAIRO_MIME_TYPE_CCITT_FAX, &fax)) !=
		    MUGAI_OK)
			goto out;
	}
	*sp = s;
	s = NULL;
out:
	if (s != NULL)
		cairo_surface_destroy(s);
	free(lossless);
	mugai_buf_free(&jpeg);
	mugai_buf_free(&fax);
	return rc;
}

/*
 * ink8 - a bit for each of the eight mask bytes at p that is 0 (ink),
 * pixel i in bit i, as cairo's A1 has them.  On a little-endian
 * machine a word at a time: the exact test for a zero byte sets its
 * top bit, and the multiply gathers the eight bits into the top byte.
 */
static inline uint32_t
ink8(const uint8_t *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
	uint64_t v;

	memcpy(&v, p, 8);
	v = ~(((v & low7) + low7) | v | low7) >> 7;
	return (uint32_t)((v * UINT64_C(0x0102040810204080)) >> 56);
#else
	uint32_t b = 0;
	unsigned k;

	for (k = 0; k < 8; k++)
		b |= (uint32_t)(p[k] == 0) << k;
	return b;
#endif
}

/*
 * mask_surface - the split's ink as a one-bit cairo mask, its fax
 * coding attached: cairo writes it as a stencil (/ImageMask) of
 * CCITT Group 4 data, 1 bits painted, hence BlackIs1.
 */
static mugai_status
mask_surface(const struct mugai_pixmap *mask, struct mugai_buf *fax,
    cairo_surface_t **sp)
{
	struct mugai_buf params;
	cairo_surface_t *s;
	uint8_t *row;
	const uint8_t *src = mask->data;
	size_t x, y;
	int stride;
	mugai_status rc;

	mugai_buf_init(&params, 0);
	s = cairo_image_surface_create(CAIRO_FORMAT_A1, (int)mask->width,
	    (int)mask->height);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		rc = MUGAI_ERR_NOMEM;
		goto out;
	}
	stride = cairo_image_surface_get_stride(s);
	row = cairo_image_surface_get_data(s);
	memset(row, 0, (size_t)stride * mask->height);
	/* cairo's A1: bit x % 32 of native 32-bit word x / 32. */
	for (y = 0; y < mask->height; y++, row += stride) {
		uint32_t *w = (uint32_t *)(void *)row, v;

		/* A word at a time, then the row's last few pixels. */
		for (x = 0; x + 32 <= mask->width; x += 32, src += 32) {
			v = ink8(src) | ink8(src + 8) << 8 |
			    ink8(src + 16) << 16 | ink8(src + 24) << 24;
			w[x >> 5] = v;
		}
		for (; x < mask->width; x++, src++)
			if (*src == 0)
				w[x >> 5] |= 1u << (x & 31);
	}
	cairo_surface_mark_dirty(s);
	if ((rc = mugai_buf_printf(&params, "Columns=%u Rows=%u K=-1 "
	    "BlackIs1=true", (unsigned)mask->width,
	    (unsigned)mask->height)) != MUGAI_OK ||
	    (rc = attach(s, CAIRO_MIME_TYPE_CCITT_FAX_PARAMS, &params)) !=
	    MUGAI_OK ||
	    (rc = attach(s, CAIRO_MIME_TYPE_CCITT_FAX, fax)) != MUGAI_OK)
		goto out;
	*sp = s;
	s = NULL;
out:
	if (s != NULL)
		cairo_surface_destroy(s);
	mugai_buf_free(&params);
	return rc;
}

/*
 * split_encode - the page split into text and pictures (pagesplit.h),
 * both coded: the mask as fax into *fax, the background, if any, as
 * JPEG into *bg (its pictures' bounding box only).  *size is their sum, SIZE_MAX when the page is all
 * picture (nothing to gain).
 */
static mugai_status
split_encode(const struct mugai_pixmap *pm, const struct mugai_pdf_opts *o,
    struct mugai_page_split *sp, struct mugai_buf *fax, struct mugai_buf *bg,
    size_t *size)
{
	mugai_status rc;

	*size = SIZE_MAX;
	if ((rc = mugai_page_split(pm, sp)) != MUGAI_OK)
		return rc;
	if (sp->picture_tiles == sp->tiles)
		return MUGAI_OK;
	if ((rc = mugai_g4_encode(&sp->mask, 128, fax)) != MUGAI_OK)
		return rc;
	if (sp->bg.data != NULL &&
	    (rc = mugai_jpeg_encode(&sp->bg, o->quality, bg)) != MUGAI_OK)
		return rc;
	*size = fax->len + bg->len;
	return MUGAI_OK;
}

/* paper - a white pixel, to be stretched over a page. */
static mugai_status
paper(cairo_surface_t **sp)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
	    1, 1);

	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return MUGAI_ERR_NOMEM;
	}
	cairo_surface_flush(s);
	memset(cairo_image_surface_get_data(s), 0xff, 4);
	cairo_surface_mark_dirty(s);
	*sp = s;
	return MUGAI_OK;
}

/*
 * mixed_sure - whether the split page is smaller than any whole-page
 * way could be, without coding those: a page of text and paper alone
 * (no picture tile) whose fax takes at most a quarter of a bit a pixel.
 * Lossless grey keeps the antialiased edges that the fax drops, and
 * JPEG codes every edge's ringing: on the text pages of bench/pdfcopy
 * the fax takes 0.02 to 0.18 bits a pixel, lossless grey 2 to 3 times
 * as much and JPEG 8 to 11 times.  Such a page is then coded once, not
 * three times; a page of fine patterns, which fax codes badly, still
 * has all its ways compared.  Not with o->bilevel, whose whole-page
 * fax comes first.
 *
 * A colour page with pictures likewise, when its pictures have more
 * colours than a lossless page may (so the whole page could only be
 * JPEG) and the fax takes at most a quarter of a bit a pixel of the
 * page outside the pictures' box: a whole-page JPEG codes the box as
 * the background does, text tiles and all, and the text outside it at
 * several times the fax (on bench/copycost's ten-page PDF the
 * whole-page JPEG is 294 KB where fax and background take 14 + 138).
 * A page mostly picture, or of few colours, or grey, still has all
 * its ways compared.
 */
static int
mixed_sure(const struct mugai_pixmap *pm, const struct mugai_pdf_opts *o,
    const struct mugai_page_split *sp, size_t fax, size_t mixed)
{
	size_t npx = (size_t)pm->width * pm->height, box;

	if (!o->mixed || o->bilevel || mixed == SIZE_MAX)
		return 0;
	if (sp->picture_tiles == 0)
		return mixed <= npx / MIXED_SURE_PIXELS;
	box = (size_t)sp->bg.width * sp->bg.height;
	return pm->channels == 3 && sp->bg.data != NULL && box < npx &&
	    fax <= (npx - box) / MIXED_SURE_PIXELS && !few_colours(&sp->bg);
}

/*
 * page_build - the page in the smallest of its ways: whole (JPEG,
 * lossless grey or palette, or fax; page_surface) or, when o->mixed,
 * split into a fax-coded text stencil over a JPEG background of its
 * pictures or over white paper.  pi->img is set in any case.
 */
static mugai_status
page_build(const struct mugai_pixmap *pm, const struct mugai_pdf_opts *o,
    struct page_img *pi)
{
	struct mugai_page_split sp;
	struct mugai_buf fax, bg;
	size_t mixed = SIZE_MAX;
	mugai_status rc;

	memset(pi, 0, sizeof(*pi));
	memset(&sp, 0, sizeof(sp));
	mugai_buf_init(&fax, 0);
	mugai_buf_init(&bg, 0);
	if (o->mixed && (rc = split_encode(pm, o, &sp, &fax, &bg, &mixed)) !=
	    MUGAI_OK)
		goto out;
	if (mixed_sure(pm, o, &sp, fax.len, mixed))
		pi->kind = PAGE_MIXED;
	else if ((rc = page_surface(pm, o, mixed, &pi->img, &pi->kind)) !=
	    MUGAI_OK || pi->kind != PAGE_MIXED)
		goto out;
	if ((rc = mask_surface(&sp.mask, &fax, &pi->mask)) != MUGAI_OK)
		goto out;
	pi->paper = 1;
	if ((rc = paper(&pi->img)) != MUGAI_OK || sp.bg.data == NULL)
		goto out;
	pi->bg_x = sp.bg_x;
	pi->bg_y = sp.bg_y;
	if ((pi->bg = rgb_surface(&sp.bg)) == NULL)
		rc = MUGAI_ERR_NOMEM;
	else
		rc = attach(pi->bg, CAIRO_MIME_TYPE_JPEG, &bg);
out:
	if (rc != MUGAI_OK) {
		if (pi->img != NULL)
			cairo_surface_destroy(pi->img);
		if (pi->bg != NULL)
			cairo_surface_destroy(pi->bg);
		if (pi->mask != NULL)
			cairo_surface_destroy(pi->mask);
		memset(pi, 0, sizeof(*pi));
	}
	mugai_page_split_free(&sp);
	mugai_buf_free(&fax);
	mugai_buf_free(&bg);
	return rc;
}

/*
 * The text layer's scales are rounded to SCALE_BITS bits after the
 * binary point of their mantissa, 64 steps an octave: a word lands
 * within 0.8 % of its box's height and width, and words of the same
 * rounded height and stretch share one cairo scaled font.  Unrounded,
 * each word had a scale of its own, and cairo built a scaled font
 * (FreeType size, glyph metrics) for each.  v is positive and finite;
 * a carry out of the mantissa is the next power of two, as it should.
 */
#define SCALE_BITS	6

static double
scale_round(double v)
{
	uint64_t b;

	memcpy(&b, &v, sizeof(b));
	b += UINT64_C(1) << (52 - SCALE_BITS - 1);
	b &= ~((UINT64_C(1) << (52 - SCALE_BITS)) - 1);
	memcpy(&v, &b, sizeof(v));
	return v;
}

/*
 * put_word - one word set in the font over its box (in points): its
 * height the box's, its advance stretched to the box's width, both
 * rounded (scale_round) and set as the font matrix, so that the words
 * of one rounded size and stretch use one scaled font.  A vertical word
 * is turned a quarter clockwise, so that it runs down its box, its
 * height the box's width.  ref is the font at size REF_SIZE, unturned:
 * an advance is its advance there scaled, as the PDF's metrics are
 * not hinted.
 */
#define REF_SIZE	100.0

static void
put_word(cairo_t *cr, cairo_scaled_font_t *ref, const struct mugai_word *w,
    double ascent)
{
	char s[MUGAI_WORD_MAX + 1];
	cairo_text_extents_t ext;
	cairo_matrix_t m, turn;
	double x0 = w->x0 / 100.0, y0 = w->y0 / 100.0,
	    bw = (w->x1 - w->x0) / 100.0, bh = (w->y1 - w->y0) / 100.0, sx, sy;
	int down = (w->flags & MUGAI_WORD_VERTICAL) != 0;

	memcpy(s, w->text, w->len);
	s[w->len] = '\0';
	cairo_scaled_font_text_extents(ref, s, &ext);
	if (!(ext.x_advance > 0) || !isfinite(ext.x_advance))
		return;
	/* Along the word: its box's length over its advance at size 1. */
	sx = (down ? bh : bw) * REF_SIZE / ext.x_advance;
	sy = down ? bw : bh;
	if (!(sx > 0) || !(sy > 0) || !isfinite(sx) || !isfinite(sy))
		return;
	sx = scale_round(sx);
	sy = scale_round(sy);
	cairo_matrix_init_scale(&m, sx, sy);
	if (down) {
		/* The glyphs' tops face right: the baseline is on the left. */
		cairo_matrix_init_rotate(&turn, M_PI / 2);
		cairo_matrix_multiply(&m, &m, &turn);
		cairo_move_to(cr, x0 + bw * (1 - ascent), y0);
	} else
		cairo_move_to(cr, x0, y0 + bh * ascent);
	cairo_set_font_matrix(cr, &m);
	cairo_show_text(cr, s);
}

/* The font's ascent as a share of its height (baseline in a box). */
static double
font_ascent(cairo_t *cr)
{
	cairo_font_extents_t fe;

	cairo_set_font_size(cr, 100);
	cairo_font_extents(cr, &fe);
	if (fe.ascent > 0 && fe.descent >= 0 && isfinite(fe.ascent) &&
	    isfinite(fe.descent))
		return fe.ascent / (fe.ascent + fe.descent);
	return 0.88;
}

/* page_text - the page's words in black, to be covered by its image. */
static void
page_text(cairo_t *cr, const struct mugai_pagetext *t, double ascent,
    struct mugai_pdf_stats *st)
{
	cairo_scaled_font_t *ref;
	size_t i;

	cairo_set_font_size(cr, REF_SIZE);
	/* Ours to hold: the next cairo_set_font_matrix lets go of cr's. */
	ref = cairo_scaled_font_reference(cairo_get_scaled_font(cr));
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (i = 0; i < t->nwords; i++)
		put_word(cr, ref, &t->words[i], ascent);
	cairo_scaled_font_destroy(ref);
	/* No current point left to the page's image. */
	cairo_new_path(cr);
	st->words += t->nwords;
}

struct ft_font {
	FT_Library lib;
	FT_Face	 face;
};

static const cairo_user_data_key_t ft_key;

/* ft_free - when cairo lets go of the font face, which may be late. */
static void
ft_free(void *p)
{
	struct ft_font *f = p;

	if (f == NULL)
		return;
	if (f->face != NULL)
		FT_Done_Face(f->face);
	if (f->lib != NULL)
		FT_Done_FreeType(f->lib);
	free(f);
}

/*
 * font_load - the font for the text layer; NULL when it will not load.
 * cairo may keep the face in its caches after the last destroy: the
 * FreeType face lives until cairo lets go (its user data).  A FreeType
 * library of its own, as FT_Library is not shared between threads.
 */
static cairo_font_face_t *
font_load(const char *path)
{
	cairo_font_face_t *ff;
	struct ft_font *f;

	if (path == NULL || path[0] == '\0' ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if (FT_Init_FreeType(&f->lib) != 0) {
		f->lib = NULL;
		goto bad;
	}
	if (FT_New_Face(f->lib, path, 0, &f->face) != 0) {
		f->face = NULL;
		goto bad;
	}
	ff = cairo_ft_font_face_create_for_ft_face(f->face, 0);
	if (cairo_font_face_status(ff) != CAIRO_STATUS_SUCCESS)
		goto bad_ff;
	if (cairo_font_face_set_user_data(ff, &ft_key, f, ft_free) !=
	    CAIRO_STATUS_SUCCESS)
		goto bad_ff;
	return ff;
bad_ff:
	cairo_font_face_destroy(ff);
bad:
	ft_free(f);
	return NULL;
}

/* Coded pages (MUGAI_PIX_RUNS) only with their coded lengths. */
static int
pages_valid(const struct mugai_pixmap *pages, const size_t *coded, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pages[i].width == 0 || pages[i].height == 0 ||
		    pages[i].width > 32767 || pages[i].height > 32767 ||
		    (pages[i].channels != 1 && pages[i].channels != 3) ||
		    pages[i].data == NULL ||
		    (coded == NULL && (pages[i].flags & MUGAI_PIX_RUNS)))
			return 0;
	return 1;
}

/*
 * page_pixels - page i decoded into *scratch (grown to its size, kept
 * for the next page) when it is coded, else as it is, into *pm.
 */
static mugai_status
page_pixels(const struct mugai_pixmap *pages, const size_t *coded, size_t i,
    uint8_t **scratch, size_t *cap, struct mugai_pixmap *pm)
{
	size_t size = (size_t)pages[i].width * pages[i].height *
	    pages[i].channels;

	if (!(pages[i].flags & MUGAI_PIX_RUNS)) {
		*pm = pages[i];
		return MUGAI_OK;
	}
	if (size > *cap) {
		/* Not realloc: the last page's pixels need no copy. */
		mugai_big_free(*scratch);
		*cap = 0;
		if ((*scratch = mugai_big_alloc(size)) == NULL)
			return MUGAI_ERR_NOMEM;
		*cap = size;
	}
	return mugai_pixels_unpack(&pages[i], coded[i], *scratch, pm);
}

/* put_page - page i: its words, then its image over the whole page. */
static mugai_status
put_page(cairo_surface_t *pdf, cairo_t *cr, const struct mugai_pixmap *pm,
    const struct mugai_pagetext *t, double ascent,
    const struct mugai_pdf_opts *o, struct mugai_pdf_stats *st)
{
	struct page_img pi;
	double scale = 72.0 / o->dpi;
	mugai_status rc;

	cairo_pdf_surface_set_size(pdf, pm->width * scale, pm->height * scale);
	if (t != NULL && t->nwords > 0)
		page_text(cr, t, ascent, st);
	if ((rc = page_build(pm, o, &pi)) != MUGAI_OK)
		return rc;
	st->jpeg += pi.kind == PAGE_JPEG;
	st->grey += pi.kind == PAGE_GREY;
	st->colour += pi.kind == PAGE_COLOUR;
	st->fax += pi.kind == PAGE_FAX;
	st->mixed += pi.kind == PAGE_MIXED;
	cairo_save(cr);
	cairo_scale(cr, scale, scale);
	cairo_save(cr);
	if (pi.paper)
		cairo_scale(cr, pm->width, pm->height);
	cairo_set_source_surface(cr, pi.img, 0, 0);
	cairo_paint(cr);
	cairo_restore(cr);
	if (pi.bg != NULL) {
		cairo_set_source_surface(cr, pi.bg, pi.bg_x, pi.bg_y);
		cairo_paint(cr);
		cairo_surface_destroy(pi.bg);
	}
	if (pi.mask != NULL) {
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_mask_surface(cr, pi.mask, 0, 0);
		cairo_surface_destroy(pi.mask);
	}
	cairo_restore(cr);
	cairo_surface_destroy(pi.img);
	cairo_show_page(cr);
	return cairo_status(cr) == CAIRO_STATUS_SUCCESS ? MUGAI_OK :
	    MUGAI_ERR_INTERNAL;
}

mugai_status
mugai_pdf_from_pages(const struct mugai_pixmap *pages, size_t n,
    const struct mugai_pagetext *text, const struct mugai_pdf_opts *o,
    struct mugai_buf *out, struct mugai_pdf_stats *stp)
{
	return mugai_pdf_from_coded_pages(pages, NULL, n, text, o, out, stp);
}

mugai_status
mugai_pdf_from_coded_pages(const struct mugai_pixmap *pages,
    const size_t *coded, size_t n, const struct mugai_pagetext *text,
    const struct mugai_pdf_opts *o, struct mugai_buf *out,
    struct mugai_pdf_stats *stp)
{
	struct mugai_pdf_stats st;
	struct mugai_pixmap pm;
	struct sink sink = { out, MUGAI_OK };
	cairo_surface_t *pdf;
	cairo_font_face_t *ff = NULL;
	cairo_t *cr;
	uint8_t *scratch = NULL;
	size_t was = out->len, i, words = 0, cap = 0;
	double ascent = 0.88;
	mugai_status rc = MUGAI_OK;

	memset(&st, 0, sizeof(st));
	if (pages == NULL || n == 0 || n > PDF_MAX_PAGES || o == NULL ||
	    o->dpi == 0 || o->dpi > 10000 || o->quality < 1 ||
	    o->quality > 100 || !pages_valid(pages, coded, n))
		return MUGAI_ERR_USAGE;
	for (i = 0; text != NULL && i < n; i++)
		words += text[i].nwords;
	pdf = cairo_pdf_surface_create_for_stream(sink_write, &sink,
	    pages[0].width * 72.0 / o->dpi, pages[0].height * 72.0 / o->dpi);
	cairo_pdf_surface_set_metadata(pdf, CAIRO_PDF_METADATA_CREATOR,
	    "mugai");
	cr = cairo_create(pdf);
	if (words > 0 && (ff = font_load(o->font)) == NULL)
		st.no_font = 1;
	if (ff != NULL) {
		cairo_set_font_face(cr, ff);
		ascent = font_ascent(cr);
	}
	for (i = 0; i < n && rc == MUGAI_OK; i++) {
		if ((rc = page_pixels(pages, coded, i, &scratch, &cap, &pm)) !=
		    MUGAI_OK)
			break;
		rc = put_page(pdf, cr, &pm, ff != NULL && text != NULL ?
		    &text[i] : NULL, ascent, o, &st);
		if (rc == MUGAI_ERR_INTERNAL && sink.rc != MUGAI_OK)
			rc = sink.rc;
	}
	mugai_big_free(scratch);
	cairo_destroy(cr);
	cairo_surface_finish(pdf);
	if (rc == MUGAI_OK && cairo_surface_status(pdf) != CAIRO_STATUS_SUCCESS)
		rc = sink.rc != MUGAI_OK ? sink.rc : MUGAI_ERR_INTERNAL;
	cairo_surface_destroy(pdf);
	if (ff != NULL)
		cairo_font_face_destroy(ff);
	if (rc != MUGAI_OK && out->data != NULL) {
		/* Take back the partial file: out->data stays NUL terminated. */
		out->len = was;
		out->data[was] = '\0';
	}
	if (stp != NULL)
		*stp = st;
	return rc;
}

