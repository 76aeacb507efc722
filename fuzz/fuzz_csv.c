/*
 * fuzz_csv.c - libFuzzer target: the CSV formula guard.
 *
 * The guard only ever adds apostrophes: removing every apostrophe from
 * input and output must give the same bytes, and no cell of the output
 * may start with a formula character.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
formula(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t';
}

/* Same bytes once apostrophes are left out? */
static int
same_but_quotes(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < an && a[i] == '\'')
			i++;
		while (j < bn && b[j] == '\'')
			j++;
		if (i == an || j == bn)
			return i == an && j == bn;
		if (a[i++] != b[j++])
			return 0;
	}
}

/* Walk the output as the guard reads cells: no cell starts a formula. */
static int
guarded(const char *p, size_t n)
{
	size_t i = 0;
	int start = 1, quoted = 0;

	for (i = 0; i < n; i++) {
		if (start) {
			start = 0;
			if (p[i] == '"') {
				quoted = 1;
				if (i + 1 < n && formula(p[i + 1]))
					return 0;
				continue;
			}
			if (formula(p[i]))
				return 0;
		}
		if (quoted) {
			if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
				i++;
			else if (p[i] == '"')
				quoted = 0;
		} else if (p[i] == ',' || p[i] == '\n' || p[i] == '\r') {
			/* Spreadsheets end a row at a lone CR as well. */
			start = 1;
		}
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_buf out;

	mugai_buf_init(&out, 0);
	if (mugai_csv_guard((const char *)data, size, &out) != MUGAI_OK)
		abort();
	if (!same_but_quotes((const char *)data, size, out.data ? out.data :
	    "", out.len) || !guarded(out.data ? out.data : "", out.len))
		abort();
	mugai_buf_free(&out);
	return 0;
}
