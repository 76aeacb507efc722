/*
 * edit.h - turn a DELIVER result of mugai_sanitize into milter edits.
 *
 * The MTA keeps the original headers; the sanitiser says which to drop
 * (remove[], every occurrence) and which to add (set[]), and gives the
 * new body.  Deletions go by the MTA's per-name index, counted on the
 * headers exactly as the MTA passed them (the spooled header block).
 */
#ifndef MUGAI_MILTER_EDIT_H
#define MUGAI_MILTER_EDIT_H

#include <stddef.h>
#include <libmilter/mfapi.h>
#include "mugai/sanitize/sanitize.h"

/*
 * edit_apply - delete, add, then replace the body (the MTA wants body
 * replacement last) in pieces of at most chunk bytes (at least 3).
 * raw[0..len) is the spooled message; leadspc says whether the MTA
 * expects header values to carry their leading space.  Returns 0, or
 * -1 with *what naming the step that failed.
 */
int edit_apply(SMFICTX *ctx, const struct mugai_result *r, const char *raw,
    size_t len, int leadspc, size_t chunk, const char **what);

/*
 * edit_count - how many headers in the header block of raw[0..len)
 * have exactly the name (compared without case), as the MTA counts.
 */
unsigned edit_count(const char *raw, size_t len, const char *name,
    size_t namelen);

#endif
