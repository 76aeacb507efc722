#!/bin/sh
# postfix.sh [BUILD] - mail through a real Postfix, with and without
# mugai-milter: messages/s and per-message latency.  A benchmark, not a
# test: it prints a table and fails only when something cannot run
# (without root or Postfix it says so and skips).
#
# Three private Postfix instances (tests/e2e/lib-postfix.sh) run side
# by side, each relaying to its own smtp-sink:
#
#   no      no milter
#   inet    smtpd_milters = BUILD/mugai-milter on a loopback TCP port
#   unix    smtpd_milters = a second mugai-milter on a unix socket (the
#           default milter_socket form)
#
# Both milters use the test ClamAV database and private quarantines.
# bench/postfix-client.py sends each message N times over CONC parallel
# SMTP connections (Python smtplib, one session per connection) to one
# instance, then the next, so the instances take turns.
#
# Over TCP, libmilter's replies at the end of a message (header edits,
# body, verdict) are several small writes; Nagle's algorithm holds each
# until the last is acknowledged, and Postfix, which sends nothing back
# meanwhile, acknowledges late (delayed ACK, 40 ms on Linux).  That
# costs tens of milliseconds a message that a unix socket does not:
# compare the inet and unix rows.
#
#   accept/s   messages Postfix accepted (250 after the data) per second
#   e2e/s      messages per second until the last one reached the sink
#   p50, p99   latency of one message: from the start of its transaction
#              (MAIL FROM) to the 250 after its data, in ms; with the
#              milter that includes sanitising, scanning and quarantine
#
# Messages: 10 KB of UTF-8 text, and 100 KB of HTML with a 20 KB PDF
# attachment (converted and removed; the original is quarantined).
# POSTFIX_BENCH_N (default 400) and POSTFIX_BENCH_CONC (default 4) set N
# and CONC.
set -eu
build=${1:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
n=${POSTFIX_BENCH_N:-400}
conc=${POSTFIX_BENCH_CONC:-4}
testdb=$build/testdb

if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null 2>&1 ||
    ! command -v smtp-sink >/dev/null 2>&1; then
	echo "postfix bench: skipped (needs root, postfix and smtp-sink;" \
	    "run scripts/setup)"
	exit 0
fi
for f in "$build/mugai-milter" "$testdb/mugai.ndb"; do
	[ -e "$f" ] || { echo "postfix bench: no $f; run make" >&2; exit 1; }
done

. "$top/tests/e2e/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/postfix-bench.XXXXXX")
milter_pid=
milter2_pid=
cleanup() {
	pf_stop "$T/inet" || true
	pf_stop "$T/unix" || true
	pf_stop "$T/no" || true
	for p in $milter_pid $milter2_pid; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
chmod 755 "$T"

ports=
port() { # port VAR - a free port, not one handed out before
	p=$(pf_free_port $ports)
	ports="$ports $p"
	eval "$1=\$p"
}
port mport; port smtp_inet; port sink_inet; port smtp_unix; port sink_unix
port smtp_no; port sink_no

# milter NAME SOCKET VAR - start a mugai-milter in $T/NAME, its pid in
# VAR.  Not run in $(...): the shell would wait for the milter's stdout.
milter() {
	mkdir -p "$T/$1"
	chmod 755 "$T/$1"
	"$build/mugai-milter" -f -e -o "milter_socket=$2" \
	    -o "pid_file=$T/$1/pid" -o "spool_dir=$T/$1/spool" \
	    -o "quarantine_dir=$T/$1/q" -o "audit_log=$T/$1/audit.jsonl" \
	    -o "clamav_database_dir=$testdb" </dev/null >"$T/$1/log" 2>&1 &
	eval "$3=\$!"
}
milter_up() {
	grep -q 'started on' "$T/$1/log" || ! kill -0 "$2" 2>/dev/null
}
milter m-inet "inet:$mport@127.0.0.1" milter_pid
milter m-unix "unix:$T/m-unix/sock" milter2_pid
for m in "m-inet $milter_pid" "m-unix $milter2_pid"; do
	set -- $m
	pf_poll 60 milter_up "$1" "$2" || true
	if ! grep -q 'started on' "$T/$1/log"; then
		echo "postfix bench: mugai-milter ($1) did not start:" >&2
		cat "$T/$1/log" >&2
		exit 1
	fi
done
# The socket is root's, 0660; Postfix's smtpd runs as postfix.
chmod 666 "$T/m-unix/sock"
pf_start "$T/inet" "$smtp_inet" "$sink_inet" "inet:127.0.0.1:$mport"
pf_start "$T/unix" "$smtp_unix" "$sink_unix" "unix:$T/m-unix/sock"
pf_start "$T/no" "$smtp_no" "$sink_no"

python3 "$here/postfix-client.py" gen "$T/corpus"

# run INSTANCE PORT FILE N - send, wait for the sink; print one JSON line
# with the client's numbers and the seconds until the last arrival.
run() {
	before=$(pf_sink_count "$1")
	start=$(date +%s.%N)
	python3 "$here/postfix-client.py" send "$2" "$3" "$4" "$conc" \
	    bench@example.jp >"$T/run.json"
	sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' \
	    "$T/run.json")
	if ! pf_wait_sink "$1" $((before + sent)) 300; then
		echo "postfix bench: only $(($(pf_sink_count "$1") - before)) of" \
		    "$sent messages reached the sink of $1" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	pf_wait_queue_empty "$1" 60 || true
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
r["e2e_s"] = float(sys.argv[3]) - float(sys.argv[2])
print(json.dumps(r))' "$T/run.json" "$start" "$end"
}

# Warm up: smtpd processes started, the milter's first messages done.
for f in text-10k html-100k-attach; do
	run "$T/no" "$smtp_no" "$T/corpus/$f.eml" 20 >/dev/null
	run "$T/inet" "$smtp_inet" "$T/corpus/$f.eml" 20 >/dev/null
	run "$T/unix" "$smtp_unix" "$T/corpus/$f.eml" 20 >/dev/null
done

echo "Postfix $(postconf -d -h mail_version) on loopback, $n messages per run" \
    "over $conc connections"
printf '%-26s %-7s %9s %9s %8s %8s %8s %8s\n' message milter accept/s e2e/s \
    p50_ms p99_ms max_ms refused
for f in text-10k html-100k-attach; do
	size=$(wc -c <"$T/corpus/$f.eml")
	for mode in no inet unix; do
		eval "port=\$smtp_$mode"
		run "$T/$mode" "$port" "$T/corpus/$f.eml" "$n" >"$T/res.json"
		python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
name = "%s (%d KB)" % (sys.argv[2], int(sys.argv[4]) // 1024)
acc = r["sent"] / r["wall_s"] if r["wall_s"] else 0
e2e = r["sent"] / r["e2e_s"] if r["e2e_s"] else 0
print("%-26s %-7s %9.1f %9.1f %8s %8s %8s %8d" % (name, sys.argv[3], acc, e2e,
      r["p50_ms"], r["p99_ms"], r["max_ms"], r["refused"]))
if r["refused"]:
    print("    refused: %s" % "; ".join(r["why"]))' "$T/res.json" "$f" \
		    "$mode" "$size"
	done
done

# Not judged, but said: did the milters sanitise what they passed?
for mode in inet unix; do
	total=$(pf_sink_count "$T/$mode")
	clean=$(pf_sink_files "$T/$mode" |
	    xargs -r grep -l '^X-Mugai-Status: sanitised' | wc -l)
	echo "milter over $mode: $clean of $total messages at the sink" \
	    "carry X-Mugai-Status"
done
