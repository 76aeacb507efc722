/*
 * context.c - connection and message contexts (see context.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/buf.h"
#include "context.h"

struct connctx *
conn_new(void)
{
	return calloc(1, sizeof(struct connctx));
}

void
conn_free(struct connctx *c)
{
	if (c == NULL)
		return;
	msg_cleanup(c);
	free(c->helo);
	free(c);
}

void
conn_set_addr(struct connctx *c, const struct sockaddr *sa)
{
	const void *a = NULL;

	c->addr[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, c->addr,
	    sizeof(c->addr)) == NULL)
		c->addr[0] = '\0';
}

/* An envelope address without its angle brackets. */
static char *
msg_bare_addr(const char *a)
{
	size_t n;

	if (a == NULL)
		return strdup("");
	n = strlen(a);
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		return strndup(a + 1, n - 2);
	return strdup(a);
}

void
msg_cleanup(struct connctx *c)
{
	struct msgctx *m = c->msg;
	size_t i;

	if (m == NULL)
		return;
	c->msg = NULL;
	mugai_spool_free(m->spool);
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->sender);
	milter_state_put(m->snap);
	free(m);
}

mugai_status
msg_start(struct connctx *c, struct milter_snap *snap, const char *sender)
{
	const struct mugai_config *cfg = snap->cfg;
	struct msgctx *m;

	msg_cleanup(c);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		milter_state_put(snap);
		return MUGAI_ERR_NOMEM;
	}
	m->snap = snap;
	clock_gettime(CLOCK_MONOTONIC, &m->started);
	m->sender = msg_bare_addr(sender);
	m->spool = mugai_spool_new(cfg->spool_dir, cfg->spool_memory_max,
	    cfg->max_message_size);
	c->msg = m;
	if (m->sender == NULL || m->spool == NULL) {
		msg_cleanup(c);
		return MUGAI_ERR_NOMEM;
	}
	return MUGAI_OK;
}

void
msg_set_qid(struct msgctx *m, const char *qid)
{
	if (m == NULL || m->qid[0] != '\0' || qid == NULL || *qid == '\0')
		return;
	/* A queue id goes into every log line: keep it printable. */
	if (strlen(qid) >= sizeof(m->qid) ||
	    strspn(qid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != strlen(qid))
		return;
	memcpy(m->qid, qid, strlen(qid) + 1);
}

const char *
msg_qid(const struct msgctx *m)
{
	return m != NULL && m->qid[0] != '\0' ? m->qid : "NOQUEUE";
}

mugai_status
msg_add_rcpt(struct msgctx *m, const char *rcpt)
{
	char **grown, *r;
	size_t ncap;

	if (m->nrcpts == MSG_MAX_RCPTS)
		return MUGAI_ERR_LIMIT;
	if (m->nrcpts == m->rcpt_cap) {
		ncap = m->rcpt_cap ? m->rcpt_cap * 2 : 8;
		if ((grown = realloc(m->rcpts, ncap * sizeof(*grown))) == NULL)
			return MUGAI_ERR_NOMEM;
		m->rcpts = grown;
		m->rcpt_cap = ncap;
	}
	if ((r = msg_bare_addr(rcpt)) == NULL)
		return MUGAI_ERR_NOMEM;
	m->rcpts[m->nrcpts++] = r;
	return MUGAI_OK;
}

/* Append v with every line end made CRLF (MTAs pass folds as "\n"). */
static mugai_status
msg_put_crlf(struct mugai_buf *b, const char *v)
{
	mugai_status rc = MUGAI_OK;
	size_t n;

	while (*v != '\0' && rc == MUGAI_OK) {
		n = strcspn(v, "\r\n");
		rc = mugai_buf_append(b, v, n);
		v += n;
		if (rc != MUGAI_OK || *v == '\0')
			break;
		if (v[0] == '\r' && v[1] != '\n') {
			rc = mugai_buf_putc(b, '\r');
			v++;
			continue;
		}
		rc = mugai_buf_append(b, "\r\n", 2);
		v += v[0] == '\r' ? 2 : 1;
	}
	return rc;
}

mugai_status
msg_add_header(struct msgctx *m, const char *name, const char *value,
    int leadspc)
{
	struct mugai_buf b;
	mugai_status rc;

	if (m->in_body)
		return MUGAI_ERR_USAGE;
	/* Never more than the whole message may hold. */
	mugai_buf_init(&b, m->snap->cfg->max_message_size);
	rc = mugai_buf_puts(&b, name);
	if (rc == MUGAI_OK)
		rc = mugai_buf_puts(&b, leadspc ? ":" : ": ");
	if (rc == MUGAI_OK)
		rc = msg_put_crlf(&b, value ? value : "");
	if (rc == MUGAI_OK)
		rc = mugai_buf_append(&b, "\r\n", 2);
	if (rc == MUGAI_OK)
		rc = mugai_spool_append(m->spool, b.data, b.len);
	mugai_buf_free(&b);
	if (rc == MUGAI_OK)
		m->nheaders++;
	return rc;
}

mugai_status
msg_end_headers(struct msgctx *m)
{
	mugai_status rc;

	if (m->in_body)
		return MUGAI_OK;
	if ((rc = mugai_spool_append(m->spool, "\r\n", 2)) == MUGAI_OK)
		m->in_body = 1;
	return rc;
}

mugai_status
msg_add_body(struct msgctx *m, const void *p, size_t n)
{
	mugai_status rc;

	/* Some MTAs skip EOH when there are no headers at all. */
	if (!m->in_body && (rc = msg_end_headers(m)) != MUGAI_OK)
		return rc;
	return mugai_spool_append(m->spool, p, n);
}
