#!/usr/bin/env python3
"""tnef_writer.py - a small TNEF (winmail.dat) writer for the tests,
written from Microsoft's specifications [MS-OXTNEF] (the stream) and
[MS-OXRTFCP] (compressed RTF).

A TNEF stream is the signature 0x223E9F78, a legacy key (16 bits), then
attributes: level (1 message, 2 attachment), attribute id (32 bits: type
<< 16 | id), length, data, and a checksum (the sum of the data bytes
modulo 65536).  Message properties (the body as PR_RTF_COMPRESSED, the
subject...) travel in attMAPIProps; each attachment starts with
attAttachRendData, has attAttachTitle and attAttachData, and its MAPI
properties in attAttachment.  An embedded message is an attachment with
PR_ATTACH_METHOD 5 whose PR_ATTACH_DATA_OBJ (PT_OBJECT) is IID_IMessage
followed by a whole TNEF stream.

    python3 tnef_writer.py OUT.dat   writes a sample with a Japanese RTF
                                     body and a text attachment
"""

import struct
import sys

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2

# Attribute ids: ATT(type, id).
atpString, atpDate, atpByte, atpWord, atpDword = 1, 3, 6, 7, 8
attSubject = atpString << 16 | 0x8004
attDateSent = atpDate << 16 | 0x8005
attMessageClass = atpWord << 16 | 0x8008
attAttachData = atpByte << 16 | 0x800F
attAttachTitle = atpString << 16 | 0x8010
attAttachRendData = atpByte << 16 | 0x9002
attMAPIProps = atpByte << 16 | 0x9003
attAttachment = atpByte << 16 | 0x9005
attTnefVersion = atpDword << 16 | 0x9006
attOemCodepage = atpByte << 16 | 0x9007

# MAPI property types and tags.
PT_LONG, PT_OBJECT, PT_STRING8, PT_UNICODE, PT_BINARY = 3, 13, 30, 31, 258
PR_SUBJECT = 0x0037
PR_SENDER_NAME = 0x0C1A
PR_SENDER_EMAIL_ADDRESS = 0x0C1F
PR_BODY = 0x1000
PR_RTF_COMPRESSED = 0x1009
PR_DISPLAY_NAME = 0x3001
PR_ATTACH_DATA_OBJ = 0x3701
PR_ATTACH_FILENAME = 0x3704
PR_ATTACH_METHOD = 0x3705
PR_ATTACH_LONG_FILENAME = 0x3707
PR_INTERNET_CPID = 0x3FDE
ATTACH_BY_VALUE, ATTACH_EMBEDDED_MSG = 1, 5
# IID_IMessage {00020307-0000-0000-C000-000000000046}, as stored.
IID_IMESSAGE = bytes.fromhex('0703020000000000c000000000000046')


def attribute(level, att, data):
    return (struct.pack('<BII', level, att, len(data)) + data +
            struct.pack('<H', sum(data) & 0xffff))


def _pad(b):
    return b + b'\0' * (-len(b) % 4)


def prop(ptype, pid, value):
    """One property of an attMAPIProps block: tag, then the value."""
    tag = struct.pack('<I', pid << 16 | ptype)
    if ptype == PT_LONG:
        return tag + struct.pack('<I', value)
    if ptype == PT_UNICODE:
        value = value.encode('utf-16-le') + b'\0\0'
    elif ptype == PT_STRING8:
        value = value + b'\0'
    # Variable length: a count of values (1), the size, padded data.
    return tag + struct.pack('<II', 1, len(value)) + _pad(value)


def mapi(props):
    return struct.pack('<I', len(props)) + b''.join(props)


# [MS-OXRTFCP] 2.1.3.2: the dictionary starts with this text.
RTF_PREBUF = (b'{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil '
              b'\\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans '
              b'SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0'
              b'\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u'
              b'\\tab\\tx')


def _crc(data):
    """[MS-OXRTFCP] 2.1.3.2: CRC-32 (0xEDB88320), start 0, no final xor."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


def rtf_compress(rtf):
    """LZFu: control bytes, each flagging 8 tokens; a token is a literal
    byte or a 2-byte reference (12-bit offset into a 4096-byte ring that
    starts with RTF_PREBUF, 4-bit length - 2).  Greedy longest match,
    taken from the document's own earlier bytes only (some readers have
    the dictionary's CR LF the wrong way round); the stream ends with a
    reference to the write position."""
    hist = bytearray(RTF_PREBUF)
    tokens = []
    i = 0
    while i < len(rtf):
        lo = max(len(RTF_PREBUF), len(hist) - 4096 + 32)
        best_len, best_at = 0, -1
        for n in range(min(17, len(rtf) - i), 1, -1):
            at = hist.rfind(rtf[i:i + n], lo)
            if at >= 0:
                best_len, best_at = n, at
                break
        if best_len >= 2:
            tokens.append(struct.pack('>H', (best_at % 4096) << 4 |
                                      (best_len - 2)))
        else:
            best_len = 1
            tokens.append(bytes([rtf[i]]))
        hist += rtf[i:i + best_len]
        i += best_len
    tokens.append(struct.pack('>H', (len(hist) % 4096) << 4))
    out = bytearray()
    for k in range(0, len(tokens), 8):
        group = tokens[k:k + 8]
        out.append(sum(1 << j for j, t in enumerate(group) if len(t) == 2))
        for t in group:
            out += t
    body = bytes(out)
    return struct.pack('<IIII', len(body) + 12, len(rtf), 0x75465A4C,
                       _crc(body)) + body


def rtf_uncompressed(rtf):
    """The 'MELA' form: the same header, the RTF as it is, CRC 0."""
    return struct.pack('<IIII', len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf


class Attachment:
    def __init__(self, long_name, data, short_name=None, embedded=None,
                 display=None):
        self.long_name = long_name
        self.data = data
        self.short_name = short_name
        self.embedded = embedded    # a Message, for method 5
        self.display = display


class Message:
    def __init__(self, subject='', body_rtf=None, body_text=None,
                 sender=None, date=None, attachments=(), codepage=932,
                 compress=True):
        self.subject = subject
        self.body_rtf = body_rtf
        self.body_text = body_text
        self.sender = sender        # (name, address)
        self.date = date            # (y, m, d, H, M, S)
        self.attachments = list(attachments)
        self.codepage = codepage
        self.compress = compress

    def _enc(self, s):
        return s.encode('cp932' if self.codepage == 932 else 'latin-1',
                        'replace')

    def tnef(self, embedded=False):
        out = struct.pack('<IH', SIGNATURE, 0x0001)
        if not embedded:
            out += attribute(LVL_MESSAGE, attTnefVersion,
                             struct.pack('<I', 0x00010000))
            out += attribute(LVL_MESSAGE, attOemCodepage,
                             struct.pack('<II', self.codepage, 0))
        out += attribute(LVL_MESSAGE, attMessageClass,
                         b'IPM.Microsoft Mail.Note\0')
        if self.subject:
            out += attribute(LVL_MESSAGE, attSubject,
                             self._enc(self.subject) + b'\0')
        if self.date:
            y, mo, d, h, mi, s = self.date
            out += attribute(LVL_MESSAGE, attDateSent,
                             struct.pack('<7H', y, mo, d, h, mi, s, 0))
        props = [prop(PT_LONG, PR_INTERNET_CPID, self.codepage)]
        if self.subject:
            props.append(prop(PT_UNICODE, PR_SUBJECT, self.subject))
        if self.sender:
            props.append(prop(PT_UNICODE, PR_SENDER_NAME, self.sender[0]))
            props.append(prop(PT_STRING8, PR_SENDER_EMAIL_ADDRESS,
                              self.sender[1].encode()))
        if self.body_rtf is not None:
            comp = rtf_compress if self.compress else rtf_uncompressed
            props.append(prop(PT_BINARY, PR_RTF_COMPRESSED,
                              comp(self.body_rtf)))
        if self.body_text is not None:
            props.append(prop(PT_UNICODE, PR_BODY, self.body_text))
        out += attribute(LVL_MESSAGE, attMAPIProps, mapi(props))
        for a in self.attachments:
            out += self._attachment(a)
        return out

    def _attachment(self, a):
        # atyp 1 (file), position -1, no size, no flags.
        rend = struct.pack('<HIHHI', 1, 0xFFFFFFFF, 0, 0, 0)
        out = attribute(LVL_ATTACHMENT, attAttachRendData, rend)
        if a.short_name:
            out += attribute(LVL_ATTACHMENT, attAttachTitle,
                             self._enc(a.short_name) + b'\0')
        props = []
        if a.embedded is not None:
            props.append(prop(PT_LONG, PR_ATTACH_METHOD, ATTACH_EMBEDDED_MSG))
            props.append(prop(PT_OBJECT, PR_ATTACH_DATA_OBJ,
                              IID_IMESSAGE + a.embedded.tnef(True)))
            props.append(prop(PT_UNICODE, PR_DISPLAY_NAME,
                              a.display or a.embedded.subject))
        else:
            out += attribute(LVL_ATTACHMENT, attAttachData, a.data)
            props.append(prop(PT_LONG, PR_ATTACH_METHOD, ATTACH_BY_VALUE))
            if a.long_name:
                props.append(prop(PT_UNICODE, PR_ATTACH_LONG_FILENAME,
                                  a.long_name))
            if a.short_name:
                props.append(prop(PT_STRING8, PR_ATTACH_FILENAME,
                                  self._enc(a.short_name)))
        out += attribute(LVL_ATTACHMENT, attAttachment, mapi(props))
        return out


SAMPLE_RTF = (b'{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil'
              b'\\fcharset128 \\\'82\\\'6c\\\'82\\\'72 \\\'83\\\'53\\\'83'
              b'\\\'56\\\'83\\\'62\\\'83\\\'4e;}}\\f0\\fs20 '
              b'\\\'89\\\'ef\\\'8b\\\'63\\\'8e\\\'91\\\'97\\\'bf\\par '
              b'Meeting \\u26481?\\u20140? notes\\par}')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: tnef_writer.py OUT.dat')
    m = Message(subject='会議資料', body_rtf=SAMPLE_RTF,
                attachments=[Attachment('メモ.txt', 'テスト\n'.encode('cp932'),
                                        short_name='MEMO.TXT')])
    with open(sys.argv[1], 'wb') as f:
        f.write(m.tnef())
