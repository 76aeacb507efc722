/*
 * test_convert_archive.c - the archive mode of mugai-convert, called
 * directly: archives are made in memory with libarchive's writer (zip,
 * zip with PKWARE encryption, 7z, tar with gzip/bzip2/xz), with zlib
 * (a lone .gz with its original name) and by hand (zip headers holding
 * raw CP932 names and hostile paths, which no well-behaved writer
 * makes).  Every successful output must also pass the parent's parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "../../convert/convert.h"
#include "mugai/cdr/members.h"

#define MB	((size_t)1 << 20)

static void
opts(struct convert_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_members = 1000;
	o->max_total = 100 * MB;
	o->max_ratio = 100;
}

/* An entry for libarchive's writer. */
struct aent {
	char	 type;		/* f file, d dir, l symlink, h hardlink, p fifo */
	const char *name;
	const char *data;	/* file contents, or the link target */
	size_t	 size;
	size_t	 zeros;		/* file of this many zero bytes instead */
};

static la_ssize_t
write_cb(struct archive *a, void *cd, const void *p, size_t n)
{
	(void)a;
	return mugai_buf_append(cd, p, n) == MUGAI_OK ? (la_ssize_t)n : -1;
}

static void
write_entry(struct archive *a, const struct aent *e)
{
	static const char zero[64 * 1024];
	struct archive_entry *ae;
	size_t left;

	assert_non_null(ae = archive_entry_new());
	archive_entry_copy_pathname(ae, e->name);
	archive_entry_set_mtime(ae, 1700000000, 0);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, 0);		/* cpio wants one on all */
	switch (e->type) {
	case 'd':
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
		break;
	case 'l':
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_copy_symlink(ae, e->data);
		break;
	case 'h':
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_copy_hardlink(ae, e->data);
		break;
	case 'p':
		archive_entry_set_filetype(ae, AE_IFIFO);
		break;
	default:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, (la_int64_t)(e->zeros ? e->zeros :
		    e->size));
	}
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	if (e->type == 'f' && e->zeros == 0 && e->size > 0)
		assert_int_equal(archive_write_data(a, e->data, e->size),
		    (la_ssize_t)e->size);
	for (left = e->zeros; left > 0; left -= left < sizeof(zero) ?
	    left : sizeof(zero))
		assert_true(archive_write_data(a, zero, left < sizeof(zero) ?
		    left : sizeof(zero)) > 0);
	archive_entry_free(ae);
}

/*
 * Write an archive with libarchive into out.  Names are UTF-8: the
 * writer runs in a UTF-8 locale, as it would on any desktop.  Returns
 * 0, or -1 when the filter is not built in (libarchive would fork a
 * program for it).
 */
static int
mk(struct mugai_buf *out, const char *format, const char *filter,
    const char *options, const char *pass, const struct aent *e, size_t n)
{
	struct archive *a;
	locale_t utf8, old;
	size_t i;

	assert_true((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8",
	    (locale_t)0)) != (locale_t)0);
	old = uselocale(utf8);
	mugai_buf_init(out, 0);
	assert_non_null(a = archive_write_new());
	assert_int_equal(archive_write_set_format_by_name(a, format),
	    ARCHIVE_OK);
	if (filter != NULL &&
	    archive_write_add_filter_by_name(a, filter) != ARCHIVE_OK) {
		archive_write_free(a);
		uselocale(old);
		freelocale(utf8);
		return -1;
	}
	if (options != NULL)
		assert_int_equal(archive_write_set_options(a, options),
		    ARCHIVE_OK);
	if (pass != NULL)
		assert_int_equal(archive_write_set_passphrase(a, pass),
		    ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open(a, out, NULL, write_cb, NULL),
	    ARCHIVE_OK);
	for (i = 0; i < n; i++)
		write_entry(a, &e[i]);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	uselocale(old);
	freelocale(utf8);
	return 0;
}

static void
put16(struct mugai_buf *b, unsigned v)
{
	unsigned char p[2] = { v & 0xff, v >> 8 & 0xff };

	assert_int_equal(mugai_buf_append(b, p, 2), MUGAI_OK);
}

static void
put32(struct mugai_buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

/* A stored zip written by hand: names are bytes, flag as given. */
struct zent {
	const char *name;
	const char *data;
};

static void
mini_zip(struct mugai_buf *z, const struct zent *e, size_t n, unsigned flag)
{
	struct mugai_buf cd;
	uint32_t off[16], crc;
	size_t i, nl, dl;

	assert_true(n <= 16);
	mugai_buf_init(z, 0);
	mugai_buf_init(&cd, 0);
	for (i = 0; i < n; i++) {
		nl = strlen(e[i].name);
		dl = strlen(e[i].data);
		crc = (uint32_t)crc32(0, (const unsigned char *)e[i].data,
		    (uInt)dl);
		off[i] = (uint32_t)z->len;
		put32(z, 0x04034b50u);
		put16(z, 20);
		put16(z, flag);
		put16(z, 0);			/* stored */
		put16(z, 0);
		put16(z, 0x21);			/* 1980-01-01 */
		put32(z, crc);
		put32(z, (uint32_t)dl);
		put32(z, (uint32_t)dl);
		put16(z, (unsigned)nl);
		put16(z, 0);
		assert_int_equal(mugai_buf_append(z, e[i].name, nl), MUGAI_OK);
		assert_int_equal(mugai_buf_append(z, e[i].data, dl), MUGAI_OK);
		put32(&cd, 0x02014b50u);
		put16(&cd, 20);
		put16(&cd, 20);
		put16(&cd, flag);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0x21);
		put32(&cd, crc);
		put32(&cd, (uint32_t)dl);
		put32(&cd, (uint32_t)dl);
		put16(&cd, (unsigned)nl);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, 0);
		put32(&cd, off[i]);
		assert_int_equal(mugai_buf_append(&cd, e[i].name, nl),
		    MUGAI_OK);
	}
	off[0] = (uint32_t)z->len;
	assert_int_equal(mugai_buf_append(z, cd.data, cd.len), MUGAI_OK);
	put32(z, 0x06054b50u);
	put16(z, 0);
	put16(z, 0);
	put16(z, (unsigned)n);
	put16(z, (unsigned)n);
	put32(z, (uint32_t)cd.len);
	put32(z, off[0]);
	put16(z, 0);
	mugai_buf_free(&cd);
}

/* A lone gzip stream, with its original name in the header if given. */
static void
mk_gzip(struct mugai_buf *out, const char *name, const char *data,
    size_t size)
{
	unsigned char chunk[4096];
	gz_header h;
	z_stream zs;
	int r;

	mugai_buf_init(out, 0);
	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	h.name = (unsigned char *)(uintptr_t)name;
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	if (name != NULL)
		assert_int_equal(deflateSetHeader(&zs, &h), Z_OK);
	zs.next_in = (unsigned char *)(uintptr_t)data;
	zs.avail_in = (uInt)size;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		r = deflate(&zs, Z_FINISH);
		assert_int_equal(mugai_buf_append(out, chunk,
		    sizeof(chunk) - zs.avail_out), MUGAI_OK);
	} while (r == Z_OK);
	assert_int_equal(r, Z_STREAM_END);
	deflateEnd(&zs);
}

/* Run the mode; on success the parent's parser must take its output. */
static int
run(const struct mugai_buf *in, const struct convert_opts *o,
    struct mugai_buf *out, struct mugai_member **m, size_t *n, char *why)
{
	int rc;

	mugai_buf_init(out, 0);
	*m = NULL;
	*n = 0;
	rc = convert_archive((const unsigned char *)in->data, in->len, o,
	    out, why, 256);
	if (rc != MUGAI_CONVERT_EXIT_OK) {
		/* Nothing half-written is left for a careless caller. */
		assert_int_equal(out->len, 0);
		assert_true(why[0] != '\0' && strchr(why, '\n') == NULL);
		mugai_buf_free(out);
		return rc;
	}
	assert_int_equal(mugai_members_parse(out->data, out->len,
	    o->max_members, o->max_total, m, n), MUGAI_OK);
	return rc;
}

static void
done(struct mugai_buf *in, struct mugai_buf *out, struct mugai_member *m,
    size_t n)
{
	mugai_members_free(m, n);
	mugai_buf_free(in);
	mugai_buf_free(out);
}

static void
assert_member(const struct mugai_member *m, const char *name,
    uint32_t flags, const void *data, size_t size)
{
	assert_string_equal(m->name, name);
	assert_int_equal(m->flags, flags);
	assert_int_equal(m->size, size);
	if (size > 0)
		assert_memory_equal(m->data, data, size);
}

/*
 * Inside the sandbox open() kills the worker.  After
 * convert_archive_prepare, names in UTF-8 (zip bit 11, 7z, pax) and
 * CP932 must still decode, and zip times still convert, with every
 * kind of open() forbidden.  This runs first, in a child forked before
 * this process has read any archive, so nothing loaded by another test
 * can stand in for what prepare is meant to load; the archives are
 * made in another child for the same reason.
 */
static const struct {
	const char *fixture;
	const char *name;
} sandboxed[] = {
	{ "utf8.zip", "資料/報告①.txt" },
	{ "cp932.zip", "資料.txt" },
	{ "names.7z", "日本語/メモ.txt" },
	{ "names.tar.gz", "日本語/メモ.txt" },
	{ "report.csv.gz", "report.csv" },
};

static void
make_sandbox_fixtures(int fd)
{
	static const struct aent e[] = {
		{ 'f', "日本語/メモ.txt", "x", 1, 0 },
	};
	static const struct zent cp932[] = {
		{ "\x8e\x91\x97\xbf.txt", "x" },
	};
	struct mugai_buf all, b;
	struct mugai_zipw *z;
	const char *p;

	mugai_buf_init(&all, 0);
	assert_int_equal(mugai_members_begin(&all, 5), MUGAI_OK);
	assert_non_null(z = mugai_zipw_new());
	assert_int_equal(mugai_zipw_add(z, "資料/報告①.txt", "x", 1),
	    MUGAI_OK);
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_zipw_finish(z, &b), MUGAI_OK);
	assert_int_equal(mugai_members_add(&all, "utf8.zip", 0, b.data,
	    b.len), MUGAI_OK);
	mugai_buf_free(&b);
	mini_zip(&b, cp932, 1, 0);
	assert_int_equal(mugai_members_add(&all, "cp932.zip", 0, b.data,
	    b.len), MUGAI_OK);
	mugai_buf_free(&b);
	assert_int_equal(mk(&b, "7zip", NULL, NULL, NULL, e, 1), 0);
	assert_int_equal(mugai_members_add(&all, "names.7z", 0, b.data,
	    b.len), MUGAI_OK);
	mugai_buf_free(&b);
	assert_int_equal(mk(&b, "pax", "gzip", NULL, NULL, e, 1), 0);
	assert_int_equal(mugai_members_add(&all, "names.tar.gz", 0, b.data,
	    b.len), MUGAI_OK);
	mugai_buf_free(&b);
	mk_gzip(&b, "report.csv", "x", 1);
	assert_int_equal(mugai_members_add(&all, "report.csv.gz", 0, b.data,
	    b.len), MUGAI_OK);
	mugai_buf_free(&b);
	for (p = all.data; p < all.data + all.len; ) {
		ssize_t w = write(fd, p, (size_t)(all.data + all.len - p));

		assert_true(w > 0);
		p += w;
	}
	mugai_buf_free(&all);
}

static int
forbid_open(void)
{
	static const char *const calls[] = {
		"open", "openat", "openat2", "creat", "execve", "execveat",
	};
	scmp_filter_ctx ctx;
	size_t i;
	int nr;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return -1;
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		nr = seccomp_syscall_resolve_name(calls[i]);
		if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx,
		    SCMP_ACT_KILL_PROCESS, nr, 0) != 0)
			return -1;
	}
	return seccomp_load(ctx);
}

static int
sandboxed_child(const struct mugai_member *fx, size_t nfx)
{
	struct convert_opts o;
	struct mugai_buf out;
	struct mugai_member *m;
	char why[256];
	size_t i, n;

	if (convert_archive_prepare() != 0) {
		fprintf(stderr, "convert_archive_prepare failed\n");
		return 2;
	}
	if (forbid_open() != 0) {
		fprintf(stderr, "seccomp filter not loaded\n");
		return 3;
	}
	opts(&o);
	for (i = 0; i < nfx; i++) {
		mugai_buf_init(&out, 0);
		if (convert_archive(fx[i].data, fx[i].size, &o, &out, why,
		    sizeof(why)) != MUGAI_CONVERT_EXIT_OK ||
		    mugai_members_parse(out.data, out.len, 10, 10, &m, &n) !=
		    MUGAI_OK || n != 1 || strcmp(m[0].name,
		    sandboxed[i].name) != 0 || m[0].size != 1) {
			fprintf(stderr, "%s: wrong result (%s)\n", fx[i].name,
			    why);
			return 4;
		}
		mugai_members_free(m, n);
		mugai_buf_free(&out);
	}
	return 0;
}

static void
test_sandboxed_names(void **state)
{
	struct mugai_buf all;
	struct mugai_member *fx;
	size_t nfx, i;
	char chunk[4096];
	ssize_t r;
	pid_t pid;
	int fds[2], st;

	(void)state;
	if (RUNNING_ON_VALGRIND) {
		/* Valgrind opens files of its own under the filter. */
		skip();
	}
	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(fds[0]);
		make_sandbox_fixtures(fds[1]);
		_exit(0);
	}
	close(fds[1]);
	mugai_buf_init(&all, 0);
	while ((r = read(fds[0], chunk, sizeof(chunk))) > 0)
		assert_int_equal(mugai_buf_append(&all, chunk, (size_t)r),
		    MUGAI_OK);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(mugai_members_parse(all.data, all.len, 10, 10 * MB,
	    &fx, &nfx), MUGAI_OK);
	assert_int_equal(nfx, sizeof(sandboxed) / sizeof(sandboxed[0]));
	for (i = 0; i < nfx; i++)
		assert_string_equal(fx[i].name, sandboxed[i].fixture);
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(sandboxed_child(fx, nfx));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("worker killed by signal %d (SIGSYS: it opened a "
		    "file in the sandbox)", WTERMSIG(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	mugai_members_free(fx, nfx);
	mugai_buf_free(&all);
}

static void
test_zip_members(void **state)
{
	static const char exe[] = "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff";
	static const char txt[] = "請求書を送ります。\r\n";
	const struct aent e[] = {
		{ 'f', "setup.exe", exe, sizeof(exe) - 1, 0 },
		{ 'f', "readme.txt", txt, sizeof(txt) - 1, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&in, "zip", NULL, NULL, NULL, e, 2), 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 2);
	assert_member(&m[0], "setup.exe", 0, exe, sizeof(exe) - 1);
	assert_member(&m[1], "readme.txt", 0, txt, sizeof(txt) - 1);
	assert_string_equal(why, "");
	done(&in, &out, m, n);
}

/*
 * Japanese Windows writes zip names in CP932 without bit 11.  表 ends
 * in 0x5C, a backslash, which must not become a separator; a real
 * backslash does.  Nothing undecodable is dropped.
 */
static void
test_zip_cp932_names(void **state)
{
	static const struct zent z[] = {
		{ "\x8e\x91\x97\xbf.txt", "shiryou" },
		{ "\x95\x5c.txt", "hyou" },
		{ "\x93\xfa\x96\x7b\x8c\xea\\\x8e\x91\x97\xbf.txt", "nested" },
		{ "\x81\x2e.txt", "bad lead" },
		{ "tab\there.txt", "control" },
		{ "./plain/./dir//x.txt", "dots" },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	mini_zip(&in, z, 6, 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 6);
	assert_member(&m[0], "資料.txt", 0, "shiryou", 7);
	assert_member(&m[1], "表.txt", 0, "hyou", 4);
	assert_member(&m[2], "日本語/資料.txt", 0, "nested", 6);
	/* A lead byte without its trail: U+FFFD, and the '.' survives. */
	assert_true(strstr(m[3].name, "\xef\xbf\xbd") != NULL);
	assert_true(strstr(m[3].name, ".txt") != NULL);
	assert_member(&m[4], "tab\xef\xbf\xbdhere.txt", 0, "control", 7);
	assert_member(&m[5], "plain/dir/x.txt", 0, "dots", 4);
	done(&in, &out, m, n);
}

/* The parent's own zip (UTF-8 flag) read back by libarchive. */
static void
test_zipw_round_trip(void **state)
{
	static const char *const names[] = {
		"empty.txt", "表/big.csv", "資料/報告書①～.txt",
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	struct mugai_zipw *z;
	const char *data[3];
	size_t sizes[3], i, n;
	char why[256], *big;

	(void)state;
	opts(&o);
	/* Repetitive rows deflate past 100:1; this is not the ratio test. */
	o.max_ratio = 100000;
	assert_non_null(big = malloc(MB));
	for (i = 0; i < MB; i++)
		big[i] = (char)("0123456789,需要\n"[i % 18] ^ (i >> 16));
	data[0] = "";
	sizes[0] = 0;
	data[1] = big;
	sizes[1] = MB;
	data[2] = "中身";
	sizes[2] = strlen(data[2]);
	assert_non_null(z = mugai_zipw_new());
	for (i = 0; i < 3; i++)
		assert_int_equal(mugai_zipw_add(z, names[i], data[i],
		    sizes[i]), MUGAI_OK);
	mugai_buf_init(&in, 0);
	assert_int_equal(mugai_zipw_finish(z, &in), MUGAI_OK);
	assert_true(in.len < MB / 2);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++)
		assert_member(&m[i], names[i], 0, data[i], sizes[i]);
	done(&in, &out, m, n);
	free(big);
}

static void
test_zip_encrypted(void **state)
{
	const struct aent e[] = {
		{ 'f', "請求書.xlsx", "PK secret", 9, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&in, "zip", NULL, "zip:encryption=zipcrypt",
	    "password", e, 1), 0);
	/* It is encrypted: the plain text is nowhere in the zip. */
	assert_null(memmem(in.data, in.len, "PK secret", 9));
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_ENCRYPTED);
	assert_non_null(strstr(why, "PPAP"));
	done(&in, &out, m, n);
}

/* 200 MB of zeros stops at the 100 MB total, without reading on. */
static void
test_bomb_total(void **state)
{
	const struct aent e[] = {
		{ 'f', "zeros.bin", NULL, 0, 200 * MB },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	o.max_ratio = 1000000;		/* the total cap must catch it */
	assert_int_equal(mk(&in, "zip", NULL, NULL, NULL, e, 1), 0);
	assert_true(in.len < MB);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(why, "more than 104857600 bytes"));
	done(&in, &out, m, n);
}

/* The total counts across members. */
static void
test_bomb_total_members(void **state)
{
	const struct aent e[] = {
		{ 'f', "a.bin", NULL, 0, 600 * 1024 },
		{ 'f', "b.bin", NULL, 0, 600 * 1024 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	o.max_ratio = 1000000;
	assert_int_equal(mk(&in, "pax", "gzip", NULL, NULL, e, 2), 0);
	o.max_total = MB;
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	o.max_total = 2 * MB;
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(m[1].size, 600 * 1024);
	done(&in, &out, m, n);
}

/* 10 MB of zeros in a few KB: far under the total, far over 100:1. */
static void
test_bomb_ratio(void **state)
{
	const struct aent e[] = {
		{ 'f', "zeros.bin", NULL, 0, 10 * MB },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&in, "zip", NULL, NULL, NULL, e, 1), 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(why, "zip bomb"));
	/* With room for the ratio, the same archive is fine. */
	o.max_ratio = 100000;
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(m[0].size, 10 * MB);
	done(&in, &out, m, n);
}

static void
test_traversal(void **state)
{
	static const char *const names[] = {
		"../evil.txt", "/etc/x", "a/../../b.txt", "..\\evil.txt",
		"C:\\Windows\\evil.exe", "\\\\server\\share\\x", "ok/..",
	};
	const struct aent tar[] = {
		{ 'f', "fine.txt", "x", 1, 0 },
		{ 'f', "../../home/user/.bashrc", "x", 1, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	struct zent z[2];
	char why[256];
	size_t i, n;

	(void)state;
	opts(&o);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		z[0].name = "fine.txt";
		z[0].data = "x";
		z[1].name = names[i];
		z[1].data = "evil";
		mini_zip(&in, z, 2, 0);
		if (run(&in, &o, &out, &m, &n, why) !=
		    MUGAI_CONVERT_EXIT_UNSAFE)
			fail_msg("%s not refused (%s)", names[i], why);
		assert_non_null(strstr(why, "path traversal"));
		done(&in, &out, m, n);
	}
	assert_int_equal(mk(&in, "pax", NULL, NULL, NULL, tar, 2), 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_UNSAFE);
	assert_non_null(strstr(why, "../../home/user/.bashrc"));
	done(&in, &out, m, n);
}

/* The member called name; 7z keeps empty files and directories last. */
static const struct mugai_member *
find(const struct mugai_member *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	fail_msg("no member %s", name);
	return NULL;
}

/* 7z, and tar behind each compression filter, with directories. */
static void
test_formats(void **state)
{
	static const char *const fmts[][2] = {
		{ "7zip", NULL }, { "pax", "gzip" }, { "pax", "bzip2" },
		{ "pax", "xz" }, { "ustar", NULL }, { "cpio", "gzip" },
	};
	const struct aent e[] = {
		{ 'd', "docs/", NULL, 0, 0 },
		{ 'f', "docs/a.txt", "alpha", 5, 0 },
		{ 'f', "b.bin", "\0\1\2", 3, 0 },
		{ 'f', "empty", "", 0, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t i, n;

	(void)state;
	opts(&o);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (mk(&in, fmts[i][0], fmts[i][1], NULL, NULL, e, 4) != 0) {
			fprintf(stderr, "%s filter not built in: skipped\n",
			    fmts[i][1]);
			continue;
		}
		if (run(&in, &o, &out, &m, &n, why) != MUGAI_CONVERT_EXIT_OK)
			fail_msg("%s+%s: %s", fmts[i][0], fmts[i][1], why);
		assert_int_equal(n, 4);
		assert_member(find(m, n, "docs"), "docs", MUGAI_MEMBER_DIR,
		    NULL, 0);
		assert_member(find(m, n, "docs/a.txt"), "docs/a.txt", 0,
		    "alpha", 5);
		assert_member(find(m, n, "b.bin"), "b.bin", 0, "\0\1\2", 3);
		assert_member(find(m, n, "empty"), "empty", 0, NULL, 0);
		done(&in, &out, m, n);
	}
}

/* A lone .gz: one member named by its header, else "data". */
static void
test_lone_gzip(void **state)
{
	static const char csv[] = "id,name\n1,山田\n";
	const struct aent e[] = {
		{ 'f', "ignored", csv, sizeof(csv) - 1, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	mk_gzip(&in, "report.csv", csv, sizeof(csv) - 1);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 1);
	assert_member(&m[0], "report.csv", 0, csv, sizeof(csv) - 1);
	done(&in, &out, m, n);
	mk_gzip(&in, NULL, csv, sizeof(csv) - 1);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 1);
	assert_member(&m[0], "data", 0, csv, sizeof(csv) - 1);
	done(&in, &out, m, n);
	/* A traversal in the gzip header is one too. */
	mk_gzip(&in, "../report.csv", csv, sizeof(csv) - 1);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_UNSAFE);
	done(&in, &out, m, n);
	/* libarchive's raw writer behind bzip2: no name, "data". */
	if (mk(&in, "raw", "bzip2", NULL, NULL, e, 1) == 0) {
		assert_int_equal(run(&in, &o, &out, &m, &n, why),
		    MUGAI_CONVERT_EXIT_OK);
		assert_int_equal(n, 1);
		assert_member(&m[0], "data", 0, csv, sizeof(csv) - 1);
	}
	done(&in, &out, m, n);
}

static void
test_bad_input(void **state)
{
	const struct aent e[] = {
		{ 'f', "a.txt", "0123456789abcdef0123456789abcdef", 32, 0 },
		{ 'f', "b.txt", "0123456789abcdef0123456789abcdef", 32, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out, zip;
	struct mugai_member *m;
	char why[256];
	size_t n, i;

	(void)state;
	opts(&o);
	mugai_buf_init(&in, 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(mugai_buf_puts(&in, "not an archive at all\n"),
		    MUGAI_OK);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	done(&in, &out, m, n);
	mugai_buf_init(&in, 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	done(&in, &out, m, n);
	/* A zip cut short, and one with a corrupted byte of data. */
	assert_int_equal(mk(&zip, "zip", NULL, "zip:compression=store", NULL,
	    e, 2), 0);
	mugai_buf_init(&in, 0);
	assert_int_equal(mugai_buf_append(&in, zip.data, zip.len / 2),
	    MUGAI_OK);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	done(&in, &out, m, n);
	mugai_buf_init(&in, 0);
	assert_int_equal(mugai_buf_append(&in, zip.data, zip.len), MUGAI_OK);
	*(char *)memmem(in.data, in.len, "0123", 4) = 'X';
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_BAD_INPUT);
	done(&in, &out, m, n);
	mugai_buf_free(&zip);
}

/* A zip in a zip is one member: the parent recurses, not the worker. */
static void
test_nested(void **state)
{
	const struct aent ie[] = {
		{ 'f', "inner.exe", "MZ", 2, 0 },
	};
	struct aent oe[] = {
		{ 'f', "inner.zip", NULL, 0, 0 },
	};
	struct convert_opts o;
	struct mugai_buf inner, in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&inner, "zip", NULL, NULL, NULL, ie, 1), 0);
	oe[0].data = inner.data;
	oe[0].size = inner.len;
	assert_int_equal(mk(&in, "zip", NULL, NULL, NULL, oe, 1), 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 1);
	assert_member(&m[0], "inner.zip", 0, inner.data, inner.len);
	done(&in, &out, m, n);
	mugai_buf_free(&inner);
}

static void
test_links_skipped(void **state)
{
	const struct aent e[] = {
		{ 'f', "real.txt", "real", 4, 0 },
		{ 'l', "passwd", "/etc/passwd", 0, 0 },
		{ 'h', "hard.txt", "real.txt", 0, 0 },
		{ 'p', "fifo", NULL, 0, 0 },
		{ 'd', "dir/", NULL, 0, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&in, "pax", NULL, NULL, NULL, e, 5), 0);
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 2);
	assert_member(&m[0], "real.txt", 0, "real", 4);
	assert_member(&m[1], "dir", MUGAI_MEMBER_DIR, NULL, 0);
	assert_string_equal(why, "left out 3 links or special files");
	done(&in, &out, m, n);
}

static void
test_max_members(void **state)
{
	const struct aent e[] = {
		{ 'd', "d/", NULL, 0, 0 },
		{ 'f', "d/1", "1", 1, 0 },
		{ 'f', "d/2", "2", 1, 0 },
		{ 'l', "d/3", "1", 0, 0 },
		{ 'f', "d/4", "4", 1, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&in, "pax", NULL, NULL, NULL, e, 5), 0);
	/* Every entry counts, directories and links too. */
	o.max_members = 4;
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_TOO_BIG);
	assert_non_null(strstr(why, "more than 4 members"));
	o.max_members = 5;
	assert_int_equal(run(&in, &o, &out, &m, &n, why),
	    MUGAI_CONVERT_EXIT_OK);
	assert_int_equal(n, 4);
	done(&in, &out, m, n);
}

/* Output is appended after what out already held, count patched there. */
static void
test_append(void **state)
{
	const struct aent e[] = {
		{ 'f', "a", "1", 1, 0 },
		{ 'f', "b", "2", 1, 0 },
	};
	struct convert_opts o;
	struct mugai_buf in, out;
	struct mugai_member *m;
	char why[256];
	size_t n;

	(void)state;
	opts(&o);
	assert_int_equal(mk(&in, "zip", NULL, NULL, NULL, e, 2), 0);
	mugai_buf_init(&out, 0);
	assert_int_equal(mugai_buf_puts(&out, "head"), MUGAI_OK);
	assert_int_equal(convert_archive((const unsigned char *)in.data,
	    in.len, &o, &out, why, sizeof(why)), MUGAI_CONVERT_EXIT_OK);
	assert_memory_equal(out.data, "head", 4);
	assert_int_equal(mugai_members_parse(out.data + 4, out.len - 4, 10,
	    10, &m, &n), MUGAI_OK);
	assert_int_equal(n, 2);
	done(&in, &out, m, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: see test_sandboxed_names. */
		cmocka_unit_test(test_sandboxed_names),
		cmocka_unit_test(test_zip_members),
		cmocka_unit_test(test_zip_cp932_names),
		cmocka_unit_test(test_zipw_round_trip),
		cmocka_unit_test(test_zip_encrypted),
		cmocka_unit_test(test_bomb_total),
		cmocka_unit_test(test_bomb_total_members),
		cmocka_unit_test(test_bomb_ratio),
		cmocka_unit_test(test_traversal),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_lone_gzip),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_links_skipped),
		cmocka_unit_test(test_max_members),
		cmocka_unit_test(test_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
