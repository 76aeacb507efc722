/*
 * edit.c - apply a sanitise result through the milter (see edit.h).
 *
 * Every call goes through the seam, and any refusal by the MTA fails
 * the whole edit: the caller then tempfails the message, and the MTA
 * drops every edit made so far together with the message.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "mugai/base/buf.h"
#include "edit.h"
#include "seam.h"

#define EDIT_NAME_MAX	1024

/*
 * The header field at *pos of raw[0..len): its name (up to the colon)
 * and *pos moved past it and its continuation lines.  0 at the blank
 * line that ends the header block, or at the end of raw.
 */
static int
edit_next_header(const char *raw, size_t len, size_t *pos, const char **name,
    size_t *namelen)
{
	size_t p = *pos, e = *pos;
	const char *nl, *colon;

	if (p >= len || raw[p] == '\n' ||
	    (raw[p] == '\r' && p + 1 < len && raw[p + 1] == '\n'))
		return 0;
	for (;;) {
		if ((nl = memchr(raw + e, '\n', len - e)) == NULL) {
			e = len;
			break;
		}
		e = (size_t)(nl - raw) + 1;
		if (e >= len || (raw[e] != ' ' && raw[e] != '\t'))
			break;
	}
	colon = memchr(raw + p, ':', e - p);
	*name = raw + p;
	*namelen = colon != NULL ? (size_t)(colon - (raw + p)) : 0;
	*pos = e;
	return 1;
}

unsigned
edit_count(const char *raw, size_t len, const char *name, size_t namelen)
{
	size_t pos = 0, hl;
	const char *h;
	unsigned n = 0;

	while (edit_next_header(raw, len, &pos, &h, &hl))
		if (hl == namelen && strncasecmp(h, name, namelen) == 0)
			n++;
	return n;
}

static size_t
edit_trim(const char *name, size_t n)
{
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	return n;
}

/* Delete n headers called name, last first so indexes stay valid. */
static int
edit_delete_all(SMFICTX *ctx, const char *name, size_t namelen, unsigned n)
{
	char buf[EDIT_NAME_MAX];

	if (namelen >= sizeof(buf))
		return -1;
	memcpy(buf, name, namelen);
	buf[namelen] = '\0';
	for (; n > 0; n--)
		if (milter_seam->chgheader(ctx, buf, (int)n, NULL) != MI_SUCCESS)
			return -1;
	return 0;
}

/* A header name as it stands in raw (or in remove[]), not terminated. */
struct edit_span {
	const char	*p;
	size_t		 n;
};

/*
 * One spelling of a name to remove: the MTA counts headers by its own
 * spelling, so each spelling seen is deleted as a group, named as its
 * first header has it.  Groups of one removed name are chained in the
 * order their first headers stand.
 */
struct edit_group {
	struct edit_span	 spell;
	unsigned		 count;
	struct edit_group	*next;
};

/* A name of remove[] (names equal without case are one). */
struct edit_rname {
	struct edit_span	 name;
	struct edit_group	*first, *last;
};

/* Hash and equality without case, as strncasecmp compares. */
static guint
edit_span_hash(gconstpointer k)
{
	const struct edit_span *s = k;
	guint h = 5381;
	size_t i;

	for (i = 0; i < s->n; i++)
		h = h * 33 + (guint)tolower((unsigned char)s->p[i]);
	return h;
}

static gboolean
edit_span_equal(gconstpointer a, gconstpointer b)
{
	const struct edit_span *x = a, *y = b;

	return x->n == y->n && strncasecmp(x->p, y->p, x->n) == 0;
}

/*
 * Count every spelling of every name in remove[] in one pass over the
 * header block, so the cost is linear in the number of headers: the
 * MTA's index of each header to delete is the count of its spelling.
 */
static void
edit_group_headers(GHashTable *rnames, GHashTable *groups, const char *raw,
    size_t len)
{
	struct edit_span key;
	struct edit_rname *rn;
	struct edit_group *g;
	size_t pos = 0;

	while (edit_next_header(raw, len, &pos, &key.p, &key.n)) {
		size_t hl = key.n;

		key.n = edit_trim(key.p, hl);
		if ((rn = g_hash_table_lookup(rnames, &key)) == NULL)
			continue;
		key.n = hl;
		if ((g = g_hash_table_lookup(groups, &key)) == NULL) {
			g = g_new0(struct edit_group, 1);
			g->spell = key;
			if (rn->last != NULL)
				rn->last->next = g;
			else
				rn->first = g;
			rn->last = g;
			g_hash_table_insert(groups, &g->spell, g);
		}
		g->count++;
	}
}

/*
 * Delete every header whose name, without trailing blanks, is one of
 * remove[]: name by name in the order of remove[], and each name's
 * spellings in the order they first stand.
 */
static int
edit_delete(SMFICTX *ctx, char *const *remove, size_t nremove,
    const char *raw, size_t len)
{
	GHashTable *rnames, *groups;
	struct edit_span key;
	struct edit_rname *rn;
	struct edit_group *g;
	size_t i;
	int rc = 0;

	if (nremove == 0)
		return 0;
	rnames = g_hash_table_new_full(edit_span_hash, edit_span_equal, NULL,
	    g_free);
	groups = g_hash_table_new_full(edit_span_hash, edit_span_equal, NULL,
	    g_free);
	for (i = 0; i < nremove; i++) {
		key.p = remove[i];
		key.n = strlen(remove[i]);
		if (g_hash_table_lookup(rnames, &key) != NULL)
			continue;
		rn = g_new0(struct edit_rname, 1);
		rn->name = key;
		g_hash_table_insert(rnames, &rn->name, rn);
	}
	edit_group_headers(rnames, groups, raw, len);
	for (i = 0; i < nremove && rc == 0; i++) {
		key.p = remove[i];
		key.n = strlen(remove[i]);
		rn = g_hash_table_lookup(rnames, &key);
		for (g = rn->first; g != NULL && rc == 0; g = g->next)
			rc = edit_delete_all(ctx, g->spell.p, g->spell.n,
			    g->count);
	}
	g_hash_table_destroy(groups);
	g_hash_table_destroy(rnames);
	return rc;
}

/* Values go without CR (the MTA adds it); with leadspc, after a space. */
static int
edit_add(SMFICTX *ctx, const struct mugai_header *hdr, int leadspc)
{
	struct mugai_buf name, value;
	const char *v;
	int rc = -1;

	mugai_buf_init(&name, EDIT_NAME_MAX);
	mugai_buf_init(&value, 0);
	if (mugai_buf_puts(&name, hdr->name) != MUGAI_OK)
		goto out;
	if (leadspc && mugai_buf_putc(&value, ' ') != MUGAI_OK)
		goto out;
	for (v = hdr->value; *v != '\0'; v++)
		if (*v != '\r' && mugai_buf_putc(&value, *v) != MUGAI_OK)
			goto out;
	/* An empty buffer has no data yet: give the MTA a real string. */
	if (mugai_buf_puts(&value, "") != MUGAI_OK || value.data == NULL)
		goto out;
	if (milter_seam->addheader(ctx, name.data, value.data) == MI_SUCCESS)
		rc = 0;
out:
	mugai_buf_free(&name);
	mugai_buf_free(&value);
	return rc;
}

static int
edit_flush(SMFICTX *ctx, unsigned char *chunk, size_t *n)
{
	if (*n == 0)
		return 0;
	if (milter_seam->replacebody(ctx, chunk, (int)*n) != MI_SUCCESS)
		return -1;
	*n = 0;
	return 0;
}

/*
 * The body with CRLF line ends, in pieces of at most max bytes, never
 * splitting a CRLF, and always ending in CRLF: an empty replacement
 * would leave the MTA with the original body.
 */
static int
edit_body(SMFICTX *ctx, const char *body, size_t len, size_t max)
{
	unsigned char *chunk;
	size_t i, n = 0;
	int rc = -1, at_eol = 0;

	if ((chunk = malloc(max)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
			continue;
		if (n + 2 > max && edit_flush(ctx, chunk, &n) != 0)
			goto out;
		if (body[i] == '\n')
			chunk[n++] = '\r';
		chunk[n++] = (unsigned char)body[i];
		at_eol = body[i] == '\n';
	}
	if (!at_eol) {
		if (n + 2 > max && edit_flush(ctx, chunk, &n) != 0)
			goto out;
		chunk[n++] = '\r';
		chunk[n++] = '\n';
	}
	rc = edit_flush(ctx, chunk, &n);
out:
	free(chunk);
	return rc;
}

int
edit_apply(SMFICTX *ctx, const struct mugai_result *r, const char *raw,
    size_t len, int leadspc, size_t chunk, const char **what)
{
	size_t i;

	if (edit_delete(ctx, r->remove, r->nremove, raw, len) != 0) {
		*what = "deleting a header";
		return -1;
	}
	for (i = 0; i < r->nset; i++)
		if (edit_add(ctx, &r->set[i], leadspc) != 0) {
			*what = "adding a header";
			return -1;
		}
	if (r->body_kept)	/* the body goes as it came */
		return 0;
	if (chunk < 3)
		chunk = 3;
	if (edit_body(ctx, r->body != NULL ? r->body : "", r->body_len,
	    chunk) != 0) {
		*what = "replacing the body";
		return -1;
	}
	return 0;
}
