/*
 * test_convert_pdf.c - PDF pages to pixels and words in the worker
 * (convert/pdf.c) and back to a fresh PDF in the parent (src/cdr/pdfwrite.c),
 * on the PDFs scripts/make-pdf-fixtures writes: active content that
 * must not survive, encryption, a page too big to render, too many
 * pages, garbage.  poppler re-reads what pdfwrite made: its pages and
 * the text layer made from the words.
 *
 * Run from the top of the source tree (as make does): the fixtures are
 * made into a temporary directory by scripts/make-pdf-fixtures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poppler.h>

#include "../../convert/convert.h"
#include "mugai/cdr/pdfwrite.h"
#include "mugai/cdr/pixels.h"
#include "mugai/cdr/pagetext.h"

#define FONT	"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"

#define FIXTURE_SCRIPT	"scripts/make-pdf-fixtures"

const char *__lsan_default_suppressions(void);

/*
 * Under LeakSanitizer ("make asan"): fontconfig 2.14 loses 288 bytes
 * once while parsing its configuration (valgrind shows it too).  Only
 * stacks through libfontconfig are ignored; mugai code calls none.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

static char dir[] = "/tmp/mugai-pdf-XXXXXX";

struct file {
	unsigned char *data;
	size_t len;
};

static int
group_setup(void **state)
{
	char cmd[512];

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "python3 %s %s >/dev/null", FIXTURE_SCRIPT,
	    dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed (run from the source tree)\n", cmd);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct file
load(const char *name)
{
	struct file f = { NULL, 0 };
	char path[512];
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	f.data = malloc((size_t)n);
	assert_non_null(f.data);
	assert_int_equal(fread(f.data, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	f.len = (size_t)n;
	return f;
}

/* The worker's defaults (convert/main.c). */
static struct convert_opts
opts(unsigned dpi, unsigned max_pages)
{
	struct convert_opts o;

	memset(&o, 0, sizeof(o));
	o.memory = (size_t)1 << 30;
	o.cpu_s = 60;
	o.max_pixels = 50000000;
	o.max_pages = max_pages;
	o.dpi = dpi;
	o.max_words = 100000;
	o.max_text = (size_t)4 << 20;
	return o;
}

static int
run(const char *name, const struct convert_opts *o, struct mugai_buf *out,
    char *why, size_t whylen)
{
	struct file f = load(name);
	int rc;

	why[0] = '\0';
	rc = convert_pdf(f.data, f.len, o, out, why, whylen);
	free(f.data);
	return rc;
}

static int
contains(const void *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/*
 * contains_outside_streams - needle in the PDF's own syntax, not inside
 * stream data: JPEG bytes may hold any three-byte run such as "/AA" by
 * chance, but no dictionary or name outside them may.
 */
static int
contains_outside_streams(const char *pdf, size_t len, const char *needle)
{
	const char *p = pdf, *end = pdf + len, *s, *e;

	while (p < end) {
		s = memmem(p, (size_t)(end - p), "stream\n", 7);
		if (s == NULL)
			s = end;
		if (memmem(p, (size_t)(s - p), needle, strlen(needle)) != NULL)
			return 1;
		if (s == end)
			break;
		e = memmem(s, (size_t)(end - s), "\nendstream", 10);
		assert_non_null(e);
		p = e + 10;
	}
	return 0;
}

/*
 * parse_out - the worker's output as the parent reads it: the pixel
 * stream (at most max pages), then the words of those pages.  *text
 * may be NULL when the caller does not want them.
 */
static void
parse_out(const struct mugai_buf *out, const struct convert_opts *o,
    size_t max, struct mugai_pixmap **maps, size_t *n,
    struct mugai_pagetext **text)
{
	struct mugai_pagetext_limits lim = { 1000000, 1 << 24 };
	struct mugai_pagetext *t = NULL;
	struct mugai_pixmap *pm;
	uint32_t *pw, *ph;
	uint8_t *store, *own;
	size_t used, i, total = 0;

	assert_int_equal(mugai_pixels_parse_pages(out->data, out->len,
	    o->max_pixels, max, (size_t)1 << 31, &pm, n, &used, &store),
	    MUGAI_OK);
	/* The worker codes every page as runs. */
	assert_non_null(store);
	/* The pixmaps and their pixels in one block: free(*maps) frees all. */
	for (i = 0; i < *n; i++)
		total += (size_t)pm[i].width * pm[i].height * pm[i].channels;
	*maps = malloc(*n * sizeof(**maps) + total);
	assert_non_null(*maps);
	own = (uint8_t *)(*maps + *n);
	for (i = 0; i < *n; i++) {
		(*maps)[i] = pm[i];
		assert_int_equal(pm[i].flags, 0);
		memcpy(own, pm[i].data, (size_t)pm[i].width * pm[i].height *
		    pm[i].channels);
		(*maps)[i].data = own;
		own += (size_t)pm[i].width * pm[i].height * pm[i].channels;
	}
	free(pm);
	free(store);
	pw = calloc(*n, sizeof(*pw));
	ph = calloc(*n, sizeof(*ph));
	assert_non_null(pw);
	assert_non_null(ph);
	for (i = 0; i < *n; i++) {
		pw[i] = (uint32_t)((uint64_t)(*maps)[i].width * 7200 / o->dpi);
		ph[i] = (uint32_t)((uint64_t)(*maps)[i].height * 7200 / o->dpi);
	}
	assert_int_equal(mugai_pagetext_parse(out->data + used, out->len - used,
	    *n, pw, ph, &lim, &t), MUGAI_OK);
	free(pw);
	free(ph);
	if (text != NULL)
		*text = t;
	else
		mugai_pagetext_free(t, *n);
}

/* The word w on page t, or NULL. */
static const struct mugai_word *
word(const struct mugai_pagetext *t, const char *w)
{
	size_t i;

	for (i = 0; i < t->nwords; i++)
		if (t->words[i].len == strlen(w) &&
		    memcmp(t->words[i].text, w, t->words[i].len) == 0)
			return &t->words[i];
	return NULL;
}

/* Page i's text as poppler reads it from pdf (g_free it). */
static char *
page_text(const struct mugai_buf *pdf, int i)
{
	PopplerDocument *doc;
	PopplerPage *page;
	GBytes *b;
	char *text;

	b = g_bytes_new_static(pdf->data, pdf->len);
	doc = poppler_document_new_from_bytes(b, NULL, NULL);
	assert_non_null(doc);
	page = poppler_document_get_page(doc, i);
	assert_non_null(page);
	text = poppler_page_get_text(page);
	g_object_unref(page);
	g_object_unref(doc);
	g_bytes_unref(b);
	return text;
}

static struct mugai_pdf_opts
pdf_opts(unsigned dpi, int quality)
{
	struct mugai_pdf_opts po = { dpi, quality, FONT, 0, 0 };

	return po;
}

/* Pixels darker than mid-grey: text drawn on the white page. */
static size_t
dark_pixels(const struct mugai_pixmap *pm)
{
	size_t i, n = (size_t)pm->width * pm->height, dark = 0;
	const uint8_t *p;
	unsigned sum;

	for (i = 0; i < n; i++) {
		p = pm->data + i * pm->channels;
		sum = pm->channels == 1 ? p[0] * 3u : (unsigned)p[0] + p[1] + p[2];
		if (sum < 3 * 128)
			dark++;
	}
	return dark;
}

/* Pixels clearly red: R high, G and B low. */
static size_t
red_pixels(const struct mugai_pixmap *pm)
{
	size_t i, n = (size_t)pm->width * pm->height, red = 0;
	const uint8_t *p;

	if (pm->channels != 3)
		return 0;
	for (i = 0; i < n; i++) {
		p = pm->data + i * 3;
		if (p[0] > 200 && p[1] < 60 && p[2] < 60)
			red++;
	}
	return red;
}

/* Re-read a PDF with poppler: page count, and each page's size. */
static void
reopen(const struct mugai_buf *pdf, int pages, const double *wpt,
    const double *hpt)
{
	PopplerDocument *doc;
	PopplerPage *page;
	GError *err = NULL;
	GBytes *b;
	double w, h;
	int i;

	b = g_bytes_new_static(pdf->data, pdf->len);
	doc = poppler_document_new_from_bytes(b, NULL, &err);
	if (doc == NULL)
		fail_msg("poppler cannot read the rebuilt PDF: %s",
		    err ? err->message : "?");
	assert_int_equal(poppler_document_get_n_pages(doc), pages);
	for (i = 0; i < pages; i++) {
		page = poppler_document_get_page(doc, i);
		assert_non_null(page);
		poppler_page_get_size(page, &w, &h);
		if (w < wpt[i] - 1 || w > wpt[i] + 1 || h < hpt[i] - 1 ||
		    h > hpt[i] + 1)
			fail_msg("page %d is %.2f x %.2f pt, not %.2f x %.2f",
			    i + 1, w, h, wpt[i], hpt[i]);
		g_object_unref(page);
	}
	g_object_unref(doc);
	g_bytes_unref(b);
}

/*
 * same_pictures - the rebuilt PDF rendered again shows what the
 * original did: same pixel sizes, same colour kind, about as much ink
 * (JPEG blurs the edges of the glyphs a little).
 */
static void
same_pictures(const struct mugai_buf *pdf, const struct convert_opts *o,
    const struct mugai_pixmap *orig, size_t n)
{
	struct mugai_buf again;
	struct mugai_pixmap *maps = NULL;
	char why[256];
	size_t i, m, a, b;

	mugai_buf_init(&again, 0);
	assert_int_equal(convert_pdf((const unsigned char *)pdf->data,
	    pdf->len, o, &again, why, sizeof(why)), MUGAI_CONVERT_EXIT_OK);
	parse_out(&again, o, 100, &maps, &m, NULL);
	assert_int_equal(m, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(maps[i].width, orig[i].width);
		assert_int_equal(maps[i].height, orig[i].height);
		assert_int_equal(maps[i].channels, orig[i].channels);
		a = dark_pixels(&orig[i]);
		b = dark_pixels(&maps[i]);
		if (b < a * 8 / 10 || b > a * 12 / 10)
			fail_msg("page %zu: %zu dark pixels, %zu before", i + 1,
			    b, a);
	}
	free(maps);
	mugai_buf_free(&again);
}

static void
test_active_content_dropped(void **state)
{
	static const char *const active[] = {
		"/JavaScript", "/OpenAction", "/AA", "/EmbeddedFile",
		"/Launch", "/AcroForm", "/JS", "/Annots", "/Names",
	};
	struct convert_opts o = opts(150, 100);
	struct file src = load("active.pdf");
	struct mugai_buf out, pdf;
	struct mugai_pixmap *maps = NULL;
	struct mugai_pagetext *text = NULL;
	struct mugai_pdf_opts po = pdf_opts(150, 85);
	struct mugai_pdf_stats st;
	const struct mugai_word *w;
	char why[256], *pt;
	size_t n, i;

	(void)state;
	/* The fixture really carries what must go. */
	for (i = 0; i < sizeof(active) / sizeof(active[0]); i++)
		assert_true(contains(src.data, src.len, active[i]));
	assert_true(contains(src.data, src.len, "evil.exe"));
	assert_true(contains(src.data, src.len, "stream\nMZ"));
	free(src.data);

	mugai_buf_init(&out, 0);
	assert_int_equal(run("active.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	parse_out(&out, &o, 100, &maps, &n, &text);
	assert_int_equal(n, 3);
	/*
	 * The words, each with its box in 1/100 pt from the top left: the
	 * first line is set in 24 pt Helvetica at x 72, baseline 72 pt
	 * from the top.
	 */
	assert_int_equal(text[0].nwords, 10);
	w = word(&text[0], "Minutes");
	assert_non_null(w);
	assert_true(w->x0 >= 7100 && w->x0 <= 7300);
	assert_true(w->y0 >= 4500 && w->y0 < 7200 && w->y1 > 7200 &&
	    w->y1 < 8000);
	assert_non_null(word(&text[0], "attachment."));
	assert_non_null(word(&text[1], "1,000,000"));
	assert_non_null(word(&text[2], "end"));
	for (i = 0; i < n; i++) {
		/* US Letter, 612 x 792 pt, at 150 dpi. */
		assert_int_equal(maps[i].width, 1275);
		assert_int_equal(maps[i].height, 1650);
		/* Helvetica from fontconfig: the text is there. */
		assert_true(dark_pixels(&maps[i]) > 2000);
		assert_true(dark_pixels(&maps[i]) <
		    (size_t)maps[i].width * maps[i].height / 4);
	}
	/* Black text stays grey; the red box makes page 2 colour. */
	assert_int_equal(maps[0].channels, 1);
	assert_int_equal(maps[1].channels, 3);
	assert_int_equal(maps[2].channels, 1);
	assert_true(red_pixels(&maps[1]) > 200 * 100 * 150 / 72 * 150 / 72 * 9 / 10);

	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_pdf_from_pages(maps, n, text, &po, &pdf, &st),
	    MUGAI_OK);
	assert_int_equal(st.no_font, 0);
	assert_int_equal(st.words, text[0].nwords + text[1].nwords +
	    text[2].nwords);
	reopen(&pdf, 3, (const double[]){ 612, 612, 612 },
	    (const double[]){ 792, 792, 792 });
	/* The text layer: search and copy find the original's lines. */
	pt = page_text(&pdf, 0);
	assert_non_null(strstr(pt, "Minutes of the meeting, page 1"));
	assert_non_null(strstr(pt, "Please read the attachment."));
	g_free(pt);
	pt = page_text(&pdf, 1);
	assert_non_null(strstr(pt, "Total 1,000,000 yen"));
	g_free(pt);
	for (i = 0; i < sizeof(active) / sizeof(active[0]); i++)
		if (contains_outside_streams(pdf.data, pdf.len, active[i]))
			fail_msg("%s in the rebuilt PDF", active[i]);
	assert_false(contains(pdf.data, pdf.len, "evil.exe"));
	assert_false(contains(pdf.data, pdf.len, "/JavaScript"));
	assert_false(contains(pdf.data, pdf.len, "/EmbeddedFile"));
	assert_false(contains(pdf.data, pdf.len, "/Helvetica"));
	same_pictures(&pdf, &o, maps, n);
	mugai_pagetext_free(text, n);
	free(maps);
	mugai_buf_free(&pdf);
	mugai_buf_free(&out);
}

static void
test_encrypted(void **state)
{
	struct convert_opts o = opts(150, 100);
	struct mugai_buf out;
	char why[256];

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run("encrypted.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_ENCRYPTED);
	assert_string_equal(why, "PDF is encrypted");
	assert_int_equal(out.len, 0);
	mugai_buf_free(&out);
}

/*
 * The same encryption with an empty user password opens without
 * asking, as in any viewer, and renders: which also shows the fixture's
 * key computation is right, so encrypted.pdf fails for its password.
 */
static void
test_encrypted_empty_password(void **state)
{
	struct convert_opts o = opts(72, 100);
	struct mugai_buf out;
	struct mugai_pixmap *maps = NULL;
	char why[256];
	size_t n;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run("encrypted-nopw.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	parse_out(&out, &o, 100, &maps, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(maps[0].width, 612);
	assert_int_equal(maps[0].height, 792);
	assert_true(dark_pixels(&maps[0]) > 500);
	free(maps);
	mugai_buf_free(&out);
}

/*
 * The huge page in a child whose address space is capped a little above
 * what it uses now: rendering 30000 x 30000 pixels (3.6 GB) would fail
 * there, so TOO_BIG shows the refusal came before any allocation.
 * Sanitizers reserve terabytes of shadow memory, so under them the cap
 * is left off and only the answer is checked.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

static void
cap_address_space(void)
{
#ifndef UNDER_SANITIZER
	struct rlimit rl;
	unsigned long pages = 0;
	FILE *fp;

	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		_exit(100);
	if (fscanf(fp, "%lu", &pages) != 1)
		_exit(101);
	fclose(fp);
	rl.rlim_cur = rl.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) +
	    ((rlim_t)512 << 20);
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		_exit(102);
#endif
}

static int
run_capped(const char *name, const struct convert_opts *o)
{
	struct file f = load(name);
	struct mugai_buf out;
	char why[256];
	pid_t pid;
	int status, rc;

	if ((pid = fork()) == 0) {
		cap_address_space();
		mugai_buf_init(&out, 0);
		rc = convert_pdf(f.data, f.len, o, &out, why, sizeof(why));
		if (rc == MUGAI_CONVERT_EXIT_TOO_BIG && out.len != 0)
			_exit(103);
		_exit(rc);
	}
	assert_true(pid > 0);
	free(f.data);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_huge_page(void **state)
{
	struct convert_opts o = opts(150, 100);
	struct mugai_buf out;
	char why[256];

	(void)state;
	/* Side limit alone: no pixel cap to stop it. */
	o.max_pixels = SIZE_MAX;
	assert_int_equal(run_capped("huge-page.pdf", &o),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	mugai_buf_init(&out, 0);
	assert_int_equal(run("huge-page.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(why, "30000 x 30000"));
	assert_int_equal(out.len, 0);

	/* 14400 pixels a side at 72 dpi: under the side limit, over pixels. */
	o = opts(72, 100);
	assert_int_equal(run_capped("huge-page.pdf", &o),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_int_equal(run("huge-page.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(why, "max_pixels"));
	assert_int_equal(out.len, 0);

	/* At 1 dpi the same page is 200 x 200 pixels and fine. */
	o = opts(1, 100);
	assert_int_equal(run("huge-page.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	mugai_buf_free(&out);
}

static void
test_many_pages(void **state)
{
	struct convert_opts o = opts(10, 100);
	struct mugai_buf out;
	struct mugai_pixmap *maps = NULL;
	char why[256];
	size_t n;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run("many-pages.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_string_equal(why, "PDF has 150 pages, over pdf_max_pages 100");
	assert_int_equal(out.len, 0);

	o.max_pages = 200;
	assert_int_equal(run("many-pages.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	parse_out(&out, &o, 200, &maps, &n, NULL);
	assert_int_equal(n, 150);
	/* A4, 595 x 842 pt, at 10 dpi. */
	assert_int_equal(maps[149].width, 83);
	assert_int_equal(maps[149].height, 117);
	free(maps);
	mugai_buf_free(&out);
}

/*
 * A page turned a quarter: 792 x 612 pt as shown, its lines running
 * down the page.  Its words come out whole, flagged vertical, boxes
 * taller than wide; in the rebuilt PDF poppler reads the lines again.
 */
static void
test_rotated(void **state)
{
	struct convert_opts o = opts(72, 100);
	struct mugai_buf out, pdf;
	struct mugai_pixmap *maps = NULL;
	struct mugai_pagetext *text = NULL;
	struct mugai_pdf_opts po = pdf_opts(72, 75);
	const struct mugai_word *w;
	char why[256], *pt;
	size_t n;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run("rotated.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	parse_out(&out, &o, 100, &maps, &n, &text);
	assert_int_equal(n, 1);
	assert_int_equal(maps[0].width, 792);
	assert_int_equal(maps[0].height, 612);
	assert_int_equal(text[0].nwords, 5);
	w = word(&text[0], "1,000,000");
	assert_non_null(w);
	assert_int_equal(w->flags, MUGAI_WORD_VERTICAL);
	assert_true(w->y1 - w->y0 > 3 * (w->x1 - w->x0));
	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_pdf_from_pages(maps, n, text, &po, &pdf, NULL),
	    MUGAI_OK);
	pt = page_text(&pdf, 0);
	assert_non_null(strstr(pt, "Turned minutes"));
	assert_non_null(strstr(pt, "Total 1,000,000 yen"));
	g_free(pt);
	mugai_pagetext_free(text, n);
	free(maps);
	mugai_buf_free(&pdf);
	mugai_buf_free(&out);
}

/*
 * The word limits hold for the whole document: the pages after the
 * budget is spent get no words, and the pixels are all there.
 */
static void
test_word_limits(void **state)
{
	struct convert_opts o = opts(36, 100);
	struct mugai_buf out;
	struct mugai_pixmap *maps = NULL;
	struct mugai_pagetext *text = NULL;
	char why[256];
	size_t n;

	(void)state;
	mugai_buf_init(&out, 0);
	o.max_words = 12;
	assert_int_equal(run("active.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	parse_out(&out, &o, 100, &maps, &n, &text);
	assert_int_equal(n, 3);
	assert_int_equal(text[0].nwords, 10);
	assert_int_equal(text[1].nwords, 2);
	assert_int_equal(text[2].nwords, 0);
	mugai_pagetext_free(text, n);
	free(maps);

	/*
	 * "Minutes" (7 bytes) fits 8 bytes; "of" would pass them and ends
	 * the text layer: no later word, however short, is added.
	 */
	mugai_buf_reset(&out);
	o.max_words = 100;
	o.max_text = 8;
	assert_int_equal(run("active.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	parse_out(&out, &o, 100, &maps, &n, &text);
	assert_int_equal(text[0].nwords + text[1].nwords + text[2].nwords, 1);
	assert_non_null(word(&text[0], "Minutes"));
	mugai_pagetext_free(text, n);
	free(maps);
	mugai_buf_free(&out);
}

static void
test_bad_input(void **state)
{
	static const char *const junk[] = {
		"", "%PDF-", "%PDF-1.4\n1 0 obj\n<< >>\nendobj\n%%EOF\n",
		"MZ\x90\x00 not a PDF",
	};
	struct convert_opts o = opts(150, 100);
	struct mugai_buf out;
	char why[256];
	size_t i;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(run("broken.pdf", &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_true(why[0] != '\0');
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		why[0] = '\0';
		assert_int_equal(convert_pdf((const unsigned char *)junk[i],
		    strlen(junk[i]), &o, &out, why, sizeof(why)),
		    MUGAI_CONVERT_EXIT_BAD_INPUT);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(out.len, 0);
	mugai_buf_free(&out);
}

/* pdfwrite's output, read back by poppler: a grey and an RGB page. */
static void
test_pdfwrite_reopen(void **state)
{
	struct mugai_pixmap pm[2];
	struct mugai_buf pdf;
	struct mugai_pdf_opts po = pdf_opts(100, 90);
	uint8_t *grey, *rgb;
	size_t i;

	(void)state;
	grey = malloc(300 * 200);
	rgb = malloc(150 * 300 * 3);
	assert_non_null(grey);
	assert_non_null(rgb);
	for (i = 0; i < 300 * 200; i++)
		grey[i] = (uint8_t)(i % 300);
	for (i = 0; i < 150 * 300 * 3; i++)
		rgb[i] = (uint8_t)(i * 7);
	pm[0] = (struct mugai_pixmap){ 300, 200, 1, 0, grey };
	pm[1] = (struct mugai_pixmap){ 150, 300, 3, 0, rgb };
	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &po, &pdf, NULL),
	    MUGAI_OK);
	/* 300 px at 100 dpi is 216 pt, 200 px 144, 150 px 108. */
	reopen(&pdf, 2, (const double[]){ 216, 108 },
	    (const double[]){ 144, 216 });
	mugai_buf_free(&pdf);
	/* The same pages at 300 dpi: a third of the size in points. */
	po.dpi = 300;
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &po, &pdf, NULL),
	    MUGAI_OK);
	reopen(&pdf, 2, (const double[]){ 72, 36 },
	    (const double[]){ 48, 72 });
	mugai_buf_free(&pdf);
	free(grey);
	free(rgb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_content_dropped),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_encrypted_empty_password),
		cmocka_unit_test(test_huge_page),
		cmocka_unit_test(test_many_pages),
		cmocka_unit_test(test_rotated),
		cmocka_unit_test(test_word_limits),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_pdfwrite_reopen),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
