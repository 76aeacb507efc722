/*
 * finish.c - the last step of a sanitise call: the X-Mugai-* headers,
 * the summary line, the JSON report (report.c), storing the original in
 * the quarantine and the audit line (see sanitize_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/json.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "sanitize_int.h"

static const char *
env_str(const char *s)
{
	return s ? s : "";
}

static void
to_tempfail(struct mugai_result *r, const char *why)
{
	r->verdict = MUGAI_VERDICT_TEMPFAIL;
	g_free(r->reason);
	r->reason = g_strdup(why);
	g_free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->body_kept = 0;
}

/*
 * X-Mugai-Status always; X-Mugai-Id only when the original was stored,
 * so that an id staff quote always finds the original.  Room for both
 * is checked before the store (see rewrite_headers).
 */
static void
add_mugai_headers(struct mugai_result *r)
{
	char status[128];

	snprintf(status, sizeof(status), "sanitised; converted=%u; removed=%u",
	    r->converted, r->removed);
	r->set[r->nset].name = g_strdup("X-Mugai-Status");
	r->set[r->nset++].value = g_strdup(status);
	if (!r->quarantined)
		return;
	r->set[r->nset].name = g_strdup("X-Mugai-Id");
	r->set[r->nset++].value = g_strdup(r->id);
}

/*
 * Every Content-* header of the sender must go, or a reader could take
 * the sender's Content-Type for ours.  More distinct Content-* names
 * than remove[] holds only come from a hostile message: deferring it
 * would bring it back for days, so it is refused.
 */
static void
rewrite_headers(struct mugai_result *r, const char *raw, size_t len,
    const char *logid)
{
	mugai_status rc = sanitize_collect_removals(r, raw, len);

	if (rc == MUGAI_ERR_LIMIT) {
		mugai_log(LOG_NOTICE, logid, "more than %d distinct header "
		    "names to remove (Content-*); message refused",
		    RESULT_MAX_REMOVE - 3);
		r->verdict = MUGAI_VERDICT_REJECT;
		g_free(r->reason);
		r->reason = g_strdup("too many distinct Content-* header "
		    "fields");
		g_free(r->body);
		r->body = NULL;
		r->body_len = 0;
		r->body_kept = 0;
		return;
	}
	if (rc != MUGAI_OK || r->nset + 2 > 16)
		to_tempfail(r, "too many headers to rewrite");
}

static void
store_original(struct mugai_result *r, const struct mugai_services *svc,
    const struct mugai_envelope *env, const char *raw, size_t len,
    const char *rawsha, const char *logid)
{
	struct mugai_qentry e;
	mugai_status rc;

	memset(&e, 0, sizeof(e));
	e.id = r->id;
	e.received = time(NULL);
	e.queue_id = env_str(env->queue_id);
	e.client_addr = env_str(env->client_addr);
	e.sender = env_str(env->sender);
	e.recipients = env->recipients;
	e.nrecipients = env->nrecipients;
	e.subject = r->subject;
	e.size = len;
	e.sha256 = rawsha;
	e.verdict = r->verdict == MUGAI_VERDICT_DELIVER ? "sanitised" :
	    r->verdict == MUGAI_VERDICT_REJECT ? "rejected" : "discarded";
	e.reasons = r->summary;
	e.report_json = r->report_json;
	e.notice = r->notice ? r->notice : "";
	rc = mugai_quarantine_store(svc->quarantine, &e, raw, len);
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, logid, "quarantine store failed: %s; "
		    "deferring the message", mugai_status_str(rc));
		to_tempfail(r, "the original could not be stored");
		return;
	}
	r->quarantined = 1;
}

static void
audit_message(struct mugai_result *r, const struct mugai_services *svc,
    const struct mugai_envelope *env, size_t len, const char *logid)
{
	struct mugai_buf b;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	mugai_status rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mugai_buf_init(&b, 0);
	rc = mugai_buf_puts(&b, "{");
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "time", when);
	if (rc == MUGAI_OK) rc = mugai_buf_puts(&b, ",\"actor\":\"mugai\","
	    "\"action\":\"message\",");
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "id", r->id);
	if (rc == MUGAI_OK) rc = sanitize_json_envelope(&b, env);
	if (rc == MUGAI_OK) rc = mugai_buf_printf(&b, ",\"size\":%zu,", len);
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "verdict",
	    mugai_verdict_str(r->verdict));
	if (rc == MUGAI_OK) rc = mugai_buf_printf(&b, ",\"removed\":%u,"
	    "\"converted\":%u,\"quarantined\":%s", r->removed, r->converted,
	    r->quarantined ? "true" : "false");
	if (rc == MUGAI_OK) rc = sanitize_json_signatures(&b, r->signatures);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(&b, "reason", r->reason);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(&b, '}');
	/* With a shared (PostgreSQL) quarantine, a row there as well. */
	if (rc == MUGAI_OK && svc->quarantine != NULL)
		rc = mugai_quarantine_audit(svc->quarantine, b.data);
	else if (rc == MUGAI_OK)
		rc = mugai_audit(svc->cfg, b.data);
	mugai_buf_free(&b);
	if (rc != MUGAI_OK && r->verdict != MUGAI_VERDICT_TEMPFAIL) {
		mugai_log(LOG_ERR, logid, "audit log %s: %s; deferring the "
		    "message", svc->cfg->audit_log, mugai_status_str(rc));
		to_tempfail(r, "the audit log could not be written");
	}
}

void
sanitize_finish(struct mugai_result *r, const struct mugai_services *svc,
    const struct mugai_envelope *env, const char *raw, size_t len,
    const char *rawsha, const struct part_row *rows, size_t nrows)
{
	static const struct mugai_envelope none;
	const char *logid;
	struct mugai_buf b;
	int changed;

	if (env == NULL)
		env = &none;
	logid = env->queue_id && *env->queue_id ? env->queue_id : r->id;
	if (r->verdict == MUGAI_VERDICT_DELIVER)
		rewrite_headers(r, raw, len, logid);
	r->summary = g_strdup_printf("verdict=%s parts=%u kept=%u converted=%u "
	    "removed=%u mismatches=%u signatures=%s",
	    mugai_verdict_str(r->verdict), r->parts, r->kept, r->converted,
	    r->removed, r->mismatches, r->signatures[0] ? r->signatures : "-");
	mugai_buf_init(&b, 0);
	if (sanitize_report_json(r, env, len, rawsha, rows, nrows, &b) != MUGAI_OK)
		to_tempfail(r, "report could not be built");
	r->report_json = mugai_buf_steal(&b, NULL);
	changed = r->removed || r->converted || r->mismatches ||
	    r->signatures[0] != '\0';
	if (r->verdict != MUGAI_VERDICT_TEMPFAIL && changed &&
	    svc->quarantine != NULL)
		store_original(r, svc, env, raw, len, rawsha, logid);
	if (r->verdict == MUGAI_VERDICT_DELIVER)
		add_mugai_headers(r);
	if (svc->cfg->audit_log[0] != '\0')
		audit_message(r, svc, env, len, logid);
}
