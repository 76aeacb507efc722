/*
 * office.c - legacy Office and RTF to Office Open XML or PDF with
 * LibreOffice in bubblewrap (see mugai/cdr/office.h).
 *
 * One run: a private directory (mode 0700) holds in/NAME.EXT and
 * in/profile/, the prepared profile; bubblewrap binds in/ read-only as
 * /in and mounts a size-limited tmpfs on /work, the only writable place.
 * A shell in the sandbox copies the profile and the document into
 * /work, runs soffice.bin, and writes the converted file to its stdout:
 * nothing the sandbox makes lands on our disk, so the directory only
 * ever holds what we wrote.  The seccomp program reaches bwrap on its
 * stdin (--seccomp 0), the rlimits come from prlimit(1) started first:
 * posix_spawn cannot set limits in the child, and setting them in the
 * threaded milter would limit every thread.
 *
 * No process outlives a run: mugai_worker_run kills the process group
 * on timeout; bwrap's init is PID 1 of the sandbox's PID namespace, so
 * its death takes every LibreOffice process with it, even those
 * --new-session moved out of the group; --die-with-parent covers the
 * death of the milter itself.  The kernel kills them one by one, so
 * after a kill the run waits until no process has the directory in its
 * mount table before removing it.
 *
 * The profile template (see mugai/cdr/office.h for why) is made by one run
 * without a document whose profile directory is bound writable, read
 * back regular files and directories only, within limits, and kept in
 * memory for the life of the process, per soffice path.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mugai/base/log.h"
#include "mugai/cdr/office.h"
#include <seccomp.h>

#define OFFICE_ARGV_MAX		96
#define OFFICE_TMP_SIZE		"268435456"	/* /tmp inside: 256 MiB of RAM */
#define OFFICE_IN		"/in"		/* read-only: document, profile */
#define OFFICE_WORK		"/work"		/* the tmpfs, inside */
#define OFFICE_NAME_MAX		100		/* bytes of the name, sans ext */
#define PRLIMIT_PATH		"/usr/bin/prlimit"
#define PREP_TIMEOUT		60		/* s, the profile's first start */
#define TMPL_FILES_MAX		256
#define TMPL_BYTES_MAX		((size_t)4 << 20)
#define TMPL_DEPTH		12
#define RMTREE_DEPTH		64
#define GONE_WAIT_MS		5000	/* for a killed sandbox to empty */
#define GONE_POLL_MS		20
#define EXIT_SETUP		90	/* the script's own codes */
#define EXIT_NO_FILE		91
#define EXIT_RESTART		81	/* soffice.bin: "restart me" */

/*
 * What each type may be and becomes.  No import filter is forced:
 * LibreOffice picks it from the bytes (Word 6/95 files load only that
 * way), and the signature check below keeps it to OLE2, RTF and zip.
 */
static const struct {
	const char *ext;
	const char *ooxml;		/* what it becomes */
	const char *notmagic;		/* why bytes are refused */
	const char *magic;		/* what the file must start with */
	size_t	 magiclen;
} office_types[] = {
#define OLE2 "not an OLE2 compound file", \
	"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8
	{ "doc", "docx", OLE2 },
	{ "xls", "xlsx", OLE2 },
	{ "ppt", "pptx", OLE2 },
	{ "rtf", "docx", "not an RTF file", "{\\rtf", 5 },
	{ "xlsb", "xlsx", "not a zip package", "PK\003\004", 4 },
#undef OLE2
};
#define NTYPES (sizeof(office_types) / sizeof(office_types[0]))

/*
 * The profile: macros off entirely, and the highest security level
 * should anything turn them back on.  Headless conversion does not run
 * document macros by default; this makes it a setting, not a habit.
 * ooSetupLastVersion far ahead: LibreOffice runs its graphics
 * self-tests when the version is newer than the profile's last one.
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
    "<item oor:path=\"/org.openoffice.Setup/Product\">"
    "<prop oor:name=\"ooSetupLastVersion\" oor:op=\"fuse\">"
    "<value>99.9</value></prop></item>\n"
    "</oor:items>\n";

/*
 * In the sandbox: $1 soffice, $2 the document's name, $3 the target
 * ("docx", "pdf"), $4 the file LibreOffice writes.  LibreOffice's own
 * chatter goes to /dev/null, its errors to stderr (the log line).
 */
static const char office_script[] =
    "exec </dev/null\n"
    "cp -R " OFFICE_IN "/profile " OFFICE_WORK "/profile &&"
    " mkdir " OFFICE_WORK "/out &&"
    " cp \"" OFFICE_IN "/$2\" \"" OFFICE_WORK "/$2\" || exit 90\n"
    "\"$1\" --headless --norestore --nologo --nodefault --nolockcheck"
    " -env:UserInstallation=file://" OFFICE_WORK "/profile"
    " --convert-to \"$3\" --outdir " OFFICE_WORK "/out"
    " \"" OFFICE_WORK "/$2\" >/dev/null\n"
    "rc=$?\n"
    "[ $rc -eq 0 ] || exit $rc\n"
    "[ -f \"" OFFICE_WORK "/out/$4\" ] || exit 91\n"
    "exec cat \"" OFFICE_WORK "/out/$4\"\n";

/* The profile's first start: again while LibreOffice asks for it. */
static const char office_prep_script[] =
    "exec </dev/null\n"
    "for i in 1 2 3; do\n"
    " \"$1\" --headless --norestore --nologo --nodefault --nolockcheck"
    " -env:UserInstallation=file://" OFFICE_WORK "/profile"
    " --terminate_after_init >/dev/null\n"
    " rc=$?\n"
    " [ $rc -eq 81 ] || exit $rc\n"
    "done\n"
    "exit 81\n";

/*
 * Tesseract in the same sandbox: $1 tesseract, $2 dpi, $3 languages;
 * the page is /in/page.pgm, the words (TSV) come out on stdout.  One
 * thread: OpenMP would start as many as there are cores for each page.
 */
static const char ocr_script[] =
    "exec </dev/null\n"
    "OMP_THREAD_LIMIT=1 exec \"$1\" " OFFICE_IN "/page.pgm stdout"
    " --dpi \"$2\" -l \"$3\" tsv\n";

/* Top-level directories: symlinks into /usr on Debian, kept as they are. */
static const char *const office_roots[] = { "/bin", "/lib", "/lib64", "/sbin" };
#define NROOTS (sizeof(office_roots) / sizeof(office_roots[0]))

struct office_run {
	char	 dir[PATH_MAX];		/* the private directory, outside */
	char	 in[PATH_MAX + 4];	/* dir/in, bound as /in */
	char	 prof[PATH_MAX + 12];	/* dir/profile (preparation only) */
	char	 soffice[PATH_MAX];	/* soffice.bin, links resolved */
	char	 tree[PATH_MAX];	/* its install tree, when not in /usr */
	char	 link[NROOTS][PATH_MAX]; /* targets of office_roots */
	char	 name[OFFICE_NAME_MAX + 8]; /* the document, inside */
	char	 outname[OFFICE_NAME_MAX + 8]; /* what LibreOffice writes */
	char	 lim[5][48];		/* prlimit options */
	char	 size[24];		/* --size of /work */
	const char *argv[OFFICE_ARGV_MAX];
	size_t	 argc;
	int	 overflow;		/* argv too small: a bug */
};

/* The prepared profile: relative paths, directories before their files. */
struct tmpl_entry {
	char	*path;
	unsigned char *data;		/* NULL for a directory */
	size_t	 len;
};

static struct {
	pthread_mutex_t lock;
	char	 soffice[PATH_MAX];	/* made with this soffice.bin */
	struct tmpl_entry *e;
	size_t	 n;
	int	 tried;			/* failed once: plain profiles */
} tmpl = { PTHREAD_MUTEX_INITIALIZER, "", NULL, 0, 0 };

/* The seccomp program, made once. */
static pthread_once_t bpf_once = PTHREAD_ONCE_INIT;
static unsigned char *bpf_prog;
static size_t bpf_len;

static int
office_type(const char *ext)
{
	size_t i;

	if (ext == NULL)
		return -1;
	for (i = 0; i < NTYPES; i++)
		if (strcmp(ext, office_types[i].ext) == 0)
			return (int)i;
	return -1;
}

/* mugai_office_out_ext - see mugai/cdr/office.h. */
const char *
mugai_office_out_ext(const char *ext, int pdf)
{
	int t = office_type(ext);

	if (t < 0)
		return NULL;
	return pdf ? "pdf" : office_types[t].ooxml;
}

/*
 * Bytes that cannot be the type are refused here, as mugai-convert
 * refuses them, without starting LibreOffice: without a forced filter
 * it would make a page of anything.
 */
static int
office_magic_ok(int t, const void *in, size_t len)
{
	return len >= office_types[t].magiclen &&
	    memcmp(in, office_types[t].magic, office_types[t].magiclen) == 0;
}

/* mugai_office_available - see mugai/cdr/office.h. */
int
mugai_office_available(const struct mugai_config *cfg)
{
	const char *lo = cfg->libreoffice_path, *bw = cfg->bwrap_path;

	/* posix_spawn gets the path as it is: it must be absolute. */
	if (lo == NULL || bw == NULL || *lo != '/' || *bw != '/')
		return 0;
	return access(lo, X_OK) == 0 && access(bw, X_OK) == 0 &&
	    access(PRLIMIT_PATH, X_OK) == 0;
}

/*
 * Where soffice.bin is.  /usr/bin/soffice leads to a shell script that
 * starts oosplash, which starts soffice.bin; the real program beside
 * the script is run directly.  Only /usr is visible in the sandbox, so
 * an install elsewhere (/opt/libreoffice7.6/program/soffice) brings its
 * own tree.
 */
static mugai_status
office_locate(const struct mugai_config *cfg, struct office_run *r)
{
	char bin[PATH_MAX + 8], *slash;
	size_t i;

	if (realpath(cfg->libreoffice_path, r->soffice) == NULL)
		return MUGAI_ERR_CONFIG;
	slash = strrchr(r->soffice, '/');
	if (slash != NULL && strcmp(slash, "/soffice") == 0) {
		snprintf(bin, sizeof(bin), "%s.bin", r->soffice);
		if (access(bin, X_OK) == 0 && strlen(bin) < sizeof(r->soffice))
			memcpy(r->soffice, bin, strlen(bin) + 1);
	}
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

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * The name LibreOffice sees: the last path segment of the sender's
 * name without its extension; letters, digits, " ._-" and well-formed
 * UTF-8 kept, anything else '_'; no leading '.' or '-' (an option, a
 * hidden file); cut at a character boundary; then ".EXT".  "document"
 * when nothing is left.
 */
static void
office_name(struct office_run *r, const char *name, const char *ext,
    const char *outext)
{
	const unsigned char *s, *end;
	const char *p;
	size_t n = 0, k;
	char *d = r->name;

	if (name == NULL)
		name = "";
	if ((p = strrchr(name, '/')) != NULL)
		name = p + 1;
	if ((p = strrchr(name, '\\')) != NULL)
		name = p + 1;
	s = (const unsigned char *)name;
	end = (p = strrchr(name, '.')) != NULL && p != name ?
	    (const unsigned char *)p : s + strlen(name);
	while (s < end && n < OFFICE_NAME_MAX) {
		if (*s >= 0x80) {
			k = utf8_seq(s, (size_t)(end - s));
			if (k > 0 && n + k <= OFFICE_NAME_MAX) {
				memcpy(d + n, s, k);
				n += k;
				s += k;
				continue;
			}
			if (k > 0)
				break;
			d[n++] = '_';
			s++;
			continue;
		}
		d[n] = (char)*s;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(" ._-", *s) != NULL) ||
		    (n == 0 && (*s == '.' || *s == '-')))
			d[n] = '_';
		n++;
		s++;
	}
	while (n > 0 && (d[n - 1] == ' ' || d[n - 1] == '.'))
		n--;
	if (n == 0) {
		strcpy(d, "document");
		n = strlen(d);
	}
	d[n] = '\0';
	snprintf(r->outname, sizeof(r->outname), "%s.%s", d, outext);
	snprintf(d + n, sizeof(r->name) - n, ".%s", ext);
}

/*
 * The seccomp deny-list for LibreOffice.  An allow-list like the
 * worker's is not practical for a program this size; what it never
 * needs and exploits use is refused: debugging other processes, the
 * kernel's module, key, BPF, perf and io_uring interfaces, mounts and
 * namespaces, time and the machine's state, and every socket family but
 * AF_UNIX (its own IPC).  32-bit and x32 calls kill the process.
 */
static const char *const bpf_denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"mount", "umount", "umount2", "pivot_root", "chroot", "move_mount",
	"open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
	"mount_setattr", "unshare", "setns", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "bpf", "keyctl",
	"add_key", "request_key", "userfaultfd", "perf_event_open",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"open_by_handle_at", "name_to_handle_at", "fanotify_init", "acct",
	"swapon", "swapoff", "reboot", "syslog", "quotactl", "quotactl_fd",
	"lookup_dcookie", "vhangup", "iopl", "ioperm", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "sethostname",
	"setdomainname", "personality", "uselib", "nfsservctl",
	"pidfd_getfd", "landlock_create_ruleset", "modify_ldt",
};

static void
bpf_make(void)
{
	struct scmp_arg_cmp not_unix;
	scmp_filter_ctx ctx;
	struct stat sb;
	size_t i;
	int fd = -1, nr, ok;

	memset(&not_unix, 0, sizeof(not_unix));
	not_unix.arg = 0;
	not_unix.op = SCMP_CMP_NE;
	not_unix.datum_a = AF_UNIX;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return;
	ok = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) == 0;
	for (i = 0; ok && i < sizeof(bpf_denied) / sizeof(bpf_denied[0]); i++)
		if ((nr = seccomp_syscall_resolve_name(bpf_denied[i])) !=
		    __NR_SCMP_ERROR)
			ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr,
			    0) == 0;
	ok = ok && seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socket), 1, &not_unix) == 0;
	ok = ok && seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socketpair), 1, &not_unix) == 0;
	ok = ok && (fd = memfd_create("mugai-office-bpf", MFD_CLOEXEC)) != -1;
	ok = ok && seccomp_export_bpf(ctx, fd) == 0 && fstat(fd, &sb) == 0 &&
	    sb.st_size > 0 && sb.st_size < 1 << 20 &&
	    (bpf_prog = malloc((size_t)sb.st_size)) != NULL;
	if (ok && pread(fd, bpf_prog, (size_t)sb.st_size, 0) == sb.st_size)
		bpf_len = (size_t)sb.st_size;
	if (fd != -1)
		close(fd);
	seccomp_release(ctx);
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
	snprintf(r->in, sizeof(r->in), "%s/in", r->dir);
	snprintf(r->prof, sizeof(r->prof), "%s/profile", r->dir);
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


static void
tmpl_free(struct tmpl_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].path);
		free(e[i].data);
	}
	free(e);
}

/* A regular file of at most max bytes, opened without following links. */
static unsigned char *
read_small_at(int dfd, const char *name, size_t max, size_t *lenp)
{
	unsigned char *p = NULL;
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > max ||
	    (p = malloc((size_t)sb.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)sb.st_size) {
		n = read(fd, p + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	close(fd);
	*lenp = got;
	return p;
fail:
	free(p);
	close(fd);
	return NULL;
}

struct tmpl_walk {
	struct tmpl_entry *e;
	size_t	 n;
	size_t	 bytes;
};

static int
tmpl_add(struct tmpl_walk *w, const char *path, unsigned char *data,
    size_t len)
{
	struct tmpl_entry *e;

	if (w->n >= TMPL_FILES_MAX || len > TMPL_BYTES_MAX - w->bytes ||
	    (e = realloc(w->e, (w->n + 1) * sizeof(*e))) == NULL) {
		free(data);
		return -1;
	}
	w->e = e;
	if ((e[w->n].path = strdup(path)) == NULL) {
		free(data);
		return -1;
	}
	e[w->n].data = data;
	e[w->n].len = len;
	w->n++;
	w->bytes += len;
	return 0;
}

/* The tree under dfd/rel into w; anything but files and folders skipped. */
static int
tmpl_read(struct tmpl_walk *w, int dfd, const char *rel, unsigned depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	unsigned char *data;
	size_t len;
	DIR *d;
	int fd, rc = 0;

	if (depth > TMPL_DEPTH)
		return -1;
	fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", rel,
		    de->d_name) >= sizeof(path))
			rc = -1;
		else if (S_ISDIR(sb.st_mode))
			rc = tmpl_add(w, path, NULL, 0) == 0 ?
			    tmpl_read(w, dfd, path, depth + 1) : -1;
		else if (S_ISREG(sb.st_mode))
			rc = (data = read_small_at(dirfd(d), de->d_name,
			    TMPL_BYTES_MAX, &len)) != NULL ?
			    tmpl_add(w, path, data, len) : -1;
	}
	closedir(d);
	return rc;
}

/* Write the template (or the plain profile) as dfd/profile. */
static int
profile_write(int dfd)
{
	size_t i;
	int ok = mkdirat(dfd, "profile", 0700) == 0;

	if (ok && tmpl.n == 0)
		return mkdirat(dfd, "profile/user", 0700) == 0 &&
		    write_file_at(dfd, "profile/user/registrymodifications.xcu",
		    office_registry, sizeof(office_registry) - 1) == 0 ? 0 : -1;
	for (i = 0; ok && i < tmpl.n; i++)
		ok = tmpl.e[i].data == NULL ?
		    mkdirat(dfd, tmpl.e[i].path, 0700) == 0 :
		    write_file_at(dfd, tmpl.e[i].path, tmpl.e[i].data,
		    tmpl.e[i].len) == 0;
	return ok ? 0 : -1;
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


/*
 * prlimit, then bwrap with everything but the command.  prep: the
 * profile directory is bound writable instead of /in read-only.
 */
static void
office_sandbox_args(const struct mugai_config *cfg, struct office_run *r,
    unsigned cpu_s, int prep)
{
	r->argc = 0;
	r->overflow = 0;
	snprintf(r->lim[0], sizeof(r->lim[0]), "--as=%zu", cfg->office_memory);
	snprintf(r->lim[1], sizeof(r->lim[1]), "--cpu=%u", cpu_s);
	snprintf(r->lim[2], sizeof(r->lim[2]), "--fsize=%zu",
	    cfg->office_tmpfs_size);
	snprintf(r->lim[3], sizeof(r->lim[3]), "--nproc=%u",
	    cfg->office_max_processes);
	snprintf(r->lim[4], sizeof(r->lim[4]), "--core=0");
	snprintf(r->size, sizeof(r->size), "%zu", cfg->office_tmpfs_size);
	arg(r, PRLIMIT_PATH);
	arg(r, r->lim[0]);
	arg(r, r->lim[1]);
	arg(r, r->lim[2]);
	arg(r, r->lim[3]);
	arg(r, r->lim[4]);
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
	arg(r, "--seccomp");			/* the program is on stdin */
	arg(r, "0");
	arg3(r, "--ro-bind", "/usr", "/usr");
	office_roots_args(r);
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
	arg(r, OFFICE_TMP_SIZE);
	arg(r, "--tmpfs");
	arg(r, "/tmp");
	/* After /tmp's tmpfs, which would hide a tree under /tmp. */
	if (r->tree[0] != '\0')
		arg3(r, "--ro-bind", r->tree, r->tree);
	arg(r, "--size");
	arg(r, r->size);
	arg(r, "--tmpfs");
	arg(r, OFFICE_WORK);
	if (prep)
		arg3(r, "--bind", r->prof, OFFICE_WORK "/profile");
	else
		arg3(r, "--ro-bind", r->in, OFFICE_IN);
	arg(r, "--clearenv");
	arg3(r, "--setenv", "PATH", "/usr/bin:/bin");
	arg3(r, "--setenv", "LANG", "C.UTF-8");
	arg3(r, "--setenv", "HOME", OFFICE_WORK);
	arg(r, "--chdir");
	arg(r, OFFICE_WORK);
	arg(r, "--");
	arg(r, "/bin/sh");
	arg(r, "-c");
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


/*
 * Make the profile template with soffice r->soffice, unless it was made
 * (or tried) already.  Called with tmpl.lock held.  A failure is logged
 * and leaves plain profiles: slower runs, not wrong ones.
 */
static void
tmpl_prepare(const struct mugai_config *cfg, const struct office_run *conv)
{
	struct mugai_worker_limits lim;
	struct mugai_worker_status st;
	struct office_run *r;
	struct tmpl_walk w = { NULL, 0, 0 };
	struct mugai_buf out;
	int dfd;

	if (strcmp(tmpl.soffice, conv->soffice) == 0 &&
	    (tmpl.n > 0 || tmpl.tried))
		return;
	tmpl_free(tmpl.e, tmpl.n);
	tmpl.e = NULL;
	tmpl.n = 0;
	tmpl.tried = 1;
	snprintf(tmpl.soffice, sizeof(tmpl.soffice), "%s", conv->soffice);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return;
	memcpy(r->soffice, conv->soffice, sizeof(r->soffice));
	memcpy(r->tree, conv->tree, sizeof(r->tree));
	mugai_buf_init(&out, 4096);
	if (office_mkdtemp(cfg, r) != MUGAI_OK)
		goto out;
	if ((dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto out;
	if (profile_write(dfd) != 0) {
		close(dfd);
		goto out;
	}
	office_sandbox_args(cfg, r, PREP_TIMEOUT, 1);
	arg(r, office_prep_script);
	arg(r, "sh");
	arg(r, r->soffice);
	lim.timeout_s = PREP_TIMEOUT;
	lim.output_max = 4096;
	lim.max_workers = mugai_worker_max(cfg);
	if (r->overflow || mugai_worker_run(r->argv, bpf_prog, bpf_len, &lim,
	    &out, &st) != MUGAI_OK || st.end != MUGAI_WORKER_DONE) {
		mugai_log(LOG_WARNING, NULL, "office: cannot prepare a "
		    "LibreOffice profile (%s); every run starts a new one",
		    st.message[0] ? st.message : "it did not finish");
		if (!r->overflow && st.end != MUGAI_WORKER_DONE)
			office_wait_gone(r);
		close(dfd);
		goto out;
	}
	if (tmpl_read(&w, dfd, "profile", 0) == 0) {
		tmpl.e = w.e;
		tmpl.n = w.n;
		w.e = NULL;
		w.n = 0;
	} else
		mugai_log(LOG_WARNING, NULL, "office: the prepared profile is "
		    "unreadable or over %zu bytes; every run starts a new one",
		    TMPL_BYTES_MAX);
	close(dfd);
out:
	tmpl_free(w.e, w.n);
	office_cleanup(r);
	mugai_buf_free(&out);
	free(r);
}

/* in/NAME.EXT and in/profile/, everything the sandbox may read. */
static mugai_status
office_populate(struct office_run *r, const void *in, size_t len)
{
	int dfd, ok;

	if (mkdir(r->in, 0700) != 0)
		return MUGAI_ERR_IO;
	dfd = open(r->in, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return MUGAI_ERR_IO;
	ok = write_file_at(dfd, r->name, in, len) == 0;
	pthread_mutex_lock(&tmpl.lock);
	ok = ok && profile_write(dfd) == 0;
	pthread_mutex_unlock(&tmpl.lock);
	close(dfd);
	return ok ? MUGAI_OK : MUGAI_ERR_IO;
}

/* What the sandbox's ending means; out is emptied unless it is a file. */
static void
office_judge(const struct mugai_config *cfg, int pdf, struct mugai_buf *out,
    struct mugai_worker_status *st)
{
	char said[sizeof(st->message)];

	snprintf(said, sizeof(said), "%s", st->message);
	if (st->end == MUGAI_WORKER_OUTPUT) {
		st->code = cfg->convert_max_output > INT_MAX ? INT_MAX :
		    (int)cfg->convert_max_output;
		office_fail(st, "file larger than convert_max_output", 0);
	} else if (st->end == MUGAI_WORKER_EXIT && st->code == EXIT_NO_FILE) {
		st->end = MUGAI_WORKER_DONE;
		snprintf(st->message, sizeof(st->message), "LibreOffice could "
		    "not load the document%s%.200s", said[0] ? ": " : "",
		    said);
	} else if (st->end == MUGAI_WORKER_EXIT && st->code == EXIT_SETUP) {
		snprintf(st->message, sizeof(st->message), "the sandbox could "
		    "not be set up%s%.200s", said[0] ? ": " : "", said);
	} else if (st->end == MUGAI_WORKER_EXIT && st->code == EXIT_RESTART) {
		office_fail(st, "LibreOffice asked to be restarted (its "
		    "profile was not prepared)", 0);
	} else if (st->end == MUGAI_WORKER_DONE) {
		if (pdf ? out->len < 5 || memcmp(out->data, "%PDF-", 5) != 0 :
		    out->len < 4 || memcmp(out->data, "PK\003\004", 4) != 0)
			office_fail(st, pdf ? "output is not a PDF" :
			    "output is not an Office Open XML zip", 0);
		else {
			st->message[0] = '\0';
			return;
		}
	}
	mugai_buf_reset(out);
}

/* mugai_office_convert - see mugai/cdr/office.h. */
mugai_status
mugai_office_convert(const struct mugai_config *cfg, const void *in,
    size_t len, const char *ext, const char *name, int pdf,
    unsigned timeout_s, struct mugai_buf *out,
    struct mugai_worker_status *st, int *available)
{
	struct mugai_worker_limits lim;
	struct office_run *r = NULL;
	mugai_status rc;
	int t;

	*available = 0;
	memset(st, 0, sizeof(*st));
	st->end = MUGAI_WORKER_DONE;
	mugai_buf_reset(out);
	if ((t = office_type(ext)) < 0 || (in == NULL && len > 0))
		return MUGAI_ERR_USAGE;
	if (!mugai_office_available(cfg))
		return MUGAI_OK;
	*available = 1;
	if (!office_magic_ok(t, in, len)) {
		st->end = MUGAI_WORKER_EXIT;
		st->code = MUGAI_CONVERT_EXIT_BAD_INPUT;
		office_fail(st, office_types[t].notmagic, 0);
		return MUGAI_OK;
	}
	pthread_once(&bpf_once, bpf_make);
	if (bpf_len == 0) {
		mugai_log(LOG_ERR, NULL, "office: cannot build the seccomp "
		    "filter for LibreOffice");
		return MUGAI_ERR_INTERNAL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MUGAI_ERR_NOMEM;
	if ((rc = office_locate(cfg, r)) != MUGAI_OK)
		goto out;
	pthread_mutex_lock(&tmpl.lock);
	tmpl_prepare(cfg, r);
	pthread_mutex_unlock(&tmpl.lock);
	office_name(r, name, office_types[t].ext,
	    pdf ? "pdf" : office_types[t].ooxml);
	if ((rc = office_mkdtemp(cfg, r)) != MUGAI_OK ||
	    (rc = office_populate(r, in, len)) != MUGAI_OK)
		goto out;
	lim.timeout_s = timeout_s == 0 || timeout_s > cfg->office_timeout ?
	    cfg->office_timeout : timeout_s;
	lim.output_max = cfg->convert_max_output;
	lim.max_workers = mugai_worker_max(cfg);
	office_sandbox_args(cfg, r, lim.timeout_s, 0);
	arg(r, office_script);
	arg(r, "sh");
	arg(r, r->soffice);
	arg(r, r->name);
	arg(r, pdf ? "pdf" : office_types[t].ooxml);
	arg(r, r->outname);
	if (r->overflow) {
		rc = MUGAI_ERR_INTERNAL;
		goto out;
	}
	rc = mugai_worker_run(r->argv, bpf_prog, bpf_len, &lim, out, st);
	if (rc == MUGAI_OK && st->end != MUGAI_WORKER_DONE &&
	    st->end != MUGAI_WORKER_EXIT)
		office_wait_gone(r);
	if (rc == MUGAI_OK)
		office_judge(cfg, pdf, out, st);
	else
		mugai_buf_reset(out);
out:
	office_cleanup(r);
	free(r);
	return rc;
}

/* mugai_office_to_pdf - see mugai/cdr/office.h. */
mugai_status
mugai_office_to_pdf(const struct mugai_config *cfg, const void *in,
    size_t len, const char *ext, unsigned timeout_s, struct mugai_buf *pdf,
    struct mugai_worker_status *st, int *available)
{
	return mugai_office_convert(cfg, in, len, ext, NULL, 1, timeout_s, pdf,
	    st, available);
}

/* mugai_office_ocr - see mugai/cdr/office.h. */
mugai_status
mugai_office_ocr(const struct mugai_config *cfg, const void *pgm, size_t len,
    unsigned dpi, unsigned timeout_s, struct mugai_buf *tsv,
    struct mugai_worker_status *st, int *available)
{
	struct mugai_worker_limits lim;
	struct office_run *r = NULL;
	const char *tess = cfg->pdf_ocr_tesseract, *l;
	char dpis[16];
	mugai_status rc;
	int dfd;

	*available = 0;
	memset(st, 0, sizeof(*st));
	st->end = MUGAI_WORKER_DONE;
	mugai_buf_reset(tsv);
	/* Languages go to a shell word: letters, digits, _ and + only. */
	for (l = cfg->pdf_ocr_languages; l != NULL && *l != '\0'; l++)
		if (!isalnum((unsigned char)*l) && *l != '_' && *l != '+')
			return MUGAI_ERR_USAGE;
	if (pgm == NULL || len == 0 || dpi == 0 || l == NULL ||
	    l == cfg->pdf_ocr_languages)
		return MUGAI_ERR_USAGE;
	if (cfg->bwrap_path == NULL || *cfg->bwrap_path != '/' ||
	    tess == NULL || *tess != '/' || access(tess, X_OK) != 0 ||
	    access(cfg->bwrap_path, X_OK) != 0 ||
	    access(PRLIMIT_PATH, X_OK) != 0)
		return MUGAI_OK;
	*available = 1;
	pthread_once(&bpf_once, bpf_make);
	if (bpf_len == 0) {
		mugai_log(LOG_ERR, NULL, "ocr: cannot build the seccomp "
		    "filter for Tesseract");
		return MUGAI_ERR_INTERNAL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MUGAI_ERR_NOMEM;
	if ((rc = office_mkdtemp(cfg, r)) != MUGAI_OK)
		goto out;
	rc = MUGAI_ERR_IO;
	if (mkdir(r->in, 0700) != 0 || (dfd = open(r->in, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto out;
	if (write_file_at(dfd, "page.pgm", pgm, len) != 0) {
		close(dfd);
		goto out;
	}
	close(dfd);
	lim.timeout_s = timeout_s == 0 || timeout_s > cfg->office_timeout ?
	    cfg->office_timeout : timeout_s;
	lim.output_max = cfg->pdf_text_max_bytes * 4 + 65536;
	lim.max_workers = mugai_worker_max(cfg);
	snprintf(dpis, sizeof(dpis), "%u", dpi);
	office_sandbox_args(cfg, r, lim.timeout_s, 0);
	arg(r, ocr_script);
	arg(r, "sh");
	arg(r, tess);
	arg(r, dpis);
	arg(r, cfg->pdf_ocr_languages);
	if (r->overflow) {
		rc = MUGAI_ERR_INTERNAL;
		goto out;
	}
	rc = mugai_worker_run(r->argv, bpf_prog, bpf_len, &lim, tsv, st);
	if (rc == MUGAI_OK && st->end != MUGAI_WORKER_DONE &&
	    st->end != MUGAI_WORKER_EXIT)
		office_wait_gone(r);
	if (rc != MUGAI_OK || st->end != MUGAI_WORKER_DONE)
		mugai_buf_reset(tsv);
out:
	office_cleanup(r);
	free(r);
	return rc;
}
