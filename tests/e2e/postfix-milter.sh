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
#   japanese   ISO-2022-JP, Shift_JIS, EUC-JP and UTF-8 mail keep their
#              subject (raw bytes and decoded text) and body text
#   virus      EICAR: 550 5.7.1 at SMTP time, nothing relayed or queued
#   kill       milter killed (-9) while idle: 4xx at SMTP time, nothing
#              accepted; killed under load (smtp-source): whatever was
#              accepted was sanitised, the rest got 4xx; restart: flows
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
if [ $# -ne 2 ]; then
	echo "usage: postfix-milter.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
fixtures=$2
case $fixtures in /*) ;; *) fixtures=$(pwd)/$fixtures ;; esac
mail=$fixtures/mail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
. "$here/lib-postfix.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/postfix-milter.XXXXXX") || exit 1
P=$T/pf
milter_pid=
load_pid=
cleanup() {
	[ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null
	pf_stop "$P"
	if [ -n "$milter_pid" ]; then
		kill -KILL "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE	# and clean up (EXIT)
chmod 755 "$T"			# Postfix's daemons and smtp-sink go through
CK_SUITE=postfix-milter
. "$here/lib-check.sh"

# ---- the Python side: SMTP step by step, and reading what arrived ----------

cat >"$T/pm.py" <<'EOF'
"""Helpers for postfix-milter.sh; each command exits 1 saying why."""
import email
import email.header
import email.policy
import hashlib
import json
import os
import re
import select
import signal
import smtplib
import sys
import time

sys.path.insert(0, os.environ['E2E_DIR'])
import check_message as cm                      # noqa: E402

POLICY = email.policy.default.clone(raise_on_defect=False)


class Fail(Exception):
    pass


def crlf(data):
    """What Postfix received: the file with CRLF line ends (pf_send_file)."""
    d = re.sub(rb'\r?\n', b'\r\n', data)
    if d and not d.endswith(b'\r\n'):
        d += b'\r\n'
    return d


def fields(block):
    """Header fields of a header block, each with its line end (bytes)."""
    out = []
    for line in block.splitlines(keepends=True):
        if line[:1] in (b' ', b'\t') and out:
            out[-1] += line
        else:
            out.append(line)
    return out


def split(msg):
    """(header block incl. the empty line, body)."""
    m = re.search(rb'\r?\n\r?\n', msg)
    if not m:
        return msg, b''
    return msg[:m.end()], msg[m.end():]


def relayed(path):
    """The message as Postfix relayed it: smtp-sink's dump without the
    lines smtp-sink adds (X-Client-Addr ... X-Rcpt-Args, its Received
    header, the empty line at the end).  LF line ends."""
    raw = open(path, 'rb').read()
    lines = raw.split(b'\n')
    i = 0
    while i < len(lines) and re.match(
            rb'X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): ', lines[i]):
        i += 1
    if i == 0 or i >= len(lines) or not lines[i].startswith(b'Received: '):
        raise Fail('%s: not an smtp-sink dump' % path)
    j = i + 1
    while j < len(lines) and lines[j][:1] in (b' ', b'\t'):
        j += 1
    if b'by smtp-sink' not in b'\n'.join(lines[i:j]):
        raise Fail('%s: no smtp-sink Received header' % path)
    rest = b'\n'.join(lines[j:])
    if not rest.endswith(b'\n\n'):
        raise Fail('%s: does not end with smtp-sink\'s empty line' % path)
    return rest[:-1]


def postfix_received(msg):
    """(Postfix's Received field, queue id): the first header relayed."""
    first = fields(split(msg)[0])[0]
    m = re.match(rb'Received: .*\(Postfix\) with \S+ id ([0-9A-Za-z]+)', first, re.S)
    if not m:
        raise Fail('first header is not Postfix\'s Received: %r' % first[:120])
    return first, m.group(1).decode()


def header(msg, name):
    """Raw values (unfolded, bytes) of the top-level header NAME."""
    out = []
    for f in fields(split(msg)[0]):
        n, _, v = f.partition(b':')
        if n.strip().lower() == name.lower().encode():
            out.append(re.sub(rb'\r?\n', b'', v).strip())
    return out


def mugai_headers(msg):
    """(counts, X-Mugai-Id); the id is None for a message delivered as
    it came (nothing changed, nothing stored, so no id is added)."""
    st, mid = header(msg, 'X-Mugai-Status'), header(msg, 'X-Mugai-Id')
    if len(st) != 1 or len(mid) > 1:
        raise Fail('%d X-Mugai-Status and %d X-Mugai-Id headers, want 1 each'
                   % (len(st), len(mid)))
    st = st[0].decode('ascii', 'replace')
    if not re.match(r'^sanitised(;\s*[a-z_]+=\d+)*$', st):
        raise Fail('X-Mugai-Status %r' % st)
    counts = dict((k, int(v)) for k, v in re.findall(r'([a-z_]+)=(\d+)', st))
    if not mid:
        if counts.get('removed') or counts.get('converted'):
            raise Fail('X-Mugai-Status %r but no X-Mugai-Id' % st)
        return counts, None
    mid = mid[0].decode('ascii', 'replace')
    if not re.match(r'^[0-9]{8}-[0-9]{6}-[0-9a-f]{12}$', mid):
        raise Fail('X-Mugai-Id %r' % mid)
    return counts, mid


def parse(msg):
    return email.message_from_bytes(msg, policy=POLICY)


def body_text(msg):
    """Decoded text of the first text/plain leaf (the body and notice)."""
    for part in parse(msg).walk():
        if part.get_content_type() == 'text/plain' and not part.get_filename():
            return part.get_payload(decode=True).decode('utf-8')
    raise Fail('no text/plain body part')


def cmd_sanitised(fixture, expect, sink):
    """check_message.py's checks of a sanitised message (all but the
    report's), against the fixture and its .expect."""
    out = relayed(sink)
    exp, errs = cm.load_expect(expect)
    if errs:
        raise Fail('; '.join(errs))
    run = cm.Run(open(fixture, 'rb').read(), exp, 0, out, None, '')
    cm.check_output(run, None, False)
    if run.errors:
        raise Fail('; '.join(run.errors[:3]))
    counts, mid = mugai_headers(out)
    print(postfix_received(out)[1], mid)


HTML_TAG = re.compile(r'</?(html|head|body|p|div|span|a|script|style|img|table|'
                      r'tr|td|th|ul|ol|li|blockquote|iframe|form|input|br|meta|title|'
                      r'b|i|h[1-6]|font|center)\b[^<>]*>', re.I)


def cmd_html(sink):
    out = relayed(sink)
    msg = parse(out)
    if msg.is_multipart() or msg.get_content_type() != 'text/plain':
        raise Fail('top-level %s, want one text/plain part' % msg.get_content_type())
    text = body_text(out)
    for what, pat in (('an HTML tag', HTML_TAG), ('script', re.compile(r'(?i)<\s*script|javascript:|onload\s*='))):
        m = pat.search(text)
        if m:
            raise Fail('%s in the delivered text: %r' % (what, m.group(0)))
    counts, mid = mugai_headers(out)
    if counts.get('converted', 0) < 1:
        raise Fail('X-Mugai-Status does not count the converted HTML: %r' % counts)


def cmd_removed(sink, *names):
    """No attachment left; the notice names each removed file and gives
    the X-Mugai-Id.  Prints the queue id and X-Mugai-Id."""
    out = relayed(sink)
    counts, mid = mugai_headers(out)
    for part in parse(out).walk():
        if part.is_multipart():
            continue
        if part.get_content_type() != 'text/plain' or part.get_filename():
            raise Fail('a %s part (%r) was delivered' % (part.get_content_type(),
                                                         part.get_filename()))
    text = body_text(out)
    for n in names:
        if n not in text:
            raise Fail('the notice does not name %r' % n)
    if mid not in text:
        raise Fail('the notice does not give the X-Mugai-Id %s' % mid)
    if counts.get('removed', 0) < len(names):
        raise Fail('X-Mugai-Status counts removed=%r, want >= %d'
                   % (counts.get('removed'), len(names)))
    print(postfix_received(out)[1], mid)


def diff_at(a, b):
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return 'differ at byte %d (of %d and %d): %r vs %r' % (
        n, len(a), len(b), a[max(0, n - 20):n + 40], b[max(0, n - 20):n + 40])


def cmd_original(listjson, mid, qid, sender, rcpt, export, sent, sink, mode):
    """The quarantined original (exported) against what was sent."""
    rows = [r for r in json.load(open(listjson)) if r.get('id') == mid]
    if len(rows) != 1:
        raise Fail('%d quarantine rows with id %s' % (len(rows), mid))
    r = rows[0]
    orig = open(export, 'rb').read()
    want = {'status': 'held', 'queue_id': qid, 'sender': sender, 'recipients': [rcpt],
            'sha256': hashlib.sha256(orig).hexdigest(), 'size': len(orig)}
    for k, v in want.items():
        if r.get(k) != v:
            raise Fail('quarantine row %s=%r, want %r' % (k, r.get(k), v))
    sent = crlf(open(sent, 'rb').read())
    out = relayed(sink)
    received = postfix_received(out)[0].replace(b'\n', b'\r\n')
    note = ''
    if orig.startswith(b'Received:'):
        # A Postfix that passes its own Received header to milters.
        if not orig.startswith(received):
            raise Fail('original starts with a Received header that is not '
                       'Postfix\'s: %r' % orig[:100])
        orig, note = orig[len(received):], ' (after Postfix\'s Received header)'
    if mode == 'exact':
        if orig != sent:
            raise Fail('original is not the sent message: ' + diff_at(orig, sent))
        print('byte-identical to the %d bytes sent%s' % (len(sent), note))
        return
    # mode "rewritten": cleanup(8) qualified From/To and added Message-Id
    # and Date; those lines must be exactly the delivered copy's.
    delivered = set(f.replace(b'\n', b'\r\n') for f in fields(split(out)[0]))
    oh, ob = split(orig)
    sh, sb = split(sent)
    if ob != sb:
        raise Fail('original body is not the sent body: ' + diff_at(ob, sb))
    of, sf = fields(oh), fields(sh)
    changed = []
    j = 0
    for f in of:
        if j < len(sf) and f == sf[j]:
            j += 1
            continue
        name = f.split(b':', 1)[0].lower()
        if f not in delivered or name not in (b'from', b'to', b'message-id', b'date'):
            raise Fail('original header %r is neither sent nor a cleanup edit' % f[:80])
        if j < len(sf) and sf[j].split(b':', 1)[0].lower() == name and name in (b'from', b'to'):
            j += 1                  # rewritten in place
        changed.append(name.decode())
    if j != len(sf):
        raise Fail('sent header %r is not in the original' % sf[j][:80])
    if sorted(changed) != ['date', 'from', 'message-id', 'to']:
        raise Fail('cleanup edits seen: %r, want date, from, message-id, to' % changed)
    print('identical but for cleanup(8)\'s edits %s%s' % (', '.join(changed), note))


def decode(data, charset):
    cs = (charset or 'us-ascii').lower()
    if cs == 'iso-2022-jp':
        return cm.decode_jis(data)
    if cs in ('shift_jis', 'shift-jis', 'sjis', 'cp932', 'windows-31j'):
        return data.decode('cp932')
    if cs in ('euc-jp', 'eucjp'):
        return cm.decode_loose(data, 'euc-jp')
    return data.decode(cs)


def cmd_subject(sink, fixture, expect):
    """The Subject arrives as sent (raw bytes) and decodes to the text
    the .expect gives (or, without one, to the fixture's decoded text).
    Python's email package finds and splits the encoded words; the
    ISO-2022-JP decoder is check_message.py's CP50221 one, because
    Python's iso-2022-jp codec has no NEC row 13 (①, ㈱)."""
    out = relayed(sink)
    inp = open(fixture, 'rb').read()
    got_raw, want_raw = header(out, 'Subject'), header(inp, 'Subject')
    if got_raw != want_raw or len(got_raw) != 1:
        raise Fail('Subject %r, sent %r' % (got_raw, want_raw))
    exp, _ = cm.load_expect(expect)
    want = exp['subject']
    if want is None:
        want = cm.decode_words(cm.decode_loose(want_raw[0], None))
    # Python's email package splits the encoded words; the bytes of
    # adjacent words in one charset are joined (mailers split characters
    # across words) and decoded.
    words = email.header.decode_header(got_raw[0].decode('ascii'))
    runs = []
    for data, cs in words:
        data = data.encode('ascii') if isinstance(data, str) else data
        if runs and runs[-1][1] == cs:
            runs[-1][0] += data
        else:
            runs.append([data, cs])
    got = ''.join(decode(d, c) for d, c in runs)
    if got != want:
        raise Fail('Subject decodes to %r, want %r' % (got, want))
    if cm.decode_words(got_raw[0].decode('ascii')) != want:
        raise Fail('check_message.py decodes the Subject to %r, want %r'
                   % (cm.decode_words(got_raw[0].decode('ascii')), want))
    if '\ufffd' in got or not any(ord(c) > 0x2000 for c in got):
        raise Fail('Subject %r: no Japanese text' % got)
    print(got)


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return 'gone'


def signal_and_wait(pid, sig, states):
    os.kill(pid, sig)
    for _ in range(100):
        if proc_state(pid) in states:
            return
        time.sleep(0.05)
    raise Fail('mugai-milter %d not in state %s after signal %d' % (pid, states, sig))


def cmd_smtp(port, pid, mode, rcpt, path):
    """One SMTP transaction, step by step, with mugai-milter (pid) killed
    by SIGKILL at a chosen point:
      before-data  after RCPT TO was accepted, before DATA
      mid-data     after half the message data was sent
      at-eom       after the final ".": the milter is stopped (SIGSTOP)
                   before it, so Postfix is waiting for its verdict when
                   the kill comes
    Succeeds when Postfix answers 4xx (at DATA or at the end)."""
    pid = int(pid)
    data = re.sub(rb'(?m)^\.', b'..', crlf(open(path, 'rb').read()))
    s = smtplib.SMTP('127.0.0.1', int(port), local_hostname='mid.example', timeout=120)
    log = []

    def step(cmd):
        code, text = s.docmd(cmd)
        log.append('%s: %d %s' % (cmd, code, text.decode('ascii', 'replace')))
        return code

    def done(code):
        print(' | '.join(log))
        if not 400 <= code < 500:
            raise Fail('want a 4xx reply: ' + ' | '.join(log))
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass

    s.ehlo()
    if step('MAIL FROM:<mid-%s@example.org>' % mode) != 250 or \
            step('RCPT TO:<%s>' % rcpt) != 250:
        raise Fail('envelope refused with the milter alive: ' + ' | '.join(log))
    if mode == 'before-data':
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    code = step('DATA')
    if code != 354:
        if mode == 'before-data':
            return done(code)
        raise Fail('DATA refused with the milter alive: ' + ' | '.join(log))
    half = len(data) // 2
    s.send(data[:half])
    if mode == 'mid-data':
        time.sleep(0.5)             # let Postfix pass on what it has
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    elif mode == 'at-eom':
        signal_and_wait(pid, signal.SIGSTOP, ('T', 't'))
    s.send(data[half:] + b'.\r\n')
    if mode == 'at-eom':
        # Postfix must be waiting for the stopped milter, not answering.
        r, _, _ = select.select([s.sock], [], [], 2.0)
        if r:
            code, text = s.getreply()
            raise Fail('Postfix answered %d %s before the milter decided'
                       % (code, text.decode('ascii', 'replace')))
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    code, text = s.getreply()
    log.append('end of data: %d %s' % (code, text.decode('ascii', 'replace')))
    done(code)


def cmd_killload(milterlog, rcptdomain, *sinks):
    """After a kill under load: every message of the batch that arrived
    is sanitised, arrived once, and the milter logged it delivered with
    the same queue id, recipient and X-Mugai-Id.  Prints the count."""
    delivered = {}
    for line in open(milterlog, encoding='utf-8', errors='replace'):
        m = re.search(r': ([0-9A-Za-z]+): from=<[^>]*> to=<(\d+)[^@>]*@' +
                      re.escape(rcptdomain) + r'> size=\d+ id=(\S+) action=delivered ', line)
        if m:
            delivered[m.group(1)] = (m.group(2), m.group(3))
    seen = {}
    for path in sinks:
        raw = open(path, 'rb').read()
        m = re.search(rb'^X-Rcpt-Args: <(\d+)[^@>]*@' + re.escape(rcptdomain.encode()) + rb'>',
                      raw, re.M)
        if not m:
            continue
        n = m.group(1).decode()
        if n in seen:
            raise Fail('message %s arrived twice (%s, %s)' % (n, seen[n], path))
        seen[n] = path
        out = relayed(path)
        counts, mid = mugai_headers(out)
        qid = postfix_received(out)[1]
        if delivered.get(qid, (None,))[0] != n or (
                mid is not None and delivered[qid][1] != mid):
            raise Fail('message %s (queue id %s, %s) has no matching "action=delivered" '
                       'line in the milter log (%r)' % (n, qid, mid, delivered.get(qid)))
    print(len(seen))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        globals()['cmd_' + cmd.replace('-', '_')](*args)
    except Fail as e:
        print(e)
        sys.exit(1)


main()
EOF
E2E_DIR=$here
export E2E_DIR
pm() { python3 "$T/pm.py" "$@"; }

# ---- helpers -----------------------------------------------------------------

alive() { # PID - the process runs (not a zombie)
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) &&
	    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

nstarted() { # how many times the milter logged "started on"
	ns=$(grep -c 'started on' "$T/milter.log" 2>/dev/null)
	echo "${ns:-0}"
}

# milter_up N - the milter logged its N+1st "started on", or died.
milter_up() {
	[ "$(nstarted)" -gt "$1" ] || ! alive "$milter_pid"
}

# start_milter - start mugai-milter on $mport; wait until it listens.
start_milter() {
	n0=$(nstarted)
	"$build/mugai-milter" -f -e -o "milter_socket=inet:$mport@127.0.0.1" \
	    -o "pid_file=$T/pid" -o "spool_dir=$T/spool" \
	    -o "quarantine_dir=$T/q" -o "audit_log=$T/audit.jsonl" \
	    -o "clamav_database_dir=$testdb" -o "$TEXT_ONLY" \
	    </dev/null 2>>"$T/milter.log" &
	milter_pid=$!
	pf_poll 60 milter_up "$n0"
	if alive "$milter_pid" && [ "$(nstarted)" -gt "$n0" ]; then
		return 0
	fi
	echo "mugai-milter did not start: $(tail -n 3 "$T/milter.log")"
	return 1
}

milter_gone() { ! alive "$milter_pid"; }

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

# sink_for RCPT - print the sink files whose envelope has recipient RCPT.
sink_for() {
	pf_sink_files "$P" | while IFS= read -r f; do
		grep -l "^X-Rcpt-Args: <$1>" "$f"
	done
}

has_rcpt() { [ -n "$(sink_for "$1")" ]; }

# one RCPT TIMEOUT - exactly one message to RCPT reached the sink (waits
# up to TIMEOUT s for it); prints its file.
one() {
	pf_poll "$2" has_rcpt "$1"
	files=$(sink_for "$1")
	n=$(printf '%s' "$files" | grep -c .)
	if [ "$n" -ne 1 ]; then
		echo "$n messages to <$1> at the sink, want 1"
		return 1
	fi
	printf '%s\n' "$files"
}

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
