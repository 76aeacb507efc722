/*
 * mugai/base/policy.h - the attachment policy: detected type -> action.
 *
 * The policy is data, from the config key attachment_policy: a list of
 * "PATTERN ACTION" rules separated by commas or new lines, first match
 * wins.  PATTERN is a MIME type ("text/csv"), a major type with the
 * subtype "*" (all images: "image" then "/" then "*"), a prefix ending
 * in "*" ("application/vnd.openxmlformats-officedocument.*"), or "*"
 * alone.  Anything no rule matches is removed.
 *
 *   attachment_policy = text/plain text, text/csv csv, * remove
 */
#ifndef MUGAI_POLICY_H
#define MUGAI_POLICY_H

#include <stddef.h>

enum mugai_action {
	MUGAI_ACT_REMOVE,	/* drop; original kept in the quarantine */
	MUGAI_ACT_TEXT,		/* keep as text/plain, transcoded to UTF-8 */
	MUGAI_ACT_CSV,		/* keep as text/csv, UTF-8, formula guard */
	MUGAI_ACT_HTML,		/* convert HTML to a text/plain attachment */
	MUGAI_ACT_PASS,		/* keep unchanged (trusted types only!) */
	/* Sanitised copies made in the sandboxed worker (mugai/cdr/convert.h). */
	MUGAI_ACT_IMAGE,	/* decode, re-encode as PNG or JPEG */
	MUGAI_ACT_PDF,		/* render pages, rebuild an image-only PDF */
	MUGAI_ACT_OOXML,	/* docx/xlsx/pptx: active parts removed */
	MUGAI_ACT_OFFICE,	/* doc/xls/xlsb/ppt/rtf: LibreOffice to docx/xlsx/
				   pptx, then ooxml (or to PDF: office_output) */
	MUGAI_ACT_ARCHIVE,	/* each member by this policy, re-packed as zip */
	MUGAI_ACT_TNEF		/* winmail.dat: unpacked, each file by this
				   policy, attached in its place */
};

struct mugai_policy;

/*
 * mugai_policy_parse - parse a rule list.  NULL on error with a short
 * reason in err ("rule 3: unknown action \"keep\"; use one of ...").
 */
struct mugai_policy *mugai_policy_parse(const char *spec, char *err,
    size_t errlen);

/* mugai_policy_free - NULL is safe. */
void mugai_policy_free(struct mugai_policy *p);

/* mugai_policy_lookup - action for a detected MIME type (lower case). */
enum mugai_action mugai_policy_lookup(const struct mugai_policy *p,
    const char *type);

/*
 * mugai_policy_for_file - the action for a file: the lookup by detected
 * type, except that text is kept as CSV (formula guard on) when the
 * sender declared text/csv or the name ends ".csv": libmagic calls most
 * CSV text/plain.  declared may be NULL (archive members have none).
 */
enum mugai_action mugai_policy_for_file(const struct mugai_policy *p,
    const char *detected, const char *declared, const char *name);

/* mugai_action_name - "remove", "text", "csv", "html", "pass", "image",
 * "pdf", "ooxml", "office", "archive", "tnef". */
const char *mugai_action_name(enum mugai_action a);

#endif
