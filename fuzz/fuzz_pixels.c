/*
 * fuzz_pixels.c - libFuzzer target: the parent's parser of the pixel
 * stream of a PDF's pages (src/cdr/pixels.c, mugai_pixels_parse_pages),
 * whose pages may be run-length coded, which must hold whatever a
 * compromised worker sends.
 *
 * Input: the stream.  Whatever it is, the parser either refuses it or
 * returns 1 to 4 pages within the pixel limit, none flagged, each
 * page's bytes readable (inside the input, or inside the decoded store
 * that stays within its byte limit), and a prefix length within the
 * input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mugai/cdr/pixels.h"

#define FUZZ_PIXELS	4096
#define FUZZ_PAGES	4
#define FUZZ_BYTES	20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_pixmap *pm;
	uint8_t *store;
	size_t n, used, i, k, bytes, coded = 0;
	unsigned sum = 0;

	if (mugai_pixels_parse_pages(data, size, FUZZ_PIXELS, FUZZ_PAGES,
	    FUZZ_BYTES, &pm, &n, &used, &store) != MUGAI_OK)
		return 0;
	if (n < 1 || n > FUZZ_PAGES || used > size)
		abort();
	for (i = 0; i < n; i++) {
		if (pm[i].flags & MUGAI_PIX_RUNS ||
		    (size_t)pm[i].width * pm[i].height > FUZZ_PIXELS)
			abort();
		bytes = (size_t)pm[i].width * pm[i].height * pm[i].channels;
		if (pm[i].data < data || pm[i].data + bytes > data + size)
			coded += bytes;
		/* Every byte read: ASan sees any page past its buffer. */
		for (k = 0; k < bytes; k++)
			sum += pm[i].data[k];
	}
	/* sum is used, so that the reads are not optimised away. */
	if (coded > FUZZ_BYTES || (coded > 0) != (store != NULL) ||
	    sum == UINT32_MAX)
		abort();
	free(pm);
	free(store);
	return 0;
}
