/*
 * pdfwrite.c - a new image-only PDF from rendered pages (see
 * mugai/cdr/pdfwrite.h).
 *
 * Written by hand rather than with a PDF library so that the output
 * holds exactly this and nothing else:
 *
 *   1 catalog, 2 page tree, 3 info (/Producer only), then per page
 *   the page, its content stream and its JPEG image.
 *
 * There is no way for an action, a script, a form, an attachment or
 * a font to get in: every dictionary is a fixed format string, and the
 * only bytes that come from the document are the JPEG data, made here
 * from pixel values.  Numbers are formatted with integer arithmetic so
 * that the locale cannot put a decimal comma into the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mugai/cdr/imgenc.h"
#include "mugai/cdr/pdfwrite.h"

#define OBJ_CATALOG	1
#define OBJ_PAGES	2
#define OBJ_INFO	3
#define OBJ_FIRST_PAGE	4	/* page i: 4 + 3i, content +1, image +2 */
#define OBJS_PER_PAGE	3

/* The largest page count written: keeps object numbers far from int. */
#define PDF_MAX_PAGES	100000

struct pdfw {
	struct mugai_buf *out;
	size_t	 base;			/* out->len where the file starts */
	size_t	*offsets;		/* offsets[num], from the file start */
	size_t	 nobj;			/* objects 1..nobj */
};

/* A length in points, thousandths: pixels * 72 / dpi, rounded. */
static uint64_t
points_milli(uint32_t pixels, unsigned dpi)
{
	return ((uint64_t)pixels * 72000 + dpi / 2) / dpi;
}

/* obj_begin - note where object num starts and open it. */
static mugai_status
obj_begin(struct pdfw *w, size_t num)
{
	w->offsets[num] = w->out->len - w->base;
	return mugai_buf_printf(w->out, "%zu 0 obj\n", num);
}

static mugai_status
obj_end(struct pdfw *w)
{
	return mugai_buf_puts(w->out, "endobj\n");
}

static mugai_status
put_header(struct pdfw *w, size_t n)
{
	mugai_status rc;
	size_t i;

	/* The comment of high bytes tells transfer tools the file is binary. */
	rc = mugai_buf_puts(w->out, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	if (rc == MUGAI_OK)
		rc = obj_begin(w, OBJ_CATALOG);
	if (rc == MUGAI_OK)
		rc = mugai_buf_printf(w->out, "<< /Type /Catalog /Pages %d 0 R >>"
		    "\n", OBJ_PAGES);
	if (rc == MUGAI_OK)
		rc = obj_end(w);
	if (rc == MUGAI_OK)
		rc = obj_begin(w, OBJ_PAGES);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(w->out, "<< /Type /Pages /Kids [");
	for (i = 0; i < n && rc == MUGAI_OK; i++)
		rc = mugai_buf_printf(w->out, "%s%zu 0 R", i ? " " : "",
		    OBJ_FIRST_PAGE + OBJS_PER_PAGE * i);
	if (rc == MUGAI_OK)
		rc = mugai_buf_printf(w->out, "] /Count %zu >>\n", n);
	if (rc == MUGAI_OK)
		rc = obj_end(w);
	if (rc == MUGAI_OK)
		rc = obj_begin(w, OBJ_INFO);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(w->out, "<< /Producer (mugai) >>\n");
	if (rc == MUGAI_OK)
		rc = obj_end(w);
	return rc;
}

/*
 * put_page - page i: the page, a content stream drawing the image over
 * the whole MediaBox, and the image itself (jpeg, already encoded).
 */
static mugai_status
put_page(struct pdfw *w, size_t i, const struct mugai_pixmap *pm,
    unsigned dpi, const struct mugai_buf *jpeg)
{
	char content[128];
	uint64_t pw, ph;
	size_t num = OBJ_FIRST_PAGE + OBJS_PER_PAGE * i;
	mugai_status rc;
	int clen;

	pw = points_milli(pm->width, dpi);
	ph = points_milli(pm->height, dpi);
	clen = snprintf(content, sizeof(content),
	    "q %llu.%03llu 0 0 %llu.%03llu 0 0 cm /Im0 Do Q",
	    (unsigned long long)(pw / 1000), (unsigned long long)(pw % 1000),
	    (unsigned long long)(ph / 1000), (unsigned long long)(ph % 1000));
	if (clen < 0 || (size_t)clen >= sizeof(content))
		return MUGAI_ERR_INTERNAL;

	rc = obj_begin(w, num);
	if (rc == MUGAI_OK)
		rc = mugai_buf_printf(w->out, "<< /Type /Page /Parent %d 0 R "
		    "/MediaBox [0 0 %llu.%03llu %llu.%03llu] "
		    "/Resources << /XObject << /Im0 %zu 0 R >> >> "
		    "/Contents %zu 0 R >>\n", OBJ_PAGES,
		    (unsigned long long)(pw / 1000),
		    (unsigned long long)(pw % 1000),
		    (unsigned long long)(ph / 1000),
		    (unsigned long long)(ph % 1000), num + 2, num + 1);
	if (rc == MUGAI_OK)
		rc = obj_end(w);
	if (rc == MUGAI_OK)
		rc = obj_begin(w, num + 1);
	if (rc == MUGAI_OK)
		rc = mugai_buf_printf(w->out, "<< /Length %d >>\nstream\n%s\n"
		    "endstream\n", clen, content);
	if (rc == MUGAI_OK)
		rc = obj_end(w);
	if (rc == MUGAI_OK)
		rc = obj_begin(w, num + 2);
	if (rc == MUGAI_OK)
		rc = mugai_buf_printf(w->out, "<< /Type /XObject /Subtype /Image "
		    "/Width %u /Height %u /ColorSpace /%s /BitsPerComponent 8 "
		    "/Filter /DCTDecode /Length %zu >>\nstream\n",
		    (unsigned)pm->width, (unsigned)pm->height,
		    pm->channels == 1 ? "DeviceGray" : "DeviceRGB", jpeg->len);
	if (rc == MUGAI_OK)
		rc = mugai_buf_append(w->out, jpeg->data, jpeg->len);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(w->out, "\nendstream\n");
	if (rc == MUGAI_OK)
		rc = obj_end(w);
	return rc;
}

/*
 * put_xref - the cross-reference table (20-byte entries, 10-digit
 * offsets), the trailer and the end of the file.
 */
static mugai_status
put_xref(struct pdfw *w)
{
	size_t xref = w->out->len - w->base, num;
	mugai_status rc;

	rc = mugai_buf_printf(w->out, "xref\n0 %zu\n0000000000 65535 f \n",
	    w->nobj + 1);
	for (num = 1; num <= w->nobj && rc == MUGAI_OK; num++)
		rc = mugai_buf_printf(w->out, "%010zu 00000 n \n",
		    w->offsets[num]);
	if (rc == MUGAI_OK)
		rc = mugai_buf_printf(w->out, "trailer\n<< /Size %zu /Root %d 0 R "
		    "/Info %d 0 R >>\nstartxref\n%zu\n%%%%EOF\n", w->nobj + 1,
		    OBJ_CATALOG, OBJ_INFO, xref);
	return rc;
}

static int
pages_valid(const struct mugai_pixmap *pages, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pages[i].width == 0 || pages[i].height == 0 ||
		    (pages[i].channels != 1 && pages[i].channels != 3) ||
		    pages[i].data == NULL)
			return 0;
	return 1;
}

/*
 * mugai_pdf_from_pages - append to out a PDF 1.4 with one page per
 * pixmap, each page pages[i] rendered at dpi (its MediaBox is the
 * pixel size * 72 / dpi points) and stored as a JPEG of the given
 * quality (1..100), grey or RGB as the pixmap is.  MUGAI_ERR_USAGE for
 * no pages, more than 100,000, a bad dpi, quality or pixmap;
 * MUGAI_ERR_LIMIT when out's cap is reached; MUGAI_ERR_NOMEM; or what
 * the JPEG encoder returned.  On failure out is as it was on entry.
 */
mugai_status
mugai_pdf_from_pages(const struct mugai_pixmap *pages, size_t n, unsigned dpi,
    int quality, struct mugai_buf *out)
{
	struct pdfw w;
	struct mugai_buf jpeg;
	mugai_status rc;
	size_t i;

	if (pages == NULL || n == 0 || n > PDF_MAX_PAGES || dpi == 0 ||
	    dpi > 10000 || quality < 1 || quality > 100 ||
	    !pages_valid(pages, n))
		return MUGAI_ERR_USAGE;
	w.out = out;
	w.base = out->len;
	w.nobj = OBJ_FIRST_PAGE - 1 + OBJS_PER_PAGE * n;
	if ((w.offsets = calloc(w.nobj + 1, sizeof(*w.offsets))) == NULL)
		return MUGAI_ERR_NOMEM;
	/* A page that could not fit in out is not encoded in full either. */
	mugai_buf_init(&jpeg, out->max);
	rc = put_header(&w, n);
	for (i = 0; i < n && rc == MUGAI_OK; i++) {
		mugai_buf_reset(&jpeg);
		rc = mugai_jpeg_encode(&pages[i], quality, &jpeg);
		if (rc == MUGAI_OK)
			rc = put_page(&w, i, &pages[i], dpi, &jpeg);
	}
	if (rc == MUGAI_OK)
		rc = put_xref(&w);
	if (rc != MUGAI_OK && out->data != NULL) {
		/* Take back the partial file: out->data stays NUL terminated. */
		out->len = w.base;
		out->data[w.base] = '\0';
	}
	mugai_buf_free(&jpeg);
	free(w.offsets);
	return rc;
}
