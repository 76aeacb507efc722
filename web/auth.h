/*
 * auth.h - passwords: hashing for "mugai web-user" and checking at login.
 *
 * Hashes are made with crypt_gensalt_rn + crypt_r from libcrypt
 * (libxcrypt): yescrypt ("$y$") with libcrypt's default cost, or
 * sha512-crypt ("$6$") where yescrypt is not available.  A check runs
 * crypt_r even for an unknown user (against a fixed hash), so the time
 * a login takes does not tell whether the name exists.
 */
#ifndef MUGAI_WEB_AUTH_H
#define MUGAI_WEB_AUTH_H

#include <stddef.h>

#define WEB_PASSWORD_MAX	1024

/* web_password_hash - a new hash of pw into out; 0 or -1. */
int web_password_hash(const char *pw, char *out, size_t outlen);

/* web_password_check - 1 when pw matches hash; hash NULL: 0, same cost. */
int web_password_check(const char *pw, const char *hash);

#endif
