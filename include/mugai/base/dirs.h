/*
 * mugai/base/dirs.h - directories the daemons create, and why a path
 * could not be opened.
 *
 * Used by the quarantine (its store and index) and the audit log; kept
 * in base so both use one helper without depending on each other.
 */
#ifndef MUGAI_DIRS_H
#define MUGAI_DIRS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * mugai_mkdirs - "mkdir -p dir", each new directory mode 0700 and given
 * to uid:gid ((uid_t)-1, (gid_t)-1: keep); 0, or -1 with errno.
 */
int mugai_mkdirs(const char *dir, uid_t uid, gid_t gid);

/*
 * mugai_owner_hint - explain a permission error on path: buf gets
 * " (P is owned by USER:GROUP, mode 0NNN; run as USER ...)" for path or
 * its nearest existing parent P, or "" when nothing exists.
 */
void mugai_owner_hint(const char *path, char *buf, size_t len);

#endif
