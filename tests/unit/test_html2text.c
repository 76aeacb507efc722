/*
 * test_html2text.c - HTML mail bodies to plain text: structure, dropped
 * content, entities, links and phishing warnings, images, broken markup,
 * Japanese charsets (ISO-2022-JP trail bytes include '<'), deep nesting,
 * the output cap, silence on stderr, and where libxml2's tree builder
 * puts content (the text is made from its parser events).
 *
 * Shift_JIS bytes: 日 93FA, 本 967B, 語 8CEA.  ISO-2022-JP (JIS X 0208):
 * 七 0x3C37 ("<7"), 漢 0x3441 ("4A"), 字 0x3B7A (";z").
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

#include "mugai/text/html2text.h"

#define DEPTH	200

struct tcase {
	const char	*name;
	const char	*charset;
	const char	*html;
	const char	*want;
};

#define RULE40	"----------------------------------------"

static const struct tcase structure[] = {
	{ "paragraphs", NULL, "<p>one</p><p>two</p>", "one\n\ntwo\n" },
	{ "collapse", NULL, "<p>  a\n\t b   <b>c</b> <i>d</i>e </p>",
	  "a b c de\n" },
	{ "divs", NULL, "<div>a</div>\n<div>b</div>c", "a\nb\nc\n" },
	{ "br", NULL, "a<br>b<br><br><br>c<br>", "a\nb\n\nc\n" },
	{ "h1", NULL, "<h1>Title</h1>text", "Title\n=====\n\ntext\n" },
	{ "h2", NULL, "x<h2>Sub</h2>y", "x\n\nSub\n---\n\ny\n" },
	{ "h3-h6", NULL, "<h3>Small</h3><h6>Tiny</h6>",
	  "■ Small\n\n■ Tiny\n" },
	{ "h1 wide", NULL, "<h1>日本語</h1>", "日本語\n======\n" },
	{ "ul", NULL, "<ul><li>one</li><li>two</li></ul>",
	  "- one\n- two\n" },
	{ "ol start", NULL,
	  "<ol start=\"3\"><li>c<li>d<li value=10>j<li>k</ol>",
	  "3. c\n4. d\n10. j\n11. k\n" },
	{ "nested lists", NULL,
	  "<ul><li>a<ol><li>x</li><li>y<ul><li>z</li></ul></li></ol></li>"
	  "<li>b</li></ul>after",
	  "- a\n  1. x\n  2. y\n    - z\n- b\n\nafter\n" },
	{ "li continuation", NULL, "<ul><li>first<br>second</li></ul>",
	  "- first\n  second\n" },
	{ "dl", NULL, "<dl><dt>Term</dt><dd>Definition</dd></dl>",
	  "Term\n  Definition\n" },
	{ "table", NULL,
	  "<table><tr><th>Name</th><th>Qty</th></tr>\n"
	  "<tr><td>apple</td> <td>3</td></tr></table>",
	  "Name | Qty\napple | 3\n" },
	{ "table empty cells", NULL,
	  "<table><tr><td></td><td>a</td><td>&nbsp;</td><td>b</td></tr>"
	  "</table>", "a | b\n" },
	{ "blockquote", NULL,
	  "<p>intro</p><blockquote><p>q1</p><blockquote>q2</blockquote>"
	  "q3</blockquote>end",
	  "intro\n\n> q1\n>\n> > q2\n>\n> q3\n\nend\n" },
	{ "pre", NULL, "<p>x</p><pre>\n  a  b\n\n\tc\n</pre>y",
	  "x\n\n  a  b\n\n\tc\n\ny\n" },
	{ "pre CR", NULL, "<pre>a\r\nb\rc</pre>", "a\nb\nc\n" },
	{ "hr", NULL, "<div>a</div><hr><div>b</div>", "a\n" RULE40 "\nb\n" },
	{ "hr between paragraphs", NULL, "<p>a</p><hr><p>b</p>",
	  "a\n\n" RULE40 "\n\nb\n" },
	{ "text only", NULL, "hello", "hello\n" },
	{ "head without body", NULL,
	  "<html><head><title>T</title></head>visible</html>", "visible\n" },
};

static const struct tcase dropped[] = {
	{ "active content", NULL,
	  "<head><title>T</title><style>p{}</style><script>x()</script>"
	  "</head><body>a<script>evil()</script><noscript>ns</noscript>"
	  "<!-- comment -->b<template>t</template><iframe src=x>if</iframe>"
	  "<object>o</object><embed src=x><svg><text>s</text></svg>"
	  "<math><mi>m</mi></math>c</body>", "abc\n" },
	{ "hidden", NULL,
	  "<p>a</p><p hidden>b</p><div style=\"display:none\">c</div>"
	  "<div style=\"Display : NONE !important;\">d</div>"
	  "<span style=\"color:red; visibility: hidden\">e</span>"
	  "<p style=\"display:block\">f</p>"
	  "<input type=hidden name=x value=y>", "a\n\nf\n" },
	{ "entities", NULL,
	  "<p>&amp; &lt;tag&gt; &#x3042;&#12354; a&nbsp;&nbsp;b &bogus; "
	  "&quot;q&quot;</p>", "& <tag> ああ a  b &bogus; \"q\"\n" },
	{ "controls and bidi", NULL,
	  "<p>a\x01" "b\x7f c\xc2\x85" "d invoice\xe2\x80\xae" "fdp.exe"
	  "\xe2\x80\xac \xe2\x81\xa6x\xe2\x81\xa9</p>",
	  "ab cd invoicefdp.exe x\n" },
	{ "broken", NULL,
	  "<p>unclosed <b>bold <i>both</p>next</div></span>tail",
	  "unclosed bold both\n\nnexttail\n" },
	{ "tags in attributes", NULL,
	  "<p title=\"<b>x</b>\">text</p><img alt=\"a<script>b\">",
	  "text\n\n[image: a<script>b]\n" },
	{ "empty", NULL, "", "" },
	{ "blank", NULL, " \r\n\t ", "" },
	{ "only markup", NULL, "<html><body><p></p></body></html>", "" },
};

static const struct tcase links[] = {
	{ "link", NULL, "<a href=\"https://example.org/x\">text</a>",
	  "text <https://example.org/x>\n" },
	{ "link is its text", NULL,
	  "<a href=\"https://example.com/\">example.com</a> "
	  "<a href=\"http://Example.com\">http://example.com/</a>",
	  "example.com http://example.com/\n" },
	{ "link path case counts", NULL,
	  "<a href=\"https://example.com/A\">example.com/a</a>",
	  "example.com/a <https://example.com/A>\n" },
	{ "mailto", NULL,
	  "<a href=\"mailto:info@example.jp\">Contact</a>, "
	  "<a href=\"mailto:info@example.jp\">info@example.jp</a>",
	  "Contact <mailto:info@example.jp>, info@example.jp\n" },
	{ "scripts never links", NULL,
	  "<a href=\"javascript:alert(1)\">click</a> "
	  "<a href=\" JaVa&#x0A;Script:x\">b</a> "
	  "<a href=\"data:text/html,x\">c</a>", "click b c\n" },
	{ "anchors", NULL, "<a name=top>Top</a> <a href=\"#s\">s</a>",
	  "Top s\n" },
	{ "href cleaned", NULL,
	  "<a href=\" https://e.example/a b&lt;c \n\">x</a>",
	  "x <https://e.example/a%20b%3Cc>\n" },
	{ "no text", NULL, "<p><a href=\"https://e.example/\"></a></p>",
	  "<https://e.example/>\n" },
	{ "image link", NULL,
	  "<a href=\"https://e.example/\"><img src=b.png alt=Buy></a>",
	  "[image: Buy] <https://e.example/>\n" },
	{ "phishing domain", NULL,
	  "<p>Login: <a href=\"https://evil.example/login\">www.bank.co.jp"
	  "</a> now</p><p>next</p>",
	  "Login: www.bank.co.jp <https://evil.example/login> now\n"
	  "[警告/WARNING: link text shows \"www.bank.co.jp\" but leads to "
	  "\"evil.example\"]\n\nnext\n" },
	{ "phishing url", NULL,
	  "<a href=\"HTTP://Bank.Example.evil.example/\">"
	  "https://bank.example/login</a>",
	  "https://bank.example/login <HTTP://Bank.Example.evil.example/>\n"
	  "[警告/WARNING: link text shows \"https://bank.example/login\" but"
	  " leads to \"bank.example.evil.example\"]\n" },
	{ "phishing in Japanese text", NULL,
	  "<a href=\"https://x.evil.example/\">こちら(bank.example)から"
	  "</a>",
	  "こちら(bank.example)から <https://x.evil.example/>\n"
	  "[警告/WARNING: link text shows \"bank.example\" but leads to "
	  "\"x.evil.example\"]\n" },
	{ "phishing user info", NULL,
	  "<a href=\"https://bank.example@evil.example/\">bank.example</a>",
	  "bank.example <https://bank.example@evil.example/>\n"
	  "[警告/WARNING: link text shows \"bank.example\" but leads to "
	  "\"evil.example\"]\n" },
	{ "phishing in quote", NULL,
	  "<blockquote><a href=\"https://evil.example/\">bank.example</a>"
	  "</blockquote>",
	  "> bank.example <https://evil.example/>\n"
	  "> [警告/WARNING: link text shows \"bank.example\" but leads to "
	  "\"evil.example\"]\n" },
	{ "phishing percent-encoded host", NULL,
	  "<a href=\"https://%65vil.example/\">bank.example</a>",
	  "bank.example <https://%65vil.example/>\n"
	  "[警告/WARNING: link text shows \"bank.example\" but leads to "
	  "\"evil.example\"]\n" },
	{ "control in host never echoed", NULL,
	  "<a href=\"https://%0aevil%1b.example/\">bank.example</a>",
	  "bank.example <https://%0aevil%1b.example/>\n" },
	{ "same host", NULL,
	  "<a href=\"https://www.Bank.example/login?x=1\">bank.example</a>",
	  "bank.example <https://www.Bank.example/login?x=1>\n" },
	{ "subdomain of shown host", NULL,
	  "<a href=\"https://login.bank.example/\">www.bank.example</a>",
	  "www.bank.example <https://login.bank.example/>\n" },
	{ "file name is no domain", NULL,
	  "<a href=\"https://files.example/r.pdf\">report.pdf</a>",
	  "report.pdf <https://files.example/r.pdf>\n" },
	{ "images", NULL,
	  "a<img src=\"http://track.example/p.gif\" alt=\"Logo\">b"
	  "<img src=\"http://track.example/q.gif\">c"
	  "<img src=\"http://track.example/r.gif\" alt=\"\">d",
	  "a [image: Logo] b [image] cd\n" },
};

static const struct tcase charsets[] = {
	{ "UTF-8", "utf-8", "<p>こんにちは、世界。</p><p>２行目</p>",
	  "こんにちは、世界。\n\n２行目\n" },
	{ "Shift_JIS by meta charset", NULL,
	  "<html><head><meta charset=\"Shift_JIS\"></head>"
	  "<body><p>\x93\xfa\x96\x7b\x8c\xea</p></body></html>",
	  "日本語\n" },
	{ "Shift_JIS by meta http-equiv", NULL,
	  "<html><head><META HTTP-EQUIV=\"Content-Type\" "
	  "CONTENT=\"text/html; charset=x-sjis\"></head>"
	  "<body>\x93\xfa\x96\x7b</body></html>", "日本\n" },
	{ "us-ascii header, meta speaks", "us-ascii",
	  "<meta charset=shift_jis><p>\x8c\xea</p>", "語\n" },
	{ "header beats meta", "utf-8",
	  "<meta charset=shift_jis><p>日本</p>", "日本\n" },
	{ "ISO-2022-JP trail '<'", "iso-2022-jp",
	  "<p>\x1b$B<7<7\x1b(B</p><p>\x1b$B4A;z\x1b(B <b>b</b></p>",
	  "七七\n\n漢字 b\n" },
	{ "ISO-2022-JP by meta", NULL,
	  "<meta http-equiv=Content-Type content=\"text/html; "
	  "charset=ISO-2022-JP\"><p>\x1b$B<7\x1b(B</p>", "七\n" },
	{ "ISO-2022-JP in <a> text", "ISO-2022-JP",
	  "<a href=\"https://e.example/\">\x1b$B4A;z\x1b(B</a>",
	  "漢字 <https://e.example/>\n" },
};

/*
 * The text is made from libxml2's parser events in one pass; these pin
 * the places where libxml2's tree builder, which the walk used to run
 * over, puts things somewhere other than the event order suggests.
 */
static const struct tcase tree_rules[] = {
	{ "after </html>", NULL,
	  "<html><body><p>a</p></body></html><p>b</p>c", "a\n\nb\n\nc\n" },
	{ "comment before the root", NULL,
	  "<!-- x --><html><body>a</body></html>b<p>c", "a\n\nb\n\nc\n" },
	{ "doctype, content after </html>", NULL,
	  "<!DOCTYPE html><html><body><p>a</p></body></html><p>b</p>c",
	  "a\n\nb\n\nc\n" },
	{ "hidden root hides what follows it", NULL,
	  "<html hidden><body>a</body></html><p>b</p>", "" },
	{ "after a doctype it follows the hidden root", NULL,
	  "<!DOCTYPE html><html hidden><body>a</body></html><p>b</p>",
	  "b\n" },
	{ "prefixed names: o:p is a p, x:script is dropped", NULL,
	  "<p class=MsoNormal>a<o:p></o:p></p><p>b<o:p>&nbsp;</o:p></p>"
	  "<x:script>evil()</x:script>ok", "a\n\nb\n\nok\n" },
	{ "nested links keep their own href", NULL,
	  "<a href='http://a.example/'>one <a href='http://b.example/'>two"
	  "</a> three</a>",
	  "one <http://a.example/> two <http://b.example/> three\n" },
	{ "entity edge cases", NULL,
	  "<p>&#0;a&#x110000;b&#xD800;c&#65;&amp&copy;&#x202E;z&lt&gt;</p>",
	  "abcA&amp\xc2\xa9z&lt>\n" },
	{ "malformed tags", NULL,
	  "<p <b>x</b> <<>> </ p> <a href=\"x>y</a> z",
	  "x <<>> p> <x%3Ey%3C/a%3E%20z>\n" },
	{ "unclosed cells, rows and items", NULL,
	  "<table><tr><td>a<td>b<tr><td>c</table><ul><li>x<li>y<ol><li>z",
	  "a | b\nc\n\n- x\n- y\n  1. z\n" },
	{ "text split by a comment", NULL,
	  "<p>ab<!-- c -->cd&amp;ef</p>", "abcd&ef\n" },
};

static void
run_one(const struct tcase *c)
{
	struct mugai_buf out;
	struct mugai_html_stats st;
	mugai_status rc;

	mugai_buf_init(&out, 0);
	rc = mugai_html_to_text(c->html, strlen(c->html), c->charset, DEPTH,
	    &out, &st);
	if (rc != MUGAI_OK)
		fail_msg("%s: status %d", c->name, rc);
	if (strcmp(out.data ? out.data : "", c->want) != 0)
		fail_msg("%s:\ngot  [%s]\nwant [%s]", c->name,
		    out.data ? out.data : "", c->want);
	mugai_buf_free(&out);
}

static void
run_table(const struct tcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_one(&c[i]);
}

#define RUN(t)	run_table(t, sizeof(t) / sizeof(t[0]))

static void
test_structure(void **state)
{
	(void)state;
	RUN(structure);
}

static void
test_dropped(void **state)
{
	(void)state;
	RUN(dropped);
}

static void
test_links(void **state)
{
	(void)state;
	RUN(links);
}

static void
test_charsets(void **state)
{
	(void)state;
	RUN(charsets);
}

static void
convert(const char *html, const char *charset, unsigned depth,
    struct mugai_buf *out, struct mugai_html_stats *st)
{
	assert_int_equal(mugai_html_to_text(html, strlen(html), charset,
	    depth, out, st), MUGAI_OK);
}

static void
test_stats(void **state)
{
	struct mugai_buf out;
	struct mugai_html_stats st;

	(void)state;
	mugai_buf_init(&out, 0);
	convert("<script>x</script><div hidden>h</div>"
	    "<a href=\"https://evil.example/\">www.bank.example</a> "
	    "<a href=\"https://bank.example/\">bank.example</a> "
	    "<a href=\"javascript:x\">j</a> <a name=n>n</a>"
	    "<img alt=a><img>", NULL, DEPTH, &out, &st);
	assert_int_equal(st.links, 2);
	assert_int_equal(st.suspicious_links, 1);
	assert_int_equal(st.images, 2);
	assert_int_equal(st.dropped, 3);
	assert_int_equal(st.truncated, 0);
	mugai_buf_free(&out);
}

/* Output is appended to what the buffer already holds. */
static void
test_append(void **state)
{
	struct mugai_buf out;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_buf_puts(&out, "head\n"), MUGAI_OK);
	convert("<p>x</p>", NULL, DEPTH, &out, NULL);
	assert_string_equal(out.data, "head\nx\n");
	mugai_buf_free(&out);
}

static char *
repeat(const char *pre, const char *unit, size_t n, const char *post)
{
	size_t lp = strlen(pre), lu = strlen(unit), i;
	char *s = malloc(lp + lu * n + strlen(post) + 1);

	assert_non_null(s);
	memcpy(s, pre, lp);
	for (i = 0; i < n; i++)
		memcpy(s + lp + i * lu, unit, lu);
	strcpy(s + lp + n * lu, post);
	return s;
}

/* 100,000 nested elements: libxml2 stops at its own limit, we finish. */
static void
test_deep_nesting(void **state)
{
	struct mugai_buf out;
	struct mugai_html_stats st;
	char *html = repeat("<p>before</p>", "<div>", 100000, "deep");

	(void)state;
	mugai_buf_init(&out, 0);
	convert(html, NULL, DEPTH, &out, &st);
	assert_string_equal(out.data, "before\n");
	assert_int_equal(st.truncated, 1);
	free(html);
	mugai_buf_free(&out);
}

/* Deeper than max_depth: text kept flat, blocks as spaces, script gone. */
static void
test_max_depth(void **state)
{
	struct mugai_buf out;
	struct mugai_html_stats st;
	char *html = repeat("<p>start</p>", "<div><b>", 8,
	    "x<p>para</p>y<script>evil</script><br>z<ul><li>i</ul>");

	(void)state;
	mugai_buf_init(&out, 0);
	convert(html, NULL, 8, &out, &st);
	assert_string_equal(out.data, "start\n\nx para y z i\n");
	assert_int_equal(st.truncated, 1);
	assert_int_equal(st.dropped, 1);
	free(html);
	mugai_buf_free(&out);
}

static void
test_tree_rules(void **state)
{
	(void)state;
	RUN(tree_rules);
}

/*
 * libxml2's tree builder stopped the parser when an element would be
 * the 258th open one (html and body count); the streaming pass stops
 * at the same place: the rest of the text is lost and flagged.
 */
static void
test_libxml2_depth_stop(void **state)
{
	struct mugai_buf out;
	struct mugai_html_stats st;
	char *html;
	size_t n;

	(void)state;
	for (n = 255; n <= 256; n++) {
		html = repeat("<p>before</p>", "<div>", n, "deep");
		mugai_buf_init(&out, 0);
		convert(html, NULL, 1000, &out, &st);
		assert_string_equal(out.data, n == 255 ? "before\n\ndeep\n" :
		    "before\n");
		assert_int_equal(st.truncated, n == 256);
		free(html);
		mugai_buf_free(&out);
	}
}

/* Link text is compared with its href up to LTEXT_MAX bytes. */
static void
test_long_link_text(void **state)
{
	struct mugai_buf out, html;
	struct mugai_html_stats st;
	int i;

	(void)state;
	mugai_buf_init(&html, 0);
	assert_int_equal(mugai_buf_puts(&html, "<a href='https://bank.example/'>"
	    "www.evil.example "), MUGAI_OK);
	for (i = 0; i < 400; i++)
		assert_int_equal(mugai_buf_puts(&html, "あ"), MUGAI_OK);
	assert_int_equal(mugai_buf_puts(&html, "</a>"), MUGAI_OK);
	mugai_buf_init(&out, 0);
	convert(html.data, NULL, DEPTH, &out, &st);
	assert_int_equal(st.links, 1);
	assert_int_equal(st.suspicious_links, 1);
	assert_non_null(strstr(out.data, "あ <https://bank.example/>\n"
	    "[警告/WARNING: link text shows \"www.evil.example\" but leads to"
	    " \"bank.example\"]\n"));
	mugai_buf_free(&out);
	mugai_buf_free(&html);
}

/* A huge attribute and a huge href: kept apart, the href shown cut. */
static void
test_huge_attributes(void **state)
{
	struct mugai_buf out, html;
	struct mugai_html_stats st;
	const char *u;
	int i;

	(void)state;
	mugai_buf_init(&html, 0);
	assert_int_equal(mugai_buf_puts(&html, "<p title='"), MUGAI_OK);
	for (i = 0; i < 100000; i++)
		assert_int_equal(mugai_buf_puts(&html, "xxxxxxxxxx"), MUGAI_OK);
	assert_int_equal(mugai_buf_puts(&html, "'>a</p><a href='http://e."
	    "example/"), MUGAI_OK);
	for (i = 0; i < 900; i++)
		assert_int_equal(mugai_buf_puts(&html, "aaaaaaaaaa"), MUGAI_OK);
	assert_int_equal(mugai_buf_puts(&html, "'>x</a>"), MUGAI_OK);
	mugai_buf_init(&out, 0);
	convert(html.data, NULL, DEPTH, &out, &st);
	assert_int_equal(st.links, 1);
	assert_int_equal(strncmp(out.data, "a\n\nx <http://e.example/aaa", 26),
	    0);
	u = strchr(out.data, '<');
	/* "<" and the URL take URL_MAX (8192) bytes, then "...>\n". */
	assert_int_equal(strlen(u), 8192 + 5);
	assert_string_equal(u + 8192, "...>\n");
	mugai_buf_free(&out);
	mugai_buf_free(&html);
}

static void
test_output_cap(void **state)
{
	struct mugai_buf out;
	struct mugai_html_stats st;
	char *html = repeat("", "<p>0123456789</p>", 100, "");

	(void)state;
	mugai_buf_init(&out, 50);
	assert_int_equal(mugai_html_to_text(html, strlen(html), NULL, DEPTH,
	    &out, &st), MUGAI_ERR_LIMIT);
	assert_true(out.len <= 50);
	assert_int_equal(st.truncated, 1);
	mugai_buf_free(&out);
	/* One line longer than the cap. */
	mugai_buf_init(&out, 50);
	free(html);
	html = repeat("<p>", "abcdefghij", 10, "</p>");
	assert_int_equal(mugai_html_to_text(html, strlen(html), NULL, DEPTH,
	    &out, &st), MUGAI_ERR_LIMIT);
	assert_true(out.len <= 50);
	mugai_buf_free(&out);
	free(html);
}

/* Broken markup must not make libxml2 write to stderr. */
static void
test_quiet(void **state)
{
	static const char *const bad[] = {
		"<p>unclosed <b><i>x</p></div></span>",
		"<a href=\"x\">1<a href=y>2</a></a>&bogus;&#0;&#xD800;",
		"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"v\">]>&e;",
		"<div <<>>  =\"\" <b\x01>",
	};
	struct mugai_buf out;
	FILE *tmp = tmpfile();
	int saved;
	size_t i;
	long size;

	(void)state;
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mugai_buf_init(&out, 0);
		(void)mugai_html_to_text(bad[i], strlen(bad[i]), NULL, DEPTH,
		    &out, NULL);
		mugai_buf_free(&out);
	}
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	assert_int_equal(fseek(tmp, 0, SEEK_END), 0);
	size = ftell(tmp);
	fclose(tmp);
	assert_int_equal(size, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_max_depth),
		cmocka_unit_test(test_tree_rules),
		cmocka_unit_test(test_libxml2_depth_stop),
		cmocka_unit_test(test_long_link_text),
		cmocka_unit_test(test_huge_attributes),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
