/*
 * test_convert_tnef.c - the tnef mode of mugai-convert (winmail.dat),
 * called directly, and the parent's side (mugai_tnef_mime) on what it
 * writes.  TNEF streams are built here attribute by attribute, as
 * [MS-OXTNEF] lays them out (signature, key, then level, id, length,
 * data and checksum each), so that damaged and hostile ones can be made
 * too: a bad checksum, a cut stream, names that climb out, messages
 * nested past the limit.  The RTF bodies use the uncompressed ("MELA")
 * form of [MS-OXRTFCP] and a hand-made LZFu one; tests/e2e/tnef.sh
 * covers a full compressor and real attachments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../convert/convert.h"
#include "mugai/cdr/members.h"
#include "mugai/cdr/tnef.h"

#define SIG		0x223E9F78u
#define LVL_MSG		1
#define LVL_ATT		2
#define ATT_DATA	0x0006800Fu
#define ATT_TITLE	0x00018010u
#define ATT_REND	0x00069002u
#define ATT_MAPI	0x00069003u
#define ATT_ATTACH	0x00069005u
#define PT_LONG_	3u
#define PT_OBJECT_	13u
#define PT_STRING8_	30u
#define PT_UNICODE_	31u
#define PT_BINARY_	258u

static void
opts(struct convert_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_members = 1000;
	o->max_total = (size_t)100 << 20;
	o->max_ratio = 100;
}

static void
put(struct mugai_buf *b, const void *p, size_t n)
{
	assert_int_equal(mugai_buf_append(b, p, n), MUGAI_OK);
}

static void
put16(struct mugai_buf *b, unsigned v)
{
	unsigned char c[2] = { v & 0xff, v >> 8 & 0xff };

	put(b, c, 2);
}

static void
put32(struct mugai_buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

static void
begin(struct mugai_buf *b)
{
	mugai_buf_init(b, 0);
	put32(b, SIG);
	put16(b, 1);
}

/* One attribute with its checksum (the sum of its data bytes). */
static void
attr(struct mugai_buf *b, int level, uint32_t id, const void *data,
    size_t n)
{
	const unsigned char *p = data;
	unsigned sum = 0;
	size_t i;
	unsigned char lv = (unsigned char)level;

	put(b, &lv, 1);
	put32(b, id);
	put32(b, (uint32_t)n);
	put(b, data, n);
	for (i = 0; i < n; i++)
		sum += p[i];
	put16(b, sum & 0xffff);
}

/* A property list for attMAPIProps / attAttachment. */
static void
prop_long(struct mugai_buf *b, unsigned id, uint32_t v)
{
	put32(b, id << 16 | PT_LONG_);
	put32(b, v);
}

static void
prop_var(struct mugai_buf *b, unsigned type, unsigned id, const void *data,
    size_t n)
{
	static const char zero[4];

	put32(b, id << 16 | type);
	put32(b, 1);
	put32(b, (uint32_t)n);
	put(b, data, n);
	put(b, zero, (4 - n % 4) % 4);
}

/* A UTF-16LE copy of ASCII or of a few BMP characters given as units. */
static size_t
utf16(const uint16_t *u, size_t n, unsigned char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = u[i] & 0xff;
		out[2 * i + 1] = u[i] >> 8;
	}
	out[2 * n] = out[2 * n + 1] = 0;
	return 2 * n + 2;
}

/* PR_RTF_COMPRESSED in the uncompressed form. */
static void
rtf_mela(struct mugai_buf *props, const char *rtf)
{
	struct mugai_buf v;
	size_t n = strlen(rtf);

	mugai_buf_init(&v, 0);
	put32(&v, (uint32_t)(n + 12));
	put32(&v, (uint32_t)n);
	put32(&v, 0x414C454Du);
	put32(&v, 0);
	put(&v, rtf, n);
	prop_var(props, PT_BINARY_, 0x1009, v.data, v.len);
	mugai_buf_free(&v);
}

/* A message-level attMAPIProps holding count props from p. */
static void
mapi(struct mugai_buf *b, int level, uint32_t id, unsigned count,
    const struct mugai_buf *p)
{
	struct mugai_buf a;

	mugai_buf_init(&a, 0);
	put32(&a, count);
	put(&a, p->data, p->len);
	attr(b, level, id, a.data, a.len);
	mugai_buf_free(&a);
}

static void
file_attachment(struct mugai_buf *b, const char *title, const void *data,
    size_t n)
{
	static const unsigned char rend[14] = { 1, 0, 0xff, 0xff, 0xff, 0xff };

	attr(b, LVL_ATT, ATT_REND, rend, sizeof(rend));
	attr(b, LVL_ATT, ATT_TITLE, title, strlen(title) + 1);
	attr(b, LVL_ATT, ATT_DATA, data, n);
}

/* An embedded message: method 5, IID_IMessage and the inner stream. */
static void
message_attachment(struct mugai_buf *b, const struct mugai_buf *inner)
{
	static const unsigned char rend[14] = { 1, 0, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char iid[16] = { 0x07, 0x03, 0x02, 0, 0, 0, 0, 0,
	    0xc0, 0, 0, 0, 0, 0, 0, 0x46 };
	struct mugai_buf p, obj;

	mugai_buf_init(&p, 0);
	mugai_buf_init(&obj, 0);
	put(&obj, iid, sizeof(iid));
	put(&obj, inner->data, inner->len);
	prop_long(&p, 0x3705, 5);
	prop_var(&p, PT_OBJECT_, 0x3701, obj.data, obj.len);
	attr(b, LVL_ATT, ATT_REND, rend, sizeof(rend));
	mapi(b, LVL_ATT, ATT_ATTACH, 2, &p);
	mugai_buf_free(&p);
	mugai_buf_free(&obj);
}

/* Run the mode; the members of a successful stream (checked too). */
static int
run(const struct mugai_buf *tnef, const struct convert_opts *o,
    struct mugai_buf *out, char *why, size_t whylen)
{
	mugai_buf_init(out, 0);
	return convert_tnef((const unsigned char *)tnef->data, tnef->len, o,
	    out, why, whylen);
}

static const struct mugai_member *
find(const struct mugai_member *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

/* The Japanese RTF body: \'hh pairs in CP932 and \uN, both read. */
static void
test_rtf_body_and_files(void **state)
{
	/* 会議 in CP932 is 89 EF 8B 63; 東京 is U+6771 U+4EAC. */
	static const char rtf[] = "{\\rtf1\\ansi\\ansicpg932\\deff0"
	    "{\\fonttbl{\\f0\\fnil\\fcharset128 \\'82\\'6c\\'82\\'72;}}"
	    "{\\*\\generator Exchange;}\\f0 \\'89\\'ef\\'8b\\'63\\par "
	    "\\u26481?\\u20140? Room\\tab 3\\par\\uc2 A\\u-10179??"
	    "\\u-8694??B}";
	static const char sjis_name[] = "\x95\xf1\x8d\x90.txt";  /* 報告.txt */
	struct convert_opts o;
	struct mugai_buf t, p, out;
	struct mugai_member *m;
	const struct mugai_member *b, *f;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	begin(&t);
	mugai_buf_init(&p, 0);
	rtf_mela(&p, rtf);
	mapi(&t, LVL_MSG, ATT_MAPI, 1, &p);
	file_attachment(&t, sjis_name, "hello\n", 6);
	file_attachment(&t, "photo.jpg", "\xff\xd8\xff\xe0", 4);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, 1 << 20,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 3);
	assert_non_null(b = find(m, n, "body.txt"));
	assert_int_equal(b->flags, MUGAI_MEMBER_BODY);
	/* U+1F600 from the surrogate pair D83D DE0A... is U+1F60A. */
	assert_int_equal(b->size, strlen("会議\n東京 Room\t3\nA\xF0\x9F\x98\x8A"
	    "B"));
	assert_memory_equal(b->data, "会議\n東京 Room\t3\nA\xF0\x9F\x98\x8A"
	    "B", b->size);
	assert_non_null(f = find(m, n, "報告.txt"));
	assert_int_equal(f->flags, 0);
	assert_memory_equal(f->data, "hello\n", 6);
	assert_non_null(find(m, n, "photo.jpg"));
	mugai_members_free(m, n);
	mugai_buf_free(&out);
	mugai_buf_free(&p);
	mugai_buf_free(&t);
}

/* An embedded message: its headers, body and file, nested. */
static void
test_embedded_message(void **state)
{
	static const uint16_t subj[] = { 0x8ee2, 0x9001, ':', ' ', 'x' };
	static const uint16_t name[] = { 0x5c71, 0x7530, ' ', 0x592a, 0x90ce };
	unsigned char u[64];
	struct convert_opts o;
	struct mugai_buf inner, t, p, out, mime;
	struct mugai_member *m, *m2;
	const struct mugai_member *e, *h;
	GMimeObject *tree;
	char why[256], *s;
	size_t n, n2;
	int dropped;

	(void)state;
	opts(&o);
	begin(&inner);
	mugai_buf_init(&p, 0);
	prop_var(&p, PT_UNICODE_, 0x0037, u, utf16(subj, 5, u));
	prop_var(&p, PT_UNICODE_, 0x0C1A, u, utf16(name, 5, u));
	prop_var(&p, PT_STRING8_, 0x0C1F, "yamada@example.jp", 18);
	prop_var(&p, PT_STRING8_, 0x1000, "inner body\r\n", 13);
	mapi(&inner, LVL_MSG, ATT_MAPI, 4, &p);
	file_attachment(&inner, "map.txt", "map\n", 4);
	begin(&t);
	message_attachment(&t, &inner);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, 1 << 20,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 1);
	e = &m[0];
	assert_int_equal(e->flags, MUGAI_MEMBER_MESSAGE);
	assert_string_equal(e->name, "attachment-1");
	assert_int_equal(mugai_members_parse(e->data, e->size, 10, 1 << 20,
	    &m2, &n2), MUGAI_OK);
	assert_int_equal(n2, 3);
	assert_non_null(h = find(m2, n2, "header"));
	s = strndup((const char *)h->data, h->size);
	assert_non_null(strstr(s, "Subject: 転送: x\n"));
	assert_non_null(strstr(s, "From: 山田 太郎 <yamada@example.jp>\n"));
	free(s);
	assert_non_null(find(m2, n2, "body.txt"));
	assert_non_null(find(m2, n2, "map.txt"));
	mugai_members_free(m2, n2);
	mugai_members_free(m, n);

	/* The parent makes a message/rfc822 part of it. */
	assert_int_equal(mugai_tnef_mime(out.data, out.len, 10, 1 << 20, 1,
	    &tree, &dropped, why, sizeof(why)), MUGAI_OK);
	s = g_mime_object_to_string(tree, NULL);
	mugai_buf_init(&mime, 0);
	put(&mime, s, strlen(s));
	assert_non_null(strstr(s, "Content-Type: message/rfc822"));
	assert_non_null(strstr(s, "map.txt"));
	assert_non_null(strstr(s, "Subject: =?"));
	g_free(s);
	g_object_unref(tree);
	mugai_buf_free(&mime);
	mugai_buf_free(&out);
	mugai_buf_free(&p);
	mugai_buf_free(&t);
	mugai_buf_free(&inner);
}

/* Names are one clean component: no climbing out, no drive, no controls. */
static void
test_hostile_names(void **state)
{
	static const char *const titles[] = { "..\\..\\evil.exe", "C:x.bat",
	    ("a\x01" "b.txt"), "..", "/etc/passwd" };
	static const char *const want[] = { "evil.exe", "C_x.bat", "a_b.txt",
	    "attachment-4", "passwd" };
	struct convert_opts o;
	struct mugai_buf t, out;
	struct mugai_member *m;
	char why[256];
	size_t n, i;

	(void)state;
	opts(&o);
	begin(&t);
	for (i = 0; i < 5; i++)
		file_attachment(&t, titles[i], "x", 1);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, 1 << 20,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(m[i].name, want[i]);
	mugai_members_free(m, n);
	mugai_buf_free(&out);
	mugai_buf_free(&t);
}

/* 8-bit names in the message's code page: 1252 here, CP932 by default. */
static void
test_codepage(void **state)
{
	static const unsigned char oem[8] = { 0xe4, 0x04 };	/* 1252 */
	struct convert_opts o;
	struct mugai_buf t, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	begin(&t);
	attr(&t, LVL_MSG, 0x00069007u, oem, sizeof(oem));
	file_attachment(&t, "R\xe9sum\xe9.txt", "x", 1);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, 1 << 20,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "Résumé.txt");
	mugai_members_free(m, n);
	mugai_buf_free(&out);
	mugai_buf_free(&t);
}

/* Damaged streams are refused with the reason; nothing is written. */
static void
test_damaged(void **state)
{
	struct convert_opts o;
	struct mugai_buf t, out, p;
	char why[256];

	(void)state;
	opts(&o);
	begin(&t);
	file_attachment(&t, "a.txt", "hello", 5);
	t.data[t.len - 3] ^= 0x20;		/* data, not its checksum */
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_non_null(strstr(why, "checksum"));
	assert_int_equal(out.len, 0);
	mugai_buf_free(&out);
	t.data[t.len - 3] ^= 0x20;
	t.len -= 4;				/* cut inside an attribute */
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);
	t.len = 6 + 3;				/* cut inside a header */
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_non_null(strstr(why, "truncated"));
	mugai_buf_free(&out);
	t.data[0] = 'X';
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	mugai_buf_free(&out);
	mugai_buf_free(&t);

	/* A MELA body that claims more bytes than it has. */
	begin(&t);
	mugai_buf_init(&p, 0);
	rtf_mela(&p, "{\\rtf1 hello}");
	p.data[4 + 4 + 4 + 4] = 0x7f;		/* raw size, low byte */
	mapi(&t, LVL_MSG, ATT_MAPI, 1, &p);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	assert_non_null(strstr(why, "RTF"));
	mugai_buf_free(&out);
	mugai_buf_free(&p);
	mugai_buf_free(&t);
}

/* LZFu: a literal-only stream with the end marker, then a reference. */
static void
test_lzfu(void **state)
{
	/* "{\rtf1 ab}" (10 bytes): flags 0 + 8 literals, then 2 literals. */
	static const unsigned char comp[] = { 0x00, '{', '\\', 'r', 't', 'f',
	    '1', ' ', 'a', 0x00, 'b', '}' };
	struct convert_opts o;
	struct mugai_buf t, p, v, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	mugai_buf_init(&v, 0);
	put32(&v, sizeof(comp) + 12);
	put32(&v, 10);
	put32(&v, 0x75465A4Cu);
	put32(&v, 0);
	put(&v, comp, sizeof(comp));
	begin(&t);
	mugai_buf_init(&p, 0);
	prop_var(&p, PT_BINARY_, 0x1009, v.data, v.len);
	mapi(&t, LVL_MSG, ATT_MAPI, 1, &p);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, 1 << 20,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].size, 2);
	assert_memory_equal(m[0].data, "ab", 2);
	mugai_members_free(m, n);
	mugai_buf_free(&out);
	mugai_buf_free(&p);
	mugai_buf_free(&v);
	mugai_buf_free(&t);
}

/* Outlook's encapsulated HTML: tags and RTF-only text are left out. */
static void
test_rtf_fromhtml(void **state)
{
	static const char rtf[] = "{\\rtf1\\ansi\\ansicpg932\\fromhtml1 "
	    "{\\*\\htmltag19 <html>}\\htmlrtf {\\b rtf-only}\\htmlrtf0 "
	    "Hello {\\*\\htmltag84 &nbsp;}\\htmlrtf \\par\\htmlrtf0 "
	    "world {\\pict 0123abcd}{\\field{\\*\\fldinst HYPERLINK x}"
	    "{\\fldrslt link}}}";
	struct mugai_buf out;

	(void)state;
	mugai_buf_init(&out, 0);
	assert_int_equal(convert_rtf_text((const unsigned char *)rtf,
	    strlen(rtf), 1000, &out), MUGAI_CONVERT_EXIT_OK);
	assert_string_equal(out.data, "Hello world link");
	mugai_buf_reset(&out);
	/* The output cap holds. */
	assert_int_equal(convert_rtf_text((const unsigned char *)rtf,
	    strlen(rtf), 5, &out), MUGAI_CONVERT_EXIT_OK);
	assert_true(out.len <= 5);
	mugai_buf_free(&out);
}

/* A body that is only HTML comes as a file for the policy, not lost. */
static void
test_html_only_body(void **state)
{
	static const char html[] = "<p>\xe4\xbc\x9a\xe8\xad\xb0</p>";
	struct convert_opts o;
	struct mugai_buf t, p, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	begin(&t);
	mugai_buf_init(&p, 0);
	prop_var(&p, PT_BINARY_, 0x1013, html, strlen(html));
	mapi(&t, LVL_MSG, ATT_MAPI, 1, &p);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(mugai_members_parse(out.data, out.len, 10, 1 << 20,
	    &m, &n), MUGAI_OK);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "body.html");
	assert_int_equal(m[0].flags, 0);
	assert_memory_equal(m[0].data, html, strlen(html));
	mugai_members_free(m, n);
	mugai_buf_free(&out);
	mugai_buf_free(&p);
	mugai_buf_free(&t);
}

/* Limits: files in all, bytes in all, messages inside messages. */
static void
test_limits(void **state)
{
	struct convert_opts o;
	struct mugai_buf t, out, inner, outer;
	char why[256];
	int i;

	(void)state;
	opts(&o);
	o.max_members = 3;
	begin(&t);
	for (i = 0; i < 4; i++)
		file_attachment(&t, "a.txt", "x", 1);
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	mugai_buf_free(&out);
	opts(&o);
	o.max_total = 3;
	assert_int_equal(run(&t, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	mugai_buf_free(&out);
	mugai_buf_free(&t);

	/* Nine messages deep is past the limit of eight. */
	opts(&o);
	begin(&inner);
	file_attachment(&inner, "deep.txt", "x", 1);
	for (i = 0; i < 9; i++) {
		begin(&outer);
		message_attachment(&outer, &inner);
		mugai_buf_free(&inner);
		inner = outer;
	}
	assert_int_equal(run(&inner, &o, &out, why, sizeof(why)),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(why, "deep"));
	mugai_buf_free(&out);
	mugai_buf_free(&inner);
}

/* The parent refuses streams a sound worker never writes. */
static void
test_parent_refuses(void **state)
{
	struct mugai_buf s;
	GMimeObject *tree;
	char why[160];
	int dropped;

	(void)state;
	mugai_buf_init(&s, 0);
	assert_int_equal(mugai_members_begin(&s, 1), MUGAI_OK);
	assert_int_equal(mugai_members_add(&s, "d", MUGAI_MEMBER_DIR, NULL, 0),
	    MUGAI_OK);
	assert_int_equal(mugai_tnef_mime(s.data, s.len, 10, 100, 1, &tree,
	    &dropped, why, sizeof(why)), MUGAI_ERR_PARSE);
	mugai_buf_reset(&s);
	assert_int_equal(mugai_members_begin(&s, 1), MUGAI_OK);
	assert_int_equal(mugai_members_add(&s, "m", MUGAI_MEMBER_MESSAGE,
	    "junk", 4), MUGAI_OK);
	assert_int_equal(mugai_tnef_mime(s.data, s.len, 10, 100, 1, &tree,
	    &dropped, why, sizeof(why)), MUGAI_ERR_PARSE);
	/* The body is left out when the message has its own. */
	mugai_buf_reset(&s);
	assert_int_equal(mugai_members_begin(&s, 2), MUGAI_OK);
	assert_int_equal(mugai_members_add(&s, "body.txt", MUGAI_MEMBER_BODY,
	    "rtf text", 8), MUGAI_OK);
	assert_int_equal(mugai_members_add(&s, "a.txt", 0, "x", 1), MUGAI_OK);
	assert_int_equal(mugai_tnef_mime(s.data, s.len, 10, 100, 0, &tree,
	    &dropped, why, sizeof(why)), MUGAI_OK);
	assert_int_equal(dropped, 1);
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(tree)), 1);
	g_object_unref(tree);
	mugai_buf_free(&s);
}

static int
setup(void **state)
{
	(void)state;
	g_mime_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	g_mime_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtf_body_and_files),
		cmocka_unit_test(test_embedded_message),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_codepage),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_lzfu),
		cmocka_unit_test(test_html_only_body),
		cmocka_unit_test(test_rtf_fromhtml),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_parent_refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
