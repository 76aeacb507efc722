/*
 * members.c - the member stream between mugai-convert and the parent,
 * and the zip the parent re-packs sanitised members into (see
 * mugai/cdr/members.h).
 *
 * The stream comes from a process that parsed a hostile archive, so the
 * parser trusts nothing in it: every length is checked against what is
 * left, every name against the same rules the writer applies.  The zip
 * writer is deliberately small (no zip64, no extra fields): what it
 * writes must open in every unzip a municipal desk may run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "mugai/text/charset.h"
#include "mugai/cdr/members.h"

#define MEMBERS_MAGIC		"MARC"
#define MEMBERS_FLAGS		(MUGAI_MEMBER_ENCRYPTED | MUGAI_MEMBER_DIR | \
				 MUGAI_MEMBER_TNEF)
/* The flags that stand for a name without data. */
#define MEMBERS_NODATA		(MUGAI_MEMBER_ENCRYPTED | MUGAI_MEMBER_DIR)
/* name_len, at least one name byte, flags, size. */
#define MEMBER_MIN		(4 + 1 + 4 + 8)

#define ZIP_LOCAL_SIG		0x04034b50u
#define ZIP_CENTRAL_SIG		0x02014b50u
#define ZIP_END_SIG		0x06054b50u
#define ZIP_VERSION		20	/* 2.0: deflate; made by MS-DOS */
#define ZIP_FLAG_UTF8		0x0800u	/* general purpose bit 11 */
#define ZIP_STORED		0
#define ZIP_DEFLATED		8
#define ZIP_MAX32		0xFFFFFFFFu	/* larger needs zip64 */
#define ZIP_MAX_ENTRIES		0xFFFFu

/* Little-endian integers, as both formats store them. */
static void
le16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
le32(unsigned char *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

static void
le64(unsigned char *p, uint64_t v)
{
	le32(p, v & 0xffffffffu);
	le32(p + 4, v >> 32);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Undo a half-written record: a buffer never keeps a torn one. */
static void
buf_truncate(struct mugai_buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/*
 * A C0 or C1 control character, or DEL, at p (UTF-8)?  They have no
 * business in a file name and would let a name forge lines in a log
 * or a notice.
 */
static int
is_control(const unsigned char *p, size_t left)
{
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	return p[0] == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] <= 0x9f;
}

/* One path component: not empty, not "." nor "..". */
static int
component_ok(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n == 1 && p[0] == '.')
		return 0;
	return !(n == 2 && p[0] == '.' && p[1] == '.');
}

/*
 * name_ok - a member name the parent may put in a zip: valid UTF-8,
 * relative ('/' separated, no leading '/', no drive letter, no
 * backslash, which Windows reads as a separator), no empty, "." or ".."
 * component, no control characters.  The worker normalises names to
 * this form; anything else in a stream means the worker was subverted.
 */
static int
name_ok(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i, start = 0;

	if (len == 0 || !mugai_utf8_valid(name, len))
		return 0;
	if (len >= 2 && name[1] == ':' &&
	    ((name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= 'a' && name[0] <= 'z')))
		return 0;
	for (i = 0; i < len; i++) {
		if (is_control(p + i, len - i) || p[i] == '\\')
			return 0;
		if (p[i] != '/')
			continue;
		if (!component_ok(name + start, i - start))
			return 0;
		start = i + 1;
	}
	return component_ok(name + start, len - start);
}

/*
 * mugai_members_begin - start a stream of count members in out.  The
 * worker may patch count later (bytes 4..7 after where it began).
 */
mugai_status
mugai_members_begin(struct mugai_buf *out, uint32_t count)
{
	unsigned char hdr[8];

	memcpy(hdr, MEMBERS_MAGIC, 4);
	le32(hdr + 4, count);
	return mugai_buf_append(out, hdr, sizeof(hdr));
}

/*
 * mugai_members_add - append one member.  MUGAI_ERR_USAGE for a name
 * the parser would refuse, unknown flags, or data on an encrypted or
 * directory member; MUGAI_ERR_LIMIT/NOMEM from out, which is then left
 * as it was.
 */
mugai_status
mugai_members_add(struct mugai_buf *out, const char *name, uint32_t flags,
    const void *data, size_t size)
{
	unsigned char hdr[8];
	size_t nlen, start = out->len;
	mugai_status rc;

	if (name == NULL || (data == NULL && size > 0))
		return MUGAI_ERR_USAGE;
	nlen = strlen(name);
	if (nlen > UINT32_MAX || !name_ok(name, nlen))
		return MUGAI_ERR_USAGE;
	if ((flags & ~MEMBERS_FLAGS) != 0 ||
	    ((flags & MEMBERS_NODATA) != 0 && size > 0))
		return MUGAI_ERR_USAGE;
	le32(hdr, (uint32_t)nlen);
	if ((rc = mugai_buf_append(out, hdr, 4)) != MUGAI_OK)
		goto fail;
	if ((rc = mugai_buf_append(out, name, nlen)) != MUGAI_OK)
		goto fail;
	le32(hdr, flags);
	if ((rc = mugai_buf_append(out, hdr, 4)) != MUGAI_OK)
		goto fail;
	le64(hdr, size);
	if ((rc = mugai_buf_append(out, hdr, 8)) != MUGAI_OK)
		goto fail;
	if ((rc = mugai_buf_append(out, data, size)) != MUGAI_OK)
		goto fail;
	return MUGAI_OK;
fail:
	buf_truncate(out, start);
	return rc;
}

void
mugai_members_free(struct mugai_member *members, size_t n)
{
	size_t i;

	if (members == NULL)
		return;
	for (i = 0; i < n; i++)
		free(members[i].name);
	free(members);
}

/* A cursor over the stream; every read checks what is left first. */
struct rd {
	const unsigned char *p;
	size_t	 left;
};

static const unsigned char *
rd_take(struct rd *r, uint64_t n)
{
	const unsigned char *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

/* Parse one member into m; -1 when it is malformed or breaks a rule. */
static int
parse_one(struct rd *r, size_t *total, size_t max_total,
    struct mugai_member *m)
{
	const unsigned char *p, *name;
	uint32_t nlen;
	uint64_t size;

	if ((p = rd_take(r, 4)) == NULL)
		return -1;
	nlen = get32(p);
	if ((name = rd_take(r, nlen)) == NULL ||
	    !name_ok((const char *)name, nlen))
		return -1;
	if ((p = rd_take(r, 12)) == NULL)
		return -1;
	m->flags = get32(p);
	size = get64(p + 4);
	if ((m->flags & ~MEMBERS_FLAGS) != 0 ||
	    ((m->flags & MEMBERS_NODATA) != 0 && size > 0))
		return -1;
	if (size > max_total - *total)
		return -1;
	if ((m->data = rd_take(r, size)) == NULL)
		return -1;
	m->size = (size_t)size;
	*total += m->size;
	if ((m->name = malloc((size_t)nlen + 1)) == NULL)
		return -1;
	memcpy(m->name, name, nlen);
	m->name[nlen] = '\0';
	return 0;
}

mugai_status
mugai_members_parse(const void *buf, size_t len, size_t max_members,
    size_t max_total, struct mugai_member **members, size_t *n)
{
	struct rd r = { buf, len };
	struct mugai_member *m;
	const unsigned char *p;
	uint32_t count, i;
	size_t total = 0;

	*members = NULL;
	*n = 0;
	if (buf == NULL || (p = rd_take(&r, 8)) == NULL ||
	    memcmp(p, MEMBERS_MAGIC, 4) != 0)
		return MUGAI_ERR_PARSE;
	count = get32(p + 4);
	/* Refuse before allocating: the count is the worker's word only. */
	if (count > max_members || count > r.left / MEMBER_MIN)
		return MUGAI_ERR_PARSE;
	if ((m = calloc(count ? count : 1, sizeof(*m))) == NULL)
		return MUGAI_ERR_NOMEM;
	for (i = 0; i < count; i++)
		if (parse_one(&r, &total, max_total, &m[i]) != 0)
			break;
	if (i < count || r.left != 0) {
		mugai_members_free(m, i);
		return MUGAI_ERR_PARSE;
	}
	*members = m;
	*n = count;
	return MUGAI_OK;
}

/* The zip writer. */

struct mugai_zipw {
	struct mugai_buf body;		/* local headers and data */
	struct mugai_buf cdir;		/* central directory */
	uint32_t count;
	uint16_t dos_time;
	uint16_t dos_date;
};

/*
 * Members carry the time of sanitising: the worker does not pass the
 * original times on, and "now" is the truth about the rebuilt file.
 */
static void
zipw_dos_now(struct mugai_zipw *z)
{
	struct tm tm;
	time_t now = time(NULL);

	z->dos_date = 1 << 5 | 1;		/* 1980-01-01, DOS's epoch */
	z->dos_time = 0;
	if (localtime_r(&now, &tm) == NULL || tm.tm_year < 80 ||
	    tm.tm_year > 80 + 127)
		return;
	z->dos_date = (uint16_t)((tm.tm_year - 80) << 9 |
	    (tm.tm_mon + 1) << 5 | tm.tm_mday);
	z->dos_time = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 |
	    tm.tm_sec / 2);
}

struct mugai_zipw *
mugai_zipw_new(void)
{
	struct mugai_zipw *z;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	mugai_buf_init(&z->body, 0);
	mugai_buf_init(&z->cdir, 0);
	zipw_dos_now(z);
	return z;
}

void
mugai_zipw_free(struct mugai_zipw *z)
{
	if (z == NULL)
		return;
	mugai_buf_free(&z->body);
	mugai_buf_free(&z->cdir);
	free(z);
}

/* Raw deflate (no zlib header: zip wants bare deflate) of data into c. */
static mugai_status
zipw_deflate(const void *data, size_t size, struct mugai_buf *c)
{
	unsigned char chunk[65536];
	z_stream zs;
	size_t left = size;
	mugai_status rc = MUGAI_OK;
	int zr, flush;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS,
	    8, Z_DEFAULT_STRATEGY) != Z_OK)
		return MUGAI_ERR_NOMEM;
	zs.next_in = (unsigned char *)(uintptr_t)data;
	do {
		/* avail_in is 32 bits wide: feed large members in slices. */
		if (zs.avail_in == 0 && left > 0) {
			zs.avail_in = left > 1u << 30 ? 1u << 30 : (uInt)left;
			left -= zs.avail_in;
		}
		flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = deflate(&zs, flush);
		if (zr == Z_STREAM_ERROR) {
			rc = MUGAI_ERR_INTERNAL;
			break;
		}
		rc = mugai_buf_append(c, chunk, sizeof(chunk) - zs.avail_out);
	} while (rc == MUGAI_OK && zr != Z_STREAM_END);
	deflateEnd(&zs);
	return rc;
}

/* The fields the local and central headers share, from "version needed". */
static void
zipw_common(const struct mugai_zipw *z, unsigned char *p, uint16_t method,
    uint32_t crc, size_t csize, size_t size, size_t nlen)
{
	le16(p, ZIP_VERSION);
	le16(p + 2, ZIP_FLAG_UTF8);
	le16(p + 4, method);
	le16(p + 6, z->dos_time);
	le16(p + 8, z->dos_date);
	le32(p + 10, crc);
	le32(p + 14, (uint32_t)csize);
	le32(p + 18, (uint32_t)size);
	le16(p + 22, (uint16_t)nlen);
	le16(p + 24, 0);			/* extra field length */
}

static mugai_status
zipw_put(struct mugai_zipw *z, const char *name, size_t nlen,
    uint16_t method, uint32_t crc, const void *cdata, size_t csize,
    size_t size)
{
	unsigned char lh[30], ch[46];
	size_t off = z->body.len;
	mugai_status rc;

	le32(lh, ZIP_LOCAL_SIG);
	zipw_common(z, lh + 4, method, crc, csize, size, nlen);
	le32(ch, ZIP_CENTRAL_SIG);
	le16(ch + 4, ZIP_VERSION);		/* version made by */
	zipw_common(z, ch + 6, method, crc, csize, size, nlen);
	memset(ch + 32, 0, 10);		/* comment, disk, attributes */
	le32(ch + 42, (uint32_t)off);
	if ((rc = mugai_buf_append(&z->body, lh, sizeof(lh))) != MUGAI_OK ||
	    (rc = mugai_buf_append(&z->body, name, nlen)) != MUGAI_OK ||
	    (rc = mugai_buf_append(&z->body, cdata, csize)) != MUGAI_OK ||
	    (rc = mugai_buf_append(&z->cdir, ch, sizeof(ch))) != MUGAI_OK ||
	    (rc = mugai_buf_append(&z->cdir, name, nlen)) != MUGAI_OK)
		return rc;
	/* The central directory's offset and size must fit 32 bits too. */
	if (z->body.len > ZIP_MAX32 || z->cdir.len > ZIP_MAX32 - z->body.len)
		return MUGAI_ERR_LIMIT;
	return MUGAI_OK;
}

/*
 * mugai_zipw_add - deflate one member into the zip (stored when deflate
 * does not make it smaller).  MUGAI_ERR_USAGE for a name members.h
 * would refuse; MUGAI_ERR_LIMIT past 65535 members or 4 GB, which would
 * need zip64.  On failure the zip is as it was before the call.
 */
mugai_status
mugai_zipw_add(struct mugai_zipw *z, const char *name, const void *data,
    size_t size)
{
	struct mugai_buf c;
	size_t nlen, body_len, cdir_len;
	uint32_t crc;
	mugai_status rc;

	if (z == NULL || name == NULL || (data == NULL && size > 0))
		return MUGAI_ERR_USAGE;
	nlen = strlen(name);
	if (nlen > 0xFFFF || !name_ok(name, nlen))
		return MUGAI_ERR_USAGE;
	if (z->count >= ZIP_MAX_ENTRIES || size >= ZIP_MAX32)
		return MUGAI_ERR_LIMIT;
	crc = (uint32_t)crc32_z(0, data, size);
	mugai_buf_init(&c, 0);
	if ((rc = zipw_deflate(data, size, &c)) != MUGAI_OK)
		goto out;
	body_len = z->body.len;
	cdir_len = z->cdir.len;
	if (c.len < size)
		rc = zipw_put(z, name, nlen, ZIP_DEFLATED, crc, c.data, c.len,
		    size);
	else
		rc = zipw_put(z, name, nlen, ZIP_STORED, crc, data, size, size);
	if (rc != MUGAI_OK) {
		buf_truncate(&z->body, body_len);
		buf_truncate(&z->cdir, cdir_len);
		goto out;
	}
	z->count++;
out:
	mugai_buf_free(&c);
	return rc;
}

mugai_status
mugai_zipw_finish(struct mugai_zipw *z, struct mugai_buf *out)
{
	unsigned char end[22];
	size_t start;
	mugai_status rc;

	if (z == NULL || out == NULL) {
		mugai_zipw_free(z);
		return MUGAI_ERR_USAGE;
	}
	start = out->len;
	le32(end, ZIP_END_SIG);
	le16(end + 4, 0);			/* this disk */
	le16(end + 6, 0);			/* disk of the directory */
	le16(end + 8, (uint16_t)z->count);
	le16(end + 10, (uint16_t)z->count);
	le32(end + 12, (uint32_t)z->cdir.len);
	le32(end + 16, (uint32_t)z->body.len);
	le16(end + 20, 0);			/* comment length */
	if ((rc = mugai_buf_append(out, z->body.data, z->body.len)) !=
	    MUGAI_OK ||
	    (rc = mugai_buf_append(out, z->cdir.data, z->cdir.len)) !=
	    MUGAI_OK ||
	    (rc = mugai_buf_append(out, end, sizeof(end))) != MUGAI_OK)
		buf_truncate(out, start);
	mugai_zipw_free(z);
	return rc;
}
