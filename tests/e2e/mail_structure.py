#!/usr/bin/env python3
"""mail_structure.py BUILD TMP JPEG - nothing lost without a word.

Messages in the layouts real mail programs write, made here with Python's
email package (Outlook's and Apple Mail's pasted pictures, a part header
that runs into its base64, an HTML alternative, a Shift_JIS CSV, the
first fragment of a split message, a byte-order mark before the headers,
a phishing link), each run through "mugai sanitize" with a quarantine.
For every one: the delivered message names every original part, the
X-Mugai-Status counts match the report, the original is in the
quarantine under X-Mugai-Id and "mugai quarantine export" gives it back
byte for byte; then what the case is about.  JPEG is a photo written by
tests/e2e/mkjpeg.c.  Prints "PASS mail-structure/NAME" / "FAIL ...".
"""

import base64
import email
import email.encoders
import email.policy
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

BUILD, TMP, JPEG = sys.argv[1:4]
MUGAI = os.path.join(BUILD, 'mugai')
QDIR = os.path.join(TMP, 'q')
failed = 0


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS mail-structure/%s' % name)
    else:
        failed = 1
        print('FAIL mail-structure/%s: %s' % (name, why))


def png(width, height, shade):
    def chunk(kind, data):
        c = struct.pack('>I', len(data)) + kind + data
        return c + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    pixels = b''.join(b'\0' + bytes([shade, (y * 9) % 256, 200]) * width
                      for y in range(height))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
            chunk(b'IDAT', zlib.compress(pixels)) + chunk(b'IEND', b''))


def zipped(name, text):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(name, text)
    return b.getvalue()


def headers(msg, subject):
    msg['From'] = 'Sender <sender@example.com>'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = subject
    msg['Date'] = 'Mon, 30 Nov 2026 10:00:00 +0900'
    msg['Message-ID'] = '<%s@example.com>' % re.sub(r'\W', '', subject)
    return msg


def mq(*args, stdin=None):
    return subprocess.run([MUGAI, '-o', 'quarantine_dir=' + QDIR, '-o',
                           'audit_log=' + os.path.join(TMP, 'audit.jsonl'),
                           '-o', 'clamav_enable=no'] + list(args),
                          input=stdin, capture_output=True)


def text_of(msg):
    body = msg.get_body(preferencelist=('plain',))
    return body.get_content() if body is not None else ''


def run(name, raw, leaves, extra=()):
    """Sanitise raw; check what every case must hold.  leaves: the file
    names (or Content-ID names) of the original's parts that the notice
    must name.  Returns (delivered message, report, notice text)."""
    src = os.path.join(TMP, name + '.eml')
    out = os.path.join(TMP, name + '.out')
    rep = os.path.join(TMP, name + '.json')
    with open(src, 'wb') as f:
        f.write(raw)
    p = mq(*extra, 'sanitize', '--report', rep, src, out)
    if p.returncode != 0:
        result(name, False, 'exit %d: %s' % (p.returncode, p.stderr[-300:]))
        return None, None, ''
    with open(out, 'rb') as f:
        delivered = f.read()
    with open(rep, encoding='utf-8') as f:
        report = json.load(f)
    msg = email.message_from_bytes(delivered, policy=email.policy.default)
    text = text_of(msg)
    notice = text.split('ID: ')[0]
    missing = [n for n in leaves if n not in notice]
    result(name + '/notice-names-every-part', not missing,
           'not in the notice: %r\n%s' % (missing, notice[-600:]))
    st = dict((k, int(v)) for k, v in
              re.findall(r'(\w+)=(\d+)', msg.get('X-Mugai-Status', '')))
    rows = [r for r in report['parts'] if r['path'] != '-']
    counted = {a: sum(1 for r in rows if r['action'] == a)
               for a in ('converted', 'removed')}
    unread = sum(1 for r in report['parts'] if r['reason'] == 'unread')
    ok = (st.get('converted') == report['converted'] ==
          counted['converted'] and st.get('removed') == report['removed']
          and report['removed'] >= counted['removed'] + unread)
    result(name + '/counts', ok, 'X-Mugai-Status %r, report %d/%d, rows %r'
           % (msg.get('X-Mugai-Status'), report['converted'],
              report['removed'], counted))
    mid = msg.get('X-Mugai-Id')
    result(name + '/id-quoted', mid is not None and mid in text,
           'X-Mugai-Id %r' % mid)
    if mid is not None:
        e = mq('quarantine', 'export', mid)
        result(name + '/export-byte-for-byte',
               e.returncode == 0 and e.stdout == raw,
               'exit %d, %d bytes, want %d' % (e.returncode, len(e.stdout),
                                               len(raw)))
    return msg, report, text


def attachments(msg):
    return dict((p.get_filename(), p.get_content())
                for p in msg.iter_attachments() if p.get_filename())


def outlook():
    """Outlook for Windows: related(alternative(text, html), image001.png,
    image002.png); the second has no name, only its Content-ID."""
    cid1 = 'image001.png@01DB4A2C.5E6F7A80'
    cid2 = 'image002.png@01DB4A2C.5E6F7A80'
    alt = MIMEMultipart('alternative')
    alt.attach(MIMEText('画面のとおりです。\n[cid:%s]\n\n2枚目:\n[cid:%s]\n'
                        % (cid1, cid2), 'plain', 'iso-2022-jp'))
    alt.attach(MIMEText('<html><body><p>画面のとおりです。<img width=64 '
                        'src="cid:%s"></p><p>2枚目:<img src="cid:%s"></p>'
                        'OUTLOOKHTMLMARKER</body></html>' % (cid1, cid2),
                        'html', 'utf-8'))
    rel = MIMEMultipart('related', type='multipart/alternative')
    rel.attach(alt)
    for i, (cid, named) in enumerate(((cid1, True), (cid2, False))):
        img = MIMEImage(png(40, 30, 60 * i), 'png')
        if named:
            img.set_param('name', 'image001.png')
            img.add_header('Content-Disposition', 'inline',
                           filename='image001.png')
        img['Content-ID'] = '<%s>' % cid
        rel.attach(img)
    raw = headers(rel, 'Outlook pasted screenshots').as_bytes()
    msg, rep, text = run('outlook', raw, ['image001.png', 'image002.png'])
    if msg is None:
        return
    att = attachments(msg)
    result('outlook/two-image-copies', set(att) >= {'image001.png',
                                                    'image002.png'},
           'attachments %r' % list(att))
    result('outlook/cid-references-renamed',
           '[image001.png]' in text and '[image002.png]' in text and
           'cid:' not in text, text[-300:])
    result('outlook/html-told', 'OUTLOOKHTMLMARKER' not in text and
           any(r['reason'] == 'alternative' and r['action'] == 'removed'
               for r in rep['parts']), 'no removed alternative row')


def apple():
    """Apple Mail: alternative(text, related(html, IMG_0412.jpeg))."""
    with open(JPEG, 'rb') as f:
        jpeg = f.read()
    cid = '5C2E1F7A-3B4D-4E5F-8A9B-0C1D2E3F4A5B'
    rel = MIMEMultipart('related', type='text/html')
    rel.attach(MIMEText('<html><body><div>写真を送ります。</div><div><img '
                        'src="cid:%s" alt="IMG_0412.jpeg"></div>'
                        '</body></html>' % cid, 'html', 'utf-8'))
    img = MIMEImage(jpeg, 'jpeg', name='IMG_0412.jpeg')
    img.add_header('Content-Disposition', 'inline', filename='IMG_0412.jpeg')
    img['Content-Id'] = '<%s>' % cid
    rel.attach(img)
    alt = MIMEMultipart('alternative')
    alt.attach(MIMEText('写真を送ります。\n\n', 'plain', 'utf-8'))
    alt.attach(rel)
    raw = headers(alt, 'Apple Mail pasted photo').as_bytes()
    msg, rep, text = run('apple', raw, ['IMG_0412.jpeg'])
    if msg is None:
        return
    att = attachments(msg)
    jpgs = [n for n in att if n.startswith('IMG_0412.')]
    result('apple/jpeg-copy', len(jpgs) == 1 and
           att[jpgs[0]][:2] == b'\xff\xd8' and b'GPS-SECRET' not in
           att[jpgs[0]], 'attachments %r' % list(att))


def html_related():
    """HTML only with a pasted picture: the [image] placeholder of the
    converted HTML names the attached copy."""
    cid = 'part1.A1B2C3D4.E5F6A7B8@example.com'
    rel = MIMEMultipart('related')
    rel.attach(MIMEText('<p>地図です<img src="cid:%s" alt="地図"></p>' % cid,
                        'html', 'utf-8'))
    img = MIMEImage(png(20, 20, 90), 'png', name='map.png')
    img['Content-ID'] = '<%s>' % cid
    rel.attach(img)
    raw = headers(rel, 'HTML with a picture').as_bytes()
    msg, rep, text = run('html-related', raw, ['map.png'])
    if msg is None:
        return
    result('html-related/placeholder-names-copy',
           '[image: 地図 (map.png)]' in text, text[-300:])


def header_runs_into_base64():
    """A part header with no blank line before its 5,400-byte base64
    line, then a text part and a second zip."""
    z1 = zipped('a.txt', 'ZIPONE ' + 'x' * 4000 + ''.join(
        '%05d' % i for i in range(500)))
    z2 = zipped('b.txt', 'ZIPTWO')
    mixed = MIMEMultipart('mixed')
    mixed.attach(MIMEText('添付します。\n', 'plain', 'utf-8'))
    a1 = MIMEBase('application', 'zip')
    a1.add_header('Content-Disposition', 'attachment',
                  filename='Attachment.zip')
    a1['Content-Transfer-Encoding'] = 'base64'
    a1.set_payload('BODYPLACEHOLDER')
    mixed.attach(a1)
    mixed.attach(MIMEText('LATERTEXTMARKER\n', 'plain', 'utf-8'))
    a2 = MIMEBase('application', 'zip')
    a2.add_header('Content-Disposition', 'attachment',
                  filename='Second.zip')
    a2['Content-Transfer-Encoding'] = 'base64'
    a2.set_payload(base64.encodebytes(z2).decode())
    mixed.attach(a2)
    raw = headers(mixed, 'header runs into body').as_bytes()
    line = base64.b64encode(z1)
    raw = raw.replace(b'Content-Transfer-Encoding: base64\n\nBODYPLACEHOLDER',
                      b'Content-Transfer-Encoding: base64\n' + line)
    result('header-runs/fixture', len(line) >= 5400 and
           b'BODYPLACEHOLDER' not in raw, 'line of %d bytes' % len(line))
    msg, rep, text = run('header-runs', raw, ['Attachment.zip', 'Second.zip'])
    if msg is None:
        return
    result('header-runs/later-text-kept', 'LATERTEXTMARKER' in text,
           text[-300:])
    att = attachments(msg)
    result('header-runs/both-zips-converted',
           'Attachment.zip' in att and 'Second.zip' in att and
           b'ZIPONE' in zipfile.ZipFile(io.BytesIO(att['Attachment.zip']))
           .read('a.txt'), 'attachments %r' % list(att))


def top_header_runs():
    """The safety net: the message's own header runs into a 5,000-byte
    preamble line, so GMime reads no multipart at all; the delimiter
    lines in the bytes say three parts were there."""
    raw = ('From: a@example.com\nTo: staff@city.example.lg.jp\n'
           'Subject: top header runs on\nMIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary="m"\n'
           'This is a multi-part message in MIME format. ' + 'x' * 5000 +
           '\n--m\nContent-Type: text/plain\n\nbody\n--m\n'
           'Content-Type: application/octet-stream; name="x.bin"\n\nAAAA\n'
           '--m\nContent-Type: text/plain\n\nLATER\n--m--\n').encode()
    msg, rep, text = run('top-header-runs', raw, ['3 parts could not be read'])
    if msg is None:
        return
    result('top-header-runs/told', rep['removed'] >= 3 and any(
        r['reason'] == 'unread' for r in rep['parts']),
        'removed=%d' % rep['removed'])


def unread_parts():
    """A part header field of 5,000 bytes (nothing to mend): every part
    after it is read (GMime keeps long fields), or told as unread."""
    mixed = MIMEMultipart('mixed')
    mixed.attach(MIMEText('本文です。\n', 'plain', 'utf-8'))
    for i in range(3):
        a = MIMEBase('application', 'octet-stream')
        a.add_header('Content-Disposition', 'attachment',
                     filename='part%d.bin' % i)
        a.set_payload(b'\x00\x01binary%d' % i)
        email.encoders.encode_base64(a)
        mixed.attach(a)
    raw = headers(mixed, 'long header').as_bytes()
    raw = raw.replace(b'filename="part0.bin"\n',
                      b'filename="part0.bin"\nX-Long: ' + b'y' * 5000 + b'\n',
                      1)
    msg, rep, text = run('long-header', raw, [])
    if msg is None:
        return
    named = sum(1 for r in rep['parts'] if r['name'].startswith('part'))
    unread = sum(1 for r in rep['parts'] if r['reason'] == 'unread')
    result('long-header/accounted', named == 3 or (
        unread == 1 and 'could not be read' in text),
        'named %d, unread rows %d' % (named, unread))


def alternative_html():
    alt = MIMEMultipart('alternative')
    alt.attach(MIMEText('テキスト版です。\n', 'plain', 'utf-8'))
    alt.attach(MIMEText('<p>HTML版です。ALTHTMLMARKER</p>', 'html', 'utf-8'))
    raw = headers(alt, 'alternative').as_bytes()
    msg, rep, text = run('alternative-html', raw, ['text/html'])
    if msg is None:
        return
    result('alternative-html/counted', rep['removed'] == 1 and
           'ALTHTMLMARKER' not in text and 'テキスト版です。' in text,
           'removed=%d' % rep['removed'])


def sjis_csv():
    csv = ('品名,数量,金額\r\n表計算,1,=SUM(B2:B3)\r\n'
           'ソフト,2,+cmd|\' /C calc\'!A0\r\n').encode('cp932')
    for mode, extra in (('original', ()), ('bom', ('-o',
                                                   'csv_charset=utf-8-bom'))):
        mixed = MIMEMultipart('mixed')
        mixed.attach(MIMEText('一覧を送ります。\n', 'plain', 'utf-8'))
        a = MIMEBase('text', 'csv', charset='Shift_JIS')
        a.add_header('Content-Disposition', 'attachment',
                     filename='一覧.csv')
        a.set_payload(csv)
        email.encoders.encode_base64(a)
        mixed.attach(a)
        raw = headers(mixed, 'Shift_JIS CSV ' + mode).as_bytes()
        msg, rep, text = run('sjis-csv-' + mode, raw, ['一覧.csv'], extra)
        if msg is None:
            continue
        part = [p for p in msg.iter_attachments()
                if p.get_filename() == '一覧.csv']
        data = part[0].get_payload(decode=True) if part else b''
        if mode == 'original':
            try:
                ok = ("'=SUM(B2:B3)" in data.decode('cp932') and
                      not data.startswith(b'\xef\xbb\xbf'))
            except UnicodeDecodeError:
                ok = False
        else:
            ok = (data.startswith(b'\xef\xbb\xbf') and
                  "'=SUM(B2:B3)" in data[3:].decode('utf-8'))
        result('sjis-csv-%s/bytes' % mode, ok, repr(data[:60]))


def partial():
    inner = ('From: Yamada <yamada@example.jp>\nTo: staff@city.example.lg.jp\n'
             'Subject: =?UTF-8?B?5YiG5Ymy44OG44K544OI?=\nMIME-Version: 1.0\n'
             'Content-Type: multipart/mixed; boundary="in1"\n\n--in1\n'
             'Content-Type: text/plain; charset=utf-8\n\n'
             'PARTIALTEXTMARKER 分割の1通目です。\n--in1\n'
             'Content-Type: application/pdf; name="report.pdf"\n'
             'Content-Disposition: attachment; filename="report.pdf"\n'
             'Content-Transfer-Encoding: base64\n\n' +
             base64.encodebytes(b'%PDF-1.4\n' + b'0' * 3000).decode())
    raw = ('From: yamada@example.jp\nTo: staff@city.example.lg.jp\n'
           'Subject: =?UTF-8?B?5YiG5Ymy44OG44K544OI?= (1/3)\n'
           'Date: Mon, 30 Nov 2026 10:00:00 +0900\nMIME-Version: 1.0\n'
           'Content-Type: message/partial; id="split-1@example.jp"; '
           'number=1; total=3\n\n' + inner).encode()
    msg, rep, text = run('partial', raw, ['fragment 1 of 3'])
    if msg is None:
        return
    result('partial/text-and-names', 'PARTIALTEXTMARKER' in text and
           'report.pdf' in text and '分割テスト' in text, text[-400:])


def bom_and_warning():
    m = headers(EmailMessage(), 'bom')
    m.set_content('<p>Log in: <a href="https://evil.example/">'
                   'https://bank.example.jp/</a></p>', subtype='html')
    raw = b'\xef\xbb\xbf' + m.as_bytes()
    msg, rep, text = run('bom-phishing', raw, [])
    if msg is None:
        return
    with open(os.path.join(TMP, 'bom-phishing.out'), 'rb') as f:
        out = f.read()
    result('bom-phishing/bom-dropped', out.startswith(b'From: Sender'),
           repr(out[:40]))
    result('bom-phishing/warning-line', '■ 警告 / warning:' in text and
           'フィッシング' in text and text.count('no name') == 1,
           text[:600])


for case in (outlook, apple, html_related, header_runs_into_base64,
             top_header_runs, unread_parts, alternative_html, sjis_csv, partial,
             bom_and_warning):
    try:
        case()
    except Exception as e:  # a broken case must show, not stop the rest
        result(case.__name__, False, '%s: %s' % (type(e).__name__, e))
sys.exit(failed)
