#!/usr/bin/env python3
"""postfix_check.py - the judging half of postfix-milter.sh: one check of
a message smtp-sink received through the private Postfix, or of the
quarantine's record of it; exits 1 saying why.  What every MTA test
shares is in mta_check.py.

  postfix_check.py CHECK ARGS...   (the cmd_* functions below)
"""
import email.header
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_message as cm                      # noqa: E402
from mta_check import (Fail, crlf, fields, split, relayed, header,  # noqa: E402
                       mugai_headers, parse, body_text, diff_at,
                       first_received)
import mta_check                                # noqa: E402


def postfix_received(msg):
    """(Postfix's Received field, queue id): the first header relayed."""
    return first_received(msg, 'Postfix',
                          rb'Received: .*\(Postfix\) with \S+ id ([0-9A-Za-z]+)')


def cmd_sanitised(fixture, expect, sink):
    """check_message.py's checks of a sanitised message (all but the
    report's), against the fixture and its .expect; prints the queue id
    and X-Mugai-Id."""
    out = mta_check.sanitised(fixture, expect, sink)
    print(postfix_received(out)[1], mugai_headers(out)[1])


def cmd_html(sink):
    mta_check.html(sink)


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


def cmd_asis(sent, sink, want):
    """A clean UTF-8 text message (want "kept") arrives with its own body
    and header byte for byte, the forged X-Mugai-Status replaced by
    mugai's; one with a right-to-left override (want "rebuilt") gets a
    new body whose text lacks it."""
    sent_head, sent_body = split(open(sent, 'rb').read())
    out = relayed(sink)
    head, body = split(out)
    counts, mid = mugai_headers(out)
    if want == 'rebuilt':
        if body == sent_body:
            raise Fail('the body came through as it was sent')
        if not re.search(rb'(?im)^Content-Type: text/plain; charset=UTF-8',
                         head):
            raise Fail("the Content-Type is not mugai's")
        text = body_text(out)
        if '\u202e' in text or 'overridden' not in text:
            raise Fail('the text %r' % text[:200])
        return
    if body != sent_body:
        raise Fail('the body changed: %s' % diff_at(body, sent_body))
    if counts != {'converted': 0, 'removed': 0} or mid is not None:
        raise Fail('X-Mugai-Status %r, X-Mugai-Id %r' % (counts, mid))
    # The header as sent, without the forged status, then mugai's line;
    # Postfix's own Received header first.
    want_head = re.sub(rb'(?m)^X-Mugai-Status: .*\n', b'', sent_head)
    got = head.split(b'\n', 1)[1] if head.startswith(b'Received: ') else head
    while got[:1] in (b' ', b'\t'):
        got = got.split(b'\n', 1)[1]
    got = re.sub(rb'(?m)^X-Mugai-Status: sanitised; converted=0; '
                 rb'removed=0\n', b'', got, count=1)
    if got != want_head:
        raise Fail('the header changed: %s' % diff_at(got, want_head))


def cmd_smtp(port, pid, mode, rcpt, path):
    mta_check.smtp_kill('Postfix', port, pid, mode, rcpt, path)


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


mta_check.main(globals())
