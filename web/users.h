/*
 * users.h - the accounts file of mugai-web (web_users), shared by the
 * daemon (reads it) and "mugai web-user" (cli/, writes it).
 *
 * One account a line, "NAME:HASH:ROLE:ADDRESSES", '#' starts a comment:
 *
 *	alice:$y$j9T$...:admin:
 *	kondo:$y$j9T$...:staff:kondo@city.lg.jp,soumu@city.lg.jp
 *
 * NAME is 1-64 of [A-Za-z0-9._@-]; HASH is a crypt(3) hash (yescrypt
 * "$y$", or sha512-crypt "$6$"); ROLE is admin, auditor or staff; a staff
 * account has one or more mail addresses (kept lower case), the others
 * none.  A malformed line makes the whole file refused, with its line
 * number: a half-read accounts file would silently lock people out or,
 * worse, keep a removed role.
 */
#ifndef MUGAI_WEB_USERS_H
#define MUGAI_WEB_USERS_H

#include <stddef.h>

enum web_role { WEB_ROLE_ADMIN, WEB_ROLE_AUDITOR, WEB_ROLE_STAFF };

#define WEB_USERS_MAX_ADDRS	64
#define WEB_USERS_MAX		10000

struct web_user {
	char	*name;
	char	*hash;
	enum web_role role;
	char	**addrs;
	size_t	 naddrs;
};

struct web_users {
	struct web_user *u;
	size_t	 n;
};

/* web_users_parse - text[0..len) into *out; -1 with err "line N: why". */
int web_users_parse(const char *text, size_t len, struct web_users *out,
    char *err, size_t errlen);

/* web_users_load - read and parse path; a missing file is no accounts. */
int web_users_load(const char *path, struct web_users *out, char *err,
    size_t errlen);

void web_users_clear(struct web_users *u);

const struct web_user *web_users_find(const struct web_users *u, const char *name);

/*
 * web_users_set - add name or change it (hash, role, addresses; hash
 * NULL keeps the old one).  -1 with err when a value is not allowed.
 */
int web_users_set(struct web_users *u, const char *name, const char *hash,
    enum web_role role, char *const *addrs, size_t naddrs, char *err,
    size_t errlen);

/* web_users_del - 0, or -1 when there is no such account. */
int web_users_del(struct web_users *u, const char *name);

/*
 * web_users_save - write u to path atomically (temporary file, fsync,
 * rename), mode 0600, owned by uid:gid unless uid is (uid_t)-1.
 */
int web_users_save(const struct web_users *u, const char *path, int uid,
    int gid, char *err, size_t errlen);

const char *web_role_str(enum web_role r);
int web_role_parse(const char *s, enum web_role *out);

/* web_user_name_ok, web_addr_ok - the syntax rules above. */
int web_user_name_ok(const char *s);
int web_addr_ok(const char *s);

/* web_user_has_addr - addr (any case, <> ignored) is one of user's. */
int web_user_has_addr(const struct web_user *user, const char *addr);

#endif
