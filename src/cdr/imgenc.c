/*
 * imgenc.c - a fresh PNG or JPEG from validated pixels (mugai/cdr/imgenc.h).
 *
 * Runs in the trusted parent.  Both encoders write straight into a
 * mugai_buf, so its cap holds, and both libraries report errors through
 * handlers that longjmp back here: nothing prints, nothing exits.  Only
 * the image is written: no text, time, EXIF or ICC chunks or markers.
 * On failure out is left as it was.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "mugai/cdr/imgenc.h"

#define JPEG_CHUNK	16384

/* Check a pixmap before either library sees it. */
static mugai_status
imgenc_check(const struct mugai_pixmap *pm)
{
	if (pm == NULL || pm->data == NULL || pm->width == 0 ||
	    pm->height == 0 || (pm->channels != 1 && pm->channels != 3))
		return MUGAI_ERR_USAGE;
	if ((size_t)pm->width > SIZE_MAX / pm->channels)
		return MUGAI_ERR_USAGE;
	return MUGAI_OK;
}

/* Undo a failed encode: out goes back to its length before it. */
static void
imgenc_rollback(struct mugai_buf *out, size_t was)
{
	if (out->data == NULL)
		return;
	out->len = was;
	out->data[was] = '\0';
}

/* PNG */

struct png_ctx {
	struct mugai_buf *out;
	mugai_status	 rc;	/* why png_error was called, when it was us */
};

static void
png_ctx_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void
png_ctx_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void
png_ctx_write(png_structp png, png_bytep data, size_t len)
{
	struct png_ctx *ctx = png_get_io_ptr(png);

	if ((ctx->rc = mugai_buf_append(ctx->out, data, len)) != MUGAI_OK)
		png_error(png, "output");
}

static void
png_ctx_flush(png_structp png)
{
	(void)png;
}

/*
 * How deflate is set for the IDAT, from the pixels (bench/copycost.sh
 * measures a copy; the numbers below are from screenshots, a document
 * page and photos, 24 KB to 14 MB of pixels).
 *
 * A photo, or anything noisy, has few pixels equal to their left
 * neighbour (0-14% measured; screenshots and pages 93-99%): deflate's
 * search for long matches finds next to nothing there.  Z_RLE (runs
 * only) after the Paeth filter on every row writes photos 4-5 times
 * faster than the default search after libpng's choice of filter per
 * row, for 0.5-2.3% more bytes (2.8% on bench/postfix-client.py's
 * synthetic noise).  On a screenshot Z_RLE would cost 7-31% more bytes,
 * so those keep the defaults.
 *
 * The hash table deflate clears at its start is 2^(memLevel+7) entries;
 * zlib's default (8: 256 KB with its buffers, fresh pages each time)
 * costs more than compressing a small image does.  A table of at least
 * half as many entries as there are bytes costs at most 0.2% in size.
 */
#define PNG_PHOTO_EQUAL		50	/* % of pixels equal to the left one */
#define PNG_SAMPLE_ROWS		64	/* rows looked at for that */

static int
png_photo_like(const struct mugai_pixmap *pm)
{
	size_t stride = (size_t)pm->width * pm->channels, x, eq = 0, n = 0;
	uint32_t step = pm->height / PNG_SAMPLE_ROWS + 1, y;
	const uint8_t *row;

	for (y = 0; y < pm->height; y += step) {
		row = pm->data + (size_t)y * stride;
		for (x = pm->channels; x < stride; x += pm->channels) {
			eq += row[x] == row[x - pm->channels] &&
			    row[x + pm->channels - 1] == row[x - 1] &&
			    row[x + pm->channels / 2] ==
			    row[x + pm->channels / 2 - pm->channels];
			n++;
		}
	}
	return n > 0 && eq * 100 < n * PNG_PHOTO_EQUAL;
}

static void
png_deflate_set(png_structp png, const struct mugai_pixmap *pm)
{
	size_t bytes = ((size_t)pm->width * pm->channels + 1) * pm->height;
	int mem = 5;

	while (mem < 8 && ((size_t)1 << (mem + 7)) < bytes / 2)
		mem++;
	png_set_compression_mem_level(png, mem);
	if (png_photo_like(pm)) {
		png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
		png_set_compression_strategy(png, Z_RLE);
	}
}

/* Write the image; libpng errors longjmp back here (state is in ctx). */
static mugai_status
png_encode_run(png_structp png, png_infop info,
    const struct mugai_pixmap *pm, struct png_ctx *ctx)
{
	size_t stride = (size_t)pm->width * pm->channels;
	uint32_t y;

	if (setjmp(png_jmpbuf(png)))
		return ctx->rc != MUGAI_OK ? ctx->rc : MUGAI_ERR_INTERNAL;
	/* libpng's default limit is 1,000,000 a side; ours was checked. */
	png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	png_set_write_fn(png, ctx, png_ctx_write, png_ctx_flush);
	png_deflate_set(png, pm);
	png_set_IHDR(png, info, pm->width, pm->height, 8,
	    pm->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < pm->height; y++)
		png_write_row(png, pm->data + (size_t)y * stride);
	/* No info here: nothing (text, time) goes after the image. */
	png_write_end(png, NULL);
	return MUGAI_OK;
}

/*
 * mugai_png_encode - append pm to out as an 8-bit grey or RGB PNG with
 * only IHDR, IDAT and IEND.  MUGAI_ERR_USAGE for a bad pixmap or one
 * wider or taller than PNG allows, MUGAI_ERR_LIMIT when out's cap is
 * reached, MUGAI_ERR_NOMEM, or MUGAI_ERR_INTERNAL for a libpng error.
 */
mugai_status
mugai_png_encode(const struct mugai_pixmap *pm, struct mugai_buf *out)
{
	struct png_ctx ctx;
	png_structp png;
	png_infop info;
	size_t was = out->len;
	mugai_status rc;

	if ((rc = imgenc_check(pm)) != MUGAI_OK)
		return rc;
	if (pm->width > PNG_UINT_31_MAX || pm->height > PNG_UINT_31_MAX)
		return MUGAI_ERR_USAGE;
	ctx.out = out;
	ctx.rc = MUGAI_OK;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    png_ctx_error, png_ctx_warning);
	if (png == NULL)
		return MUGAI_ERR_NOMEM;
	if ((info = png_create_info_struct(png)) == NULL)
		rc = MUGAI_ERR_NOMEM;
	else
		rc = png_encode_run(png, info, pm, &ctx);
	png_destroy_write_struct(&png, &info);
	if (rc != MUGAI_OK)
		imgenc_rollback(out, was);
	return rc;
}

/* JPEG */

struct jpeg_ctx {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr	 err;
	struct jpeg_destination_mgr dest;
	jmp_buf			 jmp;
	struct mugai_buf	*out;
	mugai_status		 rc;
	JOCTET			 chunk[JPEG_CHUNK];
};

static void
jpeg_ctx_error_exit(j_common_ptr cinfo)
{
	struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->client_data;

	longjmp(ctx->jmp, 1);
}

static void
jpeg_ctx_output_message(j_common_ptr cinfo)
{
	(void)cinfo;
}

static void
jpeg_ctx_init_destination(j_compress_ptr cinfo)
{
	struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->client_data;

	ctx->dest.next_output_byte = ctx->chunk;
	ctx->dest.free_in_buffer = sizeof(ctx->chunk);
}

/*
 * A destination of our own rather than jpeg_mem_dest: that one grows
 * its own malloc'd buffer with no cap and leaks it when an error
 * longjmps out; this one appends to out, whose cap holds.
 */
static boolean
jpeg_ctx_empty_output_buffer(j_compress_ptr cinfo)
{
	struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->client_data;

	ctx->rc = mugai_buf_append(ctx->out, ctx->chunk, sizeof(ctx->chunk));
	if (ctx->rc != MUGAI_OK)
		longjmp(ctx->jmp, 1);
	jpeg_ctx_init_destination(cinfo);
	return TRUE;
}

static void
jpeg_ctx_term_destination(j_compress_ptr cinfo)
{
	struct jpeg_ctx *ctx = (struct jpeg_ctx *)cinfo->client_data;
	size_t n = sizeof(ctx->chunk) - ctx->dest.free_in_buffer;

	ctx->rc = mugai_buf_append(ctx->out, ctx->chunk, n);
	if (ctx->rc != MUGAI_OK)
		longjmp(ctx->jmp, 1);
}

/* Compress pm with cinfo set up; errors longjmp to ctx->jmp. */
static void
jpeg_encode_rows(struct jpeg_compress_struct *cinfo,
    const struct mugai_pixmap *pm, int quality)
{
	size_t stride = (size_t)pm->width * pm->channels;
	JSAMPARRAY row;

	cinfo->image_width = pm->width;
	cinfo->image_height = pm->height;
	cinfo->input_components = (int)pm->channels;
	cinfo->in_color_space = pm->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(cinfo);
	jpeg_set_quality(cinfo, quality, TRUE);
	jpeg_start_compress(cinfo, TRUE);
	/*
	 * libjpeg wants writable rows; copying one row at a time into its
	 * own pool (freed with cinfo) keeps pm's data const.
	 */
	row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE,
	    (JDIMENSION)stride, 1);
	while (cinfo->next_scanline < cinfo->image_height) {
		memcpy(row[0], pm->data + (size_t)cinfo->next_scanline * stride,
		    stride);
		jpeg_write_scanlines(cinfo, row, 1);
	}
	jpeg_finish_compress(cinfo);
}

/*
 * mugai_jpeg_encode - append pm to out as a baseline JPEG of the given
 * quality (1..100) with a JFIF header and no other marker.
 * MUGAI_ERR_USAGE for a bad pixmap or quality, MUGAI_ERR_LIMIT for a
 * side over JPEG's 65500 or out's cap, MUGAI_ERR_NOMEM, or
 * MUGAI_ERR_INTERNAL for a libjpeg error.
 */
mugai_status
mugai_jpeg_encode(const struct mugai_pixmap *pm, int quality,
    struct mugai_buf *out)
{
	struct jpeg_ctx *ctx;
	size_t was = out->len;
	mugai_status rc;

	if ((rc = imgenc_check(pm)) != MUGAI_OK)
		return rc;
	if (quality < 1 || quality > 100)
		return MUGAI_ERR_USAGE;
	if (pm->width > JPEG_MAX_DIMENSION || pm->height > JPEG_MAX_DIMENSION)
		return MUGAI_ERR_LIMIT;
	/*
	 * Everything libjpeg changes lives on the heap, not in locals, so
	 * nothing is indeterminate after the longjmp.
	 */
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return MUGAI_ERR_NOMEM;
	ctx->out = out;
	ctx->rc = MUGAI_OK;
	ctx->cinfo.err = jpeg_std_error(&ctx->err);
	ctx->err.error_exit = jpeg_ctx_error_exit;
	ctx->err.output_message = jpeg_ctx_output_message;
	/* jpeg_create_compress keeps err and client_data. */
	ctx->cinfo.client_data = ctx;
	if (setjmp(ctx->jmp)) {
		jpeg_destroy_compress(&ctx->cinfo);
		imgenc_rollback(out, was);
		rc = ctx->rc != MUGAI_OK ? ctx->rc : MUGAI_ERR_INTERNAL;
		free(ctx);
		return rc;
	}
	jpeg_create_compress(&ctx->cinfo);
	ctx->dest.init_destination = jpeg_ctx_init_destination;
	ctx->dest.empty_output_buffer = jpeg_ctx_empty_output_buffer;
	ctx->dest.term_destination = jpeg_ctx_term_destination;
	ctx->cinfo.dest = &ctx->dest;
	jpeg_encode_rows(&ctx->cinfo, pm, quality);
	jpeg_destroy_compress(&ctx->cinfo);
	free(ctx);
	return MUGAI_OK;
}
