/*
 * ooxml_int.h - shared by the pieces of the Office Open XML cleaner:
 * ooxml.c the zip in and out, ooxml_pkg.c content types and
 * relationships, ooxml_rewrite.c and ooxml_word.c the part rewrites,
 * and under them all ooxml_doc.c (reasons, part lookup, XML parsing).
 * Internal to mugai-convert.
 */
#ifndef MUGAI_OOXML_INT_H
#define MUGAI_OOXML_INT_H

#include <stddef.h>
#include <libxml/tree.h>

#include "convert.h"

struct ooxml_part {
	char	*name;		/* zip entry name as stored */
	char	*key;		/* percent-decoded, lower case: for lookups */
	unsigned char *data;	/* uncompressed bytes (malloc'd) */
	size_t	 len;
	const char *ctype;	/* content type (points into x->ctypes), or NULL */
	const char *drop;	/* NULL: kept; else why it is left out */
	int	 reached;	/* a kept relationship leads here */
	int	 rels_done;	/* its .rels was walked */
	int	 dirty;		/* doc changed: serialise it on output */
	int	 checked;	/* well formed, no DOCTYPE: checked, no tree */
	xmlDocPtr doc;		/* parsed tree, when one was needed */
	char	**gone_ids;	/* relationship Ids dropped from its .rels */
	size_t	 ngone;
};

struct ooxml {
	const struct convert_opts *o;
	char	*why;
	size_t	 whylen;
	struct ooxml_part *parts;
	size_t	 nparts;
	struct ooxml_part **sorted;	/* by key, for ooxml_find */
	struct ooxml_part *ct;		/* [Content_Types].xml */
	int	 formulas_cut;		/* a sheet formula was removed */
	char	**gone_sheets;		/* names of sheets taken out */
	size_t	 ngone_sheets;
	size_t	 removed_sheet_idx[64];	/* their positions, for localSheetId */
	size_t	 nremoved_idx;
	char	 main_ct[200];		/* the main part's (plain) type */
	int	 binary;		/* an xlsb: nothing here can clean it */
};

/* ooxml_clean's answer for a binary workbook (not an exit code). */
#define OOXML_BINARY	1000
#define OOXML_XLSB_CT	"application/vnd.ms-excel.sheet.binary.macroEnabled.main"


/* Set why (control bytes as '?') and return rc. */
int ooxml_why(struct ooxml *x, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ooxml_doc.c: order of x->sorted (by key), for qsort and bsearch. */
int ooxml_part_cmp(const void *a, const void *b);

/* Part by name (as in a PartName or resolved Target); NULL if none. */
struct ooxml_part *ooxml_find(struct ooxml *x, const char *name);

/* Lower-cased, percent-decoded copy of name, or NULL (no memory). */
char *ooxml_key(const char *name);

/* ooxml_pkg.c: decide every part and relationship (see ooxml.c). */
int ooxml_clean(struct ooxml *x);

/*
 * ooxml_doc.c.  ooxml_parse: the part's tree into p->doc (once); an XML
 * part with a DOCTYPE is UNSAFE, one that is not well formed BAD_INPUT.
 * ooxml_check: the same checks without building a tree (p->checked).
 * ooxml_check_for: ooxml_check, but stops at the first element whose
 * local name is in names (NULL-ended), in any namespace, with *found 1
 * and nothing judged yet: the caller then needs ooxml_parse.
 * ooxml_check_text: the same, but stops only where the text inside such
 * an element (its descendants' too; as decoded) holds one of chars.
 */
int ooxml_parse(struct ooxml *x, struct ooxml_part *p);
int ooxml_check(struct ooxml *x, struct ooxml_part *p);
int ooxml_check_for(struct ooxml *x, struct ooxml_part *p,
    const char *const *names, int *found);
int ooxml_check_text(struct ooxml *x, struct ooxml_part *p,
    const char *const *names, const char *chars, int *found);
int ooxml_serialise(struct ooxml *x, struct ooxml_part *p);

/* Namespace tests: transitional and strict forms. */
int ooxml_is_rel_ns(const xmlNode *n, const xmlNs *ns);
int ooxml_is(const xmlNode *n, const char *local, const char *ns_word);
const char *ooxml_attr(xmlNode *n, const char *name);

/* Part rewrites (ooxml_rewrite.c and ooxml_word.c); 0 or an exit code. */
int ooxml_cut_refs(struct ooxml *x, struct ooxml_part *p);
int ooxml_fix_workbook(struct ooxml *x, struct ooxml_part *p);
int ooxml_cut_formulas(struct ooxml *x, struct ooxml_part *p, int extlinks);
int ooxml_cut_fields(struct ooxml *x, struct ooxml_part *p);

#endif
