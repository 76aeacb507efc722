#!/bin/sh
# postfix-requests.sh BUILD FIXTURES - requests for originals, their
# approval and refusal, and releases of chosen parts, end to end through
# lib-postfix.sh's private Postfix.
#
# Messages are written by Python's email package (an Outlook-like
# multipart/mixed with a body, an .exe that the default policy removes
# and a CSV) and stored the way production stores them, by "mugai
# sanitize"; their envelope (sender, recipients: sanitize has none) is
# written into the index with Python's sqlite3 as quarantine-cli.sh
# does.  sendmail_path is Postfix's own sendmail (MAIL_CONFIG pointing
# at the private instance), so every release and every mail to a
# requester goes pickup -> cleanup -> qmgr -> smtp -> smtp-sink, where
# the checks read it.  Checked: a request needs a reason; the pending
# list; a second request by the same user is refused; two admins
# approving at once (two processes, several rounds): exactly one wins,
# the other exits 3, the original reaches its recipients once and the
# requester's mail arrives once; a refusal mails the requester; approving
# a deleted message fails with 3 and leaves the request pending; an
# approval with --parts delivers the chosen parts and a note naming the
# other; the audit log names every user; an index of schema version 2
# is upgraded in place.
# Prints "PASS name" / "FAIL name: why" per check, then a count.
set -u
if [ $# -ne 2 ]; then
	echo "usage: postfix-requests.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/postfix-requests.XXXXXX") || exit 1
P=$T/pf
trap 'pf_stop "$P"; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP PIPE	# and clean up (EXIT)
chmod 755 "$T"			# Postfix's daemons and smtp-sink go through
CK_SUITE=postfix-requests
CK_PREFIX=
. "$here/lib-check.sh"

smtp=$(pf_free_port) && sink=$(pf_free_port "$smtp") || exit 1
if ! pf_start "$P" "$smtp" "$sink" 2>"$T/start.err"; then
	fail start "$(head -c 300 "$T/start.err")"
	finish
fi

QDIR=$T/q
AUDIT=$T/audit.jsonl
mkdir -p "$T/bin"
cat > "$T/bin/sendmail" <<EOF
#!/bin/sh
MAIL_CONFIG=$P/etc exec /usr/sbin/sendmail "\$@"
EOF
chmod 755 "$T/bin/sendmail"

mq() {
	"$build/mugai" -o quarantine_dir="$QDIR" -o audit_log="$AUDIT" \
	    -o sendmail_path="$T/bin/sendmail" -o clamav_enable=no \
	    -o admin_contact=postmaster@city.lg.jp "$@"
}
run() {
	rname=$1
	shift
	mq "$@" </dev/null >"$T/$rname.out" 2>"$T/$rname.err"
	echo $? >"$T/$rname.rc"
}
rc() { cat "$T/$1.rc"; }
err() { head -c 300 "$T/$1.err"; }

# ---- messages: N of them, each stored by sanitize ------------------------

mkmsgs() {
	python3 - "$T" "$@" <<'EOF'
import sys
from email.message import EmailMessage
from email.utils import make_msgid, formatdate
d = sys.argv[1]
for name in sys.argv[2:]:
    m = EmailMessage()
    m["From"] = "取引先 <partner@example.co.jp>"
    m["To"] = "staff@city.lg.jp, boss@city.lg.jp"
    m["Subject"] = "見積書の送付 %s" % name
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="example.co.jp")
    m.set_content("お世話になっております。見積書を添付します。\n", cte="base64")
    m.add_attachment(b"MZ\x90\x00" + bytes(range(256)) * 4,
                     maintype="application", subtype="octet-stream",
                     filename="setup-%s.exe" % name)
    m.add_attachment("品名,数量\nりんご,3\n".encode("utf-8"),
                     maintype="text", subtype="csv", filename="list-%s.csv" % name)
    open("%s/%s.eml" % (d, name), "wb").write(bytes(m))
EOF
}
names="m1 m2 m3 m4 m5 m6 m7"
mkmsgs $names
for m in $names; do
	mq sanitize "$T/$m.eml" "$T/$m.out" </dev/null >/dev/null 2>"$T/san.err" ||
	    fail "sanitize $m" "$(head -c 200 "$T/san.err")"
done
# The envelope the milter would have recorded; prints "name id" lines.
python3 - "$QDIR/index.sqlite" > "$T/ids" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for mid, subject in db.execute("SELECT id, subject FROM messages"):
    db.execute("UPDATE messages SET sender = ?, recipients = ? WHERE id = ?",
               ("partner@example.co.jp",
                json.dumps(["staff@city.lg.jp", "boss@city.lg.jp"]), mid))
    print(subject.split()[-1], mid)
db.commit()
EOF
idof() { awk -v n="$1" '$1 == n { print $2 }' "$T/ids"; }
[ "$(wc -l < "$T/ids")" -eq 7 ] || fail stored "$(cat "$T/ids")"

# sink_count ADDR SUBJECT_WORD - complete sink messages to ADDR whose
# raw text holds WORD.
sink_with() {
	python3 - "$P/sink" "$@" <<'EOF'
import email, email.policy, glob, os, sys
d, rcpt, word = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for f in sorted(glob.glob(d + "/*")):
    raw = open(f, "rb").read()
    if ("X-Rcpt-Args: <%s>" % rcpt).encode() not in raw:
        continue
    m = email.message_from_bytes(raw, policy=email.policy.default)
    if word in str(m["Subject"]) or word.encode() in raw:
        n += 1
print(n)
EOF
}
wait_sink() { # wait_sink N: until the sink has N complete messages
	pf_wait_sink "$P" "$1" 60 && pf_wait_queue_empty "$P" 30
}

# ---- request ------------------------------------------------------------

ID1=$(idof m1)
run noreason quarantine request "$ID1" --by staff@city.lg.jp
check "a request needs a reason" test "$(rc noreason)" -eq 64
run noaddr quarantine request "$ID1" --by tanaka --reason "need it"
check "a request by a name that is no address needs --notify" \
    test "$(rc noaddr)" -eq 64
run req1 quarantine request "$ID1" --by staff@city.lg.jp \
    --reason "取引先から原本の確認を求められたため"
check "request exits 0" test "$(rc req1)" -eq 0
run dup quarantine request "$ID1" --by staff@city.lg.jp --reason again
check "a second pending request by the same user is refused (exit 3)" \
    test "$(rc dup)" -eq 3
run nosuch quarantine request no-such-id --by staff@city.lg.jp --reason r
check "a request for an unknown id exits 66" test "$(rc nosuch)" -eq 66
run pend quarantine requests --json
check "the pending list holds the request with its reason" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1, rows
r = rows[0]
assert r["id"] == sys.argv[2] and r["state"] == "pending", r
assert r["requester"] == "staff@city.lg.jp" and r["notify"] == "staff@city.lg.jp", r
assert r["reason"] == "取引先から原本の確認を求められたため", r' "$T/pend.out" "$ID1"

# ---- two admins approving at once, several rounds ------------------------

base=$(pf_sink_count "$P")
rounds=0
wins_ok=1
for m in m1 m2 m3 m4; do
	id=$(idof "$m")
	[ "$m" = m1 ] || mq quarantine request "$id" --by staff@city.lg.jp \
	    --reason "round $m" >/dev/null 2>&1
	req=$(mq quarantine requests --id "$id" --json | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["request"])')
	# Both start together: each waits for the go file.  Their pids are
	# waited for by name: a bare "wait" would wait for smtp-sink too.
	pids=
	for who in alice bob; do
		(while [ ! -e "$T/go.$m" ]; do sleep 0.01; done
		 mq quarantine approve "$req" --by "$who" \
		    --reason "確認済み by $who" >"$T/race.$m.$who.out" \
		    2>"$T/race.$m.$who.err"
		 echo $? >"$T/race.$m.$who.rc") &
		pids="$pids $!"
	done
	sleep 0.2
	: > "$T/go.$m"
	for p in $pids; do
		wait "$p"
	done
	a=$(cat "$T/race.$m.alice.rc") b=$(cat "$T/race.$m.bob.rc")
	rounds=$((rounds + 1))
	case "$a $b" in
	"0 3"|"3 0") ;;
	*) wins_ok=0
	   echo "round $m: exits $a $b: $(cat "$T/race.$m.alice.err" "$T/race.$m.bob.err")" \
	       >> "$T/race.why" ;;
	esac
done
if [ "$wins_ok" -eq 1 ]; then
	pass "two-process approve race: exactly one winner, the other exits 3 ($rounds rounds)"
else
	fail "two-process approve race: exactly one winner" "$(head -c 300 "$T/race.why")"
fi
# Each round: the original to two recipients (one message, two RCPT)
# and one mail to the requester.
wait_sink $((base + 8)) || true
sleep 1
check "each approved original reached smtp-sink once per recipient" python3 - "$P/sink" "$T/ids" <<'EOF'
import glob, sys
ids = dict(l.split() for l in open(sys.argv[2]))
files = [open(f, "rb").read() for f in glob.glob(sys.argv[1] + "/*")]
for m in ("m1", "m2", "m3", "m4"):
    for rcpt in ("staff@city.lg.jp", "boss@city.lg.jp"):
        got = [f for f in files if ("X-Rcpt-Args: <%s>" % rcpt).encode() in f
               and ("setup-%s.exe" % m).encode() in f
               and b"X-Mugai-Released-Parts" not in f]
        assert len(got) == 1, (m, rcpt, len(got))
EOF
check "the requester's mail arrived once per approval, in Japanese and English" python3 - "$P/sink" "$T/ids" <<'EOF'
import email, email.policy, glob, sys
ids = dict(l.split() for l in open(sys.argv[2]))
mails = []
for f in glob.glob(sys.argv[1] + "/*"):
    raw = open(f, "rb").read()
    if b"X-Rcpt-Args: <staff@city.lg.jp>" not in raw or b"Auto-Submitted" not in raw:
        continue
    mails.append(email.message_from_bytes(raw, policy=email.policy.default))
for m in ("m1", "m2", "m3", "m4"):
    got = [x for x in mails if x["X-Mugai-Id"] == ids[m]]
    assert len(got) == 1, (m, len(got))
    body = got[0].get_content()
    assert "承認" in body and "approved" in got[0]["Subject"], body
    assert "見積書の送付 %s" % m in body, body
    assert "送付先 / Sent to: staff@city.lg.jp,boss@city.lg.jp" in body, body
EOF
run states quarantine requests --all --json
check "each raced request is approved once, by the winner" python3 - "$T/states.out" "$T" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 4 and all(r["state"] == "approved" for r in rows), rows
for r, m in zip(rows, ("m1", "m2", "m3", "m4")):
    win = [w for w in ("alice", "bob")
           if open("%s/race.%s.%s.rc" % (sys.argv[2], m, w)).read().strip() == "0"]
    assert r["decider"] == win[0] and r["decision"] == "確認済み by " + win[0], (r, win)
EOF
check "the loser's message says another admin got there first" sh -c "
	cat '$T'/race.*.err | grep -E 'being approved by another admin|approved already' >/dev/null"
run again quarantine approve 1 --by carol --reason late
check "approving a decided request exits 3" test "$(rc again)" -eq 3

# ---- refuse ----------------------------------------------------------------

ID5=$(idof m5)
mq quarantine request "$ID5" --by tanaka --notify tanaka@city.lg.jp \
    --reason "念のため" >/dev/null 2>&1
req5=$(mq quarantine requests --id "$ID5" --json | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["request"])')
run refnoreason quarantine refuse "$req5" --by admin
check "refuse needs a reason" test "$(rc refnoreason)" -eq 64
base=$(pf_sink_count "$P")
run ref quarantine refuse "$req5" --by admin --reason "実行ファイルは渡せません"
check "refuse exits 0" test "$(rc ref)" -eq 0
wait_sink $((base + 1)) || true
check "the refusal reached the requester's address with the reason" sh -c "
	test \"\$(python3 -c '
import email, email.policy, glob, sys
n = 0
for f in glob.glob(sys.argv[1] + \"/*\"):
    raw = open(f, \"rb\").read()
    if b\"X-Rcpt-Args: <tanaka@city.lg.jp>\" in raw:
        m = email.message_from_bytes(raw, policy=email.policy.default)
        b = m.get_content()
        if \"却下\" in b and \"refused\" in m[\"Subject\"] and \"実行ファイルは渡せません\" in b:
            n += 1
print(n)' '$P/sink')\" = 1"
check "a refused message is not released" sh -c "
	test \"\$(sqlite3 '$QDIR/index.sqlite' \"SELECT status FROM messages WHERE id = '$ID5'\")\" = held"
run ref2 quarantine approve "$req5" --by admin --reason r
check "a refused request cannot be approved (exit 3)" test "$(rc ref2)" -eq 3

# ---- approving a deleted message -------------------------------------------

ID6=$(idof m6)
mq quarantine request "$ID6" --by staff@city.lg.jp --reason "要確認" \
    >/dev/null 2>&1
req6=$(mq quarantine requests --id "$ID6" --json | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["request"])')
mq quarantine delete "$ID6" --reason "保存期間" >/dev/null 2>&1
run appdel quarantine approve "$req6" --by admin --reason r
check "approving a deleted message exits 3" test "$(rc appdel)" -eq 3
check "... saying it was deleted" grep -q "was deleted" "$T/appdel.err"
run pend6 quarantine requests --id "$ID6" --json
check "... and the request stays pending" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["state"] == "pending" and r["decider"] == "", r' "$T/pend6.out"
run req6again quarantine request "$ID6" --by boss@city.lg.jp --reason r
check "a deleted message cannot be requested (exit 3)" \
    test "$(rc req6again)" -eq 3

# ---- approve with chosen parts ---------------------------------------------

ID7=$(idof m7)
mq quarantine request "$ID7" --by staff@city.lg.jp --reason "CSVだけ欲しい" \
    >/dev/null 2>&1
req7=$(mq quarantine requests --id "$ID7" --json | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["request"])')
base=$(pf_sink_count "$P")
run parts quarantine approve "$req7" --by admin --reason "CSVのみ" \
    --to clerk@city.lg.jp --parts 1,3
check "approve --parts --to exits 0" test "$(rc parts)" -eq 0
wait_sink $((base + 2)) || true
check "the chosen parts arrive, the other replaced by a note naming it" python3 - "$P/sink" <<'EOF'
import email, email.policy, glob, sys
got = []
for f in glob.glob(sys.argv[1] + "/*"):
    raw = open(f, "rb").read()
    if b"X-Rcpt-Args: <clerk@city.lg.jp>" in raw:
        got.append(email.message_from_bytes(raw, policy=email.policy.default))
assert len(got) == 1, len(got)
m = got[0]
assert m["X-Mugai-Released-Parts"] == "1.1,1.3", m["X-Mugai-Released-Parts"]
parts = list(m.iter_parts())
assert len(parts) == 3, [p.get_content_type() for p in parts]
assert "見積書を添付します" in parts[0].get_content()
note = parts[1].get_content()
assert parts[1]["X-Mugai-Omitted-Part"] == "1.2", dict(parts[1])
assert "setup-m7.exe" in note and "was not released" in note and "取り出されていません" in note, note
assert parts[2].get_filename() == "list-m7.csv"
csv = parts[2].get_payload(decode=True)
assert csv.replace(b"\r\n", b"\n") == "品名,数量\nりんご,3\n".encode(), repr(csv)
assert b"MZ\x90" not in bytes(m)
EOF

# ---- audit log and history -------------------------------------------------

check "the audit log names each requester and admin" python3 - "$AUDIT" "$T" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
acts = {(r["action"], r["actor"]) for r in rows}
assert ("request", "staff@city.lg.jp") in acts and ("request", "tanaka") in acts, acts
assert ("refuse", "admin") in acts and ("approve", "admin") in acts, acts
appr = [r for r in rows if r["action"] == "approve"]
assert len(appr) == 5, appr
assert all(r["reason"] and r["request"] and r["notified"] for r in appr), appr
assert {r["actor"] for r in appr} <= {"alice", "bob", "admin"}, appr
EOF
run hist quarantine show "$ID7"
check "the message's history shows request, release and approve" sh -c "
	grep -q 'staff@city.lg.jp  request' '$T/hist.out' &&
	grep -q 'admin  release  to=clerk@city.lg.jp parts=1,3' '$T/hist.out' &&
	grep -q 'admin  approve  request=$req7' '$T/hist.out'"
check "show numbers the parts as --parts takes them" sh -c "
	grep -q '\[2\] 1.2 .*setup-m7.exe' '$T/hist.out' &&
	grep -q '\[3\] 1.3 .*list-m7.csv' '$T/hist.out'"

# ---- an index of schema version 2 is upgraded ------------------------------

Q2=$T/q2
mkdir -p "$Q2"
python3 - "$Q2/index.sqlite" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE messages (id TEXT PRIMARY KEY NOT NULL, received INTEGER NOT NULL,
 queue_id TEXT NOT NULL DEFAULT '', client_addr TEXT NOT NULL DEFAULT '',
 sender TEXT NOT NULL DEFAULT '', recipients TEXT NOT NULL DEFAULT '[]',
 subject TEXT NOT NULL DEFAULT '', size INTEGER NOT NULL, sha256 TEXT NOT NULL,
 verdict TEXT NOT NULL DEFAULT '', reasons TEXT NOT NULL DEFAULT '',
 report_json TEXT NOT NULL DEFAULT '', notice TEXT NOT NULL DEFAULT '',
 status TEXT NOT NULL CHECK (status IN ('held', 'releasing', 'released', 'deleted')),
 path TEXT NOT NULL, changed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX messages_received ON messages(received);
CREATE TABLE actions (id TEXT NOT NULL REFERENCES messages(id), time INTEGER NOT NULL,
 actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
 reason TEXT NOT NULL DEFAULT '');
CREATE INDEX actions_id ON actions(id);
INSERT INTO messages (id, received, size, sha256, status, path, subject)
 VALUES ('old-1', 1700000000, 10, 'x', 'held', 'xx/old-1.eml', 'old one');
PRAGMA user_version = 2;
""")
db.commit()
EOF
"$build/mugai" -o quarantine_dir="$Q2" -o audit_log="$T/audit2.jsonl" \
    -o clamav_enable=no quarantine request old-1 --by staff@city.lg.jp \
    --reason upgrade >"$T/up.out" 2>"$T/up.err"
check "an index of version 2 is upgraded and keeps its rows" sh -c "
	test \"\$(sqlite3 '$Q2/index.sqlite' 'PRAGMA user_version')\" = 3 &&
	test \"\$(sqlite3 '$Q2/index.sqlite' \"SELECT count(*) FROM messages WHERE id = 'old-1'\")\" = 1 &&
	test \"\$(sqlite3 '$Q2/index.sqlite' \"SELECT state FROM requests WHERE id = 'old-1'\")\" = pending"

finish
