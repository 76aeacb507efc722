/*
 * throttle.c - failure counters per key (throttle.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

#define KEY_MAX	128

struct entry {
	char	 key[KEY_MAX];		/* "": free */
	unsigned failures;
	time_t	 last;
};

struct web_throttle {
	pthread_mutex_t lock;
	unsigned max, lockout;
	size_t	 n;
	struct entry *e;
};

struct web_throttle *
web_throttle_new(size_t slots, unsigned max, unsigned lockout)
{
	struct web_throttle *t;

	if (slots == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->e = calloc(slots, sizeof(*t->e))) == NULL) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->n = slots;
	t->max = max;
	t->lockout = lockout;
	return t;
}

void
web_throttle_free(struct web_throttle *t)
{
	if (t == NULL)
		return;
	free(t->e);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The entry for key, or NULL; long keys are cut (still one per key). */
static struct entry *
lookup(struct web_throttle *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].key[0] != '\0' &&
		    strncmp(t->e[i].key, key, KEY_MAX - 1) == 0)
			return &t->e[i];
	return NULL;
}

unsigned
web_throttle_locked(struct web_throttle *t, const char *key, time_t now)
{
	struct entry *e;
	unsigned left = 0;

	pthread_mutex_lock(&t->lock);
	e = lookup(t, key);
	if (e != NULL && e->failures >= t->max && now - e->last < (time_t)t->lockout)
		left = (unsigned)(t->lockout - (now - e->last));
	pthread_mutex_unlock(&t->lock);
	return left;
}

void
web_throttle_fail(struct web_throttle *t, const char *key, time_t now)
{
	struct entry *e;
	size_t i;

	pthread_mutex_lock(&t->lock);
	if ((e = lookup(t, key)) != NULL && now - e->last >= (time_t)t->lockout)
		e->failures = 0;	/* an old streak does not count */
	if (e == NULL) {
		e = &t->e[0];
		for (i = 0; i < t->n; i++) {
			if (t->e[i].key[0] == '\0') {
				e = &t->e[i];
				break;
			}
			if (t->e[i].last < e->last)
				e = &t->e[i];
		}
		memset(e, 0, sizeof(*e));
		strncpy(e->key, key, KEY_MAX - 1);
	}
	e->failures++;
	e->last = now;
	pthread_mutex_unlock(&t->lock);
}

void
web_throttle_clear(struct web_throttle *t, const char *key)
{
	struct entry *e;

	pthread_mutex_lock(&t->lock);
	if ((e = lookup(t, key)) != NULL)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&t->lock);
}
