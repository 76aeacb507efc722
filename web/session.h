/*
 * session.h - logged-in sessions of mugai-web, in memory.
 *
 * A session id and its CSRF token are 256 bits from getrandom(2), as 64
 * hex digits.  The id travels only in the HttpOnly cookie; the token
 * only in forms, and every POST must bring it back (web_session_csrf_ok).
 * A session unused for idle seconds is gone; at most max exist, and a
 * login beyond that ends the least recently used one.  Lookups compare
 * every slot in constant time, so timing says nothing about ids.
 * Callers pass "now" so tests need no clock.  Thread safe.
 * Sessions die with the process: a restart logs everybody out.
 */
#ifndef MUGAI_WEB_SESSION_H
#define MUGAI_WEB_SESSION_H

#include <stddef.h>
#include <time.h>

#define WEB_TOKEN_LEN	64		/* hex digits of 32 random bytes */
#define WEB_NAME_MAX	64

struct web_sessions;

struct web_session {
	char	 id[WEB_TOKEN_LEN + 1];
	char	 csrf[WEB_TOKEN_LEN + 1];
	char	 user[WEB_NAME_MAX + 1];
	time_t	 created;
	time_t	 used;
	unsigned long long stamp;	/* the caller's: which password it was */
};

struct web_sessions *web_sessions_new(size_t max, unsigned idle);
void web_sessions_free(struct web_sessions *s);

/* web_token - 64 hex digits of fresh randomness into out[65]; -1 on failure. */
int web_token(char out[WEB_TOKEN_LEN + 1]);

/*
 * web_session_create - a new session for user; *out a copy. 0 or -1.
 * stamp is kept with it (mugai-web: a digest of the password hash, so a
 * changed password ends the sessions made with the old one).
 */
int web_session_create(struct web_sessions *s, const char *user,
    unsigned long long stamp, time_t now, struct web_session *out);

/*
 * web_session_find - the live session with this id, touched (its idle
 * time starts again) and copied to *out; -1 when none or expired.
 */
int web_session_find(struct web_sessions *s, const char *id, time_t now,
    struct web_session *out);

/* web_session_end - forget the session with this id (logout). */
void web_session_end(struct web_sessions *s, const char *id);

/* web_session_end_user - forget every session of user (deleted account). */
void web_session_end_user(struct web_sessions *s, const char *user);

/* web_token_equal - constant-time comparison of two tokens (NULL: unequal). */
int web_token_equal(const char *a, const char *b);

/* web_session_csrf_ok - the token sent with a form is this session's. */
int web_session_csrf_ok(const struct web_session *sess, const char *token);

#endif
