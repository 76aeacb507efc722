/*
 * config.c - load the mugai configuration (see mugai/base/config.h).
 *
 * Every key is one row of config_keys[]: name, type, where it lives in
 * struct mugai_config, and its default written as text.  Defaults go
 * through the same parser as the file, so they are valid by construction
 * and "check-config -v" can print them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mugai/base/buf.h"
#include "mugai/base/bypass.h"
#include "mugai/base/config.h"
#include "mugai/base/policy.h"

#define CONFIG_MAX_FILE		(1024 * 1024)
#define CONFIG_MAX_VALUE	(64 * 1024)

enum key_type {
	KEY_STR,
	KEY_SIZE,	/* bytes, K/M/G suffix */
	KEY_UINT,
	KEY_TIME,	/* seconds, s/m/h/d suffix */
	KEY_BOOL,
	KEY_CHARSET,
	KEY_CSV_CHARSET,
	KEY_VIRUS_ACTION,
	KEY_SCAN_OPTIONS,
	KEY_POLICY,
	KEY_NETS,	/* text, checked as mugai_bypass_new reads it */
	KEY_RCPTS,	/* likewise */
	KEY_OFFICE_OUTPUT
};

struct config_key {
	const char *name;
	enum key_type type;
	size_t	 off;
	const char *def;
	unsigned long long min, max;	/* for numbers; max 0: none */
};

#define OFF(f) offsetof(struct mugai_config, f)

/*
 * Sanitised copies for what staff need (mugai/cdr/convert.h), text for text,
 * everything else removed.  xlsb is binary: the ooxml clean cannot read
 * it, LibreOffice makes it an xlsx first.  Generic OLE2 files
 * (application/x-ole-storage) are removed.  A password-protected
 * Office Open XML file is a compound file libmagic calls
 * application/encrypted: the office route's first look (mugai-convert
 * ole2) finds its EncryptedPackage and holds it as encrypted, like a
 * password-protected .doc or .xls.
 */
#define DEFAULT_POLICY \
	"text/plain text, text/csv csv, text/html html, " \
	"image/jpeg image, image/png image, image/gif image, " \
	"image/bmp image, image/x-ms-bmp image, image/tiff image, " \
	"image/webp image, application/pdf pdf, " \
	"application/vnd.ms-excel.sheet.binary.* office, " \
	"application/vnd.openxmlformats-officedocument.* ooxml, " \
	"application/vnd.ms-word.* ooxml, application/vnd.ms-excel.* ooxml, " \
	"application/vnd.ms-powerpoint.* ooxml, " \
	"application/msword office, application/vnd.ms-excel office, " \
	"application/vnd.ms-powerpoint office, application/encrypted office, " \
	"text/rtf office, " \
	"application/rtf office, application/zip archive, " \
	"application/x-7z-compressed archive, application/x-rar archive, " \
	"application/vnd.rar archive, application/x-lha archive, " \
	"application/x-lzh-compressed archive, application/x-tar archive, " \
	"application/gzip archive, application/x-bzip2 archive, " \
	"application/x-xz archive, application/vnd.ms-tnef tnef, * remove"

static const struct config_key config_keys[] = {
	{ "max_message_size", KEY_SIZE, OFF(max_message_size), "50M", 1024, 0 },
	{ "max_mime_depth", KEY_UINT, OFF(max_mime_depth), "20", 1, 1000 },
	{ "max_mime_parts", KEY_UINT, OFF(max_mime_parts), "1000", 1, 1000000 },
	{ "max_part_size", KEY_SIZE, OFF(max_part_size), "20M", 1024, 0 },
	{ "max_html_depth", KEY_UINT, OFF(max_html_depth), "200", 8, 10000 },
	{ "max_header_size", KEY_SIZE, OFF(max_header_size), "64K", 1024, 16777216 },
	{ "output_charset", KEY_CHARSET, OFF(output_charset), "utf-8", 0, 0 },
	{ "csv_charset", KEY_CSV_CHARSET, OFF(csv_utf8_bom), "original", 0, 0 },
	{ "notice_template_dir", KEY_STR, OFF(notice_template_dir), "", 0, 0 },
	{ "admin_contact", KEY_STR, OFF(admin_contact), "postmaster", 0, 0 },
	{ "web_public_url", KEY_STR, OFF(web_public_url), "", 0, 0 },
	{ "attachment_policy", KEY_POLICY, OFF(policy), DEFAULT_POLICY, 0, 0 },
	{ "clamav_enable", KEY_BOOL, OFF(clamav_enable), "yes", 0, 0 },
	{ "clamav_database_dir", KEY_STR, OFF(clamav_database_dir),
	    "/var/lib/clamav", 0, 0 },
	{ "clamav_max_filesize", KEY_SIZE, OFF(clamav_max_filesize), "25M", 1024, 0 },
	{ "clamav_max_scansize", KEY_SIZE, OFF(clamav_max_scansize), "100M", 1024, 0 },
	{ "clamav_max_recursion", KEY_UINT, OFF(clamav_max_recursion), "16", 1, 100 },
	{ "clamav_max_files", KEY_UINT, OFF(clamav_max_files), "10000", 1, 1000000 },
	{ "clamav_max_scantime", KEY_TIME, OFF(clamav_max_scantime), "120s", 1, 86400 },
	{ "clamav_scan_options", KEY_SCAN_OPTIONS, OFF(clamav_scan_options),
	    "archive, mail, ole2, pdf, html, heuristics", 0, 0 },
	{ "clamav_tmp_dir", KEY_STR, OFF(clamav_tmp_dir), "", 0, 0 },
	{ "clamav_copy_image_hash", KEY_BOOL, OFF(clamav_copy_image_hash), "yes",
	    0, 0 },
	{ "clamav_check_interval", KEY_TIME, OFF(clamav_check_interval), "300s", 0, 86400 },
	{ "virus_action", KEY_VIRUS_ACTION, OFF(virus_action), "reject", 0, 0 },
	{ "quarantine_enable", KEY_BOOL, OFF(quarantine_enable), "yes", 0, 0 },
	{ "quarantine_dir", KEY_STR, OFF(quarantine_dir),
	    "/var/spool/mugai/quarantine", 0, 0 },
	{ "quarantine_db", KEY_STR, OFF(quarantine_db), "", 0, 0 },
	{ "quarantine_db_password_file", KEY_STR,
	    OFF(quarantine_db_password_file), "", 0, 0 },
	{ "quarantine_db_pool", KEY_UINT, OFF(quarantine_db_pool), "4", 1, 64 },
	{ "audit_log", KEY_STR, OFF(audit_log), "/var/log/mugai/audit.jsonl", 0, 0 },
	{ "quarantine_retention_days", KEY_UINT, OFF(quarantine_retention_days),
	    "90", 1, 36500 },
	/* A total per message; it must fit in the MTA's milter timeout. */
	{ "quarantine_busy_timeout", KEY_TIME, OFF(quarantine_busy_timeout),
	    "10s", 1, 60 },
	{ "quarantine_notice_max", KEY_SIZE, OFF(quarantine_notice_max), "8K",
	    1024, 16777216 },
	{ "sendmail_path", KEY_STR, OFF(sendmail_path), "/usr/sbin/sendmail", 0, 0 },
	{ "milter_socket", KEY_STR, OFF(milter_socket), "unix:/run/mugai/mugai.sock", 0, 0 },
	{ "pid_file", KEY_STR, OFF(pid_file), "/run/mugai/mugai-milter.pid", 0, 0 },
	{ "run_user", KEY_STR, OFF(run_user), "", 0, 0 },
	{ "log_facility", KEY_STR, OFF(log_facility), "mail", 0, 0 },
	{ "log_verbose", KEY_BOOL, OFF(log_verbose), "no", 0, 0 },
	{ "spool_dir", KEY_STR, OFF(spool_dir), "/var/spool/mugai/spool", 0, 0 },
	{ "spool_memory_max", KEY_SIZE, OFF(spool_memory_max), "2M", 0, 0 },
	{ "milter_body_chunk", KEY_SIZE, OFF(milter_body_chunk), "63K", 512, 65535 },
	{ "milter_timeout", KEY_TIME, OFF(milter_timeout), "300s", 1, 86400 },
	{ "milter_memory_max", KEY_SIZE, OFF(milter_memory_max), "128M", 0, 0 },
	{ "milter_memory_wait", KEY_TIME, OFF(milter_memory_wait), "60s", 1, 3600 },
	{ "shutdown_timeout", KEY_TIME, OFF(shutdown_timeout), "30s", 0, 3600 },
	{ "bypass_client_networks", KEY_NETS, OFF(bypass_client_networks), "", 0, 0 },
	{ "bypass_recipients", KEY_RCPTS, OFF(bypass_recipients), "", 0, 0 },
	{ "convert_worker", KEY_STR, OFF(convert_worker), "", 0, 0 },
	{ "convert_timeout", KEY_TIME, OFF(convert_timeout), "60s", 1, 3600 },
	{ "convert_message_timeout", KEY_TIME, OFF(convert_message_timeout), "240s", 1, 86400 },
	{ "convert_max_workers", KEY_UINT, OFF(convert_max_workers), "0", 0, 1024 },
	{ "convert_zygote", KEY_BOOL, OFF(convert_zygote), "yes", 0, 0 },
	{ "convert_memory", KEY_SIZE, OFF(convert_memory), "2G", 64 << 20, 0 },
	{ "convert_max_output", KEY_SIZE, OFF(convert_max_output), "512M", 1024, 0 },
	{ "image_max_pixels", KEY_SIZE, OFF(image_max_pixels), "50000000", 1, 0 },
	{ "pdf_max_pages", KEY_UINT, OFF(pdf_max_pages), "50", 1, 10000 },
	{ "pdf_dpi", KEY_UINT, OFF(pdf_dpi), "150", 36, 600 },
	{ "pdf_bilevel", KEY_BOOL, OFF(pdf_bilevel), "no", 0, 0 },
	{ "pdf_mixed_raster", KEY_BOOL, OFF(pdf_mixed_raster), "yes", 0, 0 },
	{ "pdf_text_layer", KEY_BOOL, OFF(pdf_text_layer), "yes", 0, 0 },
	{ "pdf_ocr", KEY_BOOL, OFF(pdf_ocr), "no", 0, 0 },
	{ "pdf_ocr_languages", KEY_STR, OFF(pdf_ocr_languages), "jpn+eng", 0,
	    0 },
	{ "pdf_ocr_tesseract", KEY_STR, OFF(pdf_ocr_tesseract),
	    "/usr/bin/tesseract", 0, 0 },
	{ "pdf_text_font", KEY_STR, OFF(pdf_text_font),
	    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", 0, 0 },
	{ "pdf_text_max_words", KEY_UINT, OFF(pdf_text_max_words), "200000",
	    0, 10000000 },
	{ "pdf_text_max_bytes", KEY_SIZE, OFF(pdf_text_max_bytes), "4M", 0,
	    (unsigned long long)1 << 30 },
	{ "archive_max_members", KEY_UINT, OFF(archive_max_members), "1000", 1, 1000000 },
	{ "archive_max_size", KEY_SIZE, OFF(archive_max_size), "100M", 1024, 0 },
	{ "archive_max_ratio", KEY_UINT, OFF(archive_max_ratio), "100", 1, 1000000 },
	{ "archive_max_depth", KEY_UINT, OFF(archive_max_depth), "3", 1, 16 },
	{ "libreoffice_path", KEY_STR, OFF(libreoffice_path), "/usr/bin/soffice", 0, 0 },
	{ "bwrap_path", KEY_STR, OFF(bwrap_path), "/usr/bin/bwrap", 0, 0 },
	{ "office_timeout", KEY_TIME, OFF(office_timeout), "120s", 1, 3600 },
	{ "office_output", KEY_OFFICE_OUTPUT, OFF(office_output), "ooxml", 0, 0 },
	{ "office_memory", KEY_SIZE, OFF(office_memory), "4G", 256 << 20, 0 },
	{ "office_tmpfs_size", KEY_SIZE, OFF(office_tmpfs_size), "512M", 16 << 20, 0 },
	{ "office_max_processes", KEY_UINT, OFF(office_max_processes), "1024", 16, 1000000 },
	/* mugai-web, the quarantine console (web/). */
	{ "web_listen", KEY_STR, OFF(web_listen), "127.0.0.1:8025", 0, 0 },
	{ "web_tls_cert", KEY_STR, OFF(web_tls_cert), "", 0, 0 },
	{ "web_tls_key", KEY_STR, OFF(web_tls_key), "", 0, 0 },
	{ "web_users", KEY_STR, OFF(web_users), "/etc/mugai/web-users", 0, 0 },
	{ "web_pid_file", KEY_STR, OFF(web_pid_file), "/run/mugai/mugai-web.pid", 0, 0 },
	{ "web_session_timeout", KEY_TIME, OFF(web_session_timeout), "30m", 60, 86400 },
	{ "web_max_sessions", KEY_UINT, OFF(web_max_sessions), "1000", 1, 100000 },
	{ "web_login_max_failures", KEY_UINT, OFF(web_login_max_failures), "5", 1, 1000 },
	{ "web_login_lockout", KEY_TIME, OFF(web_login_lockout), "15m", 1, 86400 },
	{ "web_max_connections", KEY_UINT, OFF(web_max_connections), "64", 1, 10000 },
	{ "web_max_results", KEY_UINT, OFF(web_max_results), "10000", 10, 1000000 },
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

struct mugai_config_priv {
	struct mugai_config pub;	/* first: the public view */
	atomic_int refs;
};

/* One load: where problems go, and what the file set so far. */
struct load_ctx {
	mugai_config_report *report;
	void	*arg;
	unsigned nerrors;
	unsigned file_line[NKEYS];	/* line that set the key, 0: none */
};

/* Report each line of text (problems of one value) as its own line. */
static void
load_report(struct load_ctx *ctx, enum mugai_config_severity sev,
    const char *where, const char *name, const char *text)
{
	char msg[1024];
	const char *nl;
	int n;

	do {
		nl = strchr(text, '\n');
		n = nl ? (int)(nl - text) : (int)strlen(text);
		if (name != NULL)
			snprintf(msg, sizeof(msg), "%s: %s: %.*s", where, name,
			    n, text);
		else
			snprintf(msg, sizeof(msg), "%s: %.*s", where, n, text);
		if (sev == MUGAI_CONFIG_ERROR)
			ctx->nerrors++;
		if (ctx->report != NULL)
			ctx->report(ctx->arg, sev, msg);
		text = nl ? nl + 1 : NULL;
	} while (text != NULL && *text != '\0');
}

static const char *scan_option_names[] = {
	"archive", "mail", "ole2", "pdf", "html", "heuristics"
};

/* Parse a number with an optional unit suffix; mult[] maps suffixes. */
static int
parse_scaled(const char *v, const char *suffixes,
    const unsigned long long *mult, unsigned long long *out)
{
	char *end;
	unsigned long long n, m = 1;
	const char *s;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		s = strchr(suffixes, tolower((unsigned char)*end));
		if (s == NULL || end[1] != '\0')
			return -1;
		m = mult[s - suffixes];
	}
	if (m != 0 && n > ULLONG_MAX / m)
		return -1;
	*out = n * m;
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int
parse_scan_options(const char *v, unsigned *out, char *why, size_t whylen)
{
	char *copy, *tok, *save = NULL;
	unsigned bits = 0;
	size_t i;
	int rc = 0;

	if ((copy = strdup(v)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ", \t\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\n", &save)) {
		for (i = 0; i < 6; i++)
			if (strcasecmp(tok, scan_option_names[i]) == 0)
				break;
		if (i == 6) {
			snprintf(why, whylen, "unknown scan option \"%s\"; use "
			    "archive, mail, ole2, pdf, html, heuristics", tok);
			rc = -1;
			break;
		}
		bits |= 1u << i;
	}
	free(copy);
	*out = bits;
	return rc;
}

/* Add a line to a list of problems (one per line). */
static void
why_add(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
why_add(char *why, size_t len, const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if (used > 0 && used + 1 < len) {
		why[used++] = '\n';
		why[used] = '\0';
	}
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
}

/* mugai_bypass_new's message without its "KEY: " (ours adds it). */
static const char *
bypass_why(const char *e)
{
	const char *p = strstr(e, ": ");

	return strncmp(e, "bypass_", 7) == 0 && p != NULL ? p + 2 : e;
}

/*
 * Check a bypass list item by item with the parser the milter uses
 * (mugai_bypass_new), so that every bad item is named, not only the
 * first.  A network with prefix 0 takes in every client: a warning.
 */
static int
check_bypass_list(const char *v, int nets, char *why, size_t whylen,
    char *warn, size_t warnlen)
{
	static const char sep[] = ", \t\r\n";
	char item[512], e[512];
	struct mugai_bypass *b;
	const char *slash;
	size_t pos = 0, n;
	int bad = 0;

	while (v[pos += strspn(v + pos, sep)] != '\0') {
		n = strcspn(v + pos, sep);
		snprintf(item, sizeof(item), "%.*s", (int)n, v + pos);
		pos += n;
		if (n >= sizeof(item)) {
			why_add(why, whylen, "item too long: %.40s...", item);
			bad = 1;
			continue;
		}
		if (mugai_bypass_new(nets ? item : NULL, nets ? NULL : item,
		    &b, e, sizeof(e)) != MUGAI_OK) {
			why_add(why, whylen, "%s", bypass_why(e));
			bad = 1;
			continue;
		}
		mugai_bypass_free(b);
		if (nets && (slash = strchr(item, '/')) != NULL &&
		    strtoul(slash + 1, NULL, 10) == 0)
			why_add(warn, warnlen, "%s takes in every %s client: "
			    "their mail is passed unsanitised; remove it unless "
			    "that is meant", item, strchr(item, ':') ? "IPv6" :
			    "IPv4");
	}
	return bad ? -1 : 0;
}

/*
 * Set one key from its text value.  why gets the reason on failure (one
 * line per problem); warn gets what loads but is probably not meant.
 */
static int
key_set(struct mugai_config *cfg, const struct config_key *k, const char *v,
    char *why, size_t whylen, char *warn, size_t warnlen)
{
	static const unsigned long long size_mult[] = {
		1024ULL, 1024ULL * 1024, 1024ULL * 1024 * 1024
	};
	static const unsigned long long time_mult[] = { 1, 60, 3600, 86400 };
	char *base = (char *)cfg;
	unsigned long long n;
	char *s;
	struct mugai_policy *pol;

	switch (k->type) {
	case KEY_NETS:
	case KEY_RCPTS:
		if (check_bypass_list(v, k->type == KEY_NETS, why, whylen,
		    warn, warnlen) != 0)
			return -1;
		/* FALLTHROUGH */
	case KEY_STR:
		if ((s = strdup(v)) == NULL)
			return -1;
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = s;
		return 0;
	case KEY_BOOL:
		if (parse_bool(v, (int *)(base + k->off)) == 0)
			return 0;
		snprintf(why, whylen, "\"%s\" is not yes or no", v);
		return -1;
	case KEY_SIZE:
	case KEY_UINT:
	case KEY_TIME:
		if (parse_scaled(v, k->type == KEY_SIZE ? "kmg" :
		    k->type == KEY_TIME ? "smhd" : "",
		    k->type == KEY_SIZE ? size_mult : time_mult, &n) != 0) {
			snprintf(why, whylen, "\"%s\" is not a %s", v,
			    k->type == KEY_SIZE ? "size (e.g. 512K, 20M, 1G)" :
			    k->type == KEY_TIME ? "duration (e.g. 30s, 5m, 1h)" :
			    "whole number");
			return -1;
		}
		if (n < k->min || (k->max != 0 && n > k->max) ||
		    (k->type != KEY_SIZE && n > UINT_MAX)) {
			snprintf(why, whylen, "%s is out of range (%llu to %llu)",
			    v, k->min, k->max ? k->max :
			    (k->type == KEY_SIZE ? (unsigned long long)SIZE_MAX :
			    UINT_MAX));
			return -1;
		}
		if (k->type == KEY_SIZE)
			*(size_t *)(base + k->off) = (size_t)n;
		else
			*(unsigned *)(base + k->off) = (unsigned)n;
		return 0;
	case KEY_CHARSET:
		if (strcasecmp(v, "utf-8") == 0 || strcasecmp(v, "utf8") == 0)
			cfg->output_charset = MUGAI_OUTPUT_UTF8;
		else if (strcasecmp(v, "iso-2022-jp") == 0)
			cfg->output_charset = MUGAI_OUTPUT_ISO2022JP;
		else {
			snprintf(why, whylen, "\"%s\": use utf-8 or iso-2022-jp", v);
			return -1;
		}
		return 0;
	case KEY_CSV_CHARSET:
		if (strcasecmp(v, "original") == 0)
			cfg->csv_utf8_bom = 0;
		else if (strcasecmp(v, "utf-8-bom") == 0)
			cfg->csv_utf8_bom = 1;
		else {
			snprintf(why, whylen, "\"%s\": use original or "
			    "utf-8-bom", v);
			return -1;
		}
		return 0;
	case KEY_VIRUS_ACTION:
		if (strcasecmp(v, "reject") == 0)
			cfg->virus_action = MUGAI_VIRUS_REJECT;
		else if (strcasecmp(v, "discard") == 0)
			cfg->virus_action = MUGAI_VIRUS_DISCARD;
		else if (strcasecmp(v, "quarantine-only") == 0)
			cfg->virus_action = MUGAI_VIRUS_QUARANTINE_ONLY;
		else {
			snprintf(why, whylen, "\"%s\": use reject, discard or "
			    "quarantine-only", v);
			return -1;
		}
		return 0;
	case KEY_SCAN_OPTIONS:
		return parse_scan_options(v, &cfg->clamav_scan_options, why,
		    whylen);
	case KEY_POLICY:
		if ((pol = mugai_policy_parse(v, why, whylen)) == NULL)
			return -1;
		if ((s = strdup(v)) == NULL) {
			mugai_policy_free(pol);
			return -1;
		}
		mugai_policy_free(cfg->policy);
		free(cfg->attachment_policy);
		cfg->policy = pol;
		cfg->attachment_policy = s;
		return 0;
	case KEY_OFFICE_OUTPUT:
		if (strcasecmp(v, "ooxml") == 0)
			cfg->office_output = MUGAI_OFFICE_OUTPUT_OOXML;
		else if (strcasecmp(v, "pdf") == 0)
			cfg->office_output = MUGAI_OFFICE_OUTPUT_PDF;
		else {
			snprintf(why, whylen, "\"%s\": use ooxml or pdf", v);
			return -1;
		}
		return 0;
	}
	return -1;
}

static const struct config_key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* Edit distance, to suggest the key the admin probably meant. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (lb >= sizeof(row) / sizeof(row[0]) || la > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static void
unknown_key(const char *name, char *err, size_t errlen)
{
	const char *best = NULL;
	size_t d, bestd = 4, i;

	for (i = 0; i < NKEYS; i++) {
		d = edit_distance(name, config_keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = config_keys[i].name;
		}
	}
	if (best != NULL)
		snprintf(err, errlen, "unknown key \"%s\"; did you mean "
		    "\"%s\"?", name, best);
	else
		snprintf(err, errlen, "unknown key \"%s\"; see "
		    "'mugai check-config -v' for the list of keys", name);
}

/*
 * Set name = value; where is "FILE:LINE" or "-o ..." for messages.
 * lineno is the file's line (0 for the rest), to warn about a key the
 * file sets twice.  Problems go to ctx; -1 when the value is refused.
 */
static int
config_assign(struct mugai_config *cfg, struct load_ctx *ctx,
    const char *where, unsigned lineno, const char *name, const char *value)
{
	const struct config_key *k;
	char why[2048], warn[1024], msg[1024];
	size_t i;
	int rc;

	if ((k = key_find(name)) == NULL) {
		unknown_key(name, msg, sizeof(msg));
		load_report(ctx, MUGAI_CONFIG_ERROR, where, NULL, msg);
		return -1;
	}
	i = (size_t)(k - config_keys);
	if (lineno != 0 && ctx->file_line[i] != 0) {
		snprintf(warn, sizeof(warn), "set again (first at line %u); "
		    "this later value is the one used: remove one of them",
		    ctx->file_line[i]);
		load_report(ctx, MUGAI_CONFIG_WARNING, where, name, warn);
	}
	if (lineno != 0)
		ctx->file_line[i] = lineno;
	why[0] = warn[0] = '\0';
	rc = key_set(cfg, k, value, why, sizeof(why), warn, sizeof(warn));
	if (rc != 0)
		load_report(ctx, MUGAI_CONFIG_ERROR, where, name,
		    why[0] ? why : "out of memory");
	if (warn[0] != '\0')
		load_report(ctx, MUGAI_CONFIG_WARNING, where, name, warn);
	return rc;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Apply one logical "key = value" line; lineno is where it started. */
static void
config_line(struct mugai_config *cfg, struct load_ctx *ctx, const char *path,
    unsigned lineno, char *line)
{
	char where[PATH_MAX + 32], msg[128], *eq, *name, *value;

	snprintf(where, sizeof(where), "%s:%u", path, lineno);
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(msg, sizeof(msg), "expected \"key = value\", got "
		    "\"%.60s\"", trim(line));
		load_report(ctx, MUGAI_CONFIG_ERROR, where, NULL, msg);
		return;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (*name == '\0') {
		load_report(ctx, MUGAI_CONFIG_ERROR, where, NULL,
		    "missing key name before \"=\"");
		return;
	}
	(void)config_assign(cfg, ctx, where, lineno, name, value);
}

static void
file_error(struct load_ctx *ctx, const char *path, unsigned lineno,
    const char *what)
{
	char where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%u", path, lineno);
	load_report(ctx, MUGAI_CONFIG_ERROR, where, NULL, what);
}

/*
 * Read the file, every line: a bad line is reported and the next one
 * read, so that one run lists every problem.  Only an unreadable or
 * oversized file stops it.
 */
static void
config_read_file(struct mugai_config *cfg, struct load_ctx *ctx,
    const char *path)
{
	FILE *fp;
	char *line = NULL, msg[PATH_MAX + 128];
	size_t cap = 0;
	ssize_t n;
	struct mugai_buf logical;
	unsigned lineno = 0, start = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof(msg), "cannot open: %s; check the path "
		    "given with -c", strerror(errno));
		load_report(ctx, MUGAI_CONFIG_ERROR, path, NULL, msg);
		return;
	}
	mugai_buf_init(&logical, CONFIG_MAX_VALUE);
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (lineno > 100000 || (size_t)n > CONFIG_MAX_FILE) {
			file_error(ctx, path, lineno, "file too large");
			goto out;
		}
		/* A C string would end at the NUL: "1\0 0" would read 1. */
		if (memchr(line, '\0', (size_t)n) != NULL) {
			if (start != 0)		/* in the order of the file */
				config_line(cfg, ctx, path, start,
				    logical.data);
			start = 0;
			snprintf(msg, sizeof(msg), "NUL byte at column %zu; "
			    "the file must be plain text: remove it",
			    strlen(line) + 1);
			file_error(ctx, path, lineno, msg);
			continue;
		}
		if (line[0] == '#' || trim(line)[0] == '\0')
			continue;
		/* White space at the start continues the previous value. */
		if (isspace((unsigned char)line[0])) {
			if (start == 0) {
				file_error(ctx, path, lineno, "continuation "
				    "line with no key before it; remove the "
				    "leading white space");
				continue;
			}
			if (mugai_buf_putc(&logical, '\n') != MUGAI_OK ||
			    mugai_buf_puts(&logical, trim(line)) != MUGAI_OK) {
				snprintf(msg, sizeof(msg), "value longer than "
				    "%d bytes", CONFIG_MAX_VALUE);
				file_error(ctx, path, lineno, msg);
				goto out;
			}
			continue;
		}
		if (start != 0)
			config_line(cfg, ctx, path, start, logical.data);
		mugai_buf_reset(&logical);
		start = 0;
		if (mugai_buf_puts(&logical, trim(line)) != MUGAI_OK) {
			file_error(ctx, path, lineno, "line too long");
			continue;
		}
		start = lineno;
	}
	if (ferror(fp)) {
		snprintf(msg, sizeof(msg), "read error: %s", strerror(errno));
		load_report(ctx, MUGAI_CONFIG_ERROR, path, NULL, msg);
		goto out;
	}
	if (start != 0)
		config_line(cfg, ctx, path, start, logical.data);
out:
	free(line);
	mugai_buf_free(&logical);
	fclose(fp);
}

static void
config_free(struct mugai_config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (config_keys[i].type == KEY_STR ||
		    config_keys[i].type == KEY_NETS ||
		    config_keys[i].type == KEY_RCPTS)
			free(*(char **)((char *)cfg + config_keys[i].off));
	mugai_policy_free(cfg->policy);
	free(cfg->attachment_policy);
	free(cfg->path);
}

struct mugai_config *
mugai_config_load_report(const char *path, char *const *overrides,
    size_t noverrides, mugai_config_report *report, void *arg)
{
	struct mugai_config_priv *priv;
	struct mugai_config *cfg;
	struct load_ctx ctx;
	char where[600], *copy, *eq;
	size_t i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.report = report;
	ctx.arg = arg;
	if ((priv = calloc(1, sizeof(*priv))) == NULL) {
		load_report(&ctx, MUGAI_CONFIG_ERROR, "mugai", NULL,
		    "out of memory");
		return NULL;
	}
	cfg = &priv->pub;
	atomic_init(&priv->refs, 1);
	for (i = 0; i < NKEYS; i++) {
		if (config_assign(cfg, &ctx, "built-in default", 0,
		    config_keys[i].name, config_keys[i].def) != 0)
			goto fail;
	}
	if (path != NULL) {
		if ((cfg->path = strdup(path)) == NULL) {
			load_report(&ctx, MUGAI_CONFIG_ERROR, path, NULL,
			    "out of memory");
			goto fail;
		}
		config_read_file(cfg, &ctx, path);
	}
	for (i = 0; i < noverrides; i++) {
		snprintf(where, sizeof(where), "-o %.500s", overrides[i]);
		if ((eq = strchr(overrides[i], '=')) == NULL) {
			load_report(&ctx, MUGAI_CONFIG_ERROR, where, NULL,
			    "write -o key=value");
			continue;
		}
		if ((copy = strdup(overrides[i])) == NULL) {
			load_report(&ctx, MUGAI_CONFIG_ERROR, where, NULL,
			    "out of memory");
			continue;
		}
		copy[eq - overrides[i]] = '\0';
		(void)config_assign(cfg, &ctx, where, 0, trim(copy),
		    trim(copy + (eq - overrides[i]) + 1));
		free(copy);
	}
	if (ctx.nerrors == 0)
		return cfg;
fail:
	config_free(cfg);
	free(priv);
	return NULL;
}

/* For mugai_config_load: the first error, and how many more. */
struct first_error {
	char	*err;
	size_t	 errlen;
	size_t	 first_len;	/* where the count goes */
	unsigned n;
};

static void
keep_first_error(void *arg, enum mugai_config_severity sev, const char *msg)
{
	struct first_error *f = arg;

	if (sev != MUGAI_CONFIG_ERROR || f->errlen == 0)
		return;
	if (f->n++ == 0) {
		snprintf(f->err, f->errlen, "%s", msg);
		f->first_len = strlen(f->err);
		return;
	}
	/* Rewritten for each further error: the count stays current. */
	snprintf(f->err + f->first_len, f->errlen - f->first_len, " (and %u "
	    "more; 'mugai check-config' lists them all)", f->n - 1);
}

struct mugai_config *
mugai_config_load(const char *path, char *const *overrides,
    size_t noverrides, char *err, size_t errlen)
{
	struct first_error f = { err, errlen, 0, 0 };

	if (errlen > 0)
		err[0] = '\0';
	return mugai_config_load_report(path, overrides, noverrides,
	    keep_first_error, &f);
}

struct mugai_config *
mugai_config_ref(struct mugai_config *cfg)
{
	struct mugai_config_priv *priv = (struct mugai_config_priv *)cfg;

	if (cfg != NULL)
		atomic_fetch_add(&priv->refs, 1);
	return cfg;
}

void
mugai_config_unref(struct mugai_config *cfg)
{
	struct mugai_config_priv *priv = (struct mugai_config_priv *)cfg;

	if (cfg == NULL || atomic_fetch_sub(&priv->refs, 1) != 1)
		return;
	config_free(cfg);
	free(priv);
}

static void
dump_size(FILE *fp, size_t n)
{
	if (n != 0 && n % (1024 * 1024 * 1024) == 0)
		fprintf(fp, "%zuG", n / (1024 * 1024 * 1024));
	else if (n != 0 && n % (1024 * 1024) == 0)
		fprintf(fp, "%zuM", n / (1024 * 1024));
	else if (n != 0 && n % 1024 == 0)
		fprintf(fp, "%zuK", n / 1024);
	else
		fprintf(fp, "%zu", n);
}

/*
 * A value as the file syntax needs it: a value may hold new lines (from
 * continuation lines), and each must be followed by white space again
 * or the next line would be read as a new key.
 */
static void
dump_text(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		fputc(*s, fp);
		if (*s == '\n')
			fputs("    ", fp);
	}
}

static void
dump_scan_options(FILE *fp, unsigned bits)
{
	const char *sep = "";
	size_t b;

	for (b = 0; b < 6; b++) {
		if (!(bits & (1u << b)))
			continue;
		fprintf(fp, "%s%s", sep, scan_option_names[b]);
		sep = ", ";
	}
}

void
mugai_config_dump(const struct mugai_config *cfg, FILE *fp)
{
	const char *base = (const char *)cfg;
	const struct config_key *k;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		fprintf(fp, "%s = ", k->name);
		switch (k->type) {
		case KEY_STR:
		case KEY_NETS:
		case KEY_RCPTS:
			dump_text(fp, *(char *const *)(base + k->off));
			break;
		case KEY_SIZE:
			dump_size(fp, *(const size_t *)(base + k->off));
			break;
		case KEY_UINT:
			fprintf(fp, "%u", *(const unsigned *)(base + k->off));
			break;
		case KEY_TIME:
			fprintf(fp, "%us", *(const unsigned *)(base + k->off));
			break;
		case KEY_BOOL:
			fputs(*(const int *)(base + k->off) ? "yes" : "no", fp);
			break;
		case KEY_CHARSET:
			fputs(cfg->output_charset == MUGAI_OUTPUT_UTF8 ?
			    "utf-8" : "iso-2022-jp", fp);
			break;
		case KEY_CSV_CHARSET:
			fputs(cfg->csv_utf8_bom ? "utf-8-bom" : "original", fp);
			break;
		case KEY_VIRUS_ACTION:
			fputs(cfg->virus_action == MUGAI_VIRUS_REJECT ? "reject" :
			    cfg->virus_action == MUGAI_VIRUS_DISCARD ? "discard" :
			    "quarantine-only", fp);
			break;
		case KEY_SCAN_OPTIONS:
			dump_scan_options(fp, cfg->clamav_scan_options);
			break;
		case KEY_POLICY:
			dump_text(fp, cfg->attachment_policy);
			break;
		case KEY_OFFICE_OUTPUT:
			fputs(cfg->office_output == MUGAI_OFFICE_OUTPUT_PDF ?
			    "pdf" : "ooxml", fp);
			break;
		}
		fputc('\n', fp);
	}
}

const char *
mugai_config_quarantine_db(const struct mugai_config *cfg, char *buf,
    size_t len)
{
	if (cfg->quarantine_db[0] != '\0')
		return cfg->quarantine_db;
	snprintf(buf, len, "%s/index.sqlite", cfg->quarantine_dir);
	return buf;
}
