/*
 * ocr.c - words for pages without any, read by Tesseract in the
 * sandbox (mugai/cdr/ocr.h).  Tesseract's TSV output is one line per
 * item: level, page, block, paragraph, line and word numbers, left,
 * top, width, height (pixels), confidence and the text; level 5 is a
 * word.  Only words are kept, checked like the worker's.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "mugai/base/log.h"
#include "mugai/cdr/ocr.h"
#include "mugai/cdr/office.h"

#define TSV_FIELDS	12
#define TSV_WORD	5		/* the level of a word */
#define OCR_UPSCALE_BELOW 200		/* dpi: pages given at twice that */

/* A decimal field of at most 9 digits; -1 when it is not one. */
static long
tsv_uint(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * tsv_split - line[0..n) cut at tabs into f[TSV_FIELDS] (start, length);
 * 0 unless it has exactly that many fields.
 */
static int
tsv_split(const char *line, size_t n, const char *f[], size_t fl[])
{
	size_t i, k = 0, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && line[i] != '\t')
			continue;
		if (k == TSV_FIELDS)
			return 0;
		f[k] = line + start;
		fl[k++] = i - start;
		start = i + 1;
	}
	return k == TSV_FIELDS;
}

/* Pixels to 1/100 pt at dpi. */
static uint32_t
to_cpt(long px, unsigned dpi)
{
	return (uint32_t)((uint64_t)px * 7200 / dpi);
}

/* tsv_word - one word line into w; -1 malformed, 0 skipped, 1 kept. */
static int
tsv_word(const char *f[], const size_t fl[], uint32_t width, uint32_t height,
    unsigned dpi, struct mugai_word *w)
{
	long left, top, wd, ht;
	const char *s = f[11];
	size_t n = fl[11];

	left = tsv_uint(f[6], fl[6]);
	top = tsv_uint(f[7], fl[7]);
	wd = tsv_uint(f[8], fl[8]);
	ht = tsv_uint(f[9], fl[9]);
	if (left < 0 || top < 0 || wd < 0 || ht < 0 ||
	    (uint64_t)left + wd > width || (uint64_t)top + ht > height)
		return -1;
	/* Trailing CR or spaces; an empty or odd word is no word. */
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		n--;
	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	if (n == 0 || wd == 0 || ht == 0 || !mugai_word_ok(s, n))
		return 0;
	memset(w, 0, sizeof(*w));
	w->x0 = to_cpt(left, dpi);
	w->y0 = to_cpt(top, dpi);
	w->x1 = to_cpt(left + wd, dpi);
	w->y1 = to_cpt(top + ht, dpi);
	if (w->x1 <= w->x0 || w->y1 <= w->y0)
		return 0;
	w->text = s;
	w->len = (uint32_t)n;
	return 1;
}

mugai_status
mugai_ocr_parse(const char *tsv, size_t len, uint32_t width, uint32_t height,
    unsigned dpi, size_t max_words, size_t *total, struct mugai_pagetext *t)
{
	const char *p = tsv, *end = tsv + len, *nl, *f[TSV_FIELDS];
	size_t fl[TSV_FIELDS], cap = 0, lines = 0;
	struct mugai_word *words = NULL, *nw;
	int r;

	t->words = NULL;
	t->nwords = 0;
	if (dpi == 0 || (len > 0 && tsv == NULL))
		return MUGAI_ERR_USAGE;
	for (; p < end; p = nl + 1, lines++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (!tsv_split(p, (size_t)(nl - p), f, fl))
			goto bad;
		/* The header line names the fields. */
		if (lines == 0 && fl[0] == 5 && memcmp(f[0], "level", 5) == 0)
			continue;
		if (tsv_uint(f[0], fl[0]) != TSV_WORD)
			continue;
		if (t->nwords == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nw = realloc(words, cap * sizeof(*nw))) == NULL) {
				free(words);
				return MUGAI_ERR_NOMEM;
			}
			words = nw;
		}
		if ((r = tsv_word(f, fl, width, height, dpi,
		    &words[t->nwords])) < 0)
			goto bad;
		if (r == 0 || *total >= max_words)
			continue;
		t->nwords++;
		(*total)++;
	}
	if (t->nwords == 0) {
		free(words);
		words = NULL;
	}
	t->words = words;
	return MUGAI_OK;
bad:
	free(words);
	t->nwords = 0;
	return MUGAI_ERR_PARSE;
}

/* The grey level of pixel (x, y), clamped to the page. */
static unsigned
grey_at(const struct mugai_pixmap *pm, uint32_t x, uint32_t y)
{
	const uint8_t *p;

	x = x < pm->width ? x : pm->width - 1;
	y = y < pm->height ? y : pm->height - 1;
	p = pm->data + ((size_t)y * pm->width + x) * pm->channels;
	return pm->channels == 1 ? p[0] :
	    (p[0] * 77u + p[1] * 150u + p[2] * 29u) >> 8;
}

mugai_status
mugai_ocr_pgm(const struct mugai_pixmap *pm, unsigned scale,
    struct mugai_buf *out)
{
	uint8_t *row;
	uint32_t x, y, sx, sy;
	unsigned a, b, c, d;
	mugai_status rc = MUGAI_OK;

	if ((pm->channels != 1 && pm->channels != 3) || pm->width == 0 ||
	    pm->height == 0 || (scale != 1 && scale != 2))
		return MUGAI_ERR_USAGE;
	if ((rc = mugai_buf_printf(out, "P5\n%u %u\n255\n",
	    (unsigned)pm->width * scale, (unsigned)pm->height * scale)) !=
	    MUGAI_OK)
		return rc;
	if ((row = malloc((size_t)pm->width * scale)) == NULL)
		return MUGAI_ERR_NOMEM;
	/* Twice the size, each new pixel the mean of its neighbours. */
	for (y = 0; y < pm->height * scale && rc == MUGAI_OK; y++) {
		sy = y / scale;
		for (x = 0; x < pm->width * scale; x++) {
			sx = x / scale;
			a = grey_at(pm, sx, sy);
			b = x % 2 ? grey_at(pm, sx + 1, sy) : a;
			c = y % 2 ? grey_at(pm, sx, sy + 1) : a;
			d = x % 2 && y % 2 ? grey_at(pm, sx + 1, sy + 1) :
			    x % 2 ? b : c;
			row[x] = (uint8_t)((a + b + c + d + 2) / 4);
		}
		rc = mugai_buf_append(out, row, (size_t)pm->width * scale);
	}
	free(row);
	return rc;
}

/* ocr_one - page pm into *t; 0 done, 1 failed (st->why), -1 error rc. */
static int
ocr_one(const struct mugai_config *cfg, const struct mugai_pixmap *pm,
    unsigned dpi, unsigned timeout_s, size_t *total, struct mugai_buf *tsv,
    struct mugai_pagetext *t, struct mugai_ocr_stats *st, mugai_status *rc)
{
	struct mugai_worker_status ws;
	struct mugai_buf pgm;
	char why[sizeof(st->why)];
	int avail = 0;

	/* Tesseract reads small text far better at 300 dpi than at 150. */
	unsigned scale = dpi < OCR_UPSCALE_BELOW ? 2 : 1;

	mugai_buf_init(&pgm, 0);
	if ((*rc = mugai_ocr_pgm(pm, scale, &pgm)) == MUGAI_OK)
		*rc = mugai_office_ocr(cfg, pgm.data, pgm.len, dpi * scale,
		    timeout_s, tsv, &ws, &avail);
	mugai_buf_free(&pgm);
	if (*rc != MUGAI_OK)
		return -1;
	if (!avail) {
		st->unavailable = 1;
		snprintf(why, sizeof(why), "Tesseract (%s), bubblewrap or "
		    "prlimit is not installed", cfg->pdf_ocr_tesseract);
	} else if (ws.end != MUGAI_WORKER_DONE) {
		mugai_worker_describe(&ws, why, sizeof(why));
	} else if ((*rc = mugai_ocr_parse(tsv->data, tsv->len,
	    pm->width * scale, pm->height * scale, dpi * scale,
	    cfg->pdf_text_max_words, total, t)) ==
	    MUGAI_ERR_NOMEM) {
		return -1;
	} else if (*rc != MUGAI_OK) {
		snprintf(why, sizeof(why), "Tesseract's output is malformed "
		    "(%zu bytes)", tsv->len);
	} else
		return 0;
	*rc = MUGAI_OK;
	if (st->why[0] == '\0')
		snprintf(st->why, sizeof(st->why), "%s", why);
	st->failed++;
	return 1;
}

/* Whole seconds from now to deadline (a part counts); 0 when past. */
static unsigned
left_s(const struct timespec *deadline)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
	    (deadline->tv_nsec - now.tv_nsec);
	return ns <= 0 ? 0 : (unsigned)((ns + 999999999LL) / 1000000000LL);
}

mugai_status
mugai_ocr_pages(const struct mugai_config *cfg,
    const struct mugai_pixmap *pages, size_t n, unsigned dpi,
    unsigned timeout_s, struct mugai_pagetext *text, struct mugai_buf *tsv,
    struct mugai_ocr_stats *st)
{
	struct timespec deadline;
	size_t i, total = 0;
	unsigned left;
	mugai_status rc = MUGAI_OK;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	for (i = 0; i < n; i++)
		total += text[i].nwords;
	for (i = 0; i < n && !st->unavailable; i++) {
		if (text[i].nwords > 0)
			continue;
		free(text[i].words);
		text[i].words = NULL;
		if ((left = left_s(&deadline)) == 0) {
			/* The rest go without words: the copy still goes. */
			if (st->why[0] == '\0')
				snprintf(st->why, sizeof(st->why), "no time "
				    "left for Tesseract (%u s for all pages)",
				    timeout_s);
			st->failed++;
			continue;
		}
		switch (ocr_one(cfg, &pages[i], dpi, left, &total,
		    &tsv[i], &text[i], st, &rc)) {
		case -1:
			return rc;
		case 0:
			st->pages++;
			st->words += text[i].nwords;
			break;
		}
	}
	return MUGAI_OK;
}
