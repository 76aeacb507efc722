#!/bin/sh
# postfix-load.sh BUILD FIXTURES - 4000 messages through Postfix and
# mugai-milter over 20 parallel SMTP sessions; none lost, none
# duplicated, every one sanitised.
#
# lib-postfix.sh's private Postfix with smtpd_milters = mugai-milter
# (loopback port, milter_default_action = tempfail) relaying to
# smtp-sink.  Two smtp-source(1) runs at the same time, 10 sessions and
# 2000 messages each, so 20 sessions carry 4000 messages (about 200 a
# session):
#
#   plain  smtp-source's own message (-l: headers and 2000 bytes of
#          text): nothing to convert, the milter only adds its headers
#   html   a file (-F) with an HTML body and a PDF attachment: the HTML
#          is converted, the PDF removed and the original quarantined,
#          so the quarantine index takes 2000 writes under load
#
# smtp-source cannot number messages, but -N puts a sequence number
# before each recipient (1plain@load.example ... 2000plain@load.example),
# which identifies every message at the sink and in the milter's
# summary lines.  smtp-source stops at the first reply that is not a
# success, so a single 4xx/5xx (a tempfail under load) fails the test.
#
# Checked: both smtp-source runs succeed; exactly 4000 messages reach the
# sink, each number of each kind once; each carries X-Mugai-Status and a
# distinct Postfix queue id, each html one a distinct X-Mugai-Id (a plain
# one none: nothing changed, nothing stored); the text is intact (plain:
# every body identical to smtp-source's payload; html: the HTML's text
# and the notice, no HTML or PDF left); the milter logged exactly 4000
# summary lines, all action=delivered, naming the same queue id,
# recipient and X-Mugai-Id as the message that arrived; the quarantine
# holds the 2000 html originals and verifies; Postfix's queue is empty
# and its log shows 4000 deliveries and no milter trouble.  The elapsed
# time is printed, never judged.
#
# Prints "PASS postfix-load/NAME" / "FAIL postfix-load/NAME: why", then a
# count; exits 1 when anything failed.
set -u
# These tests judge the text-only policy (every attachment removed);
# sanitised copies of attachments are tests/e2e/cdr.sh's.
TEXT_ONLY="attachment_policy=text/plain text, text/csv csv, * remove"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"

# Per kind; the totals follow.  PF_LOAD_* only for trying things out.
PER_KIND=${PF_LOAD_PER_KIND:-2000}
SESSIONS=${PF_LOAD_SESSIONS:-10}
TOTAL=$((2 * PER_KIND))
TIMEOUT=600			# seconds for everything to reach the sink

src_plain=
src_html=
pf_cleanup_hook() {
	for p in $src_plain $src_html; do
		kill "$p" 2>/dev/null
	done
}
PF_MILTER_SIGNAL=KILL
pf_setup postfix-load "$@"

eq() { # eq WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	echo "$1: $2, want $3"
	return 1
}

start_milter() { pf_milter_up "$build" "$T" "$testdb" "$mport" "$TEXT_ONLY"; }

# wait_sink N TIMEOUT, queue_empty TIMEOUT - saying how far they got.
wait_sink() {
	pf_wait_sink "$P" "$1" "$2" && return 0
	echo "$(pf_sink_count "$P") messages at the sink after $2 s"
	return 1
}
queue_empty() {
	pf_wait_queue_empty "$P" "$1" && return 0
	echo "still queued after $1 s: $(pf_queue_count "$P") messages"
	return 1
}

# source_ok NAME PID - smtp-source PID ended with status 0.
source_ok() {
	wait "$2"
	rc=$?
	[ "$rc" -eq 0 ] && return 0
	echo "smtp-source ($1) exit $rc: $(tail -n 2 "$T/src-$1.out")"
	return 1
}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the message files and the analysis ----------------------------------------

python3 - "$T/html.eml" <<'EOF'
import base64, sys
pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 16
open(sys.argv[1], "w").write(
    "From: Load Sender <load@example.org>\n"
    "To: Staff <staff@load.example>\n"
    "Subject: =?UTF-8?B?" + base64.b64encode("負荷試験".encode()).decode() + "?=\n"
    "Date: Mon, 04 Mar 2024 10:15:00 +0900\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"load\"\n"
    "\n"
    "--load\n"
    "Content-Type: text/html; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "<html><body><script>LOADSCRIPTMARKER()</script>\n" +
    "<p>負荷試験の本文です。<b>LOADTEXTMARKER</b></p>\n" * 40 +
    "</body></html>\n"
    "--load\n"
    "Content-Type: application/pdf; name=\"load.pdf\"\n"
    "Content-Disposition: attachment; filename=\"load.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n" + base64.encodebytes(pdf).decode() +
    "--load--\n")
EOF

cat >"$T/analyse.py" <<'EOF'
"""analyse.py SINKDIR_LIST MILTERLOG QLIST PER_KIND - judge the load run.
Prints one line per failed invariant and exits 1, or prints a summary."""
import collections
import email
import email.policy
import hashlib
import json
import re
import sys

files = open(sys.argv[1]).read().split()
milterlog, qlist, per_kind = sys.argv[2], sys.argv[3], int(sys.argv[4])
POLICY = email.policy.default.clone(raise_on_defect=False)
errors = []


def err(msg):
    if len(errors) < 10:
        errors.append(msg)
    else:
        errors.append(None)


def relayed(raw):
    """Strip smtp-sink's lines (X-Client-Addr..X-Rcpt-Args, its Received,
    the final empty line)."""
    lines = raw.split(b'\n')
    i = 0
    while i < len(lines) and re.match(rb'X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): ', lines[i]):
        i += 1
    assert lines[i].startswith(b'Received: ') and b'smtp-sink' in lines[i + 1], lines[i:i + 2]
    i += 1
    while lines[i][:1] in (b' ', b'\t'):
        i += 1
    rest = b'\n'.join(lines[i:])
    assert rest.endswith(b'\n\n'), 'no final empty line'
    return rest[:-1]


seen = {}                       # (kind, n) -> file
by_qid = {}                     # qid -> (kind, n, mugai id)
ids = collections.Counter()
plain_bodies = collections.Counter()
for path in files:
    raw = open(path, 'rb').read()
    m = re.search(rb'^X-Rcpt-Args: <(\d+)(plain|html)@load\.example>', raw, re.M)
    if not m:
        err('%s: not a load message' % path)
        continue
    key = (m.group(2).decode(), int(m.group(1)))
    if key in seen:
        err('%s %d arrived twice: %s and %s' % (key[0], key[1], seen[key], path))
        continue
    seen[key] = path
    try:
        msg = relayed(raw)
    except AssertionError as e:
        err('%s: %s' % (path, e))
        continue
    head, _, body = msg.partition(b'\n\n')
    q = re.match(rb'Received: .*?\(Postfix\) with \S+ id ([0-9A-Za-z]+)', head, re.S)
    st = re.findall(rb'^X-Mugai-Status: (.*)$', head, re.M)
    mid = re.findall(rb'^X-Mugai-Id: (\S+)$', head, re.M)
    # A plain message is delivered as it came: nothing stored, no id.
    if not q or len(st) != 1 or len(mid) != (key[0] != 'plain'):
        err('%s %d: queue id %r, X-Mugai-Status %r, X-Mugai-Id %r'
            % (key + (q and q.group(1), st, mid)))
        continue
    qid, mid = q.group(1).decode(), mid[0].decode() if mid else None
    st = st[0].decode()
    if not re.match(r'^sanitised(;\s*[a-z_]+=\d+)*$', st):
        err('%s %d: X-Mugai-Status %r' % (key + (st,)))
    if qid in by_qid:
        err('queue id %s twice' % qid)
    by_qid[qid] = key + (mid,)
    if mid is not None:
        ids[mid] += 1
    counts = dict((k, int(v)) for k, v in re.findall(r'([a-z_]+)=(\d+)', st))
    if key[0] == 'plain':
        if counts.get('removed') or counts.get('converted'):
            err('plain %d: %s' % (key[1], st))
        plain_bodies[hashlib.sha256(body).hexdigest()] += 1
        continue
    if counts.get('removed', 0) < 1 or counts.get('converted', 0) < 1:
        err('html %d: %s' % (key[1], st))
    parsed = email.message_from_bytes(msg, policy=POLICY)
    text = None
    for part in parsed.walk():
        if part.is_multipart():
            continue
        if part.get_content_type() != 'text/plain' or part.get_filename():
            err('html %d: a %s part was delivered' % (key[1], part.get_content_type()))
        elif text is None:
            text = part.get_payload(decode=True).decode('utf-8', 'replace')
    if text is None or text.count('LOADTEXTMARKER') != 40 or \
            '負荷試験の本文です。' not in text or 'load.pdf' not in text or mid not in text:
        err('html %d: text or notice not as sent (%r)' % (key[1], (text or '')[:80]))
    if 'LOADSCRIPTMARKER' in text or '<p>' in text:
        err('html %d: HTML left in the text' % key[1])

for kind in ('plain', 'html'):
    missing = [n for n in range(1, per_kind + 1) if (kind, n) not in seen]
    if missing:
        err('%d %s messages never arrived, e.g. %s' % (len(missing), kind, missing[:5]))
extra = [k for k in seen if not 1 <= k[1] <= per_kind]
if extra:
    err('unexpected messages %r' % extra[:5])
dup = [i for i, n in ids.items() if n > 1]
if dup:
    err('X-Mugai-Id used more than once: %r' % dup[:3])
if len(plain_bodies) != 1:
    err('the plain bodies differ: %d versions %r' % (len(plain_bodies),
        plain_bodies.most_common(3)))

# The milter's summary lines.
summ = {}
actions = collections.Counter()
for line in open(milterlog, encoding='utf-8', errors='replace'):
    m = re.search(r': ([0-9A-Za-z]+): from=<load@example\.org> to=<(\d+)(plain|html)@load\.example> '
                  r'size=\d+ id=(\S+) action=(\S+) ', line)
    if not m:
        continue
    actions[m.group(5)] += 1
    if m.group(1) in summ:
        err('milter logged queue id %s twice' % m.group(1))
    summ[m.group(1)] = (m.group(3), int(m.group(2)),
                        m.group(4) if m.group(3) != 'plain' else None)
if sum(actions.values()) != 2 * per_kind or set(actions) != {'delivered'}:
    err('milter summary lines: %r, want %d delivered' % (dict(actions), 2 * per_kind))
if summ != by_qid:
    diff = [(q, summ.get(q), by_qid.get(q)) for q in set(summ) ^ set(by_qid)] + \
        [(q, summ[q], by_qid[q]) for q in set(summ) & set(by_qid) if summ[q] != by_qid[q]]
    err('milter summary lines and arrived messages disagree: %d, e.g. %r' % (len(diff), diff[:3]))

# The quarantine: every html original, nothing else.
rows = json.load(open(qlist))
qids = collections.Counter(r['id'] for r in rows)
want = set(v[2] for v in by_qid.values() if v[0] == 'html')
if set(qids) != want or any(n > 1 for n in qids.values()):
    err('quarantine holds %d rows (%d distinct), want the %d html originals; missing %r, extra %r'
        % (len(rows), len(qids), len(want), sorted(want - set(qids))[:3], sorted(set(qids) - want)[:3]))
bad = [r['id'] for r in rows if r.get('status') != 'held' or r.get('sender') != 'load@example.org']
if bad:
    err('quarantine rows not held / wrong sender: %r' % bad[:3])

if errors:
    for e in errors:
        print(e if e is not None else '(more)')
    sys.exit(1)
print('%d plain + %d html arrived once each, all sanitised; %d summary lines; %d originals held'
      % (sum(1 for k in seen if k[0] == 'plain'), sum(1 for k in seen if k[0] == 'html'),
         sum(actions.values()), len(rows)))
EOF

# ---- run ------------------------------------------------------------------------

for p in "$build/mugai-milter" "$build/mugai" "$testdb/mugai.ndb"; do
	if [ ! -e "$p" ]; then
		fail setup "$p is missing (make)"
		finish
	fi
done
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

t0=$(now)
smtp-source -N -s "$SESSIONS" -m "$PER_KIND" -l 2000 -S "mugai load test" \
    -f load@example.org -t plain@load.example "127.0.0.1:$smtp" \
    >"$T/src-plain.out" 2>&1 &
src_plain=$!
smtp-source -N -s "$SESSIONS" -m "$PER_KIND" -F "$T/html.eml" \
    -f load@example.org -t html@load.example "127.0.0.1:$smtp" \
    >"$T/src-html.out" 2>&1 &
src_html=$!
check source-plain source_ok plain "$src_plain"
src_plain=
check source-html source_ok html "$src_html"
src_html=
t1=$(now)
check sink-all wait_sink "$TOTAL" "$TIMEOUT"
t2=$(now)
check queue-empty queue_empty 60
sleep 2				# anything extra would show up now
check sink-count eq "messages at the sink" "$(pf_sink_count "$P")" "$TOTAL"
echo "info: $TOTAL messages, 2 x $SESSIONS sessions: accepted in" \
    "$(secs "$t0" "$t1") s, all at the sink after $(secs "$t0" "$t2") s"

pf_sink_files "$P" >"$T/files"
"$build/mugai" -o "quarantine_dir=$T/q" -o clamav_enable=no quarantine list \
    --json >"$T/qlist.json" 2>"$T/qlist.err" ||
    fail quarantine-list "$(head -c 200 "$T/qlist.err")"
check none-lost-none-duplicated-all-sanitised python3 "$T/analyse.py" \
    "$T/files" "$T/milter.log" "$T/qlist.json" "$PER_KIND"
sed 's/^/    /' "$T/check.out" | head -n 1
check quarantine-verify "$build/mugai" -o "quarantine_dir=$T/q" \
    -o clamav_enable=no quarantine verify
check postfix-sent pf_wait_log "$P" \
    ' to=<[0-9]*(plain|html)@load\.example>.* status=sent ' "$TOTAL" 30
check postfix-sent-exact eq "status=sent lines" \
    "$(grep -cE ' to=<[0-9]*(plain|html)@load\.example>.* status=sent ' "$P/maillog")" \
    "$TOTAL"
check postfix-log-clean eq "milter trouble or warnings in the Postfix log" \
    "$(pf_log_trouble "$P" 'milter|warning|error|fatal|panic' | head -n 3)" ""
check milter-log-clean eq "milter errors" \
    "$(grep -vE ' action=delivered | started on |ClamAV engine' "$T/milter.log" | head -n 3)" ""
check stop pf_stop "$P"
finish
