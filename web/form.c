/*
 * form.c - decoding form fields (form.h).  libmicrohttpd has a POST
 * processor, but it hands values over in pieces across calls; the
 * forms here are small (the body is capped in server.c), so one pass
 * over the whole body is simpler and testable on its own.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "form.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) into a new string; NULL when malformed. */
static char *
decode(const char *s, size_t len)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] != '%')
			*o++ = s[i];
		else {
			if (i + 2 >= len)
				goto bad;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

char *
web_form_get(const char *encoded, const char *name)
{
	const char *p, *end, *eq;
	size_t nlen;

	if (encoded == NULL || name == NULL)
		return NULL;
	nlen = strlen(name);
	for (p = encoded; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "&;");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL) {
			if ((size_t)(end - p) == nlen && memcmp(p, name, nlen) == 0)
				return strdup("");
			continue;
		}
		if ((size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0)
			return decode(eq + 1, (size_t)(end - eq - 1));
	}
	return NULL;
}

char *
web_form_trim(char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		memmove(s, s + 1, strlen(s));
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		s[--n] = '\0';
	return s;
}

time_t
web_form_day(const char *s, int end)
{
	struct tm tm;
	char *e;

	if (s == NULL || *s == '\0')
		return 0;
	memset(&tm, 0, sizeof(tm));
	e = strptime(s, "%Y-%m-%d", &tm);
	if (e == NULL || *e != '\0')
		return -1;
	tm.tm_isdst = -1;
	if (end)
		tm.tm_mday++;
	return mktime(&tm);
}
