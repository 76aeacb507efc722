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

#endif
