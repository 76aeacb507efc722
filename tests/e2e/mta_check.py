"""mta_check.py - what the MTA tests (postfix_check.py, sendmail_check.py)
share: reading the message an MTA relayed to smtp-sink, the X-Mugai-*
headers, the checks every MTA must pass, and killing mugai-milter at a
chosen point of an SMTP transaction.  Each check raises Fail saying why.

smtp-sink's dump: X-Client-Addr ... X-Rcpt-Args and its own Received
header, then the message as the MTA relayed it (LF line ends), then an
empty line.
"""
import email
import email.policy
import re
import select
import signal
import smtplib
import sys
import time
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_message as cm                      # noqa: E402

POLICY = email.policy.default.clone(raise_on_defect=False)


class Fail(Exception):
    pass


def crlf(data):
    """What the MTA received: the file with CRLF line ends."""
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
    """The message as the MTA relayed it: smtp-sink's dump without the
    lines smtp-sink adds.  LF line ends."""
    raw = open(path, 'rb').read()
    lines = raw.split(b'\n')
    i = 0
    while i < len(lines) and re.match(
            rb'X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): ',
            lines[i]):
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
        raise Fail("%s: does not end with smtp-sink's empty line" % path)
    return rest[:-1]


def first_received(msg, mta, pattern):
    """(the MTA's Received field, queue id): the first header relayed,
    matched by pattern whose group 1 is the queue id."""
    first = fields(split(msg)[0])[0]
    m = re.match(pattern, first, re.S)
    if not m:
        raise Fail("first header is not %s's Received: %r" % (mta, first[:160]))
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


def diff_at(a, b):
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return 'differ at byte %d (of %d and %d): %r vs %r' % (
        n, len(a), len(b), a[max(0, n - 30):n + 40], b[max(0, n - 30):n + 40])


def sanitised(fixture, expect, sink):
    """check_message.py's checks of a sanitised message (all but the
    report's), against the fixture and its .expect; the relayed message."""
    out = relayed(sink)
    exp, errs = cm.load_expect(expect)
    if errs:
        raise Fail('; '.join(errs))
    run = cm.Run(open(fixture, 'rb').read(), exp, 0, out, None, '')
    cm.check_output(run, None, False)
    if run.errors:
        raise Fail('; '.join(run.errors[:3]))
    mugai_headers(out)
    return out


HTML_TAG = re.compile(r'</?(html|head|body|p|div|span|a|script|style|img|table|'
                      r'tr|td|th|ul|ol|li|blockquote|iframe|form|input|br|meta|'
                      r'title|b|i|h[1-6]|font|center)\b[^<>]*>', re.I)


def html(sink):
    """HTML-only mail arrives as one text/plain part without HTML."""
    out = relayed(sink)
    msg = parse(out)
    if msg.is_multipart() or msg.get_content_type() != 'text/plain':
        raise Fail('top-level %s, want one text/plain part' % msg.get_content_type())
    text = body_text(out)
    for what, pat in (('an HTML tag', HTML_TAG),
                      ('script', re.compile(r'(?i)<\s*script|javascript:|onload\s*='))):
        m = pat.search(text)
        if m:
            raise Fail('%s in the delivered text: %r' % (what, m.group(0)))
    counts, _ = mugai_headers(out)
    if counts.get('converted', 0) < 1:
        raise Fail('X-Mugai-Status does not count the converted HTML: %r' % counts)


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


def smtp_kill(mta, port, pid, mode, rcpt, path):
    """One SMTP transaction, step by step, with mugai-milter (pid) killed
    by SIGKILL at a chosen point:
      before-data  after RCPT TO was accepted, before DATA
      mid-data     after half the message data was sent
      at-eom       after the final ".": the milter is stopped (SIGSTOP)
                   before it, so the MTA is waiting for its verdict when
                   the kill comes
    Succeeds when the MTA answers 4xx (at DATA or at the end)."""
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
        time.sleep(0.5)             # let the MTA pass on what it has
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    elif mode == 'at-eom':
        signal_and_wait(pid, signal.SIGSTOP, ('T', 't'))
    s.send(data[half:] + b'.\r\n')
    if mode == 'at-eom':
        # The MTA must be waiting for the stopped milter, not answering.
        r, _, _ = select.select([s.sock], [], [], 2.0)
        if r:
            code, text = s.getreply()
            raise Fail('%s answered %d %s before the milter decided'
                       % (mta, code, text.decode('ascii', 'replace')))
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    code, text = s.getreply()
    log.append('end of data: %d %s' % (code, text.decode('ascii', 'replace')))
    done(code)


def main(commands):
    """Run commands['cmd_' + argv[1]] with the other arguments; a Fail
    is printed and exits 1."""
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        commands['cmd_' + cmd.replace('-', '_')](*args)
    except Fail as e:
        print(e)
        sys.exit(1)
