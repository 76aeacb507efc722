/*
 * html2text.c - HTML mail bodies to readable plain text (libxml2).
 *
 * The bytes are decoded to UTF-8 before any markup is looked at
 * (ISO-2022-JP trail bytes include '<'): byte order mark, else the MIME
 * charset, else <meta charset> / <meta http-equiv> found by a byte scan
 * of the first 4 KB, else detection.  libxml2 then parses the UTF-8 in
 * recover mode, with no network and no error output, and the text is
 * made from its SAX events in the same pass: no tree is built (building
 * and freeing one cost more than the parse, mostly in page faults), but
 * the output is the one a walk over libxml2's tree would give, its
 * 256-level depth stop included (see "parser events" below).
 *
 * The text is meant for Outlook's and Becky!'s plain-text views, with
 * proportional or monospace fonts.  Everything this module adds is ASCII
 * or JIS X 0208, so a later ISO-2022-JP re-encoding still succeeds:
 *
 *	<h1>Title</h1>		Title		<h3>..<h6>	■ Title
 *				=====
 *	<h2>Title</h2>		Title		<hr>		40 '-'
 *				-----
 *	<ul><li>x		- x		<ol start=3><li>x	3. x
 *	nested lists, <dd>	2 more spaces per level
 *	<tr><td>a<td>b		a | b		(empty cells add no " | ")
 *	<blockquote>		"> " per level	<pre>		kept as is
 *	<a href=U>t</a>		t <U>		(just t when t is U)
 *	<img alt=x>		[image: x]	no alt: [image]; alt="": nothing
 *	<img src=cid:I>		[image (cid:I)]	a picture sent with the mail
 *
 * Paragraphs, headings, <pre>, <blockquote> and top-level lists are set
 * off by a blank line; there is never more than one blank line in a row,
 * none at the start, and the text ends with one "\n".
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "mugai/text/charset.h"
#include "mugai/text/html2text.h"

#define META_SCAN	4096	/* bytes searched for <meta charset> */
#define LABEL_MAX	40	/* longest charset label taken from <meta> */
#define LTEXT_MAX	1024	/* link text kept to compare with its href */
#define URL_MAX		8192	/* longest href shown; longer ones end "..." */
#define SHOW_MAX	200	/* longest link text quoted in a warning */
#define HOST_MAX	256
#define HR_WIDTH	40
#define RULE_MAX	72	/* longest heading underline */
#define NO_ROW		((size_t)-1)
#define EK_SLOTS	256	/* hash slots for ek_table (power of 2) */

#define HTML_OPTS	(HTML_PARSE_RECOVER | HTML_PARSE_NONET | \
	HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT | \
	HTML_PARSE_NODEFDTD | HTML_PARSE_IGNORE_ENC)

enum ek {
	EK_INLINE, EK_DROP, EK_BLOCK, EK_PARA, EK_BR, EK_HR, EK_IMG,
	EK_INPUT, EK_A, EK_PRE, EK_QUOTE, EK_LIST, EK_OL, EK_LI, EK_DD,
	EK_TR, EK_CELL, EK_H1, EK_H2, EK_HN
};

/*
 * Elements not listed are inline: they only pass their text through.
 * That includes the HTML5 void elements embed, source and track, which
 * libxml2 2.9 does not know as empty: it hangs the following content
 * under them, so dropping them would drop that content.  Names in
 * lower case; ek_index hashes them for ek_lookup.
 */
static const struct ek_entry {
	const char	*name;
	enum ek		 kind;
} ek_table[] = {
	{ "a", EK_A },		{ "address", EK_BLOCK },
	{ "applet", EK_DROP },	{ "article", EK_BLOCK },
	{ "aside", EK_BLOCK },	{ "audio", EK_DROP },
	{ "blockquote", EK_QUOTE }, { "body", EK_BLOCK },
	{ "br", EK_BR },	{ "canvas", EK_DROP },
	{ "caption", EK_BLOCK }, { "center", EK_BLOCK },
	{ "datalist", EK_DROP }, { "dd", EK_DD },
	{ "details", EK_BLOCK }, { "dialog", EK_DROP },
	{ "dir", EK_LIST },	{ "div", EK_BLOCK },
	{ "dl", EK_PARA },	{ "dt", EK_BLOCK },
	{ "fieldset", EK_BLOCK },
	{ "figcaption", EK_BLOCK }, { "figure", EK_BLOCK },
	{ "footer", EK_BLOCK },	{ "form", EK_BLOCK },
	{ "frame", EK_DROP },	{ "frameset", EK_DROP },
	{ "h1", EK_H1 },	{ "h2", EK_H2 },
	{ "h3", EK_HN },	{ "h4", EK_HN },
	{ "h5", EK_HN },	{ "h6", EK_HN },
	{ "head", EK_BLOCK },	{ "header", EK_BLOCK },
	{ "hgroup", EK_BLOCK },	{ "hr", EK_HR },
	{ "html", EK_BLOCK },	{ "iframe", EK_DROP },
	{ "img", EK_IMG },	{ "input", EK_INPUT },
	{ "legend", EK_BLOCK },	{ "li", EK_LI },
	{ "listing", EK_PRE },	{ "main", EK_BLOCK },
	{ "math", EK_DROP },	{ "menu", EK_LIST },
	{ "nav", EK_BLOCK },	{ "noembed", EK_DROP },
	{ "noframes", EK_DROP }, { "noscript", EK_DROP },
	{ "object", EK_DROP },	{ "ol", EK_OL },
	{ "p", EK_PARA },	{ "param", EK_DROP },
	{ "plaintext", EK_PRE }, { "pre", EK_PRE },
	{ "script", EK_DROP },	{ "section", EK_BLOCK },
	{ "select", EK_DROP },
	{ "style", EK_DROP },	{ "summary", EK_BLOCK },
	{ "svg", EK_DROP },	{ "table", EK_BLOCK },
	{ "td", EK_CELL },	{ "template", EK_DROP },
	{ "textarea", EK_PRE },	{ "th", EK_CELL },
	{ "title", EK_DROP },	{ "tr", EK_TR },
	{ "ul", EK_LIST },
	{ "video", EK_DROP },	{ "xml", EK_DROP },
	{ "xmp", EK_PRE },
};

/*
 * Last labels that make a bare "name.label" in link text count as a
 * domain.  A list rather than "any letters" so that "report.pdf" or
 * "README.md" shown on a link is not taken for a host name.
 */
static const char *const tld_known[] = {
	"ai", "app", "arpa", "asia", "au", "biz", "br", "ca", "cc", "ch",
	"click", "cloud", "club", "cn", "co", "com", "de", "dev", "edu",
	"es", "eu", "example", "fr", "gov", "hk", "id", "ie", "in", "info",
	"int", "invalid", "io", "it", "jp", "kr", "kyoto", "link", "live",
	"local", "localhost", "me", "mil", "mobi", "my", "name", "nagoya",
	"net", "nl", "nz", "okinawa", "online", "org", "osaka", "page",
	"ph", "pro", "ru", "se", "sg", "shop", "site", "store", "tech",
	"test", "th", "tokyo", "top", "tv", "tw", "uk", "us", "vn", "work",
	"xyz", "yokohama",
};

struct frame {
	enum ek		 kind;
	unsigned long	 serial;	/* h2t.serial on entry */
	long		 num;		/* ol: next number; tr: cells used */
	size_t		 ltext;		/* a: its text's start in ltext */
	size_t		 href;		/* a: "<" URL in hrefs, or NO_ROW */
	size_t		 hlen;		/* a: its length */
	size_t		 row;		/* td/th: index of its tr frame */
};

/* The document's first child in libxml2's tree (see sax_start). */
enum first { FIRST_NONE, FIRST_ELEM, FIRST_OTHER };

struct h2t {
	struct mugai_buf	*out;
	struct mugai_html_stats	*st;
	unsigned		 max_depth;
	struct mugai_buf	 line;		/* line being built */
	int			 begun;		/* line holds a prefix */
	size_t			 plen;		/* quote and indent bytes */
	unsigned		 line_q;	/* quote depth of the line */
	size_t			 nlines;	/* lines written */
	size_t			 last_off;	/* last line written, in out, */
	size_t			 last_len;	/* after its prefix; 0: empty */
	int			 blank;		/* blank line due */
	unsigned		 blank_q;	/* its quote depth */
	int			 space;		/* collapsed space due */
	unsigned		 nbsp;		/* &nbsp; spaces due */
	int			 cell_sep;	/* " | " due */
	unsigned		 quote;		/* blockquote depth */
	unsigned		 indent;	/* li and dd depth */
	unsigned		 pre;		/* pre depth */
	int			 pre_start;	/* just after <pre> */
	char			 li_mark[24];	/* "- " or "3. " due */
	int			 h_mark;	/* "■ " due */
	unsigned long		 serial;	/* visible things written */
	struct mugai_buf	 ltext;		/* text of the open links */
	int			 ltext_full;
	unsigned		 nlink;		/* open links */
	struct mugai_buf	 warn;		/* warnings due after line */
	struct mugai_buf	 hrefs;		/* cleaned hrefs of open links */
	struct frame		*fr;
	size_t			 nfr, capfr;
	/* Parser events to tree walk (see sax_start). */
	mugai_status		 rc;		/* first error: parsing stops */
	int			 started;	/* startDocument was seen */
	int			 halted;	/* depth limit: parser stopped */
	unsigned		 ignore_end;	/* end events of refused starts */
	unsigned		 sax_depth;	/* elements open in libxml2 */
	unsigned		 depth;		/* tree depth of the innermost */
	unsigned		 skip;		/* depth of a skipped subtree */
	enum first		 first;
	int			 root_open;	/* root ended, still the parent */
	enum ek			 root_kind;
	unsigned char		 ek_slot[EK_SLOTS]; /* ek_table index + 1 */
};

/* ---- UTF-8 and characters ---- */

/* c is one of the characters of set (never the terminating NUL). */
static int
in_set(int c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* Length of the UTF-8 sequence at p (at least 1); *cp is U+FFFD if bad. */
static size_t
utf8_next(const unsigned char *p, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t k, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		k = 2;
		c = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		k = 3;
		c = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		k = 4;
		c = p[0] & 0x07;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	for (i = 1; i < k; i++) {
		if (i >= n || (p[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return i;
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 ||
	    c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
		c = 0xFFFD;
	*cp = c;
	return k;
}

static size_t
utf8_put(char *b, unsigned long cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Characters never written: C0 (callers handle \n and \t), DEL, C1, the
 * BOM, and the bidi embeddings, overrides and isolates used to disguise
 * file names and links ("invoice\u202Efdp.exe").
 */
static int
cp_dropped(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0xFEFF;
}

/* HTML white space, plus the Unicode line and paragraph separators. */
static int
cp_space(unsigned long cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == '\f' || cp == 0x2028 || cp == 0x2029;
}

/* Columns in a monospace East Asian font (for heading underlines). */
static unsigned
cp_width(unsigned long cp)
{
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6) ||
	    (cp >= 0x1F300 && cp <= 0x1F64F) ||
	    (cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

static size_t
text_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, w = 0;

	while (i < n) {
		i += utf8_next(p + i, n - i, &cp);
		w += cp_width(cp);
	}
	return w;
}

/*
 * Append s[0..n) to b with white space runs collapsed to one space,
 * trimmed, and dropped characters removed (alt text, warnings).
 */
static mugai_status
text_collapse(struct mugai_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, k, start = b->len;
	int space = 0;
	char u[4];
	mugai_status rc;

	while (i < n) {
		k = utf8_next(p + i, n - i, &cp);
		i += k;
		if (cp_space(cp) || cp == 0xA0) {
			space = 1;
			continue;
		}
		if (cp_dropped(cp))
			continue;
		if (space && b->len > start &&
		    (rc = mugai_buf_putc(b, ' ')) != MUGAI_OK)
			return rc;
		space = 0;
		if ((rc = mugai_buf_append(b, u, utf8_put(u, cp))) != MUGAI_OK)
			return rc;
	}
	return MUGAI_OK;
}

/* ---- charset ---- */

/* Length of the ISO-2022-JP escape at p, *multi set for 2-byte sets. */
static size_t
jis_escape(const unsigned char *p, size_t n, int *multi)
{
	if (n >= 3 && p[1] == '$' && (p[2] == '@' || p[2] == 'B')) {
		*multi = 1;
		return 3;
	}
	if (n >= 4 && p[1] == '$' && p[2] == '(') {
		*multi = 1;
		return 4;
	}
	if (n >= 3 && p[1] == '(') {
		*multi = p[2] == 'I';
		return 3;
	}
	return 1;
}

/* The charset named in one <meta ...> tag, starting after "<meta". */
static const char *
meta_tag_charset(const char *s, size_t n)
{
	char label[LABEL_MAX + 1];
	size_t i, k;
	const char *cs;

	for (i = 0; i + 7 <= n && s[i] != '>'; i++) {
		if (strncasecmp(s + i, "charset", 7) != 0)
			continue;
		for (i += 7; i < n && (s[i] == ' ' || s[i] == '\t' ||
		    s[i] == '\r' || s[i] == '\n'); i++)
			;
		if (i >= n || s[i] != '=') {
			i--;		/* look at this byte again: maybe '>' */
			continue;
		}
		for (i++; i < n && (s[i] == ' ' || s[i] == '\t' ||
		    s[i] == '"' || s[i] == '\''); i++)
			;
		for (k = 0; i < n && k < LABEL_MAX && (isalnum((unsigned char)
		    s[i]) || in_set(s[i], "-_.:")); i++)
			label[k++] = s[i];
		label[k] = '\0';
		cs = mugai_charset_canonical(label);
		/* A <meta> cannot declare UTF-16 for bytes it was read from. */
		if (cs != NULL && strncmp(cs, "UTF-16", 6) == 0)
			return "UTF-8";
		if (cs != NULL && strcmp(cs, "UTF-7") == 0)
			return NULL;
		return cs;
	}
	return NULL;
}

/*
 * The first usable <meta> charset in the first META_SCAN bytes.  The
 * scan skips comments and, for ISO-2022-JP text, the 2-byte runs whose
 * bytes could spell "<meta".
 */
static const char *
meta_charset(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n = len < META_SCAN ? len : META_SCAN;
	const char *cs, *end;
	int multi = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == 0x1B) {
			i += jis_escape(p + i, n - i, &multi) - 1;
			continue;
		}
		if (multi || p[i] != '<')
			continue;
		if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			end = memmem(s + i + 4, n - i - 4, "-->", 3);
			if (end == NULL)
				return NULL;
			i = (size_t)(end - s) + 2;
			continue;
		}
		if (n - i > 6 && strncasecmp(s + i, "<meta", 5) == 0 &&
		    in_set(s[i + 5], " \t\r\n/") &&
		    (cs = meta_tag_charset(s + i + 5, n - i - 5)) != NULL)
			return cs;
	}
	return NULL;
}

/* The charset to decode with; NULL lets mugai_charset_to_utf8 detect. */
static const char *
html_charset(const char *s, size_t len, const char *label)
{
	const char *cs;

	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		return "UTF-8";
	if (len >= 2 && memcmp(s, "\xFF\xFE", 2) == 0)
		return "UTF-16LE";
	if (len >= 2 && memcmp(s, "\xFE\xFF", 2) == 0)
		return "UTF-16BE";
	/* "us-ascii" on 8-bit HTML is a mislabelling: let <meta> speak. */
	cs = mugai_charset_canonical(label);
	if (cs != NULL && strcmp(cs, "US-ASCII") != 0)
		return cs;
	cs = meta_charset(s, len);
	if (cs != NULL && strcmp(cs, "UTF-8") == 0 && !mugai_utf8_valid(s, len))
		return NULL;
	return cs;
}

/*
 * Decode to UTF-8 and clean what libxml2 would stop at or mangle: a
 * leading BOM, NUL and other C0 controls, lone CR (made "\n").
 */
static mugai_status
html_decode(const char *html, size_t len, const char *label,
    struct mugai_buf *utf)
{
	size_t i, j, off = 0;
	char *d;
	mugai_status rc;

	if (len > (SIZE_MAX - 64) / 4)
		return MUGAI_ERR_LIMIT;
	/* Each character takes at least one byte in and at most 4 out. */
	utf->max = len * 4 + 16;
	rc = mugai_charset_to_utf8(html_charset(html, len, label), html, len,
	    utf, NULL);
	if (rc != MUGAI_OK || utf->data == NULL)
		return rc;
	d = utf->data;
	if (utf->len >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0)
		off = 3;
	for (i = off, j = 0; i < utf->len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '\r') {
			if (i + 1 < utf->len && d[i + 1] == '\n')
				continue;
			c = '\n';
		} else if (c == '\f')
			c = ' ';
		else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
			continue;
		d[j++] = (char)c;
	}
	utf->len = j;
	d[j] = '\0';
	return MUGAI_OK;
}

/* ---- attributes ---- */

/*
 * Attribute value from libxml2's name/value list (names are lower case,
 * duplicates already dropped), "" for a bare attribute, NULL when absent.
 */
static const char *
attr_get(const xmlChar **atts, const char *name)
{
	size_t i;

	if (atts == NULL)
		return NULL;
	for (i = 0; atts[i] != NULL; i += 2)
		if (strcasecmp((const char *)atts[i], name) == 0)
			return atts[i + 1] != NULL ?
			    (const char *)atts[i + 1] : "";
	return NULL;
}

/* strcasecmp in the C locale, inline: it runs for every tag. */
static int
name_cmp(const char *a, const char *b)
{
	int ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb || ca == '\0')
			return ca - cb;
	}
}

/* Slot of a name in h->ek_slot: a hash of its lower-case bytes. */
static size_t
ek_hash(const char *s)
{
	size_t h = 0;
	int c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = h * 31 + (size_t)c;
	}
	return h & (EK_SLOTS - 1);
}

/* Every element asks (twice), so ek_table is hashed once per text. */
static void
ek_index(struct h2t *h)
{
	size_t i, k;

	for (i = 0; i < sizeof(ek_table) / sizeof(ek_table[0]); i++) {
		for (k = ek_hash(ek_table[i].name); h->ek_slot[k] != 0;
		    k = (k + 1) & (EK_SLOTS - 1))
			;
		h->ek_slot[k] = (unsigned char)(i + 1);
	}
}

static enum ek
ek_lookup(const struct h2t *h, const xmlChar *name)
{
	size_t k;
	unsigned char e;

	if (name == NULL)
		return EK_INLINE;
	for (k = ek_hash((const char *)name); (e = h->ek_slot[k]) != 0;
	    k = (k + 1) & (EK_SLOTS - 1))
		if (name_cmp((const char *)name, ek_table[e - 1].name) == 0)
			return ek_table[e - 1].kind;
	return EK_INLINE;
}

/* One CSS declaration, spaces removed and lower-cased. */
static int
decl_hides(const char *d)
{
	static const char *const hide[] = {
		"display:none", "visibility:hidden", "visibility:collapse",
		"mso-hide:all"
	};
	size_t i, k;

	for (i = 0; i < sizeof(hide) / sizeof(hide[0]); i++) {
		k = strlen(hide[i]);
		if (strncmp(d, hide[i], k) == 0 &&
		    (d[k] == '\0' || strcmp(d + k, "!important") == 0))
			return 1;
	}
	return 0;
}

/* Does an inline style hide the element?  Tolerates case, spaces, comments. */
static int
style_hides(const char *s)
{
	char decl[64];
	size_t n = 0;
	int comment = 0;

	for (;; s++) {
		if (comment) {
			if (*s == '\0')
				break;
			if (s[0] == '*' && s[1] == '/') {
				comment = 0;
				s++;
			}
			continue;
		}
		if (s[0] == '/' && s[1] == '*') {
			comment = 1;
			s++;
			continue;
		}
		if (*s == ';' || *s == '\0') {
			decl[n] = '\0';
			if (decl_hides(decl))
				return 1;
			n = 0;
			if (*s == '\0')
				break;
			continue;
		}
		if (in_set(*s, " \t\r\n\f"))
			continue;
		if (n < sizeof(decl) - 1)
			decl[n++] = (char)tolower((unsigned char)*s);
	}
	return 0;
}

/* Content a reader would not see, and so must not be shown either. */
static int
node_hidden(const xmlChar **atts, enum ek kind)
{
	const char *v;

	if (kind == EK_DROP || attr_get(atts, "hidden") != NULL)
		return 1;
	if (kind == EK_INPUT && (v = attr_get(atts, "type")) != NULL &&
	    strcasecmp(v, "hidden") == 0)
		return 1;
	return (v = attr_get(atts, "style")) != NULL && style_hides(v);
}

/* ---- output lines ---- */

static mugai_status
quote_put(struct mugai_buf *b, unsigned q)
{
	mugai_status rc;

	for (; q > 0; q--)
		if ((rc = mugai_buf_append(b, "> ", 2)) != MUGAI_OK)
			return rc;
	return MUGAI_OK;
}

static void
blank_want(struct h2t *h)
{
	if (!h->blank || h->quote < h->blank_q)
		h->blank_q = h->quote;
	h->blank = 1;
}

/* Write a due blank line (">" inside quotes), before a line at depth q. */
static mugai_status
out_blank(struct h2t *h, unsigned q)
{
	unsigned i, bq;
	mugai_status rc;

	if (h->blank && h->nlines > 0) {
		bq = h->blank_q < q ? h->blank_q : q;
		for (i = 0; i < bq; i++)
			if ((rc = mugai_buf_puts(h->out, i ? " >" : ">")) !=
			    MUGAI_OK)
				return rc;
		if ((rc = mugai_buf_putc(h->out, '\n')) != MUGAI_OK)
			return rc;
		h->nlines++;
	}
	h->blank = 0;
	return MUGAI_OK;
}

/* Write the queued phishing warnings, one line each, at quote depth q. */
static mugai_status
out_warnings(struct h2t *h, unsigned q)
{
	const char *p, *nl, *end;
	mugai_status rc = MUGAI_OK;

	if (h->warn.len == 0)
		return MUGAI_OK;
	p = h->warn.data;
	end = p + h->warn.len;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((rc = out_blank(h, q)) != MUGAI_OK ||
		    (rc = quote_put(h->out, q)) != MUGAI_OK ||
		    (rc = mugai_buf_append(h->out, p, (size_t)(nl - p + 1))) !=
		    MUGAI_OK)
			break;
		h->nlines++;
	}
	mugai_buf_reset(&h->warn);
	return rc;
}

static mugai_status
ltext_add(struct h2t *h, const char *p, size_t n)
{
	mugai_status rc;

	if (h->nlink == 0 || h->ltext_full)
		return MUGAI_OK;
	rc = mugai_buf_append(&h->ltext, p, n);
	if (rc == MUGAI_ERR_LIMIT) {
		h->ltext_full = 1;
		rc = MUGAI_OK;
	}
	return rc;
}

/* End the current line: write it, or note a blank line if it is empty. */
static mugai_status
line_end(struct h2t *h)
{
	struct mugai_buf *l = &h->line;
	mugai_status rc;

	if (!h->begun)
		return out_warnings(h, h->quote);
	h->begun = 0;
	while (l->len > 0 && (l->data[l->len - 1] == ' ' ||
	    l->data[l->len - 1] == '\t'))
		l->len--;
	if (l->len <= h->plen) {
		h->last_len = 0;
		blank_want(h);
		return out_warnings(h, h->line_q);
	}
	if ((rc = out_blank(h, h->line_q)) != MUGAI_OK)
		return rc;
	/* Its width is only wanted under a heading: measured there. */
	h->last_off = h->out->len + h->plen;
	h->last_len = l->len - h->plen;
	if ((rc = mugai_buf_append(h->out, l->data, l->len)) != MUGAI_OK ||
	    (rc = mugai_buf_putc(h->out, '\n')) != MUGAI_OK)
		return rc;
	h->nlines++;
	if ((rc = ltext_add(h, " ", 1)) != MUGAI_OK)
		return rc;
	return out_warnings(h, h->line_q);
}

/* Start a line: quote marks, indentation, a pending list or heading mark. */
static mugai_status
line_begin(struct h2t *h)
{
	size_t ind;
	mugai_status rc;

	mugai_buf_reset(&h->line);
	if ((rc = quote_put(&h->line, h->quote)) != MUGAI_OK)
		return rc;
	ind = 2 * (size_t)h->indent;
	if (h->li_mark[0] != '\0' && ind >= 2)
		ind -= 2;
	for (; ind > 0; ind--)
		if ((rc = mugai_buf_putc(&h->line, ' ')) != MUGAI_OK)
			return rc;
	h->plen = h->line.len;
	h->line_q = h->quote;
	if ((rc = mugai_buf_puts(&h->line, h->li_mark)) != MUGAI_OK ||
	    (h->h_mark && (rc = mugai_buf_puts(&h->line, "■ ")) != MUGAI_OK))
		return rc;
	h->li_mark[0] = '\0';
	h->h_mark = 0;
	h->begun = 1;
	h->space = 0;
	h->nbsp = 0;
	h->cell_sep = 0;
	return MUGAI_OK;
}

/*
 * Link text as it would be kept character by character: when the whole
 * run does not fit, as many whole characters as fit.
 */
static mugai_status
ltext_add_chars(struct h2t *h, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned long cp;
	size_t i, k;
	mugai_status rc;

	if (h->nlink == 0 || h->ltext_full)
		return MUGAI_OK;
	rc = mugai_buf_append(&h->ltext, p, n);
	for (i = 0; rc == MUGAI_ERR_LIMIT && i < n; i += k) {
		k = utf8_next(u + i, n - i, &cp);
		if ((rc = mugai_buf_append(&h->ltext, p + i, k)) != MUGAI_OK)
			break;
		rc = MUGAI_ERR_LIMIT;
	}
	if (rc == MUGAI_ERR_LIMIT) {
		h->ltext_full = 1;
		rc = MUGAI_OK;
	}
	return rc;
}

/*
 * Append visible bytes p[0..n) as one word: line start, " | " or space.
 * by_char: p is a run of characters that were words of their own (see
 * text_put), and so go into the link text one by one.
 */
static mugai_status
put_bytes(struct h2t *h, const char *p, size_t n, int by_char)
{
	const char *sep = NULL;
	mugai_status rc;

	if (!h->begun) {
		if ((rc = line_begin(h)) != MUGAI_OK)
			return rc;
	} else if (h->cell_sep) {
		sep = " | ";
		h->nbsp = 0;
	} else if (h->space)
		sep = " ";
	h->space = 0;
	h->cell_sep = 0;
	if (sep != NULL && ((rc = mugai_buf_puts(&h->line, sep)) != MUGAI_OK ||
	    (rc = ltext_add(h, sep, strlen(sep))) != MUGAI_OK))
		return rc;
	for (; h->nbsp > 0; h->nbsp--)
		if ((rc = mugai_buf_putc(&h->line, ' ')) != MUGAI_OK ||
		    (rc = ltext_add(h, " ", 1)) != MUGAI_OK)
			return rc;
	if ((rc = mugai_buf_append(&h->line, p, n)) != MUGAI_OK)
		return rc;
	h->serial++;
	return by_char ? ltext_add_chars(h, p, n) : ltext_add(h, p, n);
}

static mugai_status
put_word(struct h2t *h, const char *p, size_t n)
{
	return put_bytes(h, p, n, 0);
}

/* A newline inside <pre>: end the line, or note an empty one. */
static mugai_status
pre_newline(struct h2t *h)
{
	if (h->begun)
		return line_end(h);
	blank_want(h);
	return MUGAI_OK;
}

/*
 * Is the character at p (k bytes, code point cp) written as it stands?
 * Not white space, &nbsp;, a dropped character, nor a broken sequence
 * (U+FFFD written for other bytes).
 */
static int
text_plain(const unsigned char *p, size_t k, unsigned long cp)
{
	if (cp < 0x80)
		return cp > 0x20 && cp != 0x7F;
	if (cp == 0xFFFD)
		return k == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] == 0xBD;
	if (cp == 0xA0 || cp == 0x2028 || cp == 0x2029)
		return 0;
	return !cp_dropped(cp);
}

/*
 * Text: white space collapsed, or kept inside <pre>.  A run of plain
 * characters goes out with one put_bytes: written one by one, all but
 * the first would only be appended.
 */
static mugai_status
text_put(struct h2t *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, k, rs = 0, run = 0;
	char u[4];
	mugai_status rc = MUGAI_OK;

	while (i < n && rc == MUGAI_OK) {
		k = utf8_next(p + i, n - i, &cp);
		if (!h->pre_start && text_plain(p + i, k, cp)) {
			if (run == 0)
				rs = i;
			run += k;
			i += k;
			continue;
		}
		if (run > 0) {
			rc = put_bytes(h, s + rs, run, 1);
			run = 0;
			continue;	/* this character again */
		}
		i += k;
		if (h->pre_start) {
			h->pre_start = 0;
			if (cp == '\n')
				continue;
		}
		if (h->pre > 0 && (cp == '\n' || cp == 0x2028 ||
		    cp == 0x2029)) {
			rc = pre_newline(h);
			continue;
		}
		if (h->pre > 0 && (cp == ' ' || cp == '\t' || cp == 0xA0)) {
			if (!h->begun)
				rc = line_begin(h);
			if (rc == MUGAI_OK)
				rc = mugai_buf_putc(&h->line,
				    cp == '\t' ? '\t' : ' ');
			if (rc == MUGAI_OK)
				rc = ltext_add(h, " ", 1);
			continue;
		}
		if (cp_space(cp)) {
			h->space = 1;
			continue;
		}
		/*
		 * &nbsp; is a plain space that does not collapse, but is not
		 * text either: it neither starts a line nor fills a cell, and
		 * is written only once text follows it on the line.
		 */
		if (cp == 0xA0) {
			if (h->begun && h->nbsp < 1000)
				h->nbsp++;
			continue;
		}
		if (cp_dropped(cp))
			continue;
		rc = put_word(h, u, utf8_put(u, cp));
	}
	if (rc == MUGAI_OK && run > 0)
		rc = put_bytes(h, s + rs, run, 1);
	return rc;
}

/* ---- links ---- */

/*
 * The href as shown: trimmed, tabs/newlines/controls removed as browsers
 * do, spaces and <>" escaped so "<URL>" stays one token, bidi controls
 * dropped.  Appended to u, whose bytes from base on count against
 * URL_MAX.
 */
static mugai_status
url_clean(const char *href, struct mugai_buf *u, size_t base)
{
	const unsigned char *p = (const unsigned char *)href;
	size_t n = strlen(href), i = 0, k, rs = 0, run = 0;
	unsigned long cp;
	char hex[4];
	mugai_status rc = MUGAI_OK;

	while (n > 0 && p[n - 1] <= 0x20)
		n--;
	while (i < n && p[i] <= 0x20)
		i++;
	/* Runs of bytes kept as they are go out in one append. */
	while (i < n && rc == MUGAI_OK) {
		if (u->len + run - base >= URL_MAX) {
			if (run > 0 && (rc = mugai_buf_append(u, p + rs, run)) !=
			    MUGAI_OK)
				return rc;
			return mugai_buf_puts(u, "...");
		}
		k = utf8_next(p + i, n - i, &cp);
		if (cp != ' ' && cp != '<' && cp != '>' && cp != '"' &&
		    !cp_dropped(cp) && cp != 0xFFFD) {
			if (run == 0)
				rs = i;
			run += k;
			i += k;
			continue;
		}
		if (run > 0 && (rc = mugai_buf_append(u, p + rs, run)) !=
		    MUGAI_OK)
			return rc;
		run = 0;
		if (cp == ' ' || cp == '<' || cp == '>' || cp == '"') {
			snprintf(hex, sizeof(hex), "%%%02X", (unsigned)cp);
			rc = mugai_buf_puts(u, hex);
		}
		i += k;
	}
	if (rc == MUGAI_OK && run > 0)
		rc = mugai_buf_append(u, p + rs, run);
	return rc;
}

/* Schemes that run code or carry content: never shown as a link. */
static int
url_blocked(const char *u)
{
	static const char *const bad[] = {
		"javascript:", "vbscript:", "livescript:", "data:"
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strncasecmp(u, bad[i], strlen(bad[i])) == 0)
			return 1;
	return 0;
}

static size_t
scheme_len(const char *s, size_t n)
{
	static const char *const sch[] = {
		"http://", "https://", "ftp://", "mailto:"
	};
	size_t i, k;

	for (i = 0; i < sizeof(sch) / sizeof(sch[0]); i++) {
		k = strlen(sch[i]);
		if (n >= k && strncasecmp(s, sch[i], k) == 0)
			return k;
	}
	return 0;
}

/*
 * Does the link text already say what the href says?  Scheme and one
 * trailing slash do not count; the host part compares without case.
 */
static int
url_same_text(const char *u, size_t un, const char *t, size_t tn)
{
	size_t k, i;

	while (tn > 0 && t[0] == ' ') {
		t++;
		tn--;
	}
	while (tn > 0 && t[tn - 1] == ' ')
		tn--;
	k = scheme_len(u, un);
	u += k;
	un -= k;
	k = scheme_len(t, tn);
	t += k;
	tn -= k;
	if (un > 0 && u[un - 1] == '/')
		un--;
	if (tn > 0 && t[tn - 1] == '/')
		tn--;
	if (un != tn || un == 0)
		return 0;
	for (i = 0; i < un && !in_set(u[i], "/?#"); i++)
		;
	return strncasecmp(u, t, i) == 0 && memcmp(u + i, t + i, un - i) == 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Host of the authority p[0..n): user info and port removed, %XX
 * decoded, lower case, no trailing dot.  0 when empty, too long, or
 * when %XX spells a control or a character no host may hold.
 */
static int
host_copy(const char *p, size_t n, char *host, size_t hsz)
{
	const char *at, *end = p + n;
	size_t k = 0;
	int a, b, c, v6;

	while ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
		p = at + 1;
	v6 = p < end && *p == '[';
	for (; p < end; p++) {
		c = (unsigned char)*p;
		if ((c == ':' && !v6) || (v6 && k > 0 && host[k - 1] == ']'))
			break;
		if (c == '%' && end - p >= 3 && (a = hexval(p[1])) >= 0 &&
		    (b = hexval(p[2])) >= 0) {
			c = a * 16 + b;
			p += 2;
			/* Browsers refuse such hosts; never echo them. */
			if (c <= 0x20 || c >= 0x7F || in_set(c, "\"<>\\^`{|}%"))
				return 0;
		}
		if (k + 1 >= hsz)
			return 0;
		host[k++] = (char)tolower(c);
	}
	while (k > 0 && host[k - 1] == '.')
		k--;
	host[k] = '\0';
	return k > 0;
}

/*
 * Host an http, https or ftp URL (or a scheme-relative "//host") leads
 * to, lower case, user info and port removed, as browsers read it: any
 * run of '/' or '\' after the scheme, authority up to '/', '\', '?', '#'.
 */
static int
url_host(const char *u, size_t n, char *host, size_t hsz)
{
	size_t i, k;

	host[0] = '\0';
	if (n >= 5 && strncasecmp(u, "http:", 5) == 0)
		i = 5;
	else if (n >= 6 && strncasecmp(u, "https:", 6) == 0)
		i = 6;
	else if (n >= 4 && strncasecmp(u, "ftp:", 4) == 0)
		i = 4;
	else if (n >= 2 && u[0] == '/' && u[1] == '/')
		i = 0;
	else
		return 0;
	while (i < n && (u[i] == '/' || u[i] == '\\'))
		i++;
	for (k = i; k < n && !in_set(u[k], "/\\?#"); k++)
		;
	return k > i && host_copy(u + i, k - i, host, hsz);
}

static int
tld_is_known(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(tld_known) / sizeof(tld_known[0]); i++)
		if (strlen(tld_known[i]) == n &&
		    strncasecmp(tld_known[i], s, n) == 0)
			return 1;
	return 0;
}

/*
 * A bare domain at the start of t[0..n): labels of letters, digits and
 * '-', at least two, then the end or one of "/?#:".  Only "www." or a
 * known last label make it a domain (see tld_known).
 */
static int
domain_host(const char *t, size_t n, char *host, size_t hsz)
{
	size_t i, last = 0, dots = 0;

	for (i = 0; i < n && (isalnum((unsigned char)t[i]) || t[i] == '-' ||
	    t[i] == '.'); i++) {
		if (t[i] != '.')
			continue;
		if (i == 0 || t[i - 1] == '.')
			return 0;
		dots++;
		last = i + 1;
	}
	if (dots == 0 || last >= i || i >= hsz)
		return 0;
	if (i < n && !in_set(t[i], "/?#:"))
		return 0;
	if (!(i > 4 && strncasecmp(t, "www.", 4) == 0) &&
	    !tld_is_known(t + last, i - last))
		return 0;
	for (last = 0; last < i; last++)
		host[last] = (char)tolower((unsigned char)t[last]);
	host[i] = '\0';
	return 1;
}

/* Same site: equal without "www.", or real is a subdomain of shown. */
static int
host_match(const char *shown, const char *real)
{
	size_t ls, lr;

	if (strncmp(shown, "www.", 4) == 0)
		shown += 4;
	if (strncmp(real, "www.", 4) == 0)
		real += 4;
	ls = strlen(shown);
	lr = strlen(real);
	if (ls == lr)
		return strcmp(shown, real) == 0;
	return lr > ls && real[lr - ls - 1] == '.' &&
	    strcmp(real + lr - ls, shown) == 0;
}

static int
url_char(unsigned char c)
{
	return c > 0x20 && c < 0x7F && !in_set(c, "<>\"'()[]{}|^`");
}

/*
 * Queue a warning when a URL or domain written in the link text names
 * another host than the href.  Text tokens are runs of URL characters,
 * so "こちら(www.bank.co.jp)から" yields "www.bank.co.jp".
 */
static mugai_status
link_phish(struct h2t *h, const char *t, size_t n, const char *real)
{
	char host[HOST_MAX];
	size_t i = 0, s, e;
	int found;
	mugai_status rc;

	while (i < n) {
		for (; i < n && !url_char((unsigned char)t[i]); i++)
			;
		for (s = i; i < n && url_char((unsigned char)t[i]); i++)
			;
		for (e = i; e > s && in_set(t[e - 1], ".,;:!?"); e--)
			;
		if (e == s)
			continue;
		found = url_host(t + s, e - s, host, sizeof(host)) ||
		    domain_host(t + s, e - s, host, sizeof(host));
		if (!found || host_match(host, real))
			continue;
		if (e - s > SHOW_MAX)
			e = s + SHOW_MAX;
		rc = mugai_buf_printf(&h->warn, "[警告/WARNING: link text shows"
		    " \"%.*s%s\" but leads to \"%s\"]\n", (int)(e - s), t + s,
		    e - s == SHOW_MAX ? "..." : "", real);
		if (rc == MUGAI_OK)
			h->st->suspicious_links++;
		return rc;
	}
	return MUGAI_OK;
}

/*
 * <a>: keep its href, cleaned, until </a> (the parser's attributes do
 * not live that long): "<" URL in h->hrefs, nested links after it.
 */
static mugai_status
link_open(struct h2t *h, struct frame *f, const xmlChar **atts)
{
	const char *href = attr_get(atts, "href");
	mugai_status rc;

	f->ltext = h->ltext.len;
	h->nlink++;
	f->href = NO_ROW;
	if (href == NULL)
		return MUGAI_OK;
	f->href = h->hrefs.len;
	if ((rc = mugai_buf_putc(&h->hrefs, '<')) != MUGAI_OK ||
	    (rc = url_clean(href, &h->hrefs, f->href)) != MUGAI_OK)
		return rc;
	f->hlen = h->hrefs.len - f->href;
	return MUGAI_OK;
}

/* </a>: show the href after the text, check the text against it. */
static mugai_status
link_close(struct h2t *h, const struct frame *f)
{
	const char *t, *url;
	char host[HOST_MAX];
	size_t tn, un;
	int space;
	mugai_status rc = MUGAI_OK;

	h->nlink--;
	if (f->href == NO_ROW)
		goto out;
	/* Inner links are closed: this href ends the buffer. */
	h->hrefs.len = f->href + f->hlen;
	h->hrefs.data[h->hrefs.len] = '\0';
	url = h->hrefs.data + f->href + 1;
	un = f->hlen - 1;
	if (un == 0 || url[0] == '#')
		goto out;
	if (url_blocked(url)) {
		h->st->dropped++;
		goto out;
	}
	h->st->links++;
	t = h->ltext.data != NULL ? h->ltext.data + f->ltext : "";
	tn = h->ltext.len - f->ltext;
	/* Before put_word: it may move h->ltext, which t points into. */
	if (url_host(url, un, host, sizeof(host)) &&
	    (rc = link_phish(h, t, tn, host)) != MUGAI_OK)
		goto out;
	if (!url_same_text(url, un, t, tn)) {
		if ((rc = mugai_buf_putc(&h->hrefs, '>')) != MUGAI_OK)
			goto out;
		space = h->space;
		h->space = 1;
		if ((rc = put_word(h, h->hrefs.data + f->href,
		    f->hlen + 1)) != MUGAI_OK)
			goto out;
		h->space = space;
	}
	if (!h->begun)
		rc = out_warnings(h, h->quote);
out:
	if (f->href != NO_ROW && h->hrefs.data != NULL) {
		h->hrefs.len = f->href;
		h->hrefs.data[f->href] = '\0';
	}
	if (h->nlink == 0) {
		mugai_buf_reset(&h->ltext);
		h->ltext_full = 0;
	}
	return rc;
}

/* ---- elements ---- */

static mugai_status
img_put(struct h2t *h, const xmlChar **atts)
{
	struct mugai_buf b;
	const char *alt = attr_get(atts, "alt");
	const char *src = attr_get(atts, "src");
	int cid = src != NULL && strncasecmp(src, "cid:", 4) == 0 &&
	    src[4] != '\0', show;
	mugai_status rc;

	h->st->images++;
	mugai_buf_init(&b, 0);
	/* alt="" marks a decorative image (spacers, tracking pixels),
	 * unless it is a picture sent with the message (cid:): its
	 * reference is kept so the caller can name the attached copy. */
	if (alt == NULL || (cid && alt[0] == '\0'))
		rc = mugai_buf_puts(&b, "[image");
	else if ((rc = mugai_buf_puts(&b, "[image: ")) == MUGAI_OK)
		rc = text_collapse(&b, alt, strlen(alt));
	show = alt == NULL || cid || b.len > 8;
	if (rc == MUGAI_OK && cid && (rc = mugai_buf_puts(&b, " (cid:")) ==
	    MUGAI_OK && (rc = text_collapse(&b, src + 4, strlen(src + 4))) ==
	    MUGAI_OK)
		rc = mugai_buf_putc(&b, ')');
	if (rc == MUGAI_OK && show)
		rc = mugai_buf_putc(&b, ']');
	if (rc == MUGAI_OK && show) {
		h->space = 1;
		rc = put_word(h, b.data, b.len);
		h->space = 1;
	}
	mugai_buf_free(&b);
	return rc;
}

static mugai_status
hr_put(struct h2t *h)
{
	char rule[HR_WIDTH];
	mugai_status rc;

	memset(rule, '-', sizeof(rule));
	if ((rc = line_end(h)) != MUGAI_OK ||
	    (rc = put_word(h, rule, sizeof(rule))) != MUGAI_OK)
		return rc;
	return line_end(h);
}

static mugai_status
br_put(struct h2t *h)
{
	if (h->begun)
		return line_end(h);
	blank_want(h);
	return MUGAI_OK;
}

/* h1/h2 end: underline the heading's (last) line with c. */
static mugai_status
heading_close(struct h2t *h, const struct frame *f, char c)
{
	char rule[RULE_MAX];
	size_t w;
	mugai_status rc;

	h->h_mark = 0;
	if ((rc = line_end(h)) != MUGAI_OK)
		return rc;
	if (h->serial != f->serial && h->last_len > 0) {
		w = text_width(h->out->data + h->last_off, h->last_len);
		if (w > RULE_MAX)
			w = RULE_MAX;
		memset(rule, c, w);
		h->blank = 0;
		if ((rc = put_word(h, rule, w)) != MUGAI_OK ||
		    (rc = line_end(h)) != MUGAI_OK)
			return rc;
	}
	blank_want(h);
	return MUGAI_OK;
}

static size_t
frame_find(const struct h2t *h, enum ek a, enum ek b)
{
	size_t i;

	for (i = h->nfr; i > 0; i--)
		if (h->fr[i - 1].kind == a || h->fr[i - 1].kind == b)
			return i - 1;
	return NO_ROW;
}

static long
attr_long(const xmlChar **atts, const char *name, long dflt)
{
	const char *v = attr_get(atts, name);
	char *end;
	long x;

	if (v == NULL)
		return dflt;
	x = strtol(v, &end, 10);
	if (end == v || x < -1000000000L || x > 1000000000L)
		return dflt;
	return x;
}

/* <li>: the mark its first line starts with. */
static void
li_open(struct h2t *h, const xmlChar **atts)
{
	size_t l = frame_find(h, EK_LIST, EK_OL);
	struct frame *f;

	h->indent++;
	if (l == NO_ROW || h->fr[l].kind != EK_OL) {
		snprintf(h->li_mark, sizeof(h->li_mark), "- ");
		return;
	}
	f = &h->fr[l];
	f->num = attr_long(atts, "value", f->num);
	snprintf(h->li_mark, sizeof(h->li_mark), "%ld. ", f->num);
	f->num++;
}

static mugai_status
frame_push(struct h2t *h, enum ek kind, struct frame **fp)
{
	struct frame *f;
	size_t ncap;

	if (h->nfr == h->capfr) {
		ncap = h->capfr ? h->capfr * 2 : 32;
		f = realloc(h->fr, ncap * sizeof(*f));
		if (f == NULL)
			return MUGAI_ERR_NOMEM;
		h->fr = f;
		h->capfr = ncap;
	}
	f = &h->fr[h->nfr++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->serial = h->serial;
	f->row = NO_ROW;
	*fp = f;
	return MUGAI_OK;
}

/* Opening actions of an element that has a frame. */
static mugai_status
elem_open(struct h2t *h, struct frame *f, const xmlChar **atts)
{
	mugai_status rc = MUGAI_OK;

	switch (f->kind) {
	case EK_INLINE:
		break;
	case EK_A:
		rc = link_open(h, f, atts);
		break;
	case EK_CELL:
		f->row = frame_find(h, EK_TR, EK_TR);
		if (f->row != NO_ROW && h->fr[f->row].num > 0)
			h->cell_sep = 1;
		break;
	default:
		rc = line_end(h);
		break;
	}
	switch (f->kind) {
	case EK_PARA:
	case EK_H1:
	case EK_H2:
	case EK_QUOTE:
		blank_want(h);
		break;
	case EK_HN:
		blank_want(h);
		h->h_mark = 1;
		break;
	case EK_PRE:
		blank_want(h);
		h->pre++;
		h->pre_start = 1;
		break;
	case EK_LIST:
	case EK_OL:
		if (h->indent == 0)
			blank_want(h);
		f->num = attr_long(atts, "start", 1);
		break;
	case EK_LI:
		li_open(h, atts);
		break;
	case EK_DD:
		h->indent++;
		break;
	case EK_TR:
		h->cell_sep = 0;
		break;
	default:
		break;
	}
	if (f->kind == EK_QUOTE)
		h->quote++;
	return rc;
}

/* Closing actions; f is already off the stack. */
static mugai_status
elem_close(struct h2t *h, const struct frame *f)
{
	mugai_status rc;

	switch (f->kind) {
	case EK_INLINE:
		return MUGAI_OK;
	case EK_A:
		return link_close(h, f);
	case EK_CELL:
		if (f->row != NO_ROW && f->row < h->nfr &&
		    h->serial != f->serial)
			h->fr[f->row].num++;
		return MUGAI_OK;
	case EK_H1:
	case EK_H2:
		return heading_close(h, f, f->kind == EK_H1 ? '=' : '-');
	default:
		break;
	}
	if ((rc = line_end(h)) != MUGAI_OK)
		return rc;
	switch (f->kind) {
	case EK_PARA:
	case EK_HN:
		h->h_mark = 0;
		blank_want(h);
		break;
	case EK_PRE:
		h->pre--;
		h->pre_start = 0;
		blank_want(h);
		break;
	case EK_QUOTE:
		h->quote--;
		blank_want(h);
		break;
	case EK_LIST:
	case EK_OL:
		if (h->indent == 0)
			blank_want(h);
		break;
	case EK_LI:
	case EK_DD:
		h->indent--;
		h->li_mark[0] = '\0';
		break;
	case EK_TR:
		h->cell_sep = 0;
		break;
	default:
		break;
	}
	return MUGAI_OK;
}

/*
 * Enter an element at the given tree depth; *down says whether to walk
 * its content (and later call elem_leave).  Elements deeper than
 * max_depth pass their text through with no structure, blocks as a
 * space.
 */
static mugai_status
elem_enter(struct h2t *h, enum ek kind, const xmlChar **atts,
    unsigned depth, int *down)
{
	struct frame *f;
	mugai_status rc;

	*down = 0;
	if (node_hidden(atts, kind)) {
		h->st->dropped++;
		return MUGAI_OK;
	}
	if (depth > h->max_depth) {
		h->st->truncated = 1;
		if (kind != EK_INLINE && kind != EK_A)
			h->space = 1;
		*down = 1;
		return MUGAI_OK;
	}
	switch (kind) {
	case EK_BR:
		return br_put(h);
	case EK_HR:
		return hr_put(h);
	case EK_IMG:
		return img_put(h, atts);
	case EK_INPUT:
		return MUGAI_OK;
	default:
		break;
	}
	if ((rc = frame_push(h, kind, &f)) != MUGAI_OK)
		return rc;
	*down = 1;
	return elem_open(h, f, atts);
}

static mugai_status
elem_leave(struct h2t *h, enum ek kind, unsigned depth)
{
	struct frame f;

	/* Too deep: no frame, a block only keeps words apart. */
	if (depth > h->max_depth) {
		if (kind != EK_INLINE)
			h->space = 1;
		return MUGAI_OK;
	}
	if (h->nfr == 0)
		return MUGAI_OK;
	f = h->fr[--h->nfr];
	return elem_close(h, &f);
}

/* ---- libxml2's parser events ---- */

/*
 * The text is made in one pass over libxml2's SAX events, without a
 * tree; the output is the one a depth-first walk over the tree that
 * libxml2's own tree builder (SAX2.c) makes of the same events would
 * give.  So the builder's rules are kept here:
 *
 *  - it refuses an element when more than xmlParserMaxDepth (256) are
 *    open and stops the parser: the rest of the text is lost;
 *  - text outside every element is dropped;
 *  - an element that starts when none is open goes under the
 *    document's first child if that is an element (the root: content
 *    after </html>), else after it.  The root's end is therefore held
 *    back (root_open) until the document ends or a DOCTYPE, which
 *    libxml2 puts first, makes later elements its siblings.
 *
 * A subtree the walk would not enter (hidden, script, <br>...) is
 * skipped by depth.  After an error every event is ignored.
 */
static struct h2t *
sax_h2t(void *ctx)
{
	return ((htmlParserCtxtPtr)ctx)->_private;
}

/*
 * Keep the first error; the events after it are ignored.  The parser
 * is not stopped: libxml2 2.9 halts safely only where its own tree
 * builder did (at an element's start), while from a text event it
 * would step past the end of the emptied input.
 */
static void
sax_fail(struct h2t *h, mugai_status rc)
{
	if (rc != MUGAI_OK && h->rc == MUGAI_OK)
		h->rc = rc;
}

/* The end of the element at h->depth. */
static mugai_status
walk_up(struct h2t *h, enum ek kind)
{
	mugai_status rc = MUGAI_OK;

	if (h->skip != 0) {
		if (h->depth == h->skip)
			h->skip = 0;
	} else
		rc = elem_leave(h, kind, h->depth);
	h->depth--;
	return rc;
}

/*
 * The element's kind.  libxml2's tree builder names an element by the
 * part after its first ':' ("o:p" is a p), as xmlSplitQName does; the
 * parser's events carry the whole name.
 */
static enum ek
sax_kind(const struct h2t *h, const xmlChar *name)
{
	const xmlChar *c;

	if (name != NULL && name[0] != ':' &&
	    (c = (const xmlChar *)strchr((const char *)name, ':')) != NULL &&
	    c[1] != '\0')
		name = c + 1;
	return ek_lookup(h, name);
}

static void
sax_document(void *ctx)
{
	sax_h2t(ctx)->started = 1;
}

static void
sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct h2t *h = sax_h2t(ctx);
	int down;
	mugai_status rc;

	if (h->rc != MUGAI_OK || h->halted)
		return;
	if (h->sax_depth > xmlParserMaxDepth) {
		h->halted = 1;
		h->ignore_end = 1;
		h->st->truncated = 1;
		xmlStopParser((htmlParserCtxtPtr)ctx);
		return;
	}
	if (h->sax_depth == 0) {
		if (h->first == FIRST_NONE)
			h->first = FIRST_ELEM;
		else if (h->root_open && h->first != FIRST_ELEM) {
			h->root_open = 0;
			if ((rc = walk_up(h, h->root_kind)) != MUGAI_OK) {
				sax_fail(h, rc);
				return;
			}
		}
	}
	h->sax_depth++;
	h->depth++;
	if (h->skip != 0)
		return;
	rc = elem_enter(h, sax_kind(h, name), atts, h->depth, &down);
	if (rc == MUGAI_OK && !down)
		h->skip = h->depth;
	sax_fail(h, rc);
}

static void
sax_end(void *ctx, const xmlChar *name)
{
	struct h2t *h = sax_h2t(ctx);

	if (h->rc != MUGAI_OK)
		return;
	if (h->ignore_end > 0) {
		h->ignore_end--;
		return;
	}
	if (h->sax_depth == 0)
		return;
	h->sax_depth--;
	if (h->sax_depth == 0 && h->depth == 1 && h->first == FIRST_ELEM) {
		h->root_open = 1;
		h->root_kind = sax_kind(h, name);
		return;
	}
	sax_fail(h, walk_up(h, sax_kind(h, name)));
}

static void
sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct h2t *h = sax_h2t(ctx);

	if (h->rc != MUGAI_OK || h->halted || h->sax_depth == 0 ||
	    h->skip != 0 || len <= 0)
		return;
	sax_fail(h, text_put(h, (const char *)ch, (size_t)len));
}

/* A comment or processing instruction: only its place matters. */
static void
sax_misc(void *ctx)
{
	struct h2t *h = sax_h2t(ctx);

	if (h->sax_depth == 0 && h->first == FIRST_NONE)
		h->first = FIRST_OTHER;
}

static void
sax_comment(void *ctx, const xmlChar *value)
{
	(void)value;
	sax_misc(ctx);
}

static void
sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	(void)data;
	sax_misc(ctx);
}

/* <!DOCTYPE>: libxml2 makes the first one the document's first child. */
static void
sax_doctype(void *ctx, const xmlChar *name, const xmlChar *pub,
    const xmlChar *sys)
{
	(void)name;
	(void)pub;
	(void)sys;
	sax_h2t(ctx)->first = FIRST_OTHER;
}

/*
 * Parse in recover mode and make the text on the way.  NOERROR and
 * NOWARNING clear the context's error callbacks, so nothing reaches
 * stderr and no process-wide (or thread-wide) handler is touched.
 */
static mugai_status
html_parse(struct h2t *h, const char *utf, size_t len)
{
	htmlParserCtxtPtr ctxt;
	htmlSAXHandler *sax;
	mugai_status rc = MUGAI_OK;

	if (len > INT_MAX)
		return MUGAI_ERR_LIMIT;
	xmlInitParser();
	if ((ctxt = htmlNewParserCtxt()) == NULL)
		return MUGAI_ERR_NOMEM;
	sax = ctxt->sax;
	memset(sax, 0, sizeof(*sax));
	sax->startDocument = sax_document;
	sax->startElement = sax_start;
	sax->endElement = sax_end;
	sax->characters = sax_text;
	sax->cdataBlock = sax_text;
	sax->comment = sax_comment;
	sax->processingInstruction = sax_pi;
	sax->internalSubset = sax_doctype;
	sax->initialized = 1;
	ctxt->_private = h;
	/* The result is never a tree: no handler builds one. */
	(void)htmlCtxtReadMemory(ctxt, utf, (int)len, NULL, "UTF-8",
	    HTML_OPTS);
	if (h->rc != MUGAI_OK)
		rc = h->rc;
	else if (ctxt->errNo == XML_ERR_NO_MEMORY)
		rc = MUGAI_ERR_NOMEM;
	else if (!h->started)
		rc = MUGAI_ERR_PARSE;
	else {
		/* Stopped early (its depth limit): the rest is lost. */
		if (ctxt->disableSAX != 0)
			h->st->truncated = 1;
		if (h->root_open) {
			h->root_open = 0;
			rc = walk_up(h, h->root_kind);
		}
	}
	htmlFreeParserCtxt(ctxt);
	return rc;
}

static void
h2t_init(struct h2t *h, struct mugai_buf *out, struct mugai_html_stats *st,
    unsigned max_depth)
{
	memset(h, 0, sizeof(*h));
	h->out = out;
	h->st = st;
	h->max_depth = max_depth;
	/* A line longer than out's cap could never be written. */
	mugai_buf_init(&h->line, out->max);
	mugai_buf_init(&h->ltext, LTEXT_MAX);
	mugai_buf_init(&h->warn, 0);
	mugai_buf_init(&h->hrefs, 0);
	ek_index(h);
}

static void
h2t_free(struct h2t *h)
{
	mugai_buf_free(&h->line);
	mugai_buf_free(&h->ltext);
	mugai_buf_free(&h->warn);
	mugai_buf_free(&h->hrefs);
	free(h->fr);
	h->fr = NULL;
}

static int
only_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!in_set(s[i], " \t\n"))
			return 0;
	return 1;
}

mugai_status
mugai_html_to_text(const char *html, size_t len, const char *charset,
    unsigned max_depth, struct mugai_buf *out,
    struct mugai_html_stats *stats)
{
	struct mugai_html_stats dummy;
	struct mugai_buf utf;
	struct h2t h;
	mugai_status rc;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (out == NULL || (html == NULL && len > 0))
		return MUGAI_ERR_USAGE;
	mugai_buf_init(&utf, 0);
	h2t_init(&h, out, stats, max_depth);
	if ((rc = html_decode(html, len, charset, &utf)) != MUGAI_OK ||
	    only_space(utf.data, utf.len))
		goto out;
	if ((rc = html_parse(&h, utf.data, utf.len)) == MUGAI_OK)
		rc = line_end(&h);
out:
	if (rc == MUGAI_ERR_LIMIT)
		stats->truncated = 1;
	h2t_free(&h);
	mugai_buf_free(&utf);
	return rc;
}
