/*
 * html.c - HTML escaping and URL encoding of untrusted text (html.h).
 *
 * Written by hand: it is twenty lines, and no Debian library both
 * escapes for HTML and repairs invalid UTF-8 the way the CLI's text for
 * people does (glib validates, but escapes only with markup rules that
 * leave bidi controls in place).
 */
#include <stdint.h>
#include <string.h>

#include "html.h"

/* Length of the valid UTF-8 sequence at s (0: invalid); *cp its value. */
static size_t
utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static int
unsafe_cp(uint32_t c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c < 0xA0) ||
	    (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x200E || c == 0x200F || c == 0x061C;
}

mugai_status
web_html_n(struct mugai_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	mugai_status rc = MUGAI_OK;
	uint32_t cp;
	size_t i = 0, n;

	while (i < len && rc == MUGAI_OK) {
		n = utf8_seq(p + i, len - i, &cp);
		if (n == 0) {
			rc = mugai_buf_puts(b, "\xEF\xBF\xBD");
			i++;
			continue;
		}
		switch (cp) {
		case '\r':	/* a CRLF line end shows as the LF alone */
			if (i + 1 < len && p[i + 1] == '\n')
				break;
			rc = mugai_buf_putc(b, '?');
			break;
		case '&':	rc = mugai_buf_puts(b, "&amp;"); break;
		case '<':	rc = mugai_buf_puts(b, "&lt;"); break;
		case '>':	rc = mugai_buf_puts(b, "&gt;"); break;
		case '"':	rc = mugai_buf_puts(b, "&quot;"); break;
		case '\'':	rc = mugai_buf_puts(b, "&#39;"); break;
		default:
			if (unsafe_cp(cp))
				rc = mugai_buf_putc(b, '?');
			else
				rc = mugai_buf_append(b, p + i, n);
		}
		i += n;
	}
	return rc;
}

mugai_status
web_html(struct mugai_buf *b, const char *s)
{
	return web_html_n(b, s ? s : "", s ? strlen(s) : 0);
}

mugai_status
web_url(struct mugai_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	mugai_status rc = MUGAI_OK;

	for (p = (const unsigned char *)(s ? s : ""); *p && rc == MUGAI_OK; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			rc = mugai_buf_putc(b, (char)*p);
		else if ((rc = mugai_buf_putc(b, '%')) == MUGAI_OK &&
		    (rc = mugai_buf_putc(b, hex[*p >> 4])) == MUGAI_OK)
			rc = mugai_buf_putc(b, hex[*p & 15]);
	}
	return rc;
}
