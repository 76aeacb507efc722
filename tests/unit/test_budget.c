/*
 * test_budget.c - the byte budget mugai-milter's sessions share
 * (milter_memory_max): what fits is held at once, what does not waits
 * in arrival order until room is given back or its deadline passes, a
 * share larger than the whole budget runs alone; and the two
 * configuration keys with their defaults and bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mugai/base/budget.h"
#include "mugai/base/config.h"

static void
test_fits_and_counts(void **state)
{
	struct mugai_budget *b = mugai_budget_new();

	(void)state;
	assert_non_null(b);
	assert_int_equal(mugai_budget_take(b, 60, 100, 0), MUGAI_OK);
	assert_int_equal(mugai_budget_take(b, 40, 100, 0), MUGAI_OK);
	assert_int_equal(mugai_budget_used(b), 100);
	/* Full: one byte more waits and, with no time to wait, is refused. */
	assert_int_equal(mugai_budget_take(b, 1, 100, 0), MUGAI_ERR_LIMIT);
	assert_int_equal(mugai_budget_used(b), 100);
	mugai_budget_give(b, 40);
	mugai_budget_give(b, 60);
	assert_int_equal(mugai_budget_used(b), 0);
	/* 0 is no limit: counted only. */
	assert_int_equal(mugai_budget_take(b, 1000, 0, 0), MUGAI_OK);
	assert_int_equal(mugai_budget_take(b, 1000, 0, 0), MUGAI_OK);
	assert_int_equal(mugai_budget_used(b), 2000);
	mugai_budget_free(b);
	mugai_budget_free(NULL);
}

/* Larger than the budget: alone it runs, beside another it waits. */
static void
test_oversize_runs_alone(void **state)
{
	struct mugai_budget *b = mugai_budget_new();

	(void)state;
	assert_int_equal(mugai_budget_take(b, 10, 100, 0), MUGAI_OK);
	assert_int_equal(mugai_budget_take(b, 500, 100, 50), MUGAI_ERR_LIMIT);
	mugai_budget_give(b, 10);
	assert_int_equal(mugai_budget_take(b, 500, 100, 0), MUGAI_OK);
	/* ... and nothing else runs beside it. */
	assert_int_equal(mugai_budget_take(b, 1, 100, 50), MUGAI_ERR_LIMIT);
	mugai_budget_give(b, 500);
	assert_int_equal(mugai_budget_used(b), 0);
	mugai_budget_free(b);
}

struct taker {
	struct mugai_budget *b;
	size_t	 n;
	unsigned wait_ms;
	mugai_status rc;
	int	 done;
	struct timespec at;	/* when it was granted or refused */
};

static void *
take_thread(void *arg)
{
	struct taker *t = arg;

	t->rc = mugai_budget_take(t->b, t->n, 100, t->wait_ms);
	clock_gettime(CLOCK_MONOTONIC, &t->at);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int
is_done(struct taker *t)
{
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

static double
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1000 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* A waiter gets in when room is given back, before its deadline. */
static void
test_waiter_gets_room(void **state)
{
	struct mugai_budget *b = mugai_budget_new();
	struct taker t = { b, 50, 10000, MUGAI_ERR_INTERNAL, 0, { 0, 0 } };
	struct timespec gave;
	pthread_t th;

	(void)state;
	assert_int_equal(mugai_budget_take(b, 80, 100, 0), MUGAI_OK);
	assert_int_equal(pthread_create(&th, NULL, take_thread, &t), 0);
	usleep(100 * 1000);
	assert_false(is_done(&t));
	clock_gettime(CLOCK_MONOTONIC, &gave);
	mugai_budget_give(b, 80);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, MUGAI_OK);
	assert_true(ms_between(&gave, &t.at) >= 0);
	assert_int_equal(mugai_budget_used(b), 50);
	mugai_budget_give(b, 50);
	mugai_budget_free(b);
}

/*
 * Arrival order: a small share that would fit does not pass a large
 * one waiting before it (else a stream of small messages could keep a
 * large one out until its deadline).
 */
static void
test_arrival_order(void **state)
{
	struct mugai_budget *b = mugai_budget_new();
	struct taker big = { b, 50, 10000, MUGAI_ERR_INTERNAL, 0, { 0, 0 } };
	struct taker small = { b, 10, 10000, MUGAI_ERR_INTERNAL, 0, { 0, 0 } };
	pthread_t tb, ts;

	(void)state;
	assert_int_equal(mugai_budget_take(b, 60, 100, 0), MUGAI_OK);
	assert_int_equal(pthread_create(&tb, NULL, take_thread, &big), 0);
	usleep(100 * 1000);
	assert_int_equal(pthread_create(&ts, NULL, take_thread, &small), 0);
	usleep(200 * 1000);
	/* 60 + 10 would fit, but the 50 came first. */
	assert_false(is_done(&small));
	assert_false(is_done(&big));
	assert_int_equal(mugai_budget_used(b), 60);
	mugai_budget_give(b, 60);
	pthread_join(tb, NULL);
	pthread_join(ts, NULL);
	assert_int_equal(big.rc, MUGAI_OK);
	assert_int_equal(small.rc, MUGAI_OK);
	assert_true(ms_between(&big.at, &small.at) >= 0);
	assert_int_equal(mugai_budget_used(b), 60);
	mugai_budget_give(b, 50);
	mugai_budget_give(b, 10);
	mugai_budget_free(b);
}

/* A waiter whose deadline passes leaves the line: the next one moves up. */
static void
test_deadline_leaves_line(void **state)
{
	struct mugai_budget *b = mugai_budget_new();
	struct taker first = { b, 90, 100, MUGAI_ERR_INTERNAL, 0, { 0, 0 } };
	struct taker second = { b, 30, 10000, MUGAI_ERR_INTERNAL, 0, { 0, 0 } };
	pthread_t t1, t2;

	(void)state;
	assert_int_equal(mugai_budget_take(b, 60, 100, 0), MUGAI_OK);
	assert_int_equal(pthread_create(&t1, NULL, take_thread, &first), 0);
	usleep(20 * 1000);
	assert_int_equal(pthread_create(&t2, NULL, take_thread, &second), 0);
	pthread_join(t1, NULL);
	assert_int_equal(first.rc, MUGAI_ERR_LIMIT);
	/* 60 + 30 fits once the 90 ahead of it is gone. */
	pthread_join(t2, NULL);
	assert_int_equal(second.rc, MUGAI_OK);
	assert_int_equal(mugai_budget_used(b), 90);
	mugai_budget_give(b, 30);
	mugai_budget_give(b, 60);
	mugai_budget_free(b);
}

static void
test_config_keys(void **state)
{
	char err[512];
	char *ok[] = { "milter_memory_max=64M", "milter_memory_wait=2m" };
	char *off[] = { "milter_memory_max=0" };
	char *bad1[] = { "milter_memory_wait=0" };
	char *bad2[] = { "milter_memory_wait=3601s" };
	char *bad3[] = { "milter_memory_max=lots" };
	struct mugai_config *c;

	(void)state;
	c = mugai_config_load(NULL, NULL, 0, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->milter_memory_max, 128 * 1024 * 1024);
	assert_int_equal(c->milter_memory_wait, 60);
	mugai_config_unref(c);
	c = mugai_config_load(NULL, ok, 2, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->milter_memory_max, 64 * 1024 * 1024);
	assert_int_equal(c->milter_memory_wait, 120);
	mugai_config_unref(c);
	c = mugai_config_load(NULL, off, 1, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->milter_memory_max, 0);
	mugai_config_unref(c);
	assert_null(mugai_config_load(NULL, bad1, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "milter_memory_wait"));
	assert_null(mugai_config_load(NULL, bad2, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "out of range"));
	assert_null(mugai_config_load(NULL, bad3, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "milter_memory_max"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits_and_counts),
		cmocka_unit_test(test_oversize_runs_alone),
		cmocka_unit_test(test_waiter_gets_room),
		cmocka_unit_test(test_arrival_order),
		cmocka_unit_test(test_deadline_leaves_line),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
