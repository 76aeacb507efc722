/*
 * stats.c - figures per day or month (see mugai/quarantine/stats.h).
 *
 * The audit log gives one line per message (all mail, changed or not);
 * the index gives the reports of the changed ones, whose parts say what
 * was removed and where a conversion failed.  A "tempfail" line is a
 * message the MTA will offer again: it is not counted, so a message is
 * counted once, when it was finally accepted or refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/auditlog.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/stats.h"
#include "qbase.h"

#define ST_TOP_DEFAULT	10

/* Reasons of a part that mean a conversion was tried and failed. */
static const char *const st_failures[] = {
	"convert-failed", "unreadable", "time", "no-converter", "xfa", NULL
};

struct st_tally {
	struct mugai_stats_count *v;
	size_t	 n, cap;
};

struct st {
	struct mugai_stats *s;
	size_t	 cap;
	int	 monthly;
	struct st_tally removed, viruses;
	sqlite3	*db;			/* for the signatures arrays */
	sqlite3_stmt *sigs;
	mugai_status rc;
};

static void
st_period(time_t t, int monthly, char *buf, size_t len, time_t *start)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, monthly ? "%Y-%m" : "%Y-%m-%d", &tm);
	tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
	if (monthly)
		tm.tm_mday = 1;
	tm.tm_isdst = -1;
	*start = mktime(&tm);
}

/* The row of t's period, added when new; NULL when out of memory. */
static struct mugai_stats_row *
st_row(struct st *x, time_t t)
{
	struct mugai_stats *s = x->s;
	struct mugai_stats_row *v;
	char period[16];
	time_t start;
	size_t i;

	st_period(t, x->monthly, period, sizeof(period), &start);
	for (i = s->nrows; i > 0; i--)
		if (strcmp(s->rows[i - 1].period, period) == 0)
			return &s->rows[i - 1];
	if (s->nrows == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 32;
		if ((v = realloc(s->rows, x->cap * sizeof(*v))) == NULL)
			return NULL;
		s->rows = v;
	}
	v = &s->rows[s->nrows++];
	memset(v, 0, sizeof(*v));
	snprintf(v->period, sizeof(v->period), "%s", period);
	v->start = start;
	return v;
}

static mugai_status
st_count(struct st_tally *t, const char *name)
{
	struct mugai_stats_count *v;
	size_t i;

	if (name == NULL || name[0] == '\0')
		name = "(unknown)";
	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0) {
			t->v[i].n++;
			return MUGAI_OK;
		}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((v = realloc(t->v, t->cap * sizeof(*v))) == NULL)
			return MUGAI_ERR_NOMEM;
		t->v = v;
	}
	if ((t->v[t->n].name = strdup(name)) == NULL)
		return MUGAI_ERR_NOMEM;
	t->v[t->n++].n = 1;
	return MUGAI_OK;
}

static long
st_num(const struct mugai_aentry *e, const char *key)
{
	char *v = mugai_audit_json_get(e, key);
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	free(v);
	return n;
}

/* Count each virus name in the line's "signatures" array. */
static mugai_status
st_signatures(struct st *x, const struct mugai_aentry *e, int *any)
{
	mugai_status rc = MUGAI_OK;

	*any = 0;
	sqlite3_reset(x->sigs);
	sqlite3_bind_text(x->sigs, 1, e->json, -1, SQLITE_STATIC);
	while (rc == MUGAI_OK && sqlite3_step(x->sigs) == SQLITE_ROW) {
		*any = 1;
		rc = st_count(&x->viruses,
		    (const char *)sqlite3_column_text(x->sigs, 0));
	}
	return rc;
}

static int
st_message(const struct mugai_aentry *e, void *arg)
{
	struct st *x = arg;
	struct mugai_stats_row *row;
	char *verdict, *quar;
	int virus = 0;

	verdict = mugai_audit_json_get(e, "verdict");
	if (verdict == NULL || strcmp(verdict, "tempfail") == 0) {
		free(verdict);
		return 0;
	}
	if ((row = st_row(x, e->time)) == NULL) {
		free(verdict);
		x->rc = MUGAI_ERR_NOMEM;
		return 1;
	}
	quar = mugai_audit_json_get(e, "quarantined");
	row->messages++;
	if (strcmp(verdict, "deliver") == 0 && (st_num(e, "removed") > 0 ||
	    st_num(e, "converted") > 0))
		row->sanitised++;
	if (st_num(e, "converted") > 0)
		row->converted++;
	if (quar != NULL && (strcmp(quar, "1") == 0 ||
	    strcmp(quar, "true") == 0))
		row->held++;
	if (strcmp(verdict, "reject") == 0 || strcmp(verdict, "discard") == 0)
		row->rejected++;
	x->rc = st_signatures(x, e, &virus);
	if (virus)
		row->virus++;
	free(verdict);
	free(quar);
	return x->rc != MUGAI_OK;
}

/* ---- the index: removed types and failed conversions ---------------- */

struct st_ids {
	char	**id;
	time_t	*received;
	size_t	 n, cap;
	int	 nomem;
};

static int
st_collect(const struct mugai_qrecord *r, void *arg)
{
	struct st_ids *ids = arg;
	char **v;
	time_t *t;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		v = realloc(ids->id, ids->cap * sizeof(*v));
		if (v != NULL)
			ids->id = v;
		t = realloc(ids->received, ids->cap * sizeof(*t));
		if (t != NULL)
			ids->received = t;
		if (v == NULL || t == NULL)
			goto nomem;
	}
	if ((ids->id[ids->n] = strdup(r->id)) == NULL)
		goto nomem;
	ids->received[ids->n++] = r->received;
	return 0;
nomem:
	ids->nomem = 1;
	return 1;
}

struct st_msg {
	struct st *x;
	struct mugai_stats_row *row;
};

static int
st_part(const struct mugai_qpart *p, void *arg)
{
	struct st_msg *m = arg;
	size_t i;

	if (p->action != NULL && strcmp(p->action, "removed") == 0 &&
	    (m->x->rc = st_count(&m->x->removed, p->detected_type != NULL ?
	    p->detected_type : p->declared_type)) != MUGAI_OK)
		return 1;
	for (i = 0; p->reason != NULL && st_failures[i] != NULL; i++)
		if (strcmp(p->reason, st_failures[i]) == 0) {
			m->row->conversion_failures++;
			break;
		}
	return 0;
}

static mugai_status
st_index(struct st *x, struct mugai_quarantine *q, time_t from, time_t to)
{
	struct mugai_qfilter f;
	struct mugai_qrecord *r;
	struct st_ids ids;
	struct st_msg m;
	mugai_status rc;
	size_t i;

	memset(&f, 0, sizeof(f));
	memset(&ids, 0, sizeof(ids));
	f.since = from;
	f.before = to;
	/* Collected first: callbacks may not call back into the handle. */
	rc = mugai_quarantine_list(q, &f, st_collect, &ids);
	if (rc == MUGAI_OK && ids.nomem)
		rc = MUGAI_ERR_NOMEM;
	for (i = 0; i < ids.n && rc == MUGAI_OK; i++) {
		if ((rc = mugai_quarantine_get(q, ids.id[i], &r)) ==
		    MUGAI_ERR_NOTFOUND) {
			rc = MUGAI_OK;
			continue;
		}
		if (rc != MUGAI_OK)
			break;
		m.x = x;
		if ((m.row = st_row(x, ids.received[i])) == NULL)
			rc = MUGAI_ERR_NOMEM;
		else
			rc = mugai_quarantine_report_parts(q, r->report_json,
			    st_part, &m);
		if (rc == MUGAI_OK)
			rc = x->rc;
		mugai_qrecord_free(r);
	}
	for (i = 0; i < ids.n; i++)
		free(ids.id[i]);
	free(ids.id);
	free(ids.received);
	return rc;
}

/* ---- totals, ordering --------------------------------------------- */

static int
st_row_cmp(const void *a, const void *b)
{
	const struct mugai_stats_row *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int
st_count_cmp(const void *a, const void *b)
{
	const struct mugai_stats_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
st_top(struct st_tally *t, size_t top, struct mugai_stats_count **out,
    size_t *n)
{
	size_t i;

	if (t->n > 1)	/* qsort wants an array, even of nothing */
		qsort(t->v, t->n, sizeof(*t->v), st_count_cmp);
	for (i = top; i < t->n; i++)
		free(t->v[i].name);
	*out = t->v;
	*n = t->n < top ? t->n : top;
	t->v = NULL;
}

static void
st_totals(struct mugai_stats *s)
{
	size_t i;

	memset(&s->total, 0, sizeof(s->total));
	snprintf(s->total.period, sizeof(s->total.period), "total");
	if (s->nrows > 1)
		qsort(s->rows, s->nrows, sizeof(*s->rows), st_row_cmp);
	for (i = 0; i < s->nrows; i++) {
		s->total.messages += s->rows[i].messages;
		s->total.sanitised += s->rows[i].sanitised;
		s->total.converted += s->rows[i].converted;
		s->total.held += s->rows[i].held;
		s->total.rejected += s->rows[i].rejected;
		s->total.virus += s->rows[i].virus;
		s->total.conversion_failures +=
		    s->rows[i].conversion_failures;
	}
	if (s->nrows > 0)
		s->total.start = s->rows[0].start;
}

static void
st_tally_free(struct st_tally *t)
{
	size_t i;

	for (i = 0; t->v != NULL && i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
}

mugai_status
mugai_stats_compute(const struct mugai_config *cfg,
    struct mugai_quarantine *q, time_t from, time_t to, int monthly,
    size_t top, struct mugai_stats **out)
{
	struct mugai_afilter f;
	struct st x;
	mugai_status rc;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	x.monthly = monthly;
	if ((x.s = calloc(1, sizeof(*x.s))) == NULL)
		return MUGAI_ERR_NOMEM;
	if (sqlite3_open_v2(":memory:", &x.db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x.db, "SELECT value FROM json_each(?1,"
	    " '$.signatures') WHERE type = 'text'", -1, &x.sigs, NULL) !=
	    SQLITE_OK) {
		mugai_qerr_set("statistics: %s", x.db != NULL ?
		    sqlite3_errmsg(x.db) : "out of memory");
		rc = MUGAI_ERR_INTERNAL;
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.since = from;
	f.before = to;
	f.action = "message";
	rc = mugai_audit_query(cfg, NULL, &f, st_message, &x, &x.s->skipped);
	/* No log yet: no messages yet. */
	if (rc == MUGAI_ERR_NOTFOUND)
		rc = MUGAI_OK;
	if (rc == MUGAI_OK)
		rc = x.rc;
	if (rc == MUGAI_OK && q != NULL)
		rc = st_index(&x, q, from, to);
	if (rc != MUGAI_OK)
		goto out;
	st_totals(x.s);
	top = top != 0 ? top : ST_TOP_DEFAULT;
	st_top(&x.removed, top, &x.s->removed_types, &x.s->nremoved_types);
	st_top(&x.viruses, top, &x.s->viruses, &x.s->nviruses);
	*out = x.s;
	x.s = NULL;
out:
	if (rc == MUGAI_ERR_NOMEM)
		mugai_qerr_set("statistics: out of memory");
	st_tally_free(&x.removed);
	st_tally_free(&x.viruses);
	sqlite3_finalize(x.sigs);
	sqlite3_close(x.db);
	mugai_stats_free(x.s);
	return rc;
}

void
mugai_stats_free(struct mugai_stats *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nremoved_types; i++)
		free(s->removed_types[i].name);
	for (i = 0; i < s->nviruses; i++)
		free(s->viruses[i].name);
	free(s->removed_types);
	free(s->viruses);
	free(s->rows);
	free(s);
}

static mugai_status
st_csv_row(const struct mugai_stats_row *r, struct mugai_buf *out)
{
	return mugai_buf_printf(out, "%s,%zu,%zu,%zu,%zu,%zu,%zu,%zu\r\n",
	    r->period, r->messages, r->sanitised, r->converted, r->held,
	    r->rejected, r->virus, r->conversion_failures);
}

static mugai_status
st_csv_counts(const char *head, const struct mugai_stats_count *v, size_t n,
    struct mugai_buf *out)
{
	mugai_status rc;
	size_t i;

	rc = mugai_buf_printf(out, "\r\n%s,count\r\n", head);
	for (i = 0; i < n && rc == MUGAI_OK; i++) {
		rc = mugai_csv_cell(out, v[i].name);
		if (rc == MUGAI_OK)
			rc = mugai_buf_printf(out, ",%zu\r\n", v[i].n);
	}
	return rc;
}

mugai_status
mugai_stats_csv(const struct mugai_stats *s, struct mugai_buf *out)
{
	mugai_status rc;
	size_t i;

	rc = mugai_buf_puts(out, "period,messages,sanitised,converted,held,"
	    "rejected,virus,conversion_failures\r\n");
	for (i = 0; i < s->nrows && rc == MUGAI_OK; i++)
		rc = st_csv_row(&s->rows[i], out);
	if (rc == MUGAI_OK)
		rc = st_csv_row(&s->total, out);
	if (rc == MUGAI_OK)
		rc = st_csv_counts("removed_type", s->removed_types,
		    s->nremoved_types, out);
	if (rc == MUGAI_OK)
		rc = st_csv_counts("virus", s->viruses, s->nviruses, out);
	return rc;
}
