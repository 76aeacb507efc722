#!/usr/bin/env python3
"""postfix-client.py - the SMTP side of bench/postfix.sh.

  postfix-client.py gen DIR
      Write the two benchmark messages: text-10k.eml (10 KB of UTF-8
      Japanese text) and html-100k-attach.eml (100 KB of HTML and a
      20 KB PDF attachment).
  postfix-client.py send PORT FILE N CONC RCPT
      Send FILE N times to 127.0.0.1:PORT over CONC parallel SMTP
      connections (one session each, kept open), with smtplib.  Prints
      one line of JSON: messages sent and refused, wall time, and the
      latency of each message from the start of its transaction (MAIL
      FROM) to the 250 after its data: p50, p99, max, mean (ms).
"""
import base64
import json
import os
import smtplib
import sys
import threading
import time


def gen(out):
    os.makedirs(out, exist_ok=True)
    head = ("From: Sender <sender@example.org>\nTo: Staff <staff@city.example.lg.jp>\n"
            "Subject: =?UTF-8?B?" + base64.b64encode("ベンチマーク".encode()).decode() + "?=\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0900\nMessage-ID: <%s@bench.example>\n"
            "MIME-Version: 1.0\n")
    line = "本日の会議は午後3時からです。資料は前日までにお送りします。\n"
    text = line * (10 * 1024 // len(line.encode()) + 1)
    with open(os.path.join(out, "text-10k.eml"), "w") as f:
        f.write(head % "text" + "Content-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n" + text)
    row = ("<tr><td>令和8年度 予算</td><td><a href='https://example.jp/a'>詳細</a></td>"
           "<td><b>1,234</b> 円</td></tr>\n")
    html = ("<html><head><style>td { color: red }</style><script>var x = 1;</script>"
            "</head><body><h1>報告</h1><table>\n" +
            row * (100 * 1024 // len(row.encode()) + 1) + "</table></body></html>\n")
    pdf = b"%PDF-1.4\n" + bytes((i * 7 + 3) % 256 for i in range(20000))
    with open(os.path.join(out, "html-100k-attach.eml"), "w") as f:
        f.write(head % "html" + 'Content-Type: multipart/mixed; boundary="bench"\n\n'
                "--bench\nContent-Type: text/html; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n" + html +
                '--bench\nContent-Type: application/pdf; name="report.pdf"\n'
                'Content-Disposition: attachment; filename="report.pdf"\n'
                "Content-Transfer-Encoding: base64\n\n" +
                base64.encodebytes(pdf).decode() + "--bench--\n")


def send(port, path, n, conc, rcpt):
    data = open(path, "rb").read()
    lat, refused, lock = [], [], threading.Lock()
    todo = iter(range(n))

    def worker():
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example", timeout=300)
        try:
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    break
                t = time.perf_counter()
                try:
                    s.sendmail("bench@example.org", [rcpt], data)
                except smtplib.SMTPResponseException as e:
                    with lock:
                        refused.append("%d %s" % (e.smtp_code, e.smtp_error[:80]))
                    continue
                except smtplib.SMTPRecipientsRefused as e:
                    with lock:
                        refused.append(str(e)[:80])
                    continue
                d = time.perf_counter() - t
                with lock:
                    lat.append(d)
            s.quit()
        except (smtplib.SMTPException, OSError) as e:
            with lock:
                refused.append("session: %s" % e)

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None
    print(json.dumps({"sent": len(lat), "refused": len(refused), "why": refused[:3],
                      "wall_s": round(wall, 3), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                      "max_ms": round(1000 * lat[-1], 1) if lat else None,
                      "mean_ms": round(1000 * sum(lat) / len(lat), 1) if lat else None}))


def main(argv):
    if len(argv) == 3 and argv[1] == "gen":
        gen(argv[2])
    elif len(argv) == 7 and argv[1] == "send":
        send(int(argv[2]), argv[3], int(argv[4]), int(argv[5]), argv[6])
    else:
        sys.exit(__doc__)


main(sys.argv)
