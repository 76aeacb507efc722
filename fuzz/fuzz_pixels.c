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
 * input.  Left coded (mugai_pixels_parse_coded), the same stream is
 * accepted or refused alike and each page decodes alone to the same
 * pixels.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pixels.h"

#define FUZZ_PIXELS	4096
#define FUZZ_PAGES	4
#define FUZZ_BYTES	20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * undecoded - the stream through mugai_pixels_parse_coded, which must
 * accept exactly what mugai_pixels_parse_pages did (its n pages in
 * want, NULL when refused), each page decoded alone by
 * mugai_pixels_unpack to the same pixels.
 */
static void
undecoded(const uint8_t *data, size_t size, const struct mugai_pixmap *want,
    size_t n)
{
	static uint8_t page[FUZZ_PIXELS * 3];
	struct mugai_pixmap *pm, one;
	size_t *coded, k, used, i, bytes;

	if (mugai_pixels_parse_coded(data, size, FUZZ_PIXELS, FUZZ_PAGES,
	    FUZZ_BYTES, &pm, &coded, &k, &used) != MUGAI_OK) {
		if (want != NULL)
			abort();
		return;
	}
	if (want == NULL || k != n)
		abort();
	for (i = 0; i < n; i++) {
		bytes = (size_t)pm[i].width * pm[i].height * pm[i].channels;
		if (mugai_pixels_unpack(&pm[i], coded[i], page, &one) !=
		    MUGAI_OK || one.flags != want[i].flags ||
		    memcmp(one.data, want[i].data, bytes) != 0)
			abort();
	}
	free(pm);
	free(coded);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_pixmap *pm;
	uint8_t *store;
	size_t n, used, i, k, bytes, coded = 0;
	unsigned sum = 0;

	if (mugai_pixels_parse_pages(data, size, FUZZ_PIXELS, FUZZ_PAGES,
	    FUZZ_BYTES, &pm, &n, &used, &store) != MUGAI_OK) {
		undecoded(data, size, NULL, 0);
		return 0;
	}
	undecoded(data, size, pm, n);
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
