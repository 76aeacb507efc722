# lib-sendmail.sh - a private Sendmail instance on loopback, for e2e tests.
#
# Source it (POSIX sh, "set -u" safe; Linux, util-linux's unshare), as
# root, after lib-postfix.sh, whose smtp-sink, port, poll and swaks
# helpers it shares (pf_free_port, pf_poll, pf_send, pf_send_file,
# pf_sink_files, pf_sink_count, pf_wait_sink):
#
#	. "$here/lib-postfix.sh"; . "$here/lib-sendmail.sh"
#	sm_fetch "$build/sendmail"	# 2: packages unavailable, skip
#	smtp=$(pf_free_port) && sink=$(pf_free_port "$smtp") || exit 1
#	trap 'sm_stop "$T/sm"' EXIT
#	sm_start "$T/sm" "$smtp" "$sink" inet:$mport@127.0.0.1 || ...
#	pf_send "$smtp" --data @msg.eml --from a@example.org --to b@example.jp
#	pf_wait_sink "$T/sm" 1 30 && pf_sink_files "$T/sm"
#
# Debian's sendmail-bin conflicts with Postfix as the system MTA, so it
# is not installed: sm_fetch gets sendmail-bin, sendmail-base and
# sendmail-cf with "apt-get download" (kept in CACHE/debs) and unpacks
# them with "dpkg -x" into CACHE/root.  The host needs only m4 and the
# shared libraries the sendmail binary links against (scripts/setup).
#
# An instance lives entirely in DIR; /etc/mail, /var/spool/mqueue, port
# 25 and syslog are not used:
#
#	DIR/etc/	sendmail.mc, the sendmail.cf m4 made of it, aliases
#			(and aliases.db), hosts, service.switch
#	DIR/mqueue/	QueueDirectory (qf* files: queued messages, hf*:
#			held in quarantine)
#	DIR/sink/	one file per message smtp-sink received (as
#			lib-postfix.sh: pf_sink_files DIR)
#	DIR/maillog	Sendmail's syslog lines
#	DIR/sendmail.pid (Sendmail's own), DIR/sendmail.ns, DIR/sink.pid,
#	DIR/sink.log, DIR/start.log, DIR/swaks.log
#
# Sendmail (-bD, in the foreground) runs in its own UTS and mount
# namespaces (unshare): its host name is mugai-test.invalid, because a
# Sendmail whose host name has no dot and no qualified alias in
# /etc/hosts sleeps 60 s at every start; and its /dev is a small tmpfs
# whose /dev/log is DIR/log.sock, read by a little syslog catcher
# writing DIR/maillog (Sendmail can log nowhere but syslog).  Every
# process of the instance shares the UTS namespace, which is how
# sm_stop finds them all.
#
# Sendmail relays everything it accepts to [127.0.0.1]:SINK_PORT
# (SMART_HOST with the port in the mailer arguments); the milter is
# INPUT_MAIL_FILTER with the flags and timeouts docs/sendmail.md
# recommends (F=T: milter unavailable -> 451).  DIR must be absolute
# and without glob characters or quotes; /tmp's sticky bit is trusted
# (DontBlameSendmail=TrustStickyBit), other parents of DIR must not be
# group or world writable, as Sendmail checks.
#
# Functions return 0 on success, 1 on failure or timeout.  Names
# starting with "sm__" are internal; all variables used are "sm_*".

case ${0##*/} in
lib-sendmail.sh)		# run as a test by tests/run-e2e: nothing to do
	echo "SKIP lib-sendmail (a library for the sendmail-* tests)"
	exit 0 ;;
esac

# The unpacked packages (sm_fetch sets it).
SM_ROOT=${SM_ROOT:-}
# Sendmail's MaxMessageSize (SIZE in EHLO); tests may lower it.
SM_MAX_MESSAGE_SIZE=${SM_MAX_MESSAGE_SIZE:-52428800}
# The host name the instance has (no DNS is asked about it).
SM_HOSTNAME=mugai-test.invalid
SM_PACKAGES="sendmail-bin sendmail-base sendmail-cf"

# sm_fetch CACHE - make sure CACHE/root holds the unpacked packages and
# set SM_ROOT.  Returns 2 when the packages cannot be had (apt-get
# download failed: no network, no such package), 1 when the host lacks
# what the binary needs (m4, a shared library: run scripts/setup); says
# why on stderr.
sm_fetch() {
	sm_c=$1
	mkdir -p "$sm_c/debs" || return 1
	for sm_p in $SM_PACKAGES; do
		set -- "$sm_c"/debs/"${sm_p}"_*.deb
		[ -f "$1" ] && continue
		# _apt cannot write into a root-only build tree: apt-get
		# warns and downloads as root, which is fine here.
		if ! (cd "$sm_c/debs" && apt-get download "$sm_p") \
		    >"$sm_c/download.log" 2>&1; then
			echo "apt-get download $sm_p failed:" \
			    "$(grep -E '^(E|Err):' "$sm_c/download.log" |
			    head -n 2 | tr '\n' ' ')" >&2
			rm -f "$sm_c"/debs/*.deb.part
			return 2
		fi
	done
	set -- "$sm_c"/debs/*.deb
	sm_stamp=$*
	if [ "$(cat "$sm_c/root.stamp" 2>/dev/null)" != "$sm_stamp" ]; then
		rm -rf "$sm_c/root" "$sm_c/root.stamp"
		for sm_d in "$@"; do
			dpkg -x "$sm_d" "$sm_c/root" || return 1
		done
		echo "$sm_stamp" >"$sm_c/root.stamp"
	fi
	SM_ROOT=$(cd "$sm_c/root" && pwd)
	sm__usable
}

# sm_start DIR SMTP_PORT SINK_PORT [MILTER_SOCKET] - write DIR's config,
# start smtp-sink on 127.0.0.1:SINK_PORT and Sendmail on
# 127.0.0.1:SMTP_PORT, with MILTER_SOCKET (Sendmail's spelling, e.g.
# inet:PORT@127.0.0.1) as its one input mail filter.  Returns once both
# listen; on failure says why on stderr, stops what it started and
# returns 1.
sm_start() {
	if [ $# -lt 3 ] || [ $# -gt 4 ]; then
		echo "usage: sm_start DIR SMTP_PORT SINK_PORT [MILTER]" >&2
		return 1
	fi
	case $1 in
	/*)	;;
	*)	echo "sm_start: DIR must be an absolute path: $1" >&2
		return 1 ;;
	esac
	[ -n "$SM_ROOT" ] || { echo "sm_start: sm_fetch first" >&2; return 1; }
	if sm_pid "$1" >/dev/null || pf__sink_pid "$1" >/dev/null; then
		echo "sm_start: $1 runs already (sm_stop it first)" >&2
		return 1
	fi
	pf__searchable "$1" || return 1
	mkdir -p "$1/etc" "$1/mqueue" "$1/sink" && chmod 755 "$1" "$1/etc" &&
	    chmod 700 "$1/mqueue" && chown "$PF_SINK_USER" "$1/sink" ||
	    return 1
	PF_SEND_LOG=${PF_SEND_LOG:-$1/swaks.log}
	if sm__config "$@" && pf__start_sink "$1" "$3" &&
	    sm__start_syslog "$1" && sm__start_sendmail "$1" "$2"; then
		return 0
	fi
	sm_stop "$1"
	return 1
}

# sm_stop DIR - stop DIR's Sendmail (the daemon and every process it
# started), its syslog catcher and smtp-sink, and wait until they are
# gone.  Safe to call twice, or when sm_start failed or never ran.
sm_stop() {
	sm__stop_sendmail "$1"
	sm_rc=$?
	sm__stop_syslog "$1"
	pf__stop_sink "$1" || return 1
	return "$sm_rc"
}

# sm_pid DIR - print the pid of DIR's running Sendmail daemon; returns 1
# when it does not run.
sm_pid() {
	sm_m=$(cat "$1/sendmail.ns.pid" 2>/dev/null) && pf__alive "$sm_m" &&
	    [ "$(readlink "/proc/$sm_m/ns/uts")" = \
	    "$(cat "$1/sendmail.ns" 2>/dev/null)" ] || return 1
	echo "$sm_m"
}

# sm_queue_count DIR - print how many messages DIR's queue holds.
sm_queue_count() {
	find "$1/mqueue" -maxdepth 1 -name 'qf*' | wc -l | tr -d ' '
}

# sm_held_count DIR - print how many messages DIR's queue holds in
# quarantine (smfi_quarantine: hf* files, not run until released).
sm_held_count() {
	find "$1/mqueue" -maxdepth 1 -name 'hf*' | wc -l | tr -d ' '
}

# sm_wait_queue_empty DIR TIMEOUT - wait up to TIMEOUT seconds until
# DIR's queue is empty.
sm_wait_queue_empty() {
	pf_poll "$2" sm__queue_empty "$1"
}

# sm_log DIR - print DIR's Sendmail log so far.
sm_log() {
	cat "$1/maillog" 2>/dev/null
}

# sm_wait_log DIR ERE N TIMEOUT - wait up to TIMEOUT seconds until at
# least N lines of DIR's Sendmail log match the extended regexp ERE.
sm_wait_log() {
	pf_poll "$4" pf__log_has "$1" "$2" "$3"
}

# sm_run COMMAND [ARG...] - run COMMAND (e.g. the sendmail binary
# with -bp) with the instance's host name: a Sendmail started outside
# would sleep 60 s looking for a qualified name.
sm_run() {
	unshare -u sh -c 'hostname "$1" && shift && exec "$@"' sh \
	    "$SM_HOSTNAME" "$@"
}

# ---- internals ---------------------------------------------------------

# sm__usable - SM_ROOT's sendmail can run here: m4, unshare and every
# shared library it needs are there.
sm__usable() {
	sm_b=$SM_ROOT/usr/libexec/sendmail/sendmail
	if [ ! -x "$sm_b" ] || [ ! -f "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" ]; then
		echo "the packages hold no $sm_b or cf/m4/cf.m4" >&2
		return 2
	fi
	for sm_t in m4 unshare ldd; do
		command -v "$sm_t" >/dev/null 2>&1 && continue
		echo "$sm_t is missing (run scripts/setup)" >&2
		return 1
	done
	sm_l=$(ldd "$sm_b" 2>&1 | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' |
	    tr '\n' ' ')
	[ -z "$sm_l" ] && return 0
	echo "the host lacks libraries sendmail needs: $sm_l(run scripts/setup)" >&2
	return 1
}

# sm__config DIR SMTP_PORT SINK_PORT [MILTER] - write and build DIR/etc.
sm__config() {
	sm_e=$1/etc
	printf '127.0.0.1\tlocalhost %s\n' "$SM_HOSTNAME" >"$sm_e/hosts" &&
	    printf 'hosts\tfiles\naliases\tfiles\n' >"$sm_e/service.switch" &&
	    printf 'postmaster:\troot\nMAILER-DAEMON:\tpostmaster\n' \
	    >"$sm_e/aliases" && : >"$sm_e/local-host-names" &&
	    : >"$sm_e/trusted-users" && : >"$sm_e/statistics" &&
	    sm__mc "$@" >"$sm_e/sendmail.mc" || return 1
	if ! m4 "$sm_e/sendmail.mc" >"$sm_e/sendmail.cf" 2>"$1/start.log"; then
		echo "sm_start: m4 $sm_e/sendmail.mc failed:" >&2
		cat "$1/start.log" >&2
		return 1
	fi
	chmod 644 "$sm_e"/* || return 1
	if ! sm_run "$SM_ROOT/usr/libexec/sendmail/sendmail" \
	    -C "$sm_e/sendmail.cf" -bi >>"$1/start.log" 2>&1; then
		echo "sm_start: newaliases failed:" >&2
		cat "$1/start.log" >&2
		return 1
	fi
}

# sm__mc DIR SMTP_PORT SINK_PORT [MILTER] - print sendmail.mc.
sm__mc() {
	cat <<EOF
divert(-1)
# Private Sendmail instance for mugai's end-to-end tests (lib-sendmail.sh).
divert(0)dnl
include(\`$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`mugai e2e')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_HOSTNAME')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`QUEUE_DIR', \`$1/mqueue')dnl
define(\`ALIAS_FILE', \`$1/etc/aliases')dnl
define(\`STATUS_FILE', \`$1/etc/statistics')dnl
define(\`HELP_FILE', \`$1/etc/helpfile')dnl
define(\`confPID_FILE', \`$1/sendmail.pid')dnl
define(\`confCW_FILE', \`-o $1/etc/local-host-names')dnl
define(\`confCT_FILE', \`-o $1/etc/trusted-users')dnl
define(\`confHOSTS_FILE', \`$1/etc/hosts')dnl
define(\`confSERVICE_SWITCH_FILE', \`$1/etc/service.switch')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confDEAD_LETTER_DROP', \`$1/dead.letter')dnl
define(\`confDEF_USER_ID', \`nobody:nogroup')dnl
define(\`confMAX_MESSAGE_SIZE', \`$SM_MAX_MESSAGE_SIZE')dnl
define(\`confTO_QUEUERETURN', \`1h')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $3')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $3')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$2, Addr=127.0.0.1, Name=MTA')dnl
EOF
	[ $# -ge 4 ] && cat <<EOF
dnl As docs/sendmail.md recommends:
INPUT_MAIL_FILTER(\`mugai', \`S=$4, F=T, T=C:30s;S:60s;R:300s;E:10m')dnl
define(\`confMILTER_MACROS_ENVFROM', confMILTER_MACROS_ENVFROM\`, {i}')dnl
define(\`confMILTER_LOG_LEVEL', \`9')dnl
EOF
	echo "MAILER(\`smtp')dnl"
}

# sm__start_syslog DIR - read syslog datagrams on DIR/log.sock into
# DIR/maillog, without the priority.
sm__start_syslog() {
	rm -f "$1/log.sock"
	python3 -c '
import os, re, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1] + ".new")
os.chmod(sys.argv[1] + ".new", 0o666)   # mailers run as DefaultUser
os.rename(sys.argv[1] + ".new", sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True:
    d = s.recv(65536)
    out.write(re.sub(rb"^<\d+>", b"", d).rstrip(b"\0\n") + b"\n")
' "$1/log.sock" "$1/maillog" </dev/null >/dev/null 2>>"$1/start.log" &
	echo $! >"$1/syslog.pid"
	pf_poll 10 sm__syslog_up "$1" $! && [ -S "$1/log.sock" ] && return 0
	echo "sm_start: the syslog catcher did not start:" >&2
	cat "$1/start.log" >&2
	return 1
}

# sm__syslog_up DIR PID - the catcher listens, or is gone.
sm__syslog_up() { [ -S "$1/log.sock" ] || pf__gone "$2"; }

# sm__stop_syslog DIR - stop DIR's syslog catcher.
sm__stop_syslog() {
	sm_s=$(cat "$1/syslog.pid" 2>/dev/null) || return 0
	case $(tr '\0' ' ' <"/proc/$sm_s/cmdline" 2>/dev/null) in
	*" $1/log.sock "*)	kill -TERM "$sm_s" 2>/dev/null
				pf_poll 5 pf__gone "$sm_s" ;;
	esac
	rm -f "$1/syslog.pid"
}

# sm__start_sendmail DIR PORT - start Sendmail in its namespaces and
# wait until it listens on PORT.
sm__start_sendmail() {
	unshare -u -m --propagation private sh -c '
		d=$1 h=$2
		shift 2
		hostname "$h" || exit 1
		# A /dev of its own, for /dev/log.
		mkdir -p "$d/hostdev" && mount --rbind /dev "$d/hostdev" &&
		    mount -t tmpfs -o mode=755 sm-dev /dev || exit 1
		for n in null zero full random urandom tty; do
			: >"/dev/$n" &&
			    mount --bind "$d/hostdev/$n" "/dev/$n" || exit 1
		done
		umount -l "$d/hostdev" && ln -s "$d/log.sock" /dev/log &&
		    exec "$@"' sh "$1" "$SM_HOSTNAME" \
	    "$SM_ROOT/usr/libexec/sendmail/sendmail" -C "$1/etc/sendmail.cf" \
	    -bD -q10s </dev/null >>"$1/start.log" 2>&1 &
	sm_m=$!
	echo "$sm_m" >"$1/sendmail.ns.pid"
	# The namespace is there once unshare has exec'd the shell.
	pf_poll 5 sm__own_uts "$sm_m"
	readlink "/proc/$sm_m/ns/uts" >"$1/sendmail.ns" 2>/dev/null
	pf_poll 20 pf__up_or_gone "$sm_m" "$2"
	pf__listening "$sm_m" "$2" && return 0
	echo "sm_start: Sendmail does not listen on 127.0.0.1:$2," \
	    "or not alone (port in use?):" >&2
	cat "$1/start.log" "$1/maillog" >&2 2>/dev/null
	return 1
}

# sm__own_uts PID - PID is in a UTS namespace other than this shell's,
# or gone.
sm__own_uts() {
	pf__gone "$1" ||
	    [ "$(readlink "/proc/$1/ns/uts")" != "$(readlink /proc/self/ns/uts)" ]
}

# sm__procs DIR - print the live processes in DIR's UTS namespace.
sm__procs() {
	sm_ns=$(cat "$1/sendmail.ns" 2>/dev/null)
	[ -n "$sm_ns" ] || return 0
	[ "$sm_ns" != "$(readlink /proc/self/ns/uts)" ] || return 0
	# One find, not a readlink per process: forks are dear.
	sm_ns=$(printf '%s' "$sm_ns" | sed 's/[][*?\\]/\\&/g')
	for sm_p in $(find /proc -mindepth 3 -maxdepth 3 \
	    -path '/proc/[0-9]*/ns/uts' -lname "$sm_ns" 2>/dev/null |
	    cut -d/ -f3); do
		pf__alive "$sm_p" && echo "$sm_p"
	done
	return 0
}

sm__none_left() { [ -z "$(sm__procs "$1")" ]; }

# sm__stop_sendmail DIR - TERM every process of the instance, wait for
# them to go; KILL what is left after 10 s.
sm__stop_sendmail() {
	sm_m=$(cat "$1/sendmail.ns.pid" 2>/dev/null) || return 0
	for sm_p in $(sm__procs "$1"); do
		kill -TERM "$sm_p" 2>/dev/null
	done
	if ! pf_poll 10 sm__none_left "$1"; then
		echo "sm_stop: Sendmail of $1 did not stop, killing it" >&2
		for sm_p in $(sm__procs "$1"); do
			kill -KILL "$sm_p" 2>/dev/null
		done
		pf_poll 5 sm__none_left "$1" || return 1
	fi
	wait "$sm_m" 2>/dev/null
	rm -f "$1/sendmail.ns.pid"
}

sm__queue_empty() { [ "$(sm_queue_count "$1")" = 0 ]; }
