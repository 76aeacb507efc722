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

What every MTA test shares (reading smtp-sink's dump, the X-Mugai-*
headers, killing the milter mid-transaction) is in mta_check.py.
"""
import base64
import contextlib
import hashlib
import io
import json
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_message as cm                      # noqa: E402
from mta_check import (Fail, crlf, fields, split, relayed, header,  # noqa: E402
                       mugai_headers, parse, body_text, diff_at,
                       first_received)
import mta_check                                # noqa: E402

# EICAR in two halves, so that this file is not itself a test virus.
EICAR = (r'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR' +
         r'-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').encode('ascii')


def sendmail_received(msg):
    """(Sendmail's Received field, queue id): the first header relayed."""
    return first_received(msg, 'Sendmail',
                          rb'Received: .*\bby \S+ \(8\.[0-9.]+/8\.[0-9.]+\) with '
                          rb'E?SMTP id ([0-9A-Za-z]+)')


def cmd_html(sink):
    mta_check.html(sink)


def cmd_sanitised(fixture, expect, sink):
    mta_check.sanitised(fixture, expect, sink)


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
        raise Fail('original ' + diff_at(orig, want))
    print('byte-identical to the %d bytes sent (sha256 %s)'
          % (len(want), hashlib.sha256(want).hexdigest()[:16]))


def cmd_smtp(port, pid, mode, rcpt, path):
    mta_check.smtp_kill('Sendmail', port, pid, mode, rcpt, path)


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


if __name__ == '__main__':
    mta_check.main(globals())
