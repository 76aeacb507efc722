/*
 * convert.h - inside mugai-convert, the sandboxed worker.
 *
 * Each mode reads one hostile document from memory and writes only
 * primitive data to out: pixels (mugai/cdr/pixels.h) for images and PDF
 * pages, a cleaned zip for Office Open XML, members (mugai/cdr/members.h)
 * for archives and winmail.dat.  It returns a MUGAI_CONVERT_EXIT_* code
 * and, when that is not OK, one line in why saying what was wrong with the input.
 * Modes never open files or sockets: they run after sandbox_enter.
 */
#ifndef MUGAI_CONVERT_INT_H
#define MUGAI_CONVERT_INT_H

#include <stdarg.h>
#include <stddef.h>
#include "mugai/base/buf.h"
#include "mugai/cdr/worker.h"

struct convert_opts {
	size_t	 memory;		/* address space cap, bytes */
	unsigned cpu_s;			/* CPU seconds */
	size_t	 max_pixels;		/* per image or page */
	unsigned max_pages;
	unsigned dpi;
	unsigned max_members;
	size_t	 max_total;		/* archive members unpacked */
	unsigned max_ratio;		/* unpacked / packed */
	size_t	 max_words;		/* PDF text layer: words in all */
	size_t	 max_text;		/* PDF text layer: bytes in all */
};

typedef int convert_fn(const unsigned char *in, size_t len,
    const struct convert_opts *o, struct mugai_buf *out, char *why,
    size_t whylen);

convert_fn convert_image;		/* image.c */
convert_fn convert_pdf;			/* pdf.c */
convert_fn convert_ooxml;		/* ooxml.c: the cleaned zip */
convert_fn convert_ooxml_framed;	/* ooxml.c: the ooxml mode's frame */
int convert_ooxml_is_package(const unsigned char *in, size_t len);
convert_fn convert_archive;		/* archive.c */
convert_fn convert_tnef;		/* tnef.c: winmail.dat */
convert_fn convert_ole2;		/* ole2.c: doc, xls, ppt, encrypted */
int convert_ole2_prepare(void);		/* ole2.c: before sandbox_enter */
int convert_archive_prepare(void);	/* archive.c: before sandbox_enter */
int convert_pdf_prepare(void);		/* pdf.c: before sandbox_enter */
void convert_ooxml_prepare(void);	/* ooxml.c: once, in the zygote */

/*
 * convert_rtf_text - the text of an RTF document as UTF-8, appended to
 * out, at most max_out bytes (rtftext.c).  MUGAI_CONVERT_EXIT_OK, or
 * TOO_BIG when out of memory.
 */
int convert_rtf_text(const unsigned char *rtf, size_t len, size_t max_out,
    struct mugai_buf *out);

/*
 * convert_vwhy - format the line for why; control bytes and bytes that
 * are not well-formed UTF-8 become '?' (why.c).  A NULL or empty why is
 * left alone.
 */
void convert_vwhy(char *why, size_t whylen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * convert_zygote - serve requests on descriptor 3, forking a child per
 * document that returns from run (main.c's: "mugai-convert MODE ...",
 * one document from stdin, the exit code) and exits (zygote.c).
 */
int convert_zygote(int (*run)(int argc, char **argv));

/* What a mode needs from the system beyond memory and its pipes. */
#define SANDBOX_READ_FILES	0x1	/* read-only opens (fonts for PDF) */

/*
 * sandbox_enter - rlimits, no new privileges, a network namespace where
 * the kernel allows it, then the seccomp allow-list.  Called before the
 * document is read.  0, or -1 with why filled.
 */
int sandbox_enter(const struct convert_opts *o, unsigned needs, char *why,
    size_t whylen);

/*
 * sandbox_prepare - the parts of sandbox_enter that are the same for
 * every document, done once before forking children that will each call
 * sandbox_enter (the zygote): TZ, the seccomp programs built, the empty
 * network namespace entered.  0, or -1 with why filled (sandbox_enter
 * then does what is missing itself).
 */
int sandbox_prepare(char *why, size_t whylen);

/*
 * landlock_fonts_only - from now on only font, fontconfig and poppler
 * data may be read (landlock.c).  0 (also when the kernel lacks
 * Landlock: said on stderr), or -1 with why filled.
 */
int landlock_fonts_only(char *why, size_t whylen);

#endif
