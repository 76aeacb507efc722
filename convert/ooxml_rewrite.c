/*
 * ooxml_rewrite.c - the rewrites of XML parts in the OOXML cleaner that
 * follow from relationships being dropped (elements that used their
 * Ids, sheets and names in a workbook) and from DDE or other-workbook
 * formulas.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ooxml_int.h"

/* --- elements that used a dropped relationship --------------------- */

/* These keep working without the reference: only the attribute goes. */
static const char *const attr_only[] = {
	"blip", "oleObj", "hyperlink", "hlinkClick", "hlinkHover",
	"hlinkMouseOver", "pageSetup", "imagedata", "fill", "stroke",
};

/* Containers that must not be left empty once their items are gone. */
static const char *const containers[] = {
	"controls", "oleObjects", "externalReferences", "definedNames",
};

static int
in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}
#define IN(s, v)	in_list((const char *)(s), v, sizeof(v) / sizeof(v[0]))

static int
gone(const struct ooxml_part *p, const xmlChar *id)
{
	size_t i;

	for (i = 0; i < p->ngone; i++)
		if (strcmp(p->gone_ids[i], (const char *)id) == 0)
			return 1;
	return 0;
}

/* 1: the element uses a dropped Id (optional uses are removed here). */
static int
uses_gone(struct ooxml_part *p, xmlNode *n)
{
	xmlAttr *a, *next;
	xmlChar *v;
	int hit, cut = 0;

	for (a = n->properties; a != NULL; a = next) {
		next = a->next;
		if (!ooxml_is_rel_ns(n, a->ns))
			continue;
		v = xmlNodeGetContent((xmlNode *)a);
		hit = v != NULL && gone(p, v);
		xmlFree(v);
		if (!hit)
			continue;
		p->dirty = 1;
		if (!IN(n->name, attr_only))
			cut = 1;
		else
			xmlRemoveProp(a);
	}
	return cut;
}

static int
has_elements(const xmlNode *n)
{
	for (n = n->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

/* A workbook's <sheet> is going: remember its name and position. */
static int
note_sheet(struct ooxml *x, xmlNode *n)
{
	xmlNode *s;
	size_t pos = 0;
	const char *name = ooxml_attr(n, "name");
	char **v;

	if (!ooxml_is(n, "sheet", "spreadsheetml") || name == NULL)
		return MUGAI_CONVERT_EXIT_OK;
	for (s = n->prev; s != NULL; s = s->prev)
		if (s->type == XML_ELEMENT_NODE)
			pos++;
	if (x->nremoved_idx == sizeof(x->removed_sheet_idx) /
	    sizeof(x->removed_sheet_idx[0]))
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG,
		    "too many macro sheets");
	x->removed_sheet_idx[x->nremoved_idx] = pos + x->nremoved_idx;
	x->nremoved_idx++;
	if ((v = realloc(x->gone_sheets, (x->ngone_sheets + 1) *
	    sizeof(*v))) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	x->gone_sheets = v;
	if ((v[x->ngone_sheets] = strdup(name)) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	x->ngone_sheets++;
	return MUGAI_CONVERT_EXIT_OK;
}

static int
cut_walk(struct ooxml *x, struct ooxml_part *p, xmlNode *parent)
{
	xmlNode *c, *next;
	int rc, removed = 0;

	for (c = parent->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (uses_gone(p, c)) {
			if ((rc = note_sheet(x, c)) != 0)
				return rc;
			xmlUnlinkNode(c);
			xmlFreeNode(c);
			removed = 1;
			continue;
		}
		if ((rc = cut_walk(x, p, c)) != 0)
			return rc;
		if (c->parent == NULL) {
			xmlFreeNode(c);
			removed = 1;
		}
	}
	/* Tell the caller to drop an emptied container (it unlinks us). */
	if (removed && !has_elements(parent) && IN(parent->name, containers) &&
	    parent->parent != NULL && parent->parent->type == XML_ELEMENT_NODE) {
		xmlUnlinkNode(parent);
		p->dirty = 1;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * ooxml_cut_refs - remove from p what used the relationships its .rels
 * lost, so no r:id dangles.  0 or an exit code.
 */
int
ooxml_cut_refs(struct ooxml *x, struct ooxml_part *p)
{
	xmlNode *root;
	int rc;

	if ((rc = ooxml_parse(x, p)) != 0)
		return rc;
	if ((root = xmlDocGetRootElement(p->doc)) == NULL)
		return MUGAI_CONVERT_EXIT_OK;
	if (uses_gone(p, root))
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "%.100s depends on a part left out", p->name);
	return cut_walk(x, p, root);
}

/* --- workbook ------------------------------------------------------ */

static int
auto_name(const char *name)
{
	static const char *const autos[] = {
		"auto_open", "auto_close", "auto_activate", "auto_deactivate",
		"_xlnm.auto_open", "_xlnm.auto_close", "_xlnm.auto_activate",
		"_xlnm.auto_deactivate",
	};
	size_t i;

	for (i = 0; i < sizeof(autos) / sizeof(autos[0]); i++)
		if (strncasecmp(name, autos[i], strlen(autos[i])) == 0)
			return 1;
	return 0;
}

/* Does the formula text refer to a sheet that is gone? */
static int
names_gone_sheet(struct ooxml *x, const char *text)
{
	const char *hit, *s;
	size_t i, n;

	for (i = 0; i < x->ngone_sheets; i++) {
		s = x->gone_sheets[i];
		n = strlen(s);
		for (hit = strcasestr(text, s); hit != NULL;
		    hit = strcasestr(hit + 1, s)) {
			if (hit > text && (isalnum((unsigned char)hit[-1]) ||
			    hit[-1] == '_' || hit[-1] == '.'))
				continue;
			if (hit[n] == '!' || (hit[n] == '\'' && hit[n + 1] == '!'))
				return 1;
		}
	}
	return 0;
}

/* New localSheetId after the removals; -1 when its sheet is gone. */
static long
shift_sheet(struct ooxml *x, long id)
{
	long shift = 0;
	size_t i;

	for (i = 0; i < x->nremoved_idx; i++) {
		if ((long)x->removed_sheet_idx[i] == id)
			return -1;
		if ((long)x->removed_sheet_idx[i] < id)
			shift++;
	}
	return id - shift;
}

/* 1: the definedName goes; else its localSheetId is fixed up. */
static int
fix_name(struct ooxml *x, xmlNode *n)
{
	const char *name = ooxml_attr(n, "name"), *lid;
	xmlChar *text;
	char buf[32];
	long id;
	int bad;

	if (name == NULL || auto_name(name))
		return 1;
	text = xmlNodeGetContent(n);
	bad = text != NULL && names_gone_sheet(x, (const char *)text);
	xmlFree(text);
	if (bad)
		return 1;
	if ((lid = ooxml_attr(n, "localSheetId")) == NULL || x->nremoved_idx == 0)
		return 0;
	if ((id = shift_sheet(x, strtol(lid, NULL, 10))) < 0)
		return 1;
	snprintf(buf, sizeof(buf), "%ld", id);
	xmlSetProp(n, BAD_CAST "localSheetId", BAD_CAST buf);
	return 0;
}

static void
fix_names(struct ooxml *x, struct ooxml_part *p, xmlNode *names)
{
	xmlNode *n, *next;

	for (n = names->children; n != NULL; n = next) {
		next = n->next;
		if (!ooxml_is(n, "definedName", "spreadsheetml") ||
		    !fix_name(x, n))
			continue;
		xmlUnlinkNode(n);
		xmlFreeNode(n);
		p->dirty = 1;
	}
	if (!has_elements(names)) {
		xmlUnlinkNode(names);
		xmlFreeNode(names);
	}
}

/* Tabs are counted by position: with sheets gone, start at the first. */
static void
fix_views(struct ooxml_part *p, xmlNode *views)
{
	xmlNode *v;

	for (v = views->children; v != NULL; v = v->next) {
		if (!ooxml_is(v, "workbookView", "spreadsheetml"))
			continue;
		xmlUnsetProp(v, BAD_CAST "activeTab");
		xmlUnsetProp(v, BAD_CAST "firstSheet");
		p->dirty = 1;
	}
}

/*
 * ooxml_fix_workbook - after macro sheets are gone: no Auto_Open-style
 * names, no names on removed sheets, localSheetId and the active tab
 * renumbered.  A workbook left without sheets is BAD_INPUT.
 */
int
ooxml_fix_workbook(struct ooxml *x, struct ooxml_part *p)
{
	xmlNode *root, *n, *next;
	int sheets = 0, rc;

	if ((rc = ooxml_parse(x, p)) != 0)
		return rc;
	if ((root = xmlDocGetRootElement(p->doc)) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "empty workbook");
	for (n = root->children; n != NULL; n = next) {
		next = n->next;
		if (ooxml_is(n, "definedNames", "spreadsheetml"))
			fix_names(x, p, n);
		else if (ooxml_is(n, "bookViews", "spreadsheetml") &&
		    x->nremoved_idx > 0)
			fix_views(p, n);
		else if (ooxml_is(n, "sheets", "spreadsheetml"))
			sheets = has_elements(n);
	}
	if (!sheets)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "workbook has no sheet left");
	return MUGAI_CONVERT_EXIT_OK;
}

/* --- formulas ------------------------------------------------------ */

/* DDE ("app|topic!item") or another workbook ("[1]Sheet!A1"). */
static int
formula_bad(const char *f, int extlinks)
{
	int quoted = 0;
	const char *q;

	for (; *f != '\0'; f++) {
		if (*f == '"')
			quoted = !quoted;
		if (quoted)
			continue;
		if (*f == '|')
			return 1;
		if (extlinks && *f == '[' && f[1] >= '0' && f[1] <= '9') {
			for (q = f + 1; *q >= '0' && *q <= '9'; q++)
				;
			if (*q == ']')
				return 1;
		}
	}
	return 0;
}

struct fcut {
	int	 extlinks;
	char	 **si;		/* shared formulas whose master went */
	size_t	 nsi;
	int	 oom;
};

static int
shared_gone(const struct fcut *fc, const char *si)
{
	size_t i;

	for (i = 0; si != NULL && i < fc->nsi; i++)
		if (strcmp(fc->si[i], si) == 0)
			return 1;
	return 0;
}

static int
f_cut(struct fcut *fc, xmlNode *f)
{
	const char *t = ooxml_attr(f, "t"), *si = ooxml_attr(f, "si");
	xmlChar *text;
	char **v;
	int bad;

	if (t != NULL && strcmp(t, "shared") == 0 && shared_gone(fc, si))
		return 1;
	text = xmlNodeGetContent(f);
	bad = text != NULL && formula_bad((const char *)text, fc->extlinks);
	xmlFree(text);
	if (!bad || t == NULL || strcmp(t, "shared") != 0 || si == NULL)
		return bad;
	if ((v = realloc(fc->si, (fc->nsi + 1) * sizeof(*v))) == NULL ||
	    (v[fc->nsi] = strdup(si)) == NULL) {
		if (v != NULL)
			fc->si = v;
		fc->oom = 1;
		return 1;
	}
	fc->si = v;
	fc->nsi++;
	return 1;
}

static int
f_walk(struct fcut *fc, xmlNode *parent)
{
	xmlNode *c, *next;
	int cut = 0;

	for (c = parent->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (ooxml_is(c, "f", "spreadsheetml") && f_cut(fc, c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
			cut = 1;
		} else if (!ooxml_is(c, "f", "spreadsheetml"))
			cut |= f_walk(fc, c);
	}
	return cut;
}

/*
 * ooxml_cut_formulas - formulas in the worksheet p that call DDE or,
 * when extlinks (its links were dropped), other workbooks, leave their
 * cell with the cached value.  Two passes: the second takes the shared
 * formulas whose master the first removed.
 */
int
ooxml_cut_formulas(struct ooxml *x, struct ooxml_part *p, int extlinks)
{
	static const char *const f_names[] = { "f", NULL };
	struct fcut fc;
	xmlNode *root;
	size_t i;
	int rc, cut, found;

	/*
	 * formula_bad acts only on '|' and, with extlinks, '['.  Bytes that
	 * hold one go straight to the tree; their absence alone proves
	 * nothing (a character reference &#124;, an encoding that spells
	 * '|' otherwise), so the check every part gets anyway looks for
	 * them in the decoded text of f elements (any prefix), and a sheet
	 * whose formulas hold neither is checked without a tree.
	 */
	if (p->doc == NULL && memchr(p->data, '|', p->len) == NULL &&
	    (!extlinks || memchr(p->data, '[', p->len) == NULL)) {
		if ((rc = ooxml_check_text(x, p, f_names,
		    extlinks ? "|[" : "|", &found)) != 0)
			return rc;
		if (!found)
			return MUGAI_CONVERT_EXIT_OK;
	}
	if ((rc = ooxml_parse(x, p)) != 0)
		return rc;
	if ((root = xmlDocGetRootElement(p->doc)) == NULL)
		return MUGAI_CONVERT_EXIT_OK;
	memset(&fc, 0, sizeof(fc));
	fc.extlinks = extlinks;
	cut = f_walk(&fc, root);
	if (fc.nsi > 0)
		cut |= f_walk(&fc, root);
	for (i = 0; i < fc.nsi; i++)
		free(fc.si[i]);
	free(fc.si);
	if (fc.oom)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	if (cut) {
		p->dirty = 1;
		x->formulas_cut = 1;
	}
	return MUGAI_CONVERT_EXIT_OK;
}
