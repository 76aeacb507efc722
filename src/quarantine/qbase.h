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

#endif
