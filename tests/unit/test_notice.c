/*
 * test_notice.c - the recipient's notice: built-in wording, admin
 * templates, and the fallback when a template is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mugai/base/log.h"
#include "mugai/sanitize/notice.h"

static struct mugai_config *
config(const char *dir)
{
	char err[512], opt[600];
	char *ov[2] = { opt, "admin_contact=情報政策課" };

	snprintf(opt, sizeof(opt), "notice_template_dir=%s", dir ? dir : "");
	return mugai_config_load(NULL, ov, 2, err, sizeof(err));
}

static const struct mugai_notice_item items[] = {
	{ "removed", "請求書.pdf", "application/pdf", "application/x-dosexec",
	    123456, "policy", "name says .pdf but the content is "
	    "application/x-dosexec", 0, 0, 0 },
	{ "converted", "", "text/html", "text/html", 10, "body", NULL, 0, 0, 0 },
};

/*
 * A warning is a line of its own kind, not a file: no "(no name)" and
 * no types; counts and fragment numbers fill the phrase's {n} and {m}.
 */
static void
test_warning_and_counts(void **state)
{
	static const struct mugai_notice_item w[] = {
		{ "warning", "", "", "", 0, "phishing", NULL, 1, 0, 0 },
		{ "removed", "", "-", "-", 0, "unread", NULL, 1, 3, 0 },
		{ "removed", "", "message/partial", "message/partial", 10,
		    "partial", NULL, 0, 1, 3 },
	};
	struct mugai_config *c = config(NULL);
	struct mugai_buf b;

	(void)state;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_notice_render(c, "ID-1", w, 3, &b), MUGAI_OK);
	assert_non_null(strstr(b.data, "■ 警告 / warning: 表示と異なるリンク先"));
	assert_non_null(strstr(b.data, "■ 警告 / warning: 3 個の部品を読み取れ"));
	assert_non_null(strstr(b.data, "3 parts could not be read"));
	assert_non_null(strstr(b.data, "fragment 1 of 3 of a split message"));
	/* Only the fragment is about a part: one "(no name)". */
	assert_non_null(strstr(b.data, "no name"));
	assert_null(strstr(strstr(b.data, "no name") + 1, "no name"));
	assert_null(strstr(b.data, "text/html"));
	assert_null(strstr(b.data, "{"));
	mugai_buf_free(&b);
	mugai_config_unref(c);
}

static void
test_builtin(void **state)
{
	struct mugai_config *c = config(NULL);
	struct mugai_buf b;

	(void)state;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_notice_render(c, "ID-1", items, 2, &b), MUGAI_OK);
	assert_non_null(strstr(b.data, "無害化"));
	assert_non_null(strstr(b.data, "Sanitised"));
	assert_non_null(strstr(b.data, "請求書.pdf"));
	assert_non_null(strstr(b.data, "123,456"));
	assert_non_null(strstr(b.data, "application/x-dosexec"));
	assert_non_null(strstr(b.data, "WARNING"));
	assert_non_null(strstr(b.data, "ID: ID-1"));
	assert_non_null(strstr(b.data, "情報政策課"));
	assert_non_null(strstr(b.data, "no name"));
	assert_null(strstr(b.data, "{"));
	mugai_buf_reset(&b);
	/* Nothing happened: nothing to say. */
	assert_int_equal(mugai_notice_render(c, "ID-1", items, 0, &b), MUGAI_OK);
	assert_int_equal(b.len, 0);
	mugai_buf_free(&b);
	mugai_config_unref(c);
}

/* A 10 KB name is shown cut to 200 characters, whole ones. */
static void
test_long_name_cut(void **state)
{
	struct mugai_config *c = config(NULL);
	struct mugai_notice_item it = items[0];
	struct mugai_buf b;
	char name[10240 + 1], want[3 * 200 + 8];
	size_t i;

	(void)state;
	for (i = 0; i + 3 <= 10240; i += 3)
		memcpy(name + i, "名", 3);
	name[i] = '\0';
	it.name = name;
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_notice_render(c, "ID-1", &it, 1, &b), MUGAI_OK);
	snprintf(want, sizeof(want), "%.600s...\n", name);
	assert_non_null(strstr(b.data, want));
	assert_true(b.len < 2000);
	mugai_buf_free(&b);
	mugai_config_unref(c);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_admin_templates_and_fallback(void **state)
{
	char dir[] = "/tmp/mugai-tpl-XXXXXX", path[512], err[512];
	struct mugai_config *c;
	struct mugai_buf b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "notice.txt", "CITY NOTICE {id}\n{items}END\n");
	write_file(dir, "notice-item.txt", "* {action} {name} ({reason})\n");
	write_file(dir, "notice-phrases.txt", "action.removed = gone\n"
	    "reason.policy = not allowed here\n");
	c = config(dir);
	assert_int_equal(mugai_notice_check(c, err, sizeof(err)), 0);
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_notice_render(c, "X9", items, 1, &b), MUGAI_OK);
	assert_string_equal(b.data, "CITY NOTICE X9\n* gone 請求書.pdf "
	    "(not allowed here)\n    label.mismatch (name says .pdf but the "
	    "content is application/x-dosexec)\nEND\n");
	mugai_buf_free(&b);

	/* A missing template: check-config names it, mail still flows. */
	snprintf(path, sizeof(path), "%s/notice-item.txt", dir);
	unlink(path);
	assert_int_equal(mugai_notice_check(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	mugai_buf_init(&b, 0);
	assert_int_equal(mugai_notice_render(c, "X9", items, 1, &b), MUGAI_OK);
	assert_non_null(strstr(b.data, "無害化"));
	mugai_buf_free(&b);
	mugai_config_unref(c);
	snprintf(path, sizeof(path), "%s/notice.txt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/notice-phrases.txt", dir);
	unlink(path);
	rmdir(dir);
}

/* The request link: only with web_public_url set and an original kept. */
static void
test_request_link(void **state)
{
	const char *urls[4] = { "web_public_url=https://mail.city.lg.jp/web/",
	    "web_public_url=", "web_public_url=javascript:alert(1)",
	    "web_public_url=https://a b" };
	struct mugai_config *c;
	struct mugai_buf b;
	char err[512], *ov[1];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		ov[0] = (char *)(uintptr_t)urls[i];
		c = mugai_config_load(NULL, ov, 1, err, sizeof(err));
		assert_non_null(c);
		mugai_buf_init(&b, 0);
		assert_int_equal(mugai_notice_render_stored(c, "ID-7", items, 2,
		    1, &b), MUGAI_OK);
		if (i == 0) {
			assert_non_null(strstr(b.data, "原本の取り出し申請"));
			assert_non_null(strstr(b.data, "Request the original"
			    " here: https://mail.city.lg.jp/web/request/ID-7\n"));
			assert_true(mugai_notice_url_ok(c->web_public_url));
		} else
			assert_null(strstr(b.data, "/request/"));
		assert_int_equal(mugai_notice_url_ok(c->web_public_url),
		    i < 2);
		mugai_buf_free(&b);
		/* Nothing stored: nothing to ask for, no link. */
		mugai_buf_init(&b, 0);
		assert_int_equal(mugai_notice_render_stored(c, "ID-7", items, 2,
		    0, &b), MUGAI_OK);
		assert_null(strstr(b.data, "/request/"));
		mugai_buf_free(&b);
		mugai_config_unref(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_warning_and_counts),
		cmocka_unit_test(test_long_name_cut),
		cmocka_unit_test(test_admin_templates_and_fallback),
		cmocka_unit_test(test_request_link),
	};
	mugai_log_open("test", MUGAI_LOG_NONE, 0, 0);
	return cmocka_run_group_tests_name("notice", tests, NULL, NULL);
}
