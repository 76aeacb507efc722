/*
 * quarantine_copy.c - "mugai quarantine copy --from SQLITE_PATH": move a
 * single-node SQLite store into the store the configuration names (a
 * shared PostgreSQL one), verified by hash.
 *
 * Only the public store interface and the two index seams of
 * quarantine_backend.h are used, so this works for any pair of
 * backends.  Each message: the source original is read (which checks
 * it against the SHA-256 its row recorded), stored in the destination
 * (original, then row), given the source's status, and its history is
 * appended; then it is read back from the destination, which checks it
 * against the same SHA-256.  A message already there with the same
 * hash is skipped, so an interrupted copy is simply run again.
 *
 * Then the release requests, every field as it was (a pending one can
 * be decided in the destination): first each under its own number where
 * the destination has not used it, then the rest under new numbers,
 * each said in a line, as staff may quote the old one.  A request
 * already there (same message, requester, time and reason) is skipped.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include "quarantine_backend.h"

struct cp_ids {
	char	**v;
	size_t	 n, cap;
	int	 nomem;
};

struct cp_hist {
	struct mugai_qaction *v;
	size_t	 n, cap;
	int	 nomem;
};

struct cp {
	struct mugai_quarantine *src, *dst;
	void	(*fn)(const char *line, void *arg);
	void	*arg;
	size_t	 copied, skipped, failed;
	size_t	 rcopied, rskipped;	/* release requests */
};


static void
cp_say(struct cp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cp_say(struct cp *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->fn != NULL)
		c->fn(line, c->arg);
}

static int
cp_id(const struct mugai_qrecord *r, void *arg)
{
	struct cp_ids *ids = arg;
	char **v;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 256;
		if ((v = realloc(ids->v, ids->cap * sizeof(*v))) == NULL) {
			ids->nomem = 1;
			return 1;
		}
		ids->v = v;
	}
	if ((ids->v[ids->n] = strdup(r->id)) == NULL) {
		ids->nomem = 1;
		return 1;
	}
	ids->n++;
	return 0;
}

static char *
cp_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
cp_action(const struct mugai_qaction *a, void *arg)
{
	struct cp_hist *h = arg;
	struct mugai_qaction *v, *d;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		if ((v = realloc(h->v, h->cap * sizeof(*v))) == NULL) {
			h->nomem = 1;
			return 1;
		}
		h->v = v;
	}
	d = &h->v[h->n++];
	d->time = a->time;
	d->id = cp_dup(a->id);
	d->actor = cp_dup(a->actor);
	d->action = cp_dup(a->action);
	d->detail = cp_dup(a->detail);
	d->reason = cp_dup(a->reason);
	if (d->id == NULL || d->actor == NULL || d->action == NULL ||
	    d->detail == NULL || d->reason == NULL)
		h->nomem = 1;
	return h->nomem;
}

static void
cp_hist_free(struct cp_hist *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free((char *)h->v[i].id);
		free((char *)h->v[i].actor);
		free((char *)h->v[i].action);
		free((char *)h->v[i].detail);
		free((char *)h->v[i].reason);
	}
	free(h->v);
}

/* The source's status and history onto the row just made in dst. */
static mugai_status
cp_state(struct cp *c, const struct mugai_qrecord *r)
{
	const unsigned any = Q_ST_HELD | Q_ST_RELEASING | Q_ST_RELEASED |
	    Q_ST_DELETED;
	struct cp_hist h;
	mugai_status rc = MUGAI_OK;
	size_t i;

	memset(&h, 0, sizeof(h));
	if (strcmp(r->status, "held") != 0)
		rc = mugai_qindex_transition(c->dst, r->id, Q_ST_HELD, r->status,
		    NULL);
	if (rc == MUGAI_OK)
		rc = mugai_quarantine_history(c->src, r->id, cp_action, &h);
	if (rc == MUGAI_OK && h.nomem) {
		mugai_qerr_set("out of memory");
		rc = MUGAI_ERR_NOMEM;
	}
	for (i = 0; rc == MUGAI_OK && i < h.n; i++)
		rc = mugai_qindex_transition(c->dst, r->id, any, NULL, &h.v[i]);
	cp_hist_free(&h);
	return rc;
}

static void
cp_entry(const struct mugai_qrecord *r, struct mugai_qentry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = r->id;
	e->received = r->received;
	e->queue_id = r->queue_id;
	e->client_addr = r->client_addr;
	e->sender = r->sender;
	e->recipients = (const char *const *)r->recipients;
	e->nrecipients = r->nrecipients;
	e->subject = r->subject;
	e->size = r->size;
	e->sha256 = r->sha256;
	e->verdict = r->verdict;
	e->reasons = r->reasons;
	e->report_json = r->report_json;
	e->notice = r->notice;
}

/* Copy one message; MUGAI_OK also when it was skipped or reported. */
static mugai_status
cp_one(struct cp *c, const char *id, struct mugai_buf *raw,
    struct mugai_buf *back)
{
	struct mugai_qrecord *r = NULL, *have = NULL;
	struct mugai_qentry e;
	mugai_status rc;

	if ((rc = mugai_quarantine_get(c->src, id, &r)) != MUGAI_OK)
		goto fail;
	if (mugai_quarantine_get(c->dst, id, &have) == MUGAI_OK) {
		if (strcmp(have->sha256, r->sha256) == 0)
			c->skipped++;
		else {
			cp_say(c, "%s: the destination already has a different"
			    " message with this id (SHA-256 %s, source %s); not"
			    " copied", id, have->sha256, r->sha256);
			c->failed++;
		}
		goto out;
	}
	cp_entry(r, &e);
	if (strcmp(r->status, "deleted") == 0) {
		/* No original left: the row keeps the audit trail. */
		rc = mugai_qindex_add(c->dst, &e, r->sha256);
	} else {
		if ((rc = mugai_quarantine_read(c->src, r, raw)) != MUGAI_OK)
			goto fail;
		rc = mugai_quarantine_store(c->dst, &e, raw->data != NULL ?
		    raw->data : "", raw->len);
	}
	if (rc == MUGAI_OK)
		rc = cp_state(c, r);
	if (rc != MUGAI_OK)
		goto fail;
	if (strcmp(r->status, "deleted") != 0) {
		/* Read back: the destination checks its own SHA-256. */
		mugai_qrecord_free(have);
		if ((rc = mugai_quarantine_get(c->dst, id, &have)) != MUGAI_OK ||
		    (rc = mugai_quarantine_read(c->dst, have, back)) != MUGAI_OK)
			goto fail;
		if (strcmp(have->sha256, r->sha256) != 0 ||
		    back->len != raw->len ||
		    memcmp(back->data, raw->data, raw->len) != 0) {
			mugai_qerr_set("read back from the destination, it"
			    " differs from the source");
			rc = MUGAI_ERR_IO;
			goto fail;
		}
	}
	c->copied++;
	goto out;
fail:
	cp_say(c, "%s: not copied: %s", id, mugai_quarantine_error());
	c->failed++;
	/* A database that went away fails every message: stop. */
	if (rc != MUGAI_ERR_LIMIT)
		rc = MUGAI_OK;
out:
	mugai_buf_reset(raw);
	mugai_buf_reset(back);
	mugai_qrecord_free(r);
	mugai_qrecord_free(have);
	return rc;
}

/* The source's request numbers (long longs), before any is copied. */
struct cp_nums {
	struct mugai_buf b;
	int	 nomem;
};

static int
cp_reqid(const struct mugai_qrequest *r, void *arg)
{
	struct cp_nums *q = arg;

	if (mugai_buf_append(&q->b, &r->reqid, sizeof(r->reqid)) != MUGAI_OK)
		q->nomem = 1;
	return q->nomem;
}

/* Does the destination hold r already (a copy run before)? */
struct cp_same {
	const struct mugai_qrequest *r;
	long long found;
};

static int
cp_same_req(const struct mugai_qrequest *d, void *arg)
{
	struct cp_same *m = arg;

	if (d->requested == m->r->requested &&
	    strcmp(d->reason, m->r->reason) == 0) {
		m->found = d->reqid;
		return 1;
	}
	return 0;
}

/*
 * Pass 0: copy request num under its own number if the destination has
 * not used it (*done set); pass 1: the rest, under new numbers.
 * MUGAI_OK also when it was skipped or reported.
 */
static mugai_status
cp_req(struct cp *c, const struct mugai_qbackend *be, void *ctx,
    long long num, int pass, int *done)
{
	struct mugai_qrequest *r = NULL;
	struct mugai_qrfilter f;
	struct cp_same m;
	long long got = 0;
	mugai_status rc;

	if ((rc = mugai_quarantine_request_get(c->src, num, &r)) != MUGAI_OK)
		goto fail;
	memset(&f, 0, sizeof(f));
	f.id = r->id;
	f.requester = r->requester;
	m.r = r;
	m.found = 0;
	if ((rc = mugai_quarantine_requests(c->dst, &f, cp_same_req, &m)) !=
	    MUGAI_OK)
		goto fail;
	if (m.found != 0) {
		c->rskipped++;
		*done = 1;
		goto out;
	}
	rc = be->request_import(ctx, r, pass, &got);
	if (rc == MUGAI_ERR_STATE && pass == 0) {
		rc = MUGAI_OK;		/* taken there: the second pass */
		goto out;
	}
	if (rc != MUGAI_OK)
		goto fail;
	if (got != num)
		cp_say(c, "request %lld (%s for %s) is request %lld in the"
		    " destination, where %lld was taken", num, r->requester,
		    r->id, got, num);
	c->rcopied++;
	*done = 1;
	goto out;
fail:
	cp_say(c, "request %lld: not copied: %s", num,
	    mugai_quarantine_error());
	c->failed++;
	*done = 1;
	if (rc != MUGAI_ERR_LIMIT)
		rc = MUGAI_OK;
out:
	mugai_qrequest_free(r);
	return rc;
}

/* Every release request of the source, after the messages. */
static mugai_status
cp_requests(struct cp *c)
{
	const struct mugai_qbackend *be;
	struct mugai_qrfilter f;
	struct cp_nums nums;
	const long long *v;
	void *ctx;
	mugai_status rc;
	size_t i, n;
	int pass, *done = NULL;

	/* The source is SQLite (mugai_qopen_at with a path), with requests. */
	be = mugai_qbe(c->dst, &ctx);
	mugai_buf_init(&nums.b, 0);
	nums.nomem = 0;
	memset(&f, 0, sizeof(f));
	rc = mugai_quarantine_requests(c->src, &f, cp_reqid, &nums);
	n = nums.b.len / sizeof(*v);
	v = (const long long *)nums.b.data;
	if (rc == MUGAI_OK && nums.nomem) {
		mugai_qerr_set("out of memory");
		rc = MUGAI_ERR_NOMEM;
	}
	if (rc == MUGAI_OK && n > 0 && be->request_import == NULL) {
		mugai_qerr_set("the destination (%s) cannot keep release"
		    " requests; %zu not copied", be->name, n);
		rc = MUGAI_ERR_CONFIG;
	}
	/* Numbers kept wherever they can be, before new ones are taken. */
	if (rc == MUGAI_OK && (done = calloc(n + 1, sizeof(*done))) == NULL) {
		mugai_qerr_set("out of memory");
		rc = MUGAI_ERR_NOMEM;
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; rc == MUGAI_OK && i < n; i++)
			if (!done[i])
				rc = cp_req(c, be, ctx, v[i], pass, &done[i]);
	free(done);
	mugai_buf_free(&nums.b);
	if (rc == MUGAI_OK)
		cp_say(c, "%zu release request%s copied, %zu already there",
		    c->rcopied, c->rcopied == 1 ? "" : "s", c->rskipped);
	return rc;
}

static mugai_status
cp_open_src(const struct mugai_config *dcfg, const char *path,
    const char *dir, struct mugai_quarantine **src)
{
	char qdir[PATH_MAX + 32], qdb[PATH_MAX + 32], err[1024], *slash;
	char *ov[3];
	struct mugai_config *cfg;
	mugai_status rc;

	if (dir == NULL) {
		snprintf(qdir, sizeof(qdir), "quarantine_dir=%s", path);
		if ((slash = strrchr(qdir, '/')) == NULL)
			snprintf(qdir, sizeof(qdir), "quarantine_dir=.");
		else if (slash == qdir + strlen("quarantine_dir="))
			slash[1] = '\0';
		else
			*slash = '\0';
	} else
		snprintf(qdir, sizeof(qdir), "quarantine_dir=%s", dir);
	snprintf(qdb, sizeof(qdb), "quarantine_db=%s", path);
	ov[0] = qdir;
	ov[1] = qdb;
	ov[2] = NULL;
	/* The source needs only its own two keys (and the busy timeout). */
	if ((cfg = mugai_config_load(NULL, ov, 2, err, sizeof(err))) == NULL) {
		mugai_qerr_set("%s", err);
		return MUGAI_ERR_CONFIG;
	}
	cfg->quarantine_busy_timeout = dcfg->quarantine_busy_timeout;
	rc = mugai_qopen_at(cfg, path, src, err, sizeof(err));
	if (rc != MUGAI_OK)
		mugai_qerr_set("%s", err);
	mugai_config_unref(cfg);
	return rc;
}

mugai_status
mugai_quarantine_copy(struct mugai_quarantine *dst, const char *sqlite_path,
    const char *dir, void (*fn)(const char *line, void *arg), void *arg,
    size_t *copied, size_t *skipped)
{
	struct mugai_buf raw, back;
	struct cp_ids ids;
	struct cp c;
	mugai_status rc;
	size_t i;

	*copied = *skipped = 0;
	memset(&c, 0, sizeof(c));
	memset(&ids, 0, sizeof(ids));
	c.dst = dst;
	c.fn = fn;
	c.arg = arg;
	mugai_buf_init(&raw, 0);
	mugai_buf_init(&back, 0);
	if ((rc = cp_open_src(mugai_qconfig(dst), sqlite_path, dir, &c.src)) != MUGAI_OK)
		goto out;
	rc = mugai_quarantine_list(c.src, NULL, cp_id, &ids);
	if (rc == MUGAI_OK && ids.nomem) {
		mugai_qerr_set("out of memory");
		rc = MUGAI_ERR_NOMEM;
	}
	for (i = 0; rc == MUGAI_OK && i < ids.n; i++)
		rc = cp_one(&c, ids.v[i], &raw, &back);
	if (rc == MUGAI_OK)
		rc = cp_requests(&c);
	if (rc == MUGAI_OK && c.failed > 0) {
		mugai_qerr_set("%zu message%s or request%s not copied (see"
		    " above); the rest were", c.failed, c.failed == 1 ? "" :
		    "s", c.failed == 1 ? "" : "s");
		rc = MUGAI_ERR_IO;
	}
out:
	*copied = c.copied;
	*skipped = c.skipped;
	for (i = 0; i < ids.n; i++)
		free(ids.v[i]);
	free(ids.v);
	mugai_buf_free(&raw);
	mugai_buf_free(&back);
	mugai_quarantine_close(c.src);
	return rc;
}
