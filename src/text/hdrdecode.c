/*
 * hdrdecode.c - decoding header values and attachment file names as
 * real mailers send them (RFC 2047, RFC 2231, and what breaks them).
 *
 * Only the first HDR_MAX bytes of a header value are looked at: longer
 * values are legal but never useful, and decoding them would let one
 * header cost unbounded work.  The decoded prefix is returned.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mugai/base/buf.h"
#include "mugai/text/charset.h"
#include "mugai/text/hdrdecode.h"

#define HDR_MAX		(64 * 1024)
#define OUT_MAX		(4 * HDR_MAX)	/* decoding grows text at most 3x */
#define CS_MAX		64		/* longest encoded-word charset */
#define SEG_MAX		64		/* RFC 2231 continuations kept */

/* One RFC 2047 encoded word, =?charset?enc?text?= */
struct ew {
	char		 cs[CS_MAX + 1];
	char		 enc;
	const char	*text;
	size_t		 textlen;
	size_t		 len;		/* of the whole word */
};

/* What a parameter scan found for one name. */
struct pseg {
	struct mugai_buf v;
	int		 set;
	int		 ext;		/* name*N*: charset'lang'%XX */
};

struct pval {
	struct mugai_buf plain;		/* name= */
	int		 have_plain;
	struct pseg	 star;		/* name*= */
	struct pseg	 seg[SEG_MAX];	/* name*0, name*1 ... */
};

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Unfold: CR and LF are removed (a fold keeps its white space); a line
 * break not followed by white space is not a fold and becomes a space.
 */
static mugai_status
unfold(const char *p, size_t n, struct mugai_buf *out)
{
	size_t i;
	mugai_status rc;

	if (n > HDR_MAX)
		n = HDR_MAX;
	for (i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n') {
			rc = mugai_buf_putc(out, p[i]);
		} else if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
			continue;
		} else if (i + 1 < n && is_wsp(p[i + 1])) {
			continue;
		} else {
			rc = mugai_buf_putc(out, ' ');
		}
		if (rc != MUGAI_OK)
			return rc;
	}
	return MUGAI_OK;
}

/* Parse the encoded word at p ("=?"); 1 and *w filled if well-formed. */
static int
ew_parse(const char *p, size_t n, struct ew *w)
{
	size_t i = 2, k;
	const char *star;

	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	for (k = 0; i < n && p[i] != '?'; i++, k++) {
		if (k == CS_MAX || (unsigned char)p[i] <= ' ' ||
		    (unsigned char)p[i] >= 0x7F)
			return 0;
		w->cs[k] = p[i];
	}
	w->cs[k] = '\0';
	if (k == 0 || i + 2 >= n || p[i + 2] != '?')
		return 0;
	/* RFC 2231 section 5: =?charset*lang?... */
	if ((star = strchr(w->cs, '*')) != NULL)
		w->cs[star - w->cs] = '\0';
	w->enc = p[i + 1];
	if (w->enc == 'b')
		w->enc = 'B';
	else if (w->enc == 'q')
		w->enc = 'Q';
	if (w->enc != 'B' && w->enc != 'Q')
		return 0;
	i += 3;
	w->text = p + i;
	for (; i < n && p[i] != '?'; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7F)
			return 0;
	if (i + 1 >= n || p[i + 1] != '=')
		return 0;
	w->textlen = (size_t)(p + i - w->text);
	w->len = i + 2;
	return 1;
}

/*
 * Decode base64 text.  Missing padding is forgiven (mailers omit it);
 * a character outside the alphabet or data after padding makes the word
 * malformed (0), and it is then shown as it was written.
 */
static int
b64_decode(const char *p, size_t n, struct mugai_buf *out)
{
	unsigned long acc = 0;
	size_t i;
	int bits = 0, v, pad = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '=') {
			pad = 1;
			continue;
		}
		if (pad || (v = b64val(p[i])) < 0)
			return 0;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (mugai_buf_putc(out, (char)((acc >> bits) & 0xFF))
			    != MUGAI_OK)
				return 0;
		}
	}
	return 1;
}

static int
q_decode(const char *p, size_t n, struct mugai_buf *out)
{
	size_t i;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < n &&
		    (hi = hexval(p[i + 1])) >= 0 &&
		    (lo = hexval(p[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (mugai_buf_putc(out, c) != MUGAI_OK)
			return 0;
	}
	return 1;
}

static int
ew_decode(const struct ew *w, struct mugai_buf *out)
{
	if (w->enc == 'B')
		return b64_decode(w->text, w->textlen, out);
	return q_decode(w->text, w->textlen, out);
}

/* Same charset for joining words?  Compare what they decode as. */
static int
cs_same(const char *a, const char *b)
{
	const char *ca = mugai_charset_canonical(a);
	const char *cb = mugai_charset_canonical(b);

	if (ca != NULL && cb != NULL)
		return strcmp(ca, cb) == 0;
	return strcasecmp(a, b) == 0;
}

static int
all_wsp(const struct mugai_buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (!is_wsp(b->data[i]))
			return 0;
	return 1;
}

/*
 * The decoding state: a pending run of literal bytes and a pending group
 * of encoded words in one charset.  The group always precedes the
 * literal run in the text.
 */
struct hdec {
	struct mugai_buf *out;
	struct mugai_buf  lit;
	struct mugai_buf  grp;
	char		  grpcs[CS_MAX + 1];
	int		  have_grp;
};

static mugai_status
hdec_flush_grp(struct hdec *h)
{
	mugai_status rc = MUGAI_OK;

	if (h->have_grp)
		rc = mugai_charset_to_utf8(h->grpcs, h->grp.data ?
		    h->grp.data : "", h->grp.len, h->out, NULL);
	mugai_buf_reset(&h->grp);
	h->have_grp = 0;
	return rc;
}

/* Literal bytes: raw 8-bit text is decoded by detection. */
static mugai_status
hdec_flush_lit(struct hdec *h)
{
	mugai_status rc = MUGAI_OK;

	if (h->lit.len > 0)
		rc = mugai_charset_to_utf8(NULL, h->lit.data, h->lit.len,
		    h->out, NULL);
	mugai_buf_reset(&h->lit);
	return rc;
}

static mugai_status
hdec_word(struct hdec *h, const struct ew *w, const struct mugai_buf *bytes)
{
	mugai_status rc;

	/* White space between adjacent encoded words is not text. */
	if (h->have_grp && all_wsp(&h->lit)) {
		mugai_buf_reset(&h->lit);
	} else if ((rc = hdec_flush_grp(h)) != MUGAI_OK ||
	    (rc = hdec_flush_lit(h)) != MUGAI_OK) {
		return rc;
	}
	if (h->have_grp && !cs_same(h->grpcs, w->cs) &&
	    (rc = hdec_flush_grp(h)) != MUGAI_OK)
		return rc;
	if (!h->have_grp) {
		memcpy(h->grpcs, w->cs, sizeof(h->grpcs));
		h->have_grp = 1;
	}
	return mugai_buf_append(&h->grp, bytes->data ? bytes->data : "",
	    bytes->len);
}

/* Append the decoding of unfolded text p[0..n) to out. */
static mugai_status
hdec_run(const char *p, size_t n, struct mugai_buf *out)
{
	struct hdec h;
	struct mugai_buf bytes;
	struct ew w;
	size_t i = 0;
	mugai_status rc = MUGAI_OK;

	memset(&h, 0, sizeof(h));
	h.out = out;
	mugai_buf_init(&h.lit, HDR_MAX);
	mugai_buf_init(&h.grp, HDR_MAX);
	mugai_buf_init(&bytes, HDR_MAX);
	while (i < n) {
		mugai_buf_reset(&bytes);
		if (p[i] == '=' && ew_parse(p + i, n - i, &w) &&
		    ew_decode(&w, &bytes)) {
			if ((rc = hdec_word(&h, &w, &bytes)) != MUGAI_OK)
				goto out;
			i += w.len;
			continue;
		}
		if ((rc = mugai_buf_putc(&h.lit, p[i])) != MUGAI_OK)
			goto out;
		i++;
	}
	if ((rc = hdec_flush_grp(&h)) == MUGAI_OK)
		rc = hdec_flush_lit(&h);
out:
	mugai_buf_free(&h.lit);
	mugai_buf_free(&h.grp);
	mugai_buf_free(&bytes);
	return rc;
}

/*
 * Clean decoded UTF-8 for display: C0 and C1 controls become spaces,
 * bidirectional embedding, override and isolate controls are dropped
 * (they disguise "fdp.exe" as "exe.pdf"), ends are trimmed.
 */
static char *
text_clean(const struct mugai_buf *in)
{
	struct mugai_buf out;
	const unsigned char *p = (const unsigned char *)in->data;
	size_t i = 0, n = in->len, k;

	mugai_buf_init(&out, 0);
	while (n > 0 && (p[0] == ' ' || p[0] < 0x20)) {
		p++;
		n--;
	}
	while (i < n) {
		k = 1;
		if (p[i] < 0x20 || p[i] == 0x7F) {
			if (mugai_buf_putc(&out, ' ') != MUGAI_OK)
				goto fail;
		} else if (p[i] == 0xC2 && i + 1 < n && p[i + 1] < 0xA0) {
			k = 2;
			if (mugai_buf_putc(&out, ' ') != MUGAI_OK)
				goto fail;
		} else if (p[i] == 0xE2 && i + 2 < n && ((p[i + 1] == 0x80 &&
		    p[i + 2] >= 0xAA && p[i + 2] <= 0xAE) || (p[i + 1] == 0x81 &&
		    p[i + 2] >= 0xA6 && p[i + 2] <= 0xA9))) {
			k = 3;
		} else if (mugai_buf_putc(&out, (char)p[i]) != MUGAI_OK) {
			goto fail;
		}
		i += k;
	}
	while (out.len > 0 && out.data[out.len - 1] == ' ')
		out.data[--out.len] = '\0';
	return mugai_buf_steal(&out, NULL);
fail:
	mugai_buf_free(&out);
	return NULL;
}

/* Decode p[0..n) as an unstructured value into out (raw UTF-8). */
static mugai_status
hdr_decode_buf(const char *p, size_t n, struct mugai_buf *out)
{
	struct mugai_buf u;
	mugai_status rc;

	mugai_buf_init(&u, HDR_MAX);
	if ((rc = unfold(p, n, &u)) == MUGAI_OK)
		rc = hdec_run(u.data ? u.data : "", u.len, out);
	mugai_buf_free(&u);
	return rc;
}

/* A decoding that hit OUT_MAX is kept as the prefix it produced. */
static char *
finish(struct mugai_buf *out, mugai_status rc)
{
	char *s = NULL;

	if (rc == MUGAI_OK || rc == MUGAI_ERR_LIMIT)
		s = text_clean(out);
	mugai_buf_free(out);
	return s;
}

char *
mugai_header_decode(const char *raw, size_t len)
{
	struct mugai_buf out;
	mugai_status rc;

	mugai_buf_init(&out, OUT_MAX);
	rc = raw == NULL ? MUGAI_OK : hdr_decode_buf(raw, len, &out);
	return finish(&out, rc);
}

/*
 * Structured values.  Raw 8-bit Shift_JIS in a quoted string has 0x5C
 * as a trail byte (表 is 95 5C), which is not a backslash.  When the
 * value is not valid UTF-8, a Shift_JIS lead byte and its trail byte
 * are therefore taken as one unit; EUC-JP bytes (0xA1..0xFE) never pair
 * with an ASCII byte under that rule and are safe too.  Raw ISO-2022-JP
 * inside quotes is skipped to its return to ASCII, since its two-byte
 * units may contain '"' and '\'.  A backslash escapes only '"' and '\':
 * mailers send Windows paths ("C:\dir\a.txt") unescaped.
 */
struct scan {
	const char	*p;
	size_t		 n;
	size_t		 i;
	int		 sjis;		/* pair Shift_JIS lead and trail bytes */
	int		 comments;	/* " (...)" ends an unquoted value */
};

static int
sjis_pair(const struct scan *s)
{
	unsigned char c = (unsigned char)s->p[s->i], t;

	if (!s->sjis || s->i + 1 >= s->n)
		return 0;
	t = (unsigned char)s->p[s->i + 1];
	return ((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC)) &&
	    ((t >= 0x40 && t <= 0x7E) || (t >= 0x80 && t <= 0xFC));
}

/* Length of raw ISO-2022-JP two-byte text starting at an ESC, or 0. */
static size_t
jis_span(const struct scan *s)
{
	const char *p = s->p + s->i;
	size_t n = s->n - s->i, k;

	if (n < 3 || p[0] != 0x1B || p[1] != '$' ||
	    (p[2] != 'B' && p[2] != '@'))
		return 0;
	for (k = 3; k + 2 < n; k++)
		if (p[k] == 0x1B && p[k + 1] == '(')
			return k;
	return 0;
}

/* Copy the quoted string at s->i (on '"') into out, unescaped. */
static mugai_status
scan_quoted(struct scan *s, struct mugai_buf *out)
{
	size_t k;
	mugai_status rc = MUGAI_OK;
	char c;

	for (s->i++; s->i < s->n && rc == MUGAI_OK; ) {
		c = s->p[s->i];
		if ((k = jis_span(s)) != 0 || (k = sjis_pair(s) ? 2 : 0) != 0) {
			rc = mugai_buf_append(out, s->p + s->i, k);
			s->i += k;
		} else if (c == '"') {
			s->i++;
			break;
		} else if (c == '\\' && s->i + 1 < s->n &&
		    (s->p[s->i + 1] == '"' || s->p[s->i + 1] == '\\')) {
			rc = mugai_buf_putc(out, s->p[s->i + 1]);
			s->i += 2;
		} else {
			rc = mugai_buf_putc(out, c);
			s->i++;
		}
	}
	return rc;
}

/*
 * Copy an unquoted value into out: up to ';' (or a comment, where
 * asked: "charset=us-ascii (Plain text)"), ends trimmed.  Lenient on
 * purpose: raw 8-bit names, names with spaces ("報告書 (1).xls") and
 * unquoted RFC 2047 words (filename==?ISO-2022-JP?B?...?=) hold
 * characters a token may not.
 */
static mugai_status
scan_token(struct scan *s, struct mugai_buf *out)
{
	size_t start = s->i, end;

	while (s->i < s->n && s->p[s->i] != ';') {
		if (s->comments && s->p[s->i] == '(' && s->i > start &&
		    is_wsp(s->p[s->i - 1]))
			break;
		s->i += sjis_pair(s) ? 2 : 1;
	}
	end = s->i;
	while (end > start && is_wsp(s->p[end - 1]))
		end--;
	while (s->i < s->n && s->p[s->i] != ';')
		s->i++;
	return mugai_buf_append(out, s->p + start, end - start);
}

/* Skip to just after the next ';' outside quotes. */
static void
scan_next(struct scan *s)
{
	struct mugai_buf sink;

	mugai_buf_init(&sink, HDR_MAX);
	while (s->i < s->n && s->p[s->i] != ';') {
		if (s->p[s->i] == '"') {
			(void)scan_quoted(s, &sink);
			mugai_buf_reset(&sink);
		} else
			s->i += sjis_pair(s) ? 2 : 1;
	}
	if (s->i < s->n)
		s->i++;
	mugai_buf_free(&sink);
}

/*
 * Which slot of pv the parameter name p[0..n) fills for name, if any
 * (name*, name*N, name*N*); *ext tells an extended value.  *plain is
 * set for name itself.
 */
static struct pseg *
param_slot(struct pval *pv, const char *name, const char *p, size_t n,
    int *plain, int *ext)
{
	size_t k = strlen(name), i;
	unsigned long idx = 0;

	*plain = 0;
	*ext = 0;
	if (n < k || strncasecmp(p, name, k) != 0)
		return NULL;
	if (n == k) {
		*plain = 1;
		return NULL;
	}
	if (p[k] != '*')
		return NULL;
	if (n == k + 1) {
		*ext = 1;
		return &pv->star;
	}
	for (i = k + 1; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		idx = idx * 10 + (unsigned long)(p[i] - '0');
		if (idx >= SEG_MAX)
			return NULL;
	}
	if (i == k + 1)
		return NULL;
	if (i < n && p[i] == '*' && i + 1 == n)
		*ext = 1;
	else if (i != n)
		return NULL;
	return &pv->seg[idx];
}

static void
pval_init(struct pval *pv)
{
	size_t i;

	memset(pv, 0, sizeof(*pv));
	mugai_buf_init(&pv->plain, HDR_MAX);
	mugai_buf_init(&pv->star.v, HDR_MAX);
	for (i = 0; i < SEG_MAX; i++)
		mugai_buf_init(&pv->seg[i].v, HDR_MAX);
}

static void
pval_free(struct pval *pv)
{
	size_t i;

	mugai_buf_free(&pv->plain);
	mugai_buf_free(&pv->star.v);
	for (i = 0; i < SEG_MAX; i++)
		mugai_buf_free(&pv->seg[i].v);
}

/* Read one parameter's value at s->i into dst (NULL: skip it). */
static mugai_status
param_value(struct scan *s, struct mugai_buf *dst)
{
	struct mugai_buf sink;
	mugai_status rc;

	mugai_buf_init(&sink, HDR_MAX);
	if (dst == NULL)
		dst = &sink;
	while (s->i < s->n && is_wsp(s->p[s->i]))
		s->i++;
	if (s->i < s->n && s->p[s->i] == '"') {
		rc = scan_quoted(s, dst);
		scan_next(s);
	} else {
		rc = scan_token(s, dst);
		if (s->i < s->n)
			s->i++;
	}
	mugai_buf_free(&sink);
	return rc;
}

/* Collect the parameters called name (all RFC 2231 forms) into pv. */
static mugai_status
param_scan(const char *raw, const char *name, int comments, struct pval *pv)
{
	struct mugai_buf u;
	struct scan s;
	struct pseg *slot;
	struct mugai_buf *dst;
	size_t nstart, nend;
	mugai_status rc = MUGAI_OK;
	int plain, ext;

	mugai_buf_init(&u, HDR_MAX);
	if ((rc = unfold(raw, strlen(raw), &u)) != MUGAI_OK)
		goto out;
	s.p = u.data ? u.data : "";
	s.n = u.len;
	s.i = 0;
	s.sjis = !mugai_utf8_valid(s.p, s.n);
	s.comments = comments;
	scan_next(&s);			/* the value before the parameters */
	while (s.i < s.n) {
		while (s.i < s.n && (is_wsp(s.p[s.i]) || s.p[s.i] == ';'))
			s.i++;
		nstart = s.i;
		while (s.i < s.n && s.p[s.i] != '=' && s.p[s.i] != ';' &&
		    !is_wsp(s.p[s.i]))
			s.i++;
		nend = s.i;
		while (s.i < s.n && is_wsp(s.p[s.i]))
			s.i++;
		if (s.i >= s.n || s.p[s.i] != '=') {
			scan_next(&s);
			continue;
		}
		s.i++;
		slot = param_slot(pv, name, s.p + nstart, nend - nstart,
		    &plain, &ext);
		dst = NULL;
		if (plain && !pv->have_plain) {
			pv->have_plain = 1;
			dst = &pv->plain;
		} else if (slot != NULL && !slot->set) {
			slot->set = 1;
			slot->ext = ext;
			dst = &slot->v;
		}
		if ((rc = param_value(&s, dst)) != MUGAI_OK)
			goto out;
	}
out:
	mugai_buf_free(&u);
	return rc;
}

/* Percent-decode p[0..n) into out; a stray '%' stays as it is. */
static mugai_status
pct_decode(const char *p, size_t n, struct mugai_buf *out)
{
	size_t i;
	int hi, lo;
	mugai_status rc;

	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
		    (lo = hexval(p[i + 2])) >= 0) {
			rc = mugai_buf_putc(out, (char)(hi << 4 | lo));
			i += 2;
		} else
			rc = mugai_buf_putc(out, p[i]);
		if (rc != MUGAI_OK)
			return rc;
	}
	return MUGAI_OK;
}

/*
 * The RFC 2231 value in pv, if any: extended segments are %-decoded and
 * the first carries charset'lang'.  Without a charset the bytes go
 * through the unstructured decoder, because mailers put RFC 2047 words
 * and raw 8-bit text in plain continuations (filename*0="=?ISO-2022-JP?...").
 */
static mugai_status
rfc2231_decode(const struct pval *pv, struct mugai_buf *out)
{
	struct mugai_buf bytes;
	const struct pseg *sg;
	const char *p, *q1, *q2;
	char cs[CS_MAX + 1] = "";
	size_t k, n, nseg = 0;
	mugai_status rc = MUGAI_OK;

	if (pv->star.set)
		nseg = 1;
	else
		while (nseg < SEG_MAX && pv->seg[nseg].set)
			nseg++;
	if (nseg == 0)
		return MUGAI_OK;
	mugai_buf_init(&bytes, HDR_MAX);
	for (k = 0; k < nseg && rc == MUGAI_OK; k++) {
		sg = pv->star.set ? &pv->star : &pv->seg[k];
		p = sg->v.data ? sg->v.data : "";
		n = sg->v.len;
		if (!sg->ext) {
			rc = mugai_buf_append(&bytes, p, n);
			continue;
		}
		if (k == 0 && (q1 = memchr(p, '\'', n)) != NULL &&
		    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - p))) !=
		    NULL) {
			if ((size_t)(q1 - p) <= CS_MAX) {
				memcpy(cs, p, (size_t)(q1 - p));
				cs[q1 - p] = '\0';
			}
			n -= (size_t)(q2 + 1 - p);
			p = q2 + 1;
		}
		rc = pct_decode(p, n, &bytes);
	}
	if (rc == MUGAI_OK && cs[0] != '\0')
		rc = mugai_charset_to_utf8(cs, bytes.data ? bytes.data : "",
		    bytes.len, out, NULL);
	else if (rc == MUGAI_OK)
		rc = hdec_run(bytes.data ? bytes.data : "", bytes.len, out);
	mugai_buf_free(&bytes);
	return rc;
}

/* The decoded (not yet cleaned) parameter pname of raw into out. */
static mugai_status
name_from(const char *raw, const char *pname, struct mugai_buf *out)
{
	struct pval pv;
	mugai_status rc;

	pval_init(&pv);
	if ((rc = param_scan(raw, pname, 0, &pv)) == MUGAI_OK)
		rc = rfc2231_decode(&pv, out);
	if (rc == MUGAI_OK && out->len == 0 && pv.have_plain)
		rc = hdec_run(pv.plain.data ? pv.plain.data : "",
		    pv.plain.len, out);
	pval_free(&pv);
	return rc;
}

char *
mugai_filename_decode(const char *disposition_raw, const char *ctype_raw)
{
	const char *raw[2] = { disposition_raw, ctype_raw };
	const char *pname[2] = { "filename", "name" };
	struct mugai_buf out;
	mugai_status rc;
	char *s;
	int i;

	for (i = 0; i < 2; i++) {
		if (raw[i] == NULL)
			continue;
		mugai_buf_init(&out, OUT_MAX);
		rc = name_from(raw[i], pname[i], &out);
		if ((s = finish(&out, rc)) == NULL || s[0] != '\0')
			return s;
		free(s);
	}
	return strdup("");
}

char *
mugai_header_param(const char *raw, const char *name)
{
	struct pval pv;
	struct mugai_buf out;
	char *r = NULL;
	size_t k;

	if (raw == NULL || name == NULL || name[0] == '\0')
		return NULL;
	pval_init(&pv);
	mugai_buf_init(&out, HDR_MAX);
	if (param_scan(raw, name, 1, &pv) != MUGAI_OK)
		goto out;
	if (pv.have_plain) {
		r = mugai_buf_steal(&pv.plain, NULL);
	} else if (pv.star.set) {
		r = mugai_buf_steal(&pv.star.v, NULL);
	} else if (pv.seg[0].set) {
		for (k = 0; k < SEG_MAX && pv.seg[k].set; k++)
			if (mugai_buf_append(&out, pv.seg[k].v.data ?
			    pv.seg[k].v.data : "", pv.seg[k].v.len) != MUGAI_OK)
				goto out;
		r = mugai_buf_steal(&out, NULL);
	}
out:
	mugai_buf_free(&out);
	pval_free(&pv);
	return r;
}
