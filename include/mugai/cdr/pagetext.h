/*
 * mugai/cdr/pagetext.h - the words of PDF pages, as mugai-convert hands them
 * to the parent beside the page pixels: nothing but strings and boxes,
 * so that the rebuilt PDF can carry an invisible text layer (search,
 * copy, screen readers) while no font, code or structure of the
 * original reaches it.
 *
 * Layout (integers little-endian, 32 bits), after the pixel stream:
 *   "MTXT" pages
 *   pages times: words, then words times:
 *     x0 y0 x1 y1 flags len, then len bytes of UTF-8 (no NUL, no
 *     controls)
 * Boxes are in hundredths of a point from the top left corner of the
 * page (the PDF's own page size, before rendering), x0 < x1, y0 < y1.
 * flags bit 0: the word runs from top to bottom (Japanese vertical
 * writing, or a page turned by a quarter); no other bit is defined.
 */
#ifndef MUGAI_PAGETEXT_H
#define MUGAI_PAGETEXT_H

#include <stddef.h>
#include <stdint.h>
#include "mugai/base/buf.h"

/* The longest word written or accepted, in bytes. */
#define MUGAI_WORD_MAX	1024

#define MUGAI_WORD_VERTICAL	0x1u	/* runs from top to bottom */

struct mugai_word {
	uint32_t x0, y0, x1, y1;	/* 1/100 pt, top-left origin */
	uint32_t flags;			/* MUGAI_WORD_VERTICAL */
	const char *text;		/* points into the stream, not NUL
					   terminated */
	uint32_t len;
};

struct mugai_pagetext {
	struct mugai_word *words;	/* malloc'd, nwords of them */
	size_t	 nwords;
};

/*
 * Writer side (the worker): begin with the page count, then for each
 * page in order its word count and its words.  The worker checks its
 * words itself (mugai_word_ok); the adders refuse what the parser would
 * (MUGAI_ERR_USAGE) and leave out as it was on any failure.
 */
mugai_status mugai_pagetext_begin(struct mugai_buf *out, uint32_t pages);
mugai_status mugai_pagetext_page(struct mugai_buf *out, uint32_t words);
mugai_status mugai_pagetext_word(struct mugai_buf *out, uint32_t x0,
    uint32_t y0, uint32_t x1, uint32_t y1, uint32_t flags, const char *text,
    size_t len);

/*
 * mugai_word_ok - whether text[0..len) is a word the parser accepts:
 * 1..MUGAI_WORD_MAX bytes of well-formed UTF-8 without control
 * characters.
 */
int mugai_word_ok(const char *text, size_t len);

/* Limits the parent puts on what a worker says (config keys). */
struct mugai_pagetext_limits {
	size_t	 max_words;		/* in all pages */
	size_t	 max_bytes;		/* of text, in all pages */
};

/*
 * mugai_pagetext_parse - validate a word stream from a worker for
 * npages pages, page i being page_w[i] x page_h[i] hundredths of a
 * point: exactly npages pages, every box inside its page and not empty,
 * no flag but MUGAI_WORD_VERTICAL, every word mugai_word_ok, the totals within lim, the sizes adding up
 * to exactly len.  On success *pages is a malloc'd array of npages
 * (free it with mugai_pagetext_free); the words point into buf, which
 * must outlive them.  MUGAI_ERR_PARSE for anything else.
 */
mugai_status mugai_pagetext_parse(const void *buf, size_t len, size_t npages,
    const uint32_t *page_w, const uint32_t *page_h,
    const struct mugai_pagetext_limits *lim, struct mugai_pagetext **pages);

void mugai_pagetext_free(struct mugai_pagetext *pages, size_t npages);

#endif
