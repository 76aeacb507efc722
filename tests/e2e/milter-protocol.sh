#!/bin/sh
# milter-protocol.sh BUILD FIXTURES - mugai-milter's side of the milter
# protocol, driven by OpenDKIM's miltertest (Lua scripts in
# tests/miltertest/; lib.lua there explains the conventions).
#
# Each milter runs in the foreground in its own directory under a
# scratch $T (socket, pid file, spool, quarantine, audit log, -e log),
# with milter_body_chunk=1000 (miltertest keeps every reply in a
# 1024-byte buffer) and a small ASCII notice template, so that new
# bodies are text a script can read.  Where a new body is checked it is
# compared byte for byte with what "mugai sanitize" makes of the same
# message (one library behind both; lib.lua's like_cli), so the checks
# hold whatever the conversion details; what a reader sees is checked
# on that text.  tests/miltertest/rawmta.py speaks the protocol itself
# for the two things miltertest cannot: header values without a space
# after the colon (with SMFIP_HDR_LEADSPC) and reply texts before end
# of message.
#
#   html        HTML: CONTINUE, MIME headers deleted and re-added as
#               text/plain (with a Content-Transfer-Encoding when the
#               text needs one), X-Mugai-Status/-Id added, nothing else
#               touched, new body = the CLI's: visible text in, script
#               and tags out; a long one in chunks of <= 1000 bytes
#               (counted from miltertest -vv too); summary line, audit
#               record and the original in the quarantine
#   attach      an .exe removed (removed=1); the original, byte for
#               byte, in "mugai quarantine list/export" under X-Mugai-Id
#   negotiate   asks for ADDHDRS, CHGHDRS, CHGBODY and HDR_LEADSPC; with
#               it, "Subject: x", two spaces, folds (miltertest) and
#               "X-Odd:no-space", tabs, empty values (rawmta.py) come
#               back byte for byte from the quarantine, and added values
#               carry one space; without it, they carry none; an MTA
#               that does not allow body changes is refused, and the log
#               says why
#   eicar       550 5.7.1 naming the signature and id, no edits; logged
#               and audited
#   twomsg      two messages on one connection, each as the CLI makes
#               it alone, own X-Mugai-Id, own queue id in log and
#               quarantine
#   abort       aborts after headers and mid-body, then whole messages
#               on the same connection; in memory, and with
#               spool_memory_max=0 (the spool file is seen in the
#               milter's open files, and gone after the abort); logged;
#               spool directories empty
#   tempfail    a quarantine that cannot store (every fan-out directory
#               name taken by a file): 451 4.3.0, no edits, nothing
#               stored; the next plain message still goes through
#   nr          what is negotiated: from miltertest's and rawmta.py's
#               offer (all of protocol 6, as Postfix offers) no reply to
#               connect, HELO, MAIL, RCPT, headers and body chunks, no
#               DATA and no unknown commands (0x18f380); from an MTA
#               before protocol 6 (0x3ff) only no reply to headers, no
#               DATA, no unknown (0x380).  Each decision made at a step
#               without a reply (oversize, bypass, sigterm below) is
#               checked both ways: with the flags at end of headers or
#               end of message, without them where it was made
#   oversize    max_message_size=1024: 552 5.3.4 at end of message
#               (NR_BODY), from an older MTA at the very body chunk that
#               crosses it; logged
#   bypass      bypass_client_networks: ACCEPT at end of headers
#               (NR_MAIL), from an older MTA at MAIL FROM;
#               bypass_recipients: ACCEPT at end of headers; others
#               sanitised; "bypassed" logged
#   reload      SIGHUP with -c FILE: a new max_message_size applies to
#               the next connection; a broken file is logged with file
#               and line, and the old configuration stays
#   sigterm     SIGTERM with a message in flight: a new MAIL FROM on an
#               open connection is deferred (451 4.3.2 at end of headers
#               with NR_MAIL, at MAIL FROM from an older MTA; one log
#               line each), the message in flight
#               completes; exit 0, pid file removed, "stopped" logged
#   daemon      without -f: parent exits 0, the pid file names the
#               daemon (a session leader), which serves mail and stops
#               on SIGTERM; a socket in a missing directory: non-zero
#               exit and one line naming it
#   stop        every milter exits 0 on SIGTERM, and its log has no
#               sanitizer report or unexpected error (this script also
#               runs under ASan: make asan)
#
# Nothing waits for a fixed time: sockets are waited for with
# miltertest's connect retries, log lines and files by polling with a
# generous limit (TIMEOUT seconds), and the SIGTERM test synchronises
# with its Lua script through files.  MUGAI_KEEP_TMP=1 keeps $T.
# Prints "PASS milter-protocol/NAME" / "FAIL milter-protocol/NAME: why",
# then a count; exits 1 when anything failed.  Needs miltertest and
# python3 (both installed by scripts/setup).
set -u
# These tests judge the text-only policy (every attachment removed);
# sanitised copies of attachments are tests/e2e/cdr.sh's.
TEXT_ONLY="attachment_policy=text/plain text, text/csv csv, * remove"
if [ $# -ne 2 ]; then
	echo "usage: milter-protocol.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mtdir=$root/tests/miltertest
MILTER=$build/mugai-milter
MUGAI=$build/mugai
testdb=${MUGAI_TESTDB:-$build/testdb}
TIMEOUT=120

CK_SUITE=milter-protocol
. "$here/lib-check.sh"

for f in "$MILTER" "$MUGAI"; do
	if [ ! -x "$f" ]; then
		fail setup "$f is missing (make BUILD=$build)"
		finish
	fi
done
if ! command -v miltertest >/dev/null 2>&1; then
	fail setup "miltertest is not installed (sh scripts/setup installs it)"
	finish
fi
if [ ! -d "$testdb" ]; then
	fail setup "no ClamAV test database at $testdb (make testdb)"
	finish
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/milter-protocol.XXXXXX") || exit 1
pids=			# every milter (and miltertest) still to be reaped
cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	if [ -n "${MUGAI_KEEP_TMP:-}" ]; then
		echo "milter-protocol: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE	# and clean up (EXIT)

forget() {	# forget PID - reaped: no longer ours to kill
	np=
	for p in $pids; do
		[ "$p" = "$1" ] || np="$np $p"
	done
	pids=$np
}

# poll SECONDS COMMAND... - run COMMAND every 0.1 s until it succeeds;
# fails after SECONDS.
poll() {
	tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# gone PID - the process has ended (a zombie counts: kill -0 does not).
gone() {
	[ ! -e "/proc/$1/stat" ] ||
	    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}

# reap PID - wait up to TIMEOUT for our child PID to end by itself;
# $status is its exit status, or "timeout" (then it was killed).
reap() {
	if poll "$TIMEOUT" gone "$1"; then
		wait "$1"
		status=$?
	else
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		status=timeout
	fi
	forget "$1"
}

# count FILE TEXT - how many lines of FILE contain TEXT.
count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }
more_than() { [ "$(count "$1" "$2")" -gt "$3" ]; }

# start NAME [ARG...] - a milter in the foreground in $T/NAME, its log
# in $T/NAME/milter.log, its pid in $T/NAME/mpid; ARGs come last.
start() {
	sd=$T/$1
	shift
	mkdir -p "$sd"
	"$MILTER" -f -e -o milter_socket="unix:$sd/sock" \
	    -o pid_file="$sd/pid" -o spool_dir="$sd/spool" \
	    -o quarantine_dir="$sd/q" -o audit_log="$sd/audit.jsonl" \
	    -o clamav_database_dir="$testdb" -o milter_body_chunk=1000 \
	    -o "$TEXT_ONLY" -o notice_template_dir="$T/tpl" "$@" \
	    </dev/null >"$sd/stdout" 2>"$sd/milter.log" &
	echo $! > "$sd/mpid"
	pids="$pids $!"
}

# mtargs INSTANCE - the -D options every script gets.
mtargs() {
	set -- "$T/$1" "$(cat "$T/$1/mpid" 2>/dev/null || echo 0)"
	echo "-D lib=$mtdir/lib.lua -D T=$T -D sock=$1/sock" \
	    "-D log=$1/milter.log -D pid=$2 -D spool=$1/spool"
}

# mt_run NAME INSTANCE SCRIPT [ARG...] - run tests/miltertest/SCRIPT.lua
# against the milter INSTANCE (ARGs: more miltertest options); PASS or
# FAIL NAME by its exit status.  Output in $T/NAME.out.
mt_run() {
	lname=$1
	linst=$2
	lscript=$3
	shift 3
	# $T and $mtdir have no blanks (mktemp, and this tree).
	# shellcheck disable=SC2046
	miltertest $(mtargs "$linst") "$@" -s "$mtdir/$lscript.lua" \
	    >"$T/$lname.out" 2>&1
	lrc=$?
	if [ $lrc -eq 0 ]; then
		pass "$lname"
		return 0
	fi
	fail "$lname" "miltertest exited $lrc: $(why "$T/$lname.out")"
	return 1
}

# why FILE - what a miltertest run said when it failed: lib.lua's
# "FAILED:" line, or else its last lines.
why() {
	if grep -q '^FAILED: ' "$1"; then
		grep '^FAILED: ' "$1" | cut -c9-500
	else
		grep -v '^miltertest: mt_milter_\|sent on fd' "$1" |
		    tail -n 4 | tr '\n' ' ' | cut -c1-500
	fi
}

# crlf FILE - FILE with CRLF line ends, as SMTP carries it.
crlf() { sed 's/\r$//; s/$/\r/' "$1"; }

# original NAME INSTANCE ID FILE QID SENDER RCPT... - the quarantine of
# INSTANCE lists ID with this queue id and envelope, and "mugai
# quarantine export ID" gives FILE byte for byte (CRLF line ends).
original() {
	oname=$1 oinst=$2 oid=$3 ofile=$4
	shift 4
	crlf "$ofile" > "$T/want.eml"
	check "$oname" python3 - "$MUGAI" "$T/$oinst/q" "$T/cli-audit.jsonl" \
	    "$oid" "$T/want.eml" "$@" <<'EOF'
import json, subprocess, sys
mugai, qdir, audit, mid, want_path, qid, sender = sys.argv[1:8]
rcpts = sys.argv[8:]
def mq(*args):
    p = subprocess.run([mugai, "-o", "quarantine_dir=" + qdir, "-o",
                        "audit_log=" + audit, "-o", "clamav_enable=no",
                        "quarantine"] + list(args), capture_output=True)
    if p.returncode != 0:
        sys.exit("mugai quarantine %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout
rows = [r for r in json.loads(mq("list", "--json")) if r["id"] == mid]
assert len(rows) == 1, "%d rows with id %s in the list" % (len(rows), mid)
r = rows[0]
assert r["queue_id"] == qid, r
assert r["sender"] == sender and r["recipients"] == rcpts, r
assert r["client_addr"] == "198.51.100.1", r
got = mq("export", mid)
want = open(want_path, "rb").read()
if got != want:
    i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
             min(len(got), len(want)))
    sys.exit("export differs from what was sent at byte %d (%d vs %d "
             "bytes): got %r, sent %r" % (i, len(got), len(want),
                                          got[i:i + 60], want[i:i + 60]))
EOF
}

# ---- messages -------------------------------------------------------------

mkdir -p "$T/tpl" "$T/cli"
# An ASCII notice: the new bodies stay 7-bit text the scripts can read.
printf '[mugai notice]\n{items}ID: {id}\n' > "$T/tpl/notice.txt"
printf '* {action}: {name} ({detected})\n' > "$T/tpl/notice-item.txt"
cat > "$T/tpl/notice-phrases.txt" <<'EOF'
action.removed = removed
action.converted = converted
action.kept = kept
label.noname = (no name)
EOF

cat > "$T/html.eml" <<'EOF'
From: Alice Example <alice@example.org>
To: staff@city.lg.jp
Subject: HTML only
Date: Mon, 02 Nov 2026 10:00:00 +0900
Message-ID: <html-1@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><head><title>Agenda</title>
<script type="text/javascript">document.write("SCRIPT-MUST-GO");</script>
</head><body>
<p>Visible text: the budget meeting moved to Friday.</p>
<p><a href="https://example.jp/agenda">the agenda</a></p>
</body></html>
EOF

# Long, and Japanese: the new body is encoded and takes several chunks.
{
	sed -n '1,/^$/p' "$T/html.eml" | sed 's/^Subject: .*/Subject: long HTML/
	    s/html-1@/html-2@/; s/^\(Content-Transfer-Encoding:\) 7bit/\1 8bit/'
	echo '<html><head><script>var s = "SCRIPT-MUST-GO";</script></head>'
	echo '<body>'
	i=1
	while [ $i -le 60 ]; do
		printf '<p>第%02d段落：地区%02dの数値は共有ドライブにあります。</p>\n' \
		    $i $i
		i=$((i + 1))
	done
	echo '</body></html>'
} > "$T/big.eml"

# An executable (a PE header) as an attachment.
python3 -c '
import sys
dos = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8"
dos += b"\x00" * 7 + b"\x40" + b"\x00" * 35 + b"\x80\x00\x00\x00"
dos += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
dos += b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 7
sys.stdout.buffer.write(dos + b"PE\x00\x00L\x01\x03\x00" + bytes(range(256)))
' > "$T/setup.exe"
exe_b64=$(base64 < "$T/setup.exe")
cat > "$T/attach.eml" <<EOF
From: Bob <bob@example.org>
To: staff@city.lg.jp, chief@city.lg.jp
Subject: installer
Date: Mon, 02 Nov 2026 10:00:00 +0900
Message-ID: <attach-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

Please run the attached installer.
--b1
Content-Type: application/octet-stream; name="setup.exe"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

$exe_b64
--b1--
EOF

# White space after the colon as it comes: kept only with HDR_LEADSPC.
# odd-mt.eml has what miltertest can send (it puts a space before
# every value), odd-raw.eml the rest, for rawmta.py.
tab=$(printf '\t')
oddmsg() {	# oddmsg FILE FIELD... - the fields, then the rest
	of=$1
	shift
	{
		echo "From: Bob <bob@example.org>"
		echo "To: staff@city.lg.jp"
		printf '%s\n' "$@"
		cat <<EOF
Date: Mon, 02 Nov 2026 10:00:00 +0900
Message-ID: <odd-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

See the attachment.
--b1
Content-Type: application/octet-stream; name="setup.exe"
Content-Transfer-Encoding: base64

$exe_b64
--b1--
EOF
	} > "$of"
}
oddmsg "$T/odd-mt.eml" "Subject: x" "X-Two:  two spaces" \
    "X-Fold: first line" "${tab}second line" "  third line" \
    "X-Tab: ${tab}after a space"
oddmsg "$T/odd-raw.eml" "Subject: x" "X-Odd:no-space" "X-Tab:${tab}tab" \
    "X-Empty:" "X-Two:  two spaces" "X-Fold:${tab}first" "${tab}second" \
    "X-Last:no-space-either"

# EICAR, put together here: it is never stored in the tree.
eicar_b64=$(printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR' \
    '-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | base64)
cat > "$T/eicar.eml" <<EOF
From: Mallory <mallory@example.net>
To: staff@city.lg.jp
Subject: invoice
Date: Mon, 02 Nov 2026 10:00:00 +0900
Message-ID: <eicar-1@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

Invoice attached.
--b1
Content-Type: application/octet-stream; name="invoice.com"
Content-Disposition: attachment; filename="invoice.com"
Content-Transfer-Encoding: base64

$eicar_b64
--b1--
EOF

# What "mugai sanitize" makes of them, with the milters' templates.
for m in html big attach; do
	if ! "$MUGAI" -o quarantine_dir="$T/cli/q" \
	    -o audit_log="$T/cli/audit.jsonl" \
	    -o clamav_database_dir="$testdb" -o "$TEXT_ONLY" \
	    -o notice_template_dir="$T/tpl" \
	    sanitize "$T/$m.eml" "$T/$m.cli" >"$T/cli/$m.err" 2>&1; then
		fail setup "mugai sanitize $m.eml: $(head -c 300 \
		    "$T/cli/$m.err")"
		finish
	fi
done

# ---- the main milter: defaults ------------------------------------------

start main

mt_run html main html -vv -D SMALL="$T/html.eml" \
    -D SMALL_CLI="$T/html.cli" -D BIG="$T/big.eml" -D BIG_CLI="$T/big.cli"
# miltertest -vv logs every reply it reads: "cmd b, len N" for each
# replace-body request.  Between BEGIN and END they must be as many as
# the script found, add up to the body and be <= 1000 bytes each; the
# long message must need more than one.
check "html: replace-body chunks (miltertest -vv)" awk '
	/^BEGIN / { q = $2; n[q] = 0; s[q] = 0; on = 1; next }
	/^END / {
		on = 0; split($3, c, "="); split($4, b, "=")
		if (n[q] != c[2] || s[q] != b[2]) {
			print q ": " n[q] " chunks of " s[q] " bytes, the " \
			    "script found " c[2] " of " b[2]; bad = 1
		}
		if (q == "HTML2" && n[q] < 2) {
			print "HTML2: one chunk for a long body"; bad = 1
		}
		seen[q] = 1; next
	}
	on && /cmd b, len / {
		len = $NF + 0; n[q]++; s[q] += len
		if (len > 1000) { print q ": a chunk of " len; bad = 1 }
	}
	END {
		if (!seen["HTML1"] || !seen["HTML2"]) {
			print "no BEGIN/END markers"; bad = 1
		}
		exit bad
	}' "$T/html.out"
check "html: the long body, decoded, has the text and not the script" \
    python3 - "$T/big.cli" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
assert m.get_content_type() == "text/plain", m.get_content_type()
text = m.get_content()
for i in (1, 30, 60):
    want = "第%02d段落：地区%02dの数値は共有ドライブにあります。" % (i, i)
    assert want in text, (want, text[:300])
assert "SCRIPT-MUST-GO" not in text and "<p>" not in text.lower(), text[:300]
assert m["X-Mugai-Id"] in text, "the notice does not quote the id"
EOF
id_html1=$(cat "$T/html-HTML1.id" 2>/dev/null || echo none)
check "html: summary line and audit record" python3 - \
    "$T/main/milter.log" "$T/main/audit.jsonl" "$id_html1" \
    "$(crlf "$T/html.eml" | wc -c)" <<'EOF'
import json, re, sys
log, audit, mid, size = sys.argv[1:5]
lines = [l for l in open(log) if ": HTML1: from=<" in l and " action=" in l]
assert len(lines) == 1, lines
l = lines[0]
m = re.search(r": HTML1: from=<alice@example.org> to=<staff@city.lg.jp> "
              r"size=(\d+) id=(\S+) action=delivered .*converted=1 "
              r"removed=0 .*time=\d+ms$", l)
assert m and m.group(2) == mid and m.group(1) == size, (l, mid, size)
recs = [json.loads(x) for x in open(audit)]
recs = [r for r in recs if r.get("id") == mid]
assert len(recs) == 1, recs
r = recs[0]
assert r["queue_id"] == "HTML1" and r["verdict"] == "deliver", r
assert r["client"] == "198.51.100.1", r
assert r["sender"] == "alice@example.org", r
assert r["recipients"] == ["staff@city.lg.jp"], r
assert r["size"] == int(size), r
assert r["converted"] == 1 and r["removed"] == 0 and r["quarantined"], r
EOF
original "html: original in the quarantine" main "$id_html1" \
    "$T/html.eml" HTML1 alice@example.org staff@city.lg.jp

mt_run attach main attach -D MSG="$T/attach.eml" -D CLI="$T/attach.cli" \
    -D QID=ATT1
original "attach: original in the quarantine under X-Mugai-Id" main \
    "$(cat "$T/attach-ATT1.id" 2>/dev/null || echo none)" \
    "$T/attach.eml" ATT1 bob@example.org staff@city.lg.jp chief@city.lg.jp

mt_run negotiate main negotiate -D MSG="$T/odd-mt.eml"
original "negotiate: leading white space kept byte for byte" main \
    "$(cat "$T/negotiate-LEAD1.id" 2>/dev/null || echo none)" \
    "$T/odd-mt.eml" LEAD1 bob@example.org staff@city.lg.jp
# What miltertest cannot send: values with no space, a tab, nothing.
python3 "$mtdir/rawmta.py" "$T/main/sock" "$T/odd-raw.eml" RAW1 \
    >"$T/raw1.out" 2>&1
sed -n "s/^eom h X-Mugai-Id ' \(.*\)'$/\1/p" "$T/raw1.out" > "$T/raw1.id"
check "negotiate: rawmta.py: delivered, X-Mugai-Id with one space" sh -c '
	grep -q "^eom c$" "$1" &&
	    grep -q "^[0-9]\{8\}-[0-9]\{6\}-[0-9a-f]*$" "$2" ||
	    { cat "$1"; exit 1; }' sh "$T/raw1.out" "$T/raw1.id"
original "negotiate: rawmta.py: no-space, tab and empty values byte for byte" \
    main "$(cat "$T/raw1.id")" "$T/odd-raw.eml" RAW1 bob@example.org \
    staff@city.lg.jp
check "negotiate: a refused MTA is logged" grep -qF \
    "the MTA does not allow changing headers and body (actions 0x11)" \
    "$T/main/milter.log"

mt_run eicar main eicar -D MSG="$T/eicar.eml" -D QID=VIR1
check "eicar: logged and audited as a virus" python3 - \
    "$T/main/milter.log" "$T/main/audit.jsonl" <<'EOF'
import json, sys
log, audit = sys.argv[1:3]
lines = [l for l in open(log) if ": VIR1: " in l]
assert any(" action=rejected " in l and "signatures=Mugai.Test.EICAR" in l
           for l in lines), lines
assert not any(" action=delivered " in l for l in lines), lines
recs = [r for r in map(json.loads, open(audit))
        if r.get("queue_id") == "VIR1"]
assert len(recs) == 1, recs
assert recs[0]["verdict"] == "reject", recs
assert any(s.startswith("Mugai.Test.EICAR")
           for s in recs[0]["signatures"]), recs
EOF

mt_run twomsg main twomsg -D MSG1="$T/attach.eml" \
    -D CLI1="$T/attach.cli" -D MSG2="$T/html.eml" -D CLI2="$T/html.cli"
original "twomsg: first original under its queue id" main \
    "$(cat "$T/twomsg-TWO1.id" 2>/dev/null || echo none)" \
    "$T/attach.eml" TWO1 dave@example.org staff@city.lg.jp
original "twomsg: second original under its queue id" main \
    "$(cat "$T/twomsg-TWO2.id" 2>/dev/null || echo none)" \
    "$T/html.eml" TWO2 dave@example.org staff@city.lg.jp

mt_run abort-memory main abort -D MSG="$T/html.eml" -D INFILE=0

# ---- aborts with the spool in a file ------------------------------------

start spool0 -o spool_memory_max=0
mt_run abort-file spool0 abort -D MSG="$T/html.eml" -D INFILE=1
check "abort: logged; summary lines only for whole messages" python3 - \
    "$T/main/milter.log" "$T/spool0/milter.log" <<'EOF'
import sys
for log in sys.argv[1:]:
    text = open(log).read().splitlines()
    for q in ("ABT1", "ABT3"):
        assert any(": %s: from=<carol@example.org>: aborted by the MTA" % q
                   in l for l in text), (log, q)
        assert not any(": %s: " % q in l and " action=" in l
                       for l in text), (log, q)
    for q in ("ABT2", "ABT4"):
        n = [l for l in text
             if ": %s: from=<" % q in l and " action=delivered " in l]
        assert len(n) == 1, (log, q, n)
EOF
check "abort: spool directories empty" sh -c '
	for d; do
		[ -d "$d" ] && [ -z "$(ls -A "$d")" ] ||
		    { ls -lA "$d"; exit 1; }
	done' sh "$T/main/spool" "$T/spool0/spool"

# ---- a quarantine that cannot store -------------------------------------

# A plain file where a fan-out directory must be: the milter, which
# makes them all at start, refuses to start and names it.
mkdir -p "$T/fanfile/q"
: > "$T/fanfile/q/7f"
timeout 60 "$MILTER" -f -e -o milter_socket="unix:$T/fanfile/sock" \
    -o pid_file="$T/fanfile/pid" -o spool_dir="$T/fanfile/spool" \
    -o quarantine_dir="$T/fanfile/q" -o audit_log="$T/fanfile/audit.jsonl" \
    -o clamav_database_dir="$testdb" -o "$TEXT_ONLY" \
    </dev/null >"$T/fanfile.out" 2>"$T/fanfile.err"
frc=$?
check "start: a file where a quarantine directory must be stops it, named" \
    sh -c '
	[ "$1" -ne 0 ] && [ "$1" -ne 124 ] || { echo "exit $1"; exit 1; }
	grep -qF "$2/q/7f is not a directory; move it out of quarantine_dir" \
	    "$3" || { cat "$3"; exit 1; }
	[ ! -e "$2/sock" ] && [ ! -e "$2/pid" ]' sh "$frc" "$T/fanfile" \
    "$T/fanfile.err"

# Once it runs, every fan-out directory is replaced by a plain file:
# the store fails for any id, the index works as usual.
start blocked
poll "$TIMEOUT" test -S "$T/blocked/sock"
for a in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
	for b in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
		rmdir "$T/blocked/q/$a$b" && : > "$T/blocked/q/$a$b"
	done
done
mt_run tempfail blocked tempfail -D MSG="$T/attach.eml" -D QID=TMP1
check "tempfail: logged, nothing stored" sh -c '
	grep -q ": TMP1: temporary failure: " "$1/milter.log" &&
	[ -z "$(find "$1/q" -name "*.eml")" ] &&
	[ -z "$(ls -A "$1/spool")" ]' sh "$T/blocked"

# ---- limits: size and bypass --------------------------------------------

start limits -o max_message_size=1024 \
    -o bypass_client_networks=192.0.2.0/24 \
    -o bypass_recipients=@internal.example
mt_run oversize limits size -D QID=BIG1 -D SIZE=2000 -D LIMIT=1024 \
    -D WANT=reject
mt_run oversize-old-mta limits size -D QID=BIG4 -D SIZE=2000 -D LIMIT=1024 \
    -D WANT=reject -D OFFER=old
check "oversize: logged, no summary line" sh -c '
	grep -qF ": BIG1: from=<erin@example.org>: rejected: $2" "$1" &&
	grep -qF ": BIG4: from=<erin@example.org>: rejected: $2" "$1" &&
	! grep -E ": BIG[14]: " "$1" | grep -qF " action=" &&
	grep -F ": BIG1S: " "$1" | grep -qF " action=delivered "' \
    sh "$T/limits/milter.log" "message larger than max_message_size 1024"
# The reply's text, which miltertest does not show.
# With Postfix's offer (no reply to body chunks) at end of message; from
# an MTA before protocol 6 at the chunk over the limit.
python3 "$mtdir/rawmta.py" "$T/limits/sock" "$T/big.eml" BIG2 500 \
    >"$T/big2.out" 2>&1
check "oversize: rawmta.py: 552 5.3.4 at end of message" sh -c '
	grep -qx "negotiated actions=0x33 options=0x18f380" "$1" &&
	grep -qx "eom y 552 5.3.4 $2" "$1" &&
	! grep -q "^body#" "$1" || { cat "$1"; exit 1; }' \
    sh "$T/big2.out" "Message size exceeds the limit of 1024 bytes"
RAWMTA_OFFER=0x3ff python3 "$mtdir/rawmta.py" "$T/limits/sock" \
    "$T/big.eml" BIG5 500 >"$T/big5.out" 2>&1
check "oversize: rawmta.py, MTA before protocol 6: 552 5.3.4 at the chunk" \
    sh -c '
	grep -qx "negotiated actions=0x33 options=0x380" "$1" &&
	grep -qx "body#[0-9]* y 552 5.3.4 $2" "$1" || { cat "$1"; exit 1; }' \
    sh "$T/big5.out" "Message size exceeds the limit of 1024 bytes"
# Headers get no reply (SMFIP_NR_HDR, as Postfix offers it): headers
# alone over the limit are refused at the end of the headers.
{ printf 'From: erin@example.org\nTo: bob@example.jp\nSubject: x\n'
  i=0; while [ $i -lt 40 ]; do printf 'X-Pad-%d: %s\n' $i \
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; i=$((i+1))
  done; printf '\nshort body\n'; } >"$T/bighdr.eml"
python3 "$mtdir/rawmta.py" "$T/limits/sock" "$T/bighdr.eml" BIG3 \
    >"$T/big3.out" 2>&1
check "oversize: rawmta.py: headers over the limit: 552 5.3.4 at eoh" sh -c '
	grep -q "^negotiated .*options=0x1[0-9a-f]*[89a-f][0-9a-f]\$" "$1" &&
	grep -qx "eoh y 552 5.3.4 $2" "$1" &&
	! grep -q "^header:" "$1" || { cat "$1"; exit 1; }' \
    sh "$T/big3.out" "Message size exceeds the limit of 1024 bytes"
mt_run bypass limits bypass -D MSG="$T/html.eml"
mt_run bypass-old-mta limits bypass -D MSG="$T/html.eml" -D OFFER=old
check "bypass: logged" sh -c '
	grep -qF ": BYP1: $2 client 192.0.2.7 is in bypass_client_networks" \
	    "$1" &&
	grep -qF ": BYP2: $2 every recipient is in bypass_recipients" "$1" &&
	[ "$(grep -cF ": BYP1: $2 client 192.0.2.7 is in" "$1")" -eq 2 ] &&
	! grep -E ": BYP[12]: " "$1" | grep -qF " action=" &&
	[ "$(grep -E ": SAN[12]: from=<frank@example.org> " "$1" |
	    grep -cF " action=delivered ")" -eq 4 ]' \
    sh "$T/limits/milter.log" "from=<frank@example.org>: bypassed:"

# ---- SIGHUP --------------------------------------------------------------

mkdir -p "$T/reload"
cf=$T/reload/mugai.cf
printf '# milter-protocol test\nmax_message_size = 64K\n' > "$cf"
start reload -c "$cf"
rlog=$T/reload/milter.log
rpid=$(cat "$T/reload/mpid")
mt_run reload-before reload size -D QID=HUP1 -D SIZE=2000 -D LIMIT=65536 \
    -D WANT=deliver
printf '# milter-protocol test\nmax_message_size = 1K\n' > "$cf"
n=$(count "$rlog" "configuration reloaded from $cf")
kill -HUP "$rpid"
check "reload: SIGHUP reloads the file" \
    poll "$TIMEOUT" more_than "$rlog" "configuration reloaded from $cf" "$n"
mt_run reload-new-limit reload size -D QID=HUP2 -D SIZE=2000 -D LIMIT=1024 \
    -D WANT=reject
printf '# milter-protocol test\n%s\n%s\n' "max_message_size = 64K" \
    "max_mesage_size = 5" > "$cf"
n=$(count "$rlog" "reload failed")
kill -HUP "$rpid"
check "reload: a broken file is logged with its name and line" \
    poll "$TIMEOUT" more_than "$rlog" \
    "reload failed, old configuration kept: $cf:3: " "$n"
mt_run reload-broken-keeps-old reload size -D QID=HUP3 -D SIZE=2000 \
    -D LIMIT=1024 -D WANT=reject

# ---- SIGTERM with a message in flight -----------------------------------

start term
tpid=$(cat "$T/term/mpid")
tlog=$T/term/milter.log
# shellcheck disable=SC2046
miltertest $(mtargs term) -D MSG="$T/html.eml" -s "$mtdir/sigterm.lua" \
    >"$T/sigterm.out" 2>&1 &
mtpid=$!
pids="$pids $mtpid"
ready() { [ -e "$T/term.ready" ] || gone "$mtpid"; }
if poll "$TIMEOUT" ready && [ -e "$T/term.ready" ]; then
	kill -TERM "$tpid"
	# Logged once new messages are deferred.
	if poll "$TIMEOUT" grep -qF "deferring new messages; waiting up to" \
	    "$tlog"; then
		: > "$T/term.go"
	else
		fail sigterm "SIGTERM: no \"deferring new messages\" in the log"
	fi
fi
reap "$mtpid"
mtrc=$status
if [ $mtrc -eq 0 ]; then
	pass "sigterm: the message in flight completes, a new one is deferred"
else
	fail "sigterm: the message in flight completes, a new one is deferred" \
	    "miltertest exited $mtrc: $(why "$T/sigterm.out")"
fi
# The milter must end on its own; TIMEOUT is only a safety net.
reap "$tpid"
trc=$status
check "sigterm: exits 0, pid file removed, stopped logged" sh -c '
	[ "$1" = 0 ] || { echo "exit status $1"; exit 1; }
	[ ! -e "$2/pid" ] || { echo "pid file left"; exit 1; }
	tail -n 1 "$2/milter.log" | grep -q ": stopped$" ||
	    { tail -n 3 "$2/milter.log"; exit 1; }' sh "$trc" "$T/term"
check "sigterm: logged: deferred new message, completed old one" sh -c '
	[ "$(grep -cF "shutting down: deferring a new message" "$1")" -eq 2 ] &&
	grep -F ": FLIGHT1: from=<grace@example.org>" "$1" |
	    grep -qF " action=delivered "' sh "$tlog"

# ---- daemon mode -----------------------------------------------------------

sd=$T/daemon
mkdir -p "$sd"
"$MILTER" -e -o milter_socket="unix:$sd/sock" -o pid_file="$sd/pid" \
    -o spool_dir="$sd/spool" -o quarantine_dir="$sd/q" \
    -o audit_log="$sd/audit.jsonl" -o clamav_database_dir="$testdb" \
    -o milter_body_chunk=1000 -o notice_template_dir="$T/tpl" \
    </dev/null >"$sd/stdout" 2>"$sd/stderr"
drc=$?
dpid=$(cat "$sd/pid" 2>/dev/null || echo 0)
[ "$dpid" = 0 ] || pids="$pids $dpid"
echo "$dpid" > "$sd/mpid"
check "daemon: the parent exits 0" sh -c \
    '[ "$1" -eq 0 ] || { echo "exit $1"; cat "$2"; exit 1; }' \
    sh "$drc" "$sd/stderr"
check "daemon: the pid file names the daemon, a session leader" sh -c '
	[ "$1" -gt 1 ] && kill -0 "$1" &&
	grep -q mugai-milter "/proc/$1/cmdline" &&
	[ "$(ps -o sid= -p "$1" | tr -d " ")" = "$1" ] &&
	[ "$(ps -o ppid= -p "$1" | tr -d " ")" != "$2" ]' sh "$dpid" "$$"
mt_run daemon-serves daemon size -D QID=DMN1 -D SIZE=300 -D LIMIT=52428800 \
    -D WANT=deliver
if [ "$dpid" != 0 ]; then
	kill -TERM "$dpid" 2>/dev/null
	if poll "$TIMEOUT" gone "$dpid"; then
		forget "$dpid"
		check "daemon: SIGTERM stops it and removes the pid file" \
		    test ! -e "$sd/pid"
	else
		fail "daemon: SIGTERM stops it and removes the pid file" \
		    "still running after ${TIMEOUT}s"
	fi
fi

"$MILTER" -o milter_socket="unix:$T/nodir/sock" -o pid_file="$T/nodir.pid" \
    -o spool_dir="$sd/spool" -o quarantine_dir="$sd/q" \
    -o audit_log="$sd/audit.jsonl" -o clamav_database_dir="$testdb" \
    </dev/null >"$T/nodir.out" 2>"$T/nodir.err"
brc=$?
check "daemon: a socket in a missing directory: one line naming it" sh -c '
	[ "$1" -ne 0 ] || { echo "exit 0"; exit 1; }
	[ "$(wc -l < "$2")" -eq 1 ] && grep -qF "$3/nodir/sock" "$2" ||
	    { cat "$2"; exit 1; }
	[ ! -s "$4" ] && [ ! -e "$3/nodir.pid" ] &&
	! pgrep -f "$3/nodir/sock" >/dev/null' \
    sh "$brc" "$T/nodir.err" "$T" "$T/nodir.out"

# ---- stop the rest -------------------------------------------------------

for inst in main spool0 blocked limits reload; do
	kill -TERM "$(cat "$T/$inst/mpid")" 2>/dev/null
done
for inst in main spool0 blocked limits reload; do
	reap "$(cat "$T/$inst/mpid")"
	# The errors the tests above provoke; any other is a failure.
	case $inst in
	main)	expected="the MTA does not allow changing headers and body" ;;
	blocked)
		expected="quarantine: cannot open .*: Not a directory"
		expected="$expected|TMP1: quarantine store failed"
		expected="$expected|TMP1: temporary failure" ;;
	reload)	expected="reload failed, old configuration kept" ;;
	*)	expected='^$' ;;
	esac
	check "stop: $inst exits 0 on SIGTERM, stopped, clean log" sh -c '
		[ "$1" = 0 ] ||
		    { echo "exit status $1"; tail -n 5 "$2"; exit 1; }
		tail -n 1 "$2" | grep -q ": stopped$" ||
		    { tail -n 3 "$2"; exit 1; }
		! grep -E "Sanitizer|runtime error:|: (error|fatal|warning): " \
		    "$2" | grep -vE "$3"' sh "$status" "$T/$inst/milter.log" \
	    "$expected"
done
check "stop: no milter left running" sh -c '
	for p in $1; do
		[ "$p" = 0 ] || ! kill -0 "$p" 2>/dev/null ||
		    { echo "process $p"; exit 1; }
	done' sh "$(cat "$T"/*/mpid)"

finish
