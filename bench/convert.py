#!/usr/bin/env python3
"""convert.py BUILD TMP - sanitised copies of attachments: PDF pages/s,
MB/s for images, Office and archives, and the size of the copy against
the original.  A benchmark: it prints numbers and asserts nothing.

Each attachment is mailed alone through "mugai sanitize" (ClamAV off, so
the time is the conversion's: worker spawn, sandbox, parse, rebuild)."""

import email
import email.policy
import io
import os
import random
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from email.message import EmailMessage

BUILD, TMP = sys.argv[1:3]
MUGAI = os.path.join(BUILD, 'mugai')


def message(name, data, mtype):
    msg = EmailMessage()
    msg['From'] = 'bench@example.com'
    msg['To'] = 'staff@example.lg.jp'
    msg['Subject'] = 'bench'
    msg.set_content('bench\n')
    major, minor = mtype.split('/')
    msg.add_attachment(data, maintype=major, subtype=minor, filename=name)
    return msg.as_bytes()


def png(w, h):
    rnd = random.Random(1)
    rows = []
    for y in range(h):
        rows.append(b'\0' + bytes((x * 7 + y * 3 + rnd.randrange(16)) % 256
                                  for x in range(w * 3)))
    raw = b''.join(rows)

    def chunk(k, d):
        return (struct.pack('>I', len(d)) + k + d +
                struct.pack('>I', zlib.crc32(k + d) & 0xffffffff))
    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))


def docx(paragraphs):
    body = ''.join('<w:p><w:r><w:t>段落 %d: 本文テキストの例です。</w:t>'
                   '</w:r></w:p>' % i for i in range(paragraphs))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml',
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="'
                   'http://schemas.openxmlformats.org/package/2006/content-'
                   'types"><Default Extension="rels" ContentType="application'
                   '/vnd.openxmlformats-package.relationships+xml"/><Default '
                   'Extension="xml" ContentType="application/xml"/><Override '
                   'PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.'
                   'document.main+xml"/></Types>')
        z.writestr('_rels/.rels',
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships '
                   'xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://'
                   'schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/officeDocument" Target="word/document.xml"'
                   '/></Relationships>')
        z.writestr('word/document.xml',
                   '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:'
                   'w="http://schemas.openxmlformats.org/wordprocessingml/'
                   '2006/main"><w:body>%s</w:body></w:document>' % body)
    return buf.getvalue()


def archive(n):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            z.writestr('資料/%03d.txt' % i, ('行 %d\n' % i * 200).encode())
        z.writestr('資料/graph.png', png(200, 150))
    return buf.getvalue()


def run(label, name, data, mtype, units, unit, *opts):
    path = os.path.join(TMP, name + '.eml')
    out = os.path.join(TMP, name + '.out')
    with open(path, 'wb') as f:
        f.write(message(name, data, mtype))
    args = [MUGAI, '-o', 'clamav_enable=no', '-o', 'quarantine_enable=no',
            '-o', 'audit_log=']
    for o in opts:
        args += ['-o', o]
    args += ['sanitize', path, out]
    best = None
    for _ in range(3):
        t0 = time.monotonic()
        rc = subprocess.call(args, stderr=subprocess.DEVNULL)
        dt = time.monotonic() - t0
        best = dt if best is None else min(best, dt)
    copy = 0
    if rc == 0:
        msg = email.message_from_bytes(open(out, 'rb').read(),
                                       policy=email.policy.default)
        for p in msg.walk():
            if p.get_filename():
                copy = len(p.get_content())
    rate = units / best
    print('%-28s %10d %10d %7.2f %9.3f %10.3f %s/s%s' % (
        label, len(data), copy, copy / len(data) if data else 0, best, rate,
        unit, '' if rc == 0 and copy else '  (exit %d, no copy)' % rc))


def main():
    os.makedirs(TMP, exist_ok=True)
    subprocess.check_call([sys.executable, 'scripts/make-pdf-fixtures',
                           os.path.join(TMP, 'pdf')], stdout=subprocess.DEVNULL)
    print('%-28s %10s %10s %7s %9s %10s' % ('attachment', 'in_bytes',
          'out_bytes', 'ratio', 'best_s', 'rate'))
    many = open(os.path.join(TMP, 'pdf', 'many-pages.pdf'), 'rb').read()
    run('PDF, 150 text pages', 'many.pdf', many, 'application/pdf', 150,
        'pages', 'pdf_max_pages=200')
    active = open(os.path.join(TMP, 'pdf', 'active.pdf'), 'rb').read()
    run('PDF, 3 pages (1 colour)', 'active.pdf', active, 'application/pdf', 3,
        'pages')
    img = png(2000, 1500)
    run('PNG 2000x1500', 'big.png', img, 'image/png', len(img) / 1e6, 'MB')
    doc = docx(3000)
    run('docx, 3000 paragraphs', 'big.docx', doc, 'application/vnd.'
        'openxmlformats-officedocument.wordprocessingml.document',
        len(doc) / 1e6, 'MB')
    arc = archive(300)
    run('zip, 300 texts + 1 PNG', 'many.zip', arc, 'application/zip',
        len(arc) / 1e6, 'MB')
    rtf = (r'{\rtf1\ansi{\fonttbl{\f0 IPAGothic;}}\f0 ' +
           r'\u35696?\u20107?\u37682? minutes\par ' * 200 + '}').encode()
    if os.access('/usr/bin/soffice', os.X_OK):
        run('RTF via LibreOffice', 'minutes.rtf', rtf, 'application/rtf',
            len(rtf) / 1e6, 'MB')


main()
