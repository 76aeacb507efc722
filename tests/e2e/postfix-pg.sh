#!/bin/sh
# postfix-pg.sh BUILD FIXTURES - two gateway nodes, one PostgreSQL
# quarantine.  Two mugai-milter instances, each behind its own private
# Postfix (lib-postfix.sh), store into one private PostgreSQL
# (lib-pg.sh) at the same time.  Checked: every message delivered once
# and every original stored once; the CLI configured like either node
# exports (same SHA-256 as recorded) and releases or deletes what the
# other node stored; a release on one side racing a delete on the other
# has exactly one winner.  Then PostgreSQL is stopped: a message that
# needs its original stored gets 451 and is not delivered, plain mail
# still flows, each milter logs the reason once; after the restart the
# retried messages are stored and delivered once.  Skipped without the
# PostgreSQL server binaries.
set -u
if [ $# -ne 2 ]; then
	echo "usage: postfix-pg.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
CK_SUITE=postfix-pg
. "$here/lib-check.sh"
. "$here/lib-postfix.sh"
. "$here/lib-pg.sh"
if ! pg_have; then
	echo "SKIP postfix-pg: no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/postfix-pg.XXXXXX") || exit 1
chmod 755 "$T"
PG=$T/pg
m1= m2=
cleanup() {
	pf_stop "$T/n1/pf"
	pf_stop "$T/n2/pf"
	for p in $m1 $m2; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pg_stop "$PG"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

mkdir -p "$T/n1" "$T/n2" "$T/bin"
chmod 755 "$T/n1" "$T/n2"
cat > "$T/bin/sendmail" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
cat > "$d/stdin.$$"
mv "$d/stdin.$$" "$d/stdin"
[ -f "$d/delay" ] && sleep 1
exit 0
EOF
chmod 755 "$T/bin/sendmail"

if ! pg_start "$PG"; then
	fail pg-start "$(tail -c 300 "$PG/log" "$PG/initdb.log" 2>/dev/null)"
	finish
fi
CI=$(pg_conninfo "$PG")
# cli N ARGS... - the admin CLI configured like node N.
cli() {
	n=$1
	shift
	"$build/mugai" -o quarantine_dir="$T/n$n/q" \
	    -o audit_log="$T/n$n/audit.jsonl" -o quarantine_db="$CI" \
	    -o quarantine_db_password_file="$PG/password" \
	    -o sendmail_path="$T/bin/sendmail" -o clamav_enable=no "$@"
}
cli 1 quarantine migrate >/dev/null 2>"$T/migrate.err" ||
    { fail migrate "$(cat "$T/migrate.err")"; finish; }

python3 - "$T/msg" <<'PY'
import os, sys
from email.message import EmailMessage
d = sys.argv[1]
os.makedirs(d)
def msg(name, attach):
    m = EmailMessage()
    m["From"] = "sender@example.com"
    m["To"] = "staff@city.example.lg.jp"
    m["Subject"] = name
    m["Message-ID"] = "<%s@example.com>" % name
    m.set_content("Message %s.\n" % name)
    if attach:
        # A program: the default policy removes it, so the original is kept.
        m.add_attachment(b"MZ\x90\x00" + os.urandom(30000),
                         maintype="application", subtype="octet-stream",
                         filename="tool.exe")
    open(os.path.join(d, name + ".eml"), "wb").write(bytes(m))
for n in (1, 2):
    for i in range(8):
        msg("n%d-a%d" % (n, i), True)
for i in range(3):
    msg("down-a%d" % i, True)
    msg("down-p%d" % i, False)
PY

ports=
for v in mp1 mp2 s1 s2 k1 k2; do
	p=$(pf_free_port $ports) || { fail ports "no free port"; finish; }
	ports="$ports $p"
	eval "$v=$p"
done
for n in 1 2; do
	eval "mp=\$mp$n s=\$s$n k=\$k$n"
	pf_milter_start "$build" "$T/n$n" "$testdb" "$mp" \
	    "quarantine_db=$CI" "quarantine_db_password_file=$PG/password" \
	    "quarantine_busy_timeout=5" "clamav_enable=no"
	st=$?
	eval "m$n=\$pf_milter_pid"
	[ $st -eq 0 ] || { fail "milter$n-start" "$(tail -n 3 "$T/n$n/milter.log" | tr '\n' ' ')"; finish; }
	pf_start "$T/n$n/pf" "$s" "$k" "inet:127.0.0.1:$mp" 2>"$T/n$n/start.err" ||
	    { fail "postfix$n-start" "$(head -c 300 "$T/n$n/start.err")"; finish; }
done
pass "two nodes and one PostgreSQL started"

# send N NAME - 0 when node N's Postfix accepted the message NAME.
send() {
	eval "s=\$s$1"
	PF_SEND_LOG=$T/send-$2.log pf_send_file "$s" "$T/msg/$2.eml" \
	    --from sender@example.com --to staff@city.example.lg.jp
}

# ---- both nodes store at once ------------------------------------------------

for n in 1 2; do
	(
		i=0
		while [ $i -lt 8 ]; do
			send $n "n$n-a$i" || echo "n$n-a$i" >> "$T/refused"
			i=$((i + 1))
		done
	) &
	eval "snd$n=\$!"
done
wait $snd1 $snd2
if [ -s "$T/refused" ]; then
	fail "both nodes accept" "refused: $(tr '\n' ' ' < "$T/refused")"
else
	pass "both nodes accept 8 messages each, sent at once"
fi
pf_wait_sink "$T/n1/pf" 8 90
pf_wait_sink "$T/n2/pf" 8 90
cli 1 quarantine list --json > "$T/list.json" 2>"$T/list.err"
check "16 originals in the one quarantine, each once" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
subj = sorted(r["subject"] for r in rows)
want = sorted("n%d-a%d" % (n, i) for n in (1, 2) for i in range(8))
assert subj == want, subj' "$T/list.json"

idof() {
	python3 -c '
import json, sys
r = [r for r in json.load(open(sys.argv[1])) if r["subject"] == sys.argv[2]]
print(r[0]["id"] + " " + r[0]["sha256"] if r else "- -")' "$T/list.json" "$1"
}
set -- $(idof n1-a0); A=$1 ASHA=$2
set -- $(idof n2-a0); B=$1 BSHA=$2
cli 2 quarantine export "$A" -o "$T/a.eml" 2>"$T/a.err"
cli 1 quarantine export "$B" -o "$T/b.eml" 2>"$T/b.err"
check "each side exports what the other stored, byte for byte" sh -c "
	[ \"\$(sha256sum < '$T/a.eml' | cut -d' ' -f1)\" = '$ASHA' ] &&
	[ \"\$(sha256sum < '$T/b.eml' | cut -d' ' -f1)\" = '$BSHA' ] &&
	grep -q 'n1-a0@example.com' '$T/a.eml' && grep -q 'n2-a0@example.com' '$T/b.eml'"
cli 2 quarantine show "$A" > "$T/show.out" 2>&1
check "each side shows what the other stored" grep -q 'tool.exe' "$T/show.out"
cli 2 quarantine release "$A" --to admin@city.example.lg.jp --reason "node 2 releases node 1's" \
    >/dev/null 2>"$T/rel.err"
r=$?
check "node 2 releases what node 1 stored" sh -c "
	[ $r -eq 0 ] && cmp '$T/a.eml' '$T/bin/stdin'"
cli 1 quarantine delete "$B" --reason "node 1 deletes node 2's" >/dev/null 2>"$T/del.err"
r=$?
cli 2 quarantine export "$B" >/dev/null 2>&1
r2=$?
check "node 1 deletes what node 2 stored, and node 2 sees it gone" sh -c "
	[ $r -eq 0 ] && [ $r2 -eq 66 ]"

: > "$T/bin/delay"
bad=
for i in 1 2 3; do
	set -- $(idof "n1-a$i")
	id=$1
	cli 1 quarantine release "$id" --to admin@city.example.lg.jp --reason race \
	    >/dev/null 2>&1 &
	p1=$!
	cli 2 quarantine delete "$id" --reason race >/dev/null 2>&1 &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	st=$(cli 1 quarantine show "$id" 2>/dev/null | sed -n 's/^Status: *//p')
	case "$r1 $r2 $st" in
	"0 3 released"|"3 0 deleted") ;;
	*) bad="$bad [$id: release $r1 delete $r2 status $st]" ;;
	esac
done
rm -f "$T/bin/delay"
if [ -z "$bad" ]; then
	pass "a release on node 1 racing a delete on node 2 has exactly one winner (3 times)"
else
	fail "release/delete race across nodes" "$bad"
fi

# ---- PostgreSQL stopped ---------------------------------------------------------

pg_halt "$PG"
refused=
for i in 0 1 2; do
	send 1 "down-a$i" && refused="$refused accepted:down-a$i"
	grep -q '451' "$T/send-down-a$i.log" || refused="$refused no451:down-a$i"
done
check "PostgreSQL down: messages that need their original get 451" test -z "$refused"
plain=
send 2 down-p0 || plain="$plain down-p0"
send 1 down-p1 || plain="$plain down-p1"
send 2 down-p2 || plain="$plain down-p2"
check "PostgreSQL down: plain mail still flows" test -z "$plain"
pf_wait_sink "$T/n1/pf" 9 60
pf_wait_sink "$T/n2/pf" 10 60
n1log=$(grep -c 'cannot be reached' "$T/n1/milter.log")
check "the reason is logged once, not per message" sh -c "[ $n1log -eq 1 ] || { grep -i postgres '$T/n1/milter.log' | tail -n 8; exit 1; }"

pg_start "$PG" || fail pg-restart "$(tail -c 300 "$PG/log")"
retry=
for i in 0 1 2; do
	send 1 "down-a$i" || retry="$retry down-a$i"
done
check "after the restart the retried messages are accepted" test -z "$retry"
pf_wait_sink "$T/n1/pf" 12 60
check "node 1 logs that PostgreSQL is back" grep -q 'reachable again' "$T/n1/milter.log"
cli 2 quarantine list --json > "$T/list2.json" 2>/dev/null
# shellcheck disable=SC2046
python3 - "$T/list2.json" $(pf_sink_files "$T/n1/pf") $(pf_sink_files "$T/n2/pf") \
    > "$T/judge" <<'PY'
import email, email.policy, json, sys
rows = json.load(open(sys.argv[1]))
stored = {}
for r in rows:
    stored[r["subject"]] = stored.get(r["subject"], 0) + 1
seen = {}
for p in sys.argv[2:]:
    m = email.message_from_bytes(open(p, "rb").read(), policy=email.policy.default)
    s = str(m["Subject"])
    seen[s] = seen.get(s, 0) + 1
for i in range(3):
    a, p = "down-a%d" % i, "down-p%d" % i
    print("ok" if seen.get(a) == 1 and stored.get(a) == 1 else "bad", a,
          "delivered", seen.get(a), "stored", stored.get(a))
    print("ok" if seen.get(p) == 1 and p not in stored else "bad", p,
          "delivered", seen.get(p), "stored", stored.get(p))
dups = [s for s, c in seen.items() if c != 1]
print("ok" if not dups else "bad", "each delivered once:", dups)
PY
check "retried messages stored and delivered once; plain ones delivered once, not stored" \
    sh -c "! grep -q '^bad' '$T/judge'"


finish
