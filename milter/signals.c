/*
 * signals.c - one thread takes every signal mugai-milter handles; the
 * main thread reads them as events (see signals.h).
 *
 * Why sigwait(3) is replaced here: libmilter's smfi_main() always starts
 * a thread that loops on sigwait({SIGHUP, SIGTERM, SIGINT}) and, on any
 * of them, closes the listening socket and makes smfi_main() return
 * MI_SUCCESS.  A signal sent to the process goes to whichever thread is
 * waiting for it; whenever our thread was busy (a reload, or before it
 * reached sigwait) libmilter's took the SIGHUP and the milter stopped
 * with exit 0, which systemd's Restart=on-failure ignores.  No libmilter
 * setting turns that thread off, so this program defines sigwait(): the
 * dynamic linker binds libmilter's call to it (the executable comes
 * first in symbol lookup), and it never returns one of our signals.  A
 * caller waiting only for ours (libmilter's thread) sleeps for good; any
 * other set is waited for as asked.  Our own thread calls sigwaitinfo(),
 * which this does not touch.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>

#include "mugai/base/log.h"
#include "signals.h"

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sig_cond = PTHREAD_COND_INITIALIZER;
static int sig_reload;		/* reload signal not yet returned */
static int sig_stop;		/* stop signal, 0 if none */
static int sig_listener_ended;

static void
signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* The set without our signals; 1 when nothing else is left in it. */
static int
others_only(const sigset_t *set, sigset_t *rest)
{
	sigset_t ours;
	int sig;

	signal_set(&ours);
	*rest = *set;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&ours, sig) == 1)
			sigdelset(rest, sig);
	return sigisemptyset(rest);
}

/* For libmilter's signal thread only (see the top of this file). */
int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t rest;
	int s;

	if (others_only(set, &rest)) {
		for (;;)
			pause();
	}
	do
		s = sigwaitinfo(&rest, NULL);
	while (s < 0 && errno == EINTR);
	if (s < 0)
		return errno;
	*sig = s;
	return 0;
}

/* The dedicated thread: only waits and records, never blocks on work. */
static void *
signal_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	signal_set(&set);
	for (;;) {
		if ((sig = sigwaitinfo(&set, NULL)) < 0)
			continue;
		pthread_mutex_lock(&sig_lock);
		if (sig == SIGHUP || sig == SIGUSR1)
			sig_reload = sig;
		else if (sig_stop == 0)
			sig_stop = sig;
		pthread_cond_signal(&sig_cond);
		pthread_mutex_unlock(&sig_lock);
	}
	return NULL;
}

void
milter_signals_block(void)
{
	sigset_t set;

	signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int
milter_signals_start(void)
{
	pthread_t tid;
	sigset_t set;
	int rc;

	signal_set(&set);
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0 ||
	    (rc = pthread_create(&tid, NULL, signal_thread, NULL)) != 0) {
		errno = rc;
		return -1;
	}
	pthread_detach(tid);
	return 0;
}

enum milter_event
milter_signals_next(int *sig)
{
	enum milter_event ev;

	pthread_mutex_lock(&sig_lock);
	while (!sig_stop && !sig_listener_ended && !sig_reload)
		pthread_cond_wait(&sig_cond, &sig_lock);
	if (sig_stop) {
		ev = MILTER_EV_STOP;
		*sig = sig_stop;
	} else if (sig_listener_ended) {
		ev = MILTER_EV_LISTENER_ENDED;
		*sig = 0;
	} else {
		/* Every signal so far is covered by the reload about to run. */
		ev = MILTER_EV_RELOAD;
		*sig = sig_reload;
		sig_reload = 0;
	}
	pthread_mutex_unlock(&sig_lock);
	return ev;
}

void
milter_signals_listener_ended(void)
{
	pthread_mutex_lock(&sig_lock);
	sig_listener_ended = 1;
	pthread_cond_signal(&sig_cond);
	pthread_mutex_unlock(&sig_lock);
}
