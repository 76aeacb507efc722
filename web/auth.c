/*
 * auth.c - password hashes with libcrypt (auth.h).
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

/* Any valid yescrypt hash: the cost paid for a name that does not exist. */
#define DUMMY_HASH "$y$j9T$Qm5yTQxk7hZ0p1JqkGz2e/$" \
	"Rjd.piHsOE542tXg416QHg7pQSe3jQ0DmCAjqflHnU9"

static int
hash_with(const char *prefix, const char *pw, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	h = crypt_r(pw, salt, cd);
	if (h != NULL && h[0] == '$' && strlen(h) < outlen) {
		strcpy(out, h);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int
web_password_hash(const char *pw, char *out, size_t outlen)
{
	if (strlen(pw) > WEB_PASSWORD_MAX)
		return -1;
	if (hash_with("$y$", pw, out, outlen) == 0)
		return 0;
	return hash_with("$6$", pw, out, outlen);
}

int
web_password_check(const char *pw, const char *hash)
{
	struct crypt_data *cd;
	const char *h, *want = hash ? hash : DUMMY_HASH;
	size_t n, i;
	unsigned char d = 0;
	int ok = 0;

	if (strlen(pw) > WEB_PASSWORD_MAX)
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	h = crypt_r(pw, want, cd);
	if (h != NULL && h[0] == '$' && (n = strlen(h)) == strlen(want)) {
		for (i = 0; i < n; i++)
			d |= (unsigned char)(h[i] ^ want[i]);
		ok = d == 0 && hash != NULL;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}
