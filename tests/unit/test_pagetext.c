/*
 * test_pagetext.c - the word stream from mugai-convert (src/cdr/pagetext.c):
 * what the writer writes the parser reads back, and the parser refuses
 * every stream a broken or hostile worker could write: wrong page
 * count, boxes outside the page or empty, bad UTF-8 and control bytes,
 * over the limits, counts the stream cannot hold, trailing bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mugai/cdr/pagetext.h"

static const uint32_t pw[2] = { 61200, 59500 }, ph[2] = { 79200, 84200 };
static const struct mugai_pagetext_limits lim = { 100, 1000 };

/* Two pages: "議事録" and "minutes" on the first, none on the second. */
static void
two_pages(struct mugai_buf *b)
{
	mugai_buf_init(b, 0);
	assert_int_equal(mugai_pagetext_begin(b, 2), MUGAI_OK);
	assert_int_equal(mugai_pagetext_page(b, 2), MUGAI_OK);
	assert_int_equal(mugai_pagetext_word(b, 7200, 4800, 14400, 7200, 0,
	    "議事録", strlen("議事録")), MUGAI_OK);
	assert_int_equal(mugai_pagetext_word(b, 15000, 4800, 61200, 79200,
	    MUGAI_WORD_VERTICAL, "minutes", 7), MUGAI_OK);
	assert_int_equal(mugai_pagetext_page(b, 0), MUGAI_OK);
}

static mugai_status
parse(const struct mugai_buf *b, size_t npages,
    const struct mugai_pagetext_limits *l, struct mugai_pagetext **t)
{
	return mugai_pagetext_parse(b->data, b->len, npages, pw, ph, l, t);
}

static void
test_roundtrip(void **state)
{
	struct mugai_buf b;
	struct mugai_pagetext *t = NULL;

	(void)state;
	two_pages(&b);
	assert_int_equal(parse(&b, 2, &lim, &t), MUGAI_OK);
	assert_int_equal(t[0].nwords, 2);
	assert_int_equal(t[1].nwords, 0);
	assert_int_equal(t[0].words[0].x0, 7200);
	assert_int_equal(t[0].words[0].y0, 4800);
	assert_int_equal(t[0].words[0].x1, 14400);
	assert_int_equal(t[0].words[0].y1, 7200);
	assert_int_equal(t[0].words[0].flags, 0);
	assert_int_equal(t[0].words[1].flags, MUGAI_WORD_VERTICAL);
	assert_int_equal(t[0].words[0].len, strlen("議事録"));
	assert_memory_equal(t[0].words[0].text, "議事録", strlen("議事録"));
	assert_memory_equal(t[0].words[1].text, "minutes", 7);
	/* A box may reach the page's edges exactly. */
	assert_int_equal(t[0].words[1].x1, pw[0]);
	assert_int_equal(t[0].words[1].y1, ph[0]);
	mugai_pagetext_free(t, 2);
	mugai_buf_free(&b);
	mugai_pagetext_free(NULL, 3);
}

/* The writer refuses what the parser would, and leaves out as it was. */
static void
test_writer_refuses(void **state)
{
	static const char *const bad[] = {
		"", "tab\there", "nl\n", "del\x7f", "\xff\xfe", "\xe8\xad",
		"\xc0\xaf", "\xed\xa0\x80",
	};
	char longw[MUGAI_WORD_MAX + 1];
	struct mugai_buf b;
	size_t i;

	(void)state;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_pagetext_begin(&b, 1), MUGAI_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(mugai_word_ok(bad[i], strlen(bad[i])));
		assert_int_equal(mugai_pagetext_word(&b, 0, 0, 10, 10, 0,
		    bad[i], strlen(bad[i])), MUGAI_ERR_USAGE);
	}
	assert_int_equal(mugai_pagetext_word(&b, 10, 0, 10, 10, 0, "a", 1),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pagetext_word(&b, 0, 10, 10, 5, 0, "a", 1),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_pagetext_word(&b, 0, 0, 10, 10, 2, "a", 1),
	    MUGAI_ERR_USAGE);
	memset(longw, 'a', sizeof(longw));
	assert_true(mugai_word_ok(longw, MUGAI_WORD_MAX));
	assert_int_equal(mugai_pagetext_word(&b, 0, 0, 10, 10, 0, longw,
	    MUGAI_WORD_MAX + 1), MUGAI_ERR_USAGE);
	assert_int_equal(b.len, 8);
	/* Over the buffer's cap: nothing half written. */
	mugai_buf_free(&b);
	mugai_buf_init(&b, 34);
	assert_int_equal(mugai_pagetext_begin(&b, 1), MUGAI_OK);
	assert_int_equal(mugai_pagetext_word(&b, 0, 0, 10, 10, 0, "0123456789",
	    10), MUGAI_ERR_LIMIT);
	assert_int_equal(b.len, 8);
	mugai_buf_free(&b);
}

/* Overwrite 4 bytes at off with v, little-endian. */
static void
poke(struct mugai_buf *b, size_t off, uint32_t v)
{
	b->data[off] = (char)(v & 0xff);
	b->data[off + 1] = (char)((v >> 8) & 0xff);
	b->data[off + 2] = (char)((v >> 16) & 0xff);
	b->data[off + 3] = (char)((v >> 24) & 0xff);
}

/*
 * Offsets in two_pages' stream: 0 magic, 4 pages, 8 words of page 1,
 * 12 the first word's x0 y0 x1 y1 flags len, 36 its 9 bytes of text,
 * 45 the second word (x0 at 45, x1 at 53, y1 at 57, flags at 61, len
 * at 65, text at 69).
 */
static void
test_parser_refuses(void **state)
{
	static const struct {
		size_t off;
		uint32_t v;
	} pokes[] = {
		{ 4, 3 }, { 4, 1 }, { 4, 0 }, { 8, 3 }, { 8, 0xffffffffu },
		{ 12, 14400 },		/* x0 == x1 */
		{ 16, 7300 },		/* y0 > y1 */
		{ 53, 61201 },		/* past the right edge */
		{ 57, 79201 },		/* past the bottom */
		{ 61, 3 },		/* a flag no one defined */
		{ 28, 0x80000000u },
		{ 32, 0 },		/* empty word */
		{ 32, 8 },		/* length does not match */
		{ 65, 0xfffffff0u },	/* length past the stream */
	};
	struct mugai_pagetext_limits l;
	struct mugai_buf b;
	struct mugai_pagetext *t = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
		two_pages(&b);
		poke(&b, pokes[i].off, pokes[i].v);
		if (parse(&b, 2, &lim, &t) != MUGAI_ERR_PARSE)
			fail_msg("poke %zu: %u at %zu accepted", i, pokes[i].v,
			    pokes[i].off);
		assert_null(t);
		mugai_buf_free(&b);
	}
	/* Bad UTF-8 and a control byte inside the text. */
	two_pages(&b);
	b.data[37] = '\xff';
	assert_int_equal(parse(&b, 2, &lim, &t), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	two_pages(&b);
	b.data[71] = '\n';
	assert_int_equal(parse(&b, 2, &lim, &t), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	/* Wrong page count, bad magic, trailing and missing bytes. */
	two_pages(&b);
	assert_int_equal(parse(&b, 1, &lim, &t), MUGAI_ERR_PARSE);
	assert_int_equal(parse(&b, 3, &lim, &t), MUGAI_ERR_PARSE);
	assert_int_equal(mugai_pagetext_parse(b.data, b.len - 1, 2, pw, ph,
	    &lim, &t), MUGAI_ERR_PARSE);
	assert_int_equal(mugai_buf_putc(&b, 'x'), MUGAI_OK);
	assert_int_equal(parse(&b, 2, &lim, &t), MUGAI_ERR_PARSE);
	b.len--;
	b.data[0] = 'X';
	assert_int_equal(parse(&b, 2, &lim, &t), MUGAI_ERR_PARSE);
	b.data[0] = 'M';
	assert_int_equal(parse(&b, 2, &lim, &t), MUGAI_OK);
	mugai_pagetext_free(t, 2);
	/* The limits: two words of 9 + 7 bytes. */
	l.max_words = 1;
	l.max_bytes = 1000;
	assert_int_equal(parse(&b, 2, &l, &t), MUGAI_ERR_PARSE);
	l.max_words = 2;
	l.max_bytes = 15;
	assert_int_equal(parse(&b, 2, &l, &t), MUGAI_ERR_PARSE);
	l.max_bytes = 16;
	assert_int_equal(parse(&b, 2, &l, &t), MUGAI_OK);
	mugai_pagetext_free(t, 2);
	assert_int_equal(mugai_pagetext_parse(NULL, 0, 2, pw, ph, &lim, &t),
	    MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_parser_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
