/*
 * mugai/text/hdrdecode.h - decoding header values and attachment file names
 * as real mailers send them.
 *
 * Input is the raw header value as received: bytes, possibly folded,
 * possibly raw 8-bit Shift_JIS/UTF-8/EUC-JP.  Output is malloc'd UTF-8
 * with no control characters (C0/C1 controls, tabs and newlines become
 * spaces; bidi embedding/override/isolate controls are removed), trimmed,
 * which the caller frees.  NULL is returned only when memory runs out.
 * Only the first 64 KiB of a raw value are looked at: for longer values
 * the decoding of that prefix is returned.  Thread safe.
 */
#ifndef MUGAI_HDRDECODE_H
#define MUGAI_HDRDECODE_H

#include <stddef.h>

/*
 * mugai_header_decode - decode an unstructured value (Subject, the
 * display part of From): unfold, decode RFC 2047 encoded words (adjacent
 * words in one charset are joined before decoding, so characters split
 * across words and ISO-2022-JP state survive; white space between encoded
 * words is dropped), decode raw 8-bit runs by detection.
 */
char *mugai_header_decode(const char *raw, size_t len);

/*
 * mugai_filename_decode - the file name of a MIME part, from the raw
 * values of its Content-Disposition and Content-Type headers (either may
 * be NULL).  Tries, in order: RFC 2231 filename* (with continuations
 * filename*0*, filename*1 ..., charset'lang'%XX), filename= (quoted or not;
 * RFC 2047 words inside it; raw 8-bit CP932 where 0x5C is a trail byte,
 * not a backslash escape), then the same for Content-Type name.  Returns
 * NULL-free "" when the part has no name at all; path separators are kept
 * as they are (callers never use names as paths).
 */
char *mugai_filename_decode(const char *disposition_raw, const char *ctype_raw);

/*
 * mugai_header_param - raw value of parameter name (e.g. "charset",
 * "boundary") of a structured header value ("type; p=v; ..."; what
 * precedes the first ';' is not a parameter), unquoted, or NULL when
 * absent.  Malloc'd; name is case-insensitive; the first occurrence
 * wins.  A plain name= is preferred; otherwise name* or the RFC 2231
 * continuations name*0, name*1 ... are joined, not decoded (so
 * "UTF-8''%E6..." comes back as it was written).
 */
char *mugai_header_param(const char *raw, const char *name);

#endif
