/*
 * mugai/cdr/office.h - legacy Office documents (.doc, .xls, .ppt) and RTF
 * to PDF with LibreOffice headless inside bubblewrap.
 *
 * The PDF is not delivered as it is: the caller re-renders it like any
 * other PDF.  LibreOffice only has to turn a hostile binary format into
 * one the PDF worker understands, so it runs with a fresh profile in
 * which macros are disabled, the import filter forced by the extension,
 * no network, no IPC, its own PID namespace, /usr and a few files of
 * /etc read-only, and one private temporary directory as the only
 * writable place.  The run is killed after office_timeout seconds.
 */
#ifndef MUGAI_OFFICE_H
#define MUGAI_OFFICE_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/cdr/worker.h"

/*
 * mugai_office_available - nonzero when libreoffice_path and bwrap_path
 * are both executable.
 */
int mugai_office_available(const struct mugai_config *cfg);

/*
 * mugai_office_to_pdf - convert in[0..len), a document of type ext
 * ("doc", "xls", "ppt" or "rtf", chosen by the caller from the detected
 * type, never from the sender's file name), to PDF, in at most
 * timeout_s seconds (0, or more than office_timeout: office_timeout).
 *
 * *available = 0 when LibreOffice or bubblewrap is not executable:
 * nothing was tried, MUGAI_OK is returned and the caller holds the
 * attachment ("no converter").
 *
 * Otherwise *available = 1 and, on MUGAI_OK, the document was converted
 * exactly when pdf->len > 0: pdf (initialised by the caller, reset here)
 * then holds a file that starts with "%PDF-" and is at most
 * convert_max_output bytes.  When pdf->len == 0 the conversion failed
 * and st says how: the ending of the sandbox (exit code, signal,
 * MUGAI_WORKER_TIMEOUT); MUGAI_WORKER_OUTPUT for a PDF over
 * convert_max_output; MUGAI_WORKER_DONE with the reason in st->message
 * when LibreOffice finished without a usable PDF (it exits 0 when it
 * cannot load a document); MUGAI_WORKER_EXIT with code
 * MUGAI_CONVERT_EXIT_BAD_INPUT when the bytes cannot be of that type
 * (no OLE2 or "{\rtf" signature) and LibreOffice was not started.
 * Any failed conversion means "held".
 *
 * An error status only when the conversion could not be tried: no
 * memory (MUGAI_ERR_NOMEM), no temporary directory or input file
 * (MUGAI_ERR_IO), an ext outside the list (MUGAI_ERR_USAGE), bwrap not
 * startable.  The temporary directory is removed on every path, and no
 * process of the run outlives the call.
 */
mugai_status mugai_office_to_pdf(const struct mugai_config *cfg,
    const void *in, size_t len, const char *ext, unsigned timeout_s,
    struct mugai_buf *pdf, struct mugai_worker_status *st, int *available);

#endif
