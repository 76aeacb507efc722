/*
 * fuzz_convert_archive.c - libFuzzer target: the archive mode of
 * mugai-convert, without the sandbox.
 *
 * Input: one selector byte, then the archive.  The selector picks small
 * caps (members, total, ratio) so that the limit paths are reached as
 * well as the formats.  Whatever the archive, a success must be a
 * stream the parent's strict parser accepts within the same caps, and
 * a refusal must leave out untouched and say why on one line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mugai/cdr/members.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct convert_opts o;
	struct mugai_buf out;
	struct mugai_member *m;
	char why[256];
	size_t n;
	unsigned sel;
	int rc;

	if (size < 1)
		return 0;
	sel = data[0];
	memset(&o, 0, sizeof(o));
	o.max_members = sel & 0x01 ? 3 : 1000;
	o.max_total = sel & 0x02 ? 4096 : (size_t)16 << 20;
	o.max_ratio = sel & 0x04 ? 2 : 100;
	mugai_buf_init(&out, 0);
	rc = convert_archive(data + 1, size - 1, &o, &out, why, sizeof(why));
	if (rc == MUGAI_CONVERT_EXIT_OK) {
		if (mugai_members_parse(out.data, out.len, o.max_members,
		    o.max_total, &m, &n) != MUGAI_OK)
			abort();
		mugai_members_free(m, n);
	} else if (rc == MUGAI_CONVERT_EXIT_ENCRYPTED ||
	    rc == MUGAI_CONVERT_EXIT_TOO_BIG ||
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
