/*
 * mugai/base/log.h - logging for libmugai and its front ends.
 *
 * One process-wide sink chosen at start-up: syslog (the milter) or
 * stderr (the CLI).  Every line carries an id: the MTA queue id in the
 * milter, the X-Mugai-Id in the CLI, or "-" when there is none yet.
 * mugai_log() is thread safe (syslog(3) and a single fprintf per line).
 */
#ifndef MUGAI_LOG_H
#define MUGAI_LOG_H

#include <syslog.h>

enum mugai_log_sink {
	MUGAI_LOG_STDERR,
	MUGAI_LOG_SYSLOG,
	MUGAI_LOG_NONE
};

/*
 * mugai_log_open - choose the sink; call once at start-up before threads.
 * facility is a LOG_* facility for syslog; min_level drops lines above it
 * (LOG_INFO by default, LOG_DEBUG for verbose).
 */
void mugai_log_open(const char *ident, enum mugai_log_sink sink,
    int facility, int min_level);

/* mugai_log_facility - map "mail", "local0".."local7", "daemon" to LOG_*; -1 if unknown. */
int mugai_log_facility(const char *name);

/* mugai_log - one line "id: message" at the given LOG_* level. */
void mugai_log(int level, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
