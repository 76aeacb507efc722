#!/bin/sh
# quarantine-pg.sh BUILD FIXTURES - the PostgreSQL quarantine end to end.
#
# A private PostgreSQL cluster (tests/e2e/lib-pg.sh: initdb in a temporary
# directory, a unix socket only, run as an unprivileged user, password
# from a file) is started; "mugai quarantine migrate" makes the schema,
# "mugai sanitize" stores originals in it, and the subcommands act on
# them: list, show, export (byte for byte, an original of several
# chunks too), release, delete, a release/delete race between two
# processes (exactly one winner), a database of schema version 1
# upgraded by migrate, release requests (request, requests, approve
# with the release reaching sendmail, refuse, a request on a deleted
# message, a two-process approve race with exactly one winner), stats
# and audit, verify (a damaged chunk, a lost original), batched purge, copy from an SQLite store (verified by
# hash, run twice; its release requests with their numbers where free,
# renumbered where taken), and PostgreSQL stopped: a store is a temporary
# failure (exit 75) and works again after a restart.  Skipped when the
# PostgreSQL server binaries are not installed.
set -u
build=${1:?usage: quarantine-pg.sh BUILD FIXTURES}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
MUGAI=$build/mugai
CK_SUITE=quarantine-pg
CK_PREFIX=
. "$(dirname "$0")/lib-check.sh"
. "$(dirname "$0")/lib-pg.sh"
if ! pg_have; then
	echo "SKIP quarantine-pg: no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/quarantine-pg.XXXXXX") || exit 1
chmod 755 "$T"
trap 'pg_stop "$T/pg"; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
PG=$T/pg
if ! pg_start "$PG"; then
	fail "PostgreSQL starts" "$(tail -c 400 "$PG/log" "$PG/initdb.log" "$PG/pg_ctl.log" 2>/dev/null)"
	finish
fi
pass "a private PostgreSQL starts"

mkdir -p "$T/bin"
cat > "$T/bin/sendmail" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
cat > "$d/stdin.$$"
# Every call kept too: an approval sends the original and a notice.
cp "$d/stdin.$$" "$d/mail.$$"
mv "$d/stdin.$$" "$d/stdin"
# A slow MTA keeps a release in "releasing" while a delete races it.
[ -f "$d/delay" ] && sleep 1
exit 0
EOF
chmod 755 "$T/bin/sendmail"

# mq ARGS... - mugai on the PostgreSQL store; ms ARGS... - on SQLite.
mq() {
	"$MUGAI" -o quarantine_dir="$T/unused" -o audit_log="$T/audit.jsonl" \
	    -o quarantine_db="$(pg_conninfo "$PG")" \
	    -o quarantine_db_password_file="$PG/password" \
	    -o sendmail_path="$T/bin/sendmail" -o clamav_enable=no \
	    -o quarantine_busy_timeout=5 "$@"
}
ms() {
	"$MUGAI" -o quarantine_dir="$T/sq" -o audit_log="$T/audit-sq.jsonl" \
	    -o sendmail_path="$T/bin/sendmail" -o clamav_enable=no "$@"
}
run() {
	rname=$1
	shift
	mq "$@" </dev/null >"$T/$rname.out" 2>"$T/$rname.err"
	echo $? >"$T/$rname.rc"
}
rc() { cat "$T/$1.rc"; }
sql() { pg_psql "$PG" -tA -c "$1"; }

# mkmsg FILE SUBJECT ATTACHMENT_BYTES - an attachment the policy removes.
mkmsg() {
	python3 - "$1" "$2" "$3" <<'EOF'
import os, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Sender <sender@example.org>"
m["To"] = "staff@city.lg.jp"
m["Subject"] = sys.argv[2]
m["Message-ID"] = "<%s@example.org>" % os.path.basename(sys.argv[1])
m.set_content("Please see the attachment.\n")
m.add_attachment(os.urandom(int(sys.argv[3])), maintype="application",
                 subtype="octet-stream", filename="data.bin")
open(sys.argv[1], "wb").write(bytes(m))
EOF
}

# idof SUBJECT [LIST_JSON] - the id of the message with that subject.
idof() {
	python3 -c '
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["subject"] == sys.argv[2]]
print(rows[0]["id"] if rows else "-")' "${2:-$T/list.out}" "$1"
}

# ---- schema ------------------------------------------------------------------

run nomig quarantine list
check "before migrate the store is refused, naming the command" sh -c "
	[ \$(cat '$T/nomig.rc') -eq 78 ] && grep -q 'mugai quarantine migrate' '$T/nomig.err'"
run mig1 quarantine migrate
check "migrate creates schema version 2" sh -c "
	[ \$(cat '$T/mig1.rc') -eq 0 ] && grep -q 'schema version 0 -> 2' '$T/mig1.out'"
run mig2 quarantine migrate
v=$(sql 'SELECT count(*) FROM mugai_schema')
check "migrate again changes nothing" sh -c "
	[ \$(cat '$T/mig2.rc') -eq 0 ] && grep -q 'schema version 2, up to date' '$T/mig2.out' &&
	[ '$v' = 2 ]"

# ---- store, list, show, export --------------------------------------------------

mkmsg "$T/m1.eml" first 3000
mkmsg "$T/m2.eml" second 5000
mkmsg "$T/m3.eml" big 2700000	# about 3.7 MB base64: 4 chunks
for m in m1 m2 m3; do
	mq sanitize "$T/$m.eml" "$T/$m.out" </dev/null >/dev/null 2>"$T/$m.san.err" ||
	    fail "sanitize $m" "exit $?: $(head -c 300 "$T/$m.san.err")"
done
run list quarantine list --json
ID1=$(idof first); ID2=$(idof second); ID3=$(idof big)
if [ "$ID1" != - ] && [ "$ID2" != - ] && [ "$ID3" != - ]; then
	pass "sanitize stored three originals in PostgreSQL"
else
	fail "sanitize stored three originals in PostgreSQL" "$(head -c 300 "$T/list.out") $(head -c 300 "$T/list.err")"
	finish
fi
check "list --json fields" python3 -c '
import hashlib, json, sys
r = [x for x in json.load(open(sys.argv[1])) if x["id"] == sys.argv[2]][0]
raw = open(sys.argv[3], "rb").read()
assert r["status"] == "held", r
assert r["sha256"] == hashlib.sha256(raw).hexdigest(), r
assert r["size"] == len(raw), r' "$T/list.out" "$ID3" "$T/m3.eml"
check "nothing was written to quarantine_dir" test ! -e "$T/unused"
v=$(sql "SELECT nchunks FROM originals WHERE id = '$ID3'")
check "the big original is stored in several chunks" test "${v:-0}" -ge 4
run show quarantine show "$ID1"
check "show" sh -c "
	[ \$(cat '$T/show.rc') -eq 0 ] && grep -q '^Parts:' '$T/show.out' &&
	grep -q 'data.bin' '$T/show.out' && grep -q '^Notice:' '$T/show.out'"
for i in 1 2 3; do
	eval "id=\$ID$i"
	run exp$i quarantine export "$id" -o "$T/exp$i.eml"
	check "export m$i gives the original byte for byte" sh -c "
		[ \$(cat '$T/exp$i.rc') -eq 0 ] && cmp '$T/m$i.eml' '$T/exp$i.eml'"
done
v=$(sql "SELECT count(*) FROM audit WHERE line LIKE '%\"action\":\"message\"%'")
check "each message is an audit row as well as an audit line" sh -c "
	[ '$v' -eq 3 ] &&
	[ \$(grep -c '\"action\":\"message\"' '$T/audit.jsonl') -eq 3 ]"

# ---- a database of the previous schema version (1) --------------------------------

# Version 2 only added the requests table, so taking it away (and its
# version row) leaves exactly what a version-1 migrate made, rows and all.
sql "DROP TABLE requests; DELETE FROM mugai_schema WHERE version = 2" >/dev/null
run v1list quarantine list
run v1req quarantine request "$ID1" --by staff@city.lg.jp --reason early
check "a version-1 database is refused until migrated, naming the command" sh -c "
	[ \$(cat '$T/v1list.rc') -eq 78 ] && [ \$(cat '$T/v1req.rc') -eq 78 ] &&
	grep -q 'schema version 1, this mugai needs 2' '$T/v1list.err' &&
	grep -q 'mugai quarantine migrate' '$T/v1req.err'"
run mig3 quarantine migrate
run v2list quarantine list --json
v=$(sql "SELECT string_agg(version::text, ',' ORDER BY version) FROM mugai_schema")
check "migrate upgrades version 1 to 2 and keeps every message" sh -c "
	[ \$(cat '$T/mig3.rc') -eq 0 ] && grep -q 'schema version 1 -> 2' '$T/mig3.out' &&
	[ '$v' = 1,2 ] && cmp '$T/list.out' '$T/v2list.out'"

# ---- release, delete -------------------------------------------------------------

run rel quarantine release "$ID1" --to admin@city.lg.jp --reason "asked by staff"
v=$(sql "SELECT status FROM messages WHERE id = '$ID1'")
check "release pipes the original into sendmail" sh -c "
	[ \$(cat '$T/rel.rc') -eq 0 ] && cmp '$T/m1.eml' '$T/bin/stdin' &&
	[ '$v' = released ]"
run del quarantine delete "$ID2" --reason "not needed"
run delexp quarantine export "$ID2"
v=$(sql "SELECT status || count(c.seq) FROM messages m LEFT JOIN original_chunks c USING (id) WHERE id = '$ID2' GROUP BY status")
check "delete removes the original, keeps the row" sh -c "
	[ \$(cat '$T/del.rc') -eq 0 ] && [ \$(cat '$T/delexp.rc') -eq 66 ] &&
	[ '$v' = deleted0 ]"
run del2 quarantine delete "$ID2"
run rel2 quarantine release "$ID2" --to admin@city.lg.jp --reason r
check "a deleted message can be neither deleted nor released again" sh -c "
	[ \$(cat '$T/del2.rc') -eq 3 ] && [ \$(cat '$T/rel2.rc') -eq 3 ]"
run hist quarantine show "$ID1"
v=$(sql "SELECT count(*) FROM audit WHERE line LIKE '%\"action\":\"release\"%' OR line LIKE '%\"action\":\"delete\"%'")
check "history and admin audit rows" sh -c "
	grep -q 'release' '$T/hist.out' && [ '$v' -eq 2 ]"

# ---- release requests -------------------------------------------------------------

# reqof RUN - the request number "mugai quarantine request" printed.
reqof() { sed -n 's/^request \([0-9]*\):.*/\1/p' "$T/$1.out"; }
mkmsg "$T/q1.eml" wanted 4000
mkmsg "$T/q2.eml" unwanted 4000
for m in q1 q2; do
	mq sanitize "$T/$m.eml" "$T/$m.out" </dev/null >/dev/null 2>&1
done
run qlist quarantine list --json
Q1=$(idof wanted "$T/qlist.out"); Q2=$(idof unwanted "$T/qlist.out")
run rq1 quarantine request "$Q1" --by staff@city.lg.jp --reason "needed for the contract"
run rqdup quarantine request "$Q1" --by staff@city.lg.jp --reason again
run rqdel quarantine request "$ID2" --by staff@city.lg.jp --reason "deleted one"
run rqnone quarantine request no-such-id --by staff@city.lg.jp --reason r
R1=$(reqof rq1)
check "request; a second by the same user, one for a deleted message (3) and an unknown id (66) refused" sh -c "
	[ \$(cat '$T/rq1.rc') -eq 0 ] && [ -n '$R1' ] &&
	[ \$(cat '$T/rqdup.rc') -eq 3 ] && grep -q 'has asked for' '$T/rqdup.err' &&
	[ \$(cat '$T/rqdel.rc') -eq 3 ] && grep -q 'was deleted' '$T/rqdel.err' &&
	[ \$(cat '$T/rqnone.rc') -eq 66 ]"
v=$(sql "SELECT count(*) FROM requests WHERE id IN ('$Q1', '$ID2')")
check "the refused requests left no row" test "$v" = 1
run rqs quarantine requests --json
check "requests lists the pending one with its reason" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1, rows
r = rows[0]
assert r["request"] == int(sys.argv[2]) and r["id"] == sys.argv[3], r
assert r["state"] == "pending" and r["reason"] == "needed for the contract", r
assert r["requester"] == "staff@city.lg.jp" and r["decider"] == "", r' "$T/rqs.out" "$R1" "$Q1"
rm -f "$T"/bin/mail.*
run appr quarantine approve "$R1" --by admin --reason "contract" --to admin@city.lg.jp
check "approve releases the original through sendmail and mails the requester" python3 - "$T" "$(rc appr)" <<'EOF2'
import email, email.policy, glob, sys
t = sys.argv[1]
assert sys.argv[2] == "0", open(t + "/appr.err").read()
raw = open(t + "/q1.eml", "rb").read()
mails = [open(p, "rb").read() for p in glob.glob(t + "/bin/mail.*")]
assert len(mails) == 2, len(mails)
assert sum(1 for m in mails if m == raw) == 1, "the original once"
n = [email.message_from_bytes(m, policy=email.policy.default) for m in mails if m != raw][0]
assert n["To"] == "staff@city.lg.jp", n["To"]
body = n.get_content()
assert "approved" in body and "承認" in body, body
EOF2
v=$(sql "SELECT r.state || ' ' || r.decider || ' ' || r.release_to || ' ' || m.status || ' ' ||
    (SELECT string_agg(action, ',' ORDER BY seq) FROM actions a WHERE a.id = m.id)
    FROM requests r JOIN messages m USING (id) WHERE reqid = $R1")
check "the request is approved, the message released, both in its history" test \
    "$v" = "approved admin admin@city.lg.jp released request,release,approve"
run appr2 quarantine approve "$R1" --by admin2 --reason again
check "approving it again exits 3, naming the earlier decision" sh -c "
	[ \$(cat '$T/appr2.rc') -eq 3 ] && grep -q 'approved already' '$T/appr2.err'"
run rq2 quarantine request "$Q2" --by clerk --notify clerk@city.lg.jp --reason "just in case"
R2=$(reqof rq2)
rm -f "$T"/bin/mail.*
run ref quarantine refuse "$R2" --by admin --reason "not needed"
run ref2 quarantine refuse "$R2" --by admin --reason twice
run refap quarantine approve "$R2" --by admin --reason late --to admin@city.lg.jp
v=$(sql "SELECT r.state || ' ' || r.decision || ' ' || m.status FROM requests r JOIN messages m USING (id) WHERE reqid = ${R2:-0}")
check "refuse: the request refused, the message still held, the requester told; once only" sh -c "
	[ \$(cat '$T/ref.rc') -eq 0 ] && [ '$v' = 'refused not needed held' ] &&
	[ \$(ls '$T'/bin/mail.* | wc -l) -eq 1 ] && grep -q '^To: clerk@city.lg.jp' '$T'/bin/mail.* &&
	[ \$(cat '$T/ref2.rc') -eq 3 ] && [ \$(cat '$T/refap.rc') -eq 3 ]"

# Two admins approve one request at once, from two processes: the slow
# sendmail keeps the winner's release going while the other tries.
bad=""
: > "$T/bin/delay"
for i in 1 2 3; do
	mkmsg "$T/a$i.eml" "approve$i" 2000
	mq sanitize "$T/a$i.eml" "$T/a$i.out" </dev/null >/dev/null 2>&1
	mq quarantine list --json >"$T/alist.out" 2>/dev/null
	id=$(idof "approve$i" "$T/alist.out")
	req=$(mq quarantine request "$id" --by staff@city.lg.jp --reason race </dev/null 2>/dev/null |
	    sed -n 's/^request \([0-9]*\):.*/\1/p')
	rm -f "$T"/bin/mail.*
	mq quarantine approve "${req:-0}" --by alice --reason race --to admin@city.lg.jp \
	    >/dev/null 2>"$T/ar-a$i.err" &
	p1=$!
	mq quarantine approve "${req:-0}" --by bob --reason race --to admin@city.lg.jp \
	    >/dev/null 2>"$T/ar-b$i.err" &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	st=$(sql "SELECT state || ' ' || decider FROM requests WHERE reqid = ${req:-0}")
	# Two mails: the original once, the requester's notice once.
	n=0
	for m in "$T"/bin/mail.*; do
		[ -f "$m" ] || continue
		cmp -s "$T/a$i.eml" "$m" && n=$((n + 10)) || n=$((n + 1))
	done
	case "$r1 $r2 $st $n" in
	"0 3 approved alice 11"|"3 0 approved bob 11") ;;
	*) bad="$bad [$i: alice $r1 bob $r2 request $st mails $n $(cat "$T/ar-a$i.err" "$T/ar-b$i.err" | head -c 200)]" ;;
	esac
done
rm -f "$T/bin/delay"
if [ -z "$bad" ]; then
	pass "approve race across two processes: exactly one winner, one release, 3 times"
else
	fail "approve race across two processes: exactly one winner" "$bad"
fi

# The same user asking twice at once, from two processes: one request.
mkmsg "$T/b1.eml" twice 2000
mq sanitize "$T/b1.eml" "$T/b1.out" </dev/null >/dev/null 2>&1
mq quarantine list --json >"$T/blist.out" 2>/dev/null
B1=$(idof twice "$T/blist.out")
bad=""
for i in 1 2 3; do
	mq quarantine request "$B1" --by "u$i@city.lg.jp" --reason twice >/dev/null 2>&1 &
	p1=$!
	mq quarantine request "$B1" --by "u$i@city.lg.jp" --reason twice >/dev/null 2>&1 &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	v=$(sql "SELECT count(*) FROM requests WHERE id = '$B1' AND requester = 'u$i@city.lg.jp'")
	case "$r1 $r2 $v" in "0 3 1"|"3 0 1") ;; *) bad="$bad [$i: $r1 $r2 rows $v]" ;; esac
done
check "two requests by one user at once: one recorded, the other exits 3" test -z "$bad"

# An approval that died mid-release: taken over only after an hour.
R3=$(sql "SELECT reqid FROM requests WHERE id = '$B1' AND requester = 'u1@city.lg.jp'")
sql "UPDATE requests SET state = 'approving', decided = extract(epoch FROM now())::bigint - 60 WHERE reqid = $R3" >/dev/null
run stale1 quarantine approve "$R3" --by carol --reason takeover --to admin@city.lg.jp
sql "UPDATE requests SET decided = decided - 7200 WHERE reqid = $R3" >/dev/null
run stale2 quarantine approve "$R3" --by carol --reason takeover --to admin@city.lg.jp
v=$(sql "SELECT state || ' ' || decider FROM requests WHERE reqid = $R3")
check "an approving request is taken over only when it is an hour old" sh -c "
	[ \$(cat '$T/stale1.rc') -eq 3 ] && grep -q 'being approved by another admin' '$T/stale1.err' &&
	[ \$(cat '$T/stale2.rc') -eq 0 ] && [ '$v' = 'approved carol' ]"

# ---- stats and audit on the PostgreSQL store --------------------------------------

mq stats --csv >"$T/stats.csv" 2>"$T/stats.err"
echo $? >"$T/stats.rc"
check "stats counts the messages and removed types of the PostgreSQL store" python3 - "$T" <<'EOF2'
import csv, io, json, sys
t = sys.argv[1]
assert open(t + "/stats.rc").read().strip() == "0", open(t + "/stats.err").read()
sections = open(t + "/stats.csv", newline="").read().split("\r\n\r\n")
total = [r for r in csv.DictReader(io.StringIO(sections[0])) if r["period"] == "total"][0]
msgs = [json.loads(l) for l in open(t + "/audit.jsonl") if '"action":"message"' in l]
assert int(total["messages"]) == len(msgs) and len(msgs) >= 8, (total, len(msgs))
assert int(total["held"]) == sum(1 for m in msgs if m["quarantined"]), total
removed = list(csv.reader(io.StringIO(sections[1])))
assert removed[0] == ["removed_type", "count"], removed
# Every message here had its one attachment removed; the report (read
# through the backend) names its type.
assert sum(int(r[1]) for r in removed[1:]) == len(msgs), removed
EOF2
mq audit --json --action approve >"$T/aud.json" 2>"$T/aud.err"
mq audit --id "$Q1" >"$T/audid.txt" 2>&1
check "audit lists the approvals with their admins and one message's history" python3 - "$T" "$Q1" "$R1" <<'EOF2'
import json, sys
t, q1, r1 = sys.argv[1:]
rows = json.load(open(t + "/aud.json"))
assert len(rows) == 5, rows
assert [r["actor"] for r in rows if r["id"] == q1] == ["admin"], rows
assert sorted(r["actor"] for r in rows if r["id"] != q1)[-1] == "carol", rows
assert all(r["actor"] in ("alice", "bob", "carol") for r in rows if r["id"] != q1), rows
acts = [l.split()[2] for l in open(t + "/audid.txt").read().splitlines()[1:]]
assert acts == ["message", "request", "release", "approve"], acts
EOF2

# ---- a release and a delete racing in two processes ------------------------------

for i in 1 2 3; do
	mkmsg "$T/r$i.eml" "race$i" 2000
	mq sanitize "$T/r$i.eml" "$T/r$i.out" </dev/null >/dev/null 2>&1
done
run rlist quarantine list --json
bad=""
: > "$T/bin/delay"
for i in 1 2 3; do
	id=$(idof "race$i" "$T/rlist.out")
	mq quarantine release "$id" --to admin@city.lg.jp --reason race \
	    >/dev/null 2>"$T/race-r$i.err" &
	p1=$!
	mq quarantine delete "$id" --reason race >/dev/null 2>"$T/race-d$i.err" &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	st=$(sql "SELECT status FROM messages WHERE id = '$id'")
	case "$r1 $r2 $st" in
	"0 3 released"|"3 0 deleted") ;;
	*) bad="$bad [$i: release $r1 delete $r2 status $st $(cat "$T/race-r$i.err" "$T/race-d$i.err" | head -c 200)]" ;;
	esac
done
rm -f "$T/bin/delay"
if [ -z "$bad" ]; then
	pass "release/delete race across two processes: exactly one winner, 3 times"
else
	fail "release/delete race across two processes: exactly one winner" "$bad"
fi

# ---- verify ------------------------------------------------------------------------

run ver1 quarantine verify
check "verify finds nothing wrong" sh -c "
	[ \$(cat '$T/ver1.rc') -eq 0 ] && grep -q 'no problems found' '$T/ver1.out'"
sql "UPDATE original_chunks SET data = overlay(data placing '\\x00'::bytea from 10) WHERE id = '$ID3' AND seq = 2" >/dev/null
mkmsg "$T/m4.eml" lost 1000
mq sanitize "$T/m4.eml" "$T/m4.out" </dev/null >/dev/null 2>&1
run list4 quarantine list --json
ID4=$(idof lost "$T/list4.out")
sql "DELETE FROM originals WHERE id = '$ID4'" >/dev/null
# A chunk lost: its original is short of one row.
mkmsg "$T/m5.eml" short 900000
mq sanitize "$T/m5.eml" "$T/m5.out" </dev/null >/dev/null 2>&1
run list5 quarantine list --json
ID5=$(idof short "$T/list5.out")
sql "DELETE FROM original_chunks WHERE id = '$ID5' AND seq = 1" >/dev/null
run ver2 quarantine verify
run exp3b quarantine export "$ID3"
check "verify reports a damaged chunk, a lost chunk and a lost original; export refuses the damaged one" sh -c "
	[ \$(cat '$T/ver2.rc') -eq 1 ] &&
	grep -q '^checksum .*$ID3' '$T/ver2.out' && grep -q '^missing .*$ID4' '$T/ver2.out' &&
	grep -q '^index .*$ID5.*chunks' '$T/ver2.out' && grep -q '^checksum .*$ID5.*lacks chunk 1' '$T/ver2.out' &&
	[ \$(cat '$T/exp3b.rc') -ne 0 ] && grep -q 'SHA-256' '$T/exp3b.err'"

# ---- purge in batches ----------------------------------------------------------------

# 600 old rows (more than one batch of 500) and their originals, made in SQL.
sql "INSERT INTO originals SELECT 'old' || g, 5, 1, 0 FROM generate_series(1, 600) g;
     INSERT INTO original_chunks SELECT 'old' || g, 0, 'hello'::bytea FROM generate_series(1, 600) g;
     INSERT INTO messages (id, received, size, sha256, status, changed)
       SELECT 'old' || g, 1000000000, 5, encode(sha256('hello'::bytea), 'hex'), 'held', 1000000000
       FROM generate_series(1, 600) g" >/dev/null
run purge quarantine purge --older-than 30
v=$(sql "SELECT (SELECT count(*) FROM originals WHERE id LIKE 'old%') || ' ' || (SELECT count(*) FROM messages WHERE id LIKE 'old%' AND status = 'deleted') || ' ' || (SELECT status FROM messages WHERE id = '$ID3')")
check "purge deletes every old original in batches, nothing newer" sh -c "
	[ \$(cat '$T/purge.rc') -eq 0 ] && grep -q 'purged 600 originals' '$T/purge.out' &&
	[ '$v' = '0 600 held' ]"

# ---- copy from SQLite ------------------------------------------------------------------

for i in 1 2 3; do
	mkmsg "$T/s$i.eml" "sqlite$i" $((i * 150000))
	ms sanitize "$T/s$i.eml" "$T/s$i.out" </dev/null >/dev/null 2>&1
done
ms quarantine list --json >"$T/slist.out" 2>/dev/null
S1=$(idof sqlite1 "$T/slist.out"); S2=$(idof sqlite2 "$T/slist.out"); S3=$(idof sqlite3 "$T/slist.out")
ms quarantine release "$S1" --to admin@city.lg.jp --reason before-copy >/dev/null 2>&1
ms quarantine delete "$S2" --reason before-copy >/dev/null 2>&1
# Release requests in SQLite, numbered 1..pgmax+1: those PostgreSQL
# has used already (its numbers may have gaps) get new numbers, the
# last is free there; the first is refused, the last stays pending.
pgmax=$(sql "SELECT COALESCE(max(reqid), 0) FROM requests")
taken=$(sql "SELECT count(*) FROM requests")
i=1
while [ "$i" -le $((pgmax + 1)) ]; do
	ms quarantine request "$S3" --by "cp$i@city.lg.jp" --reason "why $i" \
	    >/dev/null 2>&1
	i=$((i + 1))
done
ms quarantine refuse 1 --by boss --reason "not this one" >/dev/null 2>&1
run copy1 quarantine copy --from "$T/sq/index.sqlite"
run copy2 quarantine copy --from "$T/sq/index.sqlite"
run c1 quarantine export "$S1" -o "$T/c1.eml"
run c3 quarantine export "$S3" -o "$T/c3.eml"
run cshow quarantine show "$S1"
v=$(sql "SELECT string_agg(status, ' ' ORDER BY id = '$S2') FROM messages WHERE id IN ('$S1', '$S2')")
check "copy moves an SQLite store in, statuses and history kept, verified" sh -c "
	[ \$(cat '$T/copy1.rc') -eq 0 ] && grep -q 'copy: 3 messages copied and verified, 0 already there' '$T/copy1.out' &&
	cmp '$T/s1.eml' '$T/c1.eml' && cmp '$T/s3.eml' '$T/c3.eml' &&
	[ '$v' = 'released deleted' ] && grep -q 'before-copy' '$T/cshow.out'"
check "copy run again skips what is there" sh -c "
	[ \$(cat '$T/copy2.rc') -eq 0 ] && grep -q 'copy: 0 messages copied and verified, 3 already there' '$T/copy2.out'"
nreq=$((pgmax + 1))
new1=$(sql "SELECT reqid FROM requests WHERE requester = 'cp1@city.lg.jp'")
v=$(sql "SELECT state || ' ' || decider || ' ' || decision FROM requests WHERE reqid = ${new1:-0}")
said=$(grep -c '^copy: request [0-9]* (cp[0-9]*@city.lg.jp for [^)]*) is request [0-9]* in the destination, where' "$T/copy1.out")
renum=$(python3 -c '
import re, sys
n = 0
for l in open(sys.argv[1]):
    m = re.match(r"copy: request (\d+) \(cp(\d+)@", l)
    n += bool(m and m.group(1) == m.group(2))
print(n)' "$T/copy1.out")
w=$(sql "SELECT id || ' ' || requester || ' ' || state || ' ' || reason FROM requests WHERE reqid = $nreq")
n3=$(sql "SELECT count(*) FROM requests WHERE id = '$S3'")
check "copy carries every release request over, and a second run none" sh -c "
	[ \$(cat '$T/copy1.rc') -eq 0 ] &&
	grep -q 'copy: $nreq release requests copied, 0 already there' '$T/copy1.out' &&
	grep -q 'copy: 0 release requests copied, $nreq already there' '$T/copy2.out' &&
	[ $n3 -eq $nreq ] || { cat '$T/copy1.out' '$T/copy1.err'; echo $n3 of $nreq; false; }"
check "a request number free in PostgreSQL is kept, with its fields" \
    test "$w" = "$S3 cp$nreq@city.lg.jp pending why $nreq"
check "the taken numbers get new ones, each said, the decision kept" sh -c "
	[ $said -eq $taken ] && [ $renum -eq $taken ] &&
	[ '$v' = 'refused boss not this one' ] ||
	{ echo '$said and $renum lines for $taken taken; $v'; false; }"
# The times as they were: requested of the kept one, decided of the
# refused one, in SQLite and in PostgreSQL.
st=$(python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
a = c.execute("SELECT requested FROM requests WHERE reqid = ?", (int(sys.argv[2]),)).fetchone()[0]
b = c.execute("SELECT decided FROM requests WHERE reqid = 1").fetchone()[0]
print(a, b)' "$T/sq/index.sqlite" "$nreq")
pt=$(sql "SELECT (SELECT requested FROM requests WHERE reqid = $nreq) || ' ' || (SELECT decided FROM requests WHERE reqid = ${new1:-0})")
check "copied requests keep their times" sh -c "[ -n '$st' ] && [ '$st' = '$pt' ]"
run capp quarantine approve "$nreq" --by admin --reason "copied, then approved" \
    --to admin@city.lg.jp
run cnew quarantine request "$S3" --by late@city.lg.jp --reason "after the copy"
cnum=$(reqof cnew)
cmax=$(sql "SELECT max(reqid) FROM requests WHERE requester <> 'late@city.lg.jp'")
v=$(sql "SELECT state FROM requests WHERE reqid = $nreq")
check "a copied pending request is approved in PostgreSQL; a new one is numbered above the copied" sh -c "
	[ \$(cat '$T/capp.rc') -eq 0 ] && [ '$v' = approved ] &&
	[ \$(cat '$T/cnew.rc') -eq 0 ] && [ '${cnum:-0}' -gt '${cmax:-0}' ]"

# ---- PostgreSQL stopped ------------------------------------------------------------------

pg_halt "$PG"
mkmsg "$T/d1.eml" down 1000
mq sanitize "$T/d1.eml" "$T/d1.out" </dev/null >/dev/null 2>"$T/d1.err"
d1=$?
run downlist quarantine list
check "PostgreSQL down: a store is a temporary failure, so is the CLI" sh -c "
	[ $d1 -eq 75 ] && [ \$(cat '$T/downlist.rc') -eq 75 ] &&
	grep -q 'is unavailable' '$T/downlist.err'"
pg_start "$PG" || fail "PostgreSQL restarts" "$(tail -c 300 "$PG/log")"
mq sanitize "$T/d1.eml" "$T/d1.out" </dev/null >/dev/null 2>"$T/d1.err"
d2=$?
run uplist quarantine list --json
check "after the restart the message is stored" sh -c "
	[ $d2 -eq 0 ] && [ \"\$(python3 -c '
import json, sys
print(sum(1 for r in json.load(open(sys.argv[1])) if r[\"subject\"] == \"down\"))' '$T/uplist.out')\" = 1 ]"
finish
