/*
 * cmd_check_config.c - "mugai check-config": the file parsed (main.c did
 * that, and reported any syntax error with its line), then the things a
 * file cannot show by itself: templates that load, a ClamAV database
 * that exists, directories that can be created.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mugai/sanitize/notice.h"
#include "mugai/cdr/office.h"
#include "mugai/cdr/worker.h"
#include "cmd.h"

static int
check_database(const struct mugai_config *cfg, const char *where)
{
	DIR *d;
	struct dirent *e;
	int found = 0;
	const char *ext;

	if (!cfg->clamav_enable)
		return 0;
	if ((d = opendir(cfg->clamav_database_dir)) == NULL) {
		fprintf(stderr, "mugai: %s: clamav_database_dir %s: %s; run "
		    "freshclam or set clamav_database_dir\n", where,
		    cfg->clamav_database_dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL && !found) {
		ext = strrchr(e->d_name, '.');
		if (ext != NULL && (strcmp(ext, ".cvd") == 0 ||
		    strcmp(ext, ".cld") == 0 || strcmp(ext, ".ndb") == 0 ||
		    strcmp(ext, ".hdb") == 0 || strcmp(ext, ".ldb") == 0 ||
		    strcmp(ext, ".hsb") == 0 || strcmp(ext, ".cdb") == 0))
			found = 1;
	}
	closedir(d);
	if (!found) {
		fprintf(stderr, "mugai: %s: clamav_database_dir %s holds no "
		    "signatures; run freshclam\n", where,
		    cfg->clamav_database_dir);
		return -1;
	}
	return 0;
}

/* The nearest existing ancestor of path must be writable for us. */
static int
check_creatable(const char *key, const char *path, const char *where)
{
	char p[4096], *slash;
	struct stat st;

	snprintf(p, sizeof(p), "%s", path);
	while (stat(p, &st) != 0) {
		if ((slash = strrchr(p, '/')) == NULL || slash == p)
			return 0;
		*slash = '\0';
	}
	if (access(p, W_OK) != 0) {
		fprintf(stderr, "mugai: %s: %s %s: %s is not writable by this "
		    "user; run as the mail gateway user or change %s\n", where,
		    key, path, p, key);
		return -1;
	}
	return 0;
}

/*
 * The sandboxed worker must be there (without it every attachment with
 * a copy action defers the message); LibreOffice and the text layer's
 * font are optional.
 */
static int
check_converters(const struct mugai_config *cfg, const char *where)
{
	char path[4096];

	if (mugai_worker_path(cfg, path, sizeof(path)) != MUGAI_OK) {
		fprintf(stderr, "mugai: %s: convert_worker: mugai-convert is "
		    "not executable %s%s; install it beside mugai or set "
		    "convert_worker\n", where, cfg->convert_worker[0] ?
		    "at " : "beside this program", cfg->convert_worker);
		return -1;
	}
	if (!mugai_office_available(cfg))
		fprintf(stderr, "mugai: %s: warning: %s, %s or "
		    "/usr/bin/prlimit is not executable: legacy Office and "
		    "RTF attachments will be held (install "
		    "libreoffice-core-nogui, bubblewrap and util-linux)\n",
		    where, cfg->libreoffice_path, cfg->bwrap_path);
	if (cfg->pdf_text_layer && access(cfg->pdf_text_font, R_OK) != 0)
		fprintf(stderr, "mugai: %s: warning: pdf_text_font %s cannot "
		    "be read: PDF copies will have no text layer (install "
		    "fonts-ipafont-gothic)\n", where, cfg->pdf_text_font);
	return 0;
}

int
cmd_check_config(int argc, char **argv, struct mugai_config *cfg)
{
	const char *where = cfg->path ? cfg->path : "built-in defaults";
	char err[1024];
	int bad = 0, verbose = argc > 1 && strcmp(argv[argc - 1], "-v") == 0;

	if (mugai_notice_check(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "mugai: %s: notice_template_dir: %s\n", where, err);
		bad = 1;
	}
	if (!mugai_notice_url_ok(cfg->web_public_url)) {
		fprintf(stderr, "mugai: %s: web_public_url \"%.200s\" is not an"
		    " http:// or https:// URL without spaces or quotes; fix it or"
		    " leave it empty (no request link in the notice)\n", where,
		    cfg->web_public_url);
		bad = 1;
	}
	if (check_database(cfg, where) != 0)
		bad = 1;
	if (cfg->quarantine_enable &&
	    check_creatable("quarantine_dir", cfg->quarantine_dir, where) != 0)
		bad = 1;
	if (cfg->audit_log[0] != '\0' &&
	    check_creatable("audit_log", cfg->audit_log, where) != 0)
		bad = 1;
	if (check_converters(cfg, where) != 0)
		bad = 1;
	if (verbose)
		mugai_config_dump(cfg, stdout);
	if (bad)
		return EX_CONFIG;
	printf("%s: OK\n", where);
	return EX_OK;
}
