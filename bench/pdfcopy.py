#!/usr/bin/env python3
"""pdfcopy.py BUILD TMP - PDF copies of text documents: for each PDF
LibreOffice writes from scripts/make-text-pdfs (Japanese, English, mixed;
1 to 6 pages), the seconds "mugai sanitize" takes to make the copy
(ClamAV and quarantine off: worker, sandbox, render, words, rebuild),
the copy's size against the original's, how it stored its pages, and
the share of the original's distinct words (CJK: character bigrams)
that pdftotext finds in the copy, and how close the copy looks: both
rendered in grey by pdftoppm, the mean absolute difference of their
pixels in percent of full scale at the copy's 150 dpi ("diff") and at
50 dpi ("diff50", where poppler's downsampling averages away a stroke's
jagged edge but not a lost or smeared stroke).  Then the medians.  A benchmark: it
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


def pgm_pages(path, dpi):
    """The pages of path rendered in grey at dpi: (width, height,
    bytes) each, from pdftoppm's PGM output."""
    out = subprocess.run(['pdftoppm', '-gray', '-r', str(dpi), path],
                         capture_output=True).stdout
    pages = []
    while out.startswith(b'P5'):
        head = out.split(None, 4)
        w, h = int(head[1]), int(head[2])
        pix = head[4][:w * h]
        pages.append((w, h, pix))
        out = head[4][w * h:]
    return pages


def diff(a, b, dpi):
    """Mean absolute grey difference of two PDFs' renderings, percent;
    pages of different sizes are compared over their common area."""
    total = n = 0
    for (wa, ha, pa), (wb, hb, pb) in zip(pgm_pages(a, dpi),
                                          pgm_pages(b, dpi)):
        w, h = min(wa, wb), min(ha, hb)
        for y in range(h):
            ra, rb = pa[y * wa:y * wa + w], pb[y * wb:y * wb + w]
            total += sum(abs(x - z) for x, z in zip(ra, rb))
        n += w * h
    return 100.0 * total / (255 * n) if n else 100.0


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
                  r'fax, (\d+) mixed\)', log)
    kinds = '%s/%s/%s/%s/%s' % m.groups() if m else '-'
    return (name, len(data), len(copy), len(copy) / len(data), best,
            len(want & got) / len(want) if want else 1.0, kinds,
            diff(path, cpath, 150) if copy else 100.0,
            diff(path, cpath, 50) if copy else 100.0)


def main():
    pdfs = os.path.join(TMP, 'pdfs')
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts',
                        'make-text-pdfs'), pdfs], stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        print('pdfcopy: no LibreOffice, no documents (exit %d)' %
              r.returncode)
        return
    for label, opts in (('default (pdf_mixed_raster=yes: text as fax, '
                         'pictures as JPEG)', []),
                        ('pdf_mixed_raster=no (whole pages: 4-level grey, '
                         'palette or JPEG)', ['pdf_mixed_raster=no']),
                        ('pdf_mixed_raster=no pdf_bilevel=yes',
                         ['pdf_mixed_raster=no', 'pdf_bilevel=yes'])):
        print('-- %s' % label)
        print('%-16s %9s %9s %6s %7s %6s %6s %6s %s' % (
            'document', 'in_bytes', 'out_bytes', 'ratio', 'best_s', 'words',
            'diff', 'diff50', 'jpeg/grey/colour/fax/mixed'))
        rows = [one(os.path.join(pdfs, f), opts)
                for f in sorted(os.listdir(pdfs))]
        for r in rows:
            print('%-16s %9d %9d %6.2f %7.3f %5.0f%% %5.2f%% %5.2f%% %s' % (
                r[0], r[1], r[2], r[3], r[4], r[5] * 100, r[7], r[8], r[6]))
        print('median copy/original size ratio %.2f, median seconds per '
              'document %.3f, median words kept %.0f%%, median diff %.2f%% '
              '(50 dpi: %.2f%%)' % (
                  statistics.median(r[3] for r in rows),
                  statistics.median(r[4] for r in rows),
                  statistics.median(r[5] for r in rows) * 100,
                  statistics.median(r[7] for r in rows),
                  statistics.median(r[8] for r in rows)))


main()
