/*
 * zygote.c - the parent's side of the mugai-convert zygote (see zygote.h
 * and convert/zygote.c for the other side).
 *
 * The milter is threaded, so it never forks: the zygote is a separate,
 * single-threaded mugai-convert started with posix_spawn, and it does
 * the forking.  Starting it and sending a request happen under one
 * lock (the handle is shared by every thread); waiting for the child's
 * pid and everything after happen on the request's own socket, without
 * the lock.  A zygote that has died (crashed, killed, out of memory) is
 * reaped and started again by the next request; if the new one cannot
 * take the request either, the caller runs mugai-convert directly, so a
 * broken zygote costs time, never a document.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "zygote.h"

#define ZYGOTE_MSG	4096		/* as convert/zygote.c reads */
#define ZYGOTE_ARGS	30

static pthread_mutex_t zygote_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t zygote_pid;		/* 0: none; under zygote_lock */
static int zygote_ctl = -1;
static char zygote_path[PATH_MAX];

/* A descriptor moved above 9, close-on-exec (nothing may land on 0-3). */
static int
fd_high(int fd)
{
	int nfd;

	if (fd < 0 || fd > 9)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	close(fd);
	return nfd;
}

static int
spawn_actions(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
    int theirs)
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_addopen(fa, 1, "/dev/null",
	    O_WRONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, theirs, 3)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(fa, 4)) != 0)
		return rc;
	if ((rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(at, 0)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(at, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(at, &all)) != 0)
		return rc;
	return 0;
}

/* Under zygote_lock: kill and reap the zygote we have, if any. */
static void
zygote_drop(void)
{
	if (zygote_ctl >= 0)
		close(zygote_ctl);
	zygote_ctl = -1;
	if (zygote_pid > 0) {
		kill(zygote_pid, SIGKILL);
		while (waitpid(zygote_pid, NULL, 0) < 0 && errno == EINTR)
			continue;
	}
	zygote_pid = 0;
}

/*
 * The environment the workers get, and LD_BIND_NOW: the zygote binds
 * every symbol once, so that no child pays for lazy binding again.
 * GLIBC_TUNABLES: malloc asks for transparent huge pages where its heap
 * grows by 2 MB or more and for large blocks (page pixels), so a child
 * takes one fault per 2 MB instead of one per 4 KB page.  Under a
 * virtualised kernel a fault can cost 20 us; a ten-page PDF's worker
 * spent a third of its CPU in them (bench/copycost.sh shows it).  The
 * kernel's THP setting decides ("never" turns it off); a child's limits
 * and sandbox are the same either way.
 */
static int
zygote_env(char *const envp[], char **env, size_t n)
{
	size_t i;

	for (i = 0; envp[i] != NULL; i++)
		if (i + 3 >= n)
			return -1;
		else
			env[i] = envp[i];
	env[i++] = (char *)"LD_BIND_NOW=1";
	env[i++] = (char *)"GLIBC_TUNABLES=glibc.malloc.hugetlb=1";
	env[i] = NULL;
	return 0;
}

/* Under zygote_lock: "PATH zygote" with our end of its socket kept. */
static int
zygote_start(const char *path, char *const envp[])
{
	const char *argv[] = { path, "zygote", NULL };
	union { const char *const *c; char *const *m; } args = { argv };
	char *env[16];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int sv[2], rc;
	pid_t pid;

	if (strlen(path) >= sizeof(zygote_path) ||
	    zygote_env(envp, env, sizeof(env) / sizeof(env[0])) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	sv[0] = fd_high(sv[0]);
	sv[1] = fd_high(sv[1]);
	rc = -1;
	if (sv[0] >= 0 && sv[1] >= 0 &&
	    posix_spawn_file_actions_init(&fa) == 0) {
		if (posix_spawnattr_init(&at) == 0) {
			if (spawn_actions(&fa, &at, sv[1]) == 0 &&
			    posix_spawn(&pid, path, &fa, &at, args.m,
			    env) == 0)
				rc = 0;
			posix_spawnattr_destroy(&at);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	if (sv[1] >= 0)
		close(sv[1]);
	if (rc != 0) {
		if (sv[0] >= 0)
			close(sv[0]);
		return -1;
	}
	zygote_pid = pid;
	zygote_ctl = sv[0];
	strcpy(zygote_path, path);
	return 0;
}

/* Under zygote_lock: a live zygote for path, started if need be. */
static int
zygote_ready(const char *path, char *const envp[])
{
	if (zygote_pid > 0 && (strcmp(zygote_path, path) != 0 ||
	    waitpid(zygote_pid, NULL, WNOHANG) != 0))
		zygote_drop();	/* another path, or it has died */
	if (zygote_pid > 0)
		return 0;
	return zygote_start(path, envp);
}

/* The request: argv[1..] each ended by NUL, and four descriptors. */
static ssize_t
request_send(const char *msg, size_t len, const int fds[4])
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cmsg;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(&cmsg, 0, sizeof(cmsg));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof(cmsg.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(4 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, 4 * sizeof(int));
	return sendmsg(zygote_ctl, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int
request_build(const char *const argv[], char *msg, size_t *len)
{
	size_t i, n, off = 0;

	for (i = 1; argv[i] != NULL; i++) {
		n = strlen(argv[i]) + 1;
		if (i > ZYGOTE_ARGS || n > ZYGOTE_MSG - off)
			return -1;
		memcpy(msg + off, argv[i], n);
		off += n;
	}
	*len = off;
	return off > 0 ? 0 : -1;
}

/* Hand the request to a live zygote, starting one again once. */
static int
request_hand(const char *path, char *const envp[], const char *msg,
    size_t len, const int fds[4])
{
	int tries, rc = -1;

	pthread_mutex_lock(&zygote_lock);
	for (tries = 0; tries < 2 && rc != 0; tries++) {
		if (zygote_ready(path, envp) != 0)
			break;
		if (request_send(msg, len, fds) == (ssize_t)len)
			rc = 0;
		else
			zygote_drop();	/* gone, or not reading: anew */
	}
	pthread_mutex_unlock(&zygote_lock);
	return rc;
}

static int
ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The child's pid, the first message on the status socket. */
static int
pid_wait(int sock, const struct timespec *deadline, pid_t *pid)
{
	struct pollfd pfd = { sock, POLLIN, 0 };
	int v, rc;
	ssize_t n;

	for (;;) {
		rc = poll(&pfd, 1, ms_until(deadline));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -1;
		n = recv(sock, &v, sizeof(v), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(v) || v <= 0)
			return -1;
		*pid = (pid_t)v;
		return 0;
	}
}

/* zygote_request - see zygote.h. */
int
zygote_request(const char *const argv[], char *const envp[],
    const int fds[3], const struct timespec *deadline, int *sock,
    pid_t *pid)
{
	char msg[ZYGOTE_MSG];
	int st[2], all[4];
	size_t len;

	if (request_build(argv, msg, &len) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, st) != 0)
		return -1;
	memcpy(all, fds, 3 * sizeof(int));
	all[3] = st[1];
	if (request_hand(argv[0], envp, msg, len, all) != 0) {
		close(st[0]);
		close(st[1]);
		return -1;
	}
	close(st[1]);
	/* Our hang-up, should the pid not come, kills what it started. */
	if (pid_wait(st[0], deadline, pid) != 0) {
		close(st[0]);
		return -1;
	}
	*sock = st[0];
	return 0;
}

/* zygote_stop - see zygote.h. */
void
zygote_stop(void)
{
	pthread_mutex_lock(&zygote_lock);
	zygote_drop();
	pthread_mutex_unlock(&zygote_lock);
}
