/*
 * json.c - JSON string escaping (see mugai/base/json.h).
 */
#include <string.h>

#include "mugai/base/json.h"

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

mugai_status
mugai_json_strn(struct mugai_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	mugai_status rc;

	if ((rc = mugai_buf_putc(b, '"')) != MUGAI_OK)
		return rc;
	while (i < n && rc == MUGAI_OK) {
		if (p[i] == '"' || p[i] == '\\') {
			rc = mugai_buf_printf(b, "\\%c", p[i]);
			i++;
		} else if (p[i] == '\n') {
			rc = mugai_buf_puts(b, "\\n");
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7F) {
			rc = mugai_buf_printf(b, "\\u%04x", p[i]);
			i++;
		} else if ((k = utf8_seq(p + i, n - i)) == 0) {
			rc = mugai_buf_puts(b, "\\ufffd");
			i++;
		} else {
			rc = mugai_buf_append(b, p + i, k);
			i += k;
		}
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(b, '"');
	return rc;
}

mugai_status
mugai_json_str(struct mugai_buf *b, const char *s)
{
	if (s == NULL)
		return mugai_buf_puts(b, "null");
	return mugai_json_strn(b, s, strlen(s));
}

mugai_status
mugai_json_kv(struct mugai_buf *b, const char *key, const char *value)
{
	mugai_status rc;

	if ((rc = mugai_json_str(b, key)) != MUGAI_OK ||
	    (rc = mugai_buf_putc(b, ':')) != MUGAI_OK)
		return rc;
	return mugai_json_str(b, value);
}
