/*
 * typing.c - detect file types with libmagic (see mugai/typing.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <magic.h>

#include "mugai/log.h"
#include "mugai/typing.h"

static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;
static int magic_key_ok;

static void
magic_handle_close(void *m)
{
	magic_close((magic_t)m);
}

static void
magic_key_init(void)
{
	magic_key_ok = pthread_key_create(&magic_key, magic_handle_close) == 0;
}

/* This thread's libmagic handle, opened on first use. */
static magic_t
magic_handle(void)
{
	magic_t m;

	pthread_once(&magic_once, magic_key_init);
	if (!magic_key_ok)
		return NULL;
	if ((m = pthread_getspecific(magic_key)) != NULL)
		return m;
	/*
	 * No decompression (MAGIC_COMPRESS) and no following of anything
	 * outside the buffer: typing looks at the bytes it is given only.
	 */
	if ((m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) == NULL)
		return NULL;
	if (magic_load(m, NULL) != 0) {
		mugai_log(LOG_ERR, NULL, "libmagic: cannot load its database: "
		    "%s; reinstall libmagic-mgc", magic_error(m));
		magic_close(m);
		return NULL;
	}
	if (pthread_setspecific(magic_key, m) != 0) {
		magic_close(m);
		return NULL;
	}
	return m;
}

/*
 * A zip libmagic could not name (an Office file whose zip starts with
 * a folder entry, say) is still a zip: application/zip, so that the
 * archive action sends it to mugai-convert, which recognises an Office
 * package by its [Content_Types].xml and cleans it as one.  Only the
 * signature is looked at here: the zip is parsed in the sandbox.
 */
static void
type_zip_fallback(const void *data, size_t len, char *out, size_t outlen)
{
	if (len >= 4 && memcmp(data, "PK\003\004", 4) == 0 &&
	    strcmp(out, "application/octet-stream") == 0)
		snprintf(out, outlen, "application/zip");
}

mugai_status
mugai_type_detect(const void *data, size_t len, char *out, size_t outlen)
{
	magic_t m;
	const char *t;
	size_t i;

	if (len == 0) {
		snprintf(out, outlen, "application/x-empty");
		return MUGAI_OK;
	}
	if ((m = magic_handle()) == NULL)
		return MUGAI_ERR_INTERNAL;
	if ((t = magic_buffer(m, data, len)) == NULL) {
		mugai_log(LOG_ERR, NULL, "libmagic: %s", magic_error(m));
		return MUGAI_ERR_INTERNAL;
	}
	snprintf(out, outlen, "%s", t);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	type_zip_fallback(data, len, out, outlen);
	return MUGAI_OK;
}

static const char *const exec_types[] = {
	"application/x-dosexec", "application/x-executable",
	"application/x-sharedlib", "application/x-pie-executable",
	"application/x-mach-binary", "application/x-msdownload",
	"application/x-msi", "application/vnd.microsoft.portable-executable",
	"text/x-shellscript", "text/x-msdos-batch", "application/javascript",
	"text/javascript", "text/x-perl", "text/x-python", "text/x-php",
	"application/x-elf", "application/x-ms-shortcut", "application/hta",
};

int
mugai_type_is_executable(const char *detected)
{
	size_t i;

	for (i = 0; i < sizeof(exec_types) / sizeof(exec_types[0]); i++)
		if (strcasecmp(detected, exec_types[i]) == 0)
			return 1;
	return 0;
}

/*
 * Extensions and the detected types that may honestly carry them.  A
 * prefix ending in '/' matches any subtype.  Only common extensions are
 * listed: an unknown extension is not a mismatch.
 */
static const struct {
	const char *ext;
	const char *types;	/* space separated */
} ext_types[] = {
	{ "pdf", "application/pdf" },
	{ "txt", "text/ application/x-empty" },
	{ "csv", "text/ application/csv application/x-empty" },
	{ "htm", "text/" }, { "html", "text/" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "png", "image/png" }, { "gif", "image/gif" },
	{ "bmp", "image/bmp image/x-ms-bmp" }, { "tif", "image/tiff" },
	{ "tiff", "image/tiff" }, { "webp", "image/webp" },
	{ "zip", "application/zip" },
	{ "gz", "application/gzip" }, { "7z", "application/x-7z-compressed" },
	{ "rar", "application/x-rar application/vnd.rar" },
	{ "lzh", "application/x-lha application/x-lzh-compressed" },
	{ "doc", "application/msword application/x-ole-storage application/cdfv2" },
	{ "xls", "application/vnd.ms-excel application/x-ole-storage application/cdfv2" },
	{ "ppt", "application/vnd.ms-powerpoint application/x-ole-storage application/cdfv2" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document application/zip application/octet-stream" },
	{ "docm", "application/vnd.openxmlformats-officedocument.wordprocessingml.document application/vnd.ms-word.document.macroenabled.12 application/zip application/octet-stream" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet application/zip application/octet-stream" },
	{ "xlsm", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet application/vnd.ms-excel.sheet.macroenabled.12 application/zip application/octet-stream" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation application/zip application/octet-stream" },
	{ "exe", "application/x-dosexec application/vnd.microsoft.portable-executable" },
	{ "dll", "application/x-dosexec application/vnd.microsoft.portable-executable" },
	{ "eml", "message/rfc822 text/" },
	{ "ics", "text/" }, { "xml", "text/xml application/xml" },
	{ "json", "application/json text/" },
	{ "rtf", "text/rtf" },
};

static int
type_in_list(const char *detected, const char *list)
{
	const char *p = list, *e;
	size_t n;

	while (*p != '\0') {
		e = strchr(p, ' ');
		n = e ? (size_t)(e - p) : strlen(p);
		if (p[n - 1] == '/' ? strncasecmp(detected, p, n) == 0 :
		    (strlen(detected) == n && strncasecmp(detected, p, n) == 0))
			return 1;
		p += n;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static const char *
file_ext(const char *filename)
{
	const char *dot;

	if (filename == NULL || (dot = strrchr(filename, '.')) == NULL ||
	    dot[1] == '\0' || strlen(dot + 1) > 8)
		return NULL;
	return dot + 1;
}

/*
 * The ext_types row whose list names this declared type exactly, so a
 * declared application/pdf expects what a .pdf name expects.
 */
static const char *
declared_types(const char *declared)
{
	const char *p, *e;
	size_t i, n = strlen(declared);

	for (i = 0; i < sizeof(ext_types) / sizeof(ext_types[0]); i++) {
		for (p = ext_types[i].types; *p != '\0'; p = e) {
			e = strchr(p, ' ');
			e = e ? e + 1 : p + strlen(p);
			if (strncasecmp(p, declared, n) == 0 &&
			    (p[n] == ' ' || p[n] == '\0'))
				return ext_types[i].types;
		}
	}
	return NULL;
}

const char *
mugai_type_mismatch(const char *declared, const char *filename,
    const char *detected, char *buf, size_t buflen)
{
	const char *ext = file_ext(filename), *list;
	size_t i;

	if (ext != NULL) {
		for (i = 0; i < sizeof(ext_types) / sizeof(ext_types[0]); i++) {
			if (strcasecmp(ext, ext_types[i].ext) != 0)
				continue;
			if (!type_in_list(detected, ext_types[i].types)) {
				snprintf(buf, buflen, "name says .%s but the "
				    "content is %s", ext, detected);
				return buf;
			}
			break;
		}
	}
	if (declared == NULL || *declared == '\0' ||
	    strcasecmp(declared, "application/octet-stream") == 0 ||
	    strcasecmp(declared, detected) == 0)
		return NULL;
	/* Executables hide behind any declared type; others are compared
	 * with what the declared type may honestly contain. */
	if ((mugai_type_is_executable(detected) &&
	    !mugai_type_is_executable(declared)) ||
	    ((list = declared_types(declared)) != NULL &&
	    !type_in_list(detected, list))) {
		snprintf(buf, buflen, "declared as %s but the content is %s",
		    declared, detected);
		return buf;
	}
	return NULL;
}

/* Names that a desktop opens as text; anything else gets ".txt". */
int
mugai_name_is_text(const char *name)
{
	static const char *const exts[] = { ".txt", ".csv", ".log", ".text" };
	size_t n = strlen(name), i, e;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}
