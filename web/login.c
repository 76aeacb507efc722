/*
 * login.c - logging in and out, and the language choice.
 *
 * The login form is protected from cross-site posting by a double-
 * submitted token (no session exists yet): a random value in an
 * HttpOnly SameSite=Strict cookie and the same value in the form.
 * Failures are counted per user name and per client address
 * (throttle.h); while either is locked every login for it is refused
 * with the same answer, right password or not; a success clears the
 * name's count, not the address's.  Each outcome is logged.  A page
 * asked for before logging in (the notice's /request/ID link) comes
 * as "next" and is where a login goes, when it is a path of this site.
 */
#include <string.h>
#include <time.h>

#include "mugai/base/log.h"
#include "auth.h"
#include "page.h"
#include "pages.h"

void
page_root(struct web_req *req, struct web_resp *resp)
{
	web_redirect(resp, req->logged_in ? "/messages" : "/login");
}

/* "next" of the query or form when it is a path of this site, else NULL. */
static const char *
next_path(struct web_req *req)
{
	const char *next = web_field(req, "next");

	if (next == NULL)
		next = web_arg(req, "next");
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strpbrk(next, "\r\n") != NULL || strlen(next) > 1024)
		return NULL;
	return next;
}

static void
login_form(struct web_req *req, struct web_resp *resp, const char *error_en,
    const char *name)
{
	char token[WEB_TOKEN_LEN + 1];
	const char *next = next_path(req);

	if (web_token(token) != 0) {
		web_error(req, resp, 500, "Internal error; see the log.");
		return;
	}
	web_set_cookie(req, resp, "mugai_login", token, -1);
	web_page_begin(req, resp, "Log in");
	if (error_en != NULL) {
		web_out(resp, "<p class=\"error\" id=\"error\">");
		web_tr(req, resp, error_en);
		web_out(resp, "</p>");
	}
	web_out(resp, "<form method=\"post\" action=\"/login\" id=\"login\">"
	    "<input type=\"hidden\" name=\"login_token\" value=\"%s\">"
	    "<label>", token);
	if (next != NULL) {
		web_out(resp, "<input type=\"hidden\" name=\"next\" value=\"");
		web_esc(resp, next);
		web_out(resp, "\">");
	}
	web_tr(req, resp, "User name");
	web_out(resp, " <input name=\"user\" id=\"user-name\" autocomplete=\"username\" "
	    "required maxlength=\"64\" value=\"");
	web_esc(resp, name ? name : "");
	web_out(resp, "\"></label> <label>");
	web_tr(req, resp, "Password");
	web_out(resp, " <input type=\"password\" name=\"password\" id=\"password\" "
	    "autocomplete=\"current-password\" required></label> "
	    "<button type=\"submit\" id=\"login-button\">");
	web_tr(req, resp, "Log in");
	web_out(resp, "</button></form>");
	web_page_end(req, resp);
	explicit_bzero(token, sizeof(token));
}

void
page_login_form(struct web_req *req, struct web_resp *resp)
{
	if (req->logged_in) {
		web_redirect(resp, "/messages");
		return;
	}
	login_form(req, resp, NULL, NULL);
}

void
page_login(struct web_req *req, struct web_resp *resp)
{
	struct web_app *app = req->app;
	const char *name = web_field(req, "user");
	const char *pw = web_field(req, "password");
	const struct web_user *u = NULL;
	struct web_session s;
	char ukey[128], akey[128];
	time_t now = time(NULL);
	int ok;

	if (!web_token_equal(web_cookie(req, "mugai_login"),
	    web_field(req, "login_token"))) {
		resp->status = 403;
		login_form(req, resp, "The form has expired; please try again.",
		    NULL);
		return;
	}
	if (name == NULL || pw == NULL || !web_user_name_ok(name)) {
		resp->status = 401;
		login_form(req, resp, "Wrong user name or password.", NULL);
		return;
	}
	snprintf(ukey, sizeof(ukey), "u:%s", name);
	snprintf(akey, sizeof(akey), "a:%s", req->client);
	if (web_throttle_locked(app->throttle, ukey, now) ||
	    web_throttle_locked(app->throttle, akey, now)) {
		mugai_log(LOG_WARNING, "web", "login of %s from %s refused: "
		    "too many failures", name, req->client);
		resp->status = 429;
		login_form(req, resp, "Too many failed logins; try again later.",
		    name);
		return;
	}
	(void)web_users_refresh(app);
	u = web_users_find(&app->users, name);
	ok = web_password_check(pw, u ? u->hash : NULL);
	if (!ok) {
		web_throttle_fail(app->throttle, ukey, now);
		web_throttle_fail(app->throttle, akey, now);
		mugai_log(LOG_WARNING, "web", "login of %s from %s failed%s",
		    name, req->client, u ? "" : " (no such user)");
		resp->status = 401;
		login_form(req, resp, "Wrong user name or password.", name);
		return;
	}
	/* The name's count only: a password that works for one account
	 * must not wipe the failures an address collected on others. */
	web_throttle_clear(app->throttle, ukey);
	if (web_session_create(app->sessions, u->name, web_user_stamp(u),
	    now, &s) != 0) {
		web_error(req, resp, 500, "Internal error; see the log.");
		return;
	}
	mugai_log(LOG_INFO, "web", "%s (%s) logged in from %s", u->name,
	    web_role_str(u->role), req->client);
	web_set_cookie(req, resp, "mugai_sid", s.id, -1);
	web_set_cookie(req, resp, "mugai_login", "", 0);
	explicit_bzero(&s, sizeof(s));
	web_redirect(resp, next_path(req) ? next_path(req) : "/messages");
}

void
page_logout(struct web_req *req, struct web_resp *resp)
{
	web_session_end(req->app->sessions, req->sess.id);
	mugai_log(LOG_INFO, "web", "%s logged out", req->user.name);
	web_set_cookie(req, resp, "mugai_sid", "", 0);
	web_redirect(resp, "/login");
}

void
page_lang(struct web_req *req, struct web_resp *resp)
{
	const char *l = web_arg(req, "l");
	const char *next = web_arg(req, "next");

	if (l != NULL && (strcmp(l, "ja") == 0 || strcmp(l, "en") == 0))
		web_set_cookie(req, resp, "mugai_lang", l, 365L * 86400);
	/* Only a path of this site: never an open redirect. */
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strpbrk(next, "\r\n") != NULL)
		next = "/";
	web_redirect(resp, next);
}
