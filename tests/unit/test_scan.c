/*
 * test_scan.c - the in-process ClamAV scanner: detections through mail,
 * archive and HTML parsing, verdicts for encrypted and oversized data,
 * database errors, reloads under load and the directory watcher.
 *
 * Uses the database that scripts/make-testdb writes ($MUGAI_TESTDB,
 * default build/testdb).  EICAR is assembled at run time so that this
 * file itself does not trip virus scanners.  Archives are built here
 * with a tiny ZIP writer whose DEFLATE output (fixed Huffman, literals
 * only) never contains the payload bytes verbatim, so a detection proves
 * that libclamav unpacked the archive rather than matched raw bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/scan/scan.h"

#define EICAR_SIG	"Mugai.Test.EICAR"

static char eicar[80];

static const char *
testdb(void)
{
	const char *d = getenv("MUGAI_TESTDB");

	return d != NULL && *d != 0 ? d : "build/testdb";
}

/* ---- configs and scanners --------------------------------------------- */

/* Defaults, the given database directory, then extra "key=value"s. */
static struct mugai_config *
cfg_make(const char *dir, const char *extra1, const char *extra2)
{
	char dirline[1024], err[512];
	char *ov[4];
	size_t n = 0;
	struct mugai_config *cfg;

	snprintf(dirline, sizeof(dirline), "clamav_database_dir=%s", dir);
	ov[n++] = dirline;
	ov[n++] = "clamav_check_interval=0";
	if (extra1 != NULL)
		ov[n++] = (char *)extra1;
	if (extra2 != NULL)
		ov[n++] = (char *)extra2;
	cfg = mugai_config_load(NULL, ov, n, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("config: %s", err);
	return cfg;
}

static struct mugai_scanner *
scanner_make(const char *dir, const char *extra1, const char *extra2)
{
	struct mugai_config *cfg = cfg_make(dir, extra1, extra2);
	struct mugai_scanner *sc = NULL;
	char err[512];

	if (mugai_scanner_new(cfg, &sc, err, sizeof(err)) != MUGAI_OK)
		fail_msg("scanner: %s", err);
	mugai_config_unref(cfg);
	return sc;
}

static struct mugai_scan_verdict
scan(struct mugai_scanner *sc, const void *data, size_t len)
{
	struct mugai_scan_verdict v;

	assert_int_equal(mugai_scanner_scan(sc, data, len, "test", &v),
	    MUGAI_OK);
	return v;
}

static void
assert_infected(struct mugai_scanner *sc, const struct mugai_buf *b,
    const char *sig)
{
	struct mugai_scan_verdict v = scan(sc, b->data, b->len);

	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	assert_true(strncmp(v.name, sig, strlen(sig)) == 0);
}

static void
assert_clean(struct mugai_scanner *sc, const struct mugai_buf *b)
{
	struct mugai_scan_verdict v = scan(sc, b->data, b->len);

	if (v.outcome != MUGAI_SCAN_CLEAN)
		fail_msg("expected clean, got %d %s", v.outcome, v.name);
}

/* The payload must not be in the container verbatim: else a raw match
 * would pass the test without any unpacking. */
static void
assert_hidden(const struct mugai_buf *b, const char *payload)
{
	assert_null(memmem(b->data, b->len, payload, strlen(payload)));
}

/* ---- encoders for building test data -------------------------------- */

static uint32_t
crc32_calc(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

struct bits {
	struct mugai_buf *out;
	unsigned long acc;
	int n;
};

static void
bits_put(struct bits *b, unsigned long v, int n)
{
	b->acc |= v << b->n;
	b->n += n;
	while (b->n >= 8) {
		assert_int_equal(mugai_buf_putc(b->out, (char)(b->acc & 0xff)),
		    MUGAI_OK);
		b->acc >>= 8;
		b->n -= 8;
	}
}

/* Huffman codes go into the stream most significant bit first. */
static void
bits_put_code(struct bits *b, unsigned code, int len)
{
	unsigned long r = 0;
	int i;

	for (i = 0; i < len; i++)
		r |= (unsigned long)((code >> i) & 1) << (len - 1 - i);
	bits_put(b, r, len);
}

/* RFC 1951 with one fixed-Huffman block of literals. */
static void
deflate_fixed(const unsigned char *p, size_t n, struct mugai_buf *out)
{
	struct bits b = { out, 0, 0 };
	size_t i;

	bits_put(&b, 1, 1);		/* BFINAL */
	bits_put(&b, 1, 2);		/* BTYPE 01: fixed Huffman */
	for (i = 0; i < n; i++) {
		if (p[i] < 144)
			bits_put_code(&b, 0x30u + p[i], 8);
		else
			bits_put_code(&b, 0x190u + p[i] - 144, 9);
	}
	bits_put_code(&b, 0, 7);	/* end of block */
	if (b.n > 0)
		bits_put(&b, 0, 8 - b.n);
}

static void
put16(struct mugai_buf *b, unsigned v)
{
	char c[2] = { (char)(v & 0xff), (char)((v >> 8) & 0xff) };

	assert_int_equal(mugai_buf_append(b, c, 2), MUGAI_OK);
}

static void
put32(struct mugai_buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

struct zip {
	struct mugai_buf out;
	struct mugai_buf cdir;
	unsigned n;
};

static void
zip_init(struct zip *z)
{
	mugai_buf_init(&z->out, 0);
	mugai_buf_init(&z->cdir, 0);
	z->n = 0;
}

/*
 * Add one member, deflated; or, encrypted, flagged as ZipCrypto (general
 * purpose bit 0) with a 12-byte encryption header and scrambled bytes.
 */
static void
zip_add(struct zip *z, const char *name, const void *data, size_t len,
    int encrypted)
{
	struct mugai_buf body;
	uint32_t crc = crc32_calc(data, len), off = (uint32_t)z->out.len;
	unsigned flags = encrypted ? 1 : 0, method = encrypted ? 0 : 8;
	struct mugai_buf *hdr[2] = { &z->out, &z->cdir };
	size_t i;
	int h;

	mugai_buf_init(&body, 0);
	if (encrypted) {
		for (i = 0; i < 12 + len; i++)
			mugai_buf_putc(&body, (char)((i * 151 + 89) ^
			    (i < 12 ? 0 : ((const unsigned char *)data)[i - 12])));
	} else
		deflate_fixed(data, len, &body);
	for (h = 0; h < 2; h++) {
		put32(hdr[h], h == 0 ? 0x04034b50u : 0x02014b50u);
		if (h == 1)
			put16(hdr[h], 20);	/* version made by */
		put16(hdr[h], 20);		/* version needed */
		put16(hdr[h], flags);
		put16(hdr[h], method);
		put16(hdr[h], 0);		/* time */
		put16(hdr[h], 0x21);		/* date: 1980-01-01 */
		put32(hdr[h], crc);
		put32(hdr[h], (uint32_t)body.len);
		put32(hdr[h], (uint32_t)len);
		put16(hdr[h], (unsigned)strlen(name));
		put16(hdr[h], 0);		/* extra */
		if (h == 1) {
			put16(hdr[h], 0);	/* comment */
			put16(hdr[h], 0);	/* disk */
			put16(hdr[h], 0);	/* internal attributes */
			put32(hdr[h], 0);	/* external attributes */
			put32(hdr[h], off);
		}
		mugai_buf_puts(hdr[h], name);
		if (h == 0)
			mugai_buf_append(hdr[h], body.data, body.len);
	}
	mugai_buf_free(&body);
	z->n++;
}

/* Finish the archive into out (which the caller frees). */
static void
zip_finish(struct zip *z, struct mugai_buf *out)
{
	uint32_t cdoff = (uint32_t)z->out.len;

	mugai_buf_append(&z->out, z->cdir.data, z->cdir.len);
	put32(&z->out, 0x06054b50u);
	put16(&z->out, 0);
	put16(&z->out, 0);
	put16(&z->out, z->n);
	put16(&z->out, z->n);
	put32(&z->out, (uint32_t)z->cdir.len);
	put32(&z->out, cdoff);
	put16(&z->out, 0);
	mugai_buf_free(&z->cdir);
	*out = z->out;
}

static void
zip_one(const char *name, const void *data, size_t len, int encrypted,
    struct mugai_buf *out)
{
	struct zip z;

	zip_init(&z);
	zip_add(&z, name, data, len, encrypted);
	zip_finish(&z, out);
}

static void
base64_put(struct mugai_buf *b, const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t i;
	unsigned long v;
	int col = 0;

	for (i = 0; i < len; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		mugai_buf_putc(b, tab[(v >> 18) & 63]);
		mugai_buf_putc(b, tab[(v >> 12) & 63]);
		mugai_buf_putc(b, i + 1 < len ? tab[(v >> 6) & 63] : '=');
		mugai_buf_putc(b, i + 2 < len ? tab[v & 63] : '=');
		if ((col += 4) == 76) {
			mugai_buf_putc(b, '\n');
			col = 0;
		}
	}
	if (col != 0)
		mugai_buf_putc(b, '\n');
}

/* Quoted-printable with every '$' and '!' encoded, and a soft line
 * break every 20 bytes, so the payload is split across lines. */
static void
qp_put(struct mugai_buf *b, const char *s)
{
	size_t i;

	for (i = 0; s[i] != 0; i++) {
		if (i > 0 && i % 20 == 0)
			mugai_buf_puts(b, "=\n");
		if (s[i] == '$' || s[i] == '!' || s[i] == '=')
			mugai_buf_printf(b, "=%02X", (unsigned char)s[i]);
		else
			mugai_buf_putc(b, s[i]);
	}
	mugai_buf_putc(b, '\n');
}

static void
qp_decode(const char *s, struct mugai_buf *out)
{
	unsigned v;

	while (*s != 0) {
		if (s[0] == '=' && s[1] == '\n') {
			s += 2;
		} else if (s[0] == '=' && sscanf(s + 1, "%2x", &v) == 1) {
			mugai_buf_putc(out, (char)v);
			s += 3;
		} else if (*s == '\n') {
			s++;
		} else
			mugai_buf_putc(out, *s++);
	}
}

static const char mail_head[] =
    "From: sender@example.co.jp\n"
    "To: staff@city.example.lg.jp\n"
    "Subject: test\n"
    "Date: Mon, 1 Apr 2024 09:00:00 +0900\n"
    "Message-ID: <t1@example.co.jp>\n"
    "MIME-Version: 1.0\n";

/* A multipart/mixed mail: a text part, then one attachment. */
static void
mail_with_part(struct mugai_buf *m, const char *ctype, const char *cte,
    const void *data, size_t len)
{
	mugai_buf_init(m, 0);
	mugai_buf_puts(m, mail_head);
	mugai_buf_puts(m, "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
	    "--b1\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "Please see the attachment.\n"
	    "--b1\n");
	mugai_buf_printf(m, "Content-Type: %s\n"
	    "Content-Disposition: attachment; filename=\"file.bin\"\n", ctype);
	mugai_buf_printf(m, "Content-Transfer-Encoding: %s\n\n", cte);
	if (strcmp(cte, "base64") == 0)
		base64_put(m, data, len);
	else if (strcmp(cte, "quoted-printable") == 0)
		qp_put(m, data);
	else
		mugai_buf_append(m, data, len);
	mugai_buf_puts(m, "--b1--\n");
}

static struct mugai_buf
buf_of(const void *p, size_t n)
{
	struct mugai_buf b;

	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_buf_append(&b, p, n), MUGAI_OK);
	return b;
}

/* ---- temporary database directories ---------------------------------- */

static void
file_write(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
file_copy(const char *from, const char *to)
{
	char buf[8192];
	FILE *in, *out;
	size_t n;

	assert_non_null(in = fopen(from, "rb"));
	assert_non_null(out = fopen(to, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* A private copy of the test database, so tests may change it. */
static char *
db_copy(void)
{
	char *dir = strdup("/tmp/mugai-scan-db-XXXXXX");
	char from[1024], to[1024];
	struct dirent *de;
	DIR *d;

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	assert_non_null(d = opendir(testdb()));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 4 || (strcmp(de->d_name + n - 4, ".ndb") != 0 &&
		    strcmp(de->d_name + n - 4, ".hdb") != 0))
			continue;
		snprintf(from, sizeof(from), "%s/%s", testdb(), de->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, de->d_name);
		file_copy(from, to);
	}
	closedir(d);
	return dir;
}

static void
db_remove(char *dir)
{
	char path[1024];
	struct dirent *de;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
}

/* An .ndb line matching the string s anywhere. */
/* One uuencoded character for a 6-bit value (0 as a backquote). */
static char
uu_char(unsigned v)
{
	return v == 0 ? '`' : (char)(32 + v);
}

/* uuencode s in lines of up to 45 bytes. */
static void
uu_put(struct mugai_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, k, len;
	unsigned c0, c1, c2;

	for (i = 0; i < n; i += 45) {
		len = n - i < 45 ? n - i : 45;
		mugai_buf_printf(b, "%c", uu_char((unsigned)len));
		for (k = 0; k < len; k += 3) {
			c0 = p[i + k];
			c1 = k + 1 < len ? p[i + k + 1] : 0;
			c2 = k + 2 < len ? p[i + k + 2] : 0;
			mugai_buf_printf(b, "%c%c%c%c", uu_char(c0 >> 2),
			    uu_char(((c0 & 3) << 4) | (c1 >> 4)),
			    uu_char(((c1 & 15) << 2) | (c2 >> 6)),
			    uu_char(c2 & 63));
		}
		mugai_buf_puts(b, "\n");
	}
}

static void
ndb_line(char *out, size_t outlen, const char *name, const char *s)
{
	size_t i, n = (size_t)snprintf(out, outlen, "%s:0:*:", name);

	for (i = 0; s[i] != 0 && n + 3 < outlen; i++, n += 2)
		snprintf(out + n, outlen - n, "%02x", (unsigned char)s[i]);
	snprintf(out + n, outlen - n, "\n");
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- detections -------------------------------------------------------- */

static void
test_eicar_plain(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf b = buf_of(eicar, strlen(eicar));

	(void)state;
	assert_infected(sc, &b, EICAR_SIG);
	assert_int_equal(mugai_scanner_generation(sc), 1);
	mugai_buf_free(&b);
	mugai_scanner_free(sc);
}

static void
test_eicar_mime_base64(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf m;

	(void)state;
	mail_with_part(&m, "application/octet-stream", "base64", eicar,
	    strlen(eicar));
	assert_hidden(&m, eicar);
	assert_infected(sc, &m, EICAR_SIG);
	mugai_buf_free(&m);
	mugai_scanner_free(sc);
}

/*
 * A whole message: without decoding, an encoded virus is not seen (the
 * caller scans the decoded parts); with decoding it is, even right after
 * the same bytes came back clean without it (libclamav's cache of clean
 * objects must not answer for the decoding scan).
 */
static void
test_message_decode(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_scan_verdict v;
	struct mugai_buf m;

	(void)state;
	mail_with_part(&m, "application/octet-stream", "base64", eicar,
	    strlen(eicar));
	assert_hidden(&m, eicar);
	assert_int_equal(mugai_scanner_scan_message(sc, m.data, m.len, 0,
	    "message", &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_CLEAN);
	assert_int_equal(mugai_scanner_scan_message(sc, m.data, m.len, 1,
	    "message", &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	assert_true(strncmp(v.name, EICAR_SIG, strlen(EICAR_SIG)) == 0);
	/* Not decoding still sees what is there in plain bytes. */
	mugai_buf_free(&m);
	mail_with_part(&m, "application/octet-stream", "7bit", eicar,
	    strlen(eicar));
	assert_int_equal(mugai_scanner_scan_message(sc, m.data, m.len, 0,
	    "message", &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	mugai_buf_free(&m);

	/* A message that starts with Content-Type: (Python's email package
	 * writes them so) is still read as mail: uuencoded EICAR in it. */
	mugai_buf_init(&m, 0);
	mugai_buf_puts(&m, "Content-Type: text/plain; charset=\"us-ascii\"\n"
	    "MIME-Version: 1.0\nFrom: a@example.org\nSubject: uu\n\n"
	    "The file follows.\n\nbegin 644 tool.com\n");
	uu_put(&m, eicar);
	mugai_buf_puts(&m, "`\nend\n");
	assert_hidden(&m, eicar);
	assert_int_equal(mugai_scanner_scan_message(sc, m.data, m.len, 1,
	    "message", &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	mugai_buf_free(&m);
	mugai_scanner_free(sc);
}

/*
 * clamav_tmp_dir: libclamav's per-scan directories are made there (and
 * removed again); a directory that cannot be used is a configuration
 * error, not a silent fall back to /tmp.
 */
static void
test_tmp_dir(void **state)
{
	char dir[] = "/tmp/test_scan_tmp.XXXXXX", opt[64], err[512];
	struct mugai_scanner *sc = NULL;
	struct mugai_config *cfg;
	struct mugai_buf z;
	struct inotify_event *ev;
	char evbuf[4096];
	ssize_t n;
	int fd, made = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(opt, sizeof(opt), "clamav_tmp_dir=%s", dir);
	sc = scanner_make(testdb(), opt, NULL);
	/* Watch the directory: each scan makes and removes its own. */
	assert_true((fd = inotify_init1(IN_NONBLOCK)) >= 0);
	assert_true(inotify_add_watch(fd, dir, IN_CREATE) >= 0);
	zip_one("eicar.com", eicar, strlen(eicar), 0, &z);
	assert_infected(sc, &z, EICAR_SIG);
	while ((n = read(fd, evbuf, sizeof(evbuf))) > 0)
		for (ev = (struct inotify_event *)evbuf; (char *)ev < evbuf + n;
		    ev = (struct inotify_event *)((char *)ev + sizeof(*ev) +
		    ev->len))
			made++;
	close(fd);
	assert_true(made > 0);
	mugai_buf_free(&z);
	mugai_scanner_free(sc);
	assert_int_equal(rmdir(dir), 0);	/* left empty */
	cfg = cfg_make(testdb(), opt, NULL);
	assert_int_equal(mugai_scanner_new(cfg, &sc, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_non_null(strstr(err, "clamav_tmp_dir"));
	mugai_config_unref(cfg);
}

static void
test_eicar_zip(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf z;

	(void)state;
	zip_one("eicar.com", eicar, strlen(eicar), 0, &z);
	assert_hidden(&z, eicar);
	assert_infected(sc, &z, EICAR_SIG);
	mugai_buf_free(&z);
	mugai_scanner_free(sc);
}

static void
test_eicar_zip_in_zip_in_mail(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf inner, outer, m;
	struct zip z;

	(void)state;
	zip_one("eicar.com", eicar, strlen(eicar), 0, &inner);
	zip_init(&z);
	zip_add(&z, "readme.txt", "nothing here\n", 13, 0);
	zip_add(&z, "inner.zip", inner.data, inner.len, 0);
	zip_finish(&z, &outer);
	assert_hidden(&outer, eicar);
	assert_infected(sc, &outer, EICAR_SIG);

	mail_with_part(&m, "application/zip", "base64", outer.data,
	    outer.len);
	assert_infected(sc, &m, EICAR_SIG);
	mugai_buf_free(&m);
	mugai_buf_free(&inner);
	mugai_buf_free(&outer);
	mugai_scanner_free(sc);
}

static void
test_eicar_forwarded_rfc822(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf inner, m;

	(void)state;
	mail_with_part(&inner, "application/octet-stream", "base64", eicar,
	    strlen(eicar));
	mugai_buf_init(&m, 0);
	mugai_buf_puts(&m, mail_head);
	mugai_buf_puts(&m, "Content-Type: multipart/mixed; boundary=\"fw\"\n\n"
	    "--fw\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "Forwarding the message below.\n"
	    "--fw\nContent-Type: message/rfc822\n\n");
	mugai_buf_append(&m, inner.data, inner.len);
	mugai_buf_puts(&m, "--fw--\n");
	assert_hidden(&m, eicar);
	assert_infected(sc, &m, EICAR_SIG);
	mugai_buf_free(&inner);
	mugai_buf_free(&m);
	mugai_scanner_free(sc);
}

/*
 * libclamav scans HTML only after normalising it (entities decoded, text
 * lower-cased), so HTML signatures are written for that form.  Here the
 * first character is an entity: only the HTML parser can see EICAR.
 */
static void
test_eicar_html_part(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf html, m;

	(void)state;
	mugai_buf_init(&html, 0);
	mugai_buf_printf(&html, "<html><head><title>t</title></head>"
	    "<body><p>&#88;%s</p></body></html>\n", eicar + 1);
	assert_hidden(&html, eicar);
	assert_infected(sc, &html, EICAR_SIG ".HTML");
	mail_with_part(&m, "text/html; charset=us-ascii", "base64",
	    html.data, html.len);
	assert_infected(sc, &m, EICAR_SIG ".HTML");
	mugai_scanner_free(sc);

	/* Without the HTML parser the entity hides it. */
	sc = scanner_make(testdb(), "clamav_scan_options=archive,mail", NULL);
	assert_clean(sc, &html);
	mugai_buf_free(&html);
	mugai_buf_free(&m);
	mugai_scanner_free(sc);
}

/*
 * EICAR as quoted-printable, split over soft line breaks.  libclamav's
 * mail parser decodes QP, so the raw message is detected; the sanitiser
 * also scans each decoded part, covered by the second half.
 */
static void
test_eicar_quoted_printable(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf m, dec, qp;

	(void)state;
	mail_with_part(&m, "application/octet-stream", "quoted-printable",
	    eicar, strlen(eicar));
	assert_hidden(&m, eicar);
	assert_infected(sc, &m, EICAR_SIG);

	mugai_buf_init(&qp, 0);
	mugai_buf_init(&dec, 0);
	qp_put(&qp, eicar);
	assert_non_null(strstr(qp.data, "=\n"));
	qp_decode(qp.data, &dec);
	assert_infected(sc, &dec, EICAR_SIG);
	mugai_buf_free(&qp);
	mugai_buf_free(&dec);
	mugai_buf_free(&m);
	mugai_scanner_free(sc);
}

/*
 * A sanitised copy is scanned with every parser (without the image hash
 * when clamav_copy_image_hash is off): a payload in plain bytes and one
 * inside a zip are found.  Every scan is counted in the statistics.
 */
static void
test_scan_copy(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_scan_stats st0, st1;
	struct mugai_scan_verdict v;
	struct mugai_buf z;

	(void)state;
	mugai_scanner_stats(sc, &st0);
	zip_one("eicar.com", eicar, strlen(eicar), 0, &z);
	assert_hidden(&z, eicar);
	assert_int_equal(mugai_scanner_scan_copy(sc, z.data, z.len, "copy",
	    &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	assert_true(strncmp(v.name, EICAR_SIG, strlen(EICAR_SIG)) == 0);
	assert_int_equal(mugai_scanner_scan_copy(sc, eicar, strlen(eicar),
	    "copy", &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	assert_infected(sc, &z, EICAR_SIG);
	mugai_scanner_stats(sc, &st1);
	assert_int_equal(st1.scans - st0.scans, 3);
	assert_true(st1.cpu_ns > st0.cpu_ns);
	mugai_scanner_free(sc);

	/* Without the image hash, every other parser still runs. */
	sc = scanner_make(testdb(), "clamav_copy_image_hash=no", NULL);
	assert_int_equal(mugai_scanner_scan_copy(sc, z.data, z.len, "copy",
	    &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	mugai_buf_free(&z);
	mugai_scanner_free(sc);
}

static void
test_clean_data(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf b, m, z;
	struct mugai_scan_verdict v;
	const char *text =
	    "会議の資料をお送りします。\nPlease find the minutes attached.\n";
	const char *html = "<html><body><p>Hello <b>world</b> &amp; "
	    "<a href=\"https://example.jp/\">link</a></p></body></html>\n";

	(void)state;
	b = buf_of(text, strlen(text));
	assert_clean(sc, &b);
	mugai_buf_free(&b);
	b = buf_of(html, strlen(html));
	assert_clean(sc, &b);
	mugai_buf_free(&b);
	mail_with_part(&m, "text/html", "base64", html, strlen(html));
	assert_clean(sc, &m);
	mugai_buf_free(&m);
	zip_one("minutes.txt", text, strlen(text), 0, &z);
	assert_clean(sc, &z);
	mugai_buf_free(&z);
	/* Nothing to scan is clean, not an error. */
	assert_int_equal(mugai_scanner_scan(sc, "", 0, "empty", &v), MUGAI_OK);
	assert_int_equal(v.outcome, MUGAI_SCAN_CLEAN);
	mugai_scanner_free(sc);
}

/* ---- unscanned: encrypted, limits --------------------------------------- */

static void
test_encrypted_zip_unscanned(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_scan_verdict v;
	struct mugai_buf z, m;

	(void)state;
	zip_one("secret.docx", "confidential text", 17, 1, &z);
	v = scan(sc, z.data, z.len);
	assert_int_equal(v.outcome, MUGAI_SCAN_UNSCANNED);
	assert_string_equal(v.name, "Heuristics.Encrypted.Zip");

	/* PPAP: the same zip attached to a mail. */
	mail_with_part(&m, "application/zip", "base64", z.data, z.len);
	v = scan(sc, m.data, m.len);
	assert_int_equal(v.outcome, MUGAI_SCAN_UNSCANNED);
	assert_string_equal(v.name, "Heuristics.Encrypted.Zip");
	mugai_buf_free(&m);
	mugai_buf_free(&z);
	mugai_scanner_free(sc);
}

/* An encrypted member must not hide a virus next to it. */
static void
test_encrypted_zip_with_virus_infected(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct mugai_buf out;
	struct zip z;

	(void)state;
	zip_init(&z);
	zip_add(&z, "secret.docx", "confidential text", 17, 1);
	zip_add(&z, "eicar.com", eicar, strlen(eicar), 0);
	zip_finish(&z, &out);
	assert_infected(sc, &out, EICAR_SIG);
	mugai_buf_free(&out);
	mugai_scanner_free(sc);
}

static void
test_limits_unscanned(void **state)
{
	struct mugai_scanner *sc;
	struct mugai_scan_verdict v;
	struct mugai_buf a, b, c;
	char big[4096];

	(void)state;
	/* Bigger than clamav_max_filesize: never silently clean. */
	sc = scanner_make(testdb(), "clamav_max_filesize=1K", NULL);
	memset(big, 'a', sizeof(big));
	v = scan(sc, big, sizeof(big));
	assert_int_equal(v.outcome, MUGAI_SCAN_UNSCANNED);
	assert_string_equal(v.name, "Heuristics.Limits.Exceeded.MaxFileSize");
	v = scan(sc, big, 1000);
	assert_int_equal(v.outcome, MUGAI_SCAN_CLEAN);
	mugai_scanner_free(sc);
	/* ... even with heuristics off, where libclamav would skip it. */
	sc = scanner_make(testdb(), "clamav_max_filesize=1K",
	    "clamav_scan_options=archive,mail");
	v = scan(sc, big, sizeof(big));
	assert_int_equal(v.outcome, MUGAI_SCAN_UNSCANNED);
	assert_string_equal(v.name, "Heuristics.Limits.Exceeded.MaxFileSize");
	mugai_scanner_free(sc);

	/* EICAR three archives deep, with recursion limited to two. */
	zip_one("eicar.com", eicar, strlen(eicar), 0, &a);
	zip_one("a.zip", a.data, a.len, 0, &b);
	zip_one("b.zip", b.data, b.len, 0, &c);
	sc = scanner_make(testdb(), "clamav_max_recursion=2", NULL);
	v = scan(sc, c.data, c.len);
	assert_int_equal(v.outcome, MUGAI_SCAN_UNSCANNED);
	assert_string_equal(v.name, "Heuristics.Limits.Exceeded.MaxRecursion");
	mugai_scanner_free(sc);
	sc = scanner_make(testdb(), "clamav_max_recursion=2",
	    "clamav_scan_options=archive");
	/* Limits are reported with heuristics off too: never fail open. */
	v = scan(sc, c.data, c.len);
	assert_int_equal(v.outcome, MUGAI_SCAN_UNSCANNED);
	assert_string_equal(v.name, "Heuristics.Limits.Exceeded.MaxRecursion");
	mugai_scanner_free(sc);
	sc = scanner_make(testdb(), NULL, NULL);
	assert_infected(sc, &c, EICAR_SIG);
	mugai_scanner_free(sc);
	mugai_buf_free(&a);
	mugai_buf_free(&b);
	mugai_buf_free(&c);
}

/* clamav_scan_options switches libclamav's parsers on and off. */
static void
test_scan_options(void **state)
{
	struct mugai_buf zip, mail, enc;
	struct mugai_scan_verdict v;
	static const struct {
		const char *options;
		int zip_found, mail_found, enc_unscanned;
	} cases[] = {
		{ "clamav_scan_options=archive,mail,heuristics", 1, 1, 1 },
		{ "clamav_scan_options=archive", 1, 0, 0 },
		{ "clamav_scan_options=mail", 0, 1, 0 },
		{ "clamav_scan_options=archive,heuristics", 1, 0, 1 },
	};
	struct mugai_scanner *sc;
	size_t i;

	(void)state;
	zip_one("eicar.com", eicar, strlen(eicar), 0, &zip);
	mail_with_part(&mail, "application/octet-stream", "base64", eicar,
	    strlen(eicar));
	zip_one("secret.docx", "confidential text", 17, 1, &enc);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sc = scanner_make(testdb(), cases[i].options, NULL);
		v = scan(sc, zip.data, zip.len);
		assert_int_equal(v.outcome, cases[i].zip_found ?
		    MUGAI_SCAN_INFECTED : MUGAI_SCAN_CLEAN);
		v = scan(sc, mail.data, mail.len);
		assert_int_equal(v.outcome, cases[i].mail_found ?
		    MUGAI_SCAN_INFECTED : MUGAI_SCAN_CLEAN);
		v = scan(sc, enc.data, enc.len);
		assert_int_equal(v.outcome, cases[i].enc_unscanned ?
		    MUGAI_SCAN_UNSCANNED : MUGAI_SCAN_CLEAN);
		mugai_scanner_free(sc);
	}
	mugai_buf_free(&zip);
	mugai_buf_free(&mail);
	mugai_buf_free(&enc);
}

/* ---- database errors ------------------------------------------------------ */

static char last_err[512];

static void
assert_new_fails(const char *dir)
{
	struct mugai_config *cfg = cfg_make(dir, NULL, NULL);
	struct mugai_scanner *sc = (struct mugai_scanner *)&sc;
	char *err = last_err;

	assert_int_equal(mugai_scanner_new(cfg, &sc, err, sizeof(last_err)),
	    MUGAI_ERR_CONFIG);
	assert_null(sc);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "has no signatures"));
	assert_non_null(strstr(err, "run freshclam"));
	mugai_config_unref(cfg);
}

static void
test_missing_and_empty_dir(void **state)
{
	char *dir = strdup("/tmp/mugai-scan-empty-XXXXXX");
	char missing[128], want[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(missing, sizeof(missing), "%s/no-such-dir", dir);
	assert_new_fails(missing);
	assert_new_fails(dir);
	snprintf(want, sizeof(want), "ClamAV database directory %s has no "
	    "signatures; run freshclam (or set clamav_database_dir)", dir);
	assert_string_equal(last_err, want);
	/* Files of other kinds are not signatures either. */
	file_write(dir, "freshclam.dat", "not a database\n");
	assert_new_fails(dir);
	db_remove(dir);
}

static void
test_broken_reload_keeps_engine(void **state)
{
	char *dir = db_copy();
	struct mugai_scanner *sc = scanner_make(dir, NULL, NULL);
	struct mugai_buf b = buf_of(eicar, strlen(eicar));
	char err[512], path[1024];

	(void)state;
	assert_infected(sc, &b, EICAR_SIG);
	file_write(dir, "broken.ndb", "this is not a signature\n");
	err[0] = 0;
	assert_int_equal(mugai_scanner_reload(sc, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_non_null(strstr(err, dir));
	assert_int_equal(mugai_scanner_generation(sc), 1);
	assert_infected(sc, &b, EICAR_SIG);

	/* Fixed database: the next reload works. */
	snprintf(path, sizeof(path), "%s/broken.ndb", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mugai_scanner_reload(sc, err, sizeof(err)), MUGAI_OK);
	assert_int_equal(mugai_scanner_generation(sc), 2);
	assert_infected(sc, &b, EICAR_SIG);
	mugai_buf_free(&b);
	mugai_scanner_free(sc);
	db_remove(dir);
}

/* ---- reload under load ------------------------------------------------- */

struct worker {
	pthread_t tid;
	struct mugai_scanner *sc;
	atomic_int *done;
	const struct mugai_buf *bad, *good;
	unsigned long scans, wrong, errors;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct mugai_scan_verdict v;

	do {
		if (mugai_scanner_scan(w->sc, w->bad->data, w->bad->len,
		    "bad", &v) != MUGAI_OK)
			w->errors++;
		else if (v.outcome != MUGAI_SCAN_INFECTED ||
		    strncmp(v.name, EICAR_SIG, strlen(EICAR_SIG)) != 0)
			w->wrong++;
		if (mugai_scanner_scan(w->sc, w->good->data, w->good->len,
		    "good", &v) != MUGAI_OK)
			w->errors++;
		else if (v.outcome != MUGAI_SCAN_CLEAN)
			w->wrong++;
		w->scans += 2;
	} while (!atomic_load(w->done));
	return NULL;
}

static void
test_reload_under_load(void **state)
{
	struct mugai_scanner *sc = scanner_make(testdb(), NULL, NULL);
	struct worker w[4];
	struct mugai_buf bad, good;
	atomic_int done = 0;
	char err[512];
	size_t i;
	int r;

	(void)state;
	zip_one("eicar.com", eicar, strlen(eicar), 0, &bad);
	zip_one("notes.txt", "just some notes\n", 16, 0, &good);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].sc = sc;
		w[i].done = &done;
		w[i].bad = &bad;
		w[i].good = &good;
		assert_int_equal(pthread_create(&w[i].tid, NULL, worker_main,
		    &w[i]), 0);
	}
	for (r = 0; r < 20; r++)
		assert_int_equal(mugai_scanner_reload(sc, err, sizeof(err)),
		    MUGAI_OK);
	atomic_store(&done, 1);
	for (i = 0; i < 4; i++) {
		pthread_join(w[i].tid, NULL);
		assert_true(w[i].scans > 0);
		assert_int_equal(w[i].wrong, 0);
		assert_int_equal(w[i].errors, 0);
	}
	assert_int_equal(mugai_scanner_generation(sc), 21);
	mugai_buf_free(&bad);
	mugai_buf_free(&good);
	mugai_scanner_free(sc);
}

/* ---- the watcher and reload requests ----------------------------------- */

/* Poll (bounded, ~10 s) until the scanner reaches generation gen. */
static int
wait_generation(struct mugai_scanner *sc, unsigned long gen)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (mugai_scanner_generation(sc) >= gen)
			return 1;
		sleep_ms(50);
	}
	return 0;
}

static void
test_watcher_picks_up_new_signatures(void **state)
{
	char *dir = db_copy();
	char line[512], marker[64];
	struct mugai_scanner *sc;
	struct mugai_scan_verdict v;

	(void)state;
	snprintf(marker, sizeof(marker), "MUGAI-WATCHER-MARKER-%ld",
	    (long)getpid());
	sc = scanner_make(dir, "clamav_check_interval=1", NULL);
	v = scan(sc, marker, strlen(marker));
	assert_int_equal(v.outcome, MUGAI_SCAN_CLEAN);

	ndb_line(line, sizeof(line), "Mugai.Test.Watcher", marker);
	file_write(dir, "watch.ndb", line);
	assert_true(wait_generation(sc, 2));
	v = scan(sc, marker, strlen(marker));
	assert_int_equal(v.outcome, MUGAI_SCAN_INFECTED);
	assert_string_equal(v.name, "Mugai.Test.Watcher.UNOFFICIAL");
	mugai_scanner_free(sc);
	db_remove(dir);
}

static void
test_request_reload(void **state)
{
	struct mugai_scanner *sc;

	(void)state;
	/* With a watcher: it reloads soon, long before its interval. */
	sc = scanner_make(testdb(), "clamav_check_interval=3600", NULL);
	mugai_scanner_request_reload(sc);
	assert_true(wait_generation(sc, 2));
	mugai_scanner_free(sc);

	/* Without one: the caller's thread reloads at once. */
	sc = scanner_make(testdb(), NULL, NULL);
	mugai_scanner_request_reload(sc);
	assert_int_equal(mugai_scanner_generation(sc), 2);
	mugai_scanner_free(sc);
	mugai_scanner_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eicar_plain),
		cmocka_unit_test(test_eicar_mime_base64),
		cmocka_unit_test(test_message_decode),
		cmocka_unit_test(test_tmp_dir),
		cmocka_unit_test(test_eicar_zip),
		cmocka_unit_test(test_eicar_zip_in_zip_in_mail),
		cmocka_unit_test(test_eicar_forwarded_rfc822),
		cmocka_unit_test(test_eicar_html_part),
		cmocka_unit_test(test_eicar_quoted_printable),
		cmocka_unit_test(test_scan_copy),
		cmocka_unit_test(test_clean_data),
		cmocka_unit_test(test_encrypted_zip_unscanned),
		cmocka_unit_test(test_encrypted_zip_with_virus_infected),
		cmocka_unit_test(test_limits_unscanned),
		cmocka_unit_test(test_scan_options),
		cmocka_unit_test(test_missing_and_empty_dir),
		cmocka_unit_test(test_broken_reload_keeps_engine),
		cmocka_unit_test(test_reload_under_load),
		cmocka_unit_test(test_watcher_picks_up_new_signatures),
		cmocka_unit_test(test_request_reload),
	};

	/* Assembled here, in two halves, so this source is not "infected". */
	snprintf(eicar, sizeof(eicar), "%s%s",
	    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR",
	    "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
	mugai_log_open("test_scan", getenv("MUGAI_TEST_VERBOSE") ?
	    MUGAI_LOG_STDERR : MUGAI_LOG_NONE, LOG_MAIL, LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
