/*
 * zygote.c - mugai-convert zygote: linked and initialised once, it forks
 * one fresh child per document (see mugai/cdr/worker.h for the parent's
 * side).
 *
 * Starting mugai-convert costs more than most documents: the dynamic
 * linker maps and relocates poppler, cairo, libarchive, libzip, GLib and
 * the rest, and fontconfig reads its configuration.  The zygote pays
 * that once.  It never reads a document: each request makes a child
 * with fork(), and only the child sets up the sandbox (rlimits,
 * no_new_privs, namespaces, Landlock, seccomp) and reads its one
 * document, exactly as a freshly started mugai-convert does, then exits.
 * No process that has seen one document ever sees another.
 *
 * The zygote is single-threaded (fork in it is safe) and talks to its
 * parent on descriptor 3, a SOCK_SEQPACKET socket.  A request is one
 * message: the worker's arguments (mode and options, each ended by a
 * NUL) with four descriptors: the child's stdin, stdout and stderr, and
 * a stream socket of the request's own (the "status" socket).  On the
 * status socket the zygote writes the child's pid (int) once it runs,
 * and its wait status (int) once it has exited and been reaped; it reads
 * a byte there as "kill it", and a hang-up (the parent gave up) kills it
 * too.  The zygote kills the child's process group before reaping it,
 * so the parent never signals a pid that may have been reused.
 *
 * When the parent closes descriptor 3 (it exited), the zygote kills its
 * children and exits; children die with the zygote (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "convert.h"

#define ZYGOTE_CTL	3
#define ZYGOTE_KIDS	256		/* children at once */
#define ZYGOTE_ARGS	32		/* arguments in a request */
#define ZYGOTE_MSG	4096		/* bytes of arguments */

/*
 * What a child prefaults in one call a range rather than page by page
 * (see child_prefault): the stack below the zygote's loop, and the heap
 * when it is at most HEAP_PREFAULT_MAX.
 */
#define STACK_PREFAULT	((size_t)128 << 10)
#define HEAP_PREFAULT_MAX ((size_t)8 << 20)
#define TOP_PREFAULT	((size_t)128 << 10)
#define PLUG_MAX	((size_t)64 << 10)	/* largest hole heap_plug fills */

struct kid {
	pid_t	 pid;			/* 0: free */
	int	 fd;			/* its status socket; -1 once closed */
};

struct zygote {
	int	(*run)(int, char **);	/* the worker proper (main.c) */
	struct kid kids[ZYGOTE_KIDS];
	int	 sfd;			/* signalfd for SIGCHLD */
	sigset_t oldmask;		/* what children get back */
	pid_t	 self;
	char	*stack_lo;		/* the stack children prefault */
	size_t	 stack_len;		/* 0: none */
	char	*heap_lo;		/* the heap children prefault */
	size_t	 heap_len;		/* 0: none */
	char	*top_lo;		/* the heap's top an image child */
	size_t	 top_len;		/* prefaults; 0: none */
};

static void
fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A whole int on a stream socket; the parent may be gone (no SIGPIPE). */
static void
send_int(int fd, int v)
{
	if (fd >= 0)
		(void)send(fd, &v, sizeof(v), MSG_NOSIGNAL);
}

/*
 * Prefault what the child is about to write, in one madvise a range
 * instead of one page fault a page.  Under a virtualised kernel a fault
 * costs 15-30 us, a copy-on-write one more (it flushes the TLB), while
 * MADV_POPULATE_WRITE makes a new page ready for about 1 us and copies
 * a shared one for 4-12 us; a docx's worker took some 450 faults, 320
 * of them new pages in the holes malloc_trim left in the heap, where
 * its malloc finds memory first, and 45 copies of heap pages it wrote
 * into.  So the child makes the whole heap its own (a zygote's is about
 * 2 MB: half a millisecond), and the stack below the zygote's loop,
 * which the zygote emptied (stack_empty), so those are new pages, not
 * copies.  Not the heap for the image mode: its child writes some 40 of
 * the heap's 512 pages (its pixels are mappings of their own), so for a
 * 20 KB PNG the whole heap cost more than those faults (100 faults a
 * child against 570; 4.1 against 4.6 and 5.0 against 5.6 ms CPU, medians
 * of 450 children side by side); for a 1300x900 screenshot the two were
 * level within the noise.  An image child prefaults only the first
 * TOP_PREFAULT of the heap's top chunk, untouched pages where its
 * mallocs land since the zygote took every free chunk (heap_plug): a
 * 20 KB PNG's child wrote 40 heap pages at a fault each (about 20 of
 * them copies of pages scattered over the heap, where malloc's free
 * chunks were), now 6 (77 faults a child to 46, 3.2 to 2.9 ms CPU of
 * zygote and child, means of 10 x 300 children, alternating); a docx's
 * or a PDF's child is level.  Nothing here is needed for safety: a kernel
 * without MADV_POPULATE_WRITE (before 5.14) faults as before.
 */
static void
child_prefault(const struct zygote *z, const char *mode)
{
	if (z->stack_len > 0)
		(void)madvise(z->stack_lo, z->stack_len, MADV_POPULATE_WRITE);
	if (z->heap_len > 0 && strcmp(mode, "image") != 0)
		(void)madvise(z->heap_lo, z->heap_len, MADV_POPULATE_WRITE);
	else if (z->top_len > 0)
		(void)madvise(z->top_lo, z->top_len, MADV_POPULATE_WRITE);
}

/*
 * The child: its descriptors on 0-2 and no others, its own process
 * group, death with the zygote, the parent's signal mask; then the
 * worker proper, which sets up the sandbox before it reads a byte.
 */
static void __attribute__((noreturn))
child_run(struct zygote *z, int fds[4], int argc, char **argv)
{
	int i;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != z->self)
		_exit(MUGAI_CONVERT_EXIT_SANDBOX);
	(void)setpgid(0, 0);
	for (i = 0; i < 3; i++)
		if (dup2(fds[i], i) != i)
			_exit(MUGAI_CONVERT_EXIT_SANDBOX);
	closefrom(3);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &z->oldmask, NULL);
	child_prefault(z, argv[1]);
	/*
	 * _exit: the libraries' destructors (poppler, GLib, fontconfig)
	 * would cost time and free nothing that matters; the result went
	 * out with write(), and stdio's stdout is a buffer nobody reads.
	 */
	i = z->run(argc, argv);
	fflush(stderr);
	_exit(i);
}

/* Split the request into argv (argv[0] is "mugai-convert"). */
static int
args_split(char *msg, size_t len, char **argv)
{
	int argc = 0;
	size_t i = 0;

	if (len == 0 || msg[len - 1] != '\0')
		return -1;
	argv[argc++] = (char *)"mugai-convert";
	while (i < len) {
		if (argc == ZYGOTE_ARGS - 1)
			return -1;
		argv[argc++] = msg + i;
		i += strlen(msg + i) + 1;
	}
	argv[argc] = NULL;
	return argc;
}

/* The four descriptors of a request; -1 unless exactly four came. */
static int
msg_fds(struct msghdr *mh, int fds[4])
{
	struct cmsghdr *cm;
	int got = 0, n, i;

	for (i = 0; i < 4; i++)
		fds[i] = -1;
	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (got < 4)
				fds[got] = fd;
			else
				close(fd);
			got++;
		}
	}
	return got == 4 && !(mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ?
	    0 : -1;
}

static struct kid *
kid_free(struct zygote *z)
{
	size_t i;

	for (i = 0; i < ZYGOTE_KIDS; i++)
		if (z->kids[i].pid == 0)
			return &z->kids[i];
	return NULL;
}

/* One request: fork the child and tell the parent its pid. */
static void
on_request(struct zygote *z, char *msg, size_t len, int fds[4])
{
	char *argv[ZYGOTE_ARGS];
	struct kid *k;
	int argc, i;
	pid_t pid;

	argc = args_split(msg, len, argv);
	k = kid_free(z);
	if (argc < 2 || k == NULL || (pid = fork()) < 0) {
		/* No pid on the status socket: the parent sees a failure. */
		for (i = 0; i < 4; i++)
			close(fds[i]);
		return;
	}
	if (pid == 0)
		child_run(z, fds, argc, argv);
	(void)setpgid(pid, pid);	/* before the parent can signal it */
	for (i = 0; i < 3; i++)
		close(fds[i]);
	k->pid = pid;
	k->fd = fds[3];
	(void)fcntl(k->fd, F_SETFL, O_NONBLOCK);
	send_int(k->fd, (int)pid);
}

/* Read requests until none is waiting; -1 when the parent has gone. */
static int
on_ctl(struct zygote *z)
{
	char msg[ZYGOTE_MSG];
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} cmsg;
	struct iovec iov = { msg, sizeof(msg) };
	struct msghdr mh;
	int fds[4], i;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof(cmsg.buf);
	n = recvmsg(ZYGOTE_CTL, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	if (msg_fds(&mh, fds) != 0) {
		for (i = 0; i < 4; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return 0;
	}
	on_request(z, msg, (size_t)n, fds);
	return 0;
}

/*
 * Children that have exited: first their group goes (whatever they
 * left behind; the zombie keeps the group id from being reused), then
 * they are reaped and the parent gets the status.
 */
static void
on_sigchld(struct zygote *z)
{
	struct signalfd_siginfo ssi;
	siginfo_t si;
	struct kid *k;
	int status;
	size_t i;

	while (read(z->sfd, &ssi, sizeof(ssi)) == (ssize_t)sizeof(ssi))
		continue;
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    si.si_pid == 0)
			return;
		for (k = NULL, i = 0; i < ZYGOTE_KIDS && k == NULL; i++)
			if (z->kids[i].pid == si.si_pid)
				k = &z->kids[i];
		kill(-si.si_pid, SIGKILL);
		if (waitpid(si.si_pid, &status, 0) != si.si_pid)
			status = SIGKILL;
		if (k == NULL)
			continue;
		send_int(k->fd, status);
		fd_close(&k->fd);
		k->pid = 0;
	}
}

/* A byte or a hang-up on a status socket: kill that child's group. */
static void
on_status(struct kid *k)
{
	char c[16];
	ssize_t n;

	n = read(k->fd, c, sizeof(c));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	kill(-k->pid, SIGKILL);
	if (n <= 0)
		fd_close(&k->fd);
}

/* Poll: the control socket, SIGCHLD, then each child's status socket. */
static int
zygote_poll(struct zygote *z)
{
	struct pollfd pfd[2 + ZYGOTE_KIDS];
	struct kid *who[2 + ZYGOTE_KIDS];
	nfds_t n = 0, i;
	size_t j;

	pfd[n].fd = ZYGOTE_CTL;
	pfd[n++].events = POLLIN;
	pfd[n].fd = z->sfd;
	pfd[n++].events = POLLIN;
	for (j = 0; j < ZYGOTE_KIDS; j++) {
		if (z->kids[j].pid == 0 || z->kids[j].fd < 0)
			continue;
		who[n] = &z->kids[j];
		pfd[n].fd = z->kids[j].fd;
		pfd[n++].events = POLLIN;
	}
	if (poll(pfd, n, -1) < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd[1].revents)
		on_sigchld(z);
	for (i = 2; i < n; i++)
		if (pfd[i].revents && who[i]->pid != 0 && who[i]->fd >= 0)
			on_status(who[i]);
	if (pfd[0].revents & POLLIN)
		return on_ctl(z);
	if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
		return -1;
	return 0;
}

static void
zygote_end(struct zygote *z)
{
	size_t i;

	for (i = 0; i < ZYGOTE_KIDS; i++) {
		if (z->kids[i].pid == 0)
			continue;
		kill(-z->kids[i].pid, SIGKILL);
		(void)waitpid(z->kids[i].pid, NULL, 0);
		fd_close(&z->kids[i].fd);
	}
}

/*
 * What the modes load before their sandbox closes, loaded once here
 * (each is idempotent: a mode's own call in the child finds it done).
 */
static void
prepare_all(void)
{
	char why[256];

	tzset();
	(void)convert_archive_prepare();
	(void)convert_ole2_prepare();
	(void)convert_pdf_prepare();
	convert_ooxml_prepare();
	/* Last: it enters the namespace the children then share. */
	if (sandbox_prepare(why, sizeof(why)) != 0)
		fprintf(stderr, "mugai-convert zygote: %s\n", why);
	/*
	 * Consolidate the small chunks the libraries freed while loading:
	 * otherwise every child's first large malloc does it, writing to
	 * page after page it shares with us (each a copy-on-write fault).
	 */
	(void)malloc_trim(0);
}

/*
 * Make the stack reach STACK_PREFAULT below here, then empty that part:
 * what the libraries' set-up left there is dead, and pages the zygote
 * no longer holds are new pages for its children, prefaulted cheaply,
 * rather than copies made at a fault each (child_prefault).
 */
static void __attribute__((noinline))
stack_empty(struct zygote *z)
{
	volatile char pad[STACK_PREFAULT];
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo, hi;
	size_t i;

	for (i = 0; i < sizeof(pad); i += pg)
		pad[i] = 0;
	pad[sizeof(pad) - 1] = 0;
	lo = ((uintptr_t)pad + pg - 1) & ~(pg - 1);
	hi = ((uintptr_t)pad + sizeof(pad)) & ~(pg - 1);
	/* Keep the top page: this frame's own variables may share it. */
	if (hi <= lo + pg)
		return;
	hi -= pg;
	if (madvise((void *)lo, hi - lo, MADV_DONTNEED) == 0) {
		z->stack_lo = (char *)lo;
		z->stack_len = hi - lo;
	}
}

/* The heap's range, from /proc/self/maps: 0, or -1 when not found. */
static int
heap_range(uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	unsigned long a, b;
	int rc = -1;
	FILE *fp;

	if ((fp = fopen("/proc/self/maps", "re")) == NULL)
		return -1;
	while (rc != 0 && fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "[heap]") != NULL &&
		    sscanf(line, "%lx-%lx", &a, &b) == 2 && b > a) {
			*lo = a;
			*hi = b;
			rc = 0;
		}
	fclose(fp);
	return rc;
}

/* Where the heap's top chunk starts: what malloc has never handed out. */
static uintptr_t
heap_top(void)
{
	return (uintptr_t)sbrk(0) - (uintptr_t)mallinfo2().keepcost;
}

/* The heap the children prefault (child_prefault), if not too big. */
static void
heap_find(struct zygote *z)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo, hi, top;

	if (heap_range(&lo, &hi) != 0 || (lo | hi) & (pg - 1) ||
	    hi - lo > HEAP_PREFAULT_MAX)
		return;
	z->heap_lo = (char *)lo;
	z->heap_len = hi - lo;
	top = heap_top() & ~(pg - 1);
	if (top >= lo && top < hi) {
		z->top_lo = (char *)top;
		z->top_len = hi - top < TOP_PREFAULT ? hi - top : TOP_PREFAULT;
	}
}

/*
 * Take every free chunk the libraries' set-up left in the heap, so
 * that a child's malloc finds none and carves its blocks from the top:
 * otherwise it writes into chunk after chunk in pages it shares with
 * us, a copy-on-write fault each.  A block carved from the top ends a
 * size; what is kept (on a list: still reachable) is bounded by what
 * was free below the top, so a heap malloc does not lay out as
 * expected costs nothing more than that.
 */
static void
heap_plug(void)
{
	static void *plugged;
	struct mallinfo2 mi = mallinfo2();
	size_t sz, kept = 0, most;
	void *p;

	most = mi.fordblks > mi.keepcost ? mi.fordblks - mi.keepcost : 0;
	for (sz = PLUG_MAX; sz >= 2 * sizeof(void *); sz /= 2)
		while (kept + sz <= most) {
			uintptr_t top = heap_top();

			if ((p = malloc(sz)) == NULL)
				return;
			if ((uintptr_t)p >= top) {
				free(p);
				break;
			}
			*(void **)p = plugged;
			plugged = p;
			kept += sz;
		}
}

int
convert_zygote(int (*run)(int, char **))
{
	static struct zygote z;
	sigset_t chld;

	z.run = run;
	if (fcntl(ZYGOTE_CTL, F_GETFD) < 0) {
		fprintf(stderr, "mugai-convert zygote: no socket on "
		    "descriptor 3\n");
		return MUGAI_CONVERT_EXIT_USAGE;
	}
	z.self = getpid();
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &z.oldmask) != 0 ||
	    (z.sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "mugai-convert zygote: signalfd: %s\n",
		    strerror(errno));
		return MUGAI_CONVERT_EXIT_SANDBOX;
	}
	/* What every mode loads before its sandbox closes, loaded once. */
	prepare_all();
	stack_empty(&z);
	heap_plug();
	heap_find(&z);
	while (zygote_poll(&z) == 0)
		continue;
	zygote_end(&z);
	return 0;
}
