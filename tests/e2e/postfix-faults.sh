#!/bin/sh
# postfix-faults.sh BUILD FIXTURES - mugai-milter killed under load:
# nothing lost, nothing twice, nothing unsanitised; and the Postfix
# settings docs/postfix.md recommends end a session whose milter died.
#
# lib-postfix.sh's private Postfix (smtpd_milters = mugai-milter on a
# loopback port, milter_default_action = tempfail) with the settings of
# docs/postfix.md section "When mugai-milter dies": smtpd_hard_error_limit
# = 5 and milter_connect_timeout = 10s.
#
#   dead-session  a session that had a message through, then the milter
#                 is killed (-9) and started again: on that session every
#                 message is deferred (Postfix keeps the dead milter
#                 connection for the rest of the session; with protocol 6
#                 it writes MAIL FROM without waiting for a reply, so the
#                 451 may come at RCPT TO or after the data), never
#                 accepted, and Postfix closes the session (421) after at
#                 most 5 errors; a new session is served by the new
#                 milter at once
#   kill-load     4 SMTP clients send 160 numbered HTML messages, each
#                 retried on a 4xx or a lost session as an MTA would;
#                 meanwhile the milter is killed (-9) twice, each time
#                 started again.  Then Postfix's queue is flushed:
#                 every message accepted arrives exactly once, carries
#                 X-Mugai-Status, and has no HTML or script left
#
# Bounded: about a minute.  Prints PASS/FAIL lines, then a count.
set -u
TEXT_ONLY="attachment_policy=text/plain text, text/csv csv, * remove"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"

COUNT=160
CLIENTS=4
HARD_LIMIT=5

load_pid=
pf_cleanup_hook() { [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null; }
PF_MILTER_SIGNAL=KILL
pf_setup postfix-faults "$@"

if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null 2>&1; then
	fail setup "needs root and Postfix (sh scripts/setup)"
	finish
fi

# start_milter - a new mugai-milter on $mport, sharing the spool and
# quarantine of the ones before (as a restart does).
start_milter() { pf_milter_up "$build" "$T" "$testdb" "$mport" "$TEXT_ONLY"; }

# kill_milter - kill -9, as a crash would.
kill_milter() {
	kill -KILL "$milter_pid"
	wait "$milter_pid" 2>/dev/null
}

smtp=$(pf_free_port) && sink=$(pf_free_port "$smtp") &&
    mport=$(pf_free_port "$smtp" "$sink") || {
	fail setup "no free ports"
	finish
}
: > "$T/milter.log"
if ! start_milter > "$T/start.out" ||
    ! pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" ||
    ! pf_conf "$P" "smtpd_hard_error_limit = $HARD_LIMIT" \
    "milter_connect_timeout = 10s"; then
	fail setup "$(cat "$T/start.out") $(tail -n 3 "$P/start.log" 2>/dev/null)"
	finish
fi

# ---- dead-session -----------------------------------------------------

# session.py PORT STATEFILE: one session; a message through, then (after
# the runner killed and restarted the milter) messages until the server
# ends the session; prints what happened.
cat > "$T/session.py" <<'EOF'
import os, smtplib, sys, time
port, state = int(sys.argv[1]), sys.argv[2]
msg = b"From: a@example.org\r\nTo: b@example.jp\r\nSubject: s\r\n\r\nbody\r\n"
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.ehlo("client.example.org")
s.sendmail("a@example.org", ["b@example.jp"], msg)
print("first accepted", flush=True)
open(state + ".ready", "w").close()
while not os.path.exists(state + ".go"):
    time.sleep(0.05)
def step(i):
    """One step of a message: its reply (DATA: the reply after the data)."""
    if i == 0:
        return s.mail("a@example.org")
    if i == 1:
        return s.rcpt("b@example.jp")
    try:
        return s.data(msg)
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error
deferred = 0
try:
    for i in range(50):
        for k in range(3):
            code, text = step(k)
            if code == 421:
                print("closed with 421 after %d deferred" % deferred)
                sys.exit(0)
            if code // 100 != 2 and code != 354:
                break
        if code // 100 == 4:
            deferred += 1
            s.rset()
            continue
        print("accepted again after %d deferred: %d %s" % (deferred, code, text))
        sys.exit(1)
except smtplib.SMTPServerDisconnected:
    print("closed after %d deferred" % deferred)
    sys.exit(0)
print("still open after %d deferred" % deferred)
sys.exit(1)
EOF
python3 "$T/session.py" "$smtp" "$T/sess" > "$T/session.out" 2>&1 &
sess_pid=$!
if pf_poll 60 test -e "$T/sess.ready"; then
	kill_milter
	start_milter > "$T/start.out" || fail "dead-session: restart" \
	    "$(cat "$T/start.out")"
	: > "$T/sess.go"
	wait "$sess_pid"
	rc=$?
	out=$(tr '\n' ' ' < "$T/session.out")
	n=$(sed -n 's/^closed.* after \([0-9]*\) deferred$/\1/p' "$T/session.out")
	check "dead-session: the session is closed ($out)" test "$rc" -eq 0
	check "dead-session: at most $HARD_LIMIT deferrals before (${n:-?})" \
	    test "${n:-99}" -le "$HARD_LIMIT"
	check "dead-session: a new session is served" pf_send "$smtp" \
	    --from a@example.org --to b@example.jp --h-Subject dead-session-new
else
	fail dead-session "the first message was not accepted: $(cat "$T/session.out")"
	kill "$sess_pid" 2>/dev/null
fi

# ---- kill-load --------------------------------------------------------

cat > "$T/load.py" <<'EOF'
"""load.py PORT COUNT CLIENTS OUT - send COUNT numbered messages over
CLIENTS sessions, each retried (new session) on a 4xx or a lost session,
until accepted; write the numbers accepted to OUT, one per line."""
import smtplib, sys, threading, time
port, count, clients, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
accepted, lock = [], threading.Lock()

def message(n):
    return ("From: Sender <sender@example.org>\r\n"
            "To: Staff <staff@faults.example>\r\n"
            "Subject: fault %d\r\nX-Seq: %d\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=UTF-8\r\n\r\n"
            "<html><body><script>FAULTSCRIPT()</script>"
            "<p>FAULTTEXT %d</p></body></html>\r\n" % (n, n, n)).encode()

def client(first):
    s = None
    for n in range(first, count, clients):
        for attempt in range(200):
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", port, timeout=120)
                    s.ehlo("load.example.org")
                s.sendmail("sender@example.org", ["%dfault@faults.example" % n], message(n))
                with lock:
                    accepted.append(n)
                break
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as e:
                code = getattr(e, "smtp_code", 450)
                if isinstance(e, smtplib.SMTPRecipientsRefused):
                    code = list(e.recipients.values())[0][0]
                if code // 100 != 4:
                    raise
                try:
                    s.rset()
                except Exception:
                    s = None
                time.sleep(0.2)
            except (smtplib.SMTPServerDisconnected, OSError):
                s = None
                time.sleep(0.2)
        else:
            sys.exit("message %d never accepted" % n)
    if s is not None:
        s.quit()

threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out, "w") as f:
    f.write("".join("%d\n" % n for n in sorted(accepted)))
print("accepted", len(accepted))
EOF
before=$(pf_sink_count "$P")
log_before=$(pf_log "$P" | wc -l)
python3 "$T/load.py" "$smtp" "$COUNT" "$CLIENTS" "$T/accepted" \
    > "$T/load.out" 2>&1 &
load_pid=$!
# processed N - the milters so far logged at least N summary lines.
processed() { [ "$(grep -c 'action=' "$T/milter.log")" -ge "$1" ]; }
# Two crashes while the load runs: after about a third and two thirds.
for k in 1 2; do
	if ! pf_poll 60 processed "$((k * COUNT / 3))" ||
	    ! pf_alive "$load_pid"; then
		fail "kill-load: crash $k" "the load was over before it"
	fi
	kill_milter
	start_milter > "$T/start.out" || fail "kill-load: restart $k" \
	    "$(cat "$T/start.out")"
done
wait "$load_pid"
rc=$?
load_pid=
check "kill-load: every message accepted in the end ($(tr '\n' ' ' < "$T/load.out"))" \
    test "$rc" -eq 0
postqueue -c "$P/etc" -f 2>/dev/null
pf_wait_queue_empty "$P" 60
check "kill-load: Postfix's queue empty after the flush" \
    test "$(pf_queue_count "$P")" = 0
pf_wait_sink "$P" "$((before + COUNT))" 30
pf_sink_files "$P" > "$T/sinklist"
check "kill-load: sent = delivered, once each, all sanitised" python3 - \
    "$T/sinklist" "$T/accepted" "$COUNT" <<'EOF'
import collections, email, email.policy, re, sys
files = open(sys.argv[1]).read().split()
accepted = [int(x) for x in open(sys.argv[2]).read().split()]
count = int(sys.argv[3])
seen = collections.Counter()
errors = []
for path in files:
    raw = open(path, "rb").read()
    m = re.search(rb"^X-Seq: (\d+)", raw, re.M)
    if not m:
        continue                # not from the load (dead-session's)
    n = int(m.group(1))
    seen[n] += 1
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg["X-Mugai-Status"] is None:
        errors.append("%d: no X-Mugai-Status" % n)
    body = msg.get_body(("plain", "html")).get_content()
    if "FAULTSCRIPT" in body or "<p>" in body or "FAULTTEXT %d" % n not in body:
        errors.append("%d: not sanitised: %r" % (n, body[:120]))
if sorted(accepted) != list(range(count)):
    errors.append("accepted %d of %d" % (len(set(accepted)), count))
missing = [n for n in range(count) if seen[n] == 0]
twice = [n for n in range(count) if seen[n] > 1]
if missing:
    errors.append("never delivered: %s" % missing[:10])
if twice:
    errors.append("delivered more than once: %s" % twice[:10])
if errors:
    sys.exit("; ".join(errors[:5]))
EOF
check "kill-load: the milter was killed twice and restarted" \
    test "$(grep -c 'started on' "$T/milter.log")" -ge 4
# The crashes hit messages in flight: Postfix saw its milter fail.
pf_log "$P" | tail -n "+$((log_before + 1))" > "$T/maillog.load"
check "kill-load: Postfix deferred mail when the milter died" \
    grep -q "milter.*4\.7\.1 Service unavailable" "$T/maillog.load"
finish
