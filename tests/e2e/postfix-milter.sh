#!/bin/sh
# postfix-milter.sh BUILD FIXTURES - mugai-milter behind a real Postfix.
#
# lib-postfix.sh's private Postfix (smtpd_milters = the milter on a
# loopback port, milter_default_action = tempfail) relays to smtp-sink;
# BUILD/mugai-milter runs in the foreground with a private spool,
# quarantine and audit log.  Checked, each through SMTP:
#
#   html       HTML-only mail arrives as text/plain without HTML, with
#              X-Mugai-Status (and every invariant check_message.py has)
#   attach     attachments are removed, the notice names them, and the
#              original is in the quarantine under the X-Mugai-Id of the
#              delivered message, byte for byte what the milter saw
#   asis       a clean UTF-8 text message keeps its body and header byte
#              for byte; one with a bidi override is rebuilt
#   japanese   ISO-2022-JP, Shift_JIS, EUC-JP and UTF-8 mail keep their
#              subject (raw bytes and decoded text) and body text
#   virus      EICAR: 550 5.7.1 at SMTP time, nothing relayed or queued
#   kill       milter killed (-9) while idle: 4xx at SMTP time, nothing
#              accepted; killed under load (smtp-source): whatever was
#              accepted was sanitised, the rest got 4xx; restart: flows
#   qid        the milter's log line for each message names Postfix's
#              queue id (the {i} macro)
#   midsession milter killed during one SMTP transaction (before DATA,
#              in the middle of the data, while Postfix waits for its
#              verdict): 4xx, the message never arrives
#
# "Byte-identical" for the quarantined original: the milter sees the
# message after Postfix's cleanup(8), not what the client sent.  With
# Postfix 3.7 that view lacks Postfix's own Received header (Postfix
# does not pass the header it adds itself), and cleanup has already
# made its usual header edits (local_header_rewrite_clients covers
# 127.0.0.1): unqualified addresses get @myorigin, and a missing
# Message-Id or Date is added.  So for a complete message (qualified
# addresses, Date and Message-ID present) the original must equal the
# sent bytes exactly (CRLF line ends, dot-stuffing undone); for one
# that lacks them the only differences allowed are exactly those edits,
# byte-equal to the lines in the delivered copy.  Should a Postfix pass
# its Received header to milters, the original may start with it, and
# only with the one the delivered copy carries.
#
# Prints "PASS postfix-milter/NAME" / "FAIL postfix-milter/NAME: why",
# then a count; exits 1 when anything failed.  Needs root, Postfix,
# swaks, smtp-source and python3.
set -u
# These tests judge the text-only policy (every attachment removed);
# sanitised copies of attachments are tests/e2e/cdr.sh's.
TEXT_ONLY="attachment_policy=text/plain text, text/csv csv, * remove"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib-postfix.sh"
load_pid=
pf_cleanup_hook() { [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null; }
PF_MILTER_SIGNAL=KILL
pf_setup postfix-milter "$@"
mail=$fixtures/mail

# ---- the Python side: SMTP step by step, and reading what arrived ----------

pm() { python3 "$here/postfix_check.py" "$@"; }

# ---- helpers -----------------------------------------------------------------

# start_milter - start mugai-milter on $mport; wait until it listens.
start_milter() { pf_milter_up "$build" "$T" "$testdb" "$mport" "$TEXT_ONLY"; }

milter_gone() { ! pf_alive "$milter_pid"; }

# reap_milter - wait for a milter killed by someone else; forget it.
reap_milter() {
	[ -n "$milter_pid" ] || return 0
	# Not killed after all (the check failed early): kill it here, as
	# "wait" would block for good.
	pf_poll 10 milter_gone || kill -KILL "$milter_pid"
	wait "$milter_pid" 2>/dev/null
	milter_pid=
}

# kill_milter - kill -9 it and reap it.
kill_milter() {
	kill -KILL "$milter_pid" && reap_milter
}

# refused PORT - connecting to 127.0.0.1:PORT is refused.
refused() {
	python3 -c '
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("port %s accepts connections" % sys.argv[1])' "$1"
}

sink_for() { pf_sink_for "$P" "$1"; }
one() { pf_one "$P" "$1" "$2"; }

# send NAME FILE RCPT - pf_send_file FILE from sender@example.org to
# RCPT; the transcript is $T/NAME.swaks.  Returns swaks' status.
send() {
	PF_SEND_LOG=$T/$1.swaks
	pf_send_file "$smtp" "$2" --from sender@example.org --to "$3"
}

# sent_ok NAME FILE RCPT - send, and swaks succeeds.
sent_ok() {
	send "$@" && return 0
	echo "swaks exit $?: $(grep '^<\*\*' "$T/$1.swaks" | head -n 2)"
	return 1
}

eq() { # eq WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	echo "$1: $2, want $3"
	return 1
}

queue_empty() {
	pf_wait_queue_empty "$P" "$1" && return 0
	echo "still queued after $1 s: $(postqueue -c "$P/etc" -p 2>&1 | head -c 300)"
	return 1
}

# nothing_more N - after a few seconds the sink still holds N messages
# and the queue is empty: nothing was accepted.
nothing_more() {
	sleep 2
	queue_empty 10 || return 1
	eq "messages at the sink" "$(pf_sink_count "$P")" "$1"
}

# tempfailed NAME - the swaks transcript NAME shows a 4xx reply, and no
# 250 after the data.
tempfailed() {
	grep -q '^<\*\* 4[0-9][0-9] ' "$T/$1.swaks" || {
		echo "no 4xx reply: $(grep '^<' "$T/$1.swaks" | tail -n 3 | tr '\n' ' ')"
		return 1
	}
	if grep -q '^<-  250 .*queued as' "$T/$1.swaks"; then
		echo "the message was accepted: $(grep 'queued as' "$T/$1.swaks")"
		return 1
	fi
}

mugai() {
	"$build/mugai" -o "quarantine_dir=$T/q" -o clamav_enable=no "$@"
}

# ---- start -------------------------------------------------------------------

for p in "$build/mugai-milter" "$build/mugai" "$testdb/mugai.ndb"; do
	if [ ! -e "$p" ]; then
		fail setup "$p is missing (make)"
		finish
	fi
done
if ! python3 "$root/scripts/make-fixtures" "$T/gen" >"$T/gen.log" 2>&1; then
	fail setup "scripts/make-fixtures: $(head -c 200 "$T/gen.log")"
	finish
fi
mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
    sink=$(pf_free_port "$mport" "$smtp") || {
	fail start "no free ports"
	finish
}
check milter-start start_milter
# Before any mail: every fan-out directory of the quarantine is there,
# so that storing an original never waits for a mkdir and its sync.
fans_ready() {
	n=$(find "$T/q" -mindepth 1 -maxdepth 1 -type d -name '[0-9a-f][0-9a-f]' \
	    -perm 700 | wc -l)
	[ "$n" -eq 256 ] || { echo "$n of 256 fan-out directories"; return 1; }
}
check quarantine-fans-ready fans_ready
if pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" 2>"$T/start.err"; then
	pass postfix-start
else
	fail postfix-start "$(head -c 300 "$T/start.err" | tr '\n' ' ')"
	finish
fi
expected=0		# messages the sink should hold by now

# ---- (a) HTML only -------------------------------------------------------------

check html-send sent_ok html "$mail/html-only.eml" html@example.jp
expected=$((expected + 1))
if f=$(one html@example.jp 30); then
	pass html-arrived
	check html-text-plain pm html "$f"
	check html-sanitised pm sanitised "$mail/html-only.eml" \
	    "$mail/html-only.expect" "$f"
else
	fail html-arrived "$f"
fi

# ---- (b) attachments removed, originals in the quarantine ----------------------

# A complete message whose header bytes are easy to disturb: no space
# after a colon, a tab, trailing blanks, folds with tabs and spaces, an
# empty value, raw UTF-8, a 900-byte line; dot and "From " lines in the
# body; an attachment with every byte value.  The "rewritten" variant
# lacks Date and Message-ID and has unqualified addresses.
python3 - "$T" <<'EOF'
import base64, sys
att = base64.encodebytes(bytes(range(256)) * 4).decode()
common = ("X-Tight:value-without-space\n"
          "X-Tab:\tvalue after a tab\n"
          "X-Trailing: trailing blanks   \n"
          "X-Folded: first\n\tsecond after a tab\n   third after spaces\n"
          "X-Empty:\n"
          "X-8bit: 日本語の生ヘッダ\n"
          "X-Long: " + "x" * 900 + "\n"
          "Subject: byte test\n"
          "MIME-Version: 1.0\n"
          "Content-Type: multipart/mixed; boundary=\"bb\"\n"
          "\n"
          "preamble\n"
          "--bb\n"
          "Content-Type: text/plain; charset=us-ascii\n"
          "\n"
          ".leading dot\n"
          "..two dots\n"
          ".\n"
          "From the start of a line\n"
          "trailing blanks   \n"
          "\n"
          "--bb\n"
          "Content-Type: application/octet-stream; name=\"data.bin\"\n"
          "Content-Disposition: attachment; filename=\"data.bin\"\n"
          "Content-Transfer-Encoding: base64\n"
          "\n" + att + "--bb--\n"
          "epilogue\n")
full = ("From: Sender <sender@example.org>\n"
        "To: Staff <bytes@example.jp>\n"
        "Date: Mon, 04 Mar 2024 10:15:00 +0900\n"
        "Message-ID: <byte-test@example.org>\n")
open(sys.argv[1] + "/bytes.eml", "wb").write((full + common).encode())
open(sys.argv[1] + "/rewritten.eml", "wb").write(
    ("From: sender\nTo: staff\n" + common).encode())
EOF

# attach NAME FILE RCPT MODE FILENAME - send FILE, check the delivered
# copy and the quarantined original.
attach() {
	check "attach-$1-send" sent_ok "attach-$1" "$2" "$3"
	expected=$((expected + 1))
	if ! f=$(one "$3" 30); then
		fail "attach-$1-arrived" "$f"
		return
	fi
	pass "attach-$1-arrived"
	if ! pm removed "$f" "$5" >"$T/ids" 2>&1; then
		fail "attach-$1-removed" "$(head -c 300 "$T/ids")"
		return
	fi
	pass "attach-$1-removed"
	read -r qid mid <"$T/ids"
	# The milter's line for the message names Postfix's queue id ({i}).
	check "attach-$1-qid-in-log" pf_poll 10 sh -c "grep -qF ': $qid: from=<sender@example.org> to=' '$T/milter.log'"
	mugai quarantine list --json >"$T/list.json" 2>"$T/list.err"
	mugai quarantine export "$mid" -o "$T/$1.orig" >/dev/null 2>"$T/export.err"
	check "attach-$1-original" pm original "$T/list.json" "$mid" "$qid" \
	    sender@example.org "$3" "$T/$1.orig" "$2" "$f" "$4"
	sed 's/^/    /' "$T/check.out"
	mugai quarantine show "$mid" >"$T/show.out" 2>&1
	check "attach-$1-show" sh -c "grep -qF -- '$5' '$T/show.out' &&
	    grep -qF -- '$mid' '$T/show.out' ||
	    { echo 'show $mid:'; head -c 200 '$T/show.out'; false; }"
}
attach pdf "$mail/pdf-attachment.eml" pdf@example.jp exact 報告書.pdf
attach bytes "$T/bytes.eml" bytes@example.jp exact data.bin
attach rewritten "$T/rewritten.eml" rewritten@example.jp rewritten data.bin
if f=$(sink_for pdf@example.jp) && [ -n "$f" ]; then
	check attach-pdf-sanitised pm sanitised "$mail/pdf-attachment.eml" \
	    "$mail/pdf-attachment.expect" "$f"
fi

# ---- (b2) clean text goes as it came ------------------------------------------

# A clean UTF-8 message as Apple Mail writes it (8bit, format=flowed,
# a comment after MIME-Version) keeps its body and header byte for
# byte; the same with a right-to-left override is rebuilt without it.
python3 - "$T" <<'EOF'
import sys
head = ("From: Sender <sender@example.org>\n"
        "To: Staff <%s@example.jp>\n"
        "Subject: =?UTF-8?B?5Lya6K2w44Gu44GK55+l44KJ44Gb?=\n"
        "Date: Mon, 04 Mar 2024 10:15:00 +0900\n"
        "Message-ID: <%s@example.org>\n"
        "X-Mugai-Status: sanitised; converted=0; removed=0 (forged)\n"
        "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))\n"
        "Content-Type: text/plain;\n\tcharset=utf-8;\n\tformat=flowed\n"
        "Content-Transfer-Encoding: 8bit\n\n")
body = ("田中様\n\n① 会議は10時から、㈱髙橋の件です。 \n"
        ".leading dot\n..two dots\nFrom the start of a line\n"
        "\ttab\ttrailing blanks   \n\n" + "長" * 300 + "\n\n"
        "-- \n市役所 情報政策課\n")
for name, extra in (("asis-clean", ""), ("asis-bidi", "overridden\u202e\n")):
    open("%s/%s.eml" % (sys.argv[1], name), "wb").write(
        (head % (name, name) + body + extra).encode())
EOF
for name in asis-clean asis-bidi; do
	check "$name-send" sent_ok "$name" "$T/$name.eml" "$name@example.jp"
	expected=$((expected + 1))
done
for name in asis-clean:kept asis-bidi:rebuilt; do
	if f=$(one "${name%%:*}@example.jp" 30); then
		check "${name%%:*}-${name#*:}" pm asis "$T/${name%%:*}.eml" \
		    "$f" "${name#*:}"
	else
		fail "${name%%:*}-arrived" "$f"
	fi
done

# ---- (c) Japanese ------------------------------------------------------------

for name in iso2022jp-ext sjis-text eucjp-text utf8-text subject-split-jis; do
	check "japanese-$name-send" sent_ok "$name" "$mail/$name.eml" \
	    "$name@example.jp"
	expected=$((expected + 1))
done
for name in iso2022jp-ext sjis-text eucjp-text utf8-text subject-split-jis; do
	if ! f=$(one "$name@example.jp" 30); then
		fail "japanese-$name-arrived" "$f"
		continue
	fi
	check "japanese-$name-subject" pm subject "$f" "$mail/$name.eml" \
	    "$mail/$name.expect"
	check "japanese-$name-body" pm sanitised "$mail/$name.eml" \
	    "$mail/$name.expect" "$f"
done
check before-virus-queue-empty queue_empty 30
check before-virus-count eq "messages at the sink" "$(pf_sink_count "$P")" \
    "$expected"

# ---- (d) viruses -------------------------------------------------------------

nvirus=0
for e in "$T"/gen/gen-*.expect; do
	grep -qx 'exit: 2' "$e" || continue
	name=$(basename "$e" .expect)
	sig=$(sed -n 's/^signature: //p' "$e" | head -n 1)
	nvirus=$((nvirus + 1))
	send "$name" "${e%.expect}.eml" "$name@example.jp"
	rc=$?
	check "virus-$name-550" sh -c "
	    [ $rc -eq 26 ] || { echo 'swaks exit $rc, want 26 (refused after data)'; exit 1; }
	    grep -q '^<\*\* 550 5\.7\.1 Message refused: virus found ($sig' '$T/$name.swaks' ||
	    { grep '^<' '$T/$name.swaks' | tail -n 2; exit 1; }"
done
check virus-count sh -c "[ $nvirus -ge 6 ] ||
    { echo 'only $nvirus virus fixtures'; exit 1; }"
check virus-milter-rejected pf_poll 10 sh -c "[ \$(grep -c ' action=rejected .*signatures=Mugai\.Test\.' '$T/milter.log') -ge $nvirus ]"
check virus-nothing-relayed nothing_more "$expected"
check virus-none-for-rcpt eq "messages to virus recipients" \
    "$(pf_sink_files "$P" | xargs -r grep -l '^X-Rcpt-Args: <gen-' | wc -l)" 0

# ---- (e) milter killed: tempfail, nothing through; restart -------------------

check kill-idle kill_milter
check kill-port-closed refused "$mport"
for i in 1 2 3; do
	send "dead$i" "$mail/plain-ascii.eml" "dead$i@example.jp"
	check "kill-dead$i-4xx" tempfailed "dead$i"
done
check kill-nothing-accepted nothing_more "$expected"
check kill-log-tempfail pf_wait_log "$P" \
    'milter-reject: .* 451 4\.7\.1 .*from=<sender@example\.org>' 3 10
check kill-restart start_milter
check kill-restart-send sent_ok alive1 "$mail/html-only.eml" alive1@example.jp
expected=$((expected + 1))
if f=$(one alive1@example.jp 30); then
	check kill-restart-sanitised pm html "$f"
else
	fail kill-restart-arrived "$f"
fi

# Killed under load: smtp-source (-A: carry on after errors) with 5
# sessions, numbered recipients (-N).  Every message that arrived must
# be sanitised and logged delivered by the milter; the others got 4xx.
smtp-source -A -N -s 5 -m 300 -l 3000 -S "under load" -f kl@example.org \
    -t kl@load.example "127.0.0.1:$smtp" >"$T/kl.out" 2>&1 &
load_pid=$!
check kill-load-some-arrived pf_poll 60 sh -c \
    "[ \$(cat '$P'/sink/* 2>/dev/null | grep -c '^X-Rcpt-Args: <[0-9]*kl@load') -ge 30 ]"
check kill-load-kill kill_milter
if pf_poll 120 sh -c "! kill -0 $load_pid 2>/dev/null"; then
	wait "$load_pid"
	pass kill-load-source-done
else
	fail kill-load-source-done "smtp-source still runs after 120 s"
	kill "$load_pid" 2>/dev/null
	wait "$load_pid"
fi
load_pid=
check kill-load-queue-empty queue_empty 60
sleep 1
if pm killload "$T/milter.log" load.example $(pf_sink_files "$P") >"$T/kl.n" 2>&1; then
	kl=$(cat "$T/kl.n")
	pass "kill-load-all-sanitised ($kl of 300 arrived)"
	expected=$((expected + kl))
	check kill-load-some-refused sh -c "[ $kl -lt 300 ] || { echo 'all 300
	    arrived: the kill came too late to test anything'; exit 1; }"
	# Postfix queued exactly the messages that arrived.
	check kill-load-queued-arrived eq "messages Postfix queued from kl@" \
	    "$(grep -c 'postfix/qmgr.*: from=<kl@example.org>' "$P/maillog")" "$kl"
else
	fail kill-load-all-sanitised "$(head -c 300 "$T/kl.n")"
fi
check kill-load-count eq "messages at the sink" "$(pf_sink_count "$P")" \
    "$expected"
check kill-load-restart start_milter

# ---- (f) milter killed in the middle of one SMTP transaction -----------------

# A 400 KB message (HTML and a PDF), so that the data is still
# streaming at mid-data.
python3 - "$T/big.eml" <<'EOF'
import base64, os, sys
pdf = base64.encodebytes(b"%PDF-1.4\n" + os.urandom(100000)).decode()
open(sys.argv[1], "w").write(
    "From: Sender <sender@example.org>\nTo: Staff <staff@example.jp>\n"
    "Subject: big\nDate: Mon, 04 Mar 2024 10:15:00 +0900\n"
    "Message-ID: <big@example.org>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
    "--b\nContent-Type: text/html; charset=UTF-8\n\n" +
    "<p>本文 <b>text</b> <a href='https://example.jp/'>link</a></p>\n" * 4000 +
    "--b\nContent-Type: application/pdf; name=\"a.pdf\"\n"
    "Content-Transfer-Encoding: base64\n\n" + pdf + "--b--\n")
EOF
for mode in before-data mid-data at-eom; do
	check "midsession-$mode-4xx" pm smtp "$smtp" "$milter_pid" "$mode" \
	    "mid-$mode@example.jp" "$T/big.eml"
	sed 's/^/    /' "$T/check.out"
	reap_milter
	check "midsession-$mode-nothing-accepted" nothing_more "$expected"
	check "midsession-$mode-not-sent" eq "log lines sent to <mid-$mode@>" \
	    "$(grep -c "to=<mid-$mode@example.jp>.* status=sent" "$P/maillog")" 0
	check "midsession-$mode-restart" start_milter
done
check midsession-flows-again sent_ok alive2 "$mail/pdf-attachment.eml" \
    alive2@example.jp
expected=$((expected + 1))
if f=$(one alive2@example.jp 30); then
	check midsession-flows-sanitised pm removed "$f" 報告書.pdf
else
	fail midsession-flows-arrived "$f"
fi

# ---- end ---------------------------------------------------------------------

check end-queue-empty queue_empty 30
check end-count eq "messages at the sink" "$(pf_sink_count "$P")" "$expected"
# Every message at the sink went through the milter.
all_sanitised() {
	for f in $(pf_sink_files "$P"); do
		grep -q '^X-Mugai-Status: sanitised' "$f" ||
		    { echo "$f is not sanitised"; return 1; }
	done
}
check end-all-sanitised all_sanitised
# SIGTERM: the milter finishes and exits 0 (within shutdown_timeout).
kill -TERM "$milter_pid"
if pf_poll 40 milter_gone; then
	wait "$milter_pid"
	check end-milter-term-exit-0 eq "mugai-milter exit status on SIGTERM" \
	    "$?" 0
else
	fail end-milter-term-exit-0 "mugai-milter still runs 40 s after SIGTERM"
fi
milter_pid=
check end-milter-log-clean sh -c "! grep -E 'temporary failure|MTA refused|AddressSanitizer|runtime error' '$T/milter.log'"
check end-postfix-stop pf_stop "$P"

finish
