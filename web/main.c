/*
 * main.c - mugai-web, the quarantine console: options, config, the
 * listening socket, privileges, signals.
 *
 *   mugai-web [-c CONFIG] [-o key=value]... [-e] [-f] [-v]
 *
 * It stays in the foreground (systemd runs it as Type=simple; -f is
 * accepted for the milter's habit).  As root it reads the TLS key and
 * opens the socket first, writes web_pid_file, then becomes run_user
 * for good before it opens the quarantine or reads an account.
 * SIGTERM and SIGINT stop it cleanly: libmicrohttpd finishes the page
 * in hand and closes every connection, the quarantine is closed, the
 * pid file removed, exit 0.  SIGHUP is logged and otherwise harmless
 * (accounts are reread whenever their file changes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/sanitize/sanitize.h"
#include "web.h"

#define DEFAULT_CONFIG	"/etc/mugai/mugai.cf"
#define MAX_OVERRIDES	256
#define MAX_PEM		(1024 * 1024)
#define THROTTLE_SLOTS	4096

static void
usage(void)
{
	fprintf(stderr, "usage: mugai-web [-c CONFIG] [-o key=value]... "
	    "[-e] [-f] [-v]\n");
}

static void
print_problem(void *arg, enum mugai_config_severity sev, const char *msg)
{
	(void)arg;
	fprintf(stderr, "mugai-web: %s%s\n", sev == MUGAI_CONFIG_ERROR ? "" :
	    "warning: ", msg);
}

/* The whole of a PEM file, NUL terminated; NULL with err. */
static char *
read_pem(const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(MAX_PEM + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (len < MAX_PEM && (n = read(fd, buf + len, MAX_PEM - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if (len == 0 || len == MAX_PEM || strstr(buf, "-----BEGIN") == NULL) {
		snprintf(err, errlen, "%s: not a PEM file (or over 1 MB)", path);
		explicit_bzero(buf, len);
		free(buf);
		return NULL;
	}
	return buf;
}

/* web_listen, "HOST:PORT" or "[V6]:PORT": a listening socket or -1. */
static int
open_listener(const char *spec, char *err, size_t errlen)
{
	char host[256], *port;
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, rc;

	if (strlen(spec) >= sizeof(host)) {
		snprintf(err, errlen, "web_listen %s: too long", spec);
		return -1;
	}
	strcpy(host, spec);
	port = strrchr(host, ':');
	if (port == NULL || port == host || port[1] == '\0') {
		snprintf(err, errlen, "web_listen %s: write ADDRESS:PORT, e.g. "
		    "127.0.0.1:8025 or [::1]:8025", spec);
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "web_listen %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 64) != 0) {
		snprintf(err, errlen, "web_listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int
write_pid_file(const char *path)
{
	FILE *fp;

	if (path == NULL || *path == '\0')
		return 0;
	if ((fp = fopen(path, "we")) == NULL)
		return -1;
	fprintf(fp, "%ld\n", (long)getpid());
	return fclose(fp);
}

static int
drop_privileges(const struct mugai_config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	if (cfg->run_user == NULL || cfg->run_user[0] == '\0')
		return 0;
	if ((pw = getpwnam(cfg->run_user)) == NULL) {
		snprintf(err, errlen, "run_user %s: no such user; create it or "
		    "change run_user", cfg->run_user);
		return -1;
	}
	if (getuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s (start "
		    "mugai-web as root or as that user)", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "could not drop root privileges");
		return -1;
	}
	return 0;
}

struct opts {
	const char *config;
	char	*overrides[MAX_OVERRIDES];
	size_t	 noverrides;
	int	 to_stderr, verbose;
};

static int
parse_args(int argc, char **argv, struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "c:o:efvh")) != -1) {
		switch (ch) {
		case 'c':	o->config = optarg; break;
		case 'o':
			if (o->noverrides == MAX_OVERRIDES)
				return -1;
			o->overrides[o->noverrides++] = optarg;
			break;
		case 'e':	o->to_stderr = 1; break;
		case 'f':	break;
		case 'v':	o->verbose = 1; break;
		default:	return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (o->config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		o->config = DEFAULT_CONFIG;
	return 0;
}

/* Everything after the privileges are gone; returns the exit status. */
static int
serve(struct web_app *app, int fd, const char *cert, const char *key)
{
	struct web_server *srv;
	char err[1024];
	sigset_t set;
	int sig;

	if (mugai_quarantine_open(app->cfg, &app->q, err, sizeof(err)) != MUGAI_OK) {
		mugai_log(LOG_ERR, "web", "%s", err);
		return EX_CONFIG;
	}
	app->sessions = web_sessions_new(app->cfg->web_max_sessions,
	    app->cfg->web_session_timeout);
	app->throttle = web_throttle_new(THROTTLE_SLOTS,
	    app->cfg->web_login_max_failures, app->cfg->web_login_lockout);
	if (app->sessions == NULL || app->throttle == NULL) {
		mugai_log(LOG_ERR, "web", "out of memory");
		return EX_OSERR;
	}
	if (web_users_refresh(app) == 0 && app->users.n == 0)
		mugai_log(LOG_WARNING, "web", "web_users %s has no accounts; add "
		    "one with \"mugai web-user add NAME admin\"",
		    app->cfg->web_users);
	/* The server's thread must not take the signals main waits for. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((srv = web_server_start(app, fd, cert, key, err, sizeof(err))) == NULL) {
		mugai_log(LOG_ERR, "web", "%s", err);
		return EX_SOFTWARE;
	}
	mugai_log(LOG_INFO, "web", "started on %s (%s)", app->cfg->web_listen,
	    app->tls ? "https" : "http");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		mugai_log(LOG_INFO, "web", "SIGHUP: accounts are reread when "
		    "their file changes; restart to read the configuration");
	}
	mugai_log(LOG_INFO, "web", "stopping on signal %d", sig);
	web_server_stop(srv);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct web_app app;
	char err[1024], *cert = NULL, *key = NULL, *pid_file = NULL;
	int fd = -1, rc = EX_OK;

	if (parse_args(argc, argv, &o) != 0) {
		usage();
		return EX_USAGE;
	}
	memset(&app, 0, sizeof(app));
	app.cfg = mugai_config_load_report(o.config, o.overrides, o.noverrides,
	    print_problem, NULL);
	if (app.cfg == NULL)
		return EX_CONFIG;
	mugai_log_open("mugai-web", o.to_stderr ? MUGAI_LOG_STDERR :
	    MUGAI_LOG_SYSLOG, mugai_log_facility(app.cfg->log_facility) >= 0 ?
	    mugai_log_facility(app.cfg->log_facility) : LOG_MAIL,
	    o.verbose || app.cfg->log_verbose ? LOG_DEBUG : LOG_INFO);
	mugai_library_init();
	if ((app.cfg->web_tls_cert[0] != '\0') != (app.cfg->web_tls_key[0] != '\0')) {
		mugai_log(LOG_ERR, "web", "set both web_tls_cert and web_tls_key "
		    "for HTTPS, or neither");
		rc = EX_CONFIG;
		goto out;
	}
	if (app.cfg->web_tls_cert[0] != '\0') {
		if ((cert = read_pem(app.cfg->web_tls_cert, err, sizeof(err))) == NULL ||
		    (key = read_pem(app.cfg->web_tls_key, err, sizeof(err))) == NULL) {
			mugai_log(LOG_ERR, "web", "%s", err);
			rc = EX_CONFIG;
			goto out;
		}
		app.tls = 1;
	}
	if ((fd = open_listener(app.cfg->web_listen, err, sizeof(err))) < 0) {
		mugai_log(LOG_ERR, "web", "%s", err);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (write_pid_file(app.cfg->web_pid_file) != 0) {
		mugai_log(LOG_ERR, "web", "web_pid_file %s: %s",
		    app.cfg->web_pid_file, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	pid_file = strdup(app.cfg->web_pid_file);
	if (drop_privileges(app.cfg, err, sizeof(err)) != 0) {
		mugai_log(LOG_ERR, "web", "%s", err);
		rc = EX_NOPERM;
		goto out;
	}
	rc = serve(&app, fd, cert, key);
out:
	if (pid_file != NULL && *pid_file != '\0')
		(void)unlink(pid_file);
	free(pid_file);
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	if (fd >= 0)
		close(fd);
	mugai_quarantine_close(app.q);
	web_sessions_free(app.sessions);
	web_throttle_free(app.throttle);
	web_users_clear(&app.users);
	mugai_config_unref(app.cfg);
	mugai_library_shutdown();
	return rc;
}
