/*
 * fuzz_convert_tnef.c - libFuzzer target: the tnef mode of mugai-convert
 * (winmail.dat, libytnef and the RTF reader), without the sandbox, and
 * the parent's mugai_tnef_mime on what it writes.
 *
 * Input: one selector byte, then the TNEF stream.  The selector picks
 * small caps (files, total bytes) so that the limit paths are reached.
 * A success must be a stream the parent turns into MIME parts within
 * the same caps; a refusal must leave out untouched and say why on one
 * line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mugai/cdr/members.h"
#include "mugai/cdr/tnef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct convert_opts o;
	struct mugai_buf out;
	GMimeObject *tree;
	char why[256];
	unsigned sel;
	int rc, dropped;

	if (size < 1)
		return 0;
	if (!inited) {
		g_mime_init();
		inited = 1;
	}
	sel = data[0];
	memset(&o, 0, sizeof(o));
	o.max_members = sel & 0x01 ? 3 : 1000;
	o.max_total = sel & 0x02 ? 4096 : (size_t)16 << 20;
	o.max_ratio = 100;
	mugai_buf_init(&out, 0);
	rc = convert_tnef(data + 1, size - 1, &o, &out, why, sizeof(why));
	if (rc == MUGAI_CONVERT_EXIT_OK) {
		if (mugai_tnef_mime(out.data, out.len, o.max_members,
		    o.max_total, sel & 0x04 ? 0 : 1, &tree, &dropped, why,
		    sizeof(why)) != MUGAI_OK)
			abort();
		g_object_unref(tree);
	} else if (rc == MUGAI_CONVERT_EXIT_TOO_BIG ||
	    rc == MUGAI_CONVERT_EXIT_BAD_INPUT ||
	    rc == MUGAI_CONVERT_EXIT_UNSAFE) {
		if (out.len != 0 || why[0] == '\0' ||
		    strchr(why, '\n') != NULL)
			abort();
	} else
		abort();
	mugai_buf_free(&out);
	return 0;
}
