/*
 * mugai/quarantine/request.h - requests for an original (原本取り出し申請).
 *
 * A staff member asks for the original of a stored message, with a
 * reason; an admin approves (the message is released, to its original
 * recipients or another address) or refuses, with a reason too.  The
 * requester is told by mail (template request-decision.txt, sent
 * through sendmail_path like a release).  Every step is recorded in the
 * message's history and the audit log with the user's name.
 *
 * States of a request, each change one atomic compare-and-set in the
 * index, so of two admins deciding one request exactly one wins and the
 * other gets MUGAI_ERR_STATE with nothing changed:
 *
 *   pending    --approve claims it-->    approving
 *   approving  --the release worked-->   approved
 *   approving  --the release failed-->   pending (the admin may retry)
 *   pending    --refuse-->               refused
 *
 * An "approving" request left by a crash may be taken over after an
 * hour (Q_STALE_RELEASE), like a release.
 */
#ifndef MUGAI_QUARANTINE_REQUEST_H
#define MUGAI_QUARANTINE_REQUEST_H

#include <stddef.h>
#include <time.h>
#include "mugai/quarantine/quarantine.h"

/* One request as the index knows it; owned by the reader. */
struct mugai_qrequest {
	long long reqid;		/* 1, 2, ... */
	char	*id;			/* the message's X-Mugai-Id */
	time_t	 requested;
	char	*requester;		/* user name */
	char	*notify;		/* address told of the decision */
	char	*reason;
	char	*state;			/* "pending", "approving",
					   "approved", "refused" */
	time_t	 decided;		/* 0 while pending */
	char	*decider;		/* "" while pending */
	char	*decision;		/* the decider's reason */
	char	*release_to;		/* where it went, comma separated */
};

void mugai_qrequest_free(struct mugai_qrequest *r);

/* Which requests a list returns; zero / NULL fields match anything. */
struct mugai_qrfilter {
	const char *state;
	const char *id;
	const char *requester;
	size_t	 limit;
};

/* Records are valid only during the call; nonzero stops the walk. */
typedef int (*mugai_qrequest_fn)(const struct mugai_qrequest *r, void *arg);

/*
 * mugai_quarantine_request - record a request for the original of id
 * by requester (reason required; notify: the address to tell, required
 * too).  *reqid gets its number.  MUGAI_ERR_NOTFOUND: no such message.
 * MUGAI_ERR_STATE: its original was deleted, or this requester has a
 * request for it pending already.  MUGAI_ERR_USAGE: bad arguments.
 */
mugai_status mugai_quarantine_request(struct mugai_quarantine *q,
    const char *id, const char *requester, const char *notify,
    const char *reason, long long *reqid);

/* mugai_quarantine_request_get - one request; MUGAI_ERR_NOTFOUND. */
mugai_status mugai_quarantine_request_get(struct mugai_quarantine *q,
    long long reqid, struct mugai_qrequest **out);

/* mugai_quarantine_requests - matching requests, oldest first. */
mugai_status mugai_quarantine_requests(struct mugai_quarantine *q,
    const struct mugai_qrfilter *f, mugai_qrequest_fn fn, void *arg);

/* What an admin decides. */
struct mugai_qdecision {
	long long reqid;
	const char *actor;		/* the admin */
	const char *reason;		/* required, non-empty */
	const char *to;			/* approve: NULL or "": the original
					   recipients; else this address */
	const char *parts;		/* approve: NULL: the whole message;
					   else as mugai_qrelease.parts */
	int	 force;			/* approve a rejected/virus message */
};

/*
 * mugai_quarantine_approve - claim the request, release the message
 * (mugai_quarantine_release), mark the request approved and mail the
 * requester.  MUGAI_ERR_STATE when it is not pending (another admin got
 * there first) or the original was deleted (the request stays pending,
 * to be refused); a failed release leaves it pending too.  When only the
 * mail to the requester fails the approval stands and MUGAI_ERR_IO is
 * returned with a message saying so.
 */
mugai_status mugai_quarantine_approve(struct mugai_quarantine *q,
    const struct mugai_qdecision *d);

/*
 * mugai_quarantine_refuse - mark a pending request refused and mail the
 * requester.  MUGAI_ERR_STATE when it is not pending.
 */
mugai_status mugai_quarantine_refuse(struct mugai_quarantine *q,
    const struct mugai_qdecision *d);

/*
 * mugai_qrequest_render - append to out the mail telling r's requester
 * of the decision (headers and body, ready for sendmail), from the
 * template request-decision.txt (in notice_template_dir when it holds
 * one, else the built-in copy); subject: the message's subject.
 */
mugai_status mugai_qrequest_render(const struct mugai_config *cfg,
    const struct mugai_qrequest *r, const char *subject,
    struct mugai_buf *out);

#endif
