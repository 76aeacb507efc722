/*
 * report.c - the JSON report of a sanitise call: the message, its
 * envelope, the counts and one object per part (see sanitize_int.h).
 * The quarantine keeps it with the original and the CLI writes it with
 * --report.
 */
#include <stdio.h>
#include <string.h>

#include "mugai/base/json.h"
#include "sanitize_int.h"

static const char *
env_str(const char *s)
{
	return s ? s : "";
}

/* sanitize_json_envelope - see sanitize_int.h. */
mugai_status
sanitize_json_envelope(struct mugai_buf *b, const struct mugai_envelope *env)
{
	size_t i;
	mugai_status rc = MUGAI_OK;

	rc = mugai_buf_puts(b, ",\"queue_id\":");
	if (rc == MUGAI_OK) rc = mugai_json_str(b, env_str(env->queue_id));
	if (rc == MUGAI_OK) rc = mugai_buf_puts(b, ",\"client\":");
	if (rc == MUGAI_OK) rc = mugai_json_str(b, env_str(env->client_addr));
	if (rc == MUGAI_OK) rc = mugai_buf_puts(b, ",\"sender\":");
	if (rc == MUGAI_OK) rc = mugai_json_str(b, env_str(env->sender));
	if (rc == MUGAI_OK) rc = mugai_buf_puts(b, ",\"recipients\":[");
	for (i = 0; i < env->nrecipients && rc == MUGAI_OK; i++) {
		if (i > 0)
			rc = mugai_buf_putc(b, ',');
		if (rc == MUGAI_OK)
			rc = mugai_json_str(b, env->recipients[i]);
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(b, ']');
	return rc;
}

static mugai_status
json_row(struct mugai_buf *b, const struct part_row *p)
{
	mugai_status rc;

	rc = mugai_buf_puts(b, "{");
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "path", p->path);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "declared_type", p->declared);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "detected_type", p->detected);
	if (rc == MUGAI_OK) rc = mugai_buf_printf(b, ",\"size\":%zu,", p->size);
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "sha256", p->sha256);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "name", p->name);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "action", p->action);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "reason", p->reason);
	if (rc == MUGAI_OK) rc = mugai_buf_printf(b, ",\"mismatch\":%s",
	    p->mismatch ? "true" : "false");
	if (rc == MUGAI_OK && p->mismatch) {
		rc = mugai_buf_putc(b, ',');
		if (rc == MUGAI_OK)
			rc = mugai_json_kv(b, "mismatch_reason", p->mismatch);
	}
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK && strcmp(p->scan, "-") == 0) {
		/* Not scanned on its own (only inside the whole message). */
		rc = mugai_buf_printf(b, "\"scan\":\"unscanned:%s\"",
		    p->reason[0] ? p->reason : "not-decoded");
	} else if (rc == MUGAI_OK)
		rc = mugai_json_kv(b, "scan", p->scan);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, '}');
	return rc;
}

/* sanitize_json_signatures - see sanitize_int.h. */
mugai_status
sanitize_json_signatures(struct mugai_buf *b, const char *sigs)
{
	gchar **v = g_strsplit(sigs, ",", -1);
	mugai_status rc;
	int i, n = 0;

	rc = mugai_buf_puts(b, ",\"signatures\":[");
	for (i = 0; v[i] != NULL && rc == MUGAI_OK; i++) {
		if (v[i][0] == '\0')
			continue;
		if (n++ > 0)
			rc = mugai_buf_putc(b, ',');
		if (rc == MUGAI_OK)
			rc = mugai_json_str(b, v[i]);
	}
	g_strfreev(v);
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(b, ']');
	return rc;
}

/* sanitize_report_json - see sanitize_int.h. */
mugai_status
sanitize_report_json(const struct mugai_result *r,
    const struct mugai_envelope *env, size_t len, const char *rawsha,
    const struct part_row *rows, size_t nrows, struct mugai_buf *b)
{
	size_t i;
	mugai_status rc;

	rc = mugai_buf_puts(b, "{");
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "id", r->id);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "verdict",
	    mugai_verdict_str(r->verdict));
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "reason", r->reason);
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, ',');
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "subject", r->subject);
	if (rc == MUGAI_OK) rc = mugai_buf_printf(b, ",\"size\":%zu,", len);
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "sha256", rawsha);
	if (rc == MUGAI_OK) rc = sanitize_json_envelope(b, env);
	if (rc == MUGAI_OK) rc = mugai_buf_printf(b, ",\"parts_seen\":%u,"
	    "\"kept\":%u,\"converted\":%u,\"removed\":%u,\"mismatches\":%u",
	    r->parts, r->kept, r->converted, r->removed, r->mismatches);
	if (rc == MUGAI_OK) rc = sanitize_json_signatures(b, r->signatures);
	if (rc == MUGAI_OK) rc = mugai_buf_puts(b, ",\"parts\":[");
	for (i = 0; i < nrows && rc == MUGAI_OK; i++) {
		if (i > 0)
			rc = mugai_buf_putc(b, ',');
		if (rc == MUGAI_OK)
			rc = json_row(b, &rows[i]);
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(b, "]}");
	return rc;
}
