/*
 * worker.c - run a sandboxed helper program on one document (see
 * mugai/cdr/worker.h).
 *
 * The milter is threaded, so the helper is started with posix_spawn,
 * never fork, and nothing here touches process-wide state: SIGPIPE is
 * blocked for the calling thread only while the document is written,
 * and every descriptor we open is close-on-exec so that another thread
 * spawning at the same moment cannot inherit our pipes.
 *
 * The gate bounds how many workers run at once in this process
 * (convert_max_workers), so worker memory stays under that many times
 * convert_memory however many sessions bring documents together.  A
 * caller waits for a slot within its own timeout: the wait counts
 * against the document's time, so the message's budget holds.
 *
 * mugai_worker_convert has the zygote (zygote.c) fork the worker instead
 * of spawning it: the same pipes, limits and endings, but the zygote
 * reaps the child and sends its wait status on the request's socket,
 * and a kill is asked of the zygote (which alone knows whether the pid
 * is still the child's).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mugai/cdr/worker.h"
#include "zygote.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif

#define CHUNK		65536
#define PIPE_OUT_SIZE	(1 << 20)
#define ENV_PATH	"PATH=/usr/bin:/bin"
#define ENV_LANG	"LANG=C.UTF-8"

/* Workers running now in this process, under gate_lock. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_free = PTHREAD_COND_INITIALIZER;
static unsigned gate_running;
/*
 * How deep the calling thread holds a slot by mugai_worker_slot_take;
 * its workers run in that slot instead of taking another.  Per thread,
 * so no lock.
 */
static __thread unsigned slot_depth;

/* Our ends of the worker's stdin, stdout and stderr. */
enum { IN, OUT, ERR, NFD };

/* How often to look whether the worker has exited (ms). */
#define EXIT_TICK	100

struct run {
	pid_t	 pid;
	int	 fd[NFD];		/* -1 once closed */
	const unsigned char *in;
	size_t	 inleft;
	size_t	 outmax;
	unsigned timeout_s;
	struct mugai_buf *out;
	struct mugai_worker_status *st;
	size_t	 msglen;
	int	 msgdone;		/* first stderr line complete */
	int	 killed;		/* we ended it: st->end is set */
	int	 exited;		/* it has exited, not reaped yet */
	int	 zs;			/* zygote's status socket, or -1 */
	int	 zstatus;		/* wait status from the zygote */
	int	 zgot;			/* 1: zstatus came; -1: socket closed */
	mugai_status err;		/* could not collect the output */
	struct timespec deadline;
};

struct spawn_env {
	char	*envp[5];
	char	 asan[1024];
	char	 ubsan[1024];
};

static void
fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * A pipe whose ends are close-on-exec and above stderr: if our own 0-2
 * were closed, a pipe end there would be clobbered by the dup2 of
 * another one in the child.
 */
static int
pipe_make(int p[2])
{
	int i, fd;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (p[i] > 2)
			continue;
		fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
		close(p[i]);
		p[i] = fd;
	}
	if (p[0] >= 0 && p[1] >= 0)
		return 0;
	fd_close(&p[0]);
	fd_close(&p[1]);
	return -1;
}

#ifdef WORKER_ASAN
/*
 * The worker skips RLIMIT_AS under ASan (the shadow memory needs
 * terabytes of address space), so an RSS cap stands in for it: the
 * worker's --memory plus room for ASan's own shadow and quarantine.
 * Leak checking needs ptrace and /proc, which seccomp forbids; the
 * converters are leak-checked by their unit tests and fuzz targets.
 */
static unsigned long long
asan_rss_mb(const char *const argv[])
{
	unsigned long long mb = 1024;
	size_t i;

	for (i = 1; argv[i] != NULL; i++)
		if (strncmp(argv[i], "--memory=", 9) == 0)
			mb = strtoull(argv[i] + 9, NULL, 10) >> 20;
	return mb + 1024;
}
#endif

/* name=value of our own environment, with extra options after it. */
static int
env_pass(char *dst, size_t len, const char *name, const char *extra)
{
	const char *v = getenv(name);
	int n;

	if (v == NULL && extra[0] == '\0')
		return 0;
	n = snprintf(dst, len, "%s=%s%s%s", name, v ? v : "",
	    v && v[0] && extra[0] ? ":" : "", extra);
	return n < 0 || (size_t)n >= len ? -1 : 1;
}

/* PATH, LANG and the sanitizers' options: nothing else reaches it. */
static int
env_build(struct spawn_env *e, const char *const argv[])
{
	char extra[128] = "";
	size_t n = 0;
	int r;

#ifdef WORKER_ASAN
	snprintf(extra, sizeof(extra), "hard_rss_limit_mb=%llu:"
	    "can_use_proc_maps_statm=0:detect_leaks=0", asan_rss_mb(argv));
#else
	(void)argv;
#endif
	e->envp[n++] = (char *)ENV_PATH;
	e->envp[n++] = (char *)ENV_LANG;
	if ((r = env_pass(e->asan, sizeof(e->asan), "ASAN_OPTIONS",
	    extra)) < 0)
		return -1;
	if (r > 0)
		e->envp[n++] = e->asan;
	if ((r = env_pass(e->ubsan, sizeof(e->ubsan), "UBSAN_OPTIONS",
	    "")) < 0)
		return -1;
	if (r > 0)
		e->envp[n++] = e->ubsan;
	e->envp[n] = NULL;
	return 0;
}

/* The child's side: pipes on 0-2, nothing else open, own group. */
static int
spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
    int p[3][2])
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_adddup2(fa, p[IN][0], 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, p[OUT][1], 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, p[ERR][1], 2)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(fa, 3)) != 0)
		return rc;
	if ((rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(at, 0)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(at, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(at, &all)) != 0)
		return rc;
	return 0;
}

/* posix_spawn's errno, 0 when the program runs. */
static int
spawn_child(const char *const argv[], char *const envp[], int p[3][2],
    pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	union { const char *const *c; char *const *m; } args = { argv };
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	rc = spawn_setup(&fa, &at, p);
	if (rc == 0)
		rc = posix_spawn(pid, argv[0], &fa, &at, args.m, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

static mugai_status
spawn_status(int err)
{
	switch (err) {
	case ENOENT:
	case EACCES:
	case ENOEXEC:
	case ENOTDIR:
		return MUGAI_ERR_NOTFOUND;
	case ENOMEM:
	case EAGAIN:
		return MUGAI_ERR_NOMEM;
	default:
		return MUGAI_ERR_INTERNAL;
	}
}

/* Milliseconds to the deadline, 0 once it has passed. */
static int
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The whole group goes: a helper's own children must not outlive it. */
static void
run_kill(struct run *r, enum mugai_worker_end why)
{
	if (r->zs < 0)
		kill(-r->pid, SIGKILL);
	else if (r->zgot == 0)
		(void)send(r->zs, "K", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r->killed)
		return;
	r->killed = 1;
	r->st->end = why;
	if (why == MUGAI_WORKER_OUTPUT)
		r->st->code = r->outmax > INT_MAX ? INT_MAX : (int)r->outmax;
	if (why == MUGAI_WORKER_TIMEOUT)
		r->st->code = r->timeout_s > INT_MAX ? INT_MAX :
		    (int)r->timeout_s;
}

/* Feed the document; a worker that stops reading early is its business. */
static void
on_stdin(struct run *r, short revents)
{
	ssize_t n;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		fd_close(&r->fd[IN]);
		return;
	}
	n = write(r->fd[IN], r->in, r->inleft);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		fd_close(&r->fd[IN]);	/* EPIPE: SIGPIPE is blocked */
		return;
	}
	r->in += n;
	r->inleft -= (size_t)n;
	if (r->inleft == 0)
		fd_close(&r->fd[IN]);
}

static void
on_stdout(struct run *r)
{
	char chunk[CHUNK];
	ssize_t n;
	mugai_status rc;

	n = read(r->fd[OUT], chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fd_close(&r->fd[OUT]);
		return;
	}
	if ((size_t)n > r->outmax - r->out->len) {
		run_kill(r, MUGAI_WORKER_OUTPUT);
		return;
	}
	rc = mugai_buf_append(r->out, chunk, (size_t)n);
	if (rc == MUGAI_ERR_LIMIT)
		run_kill(r, MUGAI_WORKER_OUTPUT);
	else if (rc != MUGAI_OK) {
		r->err = rc;
		run_kill(r, MUGAI_WORKER_SIGNAL);
	}
}

/* Keep the first line for the log, printable bytes only; drain the rest. */
static void
on_stderr(struct run *r)
{
	char chunk[4096], *msg = r->st->message;
	ssize_t n, i;
	unsigned char c;

	n = read(r->fd[ERR], chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fd_close(&r->fd[ERR]);
		return;
	}
	for (i = 0; i < n && !r->msgdone; i++) {
		c = (unsigned char)chunk[i];
		if (c == '\n' || c == '\r' ||
		    r->msglen == sizeof(r->st->message) - 1) {
			r->msgdone = 1;
			break;
		}
		msg[r->msglen++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		msg[r->msglen] = '\0';
	}
}

/*
 * The zygote's word on a child: its wait status (zgot 1), or the socket
 * closed without one (zgot -1: the zygote died, and the child with it).
 * Waits up to ms for it.
 */
static void
zygote_status(struct run *r, int ms)
{
	struct pollfd pfd = { r->zs, POLLIN, 0 };
	ssize_t n;
	int v;

	if (r->zgot != 0 || poll(&pfd, 1, ms) <= 0)
		return;
	n = recv(r->zs, &v, sizeof(v), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == (ssize_t)sizeof(v)) {
		r->zstatus = v;
		r->zgot = 1;
	} else
		r->zgot = -1;
	r->exited = 1;
}

/*
 * Once the worker itself has exited, whatever it left running in its
 * group goes, so that a background child holding our pipes open cannot
 * keep us waiting until the deadline.  WNOWAIT leaves it a zombie: its
 * process group id cannot be reused before we reap it.
 */
static void
check_exit(struct run *r)
{
	siginfo_t si;

	if (r->zs >= 0) {
		zygote_status(r, 0);
		return;
	}
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT)
	    != 0 || si.si_pid == 0)
		return;
	r->exited = 1;
	kill(-r->pid, SIGKILL);
}

static void
run_fds(struct run *r, struct pollfd *pfd, nfds_t *np)
{
	static const short ev[NFD] = { POLLOUT, POLLIN, POLLIN };
	nfds_t n = 0;
	int i;

	for (i = 0; i < NFD; i++) {
		if (r->fd[i] < 0)
			continue;
		pfd[n].fd = r->fd[i];
		pfd[n].events = ev[i];
		pfd[n].revents = 0;
		n++;
	}
	*np = n;
}

static void
run_dispatch(struct run *r, const struct pollfd *pfd, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n && !r->killed; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == r->fd[IN])
			on_stdin(r, pfd[i].revents);
		else if (pfd[i].fd == r->fd[OUT])
			on_stdout(r);
		else if (pfd[i].fd == r->fd[ERR])
			on_stderr(r);
	}
}

/* Until stdout and stderr are closed, the deadline or the output cap. */
static void
run_loop(struct run *r)
{
	struct pollfd pfd[NFD];
	nfds_t n;
	int ms, rc;

	if (r->inleft == 0)
		fd_close(&r->fd[IN]);
	while (!r->killed && (r->fd[OUT] >= 0 || r->fd[ERR] >= 0)) {
		if ((ms = ms_left(&r->deadline)) == 0) {
			run_kill(r, MUGAI_WORKER_TIMEOUT);
			break;
		}
		if (!r->exited && ms > EXIT_TICK)
			ms = EXIT_TICK;
		run_fds(r, pfd, &n);
		rc = poll(pfd, n, ms);
		if (rc < 0 && errno != EINTR) {
			r->err = MUGAI_ERR_IO;
			run_kill(r, MUGAI_WORKER_SIGNAL);
			break;
		}
		if (rc > 0)
			run_dispatch(r, pfd, n);
		if (!r->exited)
			check_exit(r);
	}
	fd_close(&r->fd[IN]);
	fd_close(&r->fd[OUT]);
	fd_close(&r->fd[ERR]);
}

/*
 * Wait for the worker to exit without reaping it: while it is a zombie
 * its process group id cannot be reused, so killing the group after
 * this reaches only what it left behind.
 */
static void
run_wait_exit(struct run *r)
{
	struct timespec nap = { 0, 1000000 };
	siginfo_t si;
	int rc;

	for (;;) {
		memset(&si, 0, sizeof(si));
		rc = waitid(P_PID, (id_t)r->pid, &si,
		    WEXITED | WNOWAIT | (r->killed ? 0 : WNOHANG));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 || si.si_pid != 0)
			return;
		if (ms_left(&r->deadline) == 0) {
			run_kill(r, MUGAI_WORKER_TIMEOUT);
			continue;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 50000000)
			nap.tv_nsec *= 2;
	}
}

/*
 * The zygote's reap: its status once it comes; after a kill, the zygote
 * reports within moments, but a few seconds at most are given to it.
 */
static int
zygote_reap(struct run *r)
{
	int grace = 0;

	while (r->zgot == 0) {
		if (!r->killed && ms_left(&r->deadline) == 0)
			run_kill(r, MUGAI_WORKER_TIMEOUT);
		zygote_status(r, EXIT_TICK);
		if (r->killed && r->zgot == 0 && ++grace > 50)
			r->zgot = -1;
	}
	close(r->zs);
	r->zs = -1;
	if (r->zgot > 0)
		return r->zstatus;
	if (!r->killed)
		snprintf(r->st->message, sizeof(r->st->message),
		    "the zygote ended before its child did");
	return SIGKILL;		/* as a signal: a failure, never done */
}

static mugai_status
run_reap(struct run *r)
{
	int status;

	if (r->zs >= 0) {
		status = zygote_reap(r);
		goto ended;
	}
	run_wait_exit(r);
	kill(-r->pid, SIGKILL);
	while (waitpid(r->pid, &status, 0) < 0)
		if (errno != EINTR)
			return MUGAI_ERR_INTERNAL;
ended:
	if (r->killed)
		return MUGAI_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		r->st->end = MUGAI_WORKER_DONE;
	else if (WIFEXITED(status)) {
		r->st->end = MUGAI_WORKER_EXIT;
		r->st->code = WEXITSTATUS(status);
	} else {
		r->st->end = MUGAI_WORKER_SIGNAL;
		r->st->sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	return MUGAI_OK;
}

/* Make our ends non-blocking; the child's stay blocking. */
static int
run_pipes(struct run *r, int p[3][2])
{
	static const int ours[3] = { 1, 0, 0 };
	int i;

	for (i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	for (i = 0; i < 3; i++) {
		if (pipe_make(p[i]) != 0)
			return -1;
		r->fd[i] = p[i][ours[i]];
		if (fcntl(r->fd[i], F_SETFL, O_NONBLOCK) != 0)
			return -1;
	}
	/*
	 * Pages come back as tens of MB of pixels: a larger pipe costs
	 * fewer wake-ups of both sides (best effort: the system's
	 * pipe-max-size may refuse it).
	 */
	(void)fcntl(r->fd[OUT], F_SETPIPE_SZ, PIPE_OUT_SIZE);
	return 0;
}

static void
pipes_close(int p[3][2])
{
	int i;

	for (i = 0; i < 3; i++) {
		fd_close(&p[i][0]);
		fd_close(&p[i][1]);
	}
}

/* The child has its copies: ours of its ends would hide its EOF. */
static void
pipes_close_child(int p[3][2])
{
	fd_close(&p[IN][0]);
	fd_close(&p[OUT][1]);
	fd_close(&p[ERR][1]);
}

static void
run_init(struct run *r, const void *in, size_t inlen,
    const struct mugai_worker_limits *lim, struct mugai_buf *out,
    struct mugai_worker_status *st)
{
	memset(r, 0, sizeof(*r));
	memset(st, 0, sizeof(*st));
	r->in = in;
	r->inleft = inlen;
	r->outmax = lim->output_max;
	r->out = out;
	r->st = st;
	r->fd[IN] = r->fd[OUT] = r->fd[ERR] = -1;
	r->zs = -1;
	clock_gettime(CLOCK_MONOTONIC, &r->deadline);
	r->deadline.tv_sec += lim->timeout_s;
	r->timeout_s = lim->timeout_s;
}

/*
 * A write to a worker that has gone raises SIGPIPE for this thread:
 * block it here (never process-wide: other threads are not ours) and
 * discard any that arrived before restoring the caller's mask.
 */
static void
sigpipe_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void
sigpipe_restore(const sigset_t *old)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!sigismember(old, SIGPIPE))
		while (sigtimedwait(&set, NULL, &zero) > 0 || errno == EINTR)
			continue;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Spawn, talk and reap; r->fd holds our ends. */
static mugai_status
run_worker(struct run *r, const char *const argv[])
{
	struct spawn_env env;
	int p[3][2], err;
	mugai_status rc;
	sigset_t old;

	if (env_build(&env, argv) != 0)
		return MUGAI_ERR_LIMIT;
	if (run_pipes(r, p) != 0) {
		pipes_close(p);
		return MUGAI_ERR_IO;
	}
	err = spawn_child(argv, env.envp, p, &r->pid);
	if (err != 0) {
		pipes_close(p);
		return spawn_status(err);
	}
	pipes_close_child(p);
	sigpipe_block(&old);
	run_loop(r);
	sigpipe_restore(&old);
	rc = run_reap(r);
	return rc != MUGAI_OK ? rc : r->err;
}

/*
 * The same through the zygote: it gets the child's ends of the pipes.
 * 1 when the zygote could not take it (nothing ran: the caller spawns
 * instead), else as run_worker.
 */
static int
run_zygote(struct run *r, const char *const argv[], mugai_status *rc)
{
	struct spawn_env env;
	int p[3][2], theirs[3];
	sigset_t old;

	if (env_build(&env, argv) != 0)
		return 1;
	if (run_pipes(r, p) != 0) {
		pipes_close(p);
		r->fd[IN] = r->fd[OUT] = r->fd[ERR] = -1;
		return 1;
	}
	theirs[0] = p[IN][0];
	theirs[1] = p[OUT][1];
	theirs[2] = p[ERR][1];
	if (zygote_request(argv, env.envp, theirs, &r->deadline, &r->zs,
	    &r->pid) != 0) {
		pipes_close(p);
		r->fd[IN] = r->fd[OUT] = r->fd[ERR] = -1;
		return 1;
	}
	pipes_close_child(p);
	sigpipe_block(&old);
	run_loop(r);
	sigpipe_restore(&old);
	*rc = run_reap(r);
	if (*rc == MUGAI_OK)
		*rc = r->err;
	return 0;
}

/*
 * Take a slot of max (0: no gate) before deadline (CLOCK_MONOTONIC);
 * 1 when taken, 0 when the deadline passed first.
 */
static int
gate_enter(unsigned max, const struct timespec *deadline)
{
	int rc = 0, taken;

	if (max == 0 || slot_depth > 0)
		return 1;
	pthread_mutex_lock(&gate_lock);
	while (gate_running >= max && rc != ETIMEDOUT)
		rc = pthread_cond_clockwait(&gate_free, &gate_lock,
		    CLOCK_MONOTONIC, deadline);
	if ((taken = gate_running < max))
		gate_running++;
	pthread_mutex_unlock(&gate_lock);
	return taken;
}

static void
gate_leave(unsigned max)
{
	if (max == 0 || slot_depth > 0)
		return;
	pthread_mutex_lock(&gate_lock);
	gate_running--;
	pthread_cond_signal(&gate_free);
	pthread_mutex_unlock(&gate_lock);
}

/* The caller's time ran out while all max slots were busy. */
static void
gate_timeout(struct run *r, unsigned max)
{
	r->st->end = MUGAI_WORKER_TIMEOUT;
	r->st->code = r->timeout_s > INT_MAX ? INT_MAX : (int)r->timeout_s;
	snprintf(r->st->message, sizeof(r->st->message), "waited for one of"
	    " the %u worker slots (convert_max_workers) all that time", max);
}

/*
 * mugai_worker_run - see mugai/cdr/worker.h.  st->code also holds the
 * timeout for MUGAI_WORKER_TIMEOUT and the cap for MUGAI_WORKER_OUTPUT,
 * for mugai_worker_describe.
 */
mugai_status
mugai_worker_run(const char *const argv[], const void *in, size_t inlen,
    const struct mugai_worker_limits *lim, struct mugai_buf *out,
    struct mugai_worker_status *st)
{
	struct run r;
	mugai_status rc;

	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/' ||
	    lim == NULL || lim->timeout_s == 0 || out == NULL || st == NULL ||
	    (in == NULL && inlen > 0))
		return MUGAI_ERR_USAGE;
	/* posix_spawn says so too, but not under valgrind. */
	if (access(argv[0], X_OK) != 0)
		return MUGAI_ERR_NOTFOUND;
	mugai_buf_reset(out);
	run_init(&r, in, inlen, lim, out, st);
	if (!gate_enter(lim->max_workers, &r.deadline)) {
		gate_timeout(&r, lim->max_workers);
		return MUGAI_OK;
	}
	rc = run_worker(&r, argv);
	gate_leave(lim->max_workers);
	return rc;
}

/*
 * mugai_worker_convert - see mugai/cdr/worker.h.  Under ASan the worker
 * is always spawned: its memory cap is ASan's RSS watcher, a thread
 * that a forked child would not have.
 */
mugai_status
mugai_worker_convert(const char *const argv[], const void *in,
    size_t inlen, const struct mugai_worker_limits *lim,
    struct mugai_buf *out, struct mugai_worker_status *st)
{
#ifdef WORKER_ASAN
	const int zygote = 0;
#else
	const int zygote = 1;
#endif
	struct run r;
	mugai_status rc = MUGAI_OK;

	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/' ||
	    argv[1] == NULL || lim == NULL || lim->timeout_s == 0 ||
	    out == NULL || st == NULL || (in == NULL && inlen > 0))
		return MUGAI_ERR_USAGE;
	if (access(argv[0], X_OK) != 0)
		return MUGAI_ERR_NOTFOUND;
	mugai_buf_reset(out);
	run_init(&r, in, inlen, lim, out, st);
	if (!gate_enter(lim->max_workers, &r.deadline)) {
		gate_timeout(&r, lim->max_workers);
		return MUGAI_OK;
	}
	if (!zygote || run_zygote(&r, argv, &rc) != 0) {
		/* No zygote took it: spawn, within what is left of the time. */
		r.zs = -1;
		rc = run_worker(&r, argv);
	}
	gate_leave(lim->max_workers);
	return rc;
}

/* mugai_worker_slot_take - see mugai/cdr/worker.h. */
int
mugai_worker_slot_take(unsigned max, unsigned timeout_s)
{
	struct timespec deadline;

	if (slot_depth > 0) {
		slot_depth++;
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	if (!gate_enter(max, &deadline))
		return 0;
	slot_depth = 1;
	return 1;
}

/* mugai_worker_slot_give - see mugai/cdr/worker.h. */
void
mugai_worker_slot_give(unsigned max)
{
	if (slot_depth == 0)
		return;
	if (--slot_depth == 0)
		gate_leave(max);
}

/* mugai_worker_zygote_stop - see mugai/cdr/worker.h. */
void
mugai_worker_zygote_stop(void)
{
	zygote_stop();
}

/* mugai_worker_max - see mugai/cdr/worker.h. */
unsigned
mugai_worker_max(const struct mugai_config *cfg)
{
	long n;

	if (cfg->convert_max_workers > 0)
		return cfg->convert_max_workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

/* How it ended, without the message. */
static void
describe_end(const struct mugai_worker_status *st, char *out, size_t outlen)
{
	const char *abbrev;

	switch (st->end) {
	case MUGAI_WORKER_DONE:
		snprintf(out, outlen, "done");
		break;
	case MUGAI_WORKER_EXIT:
		snprintf(out, outlen, "exit %d", st->code);
		break;
	case MUGAI_WORKER_SIGNAL:
		abbrev = st->sig > 0 ? sigabbrev_np(st->sig) : NULL;
		snprintf(out, outlen, "killed by signal %d (SIG%s)", st->sig,
		    abbrev ? abbrev : "?");
		break;
	case MUGAI_WORKER_TIMEOUT:
		snprintf(out, outlen, "timed out after %d s", st->code);
		break;
	case MUGAI_WORKER_OUTPUT:
		snprintf(out, outlen, "output over %d bytes", st->code);
		break;
	default:
		snprintf(out, outlen, "unknown ending %d", (int)st->end);
		break;
	}
}

void
mugai_worker_describe(const struct mugai_worker_status *st, char *out,
    size_t outlen)
{
	char head[64];

	if (outlen == 0)
		return;
	describe_end(st, head, sizeof(head));
	snprintf(out, outlen, "%s%s%s", head, st->message[0] ? ": " : "",
	    st->message);
}

/* An absolute path to an executable regular file, copied to out. */
static mugai_status
path_check(const char *path, char *out, size_t outlen)
{
	struct stat sb;
	size_t n = strlen(path);

	if (path[0] != '/')
		return MUGAI_ERR_NOTFOUND;
	if (n >= outlen)
		return MUGAI_ERR_LIMIT;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    access(path, X_OK) != 0)
		return MUGAI_ERR_NOTFOUND;
	memcpy(out, path, n + 1);
	return MUGAI_OK;
}

/* mugai-convert in the directory of the running program. */
static mugai_status
path_beside(char *out, size_t outlen)
{
	static const char name[] = "/mugai-convert";
	char exe[PATH_MAX], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return MUGAI_ERR_NOTFOUND;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return MUGAI_ERR_NOTFOUND;
	*slash = '\0';
	if (strlen(exe) + sizeof(name) > sizeof(exe))
		return MUGAI_ERR_LIMIT;
	strcat(exe, name);
	return path_check(exe, out, outlen);
}

/*
 * mugai_worker_path - see mugai/cdr/worker.h.  $MUGAI_CONVERT, when set and
 * not empty, overrides both (the tests use it); it is ignored in a
 * set-id program (secure_getenv).
 */
mugai_status
mugai_worker_path(const struct mugai_config *cfg, char *out, size_t outlen)
{
	const char *env = secure_getenv("MUGAI_CONVERT");

	if (env != NULL && env[0] != '\0')
		return path_check(env, out, outlen);
	if (cfg != NULL && cfg->convert_worker != NULL &&
	    cfg->convert_worker[0] != '\0')
		return path_check(cfg->convert_worker, out, outlen);
	return path_beside(out, outlen);
}
