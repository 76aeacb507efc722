/*
 * test_milter_noreply.c - the milter's answers when the MTA takes no
 * reply to connect, HELO, MAIL, RCPT and body chunks (SMFIP_NR_*): what
 * mf_negotiate takes from an MTA of protocol 6 and from an older one,
 * and that a decision made at a step without a reply (no configuration
 * in force, shutting down) is answered at end of headers with the code
 * and text it has today, and where it is made without the flags.  The
 * callbacks run as libmilter calls them, through a fake seam (no MTA);
 * the rest (size limit, bypass) is tests/e2e/milter-protocol.sh's, which
 * needs a configuration in force.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../../milter/callbacks.h"
#include "../../milter/seam.h"

/* Every SMFIP_NR_* (libmilter shows them all as offered: it fakes them). */
#define NR_ALL	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_HDR | \
	SMFIP_NR_EOH | SMFIP_NR_BODY)
/* What Postfix 3 offers (protocol 6: every option). */
#define OFFER_V6	0x1FFFFFUL
/* An MTA before protocol 6 (Postfix with milter_protocol=4). */
#define OFFER_OLD	0x3FFUL
#define ACTIONS		0x1FFUL

/* The fake MTA: one connection's private pointer and the last reply. */
static struct {
	void	*priv;
	int	 nreplies;
	char	 code[8];
	char	 xcode[16];
	char	 text[512];
} mta;

static SMFICTX *const ctx = (SMFICTX *)&mta;

static void *
fake_getpriv(SMFICTX *c)
{
	(void)c;
	return mta.priv;
}

static int
fake_setpriv(SMFICTX *c, void *p)
{
	(void)c;
	mta.priv = p;
	return MI_SUCCESS;
}

static char *
fake_getsymval(SMFICTX *c, char *name)
{
	(void)c;
	(void)name;
	return NULL;
}

static int
fake_setreply(SMFICTX *c, char *code, char *xcode, char *text)
{
	(void)c;
	mta.nreplies++;
	snprintf(mta.code, sizeof(mta.code), "%s", code);
	snprintf(mta.xcode, sizeof(mta.xcode), "%s", xcode);
	snprintf(mta.text, sizeof(mta.text), "%s", text);
	return MI_SUCCESS;
}

static const struct milter_seam fake_seam = {
	.getsymval = fake_getsymval,
	.getpriv = fake_getpriv,
	.setpriv = fake_setpriv,
	.setreply = fake_setreply,
};

/* callbacks.c calls libmilter only through this pointer. */
const struct milter_seam *milter_seam = &fake_seam;

static int
reset(void **state)
{
	(void)state;
	memset(&mta, 0, sizeof(mta));
	return 0;
}

/* A new connection offering protocol options f1; returns what is taken. */
static unsigned long
open_conn(unsigned long f1)
{
	struct smfiDesc *d = milter_callbacks();
	unsigned long a = 0, p = 0, f2 = 0, f3 = 0;

	/* libmilter passes the MTA's options and every NR step, faked. */
	assert_int_equal(d->xxfi_negotiate(ctx, ACTIONS, f1 | NR_ALL, 0, 0,
	    &a, &p, &f2, &f3), SMFIS_CONTINUE);
	assert_int_equal(a, MILTER_ACTIONS);
	assert_non_null(mta.priv);
	return p;
}

static void
close_conn(void)
{
	assert_int_equal(milter_callbacks()->xxfi_close(ctx), SMFIS_CONTINUE);
	assert_null(mta.priv);
}

/* What each step answers, as libmilter would see it, up to end of headers. */
static void
run_envelope(sfsistat conn_st, sfsistat mail_st, sfsistat rest_st)
{
	struct smfiDesc *d = milter_callbacks();
	struct sockaddr_in sin;
	char *from[] = { "<a@example.org>", NULL };
	char *rcpt[] = { "<b@example.jp>", NULL };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xC6336401);	/* 198.51.100.1 */
	assert_int_equal(d->xxfi_connect(ctx, "client.example",
	    (_SOCK_ADDR *)&sin), conn_st);
	assert_int_equal(d->xxfi_helo(ctx, "client.example"), conn_st);
	assert_int_equal(d->xxfi_envfrom(ctx, from), mail_st);
	if (mail_st != SMFIS_NOREPLY)
		return;
	assert_int_equal(d->xxfi_envrcpt(ctx, rcpt), rest_st);
	assert_int_equal(d->xxfi_header(ctx, "Subject", " x"),
	    SMFIS_NOREPLY);
}

static void
test_negotiate_v6(void **state)
{
	unsigned long p;

	(void)state;
	/* HDR_LEADSPC, NR_HDR, NODATA, NOUNKNOWN, NR_CONN/HELO/MAIL/RCPT/BODY;
	 * not NOHELO (the HELO name goes to the sanitiser) nor NR_EOH. */
	p = open_conn(OFFER_V6);
	assert_int_equal(p, SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NODATA |
	    SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
	    SMFIP_NR_RCPT | SMFIP_NR_BODY);
	assert_int_equal(p, 0x18F380UL);
	close_conn();
}

static void
test_negotiate_old(void **state)
{
	(void)state;
	/* No NR step but headers (libmilter answers those for it). */
	assert_int_equal(open_conn(OFFER_OLD), 0x380UL);
	close_conn();
}

/* No configuration in force (none was opened here): 451 4.3.0. */
static void
test_noconfig_later(void **state)
{
	(void)state;
	open_conn(OFFER_V6);
	run_envelope(SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_NOREPLY);
	assert_int_equal(mta.nreplies, 0);
	assert_int_equal(milter_callbacks()->xxfi_eoh(ctx), SMFIS_TEMPFAIL);
	assert_int_equal(mta.nreplies, 1);
	assert_string_equal(mta.code, "451");
	assert_string_equal(mta.xcode, "4.3.0");
	assert_string_equal(mta.text, "Temporary failure while sanitising "
	    "the message; please try again later");
	/* The decision ended with its message: the next one decides anew
	 * (no reply now either), and an abort ends it without a word. */
	{
		char *from[] = { "<c@example.org>", NULL };

		assert_int_equal(milter_callbacks()->xxfi_envfrom(ctx, from),
		    SMFIS_NOREPLY);
	}
	assert_int_equal(milter_callbacks()->xxfi_abort(ctx), SMFIS_CONTINUE);
	assert_int_equal(mta.nreplies, 1);
	close_conn();
}

static void
test_noconfig_now(void **state)
{
	(void)state;
	open_conn(OFFER_OLD);
	run_envelope(SMFIS_CONTINUE, SMFIS_TEMPFAIL, 0);
	assert_int_equal(mta.nreplies, 1);
	assert_string_equal(mta.code, "451");
	assert_string_equal(mta.xcode, "4.3.0");
	close_conn();
}

/* Shutting down (last: it cannot be undone): 451 4.3.2. */
static void
test_stopping_later(void **state)
{
	(void)state;
	milter_callbacks_stop();
	open_conn(OFFER_V6);
	run_envelope(SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_NOREPLY);
	assert_int_equal(mta.nreplies, 0);
	assert_int_equal(milter_callbacks()->xxfi_eoh(ctx), SMFIS_TEMPFAIL);
	assert_string_equal(mta.code, "451");
	assert_string_equal(mta.xcode, "4.3.2");
	assert_string_equal(mta.text, "Mail filter shutting down; please "
	    "try again later");
	close_conn();
}

static void
test_stopping_now(void **state)
{
	(void)state;
	milter_callbacks_stop();
	open_conn(OFFER_OLD);
	run_envelope(SMFIS_CONTINUE, SMFIS_TEMPFAIL, 0);
	assert_int_equal(mta.nreplies, 1);
	assert_string_equal(mta.xcode, "4.3.2");
	close_conn();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_negotiate_v6, reset),
		cmocka_unit_test_setup(test_negotiate_old, reset),
		cmocka_unit_test_setup(test_noconfig_later, reset),
		cmocka_unit_test_setup(test_noconfig_now, reset),
		cmocka_unit_test_setup(test_stopping_later, reset),
		cmocka_unit_test_setup(test_stopping_now, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
