/*
 * policy.c - the attachment policy table (see mugai/base/policy.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mugai/base/policy.h"

#define POLICY_MAX_RULES 256

struct policy_rule {
	char	*pattern;	/* lower case */
	enum mugai_action action;
};

struct mugai_policy {
	struct policy_rule *rules;
	size_t	 nrules;
};

static const struct {
	const char *name;
	enum mugai_action action;
} action_names[] = {
	{ "remove", MUGAI_ACT_REMOVE },
	{ "text", MUGAI_ACT_TEXT },
	{ "csv", MUGAI_ACT_CSV },
	{ "html", MUGAI_ACT_HTML },
	{ "pass", MUGAI_ACT_PASS },
	{ "image", MUGAI_ACT_IMAGE },
	{ "pdf", MUGAI_ACT_PDF },
	{ "ooxml", MUGAI_ACT_OOXML },
	{ "office", MUGAI_ACT_OFFICE },
	{ "archive", MUGAI_ACT_ARCHIVE },
	{ "tnef", MUGAI_ACT_TNEF },
};

const char *
mugai_action_name(enum mugai_action a)
{
	size_t i;

	for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (action_names[i].action == a)
			return action_names[i].name;
	return "remove";
}

void
mugai_policy_free(struct mugai_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].pattern);
	free(p->rules);
	free(p);
}

static int
pattern_valid(const char *s)
{
	const char *slash;

	if (strcmp(s, "*") == 0)
		return 1;
	slash = strchr(s, '/');
	if (slash == NULL || slash == s || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return 0;
	/* "*" only at the end: a prefix. */
	for (; *s != '\0'; s++) {
		if (*s == '*' && s[1] != '\0')
			return 0;
		if (!isalnum((unsigned char)*s) && strchr("/*.+-_", *s) == NULL)
			return 0;
	}
	return 1;
}

/* Parse one "PATTERN ACTION" rule (already trimmed, non-empty). */
static int
rule_parse(char *text, struct policy_rule *r, unsigned n, char *err,
    size_t errlen)
{
	char *pat, *act, *extra, *save = NULL;
	size_t i;

	pat = strtok_r(text, " \t\r\n", &save);
	act = strtok_r(NULL, " \t\r\n", &save);
	extra = strtok_r(NULL, " \t\r\n", &save);
	if (act == NULL || extra != NULL) {
		snprintf(err, errlen, "rule %u \"%s\": write PATTERN ACTION, "
		    "e.g. \"text/plain text\"", n, text);
		return -1;
	}
	for (char *p = pat; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!pattern_valid(pat)) {
		snprintf(err, errlen, "rule %u: bad type pattern \"%s\"; use "
		    "type/subtype, type/* or *", n, pat);
		return -1;
	}
	for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcasecmp(act, action_names[i].name) == 0)
			break;
	if (i == sizeof(action_names) / sizeof(action_names[0])) {
		snprintf(err, errlen, "rule %u: unknown action \"%s\"; use "
		    "remove, text, csv, html, pass, image, pdf, ooxml, office, "
		    "archive or tnef", n, act);
		return -1;
	}
	if ((r->pattern = strdup(pat)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->action = action_names[i].action;
	return 0;
}

struct mugai_policy *
mugai_policy_parse(const char *spec, char *err, size_t errlen)
{
	struct mugai_policy *p;
	char *copy, *tok, *save = NULL;
	unsigned n = 0;

	p = calloc(1, sizeof(*p));
	copy = strdup(spec);
	if (p == NULL || copy == NULL ||
	    (p->rules = calloc(POLICY_MAX_RULES, sizeof(*p->rules))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (tok = strtok_r(copy, ",\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ",\n", &save)) {
		tok += strspn(tok, " \t\r");
		if (*tok == '\0')
			continue;
		if (++n > POLICY_MAX_RULES) {
			snprintf(err, errlen, "more than %d rules",
			    POLICY_MAX_RULES);
			goto fail;
		}
		if (rule_parse(tok, &p->rules[p->nrules], n, err, errlen) != 0)
			goto fail;
		p->nrules++;
	}
	free(copy);
	return p;
fail:
	free(copy);
	mugai_policy_free(p);
	return NULL;
}

static int
pattern_match(const char *pat, const char *type)
{
	size_t n;

	if (strcmp(pat, "*") == 0)
		return 1;
	n = strlen(pat);
	if (pat[n - 1] == '*')
		return strncasecmp(pat, type, n - 1) == 0;
	return strcasecmp(pat, type) == 0;
}

enum mugai_action
mugai_policy_for_file(const struct mugai_policy *p, const char *detected,
    const char *declared, const char *name)
{
	enum mugai_action act = mugai_policy_lookup(p, detected);
	size_t n = strlen(name);

	if (act != MUGAI_ACT_TEXT)
		return act;
	if ((declared != NULL && strcmp(declared, "text/csv") == 0) ||
	    (n > 4 && strcasecmp(name + n - 4, ".csv") == 0))
		return MUGAI_ACT_CSV;
	return act;
}

enum mugai_action
mugai_policy_lookup(const struct mugai_policy *p, const char *type)
{
	size_t i;

	if (p == NULL || type == NULL)
		return MUGAI_ACT_REMOVE;
	for (i = 0; i < p->nrules; i++)
		if (pattern_match(p->rules[i].pattern, type))
			return p->rules[i].action;
	return MUGAI_ACT_REMOVE;
}
