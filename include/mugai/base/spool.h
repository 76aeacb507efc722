/*
 * mugai/base/spool.h - hold one message while it arrives, then hand it over
 * as one contiguous buffer.
 *
 * Bytes are kept in memory up to a threshold; past it they move to a
 * private file (mode 0600, unlinked at once, so nothing is left behind
 * by a crash) which is mapped read-only when the message is complete.
 * A hard cap refuses a message that grows beyond it.  One spool per
 * message, used by one thread at a time.
 */
#ifndef MUGAI_SPOOL_H
#define MUGAI_SPOOL_H

#include <stddef.h>
#include "mugai/base/status.h"

struct mugai_spool;

/*
 * mugai_spool_dir_prepare - create dir (mode 0700) when missing, and
 * check that an existing one is a directory owned by this user that no
 * one else can read or write.  On failure err says what to do.
 */
mugai_status mugai_spool_dir_prepare(const char *dir, char *err, size_t errlen);

/*
 * mugai_spool_new - an empty spool.  Up to memory_max bytes stay in
 * memory (0: always a file in dir); max is the hard cap (0: none).
 * NULL when out of memory.
 */
struct mugai_spool *mugai_spool_new(const char *dir, size_t memory_max,
    size_t max);

/*
 * mugai_spool_append - add p[0..n).  MUGAI_ERR_LIMIT when the total
 * would pass max (the spool is left unchanged), MUGAI_ERR_IO when the
 * file cannot be made or written, MUGAI_ERR_USAGE after mugai_spool_map.
 */
mugai_status mugai_spool_append(struct mugai_spool *sp, const void *p,
    size_t n);

/*
 * mugai_spool_map - the whole content as one read-only buffer, valid
 * until mugai_spool_free.  No appends are accepted afterwards.
 */
mugai_status mugai_spool_map(struct mugai_spool *sp, const char **data,
    size_t *len);

/* mugai_spool_size - bytes held so far. */
size_t mugai_spool_size(const struct mugai_spool *sp);

/* mugai_spool_in_file - nonzero once the content has moved to a file. */
int mugai_spool_in_file(const struct mugai_spool *sp);

/* mugai_spool_free - release memory, mapping and file; NULL is safe. */
void mugai_spool_free(struct mugai_spool *sp);

#endif
