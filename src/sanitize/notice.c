/*
 * notice.c - render the recipient's notice from templates (see
 * mugai/sanitize/notice.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/log.h"
#include "mugai/sanitize/notice.h"
#include "templates.h"

#define TEMPLATE_MAX	(64 * 1024)

struct templates {
	char	*frame;
	char	*item;
	char	*phrases;
};

/* Read dir/name, or copy the built-in text when there is no dir. */
static char *
template_load(const struct mugai_config *cfg, const char *name,
    const char *builtin, char *err, size_t errlen)
{
	char path[4096];
	struct mugai_buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;

	if (cfg->notice_template_dir[0] == '\0')
		return strdup(builtin);
	snprintf(path, sizeof(path), "%s/%s", cfg->notice_template_dir, name);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s; copy it from "
		    "templates/ or unset notice_template_dir", path,
		    strerror(errno));
		return NULL;
	}
	mugai_buf_init(&b, TEMPLATE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (mugai_buf_append(&b, chunk, n) != MUGAI_OK) {
			snprintf(err, errlen, "%s: larger than %d bytes", path,
			    TEMPLATE_MAX);
			fclose(fp);
			mugai_buf_free(&b);
			return NULL;
		}
	}
	fclose(fp);
	return mugai_buf_steal(&b, NULL);
}

static void
templates_free(struct templates *t)
{
	free(t->frame);
	free(t->item);
	free(t->phrases);
}

static int
templates_load(const struct mugai_config *cfg, struct templates *t,
    char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->frame = template_load(cfg, "notice.txt", mugai_tpl_notice, err,
	    errlen);
	if (t->frame != NULL)
		t->item = template_load(cfg, "notice-item.txt",
		    mugai_tpl_notice_item, err, errlen);
	if (t->item != NULL)
		t->phrases = template_load(cfg, "notice-phrases.txt",
		    mugai_tpl_notice_phrases, err, errlen);
	if (t->phrases == NULL) {
		templates_free(t);
		return -1;
	}
	return 0;
}

/*
 * Look key up in the "key = text" phrase list; the key itself when the
 * admin's file lacks it, so a missing phrase shows rather than vanishes.
 */
static void
phrase(const char *phrases, const char *key, char *out, size_t outlen)
{
	const char *line = phrases, *eol, *p;
	size_t klen = strlen(key);

	while (*line != '\0') {
		eol = strchr(line, '\n');
		if (eol == NULL)
			eol = line + strlen(line);
		if (strncmp(line, key, klen) == 0) {
			p = line + klen;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '=') {
				p++;
				while (*p == ' ' || *p == '\t')
					p++;
				snprintf(out, outlen, "%.*s", (int)(eol - p), p);
				return;
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	snprintf(out, outlen, "%s", key);
}

struct var {
	const char *name;
	const char *value;
};

/* Copy tpl to out, replacing {name} by its value; unknown {x} stay. */
static mugai_status
substitute(const char *tpl, const struct var *vars, size_t nvars,
    struct mugai_buf *out)
{
	const char *p = tpl, *close;
	size_t i, n;
	mugai_status rc = MUGAI_OK;

	while (*p != '\0' && rc == MUGAI_OK) {
		if (*p != '{' || (close = strchr(p, '}')) == NULL) {
			rc = mugai_buf_putc(out, *p++);
			continue;
		}
		n = (size_t)(close - p - 1);
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == n &&
			    strncmp(p + 1, vars[i].name, n) == 0)
				break;
		if (i == nvars) {
			rc = mugai_buf_putc(out, *p++);
			continue;
		}
		rc = mugai_buf_puts(out, vars[i].value);
		p = close + 1;
	}
	return rc;
}

/* "12,345" */
static void
format_size(size_t n, char *out, size_t outlen)
{
	char digits[32], *o = out;
	size_t len, i;

	snprintf(digits, sizeof(digits), "%zu", n);
	len = strlen(digits);
	for (i = 0; i < len && (size_t)(o - out) + 2 < outlen; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			*o++ = ',';
		*o++ = digits[i];
	}
	*o = '\0';
}

/*
 * Names longer than this many characters are shown cut, ending "...":
 * a 10 KB name would bury the rest of the notice.  The report and the
 * quarantine keep the whole name.
 */
#define NAME_SHOW_MAX	200

static const char *
name_shown(const char *name, char *buf, size_t buflen)
{
	size_t i, chars = 0;

	for (i = 0; name[i] != '\0'; i++) {
		if (((unsigned char)name[i] & 0xC0) == 0x80)
			continue;
		if (++chars > NAME_SHOW_MAX) {
			snprintf(buf, buflen, "%.*s...", (int)i, name);
			return buf;
		}
	}
	return name;
}

/* The reason phrase for it, with {n} and {m} filled in. */
static mugai_status
reason_text(const struct templates *t, const struct mugai_notice_item *it,
    char *out, size_t outlen)
{
	char key[64], tpl[512], n[16], m[16];
	struct mugai_buf b;
	mugai_status rc;

	snprintf(key, sizeof(key), "reason.%s", it->reason);
	phrase(t->phrases, key, tpl, sizeof(tpl));
	snprintf(n, sizeof(n), "%u", it->n);
	snprintf(m, sizeof(m), "%u", it->m);
	{
		const struct var vars[] = { { "n", n }, { "m", m } };

		mugai_buf_init(&b, 0);
		rc = substitute(tpl, vars, 2, &b);
	}
	if (rc == MUGAI_OK)
		snprintf(out, outlen, "%s", b.data ? b.data : "");
	mugai_buf_free(&b);
	return rc;
}

static mugai_status
render_item(const struct templates *t, const struct mugai_notice_item *it,
    struct mugai_buf *out)
{
	char action[256], reason[512], ltype[128], ldet[128], lreason[128];
	char lmis[512], noname[128], bytes[64], size[96], num[32], key[64];
	char shown[NAME_SHOW_MAX * 4 + 4];
	mugai_status rc;

	snprintf(key, sizeof(key), "action.%s", it->warning ? "warning" :
	    it->action);
	phrase(t->phrases, key, action, sizeof(action));
	if ((rc = reason_text(t, it, reason, sizeof(reason))) != MUGAI_OK)
		return rc;
	/* A warning is about the message, not a file: no name or types.
	 * Its line is the phrase line.warning (built in when missing). */
	if (it->warning) {
		char line[256];
		const struct var wv[] = { { "action", action },
		    { "reason", reason } };

		phrase(t->phrases, "line.warning", line, sizeof(line));
		if (strcmp(line, "line.warning") == 0)
			snprintf(line, sizeof(line), "■ {action}: {reason}");
		if ((rc = substitute(line, wv, 2, out)) == MUGAI_OK)
			rc = mugai_buf_putc(out, '\n');
		return rc;
	}
	phrase(t->phrases, "label.type", ltype, sizeof(ltype));
	phrase(t->phrases, "label.detected", ldet, sizeof(ldet));
	phrase(t->phrases, "label.reason", lreason, sizeof(lreason));
	phrase(t->phrases, "label.mismatch", lmis, sizeof(lmis));
	phrase(t->phrases, "label.noname", noname, sizeof(noname));
	phrase(t->phrases, "label.bytes", bytes, sizeof(bytes));
	format_size(it->size, num, sizeof(num));
	snprintf(size, sizeof(size), "%s %s", num, bytes);
	{
		const struct var vars[] = {
			{ "action", action },
			{ "name", it->name[0] ? name_shown(it->name, shown,
			    sizeof(shown)) : noname },
			{ "declared", it->declared },
			{ "detected", it->detected },
			{ "size", size },
			{ "reason", reason },
			{ "label_type", ltype },
			{ "label_detected", ldet },
			{ "label_reason", lreason },
		};
		rc = substitute(t->item, vars, sizeof(vars) / sizeof(vars[0]),
		    out);
	}
	if (rc == MUGAI_OK && it->mismatch != NULL)
		rc = mugai_buf_printf(out, "    %s (%s)\n", lmis, it->mismatch);
	return rc;
}

int
mugai_notice_url_ok(const char *url)
{
	const unsigned char *p = (const unsigned char *)url;

	if (*p == '\0')
		return 1;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7F || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\' || *p == '`')
			return 0;
	return 1;
}

/*
 * "line.request" with {url} = web_public_url/request/ID, and a newline;
 * "" when there is no URL or nothing stored to ask for.
 */
static mugai_status
request_link(const struct mugai_config *cfg, const struct templates *t,
    const char *id, int stored, struct mugai_buf *out)
{
	const char *base = cfg->web_public_url;
	char line[512];
	struct mugai_buf url;
	mugai_status rc;
	size_t n;

	if (!stored || base == NULL || base[0] == '\0')
		return MUGAI_OK;
	if (!mugai_notice_url_ok(base)) {
		mugai_log(LOG_WARNING, id, "web_public_url is not an http(s)"
		    " URL; the notice has no request link");
		return MUGAI_OK;
	}
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	mugai_buf_init(&url, 0);
	rc = mugai_buf_printf(&url, "%.*s/request/%s", (int)n, base, id);
	phrase(t->phrases, "line.request", line, sizeof(line));
	if (strcmp(line, "line.request") == 0)
		snprintf(line, sizeof(line), "    {url}");
	if (rc == MUGAI_OK) {
		const struct var v[] = { { "url", url.data } };

		rc = substitute(line, v, 1, out);
	}
	if (rc == MUGAI_OK)
		rc = mugai_buf_putc(out, '\n');
	mugai_buf_free(&url);
	return rc;
}

mugai_status
mugai_notice_render(const struct mugai_config *cfg, const char *id,
    const struct mugai_notice_item *items, size_t n, struct mugai_buf *out)
{
	return mugai_notice_render_stored(cfg, id, items, n, 1, out);
}

mugai_status
mugai_notice_render_stored(const struct mugai_config *cfg, const char *id,
    const struct mugai_notice_item *items, size_t n, int stored,
    struct mugai_buf *out)
{
	struct mugai_buf link;
	struct templates t;
	struct mugai_buf list;
	char err[512];
	size_t i;
	mugai_status rc = MUGAI_OK;

	if (n == 0)
		return MUGAI_OK;
	if (templates_load(cfg, &t, err, sizeof(err)) != 0) {
		/* A broken template must not stop mail: use the built-ins. */
		mugai_log(LOG_WARNING, id, "notice template: %s; using the "
		    "built-in templates", err);
		t.frame = strdup(mugai_tpl_notice);
		t.item = strdup(mugai_tpl_notice_item);
		t.phrases = strdup(mugai_tpl_notice_phrases);
		if (t.frame == NULL || t.item == NULL || t.phrases == NULL) {
			templates_free(&t);
			return MUGAI_ERR_NOMEM;
		}
	}
	mugai_buf_init(&list, 0);
	mugai_buf_init(&link, 0);
	for (i = 0; i < n && rc == MUGAI_OK; i++)
		rc = render_item(&t, &items[i], &list);
	if (rc == MUGAI_OK)
		rc = request_link(cfg, &t, id, stored, &link);
	if (rc == MUGAI_OK) {
		const struct var vars[] = {
			{ "items", list.data ? list.data : "" },
			{ "id", id },
			{ "admin_contact", cfg->admin_contact },
			{ "request_link", link.data ? link.data : "" },
		};
		rc = substitute(t.frame, vars, sizeof(vars) / sizeof(vars[0]),
		    out);
	}
	mugai_buf_free(&list);
	mugai_buf_free(&link);
	templates_free(&t);
	return rc;
}

int
mugai_notice_check(const struct mugai_config *cfg, char *err, size_t errlen)
{
	struct templates t;

	if (templates_load(cfg, &t, err, errlen) != 0)
		return -1;
	templates_free(&t);
	return 0;
}
