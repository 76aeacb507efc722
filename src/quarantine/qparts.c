/*
 * qparts.c - the original with only chosen parts (see
 * mugai_qparts_message in quarantine_backend.h).
 *
 * GMime parses the original and writes it back; every leaf part that is
 * neither chosen nor below a chosen part is replaced in the tree by a
 * short text/plain note naming it (path, file name, type), so nothing
 * leaves silently.  Headers, the structure and the chosen parts stay as
 * they were (GMime keeps a part's raw content when it is not changed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/quarantine.h"
#include "quarantine_backend.h"

#define QP_DEPTH	100

struct qp {
	const char *const *keep;
	size_t	 nkeep;
	unsigned char *found;		/* keep[i] named a part */
};

/* "1", "1.2", "1.2.1": digits and dots, starting with 1. */
static int
qp_path_ok(const char *p)
{
	int digit = 0;

	if (p[0] != '1' || (p[1] != '\0' && p[1] != '.'))
		return 0;
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (!digit)
				return 0;
			digit = 0;
		} else if (*p >= '0' && *p <= '9')
			digit = 1;
		else
			return 0;
	}
	return digit;
}

/* Nonzero when path is a chosen part or lies below one. */
static int
qp_kept(struct qp *k, const char *path)
{
	size_t i, n;
	int kept = 0;

	for (i = 0; i < k->nkeep; i++) {
		n = strlen(k->keep[i]);
		if (strcmp(path, k->keep[i]) == 0)
			k->found[i] = 1;
		if (strncmp(path, k->keep[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '.'))
			kept = 1;
	}
	return kept;
}

/* Nonzero when a chosen part lies below path. */
static int
qp_kept_below(const struct qp *k, const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < k->nkeep; i++)
		if (strncmp(k->keep[i], path, n) == 0 && k->keep[i][n] == '.')
			return 1;
	return 0;
}

/* The note that stands where a part was left out. */
static GMimeObject *
qp_note(GMimeObject *o, const char *path)
{
	GMimeTextPart *tp;
	const char *name = NULL;
	char *type, *text;

	type = g_mime_content_type_get_mime_type(
	    g_mime_object_get_content_type(o));
	if (GMIME_IS_PART(o))
		name = g_mime_part_get_filename(GMIME_PART(o));
	text = g_strdup_printf("[mugai] 部品 %s (%s%s%s) は取り出されていま"
	    "せん。\n[mugai] Part %s (%s%s%s) was not released.\n", path,
	    name != NULL ? name : "", name != NULL ? ", " : "", type, path,
	    name != NULL ? name : "", name != NULL ? ", " : "", type);
	tp = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(tp, text);
	g_mime_object_set_header(GMIME_OBJECT(tp), "X-Mugai-Omitted-Part",
	    path, NULL);
	g_free(text);
	g_free(type);
	return GMIME_OBJECT(tp);
}

/* NULL: keep o (changed in place, maybe); else what replaces it. */
static GMimeObject *
qp_prune(struct qp *k, GMimeObject *o, const char *path, int depth)
{
	GMimeMultipart *mp;
	GMimeMessage *inner;
	GMimeObject *r, *old;
	char child[512];
	int i, n;

	if (qp_kept(k, path))
		return NULL;
	if (GMIME_IS_MULTIPART(o) && depth < QP_DEPTH) {
		mp = GMIME_MULTIPART(o);
		n = g_mime_multipart_get_count(mp);
		for (i = 0; i < n; i++) {
			snprintf(child, sizeof(child), "%s.%d", path, i + 1);
			r = qp_prune(k, g_mime_multipart_get_part(mp, i), child,
			    depth + 1);
			if (r == NULL)
				continue;
			old = g_mime_multipart_replace(mp, i, r);
			if (old != NULL)
				g_object_unref(old);
			g_object_unref(r);
		}
		return NULL;
	}
	if (GMIME_IS_MESSAGE_PART(o) && depth < QP_DEPTH &&
	    qp_kept_below(k, path) && (inner = g_mime_message_part_get_message(
	    GMIME_MESSAGE_PART(o))) != NULL &&
	    g_mime_message_get_mime_part(inner) != NULL) {
		snprintf(child, sizeof(child), "%s.1", path);
		r = qp_prune(k, g_mime_message_get_mime_part(inner), child,
		    depth + 1);
		if (r != NULL) {
			g_mime_message_set_mime_part(inner, r);
			g_object_unref(r);
		}
		return NULL;
	}
	return qp_note(o, path);
}

mugai_status
mugai_qparts_message(const void *raw, size_t len, const char *const *keep,
    size_t nkeep, const char *id, struct mugai_buf *out)
{
	GMimeStream *st, *ms;
	GMimeParser *p;
	GMimeMessage *msg;
	GMimeObject *top, *r;
	GByteArray *a;
	struct qp k;
	mugai_status rc = MUGAI_OK;
	char *list, *prev;
	size_t i;

	if (nkeep == 0) {
		mugai_qerr_set("an empty list of parts");
		return MUGAI_ERR_USAGE;
	}
	for (i = 0; i < nkeep; i++)
		if (!qp_path_ok(keep[i])) {
			mugai_qerr_set("bad part path \"%.80s\": write it like"
			    " 1.2 (the message body is 1, its parts 1.1, 1.2,"
			    " ...)", keep[i]);
			return MUGAI_ERR_USAGE;
		}
	st = g_mime_stream_mem_new_with_buffer(raw, len);
	p = g_mime_parser_new_with_stream(st);
	msg = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	if (msg == NULL || (top = g_mime_message_get_mime_part(msg)) == NULL) {
		mugai_qerr_set("the original of %s cannot be parsed as a"
		    " message", id);
		if (msg != NULL)
			g_object_unref(msg);
		return MUGAI_ERR_PARSE;
	}
	k.keep = keep;
	k.nkeep = nkeep;
	if ((k.found = calloc(nkeep + 1, 1)) == NULL) {
		g_object_unref(msg);
		mugai_qerr_set("out of memory");
		return MUGAI_ERR_NOMEM;
	}
	if ((r = qp_prune(&k, top, "1", 0)) != NULL) {
		g_mime_message_set_mime_part(msg, r);
		g_object_unref(r);
	}
	for (i = 0; i < nkeep; i++)
		if (!k.found[i]) {
			mugai_qerr_set("the message has no part %s; 'mugai"
			    " quarantine show %s' lists its parts", keep[i],
			    id);
			rc = MUGAI_ERR_NOTFOUND;
			goto out;
		}
	list = g_strdup(keep[0]);
	for (i = 1; i < nkeep; i++) {
		prev = list;
		list = g_strconcat(prev, ",", keep[i], NULL);
		g_free(prev);
	}
	g_mime_object_set_header(GMIME_OBJECT(msg), "X-Mugai-Released-Parts",
	    list, NULL);
	g_free(list);
	ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, ms);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	mugai_buf_reset(out);
	rc = mugai_buf_append(out, a->data, a->len);
	g_object_unref(ms);
	if (rc != MUGAI_OK)
		mugai_qerr_set("the released message is too large: %s",
		    mugai_status_str(rc));
out:
	free(k.found);
	g_object_unref(msg);
	return rc;
}
