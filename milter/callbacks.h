/*
 * callbacks.h - the libmilter callbacks of mugai-milter.
 */
#ifndef MUGAI_MILTER_CALLBACKS_H
#define MUGAI_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

/* What mugai-milter may do to a message (and asks for in negotiation). */
#define MILTER_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | \
			 SMFIF_QUARANTINE)

/* milter_callbacks - the filter description to smfi_register. */
struct smfiDesc *milter_callbacks(void);

/*
 * milter_callbacks_stop - from now on, defer every new message (451
 * 4.3.2); messages already started finish normally.  For shutdown.
 */
void milter_callbacks_stop(void);

#endif
