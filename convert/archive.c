/*
 * archive.c - list the members of an archive (zip, 7z, rar, lzh, tar,
 * cpio, iso, and gzip/bzip2/xz streams) as a member stream
 * (mugai/cdr/members.h), inside the sandbox.
 *
 * Nothing is extracted: libarchive reads from memory and each member's
 * bytes go to the parent, which sanitises them by the policy (nested
 * archives included, with its own depth cap) and packs the kept ones
 * into a fresh zip.  The worker's job is to refuse what must not reach
 * the parent at all: path traversal, password-protected archives (PPAP,
 * which cannot be inspected and is held whole), and bombs.  A zip with
 * [Content_Types].xml is an Office file libmagic did not recognise: it
 * is cleaned by the OOXML cleaner and answered with its frame instead
 * (ooxml.c, mugai/cdr/worker.h).
 */
#include <archive.h>
#include <archive_entry.h>
#include <iconv.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mugai/text/charset.h"
#include "mugai/cdr/members.h"
#include "convert.h"

#define ARC_CHUNK	65536
/*
 * The ratio cap starts to bite only past this many unpacked bytes: a
 * 2 KB zip of a 300 KB text file is ordinary, and below the floor the
 * total cap bounds the damage anyway.
 */
#define ARC_RATIO_FLOOR	((uint64_t)1 << 20)

/* What convert_archive_prepare loads before the sandbox closes. */
static int	 arc_prepared;
static locale_t	 arc_utf8;		/* (locale_t)0 when unavailable */
static iconv_t	 arc_cp932 = (iconv_t)-1;

struct arc {
	const struct convert_opts *o;
	size_t	 inlen;
	struct mugai_buf *out;
	size_t	 start;			/* where the stream began in out */
	uint32_t members;		/* written to the stream */
	unsigned entries;		/* headers read, of any kind */
	unsigned skipped;		/* links, devices, fifos */
	uint64_t total;			/* bytes unpacked so far */
	struct mugai_buf data;		/* the member being read */
	struct mugai_buf name;		/* its name, decoded and normalised */
	char	*why;
	size_t	 whylen;
};

/*
 * convert_archive_prepare - load, before sandbox_enter, what reading
 * archive names needs from the file system, since the sandbox kills
 * open():
 *  - a UTF-8 LC_CTYPE locale, used only while convert_archive runs:
 *    libarchive converts UTF-8 (zip bit 11, rar5, pax) and UTF-16 (7z,
 *    Joliet) names to the current locale, and in the C locale it turns
 *    every Japanese character into an error;
 *  - glibc's gconv cache and its CP932 module (dlopen'ed by the first
 *    iconv_open) for names in Japanese Windows' code page.  One
 *    descriptor stays open for good: gconv unloads modules nobody
 *    holds, and the next iconv_open would then dlopen it again;
 *  - the time zone, which zip's DOS times go through mktime() with.
 * Returns 0, or -1 when the locale or CP932 is missing (names then
 * come out with U+FFFD in place of what could not be decoded).
 */
int
convert_archive_prepare(void)
{
	if (arc_prepared)
		return arc_utf8 != (locale_t)0 && arc_cp932 != (iconv_t)-1 ?
		    0 : -1;
	arc_prepared = 1;
	tzset();
	arc_utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	arc_cp932 = iconv_open("UTF-8", "CP932");
	return arc_utf8 != (locale_t)0 && arc_cp932 != (iconv_t)-1 ? 0 : -1;
}

/* One line in why; control bytes from hostile names become '?'. */
static int arc_why(struct arc *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
arc_why(struct arc *x, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	convert_vwhy(x->why, x->whylen, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * libarchive's failure as an exit code: anything to do with a password
 * means the archive is held as PPAP, the rest is a corrupt or
 * unsupported archive.
 */
static int
arc_fail(struct arc *x, struct archive *a, const char *what)
{
	const char *s = archive_error_string(a);

	if (archive_read_has_encrypted_entries(a) > 0 || (s != NULL &&
	    (strcasestr(s, "encrypt") != NULL ||
	    strcasestr(s, "passphrase") != NULL ||
	    strcasestr(s, "password") != NULL)))
		return arc_why(x, MUGAI_CONVERT_EXIT_ENCRYPTED,
		    "archive is password protected (PPAP)");
	return arc_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "%s: %s", what,
	    s != NULL ? s : "unreadable archive");
}

/*
 * Formats and filters by name rather than the _all() calls: those add
 * mtree, which opens the files its entries name, and filters that fork
 * an external lrzip, lzop or grzip.
 */
static struct archive *
arc_open(const unsigned char *in, size_t len, int raw)
{
	struct archive *a;

	if ((a = archive_read_new()) == NULL)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_compress(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	if (raw)
		archive_read_support_format_raw(a);
	else {
		archive_read_support_format_zip(a);
		archive_read_support_format_7zip(a);
		archive_read_support_format_rar(a);
		archive_read_support_format_rar5(a);
		archive_read_support_format_lha(a);
		archive_read_support_format_tar(a);
		archive_read_support_format_cpio(a);
		archive_read_support_format_iso9660(a);
	}
	if (archive_read_open_memory(a, in, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Is the UTF-8 at p a control character (C0, DEL or C1)? */
static int
arc_control(const unsigned char *p, size_t left)
{
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	return p[0] == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] <= 0x9f;
}

/*
 * The entry's name as UTF-8 in dec: UTF-8 when it is valid (zip's bit
 * 11, rar5, 7z, pax, or a modern tool), else CP932, what Japanese
 * Windows writes into zip and lzh headers.  No byte is dropped: what
 * does not decode, and control characters, become U+FFFD.
 * Backslashes become '/': zip tools on Windows write them, and an
 * extractor on Windows treats them as separators, so "..\\" is as much
 * a traversal as "../".  Backslashes are replaced only after decoding,
 * since 0x5C is also a CP932 trail byte (表 is 95 5C).
 */
static mugai_status
arc_decode(const char *raw, struct mugai_buf *dec)
{
	struct mugai_buf tmp;
	const unsigned char *p;
	size_t len = strlen(raw), i;
	mugai_status rc = MUGAI_OK;

	mugai_buf_init(&tmp, 0);
	if (mugai_utf8_valid(raw, len))
		rc = mugai_buf_append(&tmp, raw, len);
	else
		rc = mugai_charset_to_utf8("CP932", raw, len, &tmp, NULL);
	mugai_buf_reset(dec);
	p = (const unsigned char *)tmp.data;
	for (i = 0; rc == MUGAI_OK && i < tmp.len; i++) {
		if (arc_control(p + i, tmp.len - i)) {
			rc = mugai_buf_append(dec, "\xEF\xBF\xBD", 3);
			i += p[i] == 0xc2;
		} else
			rc = mugai_buf_putc(dec, p[i] == '\\' ? '/' : (char)p[i]);
	}
	mugai_buf_free(&tmp);
	return rc;
}

/*
 * Normalise the decoded name into x->name: drop empty and "."
 * components (a trailing '/' on directories, "./" from tar).  An
 * absolute path, a drive letter or a ".." component is an attack:
 * MUGAI_CONVERT_EXIT_UNSAFE, naming the entry.
 */
static int
arc_normalise(struct arc *x, const struct mugai_buf *dec)
{
	const char *s = dec->data != NULL ? dec->data : "", *c, *e;
	size_t n;

	if (s[0] == '/' || (s[0] != '\0' && s[1] == ':' &&
	    ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))))
		return arc_why(x, MUGAI_CONVERT_EXIT_UNSAFE, "archive member "
		    "\"%s\" has an absolute path (path traversal)", s);
	mugai_buf_reset(&x->name);
	for (c = s; *c != '\0'; c = *e == '\0' ? e : e + 1) {
		if ((e = strchr(c, '/')) == NULL)
			e = c + strlen(c);
		n = (size_t)(e - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return arc_why(x, MUGAI_CONVERT_EXIT_UNSAFE, "archive "
			    "member \"%s\" climbs out with \"..\" (path "
			    "traversal)", s);
		if ((x->name.len > 0 && mugai_buf_putc(&x->name, '/') !=
		    MUGAI_OK) || mugai_buf_append(&x->name, c, n) != MUGAI_OK)
			return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "out of memory");
	}
	return MUGAI_CONVERT_EXIT_OK;
}

static int
arc_name(struct arc *x, struct archive_entry *e)
{
	struct mugai_buf dec;
	const char *raw;
	int rc;

	/*
	 * The multibyte name: raw header bytes when the format does not
	 * say the charset, else converted to the (UTF-8) locale.
	 */
	if ((raw = archive_entry_pathname(e)) == NULL &&
	    (raw = archive_entry_pathname_utf8(e)) == NULL)
		raw = "";
	mugai_buf_init(&dec, 0);
	if (arc_decode(raw, &dec) != MUGAI_OK)
		rc = arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	else
		rc = arc_normalise(x, &dec);
	mugai_buf_free(&dec);
	return rc;
}

/* Would total unpacked bytes be over the ratio cap for this input? */
static int
arc_ratio_over(const struct arc *x)
{
	uint64_t r = x->o->max_ratio;

	if (x->total <= ARC_RATIO_FLOOR)
		return 0;
	if (r != 0 && x->inlen > UINT64_MAX / r)
		return 0;
	return x->total > (uint64_t)x->inlen * r;
}

/*
 * Read the entry's data into x->data, counting every byte as it comes
 * (headers lie about sizes), so a bomb stops at the cap, not at the
 * end.
 */
static int
arc_read_data(struct arc *x, struct archive *a)
{
	char chunk[ARC_CHUNK];
	la_ssize_t n;

	mugai_buf_reset(&x->data);
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) != 0) {
		if (n < 0)
			return arc_fail(x, a, "cannot unpack a member");
		x->total += (uint64_t)n;
		if (x->total > x->o->max_total)
			return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "archive unpacks to more than %zu bytes",
			    x->o->max_total);
		if (arc_ratio_over(x))
			return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "zip bomb: %llu bytes unpacked from %zu, a ratio "
			    "over %u:1", (unsigned long long)x->total,
			    x->inlen, x->o->max_ratio);
		if (mugai_buf_append(&x->data, chunk, (size_t)n) != MUGAI_OK)
			return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "out of memory unpacking the archive");
	}
	return MUGAI_CONVERT_EXIT_OK;
}

static int
arc_add(struct arc *x, const char *name, uint32_t flags)
{
	mugai_status st;

	st = mugai_members_add(x->out, name, flags, x->data.data,
	    flags != 0 ? 0 : x->data.len);
	if (st == MUGAI_ERR_USAGE)
		return arc_why(x, MUGAI_CONVERT_EXIT_UNSAFE,
		    "archive member \"%s\" has an unusable name", name);
	if (st != MUGAI_OK)
		return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "archive members do not fit the output");
	x->members++;
	return MUGAI_CONVERT_EXIT_OK;
}

static int
arc_entry(struct arc *x, struct archive *a, struct archive_entry *e)
{
	mode_t type = archive_entry_filetype(e);
	int rc;

	if (++x->entries > x->o->max_members)
		return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "archive has more than %u members", x->o->max_members);
	/* One locked member and the archive is PPAP: held whole. */
	if (archive_entry_is_encrypted(e))
		return arc_why(x, MUGAI_CONVERT_EXIT_ENCRYPTED,
		    "archive is password protected (PPAP)");
	/*
	 * Links and special files carry no content of their own and could
	 * point the parent's re-pack anywhere: left out, counted.  Some
	 * formats leave the type unset for plain files.
	 */
	if (archive_entry_hardlink(e) != NULL ||
	    archive_entry_symlink(e) != NULL ||
	    (type != AE_IFREG && type != AE_IFDIR && type != 0)) {
		x->skipped++;
		return MUGAI_CONVERT_EXIT_OK;
	}
	if ((rc = arc_name(x, e)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	if (type == AE_IFDIR) {
		/* "./" names nothing: the archive's own top. */
		if (x->name.len == 0)
			return MUGAI_CONVERT_EXIT_OK;
		return arc_add(x, x->name.data, MUGAI_MEMBER_DIR);
	}
	if ((rc = arc_read_data(x, a)) != MUGAI_CONVERT_EXIT_OK)
		return rc;
	return arc_add(x, x->name.len > 0 ? x->name.data : "unnamed", 0);
}

/*
 * Open in as an archive; failing that, as a lone compressed stream
 * (report.csv.gz), which libarchive reads only through its raw format.
 * Raw alone would take any bytes at all: it counts only behind a
 * decompression filter.
 */
static struct archive *
arc_open_any(struct arc *x, const unsigned char *in, size_t len)
{
	struct archive *a;

	if ((a = arc_open(in, len, 0)) != NULL)
		return a;
	if ((a = arc_open(in, len, 1)) == NULL)
		return NULL;
	if (archive_filter_count(a) < 2) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int
arc_run(struct arc *x, const unsigned char *in, size_t len)
{
	struct archive *a;
	struct archive_entry *e;
	int r, rc = MUGAI_CONVERT_EXIT_OK;

	if ((a = arc_open_any(x, in, len)) == NULL)
		return arc_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "not an archive this gateway can read");
	if (mugai_members_begin(x->out, 0) != MUGAI_OK) {
		archive_read_free(a);
		return arc_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	}
	while (rc == MUGAI_CONVERT_EXIT_OK) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			rc = arc_fail(x, a, "bad archive");
		else
			rc = arc_entry(x, a, e);
	}
	archive_read_free(a);
	return rc;
}

/*
 * convert_archive - the member stream of the archive in in[0..len) to
 * out.  Exit codes: ENCRYPTED when any member is password protected,
 * UNSAFE for an absolute path or "..", TOO_BIG past o->max_members
 * entries, o->max_total unpacked bytes or o->max_ratio unpacked per
 * packed byte, BAD_INPUT for anything libarchive cannot read.  On
 * success why may say how many links or special files were left out.
 */
int
convert_archive(const unsigned char *in, size_t len,
    const struct convert_opts *o, struct mugai_buf *out, char *why,
    size_t whylen)
{
	struct arc x;
	locale_t old = (locale_t)0;
	unsigned char *cnt;
	int rc;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.inlen = len;
	x.out = out;
	x.start = out->len;
	x.why = why;
	x.whylen = whylen;
	why[0] = '\0';
	if (len == 0)
		return arc_why(&x, MUGAI_CONVERT_EXIT_BAD_INPUT, "empty file");
	/*
	 * A zip with [Content_Types].xml is an Office file that libmagic
	 * did not recognise (folder entries, bytes after the end): it is
	 * cleaned as one, and the frame tells the parent so.
	 */
	if (convert_ooxml_is_package(in, len))
		return convert_ooxml_framed(in, len, o, out, why, whylen);
	/* Outside mugai-convert (tests, fuzzing) nothing prepared it. */
	(void)convert_archive_prepare();
	mugai_buf_init(&x.data, 0);
	mugai_buf_init(&x.name, 0);
	if (arc_utf8 != (locale_t)0)
		old = uselocale(arc_utf8);
	rc = arc_run(&x, in, len);
	if (old != (locale_t)0)
		uselocale(old);
	mugai_buf_free(&x.data);
	mugai_buf_free(&x.name);
	if (rc != MUGAI_CONVERT_EXIT_OK) {
		out->len = x.start;
		if (out->data != NULL)
			out->data[out->len] = '\0';
		return rc;
	}
	cnt = (unsigned char *)out->data + x.start + 4;
	cnt[0] = x.members & 0xff;
	cnt[1] = x.members >> 8 & 0xff;
	cnt[2] = x.members >> 16 & 0xff;
	cnt[3] = x.members >> 24;
	if (x.skipped > 0)
		snprintf(why, whylen, "left out %u links or special files",
		    x.skipped);
	return MUGAI_CONVERT_EXIT_OK;
}
