/*
 * cmd_web_user.c - "mugai web-user": the accounts of mugai-web.
 *
 *   mugai web-user add NAME admin|auditor|staff [ADDRESS...]
 *   mugai web-user passwd NAME
 *   mugai web-user del NAME
 *   mugai web-user list
 *
 * The file is web_users (web/users.h).  A password is never an argument
 * (it would show in ps and the shell's history): it is read from the
 * terminal twice without echo, or as one line from standard input when
 * that is not a terminal (scripts, tests).  Changes are written whole
 * to a temporary file and renamed over the old one, under an flock of
 * NAME.lock, so two commands at once cannot lose an account; the file
 * is 0600 and keeps its owner, or, new and made by root, belongs to
 * run_user so mugai-web can read it.  mugai-web rereads the file when
 * it changes; a deleted account's sessions end at its next request.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "../web/auth.h"
#include "../web/users.h"
#include "cmd.h"

#define MIN_PASSWORD	8

static void
wu_err(const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
wu_err(const char *sub, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mugai web-user%s%s: ", sub ? " " : "", sub ? sub : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One line from fp without its newline; 0, or -1 at EOF or too long. */
static int
read_line(FILE *fp, char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, fp) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == len - 1)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}

static int
ask(FILE *tty, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int rc;

	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(fileno(tty), TCSANOW, &quiet) != 0)
		return -1;
	rc = read_line(tty, buf, len);
	(void)tcsetattr(fileno(tty), TCSANOW, &old);
	return rc;
}

/* The new password into buf: tty twice, or one line of stdin. */
static int
get_password(const char *sub, char *buf, size_t len)
{
	char again[WEB_PASSWORD_MAX + 2];
	FILE *tty;
	int rc = -1;

	if (!isatty(STDIN_FILENO)) {
		if (read_line(stdin, buf, len) != 0) {
			wu_err(sub, "no password on standard input (one line, "
			    "at most %d bytes)", WEB_PASSWORD_MAX);
			return -1;
		}
	} else {
		if ((tty = fopen("/dev/tty", "r+e")) == NULL) {
			wu_err(sub, "cannot open the terminal: %s",
			    strerror(errno));
			return -1;
		}
		if (ask(tty, "New password: ", buf, len) == 0 &&
		    ask(tty, "Again: ", again, sizeof(again)) == 0)
			rc = strcmp(buf, again) == 0 ? 0 : -2;
		explicit_bzero(again, sizeof(again));
		fclose(tty);
		if (rc != 0) {
			wu_err(sub, rc == -2 ? "the passwords differ; nothing "
			    "changed" : "no password read");
			return -1;
		}
	}
	if (strlen(buf) < MIN_PASSWORD) {
		explicit_bzero(buf, len);
		wu_err(sub, "a password needs at least %d characters",
		    MIN_PASSWORD);
		return -1;
	}
	return 0;
}

static int
lock_file(const char *path, const char *sub)
{
	char lock[4096];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX) != 0) {
		wu_err(sub, "%s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Who should own the file: its owner now, else run_user when root. */
static void
owner(const struct mugai_config *cfg, int *uid, int *gid)
{
	struct stat st;
	struct passwd *pw;

	*uid = *gid = -1;
	if (stat(cfg->web_users, &st) == 0) {
		*uid = (int)st.st_uid;
		*gid = (int)st.st_gid;
	} else if (geteuid() == 0 && cfg->run_user[0] != '\0' &&
	    (pw = getpwnam(cfg->run_user)) != NULL) {
		*uid = (int)pw->pw_uid;
		*gid = (int)pw->pw_gid;
	}
}

static int
wu_list(const struct web_users *u)
{
	size_t i, j;

	for (i = 0; i < u->n; i++) {
		printf("%s\t%s\t", u->u[i].name, web_role_str(u->u[i].role));
		for (j = 0; j < u->u[i].naddrs; j++)
			printf("%s%s", j ? "," : "", u->u[i].addrs[j]);
		printf("\n");
	}
	return EX_OK;
}

static int
wu_usage(void)
{
	fprintf(stderr, "usage: mugai web-user add NAME admin|auditor|staff "
	    "[ADDRESS...]\n       mugai web-user passwd NAME\n"
	    "       mugai web-user del NAME\n       mugai web-user list\n"
	    "The password is read from the terminal, or as one line from "
	    "standard input.\n");
	return EX_USAGE;
}

int
cmd_web_user(int argc, char **argv, struct mugai_config *cfg)
{
	struct web_users u;
	const struct web_user *old;
	const char *sub;
	char err[1024], pw[WEB_PASSWORD_MAX + 2], hash[512];
	enum web_role role;
	int lockfd = -1, rc = EX_OK, uid, gid, change = 1;

	if (argc < 2)
		return wu_usage();
	sub = argv[1];
	if ((strcmp(sub, "list") == 0 && argc != 2) ||
	    ((strcmp(sub, "passwd") == 0 || strcmp(sub, "del") == 0) &&
	    argc != 3) || (strcmp(sub, "add") == 0 && argc < 4))
		return wu_usage();
	if (strcmp(sub, "list") != 0 && strcmp(sub, "passwd") != 0 &&
	    strcmp(sub, "del") != 0 && strcmp(sub, "add") != 0)
		return wu_usage();
	if (strcmp(sub, "list") != 0 && (lockfd = lock_file(cfg->web_users, sub)) < 0)
		return EX_CANTCREAT;
	if (web_users_load(cfg->web_users, &u, err, sizeof(err)) != 0) {
		wu_err(sub, "%s", err);
		rc = EX_DATAERR;
		goto out;
	}
	old = argc > 2 ? web_users_find(&u, argv[2]) : NULL;
	if (strcmp(sub, "list") == 0) {
		rc = wu_list(&u);
		change = 0;
	} else if (strcmp(sub, "del") == 0) {
		if (web_users_del(&u, argv[2]) != 0) {
			wu_err(sub, "no such user %s", argv[2]);
			rc = EX_NOUSER;
		}
	} else if (strcmp(sub, "add") == 0 && old != NULL) {
		wu_err(sub, "%s exists already; use passwd or del", argv[2]);
		rc = EX_DATAERR;
	} else if (strcmp(sub, "passwd") == 0 && old == NULL) {
		wu_err(sub, "no such user %s", argv[2]);
		rc = EX_NOUSER;
	} else if (strcmp(sub, "add") == 0 && web_role_parse(argv[3], &role) != 0) {
		wu_err(sub, "role \"%s\" is not admin, auditor or staff",
		    argv[3]);
		rc = EX_USAGE;
	} else {
		if (strcmp(sub, "passwd") == 0)
			role = old->role;
		if (get_password(sub, pw, sizeof(pw)) != 0) {
			rc = EX_DATAERR;
		} else if (web_password_hash(pw, hash, sizeof(hash)) != 0) {
			wu_err(sub, "libcrypt could not hash the password");
			rc = EX_SOFTWARE;
		} else if (web_users_set(&u, argv[2], hash, role,
		    strcmp(sub, "add") == 0 ? argv + 4 : old->addrs,
		    strcmp(sub, "add") == 0 ? (size_t)(argc - 4) : old->naddrs,
		    err, sizeof(err)) != 0) {
			wu_err(sub, "%s", err);
			rc = EX_DATAERR;
		}
		explicit_bzero(pw, sizeof(pw));
	}
	if (rc == EX_OK && change) {
		owner(cfg, &uid, &gid);
		if (web_users_save(&u, cfg->web_users, uid, gid, err,
		    sizeof(err)) != 0) {
			wu_err(sub, "%s", err);
			rc = EX_CANTCREAT;
		}
	}
	web_users_clear(&u);
out:
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}
