/*
 * mugai/text/charset.h - decoding Japanese (and other) text to UTF-8.
 *
 * Japanese mail is decoded the way Windows mailers write it:
 *   ISO-2022-JP  as CP50221: JIS X 0208 plus NEC row 13 and IBM
 *                extensions (decoded through CP932), ESC ( I and SO/SI
 *                half-width katakana, ESC ( J Roman read as ASCII (as
 *                Windows does), and the JIS X 0212/0213 sets of
 *                ISO-2022-JP-1/2/3;
 *   Shift_JIS    as CP932;
 *   EUC-JP       as eucJP-ms / CP51932.
 * Bytes that cannot be decoded become U+FFFD and are counted, never
 * silently dropped.  Unknown or missing labels fall back to detection.
 * All functions are thread safe (iconv descriptors are per call).
 */
#ifndef MUGAI_CHARSET_H
#define MUGAI_CHARSET_H

#include <stddef.h>
#include "mugai/base/buf.h"

/*
 * mugai_charset_canonical - map a MIME/HTML charset label to the name
 * mugai decodes it as ("UTF-8", "ISO-2022-JP", "CP932", "EUC-JP",
 * "US-ASCII", or an iconv name for other charsets).  Returns NULL for an
 * empty or unusable label.  Case-insensitive; quotes, white space, '-',
 * '_' and '.' are ignored.  ISO-8859-1 is read as WINDOWS-1252, GB2312
 * as GBK, EUC-KR as CP949, Big5 as BIG5-HKSCS (what senders mean).
 */
const char *mugai_charset_canonical(const char *label);

/*
 * mugai_charset_detect - guess the charset of raw bytes: "US-ASCII",
 * "UTF-8", "ISO-2022-JP", "CP932" or "EUC-JP".  Never NULL.
 */
const char *mugai_charset_detect(const char *in, size_t len);

/*
 * mugai_charset_to_utf8 - append the UTF-8 decoding of in[0..len) to out.
 * charset NULL or unknown: detected; so is "US-ASCII" text that holds
 * 8-bit bytes or ISO-2022-JP escapes.  A leading UTF-8 BOM is dropped.
 * *nbad (may be NULL) receives the number of U+FFFD substitutions.
 * Fails only with MUGAI_ERR_LIMIT (out reached its cap) or
 * MUGAI_ERR_NOMEM; out then holds a partial result.
 */
mugai_status mugai_charset_to_utf8(const char *charset, const char *in,
    size_t len, struct mugai_buf *out, size_t *nbad);

/*
 * mugai_charset_utf8_to_iso2022jp - encode UTF-8 as strict ISO-2022-JP
 * (RFC 1468: ASCII and JIS X 0208 only), ending in ASCII.  Returns
 * MUGAI_ERR_NOTFOUND, leaving out unchanged, when some character has no
 * ISO-2022-JP form (e.g. U+2460 ①, U+FF5E ～, half-width katakana) or
 * the input is not valid UTF-8: callers then keep UTF-8.  (U+301C 〜 is
 * encoded, as JIS 0x2141.)  MUGAI_ERR_LIMIT: out's cap; out unchanged.
 */
mugai_status mugai_charset_utf8_to_iso2022jp(const char *in, size_t len,
    struct mugai_buf *out);

/* mugai_utf8_valid - 1 if in[0..len) is well-formed UTF-8. */
int mugai_utf8_valid(const char *in, size_t len);

#endif
