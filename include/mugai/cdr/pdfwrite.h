/*
 * mugai/cdr/pdfwrite.h - build the PDF copy from rendered pages, in the
 * trusted parent: one image per page, page size from the pixel size and
 * the DPI they were rendered at, and under each image the page's words
 * (mugai/cdr/pagetext.h) in a font of ours, hidden by the image, so that
 * the copy can be searched, copied from and read aloud.
 *
 * cairo's PDF surface writes the file: the only things in it are pages,
 * images, the text-layer font (a subset of the configured font, with a
 * ToUnicode map) and cairo's Producer and CreationDate.  No action,
 * script, form, link, attachment or metadata of the original can get
 * in: none is ever given to cairo, only pixels and checked strings.
 *
 * Each page image is stored the smaller way (copies no bigger than they
 * need to be): JPEG, or lossless (Flate) when the page is grey (its
 * grey levels reduced to 4, which antialiased text does not show) or
 * has at most 256 colours, as charts and slides do; photographs are
 * always JPEG.  With bilevel, grey pages are black and white, coded as
 * fax (CCITT Group 4) when that is smaller.  With mixed, a page may
 * also be split (mugai/cdr/pagesplit.h): its text as a fax-coded black
 * stencil, its pictures, if any, as a JPEG under it; a page of text
 * takes a third to half the bytes of 4-level grey this way.
 */
#ifndef MUGAI_PDFWRITE_H
#define MUGAI_PDFWRITE_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/cdr/pagetext.h"
#include "mugai/cdr/pixels.h"

struct mugai_pdf_opts {
	unsigned dpi;			/* the pages were rendered at */
	int	 quality;		/* JPEG, 1..100 */
	const char *font;		/* TrueType/OpenType file for the text
					   layer; NULL or "": none */
	int	 bilevel;		/* grey pages in black and white only */
	int	 mixed;			/* may split pages: text as fax,
					   pictures as JPEG */
};

/* What was written, for the log. */
struct mugai_pdf_stats {
	size_t	 jpeg;			/* pages stored as JPEG */
	size_t	 grey;			/* lossless grey */
	size_t	 colour;		/* lossless, at most 256 colours */
	size_t	 fax;			/* bilevel, CCITT Group 4 */
	size_t	 mixed;			/* split: text fax over JPEG or white */
	size_t	 words;			/* in the text layer */
	int	 no_font;		/* words given but the font would not
					   load: the copy has no text layer */
};

/*
 * mugai_pdf_from_pages - append to out a PDF with one page per pixmap,
 * page i being pages[i] at o->dpi (its size pixels * 72 / dpi points)
 * and, when text is not NULL, text[i]'s words under it, each stretched
 * over its box.  The words must have passed mugai_pagetext_parse for
 * these pages.  st (may be NULL) says what was written.
 * MUGAI_ERR_USAGE for no pages, more than 100,000, a bad dpi, quality or
 * pixmap; MUGAI_ERR_LIMIT when out's cap is reached; MUGAI_ERR_NOMEM;
 * MUGAI_ERR_INTERNAL when cairo fails.  A font that does not load is
 * not an error: the copy is made without its text layer and st says so.
 * On failure out is as it was on entry.
 */
mugai_status mugai_pdf_from_pages(const struct mugai_pixmap *pages, size_t n,
    const struct mugai_pagetext *text, const struct mugai_pdf_opts *o,
    struct mugai_buf *out, struct mugai_pdf_stats *st);

/*
 * mugai_pdf_from_coded_pages - the same for pages as
 * mugai_pixels_parse_coded left them: a coded page (MUGAI_PIX_RUNS,
 * coded[i] bytes of runs) is decoded when its turn comes, into one
 * buffer that serves every page, so that the pages' pixels are never
 * all in memory at once.  coded may be NULL when no page is coded.
 * MUGAI_ERR_PARSE when a page's runs do not decode to its size.
 */
mugai_status mugai_pdf_from_coded_pages(const struct mugai_pixmap *pages,
    const size_t *coded, size_t n, const struct mugai_pagetext *text,
    const struct mugai_pdf_opts *o, struct mugai_buf *out,
    struct mugai_pdf_stats *st);

#endif
