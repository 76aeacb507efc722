/*
 * mugai/cdr/office.h - legacy Office documents (.doc, .xls, .ppt, .xlsb)
 * and RTF made into modern Office files (docx, xlsx, pptx) or PDF by
 * LibreOffice headless inside bubblewrap.
 *
 * The result is not delivered as it is: the caller cleans an Office
 * file with the OOXML allow-list of mugai-convert and re-renders a PDF
 * like any other.  LibreOffice only has to turn a hostile binary format
 * into one the worker understands, so it runs confined like the worker:
 * rlimits (address space office_memory, CPU office_timeout, file size
 * office_tmpfs_size, processes office_max_processes, no core), a
 * seccomp deny-list (ptrace, mount, kexec, bpf, keyctl, userfaultfd,
 * perf_event_open, namespaces, io_uring, sockets other than AF_UNIX,
 * ...), no network, no IPC, its own PID namespace, no capabilities, /usr
 * and a few files of /etc read-only, the document and a prepared
 * profile (macros disabled) read-only, and one tmpfs of
 * office_tmpfs_size as its only writable directory.  The file comes
 * back on its stdout; the run is killed after the timeout.
 *
 * Where the seconds go: LibreOffice's first start on a new profile runs
 * graphics self-tests (about 3 s of page faults on 64 MB bitmaps) and
 * asks to be restarted (exit 81) to synchronise extensions.  The profile
 * is therefore prepared once per process, in the sandbox and without a
 * document, with the version check that triggers the tests answered,
 * kept in memory and copied into each fresh sandbox; soffice.bin is run
 * directly, without the oosplash launcher and its Java probe.
 */
#ifndef MUGAI_OFFICE_H
#define MUGAI_OFFICE_H

#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/cdr/worker.h"

/*
 * mugai_office_available - nonzero when libreoffice_path, bwrap_path
 * and prlimit (/usr/bin/prlimit, util-linux) are all executable.
 */
int mugai_office_available(const struct mugai_config *cfg);

/*
 * mugai_office_out_ext - the extension of what a document of type ext
 * becomes: "docx" for doc and rtf, "xlsx" for xls and xlsb, "pptx" for
 * ppt, or "pdf" when pdf is nonzero; NULL for an ext outside the list.
 */
const char *mugai_office_out_ext(const char *ext, int pdf);

/*
 * mugai_office_convert - convert in[0..len), a document of type ext
 * ("doc", "xls", "ppt", "rtf" or "xlsb", chosen by the caller from the
 * detected type, never from the sender's file name), to the Office
 * Open XML file of mugai_office_out_ext (pdf == 0) or to PDF, in at most
 * timeout_s seconds (0, or more than office_timeout: office_timeout).
 * name is the sender's file name (UTF-8, may be NULL or ""): what
 * LibreOffice sees, made safe (no directories, no leading dot or dash,
 * shell and URL characters replaced, at most 100 bytes) and given the
 * extension ext, so print headers show the document's own name.
 *
 * *available = 0 when LibreOffice, bubblewrap or prlimit is not
 * executable: nothing was tried, MUGAI_OK is returned and the caller
 * holds the attachment ("no converter").
 *
 * Otherwise *available = 1 and, on MUGAI_OK, the document was converted
 * exactly when out->len > 0: out (initialised by the caller, reset here)
 * then holds a file that starts with "%PDF-" (PDF) or "PK\3\4" (Office
 * Open XML) and is at most convert_max_output bytes.  When out->len ==
 * 0 the conversion failed and st says how: the ending of the sandbox
 * (exit code, signal, MUGAI_WORKER_TIMEOUT); MUGAI_WORKER_OUTPUT for a
 * file over convert_max_output; MUGAI_WORKER_DONE with the reason in
 * st->message when LibreOffice finished without a usable file (it exits
 * 0 when it cannot load a document); MUGAI_WORKER_EXIT with code
 * MUGAI_CONVERT_EXIT_BAD_INPUT when the bytes cannot be of that type
 * (no OLE2, "{\rtf" or zip signature) and LibreOffice was not started.
 * Any failed conversion means "held".
 *
 * An error status only when the conversion could not be tried: no
 * memory (MUGAI_ERR_NOMEM), no temporary directory or input file
 * (MUGAI_ERR_IO), an ext outside the list (MUGAI_ERR_USAGE), no
 * seccomp filter (MUGAI_ERR_INTERNAL), bwrap not startable.  The
 * temporary directory is removed on every path, and no process of the
 * run outlives the call.  Thread-safe.
 */
mugai_status mugai_office_convert(const struct mugai_config *cfg,
    const void *in, size_t len, const char *ext, const char *name, int pdf,
    unsigned timeout_s, struct mugai_buf *out,
    struct mugai_worker_status *st, int *available);

/* mugai_office_to_pdf - mugai_office_convert to PDF, with no name. */
mugai_status mugai_office_to_pdf(const struct mugai_config *cfg,
    const void *in, size_t len, const char *ext, unsigned timeout_s,
    struct mugai_buf *pdf, struct mugai_worker_status *st, int *available);

/*
 * mugai_office_ocr - Tesseract (pdf_ocr_tesseract, languages
 * pdf_ocr_languages) on one page, pgm[0..len) a PGM the parent wrote
 * from validated pixels rendered at dpi, in the sandbox LibreOffice
 * runs in (above; OpenMP held to one thread) for at most timeout_s
 * seconds.  Its words come back in tsv as Tesseract's TSV, to be
 * checked by the caller (mugai/cdr/ocr.h); st says how the run ended.
 * *available = 0 (and nothing run) when Tesseract, bubblewrap or
 * prlimit is not there.  MUGAI_ERR_USAGE for no page or languages
 * other than letters, digits, '_' and '+'.
 */
mugai_status mugai_office_ocr(const struct mugai_config *cfg,
    const void *pgm, size_t len, unsigned dpi, unsigned timeout_s,
    struct mugai_buf *tsv, struct mugai_worker_status *st, int *available);

#endif
