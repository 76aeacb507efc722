/*
 * fuzz_html2text.c - libFuzzer target: HTML to text.
 *
 * Input: one selector byte, then the HTML.  The selector picks the MIME
 * charset label (none, so <meta> and detection are fuzzed too, or one
 * of the Japanese labels), the depth limit and whether the output has a
 * small cap, so the limit paths are reached as well.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/text/html2text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const labels[] = {
	NULL, "utf-8", "iso-2022-jp", "shift_jis", "euc-jp", "us-ascii",
	"iso-8859-1", "x-unknown",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_buf out;
	struct mugai_html_stats st;
	unsigned sel, depth;
	mugai_status rc;

	if (size < 1)
		return 0;
	sel = data[0];
	depth = sel & 0x10 ? 8 : 200;
	mugai_buf_init(&out, sel & 0x20 ? 256 : 0);
	rc = mugai_html_to_text((const char *)data + 1, size - 1,
	    labels[sel & 7], depth, &out, &st);
	if (rc != MUGAI_OK && rc != MUGAI_ERR_LIMIT && rc != MUGAI_ERR_PARSE)
		abort();
	if (out.max != 0 && out.len > out.max)
		abort();
	/* The text is NUL terminated and holds no NUL: it goes to C strings. */
	if (out.data != NULL && strlen(out.data) != out.len)
		abort();
	mugai_buf_free(&out);
	return 0;
}
