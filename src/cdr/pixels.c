/*
 * pixels.c - the pixel stream between mugai-convert and the parent (see
 * mugai/cdr/pixels.h).  The writer runs in the sandboxed worker; the parser
 * runs in the parent on whatever the worker wrote, so it trusts nothing:
 * every size is checked before it is used and the arithmetic cannot
 * overflow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pixels.h"

#define PIX_MAGIC	"MPIX"
#define PIX_HEAD	8		/* magic, count */
#define PIX_IMAGE_HEAD	16		/* width, height, channels, flags */
#define PIX_FLAGS	MUGAI_PIX_PHOTO	/* every flag bit defined so far */

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * pix_size - width*height*channels in *size; -1 when a factor is zero,
 * channels is not 1 or 3, or the product does not fit a size_t.
 */
static int
pix_size(uint32_t width, uint32_t height, uint32_t channels, size_t *size)
{
	size_t n;

	if (width == 0 || height == 0 || (channels != 1 && channels != 3))
		return -1;
	if ((size_t)width > SIZE_MAX / height)
		return -1;
	n = (size_t)width * height;
	if (n > SIZE_MAX / channels)
		return -1;
	*size = n * channels;
	return 0;
}

/*
 * mugai_pixels_begin - start a stream of count images (at least one) in
 * out.  MUGAI_ERR_USAGE for count 0, else the status of the append.
 */
mugai_status
mugai_pixels_begin(struct mugai_buf *out, uint32_t count)
{
	unsigned char head[PIX_HEAD];

	if (count == 0)
		return MUGAI_ERR_USAGE;
	memcpy(head, PIX_MAGIC, 4);
	put_le32(head + 4, count);
	return mugai_buf_append(out, head, sizeof(head));
}

/*
 * mugai_pixels_add - append one image: data holds width*height*channels
 * bytes, row by row.  MUGAI_ERR_USAGE for sizes the parser would refuse;
 * on any failure out is left as it was (no half-written image).
 */
mugai_status
mugai_pixels_add(struct mugai_buf *out, uint32_t width, uint32_t height,
    uint32_t channels, uint32_t flags, const void *data)
{
	unsigned char head[PIX_IMAGE_HEAD];
	size_t size, was;
	mugai_status rc;

	if (pix_size(width, height, channels, &size) != 0 ||
	    (flags & ~PIX_FLAGS) != 0 || data == NULL)
		return MUGAI_ERR_USAGE;
	put_le32(head, width);
	put_le32(head + 4, height);
	put_le32(head + 8, channels);
	put_le32(head + 12, flags);
	was = out->len;
	if ((rc = mugai_buf_append(out, head, sizeof(head))) != MUGAI_OK)
		return rc;
	if ((rc = mugai_buf_append(out, data, size)) != MUGAI_OK) {
		out->len = was;
		out->data[was] = '\0';
		return rc;
	}
	return MUGAI_OK;
}

/* One image header at p (PIX_IMAGE_HEAD bytes); its data size in *size. */
static int
pixels_parse_one(const unsigned char *p, size_t max_pixels,
    struct mugai_pixmap *pm, size_t *size)
{
	pm->width = get_le32(p);
	pm->height = get_le32(p + 4);
	pm->channels = get_le32(p + 8);
	pm->flags = get_le32(p + 12);
	if ((pm->flags & ~PIX_FLAGS) != 0)
		return -1;
	if (pix_size(pm->width, pm->height, pm->channels, size) != 0)
		return -1;
	/* pix_size showed width*height fits a size_t. */
	if ((size_t)pm->width * pm->height > max_pixels)
		return -1;
	return 0;
}

/*
 * mugai_pixels_parse_prefix - see mugai/cdr/pixels.h.  Unknown flag bits
 * are refused too: a worker that sets them is not one this parent knows.
 */
mugai_status
mugai_pixels_parse_prefix(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, struct mugai_pixmap **maps, size_t *n, size_t *used)
{
	const unsigned char *p = buf;
	struct mugai_pixmap *pm;
	size_t off, count, i, size;

	*maps = NULL;
	*n = 0;
	if (p == NULL || len < PIX_HEAD || memcmp(p, PIX_MAGIC, 4) != 0)
		return MUGAI_ERR_PARSE;
	count = get_le32(p + 4);
	/*
	 * Each image takes at least a header and one byte, so a count the
	 * stream cannot hold is refused before the array is allocated.
	 */
	if (count == 0 || count > max_images ||
	    count > (len - PIX_HEAD) / (PIX_IMAGE_HEAD + 1))
		return MUGAI_ERR_PARSE;
	if ((pm = calloc(count, sizeof(*pm))) == NULL)
		return MUGAI_ERR_NOMEM;
	off = PIX_HEAD;
	for (i = 0; i < count; i++) {
		if (len - off < PIX_IMAGE_HEAD ||
		    pixels_parse_one(p + off, max_pixels, &pm[i], &size) != 0)
			goto bad;
		off += PIX_IMAGE_HEAD;
		if (size > len - off)
			goto bad;
		pm[i].data = p + off;
		off += size;
	}
	*maps = pm;
	*n = count;
	*used = off;
	return MUGAI_OK;
bad:
	free(pm);
	return MUGAI_ERR_PARSE;
}

mugai_status
mugai_pixels_parse(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, struct mugai_pixmap **maps, size_t *n)
{
	mugai_status rc;
	size_t used;

	rc = mugai_pixels_parse_prefix(buf, len, max_pixels, max_images, maps,
	    n, &used);
	if (rc == MUGAI_OK && used != len) {
		free(*maps);
		*maps = NULL;
		*n = 0;
		return MUGAI_ERR_PARSE;
	}
	return rc;
}
