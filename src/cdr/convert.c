/*
 * convert.c - sanitised copies of attachments: run the sandboxed worker,
 * check what it wrote, rebuild a fresh file from it.  See mugai/cdr/convert.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "mugai/base/csv.h"
#include "mugai/base/log.h"
#include "mugai/cdr/convert.h"
#include "mugai/cdr/imgenc.h"
#include "mugai/cdr/members.h"
#include "mugai/cdr/ocr.h"
#include "mugai/cdr/office.h"
#include "mugai/cdr/pdfwrite.h"
#include "mugai/cdr/pixels.h"
#include "mugai/cdr/worker.h"
#include "mugai/cdr/pagetext.h"
#include "mugai/scan/typing.h"
#include "mugai/text/charset.h"
#include "mugai/text/html2text.h"

#define JPEG_PHOTO_QUALITY	90
#define JPEG_PAGE_QUALITY	75

struct conv {
	const struct mugai_config *cfg;
	const char *logid;
	char	 worker[4096];
	/*
	 * Members and unpacked bytes of every archive opened for this one
	 * attachment: the archive limits hold for the whole tree, or a zip
	 * of 1000 zips of 1000 files would pass each check and still cost a
	 * million members and a thousand workers.
	 */
	size_t	 members_seen;
	size_t	 bytes_seen;
	char	 over[160];		/* the tree limit passed, or "" */
	struct timespec deadline;	/* CLOCK_MONOTONIC: the message's
					   conversion time runs out */
};

static void
held(struct mugai_convert_result *res, const char *reason, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
held(struct mugai_convert_result *res, const char *reason, const char *fmt,
    ...)
{
	va_list ap;

	res->held = 1;
	res->reason = reason;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	mugai_buf_reset(&res->data);
}

/*
 * Seconds left before the deadline, a part counted as whole (worker
 * timeouts are in seconds), at most cap; 0 when none is left.
 */
static unsigned
seconds_left(const struct conv *c, unsigned cap)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000000000LL +
	    (c->deadline.tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	ns = (ns + 999999999LL) / 1000000000LL;
	return ns < cap ? (unsigned)ns : cap;
}

static void
held_for_time(const struct conv *c, struct mugai_convert_result *res)
{
	held(res, "time", "the message's conversion time is used up "
	    "(convert_message_timeout %u s)", c->cfg->convert_message_timeout);
}

/* The phrase key for a worker that did not finish its job. */
static const char *
worker_reason(const struct mugai_worker_status *st)
{
	if (st->end == MUGAI_WORKER_TIMEOUT)
		return "time";
	if (st->end != MUGAI_WORKER_EXIT)
		return "convert-failed";
	switch (st->code) {
	case MUGAI_CONVERT_EXIT_ENCRYPTED:
		return "encrypted";
	case MUGAI_CONVERT_EXIT_TOO_BIG:
		return "too-big";
	case MUGAI_CONVERT_EXIT_BAD_INPUT:
		return "unreadable";
	case MUGAI_CONVERT_EXIT_UNSAFE:
		return "unsafe";
	case MUGAI_CONVERT_EXIT_XFA:
		return "xfa";
	}
	return "convert-failed";
}

/*
 * Run mugai-convert MODE on in; 1 with its output in out, 0 when it did
 * not finish (res is then held), -1 when it could not be started.
 */
static int
run_worker(struct conv *c, const char *mode, const void *in, size_t len,
    struct mugai_buf *out, struct mugai_convert_result *res)
{
	const struct mugai_config *cfg = c->cfg;
	char opt[10][48], why[300];
	const char *argv[13];
	struct mugai_worker_limits lim;
	struct mugai_worker_status st;
	unsigned timeout;
	size_t i;

	if ((timeout = seconds_left(c, cfg->convert_timeout)) == 0) {
		held_for_time(c, res);
		return 0;
	}
	snprintf(opt[0], sizeof(opt[0]), "--memory=%zu", cfg->convert_memory);
	snprintf(opt[1], sizeof(opt[1]), "--cpu=%u", timeout);
	snprintf(opt[2], sizeof(opt[2]), "--max-pixels=%zu",
	    cfg->image_max_pixels);
	snprintf(opt[3], sizeof(opt[3]), "--max-pages=%u", cfg->pdf_max_pages);
	snprintf(opt[4], sizeof(opt[4]), "--dpi=%u", cfg->pdf_dpi);
	snprintf(opt[5], sizeof(opt[5]), "--max-members=%u",
	    cfg->archive_max_members);
	snprintf(opt[6], sizeof(opt[6]), "--max-total=%zu",
	    cfg->archive_max_size);
	snprintf(opt[7], sizeof(opt[7]), "--max-ratio=%u",
	    cfg->archive_max_ratio);
	/* No text layer: the worker need not look for words. */
	snprintf(opt[8], sizeof(opt[8]), "--max-words=%u",
	    cfg->pdf_text_layer ? cfg->pdf_text_max_words : 0);
	snprintf(opt[9], sizeof(opt[9]), "--max-text=%zu",
	    cfg->pdf_text_max_bytes);
	argv[0] = c->worker;
	argv[1] = mode;
	for (i = 0; i < 10; i++)
		argv[i + 2] = opt[i];
	argv[12] = NULL;
	lim.timeout_s = timeout;
	lim.output_max = cfg->convert_max_output;
	lim.max_workers = mugai_worker_max(cfg);
	if ((cfg->convert_zygote ? mugai_worker_convert : mugai_worker_run)(
	    argv, in, len, &lim, out, &st) != MUGAI_OK) {
		mugai_log(LOG_ERR, c->logid, "cannot run %s: check "
		    "convert_worker", c->worker);
		return -1;
	}
	if (st.end == MUGAI_WORKER_DONE)
		return 1;
	mugai_worker_describe(&st, why, sizeof(why));
	held(res, worker_reason(&st), "mugai-convert %s: %s", mode, why);
	return 0;
}

/* name with its extension replaced by ext (".png"); "" stays "". */
static char *
renamed(const char *name, const char *ext)
{
	const char *dot = strrchr(name, '.');
	size_t base = dot != NULL && dot != name ? (size_t)(dot - name) :
	    strlen(name);
	char *s;

	if (name[0] == '\0')
		return strdup("");
	if (dot != NULL && strcasecmp(dot, ext) == 0)
		return strdup(name);
	if ((s = malloc(base + strlen(ext) + 1)) == NULL)
		return NULL;
	memcpy(s, name, base);
	strcpy(s + base, ext);
	return s;
}

static mugai_status
set_name(struct mugai_convert_result *res, const char *name, const char *ext)
{
	free(res->name);
	res->name = ext != NULL ? renamed(name, ext) : strdup(name);
	return res->name != NULL ? MUGAI_OK : MUGAI_ERR_NOMEM;
}

/*
 * Run mugai-convert MODE and validate its pixel stream (at most max
 * images); as run_worker: 1 with *maps into px, 0 held, -1 not started.
 */
static int
worker_pixels(struct conv *c, const char *mode, const void *in, size_t len,
    size_t max, struct mugai_buf *px, struct mugai_pixmap **maps, size_t *n,
    struct mugai_convert_result *res)
{
	int r;

	if ((r = run_worker(c, mode, in, len, px, res)) <= 0)
		return r;
	if (mugai_pixels_parse(px->data, px->len, c->cfg->image_max_pixels,
	    max, maps, n) != MUGAI_OK) {
		held(res, "convert-failed", "mugai-convert %s: invalid pixel "
		    "stream (%zu bytes)", mode, px->len);
		return 0;
	}
	return 1;
}

static mugai_status
conv_image(struct conv *c, const char *name, const void *in, size_t len,
    struct mugai_convert_result *res)
{
	struct mugai_buf px;
	struct mugai_pixmap *maps = NULL;
	size_t n;
	mugai_status rc = MUGAI_OK;
	int photo, r;

	mugai_buf_init_big(&px, 0);
	if ((r = worker_pixels(c, "image", in, len, 1, &px, &maps, &n,
	    res)) <= 0) {
		rc = r < 0 ? MUGAI_ERR_INTERNAL : MUGAI_OK;
		goto out;
	}
	photo = (maps[0].flags & MUGAI_PIX_PHOTO) != 0;
	rc = photo ? mugai_jpeg_encode(&maps[0], JPEG_PHOTO_QUALITY, &res->data) :
	    mugai_png_encode(&maps[0], &res->data);
	if (rc != MUGAI_OK)
		goto out;
	snprintf(res->type, sizeof(res->type), photo ? "image/jpeg" :
	    "image/png");
	res->reason = "image";
	snprintf(res->detail, sizeof(res->detail), "%ux%u pixels, %s",
	    maps[0].width, maps[0].height, photo ? "JPEG" : "PNG");
	rc = set_name(res, name, photo ? (strcasestr(name, ".jpeg") ?
	    ".jpeg" : ".jpg") : ".png");
out:
	free(maps);
	mugai_buf_free(&px);
	return rc;
}

/*
 * pdf_words - check the words that follow the pages in the worker's
 * output (w[0..len)): 0 with *text set, or -1 (res then held).
 */
static int
pdf_words(struct conv *c, const void *w, size_t len,
    const struct mugai_pixmap *pages, size_t n, struct mugai_pagetext **text,
    struct mugai_convert_result *res)
{
	struct mugai_pagetext_limits lim;
	uint32_t *pw, *ph;
	mugai_status rc;
	size_t i;

	pw = calloc(n, sizeof(*pw));
	ph = calloc(n, sizeof(*ph));
	if (pw == NULL || ph == NULL) {
		free(pw);
		free(ph);
		return -2;
	}
	/* Page sizes in 1/100 pt as the worker computed them: pixels at dpi. */
	for (i = 0; i < n; i++) {
		pw[i] = (uint32_t)((uint64_t)pages[i].width * 7200 /
		    c->cfg->pdf_dpi);
		ph[i] = (uint32_t)((uint64_t)pages[i].height * 7200 /
		    c->cfg->pdf_dpi);
	}
	lim.max_words = c->cfg->pdf_text_layer ? c->cfg->pdf_text_max_words : 0;
	lim.max_bytes = c->cfg->pdf_text_max_bytes;
	rc = mugai_pagetext_parse(w, len, n, pw, ph, &lim, text);
	free(pw);
	free(ph);
	if (rc == MUGAI_ERR_NOMEM)
		return -2;
	if (rc != MUGAI_OK) {
		held(res, "convert-failed", "mugai-convert pdf: invalid word "
		    "stream (%zu bytes)", len);
		return -1;
	}
	return 0;
}

/*
 * pdf_ocr - with pdf_ocr on, Tesseract's words for the pages that have
 * none, kept in *tsvp (n buffers, freed by the caller with tsv_free).
 * A page Tesseract fails on is logged and copied without words.
 */
static mugai_status
pdf_ocr(struct conv *c, const struct mugai_pixmap *pages, size_t n,
    struct mugai_pagetext *text, struct mugai_buf **tsvp,
    struct mugai_ocr_stats *st)
{
	struct mugai_buf *tsv;
	mugai_status rc;
	size_t i;

	memset(st, 0, sizeof(*st));
	*tsvp = NULL;
	if (!c->cfg->pdf_ocr || !c->cfg->pdf_text_layer)
		return MUGAI_OK;
	if ((tsv = calloc(n, sizeof(*tsv))) == NULL)
		return MUGAI_ERR_NOMEM;
	for (i = 0; i < n; i++)
		mugai_buf_init(&tsv[i], 0);
	*tsvp = tsv;
	/* One office_timeout for all pages, within the message's time. */
	rc = mugai_ocr_pages(c->cfg, pages, n, c->cfg->pdf_dpi,
	    seconds_left(c, c->cfg->office_timeout), text, tsv, st);
	if (rc == MUGAI_OK && (st->failed > 0 || st->unavailable))
		mugai_log(LOG_WARNING, c->logid, "pdf_ocr: %zu pages without "
		    "words: %s", st->failed, st->why);
	return rc;
}

static void
tsv_free(struct mugai_buf *tsv, size_t n)
{
	size_t i;

	for (i = 0; tsv != NULL && i < n; i++)
		mugai_buf_free(&tsv[i]);
	free(tsv);
}

/* pdf_rebuild within a worker slot. */
static mugai_status
pdf_rebuild_slot(struct conv *c, const void *pdf, size_t len,
    struct mugai_convert_result *res)
{
	struct mugai_buf px;
	struct mugai_pixmap *pages = NULL;
	struct mugai_pagetext *text = NULL;
	struct mugai_pdf_opts po;
	struct mugai_pdf_stats st;
	struct mugai_ocr_stats ocr;
	struct mugai_buf *tsv = NULL;
	uint8_t *store = NULL;
	size_t *coded = NULL;
	char ocr_note[64] = "";
	size_t n = 0, used;
	mugai_status rc = MUGAI_OK;
	int r;

	mugai_buf_init_big(&px, 0);
	if ((r = run_worker(c, "pdf", pdf, len, &px, res)) <= 0) {
		rc = r < 0 ? MUGAI_ERR_INTERNAL : MUGAI_OK;
		goto out;
	}
	/*
	 * Decoded, the pages may take what the worker could have sent.
	 * They are decoded one at a time as the copy is written, unless
	 * OCR wants them all first.
	 */
	if (c->cfg->pdf_ocr && c->cfg->pdf_text_layer)
		rc = mugai_pixels_parse_pages(px.data, px.len,
		    c->cfg->image_max_pixels, c->cfg->pdf_max_pages,
		    c->cfg->convert_max_output, &pages, &n, &used, &store);
	else
		rc = mugai_pixels_parse_coded(px.data, px.len,
		    c->cfg->image_max_pixels, c->cfg->pdf_max_pages,
		    c->cfg->convert_max_output, &pages, &coded, &n, &used);
	if (rc != MUGAI_OK) {
		if (rc == MUGAI_ERR_NOMEM)
			goto out;
		rc = MUGAI_OK;
		held(res, "convert-failed", "mugai-convert pdf: invalid pixel "
		    "stream (%zu bytes)", px.len);
		goto out;
	}
	if ((r = pdf_words(c, px.data + used, px.len - used, pages, n, &text,
	    res)) != 0) {
		rc = r == -2 ? MUGAI_ERR_NOMEM : MUGAI_OK;
		goto out;
	}
	if ((rc = pdf_ocr(c, pages, n, text, &tsv, &ocr)) != MUGAI_OK)
		goto out;
	po.dpi = c->cfg->pdf_dpi;
	po.quality = JPEG_PAGE_QUALITY;
	po.font = c->cfg->pdf_text_font;
	po.bilevel = c->cfg->pdf_bilevel;
	po.mixed = c->cfg->pdf_mixed_raster;
	rc = mugai_pdf_from_coded_pages(pages, coded, n,
	    c->cfg->pdf_text_layer ? text : NULL, &po, &res->data, &st);
	if (rc != MUGAI_OK)
		goto out;
	if (st.no_font)
		mugai_log(LOG_WARNING, c->logid, "pdf_text_font %s does not "
		    "load: the copy has no text layer", po.font);
	if (ocr.pages > 0)
		snprintf(ocr_note, sizeof(ocr_note), " (%zu by OCR on %zu "
		    "pages)", ocr.words, ocr.pages);
	snprintf(res->type, sizeof(res->type), "application/pdf");
	snprintf(res->detail, sizeof(res->detail), "%zu pages at %u dpi "
	    "(%zu JPEG, %zu grey, %zu few-colour, %zu fax, %zu mixed), "
	    "%zu words%s%s", n, c->cfg->pdf_dpi, st.jpeg, st.grey, st.colour,
	    st.fax, st.mixed,
	    st.no_font ? (size_t)0 : st.words, st.no_font ?
	    " (no text layer: font missing)" : "", ocr_note);
out:
	tsv_free(tsv, n);
	mugai_pagetext_free(text, n);
	free(pages);
	free(coded);
	free(store);
	mugai_buf_free(&px);
	return rc;
}

/*
 * Render pdf[0..len) in the worker and rebuild it from the pages.  The
 * worker's slot is held until the copy is written: the pages and the
 * surfaces the rebuild draws them on can outweigh the worker, so a
 * burst of PDFs stays within convert_max_workers rebuilds at once.
 */
static mugai_status
pdf_rebuild(struct conv *c, const void *pdf, size_t len,
    struct mugai_convert_result *res)
{
	unsigned max = mugai_worker_max(c->cfg), wait;
	mugai_status rc;

	if ((wait = seconds_left(c, c->cfg->convert_timeout)) == 0) {
		held_for_time(c, res);
		return MUGAI_OK;
	}
	if (!mugai_worker_slot_take(max, wait)) {
		held(res, "time", "waited for one of the %u worker slots "
		    "(convert_max_workers) until the message's conversion "
		    "time ran out", max);
		return MUGAI_OK;
	}
	rc = pdf_rebuild_slot(c, pdf, len, res);
	mugai_worker_slot_give(max);
	return rc;
}

static mugai_status
conv_pdf(struct conv *c, const char *name, const void *in, size_t len,
    struct mugai_convert_result *res)
{
	mugai_status rc = pdf_rebuild(c, in, len, res);

	if (rc != MUGAI_OK || res->held)
		return rc;
	res->reason = "pdf";
	return set_name(res, name, ".pdf");
}

/*
 * The main part types the worker's ooxml frame may name (mugai/cdr/worker.h)
 * and what the copy then is.  type NULL: a binary workbook, which
 * LibreOffice makes an xlsx first.
 */
#define OD "application/vnd.openxmlformats-officedocument."
static const struct {
	const char *main, *type, *ext;
} ooxml_kinds[] = {
	{ OD "wordprocessingml.document.main+xml",
	  OD "wordprocessingml.document", ".docx" },
	{ OD "wordprocessingml.template.main+xml",
	  OD "wordprocessingml.template", ".dotx" },
	{ OD "spreadsheetml.sheet.main+xml", OD "spreadsheetml.sheet", ".xlsx" },
	{ OD "spreadsheetml.template.main+xml",
	  OD "spreadsheetml.template", ".xltx" },
	{ OD "presentationml.presentation.main+xml",
	  OD "presentationml.presentation", ".pptx" },
	{ OD "presentationml.slideshow.main+xml",
	  OD "presentationml.slideshow", ".ppsx" },
	{ OD "presentationml.template.main+xml",
	  OD "presentationml.template", ".potx" },
	{ "application/vnd.ms-excel.sheet.binary.macroEnabled.main", NULL,
	  ".xlsb" },
};
#undef OD
#define NKINDS (sizeof(ooxml_kinds) / sizeof(ooxml_kinds[0]))

/*
 * The frame of mugai-convert's ooxml answer: the kind of the main part
 * and the zip after it, or -1 when the frame is not one of ours.
 */
static int
ooxml_frame(const struct mugai_buf *b, const char **zip, size_t *ziplen)
{
	const unsigned char *p = (const unsigned char *)b->data;
	size_t n, i;

	if (b->len < 8 || memcmp(p, MUGAI_OOXML_MAGIC, 4) != 0)
		return -1;
	n = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 |
	    (size_t)p[7] << 24;
	if (n == 0 || n > MUGAI_OOXML_CT_MAX || n > b->len - 8)
		return -1;
	for (i = 0; i < NKINDS; i++)
		if (strlen(ooxml_kinds[i].main) == n &&
		    strncasecmp((const char *)p + 8, ooxml_kinds[i].main, n) == 0)
			break;
	if (i == NKINDS)
		return -1;
	*zip = (const char *)p + 8 + n;
	*ziplen = b->len - 8 - n;
	/* A zip for the documents, none for a binary workbook. */
	if ((ooxml_kinds[i].type != NULL) != (*ziplen > 0) ||
	    (*ziplen > 0 && (*ziplen < 4 || memcmp(*zip, "PK\003\004", 4))))
		return -1;
	return (int)i;
}

static mugai_status conv_office_as(struct conv *c, const char *ext,
    const char *name, const void *in, size_t len,
    struct mugai_convert_result *res);

/*
 * The worker's ooxml frame in b into res: the cleaned file with the type
 * and extension of its main part.  A binary workbook (the original,
 * in[0..len)) goes to LibreOffice.  via: what made the file.
 */
static mugai_status
ooxml_result(struct conv *c, const char *name, const struct mugai_buf *b,
    const void *in, size_t len, const char *via,
    struct mugai_convert_result *res)
{
	const char *zip;
	size_t ziplen;
	mugai_status rc;
	int k;

	if ((k = ooxml_frame(b, &zip, &ziplen)) < 0) {
		held(res, "convert-failed", "mugai-convert ooxml: invalid "
		    "output (%zu bytes)", b->len);
		return MUGAI_OK;
	}
	if (ooxml_kinds[k].type == NULL)
		return in != NULL ? conv_office_as(c, "xlsb", name, in, len,
		    res) : MUGAI_OK;
	mugai_buf_reset(&res->data);
	if ((rc = mugai_buf_append(&res->data, zip, ziplen)) != MUGAI_OK)
		return rc;
	snprintf(res->type, sizeof(res->type), "%s", ooxml_kinds[k].type);
	res->reason = "ooxml";
	snprintf(res->detail, sizeof(res->detail), "%sactive content removed",
	    via);
	return set_name(res, name, ooxml_kinds[k].ext);
}

static mugai_status
conv_ooxml(struct conv *c, const char *name, const void *in, size_t len,
    struct mugai_convert_result *res)
{
	struct mugai_buf b;
	mugai_status rc = MUGAI_OK;
	int r;

	mugai_buf_init(&b, 0);
	if ((r = run_worker(c, "ooxml", in, len, &b, res)) > 0)
		rc = ooxml_result(c, name, &b, in, len, "", res);
	else if (r < 0)
		rc = MUGAI_ERR_INTERNAL;
	mugai_buf_free(&b);
	return rc;
}

/*
 * Legacy Office and RTF (and xlsb): LibreOffice makes an Office Open
 * XML file, cleaned as any other (office_output = ooxml), or a PDF,
 * rebuilt as any PDF (office_output = pdf).
 */
static mugai_status
conv_office_as(struct conv *c, const char *ext, const char *name,
    const void *in, size_t len, struct mugai_convert_result *res)
{
	struct mugai_buf made, b;
	struct mugai_worker_status st;
	char why[300], via[64];
	const char *outext;
	mugai_status rc;
	unsigned timeout;
	int available = 0, pdf, r;

	pdf = c->cfg->office_output == MUGAI_OFFICE_OUTPUT_PDF;
	outext = mugai_office_out_ext(ext, pdf);
	mugai_buf_init(&made, c->cfg->convert_max_output);
	mugai_buf_init(&b, 0);
	if ((timeout = seconds_left(c, c->cfg->office_timeout)) == 0) {
		held_for_time(c, res);
		rc = MUGAI_OK;
		goto out;
	}
	rc = mugai_office_convert(c->cfg, in, len, ext, name, pdf, timeout,
	    &made, &st, &available);
	if (rc != MUGAI_OK)
		goto out;
	if (!available) {
		held(res, "no-converter", "LibreOffice (%s), bubblewrap (%s) "
		    "or prlimit is not installed", c->cfg->libreoffice_path,
		    c->cfg->bwrap_path);
		goto out;
	}
	if (st.end != MUGAI_WORKER_DONE || made.len == 0) {
		mugai_worker_describe(&st, why, sizeof(why));
		held(res, st.end == MUGAI_WORKER_TIMEOUT ? "time" :
		    "convert-failed", "LibreOffice: %s", why);
		goto out;
	}
	if (pdf) {
		if ((rc = pdf_rebuild(c, made.data, made.len, res)) !=
		    MUGAI_OK || res->held)
			goto out;
		res->reason = "office";
		rc = set_name(res, name, ".pdf");
		goto out;
	}
	if ((r = run_worker(c, "ooxml", made.data, made.len, &b, res)) <= 0) {
		rc = r < 0 ? MUGAI_ERR_INTERNAL : MUGAI_OK;
		goto out;
	}
	snprintf(via, sizeof(via), "LibreOffice %s to %s, ", ext, outext);
	/* No original to fall back on: LibreOffice never writes an xlsb. */
	if ((rc = ooxml_result(c, name, &b, NULL, 0, via, res)) != MUGAI_OK ||
	    res->held)
		goto out;
	if (res->data.len == 0) {
		held(res, "convert-failed", "LibreOffice wrote a binary "
		    "workbook");
		goto out;
	}
	res->reason = "office-ooxml";
out:
	mugai_buf_free(&made);
	mugai_buf_free(&b);
	return rc;
}

/*
 * A compound file is looked at in mugai-convert first: a password is
 * told as such (not as a failed conversion), a file with no Word, Excel
 * or PowerPoint stream is refused before LibreOffice would import it
 * as text, and the stream found says what it is.
 */
static mugai_status
conv_office(struct conv *c, const char *detected, const char *name,
    const void *in, size_t len, struct mugai_convert_result *res)
{
	static const char *const kinds[] = { "doc", "xls", "ppt" };
	struct mugai_buf b;
	size_t i;
	int r;

	if (strstr(detected, "sheet.binary") != NULL)
		return conv_office_as(c, "xlsb", name, in, len, res);
	if (strstr(detected, "rtf") != NULL)
		return conv_office_as(c, "rtf", name, in, len, res);
	mugai_buf_init(&b, 16);
	if ((r = run_worker(c, "ole2", in, len, &b, res)) <= 0) {
		mugai_buf_free(&b);
		return r < 0 ? MUGAI_ERR_INTERNAL : MUGAI_OK;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (b.len == 4 && memcmp(b.data, kinds[i], 3) == 0 &&
		    b.data[3] == '\n')
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		held(res, "convert-failed", "mugai-convert ole2: invalid "
		    "output (%zu bytes)", b.len);
		mugai_buf_free(&b);
		return MUGAI_OK;
	}
	mugai_buf_free(&b);
	return conv_office_as(c, kinds[i], name, in, len, res);
}

static mugai_status convert_one(struct conv *c, enum mugai_action act,
    const char *detected, const char *name, const void *in, size_t len,
    unsigned depth, struct mugai_convert_result *res);

static mugai_status
inner_add(struct mugai_convert_result *res, const char *prefix,
    const char *name, size_t size, const char *reason, const char *type)
{
	struct mugai_convert_inner *in;

	in = realloc(res->inner, (res->ninner + 1) * sizeof(*in));
	if (in == NULL)
		return MUGAI_ERR_NOMEM;
	res->inner = in;
	in = &res->inner[res->ninner];
	memset(in, 0, sizeof(*in));
	if (asprintf(&in->name, "%s%s", prefix, name) < 0) {
		in->name = NULL;
		return MUGAI_ERR_NOMEM;
	}
	in->reason = reason;
	snprintf(in->type, sizeof(in->type), "%s", type);
	in->size = size;
	res->ninner++;
	return MUGAI_OK;
}

/* A text member: UTF-8, CSV guarded, HTML as text. */
static mugai_status
member_text(enum mugai_action act, const struct mugai_member *m,
    unsigned html_depth, struct mugai_buf *out, const char **ext)
{
	struct mugai_buf u;
	mugai_status rc;

	/* Kept as text under a name that cannot run, as in the message. */
	*ext = mugai_name_is_text(m->name) ? NULL : ".txt";
	if (act == MUGAI_ACT_HTML) {
		rc = mugai_html_to_text((const char *)m->data, m->size, NULL,
		    html_depth, out, NULL);
		return rc == MUGAI_ERR_PARSE ? MUGAI_OK : rc;
	}
	if (act == MUGAI_ACT_TEXT)
		return mugai_charset_to_utf8(mugai_charset_detect(
		    (const char *)m->data, m->size), (const char *)m->data,
		    m->size, out, NULL);
	mugai_buf_init(&u, 0);
	rc = mugai_charset_to_utf8(mugai_charset_detect((const char *)m->data,
	    m->size), (const char *)m->data, m->size, &u, NULL);
	if (rc == MUGAI_OK)
		rc = mugai_csv_guard(u.data ? u.data : "", u.len, out);
	mugai_buf_free(&u);
	return rc;
}

/*
 * One archive member by the policy: into the zip, or listed as left
 * out.  Only an internal error is returned.
 */
static mugai_status
member(struct conv *c, struct mugai_zipw *z, const struct mugai_member *m,
    unsigned depth, struct mugai_convert_result *res, size_t *kept)
{
	struct mugai_convert_result sub;
	struct mugai_buf t;
	char type[128], *nm;
	const char *ext;
	enum mugai_action act;
	mugai_status rc;
	size_t i;

	if ((rc = mugai_type_detect(m->data, m->size, type, sizeof(type))) !=
	    MUGAI_OK)
		return rc;
	act = mugai_policy_for_file(c->cfg->policy, type, NULL, m->name);
	switch (act) {
	case MUGAI_ACT_REMOVE:
	/* A winmail.dat cannot be re-packed as one file: left out. */
	case MUGAI_ACT_TNEF:
		return inner_add(res, "", m->name, m->size, "policy", type);
	case MUGAI_ACT_PASS:
		(*kept)++;
		return mugai_zipw_add(z, m->name, m->data, m->size);
	case MUGAI_ACT_TEXT:
	case MUGAI_ACT_CSV:
	case MUGAI_ACT_HTML:
		mugai_buf_init(&t, 0);
		rc = member_text(act, m, c->cfg->max_html_depth, &t, &ext);
		nm = NULL;
		if (rc == MUGAI_OK && ext != NULL &&
		    asprintf(&nm, "%s%s", m->name, ext) < 0) {
			nm = NULL;
			rc = MUGAI_ERR_NOMEM;
		}
		if (rc == MUGAI_OK)
			rc = mugai_zipw_add(z, ext ? nm : m->name,
			    t.data ? t.data : "", t.len);
		(*kept)++;
		free(nm);
		mugai_buf_free(&t);
		return rc;
	default:
		break;
	}
	if (act == MUGAI_ACT_ARCHIVE && depth + 1 >= c->cfg->archive_max_depth)
		return inner_add(res, "", m->name, m->size, "depth", type);
	rc = convert_one(c, act, type, m->name, m->data, m->size, depth + 1,
	    &sub);
	if (rc == MUGAI_OK && sub.held)
		rc = inner_add(res, "", m->name, m->size, sub.reason, type);
	else if (rc == MUGAI_OK) {
		rc = mugai_zipw_add(z, sub.name[0] ? sub.name : m->name,
		    sub.data.data ? sub.data.data : "", sub.data.len);
		(*kept)++;
	}
	/*
	 * What a nested archive left out is told with its path, also when
	 * nothing of it was kept: that says why (a zip that contains itself
	 * is held as empty because its innermost copy is too deep).
	 */
	if (rc == MUGAI_OK && sub.ninner > 0 &&
	    asprintf(&nm, "%s/", m->name) >= 0) {
		for (i = 0; i < sub.ninner && rc == MUGAI_OK; i++)
			rc = inner_add(res, nm, sub.inner[i].name,
			    sub.inner[i].size, sub.inner[i].reason,
			    sub.inner[i].type);
		free(nm);
	}
	mugai_convert_result_free(&sub);
	return rc;
}

/*
 * Counts the members of one more archive into the attachment's tree;
 * past archive_max_members or archive_max_size in all, c->over says so:
 * no member is looked at any more, and every archive up to the
 * attachment is held as too big.
 */
static int
tree_over_limits(struct conv *c, const struct mugai_member *members,
    size_t n)
{
	size_t i;

	c->members_seen += n;
	for (i = 0; i < n; i++)
		c->bytes_seen += members[i].size;
	if (c->members_seen > c->cfg->archive_max_members)
		snprintf(c->over, sizeof(c->over), "archives inside archives "
		    "hold more than %u members in all (archive_max_members)",
		    c->cfg->archive_max_members);
	else if (c->bytes_seen > c->cfg->archive_max_size)
		snprintf(c->over, sizeof(c->over), "archives inside archives "
		    "unpack to more than %zu bytes in all (archive_max_size)",
		    c->cfg->archive_max_size);
	return c->over[0] != '\0';
}

static mugai_status
conv_archive(struct conv *c, const char *name, const void *in, size_t len,
    unsigned depth, struct mugai_convert_result *res)
{
	struct mugai_buf list;
	struct mugai_member *members = NULL;
	struct mugai_zipw *z = NULL;
	size_t n = 0, i, kept = 0;
	mugai_status rc = MUGAI_OK;
	int r;

	mugai_buf_init(&list, 0);
	if ((r = run_worker(c, "archive", in, len, &list, res)) <= 0) {
		rc = r < 0 ? MUGAI_ERR_INTERNAL : MUGAI_OK;
		goto out;
	}
	/* A zip that is an Office package came back cleaned as one. */
	if (list.len >= 4 && memcmp(list.data, MUGAI_OOXML_MAGIC, 4) == 0) {
		rc = ooxml_result(c, name, &list, in, len, "an Office package "
		    "sent as a zip: ", res);
		goto out;
	}
	if (mugai_members_parse(list.data, list.len, c->cfg->archive_max_members,
	    c->cfg->archive_max_size, &members, &n) != MUGAI_OK) {
		held(res, "convert-failed", "mugai-convert archive: invalid "
		    "member stream (%zu bytes)", list.len);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (members[i].flags & MUGAI_MEMBER_TNEF) {
			held(res, "convert-failed", "mugai-convert archive: "
			    "a member flagged as a message part");
			goto out;
		}
	if (tree_over_limits(c, members, n)) {
		held(res, "too-big", "%s", c->over);
		goto out;
	}
	if ((z = mugai_zipw_new()) == NULL) {
		rc = MUGAI_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n && rc == MUGAI_OK && c->over[0] == '\0'; i++) {
		if (members[i].flags & MUGAI_MEMBER_DIR)
			continue;
		rc = member(c, z, &members[i], depth, res, &kept);
	}
	if (rc != MUGAI_OK)
		goto out;
	if (c->over[0] != '\0') {
		held(res, "too-big", "%s", c->over);
		goto out;
	}
	if (kept == 0) {
		if (res->ninner == 0) {
			held(res, "archive-empty", "no file inside the "
			    "archive may be delivered");
			goto out;
		}
		/* The last one left out is the deepest: why a loop ended. */
		held(res, "archive-empty", "no file inside the archive may be "
		    "delivered; %zu left out, the last %s (%s)", res->ninner,
		    res->inner[res->ninner - 1].name,
		    res->inner[res->ninner - 1].reason);
		goto out;
	}
	rc = mugai_zipw_finish(z, &res->data);
	z = NULL;
	if (rc != MUGAI_OK)
		goto out;
	snprintf(res->type, sizeof(res->type), "application/zip");
	res->reason = "archive";
	snprintf(res->detail, sizeof(res->detail), "%zu files kept, %zu left "
	    "out", kept, res->ninner);
	rc = set_name(res, name, ".zip");
out:
	mugai_zipw_free(z);
	mugai_members_free(members, n);
	mugai_buf_free(&list);
	return rc;
}

/*
 * winmail.dat: the worker's member stream as it is; mugai_tnef_mime
 * (tnef.c) validates it and makes the MIME parts the caller sanitises.
 */
static mugai_status
conv_tnef(struct conv *c, const void *in, size_t len,
    struct mugai_convert_result *res)
{
	int r;

	if ((r = run_worker(c, "tnef", in, len, &res->data, res)) <= 0)
		return r < 0 ? MUGAI_ERR_INTERNAL : MUGAI_OK;
	snprintf(res->type, sizeof(res->type), "application/x-mugai-members");
	res->reason = "tnef";
	snprintf(res->detail, sizeof(res->detail), "unpacked, %zu bytes",
	    res->data.len);
	return set_name(res, "", NULL);
}

static mugai_status
convert_one(struct conv *c, enum mugai_action act, const char *detected,
    const char *name, const void *in, size_t len, unsigned depth,
    struct mugai_convert_result *res)
{
	memset(res, 0, sizeof(*res));
	mugai_buf_init(&res->data, c->cfg->convert_max_output);
	switch (act) {
	case MUGAI_ACT_IMAGE:
		return conv_image(c, name, in, len, res);
	case MUGAI_ACT_PDF:
		return conv_pdf(c, name, in, len, res);
	case MUGAI_ACT_OOXML:
		return conv_ooxml(c, name, in, len, res);
	case MUGAI_ACT_OFFICE:
		return conv_office(c, detected, name, in, len, res);
	case MUGAI_ACT_ARCHIVE:
		return conv_archive(c, name, in, len, depth, res);
	case MUGAI_ACT_TNEF:
		return conv_tnef(c, in, len, res);
	default:
		return MUGAI_ERR_USAGE;
	}
}

mugai_status
mugai_convert(const struct mugai_config *cfg, const char *logid,
    enum mugai_action act, const char *detected, const char *name,
    const void *in, size_t len, unsigned seconds,
    struct mugai_convert_result *res)
{
	struct conv c;

	memset(res, 0, sizeof(*res));
	mugai_buf_init(&res->data, 0);
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.logid = logid;
	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += seconds;
	if (mugai_worker_path(cfg, c.worker, sizeof(c.worker)) != MUGAI_OK) {
		mugai_log(LOG_ERR, logid, "mugai-convert not found (%s); set "
		    "convert_worker to its path", cfg->convert_worker[0] ?
		    cfg->convert_worker : "beside the program");
		return MUGAI_ERR_CONFIG;
	}
	return convert_one(&c, act, detected, name ? name : "", in, len, 0,
	    res);
}

void
mugai_convert_result_free(struct mugai_convert_result *res)
{
	if (res == NULL)
		return;
	mugai_buf_free(&res->data);
	free(res->name);
	while (res->ninner > 0)
		free(res->inner[--res->ninner].name);
	free(res->inner);
	res->name = NULL;
	res->inner = NULL;
}
