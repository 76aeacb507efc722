/*
 * mugai-convert - the sandboxed worker: one hostile document on stdin,
 * primitive data on stdout (see convert.h and mugai/cdr/worker.h).
 *
 *   mugai-convert MODE [--name=VALUE]...
 *
 * MODE is image, pdf, ooxml, archive, tnef or ole2, or one of the test-* modes that
 * show the sandbox at work (testmodes.c).  "mugai-convert zygote" is the
 * zygote (zygote.c), which runs this same code in a fresh child per
 * document.  Options carry the limits
 * from the parent's config.  The sandbox is entered before the first
 * byte of the document is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "testmodes.h"

#define INPUT_MAX	((size_t)1 << 30)

static const struct {
	const char *name;
	convert_fn *fn;
	unsigned needs;
} modes[] = {
	{ "image", convert_image, 0 },
	{ "pdf", convert_pdf, SANDBOX_READ_FILES },
	{ "ooxml", convert_ooxml_framed, 0 },
	{ "archive", convert_archive, 0 },
	{ "tnef", convert_tnef, 0 },
	{ "ole2", convert_ole2, 0 },
};


static int
usage(const char *why)
{
	fprintf(stderr, "mugai-convert: %s; usage: mugai-convert "
	    "image|pdf|ooxml|archive|tnef|ole2 [--memory=N] [--cpu=S] [--max-pixels=N] "
	    "[--max-pages=N] [--dpi=N] [--max-members=N] [--max-total=N] "
	    "[--max-ratio=N] [--max-words=N] [--max-text=N]\n", why);
	return MUGAI_CONVERT_EXIT_USAGE;
}

/* "--name=NUMBER" into *val; 1 when arg was that option, -1 when bad. */
static int
opt_num(const char *arg, const char *name, unsigned long long *val)
{
	size_t n = strlen(name);
	char *end;

	if (strncmp(arg, name, n) != 0 || arg[n] != '=')
		return 0;
	errno = 0;
	*val = strtoull(arg + n + 1, &end, 10);
	if (errno != 0 || end == arg + n + 1 || *end != '\0')
		return -1;
	return 1;
}

static int
parse_opts(int argc, char **argv, struct convert_opts *o)
{
	unsigned long long v;
	int i, r;

	memset(o, 0, sizeof(*o));
	o->memory = (size_t)1 << 30;
	o->cpu_s = 60;
	o->max_pixels = 50000000;
	o->max_pages = 100;
	o->dpi = 150;
	o->max_members = 1000;
	o->max_total = (size_t)100 << 20;
	o->max_ratio = 100;
	o->max_words = 100000;
	o->max_text = (size_t)4 << 20;
	for (i = 2; i < argc; i++) {
#define NUM(opt, field) \
		if ((r = opt_num(argv[i], opt, &v)) < 0) \
			return -1; \
		if (r > 0) { o->field = v; continue; }
		NUM("--memory", memory)
		NUM("--cpu", cpu_s)
		NUM("--max-pixels", max_pixels)
		NUM("--max-pages", max_pages)
		NUM("--dpi", dpi)
		NUM("--max-members", max_members)
		NUM("--max-total", max_total)
		NUM("--max-ratio", max_ratio)
		NUM("--max-words", max_words)
		NUM("--max-text", max_text)
#undef NUM
		return -1;
	}
	return 0;
}

static int
read_all(struct mugai_buf *in)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(0, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || mugai_buf_append(in, chunk, (size_t)n) != MUGAI_OK)
			return -1;
	}
}

static int
write_all(const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(1, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One document, in a fresh process: see the top. */
static int
convert_main(int argc, char **argv)
{
	static char chatter[4096];
	struct convert_opts o;
	struct mugai_buf in, out;
	FILE *quiet;
	char why[256] = "";
	size_t i;
	int rc;

	if (argc < 2)
		return usage("no mode");
	if (parse_opts(argc, argv, &o) != 0)
		return usage("bad option");
	if (strncmp(argv[1], "test-", 5) == 0)
		return convert_test_mode(argv[1], &o);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			break;
	if (i == sizeof(modes) / sizeof(modes[0]))
		return usage("unknown mode");
	/*
	 * What reads files on first use is loaded now, while it may:
	 * libzip and libarchive convert times (the zone), archive names
	 * need a locale and conversion tables, PDF pages need fontconfig.
	 */
	tzset();
	if ((modes[i].fn == convert_archive || modes[i].fn == convert_tnef) &&
	    convert_archive_prepare() != 0)
		fprintf(stderr, "names and text in CP932 may be lossy\n");
	if (modes[i].fn == convert_ole2)
		(void)convert_ole2_prepare();
	/*
	 * A library that prints to stdout (libytnef does, on bad input)
	 * must not write into the stream the parent parses, nor push the
	 * mode's own reason off the first line of stderr: stdio's stdout
	 * becomes a small buffer in memory that nobody reads (glibc lets a
	 * program assign stdout).  The result still goes to descriptor 1
	 * with write().
	 */
	fflush(stdout);
	if ((quiet = fmemopen(chatter, sizeof(chatter), "w")) == NULL) {
		fprintf(stderr, "cannot set up the output\n");
		return MUGAI_CONVERT_EXIT_SANDBOX;
	}
	stdout = quiet;
	if (modes[i].fn == convert_pdf && convert_pdf_prepare() != 0)
		fprintf(stderr, "fontconfig did not load\n");
	if (sandbox_enter(&o, modes[i].needs, why, sizeof(why)) != 0) {
		fprintf(stderr, "sandbox: %s\n", why);
		return MUGAI_CONVERT_EXIT_SANDBOX;
	}
	mugai_buf_init(&in, INPUT_MAX);
	mugai_buf_init_big(&out, 0);
	if (read_all(&in) != 0) {
		fprintf(stderr, "cannot read the document from stdin\n");
		return MUGAI_CONVERT_EXIT_BAD_INPUT;
	}
	rc = modes[i].fn((const unsigned char *)(in.data ? in.data : ""),
	    in.len, &o, &out, why, sizeof(why));
	if (rc != MUGAI_CONVERT_EXIT_OK) {
		fprintf(stderr, "%s\n", why[0] ? why : "refused");
		return rc;
	}
	if (write_all(out.data ? out.data : "", out.len) != 0)
		return MUGAI_CONVERT_EXIT_BAD_INPUT;
	mugai_buf_free(&in);
	mugai_buf_free(&out);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "zygote") == 0)
		return convert_zygote(convert_main);
	return convert_main(argc, argv);
}
