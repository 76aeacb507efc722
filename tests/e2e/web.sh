#!/bin/sh
# web.sh BUILD FIXTURES - mugai-web end to end, with curl.
#
# Mail goes through a private Postfix and mugai-milter, as in
# production, so the quarantine holds real originals with their
# envelopes: one to staff member kondo whose subject is
# <script>alert(1)</script>, one with a Japanese subject to someone
# else, one carrying EICAR (rejected).  mugai-web then serves that
# quarantine; accounts are made with "mugai web-user".  Checked: login,
# logout, a wrong password, throttling per user and per address (curl
# from 127.0.0.2.. .5), what each role may and may not do, a staff
# login guessing another's message id, CSRF refusals, escaping, the
# security headers, search (Japanese words, virus name, sorting), a
# release that reaches Postfix's smtp-sink through Postfix's sendmail,
# delete, the audit log's actor, HTTPS with a certificate made here by
# openssl, and a clean stop on SIGTERM.
set -u
if [ $# -ne 2 ]; then
	echo "usage: web.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
. "$here/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/web.XXXXXX") || exit 1
P=$T/pf
milter_pid=
web_pid=
tls_pid=
ru_pid=
cleanup() {
	for p in $web_pid $tls_pid $ru_pid; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pf_stop "$P"
	if [ -n "$milter_pid" ]; then
		kill -TERM "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
chmod 755 "$T"
CK_SUITE=web
. "$here/lib-check.sh"

mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
    sink=$(pf_free_port "$mport" "$smtp") &&
    wport=$(pf_free_port "$mport" "$smtp" "$sink") &&
    tport=$(pf_free_port "$mport" "$smtp" "$sink" "$wport") &&
    rport=$(pf_free_port "$mport" "$smtp" "$sink" "$wport" "$tport") || {
	fail start "no free ports"
	finish
}
pf_milter_start "$build" "$T" "$testdb" "$mport"
started=$?
milter_pid=$pf_milter_pid
if [ "$started" -ne 0 ]; then
	fail milter-start "$(tail -n 3 "$T/milter.log" | tr '\n' ' ')"
	finish
fi
if ! pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" 2>"$T/start.err"; then
	fail postfix-start "$(head -c 300 "$T/start.err" | tr '\n' ' ')"
	finish
fi

# ---- mail into the quarantine ------------------------------------------------

mkmsg() { # mkmsg FILE TO SUBJECT-HEADER ATTACHMENT-BASE64
	cat > "$1" <<EOM
From: Sender <sender@example.org>
To: $2
Subject: $3
Message-ID: <$(basename "$1" .eml)@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Please see the attachment. 添付をご覧ください。
--b1
Content-Type: application/x-msdownload; name="setup.exe"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

$4
--b1--
EOM
}
exe=$(printf 'MZ\220\0\3\0\0\0\4\0\0\0\377\377\0\0' | base64)
eicar=$(printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | base64 -w0)
jsubj="=?UTF-8?B?$(printf '%s' '来週の会議資料について' | base64 -w0)?="
mkmsg "$T/m1.eml" kondo@city.lg.jp '<script>alert(1)</script>' "$exe"
mkmsg "$T/m2.eml" other@city.lg.jp "$jsubj" "$exe"
mkmsg "$T/m3.eml" kondo@city.lg.jp 'virus inside' "$eicar"
pf_send_file "$smtp" "$T/m1.eml" --from sender@example.org --to kondo@city.lg.jp
pf_send_file "$smtp" "$T/m2.eml" --from sender@example.org --to other@city.lg.jp
pf_send_file "$smtp" "$T/m3.eml" --from sender@example.org --to kondo@city.lg.jp
pf_wait_sink "$P" 2 60
MQ() { "$build/mugai" -o quarantine_dir="$T/q" -o audit_log="$T/audit.jsonl" \
    -o web_users="$T/users" "$@"; }
MQ quarantine list --json > "$T/list.json" 2>"$T/list.err"
ids=$(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
by = {}
for r in rows:
    s = r["subject"]
    by["1" if "script" in s else "2" if "会議" in s else "3"] = r["id"]
print(by.get("1", "-"), by.get("2", "-"), by.get("3", "-"))' "$T/list.json")
set -- $ids
ID1=${1:--} ID2=${2:--} ID3=${3:--}
if [ "$ID1" = - ] || [ "$ID2" = - ] || [ "$ID3" = - ]; then
	fail quarantine "three originals expected: $(head -c 300 "$T/list.json")"
	finish
fi
pass "three messages quarantined through Postfix and the milter"

# ---- accounts ------------------------------------------------------------------

echo 'alice-password-1' | MQ web-user add alice admin
echo 'audrey-password-1' | MQ web-user add audrey auditor
echo 'kondo-password-1' | MQ web-user add kondo staff Kondo@City.lg.jp
echo 'victim-password-1' | MQ web-user add victim auditor
check "web-user list" sh -c "'$build/mugai' -o web_users='$T/users' web-user list |
	grep -q '^kondo	staff	kondo@city.lg.jp\$'"
check "web-user refuses a short password" sh -c "! echo short |
	'$build/mugai' -o web_users='$T/users' web-user add bob admin 2>/dev/null"
check "web-user refuses staff without an address" sh -c "! echo long-enough-pw |
	'$build/mugai' -o web_users='$T/users' web-user add bob staff 2>/dev/null"
# At a terminal (script(1) makes one) the password is asked twice, unechoed.
check "web-user asks at a terminal without echo" sh -c "
	(sleep 2; printf 'tty-password-1\n'; sleep 1; printf 'tty-password-1\n') |
	script -qec \"'$build/mugai' -o web_users='$T/users' web-user add ttyuser auditor\" \
	    /dev/null > '$T/tty.out' 2>&1 &&
	grep -q 'New password:' '$T/tty.out' && ! grep -q tty-password '$T/tty.out' &&
	grep -q '^ttyuser:.*:auditor:' '$T/users'"
grep '^ttyuser:' "$T/users" > "$T/tty.before"
check "two different passwords at the terminal change nothing" sh -c "
	(sleep 2; printf 'tty-password-2\n'; sleep 1; printf 'tty-password-3\n') |
	script -qec \"'$build/mugai' -o web_users='$T/users' web-user passwd ttyuser\" \
	    /dev/null > '$T/tty2.out' 2>&1
	grep -q 'passwords differ' '$T/tty2.out' &&
	grep '^ttyuser:' '$T/users' | cmp -s - '$T/tty.before'"
check "users file is 0600 and holds yescrypt hashes, not passwords" sh -c "
	[ \$(stat -c %a '$T/users') = 600 ] && grep -q '^alice:\\\$y\\\$' '$T/users' &&
	! grep -q alice-password '$T/users'"

# Postfix's own sendmail, with this instance's config: a release goes
# through the private Postfix to its smtp-sink.
cat > "$T/sendmail" <<EOS
#!/bin/sh
exec /usr/sbin/sendmail -C '$P/etc' "\$@"
EOS
chmod 755 "$T/sendmail"

WEBOPTS="-o quarantine_dir=$T/q -o audit_log=$T/audit.jsonl -o web_users=$T/users
    -o sendmail_path=$T/sendmail -o web_login_max_failures=3 -o web_login_lockout=10m"
# shellcheck disable=SC2086
"$build/mugai-web" -e $WEBOPTS -o web_listen=127.0.0.1:$wport \
    -o web_pid_file="$T/web.pid" </dev/null 2>"$T/web.log" &
web_pid=$!
B=http://127.0.0.1:$wport
up() { curl -s -o /dev/null "$1/login" -k; }
pf_poll 20 up "$B"
if ! up "$B"; then
	fail web-start "$(tail -n 3 "$T/web.log" | tr '\n' ' ')"
	finish
fi
pass "mugai-web starts"

# ---- HTTP helpers ------------------------------------------------------------------

# req JAR METHOD PATH [CURL ARGS...] - status code; body in $T/body, headers $T/hdr.
req() {
	rj=$1 rm_=$2 rp=$3
	shift 3
	curl -s -k -c "$T/$rj.jar" -b "$T/$rj.jar" -X "$rm_" -D "$T/hdr" \
	    -o "$T/body" -w '%{http_code}' "$@" "${BASE:-$B}$rp"
}
# login JAR USER PASSWORD [CURL ARGS...] - status of the POST.
login() {
	lj=$1 lu=$2 lpw=$3
	shift 3
	rm -f "$T/$lj.jar"
	req "$lj" GET /login "$@" >/dev/null
	ltok=$(grep -o 'name="login_token" value="[0-9a-f]*"' "$T/body" |
	    grep -o '[0-9a-f]\{64\}')
	req "$lj" POST /login --data-urlencode "login_token=$ltok" \
	    --data-urlencode "user=$lu" --data-urlencode "password=$lpw" "$@"
}
csrf() { # csrf JAR - the session's token, from a page
	req "$1" GET /messages >/dev/null
	grep -o 'name="csrf" value="[0-9a-f]*"' "$T/body" | head -n 1 |
	    grep -o '[0-9a-f]\{64\}'
}
is() { # is NAME WANT GOT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted $2, got $3"; fi
}

# ---- login, logout, headers ------------------------------------------------------------

is "a page without login goes to /login" 303 "$(req anon GET /messages)"
check "login page: CSP, frame, referrer, nosniff headers" sh -c "
	curl -s -D - -o /dev/null '$B/login' > '$T/h1' &&
	grep -qi \"^Content-Security-Policy: default-src 'self'.*frame-ancestors 'none'\" '$T/h1' &&
	grep -qi '^X-Frame-Options: DENY' '$T/h1' &&
	grep -qi '^Referrer-Policy: no-referrer' '$T/h1' &&
	grep -qi '^X-Content-Type-Options: nosniff' '$T/h1'"
is "wrong password" 401 "$(login a alice wrong-password)"
check "wrong password says so" grep -q 'id="error"' "$T/body"
is "admin logs in" 303 "$(login a alice alice-password-1)"
check "session cookie is HttpOnly, SameSite=Strict, not Secure over http" sh -c "
	grep -i '^Set-Cookie: mugai_sid=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' '$T/hdr' &&
	! grep -i '^Set-Cookie: mugai_sid=.*Secure' '$T/hdr'"
is "login form without its token is refused" 403 \
    "$(req x POST /login -d 'user=alice&password=alice-password-1')"
is "auditor logs in" 303 "$(login u audrey audrey-password-1)"
is "staff logs in" 303 "$(login s kondo kondo-password-1)"

# ---- search and escaping -------------------------------------------------------------------

is "admin lists messages" 200 "$(req a GET /messages)"
check "every message shows to the admin" sh -c "grep -q '$ID1' '$T/body' &&
	grep -q '$ID2' '$T/body' && grep -q '$ID3' '$T/body'"
check "the script subject is escaped in the list" sh -c "
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/body' &&
	! grep -qF '<script>alert' '$T/body'"
check "list page has the security headers" sh -c "
	grep -qi \"^Content-Security-Policy: default-src 'self'\" '$T/hdr' &&
	grep -qi '^X-Frame-Options: DENY' '$T/hdr' && grep -qi '^Referrer-Policy' '$T/hdr'"
req a GET /messages -G --data-urlencode 'subject=会議' >/dev/null
check "search by a Japanese subject word" sh -c "grep -q '$ID2' '$T/body' &&
	! grep -q '$ID1' '$T/body'"
req a GET /messages -G --data-urlencode 'subject=ＳＣＲＩＰＴ' >/dev/null
check "full-width words match (NFKC, any case)" sh -c "grep -q '$ID1' '$T/body' &&
	! grep -q '$ID2' '$T/body'"
req a GET '/messages?virus=eicar' >/dev/null
check "search by virus name" sh -c "grep -q '$ID3' '$T/body' && ! grep -q '$ID1' '$T/body'"
req a GET '/messages?verdict=rejected' >/dev/null
check "search by verdict" sh -c "grep -q '$ID3' '$T/body' && ! grep -q '$ID2' '$T/body'"
req a GET '/messages?rcpt=other@city.lg.jp' >/dev/null
check "search by recipient" sh -c "grep -q '$ID2' '$T/body' && ! grep -q '$ID1' '$T/body'"
req a GET "/messages?from=$(date +%Y-%m-%d)&to=$(date +%Y-%m-%d)" >/dev/null
check "search by today's date range" grep -q "$ID1" "$T/body"
req a GET '/messages?from=2000-01-01&to=2000-01-02' >/dev/null
check "a date range with no mail" grep -q 'id="none"' "$T/body"
req a GET '/messages?sort=subject&dir=asc' >/dev/null
check "sorted by subject" python3 -c '
import re, sys
ids = re.findall(r"/message/([0-9A-Za-z._-]+)", open(sys.argv[1]).read())
want = sorted([("<script>", sys.argv[2]), ("来週", sys.argv[3]), ("virus", sys.argv[4])])
assert ids == [i for _, i in want], ids' "$T/body" "$ID1" "$ID2" "$ID3"

is "admin opens a message" 200 "$(req a GET "/message/$ID1")"
check "message page: subject, headers, parts, notice, text escaped" sh -c "
	grep -qF '<td id=\"subject\">&lt;script&gt;alert(1)&lt;/script&gt;</td>' '$T/body' &&
	! grep -qF '<script>alert' '$T/body' &&
	grep -q 'setup.exe' '$T/body' && grep -q 'id=\"notice\"' '$T/body' &&
	grep -q '添付をご覧ください' '$T/body' && grep -q 'class=\"action\">removed' '$T/body'"
check "message page has the security headers" grep -qi "^Content-Security-Policy: default-src 'self'" "$T/hdr"
check "the English page" sh -c "curl -s -b '$T/a.jar' -H 'Accept-Language: en-GB,en;q=0.9' \
	'$B/messages' | grep -q '<h1>Messages</h1>'"
check "the Japanese page" sh -c "curl -s -b '$T/a.jar' -H 'Accept-Language: ja,en;q=0.5' \
	'$B/messages' | grep -q '<h1>メール一覧</h1>'"
req a GET '/lang?l=en&next=/messages' >/dev/null
check "switching the language" sh -c "curl -s -b '$T/a.jar' -H 'Accept-Language: ja' \
	'$B/messages' | grep -q '<h1>Messages</h1>'"
req a GET '/lang?l=ja&next=//evil.example/' >/dev/null
check "the language switch is no open redirect" sh -c "tr -d '\r' < '$T/hdr' |
	grep -qix 'Location: /'"

# ---- roles -----------------------------------------------------------------------------------

is "admin downloads an original" 200 "$(req a GET "/original/$ID1")"
check "the download is an attachment, nosniff, the original bytes" sh -c "
	grep -qi '^Content-Disposition: attachment; filename=\"$ID1.eml\"' '$T/hdr' &&
	grep -qi '^X-Content-Type-Options: nosniff' '$T/hdr' &&
	grep -qi '^Content-Type: application/octet-stream' '$T/hdr' &&
	grep -q 'Message-ID: <m1@example.org>' '$T/body'"
check "the download is in the audit log as web:alice" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(l["action"] == "download" and l["actor"] == "web:alice" and
           l["id"] == sys.argv[2] for l in lines)' "$T/audit.jsonl" "$ID1"

is "auditor lists" 200 "$(req u GET /messages)"
is "auditor reads a message" 200 "$(req u GET "/message/$ID2")"
is "auditor may not download" 403 "$(req u GET "/original/$ID1")"
ut=$(csrf u)
is "auditor may not release" 403 \
    "$(req u POST "/release/$ID1" --data-urlencode "csrf=$ut" -d reason=x)"
is "auditor may not delete" 403 \
    "$(req u POST "/delete/$ID1" --data-urlencode "csrf=$ut" -d reason=x)"
check "auditor sees no release form" sh -c "
	curl -s -b '$T/u.jar' '$B/message/$ID1' > '$T/ub' && ! grep -q 'id=\"release\"' '$T/ub'"

is "staff lists" 200 "$(req s GET /messages)"
check "staff sees their own mail and not another address's" sh -c "
	grep -q '$ID1' '$T/body' && grep -q '$ID3' '$T/body' && ! grep -q '$ID2' '$T/body'"
is "staff opens their own message" 200 "$(req s GET "/message/$ID1")"
is "staff guessing another's id gets 404" 404 "$(req s GET "/message/$ID2")"
check "the 404 says nothing about the message" sh -c "! grep -q '会議' '$T/body'"
is "a made-up id is the same 404" 404 "$(req s GET "/message/${ID2%?}0")"
req s GET "/messages?rcpt=other@city.lg.jp" >/dev/null
check "staff searching another's address finds nothing" sh -c "! grep -q '$ID2' '$T/body'"
is "staff may not download" 403 "$(req s GET "/original/$ID1")"
st=$(csrf s)
is "staff may not release" 403 \
    "$(req s POST "/release/$ID1" --data-urlencode "csrf=$st" -d reason=x)"
is "staff may not delete another's mail" 403 \
    "$(req s POST "/delete/$ID2" --data-urlencode "csrf=$st" -d reason=x)"

# ---- CSRF, release, delete -------------------------------------------------------------------------

at=$(csrf a)
is "release without the CSRF token is refused" 403 \
    "$(req a POST "/release/$ID1" -d reason=x)"
is "release with a wrong CSRF token is refused" 403 \
    "$(req a POST "/release/$ID1" -d reason=x -d csrf=$(printf '%064d' 0))"
is "release with another session's token is refused" 403 \
    "$(req a POST "/release/$ID1" -d reason=x --data-urlencode "csrf=$ut")"
is "release without a reason is refused" 400 \
    "$(req a POST "/release/$ID1" --data-urlencode "csrf=$at" -d 'reason=+')"
check "nothing was released by the refused requests" sh -c "
	! grep -q '\"action\":\"release\"' '$T/audit.jsonl'"
before=$(pf_sink_count "$P")
is "admin releases to the original recipients" 303 \
    "$(req a POST "/release/$ID1" --data-urlencode "csrf=$at" \
    --data-urlencode 'reason=kondo asked for it 原本')"
if pf_wait_sink "$P" $((before + 1)) 60; then
	pass "the release reaches smtp-sink through Postfix"
else
	fail "the release reaches smtp-sink through Postfix" \
	    "$(pf_sink_count "$P") at the sink; $(tail -n 2 "$T/web.log" | tr '\n' ' ')"
fi
check "the released message is the original, to kondo" sh -c "
	f=\$(grep -l 'Message-ID: <m1@example.org>' \$(ls -t '$P'/sink/*) | head -n 1) &&
	grep -q 'setup.exe' \"\$f\" && grep -qi 'X-Rcpt-Args: <kondo@city.lg.jp>' \"\$f\""
check "the release is in the audit log with the user and reason" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
r = [l for l in lines if l["action"] == "release" and l["id"] == sys.argv[2]]
assert r and r[-1]["actor"] == "web:alice" and r[-1]["reason"] == "kondo asked for it 原本", r
assert r[-1]["to"].lower() == "kondo@city.lg.jp", r' "$T/audit.jsonl" "$ID1"
req a GET "/message/$ID1" >/dev/null
check "the message shows released, and its history" sh -c "
	grep -q 'id=\"status\">released\\|id=\"status\">送信済み' '$T/body' &&
	grep -q 'web:alice' '$T/body'"
before=$(pf_sink_count "$P")
is "admin releases to another address" 303 \
    "$(req a POST "/release/$ID1" --data-urlencode "csrf=$at" \
    -d to=soumu@city.lg.jp -d reason=forwarded)"
pf_wait_sink "$P" $((before + 1)) 60
check "the other address got it" sh -c "
	grep -l 'X-Rcpt-Args: <soumu@city.lg.jp>' '$P'/sink/* | head -n 1 | grep -q ."
is "release of a virus needs the force box" 400 \
    "$(req a POST "/release/$ID3" --data-urlencode "csrf=$at" -d reason=x)"
is "a bad address is refused" 400 \
    "$(req a POST "/release/$ID1" --data-urlencode "csrf=$at" -d reason=x \
    --data-urlencode 'to=a@b>, evil@example.org')"
is "admin deletes" 303 \
    "$(req a POST "/delete/$ID2" --data-urlencode "csrf=$at" -d reason=spam)"
check "the deleted message is marked deleted, file gone" sh -c "
	'$build/mugai' -o quarantine_dir='$T/q' -o audit_log= quarantine show '$ID2' |
	grep -qi 'status.*deleted'"
check "the delete is in the audit log as web:alice" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(l["action"] == "delete" and l["actor"] == "web:alice" and
           l["id"] == sys.argv[2] and l["reason"] == "spam" for l in lines)' \
    "$T/audit.jsonl" "$ID2"

# ---- logout, deleted accounts, throttling --------------------------------------------------------------

is "logout" 303 "$(req s POST /logout --data-urlencode "csrf=$st")"
is "after logout the session is gone" 303 "$(req s GET /messages)"
is "logout without the token is refused" 403 "$(req u POST /logout)"
MQ web-user del audrey
is "a deleted account is logged out at its next click" 303 "$(req u GET /messages)"
is "alice has a second session" 303 "$(login a2 alice alice-password-1)"
echo 'alice-password-2' | MQ web-user passwd alice
is "a changed password ends the sessions made with the old one" 303 \
    "$(req a2 GET /messages)"
is "the new password logs in" 303 "$(login a2 alice alice-password-2)"
echo 'alice-password-1' | MQ web-user passwd alice

# Per user: three failures from three addresses lock the name everywhere.
login t1 victim bad-1 --interface 127.0.0.2 >/dev/null
login t2 victim bad-2 --interface 127.0.0.2 >/dev/null
login t3 victim bad-3 --interface 127.0.0.3 >/dev/null
is "a user locked after 3 failures, right password or not" 429 \
    "$(login t4 victim victim-password-1 --interface 127.0.0.4)"
check "throttling says so" grep -q 'id="error"' "$T/body"
# Per address: three failures for any names lock that address only.
login t5 nobody1 bad --interface 127.0.0.5 >/dev/null
login t5 nobody2 bad --interface 127.0.0.5 >/dev/null
login t5 nobody3 bad --interface 127.0.0.5 >/dev/null
is "an address locked after 3 failures" 429 \
    "$(login t6 alice alice-password-1 --interface 127.0.0.5)"
is "other addresses still log in" 303 \
    "$(login t7 alice alice-password-1 --interface 127.0.0.6)"

# ---- HTTPS ------------------------------------------------------------------------------------

if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	"$build/mugai-web" -e $WEBOPTS -o web_listen=127.0.0.1:$tport \
	    -o web_pid_file= -o web_tls_cert="$T/cert.pem" \
	    -o web_tls_key="$T/key.pem" </dev/null 2>"$T/tls.log" &
	tls_pid=$!
	pf_poll 20 up "https://127.0.0.1:$tport"
	BASE=https://127.0.0.1:$tport
	is "HTTPS login" 303 "$(login h alice alice-password-1)"
	check "under TLS the cookie is Secure, and HSTS is sent" sh -c "
		grep -qi '^Set-Cookie: mugai_sid=.*HttpOnly; SameSite=Strict; Secure' '$T/hdr' &&
		grep -qi '^Strict-Transport-Security: max-age=' '$T/hdr'"
	check "the certificate is the one made here" sh -c "
		curl -s --cacert '$T/cert.pem' -o /dev/null -w '%{http_code}' \
		    --resolve localhost:$tport:127.0.0.1 https://localhost:$tport/login |
		grep -qx 200"
	check "plain HTTP to the TLS port gets no page" sh -c "
		[ \"\$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
		    http://127.0.0.1:$tport/login)\" != 200 ]"
	BASE=
	kill -TERM "$tls_pid"
	wait "$tls_pid"
	is "the TLS instance stops cleanly on SIGTERM" 0 $?
	tls_pid=
else
	fail https "openssl could not make a certificate"
fi

# ---- paging ------------------------------------------------------------------------------

# 55 more rows: one original stored by "mugai sanitize", its index row
# copied 54 times with other ids and subjects (a page holds 50; making
# 55 real originals would cost most of this script's time).
mkmsg "$T/p.eml" kondo@city.lg.jp "paging 00" "$exe"
MQ -o clamav_enable=no sanitize "$T/p.eml" /dev/null 2>"$T/paging.err"
python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT * FROM messages WHERE subject = ?", ("paging 00",)).fetchone()
cols = [d[0] for d in db.execute("SELECT * FROM messages").description]
for i in range(1, 55):
    r = dict(zip(cols, row), id="%s-%02d" % (row[0], i), subject="paging %02d" % i)
    db.execute("INSERT INTO messages (%s) VALUES (%s)" % (",".join(r), ",".join("?" * len(r))),
               list(r.values()))
db.commit()' "$T/q/index.sqlite"
login p alice alice-password-1 >/dev/null
req p GET '/messages?subject=paging&sort=subject&dir=asc' >/dev/null
check "page 1 holds 50 of 55, in order, with a next link" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
subj = re.findall(r"class=\"subject\"[^>]*>([^<]*)<", b)
assert len(subj) == 50 and subj[0] == "paging 00" and subj[49] == "paging 49", subj[:3]
assert "id=\"next\"" in b and "id=\"prev\"" not in b and "<p id=\"count\">55 " in b' "$T/body"
req p GET '/messages?subject=paging&sort=subject&dir=asc&page=2' >/dev/null
check "page 2 holds the other 5, with a previous link" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
subj = re.findall(r"class=\"subject\"[^>]*>([^<]*)<", b)
assert subj == ["paging %02d" % i for i in range(50, 55)], subj
assert "id=\"prev\"" in b and "id=\"next\"" not in b' "$T/body"
req p GET '/messages?subject=paging&sort=subject&dir=desc' >/dev/null
check "sorted the other way" sh -c "grep -o 'class=\"subject\"[^>]*>[^<]*<' '$T/body' |
	head -n 1 | grep -q 'paging 54'"

# ---- run_user ------------------------------------------------------------------------------

# Started as root with run_user, it serves as that user: a store and an
# accounts file only nobody may read prove it reads them as nobody.
mkdir -p "$T/ru/q" && cp "$T/users" "$T/ru/users" &&
    chown -R nobody "$T/ru" && chmod 700 "$T/ru/q" && chmod 600 "$T/ru/users"
"$build/mugai-web" -e -o run_user=nobody -o quarantine_dir="$T/ru/q" \
    -o audit_log="$T/ru/audit.jsonl" -o web_users="$T/ru/users" -o web_pid_file= \
    -o web_listen=127.0.0.1:$rport </dev/null 2>"$T/ru.log" &
ru_pid=$!
pf_poll 20 up "http://127.0.0.1:$rport"
check "with run_user it runs as that user" sh -c "
	awk '/^Uid:/ { print \$2, \$3, \$4 }' /proc/$ru_pid/status |
	grep -qx \"\$(id -u nobody) \$(id -u nobody) \$(id -u nobody)\""
BASE=http://127.0.0.1:$rport
is "and reads the accounts and store as that user" 303 "$(login r alice alice-password-1)"
is "an empty store lists nothing" 200 "$(req r GET /messages)"
BASE=
kill -TERM "$ru_pid"
wait "$ru_pid"
ru_pid=

# ---- stop ---------------------------------------------------------------------------------------

check "pid file written" sh -c "[ \"\$(cat '$T/web.pid')\" = $web_pid ]"
kill -TERM "$web_pid"
wait "$web_pid"
is "SIGTERM stops mugai-web with status 0" 0 $?
web_pid=
check "the pid file is removed" test ! -e "$T/web.pid"
check "the log says it stopped" grep -q 'stopping on signal 15' "$T/web.log"
finish
