/*
 * status.c - names of mugai_status values, for log lines and reports.
 */
#include "mugai/base/status.h"

const char *
mugai_status_str(mugai_status st)
{
	switch (st) {
	case MUGAI_OK:			return "ok";
	case MUGAI_ERR_NOMEM:		return "out of memory";
	case MUGAI_ERR_LIMIT:		return "limit exceeded";
	case MUGAI_ERR_IO:		return "I/O error";
	case MUGAI_ERR_CONFIG:		return "configuration error";
	case MUGAI_ERR_USAGE:		return "usage error";
	case MUGAI_ERR_PARSE:		return "parse error";
	case MUGAI_ERR_SCAN:		return "scanner error";
	case MUGAI_ERR_NOTFOUND:	return "not found";
	case MUGAI_ERR_INTERNAL:	return "internal error";
	case MUGAI_ERR_STATE:		return "state conflict";
	}
	return "unknown status";
}
