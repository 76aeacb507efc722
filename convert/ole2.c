/*
 * ole2.c - what a legacy Office file (OLE2 compound file) is, before
 * LibreOffice sees it: which application's stream it holds, and whether
 * it is password protected.  The compound file is read with libgsf;
 * only the few bytes below are looked at by hand, as no Debian library
 * tells whether a document is encrypted:
 *
 *  - EncryptionInfo and EncryptedPackage streams: an Office Open XML
 *    file with a password ([MS-OFFCRYPTO] 2.3.4)
 *  - WordDocument: the FIB's wIdent (0xA5EC Word 97+, 0xA5DC Word 6/95)
 *    and its fEncrypted flag (0x0100 of the word at offset 0x0A)
 *  - Workbook (Excel 97+) or Book (Excel 5/95): a FILEPASS record
 *    (0x002F) before the first EOF of the globals substream
 *  - PowerPoint Document: the EncryptedSummary stream beside it
 *
 * Writes "doc", "xls" or "ppt" and a new line; ENCRYPTED for a password,
 * BAD_INPUT for a file that is not OLE2 or holds none of those streams.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>

#include "convert.h"

#define BIFF_FILEPASS	0x002f
#define BIFF_EOF	0x000a
#define BIFF_SCAN_MAX	(256 * 1024)	/* bytes of records looked at */

static int
ole2_why(char *why, size_t whylen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
ole2_why(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	convert_vwhy(why, whylen, fmt, ap);
	va_end(ap);
	return rc;
}

/* libgsf's complaints about a broken file: the refusal says it once. */
static void
ole2_quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg,
    gpointer data)
{
	(void)domain;
	(void)level;
	(void)msg;
	(void)data;
}

int
convert_ole2_prepare(void)
{
	static int prepared;

	if (prepared++)		/* the zygote did it already */
		return 0;
	gsf_init();
	g_log_set_handler("libgsf:msole", G_LOG_LEVEL_MASK, ole2_quiet, NULL);
	g_log_set_handler("libgsf", G_LOG_LEVEL_MASK, ole2_quiet, NULL);
	return 0;
}

static GsfInput *
child(GsfInfile *ole, const char *name)
{
	return gsf_infile_child_by_name(ole, name);
}

static int
has_child(GsfInfile *ole, const char *name)
{
	GsfInput *c = child(ole, name);

	if (c == NULL)
		return 0;
	g_object_unref(c);
	return 1;
}

/* Word: 1 encrypted, 0 not, -1 not a FIB. */
static int
word_encrypted(GsfInput *s)
{
	const guint8 *p;
	unsigned ident, flags;

	if (gsf_input_size(s) < 12 || (p = gsf_input_read(s, 12, NULL)) == NULL)
		return -1;
	ident = (unsigned)p[0] | (unsigned)p[1] << 8;
	if (ident != 0xa5ec && ident != 0xa5dc)
		return -1;
	flags = (unsigned)p[0x0a] | (unsigned)p[0x0b] << 8;
	return (flags & 0x0100) != 0;
}

/* Excel: 1 when FILEPASS comes before the globals' EOF, else 0. */
static int
biff_encrypted(GsfInput *s)
{
	const guint8 *p;
	gsf_off_t left = gsf_input_size(s);
	size_t seen = 0;
	unsigned type, len;

	while (left >= 4 && seen < BIFF_SCAN_MAX) {
		if ((p = gsf_input_read(s, 4, NULL)) == NULL)
			return 0;
		type = (unsigned)p[0] | (unsigned)p[1] << 8;
		len = (unsigned)p[2] | (unsigned)p[3] << 8;
		if (type == BIFF_FILEPASS)
			return 1;
		if (type == BIFF_EOF)
			return 0;
		left -= 4;
		if ((gsf_off_t)len > left ||
		    gsf_input_seek(s, len, G_SEEK_CUR) != 0)
			return 0;
		left -= len;
		seen += 4 + len;
	}
	return 0;
}

static int
ole2_judge(GsfInfile *ole, struct mugai_buf *out, char *why, size_t whylen)
{
	GsfInput *s;
	const char *kind = NULL;
	int enc = 0;

	if (has_child(ole, "EncryptionInfo") &&
	    has_child(ole, "EncryptedPackage"))
		return ole2_why(why, whylen, MUGAI_CONVERT_EXIT_ENCRYPTED,
		    "password-protected Office Open XML file");
	if ((s = child(ole, "WordDocument")) != NULL) {
		kind = "doc";
		enc = word_encrypted(s);
		g_object_unref(s);
		if (enc < 0)
			return ole2_why(why, whylen,
			    MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "WordDocument stream without a Word header");
	} else if ((s = child(ole, "Workbook")) != NULL ||
	    (s = child(ole, "Book")) != NULL) {
		kind = "xls";
		enc = biff_encrypted(s);
		g_object_unref(s);
	} else if (has_child(ole, "PowerPoint Document")) {
		kind = "ppt";
		enc = has_child(ole, "EncryptedSummary");
	}
	if (kind == NULL)
		return ole2_why(why, whylen, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "compound file without a Word, Excel or PowerPoint "
		    "stream");
	if (enc)
		return ole2_why(why, whylen, MUGAI_CONVERT_EXIT_ENCRYPTED,
		    "password-protected %s file", kind);
	if (mugai_buf_append(out, kind, 3) != MUGAI_OK ||
	    mugai_buf_append(out, "\n", 1) != MUGAI_OK)
		return ole2_why(why, whylen, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory");
	return MUGAI_CONVERT_EXIT_OK;
}

/* convert_ole2 - see the top of this file. */
int
convert_ole2(const unsigned char *in, size_t len, const struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen)
{
	GsfInput *src;
	GsfInfile *ole;
	GError *err = NULL;
	int rc;

	(void)o;
	if (whylen > 0)
		why[0] = '\0';
	if (len < 512 || memcmp(in, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) != 0)
		return ole2_why(why, whylen, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "not an OLE2 compound file");
	if ((src = gsf_input_memory_new(in, (gsf_off_t)len, FALSE)) == NULL)
		return ole2_why(why, whylen, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory");
	ole = gsf_infile_msole_new(src, &err);
	g_object_unref(src);
	if (ole == NULL) {
		rc = ole2_why(why, whylen, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "corrupt compound file: %s", err != NULL ? err->message :
		    "unreadable");
		if (err != NULL)
			g_error_free(err);
		return rc;
	}
	rc = ole2_judge(ole, out, why, whylen);
	g_object_unref(ole);
	return rc;
}
