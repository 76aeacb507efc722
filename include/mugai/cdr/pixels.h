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
 */
#ifndef MUGAI_PIXELS_H
#define MUGAI_PIXELS_H

#include <stddef.h>
#include <stdint.h>
#include "mugai/base/buf.h"

#define MUGAI_PIX_PHOTO	0x1u

struct mugai_pixmap {
	uint32_t width, height, channels, flags;
	const uint8_t *data;		/* points into the parsed stream */
};

/* Writer side (the worker). */
mugai_status mugai_pixels_begin(struct mugai_buf *out, uint32_t count);
mugai_status mugai_pixels_add(struct mugai_buf *out, uint32_t width,
    uint32_t height, uint32_t channels, uint32_t flags, const void *data);

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

#endif
