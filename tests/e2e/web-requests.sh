#!/bin/sh
# web-requests.sh BUILD FIXTURES - mugai-web's release requests,
# statistics and audit log, end to end with curl.
#
# Mail goes through a private Postfix and mugai-milter, so the
# quarantine and the audit log hold real messages: two to staff member
# kondo (one with an .exe removed, one carrying EICAR), one to someone
# else.  Checked: kondo asks for an original through the web with a
# reason (from the message page's form and at /request/ID, where the
# notice's link lands, through the login page when not logged in); the
# admin approves in /requests and the original
# and kondo's notification reach Postfix's smtp-sink; a second approval
# sends part 1.1 only to another address; a refusal, told by
# mail too; staff cannot ask for another address's mail (404) nor
# decide (403), auditors read the queue but cannot decide; CSRF and a
# missing reason are refused; every step is in the audit log as
# web:USER.  /stats and /audit for admin and auditor only; their CSV
# downloads equal "mugai stats --csv" and "mugai audit --csv" on the
# same data; the audit log pages 100 lines newest first; a virus name
# with markup in the audit log shows escaped in the SVG charts.
set -u
if [ $# -ne 2 ]; then
	echo "usage: web-requests.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
. "$here/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/webreq.XXXXXX") || exit 1
P=$T/pf
milter_pid=
web_pid=
cleanup() {
	if [ -n "$web_pid" ]; then
		kill -TERM "$web_pid" 2>/dev/null
		wait "$web_pid" 2>/dev/null
	fi
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
CK_SUITE=web-requests
. "$here/lib-check.sh"

mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
    sink=$(pf_free_port "$mport" "$smtp") &&
    wport=$(pf_free_port "$mport" "$smtp" "$sink") || {
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

mkmsg() { # mkmsg FILE TO SUBJECT ATTACHMENT-BASE64
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
# Encoded: a raw UTF-8 header would need SMTPUTF8, which smtp-sink lacks.
subj1="=?UTF-8?B?$(printf '%s' 'invoice <b>&</b> 請求書' | base64 -w0)?="
mkmsg "$T/r1.eml" kondo@city.lg.jp "$subj1" "$exe"
mkmsg "$T/r2.eml" other@city.lg.jp 'not for kondo' "$exe"
mkmsg "$T/r3.eml" kondo@city.lg.jp 'virus inside' "$eicar"
pf_send_file "$smtp" "$T/r1.eml" --from sender@example.org --to kondo@city.lg.jp
pf_send_file "$smtp" "$T/r2.eml" --from sender@example.org --to other@city.lg.jp
pf_send_file "$smtp" "$T/r3.eml" --from sender@example.org --to kondo@city.lg.jp
pf_wait_sink "$P" 2 60
MQ() { "$build/mugai" -o quarantine_dir="$T/q" -o audit_log="$T/audit.jsonl" \
    -o web_users="$T/users" "$@"; }
MQ quarantine list --json > "$T/list.json" 2>"$T/list.err"
ids=$(python3 -c '
import json, sys
by = {}
for r in json.load(open(sys.argv[1])):
    s = r["subject"]
    by["1" if "invoice" in s else "2" if "not for" in s else "3"] = r["id"]
print(by.get("1", "-"), by.get("2", "-"), by.get("3", "-"))' "$T/list.json")
set -- $ids
ID1=${1:--} ID2=${2:--} ID3=${3:--}
if [ "$ID1" = - ] || [ "$ID2" = - ] || [ "$ID3" = - ]; then
	fail quarantine "three originals expected: $(head -c 300 "$T/list.json")"
	finish
fi
pass "three messages quarantined through Postfix and the milter"

echo 'alice-password-1' | MQ web-user add alice admin
echo 'audrey-password-1' | MQ web-user add audrey auditor
echo 'kondo-password-1' | MQ web-user add kondo staff kondo@city.lg.jp

cat > "$T/sendmail" <<EOS
#!/bin/sh
exec /usr/sbin/sendmail -C '$P/etc' "\$@"
EOS
chmod 755 "$T/sendmail"
"$build/mugai-web" -e -o quarantine_dir="$T/q" -o audit_log="$T/audit.jsonl" \
    -o web_users="$T/users" -o sendmail_path="$T/sendmail" -o web_pid_file= \
    -o web_listen=127.0.0.1:$wport </dev/null 2>"$T/web.log" &
web_pid=$!
B=http://127.0.0.1:$wport
up() { curl -s -o /dev/null "$1/login"; }
pf_poll 20 up "$B"
if ! up "$B"; then
	fail web-start "$(tail -n 3 "$T/web.log" | tr '\n' ' ')"
	finish
fi

# ---- HTTP helpers (as web.sh) ----------------------------------------------------

req() { # req JAR METHOD PATH [CURL ARGS...] - status; body $T/body, headers $T/hdr
	rj=$1 rm_=$2 rp=$3
	shift 3
	curl -s -c "$T/$rj.jar" -b "$T/$rj.jar" -X "$rm_" -D "$T/hdr" \
	    -o "$T/body" -w '%{http_code}' "$@" "$B$rp"
}
login() { # login JAR USER PASSWORD
	rm -f "$T/$1.jar"
	req "$1" GET /login >/dev/null
	ltok=$(grep -o 'name="login_token" value="[0-9a-f]*"' "$T/body" |
	    grep -o '[0-9a-f]\{64\}')
	req "$1" POST /login --data-urlencode "login_token=$ltok" \
	    --data-urlencode "user=$2" --data-urlencode "password=$3"
}
csrf() { # csrf JAR
	req "$1" GET /requests >/dev/null
	grep -o 'name="csrf" value="[0-9a-f]*"' "$T/body" | head -n 1 |
	    grep -o '[0-9a-f]\{64\}'
}
is() { # is NAME WANT GOT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted $2, got $3"; fi
}
audit_has() { # audit_has ACTION ACTOR ID REASON
	python3 -c '
import json, sys
a, who, i, why = sys.argv[2:6]
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(l.get("action") == a and l.get("actor") == who and l.get("id") == i
           and l.get("reason") == why for l in lines), [l for l in lines if l.get("action") == a]
' "$T/audit.jsonl" "$@"
}

# The notice's link, followed before logging in, comes back after it.
is "the notice's link without a login goes to the login page" 303 \
    "$(req n GET "/request/$ID1")"
check "which remembers where to go" sh -c "tr -d '\r' < '$T/hdr' |
	grep -qx 'Location: /login?next=%2Frequest%2F$ID1'"
req n GET "/login?next=%2Frequest%2F$ID1" >/dev/null
ntok=$(grep -o 'name="login_token" value="[0-9a-f]*"' "$T/body" | grep -o '[0-9a-f]\{64\}')
check "the login form carries it" grep -q "name=\"next\" value=\"/request/$ID1\"" "$T/body"
req n POST /login --data-urlencode "login_token=$ntok" -d user=kondo \
    -d password=kondo-password-1 --data-urlencode "next=/request/$ID1" >/dev/null
check "and the login goes there" sh -c "tr -d '\r' < '$T/hdr' | grep -qx 'Location: /request/$ID1'"
req n2 GET /login >/dev/null
ntok=$(grep -o 'name="login_token" value="[0-9a-f]*"' "$T/body" | grep -o '[0-9a-f]\{64\}')
req n2 POST /login --data-urlencode "login_token=$ntok" -d user=kondo \
    -d password=kondo-password-1 --data-urlencode "next=//evil.example/" >/dev/null
check "but never to another site" sh -c "tr -d '\r' < '$T/hdr' | grep -qx 'Location: /messages'"

login a alice alice-password-1 >/dev/null
login u audrey audrey-password-1 >/dev/null
is "staff logs in" 303 "$(login s kondo kondo-password-1)"
st=$(csrf s) at=$(csrf a) ut=$(csrf u)

# ---- staff ask ------------------------------------------------------------------

is "the notice's link /request/ID opens for the staff member" 200 \
    "$(req s GET "/request/$ID1")"
check "it shows the message, escaped, and the form with a required reason" sh -c "
	grep -qF '<td id=\"subject\">invoice &lt;b&gt;&amp;&lt;/b&gt; 請求書</td>' '$T/body' &&
	grep -q 'id=\"request\" action=\"/request/$ID1\"' '$T/body' &&
	grep -q 'name=\"reason\" id=\"request-reason\" required' '$T/body' &&
	grep -q 'name=\"csrf\"' '$T/body'"
is "/request/ID for another address's mail is 404" 404 "$(req s GET "/request/$ID2")"
is "asking for another address's mail is 404" 404 \
    "$(req s POST "/request/$ID2" --data-urlencode "csrf=$st" -d reason=mine)"
is "an admin following the link goes to the message page" 303 \
    "$(req a GET "/request/$ID1")"
check "to /message/ID" sh -c "tr -d '\r' < '$T/hdr' | grep -qx 'Location: /message/$ID1'"
req s GET "/message/$ID1" >/dev/null
check "the message page has the request form for staff" grep -q 'id="request-button"' "$T/body"
req a GET "/message/$ID1" >/dev/null
check "and not for admins" sh -c "! grep -q 'id=\"request-button\"' '$T/body'"
is "a request without the CSRF token is refused" 403 \
    "$(req s POST "/request/$ID1" -d reason=x)"
is "a request without a reason is refused" 400 \
    "$(req s POST "/request/$ID1" --data-urlencode "csrf=$st" -d 'reason=+')"
check "nothing was recorded by the refused ones" sh -c "
	! grep -q '\"action\":\"request\"' '$T/audit.jsonl'"
is "staff asks for the original with a reason" 303 \
    "$(req s POST "/request/$ID1" --data-urlencode "csrf=$st" \
    --data-urlencode 'reason=請求書の原本が必要です')"
check "the request is in the audit log as web:kondo with the reason" \
    audit_has request web:kondo "$ID1" '請求書の原本が必要です'
is "a second request while one is pending is refused" 409 \
    "$(req s POST "/request/$ID1" --data-urlencode "csrf=$st" -d reason=again)"
check "the refusal page says why, with a way back" sh -c "
	grep -q 'id=\"error\"' '$T/body' && grep -q 'already' '$T/body' &&
	grep -q 'href=\"/requests\"' '$T/body'"
is "staff asks for the virus message too" 303 \
    "$(req s POST "/request/$ID3" --data-urlencode "csrf=$st" -d 'reason=need it')"
is "staff sees their requests" 200 "$(req s GET /requests)"
check "both pending, no decide forms" sh -c "
	[ \$(grep -c 'class=\"state\">審査待ち<\\|class=\"state\">pending<' '$T/body') = 2 ] &&
	! grep -q 'action=\"/approve/' '$T/body'"
R1=$(MQ quarantine requests --json | python3 -c '
import json, sys
print(next(r["request"] for r in json.load(sys.stdin) if r["id"] == sys.argv[1]))' "$ID1")
R3=$(MQ quarantine requests --json | python3 -c '
import json, sys
print(next(r["request"] for r in json.load(sys.stdin) if r["id"] == sys.argv[1]))' "$ID3")

# ---- who may decide -------------------------------------------------------------------------

is "staff may not approve" 403 \
    "$(req s POST "/approve/$R1" --data-urlencode "csrf=$st" -d reason=self)"
is "staff may not refuse" 403 \
    "$(req s POST "/refuse/$R1" --data-urlencode "csrf=$st" -d reason=self)"
is "auditor reads the queue" 200 "$(req u GET /requests)"
check "auditor sees both requests and no decide forms" sh -c "
	grep -q 'id=\"req-$R1\"' '$T/body' && grep -q 'id=\"req-$R3\"' '$T/body' &&
	! grep -q 'action=\"/approve/' '$T/body'"
is "auditor may not approve" 403 \
    "$(req u POST "/approve/$R1" --data-urlencode "csrf=$ut" -d reason=x)"
is "admin sees the queue" 200 "$(req a GET /requests)"
check "with approve and refuse forms, each with the CSRF token" sh -c "
	grep -q 'id=\"approve-$R1\" action=\"/approve/$R1\"><input type=\"hidden\" name=\"csrf\"' '$T/body' &&
	grep -q 'id=\"refuse-$R3\" action=\"/refuse/$R3\"><input type=\"hidden\" name=\"csrf\"' '$T/body' &&
	grep -q '請求書の原本が必要です' '$T/body'"
check "the queue shows each subject escaped; the force box only for the virus" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
r1 = re.search(r"<tr class=\"req\" id=\"req-%s\">.*?</tr>" % sys.argv[2], b, re.S).group(0)
r3 = re.search(r"<tr class=\"req\" id=\"req-%s\">.*?</tr>" % sys.argv[3], b, re.S).group(0)
assert "<td class=\"subject\">invoice &lt;b&gt;&amp;&lt;/b&gt; 請求書</td>" in r1, r1
assert "<td class=\"subject\">virus inside</td>" in r3, r3
assert "name=\"force\"" in r3 and "name=\"force\"" not in r1' "$T/body" "$R1" "$R3"
is "approve without the CSRF token is refused" 403 \
    "$(req a POST "/approve/$R1" -d reason=x)"
is "approve with another session's token is refused" 403 \
    "$(req a POST "/approve/$R1" --data-urlencode "csrf=$st" -d reason=x)"
is "refuse without the CSRF token is refused" 403 \
    "$(req a POST "/refuse/$R3" -d reason=x)"
is "approve without a reason is refused" 400 \
    "$(req a POST "/approve/$R1" --data-urlencode "csrf=$at")"
is "a request number that does not exist is 404" 404 \
    "$(req a POST "/approve/999" --data-urlencode "csrf=$at" -d reason=x)"

# ---- approve: the original and kondo's notice reach smtp-sink ---------------------------------

before=$(pf_sink_count "$P")
is "admin approves through the web" 303 \
    "$(req a POST "/approve/$R1" --data-urlencode "csrf=$at" \
    --data-urlencode 'reason=業務上必要と確認')"
if pf_wait_sink "$P" $((before + 2)) 60; then
	pass "the release and the requester's mail reach smtp-sink"
else
	fail "the release and the requester's mail reach smtp-sink" \
	    "$(pf_sink_count "$P") at the sink; $(tail -n 2 "$T/web.log" | tr '\n' ' ')"
fi
check "the original, setup.exe and all, went to kondo" sh -c "
	f=\$(grep -l 'Message-ID: <r1@example.org>' \$(ls -t '$P'/sink/*) | head -n 1) &&
	grep -q 'setup.exe' \"\$f\" && grep -qi 'X-Rcpt-Args: <kondo@city.lg.jp>' \"\$f\""
check "kondo was told it was approved, by name, with the admin's reason" python3 -c '
import email, email.policy, glob, sys
for f in glob.glob(sys.argv[1] + "/sink/*"):
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    if "approved" in str(m["Subject"]) and "kondo@city.lg.jp" in str(m.get("X-Rcpt-Args", "")):
        body = m.get_body(("plain",)).get_content()
        assert "業務上必要と確認" in body and sys.argv[2] in body, body
        # People by name, not by the console tag the audit log keeps.
        assert "kondo 様" in body and "Decided by: alice" in body, body
        assert "web:" not in body, body
        break
else:
    raise SystemExit("no approval mail to kondo")' "$P" "$ID1"
check "the approval is in the audit log as web:alice" \
    audit_has approve web:alice "$ID1" '業務上必要と確認'
is "approving it again is a conflict" 409 \
    "$(req a POST "/approve/$R1" --data-urlencode "csrf=$at" -d reason=again)"
check "the conflict page names the request's state" \
    grep -q "request $R1 was approved already" "$T/body"

before=$(pf_sink_count "$P")
is "admin refuses the other" 303 \
    "$(req a POST "/refuse/$R3" --data-urlencode "csrf=$at" -d 'reason=virus')"
pf_wait_sink "$P" $((before + 1)) 60
check "kondo was told of the refusal" sh -c "
	grep -l 'refused' \$(ls -t '$P'/sink/*) | head -n 1 |
	xargs grep -qi 'X-Rcpt-Args: <kondo@city.lg.jp>'"
check "the refusal is in the audit log as web:alice" audit_has refuse web:alice "$ID3" virus
check "the virus was not released" sh -c "! grep -l 'Message-ID: <r3@example.org>' '$P'/sink/* 2>/dev/null | grep -q ."
req s GET /requests >/dev/null
check "staff sees one approved and one refused" sh -c "
	grep -q 'id=\"req-$R1\".*class=\"state\">\\(承認済み\\|approved\\)<' '$T/body' &&
	grep -q 'id=\"req-$R3\".*class=\"state\">\\(却下\\|refused\\)<' '$T/body'"

# Approved once, it may be asked for again; this time the admin sends
# only the text part to another address.
is "staff asks again after the approval" 303 \
    "$(req s POST "/request/$ID1" --data-urlencode "csrf=$st" -d 'reason=for soumu')"
R4=$(MQ quarantine requests --json | python3 -c '
import json, sys
print(next(r["request"] for r in json.load(sys.stdin) if r["reason"] == "for soumu"))')
before=$(pf_sink_count "$P")
is "admin approves part 1.1 to another address" 303 \
    "$(req a POST "/approve/$R4" --data-urlencode "csrf=$at" -d parts=1.1 \
    -d to=soumu@city.lg.jp -d 'reason=text only')"
pf_wait_sink "$P" $((before + 2)) 60
check "soumu got the text part only, the .exe named as omitted" sh -c "
	f=\$(grep -l 'X-Rcpt-Args: <soumu@city.lg.jp>' '$P'/sink/* | head -n 1) &&
	grep -q '^X-Mugai-Released-Parts: 1.1' \"\$f\" && ! grep -q '^TVq' \"\$f\""
is "a bad address to approve to is refused" 400 \
    "$(req a POST "/approve/$R4" --data-urlencode "csrf=$at" -d reason=x \
    --data-urlencode 'to=a@b>, evil@example.org')"

# ---- statistics --------------------------------------------------------------------------

today=$(date +%Y-%m-%d)
is "staff may not see statistics" 403 "$(req s GET /stats)"
is "auditor sees statistics" 200 "$(req u GET "/stats?from=$today&to=$today")"
check "per month and per day tables: 3 messages, 1 virus" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
for t in ("monthly", "daily"):
    m = re.search(r"<table id=\"%s\">(.*?)</table>" % t, b, re.S)
    total = re.findall(r"<tr class=\"total\"><td>total</td>((?:<td class=\"num\">\d+</td>)+)", m.group(1))
    n = [int(x) for x in re.findall(r">(\d+)<", total[0])]
    assert n[0] == 3 and n[5] == 1, (t, n)
assert "<svg" in b and "id=\"chart-daily\"" in b and "<script>" not in b' "$T/body"
req u GET "/stats?from=$today&to=$today&csv=month" >/dev/null
cp "$T/body" "$T/web-month.csv"
check "monthly CSV is an attachment" sh -c "
	grep -qi '^Content-Disposition: attachment; filename=\"mugai-stats-monthly.csv\"' '$T/hdr' &&
	grep -qi '^Content-Type: text/csv' '$T/hdr'"
check "monthly CSV header row" sh -c "head -n 1 '$T/web-month.csv' | tr -d '\r' |
	grep -qx 'period,messages,sanitised,converted,held,rejected,virus,conversion_failures'"
MQ stats --monthly --csv --from "$today" --to "$today" > "$T/cli-month.csv"
check "monthly CSV equals mugai stats --monthly --csv" cmp "$T/web-month.csv" "$T/cli-month.csv"
req a GET "/stats?from=$today&to=$today&csv=day" >/dev/null
MQ stats --csv --from "$today" --to "$today" > "$T/cli-day.csv"
check "daily CSV equals mugai stats --csv" cmp "$T/body" "$T/cli-day.csv"
is "a bad date is refused" 400 "$(req a GET "/stats?from=2026-13-45")"

# A virus name with markup, as a line of the audit log says: the charts
# and tables show it as text.
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
m = [l for l in lines if l.get("action") == "message" and l.get("signatures")][-1]
m = dict(m, signatures=["<svg onload=alert(1)>&\"x\""], id=m.get("id", "") + "-x")
open(sys.argv[1], "a").write(json.dumps(m) + "\n")' "$T/audit.jsonl"
req u GET "/stats?from=$today&to=$today" >/dev/null
check "the SVG holds the name escaped, and only text, title and rect" python3 -c '
import re, sys, xml.etree.ElementTree as ET
b = open(sys.argv[1]).read()
assert "<svg onload" not in b
svgs = re.findall(r"<svg .*?</svg>", b, re.S)
assert len(svgs) >= 3, len(svgs)
seen = False
for s in svgs:
    root = ET.fromstring(s)
    tags = {e.tag.split("}")[1] for e in root.iter()}
    assert tags <= {"svg", "title", "text", "rect"}, tags
    for e in root.iter():
        assert not any(k.startswith("on") or k == "style" for k in e.attrib), e.attrib
        if e.text == "<svg onload=alert(1)>&\"x\"":
            seen = True
assert seen' "$T/body"

# ---- audit log ---------------------------------------------------------------------------

is "staff may not see the audit log" 403 "$(req s GET /audit)"
is "auditor sees the audit log" 200 "$(req u GET /audit)"
check "newest first: approval, refusal, approval, requests" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
acts = [a for a in re.findall(r"<td class=\"act\">([^<]*)</td>", b)
        if a in ("approve", "refuse", "request")]
assert acts == ["approve", "request", "refuse", "approve", "request", "request"], acts' "$T/body"
req u GET '/audit?user=web:alice' >/dev/null
check "filtered by user" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
who = set(re.findall(r"<td class=\"actor\">([^<]*)</td>", b))
assert who == {"web:alice"}, who' "$T/body"
req u GET "/audit?action=request&id=$ID1" >/dev/null
check "filtered by action and id" sh -c "[ \$(grep -c 'class=\"entry\"' '$T/body') = 2 ] &&
	[ \$(grep -c '<td class=\"act\">request</td>' '$T/body') = 2 ]"
req u GET "/audit?from=2000-01-01&to=2000-01-02" >/dev/null
check "filtered by a time range with nothing in it" grep -q '<p id="count">0 ' "$T/body"
req u GET '/audit?user=web:alice&csv=1' >/dev/null
cp "$T/body" "$T/web-audit.csv"
check "audit CSV is an attachment" grep -qi '^Content-Disposition: attachment; filename="mugai-audit.csv"' "$T/hdr"
MQ audit --csv --user web:alice > "$T/cli-audit.csv"
check "audit CSV header row" sh -c "head -n 1 '$T/web-audit.csv' | tr -d '\r' |
	grep -q '^\"\\?time\"\\?,\"\\?actor\"\\?,'"
check "audit CSV equals mugai audit --csv --user web:alice" cmp "$T/web-audit.csv" "$T/cli-audit.csv"
req a GET '/audit?csv=1' >/dev/null
MQ audit --csv > "$T/cli-all.csv"
check "the whole audit CSV equals mugai audit --csv" cmp "$T/body" "$T/cli-all.csv"
# 150 more lines: a page holds 100.
python3 -c '
import json, sys
with open(sys.argv[1], "a") as f:
    for i in range(150):
        f.write(json.dumps({"time": "2026-01-02T03:04:%02dZ" % (i % 60), "actor": "filler",
                            "action": "fill", "id": "fill-%03d" % i, "reason": ""}) + "\n")' "$T/audit.jsonl"
req u GET '/audit?user=filler' >/dev/null
check "page 1: the newest 100 of 150, a next link" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
ids = re.findall(r"/message/(fill-\d+)", b)
assert len(ids) == 100 and ids[0] == "fill-149" and ids[-1] == "fill-050", ids[:2]
assert "id=\"next\"" in b and "id=\"prev\"" not in b' "$T/body"
req u GET '/audit?user=filler&page=2' >/dev/null
check "page 2: the other 50" python3 -c '
import re, sys
b = open(sys.argv[1]).read()
ids = re.findall(r"/message/(fill-\d+)", b)
assert ids == ["fill-%03d" % i for i in range(49, -1, -1)], ids[:2]
assert "id=\"prev\"" in b' "$T/body"

kill -TERM "$web_pid"
wait "$web_pid"
is "mugai-web stops cleanly" 0 $?
web_pid=
finish
