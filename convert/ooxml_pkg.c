/*
 * ooxml_pkg.c - the package level of the OOXML cleaner: which parts
 * and relationships stay, [Content_Types].xml and the .rels.  The
 * rules and the reasons for them are listed at the top of ooxml.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ooxml_int.h"

#define CT_NS	"http://schemas.openxmlformats.org/package/2006/content-types"
#define RELS_NS	"http://schemas.openxmlformats.org/package/2006/relationships"
#define CT_RELS	"application/vnd.openxmlformats-package.relationships+xml"
#define OD	"application/vnd.openxmlformats-officedocument."

/* Macro-enabled main parts and the plain type each becomes. */
static const struct {
	const char *macro, *plain;
} main_types[] = {
	{ "application/vnd.ms-word.document.macroEnabled.main+xml",
	  OD "wordprocessingml.document.main+xml" },
	{ "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
	  OD "wordprocessingml.template.main+xml" },
	{ "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
	  OD "spreadsheetml.sheet.main+xml" },
	{ "application/vnd.ms-excel.template.macroEnabled.main+xml",
	  OD "spreadsheetml.template.main+xml" },
	{ "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
	  OD "presentationml.presentation.main+xml" },
	{ "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
	  OD "presentationml.slideshow.main+xml" },
	{ "application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
	  OD "presentationml.template.main+xml" },
};
#define NMAIN	(sizeof(main_types) / sizeof(main_types[0]))

/* Content types that name active or linked content, wherever they sit. */
static const char *const bad_ctype_words[] = {
	"macroenabled", "vbaproject", "vbadata", "activex", "oleobject",
	"customui", "macrosheet", "externallink", "keymapcustomizations",
	"attachedtoolbars", "webextension", "taskpane", "printersettings",
	".binary",
};

/* Relationship types (last segment) that are dropped whatever the target. */
static const char *const bad_rel_types[] = {
	"vbaProject", "vbaProjectSignature", "vbaProjectSignatureAgile",
	"vbaProjectSignatureV3", "wordVbaData", "keyMapCustomizations",
	"attachedToolbars", "activeXControl", "activeXControlBinary",
	"oleObject", "package", "aFChunk", "attachedTemplate", "subDocument",
	"externalLink", "externalLinkPath", "xlExternalLinkPath",
	"xlMacrosheet", "xlIntlMacrosheet", "extensibility", "webextension",
	"webextensiontaskpanes", "frame", "mailMergeSource",
	"mailMergeHeaderSource", "recipientData", "printerSettings",
};

/* Path segments of folders whose parts are all active content. */
static const char *const bad_dirs[] = {
	"activex", "embeddings", "customui", "macrosheets", "externallinks",
	"webextensions",
};

static int
has_word(const char *s, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasestr(s, words[i]) != NULL)
			return 1;
	return 0;
}

static const char *
main_plain(const char *ctype)
{
	size_t i;

	for (i = 0; i < NMAIN; i++)
		if (strcasecmp(ctype, main_types[i].macro) == 0)
			return main_types[i].plain;
	return NULL;
}

static int
is_main_type(const char *ctype)
{
	size_t i;

	for (i = 0; i < NMAIN; i++)
		if (strcasecmp(ctype, main_types[i].macro) == 0 ||
		    strcasecmp(ctype, main_types[i].plain) == 0)
			return 1;
	return 0;
}

static int
starts(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int
ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The allow-list of content types; a main type is renamed, not dropped. */
static int
ctype_allowed(const char *ct)
{
	static const char *const exact[] = {
		"application/xml", "text/xml",
		OD "vmlDrawing", OD "obfuscatedFont",
		"application/x-fontdata", "application/x-font-ttf",
		"application/x-font-otf", "application/font-sfnt",
		"application/vnd.ms-package.obfuscated-opentype",
	};
	size_t i;

	if (is_main_type(ct))
		return 1;
	if (has_word(ct, bad_ctype_words,
	    sizeof(bad_ctype_words) / sizeof(bad_ctype_words[0])))
		return 0;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcasecmp(ct, exact[i]) == 0)
			return 1;
	if (ends(ct, "+xml") && (starts(ct, "application/vnd.openxmlformats-")
	    || starts(ct, "application/vnd.ms-")))
		return 1;
	return starts(ct, "image/") || starts(ct, "audio/") ||
	    starts(ct, "video/");
}

/* Why the part's name alone rules it out, or NULL. */
static const char *
name_verdict(const char *key)
{
	const char *base = strrchr(key, '/'), *seg, *end;
	size_t i, n;

	base = base != NULL ? base + 1 : key;
	if (ends(key, ".bin"))
		return "binary part (VBA, ActiveX, OLE)";
	if (strcmp(base, "vbadata.xml") == 0 ||
	    starts(base, "attachedtoolbars") ||
	    starts(base, "keymapcustomizations"))
		return "macro part";
	for (seg = key; (end = strchr(seg, '/')) != NULL; seg = end + 1) {
		n = (size_t)(end - seg);
		for (i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++)
			if (strlen(bad_dirs[i]) == n &&
			    strncmp(seg, bad_dirs[i], n) == 0)
				return "active content folder";
	}
	return NULL;
}

/* --- [Content_Types].xml ------------------------------------------ */

static int
is_ct_elem(const xmlNode *n, const char *local)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, CT_NS) == 0 &&
	    strcmp((const char *)n->name, local) == 0;
}

static const char *
extension(const char *name)
{
	const char *slash = strrchr(name, '/'), *dot = strrchr(name, '.');

	if (dot == NULL || (slash != NULL && dot < slash))
		return "";
	return dot + 1;
}

/* Give every part its content type: an Override, else its Default. */
static int
assign_ctypes(struct ooxml *x, xmlNode *root)
{
	xmlNode *n;
	const char *pn, *ext, *ct;
	struct ooxml_part *p;
	size_t i;

	for (n = root->children; n != NULL; n = n->next) {
		if (!is_ct_elem(n, "Override"))
			continue;
		pn = ooxml_attr(n, "PartName");
		ct = ooxml_attr(n, "ContentType");
		if (pn == NULL || ct == NULL)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "[Content_Types].xml: Override without PartName "
			    "or ContentType");
		if ((p = ooxml_find(x, pn)) != NULL && p->ctype == NULL)
			p->ctype = ct;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (!is_ct_elem(n, "Default"))
			continue;
		ext = ooxml_attr(n, "Extension");
		ct = ooxml_attr(n, "ContentType");
		if (ext == NULL || ct == NULL)
			return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
			    "[Content_Types].xml: Default without Extension "
			    "or ContentType");
		for (i = 0; i < x->nparts; i++) {
			p = &x->parts[i];
			if (p->ctype == NULL &&
			    strcasecmp(extension(p->name), ext) == 0)
				p->ctype = ct;
		}
	}
	return MUGAI_CONVERT_EXIT_OK;
}

static int
load_ctypes(struct ooxml *x)
{
	xmlNode *root;
	int rc;

	if ((x->ct = ooxml_find(x, "[Content_Types].xml")) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "no [Content_Types].xml: not an Office Open XML file");
	if ((rc = ooxml_parse(x, x->ct)) != 0)
		return rc;
	root = xmlDocGetRootElement(x->ct->doc);
	if (root == NULL || !is_ct_elem(root, "Types"))
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "[Content_Types].xml is not a content type list");
	return assign_ctypes(x, root);
}

/* Remove entries for parts left out and for denied types; rename mains. */
static void
rewrite_ctypes(struct ooxml *x)
{
	xmlNode *n, *next;
	const char *v, *ct, *plain;
	struct ooxml_part *p;
	int gone;

	for (n = xmlDocGetRootElement(x->ct->doc)->children; n != NULL;
	    n = next) {
		next = n->next;
		gone = 0;
		ct = ooxml_attr(n, "ContentType");
		if (is_ct_elem(n, "Override")) {
			v = ooxml_attr(n, "PartName");
			p = v != NULL ? ooxml_find(x, v) : NULL;
			gone = p == NULL || p->drop != NULL || p == x->ct;
		} else if (is_ct_elem(n, "Default")) {
			v = ooxml_attr(n, "Extension");
			gone = v == NULL || strcasecmp(v, "bin") == 0 ||
			    (ct != NULL && !ctype_allowed(ct));
		} else
			continue;
		if (gone) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			x->ct->dirty = 1;
		} else if (ct != NULL && (plain = main_plain(ct)) != NULL) {
			xmlSetProp(n, BAD_CAST "ContentType", BAD_CAST plain);
			x->ct->dirty = 1;
		}
	}
}

/* --- relationships ------------------------------------------------ */

static const char *
last_segment(const char *type)
{
	const char *s = strrchr(type, '/');

	return s != NULL ? s + 1 : type;
}

static int
rel_type_is(const char *type, const char *what)
{
	return strcasecmp(last_segment(type), what) == 0;
}

/* Hyperlinks leave the package only to the web or to mail. */
static int
link_safe(const char *target)
{
	while (*target == ' ' || *target == '\t')
		target++;
	return starts(target, "http://") || starts(target, "https://") ||
	    starts(target, "mailto:") || target[0] == '#';
}

/* dir of src (or the root) + target, with "." and ".." resolved. */
static char *
resolve(const char *src, const char *target)
{
	size_t n = src != NULL ? strlen(src) : 0;
	char *buf, *out, *seg, *save = NULL, *hash;
	size_t len = 0;

	if ((buf = malloc(n + strlen(target) + 2)) == NULL)
		return NULL;
	buf[0] = '\0';
	if (target[0] != '/' && src != NULL && strrchr(src, '/') != NULL) {
		n = (size_t)(strrchr(src, '/') - src) + 1;
		memcpy(buf, src, n);
		buf[n] = '\0';
	}
	strcat(buf, target);
	if ((hash = strchr(buf, '#')) != NULL)
		*hash = '\0';
	if ((out = calloc(1, strlen(buf) + 1)) == NULL) {
		free(buf);
		return NULL;
	}
	for (seg = strtok_r(buf, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			if (len == 0)
				goto bad;
			while (len > 0 && out[--len] != '/')
				;
			out[len] = '\0';
			continue;
		}
		if (len > 0)
			out[len++] = '/';
		strcpy(out + len, seg);
		len += strlen(seg);
	}
	free(buf);
	return out;
bad:
	free(buf);
	free(out);
	return NULL;
}

/*
 * Why the relationship goes, or NULL when it stays; *to is the part
 * it leads to (NULL for links out of the package).
 */
static const char *
rel_verdict(struct ooxml *x, const struct ooxml_part *src, const char *type,
    const char *target, const char *mode, struct ooxml_part **to)
{
	int external = mode != NULL && strcasecmp(mode, "Internal") != 0;
	size_t i;
	char *path;

	*to = NULL;
	if (rel_type_is(type, "hyperlink") &&
	    (external || strstr(target, ":") != NULL || target[0] == '#'))
		return link_safe(target) ? NULL : "hyperlink scheme";
	if (external)
		return "external";
	for (i = 0; i < sizeof(bad_rel_types) / sizeof(bad_rel_types[0]); i++)
		if (rel_type_is(type, bad_rel_types[i]))
			return "active type";
	if ((path = resolve(src != NULL ? src->name : NULL, target)) == NULL)
		return "bad target";
	*to = ooxml_find(x, path);
	free(path);
	if (*to == NULL)
		return "missing target";
	if ((*to)->drop != NULL)
		return "target left out";
	if (*to == x->ct)
		return "bad target";
	return NULL;
}

static int
remember_gone(struct ooxml *x, struct ooxml_part *src, const char *id)
{
	char **v;

	if (src == NULL)
		return MUGAI_CONVERT_EXIT_OK;
	v = realloc(src->gone_ids, (src->ngone + 1) * sizeof(*v));
	if (v == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	src->gone_ids = v;
	if ((v[src->ngone] = strdup(id)) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	src->ngone++;
	return MUGAI_CONVERT_EXIT_OK;
}

/* The .rels part of src (NULL: the package), or NULL when it has none. */
static struct ooxml_part *
rels_of(struct ooxml *x, const struct ooxml_part *src)
{
	const char *slash;
	struct ooxml_part *r;
	char *name;
	size_t dir;

	if (src == NULL)
		return ooxml_find(x, "_rels/.rels");
	slash = strrchr(src->name, '/');
	dir = slash != NULL ? (size_t)(slash - src->name) + 1 : 0;
	if ((name = malloc(strlen(src->name) + 12)) == NULL)
		return NULL;
	memcpy(name, src->name, dir);
	strcpy(name + dir, "_rels/");
	strcat(name, src->name + dir);
	strcat(name, ".rels");
	r = ooxml_find(x, name);
	free(name);
	return r;
}

static int
is_rel_elem(const xmlNode *n, const char *local)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, RELS_NS) == 0 &&
	    strcmp((const char *)n->name, local) == 0;
}

/* One Relationship: keep it (queueing its target) or take it out. */
static int
walk_one(struct ooxml *x, struct ooxml_part *src, struct ooxml_part *rels,
    xmlNode *n, struct ooxml_part **queue, size_t *nq)
{
	const char *id = ooxml_attr(n, "Id"), *type = ooxml_attr(n, "Type");
	const char *target = ooxml_attr(n, "Target");
	struct ooxml_part *to;

	if (id == NULL || type == NULL || target == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "%.100s: relationship without Id, Type or Target",
		    rels->name);
	if (rel_verdict(x, src, type, target, ooxml_attr(n, "TargetMode"),
	    &to) == NULL) {
		if (to != NULL && !to->reached) {
			to->reached = 1;
			queue[(*nq)++] = to;
		}
		return MUGAI_CONVERT_EXIT_OK;
	}
	if (remember_gone(x, src, id) != 0)
		return MUGAI_CONVERT_EXIT_TOO_BIG;
	xmlUnlinkNode(n);
	xmlFreeNode(n);
	rels->dirty = 1;
	return MUGAI_CONVERT_EXIT_OK;
}

static int
walk_rels(struct ooxml *x, struct ooxml_part *src, struct ooxml_part **queue,
    size_t *nq)
{
	struct ooxml_part *rels = rels_of(x, src);
	xmlNode *root, *n, *next;
	int rc;

	if (rels == NULL || rels->reached)
		return MUGAI_CONVERT_EXIT_OK;
	rels->reached = 1;
	if (rels->drop != NULL || rels->ctype == NULL ||
	    strcasecmp(rels->ctype, CT_RELS) != 0)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "%.100s is not a relationship part", rels->name);
	if ((rc = ooxml_parse(x, rels)) != 0)
		return rc;
	root = xmlDocGetRootElement(rels->doc);
	if (root == NULL || !is_rel_elem(root, "Relationships"))
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "%.100s is not a relationship list", rels->name);
	for (n = root->children; n != NULL; n = next) {
		next = n->next;
		if (is_rel_elem(n, "Relationship") &&
		    (rc = walk_one(x, src, rels, n, queue, nq)) != 0)
			return rc;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/* From _rels/.rels through every kept relationship; the rest is unused. */
static int
walk_package(struct ooxml *x)
{
	struct ooxml_part **queue;
	size_t nq = 0, i;
	int rc;

	if (rels_of(x, NULL) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT,
		    "no _rels/.rels: not an Office Open XML file");
	if ((queue = calloc(x->nparts + 1, sizeof(*queue))) == NULL)
		return ooxml_why(x, MUGAI_CONVERT_EXIT_TOO_BIG, "out of memory");
	rc = walk_rels(x, NULL, queue, &nq);
	for (i = 0; rc == 0 && i < nq; i++)
		rc = walk_rels(x, queue[i], queue, &nq);
	free(queue);
	if (rc != 0)
		return rc;
	x->ct->reached = 1;
	for (i = 0; i < x->nparts; i++)
		if (!x->parts[i].reached && x->parts[i].drop == NULL)
			x->parts[i].drop = "not referenced";
	return MUGAI_CONVERT_EXIT_OK;
}

/* The main document: what _rels/.rels calls officeDocument. */
static struct ooxml_part *
main_part(struct ooxml *x)
{
	struct ooxml_part *rels = rels_of(x, NULL), *p;
	xmlNode *n;
	const char *type, *target;
	char *path;

	if (rels == NULL || rels->doc == NULL)
		return NULL;
	for (n = xmlDocGetRootElement(rels->doc)->children; n != NULL;
	    n = n->next) {
		if (!is_rel_elem(n, "Relationship") ||
		    (type = ooxml_attr(n, "Type")) == NULL ||
		    (target = ooxml_attr(n, "Target")) == NULL ||
		    !rel_type_is(type, "officeDocument"))
			continue;
		if ((path = resolve(NULL, target)) == NULL)
			return NULL;
		p = ooxml_find(x, path);
		free(path);
		return p;
	}
	return NULL;
}

/* --- the parts' own content --------------------------------------- */

static int
ctype_has(const struct ooxml_part *p, const char *what)
{
	return p->ctype != NULL && strcasestr(p->ctype, what) != NULL;
}

/*
 * Legacy VML drawings (comments, form controls) written by Excel are
 * often not well-formed XML (<br> without its end tag); Office and
 * LibreOffice read them anyway.  One that does not parse is left out
 * like any other dropped part, which takes its relationships with it;
 * a DOCTYPE is still refused.
 */
static int
vml_verdict(struct ooxml *x, struct ooxml_part *p)
{
	int rc;

	if (!ctype_has(p, "vmlDrawing") || (rc = ooxml_check(x, p)) == 0)
		return MUGAI_CONVERT_EXIT_OK;
	if (rc != MUGAI_CONVERT_EXIT_BAD_INPUT)
		return rc;
	if (x->whylen > 0)
		x->why[0] = '\0';
	p->drop = "VML drawing not well formed";
	return MUGAI_CONVERT_EXIT_OK;
}

static int
mark_by_rules(struct ooxml *x, int *extlinks)
{
	struct ooxml_part *p;
	const char *why;
	size_t i;
	int rc;

	*extlinks = 0;
	for (i = 0; i < x->nparts; i++) {
		p = &x->parts[i];
		if (p == x->ct)
			continue;
		if (p->ctype != NULL && strcasecmp(p->ctype, OOXML_XLSB_CT) == 0)
			x->binary = 1;
		if ((why = name_verdict(p->key)) != NULL)
			p->drop = why;
		else if (p->ctype == NULL)
			p->drop = "no content type";
		else if (!ctype_allowed(p->ctype))
			p->drop = "content type not allowed";
		else if ((rc = vml_verdict(x, p)) != 0)
			return rc;
		if (p->drop != NULL && (strstr(p->key, "externallinks/") ||
		    ctype_has(p, "externalLink")))
			*extlinks = 1;
	}
	return MUGAI_CONVERT_EXIT_OK;
}

/* Sheets before the walk: a cut formula makes calcChain.xml go too. */
static int
clean_sheets(struct ooxml *x, int extlinks)
{
	struct ooxml_part *p;
	size_t i;
	int rc;

	for (i = 0; i < x->nparts; i++) {
		p = &x->parts[i];
		if (p->drop == NULL && ctype_has(p, "spreadsheetml.worksheet+") &&
		    (rc = ooxml_cut_formulas(x, p, extlinks)) != 0)
			return rc;
	}
	for (i = 0; x->formulas_cut && i < x->nparts; i++)
		if (ctype_has(&x->parts[i], "spreadsheetml.calcChain+"))
			x->parts[i].drop = "calculation chain of cut formulas";
	return MUGAI_CONVERT_EXIT_OK;
}

static int
is_xml(const struct ooxml_part *p)
{
	return p->ctype != NULL && (ends(p->ctype, "+xml") ||
	    ends(p->ctype, "/xml") || ctype_has(p, "vmlDrawing"));
}

/* After the walk: references to what went, fields, and a check of all XML. */
static int
clean_parts(struct ooxml *x, struct ooxml_part *main)
{
	struct ooxml_part *p;
	size_t i;
	int rc;

	for (i = 0; i < x->nparts; i++) {
		p = &x->parts[i];
		if (p->drop != NULL || p == x->ct)
			continue;
		if (p->ngone > 0 && (rc = ooxml_cut_refs(x, p)) != 0)
			return rc;
		if ((ctype_has(p, "wordprocessingml") ||
		    ctype_has(p, "ms-word")) &&
		    (rc = ooxml_cut_fields(x, p)) != 0)
			return rc;
		if (is_xml(p) && p->doc == NULL && !p->checked &&
		    (rc = ooxml_check(x, p)) != 0)
			return rc;
	}
	if (ctype_has(main, "spreadsheetml") || ctype_has(main, "ms-excel"))
		return ooxml_fix_workbook(x, main);
	return MUGAI_CONVERT_EXIT_OK;
}

/*
 * ooxml_clean - decide every part and relationship and rewrite what has
 * to change.  0 or an exit code with why set; OOXML_BINARY, before
 * anything else is done, for a binary workbook (xlsb).
 */
int
ooxml_clean(struct ooxml *x)
{
	struct ooxml_part *main;
	int rc, extlinks;

	if ((rc = load_ctypes(x)) != 0)
		return rc;
	if ((rc = mark_by_rules(x, &extlinks)) != 0)
		return rc;
	if (x->binary)
		return OOXML_BINARY;
	if ((rc = clean_sheets(x, extlinks)) != 0)
		return rc;
	if ((rc = walk_package(x)) != 0)
		return rc;
	main = main_part(x);
	if (main == NULL || main->drop != NULL || main->ctype == NULL ||
	    !is_main_type(main->ctype))
		return ooxml_why(x, MUGAI_CONVERT_EXIT_BAD_INPUT, "%s",
		    "no Word, Excel or PowerPoint main part");
	if ((rc = clean_parts(x, main)) != 0)
		return rc;
	snprintf(x->main_ct, sizeof(x->main_ct), "%s",
	    main_plain(main->ctype) ? main_plain(main->ctype) : main->ctype);
	rewrite_ctypes(x);
	return MUGAI_CONVERT_EXIT_OK;
}
