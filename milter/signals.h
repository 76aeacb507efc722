/*
 * signals.h - mugai-milter's signals, taken by one dedicated thread and
 * turned into events for the main thread.
 *
 *   SIGHUP, SIGUSR1  reload (signals during a reload make one more)
 *   SIGTERM, SIGINT  stop
 *
 * libmilter's smfi_main starts a signal thread of its own that takes
 * SIGHUP as "stop" and returns from smfi_main with success; a SIGHUP
 * that reached it stopped the milter with exit 0.  signals.c therefore
 * also replaces sigwait(3) for libmilter (see there), so that no thread
 * but ours ever takes these signals.
 */
#ifndef MUGAI_MILTER_SIGNALS_H
#define MUGAI_MILTER_SIGNALS_H

enum milter_event {
	MILTER_EV_RELOAD,	/* reload the configuration and database */
	MILTER_EV_STOP,		/* SIGTERM or SIGINT: stop and exit 0 */
	MILTER_EV_LISTENER_ENDED /* smfi_main returned, unasked */
};

/*
 * milter_signals_block - block the signals in the calling thread, so
 * that they wait for milter_signals_start (first thing in main: a
 * SIGHUP would otherwise kill the process while it starts).
 */
void milter_signals_block(void);

/*
 * milter_signals_start - block the signals and start the thread that
 * waits for them.  Call before any other thread exists (every later
 * thread inherits the blocked set, so none takes them) and so before
 * smfi_main.  0 on success, else -1 with errno set.
 */
int milter_signals_start(void);

/*
 * milter_signals_next - wait for the next event.  A stop is returned
 * before a pending reload; any number of reload signals since the last
 * MILTER_EV_RELOAD returned make one more.  *sig is the signal (0 for
 * MILTER_EV_LISTENER_ENDED).
 */
enum milter_event milter_signals_next(int *sig);

/* milter_signals_listener_ended - for the listener thread, on return. */
void milter_signals_listener_ended(void);

#endif
