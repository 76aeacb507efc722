/*
 * fuzz_charset.c - libFuzzer target: decoding to UTF-8 (ISO-2022-JP as
 * CP50221, CP932, EUC-JP, detection) and the ISO-2022-JP encoder.
 *
 * Input: one selector byte (the charset label), then the bytes.  Every
 * decoding must be valid UTF-8; re-encoding it as ISO-2022-JP either
 * succeeds or says it cannot, and what it writes decodes back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/text/charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const labels[] = {
	NULL, "ISO-2022-JP", "Shift_JIS", "EUC-JP", "UTF-8", "US-ASCII",
	"cp50221", "windows-31j", "eucJP-ms", "iso-2022-jp-2", "x-sjis",
	"ISO-8859-1", "GB2312", "UTF-16", "UTF-7", "no-such-charset",
};

static void
roundtrip(const char *utf, size_t len)
{
	struct mugai_buf jis, back;
	mugai_status rc;

	mugai_buf_init(&jis, 0);
	mugai_buf_init(&back, 0);
	rc = mugai_charset_utf8_to_iso2022jp(utf, len, &jis);
	if (rc != MUGAI_OK && rc != MUGAI_ERR_NOTFOUND)
		abort();
	if (rc == MUGAI_OK) {
		if (mugai_charset_to_utf8("ISO-2022-JP", jis.data, jis.len,
		    &back, NULL) != MUGAI_OK ||
		    !mugai_utf8_valid(back.data, back.len))
			abort();
	}
	mugai_buf_free(&jis);
	mugai_buf_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_buf out;
	const char *in;
	size_t len, nbad = 0;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0];
	in = (const char *)data + 1;
	len = size - 1;
	(void)mugai_charset_canonical(labels[sel & 15]);
	(void)mugai_charset_detect(in, len);
	mugai_buf_init(&out, sel & 0x80 ? 64 : 0);
	switch (mugai_charset_to_utf8(labels[sel & 15], in, len, &out,
	    &nbad)) {
	case MUGAI_OK:
		if (!mugai_utf8_valid(out.data, out.len))
			abort();
		if (!(sel & 0x80))
			roundtrip(out.data, out.len);
		break;
	case MUGAI_ERR_LIMIT:
		if (out.len > out.max)
			abort();
		break;
	default:
		abort();
	}
	mugai_buf_free(&out);
	return 0;
}
