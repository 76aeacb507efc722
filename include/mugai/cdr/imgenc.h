/*
 * mugai/cdr/imgenc.h - encode a pixmap as a fresh PNG or JPEG (libpng,
 * libjpeg), in the trusted parent.  The pixels were validated by
 * mugai_pixels_parse; the output holds no metadata and no bytes but the
 * image.
 */
#ifndef MUGAI_IMGENC_H
#define MUGAI_IMGENC_H

#include "mugai/base/buf.h"
#include "mugai/cdr/pixels.h"

mugai_status mugai_png_encode(const struct mugai_pixmap *pm,
    struct mugai_buf *out);

/* quality 1..100 */
mugai_status mugai_jpeg_encode(const struct mugai_pixmap *pm, int quality,
    struct mugai_buf *out);

/*
 * mugai_g4_encode - append a grey pixmap in black and white (black:
 * samples below threshold) as CCITT Group 4 data alone, no TIFF around
 * it, as a PDF's /CCITTFaxDecode filter reads it with K -1 and
 * BlackIs1 false (src/cdr/g4enc.c).  MUGAI_ERR_USAGE for a colour pixmap or
 * a side over 65535, MUGAI_ERR_LIMIT for out's cap, MUGAI_ERR_NOMEM, or
 * MUGAI_ERR_INTERNAL when libtiff fails.  On failure out is as it was.
 */
mugai_status mugai_g4_encode(const struct mugai_pixmap *pm, unsigned threshold,
    struct mugai_buf *out);

#endif
