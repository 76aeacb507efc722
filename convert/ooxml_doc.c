/*
 * ooxml_doc.c - the lowest layer of the OOXML cleaner, shared by the
 * others so that none calls another's helpers: the refusal reason
 * (ooxml_why), finding a part by name, and XML parsing that refuses
 * DTDs and serialising a changed part.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "ooxml_int.h"

int
ooxml_why(struct ooxml *x, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	convert_vwhy(x->why, x->whylen, fmt, ap);
	va_end(ap);
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
ooxml_key(const char *name)
{
	char *k, *q;
	int hi, lo;

	if ((k = malloc(strlen(name) + 1)) == NULL)
		return NULL;
	for (q = k; *name != '\0'; name++) {
		if (*name == '%' && (hi = hexval(name[1])) >= 0 &&
		    (lo = hexval(name[2])) >= 0) {
			*q++ = (char)tolower(hi << 4 | lo);
			name += 2;
		} else
			*q++ = (char)tolower((unsigned char)*name);
	}
	*q = '\0';
	return k;
}

int
ooxml_part_cmp(const void *a, const void *b)
{
	const struct ooxml_part *const *pa = a, *const *pb = b;

	return strcmp((*pa)->key, (*pb)->key);
}

struct ooxml_part *
ooxml_find(struct ooxml *x, const char *name)
{
	struct ooxml_part key, *kp = &key, **hit;

	if (*name == '/')
		name++;
	if ((key.key = ooxml_key(name)) == NULL)
		return NULL;
	hit = bsearch(&kp, x->sorted, x->nparts, sizeof(*x->sorted), ooxml_part_cmp);
	free(key.key);
	return hit != NULL ? *hit : NULL;
}

/* What one parse saw; the parser context's _private points here. */
struct seen {
	int	 dtd;			/* a DOCTYPE: stopped there */
	const char *const *names;	/* element local names to look for */
	const char *chars;	/* NULL, or: only when their text holds one */
	int	 depth;			/* inside such an element, chars set */
	int	 name;			/* one of them came: stopped there */
};

/* A DOCTYPE: stop at once, before any entity is declared. */
static void
no_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	xmlParserCtxtPtr c = ctx;

	((struct seen *)c->_private)->dtd = 1;
	xmlStopParser(c);
}

/* An element whose local name is looked for (any namespace): stop. */
static void
name_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int natt, int ndef,
    const xmlChar **att)
{
	xmlParserCtxtPtr c = ctx;
	struct seen *s = c->_private;
	size_t i;

	if (s->depth > 0) {
		s->depth++;
		return;
	}
	for (i = 0; s->names[i] != NULL; i++)
		if (strcmp((const char *)local, s->names[i]) == 0) {
			if (s->chars != NULL) {
				s->depth = 1;
				return;
			}
			s->name = 1;
			xmlStopParser(c);
			return;
		}
}

static void
name_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct seen *s = ((xmlParserCtxtPtr)ctx)->_private;

	if (s->depth > 0)
		s->depth--;
}

/*
 * Text (decoded: character references, predefined entities, CDATA,
 * any encoding) inside a looked-for element: stop at one of s->chars.
 */
static void
name_text(void *ctx, const xmlChar *ch, int len)
{
	xmlParserCtxtPtr c = ctx;
	struct seen *s = c->_private;
	const char *k;

	if (s->depth == 0 || len <= 0)
		return;
	for (k = s->chars; *k != '\0'; k++)
		if (memchr(ch, *k, (size_t)len) != NULL) {
			s->name = 1;
			xmlStopParser(c);
			return;
		}
}

static void
quiet(void *user, xmlErrorPtr err)
{
}

/*
 * tree: build p->doc; else only check, and with names stop at the first
 * element so named (*found = 1: nothing was judged, the caller parses
 * again).  Entities are never substituted.
 */
static int
parse(struct ooxml *x, struct ooxml_part *p, int tree,
    const char *const *names, const char *chars, int *found)
{
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING;
	struct seen s;
	xmlParserCtxtPtr c;
	xmlDocPtr doc;
	int wf, dtd;

	if (p->len > INT_MAX)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "%.100s is too big to parse", p->name);
	if ((c = xmlNewParserCtxt()) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	memset(&s, 0, sizeof(s));
	s.names = names;
	s.chars = chars;
	c->_private = &s;
	if (!tree) {
		memset(c->sax, 0, sizeof(*c->sax));
		c->sax->initialized = XML_SAX2_MAGIC;
		if (names != NULL)
			c->sax->startElementNs = name_start;
		if (chars != NULL) {
			c->sax->endElementNs = name_end;
			c->sax->characters = name_text;
			c->sax->cdataBlock = name_text;
		}
	}
	c->sax->internalSubset = no_dtd;
	c->sax->serror = quiet;
	doc = xmlCtxtReadMemory(c, (const char *)p->data, (int)p->len,
	    NULL, NULL, opts);
	wf = c->wellFormed;
	dtd = s.dtd ||
	    (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL));
	xmlFreeParserCtxt(c);
	if (s.name && !dtd) {
		xmlFreeDoc(doc);
		*found = 1;
		return MUGAI_CONVERT_EXIT_OK;
	}
	if (dtd || !wf || (tree && doc == NULL)) {
		xmlFreeDoc(doc);
		if (dtd)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_UNSAFE,
			    "%.100s has a DOCTYPE", p->name);
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "%.100s is not well-formed XML", p->name);
	}
	if (tree)
		p->doc = doc;
	else {
		xmlFreeDoc(doc);
		p->checked = 1;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

int
ooxml_parse(struct ooxml *x, struct ooxml_part *p)
{
	if (p->doc != NULL)
		return MUGAI_CONVERT_EXIT_OK;
	return parse(x, p, 1, NULL, NULL, NULL);
}

int
ooxml_check(struct ooxml *x, struct ooxml_part *p)
{
	return parse(x, p, 0, NULL, NULL, NULL);
}

int
ooxml_check_for(struct ooxml *x, struct ooxml_part *p,
    const char *const *names, int *found)
{
	*found = 0;
	return parse(x, p, 0, names, NULL, found);
}

int
ooxml_check_text(struct ooxml *x, struct ooxml_part *p,
    const char *const *names, const char *chars, int *found)
{
	*found = 0;
	return parse(x, p, 0, names, chars, found);
}

/* p->doc back into p->data, as UTF-8. */
int
ooxml_serialise(struct ooxml *x, struct ooxml_part *p)
{
	xmlChar *mem = NULL;
	unsigned char *copy;
	int size = 0;

	xmlDocDumpMemoryEnc(p->doc, &mem, &size, "UTF-8");
	if (mem == NULL || size < 0 || (copy = malloc((size_t)size + 1)) == NULL) {
		xmlFree(mem);
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "cannot write %.100s", p->name);
	}
	memcpy(copy, mem, (size_t)size);
	copy[size] = '\0';
	xmlFree(mem);
	free(p->data);
	p->data = copy;
	p->len = (size_t)size;
	return MUGAI_CONVERT_EXIT_OK;
}

int
ooxml_is_rel_ns(const xmlNode *n, const xmlNs *ns)
{
	(void)n;
	return ns != NULL && (strcmp((const char *)ns->href,
	    "http://schemas.openxmlformats.org/officeDocument/2006/"
	    "relationships") == 0 || strcmp((const char *)ns->href,
	    "http://purl.oclc.org/ooxml/officeDocument/relationships") == 0);
}

/* Element local in a namespace whose URI has ns_word (both OOXML forms). */
int
ooxml_is(const xmlNode *n, const char *local, const char *ns_word)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->name, local) == 0 &&
	    strstr((const char *)n->ns->href, ns_word) != NULL;
}

/* Value of the attribute name without a namespace; NULL if none. */
const char *
ooxml_attr(xmlNode *n, const char *name)
{
	xmlAttr *a;

	for (a = n->properties; a != NULL; a = a->next)
		if (a->ns == NULL && strcmp((const char *)a->name, name) == 0) {
			if (a->children == NULL)
				return "";
			if (a->children->type != XML_TEXT_NODE ||
			    a->children->next != NULL)
				return NULL;
			return (const char *)a->children->content;
		}
	return NULL;
}
