/*
 * mugai/base/buf.h - growable byte buffer with a hard cap.
 *
 * A buffer owns its bytes.  The data is always NUL terminated (the NUL is
 * not counted in len) so text can be handed to C string functions.
 * An append that would make len exceed max fails with MUGAI_ERR_LIMIT and
 * leaves the buffer unchanged: callers report the overflow instead of
 * silently truncating.  max == 0 means "no cap" (only for trusted data).
 */
#ifndef MUGAI_BUF_H
#define MUGAI_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include "mugai/base/status.h"

struct mugai_buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0: unlimited */
	int	 big;		/* data from mugai_big_alloc */
};

/* mugai_buf_init - empty buffer with the given cap (no allocation). */
void mugai_buf_init(struct mugai_buf *b, size_t max);

/*
 * mugai_buf_init_big - the same for a buffer that may grow to megabytes
 * (a worker's pixels): its bytes come from mugai_big_alloc
 * (mugai/base/bigmem.h), and it grows by copying rather than realloc.
 */
void mugai_buf_init_big(struct mugai_buf *b, size_t max);

/* mugai_buf_free - release the bytes; the buffer may be reused after init. */
void mugai_buf_free(struct mugai_buf *b);

/* mugai_buf_reset - forget the contents, keep the allocation. */
void mugai_buf_reset(struct mugai_buf *b);

mugai_status mugai_buf_append(struct mugai_buf *b, const void *p, size_t n);
mugai_status mugai_buf_puts(struct mugai_buf *b, const char *s);
mugai_status mugai_buf_putc(struct mugai_buf *b, char c);
mugai_status mugai_buf_printf(struct mugai_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
mugai_status mugai_buf_vprintf(struct mugai_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* mugai_buf_put_utf8 - append one code point as UTF-8 (invalid ones as U+FFFD). */
mugai_status mugai_buf_put_utf8(struct mugai_buf *b, unsigned long cp);

/*
 * mugai_buf_steal - hand the bytes to the caller (free with free()).
 * Returns a NUL-terminated empty string for an empty buffer, NULL only
 * when that allocation fails.  The buffer is left empty.  A buffer of
 * mugai_buf_init_big is copied into malloc'd bytes (NULL when that
 * fails, the buffer then left as it was).
 */
char *mugai_buf_steal(struct mugai_buf *b, size_t *lenp);

#endif
