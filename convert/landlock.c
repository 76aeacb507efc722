/*
 * landlock.c - the files a mode with SANDBOX_READ_FILES may read.
 *
 * seccomp can refuse writes but cannot look at path names, so without
 * this a subverted PDF renderer could read anything the milter's user
 * can (the quarantine of other people's mail, keys) and hide it in the
 * pixels it sends back.  Landlock limits reading to the font, fontconfig
 * and poppler data directories; everything else gets EACCES.  Kernels
 * without Landlock (before 5.13, or disabled) keep the seccomp rules
 * only, and say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/landlock.h>
#include <sys/syscall.h>

#include "convert.h"

static const char *const readable[] = {
	"/etc/fonts", "/usr/share/fonts", "/usr/local/share/fonts",
	"/usr/share/fontconfig", "/var/cache/fontconfig", "/usr/share/poppler",
};

/* Every file system right of ABI 1: all of them are handled (denied). */
#define FS_ALL_V1 (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)

static int
add_dir(int ruleset, const char *dir)
{
	struct landlock_path_beneath_attr pb;
	int fd, rc;

	if ((fd = open(dir, O_PATH | O_CLOEXEC | O_DIRECTORY)) < 0)
		return 0;		/* not on this system: nothing to read */
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return rc;
}

int
landlock_fonts_only(char *why, size_t whylen)
{
	struct landlock_ruleset_attr attr;
	size_t i;
	int ruleset;

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = FS_ALL_V1;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0);
	if (ruleset < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		fprintf(stderr, "landlock unavailable: any file is readable\n");
		return 0;
	}
	if (ruleset < 0) {
		snprintf(why, whylen, "landlock: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
		if (add_dir(ruleset, readable[i]) != 0) {
			snprintf(why, whylen, "landlock %s: %s", readable[i],
			    strerror(errno));
			close(ruleset);
			return -1;
		}
	}
	/* Needs no_new_privs, which the caller has set. */
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		snprintf(why, whylen, "landlock: %s", strerror(errno));
		close(ruleset);
		return -1;
	}
	close(ruleset);
	return 0;
}
