/*
 * mugai/cdr/pixels.h - the pixel stream mugai-convert writes for images and
 * PDF pages: nothing but sizes and raw 8-bit samples, so that the
 * parent rebuilds a fresh file from primitive data and no structure of
 * the original survives.
 *
 * Layout (integers little-endian, 32 bits):
 *   "MPIX" count
 *   count times: width height channels flags, then width*height*channels
 *   bytes, row by row, no padding.  channels is 1 (grey) or 3 (RGB);
 *   flags bit 0 says the source was a photograph (JPEG), so the parent
 *   re-encodes it as JPEG rather than PNG.
 *   A PDF page may instead have flags bit 1 (MUGAI_PIX_RUNS, no other):
 *   then a 32-bit coded length follows the header, and that many bytes
 *   of PackBits (TIFF's run-length code) that decode, row after row, to
 *   exactly width*height*channels bytes.
 */
#ifndef MUGAI_PIXELS_H
#define MUGAI_PIXELS_H

#include <stddef.h>
#include <stdint.h>
#include "mugai/base/buf.h"

#define MUGAI_PIX_PHOTO	0x1u
#define MUGAI_PIX_RUNS	0x2u		/* PDF pages only: PackBits */

/* The scratch mugai_pixels_runs_row needs for a row of n bytes. */
#define MUGAI_PIXELS_RUNS_BOUND(n)	((n) + ((n) + 127) / 128)

struct mugai_pixmap {
	uint32_t width, height, channels, flags;
	const uint8_t *data;		/* points into the parsed stream */
};

/* Writer side (the worker). */
mugai_status mugai_pixels_begin(struct mugai_buf *out, uint32_t count);
mugai_status mugai_pixels_add(struct mugai_buf *out, uint32_t width,
    uint32_t height, uint32_t channels, uint32_t flags, const void *data);

/*
 * A run-length coded page: mugai_pixels_runs_begin writes the header
 * (*at marks the coded length), mugai_pixels_runs_row codes one row of
 * n bytes through scratch (MUGAI_PIXELS_RUNS_BOUND(n) bytes) after the
 * rows before it, mugai_pixels_runs_end puts the coded length in.  The
 * rows must add up to width*height*channels bytes.  On failure the
 * caller takes out back to its length before the header.
 */
mugai_status mugai_pixels_runs_begin(struct mugai_buf *out, uint32_t width,
    uint32_t height, uint32_t channels, size_t *at);
mugai_status mugai_pixels_runs_row(struct mugai_buf *out, const uint8_t *row,
    size_t n, uint8_t *scratch);
mugai_status mugai_pixels_runs_end(struct mugai_buf *out, size_t at);

/*
 * mugai_pixels_parse - validate a stream from a worker: magic, 1 to
 * max_images images, each 1..max_pixels pixels, channels 1 or 3, sizes
 * adding up to exactly len.  On success *maps is a malloc'd array of *n
 * pixmaps pointing into buf (free() it; buf must outlive it).
 * MUGAI_ERR_PARSE for anything else.
 */
mugai_status mugai_pixels_parse(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, struct mugai_pixmap **maps, size_t *n);

/*
 * mugai_pixels_parse_prefix - the same for a pixel stream followed by
 * other data (PDF pages are followed by their words, mugai/cdr/pagetext.h):
 * the stream's length in *used, the rest is the caller's to check.
 */
mugai_status mugai_pixels_parse_prefix(const void *buf, size_t len,
    size_t max_pixels, size_t max_images, struct mugai_pixmap **maps,
    size_t *n, size_t *used);

/*
 * mugai_pixels_parse_pages - mugai_pixels_parse_prefix for the pages of
 * a PDF, which may be run-length coded (MUGAI_PIX_RUNS): those are
 * decoded, at most max_bytes in all (a few bytes of runs make many
 * pixels), into *store, which the caller frees after *maps (NULL when
 * no page was coded); their pixmaps point there, the flag cleared.
 * MUGAI_ERR_PARSE for a stream that is not exactly right,
 * MUGAI_ERR_NOMEM.
 */
mugai_status mugai_pixels_parse_pages(const void *buf, size_t len,
    size_t max_pixels, size_t max_images, size_t max_bytes,
    struct mugai_pixmap **maps, size_t *n, size_t *used, uint8_t **store);

/*
 * mugai_pixels_parse_coded - mugai_pixels_parse_pages without decoding:
 * every coded page is proven to decode to exactly its size, and all of
 * them within max_bytes, but stays coded, its flag MUGAI_PIX_RUNS and
 * its coded length in (*coded)[i] (*coded is malloc'd, *n entries, for
 * the caller to free).  mugai_pixels_unpack decodes a page when it is
 * used, so that a document's pages need not be in memory all at once.
 */
mugai_status mugai_pixels_parse_coded(const void *buf, size_t len,
    size_t max_pixels, size_t max_images, size_t max_bytes,
    struct mugai_pixmap **maps, size_t **coded, size_t *n, size_t *used);

/*
 * mugai_pixels_unpack - *out is pm, its pixels decoded into dst
 * (width*height*channels bytes) when pm is coded (coded bytes of
 * PackBits at pm->data), else pm as it is.  MUGAI_ERR_PARSE for runs
 * that do not decode to exactly its size (never for a page
 * mugai_pixels_parse_coded accepted).
 */
mugai_status mugai_pixels_unpack(const struct mugai_pixmap *pm, size_t coded,
    uint8_t *dst, struct mugai_pixmap *out);

#endif
