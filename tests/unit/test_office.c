/*
 * test_office.c - legacy Office and RTF to docx/xlsx/pptx and PDF with
 * LibreOffice in bubblewrap: real conversions (Japanese text survives),
 * the sender's file name reaching LibreOffice, the confinement seen from
 * inside (rlimits, seccomp, the tmpfs), no converter, timeout with no
 * process left, wrong types, the output cap, and the private directory
 * gone after every call.
 *
 * Needs soffice and bwrap (CI has both); without them the conversions
 * are skipped with the reason printed.  The .doc, .xls and .ppt
 * fixtures are made in setup by soffice outside the sandbox.  The
 * Japanese text is checked with pdftotext when poppler-utils is
 * installed, else in the PDF's ToUnicode maps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "mugai/base/config.h"
#include "mugai/cdr/office.h"

/* 議事録 テスト as RTF \uN escapes, in IPAGothic (fonts-ipafont-gothic). */
#define JP_RTF_TEXT "\\u35696?\\u20107?\\u37682? \\u12486?\\u12473?\\u12488?"
#define JP_UTF8 "\xe8\xad\xb0\xe4\xba\x8b\xe9\x8c\xb2 " \
    "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88"
static const char jp_rtf[] =
    "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\fnil\\fcharset128 IPAGothic;}}"
    "\\f0\\fs24 Minutes " JP_RTF_TEXT "\\par}\n";
/* The same text's code points, as ToUnicode CMaps write them. */
static const char *const jp_cmap[] = {
	"<8B70>", "<4E8B>", "<9332>", "<30C6>", "<30B9>", "<30C8>"
};

/* The same text as a spreadsheet and a slide, for .xls and .ppt. */
static const char jp_fods[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<office:document"
    " xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
    " xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\""
    " xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""
    " office:version=\"1.3\" office:mimetype=\"application/"
    "vnd.oasis.opendocument.spreadsheet\">"
    "<office:body><office:spreadsheet><table:table table:name=\"s\">"
    "<table:table-row><table:table-cell office:value-type=\"string\">"
    "<text:p>" JP_UTF8 "</text:p></table:table-cell></table:table-row>"
    "</table:table></office:spreadsheet></office:body>"
    "</office:document>\n";
static const char jp_fodp[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<office:document"
    " xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
    " xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\""
    " xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""
    " xmlns:svg=\"urn:oasis:names:tc:opendocument:xmlns:"
    "svg-compatible:1.0\""
    " office:version=\"1.3\" office:mimetype=\"application/"
    "vnd.oasis.opendocument.presentation\">"
    "<office:body><office:presentation><draw:page draw:name=\"p1\">"
    "<draw:frame svg:x=\"2cm\" svg:y=\"2cm\" svg:width=\"20cm\""
    " svg:height=\"3cm\"><draw:text-box><text:p>" JP_UTF8 "</text:p>"
    "</draw:text-box></draw:frame></draw:page></office:presentation>"
    "</office:body></office:document>\n";

/* Made by soffice in setup: Word 97, Excel 97, PowerPoint 97. */
static char *doc_fixture, *xls_fixture, *ppt_fixture;
static size_t doc_len, xls_len, ppt_len;
static const char *skip_reason;
static char base[64];			/* everything this test makes */
static char spool[128];			/* spool_dir of the configs */

/* Defaults with spool_dir in our directory, plus up to two overrides. */
static struct mugai_config *
config(const char *o1, const char *o2)
{
	char sp[160], a[128], b[128], err[256];
	char *ov[3] = { sp, a, b };
	size_t n = 1;
	struct mugai_config *c;

	snprintf(sp, sizeof(sp), "spool_dir=%s", spool);
	if (o1 != NULL)
		snprintf(ov[n++], sizeof(a), "%s", o1);
	if (o2 != NULL)
		snprintf(ov[n++], sizeof(b), "%s", o2);
	c = mugai_config_load(NULL, ov, n, err, sizeof(err));
	if (c == NULL)
		fail_msg("config: %s", err);
	return c;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL)
		return -1;
	if (fwrite(p, 1, n, fp) != n) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

/* The whole file, NUL terminated; /proc files say size 0: read to EOF. */
static char *
read_file(const char *path, size_t *lenp)
{
	struct mugai_buf b;
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return NULL;
	mugai_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (mugai_buf_append(&b, chunk, n) != MUGAI_OK)
			break;
	fclose(fp);
	return mugai_buf_steal(&b, lenp);
}

/* Entries left in dir (the private directories of finished calls). */
static int
dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
file_contains(const char *path, const char *needle)
{
	size_t len, nl = strlen(needle);
	char *p = read_file(path, &len);
	int found = 0;

	if (p == NULL)
		return 0;
	for (size_t i = 0; i + nl <= len && !found; i++)
		found = memcmp(p + i, needle, nl) == 0;
	free(p);
	return found;
}

/*
 * Processes of our runs: bwrap names the private directory on its
 * command line; inside the sandbox soffice only sees /work, but its
 * mount table names the directory bound there.
 */
static int
leftover_processes(void)
{
	char path[288];
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if (file_contains(path, base)) {
			n++;
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
		if (file_contains(path, base))
			n++;
	}
	closedir(d);
	return n;
}

/* Every stream a zlib stream could be, inflated, searched for needle. */
static int
pdf_streams_contain(const char *pdf, size_t len, const char *needle)
{
	const char *p = pdf, *end = pdf + len, *s, *e;
	static unsigned char out[1 << 20];
	size_t nl = strlen(needle);
	uLongf olen;

	while ((s = memmem(p, (size_t)(end - p), "stream", 6)) != NULL) {
		s += 6;
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		e = memmem(s, (size_t)(end - s), "endstream", 9);
		if (e == NULL)
			break;
		olen = sizeof(out);
		if (uncompress(out, &olen, (const Bytef *)s, (uLong)(e - s)) ==
		    Z_OK && memmem(out, olen, needle, nl) != NULL)
			return 1;
		p = e + 9;
	}
	return 0;
}

/*
 * The Japanese text in the PDF: pdftotext when poppler-utils is
 * installed, else each character in the fonts' ToUnicode maps (a glyph
 * was drawn for it).
 */
static void
assert_japanese(const struct mugai_buf *pdf)
{
	char pdfpath[PATH_MAX], txtpath[PATH_MAX], cmd[3 * PATH_MAX];
	size_t i, tlen;
	char *txt;

	if (access("/usr/bin/pdftotext", X_OK) == 0) {
		snprintf(pdfpath, sizeof(pdfpath), "%s/check.pdf", base);
		snprintf(txtpath, sizeof(txtpath), "%s/check.txt", base);
		assert_int_equal(write_file(pdfpath, pdf->data, pdf->len), 0);
		snprintf(cmd, sizeof(cmd), "/usr/bin/pdftotext -enc UTF-8 "
		    "'%s' '%s'", pdfpath, txtpath);
		assert_int_equal(system(cmd), 0);
		txt = read_file(txtpath, &tlen);
		assert_non_null(txt);
		if (strstr(txt, JP_UTF8) == NULL)
			fail_msg("pdftotext: no " JP_UTF8 " in \"%s\"", txt);
		free(txt);
		unlink(pdfpath);
		unlink(txtpath);
		return;
	}
	for (i = 0; i < sizeof(jp_cmap) / sizeof(jp_cmap[0]); i++)
		if (!pdf_streams_contain(pdf->data, pdf->len, jp_cmap[i]))
			fail_msg("no ToUnicode entry %s in the PDF", jp_cmap[i]);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One call that must give a PDF; leaves nothing in spool. */
static void
convert_ok(const char *what, const void *in, size_t len, const char *ext,
    struct mugai_buf *pdf)
{
	struct mugai_config *c = config(NULL, NULL);
	struct mugai_worker_status st;
	int avail = -1;
	double t0 = now();

	assert_int_equal(mugai_office_to_pdf(c, in, len, ext, 0, pdf, &st,
	    &avail), MUGAI_OK);
	printf("# %s -> PDF: %.2f s, %zu bytes\n", what, now() - t0, pdf->len);
	assert_int_equal(avail, 1);
	if (st.end != MUGAI_WORKER_DONE || pdf->len == 0)
		fail_msg("%s: end %d code %d sig %d: %s", what, (int)st.end,
		    st.code, st.sig, st.message);
	assert_true(pdf->len > 5);
	assert_memory_equal(pdf->data, "%PDF-", 5);
	assert_true(memmem(pdf->data, pdf->len, "/Type/Page", 10) != NULL ||
	    memmem(pdf->data, pdf->len, "/Type /Page", 11) != NULL);
	assert_int_equal(dir_entries(spool), 0);
	mugai_config_unref(c);
}

/* One call that must fail as a conversion (held), not as an error. */
static void
convert_fails(struct mugai_config *c, const void *in, size_t len,
    const char *ext, struct mugai_worker_status *st)
{
	struct mugai_buf pdf;
	int avail = -1;

	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_office_to_pdf(c, in, len, ext, 0, &pdf, st,
	    &avail), MUGAI_OK);
	assert_int_equal(avail, 1);
	assert_int_equal(pdf.len, 0);
	assert_int_equal(dir_entries(spool), 0);
	mugai_buf_free(&pdf);
}

static void
test_rtf(void **state)
{
	struct mugai_buf pdf;

	(void)state;
	if (skip_reason != NULL)
		skip();
	mugai_buf_init(&pdf, 0);
	convert_ok("RTF", jp_rtf, sizeof(jp_rtf) - 1, "rtf", &pdf);
	assert_japanese(&pdf);
	assert_int_equal(leftover_processes(), 0);
	mugai_buf_free(&pdf);
}

static void
test_doc(void **state)
{
	struct mugai_buf pdf;

	(void)state;
	if (skip_reason != NULL)
		skip();
	mugai_buf_init(&pdf, 0);
	convert_ok(".doc", doc_fixture, doc_len, "doc", &pdf);
	assert_japanese(&pdf);
	/* The caller's buffer is reset, not appended to. */
	convert_ok(".doc again", doc_fixture, doc_len, "doc", &pdf);
	assert_memory_equal(pdf.data, "%PDF-", 5);
	mugai_buf_free(&pdf);
}

static void
test_xls_ppt(void **state)
{
	struct mugai_buf pdf;

	(void)state;
	if (skip_reason != NULL)
		skip();
	mugai_buf_init(&pdf, 0);
	convert_ok(".xls", xls_fixture, xls_len, "xls", &pdf);
	assert_japanese(&pdf);
	convert_ok(".ppt", ppt_fixture, ppt_len, "ppt", &pdf);
	assert_japanese(&pdf);
	mugai_buf_free(&pdf);
}

static void
test_no_converter(void **state)
{
	static const char *const ov[] = {
		"libreoffice_path=/nonexistent/soffice",
		"bwrap_path=/nonexistent/bwrap",
		"libreoffice_path=/etc/passwd",		/* not executable */
	};
	struct mugai_worker_status st;
	struct mugai_config *c;
	struct mugai_buf pdf;
	size_t i;
	int avail;

	(void)state;
	mugai_buf_init(&pdf, 0);
	for (i = 0; i < sizeof(ov) / sizeof(ov[0]); i++) {
		c = config(ov[i], NULL);
		avail = -1;
		assert_false(mugai_office_available(c));
		assert_int_equal(mugai_office_to_pdf(c, jp_rtf,
		    sizeof(jp_rtf) - 1, "rtf", 0, &pdf, &st, &avail), MUGAI_OK);
		assert_int_equal(avail, 0);
		assert_int_equal(pdf.len, 0);
		assert_int_equal(dir_entries(spool), 0);
		mugai_config_unref(c);
	}
	mugai_buf_free(&pdf);
}

static void
test_bad_ext(void **state)
{
	struct mugai_config *c = config(NULL, NULL);
	struct mugai_worker_status st;
	struct mugai_buf pdf;
	int avail = -1;

	(void)state;
	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_office_to_pdf(c, "x", 1, "exe", 0, &pdf, &st,
	    &avail), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_office_to_pdf(c, "x", 1, "../doc", 0, &pdf,
	    &st, &avail), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_office_to_pdf(c, "x", 1, NULL, 0, &pdf, &st,
	    &avail), MUGAI_ERR_USAGE);
	assert_int_equal(dir_entries(spool), 0);
	mugai_buf_free(&pdf);
	mugai_config_unref(c);
}

/* A document that takes many seconds, cut at 1 s: nothing left. */
static void
test_timeout(void **state)
{
	struct mugai_config *c;
	struct mugai_worker_status st;
	struct mugai_buf big, pdf;
	char how[320];
	double t0;
	int i, avail;

	(void)state;
	if (skip_reason != NULL)
		skip();
	mugai_buf_init(&big, 0);
	assert_int_equal(mugai_buf_puts(&big, "{\\rtf1\\ansi{\\fonttbl{\\f0 "
	    "IPAGothic;}}\\f0 "), MUGAI_OK);
	for (i = 0; i < 30000; i++)
		assert_int_equal(mugai_buf_printf(&big, JP_RTF_TEXT " line %d"
		    "\\par\n", i), MUGAI_OK);
	assert_int_equal(mugai_buf_puts(&big, "}"), MUGAI_OK);
	c = config("office_timeout=1", NULL);
	t0 = now();
	convert_fails(c, big.data, big.len, "rtf", &st);
	mugai_worker_describe(&st, how, sizeof(how));
	printf("# timeout run returned after %.2f s: %s\n", now() - t0, how);
	assert_int_equal(st.end, MUGAI_WORKER_TIMEOUT);
	assert_int_equal(leftover_processes(), 0);
	mugai_config_unref(c);

	/* The caller's limit (what is left of the message's time) wins
	 * over a longer office_timeout. */
	c = config("office_timeout=120", NULL);
	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_office_to_pdf(c, big.data, big.len, "rtf", 1,
	    &pdf, &st, &avail), MUGAI_OK);
	assert_int_equal(st.end, MUGAI_WORKER_TIMEOUT);
	assert_int_equal(st.code, 1);
	assert_int_equal(pdf.len, 0);
	assert_int_equal(dir_entries(spool), 0);
	assert_int_equal(leftover_processes(), 0);
	mugai_buf_free(&pdf);
	mugai_config_unref(c);
	mugai_buf_free(&big);
}

/* One call that must give an Office Open XML file holding part. */
static void
ooxml_ok(const char *what, const void *in, size_t len, const char *ext,
    const char *part)
{
	struct mugai_config *c = config(NULL, NULL);
	struct mugai_worker_status st;
	struct mugai_buf out;
	int avail = -1;
	double t0 = now();

	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_office_convert(c, in, len, ext, "資料.x", 0, 0,
	    &out, &st, &avail), MUGAI_OK);
	printf("# %s -> %s: %.2f s, %zu bytes\n", what,
	    mugai_office_out_ext(ext, 0), now() - t0, out.len);
	if (st.end != MUGAI_WORKER_DONE || out.len == 0)
		fail_msg("%s: end %d code %d sig %d: %s", what, (int)st.end,
		    st.code, st.sig, st.message);
	assert_memory_equal(out.data, "PK\003\004", 4);
	/* Names in the central directory are stored as they are. */
	if (memmem(out.data, out.len, part, strlen(part)) == NULL)
		fail_msg("%s: no %s in the zip", what, part);
	assert_int_equal(dir_entries(spool), 0);
	assert_int_equal(leftover_processes(), 0);
	mugai_buf_free(&out);
	mugai_config_unref(c);
}

static void
test_ooxml(void **state)
{
	(void)state;
	if (skip_reason != NULL)
		skip();
	assert_string_equal(mugai_office_out_ext("doc", 0), "docx");
	assert_string_equal(mugai_office_out_ext("rtf", 0), "docx");
	assert_string_equal(mugai_office_out_ext("xls", 0), "xlsx");
	assert_string_equal(mugai_office_out_ext("xlsb", 0), "xlsx");
	assert_string_equal(mugai_office_out_ext("ppt", 0), "pptx");
	assert_string_equal(mugai_office_out_ext("ppt", 1), "pdf");
	assert_null(mugai_office_out_ext("exe", 0));
	ooxml_ok(".doc", doc_fixture, doc_len, "doc", "word/document.xml");
	ooxml_ok("RTF", jp_rtf, sizeof(jp_rtf) - 1, "rtf",
	    "word/document.xml");
	ooxml_ok(".xls", xls_fixture, xls_len, "xls", "xl/workbook.xml");
	ooxml_ok(".ppt", ppt_fixture, ppt_len, "ppt", "ppt/presentation.xml");
}

/*
 * The sender's name reaches LibreOffice (print headers, FILENAME
 * fields), made safe: a FILENAME field shows it in the PDF.
 */
static void
test_real_name(void **state)
{
	static const char rtf[] = "{\\rtf1\\ansi{\\fonttbl{\\f0 IPAGothic;}}"
	    "\\f0 Name: {\\field{\\*\\fldinst FILENAME}{\\fldrslt old}}\\par}";
	static const struct {
		const char *given, *seen;
	} cases[] = {
		{ "\xe8\xad\xb0\xe4\xba\x8b\xe9\x8c\xb2 2024.rtf",
		  "\xe8\xad\xb0\xe4\xba\x8b\xe9\x8c\xb2 2024.rtf" },
		{ "../../etc/minutes.doc", "minutes.rtf" },
		{ "-rf $(x)#.rtf", "_rf __x__.rtf" },
		{ "", "document.rtf" },
	};
	char pdfpath[PATH_MAX], cmd[2 * PATH_MAX];
	struct mugai_config *c;
	struct mugai_worker_status st;
	struct mugai_buf pdf;
	FILE *fp;
	char text[4096];
	size_t i, n;
	int avail;

	(void)state;
	if (skip_reason != NULL || access("/usr/bin/pdftotext", X_OK) != 0)
		skip();
	c = config(NULL, NULL);
	mugai_buf_init(&pdf, 0);
	snprintf(pdfpath, sizeof(pdfpath), "%s/name.pdf", base);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mugai_office_convert(c, rtf, sizeof(rtf) - 1,
		    "rtf", cases[i].given, 1, 0, &pdf, &st, &avail), MUGAI_OK);
		if (pdf.len == 0)
			fail_msg("%s: %s", cases[i].given, st.message);
		assert_int_equal(write_file(pdfpath, pdf.data, pdf.len), 0);
		snprintf(cmd, sizeof(cmd), "/usr/bin/pdftotext -enc UTF-8 '%s' -",
		    pdfpath);
		assert_non_null(fp = popen(cmd, "r"));
		n = fread(text, 1, sizeof(text) - 1, fp);
		text[n] = '\0';
		pclose(fp);
		if (strstr(text, cases[i].seen) == NULL)
			fail_msg("name \"%s\": want \"%s\" in \"%s\"",
			    cases[i].given, cases[i].seen, text);
	}
	unlink(pdfpath);
	mugai_buf_free(&pdf);
	mugai_config_unref(c);
}

/*
 * The sandbox seen from inside: a stand-in for soffice reports its
 * limits, seccomp mode, what a socket() of each family does, the size of
 * its writable directory and whether anything else is writable, as the
 * "PDF" it writes.
 */
static const char fake_soffice[] =
    "#!/bin/sh\n"
    "case \"$*\" in *--terminate_after_init*)\n"
    " mkdir /work/profile/user/prepared; exit 0;; esac\n"
    "for a; do doc=$a; done\n"
    "out=/work/out/$(basename \"${doc%.*}\").pdf\n"
    "{\n"
    " echo %PDF-1.4\n"
    " cat /proc/self/limits\n"
    " grep '^Seccomp:' /proc/self/status\n"
    " python3 -c 'import socket\n"
    "for f in (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, "
    "socket.AF_NETLINK):\n"
    "  try: socket.socket(f, socket.SOCK_DGRAM); print(\"socket\", int(f), "
    "\"ok\")\n"
    "  except OSError as e: print(\"socket\", int(f), e.errno)'\n"
    " set -- $(stat -f -c '%b %S' /work)\n"
    " echo work-bytes $(($1 * $2))\n"
    " touch /usr/x 2>/dev/null && echo usr-writable\n"
    " touch /in/x 2>/dev/null && echo in-writable\n"
    " echo profile $(ls /work/profile/user)\n"
    "} > \"$out\"\n";

static void
test_confined(void **state)
{
	char dir[PATH_MAX / 2], lo[PATH_MAX], opt[PATH_MAX + 32], *r;
	struct mugai_config *c;
	struct mugai_worker_status st;
	struct mugai_buf out;
	int avail;

	(void)state;
	if (skip_reason != NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/lo", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/lo/program", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(lo, sizeof(lo), "%s/soffice", dir);
	assert_int_equal(write_file(lo, fake_soffice, sizeof(fake_soffice) - 1),
	    0);
	assert_int_equal(chmod(lo, 0755), 0);
	snprintf(opt, sizeof(opt), "libreoffice_path=%s", lo);
	c = config(opt, "office_memory=3G");
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_office_convert(c, jp_rtf, sizeof(jp_rtf) - 1,
	    "rtf", "x.rtf", 1, 0, &out, &st, &avail), MUGAI_OK);
	if (out.len == 0)
		fail_msg("fake soffice: end %d code %d: %s", (int)st.end,
		    st.code, st.message);
	assert_non_null(r = mugai_buf_steal(&out, NULL));
	printf("# inside:\n%s", r);
	assert_non_null(strstr(r, "Max address space         3221225472"));
	assert_non_null(strstr(r, "Max cpu time              120"));
	assert_non_null(strstr(r, "Max file size             536870912"));
	assert_non_null(strstr(r, "Max processes             1024"));
	assert_non_null(strstr(r, "Max core file size        0"));
	assert_non_null(strstr(r, "Seccomp:\t2"));
	assert_non_null(strstr(r, "socket 1 ok"));		/* AF_UNIX */
	assert_non_null(strstr(r, "socket 2 97"));		/* EAFNOSUPPORT */
	assert_non_null(strstr(r, "socket 10 97"));
	assert_non_null(strstr(r, "socket 16 97"));
	assert_non_null(strstr(r, "work-bytes 536870912"));
	assert_null(strstr(r, "usr-writable"));
	assert_null(strstr(r, "in-writable"));
	/* The profile prepared once, copied into the sandbox. */
	assert_non_null(strstr(r, "profile prepared registrymodifications.xcu"));
	assert_int_equal(dir_entries(spool), 0);
	free(r);
	mugai_config_unref(c);
}

/*
 * Without a forced import filter LibreOffice loads a file by its bytes
 * (Word 6/95 files load only that way), so a Word file named .xls is a
 * Word file: the PDF route converts it, the xlsx route cannot.  Noise
 * after an OLE2 signature is refused before LibreOffice by the ole2
 * mode of mugai-convert (tests/e2e/office.sh).
 */
static void
test_garbage(void **state)
{
	struct mugai_config *c;
	struct mugai_worker_status st;
	struct mugai_buf out;
	int avail;

	(void)state;
	if (skip_reason != NULL)
		skip();
	c = config(NULL, NULL);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_office_convert(c, doc_fixture, doc_len, "xls",
	    NULL, 1, 0, &out, &st, &avail), MUGAI_OK);
	assert_true(out.len > 5);
	assert_int_equal(mugai_office_convert(c, doc_fixture, doc_len, "xls",
	    NULL, 0, 0, &out, &st, &avail), MUGAI_OK);
	assert_int_equal(out.len, 0);
	assert_int_equal(st.end, MUGAI_WORKER_DONE);
	assert_true(st.message[0] != '\0');
	printf("# Word file as .xls to xlsx: %s\n", st.message);
	assert_int_equal(dir_entries(spool), 0);
	assert_int_equal(leftover_processes(), 0);
	mugai_buf_free(&out);
	mugai_config_unref(c);
}

/* Bytes that cannot be the type are refused before LibreOffice starts. */
static void
test_wrong_magic(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *ext;
	} cases[] = {
		{ "not a document\n", 15, "doc" },	/* LibreOffice: text */
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 noise", 14, "rtf" },
		{ "{\\rtf1 hello}", 13, "xls" },
		{ "{\\rt", 4, "rtf" },
		{ "", 0, "doc" },
		{ "", 0, "rtf" },
	};
	struct mugai_config *c;
	struct mugai_worker_status st;
	size_t i;

	(void)state;
	if (skip_reason != NULL)
		skip();
	c = config(NULL, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		convert_fails(c, cases[i].data, cases[i].len, cases[i].ext,
		    &st);
		assert_int_equal(st.end, MUGAI_WORKER_EXIT);
		assert_int_equal(st.code, MUGAI_CONVERT_EXIT_BAD_INPUT);
		assert_true(st.message[0] != '\0');
	}
	/* The Japanese RTF handed over as a Word file. */
	convert_fails(c, jp_rtf, sizeof(jp_rtf) - 1, "doc", &st);
	assert_int_equal(st.code, MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_config_unref(c);
}

static void
test_output_cap(void **state)
{
	struct mugai_config *c;
	struct mugai_worker_status st;

	(void)state;
	if (skip_reason != NULL)
		skip();
	c = config("convert_max_output=1K", NULL);
	convert_fails(c, jp_rtf, sizeof(jp_rtf) - 1, "rtf", &st);
	assert_int_equal(st.end, MUGAI_WORKER_OUTPUT);
	mugai_config_unref(c);
}

/* spool_dir unusable: $TMPDIR, and nothing left there either. */
static void
test_tmpdir_fallback(void **state)
{
	char tmp[PATH_MAX + 8], *old;
	struct mugai_config *c;
	struct mugai_worker_status st;
	struct mugai_buf pdf;
	int avail = -1;

	(void)state;
	if (skip_reason != NULL)
		skip();
	snprintf(tmp, sizeof(tmp), "%s/tmp", base);
	assert_int_equal(mkdir(tmp, 0700), 0);
	old = getenv("TMPDIR");
	old = old != NULL ? strdup(old) : NULL;
	setenv("TMPDIR", tmp, 1);
	c = config("spool_dir=/nonexistent/spool", NULL);
	mugai_buf_init(&pdf, 0);
	assert_int_equal(mugai_office_to_pdf(c, jp_rtf, sizeof(jp_rtf) - 1,
	    "rtf", 0, &pdf, &st, &avail), MUGAI_OK);
	assert_int_equal(avail, 1);
	assert_true(pdf.len > 5);
	assert_memory_equal(pdf.data, "%PDF-", 5);
	assert_int_equal(dir_entries(tmp), 0);
	if (old != NULL)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
	rmdir(tmp);
	mugai_buf_free(&pdf);
	mugai_config_unref(c);
}

/*
 * A fixture: src saved by soffice, unsandboxed, with the export filter
 * in target ("doc:MS Word 97"), as fix/NAME.EXT; an OLE2 file.
 */
static char *
make_fixture(const char *name, const char *src, const char *target,
    const char *ext, size_t *lenp)
{
	char dir[128], path[160], cmd[1024];
	char *data;

	snprintf(dir, sizeof(dir), "%s/fix", base);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (write_file(path, src, strlen(src)) != 0)
		return NULL;
	snprintf(cmd, sizeof(cmd), "HOME='%s' /usr/bin/soffice --headless "
	    "--norestore -env:UserInstallation=file://%s/profile "
	    "--convert-to '%s' --outdir '%s' '%s' >/dev/null 2>&1",
	    dir, dir, target, dir, path);
	if (system(cmd) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%.*s.%s", dir,
	    (int)(strrchr(name, '.') - name), name, ext);
	data = read_file(path, lenp);
	if (data != NULL && (*lenp < 512 ||
	    memcmp(data, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) != 0)) {
		free(data);
		data = NULL;
	}
	return data;
}

static int
make_fixtures(void)
{
	doc_fixture = make_fixture("jp.rtf", jp_rtf, "doc:MS Word 97", "doc",
	    &doc_len);
	xls_fixture = make_fixture("jp.fods", jp_fods, "xls:MS Excel 97", "xls",
	    &xls_len);
	ppt_fixture = make_fixture("jp.fodp", jp_fodp,
	    "ppt:MS PowerPoint 97", "ppt", &ppt_len);
	return doc_fixture && xls_fixture && ppt_fixture ? 0 : -1;
}

static int
setup(void **state)
{
	struct mugai_config *c;

	(void)state;
	snprintf(base, sizeof(base), "/tmp/test-office-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(spool, sizeof(spool), "%s/spool", base);
	if (mkdir(spool, 0700) != 0)
		return -1;
	c = config(NULL, NULL);
	if (!mugai_office_available(c))
		skip_reason = "soffice or bwrap not installed "
		    "(libreoffice-core-nogui, bubblewrap)";
	mugai_config_unref(c);
	if (skip_reason == NULL && make_fixtures() != 0) {
		fprintf(stderr, "test_office: cannot make the fixtures with "
		    "soffice\n");
		return -1;
	}
	if (skip_reason != NULL)
		printf("# test_office: skipping conversions: %s\n", skip_reason);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	(void)state;
	free(doc_fixture);
	free(xls_fixture);
	free(ppt_fixture);
	if (base[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_converter),
		cmocka_unit_test(test_bad_ext),
		cmocka_unit_test(test_rtf),
		cmocka_unit_test(test_doc),
		cmocka_unit_test(test_xls_ppt),
		cmocka_unit_test(test_ooxml),
		cmocka_unit_test(test_real_name),
		cmocka_unit_test(test_confined),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_tmpdir_fallback),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
