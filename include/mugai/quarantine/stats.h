/*
 * mugai/quarantine/stats.h - figures for the monthly report: per day or
 * per month, how many messages came, were sanitised, converted, held,
 * rejected, carried a virus, and which types were removed, which
 * viruses found, how many conversions failed.
 *
 * Counted from the audit log's "message" lines (one per message, every
 * message: verdict, removed, converted, quarantined, signatures) and the
 * reports stored in the quarantine index (the parts of each changed
 * message: detected types of removed parts, conversion failures).
 * Periods are local calendar days or months.
 */
#ifndef MUGAI_QUARANTINE_STATS_H
#define MUGAI_QUARANTINE_STATS_H

#include <stddef.h>
#include <time.h>
#include "mugai/base/buf.h"
#include "mugai/quarantine/quarantine.h"

/* One period's counts. */
struct mugai_stats_row {
	char	 period[16];		/* "2026-12-03", "2026-12" or "total" */
	time_t	 start;			/* local midnight of its first day */
	size_t	 messages;		/* every message seen */
	size_t	 sanitised;		/* delivered with something changed */
	size_t	 converted;		/* with at least one part converted */
	size_t	 held;			/* original kept in the quarantine */
	size_t	 rejected;		/* refused (reject or discard) */
	size_t	 virus;			/* a virus signature found */
	size_t	 conversion_failures;	/* parts a conversion failed on */
};

/* A name and how often it was seen. */
struct mugai_stats_count {
	char	*name;
	size_t	 n;
};

struct mugai_stats {
	struct mugai_stats_row *rows;	/* periods with any message, oldest
					   first */
	size_t	 nrows;
	struct mugai_stats_row total;
	struct mugai_stats_count *removed_types; /* most first, at most top */
	size_t	 nremoved_types;
	struct mugai_stats_count *viruses;	/* most first, at most top */
	size_t	 nviruses;
	size_t	 skipped;		/* audit lines that could not be read */
};

/*
 * mugai_stats_compute - the figures for messages received in
 * [from, to) (0: no bound), per month when monthly, else per day; top:
 * the length of the two top lists (0: 10).  q may be NULL (then no
 * removed types and conversion failures: the index is not read).
 * Free with mugai_stats_free.
 */
mugai_status mugai_stats_compute(const struct mugai_config *cfg,
    struct mugai_quarantine *q, time_t from, time_t to, int monthly,
    size_t top, struct mugai_stats **out);
void mugai_stats_free(struct mugai_stats *s);

/*
 * mugai_stats_csv - s as CSV (CRLF lines): the period table with a
 * "total" row, an empty line, "removed_type,count" rows, an empty line,
 * "virus,count" rows.
 */
mugai_status mugai_stats_csv(const struct mugai_stats *s,
    struct mugai_buf *out);

#endif
