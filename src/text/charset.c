/*
 * charset.c - decoding Japanese (and other) text to UTF-8.
 *
 * Every decoder here works on one call's data only: iconv descriptors
 * are opened per call and closed before returning, so the functions may
 * run concurrently in milter threads.  A byte that cannot be decoded
 * becomes one U+FFFD and decoding resumes right after it: nothing is
 * dropped, and one bad byte never swallows its neighbours (which is why
 * //IGNORE is never used: glibc mangles the text around the error).
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "mugai/text/charset.h"

#define REPLACEMENT	"\xEF\xBF\xBD"
#define LABEL_MAX	48	/* longer labels are not charset names */
#define ICONV_CHUNK	4096

/* The output of one decoding call. */
struct dec {
	struct mugai_buf *out;
	size_t		  nbad;
};

/*
 * Labels as mailers write them, normalised (lower case, without '-',
 * '_', '.' and spaces), and what they are decoded as.  Shift_JIS means
 * CP932 in practice (glibc SHIFT_JIS rejects ① and friends); EUC-JP
 * means eucJP-ms.  ISO-8859-1 means windows-1252, as in browsers: its
 * 0x80-0x9F range holds printable characters in mail from Windows.
 */
static const struct cs_alias {
	const char *label;
	const char *name;
} cs_aliases[] = {
	{ "utf8",		"UTF-8" },
	{ "unicode11utf8",	"UTF-8" },
	{ "xunicode20utf8",	"UTF-8" },
	{ "usascii",		"US-ASCII" },
	{ "ascii",		"US-ASCII" },
	{ "ansix341968",	"US-ASCII" },
	{ "iso646us",		"US-ASCII" },
	{ "csascii",		"US-ASCII" },
	{ "us",			"US-ASCII" },
	{ "iso2022jp",		"ISO-2022-JP" },
	{ "csiso2022jp",	"ISO-2022-JP" },
	{ "iso2022jp1",		"ISO-2022-JP" },
	{ "iso2022jp2",		"ISO-2022-JP" },
	{ "csiso2022jp2",	"ISO-2022-JP" },
	{ "iso2022jp3",		"ISO-2022-JP" },
	{ "iso2022jpms",	"ISO-2022-JP" },
	{ "cp50220",		"ISO-2022-JP" },
	{ "cp50221",		"ISO-2022-JP" },
	{ "cp50222",		"ISO-2022-JP" },
	{ "xcp50220",		"ISO-2022-JP" },
	{ "xcp50221",		"ISO-2022-JP" },
	{ "xcp50222",		"ISO-2022-JP" },
	{ "shiftjis",		"CP932" },
	{ "sjis",		"CP932" },
	{ "xsjis",		"CP932" },
	{ "windows31j",		"CP932" },
	{ "cswindows31j",	"CP932" },
	{ "ms932",		"CP932" },
	{ "cp932",		"CP932" },
	{ "xmscp932",		"CP932" },
	{ "mskanji",		"CP932" },
	{ "csshiftjis",		"CP932" },
	{ "sjiswin",		"CP932" },
	{ "sjisopen",		"CP932" },
	{ "eucjp",		"EUC-JP" },
	{ "xeucjp",		"EUC-JP" },
	{ "eucjpms",		"EUC-JP" },
	{ "eucjpwin",		"EUC-JP" },
	{ "eucjpopen",		"EUC-JP" },
	{ "cp51932",		"EUC-JP" },
	{ "cseucpkdfmtjapanese", "EUC-JP" },
	{ "shiftjisx0213",	"SHIFT_JISX0213" },
	{ "eucjisx0213",	"EUC-JISX0213" },
	{ "iso88591",		"WINDOWS-1252" },
	{ "iso88591:1987",	"WINDOWS-1252" },
	{ "latin1",		"WINDOWS-1252" },
	{ "l1",			"WINDOWS-1252" },
	{ "cp819",		"WINDOWS-1252" },
	{ "csisolatin1",	"WINDOWS-1252" },
	{ "iso88592",		"ISO-8859-2" },
	{ "iso88593",		"ISO-8859-3" },
	{ "iso88594",		"ISO-8859-4" },
	{ "iso88595",		"ISO-8859-5" },
	{ "iso88596",		"ISO-8859-6" },
	{ "iso88597",		"ISO-8859-7" },
	{ "iso88598",		"ISO-8859-8" },
	{ "iso88598i",		"ISO-8859-8" },
	{ "iso88599",		"ISO-8859-9" },
	{ "iso885910",		"ISO-8859-10" },
	{ "iso885913",		"ISO-8859-13" },
	{ "iso885914",		"ISO-8859-14" },
	{ "iso885915",		"ISO-8859-15" },
	{ "latin9",		"ISO-8859-15" },
	{ "iso885916",		"ISO-8859-16" },
	{ "windows1250",	"WINDOWS-1250" },
	{ "windows1251",	"WINDOWS-1251" },
	{ "windows1252",	"WINDOWS-1252" },
	{ "windows1253",	"WINDOWS-1253" },
	{ "windows1254",	"WINDOWS-1254" },
	{ "windows1255",	"WINDOWS-1255" },
	{ "windows1256",	"WINDOWS-1256" },
	{ "windows1257",	"WINDOWS-1257" },
	{ "windows1258",	"WINDOWS-1258" },
	{ "cp1250",		"WINDOWS-1250" },
	{ "cp1251",		"WINDOWS-1251" },
	{ "cp1252",		"WINDOWS-1252" },
	{ "cp1253",		"WINDOWS-1253" },
	{ "cp1254",		"WINDOWS-1254" },
	{ "cp1255",		"WINDOWS-1255" },
	{ "cp1256",		"WINDOWS-1256" },
	{ "cp1257",		"WINDOWS-1257" },
	{ "cp1258",		"WINDOWS-1258" },
	{ "xcp1250",		"WINDOWS-1250" },
	{ "xcp1251",		"WINDOWS-1251" },
	{ "xcp1252",		"WINDOWS-1252" },
	{ "windows874",		"CP874" },
	{ "tis620",		"CP874" },
	{ "iso885911",		"CP874" },
	{ "koi8r",		"KOI8-R" },
	{ "cskoi8r",		"KOI8-R" },
	{ "koi8u",		"KOI8-U" },
	{ "ibm866",		"IBM866" },
	{ "cp866",		"IBM866" },
	{ "gb2312",		"GBK" },
	{ "csgb2312",		"GBK" },
	{ "gb231280",		"GBK" },
	{ "gbk",		"GBK" },
	{ "xgbk",		"GBK" },
	{ "cp936",		"GBK" },
	{ "euccn",		"GBK" },
	{ "xeuccn",		"GBK" },
	{ "gb18030",		"GB18030" },
	{ "big5",		"BIG5-HKSCS" },
	{ "csbig5",		"BIG5-HKSCS" },
	{ "cnbig5",		"BIG5-HKSCS" },
	{ "xxbig5",		"BIG5-HKSCS" },
	{ "big5hkscs",		"BIG5-HKSCS" },
	{ "cp950",		"BIG5-HKSCS" },
	{ "euckr",		"CP949" },
	{ "cseuckr",		"CP949" },
	{ "ksc56011987",	"CP949" },
	{ "ksc5601",		"CP949" },
	{ "cp949",		"CP949" },
	{ "uhc",		"CP949" },
	{ "windows949",		"CP949" },
	{ "iso2022kr",		"ISO-2022-KR" },
	{ "iso2022cn",		"ISO-2022-CN" },
	{ "utf16",		"UTF-16" },
	{ "utf16le",		"UTF-16LE" },
	{ "utf16be",		"UTF-16BE" },
	{ "utf7",		"UTF-7" },
	{ "macintosh",		"MACINTOSH" },
	{ "xmacroman",		"MACINTOSH" },
};

/* Bytes with special meaning to the Japanese decoders. */
static int
sjis_lead(unsigned char c)
{
	return (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC);
}

static int
sjis_trail(unsigned char c)
{
	return (c >= 0x40 && c <= 0x7E) || (c >= 0x80 && c <= 0xFC);
}

static int
euc_byte(unsigned char c)
{
	return c >= 0xA1 && c <= 0xFE;
}

const char *
mugai_charset_canonical(const char *label)
{
	char norm[LABEL_MAX + 1];
	size_t i, n = 0;
	unsigned char c;

	if (label == NULL)
		return NULL;
	for (i = 0; label[i] != '\0'; i++) {
		c = (unsigned char)label[i];
		if (c == '"' || c == '\'' || c == ' ' || c == '\t' ||
		    c == '-' || c == '_' || c == '.' || c == '\r' || c == '\n')
			continue;
		if (n == LABEL_MAX)
			return NULL;
		norm[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	norm[n] = '\0';
	if (n == 0)
		return NULL;
	for (i = 0; i < sizeof(cs_aliases) / sizeof(cs_aliases[0]); i++)
		if (strcmp(norm, cs_aliases[i].label) == 0)
			return cs_aliases[i].name;
	return NULL;
}

/*
 * Length of the well-formed UTF-8 sequence at p, or 0 when it is
 * ill-formed; *bad then gets the length of its maximal subpart (at
 * least 1), which is replaced by one U+FFFD (Unicode ch. 3, "U+FFFD
 * substitution of maximal subparts").
 */
static inline size_t
utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (i = 1; i < need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

int
mugai_utf8_valid(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, k, bad;

	while (i < len) {
		/* ASCII first: mail text is mostly ASCII, tags always. */
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, len - i, &bad)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static mugai_status
dec_bad(struct dec *d)
{
	d->nbad++;
	return mugai_buf_append(d->out, REPLACEMENT, 3);
}

static mugai_status
dec_utf8(const char *in, size_t len, struct dec *d)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, start = 0, k, bad;
	mugai_status rc;

	/* A byte order mark says nothing to a reader of mail. */
	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		i = start = 3;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, len - i, &bad)) != 0) {
			i += k;
			continue;
		}
		if ((rc = mugai_buf_append(d->out, in + start, i - start)) !=
		    MUGAI_OK || (rc = dec_bad(d)) != MUGAI_OK)
			return rc;
		i += bad;
		start = i;
	}
	return mugai_buf_append(d->out, in + start, i - start);
}

static mugai_status
dec_ascii(const char *in, size_t len, struct dec *d)
{
	size_t i, start = 0;
	mugai_status rc;

	for (i = 0; i < len; i++) {
		if (!((unsigned char)in[i] & 0x80))
			continue;
		if ((rc = mugai_buf_append(d->out, in + start, i - start)) !=
		    MUGAI_OK || (rc = dec_bad(d)) != MUGAI_OK)
			return rc;
		start = i + 1;
	}
	return mugai_buf_append(d->out, in + start, len - start);
}

/*
 * Resynchronisation after an undecodable sequence: how many bytes one
 * U+FFFD stands for.  For CP932 and EUC-JP a well-formed but unmapped
 * pair is one character; an ASCII byte after a lead byte is kept (as the
 * WHATWG decoders do), so a stray lead byte never eats a '<' or a '"'.
 */
typedef size_t (*resync_fn)(const unsigned char *p, size_t n);

static size_t
resync_byte(const unsigned char *p, size_t n)
{
	return 1;
}

static size_t
resync_pair(const unsigned char *p, size_t n)
{
	return n >= 2 ? 2 : n;
}

static size_t
resync_triple(const unsigned char *p, size_t n)
{
	return n >= 3 ? 3 : n;
}

static size_t
resync_cp932(const unsigned char *p, size_t n)
{
	if (n >= 2 && sjis_lead(p[0]) && p[1] >= 0x80 && sjis_trail(p[1]))
		return 2;
	return 1;
}

static size_t
resync_eucjp(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0x8F && euc_byte(p[1]) && euc_byte(p[2]))
		return 3;
	if (n >= 2 && (euc_byte(p[0]) || p[0] == 0x8E) && euc_byte(p[1]))
		return 2;
	return 1;
}

/*
 * Convert in[0..len) with cd, one U+FFFD per undecodable sequence as
 * sized by resync, one for an incomplete sequence at the end.
 */
static mugai_status
iconv_run(iconv_t cd, const char *in, size_t len, resync_fn resync,
    struct dec *d)
{
	char chunk[ICONV_CHUNK], *ip = (char *)in, *op;
	size_t il = len, ol, r, skip;
	mugai_status rc;
	int err;

	while (il > 0) {
		op = chunk;
		ol = sizeof(chunk);
		r = iconv(cd, &ip, &il, &op, &ol);
		err = errno;
		if ((rc = mugai_buf_append(d->out, chunk, (size_t)(op - chunk)))
		    != MUGAI_OK)
			return rc;
		if (r != (size_t)-1 || err == E2BIG)
			continue;
		if ((rc = dec_bad(d)) != MUGAI_OK)
			return rc;
		if (err == EINVAL)
			break;
		skip = resync((const unsigned char *)ip, il);
		ip += skip;
		il -= skip;
	}
	op = chunk;
	ol = sizeof(chunk);
	(void)iconv(cd, NULL, NULL, &op, &ol);
	return mugai_buf_append(d->out, chunk, (size_t)(op - chunk));
}

/* Decode with an iconv charset; an unknown one makes every byte bad. */
static mugai_status
dec_iconv(const char *name, const char *in, size_t len, resync_fn resync,
    struct dec *d)
{
	iconv_t cd;
	size_t i;
	mugai_status rc;

	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
		for (i = 0; i < len; i++)
			if ((rc = dec_bad(d)) != MUGAI_OK)
				return rc;
		return MUGAI_OK;
	}
	rc = iconv_run(cd, in, len, resync, d);
	iconv_close(cd);
	return rc;
}

/*
 * EUC-JP through eucJP-ms.  glibc passes stray bytes 0x80-0x8D and
 * 0x90-0xA0 through as C1 controls; EUC-JP has no such characters, so
 * they are cut out here and each becomes U+FFFD.  The walk follows the
 * same sequence boundaries as resync_eucjp, so a cut never splits a
 * character iconv would have decoded.
 */
static mugai_status
dec_eucjp(const char *in, size_t len, struct dec *d)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, start = 0;
	iconv_t cd;
	mugai_status rc = MUGAI_OK;

	if ((cd = iconv_open("UTF-8", "EUC-JP-MS")) == (iconv_t)-1)
		return dec_iconv("EUC-JP-MS", in, len, resync_eucjp, d);
	while (i < len && rc == MUGAI_OK) {
		if (p[i] < 0x80 || p[i] == 0x8E || p[i] == 0x8F ||
		    euc_byte(p[i])) {
			i += p[i] < 0x80 ? 1 : resync_eucjp(p + i, len - i);
			continue;
		}
		if ((rc = iconv_run(cd, in + start, i - start, resync_eucjp,
		    d)) == MUGAI_OK)
			rc = dec_bad(d);
		start = ++i;
	}
	if (rc == MUGAI_OK)
		rc = iconv_run(cd, in + start, len - start, resync_eucjp, d);
	iconv_close(cd);
	return rc;
}

/*
 * ISO-2022-JP as CP50221 writes it, plus the ISO-2022-JP-1/2/3 sets
 * that cost one table line.  Two-byte units are rewritten to the bytes
 * of an 8-bit charset that holds the same set and converted a run at a
 * time: JIS X 0208 through CP932, so that NEC row 13 and the
 * NEC-selected IBM extensions (rows 89-92) decode as Windows does.
 */
enum jis_set {
	JS_ASCII,
	JS_KANA,
	JS_0208,
	JS_0212,
	JS_0213_1,
	JS_0213_2,
	JS_GB2312,
	JS_KSC5601,
	JS_NSETS,
	JS_NONE			/* an announcer: changes nothing */
};

enum jis_form {
	FORM_SJIS,		/* JIS row/cell to Shift_JIS */
	FORM_EUC,		/* both bytes | 0x80 */
	FORM_EUC3		/* 0x8F, then both bytes | 0x80 */
};

static const struct jis_twobyte {
	const char	*iconv_name;
	enum jis_form	 form;
} jis_twobyte[JS_NSETS] = {
	[JS_0208]	= { "CP932",		FORM_SJIS },
	[JS_0212]	= { "EUC-JP-MS",	FORM_EUC3 },
	[JS_0213_1]	= { "EUC-JISX0213",	FORM_EUC },
	[JS_0213_2]	= { "EUC-JISX0213",	FORM_EUC3 },
	[JS_GB2312]	= { "GBK",		FORM_EUC },
	[JS_KSC5601]	= { "CP949",		FORM_EUC },
};

/*
 * Designations, after ESC.  ESC ( J (JIS Roman) is read as ASCII, as
 * Windows and most mailers do: senders use it for plain ASCII text, and
 * a yen sign in place of every backslash would corrupt paths and URLs.
 */
static const struct jis_escape {
	const char	*seq;
	enum jis_set	 set;
} jis_escapes[] = {
	{ "(B",		JS_ASCII },
	{ "(J",		JS_ASCII },
	{ "(H",		JS_ASCII },
	{ "(I",		JS_KANA },
	{ "$@",		JS_0208 },
	{ "$B",		JS_0208 },
	{ "$(@",	JS_0208 },
	{ "$(B",	JS_0208 },
	{ "$(D",	JS_0212 },
	{ "$(O",	JS_0213_1 },
	{ "$(Q",	JS_0213_1 },
	{ "$(P",	JS_0213_2 },
	{ "$A",		JS_GB2312 },
	{ "$(C",	JS_KSC5601 },
	{ "&@",		JS_NONE },
};

#define JIS_RUN		512	/* bytes of rewritten units per iconv call */

struct jis_dec {
	struct dec	*d;
	iconv_t		 cd[JS_NSETS];
	int		 tried[JS_NSETS];
	enum jis_set	 set;		/* designated set */
	int		 shifted;	/* SO: katakana until SI */
	enum jis_set	 runset;	/* set of the units in run */
	unsigned char	 run[JIS_RUN];
	size_t		 runlen;
};

/* Length of the designation after ESC at p, 0 if none; *set gets it. */
static size_t
jis_escape(const char *p, size_t n, enum jis_set *set)
{
	size_t i, k;

	for (i = 0; i < sizeof(jis_escapes) / sizeof(jis_escapes[0]); i++) {
		k = strlen(jis_escapes[i].seq);
		if (k <= n && memcmp(p, jis_escapes[i].seq, k) == 0) {
			*set = jis_escapes[i].set;
			return k;
		}
	}
	return 0;
}

static mugai_status
jis_flush(struct jis_dec *j)
{
	enum jis_set s = j->runset;
	size_t i, len = j->runlen;
	size_t unit = jis_twobyte[s].form == FORM_EUC3 ? 3 : 2;
	mugai_status rc;

	j->runlen = 0;
	if (len == 0)
		return MUGAI_OK;
	if (!j->tried[s]) {
		j->tried[s] = 1;
		j->cd[s] = iconv_open("UTF-8", jis_twobyte[s].iconv_name);
	}
	if (j->cd[s] == (iconv_t)-1) {
		for (i = 0; i < len; i += unit)
			if ((rc = dec_bad(j->d)) != MUGAI_OK)
				return rc;
		return MUGAI_OK;
	}
	return iconv_run(j->cd[s], (const char *)j->run, len,
	    unit == 3 ? resync_triple : resync_pair, j->d);
}

/* Queue the unit (a, b) of set s, both in 0x21..0x7E, for conversion. */
static mugai_status
jis_unit(struct jis_dec *j, enum jis_set s, unsigned char a, unsigned char b)
{
	unsigned char *u;
	mugai_status rc;

	if ((j->runset != s || j->runlen + 3 > JIS_RUN) &&
	    (rc = jis_flush(j)) != MUGAI_OK)
		return rc;
	j->runset = s;
	u = j->run + j->runlen;
	switch (jis_twobyte[s].form) {
	case FORM_SJIS:
		u[0] = (unsigned char)(((a - 0x21) >> 1) + 0x81);
		if (u[0] > 0x9F)
			u[0] += 0x40;
		if (a & 1)
			u[1] = (unsigned char)(b + (b >= 0x60 ? 0x20 : 0x1F));
		else
			u[1] = (unsigned char)(b + 0x7E);
		j->runlen += 2;
		break;
	case FORM_EUC:
		u[0] = a | 0x80;
		u[1] = b | 0x80;
		j->runlen += 2;
		break;
	case FORM_EUC3:
		u[0] = 0x8F;
		u[1] = a | 0x80;
		u[2] = b | 0x80;
		j->runlen += 3;
		break;
	}
	return MUGAI_OK;
}

/* One byte outside any two-byte unit. */
static mugai_status
jis_single(struct jis_dec *j, unsigned char c)
{
	mugai_status rc;

	if ((rc = jis_flush(j)) != MUGAI_OK)
		return rc;
	if (c >= 0x80)
		return dec_bad(j->d);
	if (c < 0x21 || c == 0x7F || (!j->shifted && j->set == JS_ASCII))
		return mugai_buf_putc(j->d->out, (char)c);
	if (j->shifted || j->set == JS_KANA) {
		if (c > 0x5F)
			return dec_bad(j->d);
		/* JIS X 0201 katakana 0x21..0x5F is U+FF61..U+FF9F. */
		return mugai_buf_put_utf8(j->d->out, 0xFF40UL + c);
	}
	/* A lone byte in a two-byte set: truncated or broken unit. */
	return dec_bad(j->d);
}

static mugai_status
jis_step(struct jis_dec *j, const unsigned char *p, size_t n, size_t *used)
{
	enum jis_set s;
	size_t k;
	mugai_status rc;

	*used = 1;
	switch (p[0]) {
	case 0x1B:
		if ((rc = jis_flush(j)) != MUGAI_OK)
			return rc;
		if ((k = jis_escape((const char *)p + 1, n - 1, &s)) == 0)
			return dec_bad(j->d);
		*used = 1 + k;
		if (s != JS_NONE)
			j->set = s;
		return MUGAI_OK;
	case 0x0E:
	case 0x0F:
		j->shifted = p[0] == 0x0E;
		return jis_flush(j);
	}
	if (!j->shifted && j->set != JS_ASCII && j->set != JS_KANA &&
	    p[0] >= 0x21 && p[0] <= 0x7E && n >= 2 &&
	    p[1] >= 0x21 && p[1] <= 0x7E) {
		*used = 2;
		return jis_unit(j, j->set, p[0], p[1]);
	}
	return jis_single(j, p[0]);
}

static mugai_status
dec_iso2022jp(const char *in, size_t len, struct dec *d)
{
	struct jis_dec j;
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, used;
	mugai_status rc = MUGAI_OK;
	int s;

	memset(&j, 0, sizeof(j));
	j.d = d;
	j.set = JS_ASCII;
	j.runset = JS_0208;
	while (i < len) {
		if ((rc = jis_step(&j, p + i, len - i, &used)) != MUGAI_OK)
			goto out;
		i += used;
	}
	rc = jis_flush(&j);
out:
	for (s = 0; s < JS_NSETS; s++)
		if (j.tried[s] && j.cd[s] != (iconv_t)-1)
			iconv_close(j.cd[s]);
	return rc;
}

/* 1 if in holds an ISO-2022 designation escape. */
static int
has_jis_escape(const char *in, size_t len)
{
	enum jis_set s;
	const char *p;

	for (p = memchr(in, 0x1B, len); p != NULL;
	    p = memchr(p + 1, 0x1B, len - (size_t)(p + 1 - in)))
		if (jis_escape(p + 1, len - (size_t)(p + 1 - in), &s) != 0 &&
		    s != JS_NONE)
			return 1;
	return 0;
}

/*
 * CP932 or EUC-JP?  Each is parsed structurally; invalid sequences cost
 * much, double-byte characters score.  Half-width katakana scores
 * nothing in CP932, because EUC-JP kana and kanji bytes read as CP932
 * are mostly such single bytes.  Ties go to CP932, Windows' charset.
 */
static long
score_cp932(const unsigned char *p, size_t n)
{
	size_t i = 0;
	long score = 0;

	while (i < n) {
		if (p[i] < 0x80 || (p[i] >= 0xA1 && p[i] <= 0xDF)) {
			i++;
		} else if (sjis_lead(p[i]) && i + 1 < n &&
		    sjis_trail(p[i + 1])) {
			score += 2;
			i += 2;
		} else {
			score -= 10;
			i++;
		}
	}
	return score;
}

static long
score_eucjp(const unsigned char *p, size_t n)
{
	size_t k;
	size_t i = 0;
	long score = 0;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = resync_eucjp(p + i, n - i);
		if (k == 1) {
			score -= 10;
		} else
			score += 2;
		i += k;
	}
	return score;
}

const char *
mugai_charset_detect(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i;
	int high = 0;

	if (in == NULL)
		return "US-ASCII";
	if (has_jis_escape(in, len))
		return "ISO-2022-JP";
	for (i = 0; i < len && !high; i++)
		high = p[i] >= 0x80;
	if (!high)
		return "US-ASCII";
	if (mugai_utf8_valid(in, len))
		return "UTF-8";
	if (score_eucjp(p, len) > score_cp932(p, len))
		return "EUC-JP";
	return "CP932";
}

mugai_status
mugai_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct mugai_buf *out, size_t *nbad)
{
	struct dec d;
	const char *cs;
	mugai_status rc;

	d.out = out;
	d.nbad = 0;
	if (in == NULL) {
		in = "";
		len = 0;
	}
	cs = mugai_charset_canonical(charset);
	/*
	 * Detect when the label is missing, unknown, or claims ASCII for
	 * 8-bit or ISO-2022-JP bytes (a common mislabelling).
	 */
	if (cs == NULL || strcmp(cs, "US-ASCII") == 0)
		cs = mugai_charset_detect(in, len);
	if (strcmp(cs, "US-ASCII") == 0)
		rc = dec_ascii(in, len, &d);
	else if (strcmp(cs, "UTF-8") == 0)
		rc = dec_utf8(in, len, &d);
	else if (strcmp(cs, "ISO-2022-JP") == 0)
		rc = dec_iso2022jp(in, len, &d);
	else if (strcmp(cs, "CP932") == 0)
		rc = dec_iconv("CP932", in, len, resync_cp932, &d);
	else if (strcmp(cs, "EUC-JP") == 0)
		rc = dec_eucjp(in, len, &d);
	else
		rc = dec_iconv(cs, in, len, resync_byte, &d);
	if (nbad != NULL)
		*nbad = d.nbad;
	return rc;
}

mugai_status
mugai_charset_utf8_to_iso2022jp(const char *in, size_t len,
    struct mugai_buf *out)
{
	struct mugai_buf tmp;
	char chunk[ICONV_CHUNK], *ip = (char *)in, *op;
	size_t il = len, ol, r;
	iconv_t cd;
	mugai_status rc = MUGAI_OK;
	int err;

	if (in == NULL) {
		in = "";
		len = il = 0;
	}
	if (!mugai_utf8_valid(in, len))
		return MUGAI_ERR_NOTFOUND;
	if ((cd = iconv_open("ISO-2022-JP", "UTF-8")) == (iconv_t)-1)
		return MUGAI_ERR_INTERNAL;
	mugai_buf_init(&tmp, out->max);
	while (il > 0) {
		op = chunk;
		ol = sizeof(chunk);
		r = iconv(cd, &ip, &il, &op, &ol);
		err = errno;
		if ((rc = mugai_buf_append(&tmp, chunk, (size_t)(op - chunk)))
		    != MUGAI_OK)
			goto out;
		if (r == (size_t)-1 && err != E2BIG) {
			rc = MUGAI_ERR_NOTFOUND;
			goto out;
		}
	}
	/* Back to ASCII at the end, as RFC 1468 requires. */
	op = chunk;
	ol = sizeof(chunk);
	(void)iconv(cd, NULL, NULL, &op, &ol);
	if ((rc = mugai_buf_append(&tmp, chunk, (size_t)(op - chunk))) !=
	    MUGAI_OK)
		goto out;
	rc = mugai_buf_append(out, tmp.data ? tmp.data : "", tmp.len);
out:
	mugai_buf_free(&tmp);
	iconv_close(cd);
	return rc;
}
