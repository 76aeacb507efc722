/*
 * mugai/scan/typing.h - what a file really is, judged by its bytes.
 *
 * The formats the policy acts on are recognised by their signatures;
 * libmagic (a pool of handles, all sharing one mapping of its compiled
 * database) names the rest.  Declared types and file extensions
 * never decide what a part is: a declared text type only lets text that
 * has no signature of another format, no NUL or stray control byte, and
 * is well formed in its charset skip libmagic's slow pattern tests.
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
 * mugai_type_detect_part - mugai_type_detect for a MIME part declared as
 * declared (may be NULL) with the charset parameter charset (may be
 * NULL).  A part declared text/... whose bytes are plainly text is
 * "text/plain", "text/html", "text/csv" or "application/json" without
 * libmagic's pattern database; the same bytes under any declared type
 * get the same answer whenever it is not text.
 */
mugai_status mugai_type_detect_part(const void *data, size_t len,
    const char *declared, const char *charset, char *out, size_t outlen);

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
