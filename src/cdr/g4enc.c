/*
 * g4enc.c - black and white pixels as CCITT Group 4 (fax) data, for the
 * bilevel pages of PDF copies (mugai/cdr/imgenc.h).  libtiff's encoder does
 * the work, writing a TIFF into memory; only the one strip of coded
 * data is kept, which a PDF's /CCITTFaxDecode filter reads as it is.
 * libtiff's messages go to handlers of this handle (libtiff 4.5's
 * TIFFClientOpenExt), not to the process-wide ones: the milter is
 * threaded.  Runs in the trusted parent on validated pixels.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "mugai/cdr/imgenc.h"

/* The TIFF being written: a growable byte array with a position. */
struct memtiff {
	unsigned char *data;
	size_t	 len, cap, pos;
	size_t	 max;			/* 0: none */
	int	 failed;
};

static tmsize_t
mt_read(thandle_t h, void *buf, tmsize_t n)
{
	struct memtiff *m = h;
	size_t k;

	if (n < 0 || m->pos >= m->len)
		return 0;
	k = (size_t)n < m->len - m->pos ? (size_t)n : m->len - m->pos;
	memcpy(buf, m->data + m->pos, k);
	m->pos += k;
	return (tmsize_t)k;
}

static tmsize_t
mt_write(thandle_t h, void *buf, tmsize_t n)
{
	struct memtiff *m = h;
	unsigned char *p;
	size_t end, cap;

	if (n < 0 || (size_t)n > SIZE_MAX - m->pos)
		goto fail;
	end = m->pos + (size_t)n;
	if (m->max != 0 && end > m->max)
		goto fail;
	if (end > m->cap) {
		cap = m->cap ? m->cap : 65536;
		while (cap < end)
			cap = cap > SIZE_MAX / 2 ? end : cap * 2;
		if ((p = realloc(m->data, cap)) == NULL)
			goto fail;
		m->data = p;
		m->cap = cap;
	}
	if (m->pos > m->len)
		memset(m->data + m->len, 0, m->pos - m->len);
	memcpy(m->data + m->pos, buf, (size_t)n);
	m->pos = end;
	if (end > m->len)
		m->len = end;
	return n;
fail:
	m->failed = 1;
	return -1;
}

static toff_t
mt_seek(thandle_t h, toff_t off, int whence)
{
	struct memtiff *m = h;
	uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ?
	    m->len : 0;

	if (off > UINT64_MAX - base || base + off > SIZE_MAX)
		return (toff_t)-1;
	m->pos = (size_t)(base + off);
	return m->pos;
}

static int
mt_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t
mt_size(thandle_t h)
{
	return ((struct memtiff *)h)->len;
}

static int
mt_map(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0;
}

static void
mt_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

/* libtiff's messages: not printed; a handled error is returned. */
static int
mt_quiet(TIFF *tif, void *user, const char *module, const char *fmt,
    va_list ap)
{
	(void)tif;
	(void)user;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

/*
 * dark8 - the eight pixels at p as a byte, the first in the top bit, 1
 * for black: below 128, which is a clear top bit.  On a little-endian
 * machine a word at a time: each byte's flipped top bit brought down
 * to its lowest, and the multiply gathers the eight into the top byte,
 * first pixel first.
 */
static inline unsigned char
dark8(const uint8_t *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;

	memcpy(&v, p, 8);
	v = (~v >> 7) & UINT64_C(0x0101010101010101);
	return (unsigned char)((v * UINT64_C(0x8040201008040201)) >> 56);
#else
	unsigned char b = 0;
	unsigned k;

	for (k = 0; k < 8; k++)
		b |= (unsigned char)((p[k] < 128) << (7 - k));
	return b;
#endif
}

/* The pixmap's rows as bits, 1 for black (below threshold). */
static unsigned char *
pack_bits(const struct mugai_pixmap *pm, unsigned threshold, size_t *rowlen)
{
	unsigned char *bits, *row;
	const uint8_t *src = pm->data;
	size_t x, y;

	*rowlen = ((size_t)pm->width + 7) / 8;
	if ((bits = calloc(pm->height, *rowlen)) == NULL)
		return NULL;
	for (y = 0; y < pm->height; y++) {
		row = bits + y * *rowlen;
		/*
		 * Eight pixels to a byte, then the row's last few one by
		 * one; a split page's mask (threshold 128) a word a byte.
		 */
		x = 0;
		if (threshold == 128)
			for (; x + 8 <= pm->width; x += 8, src += 8)
				row[x / 8] = dark8(src);
		for (; x + 8 <= pm->width; x += 8, src += 8)
			row[x / 8] = (unsigned char)((src[0] < threshold) << 7 |
			    (src[1] < threshold) << 6 |
			    (src[2] < threshold) << 5 |
			    (src[3] < threshold) << 4 |
			    (src[4] < threshold) << 3 |
			    (src[5] < threshold) << 2 |
			    (src[6] < threshold) << 1 | (src[7] < threshold));
		for (; x < pm->width; x++, src++)
			if (*src < threshold)
				row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
	}
	return bits;
}

/* set_fields - a one-strip, one-bit Group 4 image of the pixmap's size. */
static int
set_fields(TIFF *tif, const struct mugai_pixmap *pm)
{
	return TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)pm->width) &&
	    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)pm->height) &&
	    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1) &&
	    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1) &&
	    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) &&
	    TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB) &&
	    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)pm->height) &&
	    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4) &&
	    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
}

/*
 * mugai_g4_encode - see mugai/cdr/imgenc.h.  The strip's offset and length
 * are read back from libtiff before the file is closed.
 */
mugai_status
mugai_g4_encode(const struct mugai_pixmap *pm, unsigned threshold,
    struct mugai_buf *out)
{
	struct memtiff m = { NULL, 0, 0, 0, out->max, 0 };
	TIFFOpenOptions *opts = NULL;
	TIFF *tif = NULL;
	unsigned char *bits = NULL;
	uint64_t off, count;
	size_t rowlen, was = out->len;
	mugai_status rc = MUGAI_ERR_INTERNAL;

	if (pm == NULL || pm->data == NULL || pm->channels != 1 ||
	    pm->width == 0 || pm->height == 0 || pm->width > 65535 ||
	    pm->height > 65535)
		return MUGAI_ERR_USAGE;
	if ((bits = pack_bits(pm, threshold, &rowlen)) == NULL ||
	    (opts = TIFFOpenOptionsAlloc()) == NULL) {
		rc = MUGAI_ERR_NOMEM;
		goto out;
	}
	TIFFOpenOptionsSetErrorHandlerExtR(opts, mt_quiet, NULL);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, mt_quiet, NULL);
	tif = TIFFClientOpenExt("g4", "w", &m, mt_read, mt_write, mt_seek,
	    mt_close, mt_size, mt_map, mt_unmap, opts);
	if (tif == NULL || !set_fields(tif, pm) ||
	    TIFFWriteEncodedStrip(tif, 0, bits,
	    (tmsize_t)(rowlen * pm->height)) < 0 || m.failed) {
		rc = m.failed && out->max != 0 ? MUGAI_ERR_LIMIT :
		    m.failed ? MUGAI_ERR_NOMEM : MUGAI_ERR_INTERNAL;
		goto out;
	}
	/* The strip is in the file once written; the directory is not. */
	off = TIFFGetStrileOffset(tif, 0);
	count = TIFFGetStrileByteCount(tif, 0);
	if (count == 0 || off > m.len || count > m.len - off)
		goto out;
	rc = mugai_buf_append(out, m.data + off, (size_t)count);
out:
	if (tif != NULL)
		TIFFClose(tif);
	if (opts != NULL)
		TIFFOpenOptionsFree(opts);
	if (rc != MUGAI_OK && out->data != NULL) {
		out->len = was;
		out->data[was] = '\0';
	}
	free(m.data);
	free(bits);
	return rc;
}
