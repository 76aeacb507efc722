/*
 * test_hdrdecode.c - header values, file names and parameters as real
 * mailers write them.
 *
 * Base64 vectors: "GyRCRnxLXDhsGyhC" is ISO-2022-JP 日本語 (ESC $ B F|K\8l
 * ESC ( B); "GyRCRnw=" and "S1wbKEI=" are its 日 and 本 split with the
 * JIS state carried across; "5pel5g==" + "nKzoqp4=" is UTF-8 日本語 split
 * inside 本; "GyRCLSEbKEI=" is ① in CP50221 (JIS 0x2D21).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mugai/text/hdrdecode.h"

static void
test_header_decode(void **state)
{
	static const struct { const char *in, *want; } c[] = {
		{ " Hello\r\n World \r\n", "Hello World" },
		{ "=?UTF-8?B?5pel5pys6Kqe?=", "日本語" },
		{ "=?utf-8?b?5pel5pys6Kqe?=", "日本語" },
		{ "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "日本語" },
		{ "=?iso-2022-jp?B?GyRCLSEbKEI=?=", "①" },
		/* Split mid-character: B and Q, folded in between. */
		{ "=?UTF-8?B?5pel5g==?=\r\n =?UTF-8?B?nKzoqp4=?=", "日本語" },
		{ "=?UTF-8?Q?=E6=97=A5=E6?= =?UTF-8?Q?=9C=AC?=", "日本" },
		{ "=?UTF-8?B?5pel5g==?= =?UTF-8?Q?=9C=AC?=", "日本" },
		/* ISO-2022-JP state carried across words. */
		{ "=?ISO-2022-JP?B?GyRCRnw=?=\r\n\t=?ISO-2022-JP?B?S1wbKEI=?=",
		    "日本" },
		/* Mixed charsets; space between words dropped. */
		{ "Re: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?UTF-8?B?4pGg?=",
		    "Re: 日本語①" },
		{ "=?UTF-8?Q?a?==?UTF-8?Q?b?=", "ab" },
		{ "=?UTF-8?Q?a?=  =?ISO-8859-1?Q?=E9?=", "aé" },
		/* Space next to plain text is text. */
		{ "x =?UTF-8?Q?a?= y", "x a y" },
		{ "=?UTF-8?Q?a_b?=", "a b" },
		{ "=?UTF-8*ja?Q?a?=", "a" },
		{ "(=?UTF-8?Q?a?=)", "(a)" },
		/* Malformed words stay as written. */
		{ "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=" },
		{ "=?UTF-8?B?*bad*?=", "=?UTF-8?B?*bad*?=" },
		{ "=?UTF-8?B?5pel", "=?UTF-8?B?5pel" },
		{ "=??B?5pel?=", "=??B?5pel?=" },
		{ "a = b ?= c", "a = b ?= c" },
		{ "=?UTF-8?Q?=ZZ?=", "=ZZ" },
		/* Unknown charset label: detected. */
		{ "=?x-unknown?B?5pel5pys?=", "日本" },
		/* Raw 8-bit: UTF-8, CP932, EUC-JP, ISO-2022-JP. */
		{ "件名 テスト", "件名 テスト" },
		{ "\x93\xfa\x96{\x8c\xea \x87\x40", "日本語 ①" },
		{ "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xc7\xa4\xb9", "日本語です" },
		{ "\x1b$BF|K\\\x1b(B", "日本" },
		{ "\x93\xfa\x96{ =?UTF-8?B?4pGg?=", "日本 ①" },
		/* No control characters; bidi overrides dropped. */
		{ "=?UTF-8?Q?a=09b=0D=0Ac=00d?=", "a b  c d" },
		{ "a\x01" "b\x7f" "c", "a b c" },
		{ "=?UTF-8?Q?a=C2=85b?=", "a b" },
		{ "=?UTF-8?B?aW52b2ljZeKArmZkcC5leGU=?=", "invoicefdp.exe" },
		{ "=?UTF-8?Q?=FFx?=", "\xEF\xBF\xBDx" },
		{ "", "" },
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		got = mugai_header_decode(c[i].in, strlen(c[i].in));
		assert_non_null(got);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("case %zu: got [%s] want [%s]", i, got,
			    c[i].want);
		free(got);
	}
	got = mugai_header_decode(NULL, 0);
	assert_string_equal(got, "");
	free(got);
	/* Only the given length is read. */
	got = mugai_header_decode("abcdef", 3);
	assert_string_equal(got, "abc");
	free(got);
}

static void
test_header_long(void **state)
{
	size_t n = 70000;
	char *raw = malloc(n), *got;

	(void)state;
	assert_non_null(raw);
	memset(raw, 'a', n);
	got = mugai_header_decode(raw, n);
	assert_non_null(got);
	assert_int_equal(strlen(got), 64 * 1024);
	assert_true(got[0] == 'a' && got[64 * 1024 - 1] == 'a');
	free(got);
	free(raw);
}

static void
test_filename(void **state)
{
	static const struct { const char *disp, *ctype, *want; } c[] = {
		/* RFC 2231 */
		{ "attachment; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
		    NULL, "日本.txt" },
		{ "attachment; filename*=utf-8'ja'%E6%97%A5%E6%9C%AC.txt",
		    NULL, "日本.txt" },
		{ "attachment;\r\n filename*=ISO-2022-JP''"
		    "%1B%24BF%7CK%5C%1B%28B.txt", NULL, "日本.txt" },
		{ "attachment; filename*=ISO-2022-JP''%1B%24B-%21%1B%28B.pdf",
		    NULL, "①.pdf" },
		{ "attachment; filename*=Shift_JIS''%95%5C.xls", NULL,
		    "表.xls" },
		{ "attachment; filename*=''%E6%97%A5", NULL, "日" },
		{ "attachment; filename*0*=UTF-8''%E6%97%A5;\r\n"
		    "\tfilename*1*=%E6%9C%AC;\r\n\tfilename*2=\".txt\"",
		    NULL, "日本.txt" },
		/* Split inside a character, given out of order. */
		{ "attachment; filename*1*=%9C%AC.txt; "
		    "filename*0*=UTF-8''%E6%97%A5%E6", NULL, "日本.txt" },
		{ "attachment; filename*0=\"report \"; filename*1=\"2024.pdf\"",
		    NULL, "report 2024.pdf" },
		/* RFC 2047 words in plain continuations. */
		{ "attachment; filename*0=\"=?ISO-2022-JP?B?GyRCRnw=?=\"; "
		    "filename*1=\"=?ISO-2022-JP?B?S1wbKEI=?=\"", NULL, "日本" },
		/* filename* wins over filename. */
		{ "attachment; filename=\"fallback.txt\"; "
		    "filename*=UTF-8''%E6%97%A5.txt", NULL, "日.txt" },
		/* RFC 2047 in quotes, and unquoted. */
		{ "attachment; filename=\"=?ISO-2022-JP?B?GyRCRnxLXBsoQi50eHQ=?=\"",
		    NULL, "日本.txt" },
		{ "attachment; filename==?ISO-2022-JP?B?GyRCRnxLXBsoQi50eHQ=?=",
		    NULL, "日本.txt" },
		{ "attachment; filename==?ISO-2022-JP?B?GyRCRnw=?=\r\n"
		    " =?ISO-2022-JP?B?S1wbKEI=?=; size=3", NULL, "日本" },
		{ "attachment; filename=\"=?UTF-8?B?5re75LuY44OV44Kh44Kk44Or"
		    "LnBkZg==?=\"", NULL, "添付ファイル.pdf" },
		/* Raw CP932 with 0x5C trail bytes, even before the quote. */
		{ "attachment; filename=\"\x95\x5c.xls\"", NULL, "表.xls" },
		{ "attachment; filename=\"\x88\xea\x97\x97\x95\x5c\"; size=9",
		    NULL, "一覧表" },
		{ "attachment; filename=\x95\x5c\x81\x40\x8e\x8e.txt", NULL,
		    "表　試.txt" },
		/* Raw ISO-2022-JP whose units hold '"' (唖 is 0x3022). */
		{ "attachment; filename=\"\x1b$B0\"\x1b(B.txt\"", NULL,
		    "唖.txt" },
		/* Raw UTF-8 and EUC-JP. */
		{ "attachment; filename=\"日本語.docx\"", NULL, "日本語.docx" },
		{ "attachment; filename=\"\xc6\xfc\xcb\xdc\xb8\xec.txt\"", NULL,
		    "日本語.txt" },
		/* Quoting. */
		{ "attachment; filename=\"a\\\"b.txt\"", NULL, "a\"b.txt" },
		{ "attachment; filename=\"C:\\dir\\a.txt\"", NULL,
		    "C:\\dir\\a.txt" },
		{ "attachment; filename=報告書 (1).xls", NULL,
		    "報告書 (1).xls" },
		{ "attachment; FileName = \"x y.txt\" ; size=1", NULL,
		    "x y.txt" },
		{ "attachment; xfilename=\"no\"; filename=yes.txt", NULL,
		    "yes.txt" },
		{ "attachment; filename=\" \t\"", "text/plain; name=n.txt",
		    "n.txt" },
		/* Content-Type name as the fallback. */
		{ "attachment", "application/pdf; name=\"=?UTF-8?B?"
		    "5pel5pys?=.pdf\"", "日本.pdf" },
		{ NULL, "application/pdf; name*=UTF-8''%E6%97%A5.pdf",
		    "日.pdf" },
		{ "inline", "image/png; name=\"a.png\"", "a.png" },
		/* No name at all. */
		{ "attachment", "application/octet-stream", "" },
		{ "attachment; size=10", "text/plain; charset=us-ascii", "" },
		{ NULL, NULL, "" },
		{ "", "", "" },
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		got = mugai_filename_decode(c[i].disp, c[i].ctype);
		assert_non_null(got);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("case %zu: got [%s] want [%s]", i, got,
			    c[i].want);
		free(got);
	}
}

static void
test_header_param(void **state)
{
	static const struct { const char *raw, *name, *want; } c[] = {
		{ "text/plain; charset=\"ISO-2022-JP\"", "charset",
		    "ISO-2022-JP" },
		{ "text/plain; format=flowed; CharSet=utf-8", "charset",
		    "utf-8" },
		{ "text/plain; charset=us-ascii (Plain text)", "charset",
		    "us-ascii" },
		{ "multipart/mixed;\r\n\tboundary=\"----=_Part_1;x\"; a=b",
		    "boundary", "----=_Part_1;x" },
		{ "multipart/mixed; boundary=abc", "BOUNDARY", "abc" },
		{ "text/plain; xcharset=a; charset=b", "charset", "b" },
		{ "text/plain; charset=utf-8; charset=latin1", "charset",
		    "utf-8" },
		{ "text/plain; name=\"a\\\\b\\\"c\"", "name", "a\\b\"c" },
		{ "text/plain; charset=", "charset", "" },
		/* RFC 2231: joined, not decoded. */
		{ "attachment; filename*1*=%97%A5; filename*0*=UTF-8''%E6",
		    "filename", "UTF-8''%E6%97%A5" },
		{ "attachment; title*=us-ascii'en'a%20b", "title",
		    "us-ascii'en'a%20b" },
		{ "attachment; filename=\"p\"; filename*=UTF-8''q",
		    "filename", "p" },
		/* The value before the parameters is not a parameter. */
		{ "charset=x; a=b", "charset", NULL },
		{ "text/plain", "charset", NULL },
		{ "text/plain; charset", "charset", NULL },
	};
	char *got;
	size_t i;

	(void)state;
	assert_null(mugai_header_param(NULL, "charset"));
	assert_null(mugai_header_param("text/plain; charset=a", ""));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		got = mugai_header_param(c[i].raw, c[i].name);
		if ((got == NULL) != (c[i].want == NULL) ||
		    (got != NULL && strcmp(got, c[i].want) != 0))
			fail_msg("case %zu: got [%s] want [%s]", i,
			    got ? got : "NULL", c[i].want ? c[i].want : "NULL");
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_decode),
		cmocka_unit_test(test_header_long),
		cmocka_unit_test(test_filename),
		cmocka_unit_test(test_header_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
