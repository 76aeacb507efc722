#!/usr/bin/env python3
"""tnef_check.py BUILD TMP TESTDB - winmail.dat end to end through
"mugai sanitize".  TMP holds photo.jpg (with EXIF) and houkoku.docx (by
LibreOffice), made by tnef.sh.  Prints PASS/FAIL lines."""

import email
import email.policy
import io
import json
import os
import subprocess
import sys
import zipfile
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnef_writer as tw  # noqa: E402

BUILD, TMP, TESTDB = sys.argv[1:4]
MUGAI = os.path.join(BUILD, 'mugai')
failed = 0

RTF = (b'{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil\\fcharset128 '
       b'\\\'82\\\'6c\\\'82\\\'72 \\\'83\\\'53\\\'83\\\'56\\\'83\\\'62\\\'83'
       b'\\\'4e;}}{\\colortbl;\\red0\\green0\\blue0;}'
       b'{\\*\\generator Microsoft Exchange Server;}\\f0\\fs20 '
       # 会議資料のご案内 in CP932, as \'hh pairs
       + b''.join(b"\\'%02x" % c for c in '会議資料のご案内'.encode('cp932'))
       + b'\\par \\u26481?\\u20140?\\u12398?\\u20250?\\u22580?\\u12391?'
       b'\\u12377?\\u12290?\\par Room 3\\tab 14:00\\par}')


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS tnef/%s' % name)
    else:
        failed = 1
        print('FAIL tnef/%s: %s' % (name, why))


def winmail(compress=True):
    jpeg = open(os.path.join(TMP, 'photo.jpg'), 'rb').read()
    docx = open(os.path.join(TMP, 'houkoku.docx'), 'rb').read()
    inner = tw.Message(subject='転送: 会場の地図', body_text='会場の地図を'
                       '添付します。\n', sender=('山田 太郎',
                                             'yamada@example.jp'),
                       date=(2026, 12, 1, 9, 30, 0),
                       attachments=[tw.Attachment('地図.txt',
                                                  '市役所 3階\n'.encode(
                                                      'cp932'))])
    return tw.Message(
        subject='会議資料', body_rtf=RTF, compress=compress,
        attachments=[
            tw.Attachment('写真.jpg', jpeg, short_name='PHOTO.JPG'),
            tw.Attachment('報告書.docx', docx, short_name='HOUKOKU.DOC'),
            tw.Attachment(None, None, embedded=inner,
                          display='転送: 会場の地図')]).tnef()


def outlook(tnef, text):
    """Outlook's layout: multipart/mixed, the plain text (blank when the
    body is rich text only), then winmail.dat as application/ms-tnef."""
    msg = EmailMessage()
    msg['From'] = '佐藤 <sato@example.co.jp>'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = '会議資料'
    msg['Message-ID'] = '<tnef-%d@example.co.jp>' % len(tnef)
    msg['X-Mailer'] = 'Microsoft Outlook 16.0'
    msg.set_content(text)
    msg.add_attachment(tnef, maintype='application', subtype='ms-tnef',
                       filename='winmail.dat')
    return msg.as_bytes()


def sanitize(case, raw):
    d = os.path.join(TMP, case)
    os.makedirs(d, exist_ok=True)
    src, out = os.path.join(d, 'in.eml'), os.path.join(d, 'out.eml')
    rep, err = os.path.join(d, 'report.json'), os.path.join(d, 'stderr')
    with open(src, 'wb') as f:
        f.write(raw)
    args = [MUGAI, '-v', '-o', 'clamav_database_dir=' + TESTDB,
            '-o', 'quarantine_dir=' + os.path.join(d, 'q'),
            '-o', 'audit_log=' + os.path.join(d, 'audit.jsonl'),
            'sanitize', '--report', rep, src, out]
    with open(err, 'wb') as e:
        rc = subprocess.call(args, stderr=e)
    report = json.load(open(rep)) if os.path.exists(rep) else {}
    text = open(err, 'rb').read().decode('utf-8', 'replace')
    msg = None
    if rc == 0:
        msg = email.message_from_bytes(open(out, 'rb').read(),
                                       policy=email.policy.default)
    return rc, msg, report, text


def exported(case, msgid):
    d = os.path.join(TMP, case)
    return subprocess.run([MUGAI, '-o', 'quarantine_dir=' +
                           os.path.join(d, 'q'), '-o', 'audit_log=' +
                           os.path.join(d, 'audit.jsonl'), 'quarantine',
                           'export', msgid], capture_output=True).stdout


def attachments(msg):
    return {p.get_filename(): p for p in msg.walk() if p.get_filename()}


def body_text(msg):
    for p in msg.walk():
        if p.get_content_type() == 'text/plain' and not p.get_filename():
            return p.get_content()
    return ''


def status_counts(msg):
    v = str(msg.get('X-Mugai-Status', ''))
    return dict(kv.strip().split('=') for kv in v.split(';')[1:]
                if '=' in kv)


def counts_match(msg, rep):
    """X-Mugai-Status and the report say the same as the report's rows."""
    rows = rep.get('parts', [])
    conv = sum(1 for r in rows if r.get('action') == 'converted')
    rem = sum(1 for r in rows if r.get('action') == 'removed' and
              r.get('reason') != 'alternative')
    st = status_counts(msg)
    return (st.get('converted') == str(conv) == str(rep.get('converted'))
            and st.get('removed') == str(rem) == str(rep.get('removed')),
            'status %r, report %s/%s, rows %d/%d' % (
                st, rep.get('converted'), rep.get('removed'), conv, rem))


def case_rtf_body(compress):
    case = 'rtf-lzfu' if compress else 'rtf-mela'
    raw = outlook(winmail(compress), '\n')
    rc, msg, rep, err = sanitize(case, raw)
    if rc != 0:
        return result(case, False, 'exit %d: %s' % (rc, err[-400:]))
    att = attachments(msg)
    body = body_text(msg)
    jpg, docx = att.get('写真.jpg'), att.get('報告書.docx')
    jdata = jpg.get_content() if jpg else b''
    result(case + '/jpeg-copy', jpg is not None and
           jpg.get_content_type() == 'image/jpeg' and
           jdata[:2] == b'\xff\xd8' and b'GPS-SECRET' not in jdata,
           'attachments %r' % sorted(att))
    ok = False
    if docx is not None:
        z = zipfile.ZipFile(io.BytesIO(docx.get_content()))
        ok = ('来年度の予算案' in z.read('word/document.xml').decode() and
              not any('vbaProject' in n for n in z.namelist()))
    result(case + '/docx-copy', ok and docx.get_content_type().startswith(
        'application/vnd.openxmlformats-officedocument.wordprocessingml'),
        'attachments %r' % sorted(att))
    result(case + '/embedded-file', '地図.txt' in att and
           att['地図.txt'].get_content() == '市役所 3階\n',
           'attachments %r' % sorted(att))
    result(case + '/no-winmail', 'winmail.dat' not in att and not any(
        p.get_content_type() == 'application/ms-tnef' for p in msg.walk()),
        'attachments %r' % sorted(att))
    result(case + '/rtf-body', '会議資料のご案内' in body and
           '東京の会場です。' in body and 'Room 3\t14:00' in body and
           'Exchange' not in body and 'ＭＳ' not in body, body[-600:])
    result(case + '/embedded-message', '転送メッセージ / Forwarded' in body
           and '> From: 山田 太郎 <yamada@example.jp>' in body and
           '> Subject: 転送: 会場の地図' in body and
           '> 会場の地図を添付します。' in body, body[-600:])
    notice = body.split('ID: ')[0]
    names = ['winmail.dat', '写真.jpg', '報告書.docx', '地図.txt']
    result(case + '/notice-names-all', all(n in notice for n in names),
           'missing %r' % [n for n in names if n not in notice])
    ok, why = counts_match(msg, rep)
    result(case + '/counts', ok and rep.get('converted') >= 3, why)
    result(case + '/quarantined', exported(case, rep.get('id', '-')) == raw,
           'export of %s differs from the input' % rep.get('id'))


def case_plain_body():
    """A message with its own text: that is the body, the RTF is not."""
    raw = outlook(winmail(), 'プレーンテキストの本文です。\n')
    rc, msg, rep, err = sanitize('plain', raw)
    if rc != 0:
        return result('plain-body-wins', False, 'exit %d: %s' % (rc, err))
    body = body_text(msg)
    result('plain-body-wins', 'プレーンテキストの本文です。' in body and
           '会議資料のご案内' not in body and '写真.jpg' in attachments(msg)
           and any(r.get('reason') == 'alternative' and
                   r.get('declared_type') == 'text/rtf'
                   for r in rep.get('parts', [])), body[-400:])


def case_corrupt():
    """A damaged winmail.dat is held whole, with the reason."""
    t = bytearray(winmail())
    t[len(t) // 2] ^= 0x55          # inside attachment data: checksum
    raw = outlook(bytes(t), 'body\n')
    rc, msg, rep, err = sanitize('corrupt', raw)
    if rc != 0:
        return result('corrupt-held', False, 'exit %d: %s' % (rc, err))
    r = [p for p in rep.get('parts', []) if p.get('name') == 'winmail.dat']
    body = body_text(msg)
    result('corrupt-held', len(r) == 1 and r[0].get('action') == 'removed'
           and r[0].get('reason') == 'unreadable' and
           'checksum' in err and not attachments(msg) and
           'winmail.dat' in body and '壊れている' in body and
           exported('corrupt', rep.get('id', '-')) == raw,
           'rows %r, log %s' % (r, err[-300:]))


case_rtf_body(True)
case_rtf_body(False)
case_plain_body()
case_corrupt()
sys.exit(failed)
