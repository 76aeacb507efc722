/*
 * test_convert_image.c - the image mode of mugai-convert (convert/image.c)
 * and the parent's re-encoding of what it writes (src/cdr/imgenc.c).
 *
 * Every input is made here with the format's own library (or by hand
 * for BMP), so the expected pixels are known exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>
#include <webp/encode.h>
#include <zlib.h>

#include "mugai/cdr/imgenc.h"
#include "mugai/cdr/pixels.h"
#include "../../convert/convert.h"

#define W	37		/* odd: BMP rows need padding */
#define H	23

static struct convert_opts opts = {
	.memory = (size_t)1 << 30,
	.max_pixels = 50000000,
};

/* Sample c of pixel (x, y) of the test picture. */
static uint8_t
pat(uint32_t x, uint32_t y, unsigned c)
{
	return (uint8_t)(x * 37 + y * 11 + c * 80);
}

/* The test picture as 8-bit samples: channels 1 (grey) or 3. */
static uint8_t *
pat_image(unsigned channels)
{
	uint8_t *p = malloc((size_t)W * H * channels);
	uint32_t x, y;
	unsigned c;

	assert_non_null(p);
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			for (c = 0; c < channels; c++)
				p[(y * W + x) * channels + c] = pat(x, y, c);
	return p;
}

/* A converted image: the stream and the one pixmap in it. */
struct dec {
	struct mugai_buf	 out;
	struct mugai_pixmap	*pm;
	char			 why[256];
};

static int
convert(const void *in, size_t len, size_t max_pixels, struct dec *d)
{
	struct convert_opts o = opts;
	size_t n;
	int rc;

	memset(d, 0, sizeof(*d));
	mugai_buf_init(&d->out, 0);
	o.max_pixels = max_pixels;
	rc = convert_image(in, len, &o, &d->out, d->why, sizeof(d->why));
	if (rc != MUGAI_CONVERT_EXIT_OK) {
		assert_int_equal(d->out.len, 0);
		assert_true(d->why[0] != '\0');
		return rc;
	}
	/* Whatever comes out must pass the parent's parser. */
	assert_int_equal(mugai_pixels_parse(d->out.data, d->out.len,
	    max_pixels, 1, &d->pm, &n), MUGAI_OK);
	assert_int_equal(n, 1);
	return rc;
}

static void
dec_free(struct dec *d)
{
	free(d->pm);
	mugai_buf_free(&d->out);
}

static void
convert_ok(const void *in, size_t len, struct dec *d)
{
	int rc = convert(in, len, opts.max_pixels, d);

	if (rc != MUGAI_CONVERT_EXIT_OK)
		fail_msg("convert_image: %d: %s", rc, d->why);
}

static void
assert_pixmap(const struct mugai_pixmap *pm, uint32_t w, uint32_t h,
    uint32_t channels, uint32_t flags)
{
	assert_int_equal(pm->width, w);
	assert_int_equal(pm->height, h);
	assert_int_equal(pm->channels, channels);
	assert_int_equal(pm->flags, flags);
}

/* Pixel (x, y) of pm against an expected RGB or grey value, with slack. */
static void
assert_px(const struct mugai_pixmap *pm, uint32_t x, uint32_t y,
    const uint8_t *want, int slack)
{
	const uint8_t *p = pm->data + ((size_t)y * pm->width + x) *
	    pm->channels;
	uint32_t c;

	for (c = 0; c < pm->channels; c++)
		if (abs((int)p[c] - (int)want[c]) > slack)
			fail_msg("pixel %u,%u channel %u: %u, want %u", x, y,
			    c, p[c], want[c]);
}

static int
contains(const void *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* PNG writer */

static void
png_w(png_structp png, png_bytep data, size_t len)
{
	mugai_buf_append(png_get_io_ptr(png), data, len);
}

static void
png_f(png_structp png)
{
	(void)png;
}

struct png_spec {
	uint32_t	 w, h;
	int		 type, depth, interlace;
	const uint8_t	*data;		/* rows of rowbytes, PNG byte order */
	size_t		 rowbytes;
	const png_color	*pal;
	int		 npal;
	const uint8_t	*trans;
	int		 ntrans;
	const char	*text;		/* a tEXt chunk */
};

static void
png_make(const struct png_spec *s, struct mugai_buf *out)
{
	png_structp png;
	png_infop info;
	png_text t;
	uint32_t y;
	int pass, passes;

	mugai_buf_init(out, 0);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	assert_non_null(png);
	info = png_create_info_struct(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng failed to write the test image");
	png_set_write_fn(png, out, png_w, png_f);
	png_set_IHDR(png, info, s->w, s->h, s->depth, s->type, s->interlace,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (s->pal != NULL)
		png_set_PLTE(png, info, s->pal, s->npal);
	if (s->trans != NULL)
		png_set_tRNS(png, info, s->trans, s->ntrans, NULL);
	if (s->text != NULL) {
		memset(&t, 0, sizeof(t));
		t.compression = PNG_TEXT_COMPRESSION_NONE;
		t.key = (char *)"Comment";
		t.text = (char *)s->text;
		png_set_text(png, info, &t, 1);
	}
	png_write_info(png, info);
	passes = png_set_interlace_handling(png);
	for (pass = 0; pass < passes; pass++)
		for (y = 0; y < s->h; y++)
			png_write_row(png, s->data + y * s->rowbytes);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
}

/* JPEG writer */

static void
jpeg_make(const uint8_t *px, uint32_t w, uint32_t h, int channels,
    int quality, struct mugai_buf *out)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr err;
	unsigned char *mem = NULL;
	unsigned long memlen = 0;
	JSAMPROW row;

	ci.err = jpeg_std_error(&err);
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &mem, &memlen);
	ci.image_width = w;
	ci.image_height = h;
	ci.input_components = channels;
	ci.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, quality, TRUE);
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < h) {
		row = (JSAMPROW)(px + (size_t)ci.next_scanline * w * channels);
		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	mugai_buf_init(out, 0);
	mugai_buf_append(out, mem, memlen);
	free(mem);
}

/* A smooth picture: JPEG keeps it close. */
static uint8_t *
smooth_image(uint32_t w, uint32_t h, unsigned channels)
{
	uint8_t *p = malloc((size_t)w * h * channels);
	uint32_t x, y;

	assert_non_null(p);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint8_t *q = p + ((size_t)y * w + x) * channels;

			q[0] = (uint8_t)(x * 3);
			if (channels == 3) {
				q[1] = (uint8_t)(y * 4);
				q[2] = 128;
			}
		}
	return p;
}

/* GIF writer */

static int
gif_w(GifFileType *g, const GifByteType *b, int n)
{
	mugai_buf_append(g->UserData, b, (size_t)n);
	return n;
}

static uint8_t
gif_index(uint32_t x, uint32_t y)
{
	return (uint8_t)((x + 3 * y) % 16);
}

static GifColorType
gif_colour(unsigned i)
{
	GifColorType c = { (GifByteType)(i * 16), (GifByteType)(255 - i * 16),
	    (GifByteType)(i * 7) };

	return c;
}

/*
 * W x H, indices gif_index, index 15 transparent, then a second frame
 * all of index 1 that must not show.  Rows go in file order, which for
 * an interlaced frame is pass by pass.
 */
static void
gif_make(int interlace, struct mugai_buf *out)
{
	static const uint32_t start[] = { 0, 4, 2, 1 }, step[] = { 8, 8, 4, 2 };
	GraphicsControlBlock gcb = { DISPOSAL_UNSPECIFIED, false, 0, 15 };
	GifColorType colours[16];
	GifByteType ext[4], row[W];
	ColorMapObject *cm;
	GifFileType *g;
	uint32_t x, y, pass;
	int err;

	for (x = 0; x < 16; x++)
		colours[x] = gif_colour(x);
	mugai_buf_init(out, 0);
	g = EGifOpen(out, gif_w, &err);
	assert_non_null(g);
	EGifSetGifVersion(g, true);
	cm = GifMakeMapObject(16, colours);
	assert_int_equal(EGifPutScreenDesc(g, W, H, 8, 0, cm), GIF_OK);
	assert_int_equal(EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE,
	    (int)EGifGCBToExtension(&gcb, ext), ext), GIF_OK);
	assert_int_equal(EGifPutImageDesc(g, 0, 0, W, H, interlace, NULL),
	    GIF_OK);
	for (pass = interlace ? 0 : 3; pass < 4; pass++)
		for (y = interlace ? start[pass] : 0; y < H;
		    y += interlace ? step[pass] : 1) {
			for (x = 0; x < W; x++)
				row[x] = gif_index(x, y);
			assert_int_equal(EGifPutLine(g, row, W), GIF_OK);
		}
	assert_int_equal(EGifPutImageDesc(g, 0, 0, W, H, false, NULL), GIF_OK);
	memset(row, 1, sizeof(row));
	for (y = 0; y < H; y++)
		assert_int_equal(EGifPutLine(g, row, W), GIF_OK);
	assert_int_equal(EGifCloseFile(g, &err), GIF_OK);
	GifFreeMapObject(cm);
}

/* BMP writer, by hand */

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

struct bmp_spec {
	uint32_t	 w;
	int32_t		 h;		/* negative: top-down */
	uint32_t	 bpp, comp;
	const uint8_t	*pal;		/* BGRx */
	uint32_t	 npal;
	const uint32_t	*masks;		/* BI_BITFIELDS, after the header */
};

/* Headers for s, then rows from row(y in file order) into out. */
static void
bmp_make(const struct bmp_spec *s, void (*row)(const struct bmp_spec *,
    uint32_t, uint8_t *), struct mugai_buf *out)
{
	uint32_t h = s->h < 0 ? (uint32_t)-s->h : (uint32_t)s->h;
	size_t stride = ((size_t)s->w * s->bpp + 31) / 32 * 4;
	size_t head = 14 + 40 + (s->masks ? 12 : 0) + 4 * (size_t)s->npal;
	uint8_t hdr[14 + 40 + 12], *line;
	uint32_t y;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 'B';
	hdr[1] = 'M';
	put32(hdr + 2, (uint32_t)(head + stride * h));
	put32(hdr + 10, (uint32_t)head);
	put32(hdr + 14, 40);
	put32(hdr + 18, s->w);
	put32(hdr + 22, (uint32_t)s->h);
	put16(hdr + 26, 1);
	put16(hdr + 28, s->bpp);
	put32(hdr + 30, s->comp);
	put32(hdr + 34, (uint32_t)(stride * h));
	put32(hdr + 46, s->npal);
	if (s->masks != NULL) {
		put32(hdr + 54, s->masks[0]);
		put32(hdr + 58, s->masks[1]);
		put32(hdr + 62, s->masks[2]);
	}
	mugai_buf_init(out, 0);
	mugai_buf_append(out, hdr, 14 + 40 + (s->masks ? 12 : 0));
	mugai_buf_append(out, s->pal, 4 * (size_t)s->npal);
	line = calloc(1, stride);
	assert_non_null(line);
	for (y = 0; y < h; y++) {
		memset(line, 0, stride);
		/* The picture's row: bottom-up files start at the bottom. */
		row(s, s->h < 0 ? y : h - 1 - y, line);
		mugai_buf_append(out, line, stride);
	}
	free(line);
}

static void
bmp_row24(const struct bmp_spec *s, uint32_t y, uint8_t *p)
{
	uint32_t x;

	for (x = 0; x < s->w; x++) {
		p[3 * x] = pat(x, y, 2);
		p[3 * x + 1] = pat(x, y, 1);
		p[3 * x + 2] = pat(x, y, 0);
	}
}

static void
bmp_row8(const struct bmp_spec *s, uint32_t y, uint8_t *p)
{
	uint32_t x;

	for (x = 0; x < s->w; x++)
		p[x] = gif_index(x, y);
}

static void
bmp_row4(const struct bmp_spec *s, uint32_t y, uint8_t *p)
{
	uint32_t x;

	for (x = 0; x < s->w; x++)
		p[x / 2] |= (uint8_t)(gif_index(x, y) << (x % 2 ? 0 : 4));
}

static void
bmp_row32(const struct bmp_spec *s, uint32_t y, uint8_t *p)
{
	uint32_t x;

	/* Masks R 0xff000000, G 0x00ff0000, B 0x0000ff00; low byte junk. */
	for (x = 0; x < s->w; x++)
		put32(p + 4 * x, (uint32_t)pat(x, y, 0) << 24 |
		    (uint32_t)pat(x, y, 1) << 16 | (uint32_t)pat(x, y, 2) << 8 |
		    0x5a);
}

static uint8_t bmp_pal[16 * 4];

static void
bmp_pal_init(void)
{
	GifColorType c;
	unsigned i;

	for (i = 0; i < 16; i++) {
		c = gif_colour(i);
		bmp_pal[4 * i] = c.Blue;
		bmp_pal[4 * i + 1] = c.Green;
		bmp_pal[4 * i + 2] = c.Red;
	}
}

/* TIFF writer, through a temporary file */

static void
tiff_make(const uint8_t *px, unsigned channels, uint16_t compression,
    struct mugai_buf *out)
{
	static const uint16_t extra[1] = { EXTRASAMPLE_UNASSALPHA };
	char path[] = "/tmp/mugai-test-tiff-XXXXXX", chunk[4096];
	uint32_t y;
	ssize_t n;
	TIFF *t;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	t = TIFFFdOpen(fd, path, "w");
	assert_non_null(t);
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)W);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)H);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)channels);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, (uint16_t)8);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, channels == 1 ?
	    PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB);
	if (channels == 4)
		TIFFSetField(t, TIFFTAG_EXTRASAMPLES, (uint16_t)1, extra);
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)8);
	TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, "MUGAI-TIFF-DESCRIPTION");
	for (y = 0; y < H; y++)
		assert_int_equal(TIFFWriteScanline(t,
		    (void *)(px + (size_t)y * W * channels), y, 0), 1);
	TIFFClose(t);
	f = fopen(path, "rb");
	assert_non_null(f);
	mugai_buf_init(out, 0);
	while ((n = (ssize_t)fread(chunk, 1, sizeof(chunk), f)) > 0)
		mugai_buf_append(out, chunk, (size_t)n);
	fclose(f);
	unlink(path);
}

/* Tests: PNG */

static const char payload[] = "MUGAI-PAYLOAD-AFTER-IEND<script>";

static void
test_png_trailing_payload(void **state)
{
	static const uint8_t iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D',
	    0xae, 0x42, 0x60, 0x82 };
	uint8_t *px = pat_image(3);
	struct png_spec s = { W, H, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE,
	    px, W * 3, NULL, 0, NULL, 0, "MUGAI-TEXT-CHUNK" };
	struct mugai_buf in, enc;
	struct dec d, d2;

	(void)state;
	png_make(&s, &in);
	assert_true(contains(in.data, in.len, "MUGAI-TEXT-CHUNK"));
	mugai_buf_puts(&in, payload);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	assert_memory_equal(d.pm->data, px, (size_t)W * H * 3);
	assert_false(contains(d.out.data, d.out.len, "MUGAI"));

	mugai_buf_init(&enc, 0);
	assert_int_equal(mugai_png_encode(d.pm, &enc), MUGAI_OK);
	assert_false(contains(enc.data, enc.len, payload));
	assert_false(contains(enc.data, enc.len, "MUGAI-TEXT-CHUNK"));
	assert_false(contains(enc.data, enc.len, "tEXt"));
	assert_true(enc.len > sizeof(iend));
	assert_memory_equal(enc.data + enc.len - sizeof(iend), iend,
	    sizeof(iend));
	/* And the fresh PNG decodes to the same pixels. */
	convert_ok(enc.data, enc.len, &d2);
	assert_pixmap(d2.pm, W, H, 3, 0);
	assert_memory_equal(d2.pm->data, px, (size_t)W * H * 3);
	dec_free(&d2);
	dec_free(&d);
	mugai_buf_free(&enc);
	mugai_buf_free(&in);
	free(px);
}

static void
test_png_grey_interlaced(void **state)
{
	uint8_t *px = pat_image(1);
	struct png_spec s = { W, H, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_ADAM7,
	    px, W, NULL, 0, NULL, 0, NULL };
	struct mugai_buf in;
	struct dec d;

	(void)state;
	png_make(&s, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 1, 0);
	assert_memory_equal(d.pm->data, px, (size_t)W * H);
	dec_free(&d);
	mugai_buf_free(&in);
	free(px);
}

/* Palette with tRNS: index 15 fully transparent, 14 half. */
static void
test_png_palette_trns(void **state)
{
	png_color pal[16];
	uint8_t trans[16], idx[W * H], want[3];
	struct png_spec s = { W, H, PNG_COLOR_TYPE_PALETTE, 8,
	    PNG_INTERLACE_NONE, idx, W, pal, 16, trans, 16, NULL };
	struct mugai_buf in;
	GifColorType c;
	struct dec d;
	uint32_t x, y, i;

	(void)state;
	for (i = 0; i < 16; i++) {
		c = gif_colour(i);
		pal[i].red = c.Red;
		pal[i].green = c.Green;
		pal[i].blue = c.Blue;
		trans[i] = i == 15 ? 0 : i == 14 ? 128 : 255;
	}
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			idx[y * W + x] = gif_index(x, y);
	png_make(&s, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			i = gif_index(x, y);
			c = gif_colour(i);
			want[0] = c.Red;
			want[1] = c.Green;
			want[2] = c.Blue;
			if (i == 15)
				want[0] = want[1] = want[2] = 255;
			if (i == 14) {
				want[0] = (uint8_t)((c.Red * 128 + 255 * 127 +
				    127) / 255);
				want[1] = (uint8_t)((c.Green * 128 + 255 *
				    127 + 127) / 255);
				want[2] = (uint8_t)((c.Blue * 128 + 255 * 127 +
				    127) / 255);
			}
			assert_px(d.pm, x, y, want, 0);
		}
	dec_free(&d);
	mugai_buf_free(&in);
}

/* 16-bit RGBA: opaque, transparent and half-transparent pixels. */
static void
test_png_16bit_alpha(void **state)
{
	uint8_t row[4 * 8 * 3];
	struct png_spec s = { 4, 3, PNG_COLOR_TYPE_RGB_ALPHA, 16,
	    PNG_INTERLACE_NONE, row, 4 * 8, NULL, 0, NULL, 0, NULL };
	static const uint8_t red[3] = { 200, 10, 0 }, white[3] = {
	    255, 255, 255 }, half[3] = { 227, 132, 127 };
	struct mugai_buf in;
	struct dec d;
	uint32_t x, y;
	uint16_t v[4];
	int i;

	(void)state;
	/* Row 0 opaque, row 1 transparent, row 2 half (alpha 128). */
	for (y = 0; y < 3; y++)
		for (x = 0; x < 4; x++) {
			v[0] = 200 * 257;
			v[1] = 10 * 257;
			v[2] = 0;
			v[3] = y == 0 ? 0xffff : y == 1 ? 0 : 128 * 257;
			for (i = 0; i < 4; i++) {
				row[y * 32 + x * 8 + 2 * i] = v[i] >> 8;
				row[y * 32 + x * 8 + 2 * i + 1] = v[i] & 0xff;
			}
		}
	png_make(&s, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, 4, 3, 3, 0);
	for (x = 0; x < 4; x++) {
		assert_px(d.pm, x, 0, red, 0);
		assert_px(d.pm, x, 1, white, 0);
		assert_px(d.pm, x, 2, half, 1);
	}
	dec_free(&d);
	mugai_buf_free(&in);
}

/* An IHDR with a good CRC claiming w x h, then nothing else. */
static void
png_claim(uint32_t w, uint32_t h, struct mugai_buf *out)
{
	uint8_t b[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	    0, 0, 0, 13, 'I', 'H', 'D', 'R' };
	uLong crc;
	int i;

	for (i = 0; i < 4; i++) {
		b[16 + i] = (uint8_t)(w >> (24 - 8 * i));
		b[20 + i] = (uint8_t)(h >> (24 - 8 * i));
	}
	b[24] = 8;
	b[25] = PNG_COLOR_TYPE_RGB;
	crc = crc32(0, b + 12, 17);
	for (i = 0; i < 4; i++)
		b[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
	mugai_buf_init(out, 0);
	mugai_buf_append(out, b, sizeof(b));
	/* An IDAT header claiming 2 GB that is not there. */
	mugai_buf_append(out, "\x7f\xff\xff\xffIDAT", 8);
}

static void
test_png_bomb(void **state)
{
	struct mugai_buf in;
	struct dec d;
	clock_t t0 = clock();

	(void)state;
	png_claim(100000, 100000, &in);
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	/* Said by the header check, not by a failed allocation. */
	assert_string_equal(d.why, "image claims 100000 x 100000 pixels, "
	    "over max_pixels 50000000");
	dec_free(&d);
	mugai_buf_free(&in);
	/* Under max_pixels but over the side cap. */
	png_claim(100000, 1, &in);
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(d.why, "over 65535 a side"));
	dec_free(&d);
	mugai_buf_free(&in);
	png_claim(0, 10, &in);
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	dec_free(&d);
	mugai_buf_free(&in);
	assert_true(clock() - t0 < CLOCKS_PER_SEC);
}

/* Tests: JPEG */

/* APP1 "Exif" and a COM segment, put in by hand after SOI. */
static void
jpeg_add_metadata(struct mugai_buf *jpg)
{
	static const char exif[] = "Exif\0\0MUGAI-EXIF-MARKER GPS 35.68N";
	static const char com[] = "MUGAI-COMMENT-MARKER";
	struct mugai_buf b;
	uint8_t seg[4];

	mugai_buf_init(&b, 0);
	mugai_buf_append(&b, jpg->data, 2);
	seg[0] = 0xff;
	seg[1] = 0xe1;
	seg[2] = 0;
	seg[3] = (uint8_t)(2 + sizeof(exif) - 1);
	mugai_buf_append(&b, seg, 4);
	mugai_buf_append(&b, exif, sizeof(exif) - 1);
	seg[1] = 0xfe;
	seg[3] = (uint8_t)(2 + sizeof(com) - 1);
	mugai_buf_append(&b, seg, 4);
	mugai_buf_append(&b, com, sizeof(com) - 1);
	mugai_buf_append(&b, jpg->data + 2, jpg->len - 2);
	mugai_buf_free(jpg);
	*jpg = b;
}

static void
test_jpeg_exif(void **state)
{
	uint8_t *px = smooth_image(64, 48, 3);
	struct mugai_buf in, enc;
	struct dec d, d2;
	uint32_t x, y;

	(void)state;
	jpeg_make(px, 64, 48, 3, 95, &in);
	jpeg_add_metadata(&in);
	assert_true(contains(in.data, in.len, "Exif"));
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, 64, 48, 3, MUGAI_PIX_PHOTO);
	for (y = 0; y < 48; y += 5)
		for (x = 0; x < 64; x += 7)
			assert_px(d.pm, x, y, px + (y * 64 + x) * 3, 12);

	mugai_buf_init(&enc, 0);
	assert_int_equal(mugai_jpeg_encode(d.pm, 85, &enc), MUGAI_OK);
	assert_false(contains(enc.data, enc.len, "Exif"));
	assert_false(contains(enc.data, enc.len, "MUGAI"));
	assert_false(contains(enc.data, enc.len, "GPS"));
	/* The fresh JPEG decodes again, to the same size and near pixels. */
	convert_ok(enc.data, enc.len, &d2);
	assert_pixmap(d2.pm, 64, 48, 3, MUGAI_PIX_PHOTO);
	for (y = 0; y < 48; y += 5)
		for (x = 0; x < 64; x += 7)
			assert_px(d2.pm, x, y, px + (y * 64 + x) * 3, 16);
	dec_free(&d2);
	dec_free(&d);
	mugai_buf_free(&enc);
	mugai_buf_free(&in);
	free(px);
}

static void
test_jpeg_grey(void **state)
{
	uint8_t *px = smooth_image(40, 30, 1);
	struct mugai_buf in;
	struct dec d;

	(void)state;
	jpeg_make(px, 40, 30, 1, 90, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, 40, 30, 1, MUGAI_PIX_PHOTO);
	assert_px(d.pm, 20, 10, px + 10 * 40 + 20, 8);
	assert_px(d.pm, 39, 29, px + 29 * 40 + 39, 8);
	dec_free(&d);
	mugai_buf_free(&in);
	free(px);
}

/* Tests: GIF */

static void
assert_gif_pixels(const struct mugai_pixmap *pm)
{
	static const uint8_t white[3] = { 255, 255, 255 };
	uint8_t want[3];
	GifColorType c;
	uint32_t x, y;

	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			c = gif_colour(gif_index(x, y));
			want[0] = c.Red;
			want[1] = c.Green;
			want[2] = c.Blue;
			assert_px(pm, x, y, gif_index(x, y) == 15 ? white :
			    want, 0);
		}
}

static void
test_gif(void **state)
{
	struct mugai_buf in;
	struct dec d;
	int interlace;

	(void)state;
	for (interlace = 0; interlace < 2; interlace++) {
		gif_make(interlace, &in);
		convert_ok(in.data, in.len, &d);
		assert_pixmap(d.pm, W, H, 3, 0);
		/* The first frame only: the second is all index 1. */
		assert_gif_pixels(d.pm);
		dec_free(&d);
		mugai_buf_free(&in);
	}
}

/* Tests: BMP */

static void
test_bmp_24(void **state)
{
	struct bmp_spec s = { W, H, 24, 0, NULL, 0, NULL };
	uint8_t *px = pat_image(3);
	struct mugai_buf in;
	struct dec d;

	(void)state;
	bmp_make(&s, bmp_row24, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	assert_memory_equal(d.pm->data, px, (size_t)W * H * 3);
	dec_free(&d);
	mugai_buf_free(&in);
	free(px);
}

static void
test_bmp_palette(void **state)
{
	struct bmp_spec s8 = { W, H, 8, 0, bmp_pal, 16, NULL };
	struct bmp_spec s4 = { W, -H, 4, 0, bmp_pal, 16, NULL };
	uint8_t want[3];
	struct mugai_buf in;
	struct dec d;
	GifColorType c;
	uint32_t x, y;
	int k;

	(void)state;
	bmp_pal_init();
	for (k = 0; k < 2; k++) {
		/* 8-bit bottom-up, then 4-bit top-down. */
		bmp_make(k == 0 ? &s8 : &s4, k == 0 ? bmp_row8 : bmp_row4,
		    &in);
		convert_ok(in.data, in.len, &d);
		assert_pixmap(d.pm, W, H, 3, 0);
		for (y = 0; y < H; y++)
			for (x = 0; x < W; x++) {
				c = gif_colour(gif_index(x, y));
				want[0] = c.Red;
				want[1] = c.Green;
				want[2] = c.Blue;
				assert_px(d.pm, x, y, want, 0);
			}
		dec_free(&d);
		mugai_buf_free(&in);
	}
}

static void
test_bmp_bitfields_topdown(void **state)
{
	static const uint32_t masks[3] = { 0xff000000, 0x00ff0000,
	    0x0000ff00 };
	struct bmp_spec s = { W, -H, 32, 3, NULL, 0, masks };
	uint8_t *px = pat_image(3);
	struct mugai_buf in;
	struct dec d;

	(void)state;
	bmp_make(&s, bmp_row32, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	assert_memory_equal(d.pm->data, px, (size_t)W * H * 3);
	dec_free(&d);
	mugai_buf_free(&in);
	free(px);
}

static void
test_bmp_refused(void **state)
{
	struct bmp_spec s = { W, H, 24, 0, NULL, 0, NULL };
	struct mugai_buf in;
	struct dec d;
	uint8_t *p;

	(void)state;
	bmp_make(&s, bmp_row24, &in);
	p = (uint8_t *)in.data;
	put32(p + 30, 1);		/* BI_RLE8 */
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_non_null(strstr(d.why, "compression 1"));
	dec_free(&d);
	put32(p + 30, 0);
	put16(p + 28, 7);		/* no such depth */
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	dec_free(&d);
	put16(p + 28, 24);
	put32(p + 10, 0xfffffff0);	/* pixel data past the end */
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	dec_free(&d);
	put32(p + 10, 54);
	put32(p + 14, 12);		/* OS/2 core header */
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	dec_free(&d);
	put32(p + 14, 40);
	put32(p + 18, 100000);		/* a claim over the limits */
	put32(p + 22, (uint32_t)-100000);
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_string_equal(d.why, "image claims 100000 x 100000 pixels, "
	    "over max_pixels 50000000");
	dec_free(&d);
	put32(p + 22, 0x80000000u);	/* the most negative height */
	put32(p + 18, 1);
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	dec_free(&d);
	mugai_buf_free(&in);
}

/* Tests: TIFF and WebP */

static void
test_tiff(void **state)
{
	uint8_t *rgb = pat_image(3), *grey = pat_image(1);
	struct mugai_buf in;
	struct dec d;

	(void)state;
	tiff_make(rgb, 3, COMPRESSION_LZW, &in);
	assert_true(contains(in.data, in.len, "MUGAI-TIFF-DESCRIPTION"));
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	assert_memory_equal(d.pm->data, rgb, (size_t)W * H * 3);
	assert_false(contains(d.out.data, d.out.len, "MUGAI"));
	dec_free(&d);
	mugai_buf_free(&in);
	tiff_make(grey, 1, COMPRESSION_NONE, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 1, 0);
	assert_memory_equal(d.pm->data, grey, (size_t)W * H);
	dec_free(&d);
	mugai_buf_free(&in);
	free(rgb);
	free(grey);
}

/* RGBA (unassociated alpha): the first row transparent, onto white. */
static void
test_tiff_alpha(void **state)
{
	static const uint8_t white[3] = { 255, 255, 255 };
	uint8_t *rgb = pat_image(3), *rgba;
	struct mugai_buf in;
	struct dec d;
	size_t i;

	(void)state;
	rgba = malloc((size_t)W * H * 4);
	assert_non_null(rgba);
	for (i = 0; i < (size_t)W * H; i++) {
		memcpy(rgba + 4 * i, rgb + 3 * i, 3);
		rgba[4 * i + 3] = i < W ? 0 : 255;
	}
	tiff_make(rgba, 4, COMPRESSION_NONE, &in);
	convert_ok(in.data, in.len, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	for (i = 0; i < W; i++)
		assert_px(d.pm, (uint32_t)i, 0, white, 0);
	assert_memory_equal(d.pm->data + W * 3, rgb + W * 3,
	    (size_t)W * (H - 1) * 3);
	dec_free(&d);
	mugai_buf_free(&in);
	free(rgba);
	free(rgb);
}

static void
test_webp(void **state)
{
	static const uint8_t white[3] = { 255, 255, 255 };
	uint8_t *rgb = pat_image(3), *rgba, *enc;
	struct dec d;
	size_t n, i;

	(void)state;
	n = WebPEncodeLosslessRGB(rgb, W, H, W * 3, &enc);
	assert_true(n > 0);
	convert_ok(enc, n, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	assert_memory_equal(d.pm->data, rgb, (size_t)W * H * 3);
	dec_free(&d);
	WebPFree(enc);

	/* With alpha: the first row transparent, onto white. */
	rgba = malloc((size_t)W * H * 4);
	assert_non_null(rgba);
	for (i = 0; i < (size_t)W * H; i++) {
		memcpy(rgba + 4 * i, rgb + 3 * i, 3);
		rgba[4 * i + 3] = i < W ? 0 : 255;
	}
	n = WebPEncodeLosslessRGBA(rgba, W, H, W * 4, &enc);
	assert_true(n > 0);
	convert_ok(enc, n, &d);
	assert_pixmap(d.pm, W, H, 3, 0);
	assert_px(d.pm, 5, 0, white, 0);
	assert_memory_equal(d.pm->data + W * 3, rgb + W * 3,
	    (size_t)W * (H - 1) * 3);
	dec_free(&d);
	WebPFree(enc);
	free(rgba);
	free(rgb);
}

/* Tests: every format against damage and limits */

enum { F_PNG, F_JPEG, F_GIF, F_BMP, F_TIFF, F_WEBP, F_N };

static void
sample(int f, struct mugai_buf *out)
{
	uint8_t *px = pat_image(3);
	struct png_spec ps = { W, H, PNG_COLOR_TYPE_RGB, 8,
	    PNG_INTERLACE_NONE, px, W * 3, NULL, 0, NULL, 0, NULL };
	struct bmp_spec bs = { W, H, 24, 0, NULL, 0, NULL };
	uint8_t *enc;
	size_t n;

	switch (f) {
	case F_PNG:
		png_make(&ps, out);
		break;
	case F_JPEG:
		jpeg_make(px, W, H, 3, 90, out);
		break;
	case F_GIF:
		gif_make(0, out);
		break;
	case F_BMP:
		bmp_make(&bs, bmp_row24, out);
		break;
	case F_TIFF:
		tiff_make(px, 3, COMPRESSION_LZW, out);
		break;
	default:
		n = WebPEncodeLosslessRGB(px, W, H, W * 3, &enc);
		assert_true(n > 0);
		mugai_buf_init(out, 0);
		mugai_buf_append(out, enc, n);
		WebPFree(enc);
		break;
	}
	free(px);
}

/* Checked before a pixel buffer exists: a real image over max_pixels. */
static void
test_limit_each_format(void **state)
{
	struct mugai_buf in;
	struct dec d;
	int f;

	(void)state;
	for (f = 0; f < F_N; f++) {
		sample(f, &in);
		assert_int_equal(convert(in.data, in.len, W * H - 1, &d),
		    MUGAI_CONVERT_EXIT_TOO_BIG);
		if (strcmp(d.why, "image claims 37 x 23 pixels, over "
		    "max_pixels 850") != 0)
			fail_msg("format %d: %s", f, d.why);
		dec_free(&d);
		convert_ok(in.data, in.len, &d);
		assert_pixmap(d.pm, W, H, 3, f == F_JPEG ? MUGAI_PIX_PHOTO : 0);
		dec_free(&d);
		mugai_buf_free(&in);
	}
}

/*
 * Cut in half or to a header, each format is refused; cut anywhere or
 * with any byte changed, none crashes and anything decoded is a valid
 * stream (convert checks that).  The ASan and valgrind runs make the
 * "no crash" part strict.
 */
static void
test_damaged(void **state)
{
	struct mugai_buf in;
	struct dec d;
	size_t len, i;
	uint8_t *copy;
	int f, rc;

	(void)state;
	for (f = 0; f < F_N; f++) {
		sample(f, &in);
		rc = convert(in.data, in.len / 2, 50000000, &d);
		if (rc != MUGAI_CONVERT_EXIT_BAD_INPUT)
			fail_msg("format %d cut in half: %d", f, rc);
		dec_free(&d);
		assert_int_equal(convert(in.data, 20, 50000000, &d),
		    MUGAI_CONVERT_EXIT_BAD_INPUT);
		dec_free(&d);
		for (len = 0; len < in.len; len += 1 + len / 16) {
			rc = convert(in.data, len, 50000000, &d);
			assert_true(rc == MUGAI_CONVERT_EXIT_OK ||
			    rc == MUGAI_CONVERT_EXIT_BAD_INPUT);
			dec_free(&d);
		}
		copy = malloc(in.len);
		assert_non_null(copy);
		for (i = 0; i < in.len; i += 3) {
			memcpy(copy, in.data, in.len);
			copy[i] ^= (uint8_t)(0x5a + i);
			rc = convert(copy, in.len, 50000000, &d);
			assert_true(rc == MUGAI_CONVERT_EXIT_OK ||
			    rc == MUGAI_CONVERT_EXIT_BAD_INPUT ||
			    rc == MUGAI_CONVERT_EXIT_TOO_BIG);
			dec_free(&d);
		}
		free(copy);
		mugai_buf_free(&in);
	}
}

static void
test_not_an_image(void **state)
{
	static const char *const inputs[] = {
		"", "hello", "%PDF-1.7\n", "RIFF\x10\0\0\0WAVEfmt ",
		"\x89PNG\r\n\x1a\n", "GIF89a", "BM", "II*\0", "\xff\xd8\xff",
	};
	struct dec d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		assert_int_equal(convert(inputs[i], strlen(inputs[i]) +
		    (i == 7 ? 1 : 0), 50000000, &d),
		    MUGAI_CONVERT_EXIT_BAD_INPUT);
		dec_free(&d);
	}
}

/* A PNG whose IHDR CRC is wrong is refused, not decoded. */
static void
test_png_bad_crc(void **state)
{
	struct mugai_buf in;
	struct dec d;

	(void)state;
	sample(F_PNG, &in);
	in.data[29] ^= 1;
	assert_int_equal(convert(in.data, in.len, 50000000, &d),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	dec_free(&d);
	mugai_buf_free(&in);
}

/* Tests: the parent's encoders, decoded again by the worker */

static void
test_encode_round_trip(void **state)
{
	struct mugai_pixmap pm;
	struct mugai_buf enc;
	struct dec d;
	uint8_t *px;
	unsigned ch;

	(void)state;
	for (ch = 1; ch <= 3; ch += 2) {
		px = pat_image(ch);
		pm.width = W;
		pm.height = H;
		pm.channels = ch;
		pm.flags = 0;
		pm.data = px;
		mugai_buf_init(&enc, 0);
		assert_int_equal(mugai_png_encode(&pm, &enc), MUGAI_OK);
		convert_ok(enc.data, enc.len, &d);
		assert_pixmap(d.pm, W, H, ch, 0);
		assert_memory_equal(d.pm->data, px, (size_t)W * H * ch);
		dec_free(&d);
		mugai_buf_free(&enc);

		mugai_buf_init(&enc, 0);
		assert_int_equal(mugai_jpeg_encode(&pm, 75, &enc), MUGAI_OK);
		convert_ok(enc.data, enc.len, &d);
		assert_pixmap(d.pm, W, H, ch, MUGAI_PIX_PHOTO);
		dec_free(&d);
		mugai_buf_free(&enc);
		free(px);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png_trailing_payload),
		cmocka_unit_test(test_png_grey_interlaced),
		cmocka_unit_test(test_png_palette_trns),
		cmocka_unit_test(test_png_16bit_alpha),
		cmocka_unit_test(test_png_bomb),
		cmocka_unit_test(test_png_bad_crc),
		cmocka_unit_test(test_jpeg_exif),
		cmocka_unit_test(test_jpeg_grey),
		cmocka_unit_test(test_gif),
		cmocka_unit_test(test_bmp_24),
		cmocka_unit_test(test_bmp_palette),
		cmocka_unit_test(test_bmp_bitfields_topdown),
		cmocka_unit_test(test_bmp_refused),
		cmocka_unit_test(test_tiff),
		cmocka_unit_test(test_tiff_alpha),
		cmocka_unit_test(test_webp),
		cmocka_unit_test(test_limit_each_format),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_not_an_image),
		cmocka_unit_test(test_encode_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
