/*
 * mugai/cdr/worker.h - run a sandboxed helper program on one document.
 *
 * Hostile formats (images, PDF, Office, archives) are parsed only in a
 * separate process: mugai-convert, or bubblewrap running LibreOffice.
 * The parent spawns it with posix_spawn (never fork: the milter is
 * threaded), in a process group of its own, with an empty environment
 * apart from PATH and LANG and no descriptors but stdin, stdout and
 * stderr.  The document goes to stdin, the result is read from stdout.
 * The parent enforces a wall-clock timeout and an output cap by killing
 * the whole process group; the caller validates what comes back.
 *
 * mugai-convert's own exit codes (MUGAI_CONVERT_EXIT_*) say why it
 * refused a document; any other ending is a failure of the worker.
 * Whatever the ending, the caller must not use the document as is: a
 * failed conversion means the attachment is removed and held.
 */
#ifndef MUGAI_WORKER_H
#define MUGAI_WORKER_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"

/* mugai-convert exit codes (shared by the worker and its parent). */
#define MUGAI_CONVERT_EXIT_OK		0
#define MUGAI_CONVERT_EXIT_ENCRYPTED	10	/* password protected */
#define MUGAI_CONVERT_EXIT_TOO_BIG	11	/* pixels, pages, members, ratio */
#define MUGAI_CONVERT_EXIT_BAD_INPUT	12	/* corrupt or unsupported */
#define MUGAI_CONVERT_EXIT_SANDBOX	13	/* the sandbox could not be set up */
#define MUGAI_CONVERT_EXIT_UNSAFE	14	/* e.g. path traversal in an archive */
#define MUGAI_CONVERT_EXIT_XFA		15	/* a dynamic XFA form (Adobe only) */
#define MUGAI_CONVERT_EXIT_USAGE	64

/*
 * What mugai-convert's ooxml mode writes, and its archive mode for a zip
 * that is an Office Open XML package: "MOOX", the length of the main
 * part's content type (u32, little-endian), the type (the plain form:
 * a macro-enabled main type is renamed), then the cleaned zip.  For a
 * binary workbook (xlsb) the type is
 * application/vnd.ms-excel.sheet.binary.macroEnabled.main and no zip
 * follows: LibreOffice has to make an xlsx of it first.
 */
#define MUGAI_OOXML_MAGIC	"MOOX"
#define MUGAI_OOXML_CT_MAX	256

struct mugai_worker_limits {
	unsigned timeout_s;		/* wall clock, waiting for a slot
					   included; then SIGKILL to the group */
	size_t	 output_max;		/* more on stdout kills the worker */
	unsigned max_workers;		/* run only while fewer than this many
					   gated workers run in this process;
					   0: not gated */
};

enum mugai_worker_end {
	MUGAI_WORKER_DONE,		/* exit 0: out holds the result */
	MUGAI_WORKER_EXIT,		/* exited non-zero: code */
	MUGAI_WORKER_SIGNAL,		/* killed by signal sig (crash, seccomp, rlimit) */
	MUGAI_WORKER_TIMEOUT,		/* ran past timeout_s and was killed */
	MUGAI_WORKER_OUTPUT		/* wrote more than output_max, killed */
};

struct mugai_worker_status {
	enum mugai_worker_end end;
	int	 code;			/* exit code for MUGAI_WORKER_EXIT; for
					   TIMEOUT the timeout (s), for OUTPUT
					   the cap (bytes, at most INT_MAX) */
	int	 sig;			/* signal for MUGAI_WORKER_SIGNAL */
	char	 message[256];		/* first line the worker wrote on stderr,
					   control characters as '?' */
};

/*
 * mugai_worker_run - run argv[0] (an absolute path) with argv, write
 * in[0..inlen) to its stdin, collect its stdout into out (which the
 * caller initialised; cleared first).  Returns MUGAI_OK whenever the
 * process ran, however it ended (see st); an error status only when it
 * could not be run at all (no such program, no memory, no pipes).
 * Thread-safe: SIGPIPE is blocked in the calling thread only, for the
 * call.  The environment passed on is PATH and LANG, plus ASAN_OPTIONS
 * and UBSAN_OPTIONS when set (in ASan builds ASAN_OPTIONS also gets an
 * RSS cap, as the worker cannot use RLIMIT_AS there).  When the worker
 * exits, anything left in its process group is killed.
 */
mugai_status mugai_worker_run(const char *const argv[], const void *in,
    size_t inlen, const struct mugai_worker_limits *lim,
    struct mugai_buf *out, struct mugai_worker_status *st);

/*
 * mugai_worker_convert - mugai_worker_run for mugai-convert (argv[0]),
 * through its zygote: a copy of mugai-convert started once per process
 * (per worker path), already linked and initialised, that forks one
 * fresh child per document.  The child enters the same sandbox before
 * it reads its document as a spawned worker does, and is never given a
 * second one.  Same arguments, limits, gate and endings as
 * mugai_worker_run; the zygote is started on first use, started again
 * when it has died, and when it cannot take a document the worker is
 * spawned as by mugai_worker_run.  Thread-safe; no fork in this
 * process.  Under ASan it is mugai_worker_run.
 */
mugai_status mugai_worker_convert(const char *const argv[], const void *in,
    size_t inlen, const struct mugai_worker_limits *lim,
    struct mugai_buf *out, struct mugai_worker_status *st);

/*
 * mugai_worker_zygote_stop - end this process's zygote, if one runs (it
 * also ends by itself when this process exits).
 */
void mugai_worker_zygote_stop(void);

/*
 * mugai_worker_describe - one line for the log: "exit 11: image is
 * 100000 x 100000 pixels", "killed by signal 31 (SIGSYS)", "timed out
 * after 30 s", "output over 52428800 bytes", each followed by ": " and
 * the message when there is one.
 */
void mugai_worker_describe(const struct mugai_worker_status *st, char *out,
    size_t outlen);

/*
 * mugai_worker_slot_take - take one of max worker slots (the gate of
 * mugai_worker_run) for the calling thread, waiting at most timeout_s
 * seconds: 1 when taken (always with max 0), 0 when the time ran out.
 * Until mugai_worker_slot_give, workers this thread runs use that slot
 * instead of taking one, so work done around a worker (the parent's
 * rebuild of a PDF from its pages, as large as the worker's output)
 * counts against convert_max_workers too.  Takes nest; give as often
 * as taken, with the same max.
 */
int mugai_worker_slot_take(unsigned max, unsigned timeout_s);
void mugai_worker_slot_give(unsigned max);

/*
 * mugai_worker_max - how many workers may run at once: convert_max_workers,
 * or when that is 0 the number of CPUs online.
 */
unsigned mugai_worker_max(const struct mugai_config *cfg);

/*
 * mugai_worker_path - the mugai-convert to run: convert_worker from the
 * config, else mugai-convert in the directory of the running program.
 * The environment variable MUGAI_CONVERT, when set and not empty,
 * overrides both (the tests use it).  Writes an absolute path;
 * MUGAI_ERR_NOTFOUND when it is relative or not executable,
 * MUGAI_ERR_LIMIT when it does not fit in outlen.
 */
mugai_status mugai_worker_path(const struct mugai_config *cfg, char *out,
    size_t outlen);

#endif
