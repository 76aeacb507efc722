/*
 * asis.c - may a clean plain-text message go out with its own body?
 *
 * A message that is one text/plain part in UTF-8 or ASCII, sent 7bit or
 * 8bit, whose text mugai would write back byte for byte, needs no new
 * body: rebuilding it only re-encoded the same text as base64 (a third
 * larger), rewrote the sender's MIME headers, and made the MTA copy the
 * body once more (for the milter: a body replacement).  It then goes as
 * it came, with mugai's X-Mugai-Status added.
 *
 * Its MIME headers stay, so they must say to every reader what GMime
 * read from them: one Content-Type, text/plain with only the parameters
 * a text body has (no comments, no RFC 2231 pieces, one charset, no
 * name), at most one Content-Transfer-Encoding, 7bit or 8bit, no other
 * Content-* field, and one MIME-Version 1.0 (without it a reader may
 * not look at the Content-Type at all).  Anything else, however
 * harmless, is rebuilt as before: two Content-Type fields, say, could
 * be read one way here and the other way by a mail client.
 *
 * Written by hand: GMime has already parsed these fields, but says
 * neither how often each came nor whether a reader could take them
 * another way; those are the questions here.
 */
#include <string.h>
#include <strings.h>

#include "mugai/text/charset.h"
#include "sanitize_int.h"

#define ASIS_LINE_MAX	998	/* RFC 5322 2.1.1, without CRLF */

struct asis_hdr {
	int	 ctype, cte, mimever;	/* seen how often */
	char	 charset[64];		/* the charset parameter, or "" */
	int	 ok;
};

/* RFC 2045 token characters. */
static int
tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7F && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/*
 * The field's value without folding: continuation lines are joined with
 * their leading white space, CR and LF dropped.  0 when it does not fit.
 */
static int
unfold(const char *p, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (o + 1 >= outlen)
			return 0;
		out[o++] = p[i];
	}
	out[o] = '\0';
	return 1;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * The parameters a mail client writes on a text body: the charset, RFC
 * 3676's format and delsp, Outlook's reply-type.  Any other, a name=
 * say, could make a reader show the body as a file.
 */
static int
param_known(const char *name, size_t n)
{
	static const char *const known[] = {
		"charset", "format", "delsp", "reply-type",
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && strncasecmp(name, known[i], n) == 0)
			return 1;
	return 0;
}

/* "text/plain" and known parameters; the charset one into h. */
static int
ctype_ok(const char *v, struct asis_hdr *h)
{
	const char *name, *val;
	size_t nlen, vlen;
	int quoted;

	v = skip_ws(v);
	if (strncasecmp(v, "text/plain", 10) != 0)
		return 0;
	v = skip_ws(v + 10);
	while (*v == ';') {
		v = skip_ws(v + 1);
		if (*v == '\0')
			break;
		for (name = v; tchar((unsigned char)*v) && *v != '*'; v++)
			;
		if ((nlen = (size_t)(v - name)) == 0 || *v != '=')
			return 0;
		quoted = *++v == '"';
		val = v += quoted;
		while (*v != '\0' && (quoted ? *v != '"' && *v != '\\' :
		    tchar((unsigned char)*v)))
			v++;
		vlen = (size_t)(v - val);
		if (quoted && *v++ != '"')
			return 0;
		if (!param_known(name, nlen))
			return 0;
		if (nlen == 7 && strncasecmp(name, "charset", 7) == 0) {
			if (h->charset[0] != '\0' || vlen == 0 ||
			    vlen >= sizeof(h->charset))
				return 0;
			memcpy(h->charset, val, vlen);
			h->charset[vlen] = '\0';
		}
		v = skip_ws(v);
	}
	return *v == '\0';
}

static int
cte_ok(const char *v)
{
	size_t n;

	v = skip_ws(v);
	n = strcspn(v, " \t");
	if (*skip_ws(v + n) != '\0' || n != 4)
		return 0;
	return strncasecmp(v, "7bit", 4) == 0 || strncasecmp(v, "8bit", 4) == 0;
}

/* One top-level field: name[0..nlen), value the rest of the field. */
static void
asis_field(struct asis_hdr *h, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	char v[1024];
	const char *p;

	if (nlen == 12 && strncasecmp(name, "MIME-Version", 12) == 0) {
		/* "1.0", perhaps with a comment (Apple Mail writes one). */
		p = unfold(value, vlen, v, sizeof(v)) ? skip_ws(v) : "";
		h->ok &= h->mimever++ == 0 && strncmp(p, "1.0", 3) == 0 &&
		    (p[3] == '\0' || p[3] == ' ' || p[3] == '\t' ||
		    p[3] == '(');
		return;
	}
	if (nlen < 8 || strncasecmp(name, "Content-", 8) != 0)
		return;
	if (!unfold(value, vlen, v, sizeof(v)))
		h->ok = 0;
	else if (nlen == 12 && strncasecmp(name, "Content-Type", 12) == 0)
		h->ok &= h->ctype++ == 0 && ctype_ok(v, h);
	else if (nlen == 25 &&
	    strncasecmp(name, "Content-Transfer-Encoding", 25) == 0)
		h->ok &= h->cte++ == 0 && cte_ok(v);
	else
		h->ok = 0;
}

/*
 * RFC 5322 field name characters, printable ASCII: a name with blanks
 * (a first line that starts with one, say) or 8-bit bytes is read one
 * way by one parser and another way by the next.
 */
static int
field_name_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 33 || (unsigned char)p[i] > 126)
			return 0;
	return n > 0;
}

/*
 * Check the header block of raw; *body gets where the body starts.
 * A field without a colon (GMime and mail clients may differ on
 * where the block ends) or with an odd name fails.
 */
static int
asis_headers(const char *raw, size_t len, struct asis_hdr *h, size_t *body)
{
	size_t pos = sanitize_bom_len(raw, len), end, n;
	const char *colon;

	memset(h, 0, sizeof(*h));
	h->ok = 1;
	if (pos != 0)
		return 0;	/* GMime read it without the mark */
	if (len >= 5 && strncmp(raw, "From ", 5) == 0)
		pos = sanitize_field_end(raw, len);
	while (pos < len && h->ok) {
		if (raw[pos] == '\n') {
			*body = pos + 1;
			return 1;
		}
		if (raw[pos] == '\r' && pos + 1 < len && raw[pos + 1] == '\n') {
			*body = pos + 2;
			return 1;
		}
		end = pos + sanitize_field_end(raw + pos, len - pos);
		colon = sanitize_field_name(raw + pos, end - pos, &n);
		if (colon == NULL || !field_name_ok(raw + pos, n))
			return 0;
		asis_field(h, raw + pos, n, colon + 1,
		    end - (size_t)(colon + 1 - raw));
		pos = end;
	}
	return 0;
}

/*
 * Is body[0..blen) the text mugai wrote, text[0..tlen), up to CRLF for
 * LF and the final line end text_append adds?  Its lines must also be
 * short enough to go as they are.
 */
static int
asis_same_text(const char *body, size_t blen, const char *text, size_t tlen)
{
	size_t b = 0, t = 0, line = 0;

	while (b < blen) {
		if (body[b] == '\r' && b + 1 < blen && body[b + 1] == '\n')
			b++;
		if (t >= tlen || body[b] != text[t])
			return 0;
		line = body[b] == '\n' ? 0 : line + 1;
		if (line > ASIS_LINE_MAX)
			return 0;
		b++;
		t++;
	}
	return t == tlen || (t + 1 == tlen && text[t] == '\n' &&
	    (blen == 0 || body[blen - 1] != '\n'));
}

int
sanitize_plain_as_is(const char *raw, size_t len, const char *charset,
    const char *text, size_t tlen)
{
	struct asis_hdr h;
	const char *canon;
	size_t body;

	if (!asis_headers(raw, len, &h, &body) || !h.ok || h.ctype != 1 ||
	    h.mimever != 1)
		return 0;
	/* What GMime read as the charset, the field must say too. */
	canon = h.charset[0] != '\0' ? mugai_charset_canonical(h.charset) :
	    "US-ASCII";
	if (canon == NULL || charset == NULL || strcmp(canon, charset) != 0)
		return 0;
	return asis_same_text(raw + body, len - body, text, tlen);
}
