/*
 * fuzz_pagetext.c - libFuzzer target: the parent's parser of the word
 * stream a PDF worker writes (src/cdr/pagetext.c), which must hold whatever
 * a compromised worker sends.
 *
 * Input: one byte, the page count (1 to 4), then the stream.  Whatever
 * the input, the parser either refuses it or returns exactly that many
 * pages whose every word is well-formed, inside its page and inside the
 * input, within the limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mugai/cdr/pagetext.h"

#define FUZZ_WORDS	200
#define FUZZ_BYTES	4000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t pw[4] = { 61200, 59500, 100, 1 };
static const uint32_t ph[4] = { 79200, 84200, 100, 1 };

static void
check(const struct mugai_pagetext *t, size_t n, const uint8_t *in,
    size_t len)
{
	const struct mugai_word *w;
	size_t i, j, words = 0, bytes = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < t[i].nwords; j++) {
			w = &t[i].words[j];
			if (w->x0 >= w->x1 || w->y0 >= w->y1 || w->x1 > pw[i] ||
			    w->y1 > ph[i] || (w->flags & ~MUGAI_WORD_VERTICAL) ||
			    !mugai_word_ok(w->text, w->len) ||
			    (const uint8_t *)w->text < in ||
			    (const uint8_t *)w->text + w->len > in + len)
				abort();
			words++;
			bytes += w->len;
		}
	if (words > FUZZ_WORDS || bytes > FUZZ_BYTES)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_pagetext_limits lim = { FUZZ_WORDS, FUZZ_BYTES };
	struct mugai_pagetext *t = NULL;
	size_t n;

	if (size < 1)
		return 0;
	n = (size_t)(data[0] % 4) + 1;
	if (mugai_pagetext_parse(data + 1, size - 1, n, pw, ph, &lim, &t) ==
	    MUGAI_OK) {
		check(t, n, data + 1, size - 1);
		mugai_pagetext_free(t, n);
	} else if (t != NULL)
		abort();
	return 0;
}
