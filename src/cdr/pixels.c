/*
 * pixels.c - the pixel stream between mugai-convert and the parent (see
 * mugai/cdr/pixels.h).  The writer runs in the sandboxed worker; the parser
 * runs in the parent on whatever the worker wrote, so it trusts nothing:
 * every size is checked before it is used and the arithmetic cannot
 * overflow.
 *
 * PDF pages may come run-length coded (PackBits, as TIFF defines it):
 * a page of text is mostly paper, and its runs cut what crosses the
 * pipe, and the memory the worker touches, to a fifth (dense text, a
 * photograph) or a fiftieth (a few lines).  The decoder is
 * written here, twenty lines that check every count against both
 * buffers, rather than taken from libtiff, whose codec works on TIFF
 * strips and not on a buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pixels.h"

#define PIX_MAGIC	"MPIX"
#define PIX_HEAD	8		/* magic, count */
#define PIX_IMAGE_HEAD	16		/* width, height, channels, flags */
#define PIX_FLAGS	MUGAI_PIX_PHOTO	/* every flag bit of a plain image */
#define PIX_RUNS_HEAD	4		/* a coded image's coded length */

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

/* pixels_head - an image's header into out; *size its data's size. */
static mugai_status
pixels_head(struct mugai_buf *out, uint32_t width, uint32_t height,
    uint32_t channels, uint32_t flags, size_t *size)
{
	unsigned char head[PIX_IMAGE_HEAD];

	if (pix_size(width, height, channels, size) != 0 ||
	    (flags & ~PIX_FLAGS) != 0)
		return MUGAI_ERR_USAGE;
	put_le32(head, width);
	put_le32(head + 4, height);
	put_le32(head + 8, channels);
	put_le32(head + 12, flags);
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
	size_t size, was = out->len;
	mugai_status rc;

	if (data == NULL)
		return MUGAI_ERR_USAGE;
	if ((rc = pixels_head(out, width, height, channels, flags, &size)) !=
	    MUGAI_OK)
		return rc;
	if ((rc = mugai_buf_append(out, data, size)) != MUGAI_OK) {
		out->len = was;
		out->data[was] = '\0';
		return rc;
	}
	return MUGAI_OK;
}

/* mugai_pixels_runs_begin - see mugai/cdr/pixels.h. */
mugai_status
mugai_pixels_runs_begin(struct mugai_buf *out, uint32_t width,
    uint32_t height, uint32_t channels, size_t *at)
{
	unsigned char head[PIX_IMAGE_HEAD + PIX_RUNS_HEAD];
	size_t size;

	if (pix_size(width, height, channels, &size) != 0)
		return MUGAI_ERR_USAGE;
	put_le32(head, width);
	put_le32(head + 4, height);
	put_le32(head + 8, channels);
	put_le32(head + 12, MUGAI_PIX_RUNS);
	put_le32(head + 16, 0);		/* mugai_pixels_runs_end's */
	*at = out->len + PIX_IMAGE_HEAD;
	return mugai_buf_append(out, head, sizeof(head));
}

/*
 * run_len - how many times s[0] repeats from s[0], at most max (<= 128):
 * eight bytes at a time first, as most of a page is paper.
 */
static size_t
run_len(const uint8_t *s, size_t max)
{
	uint64_t pat = s[0] * UINT64_C(0x0101010101010101), w;
	size_t r = 1;

	while (r + 8 <= max) {
		memcpy(&w, s + r, 8);
		if (w != pat)
			break;
		r += 8;
	}
	while (r < max && s[r] == s[0])
		r++;
	return r;
}

/*
 * triple8 - whether three equal bytes begin at any of s[0..8) (s has
 * ten bytes): a byte of (x ^ y) | (y ^ z) is zero exactly there, and a
 * word has a zero byte exactly when the classic test below says so.
 */
static inline int
triple8(const uint8_t *s)
{
	uint64_t x, y, z, v;

	memcpy(&x, s, 8);
	memcpy(&y, s + 1, 8);
	memcpy(&z, s + 2, 8);
	v = (x ^ y) | (y ^ z);
	return ((v - UINT64_C(0x0101010101010101)) & ~v &
	    UINT64_C(0x8080808080808080)) != 0;
}

/*
 * packbits - s[0..n) as PackBits into d (mugai_pixels_runs_bound(n)
 * bytes): a control byte c of 0..127 takes the c + 1 bytes after it as
 * they are, one of 129..255 repeats the byte after it 257 - c times.
 * A stretch starting with two equal bytes or more is coded as a run, a
 * literal stretch ends where three equal bytes begin; the coded length.
 * A literal stretch (a photograph) is looked through eight bytes a
 * test, byte by byte only where three equal bytes may begin.
 */
static size_t
packbits(const uint8_t *s, size_t n, uint8_t *d)
{
	size_t i = 0, o = 0, r, start;

	while (i < n) {
		r = run_len(s + i, n - i < 128 ? n - i : 128);
		if (r >= 2) {
			d[o++] = (uint8_t)(257 - r);
			d[o++] = s[i];
			i += r;
			continue;
		}
		start = i;
		while (i + 10 <= n && i + 8 - start <= 128 && !triple8(s + i))
			i += 8;
		for (; i < n && i - start < 128; i++)
			if (i + 2 < n && s[i] == s[i + 1] && s[i] == s[i + 2])
				break;
		d[o++] = (uint8_t)(i - start - 1);
		memcpy(d + o, s + start, i - start);
		o += i - start;
	}
	return o;
}

/* mugai_pixels_runs_row - see mugai/cdr/pixels.h. */
mugai_status
mugai_pixels_runs_row(struct mugai_buf *out, const uint8_t *row, size_t n,
    uint8_t *scratch)
{
	return mugai_buf_append(out, scratch, packbits(row, n, scratch));
}

/* mugai_pixels_runs_end - see mugai/cdr/pixels.h. */
mugai_status
mugai_pixels_runs_end(struct mugai_buf *out, size_t at)
{
	size_t coded;

	if (at > out->len || out->len - at < PIX_RUNS_HEAD)
		return MUGAI_ERR_USAGE;
	coded = out->len - at - PIX_RUNS_HEAD;
	if (coded > UINT32_MAX)
		return MUGAI_ERR_LIMIT;
	put_le32((unsigned char *)out->data + at, (uint32_t)coded);
	return MUGAI_OK;
}

/*
 * unpackbits - the PackBits in s[0..n) into exactly want bytes at d,
 * or, with d NULL, only whether they would decode so: a page is proven
 * whole when the stream is parsed (coded_within), and decoded when it
 * is used (mugai_pixels_unpack), which cannot fail then.  -1 when a
 * count runs past either buffer, the data ends short of want, or a
 * control byte is 128 (no writer here makes one).
 */
static int
unpackbits(const uint8_t *s, size_t n, uint8_t *d, size_t want)
{
	size_t i = 0, o = 0, k;
	unsigned c;

	while (i < n) {
		c = s[i++];
		if (c < 128) {
			k = (size_t)c + 1;
			if (k > n - i || k > want - o)
				return -1;
			if (d != NULL)
				memcpy(d + o, s + i, k);
			i += k;
		} else if (c > 128) {
			k = 257 - (size_t)c;
			if (i >= n || k > want - o)
				return -1;
			if (d != NULL)
				memset(d + o, s[i], k);
			i++;
		} else
			return -1;
		o += k;
	}
	return o == want ? 0 : -1;
}

/* One image header at p (PIX_IMAGE_HEAD bytes); its data size in *size. */
static int
pixels_parse_one(const unsigned char *p, size_t max_pixels, int runs,
    struct mugai_pixmap *pm, size_t *size)
{
	pm->width = get_le32(p);
	pm->height = get_le32(p + 4);
	pm->channels = get_le32(p + 8);
	pm->flags = get_le32(p + 12);
	if ((pm->flags & ~(runs ? MUGAI_PIX_RUNS : PIX_FLAGS)) != 0)
		return -1;
	if (pix_size(pm->width, pm->height, pm->channels, size) != 0)
		return -1;
	/* pix_size showed width*height fits a size_t. */
	if ((size_t)pm->width * pm->height > max_pixels)
		return -1;
	return 0;
}

/*
 * pixels_parse - the stream's images into *maps; with runs, pages that
 * may be coded (MUGAI_PIX_RUNS, no other flag), whose coded length is
 * then in coded[i] (an array of max_images) and data the coded bytes.
 * Unknown flag bits are refused: a worker that sets them is not one
 * this parent knows.
 */
static mugai_status
pixels_parse(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, size_t *coded, struct mugai_pixmap **maps, size_t *n,
    size_t *used)
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
		    pixels_parse_one(p + off, max_pixels, coded != NULL,
		    &pm[i], &size) != 0)
			goto bad;
		off += PIX_IMAGE_HEAD;
		if (pm[i].flags & MUGAI_PIX_RUNS) {
			if (len - off < PIX_RUNS_HEAD)
				goto bad;
			size = coded[i] = get_le32(p + off);
			off += PIX_RUNS_HEAD;
		}
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
mugai_pixels_parse_prefix(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, struct mugai_pixmap **maps, size_t *n, size_t *used)
{
	return pixels_parse(buf, len, max_pixels, max_images, NULL, maps, n,
	    used);
}

/*
 * unpack_pages - the coded pages of pm[0..n) (coded lengths in coded)
 * decoded into one malloc'd *store, at most max_bytes, and pointed at.
 */
static mugai_status
unpack_pages(struct mugai_pixmap *pm, size_t n, const size_t *coded,
    size_t max_bytes, uint8_t **store)
{
	size_t i, size, total = 0, off = 0;
	uint8_t *d;

	for (i = 0; i < n; i++) {
		if (!(pm[i].flags & MUGAI_PIX_RUNS))
			continue;
		/* pixels_parse_one showed each size fits a size_t. */
		size = (size_t)pm[i].width * pm[i].height * pm[i].channels;
		if (size > max_bytes - total)
			return MUGAI_ERR_PARSE;
		total += size;
	}
	if (total == 0)
		return MUGAI_OK;
	if ((d = malloc(total)) == NULL)
		return MUGAI_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (!(pm[i].flags & MUGAI_PIX_RUNS))
			continue;
		size = (size_t)pm[i].width * pm[i].height * pm[i].channels;
		if (unpackbits(pm[i].data, coded[i], d + off, size) != 0) {
			free(d);
			return MUGAI_ERR_PARSE;
		}
		pm[i].data = d + off;
		pm[i].flags &= ~MUGAI_PIX_RUNS;
		off += size;
	}
	*store = d;
	return MUGAI_OK;
}

/*
 * coded_within - the coded pages of pm[0..n) each proven to decode to
 * its size (unpackbits without a destination), and all decoded within
 * max_bytes.
 */
static mugai_status
coded_within(const struct mugai_pixmap *pm, size_t n, const size_t *coded,
    size_t max_bytes)
{
	size_t i, size, total = 0;

	for (i = 0; i < n; i++) {
		if (!(pm[i].flags & MUGAI_PIX_RUNS))
			continue;
		/* pixels_parse_one showed each size fits a size_t. */
		size = (size_t)pm[i].width * pm[i].height * pm[i].channels;
		if (size > max_bytes - total ||
		    unpackbits(pm[i].data, coded[i], NULL, size) != 0)
			return MUGAI_ERR_PARSE;
		total += size;
	}
	return MUGAI_OK;
}

/* mugai_pixels_parse_coded - see mugai/cdr/pixels.h. */
mugai_status
mugai_pixels_parse_coded(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, size_t max_bytes, struct mugai_pixmap **maps,
    size_t **coded, size_t *n, size_t *used)
{
	mugai_status rc;

	*maps = NULL;
	*coded = NULL;
	*n = 0;
	if (max_images == 0 || max_images > SIZE_MAX / sizeof(**coded))
		return MUGAI_ERR_PARSE;
	/* At most what the stream can hold, as pixels_parse checks. */
	if (buf != NULL && len >= PIX_HEAD &&
	    max_images > (len - PIX_HEAD) / (PIX_IMAGE_HEAD + 1))
		max_images = (len - PIX_HEAD) / (PIX_IMAGE_HEAD + 1);
	if ((*coded = calloc(max_images ? max_images : 1, sizeof(**coded))) ==
	    NULL)
		return MUGAI_ERR_NOMEM;
	rc = pixels_parse(buf, len, max_pixels, max_images, *coded, maps, n,
	    used);
	if (rc == MUGAI_OK &&
	    (rc = coded_within(*maps, *n, *coded, max_bytes)) != MUGAI_OK) {
		free(*maps);
		*maps = NULL;
		*n = 0;
	}
	if (rc != MUGAI_OK) {
		free(*coded);
		*coded = NULL;
	}
	return rc;
}

/* mugai_pixels_unpack - see mugai/cdr/pixels.h. */
mugai_status
mugai_pixels_unpack(const struct mugai_pixmap *pm, size_t coded,
    uint8_t *dst, struct mugai_pixmap *out)
{
	*out = *pm;
	if (!(pm->flags & MUGAI_PIX_RUNS))
		return MUGAI_OK;
	if (unpackbits(pm->data, coded, dst, (size_t)pm->width * pm->height *
	    pm->channels) != 0)
		return MUGAI_ERR_PARSE;
	out->data = dst;
	out->flags &= ~MUGAI_PIX_RUNS;
	return MUGAI_OK;
}

/* mugai_pixels_parse_pages - see mugai/cdr/pixels.h. */
mugai_status
mugai_pixels_parse_pages(const void *buf, size_t len, size_t max_pixels,
    size_t max_images, size_t max_bytes, struct mugai_pixmap **maps,
    size_t *n, size_t *used, uint8_t **store)
{
	size_t *coded;
	mugai_status rc;

	*store = NULL;
	rc = mugai_pixels_parse_coded(buf, len, max_pixels, max_images,
	    max_bytes, maps, &coded, n, used);
	if (rc == MUGAI_OK &&
	    (rc = unpack_pages(*maps, *n, coded, max_bytes, store)) !=
	    MUGAI_OK) {
		free(*maps);
		*maps = NULL;
		*n = 0;
	}
	free(coded);
	return rc;
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
