/*
 * ooxml.c - Office Open XML (docx, xlsx, pptx and the macro-enabled
 * docm, dotm, xlsm, xltm, pptm, potm, ppsm) cleaned by allow-list.
 *
 * The package is unzipped in memory and a NEW zip is built from the
 * parts that pass; nothing of the old zip's structure (extra fields,
 * comments, data between members) is copied.  Kept parts are copied
 * byte for byte unless a rule below had to rewrite them.
 *
 * Read as Office reads them: folder entries are skipped, bytes after the
 * end of the zip (after its last end-of-central-directory record) are
 * cut off before the strict open below.  The ooxml mode writes a frame
 * naming the main part's type before the zip (mugai/cdr/worker.h), and a
 * binary workbook (xlsb) as the frame alone; the archive mode does the
 * same for a zip with [Content_Types].xml.  The new zip starts with
 * [Content_Types].xml and _rels/.rels, as readers and libmagic expect.
 *
 * Refused (nothing comes out):
 *  - not a zip, or an inconsistent one (ZIP_CHECKCONS): BAD_INPUT
 *  - encrypted members: ENCRYPTED (an encrypted Office file is really
 *    OLE2 and never gets here; this is a zip with a password)
 *  - names with "..", ".", an empty segment, a leading "/", "\", ":"
 *    or control bytes, and names equal but for case: UNSAFE, since
 *    readers disagree on which part such a name means
 *  - more than max_members entries, more than max_total bytes unpacked
 *    or a ratio over max_ratio: TOO_BIG, checked on the declared sizes
 *    and enforced while reading (a member is never read past its
 *    declared size, and a member shorter or longer is BAD_INPUT)
 *  - no [Content_Types].xml, no _rels/.rels, or a main part that is
 *    not a Word, Excel or PowerPoint document (xlsb, add-ins): BAD_INPUT
 *  - any XML part with a DOCTYPE: UNSAFE (entity bombs, external
 *    entities; Office itself refuses DTDs).  Entities are never
 *    substituted and the network is never used (XML_PARSE_NONET).
 *  - XML that is not well formed: BAD_INPUT (fail closed), except a
 *    VML drawing (Excel writes <br> unclosed), which is left out
 *
 * Parts left out (ooxml_pkg.c):
 *  - macros and binaries: vbaProject.bin, vbaData.xml, every *.bin
 *    (VBA, ActiveX, OLE, printer settings), Excel 4.0 macro sheets
 *  - activeX/, embeddings/ (OLE objects and embedded packages run code
 *    or carry other documents), customUI/ (ribbon callbacks into
 *    macros), attachedToolbars, keyMapCustomizations, web extensions
 *  - xl/externalLinks/ (DDE and links to other workbooks)
 *  - any part whose content type is not on the allow-list (OOXML XML
 *    parts, images, audio, video, fonts) or names macros, VBA, ActiveX,
 *    OLE objects, customUI, macro sheets or external links
 *  - any part no kept relationship leads to (hidden payloads)
 * Relationships left out:
 *  - every TargetMode="External" one but hyperlinks to http, https
 *    and mailto (remote templates, Follina's oleObject link, remote
 *    images and frames, mail-merge sources)
 *  - aFChunk (altChunk imports other documents), attachedTemplate,
 *    subDocument, and every one whose target part was left out or is
 *    missing, so Office never meets a dangling reference
 * Rewritten:
 *  - [Content_Types].xml: entries for parts left out and the "bin"
 *    default removed, macro-enabled main types renamed to plain ones
 *  - .rels without the relationships left out; elements that used
 *    their Ids removed from the source part (optional ones only lose
 *    the attribute: pictures, hyperlinks, page setup)
 *  - Word text parts: DDE, DDEAUTO, INCLUDETEXT, INCLUDE,
 *    INCLUDEPICTURE, IMPORT, LINK, DATABASE and RD fields (simple and
 *    complex) reduced to their last result; a field whose instruction
 *    is made by a nested field is treated the same
 *  - Excel sheets: formulas using DDE ("app|topic") or, once external
 *    links are gone, other workbooks ("[1]") keep only their value;
 *    calcChain.xml then goes too.  Workbook: Auto_Open-style names and
 *    names of removed sheets go.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "ooxml_int.h"

#define OOXML_RATIO_FLOOR	((uint64_t)1 << 20)
#define OOXML_MTIME		((time_t)946684800)	/* 2000-01-01, fixed */
/* zlib's own default; libzip's 0 means 9, which costs twice the time for
 * a few hundred bytes less on a document's XML. */
#define OOXML_DEFLATE_LEVEL	6
#define OOXML_TRAIL_MAX		((size_t)1 << 20)	/* bytes after the end */

/* A zip entry name that means one part and stays inside the package. */
static int
name_safe(const char *name)
{
	const char *seg, *end;
	size_t n;

	if (*name == '\0' || *name == '/')
		return 0;
	for (seg = name; ; seg = end + 1) {
		end = strchr(seg, '/');
		n = end != NULL ? (size_t)(end - seg) : strlen(seg);
		if ((n == 0 && end != NULL) || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (end == NULL)
			break;
	}
	for (; *name != '\0'; name++)
		if (*name == '\\' || *name == ':' ||
		    (unsigned char)*name < 0x20 || *name == 0x7f)
			return 0;
	return 1;
}

/* Sizes from the central directory, checked before anything is read. */
static int
check_entry(struct ooxml *x, zip_t *za, zip_uint64_t i, zip_stat_t *st,
    uint64_t *total)
{
	const zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE |
	    ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
	    ZIP_STAT_ENCRYPTION_METHOD;

	if (zip_stat_index(za, i, ZIP_FL_ENC_RAW, st) != 0 ||
	    (st->valid & need) != need)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "cannot read zip entry %llu", (unsigned long long)i);
	if (!name_safe(st->name))
		return ooxml_why(x, MUGAI_CONVERT_EXIT_UNSAFE,
		    "unsafe part name \"%.100s\"", st->name);
	if (st->encryption_method != ZIP_EM_NONE)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_ENCRYPTED,
		    "part %.100s is encrypted", st->name);
	if (st->comp_method != ZIP_CM_STORE &&
	    st->comp_method != ZIP_CM_DEFLATE)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "part %.100s uses compression method %u", st->name,
		    (unsigned)st->comp_method);
	if (st->size > x->o->max_total || *total + st->size > x->o->max_total)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "document unpacks to more than %zu bytes",
		    x->o->max_total);
	*total += st->size;
	return MUGAI_CONVERT_EXIT_OK;
}

/* Read exactly the declared size; one byte more or less is corrupt. */
static int
read_entry(struct ooxml *x, zip_t *za, zip_uint64_t i, const zip_stat_t *st,
    struct ooxml_part *p)
{
	zip_file_t *zf;
	zip_int64_t n;
	size_t got = 0;
	unsigned char extra;

	if ((p->data = malloc(st->size + 1)) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "out of memory for part %.100s", st->name);
	if ((zf = zip_fopen_index(za, i, 0)) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "cannot open part %.100s", st->name);
	while (got < st->size) {
		n = zip_fread(zf, p->data + got, st->size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* The read past the end is where libzip checks the CRC. */
	n = got == st->size ? zip_fread(zf, &extra, 1) : -1;
	zip_fclose(zf);
	if (n != 0)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "part %.100s is corrupt or not its declared size",
		    st->name);
	p->len = got;
	p->data[got] = '\0';
	return MUGAI_CONVERT_EXIT_OK;
}

static int
add_part(struct ooxml *x, zip_t *za, zip_uint64_t i, const zip_stat_t *st)
{
	struct ooxml_part *p = &x->parts[x->nparts];

	memset(p, 0, sizeof(*p));
	if ((p->name = strdup(st->name)) == NULL ||
	    (p->key = ooxml_key(st->name)) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	x->nparts++;
	return read_entry(x, za, i, st, p);
}

/* Two names one reader may take for the same part: refuse both. */
static int
check_duplicates(struct ooxml *x)
{
	size_t i;

	if ((x->sorted = calloc(x->nparts + 1, sizeof(*x->sorted))) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	for (i = 0; i < x->nparts; i++)
		x->sorted[i] = &x->parts[i];
	qsort(x->sorted, x->nparts, sizeof(*x->sorted), ooxml_part_cmp);
	for (i = 1; i < x->nparts; i++)
		if (strcmp(x->sorted[i - 1]->key, x->sorted[i]->key) == 0)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_UNSAFE,
			    "two parts named \"%.100s\"", x->sorted[i]->name);
	return MUGAI_CONVERT_EXIT_OK;
}

static int
read_parts(struct ooxml *x, zip_t *za, size_t inlen)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	zip_uint64_t i;
	zip_stat_t st;
	uint64_t total = 0;
	int rc;

	if (n <= 0)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "empty zip");
	if ((uint64_t)n > x->o->max_members)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "document has more than %u parts", x->o->max_members);
	if ((x->parts = calloc((size_t)n, sizeof(*x->parts))) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	for (i = 0; i < (zip_uint64_t)n; i++)
		if ((rc = check_entry(x, za, i, &st, &total)) != 0)
			return rc;
	if (total > OOXML_RATIO_FLOOR && x->o->max_ratio != 0 &&
	    total / x->o->max_ratio > inlen)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "zip bomb: %llu bytes from %zu, a ratio over %u:1",
		    (unsigned long long)total, inlen, x->o->max_ratio);
	for (i = 0; i < (zip_uint64_t)n; i++) {
		if (zip_stat_index(za, i, ZIP_FL_ENC_RAW, &st) != 0)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "cannot read zip entry %llu", (unsigned long long)i);
		/* Folders are not parts; an empty one carries nothing. */
		if (st.name[strlen(st.name) - 1] == '/' && st.size == 0)
			continue;
		if ((rc = add_part(x, za, i, &st)) != 0)
			return rc;
	}
	return check_duplicates(x);
}

static int open_zip(struct ooxml *x, const unsigned char *in, size_t len,
    zip_t **zap);
static int open_failed(struct ooxml *x, int err);

/*
 * The length of in up to the end of its last end-of-central-directory
 * record (with its comment), or len when there is none or nothing
 * follows it.  Office opens a package with bytes after its end (a mail
 * program's padding, a careless concatenation); libzip's consistency
 * check does not, so the bytes after the end are cut off and the zip
 * itself is checked as strictly as ever.
 */
static size_t
zip_end(const unsigned char *in, size_t len)
{
	size_t pos, stop, clen;

	if (len < 22)
		return len;
	stop = len - 22 > OOXML_TRAIL_MAX ? len - 22 - OOXML_TRAIL_MAX : 0;
	for (pos = len - 22; ; pos--) {
		if (memcmp(in + pos, "PK\005\006", 4) == 0) {
			clen = (size_t)in[pos + 20] | (size_t)in[pos + 21] << 8;
			if (pos + 22 + clen <= len)
				return pos + 22 + clen;
		}
		if (pos == stop)
			break;
	}
	return len;
}

static int
open_input(struct ooxml *x, const unsigned char *in, size_t len, zip_t **zap)
{
	size_t end;
	int err;

	if ((err = open_zip(x, in, len, zap)) != ZIP_ER_INCONS &&
	    err != ZIP_ER_NOZIP)
		return err == ZIP_ER_OK ? MUGAI_CONVERT_EXIT_OK :
		    open_failed(x, err);
	if ((end = zip_end(in, len)) < len)
		err = open_zip(x, in, end, zap);
	return err == ZIP_ER_OK ? MUGAI_CONVERT_EXIT_OK : open_failed(x, err);
}

static int
open_failed(struct ooxml *x, int err)
{
	if (err == ZIP_ER_MEMORY)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "%s",
	    err == ZIP_ER_NOZIP ? "not a zip file" :
	    "zip is corrupt or inconsistent");
}

/* libzip's error code; *zap set when it is ZIP_ER_OK. */
static int
open_zip(struct ooxml *x, const unsigned char *in, size_t len, zip_t **zap)
{
	zip_error_t ze;
	zip_source_t *src;
	int err;

	(void)x;
	zip_error_init(&ze);
	src = zip_source_buffer_create(len > 0 ? in : NULL, len, 0, &ze);
	if (src == NULL) {
		zip_error_fini(&ze);
		return ZIP_ER_MEMORY;
	}
	*zap = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &ze);
	err = zip_error_code_zip(&ze);
	zip_error_fini(&ze);
	if (*zap != NULL)
		return ZIP_ER_OK;
	zip_source_free(src);
	return err != ZIP_ER_OK ? err : ZIP_ER_INCONS;
}

/* The bytes to write for p: its tree when a rule changed it. */
static int
part_bytes(struct ooxml *x, struct ooxml_part *p)
{
	if (p->doc == NULL || !p->dirty)
		return MUGAI_CONVERT_EXIT_OK;
	return ooxml_serialise(x, p);
}

/*
 * Parts in the order readers (and libmagic) expect: [Content_Types].xml
 * first, _rels/.rels next, the rest as they came.
 */
static struct ooxml_part *
part_in_order(struct ooxml *x, size_t i, struct ooxml_part *rels)
{
	size_t head = rels != NULL ? 2 : 1, k;

	if (i == 0)
		return x->ct;
	if (i == 1 && rels != NULL)
		return rels;
	for (k = 0; k < x->nparts; k++) {
		if (&x->parts[k] == x->ct || &x->parts[k] == rels)
			continue;
		if (head++ == i)
			return &x->parts[k];
	}
	return NULL;
}

/*
 * PNG, JPEG and GIF pictures are compressed already: deflating them
 * again costs more time than anything else in a clean and saves nothing,
 * so they are stored (as Office and LibreOffice do).  Told by their
 * bytes (the content type's string may have gone with a rewrite of
 * [Content_Types].xml); the bytes written are the same either way.
 */
static int
part_stored(const struct ooxml_part *p)
{
	static const struct {
		const char *magic;
		size_t len;
	} packed[] = { { "\x89PNG\r\n\x1a\n", 8 }, { "\xff\xd8\xff", 3 },
	    { "GIF8", 4 } };
	size_t i;

	for (i = 0; i < sizeof(packed) / sizeof(packed[0]); i++)
		if (p->len >= packed[i].len &&
		    memcmp(p->data, packed[i].magic, packed[i].len) == 0)
			return 1;
	return 0;
}

static int
add_output(struct ooxml *x, zip_t *za)
{
	struct ooxml_part *rels = ooxml_find(x, "_rels/.rels");
	zip_source_t *s;
	zip_int64_t idx;
	size_t i;
	int rc;

	for (i = 0; i < x->nparts; i++) {
		struct ooxml_part *p = part_in_order(x, i, rels);

		if (p == NULL || p->drop != NULL)
			continue;
		if ((rc = part_bytes(x, p)) != 0)
			return rc;
		if ((s = zip_source_buffer(za, p->data, p->len, 0)) == NULL)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "out of memory");
		if ((idx = zip_file_add(za, p->name, s, ZIP_FL_ENC_GUESS)) < 0) {
			zip_source_free(s);
			return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "cannot add %.100s: %s", p->name, zip_strerror(za));
		}
		if (zip_set_file_compression(za, (zip_uint64_t)idx,
		    part_stored(p) ? ZIP_CM_STORE : ZIP_CM_DEFLATE,
		    OOXML_DEFLATE_LEVEL) != 0 ||
		    zip_file_set_mtime(za, (zip_uint64_t)idx, OOXML_MTIME, 0) != 0)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "cannot add %.100s: %s", p->name, zip_strerror(za));
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/* Copy the finished zip out of its memory source. */
static int
drain_source(struct ooxml *x, zip_source_t *src, struct mugai_buf *out)
{
	char chunk[65536];
	zip_int64_t n;
	int rc = MUGAI_CONVERT_EXIT_OK;

	if (zip_source_open(src) != 0)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "cannot read the new zip");
	while ((n = zip_source_read(src, chunk, sizeof(chunk))) > 0)
		if (mugai_buf_append(out, chunk, (size_t)n) != MUGAI_OK) {
			rc = ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
			    "cleaned document is too big");
			break;
		}
	if (n < 0 && rc == 0)
		rc = ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "cannot read the new zip");
	zip_source_close(src);
	return rc;
}

static int
write_zip(struct ooxml *x, struct mugai_buf *out)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;
	int rc;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL) {
		zip_error_fini(&ze);
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	}
	if ((za = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL) {
		zip_error_fini(&ze);
		zip_source_free(src);
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "cannot start the new zip");
	}
	zip_error_fini(&ze);
	zip_source_keep(src);
	if ((rc = add_output(x, za)) != 0) {
		zip_discard(za);
		zip_source_free(src);
		return rc;
	}
	if (zip_close(za) != 0) {
		rc = ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "cannot write the new zip: %s", zip_strerror(za));
		zip_discard(za);
		zip_source_free(src);
		return rc;
	}
	rc = drain_source(x, src, out);
	zip_source_free(src);
	return rc;
}

static void
free_parts(struct ooxml *x)
{
	size_t i, j;

	for (i = 0; i < x->nparts; i++) {
		struct ooxml_part *p = &x->parts[i];

		free(p->name);
		free(p->key);
		free(p->data);
		xmlFreeDoc(p->doc);
		for (j = 0; j < p->ngone; j++)
			free(p->gone_ids[j]);
		free(p->gone_ids);
	}
	for (i = 0; i < x->ngone_sheets; i++)
		free(x->gone_sheets[i]);
	free(x->gone_sheets);
	free(x->parts);
	free(x->sorted);
}

/* The clean; OOXML_BINARY with the type in ct for an xlsb. */
static int
ooxml_run(const unsigned char *in, size_t len, const struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen, char *ct, size_t ctlen)
{
	struct ooxml x;
	zip_t *za = NULL;
	int rc;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.why = why;
	x.whylen = whylen;
	if (whylen > 0)
		why[0] = '\0';
	xmlInitParser();
	if ((rc = open_input(&x, in, len, &za)) != 0)
		return rc;
	rc = read_parts(&x, za, len);
	zip_discard(za);
	if (rc == 0)
		rc = ooxml_clean(&x);
	if (rc == 0) {
		mugai_buf_reset(out);
		rc = write_zip(&x, out);
	}
	snprintf(ct, ctlen, "%s", rc == OOXML_BINARY ? OOXML_XLSB_CT :
	    x.main_ct);
	free_parts(&x);
	return rc;
}

/*
 * convert_ooxml - the cleaned package of in[0..len) into out, as a new
 * zip.  MUGAI_CONVERT_EXIT_OK, or an exit code with why filled; out
 * then holds nothing useful.  The rules are at the top of this file.
 */
int
convert_ooxml(const unsigned char *in, size_t len, const struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen)
{
	char ct[200];
	int rc = ooxml_run(in, len, o, out, why, whylen, ct, sizeof(ct));

	if (rc != OOXML_BINARY)
		return rc;
	if (whylen > 0)
		snprintf(why, whylen, "binary workbook (xlsb): only "
		    "LibreOffice reads it");
	return MUGAI_CONVERT_EXIT_BAD_INPUT;
}

/*
 * convert_ooxml_framed - the ooxml mode: the frame of mugai/cdr/worker.h
 * (the main part's content type), then convert_ooxml's zip; for a
 * binary workbook the frame with its type and no zip, so that the
 * parent hands it to LibreOffice.
 */
int
convert_ooxml_framed(const unsigned char *in, size_t len,
    const struct convert_opts *o, struct mugai_buf *out, char *why,
    size_t whylen)
{
	struct mugai_buf zip;
	unsigned char hdr[8];
	char ct[200];
	size_t n;
	int rc;

	mugai_buf_init(&zip, out->max);
	rc = ooxml_run(in, len, o, &zip, why, whylen, ct, sizeof(ct));
	if (rc == OOXML_BINARY) {
		mugai_buf_reset(&zip);
		rc = MUGAI_CONVERT_EXIT_OK;
	}
	if (rc == MUGAI_CONVERT_EXIT_OK) {
		n = strlen(ct);
		memcpy(hdr, MUGAI_OOXML_MAGIC, 4);
		hdr[4] = n & 0xff;
		hdr[5] = n >> 8 & 0xff;
		hdr[6] = 0;
		hdr[7] = 0;
		mugai_buf_reset(out);
		if (mugai_buf_append(out, hdr, 8) != MUGAI_OK ||
		    mugai_buf_append(out, ct, n) != MUGAI_OK ||
		    (zip.len > 0 && mugai_buf_append(out, zip.data, zip.len) !=
		    MUGAI_OK)) {
			if (whylen > 0)
				snprintf(why, whylen, "cleaned document is "
				    "too big");
			rc = MUGAI_CONVERT_EXIT_TOO_BIG;
		}
	}
	mugai_buf_free(&zip);
	return rc;
}

/*
 * convert_ooxml_prepare - libxml2's global set-up (encoding handlers,
 * dictionaries, the HTML and XPath tables), which every ooxml_run
 * otherwise does on its first call: once in the zygote, it no longer
 * costs each child its allocations and page faults.  No document is
 * involved; idempotent.
 */
void
convert_ooxml_prepare(void)
{
	xmlInitParser();
}

/*
 * convert_ooxml_is_package - 1 when in[0..len) is a zip (bytes after
 * its end allowed, as for the clean) with a [Content_Types].xml: an
 * Office Open XML package, whatever libmagic called it.
 */
int
convert_ooxml_is_package(const unsigned char *in, size_t len)
{
	struct ooxml x;
	char why[8];
	zip_t *za = NULL;
	int found;

	if (len < 4 || memcmp(in, "PK\003\004", 4) != 0)
		return 0;
	memset(&x, 0, sizeof(x));
	x.why = why;
	x.whylen = sizeof(why);
	if (open_input(&x, in, len, &za) != 0)
		return 0;
	found = zip_name_locate(za, "[Content_Types].xml", ZIP_FL_NOCASE |
	    ZIP_FL_ENC_RAW) >= 0;
	zip_discard(za);
	return found;
}
