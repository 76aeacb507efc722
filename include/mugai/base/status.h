/*
 * mugai/base/status.h - status codes shared by every module of libmugai.
 *
 * Every fallible library function returns a mugai_status.  MUGAI_OK is
 * zero so that "if (rc != MUGAI_OK) goto out;" reads naturally.  Front
 * ends map statuses to their own protocol: the CLI to sysexits(3), the
 * milter to SMFIS_* codes.  Anything that is not MUGAI_OK while
 * sanitising must end as a temporary failure (fail closed).
 */
#ifndef MUGAI_STATUS_H
#define MUGAI_STATUS_H

typedef enum mugai_status {
	MUGAI_OK = 0,
	MUGAI_ERR_NOMEM,	/* allocation failed */
	MUGAI_ERR_LIMIT,	/* a hard cap was reached */
	MUGAI_ERR_IO,		/* read/write/fsync failed */
	MUGAI_ERR_CONFIG,	/* configuration is invalid */
	MUGAI_ERR_USAGE,	/* bad argument from the caller */
	MUGAI_ERR_PARSE,	/* input could not be parsed at all */
	MUGAI_ERR_SCAN,		/* virus scanner failed (not a detection) */
	MUGAI_ERR_NOTFOUND,	/* lookup found nothing */
	MUGAI_ERR_INTERNAL,	/* anything else: a bug or a library error */
	MUGAI_ERR_STATE		/* the object is not in a state that allows it
				   (another actor changed it first) */
} mugai_status;

/* mugai_status_str - short English name of a status, never NULL. */
const char *mugai_status_str(mugai_status st);

#endif
