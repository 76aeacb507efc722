/*
 * web.h - what the parts of mugai-web share: the application (config,
 * quarantine, sessions, accounts), one request and its response.
 *
 * server.c turns a libmicrohttpd request into a struct web_req, finds
 * its route (routes.c), checks the session, the role and the CSRF token,
 * calls the page, and sends the struct web_resp with the security
 * headers every response carries.  Pages never touch libmicrohttpd.
 */
#ifndef MUGAI_WEB_H
#define MUGAI_WEB_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/quarantine/quarantine.h"
#include "i18n.h"
#include "session.h"
#include "throttle.h"
#include "users.h"

#define WEB_MAX_BODY	(64 * 1024)	/* a form, never more */
#define WEB_MAX_PAGE	(32 * 1024 * 1024)	/* one generated page */

struct web_app {
	struct mugai_config *cfg;
	struct mugai_quarantine *q;
	struct web_sessions *sessions;
	struct web_throttle *throttle;
	struct web_users users;
	struct timespec users_mtime;
	ino_t	 users_ino;
	int	 tls;
};

struct web_req {
	struct web_app *app;
	void	*conn;			/* struct MHD_Connection, server.c only */
	const char *method;
	const char *path;
	const char *body;		/* POST form, NUL terminated, or "" */
	char	 client[64];		/* numeric address */
	enum web_lang lang;
	int	 logged_in;
	struct web_session sess;
	struct web_user user;		/* a copy, valid for the request */
	char	*strings[32];		/* values handed out, freed at the end */
	size_t	 nstrings;
};

#define WEB_MAX_COOKIES	3

struct web_resp {
	unsigned status;
	const char *ctype;		/* default text/html; charset=utf-8 */
	struct mugai_buf body;
	char	*location;		/* redirect target */
	char	*cookies[WEB_MAX_COOKIES];
	size_t	 ncookies;
	char	*disposition;		/* Content-Disposition */
	time_t	 static_age;		/* >0: cacheable for that long */
	int	 failed;		/* an append failed: the server sends 500 */
};

/* Roles as bits, for the route table. */
#define WEB_R_ADMIN	(1u << WEB_ROLE_ADMIN)
#define WEB_R_AUDITOR	(1u << WEB_ROLE_AUDITOR)
#define WEB_R_STAFF	(1u << WEB_ROLE_STAFF)
#define WEB_R_ANY	(WEB_R_ADMIN | WEB_R_AUDITOR | WEB_R_STAFF)

typedef void (*web_handler)(struct web_req *, struct web_resp *);

struct web_route {
	const char *method;		/* "GET" or "POST" */
	const char *path;		/* exact, or a prefix ending in '/' */
	unsigned roles;			/* 0: no login needed */
	web_handler fn;			/* NULL: a page still to come */
};

/* routes.c */
const struct web_route *web_route_find(const char *method, const char *path);
int web_route_exists(const char *path);

/* server.c: values of the request (NULL when absent; no need to free). */
const char *web_arg(struct web_req *req, const char *name);	/* query */
const char *web_arg_set(struct web_req *req, const char *name); /* not "" */
const char *web_field(struct web_req *req, const char *name);	/* form */
const char *web_header(struct web_req *req, const char *name);
const char *web_cookie(struct web_req *req, const char *name);

/* server.c: the response. */
void web_redirect(struct web_resp *resp, const char *location);
void web_set_cookie(struct web_req *req, struct web_resp *resp,
    const char *name, const char *value, long max_age);
/* web_error - a small page with status and the (English) message, translated. */
void web_error(struct web_req *req, struct web_resp *resp, unsigned status,
    const char *en);

/* server.c: users file, reread when it changed; 0 or -1 (logged). */
int web_users_refresh(struct web_app *app);
/* server.c: what a session remembers of the password (its hash's digest). */
unsigned long long web_user_stamp(const struct web_user *u);

/* server.c: the daemon. */
struct web_server;
struct web_server *web_server_start(struct web_app *app, int listen_fd,
    const char *cert_pem, const char *key_pem, char *err, size_t errlen);
void web_server_stop(struct web_server *s);

#endif
