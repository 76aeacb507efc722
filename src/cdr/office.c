/*
 * office.c - legacy Office and RTF to PDF with LibreOffice in bubblewrap
 * (see mugai/cdr/office.h).
 *
 * One run: a private directory (mode 0700) holds in.EXT, a fresh
 * LibreOffice profile whose only settings disable macros, and out/.
 * bubblewrap binds that directory as /work, the only writable place,
 * and soffice writes /work/out/in.pdf.  Everything in the directory was
 * written by the sandbox and is treated as hostile: the PDF is opened
 * without following links, and the tree is removed without following
 * them either (a link to a directory of ours must not make us delete
 * it).
 *
 * No process outlives a run: mugai_worker_run kills bwrap's process
 * group on timeout; bwrap's init is PID 1 of the sandbox's PID
 * namespace, so its death takes every LibreOffice process with it, even
 * those --new-session moved out of the group; --die-with-parent covers
 * the death of the milter itself.  The kernel kills them one by one, so
 * after a kill the run waits until no process has the directory in its
 * mount table before removing it.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mugai/base/log.h"
#include "mugai/cdr/office.h"

#define OFFICE_ARGV_MAX		80
#define OFFICE_STDOUT_MAX	(64 * 1024)	/* soffice's own chatter */
#define OFFICE_TMPFS_SIZE	"268435456"	/* /tmp inside: 256 MiB of RAM */
#define OFFICE_WORK		"/work"		/* the directory, inside */
#define RMTREE_DEPTH		64
#define GONE_WAIT_MS		5000	/* for a killed sandbox to empty */
#define GONE_POLL_MS		20

/*
 * The one import filter allowed for each type.  Forcing it matters:
 * left to itself LibreOffice tries every filter it has, so bytes that
 * are not a Word file still load (as plain text, say), and a crafted
 * file could reach a rarely used and less robust filter.
 */
static const struct {
	const char *ext;
	const char *filter;
	const char *notmagic;		/* why bytes are refused */
	const char *magic;		/* what the file must start with */
	size_t	 magiclen;
} office_filters[] = {
#define OLE2 "not an OLE2 compound file", \
	"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8
	{ "doc", "MS Word 97", OLE2 },
	{ "xls", "MS Excel 97", OLE2 },
	{ "ppt", "MS PowerPoint 97", OLE2 },
	{ "rtf", "Rich Text Format", "not an RTF file", "{\\rtf", 5 },
#undef OLE2
};

/*
 * The fresh profile: macros off entirely, and the highest security
 * level should anything turn them back on.  Headless conversion does not
 * run document macros by default; this makes it a setting, not a habit.
 */
static const char office_registry[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<oor:items xmlns:oor=\"http://openoffice.org/2001/registry\""
    " xmlns:xs=\"http://www.w3.org/2001/XMLSchema\""
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
    "<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">"
    "<prop oor:name=\"DisableMacrosExecution\" oor:op=\"fuse\">"
    "<value>true</value></prop></item>\n"
    "<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">"
    "<prop oor:name=\"MacroSecurityLevel\" oor:op=\"fuse\">"
    "<value>3</value></prop></item>\n"
    "</oor:items>\n";

/* Top-level directories: symlinks into /usr on Debian, kept as they are. */
static const char *const office_roots[] = { "/bin", "/lib", "/lib64", "/sbin" };
#define NROOTS (sizeof(office_roots) / sizeof(office_roots[0]))

struct office_run {
	char	 dir[PATH_MAX];		/* the private directory, outside */
	char	 soffice[PATH_MAX];	/* libreoffice_path, links resolved */
	char	 tree[PATH_MAX];	/* its install tree, when not in /usr */
	char	 link[NROOTS][PATH_MAX]; /* targets of office_roots */
	char	 infilter[64];
	char	 input[32];		/* /work/in.EXT */
	const char *argv[OFFICE_ARGV_MAX];
	size_t	 argc;
	int	 overflow;		/* argv too small: a bug */
};

static int
office_type(const char *ext)
{
	size_t i;

	if (ext == NULL)
		return -1;
	for (i = 0; i < sizeof(office_filters) / sizeof(office_filters[0]); i++)
		if (strcmp(ext, office_filters[i].ext) == 0)
			return (int)i;
	return -1;
}

/*
 * The forced filter still takes what it is given: the RTF filter makes
 * a page of anything.  Bytes that cannot be the type are refused here,
 * as mugai-convert refuses them, without starting LibreOffice.
 */
static int
office_magic_ok(int t, const void *in, size_t len)
{
	return len >= office_filters[t].magiclen &&
	    memcmp(in, office_filters[t].magic, office_filters[t].magiclen) == 0;
}

/* mugai_office_available - see mugai/cdr/office.h. */
int
mugai_office_available(const struct mugai_config *cfg)
{
	const char *lo = cfg->libreoffice_path, *bw = cfg->bwrap_path;

	/* posix_spawn gets bwrap's path as it is: it must be absolute. */
	if (lo == NULL || bw == NULL || *lo != '/' || *bw != '/')
		return 0;
	return access(lo, X_OK) == 0 && access(bw, X_OK) == 0;
}

/*
 * Where soffice is.  Only /usr is visible in the sandbox, so an install
 * elsewhere (/opt/libreoffice7.6/program/soffice) brings its own tree.
 */
static mugai_status
office_locate(const struct mugai_config *cfg, struct office_run *r)
{
	char *slash;
	size_t i;

	if (realpath(cfg->libreoffice_path, r->soffice) == NULL)
		return MUGAI_ERR_CONFIG;
	if (strncmp(r->soffice, "/usr/", 5) != 0) {
		memcpy(r->tree, r->soffice, sizeof(r->tree));
		for (i = 0; i < 2; i++)
			if ((slash = strrchr(r->tree, '/')) != NULL)
				*slash = '\0';
		/* Never bind the whole file system. */
		if (r->tree[0] == '\0')
			return MUGAI_ERR_CONFIG;
	}
	return MUGAI_OK;
}

/* A private directory under spool_dir, else $TMPDIR, else /tmp. */
static mugai_status
office_mkdtemp(const struct mugai_config *cfg, struct office_run *r)
{
	const char *base = cfg->spool_dir;
	int n;

	if (base == NULL || *base != '/' || access(base, W_OK | X_OK) != 0) {
		base = secure_getenv("TMPDIR");
		if (base == NULL || *base != '/' ||
		    access(base, W_OK | X_OK) != 0)
			base = "/tmp";
	}
	n = snprintf(r->dir, sizeof(r->dir), "%s/office-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(r->dir))
		return MUGAI_ERR_IO;
	if (mkdtemp(r->dir) == NULL) {
		r->dir[0] = '\0';
		return MUGAI_ERR_IO;
	}
	return MUGAI_OK;
}

static int
write_file_at(int dfd, const char *name, const void *p, size_t n)
{
	const char *b = p;
	ssize_t w;
	int fd;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (n > 0) {
		w = write(fd, b, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return close(fd);
}

/* in.EXT, the profile with its settings, and out/ for the PDF. */
static mugai_status
office_populate(struct office_run *r, const void *in, size_t len,
    const char *ext)
{
	char name[16];
	int dfd, ok;

	snprintf(name, sizeof(name), "in.%s", ext);
	dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return MUGAI_ERR_IO;
	ok = write_file_at(dfd, name, in, len) == 0 &&
	    mkdirat(dfd, "profile", 0700) == 0 &&
	    mkdirat(dfd, "profile/user", 0700) == 0 &&
	    write_file_at(dfd, "profile/user/registrymodifications.xcu",
	    office_registry, sizeof(office_registry) - 1) == 0 &&
	    mkdirat(dfd, "out", 0700) == 0;
	close(dfd);
	return ok ? MUGAI_OK : MUGAI_ERR_IO;
}

static void
arg(struct office_run *r, const char *a)
{
	if (r->argc >= OFFICE_ARGV_MAX - 1) {
		r->overflow = 1;
		return;
	}
	r->argv[r->argc++] = a;
	r->argv[r->argc] = NULL;
}

static void
arg3(struct office_run *r, const char *opt, const char *a, const char *b)
{
	arg(r, opt);
	arg(r, a);
	arg(r, b);
}

/*
 * /bin, /lib, /lib64, /sbin: recreate the symlinks of a merged /usr,
 * bind real directories read-only, skip what does not exist.
 */
static void
office_roots_args(struct office_run *r)
{
	struct stat sb;
	ssize_t n;
	size_t i;

	for (i = 0; i < NROOTS; i++) {
		if (lstat(office_roots[i], &sb) == -1)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			arg3(r, "--ro-bind", office_roots[i], office_roots[i]);
			continue;
		}
		if (!S_ISLNK(sb.st_mode))
			continue;
		n = readlink(office_roots[i], r->link[i], sizeof(r->link[i]) - 1);
		if (n <= 0)
			continue;
		r->link[i][n] = '\0';
		arg3(r, "--symlink", r->link[i], office_roots[i]);
	}
}

static mugai_status
office_argv(const struct mugai_config *cfg, struct office_run *r, int t)
{
	const char *ext = office_filters[t].ext;

	r->argc = 0;
	r->overflow = 0;
	arg(r, cfg->bwrap_path);
	/*
	 * --unshare-all only tries a user namespace; asking for one makes
	 * --disable-userns possible (no nested namespaces for exploits) and
	 * fails closed where user namespaces are not allowed.
	 */
	arg(r, "--unshare-all");
	arg(r, "--unshare-user");
	arg(r, "--disable-userns");
	arg(r, "--die-with-parent");
	arg(r, "--new-session");		/* no TIOCSTI into our tty */
	arg(r, "--cap-drop");
	arg(r, "ALL");
	arg3(r, "--ro-bind", "/usr", "/usr");
	office_roots_args(r);
	if (r->tree[0] != '\0')
		arg3(r, "--ro-bind", r->tree, r->tree);
	/* All soffice needs from /etc: fonts, its registry, the ld cache. */
	arg3(r, "--ro-bind-try", "/etc/fonts", "/etc/fonts");
	arg3(r, "--ro-bind-try", "/etc/libreoffice", "/etc/libreoffice");
	arg3(r, "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache");
	/* Without the font cache fontconfig rescans every font each run. */
	arg3(r, "--ro-bind-try", "/var/cache/fontconfig",
	    "/var/cache/fontconfig");
	arg(r, "--proc");
	arg(r, "/proc");
	arg(r, "--dev");
	arg(r, "/dev");
	arg(r, "--size");
	arg(r, OFFICE_TMPFS_SIZE);
	arg(r, "--tmpfs");
	arg(r, "/tmp");
	arg3(r, "--bind", r->dir, OFFICE_WORK);
	arg(r, "--clearenv");
	arg3(r, "--setenv", "PATH", "/usr/bin:/bin");
	arg3(r, "--setenv", "LANG", "C.UTF-8");
	arg3(r, "--setenv", "HOME", OFFICE_WORK);
	arg(r, "--chdir");
	arg(r, OFFICE_WORK);
	arg(r, "--");
	arg(r, r->soffice);
	arg(r, "--headless");
	arg(r, "--norestore");
	arg(r, "--nologo");
	arg(r, "--nodefault");
	arg(r, "--nolockcheck");
	arg(r, "-env:UserInstallation=file://" OFFICE_WORK "/profile");
	snprintf(r->infilter, sizeof(r->infilter), "--infilter=%s",
	    office_filters[t].filter);
	arg(r, r->infilter);
	arg(r, "--convert-to");
	arg(r, "pdf");
	arg(r, "--outdir");
	arg(r, OFFICE_WORK "/out");
	snprintf(r->input, sizeof(r->input), OFFICE_WORK "/in.%s", ext);
	arg(r, r->input);
	return r->overflow ? MUGAI_ERR_INTERNAL : MUGAI_OK;
}

static void
office_fail(struct mugai_worker_status *st, const char *why, int err)
{
	if (err != 0)
		snprintf(st->message, sizeof(st->message), "%s: %s", why,
		    strerror(err));
	else
		snprintf(st->message, sizeof(st->message), "%s", why);
}

/* Told like the worker's own output cap: code is the cap. */
static void
office_too_big(const struct mugai_config *cfg, struct mugai_worker_status *st)
{
	st->end = MUGAI_WORKER_OUTPUT;
	st->code = cfg->convert_max_output > INT_MAX ? INT_MAX :
	    (int)cfg->convert_max_output;
	office_fail(st, "PDF larger than convert_max_output", 0);
}

/*
 * Read out/in.pdf into pdf.  A missing, odd or oversized file is a
 * failed conversion told through st; only running out of memory is an
 * error.  O_NOFOLLOW on both names: the sandbox could have left a link
 * to a file of ours there.  O_NONBLOCK: or a FIFO to hang us on.
 */
static mugai_status
office_read_pdf(const struct mugai_config *cfg, struct office_run *r,
    struct mugai_buf *pdf, struct mugai_worker_status *st)
{
	char chunk[16384];
	struct stat sb;
	mugai_status rc = MUGAI_OK;
	ssize_t n;
	int dfd, fd;

	dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1) {
		office_fail(st, "no PDF written", errno);
		return MUGAI_OK;
	}
	fd = openat(dfd, "out/in.pdf", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		office_fail(st, "no PDF written: LibreOffice could not load "
		    "the document", 0);
	else if (fd == -1)
		office_fail(st, "no PDF written", errno);
	close(dfd);
	if (fd == -1)
		return MUGAI_OK;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		office_fail(st, "no PDF written: not a regular file", 0);
		goto out;
	}
	if ((size_t)sb.st_size > cfg->convert_max_output) {
		office_too_big(cfg, st);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			office_fail(st, "cannot read the PDF", errno);
			goto fail;
		}
		if (n == 0)
			break;
		rc = MUGAI_ERR_LIMIT;
		if (pdf->len + (size_t)n <= cfg->convert_max_output)
			rc = mugai_buf_append(pdf, chunk, (size_t)n);
		if (rc == MUGAI_ERR_LIMIT) {
			office_too_big(cfg, st);
			rc = MUGAI_OK;
			goto fail;
		}
		if (rc != MUGAI_OK)
			goto fail;
	}
	if (pdf->len < 5 || memcmp(pdf->data, "%PDF-", 5) != 0) {
		office_fail(st, "output is not a PDF", 0);
		goto fail;
	}
	st->message[0] = '\0';
	goto out;
fail:
	mugai_buf_reset(pdf);
out:
	close(fd);
	return rc;
}

/*
 * Remove name under dfd and everything in it, never following a link.
 * The sandbox may have taken permissions away from its directories:
 * they get them back first.  Deeper than RMTREE_DEPTH is left alone.
 */
static int
rmtree_at(int dfd, const char *name, unsigned depth)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, rc, pass;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dfd, name, 0) == -1 && errno != ENOENT ? -1 : 0;
	if (depth >= RMTREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((sb.st_mode & S_IRWXU) != S_IRWXU &&
	    fchmodat(dfd, name, S_IRWXU, 0) == -1)
		return -1;
	/* A second pass in case readdir missed names while we unlinked. */
	for (pass = 0; pass < 2; pass++) {
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1)
			return -1;
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			return -1;
		}
		rc = 0;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (rmtree_at(dirfd(d), de->d_name, depth + 1) == -1)
				rc = -1;
		}
		closedir(d);
		if (rc == -1)
			return -1;
		if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != ENOTEMPTY)
			return -1;
	}
	return -1;
}

/* 1 if the mount table of process pid names dir (it runs in our sandbox). */
static int
mounts_dir(const char *pid, const char *dir)
{
	char path[64], line[PATH_MAX + 256];
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%s/mountinfo", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strstr(line, dir) != NULL;
	fclose(fp);
	return found;
}

static int
sandbox_processes(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    mounts_dir(de->d_name, dir))
			n++;
	closedir(d);
	return n;
}

/*
 * After a kill the sandbox's processes die as the kernel gets to them,
 * not at once; until they are gone one may still write in the
 * directory and keep it from being removed.  Wait for them, a while.
 */
static void
office_wait_gone(const struct office_run *r)
{
	struct timespec pause = { 0, GONE_POLL_MS * 1000000L };
	int waited, n = 0;

	for (waited = 0; waited < GONE_WAIT_MS; waited += GONE_POLL_MS) {
		if ((n = sandbox_processes(r->dir)) == 0)
			return;
		nanosleep(&pause, NULL);
	}
	mugai_log(LOG_WARNING, NULL, "office: %d sandboxed processes still "
	    "alive %d ms after the kill", n, GONE_WAIT_MS);
}

static void
office_cleanup(struct office_run *r)
{
	if (r->dir[0] == '\0')
		return;
	if (rmtree_at(AT_FDCWD, r->dir, 0) == -1)
		mugai_log(LOG_WARNING, NULL, "office: cannot remove %s: %s; "
		    "remove it by hand", r->dir, strerror(errno));
	r->dir[0] = '\0';
}

/* mugai_office_to_pdf - see mugai/cdr/office.h. */
mugai_status
mugai_office_to_pdf(const struct mugai_config *cfg, const void *in,
    size_t len, const char *ext, unsigned timeout_s, struct mugai_buf *pdf,
    struct mugai_worker_status *st, int *available)
{
	struct mugai_worker_limits lim;
	struct office_run *r = NULL;
	struct mugai_buf out;
	mugai_status rc;
	int t;

	*available = 0;
	memset(st, 0, sizeof(*st));
	st->end = MUGAI_WORKER_DONE;
	mugai_buf_reset(pdf);
	mugai_buf_init(&out, OFFICE_STDOUT_MAX);
	if ((t = office_type(ext)) < 0 || (in == NULL && len > 0))
		return MUGAI_ERR_USAGE;
	if (!mugai_office_available(cfg))
		return MUGAI_OK;
	*available = 1;
	if (!office_magic_ok(t, in, len)) {
		st->end = MUGAI_WORKER_EXIT;
		st->code = MUGAI_CONVERT_EXIT_BAD_INPUT;
		office_fail(st, office_filters[t].notmagic, 0);
		return MUGAI_OK;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MUGAI_ERR_NOMEM;
	if ((rc = office_locate(cfg, r)) != MUGAI_OK)
		goto out;
	if ((rc = office_mkdtemp(cfg, r)) != MUGAI_OK)
		goto out;
	if ((rc = office_populate(r, in, len, office_filters[t].ext)) !=
	    MUGAI_OK)
		goto out;
	if ((rc = office_argv(cfg, r, t)) != MUGAI_OK)
		goto out;
	lim.timeout_s = timeout_s == 0 || timeout_s > cfg->office_timeout ?
	    cfg->office_timeout : timeout_s;
	lim.output_max = OFFICE_STDOUT_MAX;
	lim.max_workers = mugai_worker_max(cfg);
	rc = mugai_worker_run(r->argv, "", 0, &lim, &out, st);
	if (rc == MUGAI_OK && st->end != MUGAI_WORKER_DONE)
		office_wait_gone(r);
	if (rc != MUGAI_OK || st->end != MUGAI_WORKER_DONE)
		goto out;
	rc = office_read_pdf(cfg, r, pdf, st);
out:
	office_cleanup(r);
	mugai_buf_free(&out);
	free(r);
	return rc;
}
