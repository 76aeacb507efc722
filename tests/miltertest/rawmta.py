#!/usr/bin/env python3
"""rawmta.py - the MTA side of the milter protocol, for the two things
OpenDKIM's miltertest cannot do (tests/e2e/milter-protocol.sh):

  * send a header value exactly as the message has it after the colon
    with SMFIP_HDR_LEADSPC negotiated ("X-Odd:no-space", "X-Tab:<TAB>x",
    "X-Empty:"): miltertest's mt.header() always puts a space first;
  * show the text of a reply given before end of message (552 5.3.4 at
    a body chunk): miltertest keeps only the reply's code letter.

usage: rawmta.py SOCKET MESSAGE QID [CHUNK]

Negotiates protocol 6 offering every action and option (what Postfix
offers; RAWMTA_OFFER=HEX in the environment offers those protocol
options instead, e.g. 0x3ff for an MTA without protocol 6's), gives connect information (198.51.100.1) and HELO, sends {i} =
QID, MAIL FROM, RCPT TO taken from the message's From and To, each
header field of MESSAGE as it is after the colon (folds as "\\n"), end
of headers, the body with CRLF line ends in CHUNK-byte pieces (default
65535), end of message; no reply is awaited for a step whose
SMFIP_NR_* the milter took.  It stops at the first reply that is not
"continue".  Prints one line per reply:

  STAGE CODE [DATA]      e.g. "body#3 y 552 5.3.4 Message size ..."

and at end of message one line per request ("eom h NAME VALUE" with
the value as Python repr, "eom m INDEX NAME VALUE", "eom b LENGTH"),
then the final reply.  Exits 0 when the conversation was carried out
(whatever the milter answered), 1 on a protocol error.
"""
import os
import re
import socket
import struct
import sys

TIMEOUT = 120


def die(msg):
    sys.stderr.write("rawmta.py: %s\n" % msg)
    sys.exit(1)


class Milter:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(TIMEOUT)
        self.s.connect(path)

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def read_exact(self, n):
        buf = b""
        while len(buf) < n:
            got = self.s.recv(n - len(buf))
            if not got:
                die("the milter closed the connection")
            buf += got
        return buf

    def reply(self):
        (n,) = struct.unpack(">I", self.read_exact(4))
        data = self.read_exact(n)
        return data[:1], data[1:]


def cstr(s):
    return s.encode("latin-1") + b"\0"


def show(stage, cmd, data):
    text = data.rstrip(b"\0").decode("latin-1")
    print(("%s %s %s" % (stage, cmd.decode(), text)).rstrip())


def main():
    if len(sys.argv) not in (4, 5):
        die("usage: rawmta.py SOCKET MESSAGE QID [CHUNK]")
    path, msgfile, qid = sys.argv[1:4]
    chunk = int(sys.argv[4]) if len(sys.argv) == 5 else 65535
    raw = open(msgfile, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    fields = []
    for line in head.decode("latin-1").split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += "\n" + line
        else:
            name, colon, value = line.partition(":")
            if not colon:
                die("not a header field: %r" % line)
            fields.append([name, value])
    body = body.replace(b"\n", b"\r\n")

    def addr(name):
        for n, v in fields:
            if n.lower() == name:
                m = re.search(r"[\w.+-]+@[\w.-]+", v)
                if m:
                    return m.group(0)
        die("no address in %s" % name)

    m = Milter(path)
    offer = int(os.environ.get("RAWMTA_OFFER", "0x1FFFFF"), 16)
    m.send(b"O", struct.pack(">III", 6, 0x1FF, offer))
    cmd, data = m.reply()
    if cmd != b"O" or len(data) < 12:
        die("negotiation: got %r" % cmd)
    _, actions, options = struct.unpack(">III", data[:12])
    print("negotiated actions=0x%x options=0x%x" % (actions, options))
    if options & ~offer:
        die("the milter took options not offered: 0x%x" % options)
    # The steps the milter takes no reply for (SMFIP_NR_*).
    noreply = {b"C": 0x1000, b"H": 0x2000, b"M": 0x4000, b"R": 0x8000,
               b"L": 0x80, b"N": 0x40000, b"B": 0x80000}

    steps = [
        ("connect", b"C", cstr("client.example.net") + b"4" +
         struct.pack(">H", 12345) + cstr("198.51.100.1")),
        ("helo", b"H", cstr("client.example.net")),
        ("macro", b"D", b"M" + cstr("i") + cstr(qid)),
        ("mail", b"M", cstr("<%s>" % addr("from"))),
        ("rcpt", b"R", cstr("<%s>" % addr("to"))),
    ]
    steps += [("header:" + n, b"L", cstr(n) + cstr(v)) for n, v in fields]
    steps.append(("eoh", b"N", b""))
    for i in range(0, len(body), chunk):
        steps.append(("body#%d" % (i // chunk + 1), b"B", body[i:i + chunk]))
    for stage, cmd, data in steps:
        m.send(cmd, data)
        if cmd == b"D" or options & noreply.get(cmd, 0):
            continue        # macros, and steps so agreed: no reply
        rcmd, rdata = m.reply()
        if rcmd != b"c":
            show(stage, rcmd, rdata)
            m.send(b"Q")
            return
    m.send(b"E")
    while True:
        rcmd, rdata = m.reply()
        if rcmd == b"h":
            name, value = rdata.split(b"\0")[:2]
            print("eom h %s %r" % (name.decode("latin-1"),
                                   value.decode("latin-1")))
        elif rcmd == b"m":
            (idx,) = struct.unpack(">I", rdata[:4])
            name, value = rdata[4:].split(b"\0")[:2]
            print("eom m %d %s %r" % (idx, name.decode("latin-1"),
                                      value.decode("latin-1")))
        elif rcmd == b"b":
            print("eom b %d" % len(rdata))
        elif rcmd == b"p":
            continue
        else:
            show("eom", rcmd, rdata)
            if rcmd in (b"c", b"a", b"r", b"t", b"d", b"y"):
                break
    m.send(b"Q")


if __name__ == "__main__":
    main()
