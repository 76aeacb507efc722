/*
 * typing.c - detect file types by their bytes (see mugai/scan/typing.h).
 *
 * libmagic's full database costs about a millisecond on 10 KB of plain
 * text (its soft-magic regex and search tests all run when nothing
 * matches), which is most of the time mugai spends on ordinary mail.
 * So the formats the policy acts on are recognised here from their
 * signatures first, parts declared as text that are plainly text (no
 * NUL or stray control byte, well formed in their charset) are text
 * after libmagic's built-in text tests only (CSV, JSON), and the full
 * database runs only on what is left.  Formats whose exact name needs
 * libmagic's deeper look (OLE2 documents, OOXML and other zip
 * packages, executables, scripts) are routed to it by their signature,
 * so the names stay what libmagic says.
 *
 * libmagic handles are not thread safe: each call borrows one from a
 * pool (see magic_take).  They all load the compiled database from one
 * private read-only mapping (magic_load_buffers), so the ~8 MB database
 * is in memory once, not once per handle.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <magic.h>

#include "mugai/base/log.h"
#include "mugai/scan/typing.h"
#include "mugai/text/charset.h"

/* The full tests: no decompression, nothing outside the buffer. */
#define MAGIC_FULL	(MAGIC_MIME_TYPE | MAGIC_ERROR | \
			 MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_APPTYPE)
/* Text already judged text: only the built-in CSV and JSON tests. */
#define MAGIC_TEXT	(MAGIC_FULL | MAGIC_NO_CHECK_SOFT | \
			 MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_ELF | \
			 MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_TOKENS)
#define DB_MAX		8	/* compiled database files in MAGIC's path */

/*
 * libmagic handles are lent from a pool, not kept per thread: libmilter's
 * worker pool starts and ends threads all the time, and a new handle
 * costs about 2 ms of CPU (magic_open and loading the database), more
 * than typing a part.  The pool keeps at most MAGIC_POOL_MAX idle
 * handles, so no more than were once in use at the same time.
 */
#define MAGIC_POOL_MAX	64
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_pool[MAGIC_POOL_MAX];
static size_t magic_idle;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

/* The shared compiled database, mapped once; n == 0: per-thread loads. */
static struct {
	void	*buf[DB_MAX];
	size_t	 len[DB_MAX];
	size_t	 n;
} db;

/* A text magic file with anything but comments cannot be shared. */
static int
text_magic_empty(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	size_t i;
	int empty = 1;

	if (fp == NULL)
		return 1;
	while (empty && fgets(line, sizeof(line), fp) != NULL) {
		for (i = 0; line[i] == ' ' || line[i] == '\t'; i++)
			;
		if (line[i] != '#' && line[i] != '\n' && line[i] != '\0')
			empty = 0;
	}
	fclose(fp);
	return empty;
}

/* Map path read-only into db; 0 when done, -1 when it cannot be. */
static int
db_map(const char *path)
{
	struct stat st;
	void *p;
	int fd;

	if (db.n == DB_MAX || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	/* Private and writable: libmagic byte-swaps a foreign database in
	 * place; pages stay shared with the file until something writes. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	db.buf[db.n] = p;
	db.len[db.n++] = (size_t)st.st_size;
	return 0;
}

/*
 * Map the compiled files of libmagic's search path (MAGIC, or
 * /etc/magic:/usr/share/misc/magic), as magic_load(NULL) would read
 * them.  A text magic file with entries of its own (an admin's
 * additions) can only be read by magic_load: then every thread loads
 * its own copy, as before.
 */
static void
db_init(void)
{
	const char *path = magic_getpath(NULL, 0);
	char *list, *p, *next, mgc[4096];
	struct stat st;
	size_t i;

	if (path == NULL || (list = strdup(path)) == NULL)
		return;
	for (p = list; p != NULL; p = next) {
		if ((next = strchr(p, ':')) != NULL)
			*next++ = '\0';
		if (*p == '\0')
			continue;
		snprintf(mgc, sizeof(mgc), "%s.mgc", p);
		if (stat(mgc, &st) == 0 && S_ISREG(st.st_mode)) {
			if (db_map(mgc) == -1)
				goto unshared;
		} else if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    !text_magic_empty(p)) {
			mugai_log(LOG_INFO, NULL, "libmagic: %s has entries of "
			    "its own; each handle loads the database", p);
			goto unshared;
		}
	}
	free(list);
	return;
unshared:
	for (i = 0; i < db.n; i++)
		munmap(db.buf[i], db.len[i]);
	db.n = 0;
	free(list);
}

/* A libmagic handle from the pool, or a new one when none is idle. */
static magic_t
magic_take(void)
{
	magic_t m = NULL;
	int rc;

	pthread_once(&magic_once, db_init);
	pthread_mutex_lock(&magic_lock);
	if (magic_idle > 0)
		m = magic_pool[--magic_idle];
	pthread_mutex_unlock(&magic_lock);
	if (m != NULL)
		return m;
	if ((m = magic_open(MAGIC_FULL)) == NULL)
		return NULL;
	rc = db.n > 0 ? magic_load_buffers(m, db.buf, db.len, db.n) :
	    magic_load(m, NULL);
	if (rc != 0) {
		mugai_log(LOG_ERR, NULL, "libmagic: cannot load its database: "
		    "%s; reinstall libmagic-mgc", magic_error(m));
		magic_close(m);
		return NULL;
	}
	return m;
}

/* Give m back for the next caller (closed when the pool is full). */
static void
magic_give(magic_t m)
{
	pthread_mutex_lock(&magic_lock);
	if (magic_idle < MAGIC_POOL_MAX) {
		magic_pool[magic_idle++] = m;
		m = NULL;
	}
	pthread_mutex_unlock(&magic_lock);
	if (m != NULL)
		magic_close(m);
}

/*
 * A zip libmagic could not name (an Office file whose zip starts with
 * a folder entry, say) is still a zip: application/zip, so that the
 * archive action sends it to mugai-convert, which recognises an Office
 * package by its [Content_Types].xml and cleans it as one.  Only the
 * signature is looked at here: the zip is parsed in the sandbox.
 */
static void
type_zip_fallback(const void *data, size_t len, char *out, size_t outlen)
{
	if (len >= 4 && memcmp(data, "PK\003\004", 4) == 0 &&
	    strcmp(out, "application/octet-stream") == 0)
		snprintf(out, outlen, "application/zip");
}

/* libmagic's answer with the given flags, lower case, into out. */
static mugai_status
magic_type(const void *data, size_t len, int flags, char *out, size_t outlen)
{
	magic_t m;
	const char *t;
	size_t i;

	if ((m = magic_take()) == NULL)
		return MUGAI_ERR_INTERNAL;
	if (magic_setflags(m, flags) == -1 ||
	    (t = magic_buffer(m, data, len)) == NULL) {
		mugai_log(LOG_ERR, NULL, "libmagic: %s", magic_error(m));
		magic_give(m);
		return MUGAI_ERR_INTERNAL;
	}
	/* t lives in the handle: copied before the handle is lent again. */
	snprintf(out, outlen, "%s", t);
	magic_give(m);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	type_zip_fallback(data, len, out, outlen);
	return MUGAI_OK;
}

static int
at(const unsigned char *p, size_t n, size_t off, const void *sig,
    size_t siglen)
{
	return n >= off + siglen && memcmp(p + off, sig, siglen) == 0;
}

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Case-insensitive prefix test after leading white space. */
static int
starts_nocase(const unsigned char *p, size_t n, const char *word)
{
	size_t i = 0, k = strlen(word);

	while (i < n && i < 64 && isspace(p[i]))
		i++;
	return n - i >= k && strncasecmp((const char *)p + i, word, k) == 0;
}

/*
 * A Windows bitmap: "BM", the file size or 0, reserved zeros, and a
 * known DIB header size.  "BM" alone starts too much text.
 */
static int
is_bmp(const unsigned char *p, size_t n)
{
	uint32_t hdr;

	if (n < 26 || p[0] != 'B' || p[1] != 'M' || le32(p + 6) != 0)
		return 0;
	hdr = le32(p + 14);
	return hdr == 12 || hdr == 40 || hdr == 52 || hdr == 56 ||
	    hdr == 64 || hdr == 108 || hdr == 124;
}

/*
 * A zip file.  Packages that libmagic names by their first member
 * (OOXML, OpenDocument, EPUB, Java and Android archives) are left to it:
 * "magic" is set.  Otherwise a local file header with a plausible
 * version and name is application/zip.
 */
static int
is_zip(const unsigned char *p, size_t n, int *magic)
{
	static const char *const pkg[] = { "[Content_Types].xml", "_rels/",
	    "docProps/", "word/", "xl/", "ppt/", "mimetype", "META-INF/",
	    "AndroidManifest.xml", "classes.dex" };
	unsigned namelen;
	size_t i, k;

	if (!at(p, n, 0, "PK\3\4", 4) || n < 30)
		return 0;
	namelen = le16(p + 26);
	if (le16(p + 4) > 63 || namelen == 0 || 30 + (size_t)namelen > n)
		return 0;
	*magic = 0;
	for (i = 0; i < sizeof(pkg) / sizeof(pkg[0]); i++) {
		k = strlen(pkg[i]);
		if (namelen >= k && memcmp(p + 30, pkg[i], k) == 0)
			*magic = 1;
	}
	return 1;
}

enum sniff { SNIFF_NONE, SNIFF_TYPE, SNIFF_MAGIC };

/*
 * Formats recognised by their signature.  SNIFF_TYPE: *type is the name
 * libmagic gives them.  SNIFF_MAGIC: a format whose name libmagic must
 * give (it looks deeper); never taken for text.
 */
static enum sniff
sniff(const unsigned char *p, size_t n, const char **type)
{
	static const struct {
		size_t off;
		const char *sig;
		size_t len;
		const char *type;	/* NULL: libmagic names it */
	} sigs[] = {
		{ 0, "\x89PNG\r\n\x1a\n", 8, "image/png" },
		{ 0, "\xff\xd8\xff", 3, "image/jpeg" },
		{ 0, "GIF87a", 6, "image/gif" },
		{ 0, "GIF89a", 6, "image/gif" },
		{ 0, "II*\0", 4, "image/tiff" },
		{ 0, "MM\0*", 4, "image/tiff" },
		{ 0, "7z\xbc\xaf\x27\x1c", 6, "application/x-7z-compressed" },
		{ 0, "Rar!\x1a\x07\0", 7, "application/x-rar" },
		{ 0, "Rar!\x1a\x07\1\0", 8, "application/x-rar" },
		{ 0, "\x1f\x8b\x08", 3, "application/gzip" },
		{ 0, "{\\rtf", 5, "text/rtf" },
		{ 0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, NULL },	/* OLE2 */
		{ 0, "MZ", 2, NULL },
		{ 0, "\x7f" "ELF", 4, NULL },
		{ 0, "\xfe\xed\xfa\xce", 4, NULL },			/* Mach-O */
		{ 0, "\xfe\xed\xfa\xcf", 4, NULL },
		{ 0, "\xce\xfa\xed\xfe", 4, NULL },
		{ 0, "\xcf\xfa\xed\xfe", 4, NULL },
		{ 0, "\xca\xfe\xba\xbe", 4, NULL },	/* fat Mach-O, Java */
		{ 0, "MSCF", 4, NULL },			/* cabinet */
		{ 0, "ITSF", 4, NULL },			/* compiled help */
		{ 0, "L\0\0\0\1\x14\2\0", 8, NULL },	/* Windows shortcut */
		{ 0, "#!", 2, NULL },
		{ 0, "%!PS", 4, NULL },
	};
	/* Text formats that run or that libmagic names apart from text. */
	static const char *const words[] = { "<?php", "@echo", "<?xml",
	    "<svg", "Windows Registry Editor", "REGEDIT4",
	    "[InternetShortcut]", "[Desktop Entry]",
	    "(This file must be converted with BinHex", "begin 6",
	    "begin 7" };
	size_t i;
	int magic;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (at(p, n, sigs[i].off, sigs[i].sig, sigs[i].len)) {
			*type = sigs[i].type;
			return *type != NULL ? SNIFF_TYPE : SNIFF_MAGIC;
		}
	}
	if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WEBP", 4)) {
		*type = "image/webp";
		return SNIFF_TYPE;
	}
	if (n >= 7 && p[2] == '-' && p[3] == 'l' && (p[4] == 'h' ||
	    p[4] == 'z') && p[6] == '-') {
		*type = "application/x-lzh-compressed";
		return SNIFF_TYPE;
	}
	if (is_bmp(p, n)) {
		*type = "image/bmp";
		return SNIFF_TYPE;
	}
	if (is_zip(p, n, &magic)) {
		*type = magic ? NULL : "application/zip";
		return magic ? SNIFF_MAGIC : SNIFF_TYPE;
	}
	/* Readers take a PDF whose header is anywhere in the first 1 KB. */
	if (memmem(p, n < 1024 ? n : 1024, "%PDF-", 5) != NULL) {
		*type = "application/pdf";
		return SNIFF_TYPE;
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (starts_nocase(p, n, words[i]))
			return SNIFF_MAGIC;
	return SNIFF_NONE;
}

/* Shift_JIS (CP932): lead bytes 81-9F, E0-FC take a trail 40-7E, 80-FC. */
static int
cp932_valid(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x80 || (p[i] >= 0xa1 && p[i] <= 0xdf))
			continue;
		if (!((p[i] >= 0x81 && p[i] <= 0x9f) ||
		    (p[i] >= 0xe0 && p[i] <= 0xfc)) || i + 1 == n ||
		    p[i + 1] < 0x40 || p[i + 1] == 0x7f || p[i + 1] > 0xfc)
			return 0;
		i++;
	}
	return 1;
}

/* EUC-JP: A1-FE pairs, SS2 (8E) + A1-DF, SS3 (8F) + two A1-FE. */
static int
eucjp_valid(const unsigned char *p, size_t n)
{
	size_t i, k, need;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x80)
			continue;
		need = p[i] == 0x8f ? 2 : 1;
		if (p[i] != 0x8e && p[i] != 0x8f && (p[i] < 0xa1 || p[i] > 0xfe))
			return 0;
		for (k = 1; k <= need; k++)
			if (i + k >= n || p[i + k] < 0xa1 || p[i + k] > 0xfe ||
			    (p[i] == 0x8e && p[i + k] > 0xdf))
				return 0;
		i += need;
	}
	return 1;
}

/* Well formed in the charset (label, else the detected one)? */
static int
charset_valid(const unsigned char *p, size_t n, const char *label)
{
	const char *cs = mugai_charset_canonical(label);
	struct mugai_buf u;
	size_t i, nbad = 1;
	int ok;

	if (cs == NULL || strcmp(cs, "US-ASCII") == 0)
		cs = mugai_charset_detect((const char *)p, n);
	if (strcmp(cs, "US-ASCII") == 0 || strcmp(cs, "ISO-2022-JP") == 0) {
		for (i = 0; i < n; i++)
			if (p[i] & 0x80)
				return 0;
		return 1;
	}
	if (strcmp(cs, "UTF-8") == 0)
		return mugai_utf8_valid((const char *)p, n);
	if (strcmp(cs, "CP932") == 0)
		return cp932_valid(p, n);
	if (strcmp(cs, "EUC-JP") == 0)
		return eucjp_valid(p, n);
	/* Anything else: decode it and count the bad bytes. */
	mugai_buf_init(&u, 0);
	ok = mugai_charset_to_utf8(cs, (const char *)p, n, &u, &nbad) ==
	    MUGAI_OK && nbad == 0;
	mugai_buf_free(&u);
	return ok;
}

/*
 * Plain text: no NUL, no control byte but BEL BS HT LF VT FF CR ESC (the
 * ones libmagic's text test accepts too), and well formed in its charset.
 */
static int
looks_text(const unsigned char *p, size_t n, const char *charset)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 && (p[i] < 0x07 || p[i] > 0x0d) &&
		    p[i] != 0x1b) || p[i] == 0x7f)
			return 0;
	return charset_valid(p, n, charset);
}

/* HTML by the tags libmagic's HTML entries look for in the first 4 KB. */
static int
looks_html(const unsigned char *p, size_t n)
{
	static const char *const tags[] = { "<!doctype html", "<html",
	    "<head", "<body", "<title", "<script", "<style", "<table",
	    "<a href" };
	size_t i, k, j, m = n < 4096 ? n : 4096;

	for (j = 0; j < m; j++) {
		if (p[j] != '<')
			continue;
		for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
			k = strlen(tags[i]);
			if (m - j >= k &&
			    strncasecmp((const char *)p + j, tags[i], k) == 0)
				return 1;
		}
	}
	return 0;
}

/* Text that passed looks_text: HTML, CSV, JSON or plain text. */
static mugai_status
text_type(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	mugai_status rc;

	if (looks_html(p, n)) {
		snprintf(out, outlen, "text/html");
		return MUGAI_OK;
	}
	if ((rc = magic_type(p, n, MAGIC_TEXT, out, outlen)) != MUGAI_OK)
		return rc;
	/* libmagic's encoding test knows no Japanese charset: text it is. */
	if (strcmp(out, "text/csv") != 0 && strcmp(out, "application/json") != 0)
		snprintf(out, outlen, "text/plain");
	return MUGAI_OK;
}

mugai_status
mugai_type_detect_part(const void *data, size_t len, const char *declared,
    const char *charset, char *out, size_t outlen)
{
	const unsigned char *p = data;
	const char *t = NULL;

	if (len == 0) {
		snprintf(out, outlen, "application/x-empty");
		return MUGAI_OK;
	}
	switch (sniff(p, len, &t)) {
	case SNIFF_TYPE:
		snprintf(out, outlen, "%s", t);
		return MUGAI_OK;
	case SNIFF_MAGIC:
		return magic_type(p, len, MAGIC_FULL, out, outlen);
	case SNIFF_NONE:
		break;
	}
	if (declared != NULL && strncasecmp(declared, "text/", 5) == 0 &&
	    looks_text(p, len, charset))
		return text_type(p, len, out, outlen);
	return magic_type(p, len, MAGIC_FULL, out, outlen);
}

mugai_status
mugai_type_detect(const void *data, size_t len, char *out, size_t outlen)
{
	return mugai_type_detect_part(data, len, NULL, NULL, out, outlen);
}

static const char *const exec_types[] = {
	"application/x-dosexec", "application/x-executable",
	"application/x-sharedlib", "application/x-pie-executable",
	"application/x-mach-binary", "application/x-msdownload",
	"application/x-msi", "application/vnd.microsoft.portable-executable",
	"text/x-shellscript", "text/x-msdos-batch", "application/javascript",
	"text/javascript", "text/x-perl", "text/x-python", "text/x-php",
	"application/x-elf", "application/x-ms-shortcut", "application/hta",
};

int
mugai_type_is_executable(const char *detected)
{
	size_t i;

	for (i = 0; i < sizeof(exec_types) / sizeof(exec_types[0]); i++)
		if (strcasecmp(detected, exec_types[i]) == 0)
			return 1;
	return 0;
}

/*
 * Extensions and the detected types that may honestly carry them.  A
 * prefix ending in '/' matches any subtype.  Only common extensions are
 * listed: an unknown extension is not a mismatch.
 */
static const struct {
	const char *ext;
	const char *types;	/* space separated */
} ext_types[] = {
	{ "pdf", "application/pdf" },
	{ "txt", "text/ application/x-empty" },
	{ "csv", "text/ application/csv application/x-empty" },
	{ "htm", "text/" }, { "html", "text/" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "png", "image/png" }, { "gif", "image/gif" },
	{ "bmp", "image/bmp image/x-ms-bmp" }, { "tif", "image/tiff" },
	{ "tiff", "image/tiff" }, { "webp", "image/webp" },
	{ "zip", "application/zip" },
	{ "gz", "application/gzip" }, { "7z", "application/x-7z-compressed" },
	{ "rar", "application/x-rar application/vnd.rar" },
	{ "lzh", "application/x-lha application/x-lzh-compressed" },
	{ "doc", "application/msword application/x-ole-storage application/cdfv2" },
	{ "xls", "application/vnd.ms-excel application/x-ole-storage application/cdfv2" },
	{ "ppt", "application/vnd.ms-powerpoint application/x-ole-storage application/cdfv2" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document application/zip application/octet-stream application/encrypted" },
	{ "docm", "application/vnd.openxmlformats-officedocument.wordprocessingml.document application/vnd.ms-word.document.macroenabled.12 application/zip application/octet-stream application/encrypted" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet application/zip application/octet-stream application/encrypted" },
	{ "xlsm", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet application/vnd.ms-excel.sheet.macroenabled.12 application/zip application/octet-stream application/encrypted" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation application/zip application/octet-stream application/encrypted" },
	{ "exe", "application/x-dosexec application/vnd.microsoft.portable-executable" },
	{ "dll", "application/x-dosexec application/vnd.microsoft.portable-executable" },
	{ "eml", "message/rfc822 text/" },
	{ "ics", "text/" }, { "xml", "text/xml application/xml" },
	{ "json", "application/json text/" },
	{ "rtf", "text/rtf" },
};

static int
type_in_list(const char *detected, const char *list)
{
	const char *p = list, *e;
	size_t n;

	while (*p != '\0') {
		e = strchr(p, ' ');
		n = e ? (size_t)(e - p) : strlen(p);
		if (p[n - 1] == '/' ? strncasecmp(detected, p, n) == 0 :
		    (strlen(detected) == n && strncasecmp(detected, p, n) == 0))
			return 1;
		p += n;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static const char *
file_ext(const char *filename)
{
	const char *dot;

	if (filename == NULL || (dot = strrchr(filename, '.')) == NULL ||
	    dot[1] == '\0' || strlen(dot + 1) > 8)
		return NULL;
	return dot + 1;
}

/*
 * The ext_types row whose list names this declared type exactly, so a
 * declared application/pdf expects what a .pdf name expects.
 */
static const char *
declared_types(const char *declared)
{
	const char *p, *e;
	size_t i, n = strlen(declared);

	for (i = 0; i < sizeof(ext_types) / sizeof(ext_types[0]); i++) {
		for (p = ext_types[i].types; *p != '\0'; p = e) {
			e = strchr(p, ' ');
			e = e ? e + 1 : p + strlen(p);
			if (strncasecmp(p, declared, n) == 0 &&
			    (p[n] == ' ' || p[n] == '\0'))
				return ext_types[i].types;
		}
	}
	return NULL;
}

const char *
mugai_type_mismatch(const char *declared, const char *filename,
    const char *detected, char *buf, size_t buflen)
{
	const char *ext = file_ext(filename), *list;
	size_t i;

	if (ext != NULL) {
		for (i = 0; i < sizeof(ext_types) / sizeof(ext_types[0]); i++) {
			if (strcasecmp(ext, ext_types[i].ext) != 0)
				continue;
			if (!type_in_list(detected, ext_types[i].types)) {
				snprintf(buf, buflen, "name says .%s but the "
				    "content is %s", ext, detected);
				return buf;
			}
			break;
		}
	}
	if (declared == NULL || *declared == '\0' ||
	    strcasecmp(declared, "application/octet-stream") == 0 ||
	    strcasecmp(declared, detected) == 0)
		return NULL;
	/* Executables hide behind any declared type; others are compared
	 * with what the declared type may honestly contain. */
	if ((mugai_type_is_executable(detected) &&
	    !mugai_type_is_executable(declared)) ||
	    ((list = declared_types(declared)) != NULL &&
	    !type_in_list(detected, list))) {
		snprintf(buf, buflen, "declared as %s but the content is %s",
		    declared, detected);
		return buf;
	}
	return NULL;
}

/* Names that a desktop opens as text; anything else gets ".txt". */
int
mugai_name_is_text(const char *name)
{
	static const char *const exts[] = { ".txt", ".csv", ".log", ".text" };
	size_t n = strlen(name), i, e;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}
