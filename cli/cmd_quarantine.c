/*
 * cmd_quarantine.c - "mugai quarantine": list, show, export, release,
 * delete, purge and verify the stored originals, rebuild the index,
 * migrate a PostgreSQL schema and copy an SQLite store into it.
 *
 * Exit statuses are sysexits(3), plus Q_EXIT_CONFLICT (3) when another
 * command changed the message first (a release and a delete of one
 * message racing: the one that loses changes nothing and exits 3), and
 * 1 from verify when it found problems.
 *
 * Everything shown comes from mail senders, so text printed for people
 * is made harmless first: invalid UTF-8 becomes U+FFFD, control and
 * bidirectional-override characters become '?', and columns are cut by
 * display width (CJK characters take two columns).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mugai/base/buf.h"
#include "mugai/base/json.h"
#include "mugai/quarantine/quarantine.h"
#include "mugai/quarantine/request.h"
#include "cmd.h"

#define Q_GRACE_EXTRA	60	/* seconds beyond the busy timeout */
#define Q_EXIT_CONFLICT	3	/* another command changed it first */

struct qctx {
	struct mugai_config *cfg;
	struct mugai_quarantine *q;
	const char *sub;
	char	 actor[64];
};

/* One option of a subcommand; val NULL makes it a flag. */
struct qopt {
	const char *name;
	const char **val;
	int	*flag;
};

struct qcmd {
	const char *name;
	int	(*run)(struct qctx *, int, char **);
	const char *usage;
};

static void
q_err(const struct qctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
q_err(const struct qctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mugai quarantine%s%s: ", c->sub ? " " : "",
	    c->sub ? c->sub : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
q_exit(mugai_status rc)
{
	switch (rc) {
	case MUGAI_OK:			return EX_OK;
	case MUGAI_ERR_USAGE:		return EX_USAGE;
	case MUGAI_ERR_NOTFOUND:	return EX_NOINPUT;
	case MUGAI_ERR_LIMIT:		return EX_TEMPFAIL;
	case MUGAI_ERR_IO:		return EX_IOERR;
	case MUGAI_ERR_CONFIG:		return EX_CONFIG;
	case MUGAI_ERR_PARSE:		return EX_DATAERR;
	case MUGAI_ERR_STATE:		return Q_EXIT_CONFLICT;
	default:			return EX_SOFTWARE;
	}
}

/* The library's message for rc, and the exit status that goes with it. */
static int
q_fail(const struct qctx *c, mugai_status rc)
{
	q_err(c, "%s", mugai_quarantine_error());
	return q_exit(rc);
}

/*
 * Options: "--name VALUE", "--name=VALUE", flags, "--" ends them.  The
 * rest go to pos[0..maxpos).  Returns 0 or EX_USAGE after a message.
 */
static int
q_args(const struct qctx *c, int argc, char **argv, const struct qopt *opts,
    const char **pos, int maxpos, int *npos)
{
	const struct qopt *o;
	const char *eq;
	size_t n;
	int i, only_pos = 0;

	*npos = 0;
	for (i = 1; i < argc; i++) {
		if (only_pos || argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
			if (*npos == maxpos) {
				q_err(c, "unexpected argument \"%s\"", argv[i]);
				return EX_USAGE;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			only_pos = 1;
			continue;
		}
		eq = strchr(argv[i], '=');
		n = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		for (o = opts; o->name != NULL; o++)
			if (strlen(o->name) == n &&
			    strncmp(o->name, argv[i], n) == 0)
				break;
		if (o->name == NULL || (o->val == NULL && eq != NULL)) {
			q_err(c, "unknown option \"%s\"", argv[i]);
			return EX_USAGE;
		}
		if (o->val == NULL) {
			*o->flag = 1;
			continue;
		}
		if (eq != NULL)
			*o->val = eq + 1;
		else if (i + 1 < argc)
			*o->val = argv[++i];
		else {
			q_err(c, "%s needs a value", o->name);
			return EX_USAGE;
		}
	}
	return 0;
}

static int
q_open(struct qctx *c)
{
	char err[1024];
	mugai_status rc;

	rc = mugai_quarantine_open(c->cfg, &c->q, err, sizeof(err));
	if (rc == MUGAI_OK)
		return 0;
	q_err(c, "%s", err);
	if (rc == MUGAI_ERR_IO && (errno == EACCES || errno == EPERM))
		return EX_NOPERM;
	return q_exit(rc);
}

/* ---- text for people ---------------------------------------------------- */

static int
q_unsafe(gunichar ch)
{
	return ch < 0x20 || (ch >= 0x7F && ch < 0xA0) ||
	    (ch >= 0x202A && ch <= 0x202E) || (ch >= 0x2066 && ch <= 0x2069) ||
	    ch == 0x200E || ch == 0x200F || ch == 0x061C;
}

static int
q_width(gunichar ch)
{
	if (g_unichar_iszerowidth(ch))
		return 0;
	return g_unichar_iswide(ch) ? 2 : 1;
}

/* Decode one character at *p, made harmless; advances *p. */
static gunichar
q_char(const char **p)
{
	gunichar ch = g_utf8_get_char_validated(*p, -1);

	if (ch == (gunichar)-1 || ch == (gunichar)-2) {
		(*p)++;
		return 0xFFFD;
	}
	*p = g_utf8_next_char(*p);
	return q_unsafe(ch) ? '?' : ch;
}

static int
q_text_width(const char *s)
{
	int w = 0;

	while (*s != '\0')
		w += q_width(q_char(&s));
	return w;
}

/*
 * Print s made harmless, in at most width columns (width < 0: no limit;
 * a cut is marked ".."), padded with spaces to width when pad is set.
 */
static void
q_text(FILE *fp, const char *s, int width, int pad)
{
	const char *p = s != NULL ? s : "";
	char utf8[8];
	gunichar ch;
	int used = 0, w, limit, cut;

	cut = width >= 0 && q_text_width(p) > width;
	limit = cut ? width - 2 : width;
	while (*p != '\0') {
		ch = q_char(&p);
		w = q_width(ch);
		if (limit >= 0 && used + w > limit)
			break;
		fwrite(utf8, 1, (size_t)g_unichar_to_utf8(ch, utf8), fp);
		used += w;
	}
	if (cut && width >= 2) {
		fputs("..", fp);
		used += 2;
	}
	while (pad && width >= 0 && used < width) {
		fputc(' ', fp);
		used++;
	}
}

static void
q_localtime(time_t t, char *buf, size_t len, int seconds)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, seconds ? "%Y-%m-%d %H:%M:%S %z" :
	    "%Y-%m-%d %H:%M", &tm);
}

static void
q_iso8601(time_t t, char *buf, size_t len)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/*
 * DATE: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or with 'T'), local
 * time; or "N" + d/h/m for that long ago.
 */
static int
q_parse_date(const char *s, time_t *out)
{
	static const char *const fmts[] = {
		"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
		"%Y-%m-%dT%H:%M", "%Y-%m-%d", NULL
	};
	struct tm tm;
	const char *end;
	char *e;
	unsigned long n;
	size_t i;

	if (*s >= '0' && *s <= '9' && strchr(s, '-') == NULL) {
		errno = 0;
		n = strtoul(s, &e, 10);
		if (errno != 0 || n > 36500UL * 24 || e[0] == '\0' || e[1] != '\0')
			return -1;
		if (*e == 'd')
			n *= 86400;
		else if (*e == 'h')
			n *= 3600;
		else if (*e == 'm')
			n *= 60;
		else
			return -1;
		*out = time(NULL) - (time_t)n;
		return 0;
	}
	for (i = 0; fmts[i] != NULL; i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *end == '\0') {
			tm.tm_isdst = -1;
			*out = mktime(&tm);
			return *out == (time_t)-1 ? -1 : 0;
		}
	}
	return -1;
}

static int
q_status_valid(const char *s)
{
	return strcmp(s, "held") == 0 || strcmp(s, "releasing") == 0 ||
	    strcmp(s, "released") == 0 || strcmp(s, "deleted") == 0;
}

/* ---- list ---------------------------------------------------------------- */

struct qlist {
	int	 json;
	size_t	 n;
	int	 subject_width;
	mugai_status rc;
};

/* ,"key":"value" for each NULL-ended key, value pair. */
static mugai_status
q_json_pairs(struct mugai_buf *b, const char *const *kv)
{
	mugai_status rc = MUGAI_OK;

	for (; kv[0] != NULL && rc == MUGAI_OK; kv += 2)
		if ((rc = mugai_buf_putc(b, ',')) == MUGAI_OK)
			rc = mugai_json_kv(b, kv[0], kv[1]);
	return rc;
}

static mugai_status
q_json_record(struct mugai_buf *b, const struct mugai_qrecord *r)
{
	char when[40];
	mugai_status rc;
	size_t i;

	q_iso8601(r->received, when, sizeof(when));
	rc = mugai_buf_puts(b, "{");
	if (rc == MUGAI_OK) rc = mugai_json_kv(b, "id", r->id);
	if (rc == MUGAI_OK) rc = q_json_pairs(b, (const char *const[]){
	    "received", when, NULL });
	if (rc == MUGAI_OK) rc = mugai_buf_printf(b, ",\"received_unix\":%lld",
	    (long long)r->received);
	if (rc == MUGAI_OK) rc = q_json_pairs(b, (const char *const[]){
	    "status", r->status, "verdict", r->verdict,
	    "queue_id", r->queue_id, "client_addr", r->client_addr,
	    "sender", r->sender, NULL });
	if (rc == MUGAI_OK) rc = mugai_buf_puts(b, ",\"recipients\":[");
	for (i = 0; i < r->nrecipients && rc == MUGAI_OK; i++) {
		if (i > 0)
			rc = mugai_buf_putc(b, ',');
		if (rc == MUGAI_OK)
			rc = mugai_json_str(b, r->recipients[i]);
	}
	if (rc == MUGAI_OK) rc = mugai_buf_puts(b, "]");
	if (rc == MUGAI_OK) rc = q_json_pairs(b, (const char *const[]){
	    "subject", r->subject, NULL });
	if (rc == MUGAI_OK) rc = mugai_buf_printf(b, ",\"size\":%zu", r->size);
	if (rc == MUGAI_OK) rc = q_json_pairs(b, (const char *const[]){
	    "sha256", r->sha256, "reasons", r->reasons, "path", r->path,
	    NULL });
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, '}');
	return rc;
}

static int
q_list_row(const struct mugai_qrecord *r, void *arg)
{
	struct qlist *l = arg;
	struct mugai_buf b;
	char when[32];

	if (l->json) {
		mugai_buf_init(&b, 16 * 1024 * 1024);
		l->rc = q_json_record(&b, r);
		if (l->rc == MUGAI_OK)
			printf("%s%s", l->n > 0 ? ",\n" : "\n", b.data);
		mugai_buf_free(&b);
		l->n++;
		return l->rc != MUGAI_OK;
	}
	if (l->n++ == 0)
		printf("%-28s  %-16s  %-8s  %-9s  %-28s  %s\n", "ID", "RECEIVED",
		    "STATUS", "VERDICT", "SENDER", "SUBJECT");
	q_localtime(r->received, when, sizeof(when), 0);
	q_text(stdout, r->id, -1, 0);
	printf("%*s  %-16s  %-8s  ", strlen(r->id) < 28 ?
	    (int)(28 - strlen(r->id)) : 0, "", when, r->status);
	q_text(stdout, r->verdict, 9, 1);
	fputs("  ", stdout);
	q_text(stdout, r->sender[0] != '\0' ? r->sender : "<>", 28, 1);
	fputs("  ", stdout);
	q_text(stdout, r->subject, l->subject_width, 0);
	fputc('\n', stdout);
	return 0;
}

/* Columns left for the subject on a terminal; 50 when not one. */
static int
q_subject_width(void)
{
	struct winsize ws;
	int w;

	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) ==
	    -1 || ws.ws_col == 0)
		return 50;
	w = (int)ws.ws_col - (28 + 2 + 16 + 2 + 8 + 2 + 9 + 2 + 28 + 2);
	return w < 20 ? 20 : w;
}

static int
q_list(struct qctx *c, int argc, char **argv)
{
	const char *since = NULL, *status = NULL, *sender = NULL;
	const char *rcpt = NULL, *limit = NULL, *pos[1];
	struct mugai_qfilter f;
	struct qlist l;
	mugai_status rc;
	char *end;
	int json = 0, npos, ex;
	const struct qopt opts[] = {
		{ "--since", &since, NULL }, { "--status", &status, NULL },
		{ "--sender", &sender, NULL }, { "--recipient", &rcpt, NULL },
		{ "--limit", &limit, NULL }, { "--json", NULL, &json },
		{ NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	memset(&f, 0, sizeof(f));
	if (since != NULL && q_parse_date(since, &f.since) == -1) {
		q_err(c, "bad --since \"%s\"; write YYYY-MM-DD, \"YYYY-MM-DD"
		    " HH:MM\" or a span like 7d, 12h", since);
		return EX_USAGE;
	}
	if (status != NULL && !q_status_valid(status)) {
		q_err(c, "bad --status \"%s\"; use held, releasing, released"
		    " or deleted", status);
		return EX_USAGE;
	}
	if (limit != NULL) {
		f.limit = strtoul(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || *limit == '-') {
			q_err(c, "bad --limit \"%s\"", limit);
			return EX_USAGE;
		}
	}
	f.status = status;
	f.sender = sender;
	f.recipient = rcpt;
	if ((ex = q_open(c)) != 0)
		return ex;
	memset(&l, 0, sizeof(l));
	l.json = json;
	l.subject_width = q_subject_width();
	if (json)
		fputs("[", stdout);
	rc = mugai_quarantine_list(c->q, &f, q_list_row, &l);
	if (rc == MUGAI_OK)
		rc = l.rc;
	if (json)
		fputs(l.n > 0 ? "\n]\n" : "]\n", stdout);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		q_err(c, "stdout: %s", strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

/* ---- show ---------------------------------------------------------------- */

static int
q_get(struct qctx *c, const char *id, struct mugai_qrecord **r)
{
	mugai_status rc;

	rc = mugai_quarantine_get(c->q, id, r);
	if (rc == MUGAI_ERR_NOTFOUND) {
		q_err(c, "no message with id %s; see 'mugai quarantine list'",
		    id);
		return EX_NOINPUT;
	}
	return rc == MUGAI_OK ? 0 : q_fail(c, rc);
}

static void
q_field(const char *name, const char *value)
{
	printf("%-12s ", name);
	q_text(stdout, value, -1, 0);
	fputc('\n', stdout);
}

static void
q_indent(const char *path)
{
	const char *p;

	fputs("  ", stdout);
	for (p = path; p != NULL && *p != '\0'; p++)
		if (*p == '.')
			fputs("  ", stdout);
}

static int
q_show_part(const struct mugai_qpart *p, void *arg)
{
	int *n = arg;

	(*n)++;
	q_indent(p->path);
	/* The number --parts takes (release, approve). */
	printf("[%d] ", *n);
	q_text(stdout, p->path != NULL ? p->path : "?", -1, 0);
	fputs("  ", stdout);
	q_text(stdout, p->declared_type != NULL ? p->declared_type : "?", -1,
	    0);
	if (p->detected_type != NULL && (p->declared_type == NULL ||
	    strcmp(p->detected_type, p->declared_type) != 0)) {
		fputs(" (detected ", stdout);
		q_text(stdout, p->detected_type, -1, 0);
		fputc(')', stdout);
	}
	if (p->name != NULL && p->name[0] != '\0') {
		fputs(" \"", stdout);
		q_text(stdout, p->name, -1, 0);
		fputc('"', stdout);
	}
	if (p->size >= 0)
		printf(" %lld bytes", p->size);
	if (p->action != NULL) {
		fputs(": ", stdout);
		q_text(stdout, p->action, -1, 0);
	}
	if (p->reason != NULL && p->reason[0] != '\0') {
		fputs(" (", stdout);
		q_text(stdout, p->reason, -1, 0);
		fputc(')', stdout);
	}
	fputc('\n', stdout);
	return 0;
}

/* No usable report: show the structure of the original itself. */
static void
q_show_tree(GMimeObject *o, const char *path, int depth)
{
	char child[256], *type;
	GMimeMessage *inner;
	const char *name;
	int i, n;

	if (o == NULL || depth > 50)
		return;
	type = g_mime_content_type_get_mime_type(
	    g_mime_object_get_content_type(o));
	q_indent(path);
	printf("%s  ", path);
	q_text(stdout, type, -1, 0);
	g_free(type);
	name = GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) :
	    NULL;
	if (name != NULL) {
		fputs(" \"", stdout);
		q_text(stdout, name, -1, 0);
		fputc('"', stdout);
	}
	fputc('\n', stdout);
	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (i = 0; i < n; i++) {
			snprintf(child, sizeof(child), "%s.%d", path, i + 1);
			q_show_tree(g_mime_multipart_get_part(GMIME_MULTIPART(o),
			    i), child, depth + 1);
		}
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		snprintf(child, sizeof(child), "%s.1", path);
		if (inner != NULL)
			q_show_tree(g_mime_message_get_mime_part(inner), child,
			    depth + 1);
	}
}

static void
q_show_original(struct qctx *c, const struct mugai_qrecord *r)
{
	struct mugai_buf raw;
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *m;

	mugai_buf_init(&raw, r->size + 1);
	if (mugai_quarantine_read(c->q, r, &raw) != MUGAI_OK) {
		printf("  (no report, and the original cannot be read: %s)\n",
		    mugai_quarantine_error());
		mugai_buf_free(&raw);
		return;
	}
	st = g_mime_stream_mem_new_with_buffer(raw.data, raw.len);
	p = g_mime_parser_new_with_stream(st);
	if ((m = g_mime_parser_construct_message(p, NULL)) != NULL) {
		puts("  (no report; the structure of the original:)");
		q_show_tree(g_mime_message_get_mime_part(m), "1", 0);
		g_object_unref(m);
	}
	g_object_unref(p);
	g_object_unref(st);
	mugai_buf_free(&raw);
}

static int
q_show_action(const struct mugai_qaction *a, void *arg)
{
	char when[40];
	int *n = arg;

	(*n)++;
	q_localtime(a->time, when, sizeof(when), 1);
	printf("  %s  ", when);
	q_text(stdout, a->actor, -1, 0);
	fputs("  ", stdout);
	q_text(stdout, a->action, -1, 0);
	if (a->detail != NULL && a->detail[0] != '\0') {
		fputs("  ", stdout);
		q_text(stdout, a->detail, -1, 0);
	}
	if (a->reason != NULL && a->reason[0] != '\0') {
		fputs("  reason: ", stdout);
		q_text(stdout, a->reason, -1, 0);
	}
	fputc('\n', stdout);
	return 0;
}

/* The notice, each line indented. */
static void
q_show_notice(const char *notice)
{
	const char *p = notice, *nl;
	char *line;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		line = g_strndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		fputs("  ", stdout);
		q_text(stdout, line, -1, 0);
		fputc('\n', stdout);
		g_free(line);
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
}

static void
q_show_fields(const struct mugai_qrecord *r)
{
	char when[40], size[32];
	size_t i;

	q_localtime(r->received, when, sizeof(when), 1);
	snprintf(size, sizeof(size), "%zu bytes", r->size);
	q_field("Id:", r->id);
	q_field("Received:", when);
	q_field("Status:", r->status);
	q_field("Verdict:", r->verdict);
	q_field("Reasons:", r->reasons);
	q_field("Queue id:", r->queue_id);
	q_field("Client:", r->client_addr);
	q_field("Sender:", r->sender[0] != '\0' ? r->sender : "<>");
	printf("%-12s ", "Recipients:");
	for (i = 0; i < r->nrecipients; i++) {
		if (i > 0)
			fputs(", ", stdout);
		q_text(stdout, r->recipients[i], -1, 0);
	}
	fputc('\n', stdout);
	q_field("Subject:", r->subject);
	q_field("Size:", size);
	q_field("SHA-256:", r->sha256);
	q_field("File:", r->path);
}

static int
q_show(struct qctx *c, int argc, char **argv)
{
	const struct qopt opts[] = { { NULL, NULL, NULL } };
	struct mugai_qrecord *r = NULL;
	const char *pos[1];
	mugai_status rc;
	int npos, ex, n = 0;

	if ((ex = q_args(c, argc, argv, opts, pos, 1, &npos)) != 0)
		return ex;
	if (npos != 1) {
		q_err(c, "usage: mugai quarantine show ID");
		return EX_USAGE;
	}
	if ((ex = q_open(c)) != 0 || (ex = q_get(c, pos[0], &r)) != 0)
		return ex;
	q_show_fields(r);
	puts("\nParts:");
	rc = mugai_quarantine_report_parts(c->q, r->report_json, q_show_part,
	    &n);
	if (rc == MUGAI_OK && n == 0)
		q_show_original(c, r);
	puts("\nNotice:");
	if (r->notice[0] != '\0')
		q_show_notice(r->notice);
	else
		puts("  (none)");
	puts("\nHistory:");
	n = 0;
	if (rc == MUGAI_OK)
		rc = mugai_quarantine_history(c->q, r->id, q_show_action, &n);
	if (rc == MUGAI_OK && n == 0)
		puts("  (no actions)");
	mugai_qrecord_free(r);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}

/* ---- export -------------------------------------------------------------- */

static int
q_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
q_output(struct qctx *c, const char *file, const char *data, size_t len)
{
	int fd;

	if (file == NULL || strcmp(file, "-") == 0) {
		/* Raw mail can carry terminal escape sequences. */
		if (file == NULL && isatty(STDOUT_FILENO)) {
			q_err(c, "not writing an original to a terminal; use"
			    " -o FILE, -o - or a pipe");
			return EX_USAGE;
		}
		if (q_write_all(STDOUT_FILENO, data, len) == -1) {
			q_err(c, "stdout: %s", strerror(errno));
			return EX_IOERR;
		}
		return EX_OK;
	}
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		q_err(c, "%s: %s", file, strerror(errno));
		return EX_CANTCREAT;
	}
	if (q_write_all(fd, data, len) == -1 || close(fd) == -1) {
		q_err(c, "%s: %s", file, strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

static int
q_export(struct qctx *c, int argc, char **argv)
{
	const char *part = NULL, *file = NULL, *pos[1];
	struct mugai_qrecord *r = NULL;
	struct mugai_buf raw, dec;
	char *name = NULL, *type = NULL;
	mugai_status rc;
	int npos, ex;
	const struct qopt opts[] = {
		{ "--part", &part, NULL }, { "-o", &file, NULL },
		{ "--output", &file, NULL }, { NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 1, &npos)) != 0)
		return ex;
	if (npos != 1) {
		q_err(c, "usage: mugai quarantine export ID [--part PATH]"
		    " [-o FILE]");
		return EX_USAGE;
	}
	if ((ex = q_open(c)) != 0 || (ex = q_get(c, pos[0], &r)) != 0)
		return ex;
	mugai_buf_init(&raw, r->size + 1);
	mugai_buf_init(&dec, r->size * 2 + 4096);
	rc = mugai_quarantine_read(c->q, r, &raw);
	if (rc == MUGAI_OK && part != NULL)
		rc = mugai_quarantine_part(raw.data, raw.len, part, &dec, &name,
		    &type);
	if (rc != MUGAI_OK)
		ex = q_fail(c, rc);
	else if (part != NULL)
		ex = q_output(c, file, dec.data, dec.len);
	else
		ex = q_output(c, file, raw.data, raw.len);
	free(name);
	free(type);
	mugai_buf_free(&raw);
	mugai_buf_free(&dec);
	mugai_qrecord_free(r);
	return ex;
}

/* ---- release, delete, purge, verify -------------------------------------- */

static int
q_release(struct qctx *c, int argc, char **argv)
{
	const char *to = NULL, *reason = NULL, *part = NULL, *parts = NULL;
	const char *pos[1];
	struct mugai_qrecord *r = NULL;
	struct mugai_qrelease req;
	mugai_status rc;
	int force = 0, npos, ex;
	const struct qopt opts[] = {
		{ "--to", &to, NULL }, { "--reason", &reason, NULL },
		{ "--part", &part, NULL }, { "--parts", &parts, NULL },
		{ "--force", NULL, &force }, { NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 1, &npos)) != 0)
		return ex;
	if (npos != 1 || to == NULL || reason == NULL || reason[0] == '\0') {
		q_err(c, "usage: mugai quarantine release ID --to ADDR --reason"
		    " TEXT [--part PATH | --parts N,...] [--force]");
		return EX_USAGE;
	}
	if ((ex = q_open(c)) != 0 || (ex = q_get(c, pos[0], &r)) != 0)
		return ex;
	if (mugai_quarantine_dangerous(r) && !force) {
		q_err(c, "%s was %s (%s); releasing it needs --force", r->id,
		    r->verdict, r->reasons[0] != '\0' ? r->reasons :
		    "no reason recorded");
		mugai_qrecord_free(r);
		return MUGAI_EXIT_REJECT;
	}
	mugai_qrecord_free(r);
	memset(&req, 0, sizeof(req));
	req.id = pos[0];
	req.to = to;
	req.part = part;
	req.parts = parts;
	req.reason = reason;
	req.actor = c->actor;
	req.force = force;
	if ((rc = mugai_quarantine_release(c->q, &req)) != MUGAI_OK)
		return q_fail(c, rc);
	printf("released %s%s%s%s%s to %s\n", pos[0],
	    part != NULL ? " part " : "", part != NULL ? part : "",
	    parts != NULL ? " parts " : "", parts != NULL ? parts : "", to);
	return EX_OK;
}

static int
q_delete(struct qctx *c, int argc, char **argv)
{
	const char *reason = NULL, *pos[1];
	struct mugai_qrecord *r = NULL;
	mugai_status rc;
	int npos, ex;
	const struct qopt opts[] = {
		{ "--reason", &reason, NULL }, { NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 1, &npos)) != 0)
		return ex;
	if (npos != 1) {
		q_err(c, "usage: mugai quarantine delete ID [--reason TEXT]");
		return EX_USAGE;
	}
	if ((ex = q_open(c)) != 0 || (ex = q_get(c, pos[0], &r)) != 0)
		return ex;
	mugai_qrecord_free(r);
	rc = mugai_quarantine_delete(c->q, pos[0], c->actor,
	    reason != NULL ? reason : "");
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	printf("deleted %s\n", pos[0]);
	return EX_OK;
}

static unsigned
q_grace(const struct qctx *c)
{
	return c->cfg->quarantine_busy_timeout + Q_GRACE_EXTRA;
}

static int
q_purge(struct qctx *c, int argc, char **argv)
{
	const char *older = NULL, *pos[1];
	unsigned long days;
	mugai_status rc;
	char *end, when[40];
	time_t before;
	size_t n = 0;
	int npos, ex;
	const struct qopt opts[] = {
		{ "--older-than", &older, NULL }, { NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	days = c->cfg->quarantine_retention_days;
	if (older != NULL) {
		errno = 0;
		days = strtoul(older, &end, 10);
		if (*older == '\0' || *older == '-' || (*end != '\0' &&
		    strcmp(end, "d") != 0) || errno != 0 || days > 36500) {
			q_err(c, "bad --older-than \"%s\"; give a number of days",
			    older);
			return EX_USAGE;
		}
	}
	before = time(NULL) - (time_t)days * 86400;
	if ((ex = q_open(c)) != 0)
		return ex;
	rc = mugai_quarantine_purge(c->q, before, q_grace(c), c->actor, &n);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	q_localtime(before, when, sizeof(when), 0);
	printf("purged %zu original%s received before %s\n", n,
	    n == 1 ? "" : "s", when);
	return EX_OK;
}

static void
q_verify_report(const struct mugai_qproblem *p, void *arg)
{
	int *index_damaged = arg;

	if (p->kind == MUGAI_QPROB_INDEX)
		*index_damaged = 1;
	printf("%-9s %s", mugai_qproblem_str(p->kind), p->path);
	if (p->id != NULL) {
		fputs("  id ", stdout);
		q_text(stdout, p->id, -1, 0);
	}
	if (p->detail != NULL)
		printf(": %s", p->detail);
	fputc('\n', stdout);
}

static int
q_verify(struct qctx *c, int argc, char **argv)
{
	const struct qopt opts[] = { { NULL, NULL, NULL } };
	const char *pos[1];
	mugai_status rc;
	size_t n = 0;
	int npos, ex, index_damaged = 0;

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	if ((ex = q_open(c)) != 0)
		return ex;
	rc = mugai_quarantine_verify(c->q, q_grace(c), q_verify_report,
	    &index_damaged, &n);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	if (n == 0) {
		puts("verify: no problems found");
		return EX_OK;
	}
	printf("verify: %zu problem%s\n", n, n == 1 ? "" : "s");
	if (index_damaged && (strncmp(c->cfg->quarantine_db, "postgres", 8) ==
	    0 || strchr(c->cfg->quarantine_db, '=') != NULL))
		puts("verify: the PostgreSQL quarantine is damaged (see above);"
		    " restore from a backup of the database, or run 'mugai"
		    " quarantine migrate' when it names the schema.");
	else if (index_damaged)
		puts("verify: the index itself is damaged.  To recover: stop"
		    " mugai-milter, run 'mugai quarantine rebuild-index' (it"
		    " rebuilds the index from the stored originals and the"
		    " audit log and keeps the damaged file beside it), run"
		    " 'mugai quarantine verify' again, then start mugai-milter.");
	return 1;
}

static void
q_rebuild_line(const char *line, void *arg)
{
	(void)arg;
	printf("rebuild-index: %s\n", line);
	fflush(stdout);
}

static int
q_rebuild(struct qctx *c, int argc, char **argv)
{
	const struct qopt opts[] = { { NULL, NULL, NULL } };
	const char *pos[1];
	mugai_status rc;
	size_t n = 0;
	int npos, ex;

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	/* No q_open: the old index may be beyond opening. */
	rc = mugai_quarantine_rebuild(c->cfg, q_rebuild_line, NULL, &n);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	return EX_OK;
}

static int
q_migrate(struct qctx *c, int argc, char **argv)
{
	const struct qopt opts[] = { { NULL, NULL, NULL } };
	const char *pos[1];
	char err[1024];
	mugai_status rc;
	int npos, ex, from, to;

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	rc = mugai_quarantine_migrate(c->cfg, &from, &to, err, sizeof(err));
	if (rc != MUGAI_OK) {
		q_err(c, "%s", err);
		return q_exit(rc);
	}
	if (from < 0)
		puts("migrate: the SQLite index is up to date (it is created"
		    " and upgraded when opened)");
	else if (from == to)
		printf("migrate: schema version %d, up to date\n", to);
	else
		printf("migrate: schema version %d -> %d\n", from, to);
	return EX_OK;
}

static void
q_copy_line(const char *line, void *arg)
{
	(void)arg;
	printf("copy: %s\n", line);
	fflush(stdout);
}

static int
q_copy(struct qctx *c, int argc, char **argv)
{
	const char *from = NULL, *dir = NULL, *pos[1];
	mugai_status rc;
	size_t copied = 0, skipped = 0;
	int npos, ex;
	const struct qopt opts[] = {
		{ "--from", &from, NULL }, { "--from-dir", &dir, NULL },
		{ NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	if (from == NULL || *from == '\0') {
		q_err(c, "usage: mugai quarantine copy --from SQLITE_PATH"
		    " [--from-dir DIR]");
		return EX_USAGE;
	}
	if ((ex = q_open(c)) != 0)
		return ex;
	rc = mugai_quarantine_copy(c->q, from, dir, q_copy_line, NULL, &copied,
	    &skipped);
	printf("copy: %zu message%s copied and verified, %zu already there\n",
	    copied, copied == 1 ? "" : "s", skipped);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	return EX_OK;
}

/* ---- release requests ---------------------------------------------------- */

static int
q_request(struct qctx *c, int argc, char **argv)
{
	const char *by = NULL, *reason = NULL, *notify = NULL, *pos[1];
	long long reqid = 0;
	mugai_status rc;
	int npos, ex;
	const struct qopt opts[] = {
		{ "--by", &by, NULL }, { "--reason", &reason, NULL },
		{ "--notify", &notify, NULL }, { NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 1, &npos)) != 0)
		return ex;
	if (npos != 1 || by == NULL || by[0] == '\0' || reason == NULL ||
	    reason[0] == '\0') {
		q_err(c, "usage: mugai quarantine request ID --by USER --reason"
		    " TEXT [--notify ADDR]");
		return EX_USAGE;
	}
	/* A staff login is a mail address; another name needs --notify. */
	if (notify == NULL && strchr(by, '@') != NULL)
		notify = by;
	if (notify == NULL) {
		q_err(c, "%s is not a mail address: give --notify ADDR (who is"
		    " told of the decision)", by);
		return EX_USAGE;
	}
	if ((ex = q_open(c)) != 0)
		return ex;
	rc = mugai_quarantine_request(c->q, pos[0], by, notify, reason, &reqid);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	printf("request %lld: %s asks for the original of %s\n", reqid, by,
	    pos[0]);
	return EX_OK;
}

struct qreqs {
	int	 json;
	size_t	 n;
	mugai_status rc;
};

static mugai_status
q_json_request(struct mugai_buf *b, const struct mugai_qrequest *r)
{
	char when[40], dec[40];
	mugai_status rc;

	q_iso8601(r->requested, when, sizeof(when));
	if (r->decided != 0)
		q_iso8601(r->decided, dec, sizeof(dec));
	else
		dec[0] = '\0';
	rc = mugai_buf_printf(b, "{\"request\":%lld", r->reqid);
	if (rc == MUGAI_OK) rc = q_json_pairs(b, (const char *const[]){
	    "id", r->id, "state", r->state, "requested", when,
	    "requester", r->requester, "notify", r->notify,
	    "reason", r->reason, "decided", dec, "decider", r->decider,
	    "decision", r->decision, "release_to", r->release_to, NULL });
	if (rc == MUGAI_OK) rc = mugai_buf_putc(b, '}');
	return rc;
}

static int
q_request_row(const struct mugai_qrequest *r, void *arg)
{
	struct qreqs *l = arg;
	struct mugai_buf b;
	char when[32];

	if (l->json) {
		mugai_buf_init(&b, 1024 * 1024);
		l->rc = q_json_request(&b, r);
		if (l->rc == MUGAI_OK)
			printf("%s%s", l->n > 0 ? ",\n" : "\n", b.data);
		mugai_buf_free(&b);
		l->n++;
		return l->rc != MUGAI_OK;
	}
	if (l->n++ == 0)
		printf("%-6s  %-9s  %-16s  %-28s  %-20s  %s\n", "REQ", "STATE",
		    "REQUESTED", "ID", "BY", "REASON");
	q_localtime(r->requested, when, sizeof(when), 0);
	printf("%-6lld  %-9s  %-16s  ", r->reqid, r->state, when);
	q_text(stdout, r->id, 28, 1);
	fputs("  ", stdout);
	q_text(stdout, r->requester, 20, 1);
	fputs("  ", stdout);
	q_text(stdout, r->reason, 60, 0);
	fputc('\n', stdout);
	return 0;
}

static int
q_requests(struct qctx *c, int argc, char **argv)
{
	const char *state = NULL, *id = NULL, *by = NULL, *pos[1];
	struct mugai_qrfilter f;
	struct qreqs l;
	mugai_status rc;
	int json = 0, all = 0, npos, ex;
	const struct qopt opts[] = {
		{ "--state", &state, NULL }, { "--id", &id, NULL },
		{ "--by", &by, NULL }, { "--all", NULL, &all },
		{ "--json", NULL, &json }, { NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, opts, pos, 0, &npos)) != 0)
		return ex;
	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "approving") != 0 && strcmp(state, "approved") != 0 &&
	    strcmp(state, "refused") != 0) {
		q_err(c, "bad --state \"%s\"; use pending, approving, approved"
		    " or refused", state);
		return EX_USAGE;
	}
	memset(&f, 0, sizeof(f));
	/* The admin's queue by default: what waits for a decision. */
	f.state = state != NULL ? state : all ? NULL : "pending";
	f.id = id;
	f.requester = by;
	if ((ex = q_open(c)) != 0)
		return ex;
	memset(&l, 0, sizeof(l));
	l.json = json;
	if (json)
		fputs("[", stdout);
	rc = mugai_quarantine_requests(c->q, &f, q_request_row, &l);
	if (rc == MUGAI_OK)
		rc = l.rc;
	if (json)
		fputs(l.n > 0 ? "\n]\n" : "]\n", stdout);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}

/* approve and refuse: REQ --by USER --reason TEXT [...] */
static int
q_decide(struct qctx *c, int argc, char **argv, int approve)
{
	const char *by = NULL, *reason = NULL, *to = NULL, *parts = NULL;
	const char *pos[1];
	struct mugai_qdecision d;
	mugai_status rc;
	char *end;
	int force = 0, npos, ex;
	const struct qopt aopts[] = {
		{ "--by", &by, NULL }, { "--reason", &reason, NULL },
		{ "--to", &to, NULL }, { "--parts", &parts, NULL },
		{ "--force", NULL, &force }, { NULL, NULL, NULL }
	};
	const struct qopt ropts[] = {
		{ "--by", &by, NULL }, { "--reason", &reason, NULL },
		{ NULL, NULL, NULL }
	};

	if ((ex = q_args(c, argc, argv, approve ? aopts : ropts, pos, 1,
	    &npos)) != 0)
		return ex;
	memset(&d, 0, sizeof(d));
	if (npos == 1) {
		errno = 0;
		d.reqid = strtoll(pos[0], &end, 10);
	}
	if (npos != 1 || *pos[0] < '1' || *pos[0] > '9' || *end != '\0' ||
	    errno != 0 || by == NULL || reason == NULL || reason[0] == '\0') {
		q_err(c, "usage: mugai quarantine %s", approve ?
		    "approve REQ --by USER --reason TEXT [--to ADDR]"
		    " [--parts N,...] [--force]" :
		    "refuse REQ --by USER --reason TEXT");
		return EX_USAGE;
	}
	d.actor = by;
	d.reason = reason;
	d.to = to;
	d.parts = parts;
	d.force = force;
	if ((ex = q_open(c)) != 0)
		return ex;
	rc = approve ? mugai_quarantine_approve(c->q, &d) :
	    mugai_quarantine_refuse(c->q, &d);
	if (rc != MUGAI_OK)
		return q_fail(c, rc);
	printf("request %lld %s\n", d.reqid, approve ? "approved" : "refused");
	return EX_OK;
}

static int
q_approve(struct qctx *c, int argc, char **argv)
{
	return q_decide(c, argc, argv, 1);
}

static int
q_refuse(struct qctx *c, int argc, char **argv)
{
	return q_decide(c, argc, argv, 0);
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct qcmd qcmds[] = {
	{ "list", q_list, "list [--since DATE] [--status S] [--sender ADDR]"
	    " [--recipient ADDR] [--limit N] [--json]" },
	{ "show", q_show, "show ID" },
	{ "export", q_export, "export ID [--part PATH] [-o FILE]" },
	{ "release", q_release, "release ID --to ADDR --reason TEXT"
	    " [--part PATH | --parts N,...] [--force]" },
	{ "request", q_request, "request ID --by USER --reason TEXT"
	    " [--notify ADDR]" },
	{ "requests", q_requests, "requests [--all | --state S] [--id ID]"
	    " [--by USER] [--json]" },
	{ "approve", q_approve, "approve REQ --by USER --reason TEXT"
	    " [--to ADDR] [--parts N,...] [--force]" },
	{ "refuse", q_refuse, "refuse REQ --by USER --reason TEXT" },
	{ "delete", q_delete, "delete ID [--reason TEXT]" },
	{ "purge", q_purge, "purge [--older-than DAYS]" },
	{ "verify", q_verify, "verify" },
	{ "rebuild-index", q_rebuild, "rebuild-index" },
	{ "migrate", q_migrate, "migrate" },
	{ "copy", q_copy, "copy --from SQLITE_PATH [--from-dir DIR]" },
};

#define NQCMDS (sizeof(qcmds) / sizeof(qcmds[0]))

static void
q_usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: mugai [-c CONFIG] [-o key=value]... quarantine"
	    " COMMAND ...\n");
	for (i = 0; i < NQCMDS; i++)
		fprintf(fp, "  mugai quarantine %s\n", qcmds[i].usage);
	fprintf(fp, "Part paths: the message body is 1, the parts of a"
	    " multipart N are N.1, N.2, ...\n");
}

static void
q_actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)getuid());
}

int
cmd_quarantine(int argc, char **argv, struct mugai_config *cfg)
{
	const struct qcmd *qc = NULL;
	struct qctx c;
	size_t i;
	int ex;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		q_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	for (i = 0; i < NQCMDS; i++)
		if (strcmp(argv[1], qcmds[i].name) == 0)
			qc = &qcmds[i];
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	if (qc == NULL) {
		q_err(&c, "unknown command \"%s\"; run 'mugai quarantine"
		    " --help'", argv[1]);
		return EX_USAGE;
	}
	c.sub = qc->name;
	q_actor(c.actor, sizeof(c.actor));
	/* Counted: harmless if main already initialised GMime. */
	g_mime_init();
	ex = qc->run(&c, argc - 1, argv + 1);
	mugai_quarantine_close(c.q);
	g_mime_shutdown();
	return ex;
}
