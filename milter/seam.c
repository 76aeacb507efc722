/*
 * seam.c - the real libmilter behind the seam (see seam.h).
 */
#include "seam.h"

static const struct milter_seam seam_libmilter = {
	smfi_getsymval,
	smfi_getpriv,
	smfi_setpriv,
	smfi_setreply,
	smfi_addheader,
	smfi_chgheader,
	smfi_replacebody,
	smfi_quarantine,
};

const struct milter_seam *milter_seam = &seam_libmilter;
