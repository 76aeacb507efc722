/*
 * main.c - mugai-milter: start-up, signals and shutdown.
 *
 * Threads: signals.c's thread takes every signal and turns it into an
 * event; the main thread acts on events (reloads, shutdown); libmilter
 * runs its listener (and a thread per MTA connection) in a thread of
 * its own.  The socket is opened only once the configuration and the
 * ClamAV database are loaded, so it never accepts a connection nobody
 * answers; the loading runs as run_user already (effective ids), root
 * coming back only to open the socket.
 *
 *   SIGHUP, SIGUSR1  reload the configuration and the ClamAV database;
 *                    signals during a reload make one more reload
 *   SIGTERM, SIGINT  stop accepting, finish mail in flight, exit 0
 *
 * Any other end of libmilter's listener is a failure: logged, exit 70
 * (EX_SOFTWARE), so that systemd's Restart=on-failure starts us again.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/sanitize/sanitize.h"
#include "callbacks.h"
#include "signals.h"
#include "state.h"

#define DEFAULT_CONFIG	"/etc/mugai/mugai.cf"
#define MAX_OVERRIDES	256

struct options {
	const char *config;
	char	*overrides[MAX_OVERRIDES];
	size_t	 noverrides;
	int	 foreground;
	int	 log_stderr;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: mugai-milter [-f] [-e] [-c CONFIG] "
	    "[-o key=value]...\n"
	    "  -c CONFIG     configuration file (default %s if it exists)\n"
	    "  -o key=value  override one setting; may be repeated\n"
	    "  -f            stay in the foreground\n"
	    "  -e            log to standard error instead of syslog\n",
	    DEFAULT_CONFIG);
}

/* Start-up errors go to the terminal and, for a daemon, to syslog. */
static int
fail(struct options *o, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct options *o, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mugai-milter: %s\n", msg);
	if (!o->log_stderr)
		mugai_log(LOG_ERR, NULL, "%s", msg);
	return code;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:o:feh")) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			if (o->noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "mugai-milter: more than %d "
				    "-o options\n", MAX_OVERRIDES);
				return EX_USAGE;
			}
			o->overrides[o->noverrides++] = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'e':
			o->log_stderr = 1;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mugai-milter: unexpected argument %s\n",
		    argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	if (o->config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		o->config = DEFAULT_CONFIG;
	return EX_OK;
}

/*
 * Become a daemon before any thread exists.  The parent waits until the
 * child says it is ready (one byte on the pipe) or dies, so start-up
 * errors still reach the terminal and the exit status.
 */
static int
daemonize(int *readyfd)
{
	int p[2], status;
	pid_t pid;
	char c;

	if (pipe(p) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			_exit(EX_OK);
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		_exit(EX_SOFTWARE);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	*readyfd = p[1];
	return 0;
}

/* Detach stdio once start-up is done; the parent then exits. */
static void
daemon_ready(int readyfd)
{
	int fd;

	if (readyfd < 0)
		return;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	(void)write(readyfd, "1", 1);
	close(readyfd);
}

static int
write_pid_file(const char *path)
{
	char buf[32];
	int fd, n;

	if (path == NULL || *path == '\0')
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static const char *
unix_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * Open the MTA socket while still privileged.  A unix socket is made
 * 0660 and given to run_user, so the MTA joins that user's group.
 */
static int
open_socket(struct options *o, const struct mugai_config *cfg,
    const struct passwd *pw)
{
	const char *path;
	mode_t old;
	int rc;

	if (smfi_setconn(cfg->milter_socket) != MI_SUCCESS)
		return fail(o, EX_CONFIG, "milter_socket %s: not a socket "
		    "specification (use unix:/path or inet:PORT@127.0.0.1)",
		    cfg->milter_socket);
	if (smfi_settimeout((int)cfg->milter_timeout) != MI_SUCCESS ||
	    smfi_register(*milter_callbacks()) != MI_SUCCESS)
		return fail(o, EX_SOFTWARE, "libmilter refused the filter "
		    "description");
	old = umask(0117);
	rc = smfi_opensocket(1);
	umask(old);
	if (rc != MI_SUCCESS)
		return fail(o, EX_UNAVAILABLE, "cannot listen on %s: check "
		    "that the directory exists and the address is free",
		    cfg->milter_socket);
	path = unix_socket_path(cfg->milter_socket);
	if (path != NULL && pw != NULL && chown(path, pw->pw_uid,
	    pw->pw_gid) != 0)
		return fail(o, EX_OSERR, "cannot give %s to user %s: %s",
		    path, pw->pw_name, strerror(errno));
	return EX_OK;
}

static int
find_user(struct options *o, const struct mugai_config *cfg,
    struct passwd **pw)
{
	*pw = NULL;
	if (cfg->run_user == NULL || cfg->run_user[0] == '\0')
		return EX_OK;
	if ((*pw = getpwnam(cfg->run_user)) == NULL)
		return fail(o, EX_NOUSER, "run_user %s: no such user; create "
		    "it or change run_user in %s", cfg->run_user,
		    cfg->path ? cfg->path : "the configuration");
	if (getuid() != 0 && getuid() != (*pw)->pw_uid)
		return fail(o, EX_NOPERM, "run_user %s: start mugai-milter as "
		    "root or as that user", cfg->run_user);
	return EX_OK;
}

/*
 * Become run_user for the loading, effective ids only: root stays the
 * saved id, so that the socket can be opened afterwards (a directory
 * only root may write, chown), while the files made while loading
 * (spool, quarantine) belong to run_user.
 */
static int
become_user(struct options *o, const struct passwd *pw)
{
	if (pw == NULL || getuid() == pw->pw_uid)
		return EX_OK;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setresgid((gid_t)-1, pw->pw_gid, (gid_t)-1) != 0 ||
	    setresuid((uid_t)-1, pw->pw_uid, (uid_t)-1) != 0)
		return fail(o, EX_OSERR, "cannot become user %s: %s",
		    pw->pw_name, strerror(errno));
	return EX_OK;
}

/* Root again (from the saved ids), to open the socket. */
static int
become_root(struct options *o, const struct passwd *pw)
{
	if (pw == NULL || getuid() == pw->pw_uid)
		return EX_OK;
	if (setresuid((uid_t)-1, 0, (uid_t)-1) != 0 ||
	    setresgid((gid_t)-1, 0, (gid_t)-1) != 0)
		return fail(o, EX_OSERR, "cannot become root again to open "
		    "the socket: %s", strerror(errno));
	return EX_OK;
}

static int
drop_privileges(struct options *o, const struct passwd *pw)
{
	if (pw == NULL || getuid() == pw->pw_uid)
		return EX_OK;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return fail(o, EX_OSERR, "cannot become user %s: %s",
		    pw->pw_name, strerror(errno));
	if (setuid(0) == 0)
		return fail(o, EX_SOFTWARE, "could not drop root privileges");
	return EX_OK;
}

/* libmilter's listener; tells the main thread when it returns. */
static void *
listener(void *arg)
{
	int *rc = arg;

	*rc = smfi_main();
	milter_signals_listener_ended();
	return NULL;
}

/*
 * Act on events until one says stop: 0 for a stop that was asked for,
 * -1 when the listener ended by itself.
 */
static int
event_loop(struct options *o, const int *lrc)
{
	int sig;

	for (;;) {
		switch (milter_signals_next(&sig)) {
		case MILTER_EV_RELOAD:
			mugai_log(LOG_INFO, NULL, "reloading on signal %d",
			    sig);
			(void)milter_state_reload(o->config, o->overrides,
			    o->noverrides);
			break;
		case MILTER_EV_STOP:
			mugai_log(LOG_INFO, NULL, "stopping on signal %d", sig);
			return 0;
		case MILTER_EV_LISTENER_ENDED:
			mugai_log(LOG_ERR, NULL, "libmilter listener ended "
			    "unexpectedly (smfi_main returned %d); exiting "
			    "with status %d so that the service manager "
			    "restarts mugai-milter", *lrc, EX_SOFTWARE);
			return -1;
		}
	}
}

/*
 * Stop accepting, let messages in flight finish, then free everything.
 * 0 when messages were still in flight at the deadline: then nothing
 * may be freed under them, and the caller must leave with _exit.
 *
 * New messages are deferred first; libmilter is only stopped once the
 * messages in flight are done, because smfi_stop() ends every session
 * at once where libmilter runs them in a pool of workers (as Debian's
 * does): no later command of a message in flight would be read.
 */
static int
shut_down(pthread_t tid)
{
	unsigned wait = milter_state_shutdown_timeout();
	int idle;

	milter_callbacks_stop();
	mugai_log(LOG_INFO, NULL, "deferring new messages; waiting up to %us "
	    "for messages in flight", wait);
	idle = milter_state_wait_idle(wait);
	smfi_stop();
	pthread_join(tid, NULL);
	if (!idle) {
		mugai_log(LOG_WARNING, NULL, "messages still in flight after "
		    "%us; exiting, the MTA will defer them", wait);
		return 0;
	}
	milter_state_close();
	mugai_library_shutdown();
	return 1;
}

static int
run(struct options *o, struct mugai_config *cfg, int readyfd)
{
	char err[1024], *pid_file = NULL;
	struct passwd *pw;
	pthread_t tid;
	int rc, idle, stop, lrc = MI_SUCCESS;

	if ((rc = find_user(o, cfg, &pw)) != EX_OK ||
	    (rc = become_user(o, pw)) != EX_OK)
		return rc;
	mugai_library_init();
	/* milter_state_open takes our reference to cfg. */
	if (milter_state_open(mugai_config_ref(cfg), err, sizeof(err)) !=
	    MUGAI_OK)
		return fail(o, EX_CONFIG, "%s", err);
	/* Loaded: only now may the MTA connect. */
	if ((rc = become_root(o, pw)) != EX_OK ||
	    (rc = open_socket(o, cfg, pw)) != EX_OK)
		goto unload;
	if (write_pid_file(cfg->pid_file) != 0) {
		rc = fail(o, EX_CANTCREAT, "pid_file %s: %s", cfg->pid_file,
		    strerror(errno));
		goto unload;
	}
	if ((pid_file = strdup(cfg->pid_file)) == NULL) {
		rc = fail(o, EX_OSERR, "out of memory");
		goto unload;
	}
	if ((rc = drop_privileges(o, pw)) != EX_OK)
		goto unload;
	if (pthread_create(&tid, NULL, listener, &lrc) != 0) {
		rc = fail(o, EX_OSERR, "cannot start the listener thread");
		goto unload;
	}
	mugai_log(LOG_INFO, NULL, "started on %s (config %s)",
	    cfg->milter_socket, o->config ? o->config : "built-in defaults");
	daemon_ready(readyfd);
	stop = event_loop(o, &lrc);
	idle = shut_down(tid);
	rc = stop == 0 ? EX_OK : EX_SOFTWARE;
	if (!idle) {
		if (*pid_file != '\0')
			(void)unlink(pid_file);
		_exit(rc);
	}
	mugai_log(LOG_INFO, NULL, rc == EX_OK ? "stopped" : "stopped after "
	    "a failure");
	goto out;
unload:
	/* Nothing started: nothing in flight. */
	milter_state_close();
	mugai_library_shutdown();
out:
	if (pid_file != NULL && *pid_file != '\0')
		(void)unlink(pid_file);
	free(pid_file);
	return rc;
}

/*
 * glibc gives each thread that contends for malloc an arena of its own,
 * up to 8 per core, and each keeps what it once held: with a thread per
 * SMTP session that is most of the milter's memory.  A few arenas are
 * enough on mail-server core counts.  Buffers of a megabyte and more
 * (messages, decoded parts) are mapped and returned when freed; glibc
 * would otherwise raise that threshold after the first large free and
 * keep later ones in the heap.
 */
#define MILTER_ARENAS		4
#define MILTER_MMAP_MIN		(1024 * 1024)

static void
malloc_tune(void)
{
	(void)mallopt(M_ARENA_MAX, MILTER_ARENAS);
	(void)mallopt(M_MMAP_THRESHOLD, MILTER_MMAP_MIN);
	(void)mallopt(M_TRIM_THRESHOLD, 2 * MILTER_MMAP_MIN);
}

/* Start-up: every problem in the configuration to standard error. */
static void
print_problem(void *arg, enum mugai_config_severity sev, const char *msg)
{
	(void)arg;
	fprintf(stderr, "mugai-milter: %s%s\n", sev == MUGAI_CONFIG_ERROR ?
	    "" : "warning: ", msg);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct mugai_config *cfg;
	int rc, facility, readyfd = -1;

	/* A signal waits for its thread instead of killing us meanwhile. */
	milter_signals_block();
	malloc_tune();
	memset(&o, 0, sizeof(o));
	if ((rc = parse_args(argc, argv, &o)) != EX_OK)
		return rc;
	cfg = mugai_config_load_report(o.config, o.overrides, o.noverrides,
	    print_problem, NULL);
	if (cfg == NULL) {
		fprintf(stderr, "mugai-milter: the configuration has errors "
		    "(above); nothing started\n");
		return EX_CONFIG;
	}
	if ((facility = mugai_log_facility(cfg->log_facility)) < 0) {
		fprintf(stderr, "mugai-milter: log_facility %s: unknown; use "
		    "mail, daemon or local0..local7\n", cfg->log_facility);
		mugai_config_unref(cfg);
		return EX_CONFIG;
	}
	mugai_log_open("mugai-milter", o.log_stderr ? MUGAI_LOG_STDERR :
	    MUGAI_LOG_SYSLOG, facility, cfg->log_verbose ? LOG_DEBUG :
	    LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (!o.foreground && daemonize(&readyfd) != 0) {
		mugai_config_unref(cfg);
		return fail(&o, EX_OSERR, "cannot become a daemon: %s",
		    strerror(errno));
	}
	/* After the fork (threads do not survive it), before any other. */
	if (milter_signals_start() != 0) {
		mugai_config_unref(cfg);
		return fail(&o, EX_OSERR, "cannot start the signal thread: "
		    "%s", strerror(errno));
	}
	rc = run(&o, cfg, readyfd);
	mugai_config_unref(cfg);
	return rc;
}
