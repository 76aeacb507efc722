#!/bin/sh
# postfix-smoke.sh BUILD FIXTURES - lib-postfix.sh's private Postfix,
# without a milter.
#
# Starts an instance, sends three fixtures with swaks and checks each
# reaches the sink once with its envelope, Subject and body intact;
# sends 50 messages with smtp-source; checks that a message smtp-sink
# is still receiving is not counted; stops the instance and checks
# nothing of it is left.  BUILD is not used (no mugai program runs).
# Prints "PASS name" / "FAIL name: why" per check, then a count.
set -u
if [ $# -ne 2 ]; then
	echo "usage: postfix-smoke.sh BUILD FIXTURES" >&2
	exit 64
fi
mail=$2/mail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/postfix-smoke.XXXXXX") || exit 1
P=$T/pf
partial=
trap '[ -z "$partial" ] || kill "$partial" 2>/dev/null; pf_stop "$P"; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP PIPE	# and clean up (EXIT)
chmod 755 "$T"			# Postfix's daemons and smtp-sink go through
CK_SUITE=postfix-smoke
CK_PREFIX=
. "$here/lib-check.sh"

# same_message SINKFILE FIXTURE [TAIL] - the sink's copy has the
# fixture's Subject (raw, unfolded) and body (line ends aside) byte for
# byte, followed by TAIL (swaks' extra empty line: "\n").
same_message() {
	python3 - "$@" <<'EOF'
import re, sys
def split(path):
    data = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = data.partition(b"\n\n")
    return head, body
def subject(head):
    m = re.search(rb"^Subject:(.*(?:\n[ \t].*)*)", head, re.M | re.I)
    return m and m.group(1).replace(b"\n", b"")
shead, sbody = split(sys.argv[1])
fhead, fbody = split(sys.argv[2])
tail = sys.argv[3].encode().replace(b"\\n", b"\n") if len(sys.argv) > 3 else b""
if subject(shead) != subject(fhead):
    sys.exit("Subject %r, want %r" % (subject(shead), subject(fhead)))
# smtp-sink ends its copy with an empty line.
if sbody != fbody + tail + b"\n":
    sys.exit("body ends %r, want %r" % (sbody[-60:], (fbody + tail)[-60:]))
EOF
}

sink_for() { pf_sink_for "$P" "$1"; }

# relayed NAME RCPT [TAIL] - exactly one message to RCPT, the same as
# NAME.eml (see same_message).
relayed() {
	files=$(sink_for "$2")
	n=$(printf '%s' "$files" | grep -c .)
	if [ "$n" -ne 1 ]; then
		echo "$n messages to <$2> at the sink, want 1"
		return 1
	fi
	same_message "$files" "$mail/$1.eml" ${3+"$3"}
}

# running PID - print the live processes whose pid or process group is
# PID (Postfix's master leads the group of its daemons).  Zombies do not
# count: here init may not reap the orphaned master.
running() {
	ps -e -o pid=,pgid=,stat=,args= |
	    awk -v p="$1" '($1 == p || $2 == p) && $3 !~ /^Z/'
}

# wait_sink N TIMEOUT, queue_empty TIMEOUT - pf_wait_sink and
# pf_wait_queue_empty, saying how far they got.
wait_sink() {
	pf_wait_sink "$P" "$1" "$2" && return 0
	echo "$(pf_sink_count "$P") messages at the sink after $2 s"
	return 1
}
queue_empty() {
	pf_wait_queue_empty "$P" "$1" && return 0
	echo "still queued after $1 s: $(postqueue -c "$P/etc" -p 2>&1)"
	return 1
}

# refused PORT... - connecting to each 127.0.0.1:PORT is refused.
refused() {
	python3 - "$@" <<'EOF'
import socket, sys
for port in sys.argv[1:]:
    try:
        socket.create_connection(("127.0.0.1", int(port)), 5).close()
        sys.exit("port %s accepts connections" % port)
    except ConnectionRefusedError:
        pass
EOF
}

# started - Postfix's master and smtp-sink run, as the stop-* checks
# below would see them.
started() {
	m=$(running "$master" | grep -c .)
	s=$(running "$sinkpid" | grep -c .)
	[ "$m" -ge 1 ] && [ "$s" -eq 1 ] && return 0
	echo "$m processes of master <$master>, $s of smtp-sink <$sinkpid>"
	return 1
}

eq() { # eq WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	echo "$1: $2, want $3"
	return 1
}

# ---- start -----------------------------------------------------------------

smtp=$(pf_free_port) && sink=$(pf_free_port "$smtp") || {
	fail start "no free ports"
	finish
}
if pf_start "$P" "$smtp" "$sink" 2>"$T/start.err"; then
	pass start
else
	fail start "$(head -c 300 "$T/start.err" | tr '\n' ' ')"
	finish
fi
master=$(pf_master_pid "$P")
sinkpid=$(cat "$P/sink.pid")
check start-quiet eq "output of postfix start" "$(cat "$P/start.log")" ""
check start-running started

# ---- three fixtures through swaks ------------------------------------------

# pf_send_file keeps the bytes; plain swaks (pf_send) adds an empty
# line at the end.  plain-ascii has "." and "From " lines.
check send-plain-ascii pf_send_file "$smtp" "$mail/plain-ascii.eml" \
    --from sender1@example.org --to rcpt1@example.jp
check send-plain-ascii-crlf pf_send "$smtp" \
    --data "@$mail/plain-ascii-crlf.eml" \
    --from sender2@example.org --to rcpt2@example.jp
check send-utf8-text pf_send_file "$smtp" "$mail/utf8-text.eml" \
    --from sender3@example.org --to rcpt3@example.jp
check sink-has-3 wait_sink 3 30
check relayed-plain-ascii relayed plain-ascii rcpt1@example.jp
check relayed-plain-ascii-crlf relayed plain-ascii-crlf rcpt2@example.jp '\n'
check relayed-utf8-text relayed utf8-text rcpt3@example.jp
check queue-empty queue_empty 10
check queue-count eq "pf_queue_count" "$(pf_queue_count "$P")" 0
if pf_wait_sink "$P" 4 1; then
	fail wait-sink-times-out "pf_wait_sink succeeded for 4 of 3 messages"
else
	pass wait-sink-times-out
fi

# ---- 50 messages from smtp-source ------------------------------------------

check smtp-source smtp-source -c -l 2000 -m 50 -s 5 -t to@example.jp \
    -f from@example.org "127.0.0.1:$smtp"
check sink-has-53 wait_sink 53 60
check queue-empty-53 queue_empty 10
check sink-count-53 eq "pf_sink_count" "$(pf_sink_count "$P")" 53
check smtp-source-50 eq "messages to <to@example.jp>" \
    "$(sink_for to@example.jp | grep -c .)" 50
check log-sent-53 pf_wait_log "$P" ' status=sent ' 53 10

# ---- a message being received is not counted -------------------------------

# python3 takes a transaction with the sink up to half of the data, then
# finishes it once $T/go exists.
python3 - "$sink" "$T/go" >"$T/partial.out" 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rwb")
def say(line, want):
    if line:
        f.write(line + b"\r\n")
        f.flush()
    while True:
        reply = f.readline()
        if not reply.startswith(want):
            sys.exit("%r: %r" % (line, reply))
        if reply[3:4] != b"-":
            return
say(b"", b"220")
say(b"EHLO partial.example", b"250")
say(b"MAIL FROM:<p@example.org>", b"250")
say(b"RCPT TO:<partial@example.jp>", b"250")
say(b"DATA", b"354")
f.write(b"Subject: partial\r\n\r\nfirst half\r\n")
f.flush()
for _ in range(300):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
say(b"second half\r\n.", b"250")
say(b"QUIT", b"221")
EOF
partial=$!
nfiles() { # nfiles N - the sink holds N files, complete or not
	n=$1
	set -- "$P"/sink/*
	[ -e "$1" ] || set --
	[ $# -eq "$n" ]
}
check sink-partial-started pf_poll 10 nfiles 54
check sink-partial-not-counted eq "pf_sink_count" "$(pf_sink_count "$P")" 53
: > "$T/go"
wait "$partial"
check sink-partial-sent eq "partial transaction" \
    "exit $? $(cat "$T/partial.out")" "exit 0 "
partial=
check sink-partial-counted wait_sink 54 10
check sink-partial-complete eq "last line" \
    "$(sink_for partial@example.jp | xargs grep -h . | tail -n 1)" "second half"

# ---- stop ------------------------------------------------------------------

check stop pf_stop "$P"
check stop-postfix eq "master $master or its daemons running" \
    "$(running "$master")" ""
check stop-sink eq "smtp-sink $sinkpid running" "$(running "$sinkpid")" ""
check stop-ports refused "$smtp" "$sink"
check stop-twice pf_stop "$P"
check log-clean eq "warnings in the Postfix log" \
    "$(pf_log_trouble "$P" ' (warning|error|fatal|panic): ')" ""

finish
