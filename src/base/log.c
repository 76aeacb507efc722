/*
 * log.c - process-wide log sink (see mugai/base/log.h).
 *
 * The sink is set once before threads start and only read afterwards,
 * so it needs no lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mugai/base/log.h"

static enum mugai_log_sink log_sink = MUGAI_LOG_STDERR;
static int log_min_level = LOG_INFO;
static const char *log_ident = "mugai";

void
mugai_log_open(const char *ident, enum mugai_log_sink sink, int facility,
    int min_level)
{
	log_ident = ident;
	log_sink = sink;
	log_min_level = min_level;
	if (sink == MUGAI_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

int
mugai_log_facility(const char *name)
{
	static const struct { const char *name; int fac; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(name, tab[i].name) == 0)
			return tab[i].fac;
	return -1;
}

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT:	return "fatal";
	case LOG_ERR:					return "error";
	case LOG_WARNING:				return "warning";
	case LOG_NOTICE: case LOG_INFO:			return "info";
	default:					return "debug";
	}
}

void
mugai_log(int level, const char *id, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (level > log_min_level || log_sink == MUGAI_LOG_NONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (id == NULL || *id == '\0')
		id = "-";
	if (log_sink == MUGAI_LOG_SYSLOG)
		syslog(level, "%s: %s", id, msg);
	else
		fprintf(stderr, "%s: %s: %s: %s\n", log_ident, level_name(level),
		    id, msg);
}
