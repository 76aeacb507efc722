#!/usr/bin/env python3
"""scan_layouts.py BUILD TMP TESTDB - the test virus is found in every
layout a message can hide it in, through "mugai sanitize" with the
built-in attachment policy (copies made, winmail.dat unpacked).

Each message is written here with Python's email package (the TNEF by
tests/e2e/tnef_writer.py); EICAR is put together at run time.  Where the
layout hides the string from a plain byte match (base64, DEFLATE, an
HTML entity, UTF-16), the message is checked not to carry it verbatim,
so a detection proves that the part was decoded.  Every case must end
with exit 2 (rejected) and a Mugai.Test signature in the report; a clean
twin of the trickiest layouts must still be delivered (exit 0).
Prints "PASS scan-layouts/NAME" / "FAIL scan-layouts/NAME: why".
"""

import base64
import binascii
import email.encoders
import io
import json
import os
import subprocess
import sys
import zipfile
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnef_writer as tw  # noqa: E402

BUILD, TMP, TESTDB = sys.argv[1:4]
MUGAI = os.path.join(BUILD, 'mugai')
EICAR = (r'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR' +
         r'-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').encode('ascii')
failed = 0


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS scan-layouts/%s' % name)
    else:
        failed = 1
        print('FAIL scan-layouts/%s: %s' % (name, why))


def headers(msg, subject):
    msg['From'] = 'Sender <sender@example.org>'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = subject
    msg['Message-ID'] = '<%s@scan-layouts.example>' % subject.replace(' ', '-')
    return msg


def mixed(subject, *parts):
    m = MIMEMultipart('mixed')
    m.attach(MIMEText('添付をご確認ください。\n', 'plain', 'utf-8'))
    for p in parts:
        m.attach(p)
    return headers(m, subject).as_bytes()


def attachment(maintype, subtype, name, data):
    a = MIMEBase(maintype, subtype)
    a.add_header('Content-Disposition', 'attachment', filename=name)
    a.set_payload(data)
    email.encoders.encode_base64(a)
    return a


def zip_of(members):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return bio.getvalue()


def docx_with(text):
    """A minimal WordprocessingML package whose text is the payload
    (DEFLATE-compressed in the zip, as Word writes it)."""
    ct = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          b'content-types"><Default Extension="rels" ContentType="'
          b'application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/word/document.xml" ContentType="'
          b'application/vnd.openxmlformats-officedocument.wordprocessingml.'
          b'document.main+xml"/></Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="'
            b'http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="word/document.xml"/>'
            b'</Relationships>')
    doc = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/'
           b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>' + text +
           b'</w:t></w:r></w:p></w:body></w:document>')
    return zip_of([('[Content_Types].xml', ct), ('_rels/.rels', rels),
                   ('word/document.xml', doc)])


def text_body(subject, body, charset='us-ascii', cte='7bit'):
    """A one-part text message, headers in the order mail programs
    write them (From first)."""
    if cte == 'base64':
        body = base64.encodebytes(body)
    return ('From: Sender <sender@example.org>\n'
            'To: staff@city.example.lg.jp\nSubject: %s\n'
            'Message-ID: <%s@scan-layouts.example>\nMIME-Version: 1.0\n'
            'Content-Type: text/plain; charset=%s\n'
            'Content-Transfer-Encoding: %s\n\n' % (
                subject, subject.replace(' ', '-'), charset, cte)
            ).encode() + body


def html_body(subject, payload):
    # The first character as an entity: only an HTML decoder sees EICAR.
    html = ('<html><body><p>お知らせ</p><p>&#%d;%s</p></body></html>\n' % (
        payload[0], payload[1:].decode('ascii'))).encode('utf-8')
    m = MIMEText('', 'html', 'utf-8')
    m.set_payload(html)
    del m['Content-Transfer-Encoding']
    email.encoders.encode_base64(m)
    return headers(m, subject).as_bytes()


def forwarded(subject, payload):
    inner = mixed('inner', attachment('application', 'octet-stream',
                                      'tool.com', payload))
    m = MIMEMultipart('mixed')
    m.attach(MIMEText('転送します。\n', 'plain', 'utf-8'))
    part = MIMEBase('message', 'rfc822')
    part.set_payload([email.message_from_bytes(inner)])
    m.attach(part)
    return headers(m, subject).as_bytes()


def uuencoded(subject, payload):
    uu = 'begin 644 tool.com\n' + ''.join(
        binascii.b2a_uu(payload[i:i + 45]).decode('ascii')
        for i in range(0, len(payload), 45)) + '`\nend\n'
    return text_body(subject, ('The file follows.\n\n' + uu).encode())


def uuencoded_ct_first(subject, payload):
    """As Python's email package writes a text message: Content-Type
    first, which libclamav alone does not take for mail."""
    uu = 'begin 644 tool.com\n' + ''.join(
        binascii.b2a_uu(payload[i:i + 45]).decode('ascii')
        for i in range(0, len(payload), 45)) + '`\nend\n'
    m = MIMEText('', 'plain', 'us-ascii')
    m.set_payload('The file follows.\n\n' + uu)
    del m['Content-Transfer-Encoding']
    m['Content-Transfer-Encoding'] = '7bit'
    return headers(m, subject).as_bytes()


def winmail(subject, payload):
    tnef = tw.Message(subject='資料', body_text='資料を添付します。\n',
                      attachments=[tw.Attachment('tool.com', payload,
                                                 short_name='TOOL.COM')]
                      ).tnef()
    msg = EmailMessage()
    headers(msg, subject)
    msg['X-Mailer'] = 'Microsoft Outlook 16.0'
    msg.set_content('\n')
    msg.add_attachment(tnef, maintype='application', subtype='ms-tnef',
                       filename='winmail.dat')
    return msg.as_bytes()


def unread(subject, payload):
    """The message's own header runs into a 5,000-byte preamble line, so
    GMime reads no multipart; the part with the payload is read only by
    libclamav's own MIME decoder."""
    return ('From: a@example.com\nTo: staff@city.example.lg.jp\n'
            'Subject: %s\nMIME-Version: 1.0\n'
            'Content-Type: multipart/mixed; boundary="m"\n'
            'This is a multi-part message in MIME format. %s\n'
            '--m\nContent-Type: text/plain\n\nbody\n'
            '--m\nContent-Type: application/octet-stream; name="x.bin"\n'
            'Content-Transfer-Encoding: base64\n\n%s\n'
            '--m--\n' % (subject, 'x' * 5000,
                         base64.b64encode(payload).decode())).encode()


def utf16_body(subject, payload):
    """Text in UTF-16: the string is there only once the text is read in
    its charset (as the body text mugai writes is)."""
    return text_body(subject, (payload.decode('ascii') + '\n').encode(
        'utf-16'), charset='utf-16', cte='base64')


def utf16_attachment(subject, payload):
    """A text attachment in UTF-16: delivered as a UTF-8 copy."""
    a = MIMEBase('text', 'plain', charset='utf-16')
    a.add_header('Content-Disposition', 'attachment', filename='memo.txt')
    a.set_payload((payload.decode('ascii') + '\n').encode('utf-16'))
    email.encoders.encode_base64(a)
    return mixed(subject, a)


CASES = [
    # name, builder(payload) -> bytes, hidden (not verbatim in the bytes)
    ('plain-body', lambda p: text_body('plain body', p + b'\n'), False),
    ('base64-attachment', lambda p: mixed('base64', attachment(
        'application', 'octet-stream', 'tool.com', p)), True),
    ('zip', lambda p: mixed('zip', attachment(
        'application', 'zip', 'docs.zip',
        zip_of([('docs/readme.txt', b'read me\n'), ('docs/tool.com', p)]))),
     True),
    ('zip-in-zip', lambda p: mixed('zip in zip', attachment(
        'application', 'zip', 'outer.zip', zip_of([('inner.zip', zip_of(
            [('tool.com', p)]))]))), True),
    ('docx', lambda p: mixed('docx', attachment(
        'application', 'vnd.openxmlformats-officedocument.'
        'wordprocessingml.document', '報告書.docx', docx_with(p))), True),
    ('html-body', lambda p: html_body('html body', p), True),
    ('forwarded-rfc822', lambda p: forwarded('forwarded', p), True),
    ('uuencoded-text', lambda p: uuencoded('uuencoded', p), True),
    ('uuencoded-content-type-first',
     lambda p: uuencoded_ct_first('uuencoded ct', p), True),
    ('tnef-member', lambda p: winmail('winmail', p), True),
    ('unread-part', lambda p: unread('unread part', p), True),
    ('utf16-body', lambda p: utf16_body('utf16 body', p), True),
    ('utf16-text-attachment', lambda p: utf16_attachment('utf16 text', p),
     True),
]

# Layouts whose clean twin must still be delivered: the scans that
# find the payload above must not reject everything of that shape.
CLEAN_TWINS = ('docx', 'html-body', 'tnef-member', 'utf16-body',
               'utf16-text-attachment', 'uuencoded-content-type-first', 'zip')


def sanitize(case, raw):
    d = os.path.join(TMP, case)
    os.makedirs(d, exist_ok=True)
    src, out = os.path.join(d, 'in.eml'), os.path.join(d, 'out.eml')
    rep, err = os.path.join(d, 'report.json'), os.path.join(d, 'stderr')
    with open(src, 'wb') as f:
        f.write(raw)
    args = [MUGAI, '-o', 'clamav_database_dir=' + TESTDB,
            '-o', 'quarantine_dir=' + os.path.join(d, 'q'),
            '-o', 'audit_log=' + os.path.join(d, 'audit.jsonl'),
            'sanitize', '--report', rep, src, out]
    with open(err, 'wb') as e:
        rc = subprocess.call(args, stderr=e)
    report = json.load(open(rep)) if os.path.exists(rep) else {}
    text = open(err, 'rb').read().decode('utf-8', 'replace')
    return rc, report, text


def signatures(report):
    s = report.get('signatures', '')
    return s if isinstance(s, str) else ' '.join(s)


def main():
    for name, build, hidden in CASES:
        raw = build(EICAR)
        if hidden and EICAR in raw:
            result(name, False, 'the test message carries EICAR verbatim')
            continue
        rc, rep, err = sanitize(name, raw)
        sig = signatures(rep)
        result(name, rc == 2 and 'Mugai.Test.EICAR' in sig,
               'exit %d, signatures %r, stderr %s' % (rc, sig, err[-300:]))
        if name in CLEAN_TWINS:
            clean = EICAR.replace(b'EICAR', b'NOTEI').replace(b'X5O', b'Y5O')
            rc, rep, err = sanitize(name + '-clean', build(clean))
            result(name + '/clean-twin-delivered', rc == 0,
                   'exit %d, stderr %s' % (rc, err[-300:]))
    return failed


if __name__ == '__main__':
    sys.exit(main())
