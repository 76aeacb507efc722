/*
 * sandbox.c - what mugai-convert may do once it has the document:
 * resource limits, no new privileges, no network, and a seccomp
 * allow-list that kills the process on any other system call.
 *
 * The allow-list is what a parser of bytes in memory needs: read its
 * stdin, write its stdout and stderr, manage memory (never executable),
 * tell the time, and die.  No call that names a path: not even stat,
 * which would tell a subverted parser which files exist, their owners,
 * sizes and times (fstat on a descriptor stays: the legacy fstat call,
 * which takes no path).  Modes that render text (pdf) may also open
 * files read-only, for fonts and the fontconfig configuration, and
 * Landlock confines those reads to the font directories; Landlock does
 * not cover O_PATH opens, so the filter refuses O_PATH.  Those modes
 * keep stat on paths, which fontconfig and FreeType need and Landlock
 * does not confine (the one metadata leak left, in that mode only).  The
 * filter kills the whole process (SIGSYS), so a subverted parser ends
 * as a failed conversion and never gets a second try.
 *
 * Building the filter with libseccomp costs more than decoding a small
 * image, so sandbox_prepare (the zygote, before it forks) builds it
 * once per set of needs and keeps the BPF program; each child loads
 * that program.  Its one value that differs per process, the pid tgkill
 * may signal, is built as SELF_MARK and set to the caller's pid when the
 * program is loaded.  The zygote also enters the empty network
 * namespace once and sets TZ, so its children share that namespace
 * (nothing in it but a loopback that is down, and no child may make a
 * socket) instead of each paying for one.  A worker started for one
 * document does the same steps itself in sandbox_enter.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <seccomp.h>

#include "convert.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

#ifdef SANDBOX_ASAN
#include <sanitizer/lsan_interface.h>

/*
 * LeakSanitizer's check at exit needs ptrace and /proc, which the
 * filter forbids: it would turn every clean exit into SIGSYS.  Turn it
 * off once the sandbox is entered (LSan asks at check time), so that
 * code which never enters it (converter tests, fuzz targets) is still
 * checked.  The parent also passes detect_leaks=0 to the worker.
 */
static volatile int sandbox_entered;

int
__lsan_is_turned_off(void)
{
	return sandbox_entered;
}
#endif

/*
 * The pid tgkill may signal, as built: above PID_MAX_LIMIT (4 << 20),
 * so never a pid, and equal to no other constant of the filter.
 */
#define SELF_MARK	0x5eedf11eu

/* The filter as BPF, per needs (0 or SANDBOX_READ_FILES): built once. */
static struct sock_filter *prepared[2];
static unsigned short prepared_len[2];
static int net_done;			/* the namespace was entered */
static int zone_done;			/* TZ set and read */

/* Descriptors: 0-2, plus fonts and fontconfig files when reading. */
#define NOFILE_STRICT	16
#define NOFILE_FILES	64

/* Always allowed, whatever the arguments (unknown names are skipped). */
static const char *const calls_base[] = {
	"read", "readv", "pread64", "close", "lseek",
	"fstat",
	"munmap", "mremap", "brk", "madvise",
	"futex", "set_robust_list", "rseq", "sched_yield",
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
	"gettimeofday", "time", "getrusage", "getrandom",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"restart_syscall", "exit", "exit_group",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"uname", "sched_getaffinity",
	/* glibc's qsort asks for the memory size (libtiff sorts its tags). */
	"sysinfo",
};

/*
 * With SANDBOX_READ_FILES: looking at and reading files (see below).
 * glibc's stat, lstat and fstat are newfstatat (stat and lstat, the
 * system calls, are not used).
 */
static const char *const calls_files[] = {
	"getdents64", "readlink", "readlinkat", "access", "faccessat",
	"faccessat2", "newfstatat", "statx", "statfs", "fstatfs",
	"fadvise64", "getcwd",
};

static int
fail(char *why, size_t whylen, const char *what, int err)
{
	snprintf(why, whylen, "%s: %s", what, strerror(err));
	return -1;
}

/* Lower a limit; never try to raise the hard limit we were given. */
static int
limit(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) != 0)
		return -1;
	if (rl.rlim_max != RLIM_INFINITY && hard > rl.rlim_max)
		hard = rl.rlim_max;
	if (soft > hard)
		soft = hard;
	rl.rlim_cur = soft;
	rl.rlim_max = hard;
	return setrlimit(res, &rl);
}

/*
 * CPU: SIGXCPU at the soft limit, SIGKILL a second later in case the
 * signal is caught.  No files may be written (FSIZE 0; pipes are not
 * files), no processes made, no core dumped.
 */
static int
set_limits(const struct convert_opts *o, unsigned needs, char *why,
    size_t whylen)
{
	rlim_t nofile = needs & SANDBOX_READ_FILES ? NOFILE_FILES :
	    NOFILE_STRICT;

	if (o->memory == 0 || o->cpu_s == 0) {
		snprintf(why, whylen, "memory and cpu limits must be set");
		return -1;
	}
#ifndef SANDBOX_ASAN
	/* ASan reserves terabytes of address space for its shadow: under
	 * ASan the parent caps the RSS instead (hard_rss_limit_mb). */
	if (limit(RLIMIT_AS, o->memory, o->memory) != 0)
		return fail(why, whylen, "RLIMIT_AS", errno);
#endif
	if (limit(RLIMIT_CPU, o->cpu_s, (rlim_t)o->cpu_s + 1) != 0)
		return fail(why, whylen, "RLIMIT_CPU", errno);
	if (limit(RLIMIT_FSIZE, 0, 0) != 0)
		return fail(why, whylen, "RLIMIT_FSIZE", errno);
	if (limit(RLIMIT_NPROC, 0, 0) != 0)
		return fail(why, whylen, "RLIMIT_NPROC", errno);
	if (limit(RLIMIT_CORE, 0, 0) != 0)
		return fail(why, whylen, "RLIMIT_CORE", errno);
	if (limit(RLIMIT_NOFILE, nofile, nofile) != 0)
		return fail(why, whylen, "RLIMIT_NOFILE", errno);
	return 0;
}

/*
 * An empty network namespace, inside a user namespace so that it works
 * unprivileged.  Not fatal when the kernel or the container refuses
 * (user namespaces disabled, or a thread already running, as ASan's
 * RSS watcher is): the seccomp filter denies socket() regardless, the
 * namespace is a second wall.
 */
static void
net_unshare(void)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		return;
	(void)unshare(CLONE_NEWNET);
}

/* Argument n equal to v. */
static struct scmp_arg_cmp
arg_eq(unsigned n, scmp_datum_t v)
{
	struct scmp_arg_cmp c = { .arg = n, .op = SCMP_CMP_EQ, .datum_a = v };

	return c;
}

static int
allow(scmp_filter_ctx ctx, const char *name, unsigned n,
    const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;		/* not on this architecture */
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

static int
allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = allow(ctx, names[i], 0, NULL)) != 0)
			return rc;
	return 0;
}

/*
 * Calls allowed only with some arguments: writes to stdout and stderr
 * only, memory never executable (no shellcode from a heap overflow),
 * signals only to ourselves (abort), resource limits read, not set.
 */
static int
allow_args(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp fd1 = arg_eq(0, 1), fd2 = arg_eq(0, 2);
	const struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ,
	    PROT_EXEC, 0);
	const struct scmp_arg_cmp self = arg_eq(0, SELF_MARK);
	const struct scmp_arg_cmp rlim[2] = { arg_eq(0, 0), arg_eq(2, 0) };
	const struct scmp_arg_cmp tty = arg_eq(1, TCGETS);
	int rc;

	if ((rc = allow(ctx, "write", 1, &fd1)) != 0 ||
	    (rc = allow(ctx, "write", 1, &fd2)) != 0 ||
	    (rc = allow(ctx, "writev", 1, &fd1)) != 0 ||
	    (rc = allow(ctx, "writev", 1, &fd2)) != 0 ||
	    (rc = allow(ctx, "mmap", 1, &noexec)) != 0 ||
	    (rc = allow(ctx, "mprotect", 1, &noexec)) != 0 ||
	    (rc = allow(ctx, "tgkill", 1, &self)) != 0 ||
	    (rc = allow(ctx, "prlimit64", 2, rlim)) != 0 ||
	    (rc = allow(ctx, "ioctl", 1, &tty)) != 0)	/* isatty() */
		return rc;
	return 0;
}

/*
 * Read-only opens: no write access mode, no creating, truncating or
 * appending.  (O_TMPFILE needs a write mode, so it is refused too.)  No
 * O_PATH: Landlock does not check it, and a descriptor from it stats
 * any file.  fcntl only to read flags and set close-on-exec.
 */
static int
allow_files(scmp_filter_ctx ctx)
{
	const scmp_datum_t mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
	    O_PATH;
	const struct scmp_arg_cmp open_ro = SCMP_A1(SCMP_CMP_MASKED_EQ,
	    mask, O_RDONLY);
	const struct scmp_arg_cmp openat_ro = SCMP_A2(SCMP_CMP_MASKED_EQ,
	    mask, O_RDONLY);
	static const int fcntls[] = { F_GETFD, F_SETFD, F_GETFL };
	struct scmp_arg_cmp cmd;
	size_t i;
	int rc;

	if ((rc = allow_list(ctx, calls_files,
	    sizeof(calls_files) / sizeof(calls_files[0]))) != 0 ||
	    (rc = allow(ctx, "open", 1, &open_ro)) != 0 ||
	    (rc = allow(ctx, "openat", 1, &openat_ro)) != 0)
		return rc;
	for (i = 0; i < sizeof(fcntls) / sizeof(fcntls[0]); i++) {
		cmd = arg_eq(1, (scmp_datum_t)fcntls[i]);
		if ((rc = allow(ctx, "fcntl", 1, &cmd)) != 0)
			return rc;
	}
	return 0;
}

/* The rules of the filter for needs. */
static int
filter_rules(scmp_filter_ctx ctx, unsigned needs)
{
	int rc;

	if ((rc = allow_list(ctx, calls_base,
	    sizeof(calls_base) / sizeof(calls_base[0]))) != 0 ||
	    (rc = allow_args(ctx)) != 0)
		return rc;
	if (needs & SANDBOX_READ_FILES)
		return allow_files(ctx);
	return 0;
}

/* libseccomp's program for needs into a memfd, read back: 0 or -1. */
static int
filter_export(scmp_filter_ctx ctx, unsigned slot, char *why, size_t whylen)
{
	struct stat st;
	ssize_t n = -1;
	int fd, rc;

	memset(&st, 0, sizeof(st));
	if ((fd = memfd_create("mugai-seccomp", MFD_CLOEXEC)) < 0)
		return fail(why, whylen, "seccomp: memfd", errno);
	if ((rc = seccomp_export_bpf(ctx, fd)) != 0) {
		close(fd);
		return fail(why, whylen, "seccomp", -rc);
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    st.st_size % sizeof(struct sock_filter) == 0 &&
	    st.st_size / sizeof(struct sock_filter) <= BPF_MAXINSNS &&
	    (prepared[slot] = malloc((size_t)st.st_size)) != NULL)
		n = pread(fd, prepared[slot], (size_t)st.st_size, 0);
	close(fd);
	if (n != (ssize_t)st.st_size || n <= 0) {
		free(prepared[slot]);
		prepared[slot] = NULL;
		snprintf(why, whylen, "seccomp: cannot export the filter");
		return -1;
	}
	prepared_len[slot] = (unsigned short)(n / sizeof(struct sock_filter));
	return 0;
}

/* Build the program for needs once; 0 or -1 with why filled. */
static int
filter_prepare(unsigned needs, char *why, size_t whylen)
{
	unsigned slot = (needs & SANDBOX_READ_FILES) != 0;
	scmp_filter_ctx ctx;
	int rc;

	if (prepared[slot] != NULL)
		return 0;
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(why, whylen, "seccomp_init failed");
		return -1;
	}
	if ((rc = filter_rules(ctx, needs)) != 0) {
		seccomp_release(ctx);
		return fail(why, whylen, "seccomp", -rc);
	}
	rc = filter_export(ctx, slot, why, whylen);
	seccomp_release(ctx);
	return rc;
}

/*
 * Load the program for needs with our pid in place of SELF_MARK (in a
 * copy: the prepared one stays for the zygote's next child).  TSYNC
 * puts every thread under it, as libseccomp's load would.
 */
static int
filter_load(unsigned needs, char *why, size_t whylen)
{
	unsigned slot = (needs & SANDBOX_READ_FILES) != 0, i, marks = 0;
	struct sock_fprog prog;
	struct sock_filter *f;
	long rc;

	if (prepared[slot] == NULL) {
		snprintf(why, whylen, "seccomp: no filter");
		return -1;
	}
	if ((f = malloc(prepared_len[slot] * sizeof(*f))) == NULL)
		return fail(why, whylen, "seccomp", ENOMEM);
	memcpy(f, prepared[slot], prepared_len[slot] * sizeof(*f));
	for (i = 0; i < prepared_len[slot]; i++)
		if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		    f[i].k == SELF_MARK) {
			f[i].k = (uint32_t)getpid();
			marks++;
		}
	prog.len = prepared_len[slot];
	prog.filter = f;
	/* No mark: the program is not what was built; load nothing. */
	rc = marks == 0 ? -1 : syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	free(f);
	if (marks == 0) {
		snprintf(why, whylen, "seccomp: no pid in the filter");
		return -1;
	}
	if (rc != 0)
		return fail(why, whylen, "seccomp", rc < 0 ? errno : EAGAIN);
	return 0;
}

/*
 * TZ: glibc's localtime() stats /etc/localtime on every call (to see
 * whether it changed) unless TZ is set: set TZ to that same zone and
 * read it now, so the decoders' time conversions (zip and Office dates)
 * need no stat under the filter.
 */
static int
zone_set(char *why, size_t whylen)
{
	if (getenv("TZ") == NULL && setenv("TZ", ":/etc/localtime", 0) != 0)
		return fail(why, whylen, "TZ", errno);
	tzset();
	return 0;
}

/* sandbox_prepare - see convert.h. */
int
sandbox_prepare(char *why, size_t whylen)
{
	if (zone_set(why, whylen) != 0)
		return -1;
	zone_done = 1;
	if (filter_prepare(0, why, whylen) != 0 ||
	    filter_prepare(SANDBOX_READ_FILES, why, whylen) != 0)
		return -1;
	net_unshare();
	net_done = 1;
	return 0;
}

int
sandbox_enter(const struct convert_opts *o, unsigned needs, char *why,
    size_t whylen)
{
#ifdef SANDBOX_ASAN
	sandbox_entered = 1;
#endif
	/* Before the limits: the program is written to a memfd (FSIZE 0). */
	if (filter_prepare(needs, why, whylen) != 0)
		return -1;
	if (set_limits(o, needs, why, whylen) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(why, whylen, "no_new_privs", errno);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return fail(why, whylen, "dumpable", errno);
	if (!net_done)
		net_unshare();
	if (!zone_done && zone_set(why, whylen) != 0)
		return -1;
	if ((needs & SANDBOX_READ_FILES) && landlock_fonts_only(why,
	    whylen) != 0)
		return -1;
	return filter_load(needs, why, whylen);
}
