/*
 * testmodes.c - mugai-convert test-* modes (see testmodes.h).
 *
 * Each enters the strict sandbox exactly as a real mode does (needs 0),
 * then does one forbidden or runaway thing.  Exit 0 after a forbidden
 * call means the sandbox let it through: the tests expect SIGSYS, a
 * resource signal or the parent's kill instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "testmodes.h"

#define MEM_STEP	((size_t)16 << 20)
#define MEM_MAX		((size_t)64 << 30)

/* The forbidden thing happened: say so, and let the test see exit 0. */
static int
escaped(const char *mode)
{
	fprintf(stderr, "%s: the sandbox allowed it\n", mode);
	return MUGAI_CONVERT_EXIT_OK;
}

/* It failed with an error rather than killing us: not the sandbox. */
static int
refused(const char *mode)
{
	fprintf(stderr, "%s: %s\n", mode, strerror(errno));
	return 1;
}

/* stdin to stdout as it arrives: the parent must read while it writes. */
static int
test_ok(void)
{
	char buf[65536];
	ssize_t n, w, off;

	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return refused("test-ok: read");
		if (n == 0)
			return 0;
		for (off = 0; off < n; off += w) {
			w = write(1, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return refused("test-ok: write");
		}
	}
}

static int
test_open(void)
{
	int fd = open("/etc/passwd", O_RDONLY);

	if (fd < 0)
		return refused("test-open");
	close(fd);
	return escaped("test-open");
}

static int
test_write_file(void)
{
	static const char path[] = "/tmp/mugai-test-write-file";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return refused("test-write-file");
	close(fd);
	return escaped("test-write-file");
}

static int
test_connect(void)
{
	struct sockaddr_in sin;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return refused("test-connect: socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return refused("test-connect: connect");
	close(s);
	return escaped("test-connect");
}

/*
 * Touch memory until something stops us.  The pointer goes through a
 * volatile so the compiler cannot drop the allocation; a NULL from
 * malloc (RLIMIT_AS) ends in abort(), never in exit 0.
 */
static int
test_memory(void)
{
	void *volatile keep;
	size_t total;
	char *p;

	for (total = 0; total < MEM_MAX; total += MEM_STEP) {
		if ((p = malloc(MEM_STEP)) == NULL) {
			fprintf(stderr, "test-memory: out of memory after "
			    "%zu MB\n", total >> 20);
			abort();
		}
		memset(p, 0x55, MEM_STEP);
		keep = p;
		(void)keep;
	}
	fprintf(stderr, "test-memory: %zu MB and still going\n", total >> 20);
	abort();
}

static int
test_spin(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
	return 1;	/* NOTREACHED */
}

static int
test_sleep(void)
{
	for (;;)
		sleep(3600);
	return 1;	/* NOTREACHED */
}

static int
test_flood(void)
{
	char buf[65536];

	memset(buf, 'x', sizeof(buf));
	for (;;)
		if (write(1, buf, sizeof(buf)) < 0 && errno != EINTR)
			return refused("test-flood: write");
}

static int
test_exec(void)
{
	char *const argv[] = { (char *)"/bin/true", NULL };
	char *const envp[] = { NULL };

	execve(argv[0], argv, envp);
	return refused("test-exec: execve");
}

static int
test_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return refused("test-fork: fork");
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return escaped("test-fork");
}

/*
 * In the mode that may read files (pdf): a file outside the font
 * directories must stay closed (Landlock), a font configuration file
 * must open (the control: the rule is about the path).
 */
static int
test_read(const char *path, const char *mode)
{
	char buf[64];
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return refused(mode);
	if (read(fd, buf, sizeof(buf)) < 0)
		return refused(mode);
	close(fd);
	return escaped(mode);
}

static int
test_read_secret(void)
{
	return test_read("/etc/passwd", "test-read-secret");
}

static int
test_read_font(void)
{
	return test_read("/etc/fonts/fonts.conf", "test-read-font");
}

/* Any metadata of a path, in the strict sandbox. */
static int
test_stat(void)
{
	struct stat st;

	if (stat("/etc/passwd", &st) != 0)
		return refused("test-stat");
	return escaped("test-stat");
}

static int
test_statx(void)
{
	struct statx stx;

	if (statx(AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, &stx) != 0)
		return refused("test-statx");
	return escaped("test-statx");
}

/* The descriptor's own metadata stays allowed (the control). */
static int
test_fstat(void)
{
	struct stat st;

	if (syscall(SYS_fstat, 0, &st) != 0)
		return refused("test-fstat");
	return 0;
}

/*
 * In the mode that may read files: an O_PATH descriptor, which Landlock
 * does not check, to a file outside the font directories.
 */
static int
test_open_path(void)
{
	struct stat st;
	int fd = open("/etc/passwd", O_PATH);

	if (fd < 0)
		return refused("test-open-path");
	if (fstat(fd, &st) != 0)
		return refused("test-open-path: fstat");
	close(fd);
	return escaped("test-open-path");
}

/* Our parent, read before the sandbox (getppid is not on its list). */
static pid_t parent_pid;

/*
 * tgkill is allowed for our own pid only (abort): the filter's pid is
 * set per process (sandbox.c), so test-abort must end in SIGABRT and
 * test-tgkill-parent (signal 0 to the process that started us) in
 * SIGSYS.
 */
static int
test_abort(void)
{
	abort();
}

static int
test_tgkill_parent(void)
{
	if (syscall(SYS_tgkill, parent_pid, parent_pid, 0) != 0)
		return refused("test-tgkill-parent");
	return escaped("test-tgkill-parent");
}

/*
 * "PID PPID" on stdout: which process ran the document and who made
 * it (the zygote, or the process that spawned it), so the tests can
 * see that no two documents share a process.
 */
static int
test_pid(void)
{
	char line[64];
	int n;

	n = snprintf(line, sizeof(line), "%ld %ld\n", (long)getpid(),
	    (long)parent_pid);
	if (write(1, line, (size_t)n) != n)
		return refused("test-pid: write");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
	unsigned needs;
} tests[] = {
	{ "test-ok", test_ok, 0 },
	{ "test-open", test_open, 0 },
	{ "test-write-file", test_write_file, 0 },
	{ "test-connect", test_connect, 0 },
	{ "test-memory", test_memory, 0 },
	{ "test-spin", test_spin, 0 },
	{ "test-sleep", test_sleep, 0 },
	{ "test-flood", test_flood, 0 },
	{ "test-exec", test_exec, 0 },
	{ "test-fork", test_fork, 0 },
	{ "test-read-secret", test_read_secret, SANDBOX_READ_FILES },
	{ "test-read-font", test_read_font, SANDBOX_READ_FILES },
	{ "test-stat", test_stat, 0 },
	{ "test-statx", test_statx, 0 },
	{ "test-fstat", test_fstat, 0 },
	{ "test-open-path", test_open_path, SANDBOX_READ_FILES },
	{ "test-pid", test_pid, 0 },
	{ "test-abort", test_abort, 0 },
	{ "test-tgkill-parent", test_tgkill_parent, 0 },
};

int
convert_test_mode(const char *mode, const struct convert_opts *o)
{
	char why[256] = "";
	size_t i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strcmp(mode, tests[i].name) == 0)
			break;
	if (i == sizeof(tests) / sizeof(tests[0])) {
		fprintf(stderr, "unknown test mode %s\n", mode);
		return MUGAI_CONVERT_EXIT_USAGE;
	}
	parent_pid = getppid();
	if (sandbox_enter(o, tests[i].needs, why, sizeof(why)) != 0) {
		fprintf(stderr, "sandbox: %s\n", why);
		return MUGAI_CONVERT_EXIT_SANDBOX;
	}
	return tests[i].fn();
}
