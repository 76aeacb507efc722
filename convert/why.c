/*
 * why.c - the one line a refusing mode leaves for the log.  Messages
 * quote hostile names and library text: control bytes and bytes that
 * are not well-formed UTF-8 become '?', so a Japanese file name stays
 * readable and nothing else reaches the log as is.
 */
#include <stdio.h>
#include <string.h>

#include "convert.h"
#include "mugai/text/charset.h"

/* Length of the UTF-8 sequence a lead byte starts, 0 for a bad lead. */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

void
convert_vwhy(char *why, size_t whylen, const char *fmt, va_list ap)
{
	unsigned char *p;
	size_t n;

	if (why == NULL || whylen == 0)
		return;
	vsnprintf(why, whylen, fmt, ap);
	for (p = (unsigned char *)why; *p != '\0'; p += n) {
		n = utf8_len(*p);
		/* strnlen first: a sequence cut by the end is not read past. */
		if (*p < 0x20 || *p == 0x7f || n == 0 ||
		    strnlen((const char *)p, n) < n ||
		    !mugai_utf8_valid((const char *)p, n)) {
			*p = '?';
			n = 1;
		}
	}
}
