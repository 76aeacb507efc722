/*
 * qbase.c - what the store, the index backends and the audit log share
 * (see qbase.h): the per-thread error text, freeing a record (and a
 * release request), who owns the files the store creates, and the
 * names of the states (quarantine_backend.h), and the fault seam tests
 * use to fail a step of a store (mugai_qfault).
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include "qbase.h"
#include "quarantine_backend.h"

static mugai_qfault_fn q_fault_fn;

void
mugai_quarantine_set_fault(mugai_qfault_fn fn)
{
	q_fault_fn = fn;
}

/* The errno value a test asks for at this step, or 0 (always, in
 * production).  Here, below the store and its backends, for both. */
int
mugai_qfault(const char *step)
{
	return q_fault_fn != NULL ? q_fault_fn(step) : 0;
}

/* Per thread: milter threads store while the CLI's caller reads its own. */
static __thread char q_errbuf[1024];

void
mugai_qerr_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q_errbuf, sizeof(q_errbuf), fmt, ap);
	va_end(ap);
}

const char *
mugai_quarantine_error(void)
{
	return q_errbuf[0] != '\0' ? q_errbuf : "no error";
}

void
mugai_qrecord_free(struct mugai_qrecord *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrecipients; i++)
		free(r->recipients[i]);
	free(r->recipients);
	free(r->id);
	free(r->queue_id);
	free(r->client_addr);
	free(r->sender);
	free(r->subject);
	free(r->sha256);
	free(r->verdict);
	free(r->reasons);
	free(r->report_json);
	free(r->notice);
	free(r->status);
	free(r->path);
	free(r);
}

void
mugai_qrequest_free(struct mugai_qrequest *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->requester);
	free(r->notify);
	free(r->reason);
	free(r->state);
	free(r->decider);
	free(r->decision);
	free(r->release_to);
	free(r);
}

mugai_status
mugai_qowner(const struct mugai_config *cfg, uid_t *uid, gid_t *gid)
{
	char pwbuf[4096];
	struct passwd pw, *pwp = NULL;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (geteuid() != 0 || cfg->run_user == NULL || cfg->run_user[0] == '\0')
		return MUGAI_OK;
	if (getpwnam_r(cfg->run_user, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
	    pwp == NULL) {
		mugai_qerr_set("run_user %s: no such user; root creates the"
		    " quarantine files for that user so mugai-milter can open"
		    " them: create the user or fix run_user", cfg->run_user);
		return MUGAI_ERR_CONFIG;
	}
	if (pw.pw_uid != 0) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	return MUGAI_OK;
}

const struct mugai_qstate mugai_qmsg_states[] = {
	{ Q_ST_HELD, "held" }, { Q_ST_RELEASING, "releasing" },
	{ Q_ST_RELEASED, "released" }, { Q_ST_DELETED, "deleted" },
	{ 0, NULL }
};

const struct mugai_qstate mugai_qreq_states[] = {
	{ QR_ST_PENDING, "pending" }, { QR_ST_APPROVING, "approving" },
	{ QR_ST_APPROVED, "approved" }, { QR_ST_REFUSED, "refused" },
	{ 0, NULL }
};

unsigned
mugai_qstate_bit(const struct mugai_qstate *st, const char *name)
{
	for (; st->name != NULL; st++)
		if (strcmp(st->name, name) == 0)
			return st->bit;
	return 0;
}
