/*
 * csv.c - CSV formula guard (see mugai/base/csv.h).
 */
#include "mugai/base/csv.h"

static int
is_formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t';
}

mugai_status
mugai_csv_guard(const char *in, size_t len, struct mugai_buf *out)
{
	size_t i = 0;
	int cell_start = 1, quoted = 0;
	mugai_status rc = MUGAI_OK;

	while (i < len && rc == MUGAI_OK) {
		char c = in[i];

		if (cell_start) {
			cell_start = 0;
			if (c == '"') {
				rc = mugai_buf_putc(out, c);
				quoted = 1;
				i++;
				if (i < len && is_formula_start(in[i]))
					rc = mugai_buf_putc(out, '\'');
				continue;
			}
			if (is_formula_start(c))
				rc = mugai_buf_putc(out, '\'');
			if (rc != MUGAI_OK)
				break;
		}
		if (quoted) {
			if (c == '"' && i + 1 < len && in[i + 1] == '"') {
				rc = mugai_buf_append(out, "\"\"", 2);
				i += 2;
				continue;
			}
			if (c == '"')
				quoted = 0;
		} else if (c == ',' || c == '\n' || c == '\r') {
			/* Spreadsheets end a row at a lone CR too: "x\r=cmd". */
			cell_start = 1;
		}
		rc = mugai_buf_putc(out, c);
		i++;
	}
	return rc;
}
