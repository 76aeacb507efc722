/*
 * fuzz_convert_ole2.c - libFuzzer target: what a compound file is
 * (convert/ole2.c: libgsf, the Word FIB flags, the BIFF record walk).
 * Input: the file.  The answer is one of three kinds and a new line, or
 * a refusal that says why on one line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct convert_opts o;
	struct mugai_buf out;
	char why[256];
	int rc;

	if (!ready)
		ready = convert_ole2_prepare() == 0;
	memset(&o, 0, sizeof(o));
	mugai_buf_init(&out, 0);
	rc = convert_ole2(data, size, &o, &out, why, sizeof(why));
	switch (rc) {
	case MUGAI_CONVERT_EXIT_OK:
		if (out.len != 4 || out.data[3] != '\n' ||
		    (memcmp(out.data, "doc", 3) != 0 &&
		    memcmp(out.data, "xls", 3) != 0 &&
		    memcmp(out.data, "ppt", 3) != 0))
			abort();
		break;
	case MUGAI_CONVERT_EXIT_ENCRYPTED:
	case MUGAI_CONVERT_EXIT_TOO_BIG:
	case MUGAI_CONVERT_EXIT_BAD_INPUT:
		if (why[0] == '\0' || strchr(why, '\n') != NULL)
			abort();
		break;
	default:
		abort();
	}
	mugai_buf_free(&out);
	return 0;
}
