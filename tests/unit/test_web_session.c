/*
 * test_web_session.c - mugai-web's sessions, CSRF tokens and login
 * throttling, with the clock passed in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "session.h"
#include "throttle.h"

static void
test_token(void **state)
{
	char a[WEB_TOKEN_LEN + 1], b[WEB_TOKEN_LEN + 1];

	assert_int_equal(web_token(a), 0);
	assert_int_equal(web_token(b), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
	assert_true(web_token_equal(a, a));
	assert_false(web_token_equal(a, b));
	assert_false(web_token_equal(a, NULL));
	assert_false(web_token_equal(NULL, NULL));
	b[0] = '\0';
	assert_false(web_token_equal("", b));	/* empty is never a token */
	memcpy(b, a, sizeof(b));
	b[63] = b[63] == '0' ? '1' : '0';
	assert_false(web_token_equal(a, b));
	b[63] = '\0';
	assert_false(web_token_equal(a, b));	/* a prefix is not enough */
}

static void
test_session_lifecycle(void **state)
{
	struct web_sessions *s = web_sessions_new(4, 600);
	struct web_session a, b, got;

	assert_non_null(s);
	assert_int_equal(web_session_create(s, "alice", 7, 1000, &a), 0);
	assert_int_equal(web_session_create(s, "kondo", 7, 1000, &b), 0);
	assert_string_not_equal(a.id, b.id);
	assert_string_not_equal(a.id, a.csrf);
	assert_int_equal(web_session_find(s, a.id, 1100, &got), 0);
	assert_string_equal(got.user, "alice");
	assert_int_equal(got.stamp, 7);
	assert_string_equal(got.csrf, a.csrf);
	/* CSRF: the session's own token only. */
	assert_true(web_session_csrf_ok(&got, a.csrf));
	assert_false(web_session_csrf_ok(&got, b.csrf));
	assert_false(web_session_csrf_ok(&got, a.id));
	assert_false(web_session_csrf_ok(&got, NULL));
	assert_false(web_session_csrf_ok(NULL, a.csrf));
	/* Idle timeout counts from the last use. */
	assert_int_equal(web_session_find(s, a.id, 1699, &got), 0);
	assert_int_equal(web_session_find(s, b.id, 1600, &got), -1);
	assert_int_equal(web_session_find(s, b.id, 1000, &got), -1);	/* gone for good */
	assert_int_equal(web_session_find(s, a.id, 2298, &got), 0);
	/* Unknown and malformed ids. */
	assert_int_equal(web_session_find(s, a.csrf, 2300, &got), -1);
	assert_int_equal(web_session_find(s, "", 2300, &got), -1);
	assert_int_equal(web_session_find(s, NULL, 2300, &got), -1);
	/* Logout. */
	web_session_end(s, a.id);
	assert_int_equal(web_session_find(s, a.id, 2300, &got), -1);
	web_sessions_free(s);
	web_sessions_free(NULL);
}

static void
test_session_full(void **state)
{
	struct web_sessions *s = web_sessions_new(2, 600);
	struct web_session a, b, c, got;

	assert_int_equal(web_session_create(s, "a", 7, 100, &a), 0);
	assert_int_equal(web_session_create(s, "b", 7, 200, &b), 0);
	assert_int_equal(web_session_find(s, a.id, 300, &got), 0);	/* a used last */
	/* Full: the least recently used one (b) makes room. */
	assert_int_equal(web_session_create(s, "c", 7, 400, &c), 0);
	assert_int_equal(web_session_find(s, b.id, 400, &got), -1);
	assert_int_equal(web_session_find(s, a.id, 400, &got), 0);
	assert_int_equal(web_session_find(s, c.id, 400, &got), 0);
	/* Every session of a deleted account ends. */
	web_session_end_user(s, "a");
	assert_int_equal(web_session_find(s, a.id, 401, &got), -1);
	assert_int_equal(web_session_find(s, c.id, 401, &got), 0);
	/* Names too long for a session are refused. */
	assert_int_equal(web_session_create(s, "0123456789012345678901234567890123456789"
	    "01234567890123456789012345", 7, 500, &a), -1);
	web_sessions_free(s);
}

static void
test_session_clock_back(void **state)
{
	struct web_sessions *s = web_sessions_new(2, 600);
	struct web_session a, got;

	assert_int_equal(web_session_create(s, "a", 7, 10000, &a), 0);
	/* A clock set back by hours must not make a session live forever. */
	assert_int_equal(web_session_find(s, a.id, 1000, &got), -1);
	web_sessions_free(s);
}

static void
test_throttle(void **state)
{
	struct web_throttle *t = web_throttle_new(8, 3, 900);

	assert_non_null(t);
	assert_int_equal(web_throttle_locked(t, "u:alice", 0), 0);
	web_throttle_fail(t, "u:alice", 100);
	web_throttle_fail(t, "u:alice", 110);
	assert_int_equal(web_throttle_locked(t, "u:alice", 120), 0);
	web_throttle_fail(t, "u:alice", 120);
	assert_int_equal(web_throttle_locked(t, "u:alice", 120), 900);
	assert_int_equal(web_throttle_locked(t, "u:alice", 1019), 1);
	assert_int_equal(web_throttle_locked(t, "u:alice", 1020), 0);
	/* Other keys are not affected. */
	assert_int_equal(web_throttle_locked(t, "a:127.0.0.1", 130), 0);
	assert_int_equal(web_throttle_locked(t, "u:alic", 130), 0);
	/* After the lockout one more failure does not lock at once. */
	web_throttle_fail(t, "u:alice", 2000);
	assert_int_equal(web_throttle_locked(t, "u:alice", 2000), 0);
	/* A success clears the key. */
	web_throttle_fail(t, "u:alice", 2001);
	web_throttle_clear(t, "u:alice");
	web_throttle_fail(t, "u:alice", 2002);
	assert_int_equal(web_throttle_locked(t, "u:alice", 2002), 0);
	web_throttle_free(t);
	web_throttle_free(NULL);
}

static void
test_throttle_full(void **state)
{
	struct web_throttle *t = web_throttle_new(2, 2, 900);

	web_throttle_fail(t, "a:1", 100);
	web_throttle_fail(t, "a:1", 300);
	web_throttle_fail(t, "a:2", 200);
	/* Full: the entry whose last failure is oldest (a:2) is reused. */
	web_throttle_fail(t, "a:3", 400);
	assert_int_equal(web_throttle_locked(t, "a:1", 400), 800);
	web_throttle_fail(t, "a:3", 401);
	assert_int_equal(web_throttle_locked(t, "a:3", 401), 900);
	web_throttle_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_session_lifecycle),
		cmocka_unit_test(test_session_full),
		cmocka_unit_test(test_session_clock_back),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_throttle_full),
	};
	return cmocka_run_group_tests_name("web_session", tests, NULL, NULL);
}
