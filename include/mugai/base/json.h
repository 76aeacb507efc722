/*
 * mugai/base/json.h - writing JSON into a mugai_buf.  Strings are escaped for
 * JSON and made valid UTF-8 (bad bytes become U+FFFD), so reports built
 * from hostile input always parse.
 */
#ifndef MUGAI_JSON_H
#define MUGAI_JSON_H

#include <stddef.h>
#include "mugai/base/buf.h"

/* mugai_json_str - append s as a quoted JSON string ("null" for NULL). */
mugai_status mugai_json_str(struct mugai_buf *b, const char *s);

/* mugai_json_strn - the same for s[0..n). */
mugai_status mugai_json_strn(struct mugai_buf *b, const char *s, size_t n);

/* mugai_json_kv - append "key":"value" (no separators). */
mugai_status mugai_json_kv(struct mugai_buf *b, const char *key,
    const char *value);

#endif
