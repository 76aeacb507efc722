#!/bin/sh
# postfix-memory.sh BUILD FIXTURES - the milter's memory budget
# (milter_memory_max) through a real Postfix: messages larger than the
# whole budget are sanitised one at a time, none refused, and each gives
# its share back.
#
# lib-postfix.sh's private Postfix (messages up to 50 MB) with
# smtpd_milters = mugai-milter, milter_memory_max = 4M and
# milter_memory_wait = 30s.  Each message is 3 MB (a text and a binary
# attachment the text-only policy removes), so its share (twice its
# size) is more than the budget: it is sanitised only when no other
# message is, and it must still be.
#
#   alone   one message: delivered sanitised
#   crowd   6 more over 6 sessions at once (smtp-source, which stops at
#           the first reply that is not a success): all delivered, the
#           milter logged 7 delivered and no deferral, so every share
#           was given back (one kept would defer every later message
#           after milter_memory_wait)
#
# The milter's peak RSS above idle is printed, never judged.  Bounded:
# well under a minute.  Prints PASS/FAIL lines, then a count.
set -u
TEXT_ONLY="attachment_policy=text/plain text, * remove"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"
pf_setup postfix-memory "$@"

if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null 2>&1 ||
    ! command -v smtp-source >/dev/null 2>&1; then
	echo "postfix-memory: skipped (needs root, postfix and smtp-source)"
	exit 0
fi

smtp=$(pf_free_port)
sink=$(pf_free_port "$smtp")
mport=$(pf_free_port "$smtp" "$sink")
pf_milter_start "$build" "$T" "$testdb" "$mport" "$TEXT_ONLY" \
    milter_memory_max=4M milter_memory_wait=30s
started=$?
milter_pid=$pf_milter_pid	# stopped by pf_cleanup whatever happened
if [ "$started" -ne 0 ]; then
	fail start "mugai-milter did not start: $(tail -n 3 "$T/milter.log")"
	finish
fi
if ! pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" ||
    ! pf_conf "$P" message_size_limit=52428800; then
	fail start "Postfix did not start"
	finish
fi

python3 - "$T/m.eml" <<'PY'
import base64, random, sys
data = random.Random(15).randbytes(2200 * 1024)
open(sys.argv[1], "w").write(
    "From: Memory <memory@example.org>\n"
    "To: Staff <staff@memory.example>\n"
    "Subject: memory budget\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"mem\"\n\n"
    "--mem\nContent-Type: text/plain; charset=UTF-8\n\n"
    "The attachment goes, the text stays.\n"
    "--mem\nContent-Type: application/octet-stream; name=\"d.bin\"\n"
    "Content-Disposition: attachment; filename=\"d.bin\"\n"
    "Content-Transfer-Encoding: base64\n\n" +
    base64.encodebytes(data).decode() + "--mem--\n")
PY
idle=$(awk '/^VmHWM/ { print $2 }' "/proc/$pf_milter_pid/status")

# sanitised N - N messages at the sink, each sanitised: the attachment
# removed (told in X-Mugai-Status), no part named d.bin left.
sanitised() {
	pf_wait_sink "$P" "$1" 120 || {
		echo "$(pf_sink_count "$P") of $1 at the sink"
		return 1
	}
	for f in $(pf_sink_files "$P"); do
		grep -q '^X-Mugai-Status: sanitised;.* removed=1' "$f" &&
		    ! grep -q 'd\.bin"' "$f" || {
			echo "$f: not sanitised"
			return 1
		}
	done
}

if pf_send_file "$smtp" "$T/m.eml" --from memory@example.org \
    --to staff@memory.example && sanitised 1 >"$T/check.out" 2>&1; then
	pass alone
else
	fail alone "$(head -c 400 "$T/check.out" "$PF_SEND_LOG" | tr '\n' ' ')"
fi

crowd() {
	smtp-source -s 6 -m 6 -F "$T/m.eml" -f memory@example.org \
	    -t staff@memory.example "127.0.0.1:$smtp" || {
		echo "smtp-source: exit $?"
		return 1
	}
	sanitised 7 || return 1
	n=$(grep -c 'action=delivered' "$T/milter.log")
	[ "$n" -eq 7 ] || { echo "$n messages logged delivered, want 7"; return 1; }
	! grep 'did not fit' "$T/milter.log"
}
check crowd crowd
peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$pf_milter_pid/status")
echo "postfix-memory: milter peak RSS $((peak / 1024)) MB, idle" \
    "$((idle / 1024)) MB (7 messages of 3 MB, one at a time)"
finish
