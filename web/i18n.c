/*
 * i18n.c - the English to Japanese table and language choice (i18n.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"

static const char *const table[][2] = {
	{ "mugai quarantine", "mugai 隔離メール" },
	{ "Log in", "ログイン" },
	{ "Log out", "ログアウト" },
	{ "User name", "ユーザー名" },
	{ "Password", "パスワード" },
	{ "Wrong user name or password.", "ユーザー名またはパスワードが違います。" },
	{ "Too many failed logins; try again later.",
	    "ログインの失敗が多すぎます。しばらくしてからやり直してください。" },
	{ "The form has expired; please try again.",
	    "フォームの有効期限が切れました。もう一度やり直してください。" },
	{ "Messages", "メール一覧" },
	{ "Search", "検索" },
	{ "From date", "開始日" },
	{ "To date", "終了日" },
	{ "Sender", "送信者" },
	{ "Recipient", "宛先" },
	{ "Recipients", "宛先" },
	{ "Subject", "件名" },
	{ "Subject words", "件名の語" },
	{ "Verdict", "判定" },
	{ "Status", "状態" },
	{ "Virus name", "ウイルス名" },
	{ "Received", "受信日時" },
	{ "Size", "サイズ" },
	{ "any", "すべて" },
	{ "No messages match.", "該当するメールはありません。" },
	{ "Previous", "前へ" },
	{ "Next", "次へ" },
	{ "Page", "ページ" },
	{ "messages", "件" },
	{ "Only the newest messages were searched; narrow the dates.",
	    "新しいメールだけを検索しました。日付を絞り込んでください。" },
	{ "Message", "メール" },
	{ "Envelope", "エンベロープ" },
	{ "Client address", "接続元アドレス" },
	{ "Queue id", "キューID" },
	{ "Reasons", "理由" },
	{ "Headers", "ヘッダー" },
	{ "Parts", "パート構成" },
	{ "Part", "パート" },
	{ "Type", "種類" },
	{ "File name", "ファイル名" },
	{ "Action", "処理" },
	{ "Reason", "理由" },
	{ "The notice and text as the recipient saw it",
	    "受信者に届いた通知と本文" },
	{ "History", "操作履歴" },
	{ "Time", "日時" },
	{ "Who", "操作者" },
	{ "Detail", "詳細" },
	{ "Download the original", "原本をダウンロード" },
	{ "Release", "送信（取り出し）" },
	{ "Release to", "送信先" },
	{ "the original recipients", "元の宛先" },
	{ "Whole message", "メール全体" },
	{ "Release even though it is dangerous", "危険と判定されていても送信する" },
	{ "Delete", "削除" },
	{ "Delete the original", "原本を削除" },
	{ "A reason is required.", "理由の入力が必要です。" },
	{ "Released.", "送信しました。" },
	{ "Deleted.", "削除しました。" },
	{ "The action failed:", "操作に失敗しました:" },
	{ "Not found.", "見つかりません。" },
	{ "You may not do that.", "この操作の権限がありません。" },
	{ "Bad request.", "不正なリクエストです。" },
	{ "Internal error; see the log.", "内部エラーです。ログを確認してください。" },
	{ "Signed in as", "ログイン中:" },
	{ "Role", "権限" },
	{ "admin", "管理者" },
	{ "auditor", "監査者" },
	{ "staff", "職員" },
	{ "held", "保留" },
	{ "releasing", "送信中" },
	{ "released", "送信済み" },
	{ "deleted", "削除済み" },
	{ "sanitised", "無害化済み" },
	{ "rejected", "拒否" },
	{ "discarded", "破棄" },
	{ "Release requests", "取り出し申請" },
	{ "Statistics", "統計" },
	{ "Audit log", "監査ログ" },
	{ "Not available yet.", "まだ利用できません。" },
	{ "no notice", "通知なし" },
	{ "Sort", "並べ替え" },
	{ "newest first", "新しい順" },
	{ "oldest first", "古い順" },
	{ "Original recipient(s)", "元の宛先" },
	{ "or another address", "または別のアドレス" },
	{ "Request the original", "原本の取り出しを申請" },
	{ "The original was deleted.", "原本は削除されています。" },
	{ "The request failed:", "申請に失敗しました:" },
	{ "Requested", "申請日時" },
	{ "Requester", "申請者" },
	{ "State", "状態" },
	{ "Decision", "決定" },
	{ "Approve", "承認" },
	{ "all, or e.g. 1.2,1.3", "全部、または例 1.2,1.3" },
	{ "Refuse", "却下" },
	{ "pending", "審査待ち" },
	{ "approving", "承認処理中" },
	{ "approved", "承認済み" },
	{ "refused", "却下" },
	{ "all", "すべて" },
	{ "No requests.", "申請はありません。" },
	{ "Only the oldest requests are shown.", "古い申請だけを表示しています。" },
	{ "Your request was sent to the administrators.",
	    "申請を管理者に送りました。" },
	{ "Approved; the original was released.", "承認し、原本を送信しました。" },
	{ "Approved, but the requester could not be told by mail.",
	    "承認しましたが、申請者へのメール通知に失敗しました。" },
	{ "Refused.", "却下しました。" },
	{ "Show", "表示" },
	{ "Monthly report (CSV)", "月次報告 (CSV)" },
	{ "Daily figures (CSV)", "日別集計 (CSV)" },
	{ "Per month", "月別" },
	{ "Per day", "日別" },
	{ "Messages per month", "月別メール数" },
	{ "Messages per day", "日別メール数" },
	{ "Top removed types", "削除された種類（上位）" },
	{ "Top virus names", "検出ウイルス名（上位）" },
	{ "Period", "期間" },
	{ "Mail count", "メール数" },
	{ "Sanitised", "無害化" },
	{ "Converted", "変換" },
	{ "Held", "保留" },
	{ "Rejected", "拒否" },
	{ "Virus", "ウイルス" },
	{ "Conversion failures", "変換失敗" },
	{ "Name", "名前" },
	{ "Count", "件数" },
	{ "None.", "なし。" },
	{ "No audit log yet.", "監査ログはまだありません。" },
	{ "unreadable audit lines skipped", "行の読めない監査ログを飛ばしました" },
	{ "User", "ユーザー" },
	{ "Export as CSV", "CSV で書き出す" },
	{ "entries", "件" },
	{ "Time (UTC)", "日時 (UTC)" },
	{ "This message was rejected or carries a virus.",
	    "このメールは拒否されたか、ウイルスを含んでいます。" },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

const char *
web_t(enum web_lang lang, const char *en)
{
	size_t i;

	if (lang == WEB_LANG_EN)
		return en;
	for (i = 0; i < NTABLE; i++)
		if (strcmp(table[i][0], en) == 0)
			return table[i][1][0] ? table[i][1] : en;
	return en;
}

int
web_t_missing(void)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NTABLE; i++)
		if (table[i][1] == NULL || table[i][1][0] == '\0')
			n++;
	return n;
}

const char *
web_lang_code(enum web_lang lang)
{
	return lang == WEB_LANG_EN ? "en" : "ja";
}

/*
 * Accept-Language: "en-US,en;q=0.9,ja;q=0.8".  The ja or en range with
 * the highest q wins; at equal q the earlier one.
 */
enum web_lang
web_lang_pick(const char *cookie, const char *accept)
{
	enum web_lang best = WEB_LANG_JA;
	double bestq = -1, q;
	const char *p, *end, *semi, *qs;
	size_t n;

	if (cookie != NULL && strcmp(cookie, "en") == 0)
		return WEB_LANG_EN;
	if (cookie != NULL && strcmp(cookie, "ja") == 0)
		return WEB_LANG_JA;
	for (p = accept; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		while (*p == ' ')
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		n = (size_t)((semi ? semi : end) - p);
		q = 1.0;
		if (semi != NULL && (qs = strstr(semi, "q=")) != NULL && qs < end)
			q = strtod(qs + 2, NULL);
		if (q <= bestq || q <= 0)
			continue;
		if ((n == 2 || (n > 2 && p[2] == '-')) &&
		    strncasecmp(p, "ja", 2) == 0) {
			best = WEB_LANG_JA;
			bestq = q;
		} else if ((n == 2 || (n > 2 && p[2] == '-')) &&
		    strncasecmp(p, "en", 2) == 0) {
			best = WEB_LANG_EN;
			bestq = q;
		}
	}
	return best;
}
