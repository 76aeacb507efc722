/*
 * mugai/cdr/ocr.h - words for rendered pages that have none (scans),
 * read by Tesseract when pdf_ocr is on, so that the copy of a scanned
 * PDF can be searched like the copy of any other.
 *
 * The parent writes each page as a PGM from the validated pixels and
 * runs Tesseract on it in LibreOffice's sandbox (mugai_office_ocr): it
 * never sees the hostile document, only pixels of ours, and still runs
 * confined because those pixels are the sender's.  What it says (TSV)
 * is checked here like a worker's words: every line well formed, every
 * box inside its page, every word mugai_word_ok, at most max_words.
 */
#ifndef MUGAI_OCR_H
#define MUGAI_OCR_H

#include <stddef.h>
#include <stdint.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/cdr/pagetext.h"
#include "mugai/cdr/pixels.h"

/*
 * mugai_ocr_parse - Tesseract's TSV tsv[0..len) for a page of width x
 * height pixels rendered at dpi as words in *t (boxes in 1/100 pt, as
 * the text layer takes them), pointing into tsv: t->words is malloc'd
 * (free it with free() or mugai_pagetext_free), NULL when no word.
 * Words beyond max_words (counting *total, which is updated) are left
 * out.  MUGAI_ERR_PARSE for a malformed line or a box outside the page,
 * MUGAI_ERR_NOMEM.
 */
mugai_status mugai_ocr_parse(const char *tsv, size_t len, uint32_t width,
    uint32_t height, unsigned dpi, size_t max_words, size_t *total,
    struct mugai_pagetext *t);

/*
 * mugai_ocr_pgm - pm (grey or RGB) appended to out as a binary grey
 * PGM, scale (1 or 2) times its size, new pixels interpolated.
 */
mugai_status mugai_ocr_pgm(const struct mugai_pixmap *pm, unsigned scale,
    struct mugai_buf *out);

struct mugai_ocr_stats {
	size_t	 pages;			/* read by Tesseract */
	size_t	 words;			/* found on them */
	size_t	 failed;		/* Tesseract failed: left without */
	int	 unavailable;		/* Tesseract or bubblewrap missing */
	char	 why[160];		/* the first failure */
};

/*
 * mugai_ocr_pages - each of the n pages (rendered at dpi) whose text[i]
 * has no word gets Tesseract's, held in tsv[i] (n buffers the caller
 * initialised and frees after the words' last use), in at most
 * timeout_s seconds for all of them.  A page Tesseract fails on, or
 * that the time does not reach, keeps no words (the copy is still
 * made: the words are a help, not the content) and st says so.  Errors: MUGAI_ERR_NOMEM, MUGAI_ERR_INTERNAL when the
 * sandbox cannot be built.
 */
mugai_status mugai_ocr_pages(const struct mugai_config *cfg,
    const struct mugai_pixmap *pages, size_t n, unsigned dpi,
    unsigned timeout_s, struct mugai_pagetext *text, struct mugai_buf *tsv,
    struct mugai_ocr_stats *st);

#endif
