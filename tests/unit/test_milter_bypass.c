/*
 * test_milter_bypass.c - which clients and recipient lists skip
 * sanitising, and the errors for badly written lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mugai/base/bypass.h"

static struct mugai_bypass *
make(const char *nets, const char *rcpts)
{
	struct mugai_bypass *b = NULL;
	char err[256];

	if (mugai_bypass_new(nets, rcpts, &b, err, sizeof(err)) != MUGAI_OK)
		fail_msg("unexpected error: %s", err);
	return b;
}

static void
test_client_networks(void **state)
{
	static const struct {
		const char *addr;
		int	 match;
	} cases[] = {
		{ "192.0.2.1", 1 },
		{ "192.0.2.255", 1 },
		{ "192.0.3.1", 0 },
		{ "10.1.2.3", 1 },		/* 10.0.0.0/8 */
		{ "11.0.0.1", 0 },
		{ "198.51.100.7", 1 },		/* a single host */
		{ "198.51.100.8", 0 },
		{ "172.16.0.1", 1 },		/* /12: 172.16-31 */
		{ "172.31.255.255", 1 },
		{ "172.32.0.0", 0 },
		{ "::ffff:192.0.2.9", 1 },	/* IPv4-mapped */
		{ "::ffff:192.0.3.9", 0 },
		{ "2001:db8::1", 1 },
		{ "2001:db8:ffff::1", 1 },
		{ "2001:db9::1", 0 },
		{ "[2001:db8::5]", 1 },
		{ "fe80::1%eth0", 1 },		/* zone ignored, fe80::/10 */
		{ "fec0::1", 0 },
		{ "::1", 1 },
		{ "::2", 0 },
		{ "localhost", 0 },
		{ "", 0 },
		{ "192.0.2", 0 },
	};
	struct mugai_bypass *b = make("192.0.2.0/24, 10.0.0.0/8\t198.51.100.7 "
	    "172.16.0.0/12,2001:db8::/32 fe80::/10\n::1", NULL);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mugai_bypass_client(b, cases[i].addr) != cases[i].match)
			fail_msg("client %s: expected %d", cases[i].addr,
			    cases[i].match);
	/* No recipients configured: never bypass by recipient. */
	{
		const char *r[] = { "a@b" };

		assert_false(mugai_bypass_recipients(b, r, 1));
	}
	mugai_bypass_free(b);
}

static void
test_zero_prefix_and_empty(void **state)
{
	struct mugai_bypass *all4 = make("0.0.0.0/0", "");
	struct mugai_bypass *none = make("", "");
	struct mugai_bypass *null = make(NULL, NULL);

	(void)state;
	assert_true(mugai_bypass_client(all4, "203.0.113.1"));
	assert_false(mugai_bypass_client(all4, "2001:db8::1"));
	assert_false(mugai_bypass_client(none, "127.0.0.1"));
	assert_false(mugai_bypass_client(null, "127.0.0.1"));
	assert_false(mugai_bypass_client(NULL, "127.0.0.1"));
	mugai_bypass_free(all4);
	mugai_bypass_free(none);
	mugai_bypass_free(null);
	mugai_bypass_free(NULL);
}

static void
test_recipients_all_must_match(void **state)
{
	struct mugai_bypass *b = make(NULL,
	    "soc@city.lg.jp, @trusted.example <Audit@City.LG.JP>");
	const char *one[] = { "<soc@city.lg.jp>" };
	const char *upper[] = { "SOC@CITY.LG.JP" };
	const char *both[] = { "soc@city.lg.jp", "x@trusted.example" };
	const char *mixed[] = { "soc@city.lg.jp", "staff@city.lg.jp" };
	const char *sub[] = { "x@sub.trusted.example" };
	const char *audit[] = { "audit@city.lg.jp" };
	const char *dot[] = { "y@trusted.example." };
	const char *route[] = { "<@relay.example:soc@city.lg.jp>" };
	const char *local_only[] = { "soc" };
	const char *suffix[] = { "xsoc@city.lg.jp" };
	const char *domain_as_local[] = { "trusted.example@evil.example" };

	(void)state;
	assert_true(mugai_bypass_recipients(b, one, 1));
	assert_true(mugai_bypass_recipients(b, upper, 1));
	assert_true(mugai_bypass_recipients(b, both, 2));
	assert_false(mugai_bypass_recipients(b, mixed, 2));
	assert_false(mugai_bypass_recipients(b, mixed + 1, 1));
	assert_false(mugai_bypass_recipients(b, sub, 1));
	assert_true(mugai_bypass_recipients(b, audit, 1));
	assert_true(mugai_bypass_recipients(b, dot, 1));
	assert_true(mugai_bypass_recipients(b, route, 1));
	assert_false(mugai_bypass_recipients(b, local_only, 1));
	assert_false(mugai_bypass_recipients(b, suffix, 1));
	assert_false(mugai_bypass_recipients(b, domain_as_local, 1));
	/* No recipients at all is never a bypass. */
	assert_false(mugai_bypass_recipients(b, one, 0));
	/* Clients are not affected by the recipient list. */
	assert_false(mugai_bypass_client(b, "127.0.0.1"));
	mugai_bypass_free(b);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *nets, *rcpts, *expect;
	} cases[] = {
		{ "192.0.2.1/24", NULL, "host bits" },
		{ "2001:db8::1/32", NULL, "host bits" },
		{ "192.0.2.0/33", NULL, "prefix" },
		{ "2001:db8::/129", NULL, "prefix" },
		{ "192.0.2.0/", NULL, "prefix" },
		{ "192.0.2.0/2x", NULL, "prefix" },
		{ "192.0.2.0/-1", NULL, "prefix" },
		{ "example.org", NULL, "not an IP address" },
		{ "192.0.2.0/24, 300.1.1.1", NULL, "300.1.1.1" },
		{ NULL, "postmaster", "not an address" },
		{ NULL, "user@", "not an address" },
		{ NULL, "@", "not an address" },
		{ NULL, "ok@example.org bad", "\"bad\"" },
	};
	struct mugai_bypass *b;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = (struct mugai_bypass *)1;
		err[0] = '\0';
		assert_int_equal(mugai_bypass_new(cases[i].nets, cases[i].rcpts,
		    &b, err, sizeof(err)), MUGAI_ERR_CONFIG);
		assert_null(b);
		if (strstr(err, cases[i].expect) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    cases[i].expect);
		assert_non_null(strstr(err, cases[i].nets ?
		    "bypass_client_networks" : "bypass_recipients"));
	}
}

static void
test_long_item(void **state)
{
	char nets[2000];
	struct mugai_bypass *b = NULL;
	char err[256];

	(void)state;
	memset(nets, '1', sizeof(nets) - 1);
	nets[sizeof(nets) - 1] = '\0';
	assert_int_equal(mugai_bypass_new(nets, NULL, &b, err, sizeof(err)),
	    MUGAI_ERR_CONFIG);
	assert_non_null(strstr(err, "too long"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_networks),
		cmocka_unit_test(test_zero_prefix_and_empty),
		cmocka_unit_test(test_recipients_all_must_match),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_item),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
