/*
 * zygote.h - the parent's side of the mugai-convert zygote (zygote.c),
 * used by worker.c only.
 *
 * One zygote per process (and worker path): started with posix_spawn on
 * first use, restarted when it has died, shared by all threads under a
 * lock that is held only to start it and to send one request.
 */
#ifndef MUGAI_CDR_ZYGOTE_H
#define MUGAI_CDR_ZYGOTE_H

#include <sys/types.h>
#include <time.h>

/*
 * zygote_request - have the zygote of argv[0] fork a child that runs
 * "mugai-convert argv[1]..." on the descriptors fds[0..2] (its stdin,
 * stdout, stderr), started with the environment envp if it must be
 * started.  On success 0, *sock is the request's status socket (see
 * convert/zygote.c: the wait status arrives there, a byte sent there
 * kills the child's group) and *pid the child.  -1 when no zygote could
 * take it before deadline (the caller runs the worker without it).
 */
int zygote_request(const char *const argv[], char *const envp[],
    const int fds[3], const struct timespec *deadline, int *sock,
    pid_t *pid);

/* zygote_stop - end this process's zygote, if any (tests, shutdown). */
void zygote_stop(void);

#endif
