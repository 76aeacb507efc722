# lib-postfix.sh - a private Postfix instance on loopback, for e2e tests.
#
# Source it (POSIX sh, "set -u" safe; Linux: reads /proc), as root:
#
#	. "$(dirname "$0")/lib-postfix.sh"
#	smtp=$(pf_free_port) && sink=$(pf_free_port "$smtp") || exit 1
#	trap 'pf_stop "$T/pf"' EXIT
#	trap 'exit 130' INT TERM HUP PIPE	# signals run the EXIT trap
#	pf_start "$T/pf" "$smtp" "$sink" inet:127.0.0.1:$mport || ...
#	pf_send "$smtp" --data @msg.eml --from a@example.org --to b@example.jp
#	pf_wait_sink "$T/pf" 1 30 && pf_sink_files "$T/pf"
#
# An instance lives entirely in DIR; several can run at once (one DIR and
# two ports each).  /etc/postfix, /var/spool/postfix and port 25 are not
# used, so a system Postfix is left alone (its main.cf need not exist).
#
#	DIR/etc/	main.cf, master.cf (postconf -c DIR/etc works)
#	DIR/queue/	queue_directory (pid/master.pid is the master's pid)
#	DIR/data/	data_directory
#	DIR/sink/	one file per message the next hop (smtp-sink) received
#	DIR/maillog	Postfix's log (postlogd; no syslog daemon needed)
#	DIR/sink.pid, DIR/sink.log, DIR/start.log, DIR/swaks.log
#
# Postfix relays everything it accepts to [127.0.0.1]:SINK_PORT, where
# smtp-sink(1) writes each message ("-d" dump format: X-Client-Addr,
# X-Helo-Args, X-Mail-Args, X-Rcpt-Args and a Received header, then the
# message with LF line ends, then one empty line).  smtp-sink creates
# the file at MAIL FROM and writes it as data arrives; it closes it at
# the final "." before it replies 250 (and unlinks it when a transaction
# is aborted).  So a file is complete exactly when smtp-sink no longer
# holds it open, which is what pf_sink_files checks in /proc.
#
# DIR must be absolute, without glob characters, and its parents must
# be searchable by the postfix and nobody users: pf_start makes DIR
# 0755 but not its parents ("chmod 755" a mktemp -d directory first).
#
# Functions return 0 on success, 1 on failure or timeout.  Names
# starting with "pf__" are internal; all variables used are "pf_*".

case ${0##*/} in
lib-postfix.sh)			# run as a test by tests/run-e2e: nothing to do
	echo "SKIP lib-postfix (a library for the postfix-* tests)"
	exit 0 ;;
esac

# Transcript of the last pf_send; pf_start sets it to DIR/swaks.log
# unless the caller chose a file.
PF_SEND_LOG=${PF_SEND_LOG:-}
# User smtp-sink runs as (it needs -u when started by root).
PF_SINK_USER=${PF_SINK_USER:-nobody}

# pf_free_port [EXCLUDE...] - print a TCP port that is free on 127.0.0.1,
# chosen at random below the kernel's ephemeral range (so no outgoing
# connection takes it meanwhile) and not one of EXCLUDE.  Another
# process may still bind it before the caller does; pf_start then fails.
pf_free_port() {
	python3 - "$@" <<'EOF'
import random, socket, sys
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
hi = lo - 1 if lo > 20000 else 60999
lo = 20000 if lo > 20000 else lo + 1
for _ in range(1000):
    port = random.randint(lo, hi)
    if str(port) in sys.argv[1:]:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("pf_free_port: no free port")
EOF
}

# pf_start DIR SMTP_PORT SINK_PORT [MILTER_SOCKET] - write DIR's config,
# start smtp-sink on 127.0.0.1:SINK_PORT and Postfix's smtpd on
# 127.0.0.1:SMTP_PORT, with MILTER_SOCKET (e.g. inet:127.0.0.1:PORT) as
# smtpd_milters when given.  Returns once both listen; on failure says
# why on stderr, stops whatever it started and returns 1.
pf_start() {
	if [ $# -lt 3 ] || [ $# -gt 4 ]; then
		echo "usage: pf_start DIR SMTP_PORT SINK_PORT [MILTER]" >&2
		return 1
	fi
	case $1 in
	/*)	;;
	*)	echo "pf_start: DIR must be an absolute path: $1" >&2
		return 1 ;;
	esac
	pf__searchable "$1" || return 1
	if pf_master_pid "$1" >/dev/null || pf__sink_pid "$1" >/dev/null; then
		echo "pf_start: $1 runs already (pf_stop it first)" >&2
		return 1
	fi
	# postfix(1) chdirs to queue_directory before anything else, so
	# it must exist; "postfix check" creates the rest of it.
	mkdir -p "$1/etc" "$1/queue" "$1/sink" && chmod 755 "$1" "$1/queue" &&
	    chown "$PF_SINK_USER" "$1/sink" || return 1
	pf__main_cf "$@" > "$1/etc/main.cf" &&
	    pf__master_cf "$2" > "$1/etc/master.cf" &&
	    chmod 644 "$1/etc/main.cf" "$1/etc/master.cf" &&
	    pf__cool "$1" || return 1
	PF_SEND_LOG=${PF_SEND_LOG:-$1/swaks.log}
	if pf__start_sink "$1" "$3" && pf__start_postfix "$1" "$2"; then
		return 0
	fi
	pf_stop "$1"
	return 1
}

# pf_stop DIR - stop DIR's Postfix (master and every daemon it started)
# and its smtp-sink, and wait until they are gone.  Safe to call twice,
# or for a DIR whose pf_start failed or never ran (EXIT traps).
pf_stop() {
	pf__stop_postfix "$1"
	pf_rc=$?
	pf__stop_sink "$1" || return 1
	return "$pf_rc"
}

# pf_conf DIR NAME=VALUE... - change main.cf settings (postconf -e) and
# reload Postfix when it runs.  Daemons already running finish their
# current work with the old settings.
pf_conf() {
	pf_d=$1
	shift
	postconf -c "$pf_d/etc" -e "$@" && pf__cool "$pf_d" || return 1
	pf_master_pid "$pf_d" >/dev/null || return 0
	postfix -c "$pf_d/etc" reload >>"$pf_d/start.log" 2>&1
}

# pf_master_pid DIR - print the pid of DIR's running master process;
# returns 1 when it does not run.
pf_master_pid() {
	pf_m=$(sed -n '1s/[^0-9]//gp' "$1/queue/pid/master.pid" 2>/dev/null)
	# A stale pid file may name another process by now: the master
	# runs in queue_directory.
	[ -n "$pf_m" ] && pf__alive "$pf_m" &&
	    [ "$(readlink "/proc/$pf_m/cwd")" = "$(cd "$1/queue" && pwd -P)" ] ||
	    return 1
	echo "$pf_m"
}

# pf_sink_files DIR - print the paths of the complete messages in
# DIR/sink, oldest first to the second (names: YYYYmmdd-HHMMSS.RANDOM).
pf_sink_files() {
	pf_d=$1
	# List first, then see what is open: a file created in between is
	# not listed, one finished in between is complete.
	set -- "$pf_d"/sink/*
	pf_open=$(pf__sink_open "$pf_d")
	for pf_f in "$@"; do
		case $pf_open in *"|$pf_f|"*) continue ;; esac
		# Gone now: an aborted transaction (unlinked before closed).
		[ -f "$pf_f" ] && printf '%s\n' "$pf_f"
	done
	return 0
}

# pf_sink_count DIR - print how many complete messages DIR/sink holds.
pf_sink_count() {
	pf_sink_files "$1" | wc -l | tr -d ' '
}

# pf_sink_for DIR RCPT - print the complete sink files under DIR whose
# envelope has recipient RCPT.
pf_sink_for() {
	pf_sink_files "$1" | while IFS= read -r pf_f; do
		grep -l "^X-Rcpt-Args: <$2>" "$pf_f"
	done
}

pf__has_rcpt() { [ -n "$(pf_sink_for "$1" "$2")" ]; }

# pf_one DIR RCPT TIMEOUT - wait up to TIMEOUT seconds for a message to
# RCPT at DIR's sink; exactly one must be there.  Prints its file, or
# says how many there were and fails.
pf_one() {
	pf_poll "$3" pf__has_rcpt "$1" "$2"
	pf_files=$(pf_sink_for "$1" "$2")
	pf_n=$(printf '%s' "$pf_files" | grep -c .)
	if [ "$pf_n" -ne 1 ]; then
		echo "$pf_n messages to <$2> at the sink, want 1"
		return 1
	fi
	printf '%s\n' "$pf_files"
}

# pf_wait_sink DIR N TIMEOUT - wait up to TIMEOUT seconds until DIR/sink
# holds at least N complete messages.
pf_wait_sink() {
	pf_poll "$3" pf__sink_has "$1" "$2"
}

# pf_queue_count DIR - print how many messages DIR's queue holds
# (postqueue -j: incoming, active, deferred, hold, maildrop).
pf_queue_count() {
	pf_q=$(postqueue -c "$1/etc" -j) || return 1
	[ -n "$pf_q" ] || { echo 0; return 0; }
	printf '%s\n' "$pf_q" | grep -c '^{'
}

# pf_wait_queue_empty DIR TIMEOUT - wait up to TIMEOUT seconds until
# DIR's queue is empty.
pf_wait_queue_empty() {
	pf_poll "$2" pf__queue_empty "$1"
}

# pf_log DIR - print DIR's Postfix log so far.  postlogd writes it
# asynchronously: use pf_wait_log to wait for a line.
pf_log() {
	cat "$1/maillog" 2>/dev/null
}

# pf_log_trouble DIR ERE - print the lines of DIR's Postfix log that
# match the extended regexp ERE, less the two warnings cleanup(8) gives
# when the file system's clock and the local clock differ by a second
# ("file system clock is N seconds ahead", "resetting file time
# stamps").  On a virtual machine that happens by chance under load: it
# says nothing about the milter or the mail, and a test that counted it
# as trouble would fail at random.
pf_log_trouble() {
	grep -E -e "$2" "$1/maillog" 2>/dev/null |
	    grep -vE 'warning: file system clock is [0-9]+ seconds? (ahead|behind)|warning: resetting file time stamps'
}

# pf_wait_log DIR ERE N TIMEOUT - wait up to TIMEOUT seconds until at
# least N lines of DIR's Postfix log match the extended regexp ERE.
pf_wait_log() {
	pf_poll "$4" pf__log_has "$1" "$2" "$3"
}

# pf_poll TIMEOUT COMMAND [ARG...] - run COMMAND every 0.1 s until it
# succeeds (0) or TIMEOUT seconds have passed (1).  The waits above
# use it; tests can too.
pf_poll() {
	pf__clock
	pf_end=$((pf_now + $1 * 100))
	shift
	until "$@"; do
		pf__clock
		[ "$pf_now" -lt "$pf_end" ] || return 1
		sleep 0.1
	done
}

# pf_milter_start BUILD DIR TESTDB PORT [OPTION...] - start
# BUILD/mugai-milter in the background on inet:PORT@127.0.0.1, with its
# pid file, spool, quarantine (DIR/q) and audit log (DIR/audit.jsonl) in
# DIR, the ClamAV database TESTDB and each OPTION as "-o OPTION"; its log
# goes to DIR/milter.log.  Sets pf_milter_pid.  Returns 0 once the log has
# one more "started on" line than before, 1 when the milter died first
# or did not start within 60 s.
pf_milter_start() {
	pf_mb=$1 pf_md=$2 pf_mdb=$3 pf_mport=$4
	shift 4
	for pf_mo in "$@"; do
		set -- "$@" -o "$pf_mo"
		shift
	done
	pf_mstarts=$(grep -c 'started on' "$pf_md/milter.log" 2>/dev/null)
	"$pf_mb/mugai-milter" -f -e \
	    -o "milter_socket=inet:$pf_mport@127.0.0.1" \
	    -o "pid_file=$pf_md/pid" -o "spool_dir=$pf_md/spool" \
	    -o "quarantine_dir=$pf_md/q" -o "audit_log=$pf_md/audit.jsonl" \
	    -o "clamav_database_dir=$pf_mdb" "$@" \
	    </dev/null 2>>"$pf_md/milter.log" &
	pf_milter_pid=$!
	pf_poll 60 pf__milter_up
	[ "$(grep -c 'started on' "$pf_md/milter.log")" -gt "${pf_mstarts:-0}" ]
}

pf__milter_up() {
	[ "$(grep -c 'started on' "$pf_md/milter.log" 2>/dev/null)" -gt \
	    "${pf_mstarts:-0}" ] || ! kill -0 "$pf_milter_pid" 2>/dev/null
}

# pf_milter_up BUILD DIR TESTDB PORT [OPTION...] - pf_milter_start, for
# a test that starts (and restarts) its milter inside checks: also sets
# milter_pid (see pf_setup) to the new milter, even when it fails, and
# the milter must still run once it has logged its new "started on"
# line.  A later start reuses DIR's spool and quarantine, as a restart
# does.  On failure prints "mugai-milter did not start:" and the last
# lines of DIR/milter.log on stdout (check's reason) and returns 1.
pf_milter_up() {
	pf_milter_start "$@"
	pf_mrc=$?
	milter_pid=$pf_milter_pid
	[ "$pf_mrc" -eq 0 ] && pf_alive "$milter_pid" && return 0
	echo "mugai-milter did not start: $(tail -n 3 "$2/milter.log")"
	return 1
}

# pf_alive PID - the process exists and is not a zombie.
pf_alive() {
	pf__alive "$1"
}

# pf_setup NAME BUILD FIXTURES - the start that the postfix-NAME.sh
# tests with a milter share.  Set "here" (the script's directory) and
# source this file first, then pass the script's arguments:
#
#	here=$(cd "$(dirname "$0")" && pwd)
#	. "$here/lib-postfix.sh"
#	pf_setup postfix-NAME "$@"
#
# Says the usage and exits 64 unless there are two arguments.  Sets
#	build		BUILD, made absolute
#	fixtures	FIXTURES, made absolute
#	testdb		$MUGAI_TESTDB, or BUILD/testdb
#	T		a new directory, 0755 (Postfix's daemons and
#			smtp-sink go through it), removed on exit
#	P		$T/pf, for pf_start (empty: nothing to stop)
#	milter_pid	empty: the test sets it to the mugai-milter it
#			starts (after pf_milter_start: $pf_milter_pid;
#			pf_milter_up sets it)
# and sources lib-check.sh with CK_SUITE=NAME.  On exit (INT, TERM, HUP
# and PIPE exit too) pf_cleanup runs the test's function
# pf_cleanup_hook when there is one, stops P's Postfix, sends
# $PF_MILTER_SIGNAL (TERM unless set) to milter_pid and waits for it,
# and removes T.
pf_setup() {
	if [ $# -ne 3 ]; then
		echo "usage: $1.sh BUILD FIXTURES" >&2
		exit 64
	fi
	build=$2
	case $build in /*) ;; *) build=$(pwd)/$build ;; esac
	fixtures=$3
	case $fixtures in /*) ;; *) fixtures=$(pwd)/$fixtures ;; esac
	testdb=${MUGAI_TESTDB:-$build/testdb}
	T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	P=$T/pf
	milter_pid=
	trap pf_cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE	# and clean up (EXIT)
	chmod 755 "$T"
	CK_SUITE=$1
	. "$here/lib-check.sh"
}

# pf_cleanup - what pf_setup arranges for the exit.
pf_cleanup() {
	if command -v pf_cleanup_hook >/dev/null 2>&1; then
		pf_cleanup_hook
	fi
	[ -z "$P" ] || pf_stop "$P"
	if [ -n "$milter_pid" ]; then
		kill "-${PF_MILTER_SIGNAL:-TERM}" "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
	fi
	rm -rf "$T"
}

# pf_send PORT SWAKS_ARGS... - send with swaks to 127.0.0.1:PORT, e.g.
# pf_send "$smtp" --data @m.eml --from a@example.org --to b@example.jp
# Quiet: the transcript goes to $PF_SEND_LOG.  Returns swaks' status.
# Mind that swaks edits --data: it replaces "\n" (backslash, n) and
# tokens such as %DATE% anywhere in it, drops a leading "From " line
# and ends the message with an extra empty line.  pf_send_file does not.
pf_send() {
	pf_port=$1
	shift
	swaks --server 127.0.0.1 --port "$pf_port" "$@" \
	    >"${PF_SEND_LOG:?pf_send: set PF_SEND_LOG or call pf_start}" 2>&1
}

# pf_send_file PORT FILE SWAKS_ARGS... - pf_send FILE's bytes unchanged
# but for CRLF line ends (swaks --no-data-fixup, after dot-stuffing the
# file into $PF_SEND_LOG.data).
pf_send_file() {
	pf_port=$1
	pf_data=${PF_SEND_LOG:?pf_send: set PF_SEND_LOG or call pf_start}.data
	python3 -c '
import re, sys
d = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())
if d and not d.endswith(b"\r\n"):
    d += b"\r\n"
sys.stdout.buffer.write(re.sub(rb"(?m)^\.", b"..", d) + b".")
' "$2" >"$pf_data" || return 1
	shift 2
	pf_send "$pf_port" --no-data-fixup --data "@$pf_data" "$@"
}

# ---- internals ---------------------------------------------------------

# pf__searchable DIR - every directory above DIR lets others search it
# (Postfix's daemons and smtp-sink do not run as root).
pf__searchable() {
	pf_p=$1
	while pf_p=$(dirname "$pf_p"); [ "$pf_p" != / ]; do
		[ -d "$pf_p" ] || continue
		case $(stat -L -c %A "$pf_p") in
		*x|*t)	;;
		*)	echo "pf_start: postfix and $PF_SINK_USER cannot" \
			    "search $pf_p (chmod o+x it)" >&2
			return 1 ;;
		esac
	done
}

# pf__main_cf DIR SMTP_PORT SINK_PORT [MILTER] - print main.cf.
pf__main_cf() {
	cat <<EOF
# Private Postfix instance for mugai's end-to-end tests (lib-postfix.sh).
compatibility_level = 3.6
queue_directory = $1/queue
data_directory = $1/data
maillog_file = $1/maillog
maillog_file_prefixes = $1
myhostname = mugai-test.invalid
myorigin = \$myhostname
mydestination =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$3
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
in_flow_delay = 0
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connection_cache_on_demand = yes
default_destination_concurrency_limit = 10
EOF
	[ $# -ge 4 ] || return 0
	cat <<EOF
smtpd_milters = $4
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 60s
milter_content_timeout = 120s
EOF
}

# pf__master_cf SMTP_PORT - print master.cf: only what relaying needs,
# nothing chrooted, no local delivery.
pf__master_cf() {
	cat <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$1 inet n	-	n	-	-	smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
flush     unix  n       -       n       1000?   0       flush
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf__cool DIR - date DIR's config files back.  Every Postfix program
# rereads a main.cf changed in the last second or so until it "cools
# down", pausing 0.3 s at a time: 1.5 s per program after a write.
pf__cool() {
	touch -t 200001010000 "$1/etc/main.cf" "$1/etc/master.cf"
}

# pf__start_sink DIR PORT - start smtp-sink, wait until it listens.
pf__start_sink() {
	# The dump template goes through strftime(3): double any "%".
	pf_t=$(printf '%s' "$1/sink/" | sed 's/%/%%/g')%Y%m%d-%H%M%S.
	smtp-sink -4 -u "$PF_SINK_USER" -d "$pf_t" "127.0.0.1:$2" 64 \
	    </dev/null >"$1/sink.log" 2>&1 &
	pf_s=$!
	echo "$pf_s" > "$1/sink.pid"
	pf_poll 10 pf__up_or_gone "$pf_s" "$2"
	if ! pf__listening "$pf_s" "$2"; then
		echo "pf_start: smtp-sink does not listen on 127.0.0.1:$2," \
		    "or not alone (port in use?):" >&2
		cat "$1/sink.log" >&2
		return 1
	fi
}

# pf__start_postfix DIR PORT - start Postfix and wait until smtpd's port
# listens.  "postfix start" runs the checks of "postfix check" first
# (creating the queue directories) and "master -w" returns once the
# master runs.  Check warnings go only to DIR/maillog, not to stderr.
pf__start_postfix() {
	if ! postfix -c "$1/etc" start >"$1/start.log" 2>&1; then
		echo "pf_start: postfix -c $1/etc start failed:" >&2
		cat "$1/start.log" "$1/maillog" >&2 2>/dev/null
		return 1
	fi
	pf_m=$(pf_master_pid "$1") && pf_poll 10 pf__up_or_gone "$pf_m" "$2" &&
	    pf__listening "$pf_m" "$2" && return 0
	echo "pf_start: Postfix does not listen on 127.0.0.1:$2," \
	    "or not alone (port in use?):" >&2
	cat "$1/start.log" "$1/maillog" >&2 2>/dev/null
	return 1
}

# pf__stop_postfix DIR - TERM the master (it passes it on to its process
# group), wait for the group to go; KILL what is left after 10 s.
pf__stop_postfix() {
	pf_m=$(pf_master_pid "$1") || return 0
	postfix -c "$1/etc" abort >/dev/null 2>&1 || kill -TERM "$pf_m"
	pf_poll 10 pf__group_gone "$pf_m" && return 0
	echo "pf_stop: Postfix of $1 did not stop, killing it" >&2
	for pf_p in $(pf__group "$pf_m"); do
		kill -KILL "$pf_p" 2>/dev/null
	done
	pf_poll 5 pf__group_gone "$pf_m"
}

# pf__sink_pid DIR - print the pid of DIR's running smtp-sink (a stale
# DIR/sink.pid may name another program by now).
pf__sink_pid() {
	pf_s=$(cat "$1/sink.pid" 2>/dev/null) && pf__alive "$pf_s" || return 1
	case $(readlink "/proc/$pf_s/exe") in
	*/smtp-sink)	echo "$pf_s" ;;
	*)		return 1 ;;
	esac
}

# pf__stop_sink DIR - stop DIR's smtp-sink and wait for it; reap it
# when it is this shell's child.
pf__stop_sink() {
	pf_s=$(cat "$1/sink.pid" 2>/dev/null) || return 0
	if pf__sink_pid "$1" >/dev/null; then
		pf__kill_sink "$pf_s" || return 1
	fi
	wait "$pf_s" 2>/dev/null
	rm -f "$1/sink.pid"
}

# pf__kill_sink PID - TERM smtp-sink, KILL it after 10 s, wait for it.
pf__kill_sink() {
	kill -TERM "$1" 2>/dev/null
	pf_poll 10 pf__gone "$1" && return 0
	kill -KILL "$1" 2>/dev/null
	pf_poll 5 pf__gone "$1"
}

# pf__sink_open DIR - print "|PATH|" for each file DIR's smtp-sink has
# open (a message still being received).
pf__sink_open() {
	pf_s=$(cat "$1/sink.pid" 2>/dev/null) || return 0
	find "/proc/$pf_s/fd" -mindepth 1 -maxdepth 1 -printf '|%l|\n' \
	    2>/dev/null
	return 0
}

# pf__clock - set pf_now to the time since boot in 1/100 s.
pf__clock() {
	# shellcheck disable=SC2034 # pf_rest: the idle time
	read -r pf_now pf_rest </proc/uptime
	pf_now=$((${pf_now%.*} * 100 + 1${pf_now#*.} - 100))
}

# pf__alive PID - the process exists and is not a zombie.
pf__alive() {
	pf_st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) &&
	    [ -n "$pf_st" ] && [ "$pf_st" != Z ] && [ "$pf_st" != X ]
}

pf__gone() { ! pf__alive "$1"; }


# pf__group PGID - print the live (non-zombie) processes of group PGID.
pf__group() {
	ps -e -o pid=,pgid=,stat= |
	    awk -v g="$1" '$2 == g && $3 !~ /^[ZX]/ { print $1 }'
}

pf__group_gone() { [ -z "$(pf__group "$1")" ]; }

# pf__listening PID PORT - PID holds the one socket listening on
# 127.0.0.1:PORT.  smtp-sink and Postfix's master set SO_REUSEPORT, so
# a second one can listen on a port in use, and take half its clients.
pf__listening() {
	pf_i=$(pf__port_socks "$2")
	case $pf_i in
	""|*[!0-9]*)	return 1 ;;	# none, or more than one
	esac
	pf__alive "$1" && pf__holds "$1" "$pf_i"
}

# pf__up_or_gone PID PORT - PID listens on PORT (maybe not alone), or
# never will.
pf__up_or_gone() {
	# shellcheck disable=SC2046 # one argument per inode
	pf__gone "$1" || pf__holds "$1" $(pf__port_socks "$2")
}

# pf__port_socks PORT - print the inodes of the sockets listening on
# 127.0.0.1:PORT.
pf__port_socks() {
	awk -v p="$(printf ':%04X' "$1")" '
	    ($2 == "0100007F" p || $2 == "7F000001" p) && $4 == "0A" {
		print $10 }' /proc/net/tcp
}

# pf__holds PID INODE... - PID has one of these sockets open.
pf__holds() {
	pf_h=$1
	shift
	for pf_i in "$@"; do
		find "/proc/$pf_h/fd" -lname "socket:\[$pf_i\]" 2>/dev/null |
		    grep -q . && return 0
	done
	return 1
}

pf__sink_has() { [ "$(pf_sink_count "$1")" -ge "$2" ]; }

pf__queue_empty() { [ "$(pf_queue_count "$1")" = 0 ]; }

pf__log_has() {
	[ "$(grep -cE -e "$2" "$1/maillog" 2>/dev/null)" -ge "$3" ]
}
