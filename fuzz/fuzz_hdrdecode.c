/*
 * fuzz_hdrdecode.c - libFuzzer target: header values and file names.
 *
 * Input: up to the first NUL, the raw Content-Disposition value; after
 * it, the raw Content-Type value (none when there is no NUL).  The whole
 * input is also decoded as an unstructured header (Subject).  Every
 * result must be NUL-free UTF-8 with no control characters left.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/text/charset.h"
#include "mugai/text/hdrdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_clean(char *s)
{
	size_t i;

	if (s == NULL)
		abort();
	if (!mugai_utf8_valid(s, strlen(s)))
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *disp, *ctype = NULL, *nul;
	static const char *const params[] = {
		"charset", "boundary", "name", "filename", "start",
	};
	size_t i;

	check_clean(mugai_header_decode((const char *)data, size));
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	disp = copy;
	if ((nul = memchr(copy, '\0', size)) != NULL)
		ctype = nul + 1;
	check_clean(mugai_filename_decode(disp, ctype));
	check_clean(mugai_filename_decode(NULL, disp));
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		free(mugai_header_param(disp, params[i]));
	free(copy);
	return 0;
}
