/*
 * mugai/base/bypass.h - mail that is passed through unchanged: from trusted
 * client networks, or addressed only to listed recipients.
 *
 * Networks are CIDR blocks, IPv4 or IPv6 ("192.0.2.0/24", "2001:db8::/32";
 * a bare address is one host).  An IPv4-mapped IPv6 client address
 * (::ffff:192.0.2.1) matches the IPv4 blocks.  Recipients are whole
 * addresses or "@domain" (that domain exactly, not its subdomains),
 * compared without case and without <>.  A message bypasses by
 * recipient only when every one of its recipients matches.
 */
#ifndef MUGAI_BYPASS_H
#define MUGAI_BYPASS_H

#include <stddef.h>
#include "mugai/base/status.h"

struct mugai_bypass;

/*
 * mugai_bypass_new - parse the two lists (the bypass_client_networks and
 * bypass_recipients settings: items separated by commas and/or white
 * space; NULL or "" for none).  On failure err names the bad item.
 */
mugai_status mugai_bypass_new(const char *networks, const char *recipients,
    struct mugai_bypass **out, char *err, size_t errlen);

/* mugai_bypass_free - NULL is safe. */
void mugai_bypass_free(struct mugai_bypass *b);

/*
 * mugai_bypass_client - nonzero when addr (text, as inet_ntop writes it;
 * an IPv6 zone "%eth0" is ignored) is in one of the networks.  Anything
 * that is not an IP address never matches.
 */
int mugai_bypass_client(const struct mugai_bypass *b, const char *addr);

/*
 * mugai_bypass_recipients - nonzero when n > 0 and every rcpts[i]
 * ("user@domain", "<user@domain>") matches the recipient list.
 */
int mugai_bypass_recipients(const struct mugai_bypass *b,
    const char *const *rcpts, size_t n);

#endif
