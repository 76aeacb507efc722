/*
 * mugai/base/config.h - the mugai configuration: one struct, loaded from a
 * Postfix main.cf-style file ("key = value", '#' comments, lines that
 * start with white space continue the previous value) plus "-o key=value"
 * overrides.  Every key has a built-in default, so no file is needed.
 *
 * A loaded config is immutable and reference counted: the milter swaps
 * in a new one on SIGHUP while messages in flight keep the old one.
 *
 * Value syntax: sizes take K, M, G suffixes (powers of 1024); durations
 * take s, m, h, d suffixes (seconds when bare); booleans are yes/no;
 * lists are separated by commas and/or white space.
 */
#ifndef MUGAI_CONFIG_H
#define MUGAI_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "mugai/base/status.h"

struct mugai_policy;		/* see mugai/base/policy.h */

enum mugai_output_charset {
	MUGAI_OUTPUT_UTF8,
	MUGAI_OUTPUT_ISO2022JP		/* falls back to UTF-8 per message */
};

enum mugai_virus_action {
	MUGAI_VIRUS_REJECT,		/* 550 at SMTP, CLI exit 2 */
	MUGAI_VIRUS_DISCARD,		/* accept and drop, original kept */
	MUGAI_VIRUS_QUARANTINE_ONLY	/* like discard; the name says why */
};

/* What LibreOffice makes of legacy Office and RTF (office_output). */
enum mugai_office_output {
	MUGAI_OFFICE_OUTPUT_OOXML,	/* docx/xlsx/pptx, then the ooxml clean */
	MUGAI_OFFICE_OUTPUT_PDF		/* PDF, then re-rendered as any PDF */
};

/* Bits of clamav_scan_options. */
#define MUGAI_SCAN_ARCHIVE	0x01u
#define MUGAI_SCAN_MAIL		0x02u
#define MUGAI_SCAN_OLE2		0x04u
#define MUGAI_SCAN_PDF		0x08u
#define MUGAI_SCAN_HTML		0x10u
#define MUGAI_SCAN_HEURISTICS	0x20u

struct mugai_config {
	char	*path;			/* file it came from, NULL: built in */

	/* Limits on untrusted input. */
	size_t	 max_message_size;	/* whole raw message, bytes */
	unsigned max_mime_depth;	/* nesting of multiparts/rfc822 */
	unsigned max_mime_parts;	/* MIME parts in one message */
	size_t	 max_part_size;		/* decoded size of one part */
	unsigned max_html_depth;	/* element nesting kept by HTML->text */
	size_t	 max_header_size;	/* one header field, bytes */

	/* What the recipient gets. */
	enum mugai_output_charset output_charset;
	int	 csv_utf8_bom;		/* csv_charset: 0 original, 1 utf-8-bom */
	char	*notice_template_dir;	/* "" : built-in templates */
	char	*admin_contact;		/* who to ask for an original */
	char	*web_public_url;	/* mugai-web as users reach it; "": the
					   notice has no request link */
	char	*attachment_policy;	/* the rule text ... */
	struct mugai_policy *policy;	/* ... and the same rules parsed */

	/* Virus scanning (libclamav, in process). */
	int	 clamav_enable;
	char	*clamav_database_dir;
	size_t	 clamav_max_filesize;
	size_t	 clamav_max_scansize;
	unsigned clamav_max_recursion;
	unsigned clamav_max_files;
	unsigned clamav_max_scantime;	/* seconds */
	unsigned clamav_scan_options;	/* MUGAI_SCAN_* bits */
	unsigned clamav_check_interval;	/* seconds; 0: never */
	char	*clamav_tmp_dir;	/* "": spool_dir */
	int	 clamav_copy_image_hash; /* hash the pictures of copies */
	enum mugai_virus_action virus_action;

	/* Quarantine of originals and the audit trail. */
	int	 quarantine_enable;
	char	*quarantine_dir;
	char	*quarantine_db;		/* "": quarantine_dir/index.sqlite;
					   postgresql://... or a conninfo:
					   PostgreSQL */
	char	*quarantine_db_password_file; /* "": PGPASSWORD, ~/.pgpass */
	unsigned quarantine_db_pool;	/* PostgreSQL connections a process */
	char	*audit_log;
	unsigned quarantine_retention_days;
	unsigned quarantine_busy_timeout; /* seconds */
	size_t	 quarantine_notice_max;	/* bytes of notice and text indexed */
	char	*sendmail_path;

	/* The milter daemon. */
	char	*milter_socket;		/* unix:/path or inet:PORT@HOST */
	char	*pid_file;
	char	*run_user;		/* "": keep the starting user */
	char	*log_facility;
	int	 log_verbose;
	char	*spool_dir;
	size_t	 spool_memory_max;	/* bigger messages go to a file */
	size_t	 milter_body_chunk;	/* bytes per smfi_replacebody call */
	unsigned milter_timeout;	/* seconds, libmilter smfi_settimeout */
	size_t	 milter_memory_max;	/* messages sanitised at once, x2 */
	unsigned milter_memory_wait;	/* seconds a message waits for it */
	unsigned shutdown_timeout;	/* seconds to finish in-flight mail */
	char	*bypass_client_networks; /* list of CIDR; "": none */
	char	*bypass_recipients;	/* list of addresses or @domains */

	/* Sanitised copies of attachments (sandboxed mugai-convert). */
	char	*convert_worker;	/* "": mugai-convert beside the program */
	unsigned convert_timeout;	/* seconds, wall clock, per document */
	unsigned convert_message_timeout; /* seconds for a whole message's
					   copies, counted from its start */
	unsigned convert_max_workers;	/* workers at once; 0: CPUs online */
	int	 convert_zygote;	/* fork workers from a zygote */
	size_t	 convert_memory;	/* address space of one worker */
	size_t	 convert_max_output;	/* bytes a worker may write */
	size_t	 image_max_pixels;	/* width x height, checked before decoding */
	unsigned pdf_max_pages;
	unsigned pdf_dpi;
	int	 pdf_text_layer;	/* copies carry the original's words */
	char	*pdf_text_font;		/* font file the words are set in */
	int	 pdf_ocr;		/* Tesseract on pages without words */
	char	*pdf_ocr_languages;	/* its -l, "jpn+eng" */
	char	*pdf_ocr_tesseract;	/* its path */
	unsigned pdf_text_max_words;	/* per document */
	size_t	 pdf_text_max_bytes;	/* per document */
	int	 pdf_bilevel;		/* grey pages in black and white */
	int	 pdf_mixed_raster;	/* text as fax over JPEG pictures */
	unsigned archive_max_members;
	size_t	 archive_max_size;	/* all members unpacked */
	unsigned archive_max_ratio;	/* unpacked / packed */
	unsigned archive_max_depth;	/* archives inside archives */
	char	*libreoffice_path;	/* soffice; missing: legacy Office held */
	char	*bwrap_path;
	unsigned office_timeout;	/* seconds for one LibreOffice run */
	enum mugai_office_output office_output;
	size_t	 office_memory;		/* RLIMIT_AS of the sandbox */
	size_t	 office_tmpfs_size;	/* its only writable directory */
	unsigned office_max_processes;	/* RLIMIT_NPROC */

	/* The web console (mugai-web). */
	char	*web_listen;		/* ADDRESS:PORT, IPv6 as [ADDR]:PORT */
	char	*web_tls_cert;		/* PEM files; both "": plain HTTP */
	char	*web_tls_key;
	char	*web_users;		/* accounts, "mugai web-user" */
	char	*web_pid_file;
	unsigned web_session_timeout;	/* seconds idle before logout */
	unsigned web_max_sessions;	/* open sessions at once */
	unsigned web_login_max_failures; /* per user and per address */
	unsigned web_login_lockout;	/* seconds a throttled login waits */
	unsigned web_max_connections;
	unsigned web_max_results;	/* messages one search reads */
};

enum mugai_config_severity {
	MUGAI_CONFIG_ERROR,	/* the configuration is refused */
	MUGAI_CONFIG_WARNING	/* it loads, but is probably not as meant */
};

/*
 * mugai_config_report - called for each problem found while loading, in
 * order; msg is one line, "FILE:LINE: key: problem; what to do" (or
 * "-o key=value: ..." for an override).
 */
typedef void mugai_config_report(void *arg,
    enum mugai_config_severity sev, const char *msg);

/*
 * mugai_config_load_report - read path (NULL: built-in defaults only),
 * then apply overrides[0..noverrides) of the form "key=value".  Every
 * line is checked, so report hears of every error, not only the first:
 * bad values (bypass lists with the parser the milter uses: a CIDR with
 * a prefix beyond /32 or /128, an octet above 255, a recipient that is
 * not user@domain or @domain), unknown keys, NUL bytes.  Warnings: a key
 * the file sets twice, a bypass network that takes in every client
 * (0.0.0.0/0, ::/0).  report may be NULL.  Returns NULL when there was
 * any error; else the configuration, with one reference.  "mugai
 * check-config" and mugai-milter both load through this.
 */
struct mugai_config *mugai_config_load_report(const char *path,
    char *const *overrides, size_t noverrides, mugai_config_report *report,
    void *arg);

/*
 * mugai_config_load - the same, for callers with one line to show: on
 * failure err holds the first error ("FILE:LINE: problem; what to do")
 * and how many more there were.
 */
struct mugai_config *mugai_config_load(const char *path,
    char *const *overrides, size_t noverrides, char *err, size_t errlen);

/* mugai_config_ref / mugai_config_unref - share and release; unref(NULL) is safe. */
struct mugai_config *mugai_config_ref(struct mugai_config *cfg);
void mugai_config_unref(struct mugai_config *cfg);

/*
 * mugai_config_dump - write every key with its effective value, in file
 * syntax, to fp (what "mugai check-config -v" prints).
 */
void mugai_config_dump(const struct mugai_config *cfg, FILE *fp);

/* mugai_config_quarantine_db - effective path of the quarantine index. */
const char *mugai_config_quarantine_db(const struct mugai_config *cfg,
    char *buf, size_t len);

#endif
