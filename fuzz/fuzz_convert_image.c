/*
 * fuzz_convert_image.c - libFuzzer target: the image mode of
 * mugai-convert (convert/image.c), without the sandbox.
 *
 * Input: the image file itself, so real images make good seeds.  A small
 * max_pixels keeps each run quick and reaches the size checks; whatever
 * decodes must be a stream the parent's parser accepts, and a refusal
 * must be one of the two documented codes with a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mugai/cdr/pixels.h"

#define FUZZ_MAX_PIXELS	(1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct convert_opts o;
	struct mugai_pixmap *pm;
	struct mugai_buf out;
	char why[256];
	size_t n;
	int rc;

	memset(&o, 0, sizeof(o));
	o.memory = (size_t)256 << 20;
	o.max_pixels = FUZZ_MAX_PIXELS;
	mugai_buf_init(&out, 0);
	rc = convert_image(data, size, &o, &out, why, sizeof(why));
	switch (rc) {
	case MUGAI_CONVERT_EXIT_OK:
		if (mugai_pixels_parse(out.data, out.len, FUZZ_MAX_PIXELS, 1,
		    &pm, &n) != MUGAI_OK || n != 1)
			abort();
		free(pm);
		break;
	case MUGAI_CONVERT_EXIT_BAD_INPUT:
	case MUGAI_CONVERT_EXIT_TOO_BIG:
		if (why[0] == '\0' || strlen(why) >= sizeof(why))
			abort();
		break;
	default:
		abort();
	}
	mugai_buf_free(&out);
	return 0;
}
