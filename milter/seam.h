/*
 * seam.h - the libmilter calls mugai-milter makes while handling mail,
 * as a table of function pointers.
 *
 * Callbacks never call smfi_* directly: they go through milter_seam, so
 * a unit test can point it at fakes and run the callbacks on a message
 * with no MTA (OpenDKIM's test mode does the same with wrappers).
 */
#ifndef MUGAI_MILTER_SEAM_H
#define MUGAI_MILTER_SEAM_H

#include <libmilter/mfapi.h>

struct milter_seam {
	char	*(*getsymval)(SMFICTX *, char *);
	void	*(*getpriv)(SMFICTX *);
	int	 (*setpriv)(SMFICTX *, void *);
	int	 (*setreply)(SMFICTX *, char *, char *, char *);
	int	 (*addheader)(SMFICTX *, char *, char *);
	int	 (*chgheader)(SMFICTX *, char *, int, char *);
	int	 (*replacebody)(SMFICTX *, unsigned char *, int);
	int	 (*quarantine)(SMFICTX *, char *);
};

/* The table in use: libmilter's functions unless a test swaps it. */
extern const struct milter_seam *milter_seam;

#endif
