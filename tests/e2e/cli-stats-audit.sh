#!/bin/sh
# cli-stats-audit.sh BUILD FIXTURES - "mugai stats" and "mugai audit".
#
# Messages written by Python's email package go through "mugai
# sanitize" with the ClamAV test database: two plain ones (delivered
# unchanged), three with an .exe the default policy removes (held), one
# with an HTML-only body (converted to text) and one carrying the EICAR string
# (rejected, virus); then a request and a delete by named users.  The
# figures and the audit lines the commands print are checked against
# what was sent.  Last, the notice's link to mugai-web's request page
# (web_public_url): there when the original is kept, else not.  Prints "PASS name" / "FAIL name: why", then a count.
set -u
build=${1:?usage: cli-stats-audit.sh BUILD FIXTURES}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
testdb=${MUGAI_TESTDB:-$build/testdb}
T=$(mktemp -d "${TMPDIR:-/tmp}/cli-stats-audit.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
CK_SUITE=cli-stats-audit
CK_PREFIX=
. "$(dirname "$0")/lib-check.sh"

mq() {
	"$build/mugai" -o quarantine_dir="$T/q" -o audit_log="$T/audit.jsonl" \
	    -o clamav_database_dir="$testdb" -o sendmail_path=/bin/false "$@"
}

python3 - "$T" <<'EOF2'
import sys
from email.message import EmailMessage
d = sys.argv[1]
def msg(name, subject):
    m = EmailMessage()
    m["From"] = "partner@example.co.jp"
    m["To"] = "staff@city.lg.jp"
    m["Subject"] = subject
    m.set_content("ご確認ください。\n")
    return m
for i in range(2):
    open("%s/plain%d.eml" % (d, i), "wb").write(bytes(msg("p", "連絡 %d" % i)))
for i in range(3):
    m = msg("x", "実行ファイル %d" % i)
    m.add_attachment(b"MZ\x90\x00" + bytes(range(256)) * 2,
                     maintype="application", subtype="octet-stream",
                     filename="tool%d.exe" % i)
    open("%s/exe%d.eml" % (d, i), "wb").write(bytes(m))
m = EmailMessage()
m["From"] = "partner@example.co.jp"
m["To"] = "staff@city.lg.jp"
m["Subject"] = "HTML"
m.set_content("<html><body><p>お知らせ</p></body></html>", subtype="html")
open("%s/html.eml" % d, "wb").write(bytes(m))
m = msg("v", "virus")
m.add_attachment(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
                 maintype="application", subtype="octet-stream", filename="eicar.com")
open("%s/virus.eml" % d, "wb").write(bytes(m))
EOF2
for m in plain0 plain1 exe0 exe1 exe2 html virus; do
	mq sanitize "$T/$m.eml" "$T/$m.out" >/dev/null 2>"$T/$m.err"
	echo $? > "$T/$m.rc"
done
check "the virus was rejected" test "$(cat "$T/virus.rc")" -eq 2
id=$(mq quarantine list --json | python3 -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin) if r["subject"] == "実行ファイル 1"][0])')
mq quarantine request "$id" --by staff@city.lg.jp --reason "=cmd|' /C calc'!A0" \
    >/dev/null 2>&1
mq quarantine delete "$id" --reason "保存期間の経過" >/dev/null 2>&1

mq stats --csv > "$T/stats.csv" 2>"$T/stats.err"
echo $? > "$T/stats.rc"
check "stats --csv exits 0" test "$(cat "$T/stats.rc")" -eq 0
check "stats --csv counts what was sent" python3 - "$T/stats.csv" "$T" <<'EOF2'
import csv, io, json, sys
text = open(sys.argv[1], newline="").read()
assert "\r\n" in text, "CRLF lines"
sections = text.split("\r\n\r\n")
rows = list(csv.DictReader(io.StringIO(sections[0])))
total = [r for r in rows if r["period"] == "total"][0]
days = [r for r in rows if r["period"] != "total"]
# What the audit log says each message became, counted independently.
msgs = [json.loads(l) for l in open(sys.argv[2] + "/audit.jsonl") if '"action":"message"' in l]
assert int(total["messages"]) == len(msgs) == 7, (total, len(msgs))
assert int(total["held"]) == sum(1 for m in msgs if m["quarantined"]), total
assert int(total["held"]) >= 4, total
assert int(total["rejected"]) == 1 and int(total["virus"]) == 1, total
assert int(total["converted"]) >= 1, total
assert int(total["sanitised"]) >= 4, total
assert sum(int(d["messages"]) for d in days) == 7
removed = list(csv.reader(io.StringIO(sections[1])))
assert removed[0] == ["removed_type", "count"], removed
got = dict(removed[1:])
assert int(got["application/x-dosexec"]) == 3, got
virus = list(csv.reader(io.StringIO(sections[2])))
assert virus[1][0].startswith("Mugai.Test.EICAR") and virus[1][1] == "1", virus
EOF2
mq stats --monthly > "$T/stats.txt" 2>&1
check "stats --monthly prints one month and the total" sh -c "
	grep -Eq '^[0-9]{4}-[0-9]{2} +7 ' '$T/stats.txt' && grep -Eq '^total +7 ' '$T/stats.txt'"
mq stats --from 2001-01-01 --to 2001-01-31 --csv > "$T/old.csv" 2>&1
check "stats over a range with no mail counts none" grep -q '^total,0,0,0,0,0,0,0' "$T/old.csv"
run_bad() { mq stats --from yesterday >/dev/null 2>&1; echo $?; }
check "stats with a bad date is a usage error" test "$(run_bad)" -eq 64

mq audit --csv --user staff@city.lg.jp > "$T/audit.csv" 2>"$T/audit.err"
check "audit --csv --user gives that user's request, formula made text" python3 - "$T/audit.csv" <<'EOF2'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 1, rows
r = rows[0]
assert r["actor"] == "staff@city.lg.jp" and r["action"] == "request", r
assert r["reason"] == "'=cmd|' /C calc'!A0", r["reason"]
EOF2
mq audit --json --action delete > "$T/del.json" 2>&1
check "audit --json --action delete parses and names the user" python3 -c '
import json, os, pwd, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1 and rows[0]["id"] == sys.argv[2], rows
assert rows[0]["actor"] == pwd.getpwuid(os.getuid()).pw_name, rows
assert rows[0]["reason"] == "保存期間の経過", rows' "$T/del.json" "$id"
mq audit --id "$id" > "$T/id.txt" 2>&1
check "audit --id lists the message, request and delete in order" python3 -c '
import sys
acts = [l.split()[2] for l in open(sys.argv[1]).read().splitlines()[1:]]
assert acts == ["message", "request", "delete"], acts' "$T/id.txt"
mq audit --from 2001-01-01 --to 2001-12-31 --json > "$T/none.json" 2>&1
check "audit over a range with no lines is empty" python3 -c '
import json, sys; assert json.load(open(sys.argv[1])) == []' "$T/none.json"
# ---- the notice's request link (web_public_url) ---------------------------

link_in() { # link_in OUT: print the request URL in the notice, if any
	python3 - "$1" <<'EOF2'
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
for p in m.walk():
    if p.get_content_type() == "text/plain":
        text = p.get_content()
        hit = re.search(r"Request the original here: (\S+)", text)
        # No notice at all would make "no link" pass for nothing.
        print(hit.group(1) if hit else "" if "無害化通知" in text else "no notice")
        break
EOF2
}
mq -o web_public_url=https://mail.city.lg.jp/mugai/ sanitize "$T/exe0.eml"     "$T/link.out" >/dev/null 2>&1
lid=$(sed -n 's/^X-Mugai-Id: //p' "$T/link.out" | tr -d '\r')
check "the notice links to the request page of a kept original"     test "$(link_in "$T/link.out")" = "https://mail.city.lg.jp/mugai/request/$lid"
mq -o web_public_url=https://mail.city.lg.jp/mugai -o quarantine_enable=no     sanitize "$T/exe0.eml" "$T/nolink.out" >/dev/null 2>&1
check "no link when no original is kept (quarantine_enable = no)"     test -z "$(link_in "$T/nolink.out")"
mq sanitize "$T/exe0.eml" "$T/off.out" >/dev/null 2>&1
check "no link when web_public_url is empty" test -z "$(link_in "$T/off.out")"
finish
