/*
 * image.c - images in the worker: JPEG, PNG, GIF, BMP, TIFF and WebP in,
 * one pixmap (mugai/cdr/pixels.h) out.
 *
 * The format is told by its magic bytes, never by a name or MIME type.
 * Each decoder reads the claimed size first and refuses anything over
 * max_pixels or its per-side cap before a pixel buffer exists, so a
 * small file claiming a huge image (a decompression bomb) costs nothing.
 * Only 8-bit grey or RGB samples leave: no metadata, no colour profile,
 * no trailing bytes, no second frame.  Alpha is composited onto white.
 *
 * Every library decodes from memory through callbacks of ours and
 * reports errors by longjmp or return codes: none of them opens a file,
 * prints, or exits.  Functions that call setjmp keep all state that
 * changes afterwards in a struct owned by their caller, so nothing is
 * indeterminate after a longjmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <tiffio.h>
#include <webp/decode.h>

#include "mugai/cdr/pixels.h"
#include "convert.h"

/*
 * Per-side caps.  JPEG cannot go past 65500 (libjpeg's
 * JPEG_MAX_DIMENSION), nor WebP past 16383; for the others 65535 is far
 * beyond any real picture and keeps every row and offset computation
 * small.  max_pixels bounds the area.
 */
#define SIDE_MAX_JPEG	65500
#define SIDE_MAX_PNG	65535
#define SIDE_MAX_GIF	65535	/* 16-bit fields */
#define SIDE_MAX_BMP	65535
#define SIDE_MAX_TIFF	65535
#define SIDE_MAX_WEBP	16383

#define JPEG_SCANS_MAX	500	/* progressive scans: more is a CPU bomb */
#define PNG_CHUNKS_MAX	128	/* ancillary chunks kept in memory */
#define PNG_CHUNK_MAX	(8u << 20)
#define TIFF_ALLOC_MIN	((size_t)16 << 20)

struct image {
	const unsigned char *in;
	size_t		 len;
	const struct convert_opts *o;
	char		*why;
	size_t		 whylen;
	const char	*fmt;		/* for messages */
	uint32_t	 w, h, channels, flags;
	uint8_t		*px;		/* w*h*channels, row by row */
};

/* Bytes from memory for the libraries that read through a callback. */
struct mem_src {
	const unsigned char *p;
	size_t		 len, off;
};

static int image_refuse(struct image *, int, const char *, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * image_refuse - one line in why (a library message may quote the
 * file: convert_vwhy makes it safe to log); returns code.
 */
static int
image_refuse(struct image *im, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	convert_vwhy(im->why, im->whylen, fmt, ap);
	va_end(ap);
	return code;
}

/* Refuse a claimed size that is empty, over max_pixels or over side_max. */
static int
image_check_size(struct image *im, uint64_t w, uint64_t h, uint32_t side_max)
{
	unsigned long long pixels = (unsigned long long)(w * h);

	if (w == 0 || h == 0)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "%s image claims %llu x %llu pixels", im->fmt,
		    (unsigned long long)w, (unsigned long long)h);
	/* Both are at most 2^32 - 1 here, so w * h did not wrap. */
	if (pixels > im->o->max_pixels)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "image claims %llu x %llu pixels, over max_pixels %zu",
		    (unsigned long long)w, (unsigned long long)h,
		    im->o->max_pixels);
	if (w > side_max || h > side_max)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "%s image claims %llu x %llu pixels, over %u a side",
		    im->fmt, (unsigned long long)w, (unsigned long long)h,
		    side_max);
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * image_alloc - the pixel buffer for a w x h image of `channels` bytes a
 * pixel (up to 4 while decoding); the size was checked, so this only
 * fails for want of memory, which the address-space limit makes a
 * matter of size.
 */
static int
image_alloc(struct image *im, uint32_t w, uint32_t h, uint32_t channels)
{
	if ((size_t)w * h > SIZE_MAX / channels ||
	    (im->px = malloc((size_t)w * h * channels)) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory for a %u x %u %s image", w, h, im->fmt);
	im->w = w;
	im->h = h;
	return MUGAI_CONVERT_EXIT_OK;
}

/* v with opacity a (0..255) over a white background. */
static uint8_t
over_white(unsigned v, unsigned a)
{
	return (uint8_t)((v * a + 255 * (255 - a) + 127) / 255);
}

/*
 * image_flatten - pixels of cin channels (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA) to cout (1 or 3), in place: each output pixel is written no
 * further on than its input, so the walk forward never overwrites
 * input it still needs.
 */
static void
image_flatten(struct image *im, unsigned cin, unsigned cout)
{
	size_t i, n = (size_t)im->w * im->h;
	const uint8_t *s = im->px;
	uint8_t *d = im->px;
	unsigned a, c;

	im->channels = cout;
	if (cin == cout)
		return;
	for (i = 0; i < n; i++, s += cin) {
		a = cin == 2 || cin == 4 ? s[cin - 1] : 255;
		for (c = 0; c < cout; c++)
			*d++ = over_white(s[cin < 3 ? 0 : c], a);
	}
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

/* JPEG (libjpeg) */

struct jpeg_dec {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr	 err;
	struct jpeg_progress_mgr progress;
	jmp_buf			 jmp;
	char			 msg[JMSG_LENGTH_MAX];
};

static void
jpeg_dec_error_exit(j_common_ptr cinfo)
{
	struct jpeg_dec *d = cinfo->client_data;

	(*cinfo->err->format_message)(cinfo, d->msg);
	longjmp(d->jmp, 1);
}

/*
 * Warnings are silent, but running out of data is fatal: libjpeg would
 * pad a truncated file with grey and call it a picture.
 */
static void
jpeg_dec_emit_message(j_common_ptr cinfo, int level)
{
	if (level >= 0)
		return;
	cinfo->err->num_warnings++;
	if (cinfo->err->msg_code == JWRN_JPEG_EOF)
		jpeg_dec_error_exit(cinfo);
}

static void
jpeg_dec_progress(j_common_ptr cinfo)
{
	struct jpeg_dec *d = cinfo->client_data;

	if (d->cinfo.input_scan_number <= JPEG_SCANS_MAX)
		return;
	snprintf(d->msg, sizeof(d->msg), "more than %d scans", JPEG_SCANS_MAX);
	longjmp(d->jmp, 1);
}

/*
 * CMYK to RGB, the naive way (no colour management).  Adobe's encoder
 * stores the channels inverted, and says so with its APP14 marker.
 */
static void
jpeg_cmyk_row(const JSAMPLE *s, uint8_t *d, uint32_t w, int inverted)
{
	unsigned c, m, y, k;
	uint32_t x;

	for (x = 0; x < w; x++, s += 4) {
		c = s[0], m = s[1], y = s[2], k = s[3];
		if (!inverted)
			c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
		*d++ = (uint8_t)((c * k + 127) / 255);
		*d++ = (uint8_t)((m * k + 127) / 255);
		*d++ = (uint8_t)((y * k + 127) / 255);
	}
}

static int
jpeg_run(struct image *im, struct jpeg_dec *d)
{
	struct jpeg_decompress_struct *ci = &d->cinfo;
	JSAMPARRAY cmyk = NULL;
	JSAMPROW row;
	size_t stride;
	int rc;

	if (setjmp(d->jmp))
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "JPEG: %s", d->msg);
	jpeg_create_decompress(ci);
	ci->progress = &d->progress;
	jpeg_mem_src(ci, im->in, (unsigned long)im->len);
	/* APPn and COM markers are skipped, not saved: EXIF never loads. */
	jpeg_read_header(ci, TRUE);
	rc = image_check_size(im, ci->image_width, ci->image_height,
	    SIDE_MAX_JPEG);
	if (rc != MUGAI_CONVERT_EXIT_OK)
		return rc;
	switch (ci->jpeg_color_space) {
	case JCS_GRAYSCALE:
		ci->out_color_space = JCS_GRAYSCALE;
		im->channels = 1;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		ci->out_color_space = JCS_CMYK;
		im->channels = 3;
		break;
	case JCS_YCbCr:
	case JCS_RGB:
		ci->out_color_space = JCS_RGB;
		im->channels = 3;
		break;
	default:
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "JPEG with %d components is not supported",
		    ci->num_components);
	}
	jpeg_start_decompress(ci);
	if (ci->output_width != ci->image_width ||
	    ci->output_height != ci->image_height)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "JPEG output size differs from its header");
	if ((rc = image_alloc(im, ci->output_width, ci->output_height,
	    im->channels)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	stride = (size_t)im->w * im->channels;
	if (ci->out_color_space == JCS_CMYK)
		cmyk = (*ci->mem->alloc_sarray)((j_common_ptr)ci, JPOOL_IMAGE,
		    ci->output_width * 4, 1);
	while (ci->output_scanline < ci->output_height) {
		row = im->px + (size_t)ci->output_scanline * stride;
		if (cmyk == NULL) {
			jpeg_read_scanlines(ci, &row, 1);
			continue;
		}
		jpeg_read_scanlines(ci, cmyk, 1);
		jpeg_cmyk_row(cmyk[0], row, im->w, ci->saw_Adobe_marker);
	}
	/* No jpeg_finish_decompress: what follows the image is not read. */
	return MUGAI_CONVERT_EXIT_OK;
}

static int
decode_jpeg(struct image *im)
{
	struct jpeg_dec *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory");
	d->cinfo.err = jpeg_std_error(&d->err);
	d->err.error_exit = jpeg_dec_error_exit;
	d->err.emit_message = jpeg_dec_emit_message;
	d->progress.progress_monitor = jpeg_dec_progress;
	/* jpeg_create_decompress keeps err and client_data. */
	d->cinfo.client_data = d;
	im->flags = MUGAI_PIX_PHOTO;
	rc = jpeg_run(im, d);
	jpeg_destroy_decompress(&d->cinfo);
	free(d);
	return rc;
}

/* PNG (libpng) */

struct png_dec {
	png_structp	 png;
	png_infop	 info;
	struct mem_src	 src;
	png_bytep	*rows;
	char		 msg[128];
};

/*
 * Ancillary chunks libpng would otherwise parse (and, for zTXt, iTXt
 * and iCCP, inflate) although nothing of them is kept.  tRNS stays: it
 * is transparency.
 */
static const png_byte png_ignored[] =
    "bKGD" "\0" "cHRM" "\0" "eXIf" "\0" "gAMA" "\0" "hIST" "\0"
    "iCCP" "\0" "iTXt" "\0" "oFFs" "\0" "pCAL" "\0" "pHYs" "\0"
    "sBIT" "\0" "sCAL" "\0" "sPLT" "\0" "sRGB" "\0" "tEXt" "\0"
    "tIME" "\0" "zTXt";

static void
png_dec_error(png_structp png, png_const_charp msg)
{
	struct png_dec *d = png_get_error_ptr(png);

	snprintf(d->msg, sizeof(d->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void
png_dec_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void
png_dec_read(png_structp png, png_bytep data, size_t n)
{
	struct mem_src *s = png_get_io_ptr(png);

	if (n > s->len - s->off)
		png_error(png, "file is truncated");
	memcpy(data, s->p + s->off, n);
	s->off += n;
}

/* The size from IHDR, before libpng is even set up. */
static int
png_header(struct image *im)
{
	if (im->len < 24 || memcmp(im->in + 12, "IHDR", 4) != 0)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "PNG does not start with IHDR");
	return image_check_size(im, be32(im->in + 16), be32(im->in + 20),
	    SIDE_MAX_PNG);
}

/* Expand everything to 8-bit grey, grey+alpha, RGB or RGBA. */
static void
png_transforms(struct png_dec *d, int depth, int type)
{
	if (type == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(d->png);
	if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(d->png);
	if (png_get_valid(d->png, d->info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(d->png);
	if (depth == 16)
		png_set_scale_16(d->png);
	png_set_interlace_handling(d->png);
	png_read_update_info(d->png, d->info);
}

static int
png_run(struct image *im, struct png_dec *d)
{
	png_uint_32 w, h, y;
	int depth, type, rc;
	unsigned cin;

	if (setjmp(png_jmpbuf(d->png)))
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "PNG: %s", d->msg);
	png_set_user_limits(d->png, SIDE_MAX_PNG, SIDE_MAX_PNG);
	png_set_chunk_cache_max(d->png, PNG_CHUNKS_MAX);
	png_set_chunk_malloc_max(d->png, PNG_CHUNK_MAX);
	png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER,
	    png_ignored, (int)(sizeof(png_ignored) / 5));
	png_set_read_fn(d->png, &d->src, png_dec_read);
	png_read_info(d->png, d->info);
	png_get_IHDR(d->png, d->info, &w, &h, &depth, &type, NULL, NULL,
	    NULL);
	if ((rc = image_check_size(im, w, h, SIDE_MAX_PNG)) != 0)
		return rc;
	png_transforms(d, depth, type);
	cin = png_get_channels(d->png, d->info);
	if (cin < 1 || cin > 4 || png_get_bit_depth(d->png, d->info) != 8 ||
	    png_get_rowbytes(d->png, d->info) != (size_t)w * cin)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "PNG of an unexpected layout");
	if ((rc = image_alloc(im, w, h, cin)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	if ((d->rows = calloc(h, sizeof(*d->rows))) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory");
	for (y = 0; y < h; y++)
		d->rows[y] = im->px + (size_t)y * w * cin;
	png_read_image(d->png, d->rows);
	/*
	 * No png_read_end: nothing after the image data is read.  An APNG's
	 * other frames are chunks libpng does not know, so they are skipped
	 * and the default image is what remains.
	 */
	image_flatten(im, cin, cin <= 2 ? 1 : 3);
	return MUGAI_CONVERT_EXIT_OK;
}

static int
decode_png(struct image *im)
{
	struct png_dec d;
	int rc;

	if ((rc = png_header(im)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	memset(&d, 0, sizeof(d));
	d.src.p = im->in;
	d.src.len = im->len;
	d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d,
	    png_dec_error, png_dec_warning);
	if (d.png == NULL || (d.info = png_create_info_struct(d.png)) == NULL)
		rc = image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory");
	else
		rc = png_run(im, &d);
	png_destroy_read_struct(&d.png, &d.info, NULL);
	free(d.rows);
	return rc;
}

/* GIF (giflib) */

static int
gif_read(GifFileType *gif, GifByteType *buf, int n)
{
	struct mem_src *s = gif->UserData;
	size_t k = n > 0 ? (size_t)n : 0;

	if (k > s->len - s->off)
		k = s->len - s->off;
	memcpy(buf, s->p + s->off, k);
	s->off += k;
	return (int)k;
}

static int
gif_error(struct image *im, GifFileType *gif)
{
	const char *e = GifErrorString(gif->Error);

	return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT, "GIF: %s",
	    e != NULL ? e : "error");
}

/* One row of the frame onto the canvas; transparent pixels stay white. */
static void
gif_row(struct image *im, const GifByteType *line, const ColorMapObject *map,
    int transparent, uint32_t x0, uint32_t y, uint32_t fw)
{
	uint8_t *d = im->px + ((size_t)y * im->w + x0) * 3;
	const GifColorType *c;
	uint32_t x;

	for (x = 0; x < fw; x++, d += 3) {
		if (line[x] == transparent)
			continue;
		if (line[x] >= map->ColorCount) {
			d[0] = d[1] = d[2] = 0;
			continue;
		}
		c = &map->Colors[line[x]];
		d[0] = c->Red;
		d[1] = c->Green;
		d[2] = c->Blue;
	}
}

/*
 * The first frame, on a white canvas the size of the logical screen
 * (grown to hold the frame if the screen is smaller).
 */
static int
gif_frame(struct image *im, GifFileType *gif, int transparent)
{
	static const uint32_t start[] = { 0, 4, 2, 1 }, step[] = { 8, 8, 4, 2 };
	const ColorMapObject *map;
	GifByteType *line;
	uint32_t x0, y0, fw, fh, cw, ch, y, pass;
	int rc = MUGAI_CONVERT_EXIT_OK;

	if (DGifGetImageDesc(gif) == GIF_ERROR)
		return gif_error(im, gif);
	if (gif->Image.Width <= 0 || gif->Image.Height <= 0 ||
	    gif->Image.Left < 0 || gif->Image.Top < 0)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "GIF frame of no size");
	x0 = (uint32_t)gif->Image.Left;
	y0 = (uint32_t)gif->Image.Top;
	fw = (uint32_t)gif->Image.Width;
	fh = (uint32_t)gif->Image.Height;
	cw = gif->SWidth > 0 && (uint32_t)gif->SWidth > x0 + fw ?
	    (uint32_t)gif->SWidth : x0 + fw;
	ch = gif->SHeight > 0 && (uint32_t)gif->SHeight > y0 + fh ?
	    (uint32_t)gif->SHeight : y0 + fh;
	if ((rc = image_check_size(im, cw, ch, SIDE_MAX_GIF)) != 0)
		return rc;
	map = gif->Image.ColorMap != NULL ? gif->Image.ColorMap :
	    gif->SColorMap;
	if (map == NULL || map->Colors == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "GIF without a colour table");
	if ((rc = image_alloc(im, cw, ch, 3)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	im->channels = 3;
	memset(im->px, 0xff, (size_t)cw * ch * 3);
	if ((line = malloc(fw)) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory");
	for (pass = gif->Image.Interlace ? 0 : 3; pass < 4; pass++) {
		/* Not interlaced: one pass over every row. */
		for (y = gif->Image.Interlace ? start[pass] : 0; y < fh;
		    y += gif->Image.Interlace ? step[pass] : 1) {
			if (DGifGetLine(gif, line, (int)fw) == GIF_ERROR) {
				rc = gif_error(im, gif);
				goto out;
			}
			gif_row(im, line, map, transparent, x0, y0 + y, fw);
		}
	}
out:
	free(line);
	return rc;
}

/* Skip one extension; note the transparent index from a GCE. */
static int
gif_extension(struct image *im, GifFileType *gif, int *transparent)
{
	GraphicsControlBlock gcb;
	GifByteType *ext;
	int code;

	if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
		return gif_error(im, gif);
	if (code == GRAPHICS_EXT_FUNC_CODE && ext != NULL && ext[0] >= 4 &&
	    DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK)
		*transparent = gcb.TransparentColor;
	while (ext != NULL)
		if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
			return gif_error(im, gif);
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * Only the first frame is decoded: an animation becomes its first
 * picture, and what follows (more frames, comments, application
 * extensions) is never read.
 */
static int
gif_run(struct image *im, GifFileType *gif)
{
	GifRecordType type;
	int transparent = NO_TRANSPARENT_COLOR, rc;

	if (gif->SWidth > 0 && gif->SHeight > 0 &&
	    (rc = image_check_size(im, (uint32_t)gif->SWidth,
	    (uint32_t)gif->SHeight, SIDE_MAX_GIF)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	for (;;) {
		if (DGifGetRecordType(gif, &type) == GIF_ERROR)
			return gif_error(im, gif);
		switch (type) {
		case EXTENSION_RECORD_TYPE:
			rc = gif_extension(im, gif, &transparent);
			if (rc != MUGAI_CONVERT_EXIT_OK)
				return rc;
			break;
		case IMAGE_DESC_RECORD_TYPE:
			return gif_frame(im, gif, transparent);
		default:
			return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "GIF without an image");
		}
	}
}

static int
decode_gif(struct image *im)
{
	struct mem_src src = { im->in, im->len, 0 };
	GifFileType *gif;
	int err = 0, rc;

	if ((gif = DGifOpen(&src, gif_read, &err)) == NULL) {
		const char *e = GifErrorString(err);

		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "GIF: %s", e != NULL ? e : "cannot open");
	}
	rc = gif_run(im, gif);
	DGifCloseFile(gif, &err);
	return rc;
}

/* BMP (by hand) */

#define BMP_FILE_HEAD	14
#define BI_RGB		0
#define BI_BITFIELDS	3

struct bmp {
	uint32_t	 w, h, bpp, comp;
	int		 topdown;
	size_t		 off, stride;	/* pixel data */
	const unsigned char *pal;	/* BGRx entries */
	uint32_t	 npal;
	uint32_t	 mask[3], shift[3], max[3];	/* R, G, B */
};

/* A mask must be one run of set bits. */
static int
bmp_mask(struct bmp *b, int i, uint32_t m)
{
	uint32_t s = 0;

	if (m == 0)
		return -1;
	while (((m >> s) & 1) == 0)
		s++;
	if (((m >> s) & ((m >> s) + 1)) != 0)
		return -1;
	b->mask[i] = m;
	b->shift[i] = s;
	b->max[i] = m >> s;
	return 0;
}

static int
bmp_masks(struct image *im, struct bmp *b, uint32_t dib)
{
	static const uint32_t rgb16[3] = { 0x7c00, 0x03e0, 0x001f };
	static const uint32_t rgb32[3] = { 0xff0000, 0x00ff00, 0x0000ff };
	const uint32_t *m = b->bpp == 16 ? rgb16 : rgb32;
	uint32_t got[3];
	int i;

	if (b->comp == BI_BITFIELDS) {
		/* In the header from V2 on, else just after it: same place. */
		if (dib < 52 && im->len < BMP_FILE_HEAD + 40 + 12)
			return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "BMP is truncated");
		for (i = 0; i < 3; i++)
			got[i] = le32(im->in + BMP_FILE_HEAD + 40 + 4 * i);
		m = got;
	}
	for (i = 0; i < 3; i++)
		if (bmp_mask(b, i, m[i]) != 0)
			return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "BMP colour mask %#x is not valid", m[i]);
	return MUGAI_CONVERT_EXIT_OK;
}

static int
bmp_palette(struct image *im, struct bmp *b, uint32_t dib)
{
	uint64_t start = BMP_FILE_HEAD + (uint64_t)dib;

	b->npal = le32(im->in + BMP_FILE_HEAD + 32);
	/* Entries past what the indices can reach are never read. */
	if (b->npal == 0 || b->npal > (1u << b->bpp))
		b->npal = 1u << b->bpp;
	if (start + 4 * (uint64_t)b->npal > im->len)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP palette runs past the end of the file");
	b->pal = im->in + start;
	return MUGAI_CONVERT_EXIT_OK;
}

/* Which bit depths go with which compression. */
static int
bmp_format(struct image *im, struct bmp *b)
{
	if (b->comp == BI_RGB && (b->bpp == 1 || b->bpp == 4 ||
	    b->bpp == 8 || b->bpp == 16 || b->bpp == 24 || b->bpp == 32))
		return MUGAI_CONVERT_EXIT_OK;
	if (b->comp == BI_BITFIELDS && (b->bpp == 16 || b->bpp == 32))
		return MUGAI_CONVERT_EXIT_OK;
	if (b->comp != BI_RGB && b->comp != BI_BITFIELDS)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP compression %u (RLE, JPEG, PNG) is not supported",
		    b->comp);
	return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
	    "BMP of %u bits a pixel is not supported", b->bpp);
}

/*
 * The headers: BITMAPINFOHEADER and its V2 to V5 extensions (which only
 * add fields after it).  The OS/2 core header is refused.  Nothing in
 * them is trusted: the pixel data must fit in the file as the width,
 * height and depth say, whatever the size fields claim.
 */
static int
bmp_header(struct image *im, struct bmp *b)
{
	const unsigned char *p = im->in;
	uint32_t dib, hraw;
	uint64_t off;
	int rc;

	if (im->len < BMP_FILE_HEAD + 4)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP is truncated");
	dib = le32(p + BMP_FILE_HEAD);
	if (dib != 40 && dib != 52 && dib != 56 && dib != 108 && dib != 124)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP with a %u-byte header is not supported", dib);
	if (im->len < BMP_FILE_HEAD + dib)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP is truncated");
	b->w = le32(p + 18);
	hraw = le32(p + 22);
	if (b->w & 0x80000000u)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP of negative width");
	/* A negative height means rows run top-down. */
	b->topdown = (hraw & 0x80000000u) != 0;
	b->h = b->topdown ? 0u - hraw : hraw;
	if ((rc = image_check_size(im, b->w, b->h, SIDE_MAX_BMP)) != 0)
		return rc;
	if (le16(p + 26) != 1)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP with %u planes", le16(p + 26));
	b->bpp = le16(p + 28);
	b->comp = le32(p + 30);
	if ((rc = bmp_format(im, b)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	rc = b->bpp <= 8 ? bmp_palette(im, b, dib) : b->bpp == 24 ?
	    MUGAI_CONVERT_EXIT_OK : bmp_masks(im, b, dib);
	if (rc != MUGAI_CONVERT_EXIT_OK)
		return rc;
	/* Sides are at most 65535 and depth 32: no overflow below. */
	b->stride = (size_t)(((uint64_t)b->w * b->bpp + 31) / 32 * 4);
	off = le32(p + 10);
	if (off > im->len || (uint64_t)b->stride * b->h > im->len - off)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "BMP pixel data runs past the end of the file");
	b->off = (size_t)off;
	return MUGAI_CONVERT_EXIT_OK;
}

static void
bmp_row_indexed(const struct bmp *b, const unsigned char *s, uint8_t *d)
{
	unsigned per = 8 / b->bpp, mask = (1u << b->bpp) - 1, shift;
	uint32_t x, idx;

	for (x = 0; x < b->w; x++, d += 3) {
		/* The leftmost pixel is in the high bits. */
		shift = (per - 1 - x % per) * b->bpp;
		idx = (s[x / per] >> shift) & mask;
		if (idx >= b->npal) {
			d[0] = d[1] = d[2] = 0;
			continue;
		}
		d[0] = b->pal[idx * 4 + 2];
		d[1] = b->pal[idx * 4 + 1];
		d[2] = b->pal[idx * 4];
	}
}

/*
 * 16 and 32 bits through the masks.  Alpha is ignored: writers disagree
 * on it and many leave it zero, which would make the picture vanish.
 */
static void
bmp_row_masked(const struct bmp *b, const unsigned char *s, uint8_t *d)
{
	uint32_t x, v;
	int i;

	for (x = 0; x < b->w; x++) {
		v = b->bpp == 16 ? le16(s + 2 * (size_t)x) :
		    le32(s + 4 * (size_t)x);
		for (i = 0; i < 3; i++)
			*d++ = (uint8_t)((((uint64_t)(v & b->mask[i]) >>
			    b->shift[i]) * 255 + b->max[i] / 2) / b->max[i]);
	}
}

static void
bmp_row_24(const struct bmp *b, const unsigned char *s, uint8_t *d)
{
	uint32_t x;

	for (x = 0; x < b->w; x++, s += 3) {
		*d++ = s[2];
		*d++ = s[1];
		*d++ = s[0];
	}
}

static int
decode_bmp(struct image *im)
{
	struct bmp b;
	const unsigned char *s;
	uint32_t y;
	uint8_t *d;
	int rc;

	memset(&b, 0, sizeof(b));
	if ((rc = bmp_header(im, &b)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	if ((rc = image_alloc(im, b.w, b.h, 3)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	im->channels = 3;
	for (y = 0; y < b.h; y++) {
		s = im->in + b.off + (size_t)(b.topdown ? y : b.h - 1 - y) *
		    b.stride;
		d = im->px + (size_t)y * b.w * 3;
		if (b.bpp <= 8)
			bmp_row_indexed(&b, s, d);
		else if (b.bpp == 24)
			bmp_row_24(&b, s, d);
		else
			bmp_row_masked(&b, s, d);
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/* TIFF (libtiff) */

struct tiff_src {
	struct mem_src	 m;
	char		 msg[160];	/* libtiff's first error */
};

static tmsize_t
tiff_read(thandle_t h, void *buf, tmsize_t n)
{
	struct mem_src *s = h;
	size_t k = n > 0 ? (size_t)n : 0;

	if (s->off >= s->len)
		return 0;
	if (k > s->len - s->off)
		k = s->len - s->off;
	memcpy(buf, s->p + s->off, k);
	s->off += k;
	return (tmsize_t)k;
}

static tmsize_t
tiff_write(thandle_t h, void *buf, tmsize_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -1;
}

static toff_t
tiff_seek(thandle_t h, toff_t off, int whence)
{
	struct mem_src *s = h;
	uint64_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = s->off;
		break;
	case SEEK_END:
		base = s->len;
		break;
	default:
		return (toff_t)-1;
	}
	/* Unsigned: a negative offset wraps and lands past the end. */
	if (off > UINT64_MAX - base || base + off > s->len)
		return (toff_t)-1;
	s->off = (size_t)(base + off);
	return s->off;
}

static int
tiff_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t
tiff_size(thandle_t h)
{
	struct mem_src *s = h;

	return s->len;
}

/* No mapping: libtiff reads through tiff_read. */
static int
tiff_map(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0;
}

static void
tiff_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

/* libtiff's format strings, with what it read from the file as args. */
static int tiff_error(TIFF *, void *, const char *, const char *, va_list)
	__attribute__((format(printf, 4, 0)));

static int
tiff_error(TIFF *tif, void *user, const char *module, const char *fmt,
    va_list ap)
{
	struct tiff_src *src = user;

	(void)tif;
	(void)module;
	if (src->msg[0] == '\0')
		vsnprintf(src->msg, sizeof(src->msg), fmt, ap);
	return 1;
}

static int
tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt,
    va_list ap)
{
	(void)tif;
	(void)user;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static TIFF *
tiff_open(struct image *im, struct tiff_src *src)
{
	TIFFOpenOptions *opts;
	size_t cap;
	TIFF *tif;

	/* The global handlers print to stderr; some errors reach them. */
	TIFFSetErrorHandler(NULL);
	TIFFSetWarningHandler(NULL);
	if ((opts = TIFFOpenOptionsAlloc()) == NULL)
		return NULL;
	/* Room for a whole image of 16-bit RGBA in one strip, no more. */
	cap = im->o->max_pixels > SIZE_MAX / 8 ? SIZE_MAX :
	    im->o->max_pixels * 8;
	if (cap < TIFF_ALLOC_MIN)
		cap = TIFF_ALLOC_MIN;
	if (cap > PTRDIFF_MAX)
		cap = PTRDIFF_MAX;
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)cap);
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_error, src);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_warning, src);
	/* "m": no memory mapping. */
	tif = TIFFClientOpenExt("image", "rm", &src->m, tiff_read,
	    tiff_write, tiff_seek, tiff_close, tiff_size, tiff_map,
	    tiff_unmap, opts);
	TIFFOpenOptionsFree(opts);
	return tif;
}

/*
 * The first directory only, through libtiff's RGBA interface, which
 * handles every photometric, depth and layout it supports and refuses
 * the rest.  Its alpha comes premultiplied, so onto white is c + 255 - a.
 */
static int
tiff_run(struct image *im, TIFF *tif, struct tiff_src *src)
{
	uint32_t w = 0, h = 0, *raster, v;
	uint16_t photo = 0;
	size_t i, n;
	unsigned a;
	char emsg[1024];
	int rc;

	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	if ((rc = image_check_size(im, w, h, SIDE_MAX_TIFF)) != 0)
		return rc;
	if (!TIFFRGBAImageOK(tif, emsg))
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "TIFF: %s", emsg);
	TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo);
	im->channels = photo == PHOTOMETRIC_MINISBLACK ||
	    photo == PHOTOMETRIC_MINISWHITE ? 1 : 3;
	if ((rc = image_alloc(im, w, h, im->channels)) != 0)
		return rc;
	n = (size_t)w * h;
	if ((raster = malloc(n * sizeof(*raster))) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory for a %u x %u TIFF image", w, h);
	if (!TIFFReadRGBAImageOriented(tif, w, h, raster, ORIENTATION_TOPLEFT,
	    1)) {
		free(raster);
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "TIFF: %s", src->msg[0] ? src->msg : "cannot decode");
	}
	for (i = 0; i < n; i++) {
		v = raster[i];
		a = 255 - TIFFGetA(v);
		if (im->channels == 1) {
			im->px[i] = (uint8_t)(TIFFGetR(v) + a > 255 ? 255 :
			    TIFFGetR(v) + a);
			continue;
		}
		im->px[3 * i] = (uint8_t)(TIFFGetR(v) + a > 255 ? 255 :
		    TIFFGetR(v) + a);
		im->px[3 * i + 1] = (uint8_t)(TIFFGetG(v) + a > 255 ? 255 :
		    TIFFGetG(v) + a);
		im->px[3 * i + 2] = (uint8_t)(TIFFGetB(v) + a > 255 ? 255 :
		    TIFFGetB(v) + a);
	}
	free(raster);
	return MUGAI_CONVERT_EXIT_OK;
}

static int
decode_tiff(struct image *im)
{
	struct tiff_src src;
	TIFF *tif;
	int rc;

	memset(&src, 0, sizeof(src));
	src.m.p = im->in;
	src.m.len = im->len;
	if ((tif = tiff_open(im, &src)) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "TIFF: %s", src.msg[0] ? src.msg : "cannot open");
	rc = tiff_run(im, tif, &src);
	TIFFClose(tif);
	return rc;
}

/* WebP (libwebp) */

static int
decode_webp(struct image *im)
{
	WebPBitstreamFeatures f;
	int w, h, rc;
	unsigned cin;
	size_t size;

	if (!WebPGetInfo(im->in, im->len, &w, &h))
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "WebP header is not valid");
	if ((rc = image_check_size(im, (uint32_t)w, (uint32_t)h,
	    SIDE_MAX_WEBP)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	if (WebPGetFeatures(im->in, im->len, &f) != VP8_STATUS_OK)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "WebP header is not valid");
	if (f.has_animation)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "animated WebP is not supported");
	cin = f.has_alpha ? 4 : 3;
	if ((rc = image_alloc(im, (uint32_t)w, (uint32_t)h, cin)) != 0)
		return rc;
	size = (size_t)w * h * cin;
	if ((cin == 4 ? WebPDecodeRGBAInto(im->in, im->len, im->px, size,
	    w * 4) : WebPDecodeRGBInto(im->in, im->len, im->px, size,
	    w * 3)) == NULL)
		return image_refuse(im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "WebP image data is not valid");
	image_flatten(im, cin, 3);
	return MUGAI_CONVERT_EXIT_OK;
}

/* Sniffing and the mode */

static const struct {
	const char	*name;
	const char	*magic;
	size_t		 magiclen;
	size_t		 at;		/* offset of the magic */
	int		(*decode)(struct image *);
} image_formats[] = {
	{ "JPEG", "\xff\xd8\xff", 3, 0, decode_jpeg },
	{ "PNG", "\x89PNG\r\n\x1a\n", 8, 0, decode_png },
	{ "GIF", "GIF87a", 6, 0, decode_gif },
	{ "GIF", "GIF89a", 6, 0, decode_gif },
	{ "BMP", "BM", 2, 0, decode_bmp },
	{ "TIFF", "II*\0", 4, 0, decode_tiff },
	{ "TIFF", "MM\0*", 4, 0, decode_tiff },
	{ "WebP", "WEBP", 4, 8, decode_webp },	/* after "RIFF" and a size */
};

static int
image_sniff(const unsigned char *in, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(image_formats) / sizeof(image_formats[0]);
	    i++) {
		n = image_formats[i].at + image_formats[i].magiclen;
		if (len < n || memcmp(in + image_formats[i].at,
		    image_formats[i].magic, image_formats[i].magiclen) != 0)
			continue;
		if (image_formats[i].at == 8 && memcmp(in, "RIFF", 4) != 0)
			continue;
		return (int)i;
	}
	return -1;
}

/*
 * convert_image - decode the image in in[0..len) and write it to out as
 * a pixel stream of one image: grey for grey sources, else RGB, flagged
 * MUGAI_PIX_PHOTO when it was a JPEG.  BAD_INPUT for a format not known
 * or data that does not decode, TOO_BIG for a size over the limits.
 */
int
convert_image(const unsigned char *in, size_t len, const struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen)
{
	struct image im;
	mugai_status st;
	int f, rc;

	memset(&im, 0, sizeof(im));
	im.in = in;
	im.len = len;
	im.o = o;
	im.why = why;
	im.whylen = whylen;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (in == NULL || (f = image_sniff(in, len)) < 0)
		return image_refuse(&im, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "not an image format that is supported");
	im.fmt = image_formats[f].name;
	rc = image_formats[f].decode(&im);
	if (rc == MUGAI_CONVERT_EXIT_OK &&
	    ((st = mugai_pixels_begin(out, 1)) != MUGAI_OK ||
	    (st = mugai_pixels_add(out, im.w, im.h, im.channels, im.flags,
	    im.px)) != MUGAI_OK))
		rc = image_refuse(&im, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "cannot write %u x %u pixels: %s", im.w, im.h,
		    mugai_status_str(st));
	free(im.px);
	return rc;
}
