/*
 * fuzz_ocr_tsv.c - libFuzzer target: the parent's check of the TSV
 * Tesseract writes (src/cdr/ocr.c), which must hold whatever a
 * Tesseract subverted by the pixels it reads sends.
 *
 * Input: the TSV, for a page of 1240 x 1754 pixels at 300 dpi.  Whatever
 * the input, the parser either refuses it or returns words that are
 * well-formed, inside the page and inside the input, at most the cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mugai/cdr/ocr.h"

#define FUZZ_W		1240
#define FUZZ_H		1754
#define FUZZ_DPI	300
#define FUZZ_WORDS	100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const uint32_t pw = FUZZ_W * 7200 / FUZZ_DPI,
	    ph = FUZZ_H * 7200 / FUZZ_DPI;
	struct mugai_pagetext t;
	const struct mugai_word *w;
	size_t i, total = 0;

	if (mugai_ocr_parse(in, size, FUZZ_W, FUZZ_H, FUZZ_DPI, FUZZ_WORDS,
	    &total, &t) != MUGAI_OK)
		return 0;
	if (t.nwords > FUZZ_WORDS || total != t.nwords ||
	    (t.nwords == 0) != (t.words == NULL))
		abort();
	for (i = 0; i < t.nwords; i++) {
		w = &t.words[i];
		if (w->x0 >= w->x1 || w->y0 >= w->y1 || w->x1 > pw ||
		    w->y1 > ph || w->flags != 0 ||
		    !mugai_word_ok(w->text, w->len) || w->text < in ||
		    w->text + w->len > in + size)
			abort();
	}
	free(t.words);
	return 0;
}
