/*
 * tnef.c - unpack winmail.dat (application/ms-tnef, Outlook's rich
 * text mail) with libytnef, inside the sandbox, into a member stream
 * (mugai/cdr/members.h) for the parent to turn into MIME parts.
 *
 * The stream holds, per message (the winmail.dat itself, and each
 * message embedded in it):
 *   - for an embedded message, one MUGAI_MEMBER_HEADER member first:
 *     "Subject: ...\nFrom: ...\nDate: ...\n" in UTF-8;
 *   - the body as one MUGAI_MEMBER_BODY member of UTF-8 text: the
 *     compressed RTF (PR_RTF_COMPRESSED) decompressed and read as text
 *     (rtftext.c), else the plain body (PR_BODY, attBody); a body
 *     that is only HTML (PR_BODY_HTML) comes as a file "body.html";
 *   - each attached file as a plain member, named by its long file
 *     name, reduced to one path component;
 *   - each embedded message (attach method 5, or data that is itself
 *     TNEF) as one MUGAI_MEMBER_MESSAGE member whose data is the same
 *     kind of stream, at most TNEF_MAX_DEPTH deep.
 * The parent sanitises every file by the policy, as any attachment.
 * A stream libytnef cannot read is refused (BAD_INPUT) and the parent
 * holds winmail.dat whole.
 *
 * libytnef is trusted only as far as it has to be: it prints to stdout
 * (main.c points stdio's stdout at memory before any mode runs), its
 * DecompressRTF reads one or two bytes past its input on a truncated
 * stream (it gets a padded copy) and mishandles the uncompressed
 * ("MELA") form (done here instead), and strings it does not convert
 * are in the message's code page (attOemCodepage, PR_INTERNET_CPID).
 * On some hostile streams (an attribute given twice, a damaged RTF
 * body) libytnef leaks a few bytes; the worker exits after one
 * document, and fuzz/lsan.supp names those leaks for the fuzzer.
 * The sizes it leaves on converted strings are their UTF-16 sizes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ytnef.h>
#include <tnef-errors.h>

#include "mugai/text/charset.h"
#include "mugai/cdr/members.h"
#include "convert.h"

#define TNEF_SIGNATURE		0x223E9F78u
#define TNEF_MAX_DEPTH		8	/* messages inside messages */
#define TNEF_IID_LEN		16	/* IID_IMessage before an embedded stream */
#define RTF_MAGIC_LZFU		0x75465a4cu
#define RTF_MAGIC_MELA		0x414c454du
#define ATTACH_EMBEDDED_MSG	5
#define NAME_MAX_BYTES		1024

struct tnx {
	const struct convert_opts *o;
	unsigned cp;			/* code page of the message being read,
					   0 when it does not say */
	unsigned members;		/* over the whole tree */
	uint64_t total;			/* bytes handed on */
	char	*why;
	size_t	 whylen;
};

static int tnx_why(struct tnx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
tnx_why(struct tnx *x, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	convert_vwhy(x->why, x->whylen, fmt, ap);
	va_end(ap);
	return rc;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
is_tnef(const unsigned char *p, size_t len)
{
	return len >= 6 && le32(p) == TNEF_SIGNATURE;
}

/* A property by type and id, NULL when absent or empty. */
static variableLength *
prop(MAPIProps *m, unsigned type, unsigned id)
{
	variableLength *v = MAPIFindProperty(m, PROP_TAG(type, id));

	if (v == MAPI_UNDEFINED || v == NULL || v->data == NULL ||
	    v->size <= 0)
		return NULL;
	return v;
}

/*
 * 8-bit text in the message's code page as UTF-8: UTF-8 as it is when
 * valid; CP932 for Japanese Windows, and when the message does not say
 * (Japanese mail, and the one legacy code page the sandbox has loaded);
 * Latin-1 for the other code pages (1252 and the like).  1 on success.
 */
static int
decode(const struct tnx *x, const unsigned char *p, size_t n,
    struct mugai_buf *out)
{
	size_t i;

	if (mugai_utf8_valid((const char *)p, n))
		return mugai_buf_append(out, p, n) == MUGAI_OK;
	if (x->cp == 0 || x->cp == 932)
		return mugai_charset_to_utf8("CP932", (const char *)p, n, out,
		    NULL) == MUGAI_OK;
	for (i = 0; i < n; i++)
		if (mugai_buf_put_utf8(out, p[i]) != MUGAI_OK)
			return 0;
	return 1;
}

/*
 * A string property as UTF-8 into out: PT_UNICODE comes converted by
 * libytnef, PT_STRING8 is in the message's code page.  Trailing NULs
 * go.  0 when the property is absent.
 */
static int
string_prop(const struct tnx *x, MAPIProps *m, unsigned id,
    struct mugai_buf *out)
{
	variableLength *v;
	size_t n;

	mugai_buf_reset(out);
	/*
	 * libytnef converts PT_UNICODE to UTF-8 in a buffer of 3 bytes per
	 * UTF-16 unit plus a NUL, leaving size at the UTF-16 length.
	 */
	if ((v = prop(m, PT_UNICODE, id)) != NULL)
		n = strnlen((const char *)v->data,
		    (size_t)v->size / 2 * 3 + 1);
	else if ((v = prop(m, PT_STRING8, id)) != NULL)
		n = (size_t)v->size;
	else
		return 0;
	while (n > 0 && v->data[n - 1] == '\0')
		n--;
	if (n == 0)
		return 0;
	return decode(x, v->data, n, out);
}

/* Bytes of an 8-bit attribute (attSubject, attAttachTitle) as UTF-8. */
static int
string_attr(const struct tnx *x, const variableLength *v,
    struct mugai_buf *out)
{
	size_t n;

	mugai_buf_reset(out);
	if (v->data == NULL || v->size <= 0)
		return 0;
	n = strnlen((const char *)v->data, (size_t)v->size);
	if (n == 0)
		return 0;
	return decode(x, v->data, n, out);
}

/*
 * A member name from a file name: its last path component, control
 * characters, ':' and separators as '_', never empty, "." or "..".
 */
static void
file_name(const struct mugai_buf *raw, unsigned n, char *out, size_t outlen)
{
	const char *s = raw->data != NULL ? raw->data : "", *b = s, *p;
	size_t o = 0;
	unsigned char c;

	for (p = s; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	for (p = b; *p != '\0' && o + 4 < outlen && o < NAME_MAX_BYTES; p++) {
		c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == ':')
			out[o++] = '_';
		else if (c == 0xc2 && p[1] != '\0' &&
		    (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f) {
			out[o++] = '_';
			p++;
		} else
			out[o++] = (char)c;
	}
	/* Cut at a character boundary. */
	while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80 &&
	    !mugai_utf8_valid(out, o))
		o--;
	if (o > 0 && !mugai_utf8_valid(out, o))
		o--;
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, outlen, "attachment-%u", n);
}

/* One member into out; *count is the members of out's level. */
static int
add(struct tnx *x, struct mugai_buf *out, uint32_t *count, const char *name,
    uint32_t flags, const void *data, size_t size)
{
	mugai_status st;

	if (++x->members > x->o->max_members)
		return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "winmail.dat "
		    "holds more than %u files", x->o->max_members);
	/* An embedded message's bytes were counted as its own members. */
	if (!(flags & MUGAI_MEMBER_MESSAGE))
		x->total += size;
	if (x->total > x->o->max_total)
		return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "winmail.dat "
		    "unpacks to more than %zu bytes", x->o->max_total);
	st = mugai_members_add(out, name, flags, data, size);
	if (st == MUGAI_ERR_USAGE)
		return tnx_why(x, MUGAI_CONVERT_EXIT_UNSAFE, "winmail.dat "
		    "file \"%s\" has an unusable name", name);
	if (st != MUGAI_OK)
		return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	(*count)++;
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * PR_RTF_COMPRESSED into plain RTF: the header is compressed size
 * (counting from after itself), raw size, magic, CRC.
 */
static int
rtf_decompress(struct tnx *x, const variableLength *v,
    struct mugai_buf *rtf)
{
	const unsigned char *p = v->data;
	variableLength pad;
	uint32_t csize, rsize, magic;
	BYTE *dec;
	int n = 0;

	if (v->size < 16)
		return tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "compressed "
		    "RTF body is truncated");
	csize = le32(p);
	rsize = le32(p + 4);
	magic = le32(p + 8);
	if (csize != (uint32_t)v->size - 4 || rsize > x->o->max_total)
		return tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "compressed "
		    "RTF body has bad sizes (%u of %d bytes, %u unpacked)",
		    csize, v->size, rsize);
	if (magic == RTF_MAGIC_MELA) {
		if (rsize > (uint32_t)v->size - 16)
			return tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "uncompressed RTF body is truncated");
		return mugai_buf_append(rtf, p + 16, rsize) == MUGAI_OK ?
		    MUGAI_CONVERT_EXIT_OK : tnx_why(x,
		    MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	}
	if (magic != RTF_MAGIC_LZFU)
		return tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "RTF body "
		    "compressed in an unknown way (magic %08x)", magic);
	/* DecompressRTF may read two bytes past a truncated stream. */
	pad.size = v->size;
	if ((pad.data = calloc((size_t)v->size + 4, 1)) == NULL)
		return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	memcpy(pad.data, v->data, (size_t)v->size);
	dec = DecompressRTF(&pad, &n);
	free(pad.data);
	if (dec == NULL || n < 0)
		return tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "compressed "
		    "RTF body cannot be decompressed");
	if (mugai_buf_append(rtf, dec, (size_t)n) != MUGAI_OK) {
		free(dec);
		return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	}
	free(dec);
	return MUGAI_CONVERT_EXIT_OK;
}

/* The message's body as text, when it has one. */
static int
body(struct tnx *x, TNEFStruct *t, struct mugai_buf *out, uint32_t *count)
{
	struct mugai_buf rtf, txt;
	variableLength *v;
	int rc = MUGAI_CONVERT_EXIT_OK;

	mugai_buf_init(&rtf, 0);
	mugai_buf_init(&txt, 0);
	if ((v = prop(&t->MapiProperties, PT_BINARY, PR_RTF_COMPRESSED)) !=
	    NULL) {
		if ((rc = rtf_decompress(x, v, &rtf)) == MUGAI_CONVERT_EXIT_OK)
			rc = convert_rtf_text((const unsigned char *)(rtf.data ?
			    rtf.data : ""), rtf.len, x->o->max_total, &txt);
	} else if (!string_prop(x, &t->MapiProperties, PR_BODY, &txt) &&
	    !string_attr(x, &t->body, &txt) &&
	    ((v = prop(&t->MapiProperties, PT_BINARY, PR_BODY_HTML)) !=
	    NULL || (v = prop(&t->MapiProperties, PT_STRING8,
	    PR_BODY_HTML)) != NULL))
		/* Only HTML: a file the policy turns into text, not lost. */
		rc = add(x, out, count, "body.html", 0, v->data,
		    (size_t)v->size);
	if (rc == MUGAI_CONVERT_EXIT_OK && txt.len > 0)
		rc = add(x, out, count, "body.txt", MUGAI_MEMBER_BODY, txt.data,
		    txt.len);
	mugai_buf_free(&rtf);
	mugai_buf_free(&txt);
	return rc;
}

/* "Subject:", "From:" and "Date:" of an embedded message. */
static int
header(struct tnx *x, TNEFStruct *t, struct mugai_buf *out,
    uint32_t *count)
{
	struct mugai_buf h, v, e;
	const dtr *d = &t->dateSent;
	size_t i;
	int rc;

	mugai_buf_init(&h, 0);
	mugai_buf_init(&v, 0);
	mugai_buf_init(&e, 0);
	if (string_prop(x, &t->MapiProperties, PR_SUBJECT, &v) ||
	    string_attr(x, &t->subject, &v))
		(void)mugai_buf_printf(&h, "Subject: %s\n", v.data);
	if (string_prop(x, &t->MapiProperties, PR_SENDER_NAME, &v)) {
		if (string_prop(x, &t->MapiProperties, PR_SENDER_EMAIL_ADDRESS,
		    &e))
			(void)mugai_buf_printf(&h, "From: %s <%s>\n", v.data,
			    e.data);
		else
			(void)mugai_buf_printf(&h, "From: %s\n", v.data);
	}
	if (d->wYear > 0 && d->wMonth >= 1 && d->wMonth <= 12)
		(void)mugai_buf_printf(&h, "Date: %04u-%02u-%02u %02u:%02u\n",
		    d->wYear, d->wMonth, d->wDay % 100, d->wHour % 100,
		    d->wMinute % 100);
	/* One field a line: nothing else may break a line. */
	for (i = 0; i < h.len; i++)
		if ((unsigned char)h.data[i] < 0x20 && h.data[i] != '\n')
			h.data[i] = ' ';
	rc = add(x, out, count, "header", MUGAI_MEMBER_HEADER, h.data ? h.data : "",
	    h.len);
	mugai_buf_free(&h);
	mugai_buf_free(&v);
	mugai_buf_free(&e);
	return rc;
}

static int message(struct tnx *x, const unsigned char *in, size_t len,
    unsigned depth, struct mugai_buf *out);

/* The bytes of an embedded message's TNEF stream, or NULL. */
static const unsigned char *
embedded(Attachment *a, size_t *len)
{
	variableLength *v = prop(&a->MAPI, PT_OBJECT, PR_ATTACH_DATA_OBJ);
	variableLength *m = prop(&a->MAPI, PT_LONG, PR_ATTACH_METHOD);

	if (v != NULL && (size_t)v->size > TNEF_IID_LEN &&
	    is_tnef(v->data + TNEF_IID_LEN, (size_t)v->size - TNEF_IID_LEN)) {
		*len = (size_t)v->size - TNEF_IID_LEN;
		return v->data + TNEF_IID_LEN;
	}
	if (a->FileData.data != NULL && a->FileData.size > 0 &&
	    is_tnef(a->FileData.data, (size_t)a->FileData.size) &&
	    (m == NULL || le32(m->data) == ATTACH_EMBEDDED_MSG)) {
		*len = (size_t)a->FileData.size;
		return a->FileData.data;
	}
	return NULL;
}

static int
attachment(struct tnx *x, Attachment *a, unsigned n, unsigned depth,
    struct mugai_buf *out, uint32_t *count)
{
	struct mugai_buf raw, sub;
	variableLength *v;
	const unsigned char *emb, *data = NULL;
	char name[NAME_MAX_BYTES + 8];
	size_t elen, size = 0;
	unsigned cp;
	int rc;

	mugai_buf_init(&raw, 0);
	if (!string_prop(x, &a->MAPI, PR_ATTACH_LONG_FILENAME, &raw) &&
	    !string_prop(x, &a->MAPI, PR_ATTACH_FILENAME, &raw) &&
	    !string_attr(x, &a->Title, &raw))
		(void)string_prop(x, &a->MAPI, PR_DISPLAY_NAME, &raw);
	file_name(&raw, n, name, sizeof(name));
	mugai_buf_free(&raw);
	if ((emb = embedded(a, &elen)) != NULL) {
		if (depth + 1 >= TNEF_MAX_DEPTH)
			return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "winmail.dat nests messages more than %d deep",
			    TNEF_MAX_DEPTH);
		mugai_buf_init(&sub, 0);
		cp = x->cp;
		rc = message(x, emb, elen, depth + 1, &sub);
		x->cp = cp;
		if (rc == MUGAI_CONVERT_EXIT_OK)
			rc = add(x, out, count, name, MUGAI_MEMBER_MESSAGE, sub.data,
			    sub.len);
		mugai_buf_free(&sub);
		return rc;
	}
	if (a->FileData.data != NULL && a->FileData.size > 0) {
		data = a->FileData.data;
		size = (size_t)a->FileData.size;
	} else if ((v = prop(&a->MAPI, PT_BINARY, PR_ATTACH_DATA_OBJ)) !=
	    NULL || (v = prop(&a->MAPI, PT_OBJECT, PR_ATTACH_DATA_OBJ)) !=
	    NULL) {
		data = v->data;
		size = (size_t)v->size;
	}
	return add(x, out, count, name, 0, data, size);
}

/* libytnef's error codes, for the line that says why. */
static const char *
ytnef_error(int r)
{
	switch (r) {
	case YTNEF_NOT_TNEF_STREAM:
		return "not a TNEF stream";
	case YTNEF_ERROR_READING_DATA:
		return "truncated or unreadable";
	case YTNEF_NO_KEY:
		return "no key";
	case YTNEF_BAD_CHECKSUM:
		return "checksum mismatch";
	case YTNEF_ERROR_IN_HANDLER:
		return "a damaged attribute";
	}
	return "unreadable";
}

/*
 * libytnef's memory reader, with its position kept: libytnef ends a
 * parse without complaint when an attribute header is cut short, and
 * only the bytes left over tell a truncated stream.
 */
struct rd {
	const BYTE *p;
	size_t	 len, pos;
};

static int
rd_read(TNEFIOStruct *io, int size, int count, void *dest)
{
	struct rd *r = io->data;
	size_t n;

	if (size < 0 || count < 0)
		return -1;
	n = (size_t)size * (size_t)count;
	if (n > r->len - r->pos)
		return -1;
	memcpy(dest, r->p + r->pos, n);
	r->pos += n;
	return count;
}

/*
 * The code page of the message's 8-bit strings: attOemCodepage, else
 * PR_INTERNET_CPID, else what the enclosing message had.
 */
static void
message_codepage(struct tnx *x, TNEFStruct *t)
{
	variableLength *v;

	if (t->CodePage.data != NULL && t->CodePage.size >= 4)
		x->cp = le32(t->CodePage.data);
	else if ((v = prop(&t->MapiProperties, PT_LONG, PR_INTERNET_CPID)) !=
	    NULL && v->size >= 4)
		x->cp = le32(v->data);
}

/* One message (the top or an embedded one) as a stream into out. */
static int
message(struct tnx *x, const unsigned char *in, size_t len, unsigned depth,
    struct mugai_buf *out)
{
	TNEFStruct t;
	Attachment *a;
	struct rd rd;
	size_t start = out->len;
	uint32_t count = 0;
	unsigned n = 0;
	unsigned char *cnt;
	int r, rc;

	if (!is_tnef(in, len))
		return tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "winmail.dat "
		    "is not a TNEF stream");
	if (len > INT32_MAX)
		return tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "winmail.dat "
		    "is too large");
	TNEFInitialize(&t);
	t.Debug = 0;
	rd.p = in;
	rd.len = len;
	rd.pos = 0;
	t.IO.data = &rd;
	t.IO.ReadProc = rd_read;
	r = TNEFParse(&t);
	if (r < 0) {
		rc = tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "winmail.dat "
		    "cannot be decoded: %s (libytnef %d)", ytnef_error(r), r);
		goto out;
	}
	if (rd.pos != rd.len) {
		rc = tnx_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "winmail.dat "
		    "cannot be decoded: truncated after %zu of %zu bytes",
		    rd.pos, rd.len);
		goto out;
	}
	message_codepage(x, &t);
	if (mugai_members_begin(out, 0) != MUGAI_OK) {
		rc = tnx_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
		goto out;
	}
	rc = depth > 0 ? header(x, &t, out, &count) : MUGAI_CONVERT_EXIT_OK;
	if (rc == MUGAI_CONVERT_EXIT_OK)
		rc = body(x, &t, out, &count);
	for (a = t.starting_attach.next; a != NULL &&
	    rc == MUGAI_CONVERT_EXIT_OK; a = a->next)
		rc = attachment(x, a, ++n, depth, out, &count);
	if (rc == MUGAI_CONVERT_EXIT_OK) {
		cnt = (unsigned char *)out->data + start + 4;
		cnt[0] = count & 0xff;
		cnt[1] = count >> 8 & 0xff;
		cnt[2] = count >> 16 & 0xff;
		cnt[3] = count >> 24;
	}
out:
	TNEFFree(&t);
	/*
	 * An attachment attribute before any attAttachRendData lands on
	 * the list head, which TNEFFree leaves alone.
	 */
	TNEFFreeAttachment(&t.starting_attach);
	if (rc != MUGAI_CONVERT_EXIT_OK) {
		out->len = start;
		if (out->data != NULL)
			out->data[out->len] = '\0';
	}
	return rc;
}

/*
 * convert_tnef - the member stream of the winmail.dat in in[0..len).
 * BAD_INPUT when libytnef cannot read it (or its RTF body), TOO_BIG
 * past o->max_members files or o->max_total bytes in all, or messages
 * nested deeper than TNEF_MAX_DEPTH.
 */
int
convert_tnef(const unsigned char *in, size_t len,
    const struct convert_opts *o, struct mugai_buf *out, char *why,
    size_t whylen)
{
	struct tnx x;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.why = why;
	x.whylen = whylen;
	why[0] = '\0';
	/* Outside mugai-convert (tests, fuzzing) nothing prepared CP932. */
	(void)convert_archive_prepare();
	return message(&x, in, len, 0, out);
}
