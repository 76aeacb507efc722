/*
 * test_pdfwrite.c - the PDF copy the parent writes with cairo
 * (src/cdr/pdfwrite.c): read back by poppler's tools (pdfinfo for pages and
 * sizes, pdftotext for the text layer, pdffonts for the font), nothing
 * active in it, each page stored the way its pixels call for (JPEG for
 * photographs, lossless grey, lossless few-colour, one bit for bilevel,
 * a text stencil over white or over a JPEG of the pictures for mixed),
 * a font that will not load, pages left run-length coded and decoded one
 * at a time, and the error paths.  That the worker's
 * own pages come back is checked in test_convert_pdf.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <cairo-ft.h>
#include <ft2build.h>
#include FT_FREETYPE_H

#include "mugai/cdr/pdfwrite.h"

#define FONT	"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
#define GW	300
#define GH	200
#define CW	150
#define CH	120

static uint8_t grey[GW * GH];
static uint8_t photo[CW * CH * 3];
static uint8_t chart[CW * CH * 3];
/* A page of text lines, and the same with a photograph in its middle. */
#define TW	400
#define TH	300
static uint8_t textpage[TW * TH];
static uint8_t textphoto[TW * TH * 3];

/*
 * text_page - textpage as an office's page looks rendered: lines of
 * Japanese and English in the IPA font, antialiased, black on white.
 */
static void
text_page(void)
{
	static const char *const lines[] = {
		"令和六年度第三回総務委員会の議事録を次のとおり報告する。",
		"The committee reviewed the budget for the fiscal year and",
		"事務局から、電子メールの添付ファイルを無害化する装置の",
		"approved the proposal for the new mail gateway after a short",
	};
	cairo_surface_t *s;
	cairo_font_face_t *ff;
	cairo_t *cr;
	FT_Library lib;
	FT_Face face;
	unsigned char *row;
	size_t x, y, i;
	int stride;

	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, TW, TH);
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	/*
	 * The font file through FreeType, as pdfwrite.c loads it: cairo's
	 * toy API would go through fontconfig, whose caches live until
	 * exit and count as leaks under ASan.
	 */
	assert_int_equal(FT_Init_FreeType(&lib), 0);
	assert_int_equal(FT_New_Face(lib, FONT, 0, &face), 0);
	ff = cairo_ft_font_face_create_for_ft_face(face, 0);
	cairo_set_font_face(cr, ff);
	cairo_set_font_size(cr, 21);
	for (y = 0; y < 9; y++) {
		cairo_move_to(cr, 12, 30 + 32.0 * y);
		cairo_show_text(cr, lines[y % 4]);
	}
	cairo_destroy(cr);
	cairo_font_face_destroy(ff);
	cairo_surface_flush(s);
	stride = cairo_image_surface_get_stride(s);
	row = cairo_image_surface_get_data(s);
	for (y = 0; y < TH; y++, row += stride)
		for (x = 0; x < TW; x++) {
			i = y * TW + x;
			/* Green: the grey level, near enough. */
			textpage[i] = row[x * 4 + 1];
		}
	cairo_surface_destroy(s);
	/* Nothing drawn is cached past here: the face can go. */
	cairo_debug_reset_static_data();
	FT_Done_Face(face);
	FT_Done_FreeType(lib);
}

static int
setup(void **state)
{
	size_t x, y, i;
	uint32_t r = 1;

	(void)state;
	for (y = 0; y < GH; y++)
		for (x = 0; x < GW; x++)
			grey[y * GW + x] = (uint8_t)(x * 255 / (GW - 1));
	/* A photograph: every pixel its own colour, with noise. */
	for (i = 0; i < sizeof(photo); i++) {
		r = r * 1103515245u + 12345u;
		photo[i] = (uint8_t)((i * 7 / 3) + (r >> 24) % 32);
	}
	text_page();
	for (i = 0; i < TW * TH; i++)
		memset(textphoto + i * 3, textpage[i], 3);
	for (y = 100; y < 200; y++)
		for (x = 100; x < 300; x++) {
			r = r * 1103515245u + 12345u;
			textphoto[(y * TW + x) * 3] = (uint8_t)(x / 2 +
			    (r >> 24) % 32);
			textphoto[(y * TW + x) * 3 + 1] = (uint8_t)(y +
			    (r >> 16) % 32);
			textphoto[(y * TW + x) * 3 + 2] = 90;
		}
	/* A chart: white, with a red and a blue bar. */
	memset(chart, 0xff, sizeof(chart));
	for (y = 20; y < 100; y++)
		for (x = 20; x < 60; x++) {
			chart[(y * CW + x) * 3 + 1] = 0;
			chart[(y * CW + x) * 3 + 2] = 0;
			chart[(y * CW + x + 60) * 3] = 0;
			chart[(y * CW + x + 60) * 3 + 1] = 0;
		}
	return 0;
}

static char *
find(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle));
}

/*
 * tool - run "CMD FILE" on the PDF (saved to a temporary file) and
 * return its standard output (free it).  pdftotext writes FILE.txt
 * (FILE.html with -bbox): that is read instead.
 */
static char *
tool(const char *cmd, const struct mugai_buf *pdf)
{
	char path[] = "/tmp/test-pdfwrite-XXXXXX", line[600], txt[64],
	    html[64];
	struct mugai_buf out;
	FILE *fp;
	size_t n;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pdf->data, pdf->len), (ssize_t)pdf->len);
	close(fd);
	snprintf(txt, sizeof(txt), "%s.txt", path);
	snprintf(html, sizeof(html), "%s.html", path);
	snprintf(line, sizeof(line), "%s '%s' 2>/dev/null && "
	    "{ [ ! -e '%s' ] || cat '%s'; } && { [ ! -e '%s' ] || cat '%s'; }",
	    cmd, path, txt, txt, html, html);
	fp = popen(line, "r");
	assert_non_null(fp);
	mugai_buf_init(&out, 0);
	while ((n = fread(line, 1, sizeof(line), fp)) > 0)
		assert_int_equal(mugai_buf_append(&out, line, n), MUGAI_OK);
	assert_int_equal(pclose(fp), 0);
	unlink(path);
	unlink(txt);
	unlink(html);
	return mugai_buf_steal(&out, NULL);
}

static struct mugai_pdf_opts
opts(unsigned dpi)
{
	struct mugai_pdf_opts o = { dpi, 75, FONT, 0, 0 };

	return o;
}

/* A needle outside the stream data (which may hold any bytes). */
static int
outside_streams(const char *pdf, size_t len, const char *needle)
{
	const char *p = pdf, *end = pdf + len, *s, *e;

	while (p < end) {
		if ((s = find(p, (size_t)(end - p), "stream\n")) == NULL)
			s = end;
		if (memmem(p, (size_t)(s - p), needle, strlen(needle)) != NULL)
			return 1;
		if (s == end)
			break;
		e = find(s, (size_t)(end - s), "endstream");
		assert_non_null(e);
		p = e + 9;
	}
	return 0;
}

static void
test_structure(void **state)
{
	static const char *const absent[] = {
		"/JavaScript", "/JS", "/OpenAction", "/AA", "/AcroForm",
		"/EmbeddedFile", "/Launch", "/URI", "/Annots", "/XFA",
		"/RichMedia", "/Names",
	};
	struct mugai_pixmap pm[2] = {
		{ GW, GH, 1, 0, grey }, { CW, CH, 3, 0, photo },
	};
	struct mugai_pdf_opts o = opts(100);
	struct mugai_pdf_stats st;
	struct mugai_buf out;
	char *info;
	size_t i;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_memory_equal(out.data, "%PDF-", 5);
	assert_non_null(find(out.data + out.len - 7, 7, "%%EOF"));
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (outside_streams(out.data, out.len, absent[i]))
			fail_msg("%s in the PDF", absent[i]);
	/* No words given: no font. */
	assert_false(outside_streams(out.data, out.len, "/Font"));
	/* The gradient deflates smaller than JPEG; the photograph cannot. */
	assert_int_equal(st.grey, 1);
	assert_int_equal(st.jpeg, 1);
	assert_int_equal(st.colour, 0);
	assert_int_equal(st.words, 0);
	assert_non_null(find(out.data, out.len, "/DCTDecode"));
	info = tool("pdfinfo -f 1 -l 2", &out);
	assert_non_null(strstr(info, "Pages:           2\n"));
	/* 300 x 200 px at 100 dpi is 216 x 144 pt; 150 x 120 is 108 x 86.4. */
	assert_non_null(strstr(info, "Page    1 size:  216 x 144 pts"));
	assert_non_null(strstr(info, "Page    2 size:  108 x 86.4 pts"));
	assert_non_null(strstr(info, "Creator:         mugai\n"));
	free(info);
	mugai_buf_free(&out);
}

/*
 * The words under the image: pdftotext finds them, Japanese included,
 * the font is an embedded subset, and the page still shows the image.
 */
static void
test_text_layer(void **state)
{
	struct mugai_word w[4] = {
		{ 2000, 2000, 12000, 4000, 0, "議事録", 0 },
		{ 13000, 2000, 20000, 4000, 0, "minutes", 7 },
		{ 2000, 6000, 18000, 8000, 0, "無害化通信", 0 },
		{ 19000, 5000, 21000, 14000, MUGAI_WORD_VERTICAL, "縦書き", 0 },
	};
	struct mugai_pagetext t[2] = { { w, 4 }, { NULL, 0 } };
	struct mugai_pixmap pm[2] = {
		{ GW, GH, 1, 0, grey }, { CW, CH, 3, 0, chart },
	};
	struct mugai_pdf_opts o = opts(100);
	struct mugai_pdf_stats st;
	struct mugai_buf out;
	char *text, *fonts;

	(void)state;
	w[0].len = (uint32_t)strlen(w[0].text);
	w[2].len = (uint32_t)strlen(w[2].text);
	w[3].len = (uint32_t)strlen(w[3].text);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, t, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.words, 4);
	assert_int_equal(st.no_font, 0);
	/* The chart has three colours: stored losslessly. */
	assert_int_equal(st.colour, 1);
	text = tool("pdftotext -enc UTF-8 -f 1 -l 1", &out);
	assert_non_null(strstr(text, "議事録 minutes"));
	assert_non_null(strstr(text, "無害化通信"));
	free(text);
	/* The vertical word runs down its box (190..210 x 50..140 pt). */
	text = tool("pdftotext -enc UTF-8 -bbox -f 1 -l 1", &out);
	assert_non_null(strstr(text, "<word xMin=\"19"));
	assert_non_null(strstr(text, "縦書き"));
	free(text);
	fonts = tool("pdffonts", &out);
	assert_non_null(strstr(fonts, "+IPAGothic"));
	free(fonts);
	mugai_buf_free(&out);

	/* A font that does not load: the copy, without its text layer. */
	o.font = "/nonexistent/font.ttf";
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, t, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.no_font, 1);
	assert_false(outside_streams(out.data, out.len, "/Font"));
	text = tool("pdftotext -enc UTF-8", &out);
	assert_null(strstr(text, "minutes"));
	free(text);
	mugai_buf_free(&out);
}

/*
 * Bilevel: a grey page in black and white, coded as fax.  Rendered
 * again by pdftoppm, the left part (grey levels under 160) is black and
 * the right part white: the fax data has the right polarity.
 */
static void
test_bilevel(void **state)
{
	struct mugai_pixmap pm = { GW, GH, 1, 0, grey };
	struct mugai_pdf_opts o = opts(72);
	struct mugai_pdf_stats st;
	struct mugai_buf out;
	char *pgm, *px;
	unsigned w, h, max;
	int off;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&pm, 1, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.grey, 1);
	assert_int_equal(st.fax, 0);
	assert_null(find(out.data, out.len, "/CCITTFaxDecode"));
	mugai_buf_free(&out);
	o.bilevel = 1;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&pm, 1, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.fax, 1);
	assert_int_equal(st.grey, 0);
	assert_non_null(find(out.data, out.len, "/CCITTFaxDecode"));
	/* 300 x 200 px at 72 dpi: rendered at 72 dpi, pixel for pixel. */
	pgm = tool("pdftoppm -r 72 -gray", &out);
	assert_int_equal(sscanf(pgm, "P5 %u %u %u%n", &w, &h, &max, &off), 3);
	assert_int_equal(w, GW);
	assert_int_equal(h, GH);
	px = pgm + off + 1;
	/* Row 100: x 0..150 is under 160 (black), x 200.. is white. */
	assert_int_equal((unsigned char)px[100 * GW + 10], 0);
	assert_int_equal((unsigned char)px[100 * GW + 140], 0);
	assert_int_equal((unsigned char)px[100 * GW + 200], 255);
	assert_int_equal((unsigned char)px[100 * GW + 290], 255);
	free(pgm);
	mugai_buf_free(&out);
}

/* The grey level pdftoppm renders at (x, y) of a one-page PDF at dpi. */
static unsigned
rendered(const struct mugai_buf *pdf, unsigned dpi, unsigned x, unsigned y,
    unsigned *channel)
{
	char cmd[64], *ppm;
	unsigned w, h, max, v[3], c;
	int off;

	snprintf(cmd, sizeof(cmd), "pdftoppm -r %u", dpi);
	ppm = tool(cmd, pdf);
	assert_int_equal(sscanf(ppm, "P6 %u %u %u%n", &w, &h, &max, &off), 3);
	assert_true(x < w && y < h);
	for (c = 0; c < 3; c++)
		v[c] = (unsigned char)ppm[off + 1 + ((size_t)y * w + x) * 3 +
		    c];
	free(ppm);
	if (channel != NULL)
		for (c = 0; c < 3; c++)
			channel[c] = v[c];
	return (v[0] * 77 + v[1] * 150 + v[2] * 29) >> 8;
}

/*
 * Mixed: a page of text becomes a fax-coded stencil over white paper,
 * smaller than with 4-level grey, black where the ink was and white
 * elsewhere when rendered again, its words still under it for
 * pdftotext; with a photograph in the middle, the photograph becomes a
 * JPEG under the stencil and keeps its colours.  Off, the same pages
 * are stored whole as before.
 */
static void
test_mixed(void **state)
{
	struct mugai_word w[1] = {
		{ 2000, 2000, 12000, 4000, 0, "議事録", 0 },
	};
	struct mugai_pagetext t = { w, 1 };
	struct mugai_pixmap text = { TW, TH, 1, 0, textpage },
	    mixed = { TW, TH, 3, 0, textphoto },
	    photo_only = { CW, CH, 3, 0, photo };
	struct mugai_pdf_opts o = opts(72);
	struct mugai_pdf_stats st;
	struct mugai_buf out, whole;
	unsigned rgb[3], ink_x = 0, ink_y = 0, edge_x = 0, edge_y = 0;
	size_t i;
	char *s;

	(void)state;
	/* An ink pixel and a faint edge pixel in the first line. */
	for (i = 0; i < TW * 30; i++) {
		if (textpage[i] == 0 && ink_x == 0) {
			ink_x = i % TW;
			ink_y = i / TW;
		}
		if (textpage[i] > 200 && textpage[i] < 230 && edge_x == 0) {
			edge_x = i % TW;
			edge_y = i / TW;
		}
	}
	assert_true(ink_x > 0 && edge_x > 0);
	w[0].len = (uint32_t)strlen(w[0].text);
	mugai_buf_init(&whole, 0);
	assert_int_equal(mugai_pdf_from_pages(&text, 1, &t, &o, &whole, &st),
	    MUGAI_OK);
	assert_int_equal(st.grey, 1);
	assert_int_equal(st.mixed, 0);
	o.mixed = 1;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&text, 1, &t, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.mixed, 1);
	assert_int_equal(st.grey + st.jpeg + st.colour + st.fax, 0);
	assert_true(out.len < whole.len);
	assert_non_null(find(out.data, out.len, "/ImageMask true"));
	assert_non_null(find(out.data, out.len, "/CCITTFaxDecode"));
	assert_null(find(out.data, out.len, "/DCTDecode"));
	/* Ink black, paper and the faint edges of strokes white. */
	assert_int_equal(rendered(&out, 72, ink_x, ink_y, NULL), 0);
	assert_in_range(rendered(&out, 72, edge_x, edge_y, NULL), 250, 255);
	assert_in_range(rendered(&out, 72, 5, 5, NULL), 250, 255);
	s = tool("pdftotext -enc UTF-8", &out);
	assert_non_null(strstr(s, "議事録"));
	free(s);
	mugai_buf_free(&out);
	mugai_buf_free(&whole);

	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&mixed, 1, &t, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.mixed, 1);
	assert_non_null(find(out.data, out.len, "/ImageMask true"));
	assert_non_null(find(out.data, out.len, "/DCTDecode"));
	/* Text far from the photograph: black; the photograph: its blue. */
	assert_int_equal(rendered(&out, 72, ink_x, ink_y, NULL), 0);
	(void)rendered(&out, 72, 200, 150, rgb);
	assert_in_range(rgb[2], 70, 110);
	assert_in_range(rgb[1], 130, 200);
	s = tool("pdftotext -enc UTF-8", &out);
	assert_non_null(strstr(s, "議事録"));
	free(s);
	mugai_buf_free(&out);

	/* All photograph: nothing to split, the whole page as JPEG. */
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&photo_only, 1, NULL, &o, &out,
	    &st), MUGAI_OK);
	assert_int_equal(st.jpeg, 1);
	assert_int_equal(st.mixed, 0);
	assert_null(find(out.data, out.len, "/ImageMask"));
	mugai_buf_free(&out);
}

/*
 * Mixed, coded once: a blank page is white paper with nothing over it
 * but an empty stencil; a page of a one-pixel checkerboard, all ink
 * and paper but a fax codes it badly, still has its ways compared and
 * is stored as lossless grey, the smallest.
 */
static void
test_mixed_once(void **state)
{
	static uint8_t blank[TW * TH], checker[TW * TH];
	struct mugai_pixmap b = { TW, TH, 1, 0, blank },
	    c = { TW, TH, 1, 0, checker };
	struct mugai_pdf_opts o = opts(72);
	struct mugai_pdf_stats st;
	struct mugai_buf out;
	size_t i;

	(void)state;
	memset(blank, 255, sizeof(blank));
	for (i = 0; i < sizeof(checker); i++)
		checker[i] = ((i % TW) + (i / TW)) % 2 ? 255 : 0;
	o.mixed = 1;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&b, 1, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.mixed, 1);
	assert_null(find(out.data, out.len, "/DCTDecode"));
	assert_true(out.len < 4000);
	assert_int_equal(rendered(&out, 72, 200, 150, NULL), 255);
	mugai_buf_free(&out);

	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&c, 1, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.grey, 1);
	assert_int_equal(st.mixed, 0);
	assert_null(find(out.data, out.len, "/CCITTFaxDecode"));
	mugai_buf_free(&out);
}

/*
 * Mixed, with pictures: a colour page whose pictures have too many
 * colours for a lossless page is taken split unseen only when its text
 * fax is cheap.  A page of black text and a bar chart (few colours)
 * still has its ways compared and is stored whole as a palette image,
 * the smallest (split, its grid's JPEG would be dearer); a photograph
 * amid one-pixel stripes, whose fax is dear, is compared too and
 * stored split, smaller than whole.
 */
static void
test_mixed_pictures(void **state)
{
	static uint8_t page[TW * TH * 3];
	struct mugai_pixmap pm = { TW, TH, 3, 0, page };
	struct mugai_pdf_opts o = opts(72);
	struct mugai_pdf_stats st;
	struct mugai_buf out, whole;
	unsigned rgb[3];
	size_t x, y, i;

	(void)state;
	o.mixed = 1;
	/* Two lines of black text, two levels, a red and a blue bar. */
	for (i = 0; i < TW * TH; i++)
		memset(page + i * 3, textpage[i] < 128 && i < TW * 70 ? 0 :
		    255, 3);
	for (y = 110; y < 200; y++)
		for (x = 120; x < 160; x++) {
			page[(y * TW + x) * 3 + 1] = page[(y * TW + x) * 3 + 2] =
			    0;
			page[(y * TW + x + 80) * 3] = 0;
			page[(y * TW + x + 80) * 3 + 1] = 0;
			page[(y * TW + x + 80) * 3 + 2] = 255;
		}
	/* Its grid: thin green lines, which JPEG codes dearly. */
	for (y = 104; y < 208; y += 4)
		for (x = 104; x < 296; x++)
			if (page[(y * TW + x) * 3] == 255 &&
			    page[(y * TW + x) * 3 + 2] == 255) {
				page[(y * TW + x) * 3] = 0;
				page[(y * TW + x) * 3 + 2] = 0;
				page[(y * TW + x) * 3 + 1] = 160;
			}
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&pm, 1, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.colour, 1);
	assert_int_equal(st.mixed, 0);
	assert_null(find(out.data, out.len, "/DCTDecode"));
	/* The bars keep their colours. */
	(void)rendered(&out, 72, 140, 150, rgb);
	assert_true(rgb[0] > 240 && rgb[1] < 15 && rgb[2] < 15);
	(void)rendered(&out, 72, 220, 150, rgb);
	assert_true(rgb[0] < 15 && rgb[1] < 15 && rgb[2] > 240);
	mugai_buf_free(&out);

	/* The photograph amid stripes. */
	memcpy(page, textphoto, sizeof(page));
	for (y = 0; y < TH; y++)
		for (x = 0; x < TW; x++)
			if (y < 100 || y >= 200 || x < 100 || x >= 300)
				memset(page + (y * TW + x) * 3,
				    x % 2 ? 255 : 0, 3);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(&pm, 1, NULL, &o, &out, &st),
	    MUGAI_OK);
	assert_int_equal(st.mixed, 1);
	mugai_buf_init(&whole, 0);
	o.mixed = 0;
	assert_int_equal(mugai_pdf_from_pages(&pm, 1, NULL, &o, &whole, &st),
	    MUGAI_OK);
	assert_int_equal(st.jpeg, 1);
	assert_true(out.len < whole.len);
	/* The photograph where it was: its blue, placed at its box. */
	(void)rendered(&out, 72, 200, 150, rgb);
	assert_in_range(rgb[2], 70, 110);
	(void)rendered(&out, 72, 105, 105, rgb);
	assert_in_range(rgb[2], 70, 110);
	mugai_buf_free(&whole);
	mugai_buf_free(&out);
}

static void
test_usage(void **state)
{
	struct mugai_pixmap pm[2] = {
		{ GW, GH, 1, 0, grey }, { CW, CH, 3, 0, photo },
	}, bad;
	struct mugai_pdf_opts o = opts(150);
	struct mugai_buf out;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_pages(pm, 0, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pdf_from_pages(NULL, 1, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, NULL, &out, NULL),
	    MUGAI_ERR_USAGE);
	o.dpi = 0;
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	o = opts(150);
	o.quality = 0;
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	o.quality = 101;
	assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	o = opts(150);
	bad = pm[0];
	bad.channels = 2;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	bad = pm[0];
	bad.width = 0;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	bad = pm[0];
	bad.width = 40000;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	bad = pm[1];
	bad.data = NULL;
	assert_int_equal(mugai_pdf_from_pages(&bad, 1, NULL, &o, &out, NULL),
	    MUGAI_ERR_USAGE);
	assert_int_equal(out.len, 0);
	mugai_buf_free(&out);
}

/* A coded page of w x h x ch from p into out, as the worker writes it. */
static void
add_coded(struct mugai_buf *out, uint32_t w, uint32_t h, uint32_t ch,
    const uint8_t *p)
{
	size_t at, n = (size_t)w * ch;
	uint8_t *scratch = malloc(MUGAI_PIXELS_RUNS_BOUND(n));
	uint32_t y;

	assert_non_null(scratch);
	assert_int_equal(mugai_pixels_runs_begin(out, w, h, ch, &at),
	    MUGAI_OK);
	for (y = 0; y < h; y++)
		assert_int_equal(mugai_pixels_runs_row(out, p + y * n, n,
		    scratch), MUGAI_OK);
	assert_int_equal(mugai_pixels_runs_end(out, at), MUGAI_OK);
	free(scratch);
}

/*
 * Pages left run-length coded (mugai_pixels_parse_coded) and decoded
 * one at a time, the second larger than the first and the third plain:
 * the same copy as from the decoded pages, words and all.  A coded
 * page without its coded length is refused, and a page whose runs do
 * not decode to it takes the partial file back.
 */
static void
test_coded(void **state)
{
	struct mugai_word w[1] = {
		{ 2000, 2000, 12000, 4000, 0, "議事録", 0 },
	};
	struct mugai_pagetext t[3] = { { w, 1 }, { w, 1 }, { w, 1 } };
	struct mugai_pixmap *pm, *dec;
	struct mugai_pdf_opts o = opts(72);
	struct mugai_pdf_stats st, st2;
	struct mugai_buf stream, out, whole;
	uint8_t *store;
	size_t *coded, n, used;
	char *s;

	(void)state;
	w[0].len = (uint32_t)strlen(w[0].text);
	o.mixed = 1;
	mugai_buf_init(&stream, 0);
	assert_int_equal(mugai_pixels_begin(&stream, 3), MUGAI_OK);
	add_coded(&stream, TW, TH, 1, textpage);
	add_coded(&stream, TW, TH, 3, textphoto);
	assert_int_equal(mugai_pixels_add(&stream, CW, CH, 3, 0, chart),
	    MUGAI_OK);
	assert_int_equal(mugai_pixels_parse_coded(stream.data, stream.len,
	    TW * TH, 3, 1 << 24, &pm, &coded, &n, &used), MUGAI_OK);
	assert_int_equal(n, 3);
	assert_int_equal(mugai_pixels_parse_pages(stream.data, stream.len,
	    TW * TH, 3, 1 << 24, &dec, &n, &used, &store), MUGAI_OK);
	mugai_buf_init(&out, 0);
	mugai_buf_init(&whole, 0);
	assert_int_equal(mugai_pdf_from_coded_pages(pm, coded, 3, t, &o, &out,
	    &st), MUGAI_OK);
	assert_int_equal(mugai_pdf_from_pages(dec, 3, t, &o, &whole, &st2),
	    MUGAI_OK);
	assert_memory_equal(&st, &st2, sizeof(st));
	assert_int_equal(st.mixed, 2);
	assert_int_equal(st.words, 3);
	/* The same file but for its date. */
	assert_int_equal(out.len, whole.len);
	s = tool("pdftotext -enc UTF-8", &out);
	assert_non_null(strstr(s, "議事録"));
	free(s);
	mugai_buf_free(&out);
	mugai_buf_free(&whole);

	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_pdf_from_coded_pages(pm, NULL, 3, t, &o, &out,
	    &st), MUGAI_ERR_USAGE);
	coded[1]--;
	assert_int_equal(mugai_buf_puts(&out, "keep"), MUGAI_OK);
	assert_int_equal(mugai_pdf_from_coded_pages(pm, coded, 3, t, &o, &out,
	    &st), MUGAI_ERR_PARSE);
	assert_string_equal(out.data, "keep");
	mugai_buf_free(&out);
	free(pm);
	free(coded);
	free(dec);
	free(store);
	mugai_buf_free(&stream);
}

/* Over the buffer's cap: an error, and the partial file taken back. */
static void
test_cap(void **state)
{
	struct mugai_pixmap pm[2] = {
		{ GW, GH, 1, 0, grey }, { CW, CH, 3, 0, photo },
	};
	struct mugai_pdf_opts o = opts(150);
	struct mugai_buf out;
	size_t cap;

	(void)state;
	for (cap = 100; cap <= 3000; cap += 700) {
		mugai_buf_init(&out, cap);
		assert_int_equal(mugai_buf_puts(&out, "keep"), MUGAI_OK);
		assert_int_equal(mugai_pdf_from_pages(pm, 2, NULL, &o, &out,
		    NULL), MUGAI_ERR_LIMIT);
		assert_int_equal(out.len, 4);
		assert_string_equal(out.data, "keep");
		mugai_buf_free(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_text_layer),
		cmocka_unit_test(test_bilevel),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_mixed_once),
		cmocka_unit_test(test_mixed_pictures),
		cmocka_unit_test(test_coded),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
