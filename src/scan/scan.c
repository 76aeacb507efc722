/*
 * scan.c - in-process virus scanning with libclamav (see mugai/scan/scan.h).
 *
 * The scanner owns at most two compiled engines: the current one and,
 * after a reload, the retired one that scans in flight still use.  Each
 * engine carries a reference count under the scanner lock; a scan takes
 * a reference under the lock, scans without it and drops it, and the
 * last reference frees the engine.  Loading an engine takes seconds and
 * hundreds of MB with the real database, so loads are serialised by
 * reload_lock, and a reload first waits until the engine it retired last
 * time is gone: that is what keeps the count at two.
 *
 * libclamav's own messages go through mugai_log(), never to stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include <clamav.h>

#include "mugai/base/log.h"
#include "mugai/scan/scan.h"

#define ENCRYPTED_PREFIX	"Heuristics.Encrypted."
#define LIMITS_PREFIX		"Heuristics.Limits.Exceeded"
#define MAXFILESIZE_NAME	"Heuristics.Limits.Exceeded.MaxFileSize"

struct engine {
	struct cl_engine *cl;
	unsigned	 refs;		/* under mugai_scanner.lock */
	unsigned	 sigs;
	unsigned long	 generation;
};

struct mugai_scanner {
	char		*dir;
	char		 tmpdir[4096];	/* for libclamav's unpacking; "": its own */
	uint64_t	 max_filesize;
	uint64_t	 max_scansize;
	uint32_t	 max_recursion;
	uint32_t	 max_files;
	uint32_t	 max_scantime_ms;
	unsigned	 check_interval;
	struct cl_scan_options opts;
	unsigned	 copy_no_parse;	/* parsers left out on copies */
	_Atomic unsigned long long scans;	/* mugai_scanner_stats */
	_Atomic unsigned long long cpu_ns;

	pthread_mutex_t	 lock;		/* everything below up to reload_lock */
	pthread_cond_t	 engine_gone;	/* nengines went down */
	pthread_cond_t	 wake;		/* watcher: stop or reload requested */
	struct engine	*current;
	unsigned	 nengines;	/* alive, current and retired */
	unsigned long	 generation;
	int		 stop;
	int		 reload_requested;
	int		 watcher_started;
	pthread_t	 watcher;

	pthread_mutex_t	 reload_lock;	/* one load at a time; owns stat */
	struct cl_stat	 stat;		/* the directory as last loaded */
	int		 stat_valid;
};

static pthread_once_t clamav_once = PTHREAD_ONCE_INIT;
static cl_error_t clamav_init_rc = CL_SUCCESS;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libclamav message callback; context is the scan label, if any. */
static void
clamav_msg(enum cl_msg severity, const char *fullmsg, const char *msg,
    void *context)
{
	const char *label = context;
	size_t n;
	int level;

	(void)fullmsg;
	if (severity == CL_MSG_ERROR)
		level = LOG_ERR;
	else if (severity == CL_MSG_WARN)
		level = LOG_WARNING;
	else
		level = LOG_DEBUG;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	if (label != NULL)
		mugai_log(level, "-", "%s: libclamav: %.*s", label, (int)n, msg);
	else
		mugai_log(level, "-", "libclamav: %.*s", (int)n, msg);
}

static void
clamav_init_once(void)
{
	cl_set_clcb_msg(clamav_msg);
	clamav_init_rc = cl_init(CL_INIT_DEFAULT);
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000.0 +
	    (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * Map the MUGAI_SCAN_* bits to libclamav's options.  Executables are
 * always parsed (unpackers find packed malware); "ole2" stands for every
 * office format.  A reached limit is always reported, whatever the bits:
 * without EXCEEDS_MAX libclamav calls a half-scanned archive clean, and
 * mugai fails closed.  "heuristics" adds heuristic detections and the
 * reports of encrypted archives and documents; both of these reports
 * become MUGAI_SCAN_UNSCANNED.
 */
static void
scan_options_build(unsigned bits, struct cl_scan_options *o)
{
	memset(o, 0, sizeof(*o));
	o->heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	o->parse = CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_SWF |
	    CL_SCAN_PARSE_IMAGE | CL_SCAN_PARSE_IMAGE_FUZZY_HASH;
	if (bits & MUGAI_SCAN_ARCHIVE)
		o->parse |= CL_SCAN_PARSE_ARCHIVE;
	if (bits & MUGAI_SCAN_MAIL)
		o->parse |= CL_SCAN_PARSE_MAIL;
	if (bits & MUGAI_SCAN_OLE2)
		o->parse |= CL_SCAN_PARSE_OLE2 | CL_SCAN_PARSE_XMLDOCS |
		    CL_SCAN_PARSE_HWP3 | CL_SCAN_PARSE_ONENOTE;
	if (bits & MUGAI_SCAN_PDF)
		o->parse |= CL_SCAN_PARSE_PDF;
	if (bits & MUGAI_SCAN_HTML)
		o->parse |= CL_SCAN_PARSE_HTML;
	if (bits & MUGAI_SCAN_HEURISTICS) {
		o->general |= CL_SCAN_GENERAL_HEURISTICS;
		o->heuristic |= CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
		    CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
	}
}

/* The one error text for a directory without usable signatures. */
static void
set_nosigs_err(const struct mugai_scanner *sc, const char *why, char *err,
    size_t errlen)
{
	if (why != NULL)
		set_err(err, errlen, "ClamAV database directory %s has no "
		    "signatures (%s); run freshclam (or set "
		    "clamav_database_dir)", sc->dir, why);
	else
		set_err(err, errlen, "ClamAV database directory %s has no "
		    "signatures; run freshclam (or set clamav_database_dir)",
		    sc->dir);
}

static mugai_status
engine_set_limits(const struct mugai_scanner *sc, struct cl_engine *cl,
    char *err, size_t errlen)
{
	const struct {
		enum cl_engine_field field;
		long long value;
	} limits[] = {
		{ CL_ENGINE_MAX_FILESIZE, (long long)sc->max_filesize },
		{ CL_ENGINE_MAX_SCANSIZE, (long long)sc->max_scansize },
		{ CL_ENGINE_MAX_RECURSION, sc->max_recursion },
		{ CL_ENGINE_MAX_FILES, sc->max_files },
		{ CL_ENGINE_MAX_SCANTIME, sc->max_scantime_ms },
	};
	cl_error_t rc;
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		rc = cl_engine_set_num(cl, limits[i].field, limits[i].value);
		if (rc != CL_SUCCESS) {
			set_err(err, errlen, "cannot set ClamAV limit %d: %s",
			    (int)limits[i].field, cl_strerror(rc));
			return MUGAI_ERR_SCAN;
		}
	}
	return MUGAI_OK;
}

/*
 * Free an engine and let a waiting reload or free know.  An engine is
 * hundreds of MB of small allocations; glibc keeps freed heap memory
 * (in every thread's arena) for reuse, so without a trim the RSS of a
 * reloaded milter stays at its peak: give it back to the system.
 */
static void
engine_destroy(struct mugai_scanner *sc, struct engine *e)
{
	if (e == NULL)
		return;
	if (e->cl != NULL)
		cl_engine_free(e->cl);
	free(e);
	malloc_trim(0);
	pthread_mutex_lock(&sc->lock);
	sc->nengines--;
	pthread_cond_broadcast(&sc->engine_gone);
	pthread_mutex_unlock(&sc->lock);
}

static void
engine_unref(struct mugai_scanner *sc, struct engine *e)
{
	int last;

	if (e == NULL)
		return;
	pthread_mutex_lock(&sc->lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&sc->lock);
	if (last)
		engine_destroy(sc, e);
}

static struct engine *
engine_get(struct mugai_scanner *sc)
{
	struct engine *e;

	pthread_mutex_lock(&sc->lock);
	e = sc->current;
	if (e != NULL)
		e->refs++;
	pthread_mutex_unlock(&sc->lock);
	return e;
}

/*
 * Load and compile sc->dir into a new engine with one reference.  The
 * caller holds reload_lock.
 */
static mugai_status
engine_load(struct mugai_scanner *sc, struct engine **out, char *err,
    size_t errlen)
{
	struct engine *e;
	unsigned sigs = 0;
	cl_error_t rc;
	mugai_status ret;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		set_err(err, errlen, "out of memory loading ClamAV engine");
		return MUGAI_ERR_NOMEM;
	}
	pthread_mutex_lock(&sc->lock);
	sc->nengines++;
	pthread_mutex_unlock(&sc->lock);
	e->refs = 1;
	if ((e->cl = cl_engine_new()) == NULL) {
		set_err(err, errlen, "cl_engine_new failed (out of memory?)");
		ret = MUGAI_ERR_NOMEM;
		goto out;
	}
	if ((ret = engine_set_limits(sc, e->cl, err, errlen)) != MUGAI_OK)
		goto out;
	if (sc->tmpdir[0] != '\0' && (rc = cl_engine_set_str(e->cl,
	    CL_ENGINE_TMPDIR, sc->tmpdir)) != CL_SUCCESS) {
		set_err(err, errlen, "cannot set the ClamAV temporary "
		    "directory %s: %s", sc->tmpdir, cl_strerror(rc));
		ret = MUGAI_ERR_SCAN;
		goto out;
	}
	rc = cl_load(sc->dir, e->cl, &sigs, CL_DB_STDOPT);
	if (rc == CL_EMEM) {
		set_err(err, errlen, "out of memory loading %s", sc->dir);
		ret = MUGAI_ERR_NOMEM;
		goto out;
	}
	/*
	 * The directory was readable a moment ago, so CL_EOPEN means "no
	 * supported database files" (libclamav logs which).
	 */
	if (rc == CL_EOPEN || (rc == CL_SUCCESS && sigs == 0)) {
		set_nosigs_err(sc, NULL, err, errlen);
		ret = MUGAI_ERR_CONFIG;
		goto out;
	}
	if (rc != CL_SUCCESS) {
		set_err(err, errlen, "cannot load ClamAV database directory "
		    "%s: %s; run freshclam (or set clamav_database_dir)",
		    sc->dir, cl_strerror(rc));
		ret = MUGAI_ERR_CONFIG;
		goto out;
	}
	if ((rc = cl_engine_compile(e->cl)) != CL_SUCCESS) {
		set_err(err, errlen, "cannot compile ClamAV engine from %s: %s",
		    sc->dir, cl_strerror(rc));
		ret = rc == CL_EMEM ? MUGAI_ERR_NOMEM : MUGAI_ERR_SCAN;
		goto out;
	}
	e->sigs = sigs;
	*out = e;
	e = NULL;
	ret = MUGAI_OK;
out:
	engine_destroy(sc, e);
	return ret;
}

/* Make e current; the old engine lives on until its last scan ends. */
static void
scanner_swap(struct mugai_scanner *sc, struct engine *e)
{
	struct engine *old;

	pthread_mutex_lock(&sc->lock);
	old = sc->current;
	sc->current = e;
	e->generation = ++sc->generation;
	pthread_mutex_unlock(&sc->lock);
	engine_unref(sc, old);
}

/* A missing directory gets the same advice as an empty one. */
static mugai_status
dir_check(const struct mugai_scanner *sc, char *err, size_t errlen)
{
	struct stat st;
	DIR *d;

	if (stat(sc->dir, &st) == -1) {
		set_nosigs_err(sc, strerror(errno), err, errlen);
		return MUGAI_ERR_CONFIG;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_nosigs_err(sc, "not a directory", err, errlen);
		return MUGAI_ERR_CONFIG;
	}
	if ((d = opendir(sc->dir)) == NULL) {
		set_nosigs_err(sc, strerror(errno), err, errlen);
		return MUGAI_ERR_CONFIG;
	}
	closedir(d);
	return MUGAI_OK;
}

/*
 * Load a new engine and swap it in; the caller holds reload_lock.  The
 * directory is stat'ed before loading, so a change made while loading
 * shows up at the watcher's next check.  The snapshot is kept even when
 * the load fails: a broken database is not retried until it changes.
 */
static mugai_status
scanner_load_locked(struct mugai_scanner *sc, char *err, size_t errlen)
{
	struct cl_stat st;
	struct engine *e;
	struct timespec t0;
	mugai_status rc;

	/* Keep at most two engines: wait for the last retired one to go. */
	pthread_mutex_lock(&sc->lock);
	while (sc->nengines > 1)
		pthread_cond_wait(&sc->engine_gone, &sc->lock);
	pthread_mutex_unlock(&sc->lock);

	if ((rc = dir_check(sc, err, errlen)) != MUGAI_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	if (cl_statinidir(sc->dir, &st) == CL_SUCCESS) {
		if (sc->stat_valid)
			cl_statfree(&sc->stat);
		sc->stat = st;
		sc->stat_valid = 1;
	} else {
		cl_statfree(&st);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = engine_load(sc, &e, err, errlen)) != MUGAI_OK)
		return rc;
	scanner_swap(sc, e);
	mugai_log(LOG_INFO, "-", "ClamAV engine generation %lu loaded: %u "
	    "signatures from %s in %.0f ms", e->generation, e->sigs, sc->dir,
	    elapsed_ms(&t0));
	return MUGAI_OK;
}

mugai_status
mugai_scanner_reload(struct mugai_scanner *sc, char *err, size_t errlen)
{
	char why[512];
	mugai_status rc;

	pthread_mutex_lock(&sc->reload_lock);
	rc = scanner_load_locked(sc, why, sizeof(why));
	pthread_mutex_unlock(&sc->reload_lock);
	if (rc != MUGAI_OK) {
		mugai_log(LOG_ERR, "-", "ClamAV reload failed, keeping engine "
		    "generation %lu: %s", mugai_scanner_generation(sc), why);
		set_err(err, errlen, "%s", why);
	}
	return rc;
}

/* Has the database directory changed since the last load? */
static int
scanner_dir_changed(struct mugai_scanner *sc)
{
	int changed;

	pthread_mutex_lock(&sc->reload_lock);
	/* No snapshot: the directory was missing; look again. */
	changed = !sc->stat_valid || cl_statchkdir(&sc->stat) == 1;
	pthread_mutex_unlock(&sc->reload_lock);
	return changed;
}

/*
 * Sleep check_interval seconds or until woken.  Returns 1 to stop, else
 * 0 with *forced set when a reload was requested.
 */
static int
watcher_wait(struct mugai_scanner *sc, int *forced)
{
	struct timespec deadline;
	int stop, rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += sc->check_interval;
	pthread_mutex_lock(&sc->lock);
	while (!sc->stop && !sc->reload_requested && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&sc->wake, &sc->lock, &deadline);
	stop = sc->stop;
	*forced = sc->reload_requested;
	sc->reload_requested = 0;
	pthread_mutex_unlock(&sc->lock);
	return stop;
}

static void *
watcher_main(void *arg)
{
	struct mugai_scanner *sc = arg;
	int forced;

	while (!watcher_wait(sc, &forced)) {
		if (forced || scanner_dir_changed(sc)) {
			if (forced)
				mugai_log(LOG_INFO, "-", "ClamAV reload "
				    "requested");
			(void)mugai_scanner_reload(sc, NULL, 0);
		}
	}
	return NULL;
}

void
mugai_scanner_request_reload(struct mugai_scanner *sc)
{
	if (sc == NULL)
		return;
	/* No watcher thread: the caller is a normal thread, so reload here. */
	if (!sc->watcher_started) {
		mugai_log(LOG_INFO, "-", "ClamAV reload requested");
		(void)mugai_scanner_reload(sc, NULL, 0);
		return;
	}
	pthread_mutex_lock(&sc->lock);
	sc->reload_requested = 1;
	pthread_cond_signal(&sc->wake);
	pthread_mutex_unlock(&sc->lock);
}

unsigned long
mugai_scanner_generation(struct mugai_scanner *sc)
{
	unsigned long g;

	pthread_mutex_lock(&sc->lock);
	g = sc->generation;
	pthread_mutex_unlock(&sc->lock);
	return g;
}

static mugai_status
scanner_sync_init(struct mugai_scanner *sc)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) != 0)
		return MUGAI_ERR_NOMEM;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&sc->lock, NULL);
	pthread_mutex_init(&sc->reload_lock, NULL);
	pthread_cond_init(&sc->engine_gone, NULL);
	pthread_cond_init(&sc->wake, &ca);
	pthread_condattr_destroy(&ca);
	return MUGAI_OK;
}

static void
scanner_config(struct mugai_scanner *sc, const struct mugai_config *cfg)
{
	unsigned long long ms = cfg->clamav_max_scantime * 1000ULL;
	const char *tmp = cfg->spool_dir;

	sc->max_filesize = cfg->clamav_max_filesize;
	sc->max_scansize = cfg->clamav_max_scansize;
	sc->max_recursion = cfg->clamav_max_recursion;
	sc->max_files = cfg->clamav_max_files;
	sc->max_scantime_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	sc->check_interval = cfg->clamav_check_interval;
	scan_options_build(cfg->clamav_scan_options, &sc->opts);
	sc->copy_no_parse = cfg->clamav_copy_image_hash ? 0 :
	    CL_SCAN_PARSE_IMAGE_FUZZY_HASH;
	/*
	 * libclamav makes a directory for every scan and may unpack archive
	 * members to temporary files: keep them in clamav_tmp_dir, else in
	 * the private spool (0700) rather than a shared /tmp, when it exists
	 * (the milter makes it; the CLI may run without one).
	 */
	if (cfg->clamav_tmp_dir != NULL && *cfg->clamav_tmp_dir != '\0')
		tmp = cfg->clamav_tmp_dir;
	if (tmp != NULL && access(tmp, W_OK | X_OK) == 0 &&
	    strlen(tmp) < sizeof(sc->tmpdir))
		memcpy(sc->tmpdir, tmp, strlen(tmp) + 1);
}

mugai_status
mugai_scanner_new(const struct mugai_config *cfg, struct mugai_scanner **out,
    char *err, size_t errlen)
{
	struct mugai_scanner *sc;
	mugai_status rc;

	*out = NULL;
	pthread_once(&clamav_once, clamav_init_once);
	if (clamav_init_rc != CL_SUCCESS) {
		set_err(err, errlen, "cl_init failed: %s",
		    cl_strerror(clamav_init_rc));
		return MUGAI_ERR_SCAN;
	}
	if (cfg->clamav_tmp_dir != NULL && *cfg->clamav_tmp_dir != '\0' &&
	    access(cfg->clamav_tmp_dir, W_OK | X_OK) != 0) {
		set_err(err, errlen, "clamav_tmp_dir %s: %s", cfg->clamav_tmp_dir,
		    strerror(errno));
		return MUGAI_ERR_CONFIG;
	}
	if (cfg->clamav_database_dir == NULL || *cfg->clamav_database_dir == 0) {
		set_err(err, errlen, "clamav_database_dir is empty; set it to "
		    "the directory freshclam writes (/var/lib/clamav)");
		return MUGAI_ERR_CONFIG;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->dir = strdup(cfg->clamav_database_dir)) == NULL) {
		free(sc);
		set_err(err, errlen, "out of memory");
		return MUGAI_ERR_NOMEM;
	}
	scanner_config(sc, cfg);
	if ((rc = scanner_sync_init(sc)) != MUGAI_OK) {
		free(sc->dir);
		free(sc);
		set_err(err, errlen, "out of memory");
		return rc;
	}
	pthread_mutex_lock(&sc->reload_lock);
	rc = scanner_load_locked(sc, err, errlen);
	pthread_mutex_unlock(&sc->reload_lock);
	if (rc != MUGAI_OK)
		goto fail;
	if (sc->check_interval > 0) {
		if (pthread_create(&sc->watcher, NULL, watcher_main, sc) != 0) {
			set_err(err, errlen, "cannot start the ClamAV database "
			    "watcher thread");
			rc = MUGAI_ERR_INTERNAL;
			goto fail;
		}
		sc->watcher_started = 1;
	}
	*out = sc;
	return MUGAI_OK;
fail:
	mugai_scanner_free(sc);
	return rc;
}

void
mugai_scanner_free(struct mugai_scanner *sc)
{
	struct engine *e;

	if (sc == NULL)
		return;
	if (sc->watcher_started) {
		pthread_mutex_lock(&sc->lock);
		sc->stop = 1;
		pthread_cond_signal(&sc->wake);
		pthread_mutex_unlock(&sc->lock);
		pthread_join(sc->watcher, NULL);
	}
	pthread_mutex_lock(&sc->lock);
	e = sc->current;
	sc->current = NULL;
	pthread_mutex_unlock(&sc->lock);
	engine_unref(sc, e);
	/* Scans still running on some engine free it when they end. */
	pthread_mutex_lock(&sc->lock);
	while (sc->nengines > 0)
		pthread_cond_wait(&sc->engine_gone, &sc->lock);
	pthread_mutex_unlock(&sc->lock);
	if (sc->stat_valid)
		cl_statfree(&sc->stat);
	pthread_cond_destroy(&sc->wake);
	pthread_cond_destroy(&sc->engine_gone);
	pthread_mutex_destroy(&sc->reload_lock);
	pthread_mutex_destroy(&sc->lock);
	free(sc->dir);
	free(sc);
}

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Turn libclamav's answer into a verdict; MUGAI_ERR_SCAN on failure. */
static mugai_status
verdict_set(cl_error_t rc, const char *virname, struct mugai_scan_verdict *v)
{
	switch (rc) {
	case CL_CLEAN:
		v->outcome = MUGAI_SCAN_CLEAN;
		return MUGAI_OK;
	case CL_VIRUS:
		if (virname == NULL)
			virname = "Unknown.Signature";
		snprintf(v->name, sizeof(v->name), "%s", virname);
		/* Not a virus, but not known clean either: never pass it. */
		if (has_prefix(virname, ENCRYPTED_PREFIX) ||
		    has_prefix(virname, LIMITS_PREFIX))
			v->outcome = MUGAI_SCAN_UNSCANNED;
		else
			v->outcome = MUGAI_SCAN_INFECTED;
		return MUGAI_OK;
	case CL_EMAXSIZE:
	case CL_EMAXREC:
	case CL_EMAXFILES:
	case CL_ETIMEOUT:
		v->outcome = MUGAI_SCAN_UNSCANNED;
		snprintf(v->name, sizeof(v->name), "Limits.Exceeded(%s)",
		    cl_strerror(rc));
		return MUGAI_OK;
	default:
		return MUGAI_ERR_SCAN;
	}
}

/*
 * Debug detail only: the scanner does not know the message's queue id,
 * so callers log the verdicts people need, with that id.
 */
static void
verdict_log(const struct mugai_scan_verdict *v, const char *label,
    unsigned long generation)
{
	if (v->outcome == MUGAI_SCAN_INFECTED)
		mugai_log(LOG_DEBUG, "-", "virus found in %s: %s (engine "
		    "generation %lu)", label, v->name, generation);
	else if (v->outcome == MUGAI_SCAN_UNSCANNED)
		mugai_log(LOG_DEBUG, "-", "%s could not be scanned: %s",
		    label, v->name);
}

static mugai_status
scanner_scan(struct mugai_scanner *sc, const void *data, size_t len,
    unsigned no_parse, const char *label, struct mugai_scan_verdict *v)
{
	struct cl_scan_options opts;
	struct timespec c0, c1;
	struct engine *e;
	cl_fmap_t *map;
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_error_t rc;
	mugai_status ret;

	memset(v, 0, sizeof(*v));
	v->outcome = MUGAI_SCAN_CLEAN;
	if (label == NULL)
		label = "data";
	/*
	 * libclamav skips an oversized object silently unless heuristics
	 * are on; an unscanned object must never pass as clean.
	 */
	if ((uint64_t)len > sc->max_filesize) {
		v->outcome = MUGAI_SCAN_UNSCANNED;
		snprintf(v->name, sizeof(v->name), "%s", MAXFILESIZE_NAME);
		verdict_log(v, label, 0);
		return MUGAI_OK;
	}
	if (len == 0)
		return MUGAI_OK;
	if ((e = engine_get(sc)) == NULL) {
		mugai_log(LOG_ERR, "-", "%s: no ClamAV engine", label);
		return MUGAI_ERR_SCAN;
	}
	if ((map = cl_fmap_open_memory(data, len)) == NULL) {
		mugai_log(LOG_ERR, "-", "%s: cl_fmap_open_memory failed", label);
		ret = MUGAI_ERR_SCAN;
		goto out;
	}
	opts = sc->opts;
	opts.parse &= ~no_parse;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	rc = cl_scanmap_callback(map, NULL, &virname, &scanned, e->cl, &opts,
	    (void *)(uintptr_t)label);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	atomic_fetch_add(&sc->scans, 1);
	atomic_fetch_add(&sc->cpu_ns, (unsigned long long)((c1.tv_sec -
	    c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec)));
	/* virname points into the engine: copy it before the unref. */
	ret = verdict_set(rc, virname, v);
	cl_fmap_close(map);
	if (ret != MUGAI_OK)
		mugai_log(LOG_ERR, "-", "%s: ClamAV scan failed: %s", label,
		    cl_strerror(rc));
	else
		verdict_log(v, label, e->generation);
out:
	engine_unref(sc, e);
	return ret;
}

mugai_status
mugai_scanner_scan(struct mugai_scanner *sc, const void *data, size_t len,
    const char *label, struct mugai_scan_verdict *v)
{
	return scanner_scan(sc, data, len, 0, label, v);
}

/*
 * A copy is bytes mugai's own encoders wrote from a part that was
 * scanned with every parser already: pixels it drew, text it extracted,
 * packages it rebuilt.  It is scanned all the same, with every parser:
 * text pulled out of a PDF or a document (through font encodings, across
 * runs) may spell what the original never did in its bytes, and a
 * picture libclamav could not hash in the original (a Flate-coded image
 * in a PDF, a WebP, a picture inside a legacy Office stream) is a PNG or
 * a JPEG in the copy.  So the perceptual image hash, nine tenths of the
 * scan of a page-image PDF copy (bench/scan-bench.sh), is left out only
 * when clamav_copy_image_hash is off.  libclamav's cache then holds the
 * copy as clean without that hash, so the same bytes met again in
 * another message are not hashed either.
 */
mugai_status
mugai_scanner_scan_copy(struct mugai_scanner *sc, const void *data,
    size_t len, const char *label, struct mugai_scan_verdict *v)
{
	return scanner_scan(sc, data, len, sc->copy_no_parse, label, v);
}

/*
 * libclamav remembers clean objects by their hash, whatever options found
 * them clean: after the scan without MIME decoding, the same bytes would
 * come back clean from that cache without being decoded.  So the decoding
 * scan reads a copy with one more line end, which MIME ignores (only on
 * the rare messages the walk did not decode whole).  And libclamav reads
 * bytes as mail only when they start with a header it knows (Received:,
 * From:, MIME-Version: ...): a message that starts with Content-Type:, as
 * Python's email package writes them, was taken for text and its parts
 * were never decoded.  So a copy that starts with a header field gets a
 * Received: line of mugai's own before it, which MIME ignores too.
 *
 * The cache stays on.  Turning it off (CL_ENGINE_DISABLE_CACHE) saves
 * the MD5 of every object, 11-19 % of the instructions of the scans of
 * a text or HTML message, but costs 40 % more on a message with a .docx,
 * whose copy repeats most of the original's members, and loses every
 * attachment that comes again in another message.
 */
#define MAIL_PREFIX	"Received: by mugai (scan); decoded again\n"

/* Does p start with a header field ("Name:")? */
static int
starts_with_field(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] > ' ' && p[i] < 127 && p[i] != ':')
		i++;
	return i > 0 && i < n && p[i] == ':';
}

mugai_status
mugai_scanner_scan_message(struct mugai_scanner *sc, const void *data,
    size_t len, int decode, const char *label, struct mugai_scan_verdict *v)
{
	mugai_status rc;
	size_t pre = 0;
	char *copy;

	if (!decode)
		return scanner_scan(sc, data, len, CL_SCAN_PARSE_MAIL, label, v);
	if (starts_with_field(data, len))
		pre = strlen(MAIL_PREFIX);
	if ((copy = malloc(pre + len + 1)) == NULL) {
		mugai_log(LOG_ERR, "-", "%s: out of memory", label);
		return MUGAI_ERR_SCAN;
	}
	memcpy(copy, MAIL_PREFIX, pre);
	memcpy(copy + pre, data, len);
	copy[pre + len] = '\n';
	rc = scanner_scan(sc, copy, pre + len + 1, 0, label, v);
	free(copy);
	return rc;
}

void
mugai_scanner_stats(struct mugai_scanner *sc, struct mugai_scan_stats *st)
{
	st->scans = atomic_load(&sc->scans);
	st->cpu_ns = atomic_load(&sc->cpu_ns);
}
