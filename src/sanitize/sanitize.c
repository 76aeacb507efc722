/*
 * sanitize.c - one message in, one safe message out (see mugai/sanitize/sanitize.h).
 *
 * The walk keeps one struct san per call: the text body being written,
 * the attachments kept, one report row per MIME part, and the first
 * internal error.  Any internal error makes the verdict TEMPFAIL; a
 * broken message is never an error, only something read best effort.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <gmime/gmime.h>
#include <openssl/sha.h>

#include "mugai/base/csv.h"
#include "mugai/base/log.h"
#include "mugai/base/policy.h"
#include "mugai/cdr/convert.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/sanitize/notice.h"
#include "mugai/sanitize/sanitize.h"
#include "mugai/scan/scan.h"
#include "mugai/scan/typing.h"
#include "mugai/text/charset.h"
#include "mugai/text/hdrdecode.h"
#include "mugai/text/html2text.h"
#include "mugai/cdr/tnef.h"
#include "sanitize_int.h"

struct san {
	const struct mugai_services *svc;
	const struct mugai_config *cfg;
	struct mugai_result *res;
	const char *logid;		/* queue id, else X-Mugai-Id */
	struct mugai_buf text;		/* the new body text, UTF-8 */
	GPtrArray *kept;		/* GMimeObject * to attach */
	struct part_row *rows;
	size_t	 nrows, caprows;
	unsigned leaves;
	int	 parts_limit_told;
	unsigned quote;			/* "> " levels for forwarded mail */
	GPtrArray *cids;		/* Content-ID, copy's name, ...: for
					   [cid:...] in the text */
	unsigned images;		/* names made for unnamed images */
	unsigned phishing;
	int	 virus;
	int	 undecoded;		/* content the walk did not decode:
					   libclamav decodes the message too */
	mugai_status err;		/* first internal error */
	char	 errwhy[256];
	struct timespec started;	/* CLOCK_MONOTONIC, for
					   convert_message_timeout */
	const char *raw;		/* the message as received */
	size_t	 rawlen;
	const char *plain_cs;		/* the message is one text/plain
					   part in this charset that may
					   go as it came (see body_as_is) */
};

/*
 * How a leaf is read (walk's body_ok): as the body text, as an
 * attachment, or inside an alternative form of the body that is not
 * shown (its text goes, its images are delivered like attachments).
 */
#define BODY_NO		0
#define BODY_YES	1
#define BODY_DROPPED	2

static void
san_fail(struct san *s, mugai_status st, const char *why)
{
	if (s->err != MUGAI_OK)
		return;
	s->err = st;
	snprintf(s->errwhy, sizeof(s->errwhy), "%s: %s", why,
	    mugai_status_str(st));
	mugai_log(LOG_ERR, s->logid, "%s", s->errwhy);
}

static struct part_row *
row_new(struct san *s, const char *path)
{
	struct part_row *r;
	size_t ncap;

	if (s->nrows == s->caprows) {
		ncap = s->caprows ? s->caprows * 2 : 16;
		r = realloc(s->rows, ncap * sizeof(*r));
		if (r == NULL) {
			san_fail(s, MUGAI_ERR_NOMEM, "report row");
			return NULL;
		}
		s->rows = r;
		s->caprows = ncap;
	}
	r = &s->rows[s->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->scan, sizeof(r->scan), "-");
	r->action = "removed";
	r->reason = "policy";
	return r;
}

/* Lower-case "type/subtype" of obj, no parameters. */
static void
declared_type(GMimeObject *obj, char *out, size_t outlen)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *st = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	size_t i;

	snprintf(out, outlen, "%s/%s", t ? t : "text", st ? st : "plain");
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

static const char *
raw_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;

	return h ? g_mime_header_get_raw_value(h) : NULL;
}

static char *
part_filename(GMimeObject *obj)
{
	return mugai_filename_decode(raw_header(obj, "Content-Disposition"),
	    raw_header(obj, "Content-Type"));
}

/*
 * Append UTF-8 text to the body: CRLF to LF, controls and bidi
 * overrides dropped (they disguise names and links), every line
 * prefixed with "> " per forwarding level.
 */
/* Bytes for text_append go through a local chunk, not one call each. */
struct text_chunk {
	struct mugai_buf *t;
	size_t	 n;
	char	 b[4096];
};

static mugai_status
chunk_put(struct text_chunk *k, char c)
{
	mugai_status rc = MUGAI_OK;

	if (k->n == sizeof(k->b)) {
		rc = mugai_buf_append(k->t, k->b, k->n);
		k->n = 0;
	}
	k->b[k->n++] = c;
	return rc;
}

static void
text_append(struct san *s, const char *p, size_t n)
{
	struct text_chunk k;
	struct mugai_buf *t = &s->text;
	int bol = t->len == 0 || t->data[t->len - 1] == '\n';
	mugai_status rc = MUGAI_OK;
	unsigned q;
	size_t i;
	unsigned char c;

	k.t = t;
	k.n = 0;
	for (i = 0; i < n && rc == MUGAI_OK; i++) {
		c = (unsigned char)p[i];
		if (c == '\r' || (c < 0x20 && c != '\n' && c != '\t') ||
		    c == 0x7F)
			continue;
		/* U+202A..U+202E and U+2066..U+2069 */
		if (c == 0xE2 && i + 2 < n && (unsigned char)p[i + 1] == 0x80 &&
		    (unsigned char)p[i + 2] >= 0xAA &&
		    (unsigned char)p[i + 2] <= 0xAE) {
			i += 2;
			continue;
		}
		if (c == 0xE2 && i + 2 < n && (unsigned char)p[i + 1] == 0x81 &&
		    (unsigned char)p[i + 2] >= 0xA6 &&
		    (unsigned char)p[i + 2] <= 0xA9) {
			i += 2;
			continue;
		}
		if (bol)
			for (q = 0; q < s->quote && rc == MUGAI_OK; q++)
				if ((rc = chunk_put(&k, '>')) == MUGAI_OK)
					rc = chunk_put(&k, ' ');
		if (rc == MUGAI_OK)
			rc = chunk_put(&k, (char)c);
		bol = c == '\n';
	}
	if (rc == MUGAI_OK && !bol)
		rc = chunk_put(&k, '\n');
	if (rc == MUGAI_OK && k.n > 0)
		rc = mugai_buf_append(t, k.b, k.n);
	if (rc != MUGAI_OK)
		san_fail(s, rc, "body text");
}

/* A blank line between consecutive pieces of body text. */
static void
text_separate(struct san *s)
{
	if (s->text.len > 0)
		text_append(s, "\n", 1);
}

/* Decoded content of a leaf part; NULL only on internal error. */
static GByteArray *
part_decode(struct san *s, GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *ba;

	mem = g_mime_stream_mem_new();
	if (mem == NULL) {
		san_fail(s, MUGAI_ERR_NOMEM, "decode");
		return NULL;
	}
	if (w != NULL && g_mime_data_wrapper_write_to_stream(w, mem) < 0)
		mugai_log(LOG_INFO, s->logid, "part content could not be "
		    "fully decoded; using what was read");
	/* The stream frees its array unless told it does not own it. */
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	return ba;
}

/*
 * Every message and every part is hashed: OpenSSL's SHA-256 uses the
 * CPU's SHA extensions where GLib's GChecksum does it in plain C, at
 * several times the cost per byte.
 */
static void
sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256(p, n, md);
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/*
 * The charset to decode a text part with: the declared one, unless it
 * claims ASCII for 8-bit bytes (then detect).
 */
static const char *
text_charset(GMimeObject *obj, const guint8 *p, size_t n)
{
	const char *cs = g_mime_object_get_content_type_parameter(obj,
	    "charset");
	const char *canon = cs ? mugai_charset_canonical(cs) : NULL;
	size_t i;

	if (canon != NULL && strcmp(canon, "US-ASCII") == 0)
		for (i = 0; i < n; i++)
			if (p[i] & 0x80)
				return NULL;
	return canon;
}

/*
 * Is text in charset cs (NULL: detected) delivered as other bytes?  Only
 * 8-bit bytes and ISO-2022-JP escapes change when written as UTF-8.
 */
static int
charset_changes(const char *cs, const guint8 *p, size_t n)
{
	size_t i;

	if (cs == NULL)
		cs = mugai_charset_detect((const char *)p, n);
	if (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "US-ASCII") == 0)
		return n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0;
	for (i = 0; i < n; i++)
		if ((p[i] & 0x80) || p[i] == 0x1B)
			return 1;
	return 0;
}

/*
 * May the top-level text part, in charset cs (NULL: none said, or
 * US-ASCII said of 8-bit bytes), go out as it came (see body_as_is)?
 * Only UTF-8 or ASCII sent 7bit or 8bit (8-bit bytes only under 8bit),
 * and ASCII when the body text is to be written in ISO-2022-JP.  The
 * charset it goes in, or NULL.
 */
static const char *
plain_sent_as_is(const struct san *s, GMimeObject *obj, const char *cs,
    const GByteArray *ba)
{
	GMimeContentEncoding enc =
	    g_mime_part_get_content_encoding(GMIME_PART(obj));
	int ascii = 1;
	guint i;

	if (s->quote != 0 || (enc != GMIME_CONTENT_ENCODING_DEFAULT &&
	    enc != GMIME_CONTENT_ENCODING_7BIT &&
	    enc != GMIME_CONTENT_ENCODING_8BIT))
		return NULL;
	for (i = 0; i < ba->len && ascii; i++)
		ascii = !(ba->data[i] & 0x80);
	/* 8-bit bytes only where 8bit is said: the copy mugai writes
	 * mends that label, one kept as it came would not. */
	if (!ascii && enc != GMIME_CONTENT_ENCODING_8BIT)
		return NULL;
	if (cs == NULL)		/* a reader takes it for US-ASCII */
		return ascii ? "US-ASCII" : NULL;
	if ((strcmp(cs, "UTF-8") != 0 && strcmp(cs, "US-ASCII") != 0) ||
	    (s->cfg->output_charset == MUGAI_OUTPUT_ISO2022JP && !ascii))
		return NULL;
	return cs;
}

/* The body text; a change of charset is counted (the original is kept). */
static void
body_plain(struct san *s, GMimeObject *obj, GByteArray *ba,
    struct part_row *r)
{
	struct mugai_buf u;
	const char *cs = text_charset(obj, ba->data, ba->len);
	mugai_status rc;
	int same;

	mugai_buf_init(&u, 0);
	/* Valid UTF-8 without a byte-order mark converts to itself: the
	 * decoded part is read as it is, not copied once more. */
	same = cs != NULL && strcmp(cs, "UTF-8") == 0 &&
	    !(ba->len >= 3 && memcmp(ba->data, "\xEF\xBB\xBF", 3) == 0) &&
	    mugai_utf8_valid((const char *)ba->data, ba->len);
	rc = same ? MUGAI_OK : mugai_charset_to_utf8(cs,
	    (const char *)ba->data, ba->len, &u, NULL);
	if (rc != MUGAI_OK)
		san_fail(s, rc, "text body charset");
	else {
		text_separate(s);
		if (same)
			text_append(s, (const char *)ba->data, ba->len);
		else
			text_append(s, u.data ? u.data : "", u.len);
		if (charset_changes(cs, ba->data, ba->len)) {
			r->action = "converted";
			r->reason = "body-charset";
			s->res->converted++;
		} else if (strcmp(r->path, "1") == 0)
			s->plain_cs = plain_sent_as_is(s, obj, cs, ba);
	}
	mugai_buf_free(&u);
}

/*
 * The notice reason for converted HTML: the recipient must be told when
 * the text is not all there (too deep or too long to convert whole).
 */
static const char *
html_reason(struct san *s, const struct part_row *r,
    const struct mugai_html_stats *st, const char *reason)
{
	if (!st->truncated)
		return reason;
	mugai_log(LOG_NOTICE, s->logid, "part %s: HTML converted in part: "
	    "max_html_depth %u or the output limit was reached", r->path,
	    s->cfg->max_html_depth);
	return strcmp(reason, "body") == 0 ? "body-truncated" :
	    "html-truncated";
}

static void
body_html(struct san *s, GMimeObject *obj, GByteArray *ba,
    struct part_row *r)
{
	struct mugai_buf u;
	struct mugai_html_stats st;
	const char *cs = g_mime_object_get_content_type_parameter(obj,
	    "charset");
	mugai_status rc;

	memset(&st, 0, sizeof(st));
	mugai_buf_init(&u, 0);
	rc = mugai_html_to_text((const char *)ba->data, ba->len, cs,
	    s->cfg->max_html_depth, &u, &st);
	if (rc != MUGAI_OK && rc != MUGAI_ERR_PARSE) {
		san_fail(s, rc, "HTML to text");
	} else {
		text_separate(s);
		text_append(s, u.data ? u.data : "", u.len);
		s->phishing += st.suspicious_links;
		r->action = "converted";
		r->reason = html_reason(s, r, &st, "body");
		r->in_notice = 1;
		s->res->converted++;
	}
	mugai_buf_free(&u);
}

/* Body text is an inline, unnamed text/plain or text/html leaf. */
static int
is_body_text(GMimeObject *obj, const char *declared, const char *name)
{
	const char *disp = g_mime_object_get_disposition(obj);

	if (name[0] != '\0')
		return 0;
	if (disp != NULL && strcasecmp(disp, "attachment") == 0)
		return 0;
	return strcmp(declared, "text/plain") == 0 ||
	    strcmp(declared, "text/html") == 0;
}

/*
 * Scan one decoded part (copy 0) or a sanitised copy of one (copy 1, see
 * mugai_scanner_scan_copy); 0 to go on, -1 when it must go.
 */
static int
scan_bytes(struct san *s, struct part_row *r, const void *p, size_t n,
    const char *what, int copy)
{
	struct mugai_scan_verdict v;
	char label[128];
	mugai_status rc;

	if (!s->cfg->clamav_enable)
		return 0;
	snprintf(label, sizeof(label), "%s %s", what, r->path);
	rc = copy ? mugai_scanner_scan_copy(s->svc->scanner, p, n, label, &v) :
	    mugai_scanner_scan(s->svc->scanner, p, n, label, &v);
	if (rc != MUGAI_OK) {
		san_fail(s, MUGAI_ERR_SCAN, "virus scan");
		return -1;
	}
	switch (v.outcome) {
	case MUGAI_SCAN_CLEAN:
		snprintf(r->scan, sizeof(r->scan), "clean");
		return 0;
	case MUGAI_SCAN_INFECTED:
		mugai_log(LOG_NOTICE, s->logid, "virus found in %s: %s",
		    label, v.name);
		snprintf(r->scan, sizeof(r->scan), "infected:%s", v.name);
		r->reason = "virus";
		sanitize_add_signature(s->res, v.name);
		s->virus = 1;
		return -1;
	case MUGAI_SCAN_UNSCANNED:
		mugai_log(LOG_NOTICE, s->logid, "%s could not be scanned: %s",
		    label, v.name);
		snprintf(r->scan, sizeof(r->scan), "unscanned:%s", v.name);
		r->reason = strstr(v.name, "Encrypted") ? "encrypted" :
		    "unscanned";
		return -1;
	}
	return -1;
}

static int
scan_part(struct san *s, struct part_row *r, const void *p, size_t n,
    const char *what)
{
	return scan_bytes(s, r, p, n, what, 0);
}

/*
 * Text mugai wrote (the body text with the notice, a text attachment in
 * UTF-8) holds what the parts held in another form: HTML as text, UTF-16
 * or EBCDIC as UTF-8, names from headers.  It is scanned as the parts
 * are, unless it is the very bytes of a part already scanned clean (a
 * UTF-8 body with nothing to tell): the same bytes with the same options
 * give the same answer.
 */
static int
scan_written(struct san *s, struct part_row *r, const void *p, size_t n,
    const char *what)
{
	char sha[65];
	size_t i;

	if (!s->cfg->clamav_enable || n == 0)
		return 0;
	sha256_hex(p, n, sha);
	for (i = 0; i < s->nrows; i++)
		if (strcmp(s->rows[i].scan, "clean") == 0 &&
		    strcmp(s->rows[i].sha256, sha) == 0)
			return 0;
	return scan_part(s, r, p, n, what);
}

/* A part with the content of mem (referenced, not copied). */
static GMimePart *
attachment_with_stream(const char *type, const char *subtype,
    const char *name, GMimeStream *mem, int text)
{
	GMimePart *p = g_mime_part_new_with_type(type, subtype);
	GMimeDataWrapper *w;
	GMimeParamList *pl;
	GMimeParam *param;

	if (text)
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(p),
		    "charset", "UTF-8");
	w = g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, w);
	g_object_unref(w);
	if (name[0] != '\0') {
		/* RFC 2231 in filename*= for standard readers, RFC 2047 in
		 * name= for the older Japanese clients that only read that. */
		g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
		g_mime_object_set_content_disposition_parameter(GMIME_OBJECT(p),
		    "filename", name);
		pl = g_mime_content_type_get_parameters(
		    g_mime_object_get_content_type(GMIME_OBJECT(p)));
		g_mime_param_list_set_parameter(pl, "name", name);
		param = g_mime_param_list_get_parameter(pl, "name");
		/* GMime does not fold encoded words inside a parameter: a long
		 * name stays RFC 2231, which it splits into continuations. */
		if (param != NULL && strlen(name) <= 60)
			g_mime_param_set_encoding_method(param,
			    GMIME_PARAM_ENCODING_METHOD_RFC2047);
	} else {
		g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
	}
	g_mime_part_set_content_encoding(p,
	    g_mime_part_get_best_content_encoding(p,
	    GMIME_ENCODING_CONSTRAINT_7BIT));
	return p;
}

/* A part with a copy of data[0..len). */
static GMimePart *
attachment_new(const char *type, const char *subtype, const char *name,
    const void *data, size_t len, int text)
{
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer(data, len);
	GMimePart *p;

	p = attachment_with_stream(type, subtype, name, mem, text);
	g_object_unref(mem);
	return p;
}

/*
 * A part with the bytes of b, taken rather than copied (a copy of a
 * document is megabytes); b is left empty.  Copied after all when they
 * cannot be taken.
 */
static GMimePart *
attachment_take(const char *type, const char *subtype, const char *name,
    struct mugai_buf *b)
{
	GMimeStream *mem;
	GMimePart *p;
	size_t n;
	char *data;

	if ((data = mugai_buf_steal(b, &n)) == NULL)
		return attachment_new(type, subtype, name,
		    b->data ? b->data : "", b->len, 0);
	mem = g_mime_stream_mem_new_with_byte_array(
	    g_byte_array_new_take((guint8 *)data, n));
	p = attachment_with_stream(type, subtype, name, mem, 0);
	g_object_unref(mem);
	return p;
}

/* The MIME label for a canonical charset name of mugai_charset_*. */
static const char *
charset_label(const char *canon)
{
	return strcmp(canon, "CP932") == 0 ? "Shift_JIS" : canon;
}

/*
 * The guarded CSV g (UTF-8) as delivered: in the charset it came in
 * (Excel in Japan reads a CSV without a byte-order mark as CP932), or
 * as UTF-8 with a byte-order mark when csv_charset = utf-8-bom or the
 * text cannot go back (a character the charset lacks).  *label gets
 * the charset parameter, *bom whether UTF-8 got a byte-order mark.
 */
static mugai_status
csv_encode(struct san *s, const char *cs, const guint8 *in, size_t inlen,
    const struct mugai_buf *g, struct mugai_buf *out, const char **label,
    int *bom)
{
	const char *orig = cs ? cs : mugai_charset_detect((const char *)in,
	    inlen);
	int utf = strcmp(orig, "UTF-8") == 0 || strcmp(orig, "US-ASCII") == 0;
	gchar *conv;
	gsize n = 0;

	*label = "UTF-8";
	*bom = s->cfg->csv_utf8_bom || (utf && inlen >= 3 &&
	    memcmp(in, "\xEF\xBB\xBF", 3) == 0);
	if (!s->cfg->csv_utf8_bom && !utf && strcmp(orig, "ISO-2022-JP") != 0) {
		conv = g_convert(g->data ? g->data : "", (gssize)g->len, orig,
		    "UTF-8", NULL, &n, NULL);
		if (conv != NULL) {
			*label = charset_label(orig);
			mugai_status rc = mugai_buf_append(out, conv, n);

			g_free(conv);
			return rc;
		}
		mugai_log(LOG_INFO, s->logid, "CSV cannot be written back in "
		    "%s; writing UTF-8 with a byte-order mark", orig);
		*bom = 1;
	} else if (!utf)
		*bom = 1;	/* ISO-2022-JP: no spreadsheet reads it */
	if (*bom && mugai_buf_append(out, "\xEF\xBB\xBF", 3) != MUGAI_OK)
		return MUGAI_ERR_NOMEM;
	return mugai_buf_append(out, g->data ? g->data : "", g->len);
}

static void part_removed(struct san *s, struct part_row *r);

static void
keep_text(struct san *s, struct part_row *r, GMimeObject *obj,
    GByteArray *ba, enum mugai_action act)
{
	struct mugai_buf u, g, c;
	char *name = NULL;
	const char *subtype = act == MUGAI_ACT_CSV ? "csv" : "plain";
	const char *cs = text_charset(obj, ba->data, ba->len);
	const char *label = "UTF-8";
	const struct mugai_buf *src = &u;
	int bom = 0, changed;
	mugai_status rc;
	struct mugai_html_stats st;
	GMimePart *p;

	memset(&st, 0, sizeof(st));
	mugai_buf_init(&u, 0);
	mugai_buf_init(&g, 0);
	mugai_buf_init(&c, 0);
	if (act == MUGAI_ACT_HTML) {
		rc = mugai_html_to_text((const char *)ba->data, ba->len,
		    g_mime_object_get_content_type_parameter(obj, "charset"),
		    s->cfg->max_html_depth, &u, &st);
		if (rc == MUGAI_ERR_PARSE)
			rc = MUGAI_OK;
	} else {
		rc = mugai_charset_to_utf8(cs, (const char *)ba->data, ba->len,
		    &u, NULL);
	}
	if (rc == MUGAI_OK && act == MUGAI_ACT_CSV)
		rc = mugai_csv_guard(u.data ? u.data : "", u.len, &g);
	if (rc == MUGAI_OK && act == MUGAI_ACT_CSV) {
		rc = csv_encode(s, cs, ba->data, ba->len, &g, &c, &label, &bom);
		src = &c;
	}
	if (rc != MUGAI_OK) {
		san_fail(s, rc, "text attachment");
		goto out;
	}
	if (scan_written(s, r, src->data, src->len, "text of") != 0) {
		part_removed(s, r);
		goto out;
	}
	if (r->name[0] == '\0' || mugai_name_is_text(r->name))
		name = g_strdup(r->name);
	else
		name = g_strconcat(r->name, ".txt", NULL);
	p = attachment_new("text", subtype, name, src->data ? src->data : "",
	    src->len, 1);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset",
	    label);
	g_ptr_array_add(s->kept, p);
	/* Anything not delivered as the same bytes is named in the notice. */
	changed = act == MUGAI_ACT_CSV ? src->len != ba->len ||
	    memcmp(src->data ? src->data : "", ba->data, ba->len) != 0 :
	    charset_changes(cs, ba->data, ba->len);
	if (act == MUGAI_ACT_HTML || strcmp(name, r->name) != 0 || changed) {
		r->action = "converted";
		r->reason = act == MUGAI_ACT_HTML ?
		    html_reason(s, r, &st, "html") :
		    strcmp(name, r->name) != 0 ? "rename" :
		    act != MUGAI_ACT_CSV ? "text" : bom ? "csv-bom" : "csv";
		r->in_notice = 1;
		s->res->converted++;
	} else {
		r->action = "kept";
		r->reason = act == MUGAI_ACT_CSV ? "csv" : "text";
		s->res->kept++;
	}
out:
	g_free(name);
	mugai_buf_free(&u);
	mugai_buf_free(&g);
	mugai_buf_free(&c);
}

static void part_removed(struct san *s, struct part_row *r);

/* Archive members the copy left out: one removed row each, for the notice. */
static void
inner_rows(struct san *s, size_t parent, const struct mugai_convert_result *cr)
{
	struct part_row *r;
	char path[96];
	size_t i;

	for (i = 0; i < cr->ninner; i++) {
		snprintf(path, sizeof(path), "%s/%zu", s->rows[parent].path,
		    i + 1);
		if ((r = row_new(s, path)) == NULL)
			return;
		r->name = g_strdup_printf("%s/%s", s->rows[parent].name,
		    cr->inner[i].name);
		snprintf(r->declared, sizeof(r->declared), "-");
		snprintf(r->detected, sizeof(r->detected), "%s",
		    cr->inner[i].type);
		r->size = cr->inner[i].size;
		r->reason = cr->inner[i].reason;
		part_removed(s, r);
	}
}

/*
 * What is left of convert_message_timeout, counted from the start of
 * the message: the MTA waits only so long for the milter's answer.
 */
static unsigned
convert_seconds_left(const struct san *s)
{
	struct timespec now;
	long long used;

	clock_gettime(CLOCK_MONOTONIC, &now);
	used = (long long)(now.tv_sec - s->started.tv_sec);
	if (now.tv_nsec < s->started.tv_nsec)
		used--;
	if (used < 0)
		used = 0;
	if (used >= s->cfg->convert_message_timeout)
		return 0;
	return s->cfg->convert_message_timeout - (unsigned)used;
}

/*
 * A copy that could not be made: the part is removed (its original is
 * kept with the message) and the notice gives the reason.  1 when held.
 */
static int
part_held(struct san *s, struct part_row *r,
    const struct mugai_convert_result *cr)
{
	if (!cr->held)
		return 0;
	mugai_log(LOG_NOTICE, s->logid, "part %s held (%s): %s", r->path,
	    cr->reason, cr->detail);
	r->reason = cr->reason;
	part_removed(s, r);
	return 1;
}

/*
 * A sanitised copy from the worker (mugai/cdr/convert.h), scanned before it
 * goes in; when none can be made the part is removed and held.
 */
static void
keep_converted(struct san *s, struct part_row *r, GByteArray *ba,
    enum mugai_action act)
{
	struct mugai_convert_result cr;
	char major[TYPE_MAX], *minor;
	size_t row = (size_t)(r - s->rows);
	mugai_status rc;

	rc = mugai_convert(s->cfg, s->logid, act, r->detected, r->name,
	    ba->data, ba->len, convert_seconds_left(s), &cr);
	if (rc != MUGAI_OK) {
		san_fail(s, rc, "attachment conversion");
		goto out;
	}
	if (part_held(s, r, &cr))
		goto out;
	mugai_log(LOG_INFO, s->logid, "part %s converted (%s): %s", r->path,
	    cr.reason, cr.detail);
	if (scan_bytes(s, r, cr.data.data, cr.data.len, "copy of", 1) != 0) {
		part_removed(s, r);
		goto out;
	}
	snprintf(major, sizeof(major), "%s", cr.type);
	if ((minor = strchr(major, '/')) == NULL) {
		san_fail(s, MUGAI_ERR_INTERNAL, "converted type");
		goto out;
	}
	*minor++ = '\0';
	g_ptr_array_add(s->kept, attachment_take(major, minor, cr.name,
	    &cr.data));
	r->action = "converted";
	r->reason = cr.reason;
	r->in_notice = 1;
	s->res->converted++;
	inner_rows(s, row, &cr);
out:
	mugai_convert_result_free(&cr);
}

/* Log names are cut short, at a character boundary: they are hostile. */
#define LOG_NAME_MAX	80

static void
part_removed(struct san *s, struct part_row *r)
{
	const char *name = r->name ? r->name : "";
	size_t n = strlen(name);

	r->action = "removed";
	r->in_notice = 1;
	s->res->removed++;
	if (n > LOG_NAME_MAX)
		for (n = LOG_NAME_MAX; n > 0 &&
		    ((unsigned char)name[n] & 0xC0) == 0x80; n--)
			;
	mugai_log(LOG_DEBUG, s->logid, "part %s removed (%s): \"%.*s%s\" "
	    "declared %s, detected %s, %zu bytes", r->path, r->reason, (int)n,
	    name, name[n] != '\0' ? "..." : "", r->declared, r->detected,
	    r->size);
}

/* Parts over the limit: counted, told once in the notice. */
static int
over_part_limit(struct san *s, GMimeObject *obj, const char *path)
{
	struct part_row *r;

	if (++s->leaves <= s->cfg->max_mime_parts)
		return 0;
	s->undecoded = 1;
	if (!s->parts_limit_told) {
		s->parts_limit_told = 1;
		mugai_log(LOG_NOTICE, s->logid, "more than %u MIME parts; the "
		    "rest are removed (max_mime_parts)", s->cfg->max_mime_parts);
		if ((r = row_new(s, path)) == NULL)
			return 1;
		declared_type(obj, r->declared, sizeof(r->declared));
		snprintf(r->detected, sizeof(r->detected), "-");
		r->name = g_strdup("");
		r->reason = "parts";
		part_removed(s, r);
	} else {
		s->res->removed++;
	}
	return 1;
}

/*
 * libmagic has no header to go on for DOS .COM programs and guesses
 * "application/x-dosexec" from a few opening bytes, which Shift_JIS text
 * (月 = 8C 8E) matches.  A part declared as text, with no "MZ" header,
 * that decodes in its charset without a bad byte or control character,
 * is text.
 */
static int
weak_com_guess(GMimeObject *obj, const struct part_row *r, GByteArray *ba)
{
	struct mugai_buf u;
	size_t nbad = 1, i;
	int text = 0;

	if (strcmp(r->detected, "application/x-dosexec") != 0 ||
	    strncmp(r->declared, "text/", 5) != 0 || ba->len < 2 ||
	    (ba->data[0] == 'M' && ba->data[1] == 'Z'))
		return 0;
	mugai_buf_init(&u, 0);
	if (mugai_charset_to_utf8(text_charset(obj, ba->data, ba->len),
	    (const char *)ba->data, ba->len, &u, &nbad) == MUGAI_OK &&
	    nbad == 0) {
		text = 1;
		for (i = 0; i < u.len && text; i++)
			if ((unsigned char)u.data[i] < 0x20 &&
			    strchr("\t\r\n\f", u.data[i]) == NULL)
				text = 0;
	}
	mugai_buf_free(&u);
	return text;
}

/*
 * Text that carries a uuencoded or BinHex file, which libclamav's mail
 * parser decodes and its scan of the part alone does not.
 */
static int
holds_encoded_file(const GByteArray *ba)
{
	const guint8 *p = ba->data, *e = ba->data + ba->len;
	size_t n;

	if (memmem(p, ba->len, "(This file must be converted with BinHex",
	    40) != NULL)
		return 1;
	for (; p < e; p++) {
		n = (size_t)(e - p);
		if ((p == ba->data || p[-1] == '\n') && n > 10 &&
		    memcmp(p, "begin ", 6) == 0 && p[6] >= '0' && p[6] <= '7')
			return 1;
		if ((p = memchr(p, '\n', n)) == NULL)
			break;
	}
	return 0;
}

/*
 * A name for an unnamed part that has a Content-ID, as Outlook and Apple
 * Mail paste images: "image001.png@01DA..." gives "image001.png"; an id
 * that does not look like a file name gives "image1", "image2", ... (the
 * copy gets its extension from its type).
 */
static char *
cid_name(struct san *s, const char *cid)
{
	size_t n = strcspn(cid, "@"), i;
	int ok = n > 0 && n <= 64 && cid[0] != '.';

	for (i = 0; i < n && ok; i++)
		if (!isalnum((unsigned char)cid[i]) &&
		    strchr("._-", cid[i]) == NULL)
			ok = 0;
	if (ok)
		return g_strndup(cid, n);
	return g_strdup_printf("image%u", ++s->images);
}

/*
 * Pictures whose references in the text are renamed: each one is a pass
 * over the text, so a hostile message with thousands cannot make it slow.
 */
#define CID_REWRITE_MAX	200

/* Remember that [cid:id] in the text means the attachment called name. */
static void
cid_add(struct san *s, const char *cid, const char *name)
{
	if (cid == NULL || cid[0] == '\0' || name == NULL || name[0] == '\0' ||
	    s->cids->len >= 2 * CID_REWRITE_MAX)
		return;
	g_ptr_array_add(s->cids, g_strdup(cid));
	g_ptr_array_add(s->cids, g_strdup(name));
}

/*
 * "cid:ID" in the body text (Outlook's "[cid:image001.png@01DA...]" in
 * its plain text, the "[image: alt (cid:ID)]" of converted HTML) becomes
 * the name of the attached copy.  Text that would outgrow its limit
 * keeps the references as they were.
 */
static void
cid_rewrite(struct san *s)
{
	GString *t;
	gchar *from;
	const char *p, *hit;
	guint i;

	if (s->cids->len == 0 || s->text.len == 0 || s->err != MUGAI_OK)
		return;
	t = g_string_new_len(s->text.data, (gssize)s->text.len);
	for (i = 0; i + 1 < s->cids->len; i += 2) {
		GString *o = g_string_sized_new(t->len);

		from = g_strconcat("cid:", s->cids->pdata[i], NULL);
		for (p = t->str; (hit = strstr(p, from)) != NULL;
		    p = hit + strlen(from)) {
			g_string_append_len(o, p, hit - p);
			g_string_append(o, s->cids->pdata[i + 1]);
		}
		g_string_append(o, p);
		g_string_free(t, TRUE);
		t = o;
		g_free(from);
	}
	if (s->text.max == 0 || t->len <= s->text.max) {
		s->text.len = 0;
		if (mugai_buf_append(&s->text, t->str, t->len) != MUGAI_OK)
			san_fail(s, MUGAI_ERR_NOMEM, "image references");
	} else
		mugai_log(LOG_NOTICE, s->logid, "image references left as "
		    "cid: (the text would pass its limit)");
	g_string_free(t, TRUE);
}

static void walk(struct san *s, GMimeObject *obj, const char *path,
    unsigned depth, int body_ok);

/* Is the body text written so far blank? */
static int
text_blank(const struct san *s)
{
	size_t i;

	for (i = 0; i < s->text.len; i++)
		if (!isspace((unsigned char)s->text.data[i]))
			return 0;
	return 1;
}

/*
 * winmail.dat: unpacked by the worker and walked in its place as parts
 * of this message (mugai/cdr/tnef.h), so each file inside meets the policy
 * as any attachment; its body becomes the text only when the message
 * has none of its own.  Every file inside is named in the notice, also
 * one kept as it is.  A TNEF that cannot be unpacked is held whole.
 */
static void
tnef_expand(struct san *s, size_t row, GByteArray *ba, unsigned depth)
{
	struct mugai_convert_result cr;
	struct part_row *r = &s->rows[row];
	GMimeObject *tree = NULL;
	char path[80], why[160];
	size_t first, i;
	int with_body = text_blank(s), dropped = 0;
	mugai_status rc;

	rc = mugai_convert(s->cfg, s->logid, MUGAI_ACT_TNEF, r->detected,
	    r->name, ba->data, ba->len, convert_seconds_left(s), &cr);
	if (rc == MUGAI_OK && !cr.held && (rc = mugai_tnef_mime(cr.data.data,
	    cr.data.len, s->cfg->archive_max_members, s->cfg->archive_max_size,
	    with_body, &tree, &dropped, why, sizeof(why))) == MUGAI_ERR_PARSE) {
		cr.held = 1;
		cr.reason = "convert-failed";
		snprintf(cr.detail, sizeof(cr.detail), "mugai-convert tnef: %s",
		    why);
		rc = MUGAI_OK;
	}
	if (rc != MUGAI_OK) {
		san_fail(s, rc, "winmail.dat");
		goto out;
	}
	if (part_held(s, r, &cr))
		goto out;
	mugai_log(LOG_INFO, s->logid, "part %s unpacked (TNEF): %s", r->path,
	    cr.detail);
	r->action = "converted";
	r->reason = "tnef";
	r->in_notice = 1;
	s->res->converted++;
	snprintf(path, sizeof(path), "%s.1", r->path);
	first = s->nrows;
	walk(s, tree, path, depth + 1, with_body);
	for (i = first; i < s->nrows; i++)
		if (s->rows[i].name != NULL && s->rows[i].name[0] != '\0')
			s->rows[i].in_notice = 1;
	/* The message has a body: the RTF one is another form of it. */
	if (dropped && (r = row_new(s, path)) != NULL) {
		snprintf(r->declared, sizeof(r->declared), "text/rtf");
		snprintf(r->detected, sizeof(r->detected), "text/rtf");
		r->name = g_strdup("");
		r->reason = "alternative";
	}
out:
	if (tree != NULL)
		g_object_unref(tree);
	mugai_convert_result_free(&cr);
}

static void
leaf(struct san *s, GMimePart *part, const char *path, unsigned depth,
    int body_ok)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	struct part_row *r;
	GByteArray *ba;
	char why[256];
	const char *mm, *cid = g_mime_object_get_content_id(obj);
	enum mugai_action act;
	guint nkept = s->kept->len;

	s->res->parts++;
	if (over_part_limit(s, obj, path) || (r = row_new(s, path)) == NULL)
		return;
	declared_type(obj, r->declared, sizeof(r->declared));
	if ((r->name = part_filename(obj)) == NULL) {
		san_fail(s, MUGAI_ERR_NOMEM, "file name");
		return;
	}
	if (r->name[0] == '\0' && cid != NULL && cid[0] != '\0' &&
	    strcmp(r->declared, "text/plain") != 0 &&
	    strcmp(r->declared, "text/html") != 0) {
		g_free(r->name);
		r->name = cid_name(s, cid);
	}
	if ((ba = part_decode(s, part)) == NULL)
		return;
	r->size = ba->len;
	sha256_hex(ba->data, ba->len, r->sha256);
	if (mugai_type_detect_part(ba->data, ba->len, r->declared,
	    g_mime_object_get_content_type_parameter(obj, "charset"),
	    r->detected, sizeof(r->detected)) != MUGAI_OK) {
		san_fail(s, MUGAI_ERR_INTERNAL, "file type detection");
		goto out;
	}
	if (weak_com_guess(obj, r, ba))
		snprintf(r->detected, sizeof(r->detected), "text/plain");
	if (strncmp(r->detected, "text/", 5) == 0 && holds_encoded_file(ba))
		s->undecoded = 1;
	if (ba->len > s->cfg->max_part_size) {
		mugai_log(LOG_NOTICE, s->logid, "part %s: %zu bytes decoded, "
		    "over max_part_size; removed", path, (size_t)ba->len);
		r->reason = "size";
		part_removed(s, r);
		goto out;
	}
	if (scan_part(s, r, ba->data, ba->len, "part") != 0) {
		part_removed(s, r);
		goto out;
	}
	if (body_ok == BODY_DROPPED && is_body_text(obj, r->declared,
	    r->name)) {
		/* Another form of the body is shown; this one is told. */
		r->reason = "alternative";
		part_removed(s, r);
		goto out;
	}
	if (body_ok == BODY_YES && is_body_text(obj, r->declared, r->name)) {
		r->action = "body";
		r->reason = "";
		if (strcmp(r->declared, "text/html") == 0)
			body_html(s, obj, ba, r);
		else
			body_plain(s, obj, ba, r);
		goto out;
	}
	if ((mm = mugai_type_mismatch(r->declared, r->name, r->detected, why,
	    sizeof(why))) != NULL) {
		r->mismatch = g_strdup(mm);
		s->res->mismatches++;
		mugai_log(LOG_NOTICE, s->logid, "part %s: %s", path, mm);
	}
	act = mugai_policy_for_file(s->cfg->policy, r->detected, r->declared,
	    r->name);
	switch (act) {
	case MUGAI_ACT_TEXT:
	case MUGAI_ACT_CSV:
	case MUGAI_ACT_HTML:
		keep_text(s, r, obj, ba, act);
		break;
	case MUGAI_ACT_IMAGE:
	case MUGAI_ACT_PDF:
	case MUGAI_ACT_OOXML:
	case MUGAI_ACT_OFFICE:
	case MUGAI_ACT_ARCHIVE:
		keep_converted(s, r, ba, act);
		break;
	case MUGAI_ACT_TNEF:
		tnef_expand(s, (size_t)(r - s->rows), ba, depth);
		break;
	case MUGAI_ACT_PASS:
		g_ptr_array_add(s->kept, g_object_ref(obj));
		r->action = "kept";
		r->reason = "pass";
		s->res->kept++;
		break;
	case MUGAI_ACT_REMOVE:
		r->reason = "policy";
		part_removed(s, r);
		break;
	}
	if (s->kept->len > nkept && GMIME_IS_PART(s->kept->pdata[nkept]))
		cid_add(s, cid, g_mime_part_get_filename(
		    GMIME_PART(s->kept->pdata[nkept])));
out:
	g_byte_array_unref(ba);
}

static void walk(struct san *s, GMimeObject *obj, const char *path,
    unsigned depth, int body_ok);

/* A whole subtree dropped without looking inside (depth, encrypted). */
static void
subtree_removed(struct san *s, GMimeObject *obj, const char *path,
    const char *reason, int tell)
{
	struct part_row *r;
	GByteArray *ba;

	if ((r = row_new(s, path)) == NULL)
		return;
	declared_type(obj, r->declared, sizeof(r->declared));
	snprintf(r->detected, sizeof(r->detected), "-");
	if ((r->name = part_filename(obj)) == NULL)
		r->name = g_strdup("");
	r->reason = reason;
	/* A single part is still described, so admins can match it. */
	if (GMIME_IS_PART(obj) && (ba = part_decode(s, GMIME_PART(obj)))) {
		r->size = ba->len;
		sha256_hex(ba->data, ba->len, r->sha256);
		if (mugai_type_detect(ba->data, ba->len, r->detected,
		    sizeof(r->detected)) != MUGAI_OK)
			snprintf(r->detected, sizeof(r->detected), "-");
		/* Not delivered, but a virus in it is the message's (the
		 * row keeps the reason it was removed for). */
		(void)scan_part(s, r, ba->data, ba->len, "part");
		r->reason = reason;
		g_byte_array_unref(ba);
	} else if (!GMIME_IS_PART(obj)) {
		s->undecoded = 1;
	}
	if (tell)
		part_removed(s, r);
}

static int
part_is_blank_text(struct san *s, GMimeObject *obj)
{
	GByteArray *ba;
	char decl[TYPE_MAX];
	size_t i;
	int blank = 1;

	declared_type(obj, decl, sizeof(decl));
	if (!GMIME_IS_PART(obj) || strcmp(decl, "text/plain") != 0)
		return 1;
	if ((ba = part_decode(s, GMIME_PART(obj))) == NULL)
		return 1;
	for (i = 0; i < ba->len && blank; i++)
		if (!isspace(ba->data[i]))
			blank = 0;
	g_byte_array_unref(ba);
	return blank;
}

/*
 * multipart/alternative: the text/plain alternative when it has any
 * text, else the richest other one (HTML, or related HTML with images).
 */
static void
alternative(struct san *s, GMimeMultipart *mp, const char *path,
    unsigned depth, int body_ok)
{
	int n = g_mime_multipart_get_count(mp), i, pick = -1;
	char cpath[64];
	GMimeObject *child;

	for (i = 0; i < n && pick < 0; i++)
		if (!part_is_blank_text(s, g_mime_multipart_get_part(mp, i)))
			pick = i;
	if (pick < 0)
		pick = n - 1;
	for (i = 0; i < n; i++) {
		child = g_mime_multipart_get_part(mp, i);
		snprintf(cpath, sizeof(cpath), "%s.%d", path, i + 1);
		/* The forms not shown are still walked: their text is
		 * told as removed, their images (Outlook's pasted
		 * screenshots) delivered like attachments. */
		walk(s, child, cpath, depth + 1, i == pick &&
		    body_ok != BODY_DROPPED ? BODY_YES : BODY_DROPPED);
	}
}

/* multipart/related: the root is read as the related is, the rest
 * as attachments. */
static void
related(struct san *s, GMimeMultipart *mp, const char *path, unsigned depth,
    int body_ok)
{
	int n = g_mime_multipart_get_count(mp), i, root = 0;
	const char *start = g_mime_object_get_content_type_parameter(
	    GMIME_OBJECT(mp), "start");
	const char *cid;
	char cpath[64], want[256];
	GMimeObject *child;

	if (start != NULL) {
		snprintf(want, sizeof(want), "%s", start);
		g_strstrip(want);
		for (i = 0; i < n; i++) {
			cid = g_mime_object_get_content_id(
			    g_mime_multipart_get_part(mp, i));
			if (cid != NULL && strstr(want, cid) != NULL) {
				root = i;
				break;
			}
		}
	}
	for (i = 0; i < n; i++) {
		child = g_mime_multipart_get_part(mp, i);
		snprintf(cpath, sizeof(cpath), "%s.%d", path, i + 1);
		walk(s, child, cpath, depth + 1, i == root ? body_ok : BODY_NO);
	}
}

static void
forwarded(struct san *s, GMimeMessagePart *mp, const char *path,
    unsigned depth)
{
	GMimeMessage *m = g_mime_message_part_get_message(mp);
	GMimeObject *mobj;
	static const char *const show[] = { "From", "Date", "Subject", "To" };
	char cpath[64], *v;
	const char *raw;
	size_t i;
	struct part_row *r;

	if ((r = row_new(s, path)) == NULL)
		return;
	declared_type(GMIME_OBJECT(mp), r->declared, sizeof(r->declared));
	snprintf(r->detected, sizeof(r->detected), "message/rfc822");
	r->name = g_strdup("");
	r->action = "body";
	r->reason = "";
	if (m == NULL || (mobj = g_mime_message_get_mime_part(m)) == NULL) {
		text_separate(s);
		text_append(s, "---------- 転送メッセージ (空) / "
		    "Forwarded message (empty) ----------\n", 73);
		return;
	}
	text_separate(s);
	text_append(s, "---------- 転送メッセージ / Forwarded message "
	    "----------\n", strlen("---------- 転送メッセージ / Forwarded "
	    "message ----------\n"));
	s->quote++;
	for (i = 0; i < sizeof(show) / sizeof(show[0]); i++) {
		raw = raw_header(GMIME_OBJECT(m), show[i]);
		if (raw == NULL)
			continue;
		v = mugai_header_decode(raw, strlen(raw));
		if (v == NULL) {
			san_fail(s, MUGAI_ERR_NOMEM, "forwarded header");
			break;
		}
		{
			char *line = g_strdup_printf("%s: %s\n", show[i], v);

			text_append(s, line, strlen(line));
			g_free(line);
		}
		free(v);
	}
	snprintf(cpath, sizeof(cpath), "%s.1", path);
	walk(s, mobj, cpath, depth + 1, BODY_YES);
	s->quote--;
}

/* Most file names listed from a split message's first fragment. */
#define PARTIAL_NAMES_MAX	50

/*
 * What can be read of the first fragment of a split message (its
 * headers, the beginning of its body): the text of its unnamed text
 * parts and the names of its files, as the notice cannot show them.
 */
static void
partial_show(struct san *s, GMimeObject *obj, unsigned depth,
    unsigned *names)
{
	GByteArray *ba;
	char decl[TYPE_MAX], *name, *line;
	struct mugai_buf u;
	struct mugai_html_stats st;
	int i, n;

	if (s->err != MUGAI_OK || depth > s->cfg->max_mime_depth)
		return;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));

		if (m != NULL && g_mime_message_get_mime_part(m) != NULL)
			partial_show(s, g_mime_message_get_mime_part(m),
			    depth + 1, names);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			partial_show(s, g_mime_multipart_get_part(
			    GMIME_MULTIPART(obj), i), depth + 1, names);
		return;
	}
	if (!GMIME_IS_PART(obj) || GMIME_IS_MESSAGE_PARTIAL(obj))
		return;
	declared_type(obj, decl, sizeof(decl));
	if ((name = part_filename(obj)) == NULL) {
		san_fail(s, MUGAI_ERR_NOMEM, "file name");
		return;
	}
	if (name[0] != '\0') {
		if (++*names <= PARTIAL_NAMES_MAX) {
			line = g_strdup_printf("[添付 / attachment: %s]\n", name);
			text_append(s, line, strlen(line));
			g_free(line);
		}
		g_free(name);
		return;
	}
	g_free(name);
	if (!is_body_text(obj, decl, "") ||
	    (ba = part_decode(s, GMIME_PART(obj))) == NULL)
		return;
	mugai_buf_init(&u, 0);
	memset(&st, 0, sizeof(st));
	if ((strcmp(decl, "text/html") == 0 ? mugai_html_to_text(
	    (const char *)ba->data, ba->len,
	    g_mime_object_get_content_type_parameter(obj, "charset"),
	    s->cfg->max_html_depth, &u, &st) :
	    mugai_charset_to_utf8(text_charset(obj, ba->data, ba->len),
	    (const char *)ba->data, ba->len, &u, NULL)) == MUGAI_ERR_NOMEM)
		san_fail(s, MUGAI_ERR_NOMEM, "fragment text");
	else
		text_append(s, u.data ? u.data : "", u.len);
	mugai_buf_free(&u);
	g_byte_array_unref(ba);
}

/*
 * message/partial (RFC 2046 5.2.2): one fragment of a message split over
 * several mails.  It cannot be put together here, so it is removed and
 * told as "fragment n of m"; of the first fragment, which holds the
 * message's headers, what can be read is shown.
 */
static void
partial(struct san *s, GMimeMessagePartial *mp, const char *path,
    unsigned depth)
{
	static const char *const show[] = { "From", "Date", "Subject", "To" };
	struct part_row *r;
	GByteArray *ba;
	GMimeStream *st;
	GMimeParser *parser;
	GMimeMessage *m;
	const char *raw;
	char *v, *line;
	unsigned names = 0;
	size_t i;

	s->res->parts++;
	if (over_part_limit(s, GMIME_OBJECT(mp), path) ||
	    (r = row_new(s, path)) == NULL)
		return;
	declared_type(GMIME_OBJECT(mp), r->declared, sizeof(r->declared));
	snprintf(r->detected, sizeof(r->detected), "message/partial");
	r->name = g_strdup("");
	r->frag_n = g_mime_message_partial_get_number(mp) > 0 ?
	    (unsigned)g_mime_message_partial_get_number(mp) : 0;
	r->frag_m = g_mime_message_partial_get_total(mp) > 0 ?
	    (unsigned)g_mime_message_partial_get_total(mp) : 0;
	if ((ba = part_decode(s, GMIME_PART(mp))) == NULL)
		return;
	r->size = ba->len;
	sha256_hex(ba->data, ba->len, r->sha256);
	if (scan_part(s, r, ba->data, ba->len, "part") != 0) {
		part_removed(s, r);
		goto out;
	}
	r->reason = "partial";
	part_removed(s, r);
	if (r->frag_n != 1)
		goto out;
	line = g_strdup_printf("---------- 分割メッセージの断片 1/%u / Fragment 1 "
	    "of %u of a split message ----------\n", r->frag_m, r->frag_m);
	text_separate(s);
	text_append(s, line, strlen(line));
	g_free(line);
	s->quote++;
	st = g_mime_stream_mem_new_with_buffer((const char *)ba->data, ba->len);
	parser = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(parser, NULL);
	for (i = 0; m != NULL && i < sizeof(show) / sizeof(show[0]); i++) {
		if ((raw = raw_header(GMIME_OBJECT(m), show[i])) == NULL)
			continue;
		if ((v = mugai_header_decode(raw, strlen(raw))) == NULL) {
			san_fail(s, MUGAI_ERR_NOMEM, "fragment header");
			break;
		}
		line = g_strdup_printf("%s: %s\n", show[i], v);
		text_append(s, line, strlen(line));
		g_free(line);
		free(v);
	}
	if (m != NULL && g_mime_message_get_mime_part(m) != NULL) {
		text_append(s, "\n", 1);
		partial_show(s, g_mime_message_get_mime_part(m), depth + 1,
		    &names);
	}
	s->quote--;
	if (m != NULL)
		g_object_unref(m);
	g_object_unref(parser);
	g_object_unref(st);
out:
	g_byte_array_unref(ba);
}

static void
walk(struct san *s, GMimeObject *obj, const char *path, unsigned depth,
    int body_ok)
{
	GMimeMultipart *mp;
	const char *sub;
	char cpath[64];
	int i, n;

	if (s->err != MUGAI_OK)
		return;
	if (depth > s->cfg->max_mime_depth) {
		mugai_log(LOG_NOTICE, s->logid, "part %s: nested deeper than "
		    "max_mime_depth %u; subtree removed", path,
		    s->cfg->max_mime_depth);
		subtree_removed(s, obj, path, "depth", 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		forwarded(s, GMIME_MESSAGE_PART(obj), path, depth);
		return;
	}
	if (GMIME_IS_MESSAGE_PARTIAL(obj)) {
		partial(s, GMIME_MESSAGE_PARTIAL(obj), path, depth);
		return;
	}
	if (GMIME_IS_PART(obj)) {
		leaf(s, GMIME_PART(obj), path, depth, body_ok);
		return;
	}
	if (!GMIME_IS_MULTIPART(obj)) {
		subtree_removed(s, obj, path, "policy", 1);
		return;
	}
	mp = GMIME_MULTIPART(obj);
	sub = g_mime_content_type_get_media_subtype(
	    g_mime_object_get_content_type(obj));
	/* With no boundary nothing can be split into parts (GMime gives
	 * none): all there was is unread, told, and the original kept. */
	if (g_mime_multipart_get_count(mp) == 0 &&
	    g_mime_object_get_content_type_parameter(obj, "boundary") == NULL) {
		mugai_log(LOG_NOTICE, s->logid, "part %s: multipart without a "
		    "boundary parameter; its content could not be read", path);
		subtree_removed(s, obj, path, "unread", 0);
		if (s->nrows > 0 && strcmp(s->rows[s->nrows - 1].path,
		    path) == 0) {
			s->rows[s->nrows - 1].count = 1;
			part_removed(s, &s->rows[s->nrows - 1]);
		}
		return;
	}
	if (sub != NULL && strcasecmp(sub, "alternative") == 0) {
		alternative(s, mp, path, depth, body_ok);
		return;
	}
	if (sub != NULL && strcasecmp(sub, "related") == 0) {
		related(s, mp, path, depth, body_ok);
		return;
	}
	if (sub != NULL && strcasecmp(sub, "encrypted") == 0) {
		subtree_removed(s, obj, path, "encrypted", 1);
		return;
	}
	n = g_mime_multipart_get_count(mp);
	for (i = 0; i < n && s->err == MUGAI_OK; i++) {
		snprintf(cpath, sizeof(cpath), "%s.%d", path, i + 1);
		/* The signature of multipart/signed no longer matches. */
		if (sub != NULL && strcasecmp(sub, "signed") == 0 && i > 0) {
			subtree_removed(s, g_mime_multipart_get_part(mp, i),
			    cpath, "signature", 1);
			continue;
		}
		walk(s, g_mime_multipart_get_part(mp, i), cpath, depth + 1,
		    body_ok);
	}
}

/* Does the notice say nothing: no part in it and no warning? */
static int
notice_empty(const struct san *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].in_notice)
			return 0;
	return s->phishing == 0;
}

static mugai_status
notice_write(struct san *s, struct mugai_buf *out)
{
	struct mugai_notice_item *items;
	size_t i, n = 0, nfiles;
	mugai_status rc;

	if (notice_empty(s))
		return MUGAI_OK;
	items = calloc(s->nrows + 1, sizeof(*items));
	if (items == NULL)
		return MUGAI_ERR_NOMEM;
	for (i = 0; i < s->nrows; i++) {
		if (!s->rows[i].in_notice)
			continue;
		items[n].action = s->rows[i].action;
		items[n].name = s->rows[i].name;
		items[n].declared = s->rows[i].declared;
		items[n].detected = s->rows[i].detected;
		items[n].size = s->rows[i].size;
		items[n].reason = s->rows[i].reason;
		items[n].mismatch = s->rows[i].mismatch;
		/* Parts that could not be read have no name or type. */
		items[n].warning = strcmp(s->rows[i].reason, "unread") == 0;
		items[n].n = items[n].warning ? s->rows[i].count :
		    s->rows[i].frag_n;
		items[n].m = s->rows[i].frag_m;
		n++;
	}
	/* Named parts mean a change, and a change keeps the original
	 * (finish.c) when there is a quarantine: then the link is useful. */
	nfiles = n;
	if (s->phishing > 0) {
		items[n].action = "warning";
		items[n].name = "";
		items[n].declared = "";
		items[n].detected = "";
		items[n].reason = "phishing";
		items[n].warning = 1;
		n++;
	}
	rc = mugai_notice_render_stored(s->cfg, s->res->id, items, n,
	    nfiles > 0 && s->svc->quarantine != NULL, out);
	free(items);
	return rc;
}

static void
rows_free(struct san *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++) {
		g_free(s->rows[i].name);
		g_free(s->rows[i].mismatch);
	}
	free(s->rows);
}

/* YYYYmmdd-HHMMSS-xxxxxxxxxxxx: sortable, unique, easy to read aloud. */
static void
make_id(char *out, size_t outlen)
{
	unsigned char rnd[6];
	struct tm tm;
	time_t now = time(NULL);
	char date[16];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long x = (unsigned long)now ^ (unsigned long)clock();

		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(x >> (i * 5));
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, outlen, "%s-%02x%02x%02x%02x%02x%02x", date, rnd[0],
	    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
}

/*
 * GMime holds every part and header field of a message as objects, about
 * 1 KB per part and 0.5 KB per field: 50 MB of five-byte parts ("--b" and
 * a blank line) or three-byte fields ("X:") would take many GB.  So
 * parsing stops at a budget, in multiples of max_mime_parts and far above
 * what real mail holds: lines starting with "--" (every part needs one;
 * counted before GMime sees the bytes) and header fields (counted as
 * GMime reads them).  The rest of the message is removed and told.
 */
#define DASH_LINES_PER_PART	10
#define FIELDS_PER_PART		50

enum parse_cut { CUT_NONE, CUT_DASH_LINES, CUT_FIELDS };

struct parse_limit {
	GMimeStream	*st;
	GByteArray	*wrap;		/* raw itself, not a copy */
	size_t		 fields, max_fields;
	enum parse_cut	 cut;
	size_t		 cut_at;	/* offset in raw; len when no cut */
};

/* Offset of the (max + 1)th line that starts with "--", else len. */
static size_t
dash_line_cut(const char *raw, size_t len, size_t max)
{
	const char *p = raw, *end = raw + len, *nl;
	size_t n = 0;

	while (end - p >= 2) {
		if (p[0] == '-' && p[1] == '-' && ++n > max)
			return (size_t)(p - raw);
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
	return len;
}

/* GMime's header callback: past the budget, end the stream it reads. */
static void
field_counted(GMimeParser *parser, const char *name, const char *value,
    gint64 offset, gpointer arg)
{
	struct parse_limit *pl = arg;

	if (++pl->fields != pl->max_fields + 1)
		return;
	pl->cut = CUT_FIELDS;
	pl->cut_at = offset > 0 ? (size_t)offset : 0;
	/* The parser finishes with the few KB it has already read. */
	g_mime_stream_set_bounds(pl->st, 0, g_mime_stream_tell(pl->st));
}

/* Parse raw[0..len); *pl says where and why parsing stopped early. */
static GMimeMessage *
parse_message(const struct mugai_config *cfg, const char *raw, size_t len,
    struct parse_limit *pl)
{
	GMimeParser *parser;
	GMimeParserOptions *opts;
	GMimeMessage *m;

	memset(pl, 0, sizeof(*pl));
	pl->max_fields = (size_t)cfg->max_mime_parts * FIELDS_PER_PART;
	pl->cut_at = dash_line_cut(raw, len,
	    (size_t)cfg->max_mime_parts * DASH_LINES_PER_PART);
	if (pl->cut_at < len)
		pl->cut = CUT_DASH_LINES;
	/*
	 * GMime reads the caller's bytes in place: an array that does not
	 * own them, under a stream that does not own the array.  The parts
	 * refer to it until the message is freed; parse_release then.
	 */
	if ((pl->wrap = g_byte_array_new()) == NULL)
		return NULL;
	pl->wrap->data = (guint8 *)raw;
	pl->wrap->len = (guint)pl->cut_at;
	pl->st = g_mime_stream_mem_new_with_byte_array(pl->wrap);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(pl->st), FALSE);
	parser = g_mime_parser_new_with_stream(pl->st);
	g_mime_parser_set_header_regex(parser, ".", field_counted, pl);
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(parser, opts);
	g_mime_parser_options_free(opts);
	g_object_unref(parser);
	g_object_unref(pl->st);
	pl->st = NULL;
	return m;
}

/* After the message (and every part kept from it) is freed. */
static void
parse_release(struct parse_limit *pl)
{
	if (pl->wrap == NULL)
		return;
	pl->wrap->data = NULL;
	pl->wrap->len = 0;
	g_byte_array_unref(pl->wrap);
	pl->wrap = NULL;
}

/* The parse stopped at its budget: one row says the rest is gone. */
static void
structure_cut(struct san *s, enum parse_cut cut)
{
	size_t max = (size_t)s->cfg->max_mime_parts * (cut == CUT_FIELDS ?
	    FIELDS_PER_PART : DASH_LINES_PER_PART);
	struct part_row *r;

	if (cut == CUT_NONE)
		return;
	mugai_log(LOG_NOTICE, s->logid, "more than %zu %s (%u x "
	    "max_mime_parts); the rest of the message is removed", max,
	    cut == CUT_FIELDS ? "header fields" : "lines starting \"--\"",
	    cut == CUT_FIELDS ? FIELDS_PER_PART : DASH_LINES_PER_PART);
	if ((r = row_new(s, "-")) == NULL)
		return;
	snprintf(r->declared, sizeof(r->declared), "-");
	snprintf(r->detected, sizeof(r->detected), "-");
	r->name = g_strdup("");
	r->reason = "structure";
	part_removed(s, r);
}

/*
 * Broken part headers.  A part header that runs straight into its body
 * (no blank line) makes GMime read the body as header lines, and with a
 * long enough line the part and every later one are lost.  Mail clients
 * end the header block at the first line that cannot be a header field
 * ("Name:" or a continuation), and so does this: a copy of the message
 * gets a blank line there.  Only part headers (after a delimiter line of
 * a boundary declared somewhere in the message) are mended; the
 * original is what the quarantine keeps.
 */
#define BOUNDARIES_MAX	1000

/* Add the boundary= values of a header line to h. */
static void
boundaries_add(GHashTable *h, const char *line, size_t n)
{
	const char *p = line, *end = line + n, *v, *e;

	while (g_hash_table_size(h) < BOUNDARIES_MAX && end - p > 8) {
		if (g_ascii_strncasecmp(p, "boundary", 8) != 0) {
			p++;
			continue;
		}
		for (v = p + 8; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		p += 8;
		if (v >= end || *v != '=')
			continue;
		for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		if (v < end && *v == '"') {
			for (e = ++v; e < end && *e != '"'; e++)
				;
		} else {
			for (e = v; e < end && !strchr(" \t\r;\"", *e); e++)
				;
		}
		if (e > v && e - v <= 200)
			g_hash_table_add(h, g_strndup(v, (gsize)(e - v)));
	}
}

/*
 * Is line[0..n) (no line end) a delimiter of a boundary in h?  1 for
 * "--b", 2 for the closing "--b--", 0 otherwise.  Trailing white space
 * is allowed (RFC 2046).
 */
static int
delimiter(GHashTable *h, const char *line, size_t n)
{
	char key[204];

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
	    line[n - 1] == '\r'))
		n--;
	if (n < 3 || line[0] != '-' || line[1] != '-' || n - 2 > 202)
		return 0;
	memcpy(key, line + 2, n - 2);
	key[n - 2] = '\0';
	if (g_hash_table_contains(h, key))
		return 1;
	if (n >= 5 && key[n - 3] == '-' && key[n - 4] == '-') {
		key[n - 4] = '\0';
		if (g_hash_table_contains(h, key))
			return 2;
	}
	return 0;
}

/* Can line[0..n) be a header field or its continuation? */
static int
header_like(const char *line, size_t n, int have_field)
{
	size_t i;

	if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
		return have_field;
	for (i = 0; i < n && line[i] > 0x20 && line[i] < 0x7F &&
	    line[i] != ':'; i++)
		;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i > 0 && i < n && line[i] == ':';
}

/*
 * A copy of raw with a blank line where a part header block runs into
 * its body; NULL when none does (or memory ran out: then raw is used).
 * h gets the boundaries declared in header blocks (the message's, its
 * parts', those of messages in message/rfc822 parts), not the ones
 * quoted in bodies.  The message's own header is not mended: the MTA
 * has read it already.
 */
static GByteArray *
mend_part_headers(struct san *s, const char *raw, size_t len, GHashTable *h)
{
	GByteArray *out = NULL;
	const char *p = raw, *end = raw + len, *nl;
	size_t n, ll, mended = 0;
	int in_hdr = 1, top = 1, have_field = 0, rfc822 = 0, crlf;

	if (len >= 5 && strncmp(raw, "From ", 5) == 0 &&
	    (nl = memchr(raw, '\n', len)) != NULL)
		p = nl + 1;	/* an mbox envelope line */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		n = nl ? ll + 1 : ll;
		if (in_hdr && (ll == 0 || (ll == 1 && p[0] == '\r'))) {
			/* A message in a part has a header block of its own. */
			in_hdr = rfc822;
			top = rfc822;
			rfc822 = have_field = 0;
		} else if (p[0] == '-' && delimiter(h, p, ll) != 0) {
			in_hdr = delimiter(h, p, ll) == 1;
			top = rfc822 = have_field = 0;
		} else if (in_hdr && header_like(p, ll, have_field)) {
			have_field = 1;
			boundaries_add(h, p, ll);
			if (!top && g_strstr_len(p, (gssize)ll,
			    "message/rfc822") != NULL)
				rfc822 = 1;
		} else if (in_hdr && top) {
			in_hdr = 0;
		} else if (in_hdr) {
			if (out == NULL) {
				out = g_byte_array_sized_new((guint)len + 64);
				g_byte_array_append(out, (const guint8 *)raw,
				    (guint)(p - raw));
			}
			crlf = p > raw + 1 && p[-2] == '\r';
			g_byte_array_append(out, (const guint8 *)"\r\n" +
			    (crlf ? 0 : 1), crlf ? 2 : 1);
			in_hdr = 0;
			mended++;
		}
		if (out != NULL)
			g_byte_array_append(out, (const guint8 *)p, (guint)n);
		p += n;
	}
	if (mended > 0)
		mugai_log(LOG_NOTICE, s->logid, "%zu part header block(s) ran "
		    "into the body; ended at the first line that is not a "
		    "header field", mended);
	return out;
}

/* Children GMime found under each boundary, over the whole tree. */
static void
parsed_children(GMimeObject *obj, GHashTable *seen, unsigned depth)
{
	GMimeMultipart *mp;
	GMimeMessage *m;
	const char *b;
	int i, n;

	if (depth > 1000)
		return;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (m != NULL && g_mime_message_get_mime_part(m) != NULL)
			parsed_children(g_mime_message_get_mime_part(m), seen,
			    depth + 1);
		return;
	}
	if (!GMIME_IS_MULTIPART(obj))
		return;
	mp = GMIME_MULTIPART(obj);
	n = g_mime_multipart_get_count(mp);
	if ((b = g_mime_multipart_get_boundary(mp)) != NULL)
		g_hash_table_insert(seen, g_strdup(b), GUINT_TO_POINTER(
		    GPOINTER_TO_UINT(g_hash_table_lookup(seen, b)) +
		    (unsigned)n));
	for (i = 0; i < n; i++)
		parsed_children(g_mime_multipart_get_part(mp, i), seen,
		    depth + 1);
}

/*
 * The safety net: delimiter lines in the bytes against the parts GMime
 * made of them, for every boundary GMime found or a header block of the
 * bytes declares (known, from mend_part_headers: a multipart whose
 * header GMime lost has none in the tree).  Parts that were there but
 * not parsed are counted removed and told in the notice ("n parts could
 * not be read"), so the original is kept.
 */
static void
unread_parts(struct san *s, GMimeObject *root, const char *raw, size_t len,
    GHashTable *known)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTable *lines = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTableIter it;
	gpointer k, v;
	const char *p = raw, *end = raw + len, *nl, *next;
	size_t ll;
	unsigned want, got, missing = 0;
	struct part_row *r;

	parsed_children(root, seen, 0);
	g_hash_table_iter_init(&it, seen);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_hash_table_add(known, g_strdup(k));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		next = nl ? nl + 1 : end;
		if (ll >= 3 && p[0] == '-' && p[1] == '-' &&
		    delimiter(known, p, ll) == 1) {
			while (ll > 0 && strchr(" \t\r", p[ll - 1]))
				ll--;
			k = g_strndup(p + 2, ll - 2);
			g_hash_table_insert(lines, k, GUINT_TO_POINTER(
			    GPOINTER_TO_UINT(g_hash_table_lookup(lines, k)) + 1));
		}
		p = next;
	}
	g_hash_table_iter_init(&it, lines);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		want = GPOINTER_TO_UINT(v);
		got = GPOINTER_TO_UINT(g_hash_table_lookup(seen, k));
		if (want > got)
			missing += want - got;
	}
	g_hash_table_destroy(seen);
	g_hash_table_destroy(lines);
	if (missing == 0)
		return;
	mugai_log(LOG_NOTICE, s->logid, "%u part(s) behind boundary lines "
	    "could not be read", missing);
	s->undecoded = 1;	/* libclamav's decoder reads what GMime lost */
	if ((r = row_new(s, "-")) == NULL)
		return;
	snprintf(r->declared, sizeof(r->declared), "-");
	snprintf(r->detected, sizeof(r->detected), "-");
	r->name = g_strdup("");
	r->reason = "unread";
	r->count = missing;
	part_removed(s, r);
	s->res->removed += missing - 1;
}

/*
 * Scan the raw message; see scan_part for the parts.  decode 0: its
 * bytes as they are, for what only the raw message shows (signatures for
 * mail, its headers and structure, the bytes of 7bit and 8bit parts in
 * place); the parts are scanned decoded, one by one, from memory.
 * decode 1: libclamav decodes the MIME parts itself (slow: temporary
 * files), only for content the walk did not decode.
 */
static int
scan_whole(struct san *s, const void *p, size_t n, int decode,
    const char *what)
{
	struct mugai_scan_verdict v;

	if (!s->cfg->clamav_enable)
		return 0;
	if (mugai_scanner_scan_message(s->svc->scanner, p, n, decode, what,
	    &v) != MUGAI_OK) {
		san_fail(s, MUGAI_ERR_SCAN, "virus scan");
		return -1;
	}
	if (v.outcome == MUGAI_SCAN_INFECTED) {
		mugai_log(LOG_NOTICE, s->logid, "virus found in %s: %s", what,
		    v.name);
		sanitize_add_signature(s->res, v.name);
		s->virus = 1;
		return -1;
	}
	/* UNSCANNED for the whole message only means some part was:
	 * that part is judged on its own below. */
	return 0;
}

/*
 * The new message is not scanned whole again: each piece of it was, in
 * the form it is delivered in.  The parts passed as they are and the
 * sanitised copies were scanned (scan_part, "copy of"), text attachments
 * as written (keep_text), and the body text is scanned here as it goes
 * out.  What is left is the MIME structure and headers mugai writes:
 * its own, with file names that the notice repeats and the raw message
 * carried.  The whole output, scanned with MIME decoding (a temporary
 * file for every part), was 40-50 % of the scanning of a message.
 * A virus sets s->virus; an unscanned body text is no verdict (the
 * parts it was written from were judged on their own).
 */
static void
scan_body_text(struct san *s, const char *p, size_t n)
{
	struct part_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.path, sizeof(r.path), "text");
	(void)scan_written(s, &r, p, n, "sanitised");
}

/*
 * A stream over p[0..n) that neither copies nor frees it: an array that
 * does not own the bytes, under a stream that does not own the array.
 * After the last user of the stream is gone, stream_over_release.
 */
static GMimeStream *
stream_over(GByteArray **wrap, const char *p, size_t n)
{
	GMimeStream *st;

	*wrap = g_byte_array_new();
	(*wrap)->data = (guint8 *)p;
	(*wrap)->len = (guint)n;
	st = g_mime_stream_mem_new_with_byte_array(*wrap);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	return st;
}

static void
stream_over_release(GByteArray *wrap)
{
	if (wrap == NULL)
		return;
	wrap->data = NULL;
	wrap->len = 0;
	g_byte_array_unref(wrap);
}

/*
 * A message that is one clean text part goes with its own body: nothing
 * was removed, converted or found, the notice is empty, and the raw
 * message says what GMime read and holds the text mugai would write
 * (sanitize_plain_as_is).  Its body was scanned in place with the whole
 * message and decoded as the part: nothing new goes out to scan.
 */
static int
body_as_is(struct san *s)
{
	const struct mugai_result *r = s->res;

	if (s->plain_cs == NULL || s->nrows != 1 || s->kept->len != 0 ||
	    r->removed != 0 || r->converted != 0 || r->mismatches != 0 ||
	    s->undecoded || s->virus || s->err != MUGAI_OK || !notice_empty(s))
		return 0;
	return sanitize_plain_as_is(s->raw, s->rawlen, s->plain_cs,
	    s->text.data ? s->text.data : "", s->text.len);
}

/*
 * The new message.  The body text is held once while it is written:
 * s->text goes as soon as it is in the notice, the notice is the
 * result's (res->notice), and the text part reads it in place; only
 * the encoded message (res->body) is a second copy.
 */
static void
build_output(struct san *s)
{
	GMimeObject *top;
	GMimePart *body;
	GMimeMultipart *mixed;
	GMimeStream *st;
	GByteArray *wrap = NULL;
	struct mugai_buf final;
	struct mugai_buf jis;
	size_t flen;
	int use_jis = 0;
	guint i;
	mugai_status rc;

	if (body_as_is(s)) {
		s->res->body_kept = 1;
		return;
	}
	mugai_buf_init(&final, 0);
	mugai_buf_init(&jis, 0);
	if ((rc = notice_write(s, &final)) != MUGAI_OK ||
	    (rc = mugai_buf_append(&final, s->text.data ? s->text.data : "",
	    s->text.len)) != MUGAI_OK) {
		san_fail(s, rc, "notice");
		goto out;
	}
	mugai_buf_free(&s->text);
	/* GLib's allocator is malloc's (GLib >= 2.46): g_free frees it. */
	if ((s->res->notice = mugai_buf_steal(&final, &flen)) == NULL) {
		san_fail(s, MUGAI_ERR_NOMEM, "notice");
		goto out;
	}
	if (s->cfg->output_charset == MUGAI_OUTPUT_ISO2022JP &&
	    mugai_charset_utf8_to_iso2022jp(s->res->notice, flen, &jis) ==
	    MUGAI_OK)
		use_jis = 1;
	scan_body_text(s, use_jis ? jis.data : s->res->notice, use_jis ?
	    jis.len : flen);
	if (s->virus || s->err != MUGAI_OK)
		goto out;
	st = use_jis ? stream_over(&wrap, jis.data ? jis.data : "", jis.len) :
	    stream_over(&wrap, s->res->notice, flen);
	body = attachment_with_stream("text", "plain", "", st, 1);
	g_object_unref(st);
	g_mime_object_set_disposition(GMIME_OBJECT(body), "inline");
	g_mime_object_remove_header(GMIME_OBJECT(body), "Content-Disposition");
	if (use_jis) {
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(body),
		    "charset", "ISO-2022-JP");
		g_mime_part_set_content_encoding(body, GMIME_CONTENT_ENCODING_7BIT);
	}
	if (s->kept->len == 0) {
		top = GMIME_OBJECT(body);
	} else {
		mixed = g_mime_multipart_new_with_subtype("mixed");
		g_mime_multipart_add(mixed, GMIME_OBJECT(body));
		g_object_unref(body);
		for (i = 0; i < s->kept->len; i++)
			g_mime_multipart_add(mixed, s->kept->pdata[i]);
		top = GMIME_OBJECT(mixed);
	}
	if ((rc = sanitize_serialize(s->res, top)) != MUGAI_OK)
		san_fail(s, rc, "writing the new message");
	g_object_unref(top);
	stream_over_release(wrap);
out:
	mugai_buf_free(&final);
	mugai_buf_free(&jis);
}

static void
fill_subject(struct san *s, GMimeMessage *m)
{
	const char *raw = m ? raw_header(GMIME_OBJECT(m), "Subject") : NULL;

	s->res->subject = raw ? mugai_header_decode(raw, strlen(raw)) :
	    strdup("");
}

/* A message GMime could not parse at all is kept as its text only. */
static void
unparsable(struct san *s, const char *raw, size_t len)
{
	struct mugai_buf u;
	mugai_status rc;

	mugai_log(LOG_NOTICE, s->logid, "message could not be parsed as MIME; "
	    "delivering its bytes as plain text");
	mugai_buf_init(&u, 0);
	rc = mugai_charset_to_utf8(NULL, raw, len, &u, NULL);
	if (rc != MUGAI_OK)
		san_fail(s, rc, "raw text");
	else
		text_append(s, u.data ? u.data : "", u.len);
	mugai_buf_free(&u);
}

static void
decide(struct san *s)
{
	struct mugai_result *r = s->res;

	if (s->err != MUGAI_OK) {
		r->verdict = MUGAI_VERDICT_TEMPFAIL;
		r->reason = g_strdup(s->errwhy);
	} else if (s->virus) {
		r->verdict = s->cfg->virus_action == MUGAI_VIRUS_REJECT ?
		    MUGAI_VERDICT_REJECT : MUGAI_VERDICT_DISCARD;
		r->reason = g_strdup_printf("virus found: %s", r->signatures);
	} else {
		r->verdict = MUGAI_VERDICT_DELIVER;
	}
}

struct mugai_result *
mugai_sanitize(const struct mugai_services *svc, const char *raw, size_t len,
    const struct mugai_envelope *env)
{
	struct san s;
	GMimeMessage *m = NULL;
	GMimeObject *root;
	struct parse_limit pl = { 0 };
	char rawsha[65];
	GByteArray *mended = NULL;
	GHashTable *bounds;
	const char *in;
	size_t inlen;

	memset(&s, 0, sizeof(s));
	clock_gettime(CLOCK_MONOTONIC, &s.started);
	if ((s.res = sanitize_result_new()) == NULL)
		return NULL;
	s.svc = svc;
	s.cfg = svc->cfg;
	s.raw = raw;
	s.rawlen = len;
	make_id(s.res->id, sizeof(s.res->id));
	s.logid = env && env->queue_id && *env->queue_id ? env->queue_id :
	    s.res->id;
	mugai_buf_init(&s.text, s.cfg->max_message_size * 4 + 1024 * 1024);
	s.kept = g_ptr_array_new_with_free_func(g_object_unref);
	s.cids = g_ptr_array_new_with_free_func(g_free);
	sha256_hex(raw, len, rawsha);
	/* What GMime reads: no byte-order mark, part headers mended below. */
	in = raw + sanitize_bom_len(raw, len);
	inlen = len - sanitize_bom_len(raw, len);
	bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (s.cfg->clamav_enable && svc->scanner == NULL)
		san_fail(&s, MUGAI_ERR_SCAN, "no virus scanner");
	else if (len > s.cfg->max_message_size) {
		s.res->verdict = MUGAI_VERDICT_REJECT;
		s.res->reason = g_strdup_printf("message size %zu exceeds "
		    "max_message_size %zu", len, s.cfg->max_message_size);
		goto report;
	}
	/*
	 * One pass over the raw bytes, then each part as the walk decodes
	 * it.  libclamav's own MIME decoding runs only when the walk left
	 * something undecoded (a removed subtree, the parts over the limit,
	 * parts that could not be read, a file encoded inside text, an
	 * unparsable message).
	 */
	if (s.err == MUGAI_OK && scan_whole(&s, raw, len, 0, "message") == 0) {
		if ((mended = mend_part_headers(&s, in, inlen, bounds)) != NULL) {
			in = (const char *)mended->data;
			inlen = mended->len;
		}
		m = parse_message(s.cfg, in, inlen, &pl);
		root = m ? g_mime_message_get_mime_part(m) : NULL;
		if (root != NULL)
			walk(&s, root, "1", 0, BODY_YES);
		else {
			s.undecoded = 1;
			unparsable(&s, in, pl.cut_at);
		}
		structure_cut(&s, pl.cut);
		if (pl.cut != CUT_NONE)
			s.undecoded = 1;
		if (root != NULL && pl.cut == CUT_NONE && s.err == MUGAI_OK)
			unread_parts(&s, root, in, inlen, bounds);
		cid_rewrite(&s);
		if (s.undecoded && s.err == MUGAI_OK && !s.virus)
			scan_whole(&s, raw, len, 1, "message");
	}
	/* A virus in the raw message stops the walk; admins still want
	 * to see the subject in the quarantine and the audit log. */
	if (m == NULL && s.virus) {
		parse_release(&pl);
		m = parse_message(s.cfg, in, inlen, &pl);
	}
	fill_subject(&s, m);
	if (s.err == MUGAI_OK && !s.virus)
		build_output(&s);
	decide(&s);
report:
	if (s.res->subject == NULL)
		s.res->subject = strdup("");
	sanitize_finish(s.res, svc, env, raw, len, rawsha, s.rows, s.nrows);
	if (m != NULL)
		g_object_unref(m);
	g_ptr_array_free(s.kept, TRUE);
	parse_release(&pl);
	g_ptr_array_free(s.cids, TRUE);
	if (mended != NULL)
		g_byte_array_unref(mended);
	g_hash_table_destroy(bounds);
	rows_free(&s);
	mugai_buf_free(&s.text);
	return s.res;
}
