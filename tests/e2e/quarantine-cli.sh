#!/bin/sh
# quarantine-cli.sh BUILD FIXTURES - "mugai quarantine" end to end.
#
# Originals get into the store the way they do in production, through
# "mugai sanitize" (an attachment removed by the default policy); the
# subcommands are then run on them.  Ageing a message for purge and
# marking one rejected edit the index with Python's sqlite3 module.
# Prints "PASS name" / "FAIL name: why" per check, then a count.
set -u
build=${1:?usage: quarantine-cli.sh BUILD FIXTURES}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
MUGAI=$build/mugai
T=$(mktemp -d "${TMPDIR:-/tmp}/quarantine-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
CK_SUITE=quarantine-cli
CK_PREFIX=
. "$(dirname "$0")/lib-check.sh"

QDIR=$T/spool/quarantine
AUDIT=$T/log/audit.jsonl
mkdir -p "$T/bin"
cat > "$T/bin/sendmail" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
: > "$d/argv"
for a in "$@"; do printf '%s\n' "$a" >> "$d/argv"; done
cat > "$d/stdin"
exit $(cat "$d/exit" 2>/dev/null || echo 0)
EOF
chmod 755 "$T/bin/sendmail"

# mq ARGS... - mugai with this test's store, sendmail and audit log.
mq() {
	"$MUGAI" -o quarantine_dir="$QDIR" -o audit_log="$AUDIT" \
	    -o sendmail_path="$T/bin/sendmail" -o clamav_enable=no \
	    -o quarantine_busy_timeout=1 "$@"
}

# run NAME ARGS... - run mugai, keeping stdout, stderr and status.
run() {
	rname=$1
	shift
	mq "$@" </dev/null >"$T/$rname.out" 2>"$T/$rname.err"
	echo $? >"$T/$rname.rc"
}
rc() { cat "$T/$1.rc"; }

json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' < "$1"; }

# ---- messages --------------------------------------------------------------

# Attachment bytes: every byte value, so decoding is really checked.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3)' \
    > "$T/attach.bin"
b64=$(base64 < "$T/attach.bin")

mkmsg() { # mkmsg FILE FROM SUBJECT
	cat > "$1" <<EOF
From: Sender <$2>
To: staff@city.lg.jp
Subject: $3
Message-ID: <$(basename "$1")@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Please see the attachment.
--b1
Content-Type: application/octet-stream; name="data.bin"
Content-Disposition: attachment; filename="data.bin"
Content-Transfer-Encoding: base64

$b64
--b1--
EOF
}

long_subject="=?UTF-8?B?$(printf '%s' '長い件名の報告書について確認をお願いします。添付ファイルは会議資料です。' | base64 -w0)?="
mkmsg "$T/m1.eml" alice@example.jp "$long_subject"
mkmsg "$T/m2.eml" bob@example.org "second"
mkmsg "$T/m3.eml" carol@example.net "third"

n=0
for m in m1 m2 m3; do
	n=$((n + 1))
	mq sanitize "$T/$m.eml" "$T/$m.out" </dev/null >/dev/null \
	    2>"$T/$m.san.err"
	s=$?
	[ $s -eq 0 ] || fail "sanitize $m" "exit $s: $(head -c 200 "$T/$m.san.err")"
done

# ---- list --------------------------------------------------------------------

run list quarantine list --json
if [ "$(rc list)" -eq 0 ] && json_ok "$T/list.out"; then
	pass "list --json parses"
else
	fail "list --json parses" "exit $(rc list): $(head -c 200 "$T/list.err")"
fi
# "mugai sanitize" has no SMTP envelope: give the rows the sender and
# recipients the milter would have recorded, finding them by subject.
ids=$(python3 -c '
import json, sqlite3, sys
rows = json.load(open(sys.argv[1]))
by = {r["subject"][:4]: r["id"] for r in rows}
env = {"長い件名": "alice@example.jp", "seco": "bob@example.org",
       "thir": "carol@example.net"}
db = sqlite3.connect(sys.argv[2])
for key, sender in env.items():
    if key in by:
        db.execute("UPDATE messages SET sender = ?, recipients = ? WHERE id = ?",
                   (sender, json.dumps(["staff@city.lg.jp", "<Boss@City.lg.jp>"]),
                    by[key]))
db.commit()
print(by.get("長い件名", "-"), by.get("seco", "-"), by.get("thir", "-"))' \
    "$T/list.out" "$QDIR/index.sqlite" 2>/dev/null)
set -- $ids
ID1=${1:--}; ID2=${2:--}; ID3=${3:--}
if [ "$ID1" != - ] && [ "$ID2" != - ] && [ "$ID3" != - ]; then
	pass "sanitize stored three originals"
else
	fail "sanitize stored three originals" "list gave: $(head -c 300 "$T/list.out")"
	finish
fi
run list2 quarantine list --json
check "list --json fields" python3 -c '
import hashlib, json, sys
r = [x for x in json.load(open(sys.argv[1])) if x["id"] == sys.argv[2]][0]
raw = open(sys.argv[3], "rb").read()
assert r["status"] == "held", r
assert r["sender"] == "alice@example.jp", r
assert r["recipients"] == ["staff@city.lg.jp", "<Boss@City.lg.jp>"], r
assert r["subject"].startswith("長い件名"), r["subject"]
assert r["sha256"] == hashlib.sha256(raw).hexdigest(), r
assert r["size"] == len(raw), r
' "$T/list2.out" "$ID1" "$T/m1.eml"

run table quarantine list
check "list table names every message" sh -c "
	[ \$(cat '$T/table.rc') -eq 0 ] &&
	grep -q '$ID1' '$T/table.out' && grep -q '$ID2' '$T/table.out' &&
	grep -q '^ID ' '$T/table.out'"
# Columns are cut by display width: a CJK character takes two columns.
check "list table cuts Japanese subjects by width" python3 -c '
import sys, unicodedata
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
row = [l for l in lines if sys.argv[2] in l][0]
subj = row[row.index("長"):]
assert subj.endswith(".."), subj
assert width(subj) <= 50, (width(subj), subj)
assert width(subj) >= 49, (width(subj), subj)
' "$T/table.out" "$ID1"

run f1 quarantine list --sender ALICE@example.jp --json
check "list --sender" python3 -c '
import json, sys
ids = [r["id"] for r in json.load(open(sys.argv[1]))]
assert ids == [sys.argv[2]], ids' "$T/f1.out" "$ID1"
run f1b quarantine list --recipient boss@city.lg.jp --json
check "list --recipient" python3 -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == 3' "$T/f1b.out"
run f2 quarantine list --since 2999-01-01 --json
check "list --since in the future is empty" sh -c "[ \"\$(tr -d ' \n' < '$T/f2.out')\" = '[]' ]"
run f3 quarantine list --since 1d --status held --json
check "list --since 1d --status held" python3 -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == 3' "$T/f3.out"
run f4 quarantine list --status bogus
check "list --status bogus is a usage error" test "$(rc f4)" -eq 64

# ---- show, export --------------------------------------------------------------

run show quarantine show "$ID1"
check "show" sh -c "
	[ \$(cat '$T/show.rc') -eq 0 ] && grep -q '^Parts:' '$T/show.out' &&
	grep -q 'data.bin' '$T/show.out' && grep -q '^History:' '$T/show.out' &&
	grep -q '^Notice:' '$T/show.out' && grep -q 'alice@example.jp' '$T/show.out'"

run show404 quarantine show nosuch-id
check "show of an unknown id" sh -c "
	[ \$(cat '$T/show404.rc') -eq 66 ] &&
	grep -q \"no message with id nosuch-id; see 'mugai quarantine list'\" '$T/show404.err'"

run exp quarantine export "$ID1" -o "$T/exported.eml"
check "export gives the original byte for byte" sh -c "
	[ \$(cat '$T/exp.rc') -eq 0 ] && cmp '$T/m1.eml' '$T/exported.eml'"
run exp2 quarantine export "$ID2"
check "export to a pipe" cmp "$T/m2.eml" "$T/exp2.out"
run part quarantine export "$ID1" --part 1.2 -o "$T/part.bin"
check "export --part decodes the base64 attachment" sh -c "
	[ \$(cat '$T/part.rc') -eq 0 ] && cmp '$T/attach.bin' '$T/part.bin'"
run part404 quarantine export "$ID1" --part 1.7
check "export of a missing part" test "$(rc part404)" -eq 66
run partbad quarantine export "$ID1" --part 1
check "export of a multipart is refused" test "$(rc partbad)" -eq 64

# ---- release -------------------------------------------------------------------

run rel quarantine release "$ID2" --to admin@city.lg.jp --reason "asked by staff"
check "release pipes the original into sendmail" sh -c "
	[ \$(cat '$T/rel.rc') -eq 0 ] && cmp '$T/m2.eml' '$T/bin/stdin'"
check "release sendmail arguments" sh -c "
	printf -- '-i\n-f\nbob@example.org\n--\nadmin@city.lg.jp\n' | cmp - '$T/bin/argv'"
check "release is in the audit log" python3 -c '
import json, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert last["action"] == "release" and last["id"] == sys.argv[2], last
assert last["reason"] == "asked by staff" and last["to"] == "admin@city.lg.jp"
assert last["actor"] and last["time"]' "$AUDIT" "$ID2"
run st quarantine list --status released --json
check "release marks the message released" python3 -c '
import json, sys
assert [r["id"] for r in json.load(open(sys.argv[1]))] == [sys.argv[2]]' "$T/st.out" "$ID2"

run relp quarantine release "$ID3" --to admin@city.lg.jp --reason "only the file" --part 1.2
check "release --part sends one decodable attachment" python3 -c '
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
atts = [p for p in m.iter_attachments()]
assert len(atts) == 1, atts
assert atts[0].get_filename() == "data.bin"
assert atts[0].get_content() == open(sys.argv[2], "rb").read()
assert m["To"] == "admin@city.lg.jp", m["To"]' "$T/bin/stdin" "$T/attach.bin"

echo 75 > "$T/bin/exit"
run relfail quarantine release "$ID1" --to admin@city.lg.jp --reason r
rm -f "$T/bin/exit"
check "a failing sendmail fails the release" sh -c "
	[ \$(cat '$T/relfail.rc') -ne 0 ] && grep -q 'status 75' '$T/relfail.err'"
run st2 quarantine list --status held --json
check "a failed release leaves the status" python3 -c '
import json, sys
assert sys.argv[2] in [r["id"] for r in json.load(open(sys.argv[1]))]' "$T/st2.out" "$ID1"

run relusage quarantine release "$ID1" --to admin@city.lg.jp
check "release without --reason is a usage error" test "$(rc relusage)" -eq 64

python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE messages SET verdict = ? WHERE id = ?", ("rejected", sys.argv[2]))
db.commit()' "$QDIR/index.sqlite" "$ID1"
rm -f "$T/bin/argv"
run relvir quarantine release "$ID1" --to admin@city.lg.jp --reason r
check "release of a rejected message needs --force" sh -c "
	[ \$(cat '$T/relvir.rc') -eq 2 ] && grep -q -- '--force' '$T/relvir.err' &&
	[ ! -e '$T/bin/argv' ]"
run relforce quarantine release "$ID1" --to admin@city.lg.jp --reason r --force
check "release --force" sh -c "
	[ \$(cat '$T/relforce.rc') -eq 0 ] && cmp '$T/m1.eml' '$T/bin/stdin'"

# ---- delete, verify, purge -----------------------------------------------------

run del quarantine delete "$ID3" --reason "sender asked"
run delshow quarantine show "$ID3"
run delexp quarantine export "$ID3"
check "delete removes the file and keeps the row" sh -c "
	[ \$(cat '$T/del.rc') -eq 0 ] && grep -q '^Status: *deleted' '$T/delshow.out' &&
	grep -q 'delete' '$T/delshow.out' && [ \$(cat '$T/delexp.rc') -eq 66 ]"

run ver quarantine verify
check "verify of a sound store" sh -c "[ \$(cat '$T/ver.rc') -eq 0 ]"

# An orphan sits where its id puts it: XX = first two hex of SHA-256(id).
fan=$QDIR/$(printf '%s' lost-1 | sha256sum | cut -c1-2)
mkdir -p "$fan"
printf 'orphan\n' > "$fan/lost-1.eml"
touch -d '2 hours ago' "$fan/lost-1.eml"
printf 'half' > "$fan/.tmp.lost-2.eml.1.1"
touch -d '2 hours ago' "$fan/.tmp.lost-2.eml.1.1"
run ver2 quarantine verify
check "verify reports orphan and temporary files" sh -c "
	[ \$(cat '$T/ver2.rc') -eq 1 ] && grep -q '^orphan ' '$T/ver2.out' &&
	grep -q '^temp ' '$T/ver2.out'"
rm -f "$fan/lost-1.eml"
p1=$(python3 -c '
import json, sys
print([r["path"] for r in json.load(open(sys.argv[1])) if r["id"] == sys.argv[2]][0])' \
    "$T/list.out" "$ID2")
cp "$p1" "$T/saved.eml"
printf 'x' >> "$p1"
run ver3 quarantine verify
check "verify reports a changed original" sh -c "
	[ \$(cat '$T/ver3.rc') -eq 1 ] && grep -q '^checksum ' '$T/ver3.out'"
cp "$T/saved.eml" "$p1"

python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE messages SET received = ? WHERE id = ?",
           (int(time.time()) - 100 * 86400, sys.argv[2]))
db.commit()' "$QDIR/index.sqlite" "$ID2"
run purge quarantine purge --older-than 90
run purged quarantine list --status deleted --json
check "purge deletes old originals and stale temporary files" sh -c "
	[ \$(cat '$T/purge.rc') -eq 0 ] && grep -q 'purged 1 original' '$T/purge.out' &&
	[ ! -e '$p1' ] && [ ! -e '$fan/.tmp.lost-2.eml.1.1' ]"
check "purge keeps the row as deleted" python3 -c '
import json, sys
assert sys.argv[2] in [r["id"] for r in json.load(open(sys.argv[1]))]' "$T/purged.out" "$ID2"
run ver4 quarantine verify
check "verify after purge" test "$(rc ver4)" -eq 0
check "every audit line is JSON" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
acts = [json.loads(l)["action"] for l in lines]
assert "purge" in acts and "delete" in acts and "release" in acts, acts'  "$AUDIT"

# ---- errors ---------------------------------------------------------------------

run bogus quarantine bogus
check "unknown subcommand" test "$(rc bogus)" -eq 64

# Another process holds the index's write lock past the busy timeout.
python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(6)' "$QDIR/index.sqlite" "$T/locked" &
lockpid=$!
i=0
while [ ! -e "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run locked quarantine delete "$ID1" --reason r
kill "$lockpid" 2>/dev/null
wait "$lockpid" 2>/dev/null
check "a locked index is a temporary failure" sh -c "
	[ \$(cat '$T/locked.rc') -eq 75 ] && grep -q 'locked' '$T/locked.err'"

# Permission denied, as a user who cannot reach the store.
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1 &&
    runuser -u nobody -- test -x "$MUGAI" 2>/dev/null; then
	runuser -u nobody -- "$MUGAI" -o quarantine_dir="$QDIR" \
	    -o audit_log="$AUDIT" quarantine list </dev/null >"$T/perm.out" \
	    2>"$T/perm.err"
	echo $? > "$T/perm.rc"
	check "permission denied names the file and its owner" sh -c "
		[ \$(cat '$T/perm.rc') -eq 77 ] &&
		grep -q 'Permission denied' '$T/perm.err' &&
		grep -q 'owned by root' '$T/perm.err' && grep -q '$T' '$T/perm.err'"
else
	echo "SKIP permission denied (needs root, runuser and a build nobody can run)"
fi

finish
