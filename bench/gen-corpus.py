#!/usr/bin/env python3
"""gen-corpus.py DIR - write the benchmark corpus: plain text mail, 100 KB
HTML mail with an attachment, and HTML mails of growing size (1, 2, 5, 10 MB)
to check that sanitising time grows linearly with size."""
import base64, os, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
HDR = ("From: sender@example.jp\nTo: staff@city.example.lg.jp\n"
       "Subject: =?UTF-8?B?44OZ44Oz44OB44Oe44O844Kv?=\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0900\nMessage-ID: <{n}@bench>\n"
       "MIME-Version: 1.0\n")

def html_body(size):
    row = ("<tr><td>令和8年度 予算</td><td><a href='https://example.jp/a'>"
           "詳細</a></td><td><b>1,234</b> 円</td></tr>\n")
    parts, n = ["<html><body><h1>報告</h1><table>"], 0
    while n < size:
        parts.append(row)
        n += len(row.encode())
    parts.append("</table><p>以上</p></body></html>\n")
    return "".join(parts)

def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))

with open(os.path.join(out, "text-10k.eml"), "w") as f:
    f.write(HDR.format(n=1) + "Content-Type: text/plain; charset=UTF-8\n\n")
    f.write(("本日の会議は午後3時からです。よろしくお願いします。\n") * 130)

with open(os.path.join(out, "html-100k-attach.eml"), "w") as f:
    f.write(HDR.format(n=2) + 'Content-Type: multipart/mixed; boundary="m"\n\n')
    f.write("--m\nContent-Type: text/html; charset=UTF-8\n\n")
    f.write(html_body(100 * 1024))
    f.write("--m\nContent-Type: application/pdf; name=\"a.pdf\"\n"
            "Content-Transfer-Encoding: base64\n\n")
    f.write(b64(b"%PDF-1.4\n" + os.urandom(20000)) + "\n--m--\n")

for mb in (1, 2, 5, 10):
    with open(os.path.join(out, "html-%dm.eml" % mb), "w") as f:
        f.write(HDR.format(n=10 + mb) +
                "Content-Type: text/html; charset=UTF-8\n\n")
        f.write(html_body(mb * 1024 * 1024))
