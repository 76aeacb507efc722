/*
 * state.h - what every message is sanitised with: the configuration in
 * force, its bypass lists, the virus scanner, the quarantine and the
 * memory budget of the messages being sanitised (milter_memory_max).
 *
 * A message takes a snapshot when it starts and keeps it to the end, so
 * a reload (SIGHUP) never changes the rules under a message in flight.
 * The scanner, quarantine and budget live until milter_state_close.
 */
#ifndef MUGAI_MILTER_STATE_H
#define MUGAI_MILTER_STATE_H

#include <stddef.h>
#include "mugai/base/budget.h"
#include "mugai/base/bypass.h"
#include "mugai/base/config.h"
#include "mugai/sanitize/sanitize.h"
#include "mugai/base/status.h"

struct milter_snap {
	const struct mugai_config *cfg;
	const struct mugai_bypass *bypass;
	struct mugai_services svc;	/* for mugai_sanitize */
	struct mugai_budget *budget;	/* shared by every snapshot */
};

/*
 * milter_state_open - check cfg, make the spool directory, open the
 * scanner (when clamav_enable) and the quarantine (when
 * quarantine_enable).  Takes over the caller's reference to cfg, also
 * on failure.  On failure err holds one line saying what to do.
 */
mugai_status milter_state_open(struct mugai_config *cfg, char *err,
    size_t errlen);

/*
 * milter_state_reload - load the configuration again (path and the -o
 * overrides given at start) and put it in force for new messages.  A
 * bad configuration is logged and the old one stays.  Also asks the
 * scanner to reload its database.
 */
mugai_status milter_state_reload(const char *path, char *const *overrides,
    size_t noverrides);

/*
 * milter_state_get - the snapshot in force, for one message; NULL before
 * milter_state_open.  Give it back with milter_state_put.
 */
struct milter_snap *milter_state_get(void);
void milter_state_put(struct milter_snap *snap);

/* milter_state_shutdown_timeout - seconds to wait for mail in flight. */
unsigned milter_state_shutdown_timeout(void);

/*
 * milter_state_wait_idle - wait up to seconds for every snapshot to be
 * given back; nonzero when none is out.
 */
int milter_state_wait_idle(unsigned seconds);

/* milter_state_close - free everything; only when idle. */
void milter_state_close(void);

#endif
