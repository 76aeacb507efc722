#!/usr/bin/env python3
"""postfix_cdr.py make DIR | check FILE... - the messages postfix-cdr.sh
sends through Postfix and mugai-milter (default policy), and the checks
of what smtp-sink received: one line "ok NAME" or "bad NAME: why" each."""

import email
import email.policy
import io
import os
import struct
import sys
import zipfile
import zlib
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnef_writer as tw  # noqa: E402

PAYLOAD = b'PAYLOAD-AFTER-IEND'


def png():
    def chunk(k, d):
        return (struct.pack('>I', len(d)) + k + d +
                struct.pack('>I', zlib.crc32(k + d) & 0xffffffff))
    raw = b''.join(b'\0' + bytes((x * 30 + y) % 256 for x in range(24))
                   for y in range(6))
    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', 8, 6, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'') +
            PAYLOAD)


def archive():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('setup.exe', b'MZ\x90\x00' + b'\0' * 60 +
                   b'This program cannot be run in DOS mode' + b'\0' * 100)
        z.writestr('会議資料.txt', '来週の会議資料です。\n'.encode())
    return buf.getvalue()


RTF = (b'{\\rtf1\\ansi\\ansicpg932{\\fonttbl{\\f0\\fcharset128 x;}}\\f0 ' +
       b''.join(b"\\'%02x" % c for c in '議事録'.encode('cp932')) +
       b'\\par \\u12362?\\u30693?\\u12425?\\u12379?\\par}')


def winmail():
    """Outlook's winmail.dat: RTF body, a PNG, a program."""
    return tw.Message(subject='議事録', body_rtf=RTF, attachments=[
        tw.Attachment('グラフ.png', png()),
        tw.Attachment('setup.exe', b'MZ\x90\x00' + b'\0' * 60 +
                      b'This program cannot be run in DOS mode' +
                      b'\0' * 100)]).tnef()


def make(d):
    for subject, name, data, mtype in (
            ('cdr-png', 'グラフ.png', png(), 'image/png'),
            ('cdr-zip', '資料.zip', archive(), 'application/zip'),
            ('cdr-tnef', 'winmail.dat', winmail(), 'application/ms-tnef')):
        m = EmailMessage()
        m['From'] = 'sender@example.com'
        m['To'] = 'staff@city.example.lg.jp'
        m['Subject'] = subject
        m.set_content('添付をご確認ください。\n' if subject != 'cdr-tnef'
                      else '\n')
        major, minor = mtype.split('/')
        m.add_attachment(data, maintype=major, subtype=minor, filename=name)
        open('%s/%s.eml' % (d, subject), 'wb').write(m.as_bytes())


def check(files):
    got = {}
    for f in files:
        m = email.message_from_bytes(open(f, 'rb').read(),
                                     policy=email.policy.default)
        got[str(m['Subject'])] = m
    for subject, judge in (('cdr-png', judge_png), ('cdr-zip', judge_zip),
                           ('cdr-tnef', judge_tnef)):
        m = got.get(subject)
        why = 'not at the sink' if m is None else judge(m)
        print('ok %s' % subject if not why else 'bad %s: %s' % (subject, why))


def atts(m):
    return [p for p in m.walk() if p.get_filename()]


def judge_png(m):
    a = atts(m)
    if len(a) != 1 or a[0].get_content_type() != 'image/png':
        return 'attachments %r' % [p.get_content_type() for p in a]
    data = a[0].get_content()
    if PAYLOAD in data or not data.endswith(b'IEND\xaeB`\x82'):
        return 'the copy keeps bytes after IEND'
    if 'converted=1' not in str(m['X-Mugai-Status']):
        return 'X-Mugai-Status %s' % m['X-Mugai-Status']
    return ''


def judge_zip(m):
    a = atts(m)
    if len(a) != 1:
        return '%d attachments' % len(a)
    names = zipfile.ZipFile(io.BytesIO(a[0].get_content())).namelist()
    if names != ['会議資料.txt']:
        return 'members %r' % names
    body = [p for p in m.walk() if p.get_content_type() == 'text/plain'
            and not p.get_filename()]
    if not body or 'setup.exe' not in body[0].get_content():
        return 'the notice does not name setup.exe'
    return ''


def judge_tnef(m):
    a = {p.get_filename(): p for p in atts(m)}
    if sorted(a) != ['グラフ.png']:
        return 'attachments %r' % sorted(a)
    if PAYLOAD in a['グラフ.png'].get_content():
        return 'the PNG copy keeps bytes after IEND'
    body = [p for p in m.walk() if p.get_content_type() == 'text/plain'
            and not p.get_filename()][0].get_content()
    if '議事録' not in body or 'お知らせ' not in body:
        return 'the RTF body is not the text: %r' % body[-200:]
    notice = body.split('ID: ')[0]
    for n in ('winmail.dat', 'グラフ.png', 'setup.exe'):
        if n not in notice:
            return 'the notice does not name %s' % n
    st = str(m['X-Mugai-Status'])
    if 'converted=2' not in st or 'removed=1' not in st:
        return 'X-Mugai-Status %s' % st
    return ''


if sys.argv[1] == 'make':
    make(sys.argv[2])
else:
    check(sys.argv[2:])
