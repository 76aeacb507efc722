#!/usr/bin/python3
"""office_check.py BUILD TMP TESTDB ROOT - legacy Office, RTF and Office
files in odd zips, end to end through "mugai sanitize", LibreOffice in its
sandbox and the OOXML clean in mugai-convert.

The fixtures are made here: flat ODF documents written by this script
(Japanese and English text, a 300-row sheet with formulas, two slides),
saved as Word 97, RTF, Excel 97, PowerPoint 97, docx and pptx by
LibreOffice headless outside the sandbox; the odd zips are rewritten from
those with Python's zipfile; the password-protected .xls, .doc, .docx
and .xlsx are saved by LibreOffice through UNO.  Each copy must carry no active content, open
in LibreOffice (all are converted to PDF at the end, in one run) and keep
at least 90 % of the original's distinct words and CJK bigrams; the .xls
copy is an .xlsx whose cells hold the original values and formulas.
Prints PASS/FAIL lines.  Runs with Debian's python3 (python3-uno,
python3-openpyxl)."""

import email
import email.policy
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_case  # noqa: E402  (beside this file)

BUILD, TMP, TESTDB, ROOT = sys.argv[1:5]
MUGAI = os.path.join(BUILD, 'mugai')
SOFFICE = '/usr/bin/soffice'
failed = 0
opened = []                 # (case, path of the copy) for the LibreOffice check

JP = ['会議の議事録を送付します。', '来年度の予算案について説明しました。',
      '住民説明会は三月に開催する予定です。', '道路工事の入札は延期されました。',
      '図書館の開館時間を変更します。']
EN = ['quarterly budget review', 'library opening hours changed',
      'road construction tender postponed', 'residents meeting in march',
      'minutes of the council session']


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS office/%s' % name)
    else:
        failed = 1
        print('FAIL office/%s: %s' % (name, why))


def message(name, data, mtype):
    return cli_case.message(name, data, mtype, 'office', 'attachment')


def sanitize(case, raw, *opts):
    return cli_case.sanitize(MUGAI, TESTDB, TMP, case, raw, *opts)


attachments = cli_case.attachments


def row(report, name):
    for p in report.get('parts', []):
        if p.get('name') == name:
            return p
    return {}


def body_text(msg):
    for p in msg.walk() if msg else []:
        if p.get_content_type() == 'text/plain' and not p.get_filename():
            return p.get_content()
    return ''


# --- fixtures -----------------------------------------------------------

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:'
      'xsl-fo-compatible:1.0" '
      'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"')


def fodt():
    paras = ''.join('<text:p>%s %s</text:p>' % (j, e) for j, e in zip(JP, EN))
    return ('<?xml version="1.0" encoding="UTF-8"?><office:document %s '
            'office:version="1.3" office:mimetype="application/vnd.oasis.'
            'opendocument.text"><office:body><office:text>%s</office:text>'
            '</office:body></office:document>' % (NS, paras))


def sheet_rows():
    return [(i, '品目%d 番号' % i, i * 1.5) for i in range(1, 301)]


def fods():
    rows = ''.join(
        '<table:table-row>'
        '<table:table-cell office:value-type="float" office:value="%d">'
        '<text:p>%d</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>%s</text:p>'
        '</table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="%s">'
        '<text:p>%s</text:p></table:table-cell>'
        '<table:table-cell table:formula="of:=[.A%d]*[.C%d]" '
        'office:value-type="float" office:value="%s"><text:p>%s</text:p>'
        '</table:table-cell></table:table-row>'
        % (i, i, s, v, v, i, i, i * v, i * v) for i, s, v in sheet_rows())
    rows += ('<table:table-row><table:table-cell table:formula='
             '"of:=SUM([.C1:.C300])" office:value-type="float" '
             'office:value="67725"><text:p>67725</text:p></table:table-cell>'
             '</table:table-row>')
    return ('<?xml version="1.0" encoding="UTF-8"?><office:document %s '
            'office:version="1.3" office:mimetype="application/vnd.oasis.'
            'opendocument.spreadsheet"><office:body><office:spreadsheet>'
            '<table:table table:name="予算">%s</table:table>'
            '</office:spreadsheet></office:body></office:document>'
            % (NS, rows))


def fodp():
    pages = ''
    for n in range(2):
        text = ''.join('<text:p>%s %s</text:p>' % (JP[i], EN[i])
                       for i in range(n * 2, n * 2 + 3) if i < len(JP))
        pages += ('<draw:page draw:name="p%d"><draw:frame svg:x="1cm" '
                  'svg:y="1cm" svg:width="24cm" svg:height="12cm">'
                  '<draw:text-box>%s</draw:text-box></draw:frame>'
                  '</draw:page>' % (n + 1, text))
    return ('<?xml version="1.0" encoding="UTF-8"?><office:document %s '
            'office:version="1.3" office:mimetype="application/vnd.oasis.'
            'opendocument.presentation"><office:body><office:presentation>'
            '%s</office:presentation></office:body></office:document>'
            % (NS, pages))


def seed_profile(prof):
    """A profile that skips LibreOffice's first-start graphics tests
    (about 3 s a run), as mugai's own sandboxed profile does."""
    user = os.path.join(prof, 'user')
    os.makedirs(user, exist_ok=True)
    path = os.path.join(user, 'registrymodifications.xcu')
    if not os.path.exists(path):
        with open(path, 'w') as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<oor:items '
                    'xmlns:oor="http://openoffice.org/2001/registry" '
                    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                    '<item oor:path="/org.openoffice.Setup/Product"><prop '
                    'oor:name="ooSetupLastVersion" oor:op="fuse"><value>99.9'
                    '</value></prop></item></oor:items>\n')


def soffice(target, outdir, *srcs):
    seed_profile(TMP + '/lo-profile')
    subprocess.run([SOFFICE, '--headless', '--norestore',
                    '-env:UserInstallation=file://' + TMP + '/lo-profile',
                    '--convert-to', target, '--outdir', outdir] +
                   list(srcs), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)


def make_fixtures():
    d = os.path.join(TMP, 'fix')
    os.makedirs(d, exist_ok=True)
    for name, text in (('jp.fodt', fodt()), ('jp.fods', fods()),
                       ('jp.fodp', fodp())):
        with open(os.path.join(d, name), 'w', encoding='utf-8') as f:
            f.write(text)
    j = lambda n: os.path.join(d, n)
    soffice('doc:MS Word 97', d, j('jp.fodt'))
    soffice('rtf', d, j('jp.fodt'))
    soffice('docx', d, j('jp.fodt'))
    soffice('xls:MS Excel 97', d, j('jp.fods'))
    soffice('ppt:MS PowerPoint 97', d, j('jp.fodp'))
    soffice('pptx', d, j('jp.fodp'))
    fx = {}
    for ext in ('doc', 'rtf', 'docx', 'xls', 'ppt', 'pptx'):
        p = j('jp.' + ext)
        fx[ext] = open(p, 'rb').read() if os.path.exists(p) else None
    return fx


def rezip(data, dirs):
    """The same parts, with a folder entry before each folder's parts."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    seen = set()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            folder = n.rsplit('/', 1)[0] + '/' if '/' in n else None
            if dirs and folder and folder not in seen:
                seen.add(folder)
                z.writestr(zipfile.ZipInfo(folder), b'')
            z.writestr(n, src.read(n))
    return buf.getvalue()


def password_save(jobs):
    """Each (src, dst, filter) saved with a password by LibreOffice
    through UNO.  Office Open XML filters take it as EncryptionData
    (LibreOffice then writes the encrypted package in a compound file,
    as Office does); they ignore a plain Password."""
    import uno
    from com.sun.star.beans import NamedValue, PropertyValue

    def pv(n, v):
        p = PropertyValue()
        p.Name, p.Value = n, v
        return p
    pipe = 'mugai-office-%d' % os.getpid()
    seed_profile(TMP + '/uno-profile')
    proc = subprocess.Popen([SOFFICE, '--headless', '--norestore',
                             '-env:UserInstallation=file://' + TMP +
                             '/uno-profile',
                             '--accept=pipe,name=%s;urp;' % pipe],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        ctx = uno.getComponentContext()
        res = ctx.ServiceManager.createInstanceWithContext(
            'com.sun.star.bridge.UnoUrlResolver', ctx)
        rc = None
        for _ in range(150):
            try:
                rc = res.resolve('uno:pipe,name=%s;urp;'
                                 'StarOffice.ComponentContext' % pipe)
                break
            except Exception:
                time.sleep(0.2)
        desk = rc.ServiceManager.createInstanceWithContext(
            'com.sun.star.frame.Desktop', rc)
        for src, dst, flt in jobs:
            doc = desk.loadComponentFromURL(uno.systemPathToFileUrl(src),
                                            '_blank', 0,
                                            (pv('Hidden', True),))
            if '2007 XML' in flt:
                enc = uno.Any('[]com.sun.star.beans.NamedValue', (
                    NamedValue('CryptoType', 'StrongEncryptionDataSpace'),
                    NamedValue('OOXPassword', 'himitsu')))
                uno.invoke(doc, 'storeToURL', (
                    uno.systemPathToFileUrl(dst),
                    (pv('FilterName', flt), pv('EncryptionData', enc))))
            else:
                doc.storeToURL(uno.systemPathToFileUrl(dst),
                               (pv('FilterName', flt),
                                pv('Password', 'himitsu')))
            doc.close(True)
        try:
            desk.terminate()
        except Exception:
            pass
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- judging copies ------------------------------------------------------

CJK = re.compile(r'[\u3040-\u30ff\u3400-\u9fff]+')


def words(text):
    """Distinct words (ASCII, lower case) and CJK bigrams."""
    w = set(x.lower() for x in re.findall(r'[A-Za-z0-9]+', text))
    for run in CJK.findall(text):
        w.update(run[i:i + 2] for i in range(len(run) - 1))
    return w


def zip_text(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    parts = []
    for n in z.namelist():
        if n.endswith('.xml') and (n.startswith('word/') or
                                   n.startswith('ppt/slides/') or
                                   n == 'xl/sharedStrings.xml'):
            xml = z.read(n).decode('utf-8', 'replace')
            parts.append(' '.join(re.findall(r'<(?:w|a):t[^>]*>([^<]*)<',
                                             xml) +
                                  re.findall(r'<t[^>]*>([^<]*)<', xml)))
    return ' '.join(parts)


ACTIVE = re.compile(r'vbaproject|activex|embeddings/|oleobject|customui|'
                    r'macrosheets|externallinks|\.bin$', re.I)


def active_parts(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    bad = [n for n in z.namelist() if ACTIVE.search(n)]
    ct = z.read('[Content_Types].xml').decode('utf-8', 'replace')
    if re.search(r'macroenabled|vbaproject', ct, re.I):
        bad.append('[Content_Types].xml names macros')
    return bad


def judge_copy(case, att, want_type, want_name, original_text):
    data = att.get_content() if att else b''
    if not data.startswith(b'PK\x03\x04'):
        return result(case, False, 'copy is not a zip: %r' % data[:20])
    bad = active_parts(data)
    have, want = words(zip_text(data)), words(original_text)
    kept = len(want & have) / max(1, len(want))
    path = os.path.join(TMP, case, want_name)
    with open(path, 'wb') as f:
        f.write(data)
    opened.append((case, path))
    result(case, att.get_content_type() == want_type and
           att.get_filename() == want_name and not bad and kept >= 0.9,
           'type %s name %r active %r words kept %.0f%%' % (
               att.get_content_type(), att.get_filename(), bad, kept * 100))


DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
PPTX = ('application/vnd.openxmlformats-officedocument.presentationml.'
        'presentation')
DOC_TEXT = ' '.join('%s %s' % p for p in zip(JP, EN))
PPT_TEXT = DOC_TEXT


def one(case, name, data, mtype, *opts):
    rc, msg, rep, err = sanitize(case, message(name, data, mtype), *opts)
    att = attachments(msg)
    if rc != 0 or len(att) != 1:
        result(case, False, 'exit %d, %d attachments, row %r, log %s' % (
            rc, len(att), row(rep, name), err[-400:]))
        return None, rep, err
    return att[0], rep, err


def case_doc(fx):
    att, rep, _ = one('doc97-to-docx', '議事録.doc', fx['doc'],
                      'application/msword')
    if att:
        judge_copy('doc97-to-docx', att, DOCX, '議事録.docx', DOC_TEXT)
        r = row(rep, '議事録.doc')
        result('doc97-reported', r.get('action') == 'converted' and
               r.get('reason') == 'office-ooxml', 'row %r' % r)


def case_rtf(fx):
    att, _, _ = one('rtf-to-docx', 'memo.rtf', fx['rtf'], 'application/rtf')
    if att:
        judge_copy('rtf-to-docx', att, DOCX, 'memo.docx', DOC_TEXT)


def case_ppt(fx):
    att, _, _ = one('ppt-to-pptx', '説明資料.ppt', fx['ppt'],
                    'application/vnd.ms-powerpoint')
    if att:
        judge_copy('ppt-to-pptx', att, PPTX, '説明資料.pptx', PPT_TEXT)


def case_xls(fx):
    import openpyxl
    att, _, err = one('xls-to-xlsx', '予算.xls', fx['xls'],
                      'application/vnd.ms-excel')
    if not att:
        return
    rows = sheet_rows()
    judge_copy('xls-to-xlsx', att, XLSX, '予算.xlsx',
               ' '.join(s for _, s, _ in rows))
    data = att.get_content()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wv = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    ws, vs = wb.worksheets[0], wv.worksheets[0]
    bad = []
    for i, s, v in rows:
        got = (ws.cell(i, 1).value, ws.cell(i, 2).value, ws.cell(i, 3).value)
        if got != (i, s, v):
            bad.append(('row', i, got))
        f = ws.cell(i, 4).value
        if not (isinstance(f, str) and f.replace('$', '') ==
                '=A%d*C%d' % (i, i)) or vs.cell(i, 4).value != i * v:
            bad.append(('formula', i, f, vs.cell(i, 4).value))
    total = ws.cell(301, 1).value
    if total != '=SUM(C1:C300)' or vs.cell(301, 1).value != 67725:
        bad.append(('sum', total, vs.cell(301, 1).value))
    result('xls-cells-and-formulas', not bad and ws.title == '予算',
           'sheet %r, first differences %r' % (ws.title, bad[:3]))


def case_pdf_route(fx):
    att, _, err = one('office-output-pdf', '議事録.doc', fx['doc'],
                      'application/msword', 'office_output=pdf')
    data = att.get_content() if att else b''
    result('office-output-pdf', att is not None and
           data.startswith(b'%PDF-') and
           att.get_filename() == '議事録.pdf', 'log %s' % err[-300:])


def case_zip_layouts(fx):
    for ext, mtype, want in (('docx', DOCX, DOCX), ('pptx', PPTX, PPTX)):
        text = DOC_TEXT if ext == 'docx' else PPT_TEXT
        for how, data in (('dirs', rezip(fx[ext], True)),
                          ('trailing-byte', fx[ext] + b'\0')):
            case = '%s-%s' % (ext, how)
            # Sent as the generic types mailers use for unknown files.
            for declared in ('application/octet-stream', 'application/zip'):
                c = '%s-%s' % (case, declared.split('/')[1])
                att, rep, err = one(c, 'report.' + ext, data, declared)
                if att:
                    judge_copy(c, att, want, 'report.' + ext, text)


def case_zip_member(fx):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('資料/report.docx', rezip(fx['docx'], True))
    att, rep, err = one('docx-in-zip', 'files.zip', buf.getvalue(),
                        'application/zip')
    if not att:
        return
    z = zipfile.ZipFile(io.BytesIO(att.get_content()))
    names = z.namelist()
    ok = names == ['資料/report.docx']
    if ok:
        inner = z.read(names[0])
        have = words(zip_text(inner))
        ok = (len(words(DOC_TEXT) & have) >= 0.9 * len(words(DOC_TEXT))
              and not active_parts(inner))
    result('docx-in-zip-cleaned', ok, 'members %r' % names)


def case_password(fx):
    fix = os.path.join(TMP, 'fix')
    jobs = [(os.path.join(fix, 'jp.xls'), os.path.join(fix, 'pw.xls'),
             'MS Excel 97'),
            (os.path.join(fix, 'jp.doc'), os.path.join(fix, 'pw.doc'),
             'MS Word 97'),
            (os.path.join(fix, 'jp.doc'), os.path.join(fix, 'pw.docx'),
             'MS Word 2007 XML'),
            (os.path.join(fix, 'jp.xls'), os.path.join(fix, 'pw.xlsx'),
             'Calc MS Excel 2007 XML')]
    try:
        password_save(jobs)
    except Exception as e:
        return result('password-held', False,
                      'cannot make the fixtures with UNO: %r' % e)
    for (_, dst, _), name, mtype in zip(
            jobs, ('予算.xls', '議事録.doc', '議事録.docx', '予算.xlsx'),
            ('application/vnd.ms-excel', 'application/msword',
             'application/vnd.openxmlformats-officedocument.'
             'wordprocessingml.document',
             'application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet')):
        ext = name.rsplit('.', 1)[1]
        data = open(dst, 'rb').read()
        rc, msg, rep, err = sanitize('password-' + ext,
                                     message(name, data, mtype))
        r = row(rep, name)
        result('%s-password-held' % ext, rc == 0 and not attachments(msg)
               and r.get('reason') == 'encrypted' and
               'パスワード' in body_text(msg),
               'exit %d row %r log %s' % (rc, r, err[-300:]))


def xfa_pdf():
    """A dynamic XFA form as LiveCycle Designer writes one: the XML form
    in the AcroForm's XFA, NeedsRendering in the catalog, and the page
    other readers show."""
    text = ('Please wait... If this message is not eventually replaced by '
            'the proper contents of the document, your PDF viewer may not '
            'be able to display this type of document.')
    content = ('BT /F1 10 Tf 40 700 Td (%s) Tj ET' % text).encode()
    xdp = (b'<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/'
           b'xdp/"><template xmlns="http://www.xfa.org/schema/xfa-template/'
           b'3.3/"><subform name="form1"><field name="name"/></subform>'
           b'</template></xdp:xdp>')
    objs = [b'<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R '
            b'/NeedsRendering true >>',
            b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
            b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] '
            b'/Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>',
            b'<< /Length %d >>\nstream\n' % len(content) + content +
            b'\nendstream',
            b'<< /Fields [] /XFA 7 0 R >>',
            b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
            b'<< /Length %d >>\nstream\n' % len(xdp) + xdp + b'\nendstream']
    out = b'%PDF-1.7\n'
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b'%d 0 obj\n' % (i + 1) + o + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
    out += b''.join(b'%010d 00000 n \n' % o for o in offs)
    out += (b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n'
            % (len(objs) + 1, xref))
    return out


def case_xfa(fx):
    rc, msg, rep, err = sanitize('xfa', message('申請書.pdf', xfa_pdf(),
                                                'application/pdf'))
    r = row(rep, '申請書.pdf')
    result('xfa-held', rc == 0 and not attachments(msg) and
           r.get('reason') == 'xfa' and 'XFA' in body_text(msg) and
           'XFA form (Adobe-only dynamic form)' in err,
           'exit %d row %r log %s' % (rc, r, err[-300:]))


def case_ole2_noise(fx):
    """OLE2 signature, then noise: refused before LibreOffice, which would
    import it as text."""
    import random
    rnd = random.Random(7)
    junk = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + bytes(
        rnd.randrange(256) for _ in range(8192))
    rc, msg, rep, err = sanitize('ole2-noise', message('noise.doc', junk,
                                 'application/msword'))
    r = row(rep, 'noise.doc')
    result('ole2-noise-held', rc == 0 and not attachments(msg) and
           r.get('action') == 'removed', 'exit %d row %r' % (rc, r))


def case_opens():
    """Every copy opens in LibreOffice: one run converts them all to PDF."""
    if not opened:
        return
    out = os.path.join(TMP, 'opened')
    os.makedirs(out, exist_ok=True)
    for case, path in opened:       # names may repeat: one folder each
        os.rename(path, os.path.join(os.path.dirname(path), case + '.' +
                                     path.rsplit('.', 1)[1]))
    paths = [os.path.join(os.path.dirname(p), c + '.' + p.rsplit('.', 1)[1])
             for c, p in opened]
    soffice('pdf', out, *paths)
    missing = [c for c, _ in opened
               if not os.path.exists(os.path.join(out, c + '.pdf'))]
    result('copies-open-in-libreoffice', not missing,
           'no PDF from LibreOffice for %r' % missing)


def main():
    if not os.access(SOFFICE, os.X_OK):
        result('setup', False, 'LibreOffice is not installed '
               '(sh scripts/setup)')
        return
    fx = make_fixtures()
    missing = [k for k, v in fx.items() if not v]
    if missing:
        result('setup', False, 'LibreOffice did not write %r' % missing)
        return
    for case in (case_doc, case_rtf, case_ppt, case_xls, case_pdf_route,
                 case_zip_layouts, case_zip_member, case_password,
                 case_xfa, case_ole2_noise):
        try:
            case(fx)
        except Exception as e:  # a broken case fails, the others still run
            result(case.__name__[5:], False, 'exception %r' % e)
    try:
        case_opens()
    except Exception as e:
        result('copies-open-in-libreoffice', False, 'exception %r' % e)


main()
sys.exit(failed)
