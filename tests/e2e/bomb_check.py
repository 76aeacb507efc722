#!/usr/bin/env python3
# bomb_check.py CHECK DIR [ARG...] - one assertion about a run of
# tests/e2e/slow-bombs.sh, whose DIR holds out.eml, report.json, stderr.
# Exit 0 when it holds; otherwise print why on stdout and exit 1.
#
#   row DIR REASON [NAME-PREFIX]   a report part with that reason (and name)
#   text DIR PHRASE                the text body holds PHRASE
#   no-text DIR PHRASE             ... does not
#   no-header DIR NAME             no top-level header NAME in out.eml
#   no-attachment DIR NAME         no part of out.eml has file name NAME
#   subject-max DIR N              the report's decoded subject <= N chars
#   max-line DIR N                 no line of the text body is longer than N
import email
import email.policy
import json
import sys


def report(d):
    with open(d + '/report.json', encoding='utf-8') as f:
        return json.load(f)


def text_body(d):
    with open(d + '/out.eml', 'rb') as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    part = msg.get_body(preferencelist=('plain',))
    if part is None:
        sys.exit('no text/plain body in out.eml')
    return part.get_content()


def main(argv):
    if len(argv) < 3:
        sys.exit('usage: bomb_check.py CHECK DIR [ARG...]')
    check, d, args = argv[1], argv[2], argv[3:]
    if check == 'row':
        want = args[1] if len(args) > 1 else ''
        for p in report(d)['parts']:
            if p.get('reason') == args[0] and (p.get('name') or '').startswith(want):
                return 0
        print('no part removed with reason %r%s in the report'
              % (args[0], ' named %r...' % want[:20] if want else ''))
    elif check == 'text':
        if args[0] in text_body(d):
            return 0
        print('%r not in the text body' % args[0])
    elif check == 'no-text':
        if args[0] not in text_body(d):
            return 0
        print('%r is in the text body' % args[0])
    elif check == 'no-header':
        with open(d + '/out.eml', 'rb') as f:
            msg = email.message_from_bytes(f.read())
        if msg.get(args[0]) is None:
            return 0
        print('header %s is still there' % args[0])
    elif check == 'no-attachment':
        with open(d + '/out.eml', 'rb') as f:
            msg = email.message_from_bytes(f.read(),
                                           policy=email.policy.default)
        names = [p.get_filename() for p in msg.walk()]
        if args[0] not in names:
            return 0
        print('out.eml still has an attachment named %r' % args[0])
    elif check == 'subject-max':
        n = len(report(d).get('subject', ''))
        if n <= int(args[0]):
            return 0
        print('decoded subject is %d characters' % n)
    elif check == 'max-line':
        n = max((len(l) for l in text_body(d).splitlines()), default=0)
        if n <= int(args[0]):
            return 0
        print('a text line is %d characters long' % n)
    else:
        sys.exit('unknown check %r' % check)
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
