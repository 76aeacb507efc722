/*
 * throttle.h - refusing logins after repeated failures.
 *
 * Failures are counted per key: the caller uses one key for the user
 * name ("u:NAME") and one for the client address ("a:ADDR"), so neither
 * guessing one account's password from many addresses nor many accounts
 * from one address gets far.  After max failures a key is locked until
 * lockout seconds have passed since its last failure; a success clears
 * the key.  The table has a fixed size; when full, the entry whose last
 * failure is oldest is reused.  Callers pass "now".  Thread safe.
 */
#ifndef MUGAI_WEB_THROTTLE_H
#define MUGAI_WEB_THROTTLE_H

#include <stddef.h>
#include <time.h>

struct web_throttle;

struct web_throttle *web_throttle_new(size_t slots, unsigned max,
    unsigned lockout);
void web_throttle_free(struct web_throttle *t);

/* web_throttle_locked - seconds key must still wait; 0 when it may try. */
unsigned web_throttle_locked(struct web_throttle *t, const char *key, time_t now);

void web_throttle_fail(struct web_throttle *t, const char *key, time_t now);
void web_throttle_clear(struct web_throttle *t, const char *key);

#endif
