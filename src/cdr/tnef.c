/*
 * tnef.c - winmail.dat as MIME parts (see mugai/cdr/tnef.h).
 *
 * The parts are built with GMime, written out and parsed back: the
 * sanitiser reads file names and headers from the raw header values,
 * as a received message has them, and a tree built in memory has its
 * values only in GMime's objects.  One more serialisation of a message
 * that is already in memory costs little next to the worker run.
 */
#include <stdio.h>
#include <string.h>

#include "mugai/text/charset.h"
#include "mugai/cdr/members.h"
#include "mugai/cdr/tnef.h"

struct tnm {
	size_t	 max_members, max_total;
	int	 with_body;
	int	 body_dropped;
	char	*why;
	size_t	 whylen;
};

static GMimeObject *tm_level(struct tnm *t, const void *buf, size_t len,
    unsigned depth, GMimeMessage *msg);

/* A part holding data, base64 so any bytes survive the round trip. */
static GMimePart *
tm_part(const char *type, const char *subtype, const void *data,
    size_t size)
{
	GMimePart *p = g_mime_part_new_with_type(type, subtype);
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer(data, size);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(mem,
	    GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(p, w);
	g_object_unref(w);
	g_object_unref(mem);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	return p;
}

/*
 * "Subject: ...", "From: ..." and "Date: ..." lines onto msg; any
 * other line, or a value that is not clean UTF-8, is left out.
 */
static void
tm_headers(GMimeMessage *msg, const unsigned char *p, size_t n)
{
	static const char *const names[] = { "Subject", "From", "Date" };
	const unsigned char *e, *end = p + n;
	char *line;
	size_t i, l, k;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		l = (size_t)(e - p);
		if (!mugai_utf8_valid((const char *)p, l))
			continue;
		for (k = 0; k < l && p[k] >= 0x20 && p[k] != 0x7f; k++)
			;
		if (k < l)
			continue;
		line = g_strndup((const char *)p, l);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			k = strlen(names[i]);
			if (strncmp(line, names[i], k) == 0 &&
			    strncmp(line + k, ": ", 2) == 0 && line[k + 2] != '\0')
				g_mime_object_set_header(GMIME_OBJECT(msg),
				    names[i], line + k + 2, "UTF-8");
		}
		g_free(line);
		if (e == end)
			break;
	}
}

/* One member into mixed; -1 when the stream breaks a rule. */
static int
tm_member(struct tnm *t, GMimeMultipart *mixed, const struct mugai_member *m,
    unsigned depth, GMimeMessage *msg)
{
	GMimeMessage *sub;
	GMimeMessagePart *mp;
	GMimeObject *tree;
	GMimePart *p;

	if (m->flags & MUGAI_MEMBER_HEADER) {
		if (msg != NULL)
			tm_headers(msg, m->data, m->size);
		return 0;
	}
	if (m->flags & MUGAI_MEMBER_BODY) {
		if (depth == 0 && !t->with_body) {
			t->body_dropped = 1;
			return 0;
		}
		p = tm_part("text", "plain", m->data, m->size);
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(p),
		    "charset", "UTF-8");
		g_mime_object_set_disposition(GMIME_OBJECT(p), "inline");
		g_mime_multipart_add(mixed, GMIME_OBJECT(p));
		g_object_unref(p);
		return 0;
	}
	if (m->flags & MUGAI_MEMBER_MESSAGE) {
		if (depth + 1 >= MUGAI_TNEF_MAX_DEPTH) {
			snprintf(t->why, t->whylen, "messages nested more than "
			    "%d deep", MUGAI_TNEF_MAX_DEPTH);
			return -1;
		}
		sub = g_mime_message_new(FALSE);
		if ((tree = tm_level(t, m->data, m->size, depth + 1, sub)) ==
		    NULL) {
			g_object_unref(sub);
			return -1;
		}
		g_mime_message_set_mime_part(sub, tree);
		g_object_unref(tree);
		mp = g_mime_message_part_new_with_message("rfc822", sub);
		g_object_unref(sub);
		g_mime_multipart_add(mixed, GMIME_OBJECT(mp));
		g_object_unref(mp);
		return 0;
	}
	if (m->flags != 0) {
		snprintf(t->why, t->whylen, "member \"%s\" flagged as an "
		    "archive entry", m->name);
		return -1;
	}
	p = tm_part("application", "octet-stream", m->data, m->size);
	g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
	g_mime_object_set_content_disposition_parameter(GMIME_OBJECT(p),
	    "filename", m->name);
	g_mime_multipart_add(mixed, GMIME_OBJECT(p));
	g_object_unref(p);
	return 0;
}

/* One message's stream as a multipart/mixed; NULL when invalid. */
static GMimeObject *
tm_level(struct tnm *t, const void *buf, size_t len, unsigned depth,
    GMimeMessage *msg)
{
	struct mugai_member *members = NULL;
	GMimeMultipart *mixed;
	size_t n = 0, i;

	if (mugai_members_parse(buf, len, t->max_members, t->max_total,
	    &members, &n) != MUGAI_OK) {
		snprintf(t->why, t->whylen, "invalid member stream (%zu "
		    "bytes) at depth %u", len, depth);
		return NULL;
	}
	mixed = g_mime_multipart_new_with_subtype("mixed");
	for (i = 0; i < n; i++)
		if (tm_member(t, mixed, &members[i], depth, msg) != 0)
			break;
	mugai_members_free(members, n);
	if (i < n) {
		g_object_unref(mixed);
		return NULL;
	}
	return GMIME_OBJECT(mixed);
}

mugai_status
mugai_tnef_mime(const void *stream, size_t len, size_t max_members,
    size_t max_total, int with_body, GMimeObject **out, int *body_dropped,
    char *why, size_t whylen)
{
	struct tnm t;
	GMimeObject *tree;
	GMimeStream *mem;
	GMimeParser *parser;
	GMimeFormatOptions *fo;

	*out = NULL;
	*body_dropped = 0;
	memset(&t, 0, sizeof(t));
	t.max_members = max_members;
	t.max_total = max_total;
	t.with_body = with_body;
	t.why = why;
	t.whylen = whylen;
	why[0] = '\0';
	if ((tree = tm_level(&t, stream, len, 0, NULL)) == NULL)
		return MUGAI_ERR_PARSE;
	mem = g_mime_stream_mem_new();
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
	if (g_mime_object_write_to_stream(tree, fo, mem) < 0) {
		g_mime_format_options_free(fo);
		g_object_unref(mem);
		g_object_unref(tree);
		return MUGAI_ERR_NOMEM;
	}
	g_mime_format_options_free(fo);
	g_object_unref(tree);
	g_mime_stream_seek(mem, 0, GMIME_STREAM_SEEK_SET);
	parser = g_mime_parser_new_with_stream(mem);
	*out = g_mime_parser_construct_part(parser, NULL);
	g_object_unref(parser);
	g_object_unref(mem);
	*body_dropped = t.body_dropped;
	return *out != NULL ? MUGAI_OK : MUGAI_ERR_NOMEM;
}
