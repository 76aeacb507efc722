/*
 * rtftext.c - the text of an RTF document (the body Outlook hides in
 * winmail.dat), as UTF-8, inside the sandbox.
 *
 * Written by hand: Debian has no C library that turns RTF into text
 * (LibreOffice does, but a whole office suite per mail body, outside
 * this worker, for a few kilobytes of text is out of proportion; unrtf
 * is a program, not a library, and mangles CP932).  Only the text is
 * wanted, so the reader is small: groups, control words and symbols,
 * destinations that hold no text are skipped whole, and characters come
 * from three places:
 *   - plain bytes and \'hh escapes, in the code page of the current
 *     font (\fcharset128 is Shift_JIS, whatever the document says) or
 *     else of the document (\ansicpg932): CP932 pairs arrive as two
 *     \'hh escapes and are decoded together;
 *   - \uN (signed 16 bits, surrogate pairs joined), after which \ucN
 *     fallback characters are skipped;
 *   - \par, \line, \tab, \cell, \row and the typographic symbols.
 * Outlook's "encapsulated HTML" (\fromhtml1) keeps its HTML tags in
 * \*\htmltag destinations, skipped, and marks RTF-only text with
 * \htmlrtf ... \htmlrtf0, also skipped.
 *
 * Code pages other than 932 and 65001 are read as Latin-1: the sandbox
 * cannot load more iconv modules, and those bodies are rare in
 * Japanese mail.  The output is capped (max_out) and the group depth
 * too: deeper groups are read as if they were flat.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/text/charset.h"
#include "convert.h"

#define RTF_MAX_DEPTH	256
#define RTF_MAX_FONTS	256
#define RTF_WORD_MAX	32

struct rtf_state {
	unsigned skip : 1;		/* a destination without text */
	unsigned htmlrtf : 1;		/* \htmlrtf: RTF-only text */
	unsigned fonttbl : 1;		/* inside \fonttbl */
	unsigned uc;			/* fallback chars after \uN */
	int	 font;			/* current \fN, -1 none */
};

struct rtf {
	const unsigned char *p, *end;
	struct mugai_buf *out;
	size_t	 max_out;
	struct rtf_state st[RTF_MAX_DEPTH];
	unsigned depth;
	unsigned overflow;		/* groups past RTF_MAX_DEPTH */
	unsigned doc_cp;		/* \ansicpg */
	unsigned char font_cs[RTF_MAX_FONTS]; /* \fcharset per \fN */
	int	 tbl_font;		/* font being defined in \fonttbl */
	unsigned pending_skip;		/* fallback chars left to skip */
	unsigned high;			/* a high surrogate waiting */
	unsigned char bytes[256];	/* \'hh and plain bytes to decode */
	size_t	 nbytes;
	int	 full;			/* max_out reached */
	int	 err;			/* out of memory */
};

/* Destinations whose content is not text of the document. */
static const char *const rtf_skip_dest[] = {
	"fonttbl", "colortbl", "stylesheet", "info", "pict", "object",
	"header", "footer", "headerl", "headerr", "headerf", "footerl",
	"footerr", "footerf", "listtable", "listoverridetable", "rsidtbl",
	"themedata", "colorschememapping", "datastore", "latentstyles",
	"generator", "xmlnstbl", "mmathPr", "fldinst", "bkmkstart",
	"bkmkend", "revtbl", "filetbl", "pgdsctbl", "userprops",
	"wgrffmtfilter", "pnseclvl", "pntext", "pntxta", "pntxtb",
	"listtext", "shppict", "nonshppict", "blipuid", "template",
	"docvar", "ftnsep", "ftnsepc", "aftnsep", "aftnsepc", "mhtmltag",
	"htmltag",
};

static struct rtf_state *
rtf_cur(struct rtf *x)
{
	return &x->st[x->depth];
}

static void
rtf_put(struct rtf *x, const char *s, size_t n)
{
	if (x->full || x->err)
		return;
	if (x->out->len + n > x->max_out) {
		x->full = 1;
		return;
	}
	if (mugai_buf_append(x->out, s, n) != MUGAI_OK)
		x->err = 1;
}

/* The code page the bytes of the current font are in. */
static unsigned
rtf_codepage(const struct rtf *x)
{
	int f = x->st[x->depth].font;

	if (f >= 0 && f < RTF_MAX_FONTS && x->font_cs[f] == 128)
		return 932;
	return x->doc_cp;
}

/* Decode the bytes collected so far and append them. */
static void
rtf_flush(struct rtf *x)
{
	struct mugai_buf u;
	size_t i;
	char c[2];

	if (x->nbytes == 0)
		return;
	mugai_buf_init(&u, 0);
	switch (rtf_codepage(x)) {
	case 932:
		if (mugai_charset_to_utf8("CP932", (const char *)x->bytes,
		    x->nbytes, &u, NULL) != MUGAI_OK)
			x->err = 1;
		break;
	case 65001:
		if (mugai_charset_to_utf8("UTF-8", (const char *)x->bytes,
		    x->nbytes, &u, NULL) != MUGAI_OK)
			x->err = 1;
		break;
	default:
		for (i = 0; i < x->nbytes && !x->err; i++) {
			if (x->bytes[i] < 0x80) {
				c[0] = (char)x->bytes[i];
				if (mugai_buf_append(&u, c, 1) != MUGAI_OK)
					x->err = 1;
			} else if (mugai_buf_put_utf8(&u, x->bytes[i]) !=
			    MUGAI_OK)
				x->err = 1;
		}
	}
	if (!x->err)
		rtf_put(x, u.data ? u.data : "", u.len);
	mugai_buf_free(&u);
	x->nbytes = 0;
}

/* Is text at this point part of the document's text? */
static int
rtf_visible(const struct rtf *x)
{
	const struct rtf_state *s = &x->st[x->depth];

	return !s->skip && !s->htmlrtf;
}

/* One byte of text (plain or \'hh), or a fallback char to skip. */
static void
rtf_byte(struct rtf *x, unsigned char b)
{
	if (x->pending_skip > 0) {
		x->pending_skip--;
		return;
	}
	if (!rtf_visible(x))
		return;
	if (x->nbytes == sizeof(x->bytes)) {
		/* Never split a CP932 pair: keep a lead byte for later. */
		unsigned char last = x->bytes[x->nbytes - 1];
		int lead = rtf_codepage(x) == 932 && ((last >= 0x81 &&
		    last <= 0x9f) || (last >= 0xe0 && last <= 0xfc));

		x->nbytes -= (size_t)lead;
		rtf_flush(x);
		if (lead)
			x->bytes[x->nbytes++] = last;
	}
	x->bytes[x->nbytes++] = b;
}

static void
rtf_text(struct rtf *x, const char *s)
{
	rtf_flush(x);
	if (x->pending_skip > 0) {
		x->pending_skip--;
		return;
	}
	if (rtf_visible(x))
		rtf_put(x, s, strlen(s));
}

/* \uN: a UTF-16 unit, surrogate pairs joined. */
static void
rtf_unicode(struct rtf *x, long n)
{
	unsigned u = (unsigned)(n < 0 ? n + 65536 : n) & 0xffff;
	struct mugai_buf b;
	unsigned long cp;

	rtf_flush(x);
	x->pending_skip = rtf_cur(x)->uc;
	if (!rtf_visible(x))
		return;
	if (u >= 0xd800 && u <= 0xdbff) {
		x->high = u;
		return;
	}
	if (u >= 0xdc00 && u <= 0xdfff) {
		if (x->high == 0)
			return;
		cp = 0x10000 + ((unsigned long)(x->high - 0xd800) << 10) +
		    (u - 0xdc00);
	} else
		cp = u;
	x->high = 0;
	if (cp == 0 || (cp < 0x20 && cp != '\t' && cp != '\n'))
		return;
	mugai_buf_init(&b, 0);
	if (mugai_buf_put_utf8(&b, cp) != MUGAI_OK)
		x->err = 1;
	else
		rtf_put(x, b.data, b.len);
	mugai_buf_free(&b);
}

static int
rtf_is_skip_dest(const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(rtf_skip_dest) / sizeof(rtf_skip_dest[0]); i++)
		if (strcmp(w, rtf_skip_dest[i]) == 0)
			return 1;
	return 0;
}

/* Symbols a control word stands for. */
static const struct {
	const char *word;
	const char *text;
} rtf_symbols[] = {
	{ "par", "\n" }, { "line", "\n" }, { "row", "\n" },
	{ "sect", "\n" }, { "page", "\n" }, { "tab", "\t" },
	{ "cell", "\t" }, { "emdash", "\xE2\x80\x94" },
	{ "endash", "\xE2\x80\x93" }, { "bullet", "\xE2\x80\xA2" },
	{ "lquote", "\xE2\x80\x98" }, { "rquote", "\xE2\x80\x99" },
	{ "ldblquote", "\xE2\x80\x9C" }, { "rdblquote", "\xE2\x80\x9D" },
	{ "emspace", " " }, { "enspace", " " }, { "qmspace", " " },
};

static void
rtf_word(struct rtf *x, const char *w, int has, long n, int first)
{
	struct rtf_state *s = rtf_cur(x);
	size_t i;

	if (first && rtf_is_skip_dest(w)) {
		rtf_flush(x);
		s->skip = 1;
		if (strcmp(w, "fonttbl") == 0)
			s->fonttbl = 1;
	}
	if (strcmp(w, "u") == 0 && has) {
		rtf_unicode(x, n);
		return;
	}
	if (strcmp(w, "uc") == 0 && has && n >= 0 && n < 16) {
		s->uc = (unsigned)n;
		return;
	}
	if (strcmp(w, "ansicpg") == 0 && has && n > 0) {
		rtf_flush(x);
		x->doc_cp = (unsigned)n;
		return;
	}
	if (strcmp(w, "f") == 0 && has) {
		rtf_flush(x);
		if (s->fonttbl)
			x->tbl_font = n >= 0 && n < RTF_MAX_FONTS ? (int)n : -1;
		else
			s->font = n >= 0 && n < RTF_MAX_FONTS ? (int)n : -1;
		return;
	}
	if (strcmp(w, "fcharset") == 0 && has && s->fonttbl) {
		if (x->tbl_font >= 0 && n >= 0 && n < 256)
			x->font_cs[x->tbl_font] = (unsigned char)n;
		return;
	}
	if (strcmp(w, "htmlrtf") == 0) {
		rtf_flush(x);
		s->htmlrtf = !has || n != 0;
		return;
	}
	for (i = 0; i < sizeof(rtf_symbols) / sizeof(rtf_symbols[0]); i++)
		if (strcmp(w, rtf_symbols[i].word) == 0) {
			rtf_text(x, rtf_symbols[i].text);
			return;
		}
	/* Any other control word counts as one fallback char after \u. */
	if (x->pending_skip > 0)
		x->pending_skip--;
}

/* A backslash sequence at x->p (just past the backslash). */
static void
rtf_control(struct rtf *x, int first)
{
	char w[RTF_WORD_MAX + 1];
	size_t n = 0;
	long v = 0;
	int has = 0, neg = 0, h;
	unsigned char c;

	if (x->p >= x->end)
		return;
	c = *x->p;
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
		x->p++;
		if (c == '\'') {
			for (h = 0, n = 0; n < 2 && x->p < x->end; n++, x->p++) {
				c = *x->p;
				if (c >= '0' && c <= '9')
					h = h * 16 + (c - '0');
				else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
					h = h * 16 + ((c | 0x20) - 'a' + 10);
				else
					break;
			}
			rtf_byte(x, (unsigned char)h);
		} else if (c == '*') {
			rtf_flush(x);
			if (first)
				rtf_cur(x)->skip = 1;
		} else if (c == '~')
			rtf_text(x, "\xC2\xA0");
		else if (c == '\\' || c == '{' || c == '}')
			rtf_byte(x, c);
		else if (c == '\n' || c == '\r')
			rtf_text(x, "\n");
		else if (c == '_')
			rtf_text(x, "-");
		return;
	}
	while (x->p < x->end && n < RTF_WORD_MAX &&
	    ((*x->p >= 'a' && *x->p <= 'z') || (*x->p >= 'A' && *x->p <= 'Z')))
		w[n++] = (char)*x->p++;
	w[n] = '\0';
	/* Over-long words: the rest of the letters belong to it. */
	while (x->p < x->end &&
	    ((*x->p >= 'a' && *x->p <= 'z') || (*x->p >= 'A' && *x->p <= 'Z')))
		x->p++;
	if (x->p < x->end && *x->p == '-') {
		neg = 1;
		x->p++;
	}
	while (x->p < x->end && *x->p >= '0' && *x->p <= '9') {
		if (v < 100000000)
			v = v * 10 + (*x->p - '0');
		has = 1;
		x->p++;
	}
	if (neg)
		v = -v;
	if (x->p < x->end && *x->p == ' ')
		x->p++;
	rtf_word(x, w, has, v, first);
}

static void
rtf_open(struct rtf *x)
{
	rtf_flush(x);
	if (x->depth + 1 >= RTF_MAX_DEPTH) {
		x->overflow++;
		return;
	}
	x->st[x->depth + 1] = x->st[x->depth];
	x->depth++;
}

static void
rtf_close(struct rtf *x)
{
	rtf_flush(x);
	if (x->overflow > 0) {
		x->overflow--;
		return;
	}
	if (x->depth > 0)
		x->depth--;
	x->pending_skip = 0;
}

/*
 * convert_rtf_text - the text of rtf[0..len) as UTF-8 appended to out,
 * at most max_out bytes of it.  Returns MUGAI_CONVERT_EXIT_OK (a
 * document that is not quite RTF gives what text could be read), or
 * TOO_BIG when out of memory.
 */
int
convert_rtf_text(const unsigned char *rtf, size_t len, size_t max_out,
    struct mugai_buf *out)
{
	struct rtf *x;
	int first = 0, rc;
	unsigned char c;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return MUGAI_CONVERT_EXIT_TOO_BIG;
	x->p = rtf;
	x->end = rtf + len;
	x->out = out;
	x->max_out = out->len + max_out;
	x->doc_cp = 1252;
	x->tbl_font = -1;
	x->st[0].uc = 1;
	x->st[0].font = -1;
	while (x->p < x->end && !x->err && !x->full) {
		c = *x->p++;
		if (c == '{') {
			rtf_open(x);
			first = 1;
			continue;
		}
		if (c == '}')
			rtf_close(x);
		else if (c == '\\')
			rtf_control(x, first);
		else if (c != '\r' && c != '\n' && c != 0)
			rtf_byte(x, c);
		/* Only the group's first control word names a destination. */
		if (!(c == '\\' && x->p > rtf && x->p[-1] == '*'))
			first = 0;
	}
	rtf_flush(x);
	rc = x->err ? MUGAI_CONVERT_EXIT_TOO_BIG : MUGAI_CONVERT_EXIT_OK;
	free(x);
	return rc;
}
