/*
 * test_web_users.c - mugai-web's accounts file (parsing, refusing bad
 * lines with their number, changing and saving it) and password hashes
 * made and checked with libcrypt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "users.h"

#define H "$y$j9T$Qm5yTQxk7hZ0p1JqkGz2e/$Rjd.piHsOE542tXg416QHg7pQSe3jQ0DmCAjqflHnU9"
#define H6 "$6$Uehp9Q7VxHvBCJHh$Y3Vo9QGGZnzkG8q1LWILDVPNWVfLlIeOayhN7xgRi6WJ9" \
	"1A4Q.BuAmEvFbUW93XZzRy4ORlG9yQyg2SBelkb9/"

static void
test_parse(void **state)
{
	const char *text = "# accounts\n\nalice:" H ":admin:\r\n"
	    "kondo:" H6 ":staff:Kondo@City.lg.jp,soumu@city.lg.jp\n"
	    "audrey:" H ":auditor:";
	struct web_users u;
	const struct web_user *k;
	char err[256];

	assert_int_equal(web_users_parse(text, strlen(text), &u, err, sizeof(err)), 0);
	assert_int_equal(u.n, 3);
	assert_non_null(web_users_find(&u, "alice"));
	assert_int_equal(web_users_find(&u, "alice")->role, WEB_ROLE_ADMIN);
	assert_int_equal(web_users_find(&u, "audrey")->role, WEB_ROLE_AUDITOR);
	assert_null(web_users_find(&u, "Alice"));
	k = web_users_find(&u, "kondo");
	assert_int_equal(k->role, WEB_ROLE_STAFF);
	assert_int_equal(k->naddrs, 2);
	assert_string_equal(k->addrs[0], "kondo@city.lg.jp");
	assert_true(web_user_has_addr(k, "KONDO@city.LG.jp"));
	assert_true(web_user_has_addr(k, "<soumu@city.lg.jp>"));
	assert_false(web_user_has_addr(k, "kondo@city.lg.jp.evil"));
	assert_false(web_user_has_addr(k, "ondo@city.lg.jp"));
	assert_false(web_user_has_addr(k, NULL));
	web_users_clear(&u);
	web_users_clear(NULL);
}

static void
test_parse_errors(void **state)
{
	static const struct { const char *text, *err; } cases[] = {
		{ "alice:" H ":root:\n", "line 1: role" },
		{ "# x\nalice:" H ":admin\n", "line 2: expected" },
		{ "alice:" H ":admin::\n", "line 1: more than four" },
		{ "al ice:" H ":admin:\n", "line 1: user name" },
		{ "alice:plaintext:admin:\n", "line 1: the password hash" },
		{ "alice:$1$md5$hash:admin:\n", "line 1: the password hash" },
		{ "kondo:" H ":staff:\n", "line 1: staff account kondo needs" },
		{ "alice:" H ":admin:a@b.jp\n", "line 1: only staff" },
		{ "kondo:" H ":staff:not-an-address\n", "line 1: \"not-an-address\"" },
		{ "kondo:" H ":staff:a<b@c.jp\n", "line 1: \"a<b@c.jp\"" },
		{ "a:" H ":admin:\na:" H ":auditor:\n", "line 2: a is there twice" },
	};
	struct web_users u;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(web_users_parse(cases[i].text,
		    strlen(cases[i].text), &u, err, sizeof(err)), -1);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: \"%s\" does not start \"%s\"", i, err,
			    cases[i].err);
		assert_int_equal(u.n, 0);
	}
	assert_int_equal(web_users_parse("a:" H ":admin:\n\0x", 20, &u, err,
	    sizeof(err)), -1);
}

static void
test_set_save_load(void **state)
{
	char dir[] = "/tmp/test_web_users.XXXXXX", path[256], err[256];
	char *addrs[] = { "Kondo@city.lg.jp" };
	struct web_users u, back;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
	/* A missing file is no accounts, not an error. */
	assert_int_equal(web_users_load(path, &u, err, sizeof(err)), 0);
	assert_int_equal(u.n, 0);
	assert_int_equal(web_users_set(&u, "alice", H, WEB_ROLE_ADMIN, NULL, 0,
	    err, sizeof(err)), 0);
	assert_int_equal(web_users_set(&u, "kondo", H6, WEB_ROLE_STAFF, addrs, 1,
	    err, sizeof(err)), 0);
	assert_int_equal(web_users_set(&u, "bob", NULL, WEB_ROLE_ADMIN, NULL, 0,
	    err, sizeof(err)), -1);	/* no hash and no old one */
	assert_int_equal(web_users_set(&u, "x:y", H, WEB_ROLE_ADMIN, NULL, 0,
	    err, sizeof(err)), -1);
	/* Changing keeps the hash when none is given. */
	assert_int_equal(web_users_set(&u, "alice", NULL, WEB_ROLE_AUDITOR, NULL,
	    0, err, sizeof(err)), 0);
	assert_string_equal(web_users_find(&u, "alice")->hash, H);
	assert_int_equal(web_users_save(&u, path, -1, -1, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(web_users_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(web_users_find(&back, "alice")->role, WEB_ROLE_AUDITOR);
	assert_string_equal(web_users_find(&back, "kondo")->addrs[0],
	    "kondo@city.lg.jp");
	assert_int_equal(web_users_del(&back, "alice"), 0);
	assert_int_equal(web_users_del(&back, "alice"), -1);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.u[0].name, "kondo");
	web_users_clear(&back);
	web_users_clear(&u);
	unlink(path);
	rmdir(dir);
}

static void
test_password(void **state)
{
	char hash[512];

	assert_int_equal(web_password_hash("correct horse 馬", hash, sizeof(hash)), 0);
	/* yescrypt where libcrypt has it (Debian 12 does). */
	assert_memory_equal(hash, "$y$", 3);
	assert_true(web_password_check("correct horse 馬", hash));
	assert_false(web_password_check("correct horse", hash));
	assert_false(web_password_check("", hash));
	assert_false(web_password_check("correct horse 馬", NULL));
	assert_true(web_password_check("x", H6) == 1);	/* sha512-crypt still reads */
	assert_false(web_password_check("y", H6));
	assert_int_equal(web_password_hash("x", hash, 10), -1);	/* no room */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_set_save_load),
		cmocka_unit_test(test_password),
	};
	return cmocka_run_group_tests_name("web_users", tests, NULL, NULL);
}
