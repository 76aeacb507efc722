/*
 * buf.c - growable byte buffer with a hard cap (see mugai/base/buf.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/bigmem.h"
#include "mugai/base/buf.h"

void
mugai_buf_init(struct mugai_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->big = 0;
}

void
mugai_buf_init_big(struct mugai_buf *b, size_t max)
{
	mugai_buf_init(b, max);
	b->big = 1;
}

void
mugai_buf_free(struct mugai_buf *b)
{
	if (b->big)
		mugai_big_free(b->data);
	else
		free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
mugai_buf_reset(struct mugai_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the terminating NUL. */
static mugai_status
buf_reserve(struct mugai_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > SIZE_MAX - b->len - 1)
		return MUGAI_ERR_LIMIT;
	if (b->max != 0 && b->len + n > b->max)
		return MUGAI_ERR_LIMIT;
	need = b->len + n + 1;
	if (need <= b->cap)
		return MUGAI_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->big) {
		/* Fresh huge pages and a copy: fewer faults than realloc. */
		if ((p = mugai_big_alloc(ncap)) == NULL)
			return MUGAI_ERR_NOMEM;
		if (b->data != NULL)
			memcpy(p, b->data, b->len + 1);
		mugai_big_free(b->data);
	} else if ((p = realloc(b->data, ncap)) == NULL)
		return MUGAI_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return MUGAI_OK;
}

mugai_status
mugai_buf_append(struct mugai_buf *b, const void *p, size_t n)
{
	mugai_status rc;

	if ((rc = buf_reserve(b, n)) != MUGAI_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return MUGAI_OK;
}

mugai_status
mugai_buf_puts(struct mugai_buf *b, const char *s)
{
	return mugai_buf_append(b, s, strlen(s));
}

mugai_status
mugai_buf_putc(struct mugai_buf *b, char c)
{
	return mugai_buf_append(b, &c, 1);
}

mugai_status
mugai_buf_vprintf(struct mugai_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	mugai_status rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return MUGAI_ERR_INTERNAL;
	if ((rc = buf_reserve(b, (size_t)n)) != MUGAI_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return MUGAI_OK;
}

mugai_status
mugai_buf_printf(struct mugai_buf *b, const char *fmt, ...)
{
	va_list ap;
	mugai_status rc;

	va_start(ap, fmt);
	rc = mugai_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

mugai_status
mugai_buf_put_utf8(struct mugai_buf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return mugai_buf_append(b, u, n);
}

char *
mugai_buf_steal(struct mugai_buf *b, size_t *lenp)
{
	char *p;

	if (lenp != NULL)
		*lenp = b->len;
	if (b->data == NULL) {
		p = calloc(1, 1);
	} else if (b->big) {
		if ((p = malloc(b->len + 1)) == NULL)
			return NULL;
		memcpy(p, b->data, b->len + 1);
		mugai_big_free(b->data);
	} else {
		p = b->data;
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
