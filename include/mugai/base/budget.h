/*
 * mugai/base/budget.h - a byte budget shared by threads: how much
 * memory the messages being sanitised at once may hold.
 *
 * mugai-milter runs a thread per SMTP session, and each message being
 * sanitised holds its bytes and about as much again (decoded parts,
 * the new message): twenty sessions of 30 MB mail would hold more than
 * a gigabyte at once.  A message takes its share before it is
 * sanitised and gives it back after.  A share that does not fit waits,
 * in arrival order, until it does or a deadline passes; a share larger
 * than the whole budget is granted when nothing else is held, so no
 * message that max_message_size admits waits for ever.
 */
#ifndef MUGAI_BUDGET_H
#define MUGAI_BUDGET_H

#include <stddef.h>
#include "mugai/base/status.h"

struct mugai_budget;

/* mugai_budget_new / _free - NULL when out of memory; free(NULL) safe. */
struct mugai_budget *mugai_budget_new(void);
void mugai_budget_free(struct mugai_budget *b);

/*
 * mugai_budget_take - hold n bytes of at most max (0: no limit, the
 * bytes are only counted).  Waits up to wait_ms for the earlier
 * waiters and for room; MUGAI_OK once held, MUGAI_ERR_LIMIT when the
 * wait ran out (nothing is held then).
 */
mugai_status mugai_budget_take(struct mugai_budget *b, size_t n, size_t max,
    unsigned wait_ms);

/* mugai_budget_give - give back n bytes taken before. */
void mugai_budget_give(struct mugai_budget *b, size_t n);

/* mugai_budget_used - bytes held now. */
size_t mugai_budget_used(struct mugai_budget *b);

#endif
