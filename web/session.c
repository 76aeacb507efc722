/*
 * session.c - the session table (session.h): a fixed array, a mutex,
 * and a linear constant-time scan; a thousand sessions of a console
 * cost nothing to walk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "session.h"

struct web_sessions {
	pthread_mutex_t lock;
	unsigned idle;
	size_t	 max;
	struct web_session *slot;	/* id[0] == '\0': free */
};

struct web_sessions *
web_sessions_new(size_t max, unsigned idle)
{
	struct web_sessions *s;

	if (max == 0 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->slot = calloc(max, sizeof(*s->slot))) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->max = max;
	s->idle = idle;
	return s;
}

void
web_sessions_free(struct web_sessions *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->slot, s->max * sizeof(*s->slot));
	free(s->slot);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
web_token(char out[WEB_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[WEB_TOKEN_LEN / 2];
	size_t got = 0, i;
	ssize_t n;

	while (got < sizeof(raw)) {
		n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[WEB_TOKEN_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int
web_token_equal(const char *a, const char *b)
{
	unsigned char d = 0;
	size_t i;

	if (a == NULL || b == NULL || strlen(a) != WEB_TOKEN_LEN ||
	    strlen(b) != WEB_TOKEN_LEN)
		return 0;
	for (i = 0; i < WEB_TOKEN_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int
expired(const struct web_sessions *s, const struct web_session *e, time_t now)
{
	return e->id[0] == '\0' || now - e->used >= (time_t)s->idle ||
	    now < e->used - 60;	/* the clock went back: do not trust it */
}

int
web_session_create(struct web_sessions *s, const char *user,
    unsigned long long stamp, time_t now, struct web_session *out)
{
	struct web_session *e = NULL;
	size_t i;
	int rc = -1;

	if (strlen(user) > WEB_NAME_MAX)
		return -1;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max; i++) {
		if (expired(s, &s->slot[i], now)) {
			e = &s->slot[i];
			break;
		}
		if (e == NULL || s->slot[i].used < e->used)
			e = &s->slot[i];
	}
	memset(e, 0, sizeof(*e));
	if (web_token(e->id) == 0 && web_token(e->csrf) == 0) {
		strcpy(e->user, user);
		e->stamp = stamp;
		e->created = e->used = now;
		*out = *e;
		rc = 0;
	} else
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
web_session_find(struct web_sessions *s, const char *id, time_t now,
    struct web_session *out)
{
	struct web_session *hit = NULL;
	size_t i;
	int rc = -1;

	if (id == NULL || strlen(id) != WEB_TOKEN_LEN)
		return -1;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max; i++)
		if (s->slot[i].id[0] != '\0' && web_token_equal(s->slot[i].id, id))
			hit = &s->slot[i];
	if (hit != NULL && expired(s, hit, now))
		memset(hit, 0, sizeof(*hit));
	else if (hit != NULL) {
		hit->used = now;
		*out = *hit;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void
web_session_end(struct web_sessions *s, const char *id)
{
	size_t i;

	if (id == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max; i++)
		if (s->slot[i].id[0] != '\0' && web_token_equal(s->slot[i].id, id))
			memset(&s->slot[i], 0, sizeof(s->slot[i]));
	pthread_mutex_unlock(&s->lock);
}

void
web_session_end_user(struct web_sessions *s, const char *user)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max; i++)
		if (s->slot[i].id[0] != '\0' && strcmp(s->slot[i].user, user) == 0)
			memset(&s->slot[i], 0, sizeof(s->slot[i]));
	pthread_mutex_unlock(&s->lock);
}

int
web_session_csrf_ok(const struct web_session *sess, const char *token)
{
	return sess != NULL && web_token_equal(sess->csrf, token);
}
