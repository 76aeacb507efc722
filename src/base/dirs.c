/* dirs.c - mkdir -p and the owner of a path (see mugai/base/dirs.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mugai/base/dirs.h"

/* mkdir(2) 0700 that gives a directory it creates to uid:gid. */
static int
mkdir_owned(const char *p, uid_t uid, gid_t gid)
{
	if (mkdir(p, 0700) == 0)
		return lchown(p, uid, gid);
	return errno == EEXIST ? 0 : -1;
}

int
mugai_mkdirs(const char *dir, uid_t uid, gid_t gid)
{
	char p[PATH_MAX], *s;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir_owned(p, uid, gid) == -1)
			return -1;
		*s = '/';
	}
	return mkdir_owned(p, uid, gid);
}

void
mugai_owner_hint(const char *path, char *buf, size_t len)
{
	char p[PATH_MAX], pwbuf[1024], grbuf[1024], *slash;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	struct stat st;
	const char *user, *group;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "%s", path);
	while (stat(p, &st) == -1) {
		if ((slash = strrchr(p, '/')) == NULL || p[1] == '\0')
			return;
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	getpwuid_r(st.st_uid, &pw, pwbuf, sizeof(pwbuf), &pwp);
	getgrgid_r(st.st_gid, &gr, grbuf, sizeof(grbuf), &grp);
	user = pwp != NULL ? pwp->pw_name : "?";
	group = grp != NULL ? grp->gr_name : "?";
	snprintf(buf, len, " (%s is owned by %s:%s, mode %04o; run as %s%s%s%s)",
	    p, user, group, (unsigned)(st.st_mode & 07777), user,
	    strcmp(user, "root") != 0 ? " or root" : "",
	    (st.st_mode & 0060) == 0060 ? ", or as a member of " : "",
	    (st.st_mode & 0060) == 0060 ? group : "");
}
