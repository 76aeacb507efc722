/*
 * fuzz_convert_ooxml.c - libFuzzer target: the OOXML cleaner.
 *
 * Input: one selector byte, then the zip.  The selector picks small
 * member, size and ratio caps now and then, so the limit paths are
 * reached as well.  What comes out must be a zip libzip opens with
 * ZIP_CHECKCONS, and cleaning it again must succeed: the cleaner never
 * writes a package it would refuse itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_zip(const struct mugai_buf *out)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;

	zip_error_init(&ze);
	src = zip_source_buffer_create(out->data, out->len, 0, &ze);
	if (src == NULL)
		abort();
	if ((za = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY,
	    &ze)) == NULL)
		abort();
	zip_discard(za);
	zip_error_fini(&ze);
}

static void
clean_again(const struct mugai_buf *out)
{
	struct convert_opts o;
	struct mugai_buf again;
	char why[256];

	memset(&o, 0, sizeof(o));
	o.max_members = 100000;
	o.max_total = (size_t)1 << 30;
	o.max_ratio = 0;
	mugai_buf_init(&again, 0);
	if (convert_ooxml((const unsigned char *)out->data, out->len, &o,
	    &again, why, sizeof(why)) != MUGAI_CONVERT_EXIT_OK)
		abort();
	mugai_buf_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct convert_opts o;
	struct mugai_buf out;
	char why[256];
	unsigned sel;
	int rc;

	if (size < 1)
		return 0;
	sel = data[0];
	memset(&o, 0, sizeof(o));
	o.max_members = sel & 1 ? 4 : 1000;
	o.max_total = sel & 2 ? 4096 : (size_t)64 << 20;
	o.max_ratio = sel & 4 ? 2 : 100;
	mugai_buf_init(&out, 0);
	rc = convert_ooxml(data + 1, size - 1, &o, &out, why, sizeof(why));
	switch (rc) {
	case MUGAI_CONVERT_EXIT_OK:
		check_zip(&out);
		clean_again(&out);
		break;
	case MUGAI_CONVERT_EXIT_ENCRYPTED:
	case MUGAI_CONVERT_EXIT_TOO_BIG:
	case MUGAI_CONVERT_EXIT_BAD_INPUT:
	case MUGAI_CONVERT_EXIT_UNSAFE:
		/* A refusal always says why, on one line. */
		if (why[0] == '\0' || strchr(why, '\n') != NULL)
			abort();
		break;
	default:
		abort();
	}
	mugai_buf_free(&out);
	return 0;
}
