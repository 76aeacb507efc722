/*
 * routes.c - which page answers which URL, and for whom.
 *
 * An entry with a NULL handler is a page still to come: it answers 404
 * "not available yet" and its navigation link shows for the roles
 * listed.
 */
#include <string.h>

#include "pages.h"

static const struct web_route routes[] = {
	{ "GET", "/", 0, page_root },
	{ "GET", "/login", 0, page_login_form },
	{ "POST", "/login", 0, page_login },
	{ "POST", "/logout", WEB_R_ANY, page_logout },
	{ "GET", "/lang", 0, page_lang },
	{ "GET", "/static/", 0, page_static },
	{ "GET", "/messages", WEB_R_ANY, page_messages },
	{ "GET", "/message/", WEB_R_ANY, page_message },
	{ "GET", "/original/", WEB_R_ADMIN, page_original },
	{ "POST", "/release/", WEB_R_ADMIN, page_release },
	{ "POST", "/delete/", WEB_R_ADMIN, page_delete },
	/* Staff ask for an original (the notice's link is GET
	 * /request/ID), admins approve or refuse; the queue. */
	{ "GET", "/requests", WEB_R_ANY, page_requests },
	{ "GET", "/request/", WEB_R_ANY, page_request_form },
	{ "POST", "/request/", WEB_R_STAFF, page_request },
	{ "POST", "/approve/", WEB_R_ADMIN, page_approve },
	{ "POST", "/refuse/", WEB_R_ADMIN, page_refuse },
	/* Daily and monthly statistics: tables, SVG and CSV. */
	{ "GET", "/stats", WEB_R_ADMIN | WEB_R_AUDITOR, page_stats },
	/* The audit log, filtered and as CSV. */
	{ "GET", "/audit", WEB_R_ADMIN | WEB_R_AUDITOR, page_audit },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static int
matches(const struct web_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (n > 1 && r->path[n - 1] == '/')
		return strncmp(path, r->path, n) == 0 && path[n] != '\0';
	return strcmp(path, r->path) == 0;
}

const struct web_route *
web_route_find(const char *method, const char *path)
{
	size_t i;

	for (i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].method, method) == 0 &&
		    matches(&routes[i], path))
			return &routes[i];
	return NULL;
}

int
web_route_exists(const char *path)
{
	size_t i;

	for (i = 0; i < NROUTES; i++)
		if (matches(&routes[i], path))
			return 1;
	return 0;
}
