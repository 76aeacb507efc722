/*
 * budget.c - a byte budget shared by threads (see mugai/base/budget.h).
 *
 * Waiters queue in arrival order (a list of nodes on their stacks): only
 * the first may take, so a large share is not passed over for ever by a
 * stream of small ones that fit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "mugai/base/budget.h"

struct waiter {
	struct waiter *next;
};

struct mugai_budget {
	pthread_mutex_t lock;
	pthread_cond_t	cond;		/* room was given back, a head left */
	size_t		used;
	struct waiter	*head, **tail;
};

struct mugai_budget *
mugai_budget_new(void)
{
	struct mugai_budget *b;
	pthread_condattr_t ca;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	/* Deadlines on the monotonic clock: a clock step must not end or
	 * stretch a wait. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	b->tail = &b->head;
	return b;
}

void
mugai_budget_free(struct mugai_budget *b)
{
	if (b == NULL)
		return;
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static int
budget_fits(const struct mugai_budget *b, size_t n, size_t max)
{
	return max == 0 || b->used == 0 || (n <= max && b->used <= max - n);
}

static void
budget_unqueue(struct mugai_budget *b, struct waiter *w)
{
	struct waiter **pp;

	for (pp = &b->head; *pp != w; pp = &(*pp)->next)
		;
	*pp = w->next;
	if (b->tail == &w->next)
		b->tail = pp;
}

mugai_status
mugai_budget_take(struct mugai_budget *b, size_t n, size_t max,
    unsigned wait_ms)
{
	struct timespec dl;
	struct waiter w = { NULL };
	mugai_status rc = MUGAI_OK;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += wait_ms / 1000;
	dl.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&b->lock);
	*b->tail = &w;
	b->tail = &w.next;
	while (b->head != &w || !budget_fits(b, n, max)) {
		if (pthread_cond_timedwait(&b->cond, &b->lock, &dl) ==
		    ETIMEDOUT && (b->head != &w || !budget_fits(b, n, max))) {
			rc = MUGAI_ERR_LIMIT;
			break;
		}
	}
	budget_unqueue(b, &w);
	if (rc == MUGAI_OK)
		b->used += n;
	/* The next in line may fit too (or may now be first). */
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

void
mugai_budget_give(struct mugai_budget *b, size_t n)
{
	pthread_mutex_lock(&b->lock);
	b->used = n < b->used ? b->used - n : 0;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

size_t
mugai_budget_used(struct mugai_budget *b)
{
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = b->used;
	pthread_mutex_unlock(&b->lock);
	return n;
}
