/*
 * mugai/cdr/members.h - the member stream mugai-convert writes for an
 * archive (zip, 7z, rar, lzh, tar, gzip), and the zip the parent packs
 * the sanitised members into.
 *
 * Stream layout (integers little-endian):
 *   "MARC" count(u32)
 *   count times: name_len(u32) name(UTF-8, no NUL) flags(u32)
 *                size(u64) data[size]
 * flags: MUGAI_MEMBER_ENCRYPTED (no data), MUGAI_MEMBER_DIR (no data);
 * winmail.dat (convert/tnef.c) also uses MUGAI_MEMBER_BODY (the body as
 * UTF-8 text), MUGAI_MEMBER_HEADER ("Subject: ...\n" lines of an
 * embedded message, UTF-8) and MUGAI_MEMBER_MESSAGE (an embedded
 * message: its data is a whole stream of the same kind).  Readers of
 * archives refuse those three.
 * The worker has already enforced the member count, total size and
 * ratio caps and refused absolute paths and "..".
 */
#ifndef MUGAI_MEMBERS_H
#define MUGAI_MEMBERS_H

#include <stddef.h>
#include <stdint.h>
#include "mugai/base/buf.h"

#define MUGAI_MEMBER_ENCRYPTED	0x1u
#define MUGAI_MEMBER_DIR	0x2u
#define MUGAI_MEMBER_BODY	0x4u
#define MUGAI_MEMBER_HEADER	0x8u
#define MUGAI_MEMBER_MESSAGE	0x10u
#define MUGAI_MEMBER_TNEF	(MUGAI_MEMBER_BODY | MUGAI_MEMBER_HEADER | \
				 MUGAI_MEMBER_MESSAGE)

struct mugai_member {
	char	*name;			/* malloc'd, validated UTF-8 relative path */
	uint32_t flags;
	const uint8_t *data;		/* points into the parsed stream */
	size_t	 size;
};

/* Writer side (the worker). */
mugai_status mugai_members_begin(struct mugai_buf *out, uint32_t count);
mugai_status mugai_members_add(struct mugai_buf *out, const char *name,
    uint32_t flags, const void *data, size_t size);

/*
 * mugai_members_parse - validate a stream from a worker: magic, at most
 * max_members members, names valid UTF-8 without control characters,
 * not absolute, no "." or ".." component, sizes adding up to exactly
 * len, total at most max_total.  On success *members is a malloc'd array
 * of *n; free it with mugai_members_free.  MUGAI_ERR_PARSE otherwise.
 */
mugai_status mugai_members_parse(const void *buf, size_t len,
    size_t max_members, size_t max_total, struct mugai_member **members,
    size_t *n);
void mugai_members_free(struct mugai_member *members, size_t n);

/*
 * A zip written in memory by the parent: deflated members, UTF-8 names
 * (general purpose flag bit 11), no extra fields, no comments.
 */
struct mugai_zipw;
struct mugai_zipw *mugai_zipw_new(void);
mugai_status mugai_zipw_add(struct mugai_zipw *z, const char *name,
    const void *data, size_t size);
/* Finish the archive into out; the writer is freed either way. */
mugai_status mugai_zipw_finish(struct mugai_zipw *z, struct mugai_buf *out);
void mugai_zipw_free(struct mugai_zipw *z);

#endif
