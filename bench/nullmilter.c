/*
 * nullmilter.c - a milter that does nothing but take part in the
 * protocol: the floor of bench/postfix.sh (modes null and nullbody).
 *
 *   nullmilter [-b] unix:/path/to/socket
 *
 * Why it exists: "mugai-milter against no milter" mixes mugai's cost
 * with what talking to any milter costs (the protocol's round trips,
 * Postfix's smtpd passing every step on, cleanup applying the edits),
 * and on two cores both take CPU from Postfix.  This milter negotiates exactly what
 * mugai-milter takes (milter/callbacks.c, mf_negotiate: the same
 * actions, SMFIP_NR_* only from an MTA that speaks protocol 6,
 * SMFIP_NR_HDR, SMFIP_NODATA, SMFIP_NOUNKNOWN, SMFIP_HDR_LEADSPC), is
 * given connect, HELO, MAIL, RCPT, the headers and the body, and at
 * end of message makes the least edit a sanitiser that marks every
 * message must make: one header added.  With -b it also replaces the
 * body with the bytes it was given (mugai-milter replaces the body of
 * every message), in pieces of 63K like mugai's default
 * milter_body_chunk; the body is held in memory up to NM_BODY_MAX, and
 * a longer one is deferred.  A benchmark tool: no configuration, no
 * logging, no privileges dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* What mugai-milter asks for (milter/callbacks.h, MILTER_ACTIONS). */
#define NM_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | \
			 SMFIF_QUARANTINE)
/* The steps taken without a reply from a protocol 6 MTA (as mugai). */
#define NM_NR_STEPS	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
			 SMFIP_NR_RCPT | SMFIP_NR_BODY)
#define NM_BODY_MAX	(64u << 20)	/* above the bench's 50 MB limit */
#define NM_CHUNK	(63u << 10)	/* mugai's milter_body_chunk */

struct nm_conn {
	unsigned long	 nr;		/* SMFIP_NR_* taken */
	int		 leadspc;	/* header values keep their space */
	int		 failed;	/* body too long or no memory */
	unsigned char	*body;
	size_t		 len;
	size_t		 cap;
};

static int nm_replace;			/* -b: replace the body too */

static struct nm_conn *
nm_conn_new(SMFICTX *ctx)
{
	struct nm_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		return NULL;
	}
	return c;
}

/* Forget the message (idempotent): from MAIL, end of message, abort. */
static void
nm_msg_reset(struct nm_conn *c)
{
	if (c == NULL)
		return;
	c->len = 0;
	c->failed = 0;
}

/* Continue, without a reply where the MTA takes none for this step. */
static sfsistat
nm_step(SMFICTX *ctx, unsigned long bit)
{
	struct nm_conn *c = smfi_getpriv(ctx);

	return c != NULL && (c->nr & bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_CHGBODY;
	struct nm_conn *c;

	if ((f0 & need) != need)
		return SMFIS_REJECT;
	if ((c = smfi_getpriv(ctx)) == NULL && (c = nm_conn_new(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	*pf0 = f0 & NM_ACTIONS;
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NODATA |
	    SMFIP_NOUNKNOWN);
	/* libmilter shows every NR bit as offered: see mf_speaks_v6. */
	if (f1 & (SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC))
		*pf1 |= f1 & NM_NR_STEPS;
	*pf2 = 0;
	*pf3 = 0;
	c->nr = *pf1 & (NM_NR_STEPS | SMFIP_NR_HDR);
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	/* An MTA that does not negotiate: every step has its reply. */
	if (smfi_getpriv(ctx) == NULL && nm_conn_new(ctx) == NULL)
		return SMFIS_TEMPFAIL;
	return nm_step(ctx, SMFIP_NR_CONN);
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	return nm_step(ctx, SMFIP_NR_HELO);
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	nm_msg_reset(smfi_getpriv(ctx));
	return nm_step(ctx, SMFIP_NR_MAIL);
}

static sfsistat
nm_envrcpt(SMFICTX *ctx, char **argv)
{
	return nm_step(ctx, SMFIP_NR_RCPT);
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	return nm_step(ctx, SMFIP_NR_HDR);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

/* Keep a body chunk for -b; a failure is answered at end of message. */
static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct nm_conn *c = smfi_getpriv(ctx);
	unsigned char *p;
	size_t cap;

	if (c == NULL || !nm_replace || c->failed)
		return nm_step(ctx, SMFIP_NR_BODY);
	if (len > NM_BODY_MAX - c->len) {
		c->failed = 1;
		return nm_step(ctx, SMFIP_NR_BODY);
	}
	if (c->len + len > c->cap) {
		for (cap = c->cap ? c->cap : 16384; cap < c->len + len;)
			cap *= 2;
		if ((p = realloc(c->body, cap)) == NULL) {
			c->failed = 1;
			return nm_step(ctx, SMFIP_NR_BODY);
		}
		c->body = p;
		c->cap = cap;
	}
	memcpy(c->body + c->len, chunk, len);
	c->len += len;
	return nm_step(ctx, SMFIP_NR_BODY);
}

/* The body as it came (CRLF line ends already), in NM_CHUNK pieces. */
static int
nm_replace_body(SMFICTX *ctx, const struct nm_conn *c)
{
	size_t off, n;

	for (off = 0; off < c->len; off += n) {
		n = c->len - off < NM_CHUNK ? c->len - off : NM_CHUNK;
		if (smfi_replacebody(ctx, c->body + off, (int)n) !=
		    MI_SUCCESS)
			return -1;
	}
	return 0;
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	struct nm_conn *c = smfi_getpriv(ctx);
	sfsistat st = SMFIS_TEMPFAIL;

	if (c == NULL || c->failed)
		goto out;
	if (smfi_addheader(ctx, "X-Null-Milter", c->leadspc ? " passed" :
	    "passed") != MI_SUCCESS)
		goto out;
	if (nm_replace && nm_replace_body(ctx, c) != 0)
		goto out;
	st = SMFIS_CONTINUE;
out:
	nm_msg_reset(c);
	return st;
}

static sfsistat
nm_abort(SMFICTX *ctx)
{
	nm_msg_reset(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
nm_close(SMFICTX *ctx)
{
	struct nm_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		(void)smfi_setpriv(ctx, NULL);
		free(c->body);
		free(c);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = NM_ACTIONS,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_envfrom,
	.xxfi_envrcpt = nm_envrcpt,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_eoh,
	.xxfi_body = nm_body,
	.xxfi_eom = nm_eom,
	.xxfi_abort = nm_abort,
	.xxfi_close = nm_close,
	.xxfi_negotiate = nm_negotiate,
};

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "b")) != -1) {
		if (ch != 'b')
			goto usage;
		nm_replace = 1;
	}
	if (optind != argc - 1)
		goto usage;
	if (smfi_setconn(argv[optind]) != MI_SUCCESS ||
	    smfi_register(nm_desc) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: bad socket %s\n", argv[optind]);
		return 78;	/* EX_CONFIG */
	}
	/* Postfix's smtpd runs as postfix: a socket anyone may use. */
	umask(0);
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n",
		    argv[optind]);
		return 69;	/* EX_UNAVAILABLE */
	}
	return smfi_main() == MI_SUCCESS ? 0 : 70;
usage:
	fprintf(stderr, "usage: nullmilter [-b] unix:/path/to/socket\n");
	return 64;	/* EX_USAGE */
}
