/*
 * mugai/cdr/convert.h - a sanitised copy of one attachment (content disarm
 * and reconstruction), chosen by the policy action.
 *
 *   image    decoded in mugai-convert, re-encoded here as PNG (JPEG for
 *            photographs): no metadata, no trailing bytes
 *   pdf      every page rendered in mugai-convert, its words read there;
 *            a PDF of the page images rebuilt here, the words a hidden
 *            text layer under them
 *   ooxml    docx/xlsx/pptx (and macro-enabled forms) cleaned by
 *            allow-list in mugai-convert; the copy gets the type and
 *            extension its main part says (macro-enabled files the
 *            plain ones); an xlsb goes to LibreOffice as for office
 *   office   .doc/.xls/.ppt/.xlsb/RTF to docx/xlsx/pptx with LibreOffice
 *            in bubblewrap, then as ooxml (office_output = ooxml), or
 *            to PDF, then as pdf (office_output = pdf)
 *   archive  members listed by mugai-convert, each sanitised here by the
 *            same policy (nested archives up to archive_max_depth), the
 *            kept ones re-packed as a zip with UTF-8 names; a zip with
 *            [Content_Types].xml is an Office file and comes back
 *            cleaned as ooxml
 *   tnef     winmail.dat unpacked by mugai-convert: data is its member
 *            stream (mugai/cdr/members.h), which mugai_tnef_mime turns into
 *            MIME parts that the caller sanitises one by one
 *
 * The caller scans the copy with ClamAV before it is delivered.  A copy
 * that cannot be made (the worker refused, crashed, timed out, wrote
 * something invalid) is not an error: the result says "held" with a
 * reason, and the caller removes the attachment and keeps the original
 * in the quarantine.  Only a failure to try at all (no memory, the
 * worker cannot be started) is an error status: a temporary failure.
 */
#ifndef MUGAI_CONVERT_H
#define MUGAI_CONVERT_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/base/policy.h"

/* A member of an archive that the copy leaves out, and why. */
struct mugai_convert_inner {
	char	*name;			/* path inside the archive, UTF-8 */
	const char *reason;		/* notice phrase key */
	char	 type[128];		/* detected type */
	size_t	 size;
};

struct mugai_convert_result {
	int	 held;			/* 1: no copy; see reason */
	const char *reason;		/* notice phrase key (static string) */
	char	 detail[320];		/* for the log: what happened */
	struct mugai_buf data;		/* the copy (held == 0) */
	char	 type[128];		/* its MIME type */
	char	*name;			/* its file name (malloc'd, may be "") */
	struct mugai_convert_inner *inner; /* archives: members left out */
	size_t	 ninner;
};

/*
 * mugai_convert - make the sanitised copy of in[0..len), detected as
 * type `detected`, named `name` (UTF-8, may be ""), for action act
 * (MUGAI_ACT_IMAGE ... MUGAI_ACT_TNEF).  logid prefixes log lines.
 * seconds is the time left for the message's copies: every worker run
 * gets at most what is left of it (and at most convert_timeout or
 * office_timeout); with none left, or when it runs out, the result is
 * held with reason "time".  res is initialised here; free it with
 * mugai_convert_result_free.
 */
mugai_status mugai_convert(const struct mugai_config *cfg, const char *logid,
    enum mugai_action act, const char *detected, const char *name,
    const void *in, size_t len, unsigned seconds,
    struct mugai_convert_result *res);

void mugai_convert_result_free(struct mugai_convert_result *res);

#endif
