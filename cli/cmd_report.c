/*
 * cmd_report.c - "mugai stats" and "mugai audit": the monthly figures
 * and the audit log, for people (a table) or spreadsheets (--csv).
 * Both are thin: the library (mugai/quarantine/stats.h, auditlog.h)
 * does the counting and the reading, so mugai-web shows the same.
 *
 *   mugai stats [--from DATE] [--to DATE] [--monthly] [--top N] [--csv]
 *   mugai audit [--from DATE] [--to DATE] [--user U] [--action A]
 *               [--id ID] [--limit N] [--csv | --json]
 *
 * DATE is local time, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]"; --to is
 * inclusive of a whole day given without a time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "mugai/base/buf.h"
#include "mugai/quarantine/auditlog.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/stats.h"
#include "cmd.h"

struct ropt {
	const char *name;
	const char **val;
	int	*flag;
};

static void
r_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
r_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mugai %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
r_args(const char *cmd, int argc, char **argv, const struct ropt *opts)
{
	const struct ropt *o;
	int i;

	for (i = 1; i < argc; i++) {
		for (o = opts; o->name != NULL; o++)
			if (strcmp(o->name, argv[i]) == 0)
				break;
		if (o->name == NULL) {
			r_err(cmd, "unknown argument \"%s\"; see 'mugai help'",
			    argv[i]);
			return EX_USAGE;
		}
		if (o->val == NULL) {
			*o->flag = 1;
			continue;
		}
		if (i + 1 >= argc) {
			r_err(cmd, "%s needs a value", o->name);
			return EX_USAGE;
		}
		*o->val = argv[++i];
	}
	return 0;
}

/* Local DATE; end: a bare day means up to the end of that day. */
static int
r_date(const char *cmd, const char *s, int end, time_t *out)
{
	static const char *const fmts[] = {
		"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
		"%Y-%m-%dT%H:%M", "%Y-%m-%d", NULL
	};
	struct tm tm;
	const char *e;
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; fmts[i] != NULL; i++) {
		memset(&tm, 0, sizeof(tm));
		if ((e = strptime(s, fmts[i], &tm)) == NULL || *e != '\0')
			continue;
		if (end && fmts[i + 1] == NULL)
			tm.tm_mday++;
		tm.tm_isdst = -1;
		if ((*out = mktime(&tm)) != (time_t)-1)
			return 0;
	}
	r_err(cmd, "bad date \"%s\"; write YYYY-MM-DD or \"YYYY-MM-DD HH:MM\"",
	    s);
	return EX_USAGE;
}

static int
r_status(const char *cmd, mugai_status rc)
{
	fprintf(stderr, "mugai %s: %s\n", cmd, mugai_quarantine_error());
	switch (rc) {
	case MUGAI_ERR_NOTFOUND:	return EX_NOINPUT;
	case MUGAI_ERR_IO:		return EX_IOERR;
	case MUGAI_ERR_LIMIT:		return EX_TEMPFAIL;
	case MUGAI_ERR_CONFIG:		return EX_CONFIG;
	default:			return EX_SOFTWARE;
	}
}

static int
r_write(const char *cmd, const struct mugai_buf *b)
{
	if ((b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len) ||
	    fflush(stdout) == EOF) {
		r_err(cmd, "stdout: %s", strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

/* Text from mail senders, printed without control characters. */
static void
r_text(const char *s, int width)
{
	int n = 0;

	for (; *s != '\0' && (width < 0 || n < width); s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	while (n++ < width)
		putchar(' ');
}

/* ---- stats --------------------------------------------------------------- */

static void
stats_table(const struct mugai_stats *s)
{
	const struct mugai_stats_row *r;
	size_t i;

	printf("%-10s %9s %9s %9s %9s %9s %9s %9s\n", "PERIOD", "MESSAGES",
	    "SANITISED", "CONVERTED", "HELD", "REJECTED", "VIRUS",
	    "CONV-FAIL");
	for (i = 0; i <= s->nrows; i++) {
		r = i < s->nrows ? &s->rows[i] : &s->total;
		printf("%-10s %9zu %9zu %9zu %9zu %9zu %9zu %9zu\n", r->period,
		    r->messages, r->sanitised, r->converted, r->held,
		    r->rejected, r->virus, r->conversion_failures);
	}
	puts("\nRemoved types:");
	for (i = 0; i < s->nremoved_types; i++) {
		printf("  %6zu  ", s->removed_types[i].n);
		r_text(s->removed_types[i].name, -1);
		putchar('\n');
	}
	puts("\nViruses:");
	for (i = 0; i < s->nviruses; i++) {
		printf("  %6zu  ", s->viruses[i].n);
		r_text(s->viruses[i].name, -1);
		putchar('\n');
	}
	if (s->skipped > 0)
		printf("\n(%zu unreadable audit line%s skipped)\n", s->skipped,
		    s->skipped == 1 ? "" : "s");
}

int
cmd_stats(int argc, char **argv, struct mugai_config *cfg)
{
	const char *from = NULL, *to = NULL, *top = NULL;
	struct mugai_quarantine *q = NULL;
	struct mugai_stats *s = NULL;
	struct mugai_buf b;
	time_t since = 0, before = 0;
	char err[1024], *end;
	unsigned long ntop = 0;
	mugai_status rc;
	int csv = 0, monthly = 0, ex;
	const struct ropt opts[] = {
		{ "--from", &from, NULL }, { "--to", &to, NULL },
		{ "--top", &top, NULL }, { "--monthly", NULL, &monthly },
		{ "--csv", NULL, &csv }, { NULL, NULL, NULL }
	};

	if ((ex = r_args("stats", argc, argv, opts)) != 0 ||
	    (ex = r_date("stats", from, 0, &since)) != 0 ||
	    (ex = r_date("stats", to, 1, &before)) != 0)
		return ex;
	if (top != NULL) {
		errno = 0;
		ntop = strtoul(top, &end, 10);
		if (*top < '1' || *top > '9' || *end != '\0' || errno != 0 ||
		    ntop > 1000) {
			r_err("stats", "bad --top \"%s\"", top);
			return EX_USAGE;
		}
	}
	/* Without an index (none yet): the audit log's figures alone. */
	if (mugai_quarantine_open(cfg, &q, err, sizeof(err)) != MUGAI_OK) {
		fprintf(stderr, "mugai stats: %s; removed types and conversion"
		    " failures are not counted\n", err);
		q = NULL;
	}
	rc = mugai_stats_compute(cfg, q, since, before, monthly, ntop, &s);
	mugai_quarantine_close(q);
	if (rc != MUGAI_OK)
		return r_status("stats", rc);
	if (!csv) {
		stats_table(s);
		mugai_stats_free(s);
		return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
	}
	mugai_buf_init(&b, 0);
	rc = mugai_stats_csv(s, &b);
	ex = rc == MUGAI_OK ? r_write("stats", &b) : EX_SOFTWARE;
	mugai_buf_free(&b);
	mugai_stats_free(s);
	return ex;
}

/* ---- audit ----------------------------------------------------------------- */

struct aout {
	int	 csv, json;
	size_t	 n;
	mugai_status rc;
};

static int
audit_row(const struct mugai_aentry *e, void *arg)
{
	struct aout *o = arg;
	struct mugai_buf b;

	if (o->json) {
		printf("%s%s", o->n++ > 0 ? ",\n" : "\n", e->json);
		return 0;
	}
	if (o->csv) {
		mugai_buf_init(&b, 0);
		o->rc = mugai_audit_csv_row(e, &b);
		if (o->rc == MUGAI_OK)
			fwrite(b.data, 1, b.len, stdout);
		mugai_buf_free(&b);
		return o->rc != MUGAI_OK;
	}
	if (o->n++ == 0)
		printf("%-20s  %-16s  %-14s  %-28s  %s\n", "TIME (UTC)", "USER",
		    "ACTION", "ID", "REASON");
	r_text(e->time_text, 20);
	fputs("  ", stdout);
	r_text(e->actor, 16);
	fputs("  ", stdout);
	r_text(e->action, 14);
	fputs("  ", stdout);
	r_text(e->id, 28);
	fputs("  ", stdout);
	r_text(e->reason, -1);
	putchar('\n');
	return 0;
}

int
cmd_audit(int argc, char **argv, struct mugai_config *cfg)
{
	const char *from = NULL, *to = NULL, *limit = NULL;
	struct mugai_afilter f;
	struct mugai_buf b;
	struct aout o;
	mugai_status rc;
	char *end;
	size_t skipped = 0;
	int ex;
	const struct ropt opts[] = {
		{ "--from", &from, NULL }, { "--to", &to, NULL },
		{ "--user", &f.actor, NULL }, { "--action", &f.action, NULL },
		{ "--id", &f.id, NULL }, { "--limit", &limit, NULL },
		{ "--csv", NULL, &o.csv }, { "--json", NULL, &o.json },
		{ NULL, NULL, NULL }
	};

	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	if ((ex = r_args("audit", argc, argv, opts)) != 0 ||
	    (ex = r_date("audit", from, 0, &f.since)) != 0 ||
	    (ex = r_date("audit", to, 1, &f.before)) != 0)
		return ex;
	if (limit != NULL) {
		errno = 0;
		f.limit = strtoul(limit, &end, 10);
		if (*limit < '0' || *limit > '9' || *end != '\0' || errno) {
			r_err("audit", "bad --limit \"%s\"", limit);
			return EX_USAGE;
		}
	}
	if (o.csv && o.json) {
		r_err("audit", "%s", "give --csv or --json, not both");
		return EX_USAGE;
	}
	if (o.csv) {
		mugai_buf_init(&b, 0);
		if (mugai_audit_csv_header(&b) == MUGAI_OK)
			fwrite(b.data, 1, b.len, stdout);
		mugai_buf_free(&b);
	}
	if (o.json)
		fputs("[", stdout);
	rc = mugai_audit_query(cfg, NULL, &f, audit_row, &o, &skipped);
	if (rc == MUGAI_OK)
		rc = o.rc;
	if (o.json)
		fputs(o.n > 0 ? "\n]\n" : "]\n", stdout);
	if (rc != MUGAI_OK)
		return r_status("audit", rc);
	if (skipped > 0)
		fprintf(stderr, "mugai audit: %zu unreadable line%s skipped\n",
		    skipped, skipped == 1 ? "" : "s");
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}
