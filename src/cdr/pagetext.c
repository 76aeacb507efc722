/*
 * pagetext.c - the word stream between mugai-convert and the parent (see
 * mugai/cdr/pagetext.h).  The writer runs in the sandboxed worker; the
 * parser runs in the parent on whatever the worker wrote and trusts
 * nothing: every count is checked against what the stream can hold
 * before anything is allocated, every box against its page, every
 * string for UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/text/charset.h"
#include "mugai/cdr/pagetext.h"

#define TXT_MAGIC	"MTXT"
#define TXT_HEAD	8		/* magic, pages */
#define TXT_PAGE_HEAD	4		/* words */
#define TXT_WORD_HEAD	24		/* x0 y0 x1 y1 flags len */

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

int
mugai_word_ok(const char *text, size_t len)
{
	size_t i;

	if (text == NULL || len == 0 || len > MUGAI_WORD_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return 0;
	return mugai_utf8_valid(text, len);
}

mugai_status
mugai_pagetext_begin(struct mugai_buf *out, uint32_t pages)
{
	unsigned char head[TXT_HEAD];

	memcpy(head, TXT_MAGIC, 4);
	put_le32(head + 4, pages);
	return mugai_buf_append(out, head, sizeof(head));
}

mugai_status
mugai_pagetext_page(struct mugai_buf *out, uint32_t words)
{
	unsigned char head[TXT_PAGE_HEAD];

	put_le32(head, words);
	return mugai_buf_append(out, head, sizeof(head));
}

mugai_status
mugai_pagetext_word(struct mugai_buf *out, uint32_t x0, uint32_t y0,
    uint32_t x1, uint32_t y1, uint32_t flags, const char *text, size_t len)
{
	unsigned char head[TXT_WORD_HEAD];
	size_t was = out->len;
	mugai_status rc;

	if (x0 >= x1 || y0 >= y1 || (flags & ~MUGAI_WORD_VERTICAL) != 0 ||
	    !mugai_word_ok(text, len))
		return MUGAI_ERR_USAGE;
	put_le32(head, x0);
	put_le32(head + 4, y0);
	put_le32(head + 8, x1);
	put_le32(head + 12, y1);
	put_le32(head + 16, flags);
	put_le32(head + 20, (uint32_t)len);
	if ((rc = mugai_buf_append(out, head, sizeof(head))) != MUGAI_OK)
		return rc;
	if ((rc = mugai_buf_append(out, text, len)) != MUGAI_OK) {
		out->len = was;
		out->data[was] = '\0';
	}
	return rc;
}

void
mugai_pagetext_free(struct mugai_pagetext *pages, size_t npages)
{
	size_t i;

	if (pages == NULL)
		return;
	for (i = 0; i < npages; i++)
		free(pages[i].words);
	free(pages);
}

/* One word at p (left bytes there); its size in *size, or -1. */
static int
parse_word(const unsigned char *p, size_t left, uint32_t w, uint32_t h,
    struct mugai_word *wd, size_t *size)
{
	if (left < TXT_WORD_HEAD)
		return -1;
	wd->x0 = get_le32(p);
	wd->y0 = get_le32(p + 4);
	wd->x1 = get_le32(p + 8);
	wd->y1 = get_le32(p + 12);
	wd->flags = get_le32(p + 16);
	wd->len = get_le32(p + 20);
	if (wd->x0 >= wd->x1 || wd->y0 >= wd->y1 || wd->x1 > w || wd->y1 > h ||
	    (wd->flags & ~MUGAI_WORD_VERTICAL) != 0)
		return -1;
	if (wd->len == 0 || wd->len > MUGAI_WORD_MAX ||
	    wd->len > left - TXT_WORD_HEAD)
		return -1;
	wd->text = (const char *)p + TXT_WORD_HEAD;
	if (!mugai_word_ok(wd->text, wd->len))
		return -1;
	*size = TXT_WORD_HEAD + wd->len;
	return 0;
}

/*
 * parse_page - the page at *off; its words counted into *words and
 * *bytes, which must stay within lim.
 */
static mugai_status
parse_page(const unsigned char *p, size_t len, size_t *off, uint32_t w,
    uint32_t h, const struct mugai_pagetext_limits *lim, size_t *words,
    size_t *bytes, struct mugai_pagetext *pg)
{
	size_t n, i, size;

	if (len - *off < TXT_PAGE_HEAD)
		return MUGAI_ERR_PARSE;
	n = get_le32(p + *off);
	*off += TXT_PAGE_HEAD;
	/* Each word takes at least a header and one byte. */
	if (n > (len - *off) / (TXT_WORD_HEAD + 1) ||
	    n > lim->max_words - *words)
		return MUGAI_ERR_PARSE;
	if (n == 0)
		return MUGAI_OK;
	if ((pg->words = calloc(n, sizeof(*pg->words))) == NULL)
		return MUGAI_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (parse_word(p + *off, len - *off, w, h, &pg->words[i],
		    &size) != 0 || pg->words[i].len > lim->max_bytes - *bytes)
			return MUGAI_ERR_PARSE;
		*bytes += pg->words[i].len;
		*off += size;
	}
	pg->nwords = n;
	*words += n;
	return MUGAI_OK;
}

mugai_status
mugai_pagetext_parse(const void *buf, size_t len, size_t npages,
    const uint32_t *page_w, const uint32_t *page_h,
    const struct mugai_pagetext_limits *lim, struct mugai_pagetext **pages)
{
	const unsigned char *p = buf;
	struct mugai_pagetext *pg;
	size_t off, i, words = 0, bytes = 0;
	mugai_status rc = MUGAI_ERR_PARSE;

	*pages = NULL;
	if (p == NULL || len < TXT_HEAD || memcmp(p, TXT_MAGIC, 4) != 0 ||
	    npages == 0 || get_le32(p + 4) != npages ||
	    npages > (len - TXT_HEAD) / TXT_PAGE_HEAD)
		return MUGAI_ERR_PARSE;
	if ((pg = calloc(npages, sizeof(*pg))) == NULL)
		return MUGAI_ERR_NOMEM;
	off = TXT_HEAD;
	for (i = 0; i < npages; i++)
		if ((rc = parse_page(p, len, &off, page_w[i], page_h[i], lim,
		    &words, &bytes, &pg[i])) != MUGAI_OK)
			goto bad;
	if (off != len) {
		rc = MUGAI_ERR_PARSE;
		goto bad;
	}
	*pages = pg;
	return MUGAI_OK;
bad:
	mugai_pagetext_free(pg, npages);
	return rc;
}
