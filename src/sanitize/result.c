/*
 * result.c - the sanitise result: its memory, its headers, and writing
 * the whole sanitised message (see mugai/sanitize/sanitize.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "mugai/sanitize/sanitize.h"
#include "sanitize_int.h"

#define RESULT_MAX_SET		16

const char *
mugai_verdict_str(enum mugai_verdict v)
{
	switch (v) {
	case MUGAI_VERDICT_DELIVER:	return "deliver";
	case MUGAI_VERDICT_REJECT:	return "reject";
	case MUGAI_VERDICT_DISCARD:	return "discard";
	case MUGAI_VERDICT_TEMPFAIL:	return "tempfail";
	}
	return "tempfail";
}

void
mugai_library_init(void)
{
	g_mime_init();
	xmlInitParser();
}

void
mugai_library_shutdown(void)
{
	g_mime_shutdown();
	xmlCleanupParser();
}

struct mugai_result *
sanitize_result_new(void)
{
	struct mugai_result *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->set = calloc(RESULT_MAX_SET, sizeof(*r->set));
	r->remove = calloc(RESULT_MAX_REMOVE, sizeof(*r->remove));
	r->signatures = g_strdup("");
	if (r->set == NULL || r->remove == NULL) {
		mugai_result_free(r);
		return NULL;
	}
	r->verdict = MUGAI_VERDICT_TEMPFAIL;
	return r;
}

void
mugai_result_free(struct mugai_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; r->set != NULL && i < r->nset; i++) {
		g_free(r->set[i].name);
		g_free(r->set[i].value);
	}
	for (i = 0; r->remove != NULL && i < r->nremove; i++)
		g_free(r->remove[i]);
	free(r->set);
	free(r->remove);
	g_free(r->reason);
	g_free(r->body);
	g_free(r->signatures);
	g_free(r->summary);
	free(r->subject);
	g_free(r->notice);
	g_free(r->report_json);
	free(r);
}

void
sanitize_add_signature(struct mugai_result *r, const char *name)
{
	char *n;
	gchar **have;
	int dup = 0, i;

	have = g_strsplit(r->signatures, ",", -1);
	for (i = 0; have[i] != NULL; i++)
		if (strcmp(have[i], name) == 0)
			dup = 1;
	g_strfreev(have);
	if (dup)
		return;
	n = r->signatures[0] ? g_strconcat(r->signatures, ",", name, NULL) :
	    g_strdup(name);
	g_free(r->signatures);
	r->signatures = n;
}

/* Add name: value to set[], unfolded to one line. */
static mugai_status
result_set(struct mugai_result *r, const char *name, const char *value)
{
	GString *v;
	const char *p;

	if (r->nset == RESULT_MAX_SET)
		return MUGAI_ERR_LIMIT;
	v = g_string_new(NULL);
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	for (; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			while (p[1] == ' ' || p[1] == '\t')
				p++;
			if (p[1] != '\0')
				g_string_append_c(v, ' ');
			continue;
		}
		g_string_append_c(v, *p);
	}
	r->set[r->nset].name = g_strdup(name);
	r->set[r->nset].value = g_string_free(v, FALSE);
	r->nset++;
	return MUGAI_OK;
}

mugai_status
sanitize_serialize(struct mugai_result *r, GMimeObject *top)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeHeaderList *hl;
	GMimeHeader *h;
	GMimeStream *mem;
	GByteArray *ba;
	mugai_status rc = MUGAI_OK;
	GMimeStream *null;
	int i, n;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
	/* The body is encoded once.  Writing it also settles what the top
	 * headers say (a multipart gets its boundary then). */
	mem = g_mime_stream_mem_new();
	if (g_mime_object_write_content_to_stream(top, fo, mem) < 0) {
		g_object_unref(mem);
		rc = MUGAI_ERR_INTERNAL;
		goto out;
	}
	/* Then only the top headers are written, into a stream that keeps
	 * nothing, so that GMime formats their values as it would write
	 * them. */
	hl = g_mime_object_get_header_list(top);
	null = g_mime_stream_null_new();
	(void)g_mime_header_list_write_to_stream(hl, fo, null);
	g_object_unref(null);
	if ((rc = result_set(r, "MIME-Version", "1.0")) == MUGAI_OK) {
		n = g_mime_header_list_get_count(hl);
		for (i = 0; i < n && rc == MUGAI_OK; i++) {
			h = g_mime_header_list_get_header_at(hl, i);
			rc = result_set(r, g_mime_header_get_name(h),
			    g_mime_header_get_raw_value(h));
		}
	}
	if (rc != MUGAI_OK) {
		g_object_unref(mem);
		goto out;
	}
	/* Take the stream's array as the body rather than copy it. */
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	r->body_len = ba->len;
	g_byte_array_append(ba, (const guint8 *)"", 1);
	r->body = (char *)g_byte_array_free(ba, FALSE);
out:
	g_mime_format_options_free(fo);
	return rc;
}

size_t
sanitize_bom_len(const char *raw, size_t len)
{
	return len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

const char *
sanitize_field_name(const char *field, size_t n, size_t *namelen)
{
	const char *colon = memchr(field, ':', n);
	size_t len;

	if (colon == NULL)
		return NULL;
	len = (size_t)(colon - field);
	while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\t'))
		len--;
	*namelen = len;
	return colon;
}

/* Is the header field that starts at line named one of remove[]? */
static int
header_removed(const struct mugai_result *r, const char *line, size_t n)
{
	size_t i, len;

	if (sanitize_field_name(line, n, &len) == NULL)
		return 1;	/* not a header field: never copied */
	for (i = 0; i < r->nremove; i++)
		if (strlen(r->remove[i]) == len &&
		    strncasecmp(r->remove[i], line, len) == 0)
			return 1;
	return 0;
}

/*
 * End of the header field starting at p (after its continuation lines),
 * and where the header block ends; LF or CRLF line ends.
 */
size_t
sanitize_field_end(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		const char *nl = memchr(p + i, '\n', n - i);

		if (nl == NULL)
			return n;
		i = (size_t)(nl - p) + 1;
		if (i >= n || (p[i] != ' ' && p[i] != '\t'))
			return i;
	}
}

static mugai_status
append_lf(struct mugai_buf *out, const char *p, size_t n)
{
	size_t i;
	mugai_status rc = MUGAI_OK;

	for (i = 0; i < n && rc == MUGAI_OK; i++)
		if (p[i] != '\r')
			rc = mugai_buf_putc(out, p[i]);
	return rc;
}

mugai_status
mugai_result_write(const struct mugai_result *r, const char *raw, size_t len,
    struct mugai_buf *out)
{
	size_t pos = 0, end, i;
	mugai_status rc = MUGAI_OK;

	if (r->verdict != MUGAI_VERDICT_DELIVER)
		return MUGAI_ERR_USAGE;
	/* Some programs write a byte-order mark before the first header. */
	pos = sanitize_bom_len(raw, len);
	raw += pos;
	len -= pos;
	pos = 0;
	/* An mbox "From " line is an envelope marker, not a header. */
	if (len >= 5 && strncmp(raw, "From ", 5) == 0)
		pos = sanitize_field_end(raw, len);
	while (pos < len && rc == MUGAI_OK) {
		if (raw[pos] == '\n' || (raw[pos] == '\r' && pos + 1 < len &&
		    raw[pos + 1] == '\n'))
			break;
		end = pos + sanitize_field_end(raw + pos, len - pos);
		if (!header_removed(r, raw + pos, end - pos)) {
			rc = append_lf(out, raw + pos, end - pos);
			if (rc == MUGAI_OK && raw[end - 1] != '\n')
				rc = mugai_buf_putc(out, '\n');
		}
		pos = end;
	}
	for (i = 0; i < r->nset && rc == MUGAI_OK; i++)
		rc = mugai_buf_printf(out, "%s: %s\n", r->set[i].name,
		    r->set[i].value);
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(out, '\n');
	/* A body kept as it came starts after the blank line. */
	if (rc == MUGAI_OK && r->body_kept && pos < len)
		rc = append_lf(out, raw + pos + (raw[pos] == '\r' ? 2 : 1),
		    len - pos - (raw[pos] == '\r' ? 2 : 1));
	else if (rc == MUGAI_OK)
		rc = mugai_buf_append(out, r->body, r->body_len);
	return rc;
}

/* Add name to remove[] once. */
static mugai_status
remove_add(struct mugai_result *r, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < r->nremove; i++)
		if (strlen(r->remove[i]) == len &&
		    strncasecmp(r->remove[i], name, len) == 0)
			return MUGAI_OK;
	if (r->nremove == RESULT_MAX_REMOVE)
		return MUGAI_ERR_LIMIT;
	r->remove[r->nremove++] = g_strndup(name, len);
	return MUGAI_OK;
}

mugai_status
sanitize_collect_removals(struct mugai_result *r, const char *raw, size_t len)
{
	size_t pos = 0, end, n;
	mugai_status rc;

	/* Headers we write ourselves must never be taken from the sender.
	 * A body kept as it came keeps the sender's MIME headers. */
	if ((rc = remove_add(r, "X-Mugai-Status", 14)) != MUGAI_OK ||
	    (rc = remove_add(r, "X-Mugai-Id", 10)) != MUGAI_OK)
		return rc;
	if (r->body_kept)
		return MUGAI_OK;
	if ((rc = remove_add(r, "MIME-Version", 12)) != MUGAI_OK)
		return rc;
	pos = sanitize_bom_len(raw, len);
	raw += pos;
	len -= pos;
	pos = 0;
	if (len >= 5 && strncmp(raw, "From ", 5) == 0)
		pos = sanitize_field_end(raw, len);
	while (pos < len) {
		if (raw[pos] == '\n' || (raw[pos] == '\r' && pos + 1 < len &&
		    raw[pos + 1] == '\n'))
			break;
		end = pos + sanitize_field_end(raw + pos, len - pos);
		if (sanitize_field_name(raw + pos, end - pos, &n) != NULL &&
		    n >= 8 && strncasecmp(raw + pos, "Content-", 8) == 0 &&
		    (rc = remove_add(r, raw + pos, n)) != MUGAI_OK)
			return rc;
		pos = end;
	}
	return MUGAI_OK;
}
