#!/usr/bin/env python3
"""pdfcopy.py BUILD TMP - PDF copies of text documents: for each PDF
LibreOffice writes from scripts/make-text-pdfs (Japanese, English, mixed;
1 to 6 pages), the seconds "mugai sanitize" takes to make the copy
(ClamAV and quarantine off: worker, sandbox, render, words, rebuild),
the copy's size against the original's, how it stored its pages, and
the share of the original's distinct words (CJK: character bigrams)
that pdftotext finds in the copy.  Then the medians.  A benchmark: it
prints numbers and asserts nothing."""

import email
import email.policy
import os
import re
import statistics
import subprocess
import sys
import time
from email.message import EmailMessage

BUILD, TMP = sys.argv[1:3]
MUGAI = os.path.join(BUILD, 'mugai')
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def message(name, data):
    msg = EmailMessage()
    msg['From'] = 'bench@example.com'
    msg['To'] = 'staff@example.lg.jp'
    msg['Subject'] = 'bench'
    msg.set_content('bench\n')
    msg.add_attachment(data, maintype='application', subtype='pdf',
                       filename=name)
    return msg.as_bytes()


def tokens(text):
    """Distinct words: Latin/digit runs, and bigrams of CJK runs."""
    out = set(w.lower() for w in re.findall(r'[A-Za-z0-9]{2,}', text))
    for run in re.findall(r'[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+',
                          text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


def pdftotext(path):
    return subprocess.run(['pdftotext', '-enc', 'UTF-8', path, '-'],
                          capture_output=True).stdout.decode('utf-8',
                                                             'replace')


def one(path, opts):
    name = os.path.basename(path)
    data = open(path, 'rb').read()
    src = os.path.join(TMP, name + '.eml')
    out = os.path.join(TMP, name + '.out')
    with open(src, 'wb') as f:
        f.write(message(name, data))
    args = [MUGAI, '-v', '-o', 'clamav_enable=no', '-o',
            'quarantine_enable=no', '-o', 'audit_log=']
    for o in opts:
        args += ['-o', o]
    args += ['sanitize', src, out]
    best, log = None, ''
    for _ in range(2):
        t0 = time.monotonic()
        p = subprocess.run(args, capture_output=True)
        dt = time.monotonic() - t0
        best = dt if best is None else min(best, dt)
        log = p.stderr.decode('utf-8', 'replace')
    copy = b''
    if p.returncode == 0:
        msg = email.message_from_bytes(open(out, 'rb').read(),
                                       policy=email.policy.default)
        for part in msg.walk():
            if part.get_filename():
                copy = part.get_content()
    cpath = os.path.join(TMP, 'copy-' + name)
    with open(cpath, 'wb') as f:
        f.write(copy)
    want = tokens(pdftotext(path))
    got = tokens(pdftotext(cpath)) if copy else set()
    m = re.search(r'\((\d+) JPEG, (\d+) grey, (\d+) few-colour, (\d+) '
                  r'fax\)', log)
    kinds = '%s/%s/%s/%s' % m.groups() if m else '-'
    return (name, len(data), len(copy), len(copy) / len(data), best,
            len(want & got) / len(want) if want else 1.0, kinds)


def main():
    pdfs = os.path.join(TMP, 'pdfs')
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts',
                        'make-text-pdfs'), pdfs], stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        print('pdfcopy: no LibreOffice, no documents (exit %d)' %
              r.returncode)
        return
    for label, opts in (('default (grey pages in 4 levels)', []),
                        ('pdf_bilevel=yes', ['pdf_bilevel=yes'])):
        print('-- %s' % label)
        print('%-16s %9s %9s %6s %7s %6s %s' % ('document', 'in_bytes',
              'out_bytes', 'ratio', 'best_s', 'words', 'jpeg/grey/colour/fax'))
        rows = [one(os.path.join(pdfs, f), opts)
                for f in sorted(os.listdir(pdfs))]
        for r in rows:
            print('%-16s %9d %9d %6.2f %7.3f %5.0f%% %s' % (r[0], r[1],
                  r[2], r[3], r[4], r[5] * 100, r[6]))
        print('median copy/original size ratio %.2f, median seconds per '
              'document %.3f, median words kept %.0f%%' % (
                  statistics.median(r[3] for r in rows),
                  statistics.median(r[4] for r in rows),
                  statistics.median(r[5] for r in rows) * 100))


main()
