/*
 * mugai/cdr/pdfwrite.h - build an image-only PDF from rendered pages, in the
 * trusted parent: one JPEG image per page (grey pages as grey JPEG),
 * page size from the pixel size and the DPI they were rendered at.
 * Nothing else: no fonts, no actions, no forms, no metadata but a
 * Producer entry.
 */
#ifndef MUGAI_PDFWRITE_H
#define MUGAI_PDFWRITE_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/cdr/pixels.h"

mugai_status mugai_pdf_from_pages(const struct mugai_pixmap *pages, size_t n,
    unsigned dpi, int quality, struct mugai_buf *out);

#endif
