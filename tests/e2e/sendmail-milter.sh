#!/bin/sh
# sendmail-milter.sh BUILD FIXTURES - mugai-milter behind a real Sendmail.
#
# lib-sendmail.sh's private Sendmail (Debian's packages fetched with
# apt-get download into BUILD/sendmail, never installed) has mugai-milter
# as INPUT_MAIL_FILTER exactly as docs/sendmail.md recommends (F=T) and
# relays to smtp-sink; BUILD/mugai-milter runs in the foreground on the
# default attachment policy (sanitised copies through mugai-convert),
# with a private spool, quarantine and audit log.  Checked, through SMTP:
#
#   html       HTML-only mail arrives as text/plain without HTML, with the
#              X-Mugai-* headers, and passes check_message.py's checks
#   pdf        a PDF attachment arrives as a sanitised copy, named in the
#              notice
#   headers    forged X-Mugai-* headers are gone, ours are there once, the
#              other headers arrive in the order sent, byte for byte
#   original   header bytes that are easy to disturb: the quarantined
#              original is the message sent, byte for byte; the queue id
#              Sendmail gives ({i}) is in the milter's log and the
#              quarantine
#   japanese   ISO-2022-JP, Shift_JIS, EUC-JP and UTF-8 mail keep their
#              Subject byte for byte and their body text
#   big        a 300 KB text body (several body chunks to the milter and
#              several replacement chunks back) arrives whole
#   virus      EICAR: 550 5.7.1 at SMTP time, nothing relayed or queued
#   oversize   over max_message_size: 552 5.3.4, nothing relayed or queued;
#              SIZE over Sendmail's MaxMessageSize: 552 5.2.3 at MAIL FROM
#   stopped    milter stopped: 451 4.3.2 at MAIL FROM (F=T), nothing
#              queued; restarted: the same message is delivered sanitised
#   forged     X-Mugai-* headers in other cases and spellings are gone
#   midsession milter killed during one SMTP transaction (before DATA,
#              in the middle of the data, while Sendmail waits for its
#              verdict): 4xx, nothing accepted
#   held       virus_action=quarantine-only without mugai's quarantine:
#              smfi_quarantine, Sendmail keeps the message held (hf file,
#              listed by mailq -qQ)
#
# Prints "PASS sendmail-milter/NAME" / "FAIL sendmail-milter/NAME: why",
# then a count; exits 1 when anything failed.  When the packages cannot
# be fetched it prints one "SKIP sendmail-milter: skipped: sendmail
# packages unavailable" line and exits 0.  Needs root, m4, unshare,
# smtp-sink (Postfix), swaks and python3.
set -u
if [ $# -ne 2 ]; then
	echo "usage: sendmail-milter.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
fixtures=$2
case $fixtures in /*) ;; *) fixtures=$(pwd)/$fixtures ;; esac
mail=$fixtures/mail
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
. "$here/lib-postfix.sh"
. "$here/lib-sendmail.sh"
CK_SUITE=sendmail-milter

# Limits the oversize check crosses: the milter's is the lower one, so
# the refusal is mugai's, not Sendmail's.
MAX=1M

T=$(mktemp -d "${TMPDIR:-/tmp}/sendmail-milter.XXXXXX") || exit 1
S=$T/sm
milter_pid=
cleanup() {
	sm_stop "$S"
	if [ -n "$milter_pid" ]; then
		kill -KILL "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE	# and clean up (EXIT)
chmod 755 "$T"			# smtp-sink (nobody) writes below it
. "$here/lib-check.sh"

sm_fetch "$build/sendmail" 2>"$T/fetch.err"
case $? in
0)	;;
2)	echo "SKIP $CK_SUITE: skipped: sendmail packages unavailable" \
	    "($(head -c 300 "$T/fetch.err" | tr '\n' ' '))"
	exit 0 ;;
*)	fail setup "$(head -c 300 "$T/fetch.err" | tr '\n' ' ')"
	finish ;;
esac

sc() { python3 "$here/sendmail_check.py" "$@"; }

# ---- helpers -------------------------------------------------------------

nstarted() {
	ns=$(grep -c 'started on' "$T/milter.log" 2>/dev/null)
	echo "${ns:-0}"
}

milter_up() { [ "$(nstarted)" -gt "$1" ] || pf__gone "$milter_pid"; }

# start_milter [-o KEY=VALUE]... - start mugai-milter on $mport; wait
# until it listens.
start_milter() {
	n0=$(nstarted)
	"$build/mugai-milter" -f -e -o "milter_socket=inet:$mport@127.0.0.1" \
	    -o "pid_file=$T/pid" -o "spool_dir=$T/spool" \
	    -o "quarantine_dir=$T/q" -o "audit_log=$T/audit.jsonl" \
	    -o "clamav_database_dir=$testdb" -o "max_message_size=$MAX" "$@" \
	    </dev/null 2>>"$T/milter.log" &
	milter_pid=$!
	pf_poll 60 milter_up "$n0"
	if pf__alive "$milter_pid" && [ "$(nstarted)" -gt "$n0" ]; then
		return 0
	fi
	echo "mugai-milter did not start: $(tail -n 3 "$T/milter.log")"
	return 1
}

# stop_milter - SIGTERM, wait for a clean exit.
stop_milter() {
	kill -TERM "$milter_pid" || return 1
	if ! pf_poll 40 pf__gone "$milter_pid"; then
		echo "mugai-milter still runs 40 s after SIGTERM"
		return 1
	fi
	wait "$milter_pid"
	rc=$?
	milter_pid=
	[ "$rc" -eq 0 ] || { echo "mugai-milter exited $rc on SIGTERM"; return 1; }
}

# send NAME FILE RCPT - pf_send_file FILE from sender@example.org to
# RCPT; the transcript is $T/NAME.swaks.  Returns swaks' status.
send() {
	PF_SEND_LOG=$T/$1.swaks
	pf_send_file "$smtp" "$2" --from sender@example.org --to "$3"
}

sent_ok() {
	send "$@" && return 0
	echo "swaks exit $?: $(grep '^<\*\*' "$T/$1.swaks" | head -n 2)"
	return 1
}

# replied NAME ERE - the transcript NAME has an error reply matching ERE
# and no "queued" 250 after the data.
replied() {
	grep -qE "^<\*\* $2" "$T/$1.swaks" || {
		echo "no reply /$2/: $(grep '^<' "$T/$1.swaks" | tail -n 3 | tr '\n' ' ')"
		return 1
	}
	if grep -q '^<-  250 .*Message accepted' "$T/$1.swaks"; then
		echo "accepted: $(grep 'Message accepted' "$T/$1.swaks")"
		return 1
	fi
}

eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: $2, want $3"
	return 1
}

queue_empty() {
	sm_wait_queue_empty "$S" "$1" && return 0
	echo "still queued after $1 s: $(ls "$S/mqueue")"
	return 1
}

# nothing_more N - a few seconds on, the sink still holds N messages and
# the queue is empty: nothing was accepted.
nothing_more() {
	sleep 2
	queue_empty 10 || return 1
	eq "messages at the sink" "$(pf_sink_count "$S")" "$1"
}

one() { pf_one "$S" "$1" "$2"; }

mugai() {
	"$build/mugai" -o "quarantine_dir=$T/q" -o clamav_enable=no "$@"
}

# later NAME CHECK ARG... - a check for the next batch: one Python run
# judges many messages (starting Python is dear on a busy machine).
later() {
	printf '%s' "$1" >>"$T/batch"
	shift
	for a in "$@"; do
		printf '\t%s' "$a" >>"$T/batch"
	done
	printf '\n' >>"$T/batch"
}

# judge_later - run the batch; a PASS or FAIL line for each check.
judge_later() {
	[ -s "$T/batch" ] || return 0
	sc batch <"$T/batch" >"$T/batch.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*)		pass "${line#ok }" ;;
		"fail "*)	line=${line#fail }
				fail "${line%%: *}" "${line#*: }" ;;
		*)		printf '%s\n' "$line" ;;
		esac
	done <"$T/batch.out"
	if [ "$(grep -cE '^(ok|fail) ' "$T/batch.out")" -ne \
	    "$(wc -l <"$T/batch")" ]; then
		fail batch "not every check was judged: $(tail -n 3 \
		    "$T/batch.out" | tr '\n' ' ')"
	fi
	: >"$T/batch"
}

# arrived NAME RCPT TIMEOUT - exactly one message to RCPT reached the
# sink; sets f to its file.
arrived() {
	if f=$(one "$2" "$3"); then
		return 0
	fi
	fail "$1-arrived" "$f"
	return 1
}

# ---- start ---------------------------------------------------------------

for p in "$build/mugai-milter" "$build/mugai" "$build/mugai-convert" \
    "$testdb/mugai.ndb"; do
	if [ ! -e "$p" ]; then
		fail setup "$p is missing (make)"
		finish
	fi
done
mkdir "$T/msg" && sc make "$T/msg" || {
	fail setup "sendmail_check.py make failed"
	finish
}
mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
    sink=$(pf_free_port "$mport" "$smtp") || {
	fail setup "no free ports"
	finish
}
check milter-start start_milter
if sm_start "$S" "$smtp" "$sink" "inet:$mport@127.0.0.1" 2>"$T/start.err"
then
	pass sendmail-start
else
	fail sendmail-start "$(head -c 400 "$T/start.err" | tr '\n' ' ')"
	finish
fi
expected=0		# messages the sink should hold by now

# ---- sanitised messages --------------------------------------------------

japanese="iso2022jp-ext sjis-text eucjp-text utf8-text"
check html-send sent_ok html "$mail/html-only.eml" html@example.jp
check pdf-send sent_ok pdf "$mail/pdf-attachment.eml" pdf@example.jp
check headers-send sent_ok headers "$mail/forged-mugai-header.eml" \
    headers@example.jp
check forged-send sent_ok forged "$T/msg/forged.eml" forged@example.jp
check original-send sent_ok bytes "$T/msg/bytes.eml" bytes@example.jp
check big-send sent_ok big "$T/msg/big.eml" big@example.jp
for name in $japanese; do
	check "japanese-$name-send" sent_ok "$name" "$mail/$name.eml" \
	    "$name@example.jp"
done
expected=$((expected + 10))

if arrived html html@example.jp 60; then
	later html-text-plain html "$f"
	later html-sanitised sanitised "$mail/html-only.eml" \
	    "$mail/html-only.expect" "$f"
fi
if arrived pdf pdf@example.jp 120; then
	later pdf-sanitised-copy pdf "$f" "$mail/pdf-attachment.eml" 報告書.pdf
fi
if arrived headers headers@example.jp 60; then
	later headers-intact headers "$f" "$mail/forged-mugai-header.eml"
	later headers-sanitised sanitised "$mail/forged-mugai-header.eml" \
	    "$mail/forged-mugai-header.expect" "$f"
fi
if arrived forged forged@example.jp 60; then
	later forged-spellings-gone headers "$f" "$T/msg/forged.eml"
fi
if arrived original bytes@example.jp 60; then
	mid=$(sed -n 's/^X-Mugai-Id: //p' "$f" | head -n 1)
	mugai quarantine list --json >"$T/list.json" 2>"$T/list.err"
	mugai quarantine export "$mid" -o "$T/bytes.orig" >/dev/null 2>&1
	later original-removed removed "$f" data.bin
	later original-byte-identical original "$T/bytes.orig" "$T/msg/bytes.eml"
	later original-queue-id qid "$f" "$T/milter.log" "$T/list.json"
	later original-headers headers "$f" "$T/msg/bytes.eml"
fi
if arrived big big@example.jp 120; then
	later big-body-whole big "$f" "$T/msg/big.txt"
	later big-removed removed "$f" setup.exe
fi
for name in $japanese; do
	arrived "japanese-$name" "$name@example.jp" 60 || continue
	later "japanese-$name-subject" subject "$f" "$mail/$name.eml"
	later "japanese-$name-body" sanitised "$mail/$name.eml" \
	    "$mail/$name.expect" "$f"
done
judge_later
check sanitised-queue-empty queue_empty 30
check sanitised-count eq "messages at the sink" "$(pf_sink_count "$S")" \
    "$expected"

# ---- refused -------------------------------------------------------------

send eicar "$T/msg/eicar.eml" eicar@example.jp
check virus-550 replied eicar \
    '550 5\.7\.1 Message refused: virus found \(Mugai\.Test\.EICAR'
check virus-milter-rejected pf_poll 10 sh -c \
    "grep -q ' action=rejected .*signatures=Mugai\.Test\.EICAR' '$T/milter.log'"
send over "$T/msg/over.eml" over@example.jp
check oversize-552 replied over '552 5\.3\.4 Message size exceeds'
check oversize-milter-log grep -q 'larger than max_message_size' "$T/milter.log"
# Over Sendmail's own MaxMessageSize: Sendmail refuses it at MAIL FROM.
size_refused() {
	sc size "$smtp" $((SM_MAX_MESSAGE_SIZE + 1)) >"$T/size.out" 2>&1
	grep -q '^552 5\.2\.3 ' "$T/size.out" || { cat "$T/size.out"; return 1; }
}
check oversize-sendmail-552 size_refused
check refused-nothing-relayed nothing_more "$expected"

# ---- milter killed in one SMTP transaction, then down: F=T -------------

# reap_milter - wait for the milter sendmail_check.py killed.
reap_milter() {
	pf_poll 10 pf__gone "$milter_pid" || kill -KILL "$milter_pid"
	wait "$milter_pid" 2>/dev/null
	milter_pid=
}
for mode in before-data mid-data at-eom; do
	check "midsession-$mode-4xx" sc smtp "$smtp" "$milter_pid" "$mode" \
	    "mid-$mode@example.jp" "$T/msg/big.eml"
	sed 's/^/    /' "$T/check.out"
	reap_milter
	[ "$mode" = at-eom ] || check "midsession-$mode-restart" start_milter
done
# The milter is down now.
send stopped "$mail/html-only.eml" stopped@example.jp
check stopped-451 replied stopped '451 4\.3\.2 '
check stopped-sendmail-log sm_wait_log "$S" \
    'Milter \(mugai\): error connecting to filter' 1 10
check stopped-nothing-accepted nothing_more "$expected"
check stopped-restart start_milter
check stopped-resend sent_ok stopped "$mail/html-only.eml" stopped@example.jp
expected=$((expected + 1))
if arrived stopped stopped@example.jp 60; then
	later stopped-delivered-sanitised html "$f"
fi

# ---- quarantine-only: smfi_quarantine holds the message in Sendmail ------

check held-milter-term stop_milter
check held-start start_milter -o quarantine_enable=no \
    -o virus_action=quarantine-only
send held "$T/msg/eicar.eml" held@example.jp
check held-accepted grep -q '^<-  250 .*Message accepted' "$T/held.swaks"
held1() { [ "$(sm_held_count "$S")" = 1 ]; }
check held-in-sendmail-quarantine pf_poll 10 held1
check held-sendmail-log sm_wait_log "$S" \
    'milter=mugai, quarantine=virus found: Mugai\.Test\.EICAR' 1 10
check held-nothing-relayed nothing_more "$expected"
# mailq -qQ lists the quarantined messages.
held_listed() {
	sm_run "$SM_ROOT/usr/libexec/sendmail/sendmail" \
	    -C "$S/etc/sendmail.cf" -bp -qQ >"$T/mailq.out" 2>&1
	grep -q 'virus found' "$T/mailq.out" || { cat "$T/mailq.out"; return 1; }
}
check held-mailq-qQ held_listed

# ---- end -----------------------------------------------------------------

judge_later
check end-queue-empty queue_empty 30
check end-count eq "messages at the sink" "$(pf_sink_count "$S")" "$expected"
all_sanitised() {
	for f in $(pf_sink_files "$S"); do
		grep -q '^X-Mugai-Status: sanitised' "$f" ||
		    { echo "$f is not sanitised"; return 1; }
	done
}
check end-all-sanitised all_sanitised
check end-milter-term stop_milter
check end-milter-log-clean sh -c "! grep -E 'temporary failure|MTA refused|AddressSanitizer|runtime error' '$T/milter.log'"
check end-sendmail-stop sm_stop "$S"
finish
