/*
 * mugai/scan/scan.h - in-process virus scanning with libclamav.
 *
 * One scanner per process.  It holds one compiled engine, shared read
 * only by every thread; a reload compiles a new engine in a background
 * thread and swaps it in atomically.  Scans in flight finish on the old
 * engine, freed when its last user is done (reference count).  At most
 * two engines exist at once.  Everything is scanned from memory: no temp
 * files.
 */
#ifndef MUGAI_SCAN_H
#define MUGAI_SCAN_H

#include <stddef.h>
#include "mugai/base/status.h"
#include "mugai/base/config.h"

struct mugai_scanner;

enum mugai_scan_outcome {
	MUGAI_SCAN_CLEAN,
	MUGAI_SCAN_INFECTED,	/* name holds the signature */
	MUGAI_SCAN_UNSCANNED	/* encrypted, or a scan limit was reached:
				   never treated as clean; name says why */
};

struct mugai_scan_verdict {
	enum mugai_scan_outcome outcome;
	char	name[128];
};

/*
 * mugai_scanner_new - cl_init, load and compile cfg->clamav_database_dir
 * with cfg's limits and options.  A missing or empty database fails with
 * MUGAI_ERR_CONFIG and an err line naming the directory and telling the
 * admin to run freshclam.  If cfg->clamav_check_interval > 0, starts a
 * watcher thread that reloads when the directory changes.
 */
mugai_status mugai_scanner_new(const struct mugai_config *cfg,
    struct mugai_scanner **out, char *err, size_t errlen);

/* mugai_scanner_free - stop the watcher, free engines; NULL is safe. */
void mugai_scanner_free(struct mugai_scanner *sc);

/*
 * mugai_scanner_scan - scan data[0..len).  label names the object in log
 * lines ("part 1.2 invoice.zip").  Returns MUGAI_OK with a verdict, or
 * MUGAI_ERR_SCAN (library error, out of memory): callers tempfail.
 */
mugai_status mugai_scanner_scan(struct mugai_scanner *sc, const void *data,
    size_t len, const char *label, struct mugai_scan_verdict *v);

/*
 * mugai_scanner_scan_copy - as mugai_scanner_scan, for a sanitised copy
 * that mugai wrote from a part scanned with mugai_scanner_scan; without
 * the perceptual hash of pictures when clamav_copy_image_hash is off
 * (see scan.c).
 */
mugai_status mugai_scanner_scan_copy(struct mugai_scanner *sc,
    const void *data, size_t len, const char *label,
    struct mugai_scan_verdict *v);

/*
 * mugai_scanner_scan_message - scan a whole message.  decode 0: its bytes
 * as they are, with the signatures for mail and for any file, but
 * without libclamav's own MIME decoding (which writes every part to a
 * temporary file): for callers that scan each decoded part themselves
 * with mugai_scanner_scan.  decode 1: with that decoding, as
 * mugai_scanner_scan does (for content the caller did not decode), and
 * never answered from libclamav's cache of clean objects, which does not
 * know that an earlier clean answer came without decoding.
 */
mugai_status mugai_scanner_scan_message(struct mugai_scanner *sc,
    const void *data, size_t len, int decode, const char *label,
    struct mugai_scan_verdict *v);

/* How many scans ran and the CPU time they took (benches, logs). */
struct mugai_scan_stats {
	unsigned long long scans;
	unsigned long long cpu_ns;
};

void mugai_scanner_stats(struct mugai_scanner *sc,
    struct mugai_scan_stats *st);

/*
 * mugai_scanner_reload - load and compile a fresh engine now, in the
 * caller's thread, and swap it in.  On failure the old engine stays,
 * the error is logged and returned.
 */
mugai_status mugai_scanner_reload(struct mugai_scanner *sc, char *err,
    size_t errlen);

/*
 * mugai_scanner_request_reload - ask the watcher thread to reload soon
 * (for SIGHUP, called from a normal thread, not a signal handler).
 */
void mugai_scanner_request_reload(struct mugai_scanner *sc);

/* mugai_scanner_generation - how many engines were swapped in (tests, logs). */
unsigned long mugai_scanner_generation(struct mugai_scanner *sc);

#endif
