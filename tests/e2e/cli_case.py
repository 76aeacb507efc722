"""cli_case.py - shared by the e2e checkers that run "mugai sanitize" on
one mailed attachment (cdr_check.py, office_check.py): the message, the
CLI run with the test ClamAV database and a quarantine of its own, and
the delivered message's attachments."""

import email
import email.policy
import json
import os
import subprocess
import zlib
from email.message import EmailMessage


def message(name, data, mtype, tag, subject='attachment'):
    """A message from the Internet with one attachment, name/data/mtype."""
    msg = EmailMessage()
    msg['From'] = 'sender@example.com'
    msg['To'] = 'staff@city.example.lg.jp'
    msg['Subject'] = subject
    msg['Message-ID'] = '<%s-%s@example.com>' % (tag, zlib.crc32(name.encode()))
    msg.set_content('本文です。添付を確認してください。\n')
    maintype, subtype = mtype.split('/')
    msg.add_attachment(data, maintype=maintype, subtype=subtype,
                       filename=name)
    return msg.as_bytes()


def sanitize(mugai, testdb, tmp, case, raw, *opts):
    """Run the CLI on raw in tmp/case; (exit, message or None, report, log)."""
    d = os.path.join(tmp, case)
    os.makedirs(d, exist_ok=True)
    src, out = os.path.join(d, 'in.eml'), os.path.join(d, 'out.eml')
    rep, err = os.path.join(d, 'report.json'), os.path.join(d, 'stderr')
    with open(src, 'wb') as f:
        f.write(raw)
    args = [mugai, '-v', '-o', 'clamav_database_dir=' + testdb,
            '-o', 'quarantine_dir=' + os.path.join(d, 'q'),
            '-o', 'audit_log=' + os.path.join(d, 'audit.jsonl')]
    for o in opts:
        args += ['-o', o]
    args += ['sanitize', '--report', rep, src, out]
    with open(err, 'wb') as e:
        rc = subprocess.call(args, stderr=e)
    report = json.load(open(rep)) if os.path.exists(rep) else {}
    text = open(err, 'rb').read().decode('utf-8', 'replace')
    msg = None
    if rc == 0:
        msg = email.message_from_bytes(open(out, 'rb').read(),
                                       policy=email.policy.default)
    return rc, msg, report, text


def attachments(msg):
    """The parts of msg that have a file name ([] for no message)."""
    return [p for p in msg.walk() if p.get_filename()] if msg else []
