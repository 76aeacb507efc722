#!/usr/bin/env python3
"""sendmail_check.py - the judging half of sendmail-milter.sh.

  sendmail_check.py make DIR
      Writes the test messages: bytes.eml (header bytes that are easy to
      disturb, an attachment of every byte value), big.eml (a text body
      of about 300 KB, several milter body chunks each way, and an
      attachment to remove), big.txt (that text), eicar.eml, over.eml
      (about 1.5 MB), forged.eml (X-Mugai-* headers in odd spellings).
  sendmail_check.py CHECK ARGS...
      One check of a message smtp-sink received (its dump file); exits 1
      saying why.  The checks are the cmd_* functions below.
  sendmail_check.py batch < LINES
      Many checks in one run (a Python start is dear on a busy machine):
      each line is NAME, CHECK and its ARGS separated by tabs; prints
      "ok NAME" or "fail NAME: why" for each, and what a check printed
      after it, indented.

smtp-sink's dump: X-Client-Addr ... X-Rcpt-Args and its own Received
header, then the message as Sendmail relayed it (LF line ends), then an
empty line.
"""
import base64
import email
import email.policy
import contextlib
import hashlib
import io
import json
import os
import re
import select
import signal
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_message as cm                      # noqa: E402

POLICY = email.policy.default.clone(raise_on_defect=False)
# EICAR in two halves, so that this file is not itself a test virus.
EICAR = (r'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR' +
         r'-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').encode('ascii')


class Fail(Exception):
    pass


def crlf(data):
    """What Sendmail received: the file with CRLF line ends."""
    d = re.sub(rb'\r?\n', b'\r\n', data)
    if d and not d.endswith(b'\r\n'):
        d += b'\r\n'
    return d


def fields(block):
    out = []
    for line in block.splitlines(keepends=True):
        if line[:1] in (b' ', b'\t') and out:
            out[-1] += line
        else:
            out.append(line)
    return out


def split(msg):
    m = re.search(rb'\r?\n\r?\n', msg)
    if not m:
        return msg, b''
    return msg[:m.end()], msg[m.end():]


def relayed(path):
    """The message as Sendmail relayed it, LF line ends."""
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


def sendmail_received(msg):
    """(Sendmail's Received field, queue id): the first header relayed."""
    first = fields(split(msg)[0])[0]
    m = re.match(rb'Received: .*\bby \S+ \(8\.[0-9.]+/8\.[0-9.]+\) with '
                 rb'E?SMTP id ([0-9A-Za-z]+)', first, re.S)
    if not m:
        raise Fail("first header is not Sendmail's Received: %r" % first[:160])
    return first, m.group(1).decode()


def header(msg, name):
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
    for part in parse(msg).walk():
        if part.get_content_type() == 'text/plain' and not part.get_filename():
            return part.get_payload(decode=True).decode('utf-8')
    raise Fail('no text/plain body part')


HTML_TAG = re.compile(r'</?(html|head|body|p|div|span|a|script|style|img|table|'
                      r'tr|td|th|ul|ol|li|blockquote|iframe|form|input|br|meta|'
                      r'title|b|i|h[1-6]|font|center)\b[^<>]*>', re.I)


def cmd_html(sink):
    """HTML-only mail arrives as one text/plain part without HTML."""
    out = relayed(sink)
    msg = parse(out)
    if msg.is_multipart() or msg.get_content_type() != 'text/plain':
        raise Fail('top-level %s, want one text/plain part' % msg.get_content_type())
    text = body_text(out)
    m = HTML_TAG.search(text) or re.search(r'(?i)<\s*script|javascript:', text)
    if m:
        raise Fail('HTML in the delivered text: %r' % m.group(0))
    counts, _ = mugai_headers(out)
    if counts.get('converted', 0) < 1:
        raise Fail('X-Mugai-Status does not count the converted HTML: %r' % counts)


def cmd_sanitised(fixture, expect, sink):
    """check_message.py's checks of the output against the .expect."""
    out = relayed(sink)
    exp, errs = cm.load_expect(expect)
    if errs:
        raise Fail('; '.join(errs))
    run = cm.Run(open(fixture, 'rb').read(), exp, 0, out, None, '')
    cm.check_output(run, None, False)
    if run.errors:
        raise Fail('; '.join(run.errors[:3]))
    mugai_headers(out)


def attachments(msg):
    return [p for p in msg.walk() if not p.is_multipart() and p.get_filename()]


def cmd_pdf(sink, fixture, name):
    """The PDF arrives as a sanitised copy: a PDF named NAME that is not
    the sent one, listed as converted in the notice."""
    out = relayed(sink)
    sent = [p.get_payload(decode=True) for p in attachments(parse(open(fixture, 'rb').read()))
            if p.get_filename() == name]
    got = [p for p in attachments(parse(out)) if p.get_filename() == name]
    if len(sent) != 1 or len(got) != 1:
        raise Fail('%d attachments %r sent, %d delivered; want 1 each'
                   % (len(sent), name, len(got)))
    data = got[0].get_payload(decode=True)
    if got[0].get_content_type() != 'application/pdf' or not data.startswith(b'%PDF-'):
        raise Fail('delivered %s is %s starting %r' % (name, got[0].get_content_type(), data[:8]))
    if data == sent[0]:
        raise Fail('the delivered PDF is the original, not a sanitised copy')
    counts, mid = mugai_headers(out)
    if counts.get('converted', 0) < 1:
        raise Fail('X-Mugai-Status counts no conversion: %r' % counts)
    text = body_text(out)
    if name not in text or mid not in text:
        raise Fail('the notice does not name %r and %s' % (name, mid))
    print('%s: %d bytes sent, a %d-byte copy delivered' % (name, len(sent[0]), len(data)))


def cmd_removed(sink, name):
    """No attachment delivered; the notice names NAME.  Prints X-Mugai-Id."""
    out = relayed(sink)
    counts, mid = mugai_headers(out)
    left = attachments(parse(out))
    if left:
        raise Fail('attachments delivered: %r' % [p.get_filename() for p in left])
    if name not in body_text(out) or counts.get('removed', 0) < 1:
        raise Fail('the notice does not name %r, or removed=%r' % (name, counts.get('removed')))
    print(mid)


def cmd_headers(sink, fixture):
    """Header edits arrive intact: Sendmail's Received first, then every
    header sent but the MIME ones and the forged X-Mugai-* in the order
    sent and byte for byte, one X-Mugai-Status and X-Mugai-Id (ours),
    nothing forged left."""
    out = relayed(sink)
    sendmail_received(out)
    inp = open(fixture, 'rb').read()
    def keep(fs):
        names = [f.split(b':', 1)[0].strip().lower().decode('ascii', 'replace')
                 for f in fs]
        return [f for f, n in zip(fs, names)
                if not cm.is_mime_header(n) and not cm.is_ours(n)]
    sent = keep(fields(split(inp)[0]))
    got = keep(fields(split(out)[0])[1:])
    if got != sent:
        raise Fail('headers sent %r, delivered %r' % (sent, got))
    counts, mid = mugai_headers(out)
    for value in re.findall(rb'FORGED-[0-9]+', inp):
        if value in out:
            raise Fail('the forged value %r was delivered' % value)
    print('%d headers in order, X-Mugai-Id %s' % (len(sent), mid))


def cmd_subject(sink, fixture):
    """The Subject arrives byte for byte as sent (Sendmail leaves raw
    and encoded Japanese headers alone)."""
    out = relayed(sink)
    got, want = header(out, 'Subject'), header(open(fixture, 'rb').read(), 'Subject')
    if got != want or len(got) != 1:
        raise Fail('Subject %r, sent %r' % (got, want))
    print(cm.decode_words(cm.decode_loose(got[0], None)))


def cmd_big(sink, textfile):
    """The sent text arrives whole, in the replaced body."""
    out = relayed(sink)
    want = open(textfile, encoding='utf-8').read()
    got = body_text(out).replace('\r\n', '\n')
    if want not in got:
        n = next((i for i in range(min(len(want), len(got))) if want[i] != got[i]), 0)
        raise Fail('the %d-character text is not in the %d-character body '
                   '(first difference near %r / %r)' % (len(want), len(got),
                                                        want[n:n + 40], got[n:n + 40]))
    mugai_headers(out)
    print('%d characters of text, %d bytes relayed' % (len(want), len(out)))


def cmd_qid(sink, milterlog, listjson):
    """Sendmail's queue id ({i}) reached the milter: its summary line
    and the quarantine row for this X-Mugai-Id carry it."""
    out = relayed(sink)
    _, qid = sendmail_received(out)
    _, mid = mugai_headers(out)
    lines = [l for l in open(milterlog, encoding='utf-8', errors='replace')
             if ' id=%s ' % mid in l]
    if len(lines) != 1 or (': %s: from=<' % qid) not in lines[0]:
        raise Fail('milter summary for %s: %r, want queue id %s' % (mid, lines, qid))
    rows = [r for r in json.load(open(listjson)) if r.get('id') == mid]
    if len(rows) != 1 or rows[0].get('queue_id') != qid:
        raise Fail('quarantine rows for %s: %r, want queue_id %s' % (mid, rows, qid))
    print(qid)


def cmd_original(export, sent):
    """The quarantined original is the sent message, byte for byte."""
    orig = open(export, 'rb').read()
    want = crlf(open(sent, 'rb').read())
    if orig != want:
        n = next((i for i in range(min(len(orig), len(want))) if orig[i] != want[i]),
                 min(len(orig), len(want)))
        raise Fail('original differs at byte %d (of %d and %d): %r vs %r' % (
            n, len(orig), len(want), orig[max(0, n - 30):n + 40], want[max(0, n - 30):n + 40]))
    print('byte-identical to the %d bytes sent (sha256 %s)'
          % (len(want), hashlib.sha256(want).hexdigest()[:16]))


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
    """One SMTP transaction with mugai-milter (pid) killed by SIGKILL:
      before-data  after RCPT TO was accepted, before DATA
      mid-data     after half the message data was sent
      at-eom       after the final ".": the milter is stopped (SIGSTOP)
                   before it, so Sendmail waits for its verdict when the
                   kill comes
    Succeeds when Sendmail answers 4xx (at DATA or at the end)."""
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
        time.sleep(0.5)             # let Sendmail pass on what it has
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    elif mode == 'at-eom':
        signal_and_wait(pid, signal.SIGSTOP, ('T', 't'))
    s.send(data[half:] + b'.\r\n')
    if mode == 'at-eom':
        r, _, _ = select.select([s.sock], [], [], 2.0)
        if r:
            code, text = s.getreply()
            raise Fail('Sendmail answered %d %s before the milter decided'
                       % (code, text.decode('ascii', 'replace')))
        signal_and_wait(pid, signal.SIGKILL, ('Z', 'gone'))
    code, text = s.getreply()
    log.append('end of data: %d %s' % (code, text.decode('ascii', 'replace')))
    done(code)


def cmd_size(port, size):
    """MAIL FROM with SIZE=size: prints Sendmail's reply."""
    s = smtplib.SMTP('127.0.0.1', int(port), local_hostname='size.example', timeout=60)
    s.ehlo()
    code, text = s.docmd('MAIL FROM:<size@example.org> SIZE=%d' % int(size))
    s.quit()
    print('%d %s' % (code, text.decode('ascii', 'replace')))


def cmd_make(d):
    att = base64.encodebytes(bytes(range(256)) * 4).decode()
    head = ('From: Sender <sender@example.org>\n'
            'To: Staff <bytes@example.jp>\n'
            'Date: Mon, 04 Mar 2024 10:15:00 +0900\n'
            'Message-ID: <byte-test@example.org>\n'
            'X-Tight:value-without-space\n'
            'X-Tab:\tvalue after a tab\n'
            'X-Trailing: trailing blanks   \n'
            'X-Folded: first\n\tsecond after a tab\n   third after spaces\n'
            'X-Empty:\n'
            'X-8bit: 日本語の生ヘッダ\n'
            'X-Long: ' + 'x' * 900 + '\n'
            'Subject: byte test\n'
            'MIME-Version: 1.0\n'
            'Content-Type: multipart/mixed; boundary="bb"\n')
    body = ('\npreamble\n--bb\nContent-Type: text/plain; charset=us-ascii\n\n'
            '.leading dot\n..two dots\n.\nFrom the start of a line\n'
            'trailing blanks   \n\n--bb\n'
            'Content-Type: application/octet-stream; name="data.bin"\n'
            'Content-Disposition: attachment; filename="data.bin"\n'
            'Content-Transfer-Encoding: base64\n\n' + att + '--bb--\nepilogue\n')
    open(os.path.join(d, 'bytes.eml'), 'wb').write((head + body).encode())

    lines = []
    for i in range(6000):
        lines.append('%05d 住民票の写しについて line %d ' % (i, i) + 'abcdefghij' * (i % 5))
        if i % 97 == 0:
            lines.append('.dot at the start of line %d' % i)
        if i % 89 == 0:
            lines.append('From the start of line %d' % i)
    text = '\n'.join(lines) + '\n'
    open(os.path.join(d, 'big.txt'), 'w', encoding='utf-8').write(text)
    qp = base64.encodebytes(text.encode('utf-8')).decode()
    open(os.path.join(d, 'big.eml'), 'w').write(
        'From: Sender <sender@example.org>\nTo: Staff <big@example.jp>\n'
        'Subject: big\nDate: Mon, 04 Mar 2024 10:15:00 +0900\n'
        'Message-ID: <big@example.org>\nMIME-Version: 1.0\n'
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        '--b\nContent-Type: text/plain; charset=UTF-8\n'
        'Content-Transfer-Encoding: base64\n\n' + qp +
        '--b\nContent-Type: application/x-msdownload; name="setup.exe"\n'
        'Content-Disposition: attachment; filename="setup.exe"\n'
        'Content-Transfer-Encoding: base64\n\n' +
        base64.encodebytes(b'MZ' + bytes(4000)).decode() + '--b--\n')
    open(os.path.join(d, 'eicar.eml'), 'w').write(
        'From: Sender <sender@example.org>\nTo: Staff <eicar@example.jp>\n'
        'Subject: eicar\nDate: Mon, 04 Mar 2024 10:15:00 +0900\n'
        'Message-ID: <eicar@example.org>\nMIME-Version: 1.0\n'
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        '--b\nContent-Type: text/plain\n\nsee attachment\n'
        '--b\nContent-Type: application/octet-stream; name="eicar.com"\n'
        'Content-Disposition: attachment; filename="eicar.com"\n'
        'Content-Transfer-Encoding: base64\n\n' +
        base64.encodebytes(EICAR).decode() + '--b--\n')
    # Forged X-Mugai-* in every spelling a header name can take.
    open(os.path.join(d, 'forged.eml'), 'w').write(
        'From: Sender <sender@example.org>\nTo: Staff <forged@example.jp>\n'
        'Subject: forged\nDate: Mon, 04 Mar 2024 10:15:00 +0900\n'
        'Message-ID: <forged@example.org>\n'
        'X-Mugai-Id: FORGED-1\nx-mugai-id: FORGED-2\nX-Mugai-Id : FORGED-3\n'
        'X-MUGAI-STATUS: sanitised; FORGED-4\nX-Mugai-Status:FORGED-5\n'
        'X-Mugai-Id:\tFORGED-6\n'
        'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
        'plain text\n')
    open(os.path.join(d, 'over.eml'), 'w').write(
        'From: Sender <sender@example.org>\nTo: Staff <over@example.jp>\n'
        'Subject: over\nDate: Mon, 04 Mar 2024 10:15:00 +0900\n'
        'Message-ID: <over@example.org>\n\n' + ('y' * 75 + '\n') * 20000)


def cmd_batch():
    for line in sys.stdin:
        args = line.rstrip('\n').split('\t')
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                globals()['cmd_' + args[1]](*args[2:])
            print('ok %s' % args[0])
        except Fail as e:
            print('fail %s: %s' % (args[0], str(e).replace('\n', ' ')))
        except Exception as e:          # a broken message is a failure too
            print('fail %s: %s: %s' % (args[0], type(e).__name__, e))
        for detail in out.getvalue().splitlines():
            print('    ' + detail)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        globals()['cmd_' + cmd](*args)
    except Fail as e:
        print(e)
        sys.exit(1)


main()
