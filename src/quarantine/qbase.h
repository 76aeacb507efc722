/*
 * qbase.h - the lowest file of the quarantine part: what the store
 * (quarantine.c), the index backends and the audit log share, so none
 * of them calls into another.  mugai_qrecord_free() is declared in
 * mugai/quarantine/quarantine.h.
 */
#ifndef MUGAI_QBASE_H
#define MUGAI_QBASE_H

/* mugai_qerr_set - set this thread's mugai_quarantine_error() text. */
void mugai_qerr_set(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#include <sys/types.h>

#include "mugai/base/config.h"
#include "mugai/base/status.h"

/*
 * mugai_qowner - who files and directories the store creates belong to.
 * When root runs mugai and run_user is set, that user (so mugai-milter,
 * which runs as run_user, can open what the CLI created); otherwise
 * *uid and *gid are -1 (keep).  MUGAI_ERR_CONFIG, with mugai_qerr_set(),
 * when run_user does not exist: then nothing may be created.
 */
mugai_status mugai_qowner(const struct mugai_config *cfg, uid_t *uid,
    gid_t *gid);

#endif
