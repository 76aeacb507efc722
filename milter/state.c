/*
 * state.c - the configuration in force and the long-lived services
 * (see state.h).
 *
 * One lock guards the current snapshot, the snapshots' reference counts
 * and the count of messages in flight.  Snapshots are small and reloads
 * rare, so a reload simply builds a new one and swaps the pointer; the
 * old one is freed by whoever gives back its last reference.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mugai/base/budget.h"
#include "mugai/base/log.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/scan/scan.h"
#include "mugai/base/spool.h"
#include "state.h"

struct snap_priv {
	struct milter_snap pub;		/* first: what callers see */
	struct mugai_config *cfg;
	struct mugai_bypass *bypass;
	unsigned long refs;
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_idle = PTHREAD_COND_INITIALIZER;
static struct snap_priv *state_cur;
static unsigned long state_active;	/* snapshots out with messages */
static struct mugai_scanner *state_scanner;
static struct mugai_quarantine *state_quarantine;
static struct mugai_budget *state_budget;	/* milter_memory_max */

static void
snap_free(struct snap_priv *s)
{
	if (s == NULL)
		return;
	mugai_bypass_free(s->bypass);
	mugai_config_unref(s->cfg);
	free(s);
}

/* Drop one reference; the caller must not hold state_lock. */
static void
snap_unref(struct snap_priv *s)
{
	int last;

	pthread_mutex_lock(&state_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&state_lock);
	if (last)
		snap_free(s);
}

/*
 * Open the quarantine, make its directories (so that no message waits
 * for one) and check its index pages: with a damaged index every
 * message that needs its original stored would be deferred, so refuse
 * to start and say how to recover instead.
 */
static mugai_status
quarantine_open_checked(const struct mugai_config *cfg, char *err,
    size_t errlen)
{
	mugai_status rc;

	rc = mugai_quarantine_open(cfg, &state_quarantine, err, errlen);
	if (rc == MUGAI_OK &&
	    (rc = mugai_quarantine_prepare(state_quarantine)) != MUGAI_OK)
		snprintf(err, errlen, "%s", mugai_quarantine_error());
	if (rc == MUGAI_OK)
		rc = mugai_quarantine_check_index(state_quarantine, err,
		    errlen);
	if (rc != MUGAI_OK && state_quarantine != NULL) {
		mugai_quarantine_close(state_quarantine);
		state_quarantine = NULL;
	}
	return rc;
}

/*
 * A snapshot of cfg, opening the scanner or quarantine if cfg enables
 * one that is not open yet (the first start, or a reload that turns it
 * on).  Takes over the reference to cfg.
 */
static struct snap_priv *
snap_new(struct mugai_config *cfg, char *err, size_t errlen, mugai_status *rc)
{
	struct snap_priv *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		mugai_config_unref(cfg);
		snprintf(err, errlen, "out of memory");
		*rc = MUGAI_ERR_NOMEM;
		return NULL;
	}
	s->cfg = cfg;
	s->refs = 1;
	*rc = mugai_bypass_new(cfg->bypass_client_networks,
	    cfg->bypass_recipients, &s->bypass, err, errlen);
	if (*rc != MUGAI_OK)
		goto fail;
	*rc = mugai_spool_dir_prepare(cfg->spool_dir, err, errlen);
	if (*rc != MUGAI_OK)
		goto fail;
	if (cfg->clamav_enable && state_scanner == NULL &&
	    (*rc = mugai_scanner_new(cfg, &state_scanner, err, errlen)) !=
	    MUGAI_OK)
		goto fail;
	if (cfg->quarantine_enable && state_quarantine == NULL &&
	    (*rc = quarantine_open_checked(cfg, err, errlen)) != MUGAI_OK)
		goto fail;
	if (state_budget == NULL && (state_budget = mugai_budget_new()) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		*rc = MUGAI_ERR_NOMEM;
		goto fail;
	}
	s->pub.cfg = cfg;
	s->pub.bypass = s->bypass;
	s->pub.svc.cfg = cfg;
	s->pub.svc.scanner = cfg->clamav_enable ? state_scanner : NULL;
	s->pub.svc.quarantine = cfg->quarantine_enable ? state_quarantine :
	    NULL;
	s->pub.budget = state_budget;
	return s;
fail:
	snap_free(s);
	return NULL;
}

mugai_status
milter_state_open(struct mugai_config *cfg, char *err, size_t errlen)
{
	mugai_status rc;
	struct snap_priv *s;

	if ((s = snap_new(cfg, err, errlen, &rc)) == NULL)
		return rc;
	pthread_mutex_lock(&state_lock);
	state_cur = s;
	pthread_mutex_unlock(&state_lock);
	return MUGAI_OK;
}

static void
reload_warn(const char *key, const char *old, const char *new)
{
	if (strcmp(old ? old : "", new ? new : "") != 0)
		mugai_log(LOG_WARNING, NULL, "reload: %s changed; it takes "
		    "effect when mugai-milter is restarted", key);
}

/* Settings used only at start: say so when a reload changes them. */
static void
reload_warn_static(const struct mugai_config *o, const struct mugai_config *n)
{
	reload_warn("milter_socket", o->milter_socket, n->milter_socket);
	reload_warn("pid_file", o->pid_file, n->pid_file);
	reload_warn("run_user", o->run_user, n->run_user);
	reload_warn("log_facility", o->log_facility, n->log_facility);
	reload_warn("log_verbose", o->log_verbose ? "yes" : "no",
	    n->log_verbose ? "yes" : "no");
	reload_warn("clamav_database_dir", o->clamav_database_dir,
	    n->clamav_database_dir);
	reload_warn("quarantine_dir", o->quarantine_dir, n->quarantine_dir);
	reload_warn("quarantine_db", o->quarantine_db, n->quarantine_db);
	reload_warn("quarantine_db_password_file",
	    o->quarantine_db_password_file, n->quarantine_db_password_file);
	if (o->quarantine_db_pool != n->quarantine_db_pool)
		reload_warn("quarantine_db_pool", "old", "new");
}

/* A reload: every problem in the new configuration to the log. */
static void
log_problem(void *arg, enum mugai_config_severity sev, const char *msg)
{
	(void)arg;
	if (sev == MUGAI_CONFIG_ERROR)
		mugai_log(LOG_ERR, NULL, "reload failed, old configuration "
		    "kept: %s", msg);
	else
		mugai_log(LOG_WARNING, NULL, "reload: warning: %s", msg);
}

mugai_status
milter_state_reload(const char *path, char *const *overrides,
    size_t noverrides)
{
	struct mugai_config *cfg;
	struct snap_priv *s, *old;
	mugai_status rc;
	char err[1024];

	cfg = mugai_config_load_report(path, overrides, noverrides,
	    log_problem, NULL);
	if (cfg == NULL)
		return MUGAI_ERR_CONFIG;
	if ((s = snap_new(cfg, err, sizeof(err), &rc)) == NULL) {
		mugai_log(LOG_ERR, NULL, "reload failed, old configuration "
		    "kept: %s", err);
		return rc;
	}
	pthread_mutex_lock(&state_lock);
	old = state_cur;
	state_cur = s;
	pthread_mutex_unlock(&state_lock);
	if (old != NULL) {
		reload_warn_static(old->cfg, s->cfg);
		snap_unref(old);
	}
	if (state_scanner != NULL)
		mugai_scanner_request_reload(state_scanner);
	mugai_log(LOG_INFO, NULL, "configuration reloaded from %s",
	    path ? path : "built-in defaults");
	return MUGAI_OK;
}

struct milter_snap *
milter_state_get(void)
{
	struct snap_priv *s;

	pthread_mutex_lock(&state_lock);
	if ((s = state_cur) != NULL) {
		s->refs++;
		state_active++;
	}
	pthread_mutex_unlock(&state_lock);
	return s ? &s->pub : NULL;
}

void
milter_state_put(struct milter_snap *snap)
{
	struct snap_priv *s = (struct snap_priv *)(void *)snap;
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&state_lock);
	last = --s->refs == 0;
	if (--state_active == 0)
		pthread_cond_broadcast(&state_idle);
	pthread_mutex_unlock(&state_lock);
	if (last)
		snap_free(s);
}

unsigned
milter_state_shutdown_timeout(void)
{
	unsigned t = 0;

	pthread_mutex_lock(&state_lock);
	if (state_cur != NULL)
		t = state_cur->cfg->shutdown_timeout;
	pthread_mutex_unlock(&state_lock);
	return t;
}

int
milter_state_wait_idle(unsigned seconds)
{
	struct timespec deadline;
	int idle;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&state_lock);
	while (state_active > 0 && pthread_cond_timedwait(&state_idle,
	    &state_lock, &deadline) != ETIMEDOUT)
		;
	idle = state_active == 0;
	pthread_mutex_unlock(&state_lock);
	return idle;
}

void
milter_state_close(void)
{
	struct snap_priv *s;

	pthread_mutex_lock(&state_lock);
	s = state_cur;
	state_cur = NULL;
	pthread_mutex_unlock(&state_lock);
	if (s != NULL)
		snap_unref(s);
	mugai_scanner_free(state_scanner);
	state_scanner = NULL;
	mugai_quarantine_close(state_quarantine);
	state_quarantine = NULL;
	mugai_budget_free(state_budget);
	state_budget = NULL;
}
