#!/usr/bin/env python3
"""parts_invariant.py BUILD TMP MESSAGE... - no part lost without a word.

For every message: the leaf parts of the original, found by a walk over
the raw bytes (boundary delimiter lines, message/rfc822 bodies; a header
block ends at a blank line or at the first line that cannot be a header
field, as mail clients read it), numbered as mugai's report numbers them
("1", "1.2", "1.2.1"); then "mugai sanitize --report".  Each leaf must
have a report row of its own (kept, converted, removed/held, or read as
the body), or lie under a removed subtree row (too deep, encrypted, a
signature), or be covered by a row standing for many parts (a limit was
reached, or "n parts could not be read").  This walk shares no code with
GMime.  Prints "PASS mail-structure/invariant/NAME" or "FAIL ...".
"""

import email.parser
import email.policy
import json
import os
import re
import subprocess
import sys

BUILD, TMP = sys.argv[1:3]
MESSAGES = sys.argv[3:]
MUGAI = os.path.join(BUILD, 'mugai')
# Rows that stand for parts not described one by one.
COVER_ALL = ('parts', 'structure', 'unread')
HEADER = re.compile(rb'^[\x21-\x39\x3b-\x7e]+[ \t]*:')
MAX_DEPTH = 60


def split_entity(data):
    """(header bytes, body bytes) as a mail client reads them."""
    lines = data.split(b'\n')
    have = False
    for i, line in enumerate(lines):
        s = line.rstrip(b'\r')
        if s == b'':
            return b'\n'.join(lines[:i]) + b'\n', b'\n'.join(lines[i + 1:])
        if (s[:1] in (b' ', b'\t') and have) or HEADER.match(s):
            have = True
            continue
        return b'\n'.join(lines[:i]) + b'\n', b'\n'.join(lines[i:])
    return data, b''


def content_type(head):
    h = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
        head)
    return h.get_content_type(), h.get_param('boundary')


def children(body, boundary):
    """The bodies between the delimiter lines of boundary."""
    b = boundary.encode('utf-8', 'surrogateescape') if isinstance(
        boundary, str) else boundary
    parts, cur = [], None
    for line in body.split(b'\n'):
        s = line.rstrip(b' \t\r')
        if s == b'--' + b + b'--':
            break
        if s == b'--' + b:
            if cur is not None:
                parts.append(b'\n'.join(cur))
            cur = []
            continue
        if cur is not None:
            cur.append(line)
    if cur is not None:
        parts.append(b'\n'.join(cur))
    return parts


def leaves(data, path, depth, out):
    head, body = split_entity(data)
    ctype, boundary = content_type(head)
    if depth > MAX_DEPTH:
        out.append(path)
        return
    if ctype.startswith('multipart/') and boundary:
        if isinstance(boundary, tuple):     # RFC 2231 form
            boundary = boundary[2]
        for i, child in enumerate(children(body, boundary), 1):
            leaves(child, '%s.%d' % (path, i), depth + 1, out)
        return
    if ctype == 'message/rfc822':
        leaves(body, path + '.1', depth + 1, out)
        return
    out.append(path)


def covered(path, rows):
    for r in rows:
        if r['path'] == path:
            return True
        # A subtree removed whole (depth, encrypted, signature).
        if r['action'] == 'removed' and path.startswith(r['path'] + '.'):
            return True
    return False


failed = 0
os.makedirs(TMP, exist_ok=True)
for m in MESSAGES:
    name = os.path.basename(m)[:-4]
    with open(m, 'rb') as f:
        raw = f.read()
    if raw.startswith(b'\xef\xbb\xbf'):
        raw = raw[3:]
    rep = os.path.join(TMP, name + '.json')
    p = subprocess.run([MUGAI, '-o', 'clamav_enable=no', '-o',
                        'quarantine_enable=no', 'sanitize', '--report', rep,
                        m, os.devnull], capture_output=True)
    try:
        with open(rep, encoding='utf-8') as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        failed = 1
        print('FAIL mail-structure/invariant/%s: no report (exit %d): %s'
              % (name, p.returncode, e))
        continue
    if report['verdict'] == 'reject' and not report['parts']:
        print('PASS mail-structure/invariant/%s' % name)  # refused whole
        continue
    rows = report['parts']
    want = []
    leaves(raw, '1', 0, want)
    missing = [x for x in want if not covered(x, rows)]
    bad = [r['path'] for r in rows if r['action'] not in
           ('body', 'kept', 'converted', 'removed')]
    if missing and any(r['reason'] in COVER_ALL for r in rows):
        missing = []
    if missing or bad:
        failed = 1
        print('FAIL mail-structure/invariant/%s: leaves not in the report: '
              '%s; rows with no outcome: %s; rows: %s'
              % (name, missing[:10], bad[:10],
                 [(r['path'], r['action'], r['reason']) for r in rows][:12]))
    else:
        print('PASS mail-structure/invariant/%s' % name)
sys.exit(failed)
