/*
 * callbacks.c - the libmilter callbacks: translate between the milter
 * protocol and the library, nothing more (see callbacks.h).
 *
 * Fail closed: whenever a message cannot be sanitised for sure (no
 * memory, spool error, sanitiser error, an edit the MTA refused) the
 * answer is a temporary failure, so the sending MTA keeps the message
 * and tries again.  Nothing is ever passed on unsanitised, except mail
 * that the configuration says to bypass.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/budget.h"
#include "mugai/base/buf.h"
#include "mugai/base/log.h"
#include "mugai/sanitize/sanitize.h"
#include "callbacks.h"
#include "context.h"
#include "edit.h"
#include "seam.h"

/* Longest text put in one SMTP reply line. */
#define MF_REPLY_MAX	400

static atomic_int mf_stopping;

void
milter_callbacks_stop(void)
{
	atomic_store(&mf_stopping, 1);
}

static struct connctx *
mf_conn(SMFICTX *ctx)
{
	return milter_seam->getpriv(ctx);
}

/*
 * The context at the start of a step: bit is the step's SMFIP_NR_*
 * (0 for a step that always has a reply); c->step says whether the MTA
 * takes no reply to it, for mf_reply and mf_done.
 */
static struct connctx *
mf_conn_step(SMFICTX *ctx, unsigned long bit)
{
	struct connctx *c = mf_conn(ctx);

	if (c != NULL)
		c->step = c->nr & bit;
	return c;
}

/*
 * The answer to a step.  At a step without a reply a decision other
 * than continue is kept in c->later (its reply text was kept there by
 * mf_reply) and the message ends here: the MTA goes on sending, and
 * the decision is answered at end of headers or end of message
 * (mf_later).  The first decision kept wins.
 */
static sfsistat
mf_done(struct connctx *c, sfsistat st)
{
	if (c == NULL || c->step == 0)
		return st;
	c->step = 0;
	if (st != SMFIS_CONTINUE && c->later.st == 0) {
		c->later.st = st;
		msg_cleanup(c);
	}
	if (c->later.st == 0)
		c->later.code[0] = '\0';
	return SMFIS_NOREPLY;
}

/* Forget a decision kept for the message (not one kept for HELO). */
static void
mf_later_clear(struct connctx *c)
{
	if (!c->later.conn)
		memset(&c->later, 0, sizeof(c->later));
}

/*
 * An SMTP reply for smfi_setreply: printable ASCII only, '%' doubled
 * (libmilter formats it), cut at MF_REPLY_MAX.
 */
static void
mf_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
	struct connctx *c = mf_conn(ctx);
	char buf[2 * MF_REPLY_MAX + 2];
	size_t n = 0;

	if (c != NULL && c->step != 0) {
		/* No reply now: kept for mf_later (first one wins). */
		if (c->later.st == 0 && c->later.code[0] == '\0') {
			snprintf(c->later.code, sizeof(c->later.code), "%s",
			    code);
			snprintf(c->later.xcode, sizeof(c->later.xcode), "%s",
			    xcode);
			snprintf(c->later.text, sizeof(c->later.text), "%s",
			    text);
		}
		return;
	}
	for (; *text != '\0' && n < MF_REPLY_MAX; text++) {
		unsigned char ch = (unsigned char)*text;

		if (ch < 0x20 || ch > 0x7e)
			ch = '?';
		if (ch == '%')
			buf[n++] = '%';
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	if (milter_seam->setreply(ctx, (char *)code, (char *)xcode, buf) !=
	    MI_SUCCESS)
		mugai_log(LOG_WARNING, NULL, "MTA refused reply %s %s", code,
		    xcode);
}

static sfsistat
mf_tempfail(SMFICTX *ctx, const char *qid, const char *why)
{
	mugai_log(LOG_ERR, qid, "temporary failure: %s", why);
	mf_reply(ctx, "451", "4.3.0", "Temporary failure while sanitising "
	    "the message; please try again later");
	return SMFIS_TEMPFAIL;
}

/*
 * A decision kept from a step without a reply (mf_done), answered now,
 * at the first step that has one; the message, if any, ends.
 */
static sfsistat
mf_later(SMFICTX *ctx, struct connctx *c)
{
	sfsistat st = c->later.st;

	if (c->later.code[0] != '\0')
		mf_reply(ctx, c->later.code, c->later.xcode, c->later.text);
	mf_later_clear(c);
	msg_cleanup(c);
	return st;
}

static sfsistat
mf_oversize(SMFICTX *ctx, struct connctx *c)
{
	char text[128];
	size_t max = c->msg->snap->cfg->max_message_size;

	mugai_log(LOG_NOTICE, msg_qid(c->msg), "from=<%s>: rejected: message "
	    "larger than max_message_size %zu", c->msg->sender, max);
	snprintf(text, sizeof(text), "Message size exceeds the limit of %zu "
	    "bytes", max);
	mf_reply(ctx, "552", "5.3.4", text);
	msg_cleanup(c);
	return SMFIS_REJECT;
}

/* The MTA's queue id: Postfix and Sendmail give {i} from MAIL FROM on. */
static void
mf_note_qid(SMFICTX *ctx, struct msgctx *m)
{
	if (m != NULL && m->qid[0] == '\0')
		msg_set_qid(m, milter_seam->getsymval(ctx, "i"));
}

/* The steps mf_negotiate may take without a reply (besides headers). */
#define MF_NR_STEPS	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_BODY)

/*
 * libmilter shows every SMFIP_NR_* as offered, also by an MTA that
 * lacks them (it then sends "continue" itself), so a milter cannot
 * see them.  They came with protocol 6 (Sendmail 8.14, Postfix 2.6)
 * together with SMFIP_SKIP, SMFIP_RCPT_REJ and SMFIP_HDR_LEADSPC,
 * which libmilter passes on as the MTA offered them: those tell an
 * MTA that takes no reply for real.  Elsewhere each step keeps its
 * reply, as it always had.
 */
static int
mf_speaks_v6(unsigned long f1)
{
	return (f1 & (SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC)) != 0;
}

static sfsistat
mf_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_CHGBODY;
	struct connctx *c;

	/* Without these the message cannot be sanitised: refuse to filter. */
	if ((f0 & need) != need) {
		mugai_log(LOG_ERR, NULL, "the MTA does not allow changing "
		    "headers and body (actions 0x%lx); mugai-milter cannot work "
		    "with it", f0);
		return SMFIS_REJECT;
	}
	/* Negotiation comes before connect: the context starts here. */
	if ((c = mf_conn(ctx)) == NULL) {
		if ((c = conn_new()) == NULL)
			return SMFIS_TEMPFAIL;
		if (milter_seam->setpriv(ctx, c) != MI_SUCCESS) {
			conn_free(c);
			return SMFIS_TEMPFAIL;
		}
	}
	*pf0 = f0 & MILTER_ACTIONS;
	/*
	 * Header values with their leading space keep originals exact.
	 * No reply to each header, no DATA and no unknown command: a
	 * round trip less per header line for the MTA and for us; a
	 * header that cannot be kept is answered at the end of the
	 * headers instead.
	 */
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NODATA |
	    SMFIP_NOUNKNOWN);
	/*
	 * No reply to connect, HELO, MAIL, RCPT and body chunks either,
	 * from an MTA that speaks protocol 6 (mf_speaks_v6): a decision
	 * made there waits for end of headers or end of message (mf_done).
	 */
	if (mf_speaks_v6(f1))
		*pf1 |= f1 & MF_NR_STEPS;
	*pf2 = 0;
	*pf3 = 0;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
	c->nr = *pf1 & MF_NR_STEPS;
	mugai_log(LOG_DEBUG, NULL, "negotiated: MTA offers protocol 0x%lx, "
	    "taken 0x%lx", f1, *pf1);
	return SMFIS_CONTINUE;
}

static sfsistat
mf_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	struct connctx *c = mf_conn_step(ctx, SMFIP_NR_CONN);

	if (c != NULL) {
		conn_set_addr(c, addr);
		return mf_done(c, SMFIS_CONTINUE);
	}
	/* An MTA that does not negotiate: no leading spaces. */
	if ((c = conn_new()) == NULL)
		return mf_tempfail(ctx, NULL, "out of memory");
	conn_set_addr(c, addr);
	if (milter_seam->setpriv(ctx, c) != MI_SUCCESS) {
		conn_free(c);
		return mf_tempfail(ctx, NULL, "cannot keep connection state");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mf_helo(SMFICTX *ctx, char *helo)
{
	struct connctx *c = mf_conn_step(ctx, SMFIP_NR_HELO);
	sfsistat st;
	char *h;

	if (c == NULL)
		return mf_tempfail(ctx, NULL, "HELO without a connection");
	if ((h = strdup(helo ? helo : "")) == NULL) {
		/* Kept, it answers every message of the connection. */
		st = mf_done(c, mf_tempfail(ctx, NULL, "out of memory"));
		if (c->later.st != 0)
			c->later.conn = 1;
		return st;
	}
	free(c->helo);
	c->helo = h;
	/* This HELO worked: a failure kept from the one before is gone. */
	if (c->later.conn)
		memset(&c->later, 0, sizeof(c->later));
	return mf_done(c, SMFIS_CONTINUE);
}

static sfsistat
mf_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx *c = mf_conn_step(ctx, SMFIP_NR_MAIL);
	struct milter_snap *snap;

	if (c == NULL)
		return mf_tempfail(ctx, NULL, "MAIL FROM without a connection");
	msg_cleanup(c);
	mf_later_clear(c);
	if (c->later.st != 0)	/* a HELO that failed: answered later */
		return mf_done(c, SMFIS_CONTINUE);
	if (atomic_load(&mf_stopping)) {
		mugai_log(LOG_INFO, NULL, "shutting down: deferring a new "
		    "message");
		mf_reply(ctx, "451", "4.3.2", "Mail filter shutting down; "
		    "please try again later");
		return mf_done(c, SMFIS_TEMPFAIL);
	}
	if ((snap = milter_state_get()) == NULL)
		return mf_done(c, mf_tempfail(ctx, NULL, "no configuration "
		    "in force"));
	if (msg_start(c, snap, argv != NULL ? argv[0] : NULL) != MUGAI_OK)
		return mf_done(c, mf_tempfail(ctx, NULL, "out of memory"));
	mf_note_qid(ctx, c->msg);
	if (mugai_bypass_client(c->msg->snap->bypass, c->addr)) {
		mugai_log(LOG_INFO, msg_qid(c->msg), "from=<%s>: bypassed: "
		    "client %s is in bypass_client_networks", c->msg->sender,
		    c->addr);
		msg_cleanup(c);
		return mf_done(c, SMFIS_ACCEPT);
	}
	return mf_done(c, SMFIS_CONTINUE);
}

static sfsistat
mf_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx *c = mf_conn_step(ctx, SMFIP_NR_RCPT);
	mugai_status rc;

	if (c != NULL && c->later.st != 0)	/* decided: answered later */
		return mf_done(c, SMFIS_CONTINUE);
	if (c == NULL || c->msg == NULL)
		return mf_done(c, mf_tempfail(ctx, NULL, "RCPT TO without "
		    "MAIL FROM"));
	mf_note_qid(ctx, c->msg);
	rc = msg_add_rcpt(c->msg, argv != NULL ? argv[0] : NULL);
	/*
	 * Without a reply to RCPT, the whole message is refused at end of
	 * headers instead of this one recipient.
	 */
	if (rc == MUGAI_ERR_LIMIT) {
		mf_reply(ctx, "452", "4.5.3", "Too many recipients");
		return mf_done(c, SMFIS_TEMPFAIL);
	}
	if (rc != MUGAI_OK)
		return mf_done(c, mf_tempfail(ctx, msg_qid(c->msg), "out of "
		    "memory"));
	return mf_done(c, SMFIS_CONTINUE);
}

/* A spool error: the size limit is the sender's fault, the rest ours. */
static sfsistat
mf_spool_failed(SMFICTX *ctx, struct connctx *c, mugai_status rc)
{
	const char *qid = msg_qid(c->msg);
	sfsistat st;

	if (rc == MUGAI_ERR_LIMIT)
		return mf_oversize(ctx, c);
	st = mf_tempfail(ctx, qid, rc == MUGAI_ERR_IO ? "cannot write the "
	    "spool file" : "cannot hold the message");
	msg_cleanup(c);
	return st;
}

static sfsistat
mf_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx *c = mf_conn_step(ctx, 0);
	mugai_status rc;

	if (c != NULL && c->later.st != 0)	/* decided: answered at EOH */
		return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (c == NULL || c->msg == NULL) {
		/* Without a reply, end of headers finds no message either. */
		if (c != NULL && c->nr_hdr)
			return SMFIS_NOREPLY;
		return mf_tempfail(ctx, NULL, "header without MAIL FROM");
	}
	mf_note_qid(ctx, c->msg);
	if (c->msg->hdr_err != MUGAI_OK)
		return SMFIS_NOREPLY;
	rc = msg_add_header(c->msg, name, value, c->leadspc);
	if (rc != MUGAI_OK) {
		if (!c->nr_hdr)
			return mf_spool_failed(ctx, c, rc);
		c->msg->hdr_err = rc;	/* answered at end of headers */
	}
	return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static const char *const *
mf_rcpts(const struct msgctx *m)
{
	return (const char *const *)m->rcpts;
}

static sfsistat
mf_eoh(SMFICTX *ctx)
{
	struct connctx *c = mf_conn_step(ctx, 0);
	struct msgctx *m;
	mugai_status rc;

	if (c != NULL && c->later.st != 0)
		return mf_later(ctx, c);
	if (c == NULL || (m = c->msg) == NULL)
		return mf_tempfail(ctx, NULL, "end of headers without MAIL "
		    "FROM");
	mf_note_qid(ctx, m);
	if ((rc = m->hdr_err) != MUGAI_OK ||
	    (rc = msg_end_headers(m)) != MUGAI_OK)
		return mf_spool_failed(ctx, c, rc);
	if (mugai_bypass_recipients(m->snap->bypass, mf_rcpts(m),
	    m->nrcpts)) {
		mugai_log(LOG_INFO, msg_qid(m), "from=<%s>: bypassed: every "
		    "recipient is in bypass_recipients", m->sender);
		msg_cleanup(c);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mf_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct connctx *c = mf_conn_step(ctx, SMFIP_NR_BODY);
	mugai_status rc;

	if (c != NULL && c->later.st != 0)	/* decided: answered at EOM */
		return mf_done(c, SMFIS_CONTINUE);
	if (c == NULL || c->msg == NULL)
		return mf_done(c, mf_tempfail(ctx, NULL, "body without MAIL "
		    "FROM"));
	rc = msg_add_body(c->msg, chunk, len);
	if (rc != MUGAI_OK)
		return mf_done(c, mf_spool_failed(ctx, c, rc));
	return mf_done(c, SMFIS_CONTINUE);
}

static long
mf_elapsed_ms(const struct msgctx *m)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - m->started.tv_sec) * 1000 +
	    (now.tv_nsec - m->started.tv_nsec) / 1000000;
}

/* "<a>,<b>" for the summary line, cut short for huge lists. */
static void
mf_rcpt_list(const struct msgctx *m, struct mugai_buf *b)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++) {
		if (b->len > 1000) {
			(void)mugai_buf_printf(b, ",...(%zu)", m->nrcpts);
			return;
		}
		(void)mugai_buf_printf(b, "%s<%s>", i ? "," : "",
		    m->rcpts[i]);
	}
	if (m->nrcpts == 0)
		(void)mugai_buf_puts(b, "-");
}

/* The one summary line every message gets. */
static void
mf_summary(const struct msgctx *m, const struct mugai_result *r,
    size_t size, const char *outcome)
{
	struct mugai_buf rc;

	mugai_buf_init(&rc, 0);
	mf_rcpt_list(m, &rc);
	mugai_log(LOG_INFO, msg_qid(m), "from=<%s> to=%s size=%zu id=%s "
	    "action=%s %s time=%ldms", m->sender, rc.data ? rc.data : "-",
	    size, r->id, outcome, r->summary ? r->summary : "-",
	    mf_elapsed_ms(m));
	mugai_buf_free(&rc);
}

static sfsistat
mf_deliver(SMFICTX *ctx, struct connctx *c, const struct mugai_result *r,
    const char *raw, size_t len)
{
	const char *what = NULL;

	if (edit_apply(ctx, r, raw, len, c->leadspc,
	    c->msg->snap->cfg->milter_body_chunk, &what) != 0)
		return mf_tempfail(ctx, msg_qid(c->msg), what);
	return SMFIS_CONTINUE;
}

static sfsistat
mf_reject(SMFICTX *ctx, const struct mugai_result *r)
{
	char text[MF_REPLY_MAX];

	if (r->signatures != NULL && r->signatures[0] != '\0') {
		snprintf(text, sizeof(text), "Message refused: virus found "
		    "(%s) [%s]", r->signatures, r->id);
		mf_reply(ctx, "550", "5.7.1", text);
	} else {
		snprintf(text, sizeof(text), "Message refused: %s [%s]",
		    r->reason ? r->reason : "policy", r->id);
		mf_reply(ctx, "552", "5.3.4", text);
	}
	return SMFIS_REJECT;
}

/*
 * discard and quarantine-only: the message is accepted and not
 * delivered.  The original is in mugai's quarantine; if that is turned
 * off, quarantine-only asks the MTA to hold it instead.
 */
static sfsistat
mf_discard(SMFICTX *ctx, const struct msgctx *m, const struct mugai_result *r)
{
	const struct mugai_config *cfg = m->snap->cfg;

	if (r->quarantined || cfg->virus_action != MUGAI_VIRUS_QUARANTINE_ONLY)
		return SMFIS_DISCARD;
	if (milter_seam->quarantine(ctx, r->reason ? r->reason :
	    "virus found") != MI_SUCCESS)
		return mf_tempfail(ctx, msg_qid(m), "the MTA refused to hold "
		    "the message");
	return SMFIS_ACCEPT;
}

static sfsistat
mf_apply(SMFICTX *ctx, struct connctx *c, const struct mugai_result *r,
    const char *raw, size_t len)
{
	switch (r->verdict) {
	case MUGAI_VERDICT_DELIVER:
		return mf_deliver(ctx, c, r, raw, len);
	case MUGAI_VERDICT_REJECT:
		return mf_reject(ctx, r);
	case MUGAI_VERDICT_DISCARD:
		return mf_discard(ctx, c->msg, r);
	case MUGAI_VERDICT_TEMPFAIL:
	default:
		return mf_tempfail(ctx, msg_qid(c->msg), r->reason ?
		    r->reason : "sanitiser failed");
	}
}

static const char *
mf_outcome(sfsistat st)
{
	switch (st) {
	case SMFIS_CONTINUE:	return "delivered";
	case SMFIS_REJECT:	return "rejected";
	case SMFIS_DISCARD:	return "discarded";
	case SMFIS_ACCEPT:	return "held";
	default:		return "deferred";
	}
}

/* Sanitise the message of c and answer; the message is ended after. */
static sfsistat
mf_eom_sanitize(SMFICTX *ctx, struct connctx *c, struct msgctx *m)
{
	struct mugai_envelope env;
	struct mugai_result *r;
	const char *raw;
	size_t len;
	sfsistat st;

	if (msg_end_headers(m) != MUGAI_OK ||
	    mugai_spool_map(m->spool, &raw, &len) != MUGAI_OK) {
		st = mf_tempfail(ctx, msg_qid(m), "cannot read back the spool");
		msg_cleanup(c);
		return st;
	}
	memset(&env, 0, sizeof(env));
	env.queue_id = m->qid;
	env.client_addr = c->addr;
	env.helo = c->helo ? c->helo : "";
	env.sender = m->sender;
	env.recipients = mf_rcpts(m);
	env.nrecipients = m->nrcpts;
	if ((r = mugai_sanitize(&m->snap->svc, raw, len, &env)) == NULL) {
		st = mf_tempfail(ctx, msg_qid(m), "out of memory");
		msg_cleanup(c);
		return st;
	}
	st = mf_apply(ctx, c, r, raw, len);
	mf_summary(m, r, len, mf_outcome(st));
	mugai_result_free(r);
	msg_cleanup(c);
	return st;
}

/*
 * The memory budget (milter_memory_max): a message being sanitised
 * holds its bytes and about as much again, so it takes twice its size
 * until it is answered and freed.
 */
static size_t
mf_share(const struct msgctx *m)
{
	size_t n = mugai_spool_size(m->spool);

	return n > (size_t)-1 / 2 ? (size_t)-1 : 2 * n;
}

static sfsistat
mf_eom(SMFICTX *ctx)
{
	struct connctx *c = mf_conn_step(ctx, 0);
	struct msgctx *m;
	const struct mugai_config *cfg;
	struct mugai_budget *budget;
	size_t share;
	sfsistat st;

	if (c != NULL && c->later.st != 0)
		return mf_later(ctx, c);
	if (c == NULL || (m = c->msg) == NULL)
		return mf_tempfail(ctx, NULL, "end of message without MAIL "
		    "FROM");
	mf_note_qid(ctx, m);
	if (m->hdr_err != MUGAI_OK) {
		st = mf_spool_failed(ctx, c, m->hdr_err);
		return st;
	}
	cfg = m->snap->cfg;
	/* The budget outlives the message (and its snapshot), which
	 * mf_eom_sanitize ends. */
	budget = m->snap->budget;
	share = mf_share(m);
	if (mugai_budget_take(budget, share, cfg->milter_memory_max,
	    cfg->milter_memory_wait * 1000) != MUGAI_OK) {
		mugai_log(LOG_NOTICE, msg_qid(m), "from=<%s>: deferred: %zu "
		    "bytes did not fit in milter_memory_max %zu within %us",
		    m->sender, share, cfg->milter_memory_max,
		    cfg->milter_memory_wait);
		mf_reply(ctx, "451", "4.3.2", "Mail filter busy; please try "
		    "again later");
		msg_cleanup(c);
		return SMFIS_TEMPFAIL;
	}
	st = mf_eom_sanitize(ctx, c, m);
	mugai_budget_give(budget, share);
	return st;
}

static sfsistat
mf_abort(SMFICTX *ctx)
{
	struct connctx *c = mf_conn_step(ctx, 0);

	if (c != NULL && c->msg != NULL) {
		mugai_log(LOG_INFO, msg_qid(c->msg), "from=<%s>: aborted by "
		    "the MTA", c->msg->sender);
		msg_cleanup(c);
	}
	if (c != NULL)
		mf_later_clear(c);
	return SMFIS_CONTINUE;
}

static sfsistat
mf_close(SMFICTX *ctx)
{
	struct connctx *c = mf_conn(ctx);

	if (c != NULL) {
		(void)milter_seam->setpriv(ctx, NULL);
		conn_free(c);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc mf_desc = {
	.xxfi_name = "mugai-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = MILTER_ACTIONS,
	.xxfi_connect = mf_connect,
	.xxfi_helo = mf_helo,
	.xxfi_envfrom = mf_envfrom,
	.xxfi_envrcpt = mf_envrcpt,
	.xxfi_header = mf_header,
	.xxfi_eoh = mf_eoh,
	.xxfi_body = mf_body,
	.xxfi_eom = mf_eom,
	.xxfi_abort = mf_abort,
	.xxfi_close = mf_close,
	.xxfi_negotiate = mf_negotiate,
};

struct smfiDesc *
milter_callbacks(void)
{
	return &mf_desc;
}
