/*
 * fuzz_convert_pdf.c - libFuzzer target: the worker's PDF converter
 * (convert/pdf.c), poppler and cairo included, without the sandbox.
 *
 * Input: the PDF itself.  The limits are small (two pages at 36 dpi,
 * a million pixels) so that the time goes into parsing hostile syntax,
 * not into painting large pages; the limit paths are reached as well.
 * Whatever the input, the converter must answer with one of its exit
 * codes, say why when it refuses, and on success write a pixel stream
 * the parent accepts, with no more pages than allowed, followed by a
 * word stream the parent accepts for those pages.
 *
 * Memory that poppler, fontconfig and GLib keep for the life of the
 * process (font caches, the GType registry) is reachable, not leaked,
 * so LeakSanitizer stays on: a leak in our code fails the run.  One
 * exception: fontconfig 2.14 loses 288 bytes once, while parsing its
 * configuration files on first use (valgrind sees it too), and it
 * would fail every run; LeakSanitizer is told to ignore leaks whose
 * stack passes through libfontconfig, which no mugai code does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mugai/cdr/pixels.h"
#include "mugai/cdr/pagetext.h"

#define FUZZ_PAGES	2
#define FUZZ_DPI	36
#define FUZZ_PIXELS	1000000
#define FUZZ_WORDS	1000
#define FUZZ_TEXT	20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

static void
check_pixels(const struct mugai_buf *out)
{
	struct mugai_pagetext_limits lim = { FUZZ_WORDS, FUZZ_TEXT };
	struct mugai_pagetext *text;
	struct mugai_pixmap *maps;
	uint32_t pw[FUZZ_PAGES], ph[FUZZ_PAGES];
	uint8_t *store;
	size_t n, used, i;

	if (mugai_pixels_parse_pages(out->data, out->len, FUZZ_PIXELS,
	    FUZZ_PAGES, (size_t)FUZZ_PAGES * FUZZ_PIXELS * 3, &maps, &n, &used,
	    &store) != MUGAI_OK)
		abort();
	if (n < 1 || n > FUZZ_PAGES)
		abort();
	/* The page sizes the parent gives the words (src/cdr/convert.c). */
	for (i = 0; i < n; i++) {
		pw[i] = (uint32_t)((uint64_t)maps[i].width * 7200 / FUZZ_DPI);
		ph[i] = (uint32_t)((uint64_t)maps[i].height * 7200 / FUZZ_DPI);
	}
	if (mugai_pagetext_parse(out->data + used, out->len - used, n, pw, ph,
	    &lim, &text) != MUGAI_OK)
		abort();
	mugai_pagetext_free(text, n);
	free(maps);
	free(store);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct convert_opts o;
	struct mugai_buf out;
	char why[256] = "";
	int rc;

	memset(&o, 0, sizeof(o));
	o.memory = (size_t)1 << 30;
	o.cpu_s = 10;
	o.max_pixels = FUZZ_PIXELS;
	o.max_pages = FUZZ_PAGES;
	o.dpi = FUZZ_DPI;
	o.max_words = FUZZ_WORDS;
	o.max_text = FUZZ_TEXT;
	mugai_buf_init(&out, 0);
	rc = convert_pdf(data, size, &o, &out, why, sizeof(why));
	switch (rc) {
	case MUGAI_CONVERT_EXIT_OK:
		check_pixels(&out);
		break;
	case MUGAI_CONVERT_EXIT_ENCRYPTED:
	case MUGAI_CONVERT_EXIT_TOO_BIG:
	case MUGAI_CONVERT_EXIT_BAD_INPUT:
	case MUGAI_CONVERT_EXIT_XFA:
		/* The refusal goes to the log: it must say something. */
		if (why[0] == '\0')
			abort();
		break;
	default:
		abort();
	}
	mugai_buf_free(&out);
	return 0;
}
