#!/usr/bin/env python3
"""pdf_ocr_check.py BUILD TMP - the cases of pdf-ocr.sh.  Scans made at
test time: pages of LibreOffice's text PDFs (TMP/docs, Japanese and
English) rendered by pdftoppm at 150 dpi and turned back into
image-only PDFs by LibreOffice, as a scanner's PDF is.  With pdf_ocr
off a scan's copy has no words, as before; with it on, Tesseract (in
the sandbox) gives the copy words that pdftotext finds; a PDF with a
text layer is not read by Tesseract; a missing Tesseract costs the
words, not the copy, and so does a Tesseract that runs out of time.
Prints PASS/FAIL lines; exit 1 when any failed."""

import email
import email.policy
import glob
import os
import re
import shutil
import subprocess
import sys
from email.message import EmailMessage

BUILD, TMP = sys.argv[1:3]
MUGAI = os.path.join(BUILD, 'mugai')
failed = 0


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS pdf-ocr/%s' % name)
    else:
        failed = 1
        print('FAIL pdf-ocr/%s: %s' % (name, why))


def tokens(text):
    """Distinct words: Latin and digit runs, and bigrams of CJK runs."""
    out = set(w.lower() for w in re.findall(r'[A-Za-z0-9]{2,}', text))
    for run in re.findall(r'[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+',
                          re.sub(r'\s+', '', text)):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


def pdftotext(path):
    return subprocess.run(['pdftotext', '-enc', 'UTF-8', path, '-'],
                          capture_output=True).stdout.decode('utf-8',
                                                             'replace')


def scans():
    """docs/NAME.pdf's first page as scan/NAME.pdf, image only."""
    d = os.path.join(TMP, 'scan')
    os.makedirs(d, exist_ok=True)
    pngs = []
    for name in ('memo-ja', 'letter-en'):
        subprocess.run(['pdftoppm', '-r', '150', '-gray', '-png', '-f', '1',
                        '-l', '1', '-singlefile',
                        os.path.join(TMP, 'docs', name + '.pdf'),
                        os.path.join(d, name)], check=True)
        pngs.append(os.path.join(d, name + '.png'))
    subprocess.run(['soffice', '--headless', '--norestore',
                    '-env:UserInstallation=file://%s/profile' % d,
                    '--convert-to', 'pdf', '--outdir', d] + pngs,
                   env=dict(os.environ, HOME=d), check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d


def sanitize(case, path, *opts):
    """The copy of path mailed alone, and mugai's log."""
    d = os.path.join(TMP, 'run-' + case)
    os.makedirs(d, exist_ok=True)
    msg = EmailMessage()
    msg['From'] = 'sender@example.com'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = 'scan ' + case
    msg.set_content('スキャンした文書を送ります。\n')
    msg.add_attachment(open(path, 'rb').read(), maintype='application',
                       subtype='pdf', filename=os.path.basename(path))
    src, out = os.path.join(d, 'in.eml'), os.path.join(d, 'out.eml')
    with open(src, 'wb') as f:
        f.write(msg.as_bytes())
    args = [MUGAI, '-v', '-o', 'clamav_enable=no', '-o',
            'quarantine_enable=no', '-o', 'audit_log=']
    for o in opts:
        args += ['-o', o]
    p = subprocess.run(args + ['sanitize', src, out], capture_output=True)
    log = p.stderr.decode('utf-8', 'replace')
    if p.returncode != 0:
        return None, log
    m = email.message_from_bytes(open(out, 'rb').read(),
                                 policy=email.policy.default)
    att = [x for x in m.walk() if x.get_filename()]
    if len(att) != 1 or not att[0].get_filename().endswith('.pdf'):
        return None, log
    copy = os.path.join(d, 'copy.pdf')
    with open(copy, 'wb') as f:
        f.write(att[0].get_content())
    return copy, log


def main():
    d = scans()
    for name, known in (('memo-ja', ('総務', '委員', '報告')),
                        ('letter-en', ('committee', 'budget', 'residents'))):
        scan = os.path.join(d, name + '.pdf')
        orig = os.path.join(TMP, 'docs', name + '.pdf')
        result(name + '/fixture-is-scan', os.path.exists(scan) and
               not tokens(pdftotext(scan)), 'the scan has words')
        copy, log = sanitize(name + '-off', scan)
        result(name + '/off-no-words', copy is not None and
               not tokens(pdftotext(copy)) and 'OCR' not in log,
               log[-300:])
        copy, log = sanitize(name + '-on', scan, 'pdf_ocr=yes')
        got = tokens(pdftotext(copy)) if copy else set()
        want = tokens(pdftotext(orig))
        share = len(want & got) / len(want) if want else 0
        result(name + '/on-words', copy is not None and
               all(k in got for k in known) and share >= 0.6,
               '%.0f%% of the words, %r; log %s' % (
                   share * 100, sorted(got)[:20], log[-300:]))
        result(name + '/on-logged', 'by OCR on 1 pages' in log, log[-300:])
    # Words already there: Tesseract is not asked.
    orig = os.path.join(TMP, 'docs', 'memo-ja.pdf')
    copy, log = sanitize('text-pdf', orig, 'pdf_ocr=yes')
    result('text-pdf-not-read', copy is not None and 'OCR' not in log and
           '総務' in tokens(pdftotext(copy)), log[-300:])
    # No Tesseract: the copy without words, and a warning.
    copy, log = sanitize('missing', os.path.join(d, 'letter-en.pdf'),
                         'pdf_ocr=yes', 'pdf_ocr_tesseract=/nonexistent')
    result('missing-tesseract', copy is not None and
           not tokens(pdftotext(copy)) and 'pdf_ocr: ' in log and
           'not installed' in log, log[-300:])
    # Tesseract's time is bounded by office_timeout for all pages: past
    # it, the copy goes without words and the log says why.
    copy, log = sanitize('time', os.path.join(d, 'memo-ja.pdf'),
                         'pdf_ocr=yes', 'office_timeout=1')
    result('time-bounded', copy is not None and
           not tokens(pdftotext(copy)) and 'pdf_ocr: 1 pages without words'
           in log, log[-300:])
    return failed


sys.exit(main())
