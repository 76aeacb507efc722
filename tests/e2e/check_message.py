#!/usr/bin/env python3
"""check_message.py - judge one "mugai sanitize" run on a fixture.

The checks use Python's own email parser (policy.default), which shares
no code with GMime, so a message both parsers accept is more likely to
be read the same way by the recipient's mail program.

  check_message.py check NAME --input IN.eml --expect IN.expect
        --exit RC --output OUT --report REPORT.json [--stderr FILE]
        [--again-exit RC2 --again-output OUT2 --again-report R2
         --again-stderr FILE2]
      Prints "PASS NAME" or "FAIL NAME: why" (and, with --again-*, the
      same for "NAME (again)": the sanitised output sanitised a second
      time).  Exit 1 when anything failed.
  check_message.py lint FILE.eml...
      Checks fixtures themselves: they parse, their .expect is well
      formed, and every "absent:" text and attachment name really occurs
      in the input (else the check would pass vacuously).
  check_message.py self-test
      Feeds the checker good and deliberately broken outputs.

The .expect sidecar, one expectation a line ('#' comments; in values
\\n, \\uXXXX and \\\\ are escapes):
  phrase: TEXT        in the decoded text body (the first text/plain part)
  absent: TEXT        nowhere in the output: raw bytes, decoded parts, headers
  notice-name: NAME   removed/converted attachment listed in the notice
  kept-name: NAME     an attachment of the output has this file name
  kept-phrase: NAME|TEXT   TEXT in the decoded kept attachment NAME
  kept-absent: NAME|TEXT   TEXT not in the decoded kept attachment NAME
  mismatch: NAME      the report marks the part NAME as a type mismatch
  signature: NAME     virus name in the report
  subject: TEXT       the report's decoded subject
  no-header: NAME     no header field NAME in any part of the output
  config: KEY=VALUE   passed to mugai as -o KEY=VALUE (read by the shell)
  exit: 0|2|75        expected exit status (default 0)
"""
import base64
import csv
import email
import email.header
import email.policy
import email.quoprimime
import email.utils
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import unicodedata
import urllib.parse

KEYS_LIST = ('phrase', 'absent', 'notice-name', 'kept-name', 'kept-phrase',
             'kept-absent', 'mismatch', 'signature', 'no-header', 'config')
KEYS_ONE = ('subject', 'exit')
ALLOWED_TYPES = ('text/plain', 'text/csv', 'multipart/mixed')
CTES = ('7bit', '8bit', 'quoted-printable', 'base64')
ACTIONS = ('body', 'kept', 'converted', 'removed')
VERDICT_FOR_EXIT = {0: ('deliver', 'discard'), 2: ('reject',), 75: ('tempfail',)}
LIMIT_REASONS = ('parts', 'depth', 'unread')
SANITIZER_ERRORS = ('AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                    '-CRITICAL **', '-WARNING **', 'Segmentation fault')
POLICY = email.policy.default.clone(raise_on_defect=False)
# A kept attachment must not be named so that a double click runs it.
RUNNABLE = ('.exe', '.com', '.bat', '.cmd', '.scr', '.pif', '.js', '.jse', '.vbs',
            '.vbe', '.wsf', '.wsh', '.hta', '.lnk', '.ps1', '.msi', '.dll', '.jar',
            '.html', '.htm', '.svg', '.iso', '.reg', '.cpl', '.msc', '.chm')


# ------------------------------------------------------------------ expect

def unescape(v):
    def rep(m):
        s = m.group(0)
        if s == '\\\\':
            return '\\'
        if s == '\\n':
            return '\n'
        return chr(int(s[2:], 16))
    return re.sub(r'\\\\|\\n|\\u[0-9a-fA-F]{4}', rep, v)


def load_expect(path):
    exp = {k: [] for k in KEYS_LIST}
    exp['subject'] = None
    exp['exit'] = 0
    errors = []
    if path is None or not os.path.exists(path):
        return exp, errors
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\r\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            key, sep, val = line.partition(':')
            key = key.strip()
            val = unescape(val[1:] if val.startswith(' ') else val)
            where = '%s:%d' % (path, n)
            if not sep or (key not in KEYS_LIST and key not in KEYS_ONE):
                errors.append('%s: unknown expectation %r' % (where, key))
            elif key == 'exit':
                if val.strip() not in ('0', '2', '75'):
                    errors.append('%s: exit must be 0, 2 or 75' % where)
                else:
                    exp['exit'] = int(val)
            elif key == 'subject':
                exp['subject'] = val
            elif key in ('kept-phrase', 'kept-absent') and '|' not in val:
                errors.append('%s: %s needs NAME|TEXT' % (where, key))
            elif key == 'config' and '=' not in val:
                errors.append('%s: config needs KEY=VALUE' % where)
            elif not val:
                errors.append('%s: empty %s' % (where, key))
            else:
                exp[key].append(val)
    return exp, errors


# ------------------------------------------------------------------ raw bytes

def split_raw(raw):
    """(header block, body) split at the first empty line."""
    pos = 0
    while pos < len(raw):
        end = raw.find(b'\n', pos)
        if end < 0:
            return raw, b''
        line = raw[pos:end]
        if line in (b'', b'\r'):
            return raw[:pos], raw[end + 1:]
        pos = end + 1
    return raw, b''


def header_fields(block):
    """[(lower name, raw field with LF line ends)], folding kept."""
    fields = []
    for line in block.replace(b'\r\n', b'\n').split(b'\n'):
        if line == b'':
            continue
        if line[:1] in (b' ', b'\t') and fields:
            name, raw = fields[-1]
            fields[-1] = (name, raw + b'\n' + line)
            continue
        name = line.split(b':', 1)[0].strip().lower()
        fields.append((name.decode('ascii', 'replace'), line))
    return fields


def is_mime_header(name):
    return name == 'mime-version' or name.startswith('content-')


def is_ours(name):
    return name.startswith('x-mugai-')


# ------------------------------------------------------------------ decoding

def jis_to_sjis(j1, j2):
    s1 = (j1 + 1) // 2 + (0x70 if j1 <= 0x5E else 0xB0)
    s2 = j2 + (0x1F if j1 & 1 else 0x7E)
    if j1 & 1 and s2 >= 0x7F:
        s2 += 1
    return bytes([s1, s2])


def decode_jis(data):
    """ISO-2022-JP with Microsoft's extensions (CP50221), for lint."""
    out, mode, i = [], 'ascii', 0
    while i < len(data):
        if data[i:i + 3] in (b'\x1b$B', b'\x1b$@'):
            mode, i = 'jis', i + 3
        elif data[i:i + 3] in (b'\x1b(B', b'\x1b(J'):
            mode, i = 'ascii', i + 3
        elif data[i:i + 3] == b'\x1b(I':
            mode, i = 'kana', i + 3
        elif mode == 'jis' and data[i] >= 0x21 and i + 1 < len(data):
            out.append(jis_to_sjis(data[i], data[i + 1]).decode('cp932', 'replace'))
            i += 2
        elif mode == 'kana' and 0x21 <= data[i] <= 0x5F:
            out.append(chr(0xFF61 + data[i] - 0x21))
            i += 1
        else:
            out.append(chr(data[i]) if data[i] < 0x80 else '\ufffd')
            i += 1
    return ''.join(out)


def decode_loose(data, charset):
    """Best-effort text of input bytes (lint only: the output must be UTF-8)."""
    cs = (charset or '').lower()
    if 'iso-2022-jp' in cs or b'\x1b$B' in data:
        return decode_jis(data)
    if cs in ('euc-jp', 'eucjp', 'x-euc-jp'):
        out, i = [], 0
        while i < len(data):
            if data[i] >= 0xA1 and i + 1 < len(data):
                out.append(jis_to_sjis(data[i] & 0x7F, data[i + 1] & 0x7F).decode('cp932', 'replace'))
                i += 2
            else:
                out.append(chr(data[i]) if data[i] < 0x80 else '\ufffd')
                i += 1
        return ''.join(out)
    for c in ('utf-8', 'cp932'):
        try:
            return data.decode(c)
        except UnicodeDecodeError:
            pass
    return data.decode('utf-8', 'replace')


def decode_words(value):
    """RFC 2047 words in value; the bytes of adjacent words are joined
    before decoding, as mailers split characters across words."""
    if value is None:
        return ''
    value = str(value)
    out, pend, pend_cs, pos = [], b'', None, 0
    for m in re.finditer(r'=\?([^?]+)\?([bBqQ])\?([^?]*)\?=', value):
        between = value[pos:m.start()]
        if pend and (between.strip() or m.group(1).lower() != pend_cs.lower()):
            out.append(decode_loose(pend, pend_cs))
            pend = b''
        if not pend:
            out.append(between)
        charset, enc, text = m.groups()
        if enc in 'bB':
            pend += base64.b64decode(text + '=' * (-len(text) % 4))
        else:
            pend += email.quoprimime.header_decode(text).encode('latin-1')
        pend_cs, pos = charset, m.end()
    if pend:
        out.append(decode_loose(pend, pend_cs))
    out.append(value[pos:])
    return ''.join(out)


def part_text(part, strict=True):
    data = part.get_payload(decode=True) or b''
    if strict:
        return data.decode('utf-8')
    return decode_loose(data, part.get_content_charset())


def unflow(text, delsp):
    """RFC 3676 format=flowed: join soft line breaks."""
    out, cur = [], ''
    for line in text.split('\n'):
        if line.endswith(' ') and line != '-- ':
            cur += line[:-1] if delsp else line
        else:
            out.append(cur + line)
            cur = ''
    if cur:
        out.append(cur)
    return '\n'.join(out)


def filenames(part):
    """Every reading of a part's file name (RFC 2231, RFC 2047, raw)."""
    names = set()
    for getter in (lambda: part.get_filename(), lambda: part.get_param('name')):
        try:
            v = getter()
        except Exception:
            continue
        if isinstance(v, tuple):
            v = email.utils.collapse_rfc2231_value(v)
        if v:
            names.add(str(v))
            names.add(decode_words(v))
            try:
                names.add(str(v).encode('utf-8', 'surrogateescape').decode('cp932'))
            except UnicodeError:
                pass
    for h in ('content-disposition', 'content-type'):
        try:
            hv = part[h]
            p = getattr(hv, 'params', {}) if hv is not None else {}
        except Exception:
            p = {}
        for k in ('filename', 'name'):
            if p.get(k):
                names.add(p[k])
                names.add(decode_words(p[k]))
    return names


def printable_name(name):
    return name and not any(unicodedata.category(c) in ('Cc', 'Cf') for c in name)


# ------------------------------------------------------------------ the checks

class Run:
    """One sanitise run: what went in, what came out."""

    def __init__(self, inp, exp, rc, out, report, stderr):
        self.inp, self.exp, self.rc = inp, exp, rc
        self.out, self.report_path, self.stderr = out, report, stderr
        self.errors = []
        self.missed = set()     # (key, value) of expectations that failed

    def fail(self, msg):
        self.errors.append(msg)


def read(path):
    if path is None or not os.path.exists(path):
        return None
    with open(path, 'rb') as f:
        return f.read()


def check_run(run, again=False):
    exp = run.exp
    if run.stderr:
        for marker in SANITIZER_ERRORS:
            if marker in run.stderr:
                line = next(l for l in run.stderr.splitlines() if marker in l)
                run.fail('stderr shows a runtime error: %s' % line.strip()[:200])
                break
    want = 0 if again else exp['exit']
    if run.rc != want:
        run.fail('exit %d, expected %d' % (run.rc, want))
    report = check_report(run)
    if run.rc != 0:
        if run.out:
            run.fail('exit %d but %d bytes of output were written' % (run.rc, len(run.out)))
        return
    if not run.out:
        run.fail('exit 0 but no output')
        return
    check_output(run, report, again)


def check_report(run):
    raw = read(run.report_path)
    if raw is None or raw == b'':
        if run.rc in (0, 2, 75):
            run.fail('no --report file written')
        return None
    try:
        rep = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as e:
        run.fail('report is not JSON: %s' % e)
        return None
    if not isinstance(rep, dict):
        run.fail('report is not a JSON object')
        return None
    for key, typ in (('id', str), ('verdict', str), ('parts', list),
                     ('removed', int), ('converted', int), ('kept', int)):
        if not isinstance(rep.get(key), typ):
            run.fail('report: "%s" missing or not %s' % (key, typ.__name__))
            return None
    if run.rc in VERDICT_FOR_EXIT and rep['verdict'] not in VERDICT_FOR_EXIT[run.rc]:
        run.fail('report verdict %r with exit %d' % (rep['verdict'], run.rc))
    counts = {a: 0 for a in ACTIONS}
    limited = False
    for i, p in enumerate(rep['parts']):
        if not isinstance(p, dict):
            run.fail('report part %d is not an object' % i)
            return None
        limited = limited or p.get('reason') in LIMIT_REASONS
        # Rows for message/rfc822 and multipart containers carry no
        # content of their own: nothing to hash or scan.
        container = str(p.get('declared_type', '')).startswith(('multipart/', 'message/'))
        for key, typ in (('path', str), ('declared_type', str), ('detected_type', str),
                         ('size', int), ('sha256', str), ('name', str), ('action', str),
                         ('reason', str), ('mismatch', bool), ('scan', str)):
            if not isinstance(p.get(key), typ):
                run.fail('report part %s: "%s" missing or not %s'
                         % (p.get('path', i), key, typ.__name__))
        if p.get('action') not in ACTIONS:
            run.fail('report part %s: action %r' % (p.get('path', i), p.get('action')))
        else:
            counts[p['action']] += 1
        if container:
            continue
        if isinstance(p.get('scan'), str) and not re.match(
                r'^(clean|infected:.+|unscanned:.+)$', p['scan']):
            run.fail('report part %s: scan %r is not clean|infected:NAME|unscanned:WHY'
                     % (p.get('path', i), p['scan']))
        # A subtree past a limit is not decoded, so it has no hash.
        if isinstance(p.get('sha256'), str) and not re.match(r'^[0-9a-f]{64}$', p['sha256']) \
                and not (p['sha256'] == '' and p.get('reason') in LIMIT_REASONS):
            run.fail('report part %s: sha256 %r' % (p.get('path', i), p['sha256']))
    for a in ('removed', 'converted', 'kept'):
        # One row may stand for a whole subtree cut at a limit.
        if rep[a] != counts[a] and not (limited and a == 'removed' and rep[a] > counts[a]):
            run.fail('report says %s=%d but %d parts have action "%s"'
                     % (a, rep[a], counts[a], a))
    exp = run.exp
    for sig in exp['signature']:
        if sig not in json.dumps(rep, ensure_ascii=False):
            run.fail('signature %s not in the report' % sig)
    if exp['subject'] is not None and rep.get('subject') != exp['subject']:
        run.fail('report subject %r, expected %r' % (rep.get('subject'), exp['subject']))
    for name in exp['mismatch']:
        rows = [p for p in rep['parts'] if p.get('name') == name]
        if not rows:
            run.fail('mismatch: no report part named %r' % name)
        elif not any(p.get('mismatch') is True for p in rows):
            run.fail('mismatch: part %r not marked as a type mismatch' % name)
    return rep


def check_lines(run):
    raw = run.out
    lines = raw.split(b'\n')
    for n, line in enumerate(lines, 1):
        if len(line.rstrip(b'\r')) > 998:
            run.fail('line %d is %d octets (limit 998)' % (n, len(line.rstrip(b'\r'))))
            break
    crlf = raw.count(b'\r\n')
    lf = raw.count(b'\n')
    if 0 < crlf < lf:
        run.fail('mixed line ends: %d CRLF and %d bare LF' % (crlf, lf - crlf))
    if raw.count(b'\r') != crlf:
        run.fail('bare CR in the output')


def check_headers(run, msg):
    in_fields = header_fields(split_raw(run.inp)[0])
    out_fields = header_fields(split_raw(run.out)[0])
    keep = [f for f in in_fields if not is_mime_header(f[0]) and not is_ours(f[0])]
    j = 0
    for name, raw in keep:
        while j < len(out_fields) and out_fields[j] != (name, raw):
            j += 1
        if j == len(out_fields):
            shown = raw.decode('utf-8', 'replace')[:120]
            if any(f == (name, raw) for f in out_fields):
                run.fail('input header out of order: %r' % shown)
            else:
                run.fail('input header changed or missing: %r' % shown)
            break
        j += 1
    kept = set(keep)
    for name, raw in out_fields:
        if (name, raw) in kept:
            continue
        if not raw.isascii():
            run.fail('header written by mugai is not ASCII: %r' % raw[:120])
    # X-Mugai-Id only when the original was stored (check_output).
    for name, want in (('mime-version', 1), ('content-type', 1), ('x-mugai-id', 1),
                       ('x-mugai-status', 1)):
        n = sum(1 for f in out_fields if f[0] == name)
        if n != want and not (name == 'x-mugai-id' and n == 0):
            run.fail('%d %s header fields at the top, expected %d' % (n, name, want))
    if sum(1 for f in out_fields if f[0] == 'content-transfer-encoding') > 1:
        run.fail('more than one Content-Transfer-Encoding at the top')


def check_parts(run, msg):
    for depth_part in msg.walk():
        part = depth_part
        if part.defects:
            run.fail('python finds defects in a %s part: %s' % (
                part.get_content_type(), ', '.join(type(d).__name__ for d in part.defects)))
        ctype = part.get_content_type()
        if ctype not in ALLOWED_TYPES:
            run.fail('output has a %s part' % ctype)
        if part is not msg:
            for name, value in part.raw_items():
                if not (name + str(value)).isascii():
                    run.fail('part header not ASCII: %s: %r' % (name, str(value)[:80]))
        cte = str(part.get('content-transfer-encoding', '7bit')).strip().lower()
        if part.is_multipart():
            if cte not in ('7bit', '8bit'):
                run.fail('multipart with Content-Transfer-Encoding %s' % cte)
            continue
        if cte not in CTES:
            run.fail('Content-Transfer-Encoding %r' % cte)
            continue
        payload = part.get_payload(decode=False)
        if isinstance(payload, str):
            pbytes = payload.encode('utf-8', 'surrogateescape')
        else:
            pbytes = b''
        if cte == '7bit' and not pbytes.isascii():
            run.fail('7bit %s part holds 8-bit bytes' % ctype)
        if cte == 'base64':
            compact = re.sub(rb'\s+', b'', pbytes)
            try:
                base64.b64decode(compact, validate=True)
                if len(compact) % 4:
                    raise ValueError('length')
            except Exception:
                run.fail('invalid base64 in a %s part' % ctype)
        if cte == 'quoted-printable':
            for line in pbytes.split(b'\n'):
                line = line.rstrip(b'\r')
                if re.search(rb'=(?![0-9A-F]{2}|$)', line) or not line.isascii():
                    run.fail('invalid quoted-printable line %r' % line[:60])
                    break
        if ctype == 'text/csv':
            # A CSV keeps the charset it came in (csv_charset), which
            # Japanese Excel needs: it must decode in that charset.
            cs = (part.get_content_charset() or 'us-ascii').lower()
            try:
                (part.get_payload(decode=True) or b'').decode(
                    {'shift_jis': 'cp932', 'euc-jp': 'euc_jis_2004'}.get(cs, cs))
            except (LookupError, UnicodeDecodeError):
                run.fail('CSV part does not decode as its charset %s' % cs)
        elif ctype.startswith('text/'):
            cs = (part.get_content_charset() or 'us-ascii').lower()
            if cs not in ('utf-8', 'us-ascii'):
                run.fail('text part with charset %s, expected UTF-8' % cs)
            try:
                part_text(part)
            except UnicodeDecodeError:
                run.fail('text part is not valid UTF-8')


def structure(run, msg):
    """(body text, [(names, part)]) of the output, or (None, [])."""
    ctype = msg.get_content_type()
    if ctype == 'text/plain':
        body, atts = msg, []
    elif ctype == 'multipart/mixed':
        parts = msg.get_payload()
        if not parts or parts[0].get_content_type() != 'text/plain':
            run.fail('first part of the multipart/mixed is not text/plain')
            return None, []
        body, atts = parts[0], parts[1:]
        if body.get_filename():
            run.fail('the body part has a file name: %r' % body.get_filename())
        for a in atts:
            if a.is_multipart():
                run.fail('nested %s inside the output' % a.get_content_type())
    else:
        run.fail('top-level type %s' % ctype)
        return None, []
    try:
        text = part_text(body).replace('\r\n', '\n')
    except UnicodeDecodeError:
        return None, []
    if body.get_param('format', '').lower() == 'flowed':
        text = unflow(text, body.get_param('delsp', '').lower() == 'yes')
    return text, [(filenames(a), a) for a in atts]


def all_text(msg):
    chunks = []
    for part in msg.walk():
        for name, value in part.items():
            chunks.append('%s: %s' % (name, value))
        if not part.is_multipart():
            chunks.append(part_text(part, strict=False))
    return '\n'.join(chunks)


def check_output(run, report, again):
    exp = run.exp
    check_lines(run)
    msg = email.message_from_bytes(run.out, policy=POLICY)
    check_headers(run, msg)
    check_parts(run, msg)
    body, atts = structure(run, msg)
    if body is None:
        return
    flat = body.replace('\n', '')
    for ph in exp['phrase']:
        if ph not in body and ph.replace('\n', '') not in flat:
            run.fail('phrase not in the text body: %r' % ph)
            run.missed.add(('phrase', ph))
    everything = all_text(msg)
    for ab in exp['absent']:
        if ab.encode('utf-8') in run.out or ab in everything:
            run.fail('absent text is present: %r' % ab)
            run.missed.add(('absent', ab))
    for name in exp['no-header']:
        for part in msg.walk():
            if part.get(name) is not None:
                run.fail('header %s present in a %s part' % (name, part.get_content_type()))
                break
        if re.search(rb'(?mi)^' + re.escape(name.encode()) + rb'[ \t]*:', run.out):
            run.fail('a line starting "%s:" is in the output' % name)

    def kept(name):
        return [a for names, a in atts if name in names]
    for name in exp['kept-name']:
        if not kept(name):
            run.missed.add(('kept-name', name))
            got = sorted(n for names, _ in atts for n in names)
            run.fail('kept-name %r not among the attachments %r' % (name, got))
    for key in ('kept-phrase', 'kept-absent'):
        for item in exp[key]:
            name, text = item.split('|', 1)
            for a in kept(name):
                present = text in part_text(a, strict=False)
                if present != (key == 'kept-phrase'):
                    run.fail('%s %r in attachment %r' % (
                        'missing' if key == 'kept-phrase' else 'present', text, name))
                    run.missed.add((key, item))
    for names, a in atts:
        bad = sorted(n for n in names if n.lower().rstrip(' .').endswith(RUNNABLE))
        if bad:
            run.fail('kept attachment has a runnable name: %r' % bad[0])
    for names, a in atts:
        if a.get_content_type() == 'text/csv' or any(n.lower().endswith('.csv') for n in names):
            check_csv(run, part_text(a, strict=False), sorted(names))
    if again:
        if report is not None and report['removed'] != 0:
            run.fail('second pass removed %d more parts' % report['removed'])
        return
    if report is None:
        return
    mid = str(msg.get('x-mugai-id', '')).strip()
    # The original is stored (the runs have a quarantine) exactly when
    # the message changed; the id is added only then, so it always
    # finds the original.
    changed = report['removed'] + report['converted'] > 0 or any(
        p.get('mismatch') is True for p in report['parts'])
    if changed and report['id'] != mid:
        run.fail('report id %r but X-Mugai-Id %r' % (report['id'], mid))
    if not changed and mid != '':
        run.fail('nothing changed, nothing stored, yet X-Mugai-Id %r' % mid)
    check_status(run, msg, report)
    check_notice(run, body, report)
    check_leaves(run, report)


def check_csv(run, text, names):
    # A spreadsheet drops a leading BOM, so "\ufeff=1" is a formula too.
    for row in csv.reader(io.StringIO(text.lstrip('\ufeff'))):
        for cell in row:
            if cell[:1] in ('=', '+', '-', '@'):
                run.fail('CSV attachment %s has an unguarded cell %r' % (names[:1], cell[:40]))
                return


def check_status(run, msg, report):
    st = str(msg.get('x-mugai-status', '')).strip()
    if not re.match(r'^sanitised(;\s*[a-z_]+=\d+)*$', st):
        run.fail('X-Mugai-Status %r' % st)
        return
    got = dict((k, int(v)) for k, v in re.findall(r'([a-z_]+)=(\d+)', st))
    for k in ('removed', 'converted'):
        if k in got and got[k] != report[k]:
            run.fail('X-Mugai-Status %s=%d, report %s=%d' % (k, got[k], k, report[k]))


def check_notice(run, body, report):
    exp = run.exp
    # A body only re-encoded as UTF-8 is counted (the original is kept)
    # but not listed: the text itself is there.
    told = [p for p in report['parts'] if p.get('action') in ('removed', 'converted')
            and p.get('reason') != 'body-charset']
    if told and report['id'] not in body:
        run.fail('parts were removed/converted but the X-Mugai-Id is not in the text')
    for p in report['parts']:
        if p.get('action') not in ('removed', 'converted') or p.get('reason') in LIMIT_REASONS:
            continue
        name = p.get('name', '')
        if not printable_name(name):
            continue
        if name not in body:
            run.fail('notice does not list %s part %r' % (p['action'], name))
        elif p.get('declared_type') and p['declared_type'] not in body:
            run.fail('notice does not give the declared type %s of %r' % (p['declared_type'], name))
    for name in exp['notice-name']:
        if name not in body:
            run.fail('notice-name %r not in the text body' % name)
        if not any(p.get('name') == name and p.get('action') in ('removed', 'converted')
                   for p in report['parts']):
            run.fail('notice-name %r: no removed/converted part of that name in the report' % name)


def input_leaves(raw):
    """(leaves, depth, defects, [(sha256, size)] of base64 leaves) via python."""
    msg = email.message_from_bytes(raw, policy=POLICY)
    leaves, defects, hashes, depth = 0, 0, [], 0
    stack = [(msg, 1)]
    while stack:
        part, d = stack.pop()
        depth = max(depth, d)
        if part.is_multipart():
            defects += len(part.defects)
            stack.extend((p, d + 1) for p in part.get_payload())
            continue
        leaves += 1
        # Decoding adds its own defects (bad base64), so count after.
        data = part.get_payload(decode=True) or b''
        defects += len(part.defects)
        if str(part.get('content-transfer-encoding', '')).lower().strip() == 'base64':
            hashes.append((hashlib.sha256(data).hexdigest(), len(data)))
    return leaves, depth, defects, hashes


def check_leaves(run, report):
    if run.exp['config']:
        return
    leaves, depth, defects, hashes = input_leaves(run.inp)
    if defects or leaves > 1000 or depth > 20:
        return
    if len(report['parts']) < leaves:
        run.fail('report lists %d parts, the input has %d leaves'
                 % (len(report['parts']), leaves))
    have = set((p.get('sha256'), p.get('size')) for p in report['parts'])
    for sha, size in hashes:
        if (sha, size) not in have:
            run.fail('no report part with sha256 %s… and size %d (a base64 leaf of the input)'
                     % (sha[:12], size))


# ------------------------------------------------------------------ commands

def emit(name, run):
    if not run.errors:
        print('PASS %s' % name)
        return True
    more = ' (+%d more)' % (len(run.errors) - 1) if len(run.errors) > 1 else ''
    print('FAIL %s: %s%s' % (name, run.errors[0], more))
    for e in run.errors[1:]:
        print('    - %s' % e)
    return False


def cmd_check(args):
    opts = {}
    name = args[0]
    it = iter(args[1:])
    for a in it:
        opts[a.lstrip('-')] = next(it)
    exp, errs = load_expect(opts.get('expect'))
    inp = read(opts['input'])

    def text(path):
        b = read(path)
        return b.decode('utf-8', 'replace') if b else ''
    run = Run(inp, exp, int(opts['exit']), read(opts.get('output')) or b'',
              opts.get('report'), text(opts.get('stderr')))
    run.errors.extend(errs)
    try:
        check_run(run)
    except Exception as e:           # a checker crash is a failure, not a pass
        run.fail('checker error: %s: %s' % (type(e).__name__, e))
    ok = emit(name, run)
    if 'again-exit' in opts:
        # The second pass must keep what the first got right; what the
        # first got wrong is reported once, above.
        exp2 = dict(exp)
        for k in ('notice-name', 'mismatch', 'signature'):
            exp2[k] = []
        for k in ('phrase', 'absent', 'kept-name'):
            exp2[k] = [v for v in exp[k] if (k, v) not in run.missed]
        for k in ('kept-phrase', 'kept-absent'):
            exp2[k] = [v for v in exp[k] if (k, v) not in run.missed and
                       ('kept-name', v.split('|', 1)[0]) not in run.missed]
        again = Run(run.out, exp2, int(opts['again-exit']), read(opts.get('again-output')) or b'',
                    opts.get('again-report'), text(opts.get('again-stderr')))
        try:
            check_run(again, again=True)
        except Exception as e:
            again.fail('checker error: %s: %s' % (type(e).__name__, e))
        ok = emit(name + ' (again)', again) and ok
    return 0 if ok else 1


def input_names(raw, msg):
    """File names as a careful reader gets them, python's reading aside."""
    names = set()
    for part in msg.walk():
        names |= filenames(part)
    for m in re.finditer(rb'name="([^"]*)"', raw):
        names.add(decode_words(decode_loose(m.group(1), None)))
    for m in re.finditer(rb'name=(=\?[^\s;"]+\?=)', raw):
        names.add(decode_words(m.group(1).decode('ascii')))
    for m in re.finditer(rb"name\*=([^';\s]*)'[^']*'([^;\s]+)", raw):
        data = urllib.parse.unquote_to_bytes(m.group(2).decode('ascii'))
        names.add(decode_loose(data, m.group(1).decode('ascii')))
    return names


def input_texts(raw, msg):
    chunks = [raw.decode('utf-8', 'replace'), decode_loose(raw, None)]
    for part in msg.walk():
        if not part.is_multipart():
            chunks.append(part_text(part, strict=False))
        for k, v in part.raw_items():
            chunks.append(decode_words(str(v)))
    return '\n'.join(chunks)


def cmd_lint(paths):
    bad = 0
    for path in paths:
        base = path[:-4]
        raw = read(path)
        exp, errs = load_expect(base + '.expect')
        if not os.path.exists(base + '.expect'):
            errs.append('no .expect sidecar')
        msg = email.message_from_bytes(raw, policy=POLICY)
        names = input_names(raw, msg)
        text = input_texts(raw, msg) + '\n'.join(names)
        for ab in exp['absent']:
            if ab != '\ufffd' and ab not in text:
                errs.append('absent %r never occurs in the input: vacuous' % ab)
        for key in ('notice-name', 'kept-name', 'mismatch'):
            for n in exp[key]:
                if n not in names:
                    errs.append('%s %r is not a file name in the input (%r)' % (key, n, sorted(names)))
        for item in exp['kept-phrase'] + exp['kept-absent']:
            if item.split('|', 1)[0] not in exp['kept-name']:
                errs.append('%r names no kept-name' % item)
        info = [ph for ph in exp['phrase'] if ph not in text]
        if exp['subject'] is not None:
            subj = [r for n, r in header_fields(split_raw(raw)[0]) if n == 'subject']
            got = decode_words(decode_loose(re.sub(rb'\r?\n', b'', subj[0]).split(b':', 1)[1].strip(), None)) \
                if subj else None
            if got != exp['subject']:
                errs.append('subject %r decodes to %r' % (exp['subject'], got))
        if errs:
            bad += 1
            print('FAIL lint %s: %s' % (os.path.basename(path), '; '.join(errs)))
        else:
            print('PASS lint %s%s' % (os.path.basename(path),
                  ('  (derived phrases: %s)' % ', '.join(map(repr, info))) if info else ''))
    return 1 if bad else 0


# ------------------------------------------------------------------ self-test

SELF_IN = (b'Received: from a by b;\n Mon, 4 Mar 2024 10:00:00 +0900\n'
           b'From: a@example.com\nTo: b@example.com\nSubject: hello\n'
           b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n'
           b'Message-ID: <1@example.com>\n\n--b\nContent-Type: text/plain\n\nhello body\n'
           b'--b\nContent-Type: text/html\n\n<script>EVIL</script>\n'
           b'--b\nContent-Type: text/csv\nContent-Disposition: attachment; filename="a.csv"\n\n=1+1,b\n--b--\n')
SELF_EXPECT = 'phrase: hello body\nabsent: EVIL\nkept-name: a.csv\nkept-phrase: a.csv|\'=1+1\n'


def self_good():
    return (b'Received: from a by b;\n Mon, 4 Mar 2024 10:00:00 +0900\n'
            b'From: a@example.com\nTo: b@example.com\nSubject: hello\n'
            b'Message-ID: <1@example.com>\nX-Mugai-Status: sanitised; converted=0; removed=1\n'
            b'X-Mugai-Id: ID1\nMIME-Version: 1.0\n'
            b'Content-Type: multipart/mixed; boundary="x"\n\n'
            b'--x\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n'
            + 'notice: removed (no name) text/html; ID1\n\nhello body\n'.encode() +
            b'--x\nContent-Type: text/csv; charset=UTF-8\nContent-Disposition: attachment; filename="a.csv"\n'
            b'Content-Transfer-Encoding: base64\n\n' + base64.b64encode(b"'=1+1,b\n") + b'\n--x--\n')


def self_report(**kw):
    rep = {'id': 'ID1', 'verdict': 'deliver', 'reason': '', 'subject': 'hello',
           'parts': [
               {'path': '1', 'declared_type': 'text/plain', 'detected_type': 'text/plain', 'size': 11,
                'sha256': '0' * 64, 'name': '', 'action': 'body', 'reason': '', 'mismatch': False,
                'scan': 'clean'},
               {'path': '2', 'declared_type': 'text/html', 'detected_type': 'text/html', 'size': 22,
                'sha256': '1' * 64, 'name': '', 'action': 'removed', 'reason': 'body',
                'mismatch': False, 'scan': 'clean'},
               {'path': '3', 'declared_type': 'text/csv', 'detected_type': 'text/csv', 'size': 8,
                'sha256': '2' * 64, 'name': 'a.csv', 'action': 'kept', 'reason': '',
                'mismatch': False, 'scan': 'clean'}],
           'removed': 1, 'converted': 0, 'kept': 1}
    rep.update(kw)
    return json.dumps(rep).encode()


def cmd_self_test():
    good = self_good()
    cases = [
        ('good', 0, good, self_report(), True),
        ('html part left', 0, good.replace(b'text/csv; charset', b'text/html; charset'), self_report(), False),
        ('header changed', 0, good.replace(b'Subject: hello', b'Subject: hellO'), self_report(), False),
        ('header order', 0, good.replace(b'From: a@example.com\nTo: b@example.com\n',
                                         b'To: b@example.com\nFrom: a@example.com\n'), self_report(), False),
        ('folding lost', 0, good.replace(b'b;\n Mon', b'b; Mon'), self_report(), False),
        ('long line', 0, good.replace(b'hello body', b'hello body ' + b'x' * 1000), self_report(), False),
        ('phrase gone', 0, good.replace(b'hello body', b'hullo body'), self_report(), False),
        ('absent present', 0, good.replace(b'hello body', b'hello body EVIL'), self_report(), False),
        ('no X-Mugai-Id', 0, good.replace(b'X-Mugai-Id: ID1\n', b''), self_report(), False),
        ('two X-Mugai-Id', 0, good.replace(b'X-Mugai-Id: ID1\n', b'X-Mugai-Id: ID1\nX-Mugai-Id: ID0\n'),
         self_report(), False),
        ('bad report', 0, good, b'{"id": ', False),
        ('report counts', 0, good, self_report(removed=3), False),
        ('report scan', 0, good, self_report(parts=[{'path': '1', 'declared_type': 'text/plain',
                                                     'detected_type': 'text/plain', 'size': 1,
                                                     'sha256': '0' * 64, 'name': '', 'action': 'body',
                                                     'reason': '', 'mismatch': False, 'scan': '-'}],
                                             removed=0, kept=0), False),
        ('output on reject', 2, good, self_report(verdict='reject'), False),
        ('exit differs', 75, b'', self_report(verdict='tempfail'), False),
        ('8-bit header', 0, good.replace(b'filename="a.csv"', 'filename="あ.csv"'.encode()), self_report(), False),
        ('bad base64', 0, good.replace(base64.b64encode(b"'=1+1,b\n"), b'!!!!'), self_report(), False),
        ('formula cell', 0, good.replace(base64.b64encode(b"'=1+1,b\n"), base64.b64encode(b"'=1+1,=b\n")),
         self_report(), False),
        ('runnable name', 0, good.replace(b'filename="a.csv"', b'filename="a.csv.exe"'), self_report(), False),
        ('kept name gone', 0, good.replace(b'filename="a.csv"', b'filename="b.csv"'), self_report(), False),
        ('id not in notice', 0, good.replace(b'ID1\n\nhello', b'\n\nhello'), self_report(), False),
        ('mixed line ends', 0, good.replace(b'Subject: hello\n', b'Subject: hello\r\n'), self_report(), False),
        ('status count', 0, good.replace(b'removed=1', b'removed=2'), self_report(), False),
        ('not utf-8', 0, good.replace('notice:'.encode(), b'\xff\xfe'), self_report(), False),
        ('asan', 0, good, self_report(), False),
    ]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        exp_path = os.path.join(tmp, 'x.expect')
        with open(exp_path, 'w') as f:
            f.write(SELF_EXPECT)
        exp, errs = load_expect(exp_path)
        assert not errs, errs
        for label, rc, out, rep, want in cases:
            rp = os.path.join(tmp, 'r.json')
            with open(rp, 'wb') as f:
                f.write(rep)
            stderr = '==1==ERROR: AddressSanitizer: heap-use-after-free' if label == 'asan' else ''
            run = Run(SELF_IN, exp if rc == 0 else dict(exp, exit=rc if label != 'exit differs' else 0),
                      rc, out, rp, stderr)
            check_run(run)
            ok = not run.errors
            if ok != want:
                bad += 1
                print('FAIL self-test %s: checker said %s %s' % (label, 'pass' if ok else 'fail', run.errors))
            else:
                print('PASS self-test %s%s' % (label, '' if ok else ' (caught: %s)' % run.errors[0]))
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == 'check':
        return cmd_check(argv[1:])
    if argv and argv[0] == 'lint':
        return cmd_lint(argv[1:])
    if argv == ['self-test']:
        return cmd_self_test()
    sys.stderr.write(__doc__)
    return 64


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
