#!/usr/bin/python3
"""office.py BUILD TMP - legacy Office and RTF copies: per type, the
median seconds per document and the median copy/original size ratio, and
where the seconds go.  A benchmark: it prints numbers and asserts
nothing.

The documents are made here (flat ODF of three sizes per type, saved as
.doc, .xls, .ppt and .rtf by LibreOffice headless).  Each is mailed
alone through "mugai sanitize" (ClamAV off): the time is a whole run,
the profile preparation of a new process included.  Then all documents
of a type go in one message, as a morning's mail does through the
long-running milter, which prepares the profile once.  Side by side, the
same conversion by soffice without the sandbox, with a profile that had
its first start (what the sandbox copies in) and with a new one (what
every run cost before)."""

import email
import email.policy
import os
import shutil
import statistics
import subprocess
import sys
import time
from email.message import EmailMessage

BUILD, TMP = sys.argv[1:3]
MUGAI = os.path.join(BUILD, 'mugai')
SOFFICE = '/usr/bin/soffice'
SOFFICE_BIN = '/usr/lib/libreoffice/program/soffice.bin'
NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')
SEED = ('<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor='
        '"http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/'
        '2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
        'instance"><item oor:path="/org.openoffice.Setup/Product"><prop '
        'oor:name="ooSetupLastVersion" oor:op="fuse"><value>99.9</value>'
        '</prop></item></oor:items>\n')
SIZES = (20, 200, 1000)
MIME = {'doc': 'application/msword', 'xls': 'application/vnd.ms-excel',
        'ppt': 'application/vnd.ms-powerpoint', 'rtf': 'application/rtf'}


def doc_xml(kind, n):
    line = '議事録 第%d項: 予算と道路工事について説明しました。minutes item %d'
    if kind == 'text':
        body = ''.join('<text:p>%s</text:p>' % (line % (i, i))
                       for i in range(n))
        return ('<office:document %s office:version="1.3" office:mimetype='
                '"application/vnd.oasis.opendocument.text"><office:body>'
                '<office:text>%s</office:text></office:body>'
                '</office:document>' % (NS, body))
    if kind == 'sheet':
        rows = ''.join(
            '<table:table-row><table:table-cell office:value-type="string">'
            '<text:p>品目%d</text:p></table:table-cell><table:table-cell '
            'office:value-type="float" office:value="%d"><text:p>%d'
            '</text:p></table:table-cell><table:table-cell table:formula='
            '"of:=[.B%d]*2" office:value-type="float" office:value="%d">'
            '<text:p>%d</text:p></table:table-cell></table:table-row>'
            % (i, i, i, i + 1, 2 * i, 2 * i) for i in range(n))
        return ('<office:document %s office:version="1.3" office:mimetype='
                '"application/vnd.oasis.opendocument.spreadsheet"><office:'
                'body><office:spreadsheet><table:table table:name="s">%s'
                '</table:table></office:spreadsheet></office:body>'
                '</office:document>' % (NS, rows))
    pages = ''.join(
        '<draw:page draw:name="p%d"><draw:frame svg:x="1cm" svg:y="1cm" '
        'svg:width="24cm" svg:height="12cm"><draw:text-box><text:p>%s'
        '</text:p></draw:text-box></draw:frame></draw:page>'
        % (i, line % (i, i)) for i in range(max(1, n // 20)))
    return ('<office:document %s office:version="1.3" office:mimetype='
            '"application/vnd.oasis.opendocument.presentation"><office:body>'
            '<office:presentation>%s</office:presentation></office:body>'
            '</office:document>' % (NS, pages))


def profile(path, seed=True):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, 'user'))
    if seed:
        with open(os.path.join(path, 'user', 'registrymodifications.xcu'),
                  'w') as f:
            f.write(SEED)
    return 'file://' + path


def make_docs():
    d = os.path.join(TMP, 'docs')
    os.makedirs(d, exist_ok=True)
    prof = profile(os.path.join(TMP, 'make-profile'))
    docs = {}
    for ext, kind, target in (('doc', 'text', 'doc:MS Word 97'),
                              ('rtf', 'text', 'rtf'),
                              ('xls', 'sheet', 'xls:MS Excel 97'),
                              ('ppt', 'slides', 'ppt:MS PowerPoint 97')):
        srcs = []
        for n in SIZES:
            src = os.path.join(d, '%s-%d.f%s' % (ext, n, {
                'text': 'odt', 'sheet': 'ods', 'slides': 'odp'}[kind]))
            with open(src, 'w', encoding='utf-8') as f:
                f.write('<?xml version="1.0" encoding="UTF-8"?>\n' +
                    doc_xml(kind, n))
            srcs.append(src)
        subprocess.run([SOFFICE, '--headless', '--norestore',
                        '-env:UserInstallation=' + prof, '--convert-to',
                        target, '--outdir', d] + srcs,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        docs[ext] = [os.path.join(d, '%s-%d.%s' % (ext, n, ext))
                     for n in SIZES]
    return docs


def message(files):
    msg = EmailMessage()
    msg['From'] = 'bench@example.com'
    msg['To'] = 'staff@example.lg.jp'
    msg['Subject'] = 'bench'
    msg.set_content('bench\n')
    for path in files:
        ext = path.rsplit('.', 1)[1]
        major, minor = MIME[ext].split('/')
        msg.add_attachment(open(path, 'rb').read(), maintype=major,
                           subtype=minor, filename=os.path.basename(path))
    return msg.as_bytes()


def sanitize(files, *opts):
    src = os.path.join(TMP, 'in.eml')
    out = os.path.join(TMP, 'out.eml')
    with open(src, 'wb') as f:
        f.write(message(files))
    args = [MUGAI, '-o', 'clamav_enable=no', '-o', 'quarantine_enable=no',
            '-o', 'audit_log=']
    for o in opts:
        args += ['-o', o]
    t0 = time.monotonic()
    rc = subprocess.call(args + ['sanitize', src, out],
                         stderr=subprocess.DEVNULL)
    dt = time.monotonic() - t0
    sizes = []
    if rc == 0:
        msg = email.message_from_bytes(open(out, 'rb').read(),
                                       policy=email.policy.default)
        sizes = [len(p.get_content()) for p in msg.walk()
                 if p.get_filename()]
    return dt, sizes


def bare(path, seed):
    """soffice.bin, no sandbox, to docx/xlsx/pptx: the conversion alone."""
    out = os.path.join(TMP, 'bare')
    shutil.rmtree(out, ignore_errors=True)
    prof = profile(os.path.join(TMP, 'bare-profile'), seed)
    if seed:                        # the first start, as mugai prepares it
        for _ in range(3):
            if subprocess.call([SOFFICE_BIN, '--headless', '--norestore',
                                '-env:UserInstallation=' + prof,
                                '--terminate_after_init'],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) != 81:
                break
    target = {'doc': 'docx', 'rtf': 'docx', 'xls': 'xlsx',
              'ppt': 'pptx'}[path.rsplit('.', 1)[1]]
    t0 = time.monotonic()
    subprocess.call([SOFFICE, '--headless', '--norestore',
                     '-env:UserInstallation=' + prof, '--convert-to', target,
                     '--outdir', out, path], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    if not os.access(SOFFICE, os.X_OK):
        print('LibreOffice is not installed: nothing to measure')
        return
    docs = make_docs()
    print('%-6s %5s %9s %9s %9s %9s %9s %9s' % (
        'type', 'docs', 'alone_s', 'ratio', 'batch_s', 'pdf_s',
        'bare_s', 'fresh_s'))
    for ext, files in docs.items():
        files = [f for f in files if os.path.exists(f)]
        if not files:
            print('%-6s LibreOffice did not write the documents' % ext)
            continue
        alone, ratios = [], []
        for f in files:
            dt, sizes = sanitize([f])
            alone.append(dt)
            if sizes:
                ratios.append(sizes[0] / os.path.getsize(f))
        batch, sizes = sanitize(files)
        pdf = [sanitize([f], 'office_output=pdf')[0] for f in files]
        warm = [bare(f, True) for f in files]
        fresh = [bare(files[0], False)]    # slow: one is enough
        print('%-6s %5d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f%s' % (
            ext, len(files), statistics.median(alone),
            statistics.median(ratios) if ratios else 0,
            batch / len(files), statistics.median(pdf),
            statistics.median(warm), statistics.median(fresh),
            '' if len(sizes) == len(files) else '  (copies missing)'))
    print('alone: median s per document, each in its own message and '
          'mugai process;\nratio: median copy/original bytes; batch: s per '
          'document, all in one message;\npdf: alone with office_output = '
          'pdf; bare/fresh: soffice without the sandbox,\nwith a prepared '
          '/ a new profile (fresh: the smallest document only)')


main()
