#!/usr/bin/env python3
"""pdf_text_check.py BUILD TMP TESTDB - the cases of pdf-text.sh.

Each PDF in TMP/docs (LibreOffice's) and TMP/fixtures/active.pdf is
mailed alone and sanitised by the CLI with the test ClamAV database;
the copy is judged by poppler's tools and its bytes.  Prints PASS/FAIL
lines; exit 1 when any failed."""

import email
import email.policy
import json
import os
import re
import subprocess
import sys
from email.message import EmailMessage

BUILD, TMP, TESTDB = sys.argv[1:4]
MUGAI = os.path.join(BUILD, 'mugai')
ACTIVE = (b'/JavaScript', b'/JS', b'/OpenAction', b'/AA', b'/Launch',
          b'/EmbeddedFile', b'/XFA', b'/AcroForm', b'/URI', b'/Annots')
failed = 0


def result(name, ok, why=''):
    global failed
    if ok:
        print('PASS pdf-text/%s' % name)
    else:
        failed = 1
        print('FAIL pdf-text/%s: %s' % (name, why))


def tokens(text):
    """Distinct words: Latin and digit runs, and bigrams of CJK runs."""
    out = set(w.lower() for w in re.findall(r'[A-Za-z0-9]{2,}', text))
    for run in re.findall(r'[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+',
                          text):
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


def run(*args):
    p = subprocess.run(args, capture_output=True)
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def pages(path):
    rc, out = run('pdfinfo', path)
    m = re.search(r'^Pages:\s+(\d+)$', out, re.M)
    return int(m.group(1)) if rc == 0 and m else -1


def sanitize(case, path, *opts):
    d = os.path.join(TMP, 'run-' + case)
    os.makedirs(d, exist_ok=True)
    msg = EmailMessage()
    msg['From'] = 'sender@example.com'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = 'PDF ' + case
    msg.set_content('添付をご確認ください。\n')
    name = os.path.basename(path)
    msg.add_attachment(open(path, 'rb').read(), maintype='application',
                       subtype='pdf', filename=name)
    src, out = os.path.join(d, 'in.eml'), os.path.join(d, 'out.eml')
    rep = os.path.join(d, 'report.json')
    with open(src, 'wb') as f:
        f.write(msg.as_bytes())
    args = [MUGAI, '-o', 'clamav_database_dir=' + TESTDB,
            '-o', 'quarantine_dir=' + os.path.join(d, 'q'),
            '-o', 'audit_log=' + os.path.join(d, 'audit.jsonl')]
    for o in opts:
        args += ['-o', o]
    p = subprocess.run(args + ['sanitize', '--report', rep, src, out],
                       capture_output=True)
    if p.returncode != 0:
        return None, 'exit %d: %s' % (p.returncode,
                                      p.stderr.decode('utf-8', 'replace'))
    report = json.load(open(rep))
    row = [r for r in report.get('parts', []) if r.get('name') == name]
    m = email.message_from_bytes(open(out, 'rb').read(),
                                 policy=email.policy.default)
    att = [x for x in m.walk() if x.get_filename()]
    if len(att) != 1 or not row or row[0].get('action') != 'converted':
        return None, 'row %r, %d attachments' % (row, len(att))
    copy = os.path.join(d, 'copy.pdf')
    with open(copy, 'wb') as f:
        f.write(att[0].get_content())
    return copy, ''


def active_keys(path):
    data = open(path, 'rb').read()
    # Outside the streams: compressed bytes may hold "/AA" by chance.
    dicts = re.sub(rb'stream\r?\n.*?endstream', b'', data, flags=re.S)
    return [k.decode() for k in ACTIVE if k in dicts]


def judge(case, orig, copy):
    n, m = pages(orig), pages(copy)
    result(case + '/pdfinfo', m > 0 and m == n,
           'copy has %d pages, original %d' % (m, n))
    want = tokens(run('pdftotext', '-enc', 'UTF-8', orig, '-')[1])
    got = tokens(run('pdftotext', '-enc', 'UTF-8', copy, '-')[1])
    share = len(want & got) / len(want) if want else 0
    result(case + '/words', want and share >= 0.9,
           '%.0f%% of %d words; missing e.g. %r' % (
               share * 100, len(want), sorted(want - got)[:8]))
    bad = active_keys(copy)
    result(case + '/no-active-content', not bad, 'found %r' % bad)


def main():
    docs = os.path.join(TMP, 'docs')
    for name in sorted(os.listdir(docs)):
        case = name[:-4]
        orig = os.path.join(docs, name)
        copy, why = sanitize(case, orig)
        if copy is None:
            result(case + '/converted', False, why)
            continue
        judge(case, orig, copy)

    # The hostile fixture: its words survive, its actions do not.
    active = os.path.join(TMP, 'fixtures', 'active.pdf')
    result('active/fixture-is-active', len(active_keys(active)) >= 5,
           'the fixture lost its active content: %r' % active_keys(active))
    copy, why = sanitize('active', active)
    if copy is None:
        result('active/converted', False, why)
    else:
        judge('active', active, copy)
        text = run('pdftotext', copy, '-')[1]
        result('active/text-layer', 'Minutes of the meeting, page 1' in
               text and 'Total 1,000,000 yen' in text, 'text %r' % text)

    # pdf_text_layer = no: the image-only copy of before.
    orig = os.path.join(docs, 'memo-ja.pdf')
    copy, why = sanitize('no-text', orig, 'pdf_text_layer=no')
    text = run('pdftotext', '-enc', 'UTF-8', copy, '-')[1] if copy else ''
    result('text-layer-off', copy is not None and pages(copy) == 1 and
           not tokens(text), why or 'text %r' % text[:200])
    return failed


sys.exit(main())
