/*
 * bypass.c - client networks and recipients that skip sanitising
 * (see mugai/base/bypass.h).
 *
 * A bypass lets mail through unsanitised, so parsing is strict: a
 * network with host bits set or an address without "@" is refused at
 * start-up rather than guessed at.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mugai/base/bypass.h"

#define BYPASS_MAX_ITEM	512

struct bypass_net {
	int	 family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

struct mugai_bypass {
	struct bypass_net *nets;
	size_t	 nnets;
	char	**addrs;		/* "user@domain", lower case */
	size_t	 naddrs;
	char	**domains;		/* "domain", lower case */
	size_t	 ndomains;
};

static const char BYPASS_SEP[] = ", \t\r\n";

/* Next list item of s at *pos into item; 0 at the end, -1 if too long. */
static int
bypass_next(const char *s, size_t *pos, char *item, size_t size)
{
	size_t n;

	*pos += strspn(s + *pos, BYPASS_SEP);
	n = strcspn(s + *pos, BYPASS_SEP);
	if (n == 0)
		return 0;
	if (n >= size) {
		snprintf(item, size, "%.40s...", s + *pos);
		return -1;
	}
	memcpy(item, s + *pos, n);
	item[n] = '\0';
	*pos += n;
	return 1;
}

/* The address part of a text address: family and 4 or 16 bytes. */
static int
bypass_parse_addr(const char *text, int *family, unsigned char *addr)
{
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Does addr have bits set after the first prefix bits? */
static int
bypass_host_bits(const unsigned char *addr, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 :
		    prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;
		unsigned char mask = (unsigned char)(0xffu << (8 - keep));

		if (keep == 0)
			mask = 0;
		if ((addr[i] & (unsigned char)~mask) != 0)
			return 1;
	}
	return 0;
}

static int
bypass_parse_net(char *item, struct bypass_net *net, char *err, size_t errlen)
{
	char *slash = strchr(item, '/');
	unsigned maxp;
	char *end;
	unsigned long p;

	if (slash != NULL)
		*slash = '\0';
	if (bypass_parse_addr(item, &net->family, net->addr) != 0) {
		snprintf(err, errlen, "bypass_client_networks: \"%s\" is not "
		    "an IP address; write ADDRESS or ADDRESS/PREFIX", item);
		return -1;
	}
	maxp = net->family == AF_INET ? 32 : 128;
	net->prefix = maxp;
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]) ||
		    (p = strtoul(slash + 1, &end, 10)) > maxp || *end != '\0') {
			snprintf(err, errlen, "bypass_client_networks: bad "
			    "prefix length \"/%s\" for %s; use 0 to %u",
			    slash + 1, item, maxp);
			return -1;
		}
		net->prefix = (unsigned)p;
	}
	if (bypass_host_bits(net->addr, maxp / 8, net->prefix)) {
		snprintf(err, errlen, "bypass_client_networks: %s/%u has host "
		    "bits set; write the network address", item, net->prefix);
		return -1;
	}
	return 0;
}

static char *
bypass_lower(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p[i] = (char)tolower((unsigned char)s[i]);
	p[n] = '\0';
	return p;
}

/* Strip <>, a source route ("@a,@b:") and a trailing dot of the domain. */
static void
bypass_bare(const char *in, const char **start, size_t *len)
{
	const char *s = in, *e = in + strlen(in), *colon;

	if (*s == '<' && e > s + 1 && e[-1] == '>') {
		s++;
		e--;
	}
	if (*s == '@' && (colon = memchr(s, ':', (size_t)(e - s))) != NULL)
		s = colon + 1;
	if (e > s && e[-1] == '.')
		e--;
	*start = s;
	*len = (size_t)(e - s);
}

static int
bypass_add_rcpt(struct mugai_bypass *b, const char *item, char *err,
    size_t errlen)
{
	const char *s, *at;
	char ***list, **grown;
	size_t *count, n;
	char *v;

	bypass_bare(item, &s, &n);
	at = n > 0 ? memrchr(s, '@', n) : NULL;
	if (at == NULL || at == s + n - 1) {
		snprintf(err, errlen, "bypass_recipients: \"%s\" is not an "
		    "address; write user@domain or @domain", item);
		return -1;
	}
	if (at == s) {
		list = &b->domains;
		count = &b->ndomains;
		v = bypass_lower(at + 1, n - 1);
	} else {
		list = &b->addrs;
		count = &b->naddrs;
		v = bypass_lower(s, n);
	}
	if (v == NULL)
		goto nomem;
	if ((grown = realloc(*list, (*count + 1) * sizeof(**list))) == NULL) {
		free(v);
		goto nomem;
	}
	*list = grown;
	(*list)[(*count)++] = v;
	return 0;
nomem:
	snprintf(err, errlen, "bypass_recipients: out of memory");
	return -1;
}

static int
bypass_add_net(struct mugai_bypass *b, char *item, char *err, size_t errlen)
{
	struct bypass_net net, *grown;

	memset(&net, 0, sizeof(net));
	if (bypass_parse_net(item, &net, err, errlen) != 0)
		return -1;
	grown = realloc(b->nets, (b->nnets + 1) * sizeof(*b->nets));
	if (grown == NULL) {
		snprintf(err, errlen, "bypass_client_networks: out of memory");
		return -1;
	}
	b->nets = grown;
	b->nets[b->nnets++] = net;
	return 0;
}

mugai_status
mugai_bypass_new(const char *networks, const char *recipients,
    struct mugai_bypass **out, char *err, size_t errlen)
{
	struct mugai_bypass *b;
	char item[BYPASS_MAX_ITEM];
	size_t pos;
	int r;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "bypass lists: out of memory");
		return MUGAI_ERR_NOMEM;
	}
	for (pos = 0; networks != NULL &&
	    (r = bypass_next(networks, &pos, item, sizeof(item))) != 0; ) {
		if (r < 0 || bypass_add_net(b, item, err, errlen) != 0) {
			if (r < 0)
				snprintf(err, errlen, "bypass_client_networks:"
				    " item too long: %s", item);
			goto fail;
		}
	}
	for (pos = 0; recipients != NULL &&
	    (r = bypass_next(recipients, &pos, item, sizeof(item))) != 0; ) {
		if (r < 0 || bypass_add_rcpt(b, item, err, errlen) != 0) {
			if (r < 0)
				snprintf(err, errlen, "bypass_recipients: "
				    "item too long: %s", item);
			goto fail;
		}
	}
	*out = b;
	return MUGAI_OK;
fail:
	mugai_bypass_free(b);
	return MUGAI_ERR_CONFIG;
}

void
mugai_bypass_free(struct mugai_bypass *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->naddrs; i++)
		free(b->addrs[i]);
	for (i = 0; i < b->ndomains; i++)
		free(b->domains[i]);
	free(b->addrs);
	free(b->domains);
	free(b->nets);
	free(b);
}

static int
bypass_net_match(const struct bypass_net *net, int family,
    const unsigned char *addr)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	unsigned char mask;

	if (family != net->family)
		return 0;
	if (memcmp(addr, net->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xffu << (8 - rest));
	return (addr[full] & mask) == (net->addr[full] & mask);
}

int
mugai_bypass_client(const struct mugai_bypass *b, const char *addr)
{
	char text[INET6_ADDRSTRLEN + 8];
	unsigned char bytes[16];
	int family;
	size_t i;

	if (b == NULL || b->nnets == 0 || addr == NULL)
		return 0;
	/* "[::1]" as some MTAs write it, and "fe80::1%eth0". */
	if (*addr == '[')
		addr++;
	snprintf(text, sizeof(text), "%s", addr);
	text[strcspn(text, "]%")] = '\0';
	if (bypass_parse_addr(text, &family, bytes) != 0)
		return 0;
	if (family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)bytes)) {
		memmove(bytes, bytes + 12, 4);
		family = AF_INET;
	}
	for (i = 0; i < b->nnets; i++)
		if (bypass_net_match(&b->nets[i], family, bytes))
			return 1;
	return 0;
}

static int
bypass_rcpt_match(const struct mugai_bypass *b, const char *rcpt)
{
	const char *s, *at;
	size_t n, i, dlen;

	bypass_bare(rcpt, &s, &n);
	if (n == 0 || (at = memrchr(s, '@', n)) == NULL)
		return 0;
	for (i = 0; i < b->naddrs; i++)
		if (strlen(b->addrs[i]) == n &&
		    strncasecmp(b->addrs[i], s, n) == 0)
			return 1;
	dlen = n - (size_t)(at + 1 - s);
	for (i = 0; i < b->ndomains; i++)
		if (strlen(b->domains[i]) == dlen &&
		    strncasecmp(b->domains[i], at + 1, dlen) == 0)
			return 1;
	return 0;
}

int
mugai_bypass_recipients(const struct mugai_bypass *b,
    const char *const *rcpts, size_t n)
{
	size_t i;

	if (b == NULL || n == 0 || (b->naddrs == 0 && b->ndomains == 0))
		return 0;
	for (i = 0; i < n; i++)
		if (rcpts[i] == NULL || !bypass_rcpt_match(b, rcpts[i]))
			return 0;
	return 1;
}
