/*
 * qrequest.c - requests for an original and their decisions (see
 * mugai/quarantine/request.h).
 *
 * Built on the store: the state of a request changes only through the
 * backend's request_transition (one compare-and-set each), and an
 * approval releases through mugai_quarantine_release, whose own claim
 * on the message keeps a delete and a release from crossing.  The
 * requester's mail goes through sendmail_path like a release.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include "quarantine_backend.h"
#include "templates.h"

#define QR_TEMPLATE_MAX	(64 * 1024)
#define QR_MAIL_MAX	(256 * 1024)

/* ---- the requester's mail --------------------------------------------- */

/*
 * A person's name for the mail: an actor as the front ends record it
 * ("web:kondo", "cli:root") without the front end's tag, which means
 * nothing to the reader ("web:kondo 様").
 */
static const char *
qr_person(const char *actor)
{
	const char *p;

	if (actor == NULL)
		return "";
	for (p = actor; *p >= 'a' && *p <= 'z'; p++)
		;
	return *p == ':' && p > actor && p[1] != '\0' ? p + 1 : actor;
}

/* notice_template_dir/request-decision.txt, else the built-in copy. */
static char *
qr_template(const struct mugai_config *cfg)
{
	char path[4096], chunk[4096];
	struct mugai_buf b;
	size_t n;
	FILE *fp;

	if (cfg->notice_template_dir[0] == '\0')
		return strdup(mugai_tpl_request_decision);
	snprintf(path, sizeof(path), "%s/request-decision.txt",
	    cfg->notice_template_dir);
	/* A missing copy in an older template directory: the built-in. */
	if ((fp = fopen(path, "r")) == NULL)
		return strdup(mugai_tpl_request_decision);
	mugai_buf_init(&b, QR_TEMPLATE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (mugai_buf_append(&b, chunk, n) != MUGAI_OK) {
			fclose(fp);
			mugai_buf_free(&b);
			return strdup(mugai_tpl_request_decision);
		}
	fclose(fp);
	if (b.data == NULL) {
		mugai_buf_free(&b);
		return strdup(mugai_tpl_request_decision);
	}
	return mugai_buf_steal(&b, NULL);
}

struct qr_var {
	const char *name;
	const char *value;
};

/* tpl with each {name} replaced; unknown {x} stay as they are. */
static mugai_status
qr_substitute(const char *tpl, const struct qr_var *v, size_t nv,
    struct mugai_buf *out)
{
	const char *p = tpl, *close;
	mugai_status rc = MUGAI_OK;
	size_t i, n;

	while (*p != '\0' && rc == MUGAI_OK) {
		if (*p != '{' || (close = strchr(p, '}')) == NULL) {
			rc = mugai_buf_putc(out, *p++);
			continue;
		}
		n = (size_t)(close - p - 1);
		for (i = 0; i < nv; i++)
			if (strlen(v[i].name) == n &&
			    strncmp(p + 1, v[i].name, n) == 0)
				break;
		if (i == nv) {
			rc = mugai_buf_putc(out, *p++);
			continue;
		}
		rc = mugai_buf_puts(out, v[i].value != NULL ? v[i].value : "");
		p = close + 1;
	}
	return rc;
}

/* Values from senders go into a header-free body: one line each. */
static char *
qr_line(const char *s)
{
	char *c = g_strdup(s != NULL ? s : ""), *p;

	for (p = c; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return c;
}

/* Build the message from the rendered text: "Subject: ..." line, blank
 * line, body.  GMime encodes the subject and body for the wire. */
static mugai_status
qr_message(const struct mugai_config *cfg, const struct mugai_qrequest *r,
    const char *text, struct mugai_buf *out)
{
	const char *body = text, *nl;
	char *subject = NULL, *msgid;
	GMimeMessage *m;
	GMimeTextPart *tp;
	GMimeStream *ms;
	GByteArray *a;
	GDateTime *now;
	mugai_status rc;

	if (strncmp(text, "Subject:", 8) == 0) {
		nl = strchr(text, '\n');
		subject = g_strstrip(g_strndup(text + 8, nl != NULL ?
		    (size_t)(nl - text - 8) : strlen(text + 8)));
		body = nl != NULL ? nl + 1 : "";
		while (*body == '\n')
			body++;
	}
	m = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "mugai",
	    cfg->admin_contact);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, r->notify);
	g_mime_message_set_subject(m, subject != NULL ? subject :
	    "mugai", "utf-8");
	now = g_date_time_new_now_local();
	g_mime_message_set_date(m, now);
	g_date_time_unref(now);
	msgid = g_mime_utils_generate_message_id("mugai.invalid");
	g_mime_message_set_message_id(m, msgid);
	g_free(msgid);
	g_mime_object_set_header(GMIME_OBJECT(m), "X-Mugai-Id", r->id, NULL);
	g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted",
	    "auto-generated", NULL);
	tp = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(tp, body);
	g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
	g_object_unref(tp);
	ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, ms);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	rc = mugai_buf_append(out, a->data, a->len);
	g_object_unref(ms);
	g_object_unref(m);
	g_free(subject);
	return rc;
}

mugai_status
mugai_qrequest_render(const struct mugai_config *cfg,
    const struct mugai_qrequest *r, const char *subject,
    struct mugai_buf *out)
{
	struct mugai_buf text, delivery;
	char reqid[32], *tpl, *subj, *rreason, *decision;
	int approved = strcmp(r->state, "approved") == 0;
	mugai_status rc;

	if ((tpl = qr_template(cfg)) == NULL) {
		mugai_qerr_set("out of memory");
		return MUGAI_ERR_NOMEM;
	}
	snprintf(reqid, sizeof(reqid), "%lld", r->reqid);
	mugai_buf_init(&text, QR_MAIL_MAX);
	mugai_buf_init(&delivery, QR_MAIL_MAX);
	subj = qr_line(subject);
	rreason = qr_line(r->reason);
	decision = qr_line(r->decision);
	rc = approved ? mugai_buf_printf(&delivery,
	    "    送付先 / Sent to: %s\n", r->release_to) : MUGAI_OK;
	if (rc == MUGAI_OK) {
		const struct qr_var v[] = {
			{ "reqid", reqid }, { "id", r->id },
			{ "requester", qr_person(r->requester) },
			{ "result_ja", approved ? "承認" : "却下" },
			{ "result_en", approved ? "approved" : "refused" },
			{ "request_reason", rreason },
			{ "decider", qr_person(r->decider) },
			{ "decision", decision },
			{ "release_to", r->release_to },
			{ "delivery", delivery.data != NULL ? delivery.data :
			    "" },
			{ "subject", subj },
			{ "admin_contact", cfg->admin_contact },
		};
		rc = qr_substitute(tpl, v, sizeof(v) / sizeof(v[0]), &text);
	}
	if (rc == MUGAI_OK)
		rc = qr_message(cfg, r, text.data != NULL ? text.data : "", out);
	if (rc != MUGAI_OK)
		mugai_qerr_set("the mail to %s: %s", r->notify,
		    mugai_status_str(rc));
	g_free(subj);
	g_free(rreason);
	g_free(decision);
	free(tpl);
	mugai_buf_free(&text);
	mugai_buf_free(&delivery);
	return rc;
}

/*
 * The backend, when it keeps requests (they are optional in the table:
 * a backend written before them leaves them NULL); else a clear error
 * instead of a call through NULL.
 */
static mugai_status
qr_be(struct mugai_quarantine *q, const struct mugai_qbackend **be,
    void **ctx)
{
	*be = mugai_qbe(q, ctx);
	if ((*be)->request_add == NULL || (*be)->request_get == NULL ||
	    (*be)->request_list == NULL || (*be)->request_transition == NULL) {
		mugai_qerr_set("release requests are not available with this"
		    " quarantine backend (%s)", (*be)->name);
		return MUGAI_ERR_CONFIG;
	}
	return MUGAI_OK;
}

/* Tell the requester; a failure is returned with its own message. */
static mugai_status
qr_notify(struct mugai_quarantine *q, long long reqid, const char *subject)
{
	const struct mugai_config *cfg = mugai_qconfig(q);
	const struct mugai_qbackend *be;
	struct mugai_qrequest *r = NULL;
	struct mugai_buf mail;
	const char *to[1];
	char sender[512];
	mugai_status rc;
	void *ctx;

	if ((rc = qr_be(q, &be, &ctx)) != MUGAI_OK ||
	    (rc = be->request_get(ctx, reqid, &r)) != MUGAI_OK)
		return rc;
	mugai_buf_init(&mail, QR_MAIL_MAX);
	rc = mugai_qrequest_render(cfg, r, subject, &mail);
	/* The envelope sender: admin_contact, which bounces reach. */
	snprintf(sender, sizeof(sender), "%s", cfg->admin_contact);
	to[0] = r->notify;
	if (rc == MUGAI_OK)
		rc = mugai_qsendmail(cfg->sendmail_path, sender, to, 1,
		    mail.data != NULL ? mail.data : "", mail.len);
	mugai_buf_free(&mail);
	mugai_qrequest_free(r);
	return rc;
}

static int
qr_text_ok(const char *s)
{
	return s != NULL && s[0] != '\0';
}

mugai_status
mugai_quarantine_request(struct mugai_quarantine *q, const char *id,
    const char *requester, const char *notify, const char *reason,
    long long *reqid)
{
	const struct mugai_qbackend *be;
	struct mugai_qaction a;
	const char *extra[5];
	char detail[600], num[32];
	mugai_status rc;
	void *ctx;

	*reqid = 0;
	if (!qr_text_ok(id) || !qr_text_ok(requester)) {
		mugai_qerr_set("a request needs a message id and who asks");
		return MUGAI_ERR_USAGE;
	}
	if (!qr_text_ok(reason)) {
		mugai_qerr_set("a request for an original needs a reason");
		return MUGAI_ERR_USAGE;
	}
	if (!mugai_qaddr_ok(notify)) {
		mugai_qerr_set("bad address to tell \"%.200s\"",
		    notify != NULL ? notify : "");
		return MUGAI_ERR_USAGE;
	}
	snprintf(detail, sizeof(detail), "notify=%s", notify);
	a.id = id;
	a.time = time(NULL);
	a.actor = requester;
	a.action = "request";
	a.detail = detail;
	a.reason = reason;
	if ((rc = qr_be(q, &be, &ctx)) != MUGAI_OK)
		return rc;
	rc = be->request_add(ctx, id, a.time, requester, notify, reason, &a,
	    reqid);
	if (rc != MUGAI_OK)
		return rc;
	snprintf(num, sizeof(num), "%lld", *reqid);
	extra[0] = "request"; extra[1] = num;
	extra[2] = "notify"; extra[3] = notify;
	extra[4] = NULL;
	return mugai_qaudit(q, "request", requester, id, reason, extra);
}

mugai_status
mugai_quarantine_request_get(struct mugai_quarantine *q, long long reqid,
    struct mugai_qrequest **out)
{
	const struct mugai_qbackend *be;
	mugai_status rc;
	void *ctx;

	*out = NULL;
	if ((rc = qr_be(q, &be, &ctx)) != MUGAI_OK)
		return rc;
	return be->request_get(ctx, reqid, out);
}

mugai_status
mugai_quarantine_requests(struct mugai_quarantine *q,
    const struct mugai_qrfilter *f, mugai_qrequest_fn fn, void *arg)
{
	static const struct mugai_qrfilter all;
	const struct mugai_qbackend *be;
	mugai_status rc;
	void *ctx;

	if ((rc = qr_be(q, &be, &ctx)) != MUGAI_OK)
		return rc;
	return be->request_list(ctx, f != NULL ? f : &all, fn, arg);
}

/* Why a request could not be decided, from the state found. */
static void
qr_state_err(const struct mugai_qrequest *r, const char *was,
    const char *verb)
{
	if (strcmp(was, "approving") == 0)
		mugai_qerr_set("request %lld is being approved by another"
		    " admin right now, so it cannot be %s", r->reqid, verb);
	else if (strcmp(was, "approved") == 0 || strcmp(was, "refused") == 0)
		mugai_qerr_set("request %lld was %s already (another admin got"
		    " there first, or it was decided earlier), so it cannot be"
		    " %s", r->reqid, was, verb);
	else
		mugai_qerr_set("request %lld is %s, so it cannot be %s",
		    r->reqid, was, verb);
}

static mugai_status
qr_decision_check(const struct mugai_qdecision *d)
{
	if (!qr_text_ok(d->actor)) {
		mugai_qerr_set("a decision needs the name of who decides");
		return MUGAI_ERR_USAGE;
	}
	if (!qr_text_ok(d->reason)) {
		mugai_qerr_set("a decision on a request needs a reason");
		return MUGAI_ERR_USAGE;
	}
	return MUGAI_OK;
}

/* "a,b" from the address list, for the request's release_to. */
static char *
qr_join(const char *const *v, size_t n)
{
	char *s = g_strdup(n > 0 ? v[0] : ""), *prev;
	size_t i;

	for (i = 1; i < n; i++) {
		prev = s;
		s = g_strconcat(prev, ",", v[i], NULL);
		g_free(prev);
	}
	return s;
}

/*
 * The release an approval makes: to d->to, else the original
 * recipients (there must be some).
 */
static mugai_status
qr_release_req(const struct mugai_qdecision *d, const struct mugai_qrequest *r,
    const struct mugai_qrecord *m, struct mugai_qrelease *rel)
{
	memset(rel, 0, sizeof(*rel));
	rel->id = r->id;
	rel->reason = d->reason;
	rel->actor = d->actor;
	rel->force = d->force;
	rel->parts = d->parts != NULL && d->parts[0] != '\0' ? d->parts :
	    NULL;
	if (qr_text_ok(d->to))
		rel->to = d->to;
	else if (m->nrecipients > 0) {
		rel->rcpts = (const char *const *)m->recipients;
		rel->nrcpts = m->nrecipients;
	} else {
		mugai_qerr_set("%s has no recorded recipients; give the"
		    " address to release it to", r->id);
		return MUGAI_ERR_USAGE;
	}
	if (strcmp(m->status, "deleted") == 0) {
		mugai_qerr_set("the original of %s was deleted; request %lld"
		    " cannot be approved (refuse it instead)", r->id,
		    r->reqid);
		return MUGAI_ERR_STATE;
	}
	if (mugai_quarantine_dangerous(m) && !d->force) {
		mugai_qerr_set("%s was %s (%s); approving its release needs"
		    " force", m->id, m->verdict, m->reasons[0] != '\0' ?
		    m->reasons : "no reason recorded");
		return MUGAI_ERR_USAGE;
	}
	return MUGAI_OK;
}

/* Audit line of a decision, with the request's number. */
static mugai_status
qr_audit(struct mugai_quarantine *q, const char *action,
    const struct mugai_qdecision *d, const struct mugai_qrequest *r,
    const char *to, const char *notified)
{
	const char *extra[11];
	char num[32];

	snprintf(num, sizeof(num), "%lld", r->reqid);
	extra[0] = "request"; extra[1] = num;
	extra[2] = "requester"; extra[3] = r->requester;
	extra[4] = "to"; extra[5] = to;
	extra[6] = "parts"; extra[7] = d->parts;
	extra[8] = "notified"; extra[9] = notified;
	extra[10] = NULL;
	return mugai_qaudit(q, action, d->actor, r->id, d->reason, extra);
}

/* Mail the requester and write the decision's audit line. */
static mugai_status
qr_finish(struct mugai_quarantine *q, const char *action,
    const struct mugai_qdecision *d, const struct mugai_qrequest *r,
    const char *to, const char *subject)
{
	char err[1024];
	mugai_status rc, rc2;

	rc = qr_notify(q, r->reqid, subject);
	snprintf(err, sizeof(err), "%s", mugai_quarantine_error());
	rc2 = qr_audit(q, action, d, r, to, rc == MUGAI_OK ? r->notify :
	    err);
	if (rc != MUGAI_OK) {
		mugai_qerr_set("request %lld was %s, but telling %s failed: %s",
		    r->reqid, strcmp(action, "approve") == 0 ? "approved" :
		    "refused", r->notify, err);
		return MUGAI_ERR_IO;
	}
	return rc2;
}

mugai_status
mugai_quarantine_approve(struct mugai_quarantine *q,
    const struct mugai_qdecision *d)
{
	const struct mugai_qbackend *be;
	struct mugai_qrequest *r = NULL;
	struct mugai_qrecord *m = NULL;
	struct mugai_qrelease rel;
	struct mugai_qaction a;
	char was[16] = "", err[1024], detail[64], *to = NULL;
	mugai_status rc;
	void *ctx;

	if ((rc = qr_decision_check(d)) != MUGAI_OK)
		return rc;
	if ((rc = qr_be(q, &be, &ctx)) != MUGAI_OK ||
	    (rc = be->request_get(ctx, d->reqid, &r)) != MUGAI_OK)
		return rc;
	if (strcmp(r->state, "pending") != 0 &&
	    strcmp(r->state, "approving") != 0) {
		qr_state_err(r, r->state, "approved");
		rc = MUGAI_ERR_STATE;
		goto out;
	}
	if ((rc = mugai_quarantine_get(q, r->id, &m)) != MUGAI_OK ||
	    (rc = qr_release_req(d, r, m, &rel)) != MUGAI_OK)
		goto out;
	to = rel.to != NULL ? g_strdup(rel.to) : qr_join(rel.rcpts,
	    rel.nrcpts);
	/* Claim it: of two admins approving at once, one gets here. */
	rc = be->request_transition(ctx, r->reqid, QR_ST_PENDING |
	    QR_ST_STALE, "approving", d->actor, d->reason, to, NULL, was,
	    sizeof(was));
	if (rc == MUGAI_ERR_STATE)
		qr_state_err(r, was, "approved");
	if (rc != MUGAI_OK)
		goto out;
	snprintf(detail, sizeof(detail), "request=%lld", r->reqid);
	a.id = r->id;
	a.time = time(NULL);
	a.actor = d->actor;
	a.detail = detail;
	a.reason = d->reason;
	if ((rc = mugai_quarantine_release(q, &rel)) != MUGAI_OK) {
		/* Back to pending, so it can be retried or refused. */
		snprintf(err, sizeof(err), "%s", mugai_quarantine_error());
		a.action = "approve-failed";
		be->request_transition(ctx, r->reqid, QR_ST_APPROVING,
		    "pending", "", "", "", &a, NULL, 0);
		qr_audit(q, "approve-failed", d, r, to, NULL);
		mugai_qerr_set("request %lld was not approved: %s", r->reqid,
		    err);
		goto out;
	}
	a.action = "approve";
	rc = be->request_transition(ctx, r->reqid, QR_ST_APPROVING,
	    "approved", NULL, NULL, NULL, &a, NULL, 0);
	if (rc != MUGAI_OK) {
		snprintf(err, sizeof(err), "%s", mugai_quarantine_error());
		mugai_qerr_set("%s was released, but marking request %lld"
		    " approved failed: %s", r->id, r->reqid, err);
		goto out;
	}
	rc = qr_finish(q, "approve", d, r, to, m->subject);
out:
	g_free(to);
	mugai_qrecord_free(m);
	mugai_qrequest_free(r);
	return rc;
}

mugai_status
mugai_quarantine_refuse(struct mugai_quarantine *q,
    const struct mugai_qdecision *d)
{
	const struct mugai_qbackend *be;
	struct mugai_qrequest *r = NULL;
	struct mugai_qrecord *m = NULL;
	struct mugai_qaction a;
	char was[16] = "", detail[64];
	mugai_status rc;
	void *ctx;

	if ((rc = qr_decision_check(d)) != MUGAI_OK)
		return rc;
	if ((rc = qr_be(q, &be, &ctx)) != MUGAI_OK ||
	    (rc = be->request_get(ctx, d->reqid, &r)) != MUGAI_OK)
		return rc;
	snprintf(detail, sizeof(detail), "request=%lld", r->reqid);
	a.id = r->id;
	a.time = time(NULL);
	a.actor = d->actor;
	a.action = "refuse";
	a.detail = detail;
	a.reason = d->reason;
	rc = be->request_transition(ctx, r->reqid, QR_ST_PENDING, "refused",
	    d->actor, d->reason, "", &a, was, sizeof(was));
	if (rc == MUGAI_ERR_STATE)
		qr_state_err(r, was, "refused");
	if (rc != MUGAI_OK)
		goto out;
	/* The subject for the mail; a message gone from the index has none. */
	if (mugai_quarantine_get(q, r->id, &m) != MUGAI_OK)
		m = NULL;
	rc = qr_finish(q, "refuse", d, r, NULL, m != NULL ? m->subject : "");
out:
	mugai_qrecord_free(m);
	mugai_qrequest_free(r);
	return rc;
}
