/*
 * server.c - libmicrohttpd underneath the pages (web.h).
 *
 * libmicrohttpd runs one internal polling thread: connections are read
 * and written without blocking, and pages run one at a time on that
 * thread, so a page sees the accounts and its session without racing
 * another page (a release waiting for sendmail holds the others up for
 * that long, which a console can afford).
 *
 * Every request goes the same way: the body (a form) is collected up to
 * WEB_MAX_BODY; the route is looked up; the session cookie is checked
 * and the account read again when the file changed (a deleted account,
 * or one whose password changed, is logged out at its next click); a page that needs a role gets a
 * login redirect or 403; every POST of a logged-in page must carry the
 * session's CSRF token; then the page runs, and its response goes out
 * with the security headers every response has.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "mugai/base/log.h"
#include "form.h"
#include "html.h"
#include "page.h"
#include "web.h"

#define CSP "default-src 'self'; frame-ancestors 'none'; form-action 'self'; " \
	"base-uri 'none'; object-src 'none'"

struct web_server {
	struct MHD_Daemon *d;
};

struct conn_ctx {
	struct mugai_buf body;
	int	 too_big;
};

/* ---- values of the request ----------------------------------------------- */

static const char *
keep(struct web_req *req, char *s)
{
	if (s == NULL)
		return NULL;
	if (req->nstrings == sizeof(req->strings) / sizeof(req->strings[0])) {
		free(s);
		return NULL;
	}
	req->strings[req->nstrings++] = s;
	return s;
}

const char *
web_arg(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* A query value that is there and not empty: a blank search field is none. */
const char *
web_arg_set(struct web_req *req, const char *name)
{
	const char *v = web_arg(req, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

const char *
web_field(struct web_req *req, const char *name)
{
	return keep(req, web_form_get(req->body, name));
}

const char *
web_header(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
web_cookie(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

/* ---- the response ---------------------------------------------------------- */

void
web_redirect(struct web_resp *resp, const char *location)
{
	free(resp->location);
	resp->location = strdup(location);
	resp->status = MHD_HTTP_SEE_OTHER;
	if (resp->location == NULL)
		resp->failed = 1;
}

void
web_set_cookie(struct web_req *req, struct web_resp *resp, const char *name,
    const char *value, long max_age)
{
	char *c = NULL;

	if (resp->ncookies == WEB_MAX_COOKIES) {
		resp->failed = 1;
		return;
	}
	if (asprintf(&c, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s%ld",
	    name, value, req->app->tls ? "; Secure" : "",
	    max_age >= 0 ? "; Max-Age=" : "", max_age >= 0 ? max_age : 0) < 0) {
		resp->failed = 1;
		return;
	}
	if (max_age < 0)	/* a session cookie: no Max-Age at all */
		c[strlen(c) - 1] = '\0';
	resp->cookies[resp->ncookies++] = c;
}

void
web_error(struct web_req *req, struct web_resp *resp, unsigned status,
    const char *en)
{
	resp->failed = 0;
	resp->ctype = NULL;
	free(resp->disposition);
	resp->disposition = NULL;
	web_page_error(req, resp, status, status == 404 ? "Not found." :
	    "Message", en, NULL);
	web_page_end(req, resp);
}

/* ---- accounts ---------------------------------------------------------------- */

int
web_users_refresh(struct web_app *app)
{
	struct web_users fresh;
	struct stat st;
	char err[1024];

	if (stat(app->cfg->web_users, &st) != 0) {
		if (errno != ENOENT) {
			mugai_log(LOG_ERR, "web", "web_users %s: %s",
			    app->cfg->web_users, strerror(errno));
			return -1;
		}
		memset(&st, 0, sizeof(st));
	}
	if (st.st_ino == app->users_ino &&
	    st.st_mtim.tv_sec == app->users_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == app->users_mtime.tv_nsec && app->users.n > 0)
		return 0;
	if (web_users_load(app->cfg->web_users, &fresh, err, sizeof(err)) != 0) {
		mugai_log(LOG_ERR, "web", "%s; keeping the accounts read "
		    "before", err);
		return -1;
	}
	web_users_clear(&app->users);
	app->users = fresh;
	app->users_ino = st.st_ino;
	app->users_mtime = st.st_mtim;
	return 0;
}

/* ---- one request ----------------------------------------------------------- */

static void
client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, len, "unknown");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    out, (socklen_t)len);
}

/* FNV-1a of the password hash: changes whenever the password does. */
unsigned long long
web_user_stamp(const struct web_user *u)
{
	unsigned long long h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)u->hash; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* The session named by the cookie and its account, into req. */
static void
find_session(struct web_req *req)
{
	const struct web_user *u;
	const char *sid = web_cookie(req, "mugai_sid");

	if (sid == NULL || web_session_find(req->app->sessions, sid,
	    time(NULL), &req->sess) != 0)
		return;
	(void)web_users_refresh(req->app);
	u = web_users_find(&req->app->users, req->sess.user);
	/* A deleted account, or a password changed since the login. */
	if (u == NULL || web_user_stamp(u) != req->sess.stamp) {
		web_session_end(req->app->sessions, sid);
		return;
	}
	req->user = *u;		/* pointers stay valid: one page at a time */
	req->logged_in = 1;
}

/* To the login page, which comes back to path afterwards (the link in
 * a notice, /request/ID, is followed by people not logged in yet). */
static void
login_then(struct web_resp *resp, const char *path)
{
	struct mugai_buf b;

	mugai_buf_init(&b, 4096);
	if (mugai_buf_puts(&b, "/login?next=") == MUGAI_OK &&
	    web_url(&b, path) == MUGAI_OK)
		web_redirect(resp, b.data);
	else
		web_redirect(resp, "/login");
	mugai_buf_free(&b);
}

static void
dispatch(struct web_req *req, struct web_resp *resp)
{
	const struct web_route *r;
	int post = strcmp(req->method, "POST") == 0;

	if (!post && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0) {
		web_error(req, resp, MHD_HTTP_METHOD_NOT_ALLOWED, "Bad request.");
		return;
	}
	find_session(req);
	r = web_route_find(post ? "POST" : "GET", req->path);
	if (r == NULL) {
		web_error(req, resp, web_route_exists(req->path) ?
		    MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND,
		    web_route_exists(req->path) ? "Bad request." : "Not found.");
		return;
	}
	if (r->roles != 0 && !req->logged_in) {
		if (post)
			web_error(req, resp, MHD_HTTP_FORBIDDEN,
			    "The form has expired; please try again.");
		else
			login_then(resp, req->path);
		return;
	}
	if (r->roles != 0 && !(r->roles & (1u << req->user.role))) {
		web_error(req, resp, MHD_HTTP_FORBIDDEN, "You may not do that.");
		return;
	}
	/* Every form of a logged-in user carries the session's token. */
	if (post && req->logged_in &&
	    !web_session_csrf_ok(&req->sess, web_field(req, "csrf"))) {
		mugai_log(LOG_WARNING, "web", "%s %s from %s by %s: CSRF token "
		    "missing or wrong; refused", req->method, req->path,
		    req->client, req->user.name);
		web_error(req, resp, MHD_HTTP_FORBIDDEN,
		    "The form has expired; please try again.");
		return;
	}
	if (r->fn == NULL) {
		web_error(req, resp, MHD_HTTP_NOT_FOUND, "Not available yet.");
		return;
	}
	r->fn(req, resp);
}

static enum MHD_Result
add(struct MHD_Response *r, const char *name, const char *value)
{
	return MHD_add_response_header(r, name, value);
}

static enum MHD_Result
send_resp(struct web_req *req, struct web_resp *resp, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	char *data, age[64];
	size_t len, i;
	enum MHD_Result ok;

	if (resp->failed) {
		mugai_log(LOG_ERR, "web", "%s %s: the page could not be made "
		    "(out of memory or over %d bytes)", req->method, req->path,
		    WEB_MAX_PAGE);
		web_error(req, resp, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "Internal error; see the log.");
	}
	data = mugai_buf_steal(&resp->body, &len);
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	ok = add(r, "Content-Type", resp->ctype ? resp->ctype :
	    "text/html; charset=utf-8");
	if (ok) ok = add(r, "Content-Security-Policy", CSP);
	if (ok) ok = add(r, "X-Frame-Options", "DENY");
	if (ok) ok = add(r, "X-Content-Type-Options", "nosniff");
	if (ok) ok = add(r, "Referrer-Policy", "no-referrer");
	if (ok) ok = add(r, "Cross-Origin-Opener-Policy", "same-origin");
	if (ok && req->app->tls)
		ok = add(r, "Strict-Transport-Security", "max-age=31536000");
	if (ok && resp->static_age > 0) {
		snprintf(age, sizeof(age), "private, max-age=%ld",
		    (long)resp->static_age);
		ok = add(r, "Cache-Control", age);
	} else if (ok)
		ok = add(r, "Cache-Control", "no-store");
	if (ok && resp->location)
		ok = add(r, "Location", resp->location);
	if (ok && resp->disposition)
		ok = add(r, "Content-Disposition", resp->disposition);
	for (i = 0; ok && i < resp->ncookies; i++)
		ok = add(r, "Set-Cookie", resp->cookies[i]);
	if (ok)
		ok = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct conn_ctx *ctx = *con_cls;
	struct web_req req;
	struct web_resp resp;
	enum MHD_Result ok;
	size_t i;

	(void)version;
	if (ctx == NULL) {
		if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
			return MHD_NO;
		mugai_buf_init(&ctx->body, WEB_MAX_BODY);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (mugai_buf_append(&ctx->body, upload, *upload_size) != MUGAI_OK)
			ctx->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	mugai_buf_init(&resp.body, WEB_MAX_PAGE);
	resp.status = MHD_HTTP_OK;
	req.app = cls;
	req.conn = c;
	req.method = method;
	req.path = url;
	req.body = ctx->body.data ? ctx->body.data : "";
	client_addr(c, req.client, sizeof(req.client));
	req.lang = web_lang_pick(web_cookie(&req, "mugai_lang"),
	    web_header(&req, "Accept-Language"));
	if (ctx->too_big)
		web_error(&req, &resp, MHD_HTTP_CONTENT_TOO_LARGE, "Bad request.");
	else
		dispatch(&req, &resp);
	ok = send_resp(&req, &resp, c);
	mugai_buf_free(&resp.body);
	free(resp.location);
	free(resp.disposition);
	for (i = 0; i < resp.ncookies; i++)
		free(resp.cookies[i]);
	for (i = 0; i < req.nstrings; i++)
		free(req.strings[i]);
	explicit_bzero(&req.sess, sizeof(req.sess));
	return ok;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (ctx == NULL)
		return;
	if (ctx->body.data != NULL)
		explicit_bzero(ctx->body.data, ctx->body.len);
	mugai_buf_free(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

static void
on_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
on_log(void *cls, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	mugai_log(LOG_NOTICE, "web", "libmicrohttpd: %s", line);
}

struct web_server *
web_server_start(struct web_app *app, int listen_fd, const char *cert_pem,
    const char *key_pem, char *err, size_t errlen)
{
	struct web_server *s;
	struct MHD_OptionItem opts[12];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	size_t n = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) }
	/* The logger first, so libmicrohttpd's own messages go to it too. */
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, NULL);
	OPT(MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, app->cfg->web_max_connections, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    app->cfg->web_max_connections > 8 ? app->cfg->web_max_connections / 4 :
	    app->cfg->web_max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_done, NULL);
	if (cert_pem != NULL) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, app,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->d == NULL) {
		snprintf(err, errlen, "libmicrohttpd could not start%s",
		    cert_pem ? " (is the certificate or key unusable?)" : "");
		free(s);
		return NULL;
	}
	return s;
}

void
web_server_stop(struct web_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
