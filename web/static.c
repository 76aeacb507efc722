/*
 * static.c - the console's own style sheet and script, built into the
 * program from web/static/ (so the Content-Security-Policy can say
 * 'self' and nothing else: no inline script or style anywhere).
 */
#include <string.h>

#include "pages.h"
#include "webstatic.h"

static const struct {
	const char *path, *ctype, *data;
} files[] = {
	{ "/static/mugai.css", "text/css; charset=utf-8", mugai_tpl_mugai_css },
	{ "/static/mugai.js", "text/javascript; charset=utf-8", mugai_tpl_mugai_js },
};

void
page_static(struct web_req *req, struct web_resp *resp)
{
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(req->path, files[i].path) == 0) {
			resp->ctype = files[i].ctype;
			resp->static_age = 3600;
			if (mugai_buf_puts(&resp->body, files[i].data) != MUGAI_OK)
				resp->failed = 1;
			return;
		}
	web_error(req, resp, 404, "Not found.");
}
