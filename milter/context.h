/*
 * context.h - per-connection and per-message state of mugai-milter.
 *
 * A connctx lives from the MTA's connection to its close and owns at
 * most one msgctx, which lives from MAIL FROM to the end (or abort) of
 * that message.  msg_cleanup is idempotent and is called from envfrom,
 * eom, abort and close, so a message can never leak into the next one.
 */
#ifndef MUGAI_MILTER_CONTEXT_H
#define MUGAI_MILTER_CONTEXT_H

#include <sys/socket.h>
#include <stddef.h>
#include <time.h>
#include "mugai/base/spool.h"
#include "mugai/base/status.h"
#include "state.h"

#define MSG_QID_MAX	64
#define MSG_MAX_RCPTS	100000

struct msgctx {
	struct milter_snap *snap;	/* rules for this message */
	char	 qid[MSG_QID_MAX];	/* MTA queue id, "" until known */
	char	*sender;		/* without <>, "" for the null sender */
	char	**rcpts;		/* without <> */
	size_t	 nrcpts;
	size_t	 rcpt_cap;
	struct mugai_spool *spool;	/* "Name: value\r\n"..., "\r\n", body */
	unsigned nheaders;
	int	 in_body;		/* end of headers seen */
	mugai_status hdr_err;		/* a header not kept (nr_hdr) */
	struct timespec started;
};

#define CONN_LATER_TEXT	400

/*
 * A decision made at a step the MTA takes no reply to (SMFIP_NR_*):
 * kept here and answered at the next step that has a reply (end of
 * headers, else end of message), with the same code and text.
 */
struct conn_later {
	int	 st;			/* sfsistat to answer; 0: none */
	int	 conn;			/* made at HELO: holds for every
					   message of the connection */
	char	 code[4];		/* "" when no reply text */
	char	 xcode[8];
	char	 text[CONN_LATER_TEXT + 1];
};

struct connctx {
	char	 addr[64];		/* client IP address, "" if not IP */
	char	*helo;
	int	 leadspc;		/* MTA keeps the space after ':' */
	int	 nr_hdr;		/* headers get no reply */
	unsigned long nr;		/* SMFIP_NR_* steps without reply */
	unsigned long step;		/* the step being run, if in nr */
	struct conn_later later;
	struct msgctx *msg;
};

/* conn_new / conn_free - free also ends the message; NULL is safe. */
struct connctx *conn_new(void);
void conn_free(struct connctx *c);

/*
 * msg_start - end any message in progress and start a new one from
 * sender with snap (which it takes over).  MUGAI_ERR_NOMEM on failure.
 */
mugai_status msg_start(struct connctx *c, struct milter_snap *snap,
    const char *sender);

/* msg_cleanup - free the message of c, if any. */
void msg_cleanup(struct connctx *c);

/* msg_set_qid - remember the queue id the first time one is seen. */
void msg_set_qid(struct msgctx *m, const char *qid);

/* msg_qid - the queue id for log lines. */
const char *msg_qid(const struct msgctx *m);

mugai_status msg_add_rcpt(struct msgctx *m, const char *rcpt);

/*
 * msg_add_header - spool one header as "name:value\r\n" with the
 * value's line ends made CRLF; with leadspc 0 (the MTA ate the space
 * after the colon) one space is put back.  MUGAI_ERR_LIMIT past
 * max_message_size.
 */
mugai_status msg_add_header(struct msgctx *m, const char *name,
    const char *value, int leadspc);

/* msg_end_headers - the blank line; only once. */
mugai_status msg_end_headers(struct msgctx *m);

/* msg_add_body - one body chunk as the MTA sent it (CRLF line ends). */
mugai_status msg_add_body(struct msgctx *m, const void *p, size_t n);

/*
 * conn_set_addr - the client's IP address as text (for bypass matching,
 * logs and the quarantine); anything but IPv4/IPv6 gives "".
 */
void conn_set_addr(struct connctx *c, const struct sockaddr *sa);

#endif
