#!/bin/sh
# milter-signals.sh BUILD FIXTURES - mugai-milter survives signals sent
# at any moment, and a listener that ends by itself is a failure.
#
#   hup         50 SIGHUPs at random moments (0 to 0.3 s apart) from the
#               very start (before and while the ClamAV database loads)
#               through the reloads they cause, with
#               clamav_check_interval=0 (reloads in the main thread):
#               afterwards the milter is alive, its log has no "listener
#               ended", it reloaded at least once and never more often
#               than it was asked, and a message goes through
#               (tests/miltertest/serve.lua); then SIGTERM: exit 0
#   hup-watcher the same with 25 SIGHUPs and clamav_check_interval=1
#               (reloads in the scanner's watcher thread)
#   listener    libmilter's listener made to end without our asking
#               (gdb calls smfi_stop() in the running milter): the
#               milter logs it and exits 70 (EX_SOFTWARE), so that
#               systemd's Restart=on-failure starts it again
#
# Nothing waits for a fixed time but the random gaps between signals.
set -u
if [ $# -ne 2 ]; then
	echo "usage: milter-signals.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)
mtdir=$(cd "$here/../miltertest" && pwd)
MILTER=$build/mugai-milter
testdb=${MUGAI_TESTDB:-$build/testdb}
TIMEOUT=120

CK_SUITE=milter-signals
. "$here/lib-check.sh"

if [ ! -x "$MILTER" ] || [ ! -d "$testdb" ]; then
	fail setup "$MILTER or the test database $testdb is missing"
	finish
fi
if ! command -v miltertest >/dev/null 2>&1; then
	fail setup "miltertest is not installed (sh scripts/setup)"
	finish
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/milter-signals.XXXXXX") || exit 1
pids=
cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# poll SECONDS COMMAND... - every 0.1 s until COMMAND succeeds.
poll() {
	tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# gone PID - the process has ended (a zombie counts).
gone() {
	[ ! -e "/proc/$1/stat" ] ||
	    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}
alive() { ! gone "$1"; }

# blocking PID - PID runs our code and blocks SIGHUP: from here on a
# SIGHUP is the milter's to handle (before, it is the default action:
# the process has not even reached main).
blocking() {
	awk '/^SigBlk:/ { exit !(substr($2, length($2)) ~ /[13579bdf]/) }' \
	    "/proc/$1/status"
}

# reap PID - wait for PID to end by itself; $status is its exit status.
reap() {
	if poll "$TIMEOUT" gone "$1"; then
		wait "$1"
		status=$?
	else
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		status=timeout
	fi
}

count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# A random pause of 0 to 0.3 s.
pause() {
	sleep "$(od -An -N2 -tu2 /dev/urandom |
	    awk '{ printf "%.3f", ($1 % 300) / 1000 }')"
}

# start NAME [ARG...] - a milter in the foreground in $T/NAME; $mpid.
start() {
	sd=$T/$1
	shift
	mkdir -p "$sd"
	printf 'max_message_size = 10485760\n' > "$sd/mugai.cf"
	"$MILTER" -f -e -c "$sd/mugai.cf" -o milter_socket="unix:$sd/sock" \
	    -o pid_file="$sd/pid" -o spool_dir="$sd/spool" \
	    -o quarantine_dir="$sd/q" -o audit_log="$sd/audit.jsonl" \
	    -o clamav_database_dir="$testdb" -o milter_body_chunk=1000 \
	    "$@" </dev/null >"$sd/stdout" 2>"$sd/milter.log" &
	mpid=$!
	pids="$pids $mpid"
}

# serve NAME - one message through the milter NAME (serve.lua).
serve() {
	miltertest -D lib="$mtdir/lib.lua" -D T="$T" -D sock="$T/$1/sock" \
	    -D log="$T/$1/milter.log" -D pid="$mpid" -D spool="$T/$1/spool" \
	    -D MSG="$fixtures/mail/plain-ascii.eml" -D QID="SIG$1" \
	    -s "$mtdir/serve.lua" > "$T/$1/serve.out" 2>&1
}

# hups NAME N [ARG...] - the SIGHUP test on a milter started with ARGs.
hups() {
	name=$1
	n=$2
	shift 2
	start "$name" "$@"
	log=$T/$name/milter.log
	poll "$TIMEOUT" blocking "$mpid"
	i=0
	while [ $i -lt "$n" ] && alive "$mpid"; do
		# The first few land before or while the database loads.
		[ $i -lt 5 ] || pause
		kill -HUP "$mpid" 2>/dev/null
		i=$((i + 1))
	done
	check "$name: alive after $n SIGHUPs" alive "$mpid"
	check "$name: started" poll "$TIMEOUT" grep -q "started on" "$log"
	if [ "$(count "$log" "listener ended")" -ne 0 ]; then
		fail "$name: listener kept" "$(grep "listener ended" "$log")"
	else
		pass "$name: listener kept"
	fi
	# The reloads the signals asked for are done when serve.lua is.
	if serve "$name"; then
		pass "$name: serving"
	else
		fail "$name: serving" "$(tail -n 3 "$T/$name/serve.out" |
		    tr '\n' ' ')"
	fi
	reloads=$(count "$log" "reloading on signal")
	check "$name: reloaded (1..$n times, $reloads)" \
	    test "$reloads" -ge 1 -a "$reloads" -le "$n"
	kill -TERM "$mpid" 2>/dev/null
	reap "$mpid"
	check "$name: SIGTERM exits 0 (status $status)" test "$status" = 0
}

hups hup 50 -o clamav_check_interval=0
hups hup-watcher 25 -o clamav_check_interval=1

# The listener ends without our asking: exit 70, logged.
if command -v gdb >/dev/null 2>&1; then
	start listener
	log=$T/listener/milter.log
	if poll "$TIMEOUT" grep -q "started on" "$log"; then
		gdb -p "$mpid" -batch -ex 'call (int) smfi_stop()' \
		    > "$T/gdb.out" 2>&1
		reap "$mpid"
		check "listener: exit 70 (status $status)" test "$status" = 70
		check "listener: logged" grep -q \
		    "listener ended unexpectedly" "$log"
	else
		fail listener "did not start: $(tail -n 3 "$log")"
	fi
else
	fail listener "gdb is not installed (sh scripts/setup)"
fi
finish
