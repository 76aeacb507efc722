/*
 * fuzz_web_input.c - libFuzzer target: what mugai-web reads from the
 * network and from its accounts file: form bodies and query strings,
 * Accept-Language, the users file, and the HTML escaping every value
 * goes through.
 *
 * Checked beyond "no crash, no leak": escaped output never holds a raw
 * < > " ' or a control character but LF and TAB, and is valid UTF-8; a
 * decoded form value never holds a NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "html.h"
#include "i18n.h"
#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC0 ? 2 : 0;
		if (len == 0 || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

static void
check_escape(const char *s, size_t n)
{
	struct mugai_buf b;
	size_t i;

	mugai_buf_init(&b, 0);
	if (web_html_n(&b, s, n) != MUGAI_OK)
		abort();
	for (i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		if (c == '<' || c == '>' || c == '"' || c == '\'' || c == 0x7F ||
		    (c < 0x20 && c != '\n' && c != '\t'))
			abort();
	}
	if (!utf8_ok((const unsigned char *)b.data, b.len))
		abort();
	mugai_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "csrf", "reason", "to", "part", "user",
		"password", "a", "" };
	struct web_users u;
	char *s, *v, err[256];
	size_t i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_escape((const char *)data, size);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((v = web_form_get(s, names[i])) != NULL) {
			check_escape(v, strlen(v));
			free(v);
		}
	}
	(void)web_lang_pick(NULL, s);
	if (web_users_parse((const char *)data, size, &u, err, sizeof(err)) == 0) {
		for (i = 0; i < u.n; i++)
			if (web_users_find(&u, u.u[i].name) == NULL)
				abort();
		web_users_clear(&u);
	}
	free(s);
	return 0;
}
