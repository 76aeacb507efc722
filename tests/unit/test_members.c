/*
 * test_members.c - the member stream from mugai-convert (its strict
 * parser above all: the stream comes from a process that read a hostile
 * archive) and the zip the parent re-packs members into, checked by
 * Python's zipfile as an independent reader.
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
#include <zlib.h>

#include "mugai/cdr/members.h"

static void
put32(struct mugai_buf *b, uint32_t v)
{
	unsigned char p[4] = { v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff,
	    v >> 24 };

	assert_int_equal(mugai_buf_append(b, p, 4), MUGAI_OK);
}

static void
put64(struct mugai_buf *b, uint64_t v)
{
	put32(b, v & 0xffffffffu);
	put32(b, v >> 32);
}

/* A stream written by hand, so that it can break every rule. */
static void
raw_begin(struct mugai_buf *b, const char *magic, uint32_t count)
{
	mugai_buf_init(b, 0);
	assert_int_equal(mugai_buf_append(b, magic, 4), MUGAI_OK);
	put32(b, count);
}

static void
raw_member(struct mugai_buf *b, const char *name, size_t nlen,
    uint32_t flags, uint64_t size, const char *data, size_t dlen)
{
	put32(b, (uint32_t)nlen);
	assert_int_equal(mugai_buf_append(b, name, nlen), MUGAI_OK);
	put32(b, flags);
	put64(b, size);
	assert_int_equal(mugai_buf_append(b, data, dlen), MUGAI_OK);
}

static mugai_status
parse(const struct mugai_buf *b, size_t max_members, size_t max_total,
    size_t *n)
{
	struct mugai_member *m = NULL;
	mugai_status rc;

	rc = mugai_members_parse(b->data, b->len, max_members, max_total,
	    &m, n);
	if (rc != MUGAI_OK)
		assert_null(m);
	mugai_members_free(m, *n);
	return rc;
}

static void
test_stream_round_trip(void **state)
{
	struct mugai_buf b;
	struct mugai_member *m;
	size_t n;

	(void)state;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_members_begin(&b, 4), MUGAI_OK);
	assert_int_equal(mugai_members_add(&b, "setup.exe", 0, "MZ\x90\0", 4),
	    MUGAI_OK);
	assert_int_equal(mugai_members_add(&b, "資料", MUGAI_MEMBER_DIR, NULL,
	    0), MUGAI_OK);
	assert_int_equal(mugai_members_add(&b, "資料/報告①.txt", 0, "", 0),
	    MUGAI_OK);
	assert_int_equal(mugai_members_add(&b, "locked.docx",
	    MUGAI_MEMBER_ENCRYPTED, NULL, 0), MUGAI_OK);
	assert_int_equal(mugai_members_parse(b.data, b.len, 4, 4, &m, &n),
	    MUGAI_OK);
	assert_int_equal(n, 4);
	assert_string_equal(m[0].name, "setup.exe");
	assert_int_equal(m[0].size, 4);
	assert_memory_equal(m[0].data, "MZ\x90\0", 4);
	/* Data is not copied: it points into the stream. */
	assert_true(m[0].data > (const uint8_t *)b.data &&
	    m[0].data < (const uint8_t *)b.data + b.len);
	assert_string_equal(m[1].name, "資料");
	assert_int_equal(m[1].flags, MUGAI_MEMBER_DIR);
	assert_string_equal(m[2].name, "資料/報告①.txt");
	assert_int_equal(m[2].size, 0);
	assert_int_equal(m[3].flags, MUGAI_MEMBER_ENCRYPTED);
	mugai_members_free(m, n);
	/* An empty archive is a stream too. */
	mugai_buf_reset(&b);
	assert_int_equal(mugai_members_begin(&b, 0), MUGAI_OK);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_OK);
	assert_int_equal(n, 0);
	mugai_members_free(NULL, 0);
	mugai_buf_free(&b);
}

/* Names the parser must refuse, however the stream around them is. */
static const struct { const char *name; size_t len; } bad_names[] = {
	{ "", 0 },
	{ "a\0b", 3 },
	{ "a\nb.txt", 7 },
	{ "\x1b[31mred", 8 },
	{ "a\x7f", 2 },
	{ "next\xc2\x85line", 10 },		/* U+0085, a C1 control */
	{ "..", 2 },
	{ "../evil.txt", 11 },
	{ "a/../../b", 9 },
	{ "a/..", 4 },
	{ ".", 1 },
	{ "./a", 3 },
	{ "a//b", 4 },
	{ "a/", 2 },
	{ "/etc/passwd", 11 },
	{ "C:/Windows/x.exe", 16 },
	{ "c:x", 3 },
	{ "..\\evil.txt", 11 },
	{ "\\\\server\\share", 14 },
	{ "\xff.txt", 5 },
	{ "\xc0\xae\xc0\xae/x", 6 },		/* overlong "..": not UTF-8 */
	{ "\x8e\x91\x97\xbf.txt", 8 },		/* CP932 資料: not UTF-8 */
	{ "\xed\xa0\x80", 3 },			/* a surrogate */
};

static void
test_parse_bad_names(void **state)
{
	struct mugai_buf b;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		raw_begin(&b, "MARC", 1);
		raw_member(&b, bad_names[i].name, bad_names[i].len, 0, 1, "x",
		    1);
		if (parse(&b, 10, 10, &n) != MUGAI_ERR_PARSE)
			fail_msg("bad name %zu accepted", i);
		mugai_buf_free(&b);
		/* The writer refuses what the parser would. */
		mugai_buf_init(&b, 0);
		if (memchr(bad_names[i].name, '\0', bad_names[i].len) == NULL &&
		    mugai_members_add(&b, bad_names[i].name, 0, "x", 1) !=
		    MUGAI_ERR_USAGE)
			fail_msg("writer took bad name %zu", i);
		assert_int_equal(b.len, 0);
		mugai_buf_free(&b);
	}
	/* The same stream with a good name passes: the rest is right. */
	raw_begin(&b, "MARC", 1);
	raw_member(&b, "a/b.c", 5, 0, 1, "x", 1);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_OK);
	mugai_buf_free(&b);
}

static void
test_parse_bad_frames(void **state)
{
	struct mugai_buf b, ok;
	size_t n, cut;

	(void)state;
	raw_begin(&ok, "MARC", 2);
	raw_member(&ok, "one.txt", 7, 0, 3, "abc", 3);
	raw_member(&ok, "two.txt", 7, 0, 2, "de", 2);
	assert_int_equal(parse(&ok, 2, 5, &n), MUGAI_OK);
	assert_int_equal(n, 2);

	/* Bad magic. */
	raw_begin(&b, "MARX", 0);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	/* Every truncation of a good stream. */
	for (cut = 0; cut < ok.len; cut++) {
		struct mugai_member *m = NULL;

		if (mugai_members_parse(ok.data, cut, 2, 5, &m, &n) !=
		    MUGAI_ERR_PARSE)
			fail_msg("stream cut at %zu accepted", cut);
		assert_null(m);
	}
	/* Count says more members than there are, or fewer. */
	raw_begin(&b, "MARC", 3);
	assert_int_equal(mugai_buf_append(&b, ok.data + 8, ok.len - 8),
	    MUGAI_OK);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	raw_begin(&b, "MARC", 1);
	assert_int_equal(mugai_buf_append(&b, ok.data + 8, ok.len - 8),
	    MUGAI_OK);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	/* A huge count is refused before anything is allocated for it. */
	raw_begin(&b, "MARC", 0xffffffffu);
	raw_member(&b, "a", 1, 0, 0, "", 0);
	assert_int_equal(parse(&b, SIZE_MAX, SIZE_MAX, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	/* Sizes past the end, or that wrap. */
	raw_begin(&b, "MARC", 1);
	raw_member(&b, "a", 1, 0, UINT64_MAX, "x", 1);
	assert_int_equal(parse(&b, 10, SIZE_MAX, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	raw_begin(&b, "MARC", 1);
	put32(&b, 0xffffffffu);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	/* Unknown flags; data on an encrypted or directory member. */
	raw_begin(&b, "MARC", 1);
	raw_member(&b, "a", 1, 0x40, 0, "", 0);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	raw_begin(&b, "MARC", 1);
	raw_member(&b, "a", 1, MUGAI_MEMBER_ENCRYPTED, 1, "x", 1);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	raw_begin(&b, "MARC", 1);
	raw_member(&b, "d", 1, MUGAI_MEMBER_DIR, 1, "x", 1);
	assert_int_equal(parse(&b, 10, 10, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&b);
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_members_add(&b, "d", MUGAI_MEMBER_DIR, "x", 1),
	    MUGAI_ERR_USAGE);
	assert_int_equal(mugai_members_add(&b, "d", 0x40, NULL, 0),
	    MUGAI_ERR_USAGE);
	mugai_buf_free(&b);
	/* Caps: total bytes (5 here) and member count (2). */
	assert_int_equal(parse(&ok, 2, 4, &n), MUGAI_ERR_PARSE);
	assert_int_equal(parse(&ok, 1, 5, &n), MUGAI_ERR_PARSE);
	mugai_buf_free(&ok);
}

/* An append the cap refuses leaves no torn member behind. */
static void
test_writer_cap(void **state)
{
	struct mugai_buf b;
	size_t n;

	(void)state;
	mugai_buf_init(&b, 40);
	assert_int_equal(mugai_members_begin(&b, 1), MUGAI_OK);
	assert_int_equal(mugai_members_add(&b, "a.txt", 0, "0123456789", 10),
	    MUGAI_OK);
	assert_int_equal(b.len, 8 + 4 + 5 + 4 + 8 + 10);
	assert_int_equal(mugai_members_add(&b, "b.txt", 0, "x", 1),
	    MUGAI_ERR_LIMIT);
	assert_int_equal(b.len, 39);
	assert_int_equal(parse(&b, 1, 10, &n), MUGAI_OK);
	mugai_buf_free(&b);
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/*
 * Walk the zip by hand: every local and central header has the UTF-8
 * flag, names match, and the end record counts them.
 */
static void
check_zip_headers(const struct mugai_buf *z, const char *const *names,
    size_t n)
{
	const unsigned char *p = (const unsigned char *)z->data, *end;
	uint32_t cdoff, off;
	size_t i;

	assert_true(z->len >= 22);
	end = p + z->len - 22;
	assert_int_equal(get32(end), 0x06054b50u);
	assert_int_equal(get16(end + 10), n);
	cdoff = get32(end + 16);
	assert_int_equal(cdoff + get32(end + 12), z->len - 22);
	for (i = 0, off = cdoff; i < n; i++) {
		const unsigned char *c = p + off, *l;

		assert_int_equal(get32(c), 0x02014b50u);
		assert_true(get16(c + 8) & 0x0800);
		assert_int_equal(get16(c + 28), strlen(names[i]));
		assert_memory_equal(c + 46, names[i], strlen(names[i]));
		l = p + get32(c + 42);
		assert_int_equal(get32(l), 0x04034b50u);
		assert_true(get16(l + 6) & 0x0800);
		assert_memory_equal(l + 30, names[i], strlen(names[i]));
		off += 46 + get16(c + 28);
	}
}

/* Python's zipfile: names, CRC-checked bytes, flag bit 11, testzip. */
static const char pycheck[] =
    "import sys, zipfile, zlib\n"
    "z = zipfile.ZipFile(sys.argv[1])\n"
    "print(z.testzip())\n"
    "for i in z.infolist():\n"
    "    d = z.read(i)\n"
    "    print('%s|%d|%08x|%d|%d' % (i.filename, len(d), "
    "zlib.crc32(d), i.flag_bits & 0x800, i.compress_type))\n";

static void
python_check(const struct mugai_buf *z, const char *const *names,
    const char *const *data, const size_t *sizes, size_t n)
{
	char path[] = "/tmp/test_members_XXXXXX";
	char cmd[4096], line[1024], want[1024];
	FILE *f;
	size_t i;
	int fd;

	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		fprintf(stderr, "python3 missing: zipfile check skipped\n");
		return;
	}
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, z->data, z->len), (ssize_t)z->len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 -c \"$(cat <<'EOF'\n%s\nEOF\n)\" "
	    "%s", pycheck, path);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "None\n");
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%s|%zu|%08lx|2048|%d\n",
		    names[i], sizes[i], crc32(0, (const unsigned char *)data[i],
		    (uInt)sizes[i]), sizes[i] > 1000 ? 8 : 0);
		assert_non_null(fgets(line, sizeof(line), f));
		assert_string_equal(line, want);
	}
	assert_null(fgets(line, sizeof(line), f));
	assert_int_equal(pclose(f), 0);
	unlink(path);
}

static void
test_zip_writer(void **state)
{
	static const char row[] = "2024-04-01,需要,42\n";
	static const char *const names[] = {
		"empty.txt", "logs/big.csv", "資料/報告書①～.txt",
	};
	const char *data[3];
	size_t sizes[3], i;
	struct mugai_zipw *z;
	struct mugai_buf out;
	char *big;

	(void)state;
	/* 1 MB of CSV rows: compressible, so it must come out deflated. */
	assert_non_null(big = malloc(1 << 20));
	for (i = 0; i < 1 << 20; i++)
		big[i] = row[i % (sizeof(row) - 1)];
	data[0] = "";
	sizes[0] = 0;
	data[1] = big;
	sizes[1] = 1 << 20;
	data[2] = "中身 contents\n";
	sizes[2] = strlen(data[2]);
	assert_non_null(z = mugai_zipw_new());
	for (i = 0; i < 3; i++) {
		assert_int_equal(mugai_zipw_add(z, names[i], data[i], sizes[i]),
		    MUGAI_OK);
		/* A refused member in between leaves no trace. */
		assert_int_equal(mugai_zipw_add(z, "../x", "x", 1),
		    MUGAI_ERR_USAGE);
	}
	assert_int_equal(mugai_zipw_add(z, "\x8e\x91.txt", "x", 1),
	    MUGAI_ERR_USAGE);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_zipw_finish(z, &out), MUGAI_OK);
	assert_true(out.len < 100000);
	check_zip_headers(&out, names, 3);
	python_check(&out, names, data, sizes, 3);
	mugai_buf_free(&out);
	free(big);
}

static void
test_zip_writer_limits(void **state)
{
	struct mugai_zipw *z;
	struct mugai_buf out;

	(void)state;
	mugai_zipw_free(NULL);
	assert_non_null(z = mugai_zipw_new());
	assert_int_equal(mugai_zipw_add(z, "a", NULL, 1), MUGAI_ERR_USAGE);
	assert_int_equal(mugai_zipw_add(z, "", "", 0), MUGAI_ERR_USAGE);
#if SIZE_MAX > 0xffffffffu
	/*
	 * 4 GB would need zip64.  The size is refused before a byte is
	 * read, so a one-byte buffer stands in for the data.
	 */
	assert_int_equal(mugai_zipw_add(z, "huge.bin", "x",
	    (size_t)0xffffffffu + 1), MUGAI_ERR_LIMIT);
	assert_int_equal(mugai_zipw_add(z, "huge.bin", "x",
	    (size_t)0xffffffffu), MUGAI_ERR_LIMIT);
#endif
	/* The cap of out is reported, and out is left as it was. */
	assert_int_equal(mugai_zipw_add(z, "a.txt", "abc", 3), MUGAI_OK);
	mugai_buf_init(&out, 40);
	assert_int_equal(mugai_buf_append(&out, "keep", 4), MUGAI_OK);
	assert_int_equal(mugai_zipw_finish(z, &out), MUGAI_ERR_LIMIT);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "keep");
	mugai_buf_free(&out);
	/* An empty zip is just the end record. */
	assert_non_null(z = mugai_zipw_new());
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_zipw_finish(z, &out), MUGAI_OK);
	assert_int_equal(out.len, 22);
	check_zip_headers(&out, NULL, 0);
	mugai_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_round_trip),
		cmocka_unit_test(test_parse_bad_names),
		cmocka_unit_test(test_parse_bad_frames),
		cmocka_unit_test(test_writer_cap),
		cmocka_unit_test(test_zip_writer),
		cmocka_unit_test(test_zip_writer_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
