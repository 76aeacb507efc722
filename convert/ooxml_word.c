/*
 * ooxml_word.c - fields that fetch or run something, taken out of Word
 * text parts (document, headers, footers, notes, comments, glossary).
 *
 * A field is either <w:fldSimple w:instr="..."> around its result runs,
 * or "complex": runs holding <w:fldChar begin/>, the instruction in
 * <w:instrText> (split over any number of runs, so "DD" "EAUTO" is one
 * word), <w:fldChar separate/>, the result runs, <w:fldChar end/>.
 * Fields nest, in the instruction as well as in the result.  A bad
 * field keeps its result (what the reader saw last) and loses the
 * rest, so Word has nothing to update.  An instruction that starts
 * with a nested field is built at run time (QUOTE 68 68 69 ...): it is
 * treated as bad too.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ooxml_int.h"

#define W	"wordprocessingml"

static const char *const bad_fields[] = {
	"DDE", "DDEAUTO", "INCLUDETEXT", "INCLUDE", "INCLUDEPICTURE",
	"IMPORT", "LINK", "DATABASE", "RD",
};

static int
field_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"';
}

/* Is the first word of the instruction one of the bad fields? */
static int
instr_bad(const char *s)
{
	size_t i, n;

	while (*s != '\0' && (field_space((unsigned char)*s) ||
	    (s[0] == '\xc2' && s[1] == '\xa0'))) {
		if (*s == '\xc2')
			s++;
		s++;
	}
	for (n = 0; s[n] != '\0' && !field_space((unsigned char)s[n]) &&
	    s[n] != '\\' && s[n] != '\xc2'; n++)
		;
	for (i = 0; i < sizeof(bad_fields) / sizeof(bad_fields[0]); i++)
		if (strlen(bad_fields[i]) == n &&
		    strncasecmp(s, bad_fields[i], n) == 0)
			return 1;
	return 0;
}

/* Any attribute named instr, whatever its prefix, that is bad. */
static int
simple_bad(xmlNode *n)
{
	xmlAttr *a;
	xmlChar *v;
	int bad = 0;

	for (a = n->properties; a != NULL && !bad; a = a->next) {
		if (strcmp((const char *)a->name, "instr") != 0)
			continue;
		v = xmlNodeGetContent((xmlNode *)a);
		bad = v == NULL || instr_bad((const char *)v);
		xmlFree(v);
	}
	return bad;
}

/* Replace a bad fldSimple by its result runs (its fldData goes). */
static void
unwrap(xmlNode *fld)
{
	xmlNode *c, *next;

	for (c = fld->children; c != NULL; c = next) {
		next = c->next;
		if (ooxml_is(c, "fldData", W))
			continue;
		xmlUnlinkNode(c);
		xmlAddPrevSibling(fld, c);
	}
	xmlUnlinkNode(fld);
	xmlFreeNode(fld);
}

static int
simple_walk(xmlNode *parent)
{
	xmlNode *c, *next;
	int cut = 0;

	for (c = parent->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		cut |= simple_walk(c);
		if (ooxml_is(c, "fldSimple", W) && simple_bad(c)) {
			unwrap(c);
			cut = 1;
		}
	}
	return cut;
}

/* --- complex fields ------------------------------------------------ */

enum ev_kind { EV_BEGIN, EV_SEP, EV_END, EV_INSTR, EV_TEXT };

struct ev {
	xmlNode	*n;
	enum ev_kind kind;
	int	 cut;
};

struct fld {
	size_t	 begin, sep;	/* event indexes; sep == begin: none yet */
	int	 nested_first;	/* instruction starts with a field */
	char	 instr[64];	/* enough for the first word */
	size_t	 ilen;
};

struct fields {
	struct ev *ev;
	size_t	 nev, evcap;
	struct fld *stack;
	size_t	 depth, stackcap;
	int	 oom;
};

static void *
grow(void *v, size_t *cap, size_t need, size_t size)
{
	void *nv;
	size_t ncap;

	if (need <= *cap)
		return v;
	ncap = *cap ? *cap * 2 : 64;
	if ((nv = realloc(v, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return nv;
}

static const char *
fld_type(xmlNode *n)
{
	xmlAttr *a;

	for (a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, "fldCharType") == 0 &&
		    a->children != NULL && a->children->type == XML_TEXT_NODE)
			return (const char *)a->children->content;
	return "";
}

static void
add_ev(struct fields *f, xmlNode *n, enum ev_kind kind)
{
	struct ev *v;

	if ((v = grow(f->ev, &f->evcap, f->nev + 1, sizeof(*v))) == NULL) {
		f->oom = 1;
		return;
	}
	f->ev = v;
	f->ev[f->nev].n = n;
	f->ev[f->nev].kind = kind;
	f->ev[f->nev].cut = 0;
	f->nev++;
}

static void
collect(struct fields *f, xmlNode *parent)
{
	xmlNode *c;
	const char *t;

	for (c = parent->children; c != NULL && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (ooxml_is(c, "fldChar", W)) {
			t = fld_type(c);
			add_ev(f, c, strcmp(t, "begin") == 0 ? EV_BEGIN :
			    strcmp(t, "separate") == 0 ? EV_SEP : EV_END);
		} else if (ooxml_is(c, "instrText", W) ||
		    ooxml_is(c, "delInstrText", W))
			add_ev(f, c, EV_INSTR);
		else if (ooxml_is(c, "t", W) || ooxml_is(c, "delText", W))
			add_ev(f, c, EV_TEXT);
		else
			collect(f, c);
	}
}

static void
instr_add(struct fld *top, xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	size_t len, room = sizeof(top->instr) - 1 - top->ilen;

	if (v == NULL)
		return;
	len = strlen((const char *)v);
	if (len > room)
		len = room;
	memcpy(top->instr + top->ilen, v, len);
	top->ilen += len;
	top->instr[top->ilen] = '\0';
	xmlFree(v);
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!field_space((unsigned char)*s))
			return 0;
	return 1;
}

/* Mark the field's begin..separate (or ..last) and its end for cutting. */
static void
judge(struct fields *f, const struct fld *d, size_t last, int has_end)
{
	size_t i, stop;

	if (!d->nested_first && !instr_bad(d->instr))
		return;
	stop = d->sep != d->begin ? d->sep : last;
	for (i = d->begin; i <= stop; i++)
		f->ev[i].cut = 1;
	if (has_end)
		f->ev[last].cut = 1;
}

static void
match(struct fields *f)
{
	struct fld *top, *s;
	size_t i;

	for (i = 0; i < f->nev && !f->oom; i++) {
		top = f->depth > 0 ? &f->stack[f->depth - 1] : NULL;
		switch (f->ev[i].kind) {
		case EV_BEGIN:
			if (top != NULL && top->sep == top->begin &&
			    blank(top->instr))
				top->nested_first = 1;
			s = grow(f->stack, &f->stackcap, f->depth + 1,
			    sizeof(*s));
			if (s == NULL) {
				f->oom = 1;
				return;
			}
			f->stack = s;
			top = &f->stack[f->depth++];
			memset(top, 0, sizeof(*top));
			top->begin = top->sep = i;
			break;
		case EV_SEP:
			if (top != NULL && top->sep == top->begin)
				top->sep = i;
			break;
		case EV_END:
			if (top == NULL)
				break;
			judge(f, top, i, 1);
			f->depth--;
			break;
		case EV_INSTR:
		case EV_TEXT:
			if (top != NULL && top->sep == top->begin)
				instr_add(top, f->ev[i].n);
			break;
		}
	}
	/* Fields never ended: judged up to the last event. */
	while (f->depth > 0 && f->nev > 0)
		judge(f, &f->stack[--f->depth], f->nev - 1, 0);
}

/* A run with nothing but its properties left is dropped as well. */
static void
cut_node(xmlNode *n)
{
	xmlNode *run = n->parent, *c;

	xmlUnlinkNode(n);
	xmlFreeNode(n);
	if (run == NULL || !ooxml_is(run, "r", W))
		return;
	for (c = run->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !ooxml_is(c, "rPr", W))
			return;
	xmlUnlinkNode(run);
	xmlFreeNode(run);
}

/* Do the part's bytes hold one of the names as it stands (UTF-8)? */
static int
spelt(const struct ooxml_part *p, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (memmem(p->data, p->len, names[i], strlen(names[i])) != NULL)
			return 1;
	return 0;
}

/*
 * ooxml_cut_fields - the bad fields out of the Word part p.  0 or an
 * exit code.
 */
int
ooxml_cut_fields(struct ooxml *x, struct ooxml_part *p)
{
	/* What simple_walk and collect act on; without one nothing changes. */
	static const char *const field_names[] = { "fldSimple", "fldChar",
	    NULL };
	struct fields f;
	xmlNode *root;
	size_t i;
	int rc, cut, found;

	/*
	 * Most parts (styles, settings, fonts, many a body) hold no field:
	 * the check that every XML part gets anyway, looking for one, spares
	 * them a tree (building and freeing it is most of a docx's cost).
	 * Bytes that spell a field's name go straight to the tree, as they
	 * always did; only their absence is proven by the parser, which
	 * reads the names in whatever encoding the part is in.
	 */
	if (p->doc == NULL && !spelt(p, field_names)) {
		if ((rc = ooxml_check_for(x, p, field_names, &found)) != 0)
			return rc;
		if (!found)
			return MUGAI_CONVERT_EXIT_OK;
	}
	if ((rc = ooxml_parse(x, p)) != 0)
		return rc;
	if ((root = xmlDocGetRootElement(p->doc)) == NULL)
		return MUGAI_CONVERT_EXIT_OK;
	cut = simple_walk(root);
	memset(&f, 0, sizeof(f));
	collect(&f, root);
	match(&f);
	for (i = 0; i < f.nev && !f.oom; i++)
		if (f.ev[i].cut) {
			cut_node(f.ev[i].n);
			cut = 1;
		}
	free(f.ev);
	free(f.stack);
	if (f.oom)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	if (cut)
		p->dirty = 1;
	return MUGAI_CONVERT_EXIT_OK;
}
