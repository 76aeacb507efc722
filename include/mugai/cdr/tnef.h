/*
 * mugai/cdr/tnef.h - winmail.dat (application/ms-tnef) as MIME parts.
 *
 * mugai-convert unpacks the TNEF stream in its sandbox into a member
 * stream (mugai/cdr/members.h, convert/tnef.c).  This turns that stream
 * into a multipart/mixed the sanitiser walks like any other part of
 * the message, so each file inside goes through the same policy as an
 * ordinary attachment:
 *   - the body (RTF read as text, or the plain body) is an unnamed
 *     inline text/plain part, left out when with_body is 0 (the message
 *     has a body already) and *body_dropped then set;
 *   - each file is an application/octet-stream attachment under its
 *     own name (typed by its bytes later, as any attachment);
 *   - each embedded message is a message/rfc822 part whose Subject,
 *     From and Date come from the stream, holding the same structure.
 * The stream comes from a process that parsed hostile input: it is
 * validated as archives' are (mugai_members_parse at every level, at
 * most max_members members and max_total bytes a level, messages at
 * most MUGAI_TNEF_MAX_DEPTH deep), and header values must be UTF-8
 * without control characters.
 */
#ifndef MUGAI_TNEF_H
#define MUGAI_TNEF_H

#include <stddef.h>
#include <gmime/gmime.h>
#include "mugai/base/buf.h"

#define MUGAI_TNEF_MAX_DEPTH	8

/*
 * mugai_tnef_mime - the MIME tree of stream[0..len) in *out (a new
 * reference), parsed back from its serialised form so that it looks
 * to the caller exactly as parts of a received message do.
 * MUGAI_ERR_PARSE when the stream is invalid (why says how),
 * MUGAI_ERR_NOMEM.
 */
mugai_status mugai_tnef_mime(const void *stream, size_t len,
    size_t max_members, size_t max_total, int with_body,
    GMimeObject **out, int *body_dropped, char *why, size_t whylen);

#endif
