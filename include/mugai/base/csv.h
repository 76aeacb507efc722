/*
 * mugai/base/csv.h - neutralising CSV formula injection.
 *
 * A spreadsheet runs a cell that starts with = + - @ (or a tab that
 * some programs strip first) as a formula: DDE and HYPERLINK formulas
 * have been used to run programs.  Such cells get a leading apostrophe,
 * which spreadsheets show as text.  Quoting is respected: a quoted cell
 * is checked after its opening quote.  Rows end at LF, CRLF or a lone
 * CR, as spreadsheets read them.
 */
#ifndef MUGAI_CSV_H
#define MUGAI_CSV_H

#include <stddef.h>
#include "mugai/base/buf.h"

/* mugai_csv_guard - append the guarded copy of in[0..len) to out. */
mugai_status mugai_csv_guard(const char *in, size_t len, struct mugai_buf *out);

#endif
