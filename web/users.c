/*
 * users.c - reading and writing the accounts file (users.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "users.h"

#define USERS_MAX_FILE	(4 * 1024 * 1024)

static const char *role_names[] = { "admin", "auditor", "staff" };

const char *
web_role_str(enum web_role r)
{
	return (unsigned)r < 3 ? role_names[r] : "?";
}

int
web_role_parse(const char *s, enum web_role *out)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum web_role)i;
			return 0;
		}
	return -1;
}

int
web_user_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

/* local@domain, printable ASCII without , : < > or white space. */
int
web_addr_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t i, n = strlen(s);

	if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7F || strchr(",:<>\"", s[i]))
			return 0;
	return 1;
}

static void
user_clear(struct web_user *u)
{
	size_t i;

	free(u->name);
	if (u->hash != NULL) {
		explicit_bzero(u->hash, strlen(u->hash));
		free(u->hash);
	}
	for (i = 0; i < u->naddrs; i++)
		free(u->addrs[i]);
	free(u->addrs);
	memset(u, 0, sizeof(*u));
}

void
web_users_clear(struct web_users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++)
		user_clear(&u->u[i]);
	free(u->u);
	u->u = NULL;
	u->n = 0;
}

const struct web_user *
web_users_find(const struct web_users *u, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < u->n; i++)
		if (strcmp(u->u[i].name, name) == 0)
			return &u->u[i];
	return NULL;
}

static int
errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
hash_ok(const char *h)
{
	size_t n = strlen(h);

	return (strncmp(h, "$y$", 3) == 0 || strncmp(h, "$6$", 3) == 0) &&
	    n < 512 && strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789./$=,") == n;
}

static char *
lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	for (p = d; p != NULL && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* Fill u from its fields; -1 with err (no line number). */
static int
user_fill(struct web_user *u, const char *name, const char *hash,
    enum web_role role, char *const *addrs, size_t naddrs, char *err,
    size_t errlen)
{
	size_t i;

	if (!web_user_name_ok(name))
		return errf(err, errlen, "user name \"%.64s\" is not 1-64 of "
		    "A-Z a-z 0-9 . _ @ -", name);
	if (!hash_ok(hash))
		return errf(err, errlen, "the password hash of %s is not a "
		    "yescrypt or sha512-crypt hash", name);
	if (role == WEB_ROLE_STAFF && naddrs == 0)
		return errf(err, errlen, "staff account %s needs at least one "
		    "mail address", name);
	if (role != WEB_ROLE_STAFF && naddrs > 0)
		return errf(err, errlen, "only staff accounts have mail "
		    "addresses (%s is %s)", name, web_role_str(role));
	if (naddrs > WEB_USERS_MAX_ADDRS)
		return errf(err, errlen, "%s has more than %d addresses", name,
		    WEB_USERS_MAX_ADDRS);
	for (i = 0; i < naddrs; i++)
		if (!web_addr_ok(addrs[i]))
			return errf(err, errlen, "\"%.254s\" is not a mail "
			    "address", addrs[i]);
	memset(u, 0, sizeof(*u));
	u->role = role;
	if ((u->name = strdup(name)) == NULL || (u->hash = strdup(hash)) == NULL ||
	    (naddrs > 0 && (u->addrs = calloc(naddrs, sizeof(char *))) == NULL))
		goto nomem;
	for (i = 0; i < naddrs; i++, u->naddrs++)
		if ((u->addrs[i] = lower_dup(addrs[i])) == NULL)
			goto nomem;
	return 0;
nomem:
	user_clear(u);
	return errf(err, errlen, "out of memory");
}

/* Parse one line (NUL-terminated, modified in place) into u. */
static int
parse_line(char *line, struct web_user *u, char *err, size_t errlen)
{
	char *f[4], *p = line, *addrs[WEB_USERS_MAX_ADDRS + 1], *a, *save;
	enum web_role role;
	size_t naddrs = 0;
	int i;

	for (i = 0; i < 4; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (i < 3 && p == NULL)
			return errf(err, errlen, "expected NAME:HASH:ROLE:"
			    "ADDRESSES");
		if (p != NULL)
			*p++ = '\0';
	}
	if (p != NULL)
		return errf(err, errlen, "more than four fields");
	if (web_role_parse(f[2], &role) != 0)
		return errf(err, errlen, "role \"%.32s\" is not admin, auditor "
		    "or staff", f[2]);
	for (a = strtok_r(f[3], ",", &save); a != NULL;
	    a = strtok_r(NULL, ",", &save)) {
		if (naddrs == WEB_USERS_MAX_ADDRS + 1)
			break;
		addrs[naddrs++] = a;
	}
	return user_fill(u, f[0], f[1], role, addrs, naddrs, err, errlen);
}

int
web_users_parse(const char *text, size_t len, struct web_users *out,
    char *err, size_t errlen)
{
	char *copy, *line, *next, msg[512];
	size_t lineno = 0;
	struct web_user *grown;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len) != NULL)
		return errf(err, errlen, "the file holds a NUL byte");
	if ((copy = strndup(text, len)) == NULL)
		return errf(err, errlen, "out of memory");
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		if (out->n == WEB_USERS_MAX) {
			errf(err, errlen, "line %zu: more than %d accounts",
			    lineno, WEB_USERS_MAX);
			goto fail;
		}
		if ((grown = realloc(out->u, (out->n + 1) * sizeof(*grown))) == NULL) {
			errf(err, errlen, "out of memory");
			goto fail;
		}
		out->u = grown;
		if (parse_line(line, &out->u[out->n], msg, sizeof(msg)) != 0) {
			errf(err, errlen, "line %zu: %s", lineno, msg);
			goto fail;
		}
		if (web_users_find(out, out->u[out->n].name) != NULL) {
			errf(err, errlen, "line %zu: %s is there twice", lineno,
			    out->u[out->n].name);
			user_clear(&out->u[out->n]);
			goto fail;
		}
		out->n++;
	}
	explicit_bzero(copy, len);
	free(copy);
	return 0;
fail:
	explicit_bzero(copy, len);
	free(copy);
	web_users_clear(out);
	return -1;
}

int
web_users_load(const char *path, struct web_users *out, char *err,
    size_t errlen)
{
	char *buf = NULL, msg[512];
	size_t len = 0;
	ssize_t n;
	struct stat st;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || st.st_size > USERS_MAX_FILE ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return errf(err, errlen, "%s: cannot read it (over 4 MB?)", path);
	}
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	rc = web_users_parse(buf, len, out, msg, sizeof(msg));
	explicit_bzero(buf, len);
	free(buf);
	if (rc != 0)
		return errf(err, errlen, "%s: %s", path, msg);
	return 0;
}

int
web_users_set(struct web_users *u, const char *name, const char *hash,
    enum web_role role, char *const *addrs, size_t naddrs, char *err,
    size_t errlen)
{
	struct web_user nu, *grown;
	const struct web_user *old = web_users_find(u, name);
	size_t i;

	if (hash == NULL && old == NULL)
		return errf(err, errlen, "no such user %s", name);
	if (user_fill(&nu, name, hash ? hash : old->hash, role, addrs, naddrs,
	    err, errlen) != 0)
		return -1;
	if (old != NULL) {
		i = (size_t)(old - u->u);
		user_clear(&u->u[i]);
		u->u[i] = nu;
		return 0;
	}
	if ((grown = realloc(u->u, (u->n + 1) * sizeof(*grown))) == NULL) {
		user_clear(&nu);
		return errf(err, errlen, "out of memory");
	}
	u->u = grown;
	u->u[u->n++] = nu;
	return 0;
}

int
web_users_del(struct web_users *u, const char *name)
{
	const struct web_user *old = web_users_find(u, name);
	size_t i;

	if (old == NULL)
		return -1;
	i = (size_t)(old - u->u);
	user_clear(&u->u[i]);
	memmove(&u->u[i], &u->u[i + 1], (u->n - i - 1) * sizeof(*u->u));
	u->n--;
	return 0;
}

int
web_users_save(const struct web_users *u, const char *path, int uid, int gid,
    char *err, size_t errlen)
{
	char tmp[4096], *dir, *slash;
	size_t i, j;
	FILE *fp;
	int fd, bad = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return errf(err, errlen, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) < 0)
		return errf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) != 0 || (uid != -1 && fchown(fd, (uid_t)uid,
	    (gid_t)gid) != 0) || (fp = fdopen(fd, "w")) == NULL) {
		errf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	fprintf(fp, "# mugai-web accounts: NAME:HASH:ROLE:ADDRESSES "
	    "(edit with \"mugai web-user\")\n");
	for (i = 0; i < u->n; i++) {
		fprintf(fp, "%s:%s:%s:", u->u[i].name, u->u[i].hash,
		    web_role_str(u->u[i].role));
		for (j = 0; j < u->u[i].naddrs; j++)
			fprintf(fp, "%s%s", j ? "," : "", u->u[i].addrs[j]);
		fputc('\n', fp);
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		bad = errno ? errno : EIO;
	if (fclose(fp) != 0 && bad == 0)
		bad = errno;
	if (bad == 0 && rename(tmp, path) != 0)
		bad = errno;
	if (bad != 0) {
		unlink(tmp);
		return errf(err, errlen, "%s: %s", path, strerror(bad));
	}
	/* The rename is durable only once the directory is synced. */
	if ((dir = strdup(path)) != NULL) {
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		else
			strcpy(dir, ".");
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			(void)fsync(fd);
			close(fd);
		}
		free(dir);
	}
	return 0;
}

int
web_user_has_addr(const struct web_user *user, const char *addr)
{
	size_t i, n;

	if (addr == NULL)
		return 0;
	if (*addr == '<')
		addr++;
	n = strlen(addr);
	if (n > 0 && addr[n - 1] == '>')
		n--;
	for (i = 0; i < user->naddrs; i++)
		if (strlen(user->addrs[i]) == n &&
		    strncasecmp(user->addrs[i], addr, n) == 0)
			return 1;
	return 0;
}
