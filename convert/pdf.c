/*
 * pdf.c - PDF pages to pixels, the Dangerzone way: poppler-glib reads
 * the document and cairo renders every page to an image; only the
 * pixels leave the worker, and the parent builds a new PDF from them
 * (mugai/cdr/pdfwrite.h).  Beside the pixels go the page's words and their
 * boxes (mugai/cdr/pagetext.h), plain strings the parent checks and lays
 * invisibly over the image so that the copy can be searched and copied
 * from.  Nothing else of the original survives: no scripts, actions,
 * forms, attachments, fonts or metadata.
 *
 * poppler-glib runs no JavaScript and rendering follows no links or
 * actions.  Fonts that are not embedded come from fontconfig, which
 * reads its configuration, its caches and the system fonts; with
 * poppler's CMaps (poppler-data) and /etc/localtime those are the only
 * files this mode opens, read-only (SANDBOX_READ_FILES).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <poppler.h>

#include "convert.h"
#include "mugai/base/bigmem.h"
#include "mugai/cdr/pixels.h"
#include "mugai/cdr/pagetext.h"

/*
 * A side longer than this is refused whatever max_pixels says:
 * Dangerzone caps at 10,000; a page a few metres long is not a
 * document anyone mails, and cairo's own limit is 32767.
 */
#define PDF_MAX_SIDE	20000

/*
 * page_pixels - the pixel size of a page of wpt x hpt points at dpi,
 * or a MUGAI_CONVERT_EXIT_* refusal.  Checked before anything is
 * allocated: a page that claims to be enormous costs nothing.
 */
static int
page_pixels(double wpt, double hpt, const struct convert_opts *o,
    unsigned pageno, uint32_t *w, uint32_t *h, char *why, size_t whylen)
{
	double dw, dh;

	if (!isfinite(wpt) || !isfinite(hpt) || wpt <= 0 || hpt <= 0) {
		snprintf(why, whylen, "PDF page %u has no usable size", pageno);
		return MUGAI_CONVERT_EXIT_BAD_INPUT;
	}
	dw = wpt * o->dpi / 72.0;
	dh = hpt * o->dpi / 72.0;
	/* Would round to more than the limit; compared before any cast. */
	if (dw >= PDF_MAX_SIDE + 0.5 || dh >= PDF_MAX_SIDE + 0.5) {
		snprintf(why, whylen, "PDF page %u is %.0f x %.0f pixels at "
		    "%u dpi, over %d a side", pageno, dw, dh, o->dpi,
		    PDF_MAX_SIDE);
		return MUGAI_CONVERT_EXIT_TOO_BIG;
	}
	/* Rounded by hand: the worker does not link libm for round(). */
	*w = dw < 1 ? 1 : (uint32_t)(dw + 0.5);
	*h = dh < 1 ? 1 : (uint32_t)(dh + 0.5);
	/* Both sides are at most PDF_MAX_SIDE: the product cannot wrap. */
	if ((size_t)*w * *h > o->max_pixels) {
		snprintf(why, whylen, "PDF page %u is %u x %u pixels at %u dpi, "
		    "over max_pixels %zu", pageno, *w, *h, o->dpi,
		    o->max_pixels);
		return MUGAI_CONVERT_EXIT_TOO_BIG;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * has_colour - whether a pixel of the surface's rows (w 0x00RRGGBB
 * words each, cairo's RGB24 in native order) has colour: R, G, B not
 * all equal, exactly when (R, G) != (G, B).  A row a test, with no
 * branch within, so that the test runs at the speed of memory; a
 * page of colour is mostly known by its first picture's row.
 */
static int
has_colour(const unsigned char *data, int stride, uint32_t w, uint32_t h)
{
	const unsigned char *row;
	uint64_t v[4], diff;
	uint32_t x, y, p;

	for (y = 0; y < h; y++) {
		row = data + (size_t)y * stride;
		/*
		 * Two pixels a word: shifted by a byte, each pixel's low
		 * half meets its own next channel, never its neighbour's;
		 * the other bits are masked off once a row.
		 */
		for (diff = 0, x = 0; x + 8 <= w; x += 8) {
			memcpy(v, row + (size_t)x * 4, sizeof(v));
			diff |= ((v[0] >> 8) ^ v[0]) | ((v[1] >> 8) ^ v[1]) |
			    ((v[2] >> 8) ^ v[2]) | ((v[3] >> 8) ^ v[3]);
		}
		diff &= UINT64_C(0x0000ffff0000ffff);
		for (; x < w; x++) {
			memcpy(&p, row + (size_t)x * 4, 4);
			diff |= ((p >> 8) ^ p) & 0xffff;
		}
		if (diff != 0)
			return 1;
	}
	return 0;
}

/*
 * paper_row - whether each of the row's w RGB24 words is white (its
 * unused top byte aside): eight pixels a test, most rows of a page
 * being paper or starting with a margin of it.
 */
static int
paper_row(const uint32_t *row, uint32_t w)
{
	const uint64_t top = UINT64_C(0xff000000ff000000);
	uint64_t v[4];
	uint32_t x;

	for (x = 0; x + 8 <= w; x += 8) {
		memcpy(v, row + x, sizeof(v));
		if (((v[0] & v[1] & v[2] & v[3]) | top) != UINT64_MAX)
			return 0;
	}
	for (; x < w; x++)
		if ((row[x] | 0xff000000u) != UINT32_MAX)
			return 0;
	return 1;
}

/* grey_row - the row of w RGB24 words of no colour, a sample a pixel. */
static void
grey_row(const uint32_t *row, uint32_t w, uint8_t *dst)
{
	uint32_t x;

	for (x = 0; x < w; x++)
		dst[x] = row[x] & 0xff;
}

/*
 * rgb_row - the row of w RGB24 words as three samples a pixel: four
 * pixels make three 32-bit words, each pixel's word byte-swapped to
 * R, G, B in memory order (0x00RRGGBB swapped and shifted is
 * 0x00BBGGRR, stored little-endian as R G B 0).
 */
static void
rgb_row(const uint32_t *row, uint32_t w, uint8_t *dst)
{
	uint32_t x, p, a, b, c, d, v[3];

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (x = 0; x + 4 <= w; x += 4, dst += 12) {
		a = __builtin_bswap32(row[x]) >> 8;
		b = __builtin_bswap32(row[x + 1]) >> 8;
		c = __builtin_bswap32(row[x + 2]) >> 8;
		d = __builtin_bswap32(row[x + 3]) >> 8;
		v[0] = a | b << 24;
		v[1] = b >> 8 | c << 16;
		v[2] = c >> 16 | d << 8;
		memcpy(dst, v, 12);
	}
#else
	x = 0;
	(void)a, (void)b, (void)c, (void)d, (void)v;
#endif
	for (; x < w; x++) {
		p = row[x];
		*dst++ = (p >> 16) & 0xff;
		*dst++ = (p >> 8) & 0xff;
		*dst++ = p & 0xff;
	}
}

/*
 * emit_rows - the surface's rows into out as a run-length coded image
 * of channels samples a pixel (most of a page is paper: a fifth or
 * less of the bytes cross the pipe); 0 when done, -1 when out of
 * memory.  A row at a time through row (w * 3 bytes) and scratch
 * (MUGAI_PIXELS_RUNS_BOUND of that): the page is never copied whole.
 * A row of paper is coded once and its code copied for the others.
 */
static int
emit_rows(const unsigned char *data, int stride, uint32_t w, uint32_t h,
    uint32_t channels, uint8_t *row, uint8_t *scratch, struct mugai_buf *out)
{
	const uint32_t *src;
	uint8_t *paper = NULL;
	size_t at, before, plen = 0;
	uint32_t y;
	int paper_now, rc = -1;

	if (mugai_pixels_runs_begin(out, w, h, channels, &at) != MUGAI_OK)
		return -1;
	for (y = 0; y < h; y++) {
		src = (const uint32_t *)(const void *)(data +
		    (size_t)y * stride);
		paper_now = paper_row(src, w);
		if (paper_now && paper != NULL) {
			if (mugai_buf_append(out, paper, plen) != MUGAI_OK)
				goto out;
			continue;
		}
		if (channels == 3)
			rgb_row(src, w, row);
		else
			grey_row(src, w, row);
		before = out->len;
		if (mugai_pixels_runs_row(out, row, (size_t)w * channels,
		    scratch) != MUGAI_OK)
			goto out;
		if (paper_now) {
			plen = out->len - before;
			if ((paper = malloc(plen)) == NULL)
				goto out;
			memcpy(paper, out->data + before, plen);
		}
	}
	if (mugai_pixels_runs_end(out, at) == MUGAI_OK)
		rc = 0;
out:
	free(paper);
	return rc;
}

/*
 * emit - the rendered surface into the pixel stream: grey when the
 * page has no colour, else RGB, told before a row is coded.  On
 * failure out is as it was.
 */
static int
emit(cairo_surface_t *s, uint32_t w, uint32_t h, struct mugai_buf *out,
    char *why, size_t whylen)
{
	const unsigned char *data;
	uint8_t *row, *scratch;
	size_t was = out->len;
	int stride, r = -1;

	cairo_surface_flush(s);
	data = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	row = malloc((size_t)w * 3);
	scratch = malloc(MUGAI_PIXELS_RUNS_BOUND((size_t)w * 3));
	if (row != NULL && scratch != NULL)
		r = emit_rows(data, stride, w, h,
		    has_colour(data, stride, w, h) ? 3 : 1, row, scratch, out);
	free(row);
	free(scratch);
	if (r != 0) {
		if (out->data != NULL) {
			out->len = was;
			out->data[was] = '\0';
		}
		snprintf(why, whylen, "out of memory for a %u x %u page", w, h);
		return MUGAI_CONVERT_EXIT_TOO_BIG;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * gray_text - grey antialiasing whatever fontconfig says: subpixel
 * rendering would put colour fringes on black text and turn every
 * text page into RGB, three times the size.
 */
static void
gray_text(cairo_t *cr)
{
	cairo_font_options_t *fo;

	if ((fo = cairo_font_options_create()) == NULL)
		return;
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	cairo_set_font_options(cr, fo);
	cairo_font_options_destroy(fo);
}

/* What is left of the text layer's limits for the pages to come. */
struct text_budget {
	size_t	 words;
	size_t	 bytes;
};

/* A word being gathered: its bytes and the union of its glyph boxes. */
struct word {
	char	 text[MUGAI_WORD_MAX];
	size_t	 len;
	double	 x0, y0, x1, y1;
	double	 lx0, ly0, lx1, ly1;	/* the last glyph's box */
	int	 dir;			/* DIR_* once two glyphs show it */
};

#define DIR_NONE	0
#define DIR_ACROSS	1		/* left to right */
#define DIR_DOWN	2		/* top to bottom */

/* A glyph's box with x0 <= x1, y0 <= y1. */
struct box {
	double	 x0, y0, x1, y1;
};

static struct box
box_of(const PopplerRectangle *r)
{
	struct box b;

	b.x0 = r->x1 < r->x2 ? r->x1 : r->x2;
	b.x1 = r->x1 < r->x2 ? r->x2 : r->x1;
	b.y0 = r->y1 < r->y2 ? r->y1 : r->y2;
	b.y1 = r->y1 < r->y2 ? r->y2 : r->y1;
	return b;
}

/*
 * word_flush - the word into out (a page's word records), boxed within
 * the page of pw x ph hundredths of a point, when the budget allows;
 * *count counts it.  A word the parser would refuse is left out.
 */
static int
word_flush(struct word *wd, uint32_t pw, uint32_t ph, struct text_budget *b,
    struct mugai_buf *out, uint32_t *count)
{
	double x0, y0, x1, y1;
	uint32_t ix0, iy0, ix1, iy1;
	size_t len = wd->len;
	int dir = wd->dir;

	wd->len = 0;
	wd->dir = DIR_NONE;
	if (len == 0 || b->words == 0)
		return 0;
	/* The first word over the limit ends the text layer there. */
	if (len > b->bytes) {
		b->words = 0;
		return 0;
	}
	/* Clamped to the page: a glyph hanging over the edge keeps its word. */
	x0 = wd->x0 < 0 ? 0 : wd->x0 * 100;
	y0 = wd->y0 < 0 ? 0 : wd->y0 * 100;
	x1 = wd->x1 * 100 > pw ? pw : wd->x1 * 100;
	y1 = wd->y1 * 100 > ph ? ph : wd->y1 * 100;
	if (!(x0 < x1) || !(y0 < y1))
		return 0;
	ix0 = (uint32_t)x0;
	iy0 = (uint32_t)y0;
	ix1 = (uint32_t)x1;
	iy1 = (uint32_t)y1;
	if (ix0 >= ix1 || iy0 >= iy1 || !mugai_word_ok(wd->text, len))
		return 0;
	if (mugai_pagetext_word(out, ix0, iy0, ix1, iy1, dir == DIR_DOWN ?
	    MUGAI_WORD_VERTICAL : 0, wd->text, len) != MUGAI_OK)
		return -1;
	b->words--;
	b->bytes -= len;
	(*count)++;
	return 0;
}

/*
 * continues - the direction in which the glyph in g continues the word,
 * or DIR_NONE when it starts another.  Across: its middle lies within
 * the word's line and it does not go back left of the last glyph nor
 * jump far right.  Down (vertical writing, or a page turned by a
 * quarter): its middle lies within the word's column, below the last
 * glyph and not far below.  poppler puts a space or a newline between
 * words and lines, but columns and tables can run glyphs of different
 * lines together.
 */
static int
continues(const struct word *wd, const struct box *g)
{
	double h = wd->y1 - wd->y0, w = wd->x1 - wd->x0,
	    cx = (g->x0 + g->x1) / 2, cy = (g->y0 + g->y1) / 2;
	int across, down;

	across = cy > wd->y0 && cy < wd->y1 && g->x0 >= wd->lx0 - h * 0.1 &&
	    g->x0 <= wd->x1 + h * 2;
	down = cx > wd->x0 && cx < wd->x1 && cy > (wd->ly0 + wd->ly1) / 2 &&
	    g->y0 <= wd->y1 + w * 2;
	if (wd->dir == DIR_ACROSS)
		return across ? DIR_ACROSS : DIR_NONE;
	if (wd->dir == DIR_DOWN)
		return down ? DIR_DOWN : DIR_NONE;
	return across ? DIR_ACROSS : down ? DIR_DOWN : DIR_NONE;
}

/* word_add - the character c of n bytes with box g into the word. */
static void
word_add(struct word *wd, const char *c, size_t n, const struct box *g,
    int dir)
{
	if (wd->len == 0) {
		wd->x0 = g->x0;
		wd->y0 = g->y0;
		wd->x1 = g->x1;
		wd->y1 = g->y1;
	} else {
		wd->dir = dir;
		wd->x0 = g->x0 < wd->x0 ? g->x0 : wd->x0;
		wd->y0 = g->y0 < wd->y0 ? g->y0 : wd->y0;
		wd->x1 = g->x1 > wd->x1 ? g->x1 : wd->x1;
		wd->y1 = g->y1 > wd->y1 ? g->y1 : wd->y1;
	}
	wd->lx0 = g->x0;
	wd->ly0 = g->y0;
	wd->lx1 = g->x1;
	wd->ly1 = g->y1;
	memcpy(wd->text + wd->len, c, n);
	wd->len += n;
}

/* Whether the character u with box r can be part of a word. */
static int
wordish(gunichar u, const PopplerRectangle *r)
{
	return !g_unichar_isspace(u) && g_unichar_isprint(u) &&
	    isfinite(r->x1) && isfinite(r->x2) && isfinite(r->y1) &&
	    isfinite(r->y2);
}

/*
 * page_words - the words of page, with poppler's box for each of its
 * characters (poppler_page_get_text_layout: the n-th box is the n-th
 * character of poppler_page_get_text), into out as a page record.
 * Words are runs of characters between white space, broken where a run
 * leaves its line (or column: words may run down the page).  A page whose layout does not match its text gets no
 * words.
 */
static int
page_words(PopplerPage *page, uint32_t pw, uint32_t ph,
    struct text_budget *b, struct mugai_buf *out)
{
	PopplerRectangle *rects = NULL;
	struct mugai_buf recs;
	struct word *wd;
	struct box g;
	const char *p, *next;
	char *text = NULL;
	guint nrects = 0, i;
	uint32_t count = 0;
	gunichar u;
	int rc = -1, dir;

	mugai_buf_init(&recs, 0);
	if ((wd = calloc(1, sizeof(*wd))) == NULL)
		goto out;
	if (b->words > 0 && (text = poppler_page_get_text(page)) != NULL &&
	    g_utf8_validate(text, -1, NULL) &&
	    poppler_page_get_text_layout(page, &rects, &nrects)) {
		for (p = text, i = 0; *p != '\0' && i < nrects; p = next, i++) {
			next = g_utf8_next_char(p);
			u = g_utf8_get_char(p);
			g = box_of(&rects[i]);
			dir = DIR_NONE;
			if (wordish(u, &rects[i]) && wd->len > 0)
				dir = continues(wd, &g);
			if (wd->len > 0 && (dir == DIR_NONE ||
			    wd->len + (size_t)(next - p) > MUGAI_WORD_MAX) &&
			    word_flush(wd, pw, ph, b, &recs, &count) != 0)
				goto out;
			if (wordish(u, &rects[i]))
				word_add(wd, p, (size_t)(next - p), &g, dir);
		}
		if (word_flush(wd, pw, ph, b, &recs, &count) != 0)
			goto out;
	}
	if (mugai_pagetext_page(out, count) != MUGAI_OK ||
	    (recs.len > 0 && mugai_buf_append(out, recs.data, recs.len) !=
	    MUGAI_OK))
		goto out;
	rc = 0;
out:
	g_free(rects);
	g_free(text);
	free(wd);
	mugai_buf_free(&recs);
	return rc;
}

static const cairo_user_data_key_t canvas_key;

/*
 * canvas - the surface for a page of w x h pixels in *cv: the last
 * page's when it had that size (a document's pages mostly have one, and
 * memory used again costs no fresh pages), else a new one; NULL when
 * out of memory.  Every page is painted white first, so nothing of the
 * last one is left.
 */
static cairo_surface_t *
canvas(cairo_surface_t **cv, uint32_t w, uint32_t h)
{
	int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, (int)w);
	uint8_t *px;

	if (*cv != NULL &&
	    (uint32_t)cairo_image_surface_get_width(*cv) == w &&
	    (uint32_t)cairo_image_surface_get_height(*cv) == h)
		return *cv;
	if (*cv != NULL)
		cairo_surface_destroy(*cv);
	*cv = NULL;
	/*
	 * Its pixels in huge pages (mugai/base/bigmem.h): a page at 150 dpi
	 * is some 2,100 small ones, each a page fault on the first paper.
	 * cairo frees them with the surface.
	 */
	if (stride <= 0 || (px = mugai_big_alloc((size_t)stride * h)) == NULL)
		return NULL;
	*cv = cairo_image_surface_create_for_data(px, CAIRO_FORMAT_RGB24,
	    (int)w, (int)h, stride);
	if (cairo_surface_status(*cv) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_set_user_data(*cv, &canvas_key, px, mugai_big_free) !=
	    CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(*cv);
		mugai_big_free(px);
		*cv = NULL;
	}
	return *cv;
}

/*
 * render_page - one page onto a white canvas (*cv, kept for the next
 * page) and into out, its words into words.  Printing mode, so that
 * form fields and annotations appear as they would on paper and nothing
 * meant only for the screen does.
 */
static int
render_page(PopplerPage *page, unsigned pageno, const struct convert_opts *o,
    cairo_surface_t **cv, struct text_budget *b, struct mugai_buf *out,
    struct mugai_buf *words, char *why, size_t whylen)
{
	cairo_surface_t *s;
	cairo_t *cr;
	double wpt, hpt;
	uint32_t w, h;
	int rc;

	poppler_page_get_size(page, &wpt, &hpt);
	rc = page_pixels(wpt, hpt, o, pageno, &w, &h, why, whylen);
	if (rc != MUGAI_CONVERT_EXIT_OK)
		return rc;
	if ((s = canvas(cv, w, h)) == NULL) {
		snprintf(why, whylen, "no memory to render PDF page %u "
		    "(%u x %u pixels)", pageno, w, h);
		return MUGAI_CONVERT_EXIT_TOO_BIG;
	}
	/* White paper: set by hand, cairo's paint costs twenty times this. */
	cairo_surface_flush(s);
	memset(cairo_image_surface_get_data(s), 0xff,
	    (size_t)cairo_image_surface_get_stride(s) * h);
	cairo_surface_mark_dirty(s);
	cr = cairo_create(s);
	gray_text(cr);
	cairo_scale(cr, o->dpi / 72.0, o->dpi / 72.0);
	poppler_page_render_for_printing(page, cr);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		snprintf(why, whylen, "PDF page %u cannot be rendered: %s",
		    pageno, cairo_status_to_string(cairo_status(cr)));
		rc = MUGAI_CONVERT_EXIT_BAD_INPUT;
	}
	cairo_destroy(cr);
	if (rc == MUGAI_CONVERT_EXIT_OK)
		rc = emit(s, w, h, out, why, whylen);
	/* The page size the parent will give it: the pixels at o->dpi. */
	if (rc == MUGAI_CONVERT_EXIT_OK &&
	    page_words(page, (uint32_t)((uint64_t)w * 7200 / o->dpi),
	    (uint32_t)((uint64_t)h * 7200 / o->dpi), b, words) != 0) {
		snprintf(why, whylen, "out of memory for the words of page %u",
		    pageno);
		rc = MUGAI_CONVERT_EXIT_TOO_BIG;
	}
	return rc;
}

/* open_doc - the document over the input bytes, or a refusal. */
static int
open_doc(GBytes *bytes, PopplerDocument **docp, char *why, size_t whylen)
{
	GError *err = NULL;
	int rc;

	/* No password: one that needs a password cannot be rendered. */
	*docp = poppler_document_new_from_bytes(bytes, NULL, &err);
	if (*docp != NULL)
		return MUGAI_CONVERT_EXIT_OK;
	if (err != NULL && err->domain == POPPLER_ERROR &&
	    err->code == POPPLER_ERROR_ENCRYPTED) {
		snprintf(why, whylen, "PDF is encrypted");
		rc = MUGAI_CONVERT_EXIT_ENCRYPTED;
	} else {
		snprintf(why, whylen, "not a readable PDF: %s",
		    err != NULL ? err->message : "unknown error");
		rc = MUGAI_CONVERT_EXIT_BAD_INPUT;
	}
	if (err != NULL)
		g_error_free(err);
	return rc;
}

/*
 * A dynamic XFA form (LiveCycle Designer) is drawn by Adobe's readers
 * from its XML; every other reader, poppler included, shows only the
 * placeholder page the form carries for them.  Its copy would be that
 * page alone, so such a form is refused: by the catalog's
 * NeedsRendering flag when it is not in a compressed object stream,
 * else by the placeholder's standard sentence on the first page.
 */
#define XFA_PLACEHOLDER "If this message is not eventually replaced by " \
	"the proper contents of the document"

static int
is_dynamic_xfa(const unsigned char *in, size_t len, PopplerDocument *doc)
{
	PopplerPage *page;
	char *text, *p, *q;
	int found;

	if (memmem(in, len, "/NeedsRendering true", 20) != NULL &&
	    memmem(in, len, "/XFA", 4) != NULL)
		return 1;
	if ((page = poppler_document_get_page(doc, 0)) == NULL)
		return 0;
	text = poppler_page_get_text(page);
	g_object_unref(page);
	if (text == NULL)
		return 0;
	/* Lines broken anywhere: white space runs become one space. */
	for (p = q = text; *p != '\0'; p++)
		if (!(*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ||
		    (q > text && q[-1] != ' '))
			*q++ = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
	*q = '\0';
	found = strstr(text, XFA_PLACEHOLDER) != NULL;
	g_free(text);
	return found;
}

/*
 * check_pages - every page's pixel size within the limits, before any
 * page is rendered: a refusal on page 90 should not cost 89 renders.
 */
static int
check_pages(PopplerDocument *doc, int n, const struct convert_opts *o,
    char *why, size_t whylen)
{
	PopplerPage *page;
	double wpt, hpt;
	uint32_t w, h;
	int i, rc;

	for (i = 0; i < n; i++) {
		if ((page = poppler_document_get_page(doc, i)) == NULL) {
			snprintf(why, whylen, "PDF page %d cannot be read", i + 1);
			return MUGAI_CONVERT_EXIT_BAD_INPUT;
		}
		poppler_page_get_size(page, &wpt, &hpt);
		g_object_unref(page);
		rc = page_pixels(wpt, hpt, o, (unsigned)i + 1, &w, &h, why,
		    whylen);
		if (rc != MUGAI_CONVERT_EXIT_OK)
			return rc;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * convert_pdf - every page of the PDF in[0..len) as pixels at o->dpi,
 * grey when the page has no colour, followed by the pages' words (at
 * most o->max_words words and o->max_text bytes in all; the pages past
 * the limit get none).  Refuses, before rendering anything, encrypted
 * documents, more than o->max_pages pages and pages over the pixel
 * limits.  out holds the streams only when the result is
 * MUGAI_CONVERT_EXIT_OK.
 */
/*
 * Load the fontconfig configuration and cache before the sandbox: a
 * stale cache would otherwise be rewritten (opened for writing, which
 * the sandbox kills) on the first page.
 */
int
convert_pdf_prepare(void)
{
	return FcInit() ? 0 : -1;
}

int
convert_pdf(const unsigned char *in, size_t len, const struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen)
{
	PopplerDocument *doc;
	PopplerPage *page;
	cairo_surface_t *cv = NULL;
	GBytes *bytes;
	struct mugai_buf words;
	struct text_budget b = { o->max_words, o->max_text };
	int i, n, rc;

	if (o->dpi == 0 || o->dpi > 2400) {
		snprintf(why, whylen, "dpi %u is not between 1 and 2400", o->dpi);
		return MUGAI_CONVERT_EXIT_USAGE;
	}
	mugai_buf_init(&words, 0);
	bytes = g_bytes_new_static(in, len);
	rc = open_doc(bytes, &doc, why, whylen);
	if (rc != MUGAI_CONVERT_EXIT_OK)
		goto out;
	n = poppler_document_get_n_pages(doc);
	if (n <= 0) {
		snprintf(why, whylen, "PDF has no pages");
		rc = MUGAI_CONVERT_EXIT_BAD_INPUT;
		goto out;
	}
	if ((unsigned)n > o->max_pages) {
		snprintf(why, whylen, "PDF has %d pages, over pdf_max_pages %u",
		    n, o->max_pages);
		rc = MUGAI_CONVERT_EXIT_TOO_BIG;
		goto out;
	}
	if ((rc = check_pages(doc, n, o, why, whylen)) != MUGAI_CONVERT_EXIT_OK)
		goto out;
	if (is_dynamic_xfa(in, len, doc)) {
		snprintf(why, whylen, "XFA form (Adobe-only dynamic form)");
		rc = MUGAI_CONVERT_EXIT_XFA;
		goto out;
	}
	if (mugai_pixels_begin(out, (uint32_t)n) != MUGAI_OK ||
	    mugai_pagetext_begin(&words, (uint32_t)n) != MUGAI_OK) {
		snprintf(why, whylen, "out of memory");
		rc = MUGAI_CONVERT_EXIT_TOO_BIG;
		goto out;
	}
	for (i = 0; i < n && rc == MUGAI_CONVERT_EXIT_OK; i++) {
		if ((page = poppler_document_get_page(doc, i)) == NULL) {
			snprintf(why, whylen, "PDF page %d cannot be read", i + 1);
			rc = MUGAI_CONVERT_EXIT_BAD_INPUT;
			break;
		}
		rc = render_page(page, (unsigned)i + 1, o, &cv, &b, out, &words,
		    why, whylen);
		g_object_unref(page);
	}
	if (rc == MUGAI_CONVERT_EXIT_OK &&
	    mugai_buf_append(out, words.data, words.len) != MUGAI_OK) {
		snprintf(why, whylen, "out of memory for the words");
		rc = MUGAI_CONVERT_EXIT_TOO_BIG;
	}
out:
	if (cv != NULL)
		cairo_surface_destroy(cv);
	mugai_buf_free(&words);
	if (doc != NULL)
		g_object_unref(doc);
	g_bytes_unref(bytes);
	return rc;
}
