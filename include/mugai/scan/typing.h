/*
 * mugai/scan/typing.h - what a file really is, judged by its bytes.
 *
 * Detection uses libmagic with one handle per thread (libmagic handles
 * are not thread safe), created on first use and closed when the thread
 * exits.  Declared types and file extensions are only compared with the
 * detected type; they never decide what a part is.
 */
#ifndef MUGAI_TYPING_H
#define MUGAI_TYPING_H

#include <stddef.h>
#include "mugai/base/status.h"

/*
 * mugai_type_detect - write the detected MIME type ("application/pdf",
 * lower case, no parameters) of data[0..len) into out.  Empty data is
 * "application/x-empty".  Fails with MUGAI_ERR_INTERNAL when libmagic
 * cannot be loaded (callers tempfail: an untyped file is never passed).
 */
mugai_status mugai_type_detect(const void *data, size_t len, char *out,
    size_t outlen);

/*
 * mugai_type_mismatch - NULL when declared type, file name and detected
 * type agree; otherwise a short English reason ("name says .pdf but the
 * content is application/x-dosexec").  Generic declared types
 * (application/octet-stream) and unknown extensions are not mismatches.
 * The reason is written into buf.
 */
const char *mugai_type_mismatch(const char *declared, const char *filename,
    const char *detected, char *buf, size_t buflen);

/* mugai_type_is_executable - 1 for programs and scripts libmagic knows. */
int mugai_type_is_executable(const char *detected);

/*
 * mugai_name_is_text - 1 when a desktop opens the file name as text
 * (.txt, .csv, .log, .text); text kept under any other name gets ".txt"
 * added so that it cannot run (a.js, a.hta, a.bat).
 */
int mugai_name_is_text(const char *filename);

#endif
