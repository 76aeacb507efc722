#!/usr/bin/env python3
"""postfix-client.py - the SMTP side of bench/postfix.sh.

  postfix-client.py gen DIR
      Write the benchmark messages: text-10k.eml (10 KB of UTF-8
      Japanese text), html-30k.eml (30 KB of HTML), alt-40k.eml
      (multipart/alternative: text and HTML, 40 KB), pdf-200k.eml (a
      short text and a 200 KB PDF: three pages of text, one with a
      256 x 256 RGB image) and html-100k-attach.eml (100 KB of HTML and a
      20 KB PDF attachment); and for the per-copy cost: png-20k.eml,
      docx-50k.eml, pdf10-200k.eml, each a short text and one
      attachment as "files" writes it.
  postfix-client.py files DIR
      Write the attachments alone: png-20k.png (a 20 KB photo-like PNG),
      docx-50k.docx (made by LibreOffice from HTML with a picture, about
      50 KB; by Python's zipfile when soffice is missing) and
      pdf10-200k.pdf (ten pages of text, a picture on each, 200 KB).
  postfix-client.py send PORT FILE N CONC RCPT
      Send FILE N times to 127.0.0.1:PORT over CONC parallel SMTP
      connections (one session each, kept open), with smtplib.  Prints
      one line of JSON: messages sent and refused, wall time, and the
      latency of each message from the start of its transaction (MAIL
      FROM) to the 250 after its data: p50, p99, max, mean (ms).
  postfix-client.py table RUNS.jsonl HZ
      The table of bench/postfix.sh from its runs (one JSON line each:
      send's numbers, e2e_s, ticks, message, mode, round, size, rss_kb):
      medians over the rounds, the ratio to "none" taken per round.
"""
import base64
import json
import os
import random
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
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
    gen_more(out, head, line, row)


def pdf_200k(pages=3):
    """A valid PDF with a cross-reference table, written by hand: the
    picture drawn on the first page, or on every page when there are
    more than three."""
    rnd = bytes((x * 37 + y * 11) % 256 for y in range(256) for x in range(768))
    kids = " ".join("%d 0 R" % (3 + i) for i in range(pages))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            ("<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)).encode()]
    for i in range(pages):
        objs.append(("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                     "/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> "
                     "/Contents %d 0 R >>" % (3 + pages, 4 + pages, 5 + pages + i)).encode())
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objs.append(b"<< /Type /XObject /Subtype /Image /Width 256 /Height 256 "
                b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n"
                % len(rnd) + rnd + b"\nendstream")
    for i in range(pages):
        text = "".join("BT /F1 10 Tf 40 %d Td (Page %d line %d: budget report) Tj ET\n"
                       % (800 - 14 * k, i + 1, k) for k in range(50))
        if i == 0 or pages > 3:
            text += "q 256 0 0 256 170 80 cm /Im1 Do Q\n"
        data = text.encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return bytes(out)


def png_20k(seed=7):
    """A 20 KB PNG that looks like a photo to zlib: gradients and noise."""
    w, h, rnd = 100, 80, random.Random(seed)
    raw = b"".join(b"\0" + bytes((x // 3 + y + rnd.randrange(12)) % 256
                                 for x in range(w * 3)) for y in range(h))

    def chunk(k, d):
        return (struct.pack(">I", len(d)) + k + d +
                struct.pack(">I", zlib.crc32(k + d) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def docx_50k():
    """A docx of about 50 KB: LibreOffice makes it from HTML with text
    and a picture; without soffice, Python's zipfile does."""
    line = "令和8年度の予算について報告します。資料は別添のとおりです。"
    body = "".join("<p>%d. %s</p>\n" % (i, line) for i in range(150))
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as d:
        pic = ["<img src='data:image/png;base64,%s'>" %
               base64.b64encode(png_20k(s)).decode() for s in (7, 8)]
        with open(os.path.join(d, "report.html"), "w") as f:
            f.write("<html><body><h1>報告</h1>%s%s%s</body></html>" %
                    (pic[0], body, pic[1]))
        if soffice:
            subprocess.run([soffice, "-env:UserInstallation=file://%s/u" % d,
                            "--headless", "--convert-to",
                            "docx:MS Word 2007 XML", "--outdir", d,
                            os.path.join(d, "report.html")],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=300)
            path = os.path.join(d, "report.docx")
            if os.path.exists(path):
                return open(path, "rb").read()
    paras = "".join("<w:p><w:r><w:t>%d. %s</w:t></w:r></w:p>" % (i, line)
                    for i in range(600))
    buf = __import__("io").BytesIO()
    ct = ("<?xml version='1.0' encoding='UTF-8'?><Types xmlns='http://schemas."
          "openxmlformats.org/package/2006/content-types'><Default Extension="
          "'rels' ContentType='application/vnd.openxmlformats-package."
          "relationships+xml'/><Default Extension='xml' ContentType="
          "'application/xml'/><Override PartName='/word/document.xml' "
          "ContentType='application/vnd.openxmlformats-officedocument."
          "wordprocessingml.document.main+xml'/></Types>")
    rels = ("<?xml version='1.0' encoding='UTF-8'?><Relationships xmlns="
            "'http://schemas.openxmlformats.org/package/2006/relationships'>"
            "<Relationship Id='rId1' Type='http://schemas.openxmlformats.org/"
            "officeDocument/2006/relationships/officeDocument' Target="
            "'word/document.xml'/></Relationships>")
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", "<?xml version='1.0' encoding='UTF-8'?>"
                   "<w:document xmlns:w='http://schemas.openxmlformats.org/"
                   "wordprocessingml/2006/main'><w:body>%s</w:body>"
                   "</w:document>" % paras)
        z.writestr("word/media/image1.png", png_20k())
    return buf.getvalue()


def files(out):
    """The attachments of the per-copy rows, alone."""
    os.makedirs(out, exist_ok=True)
    made = {"png-20k.png": png_20k(), "docx-50k.docx": docx_50k(),
            "pdf10-200k.pdf": pdf_200k(10)}
    for name, data in made.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return made


def gen_more(out, head, line, row):
    """The messages of the side-by-side table (bench/postfix.sh)."""
    def html(size):
        return ("<html><head><style>td { color: red }</style></head><body>"
                "<h1>報告</h1><table>\n" + row * (size // len(row.encode()) + 1) +
                "</table></body></html>\n")
    with open(os.path.join(out, "html-30k.eml"), "w") as f:
        f.write(head % "html30" + "Content-Type: text/html; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n" + html(30 * 1024))
    text = line * (12 * 1024 // len(line.encode()) + 1)
    with open(os.path.join(out, "alt-40k.eml"), "w") as f:
        f.write(head % "alt" + 'Content-Type: multipart/alternative; boundary="alt"\n\n'
                "--alt\nContent-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n" + text +
                "--alt\nContent-Type: text/html; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n" + html(27 * 1024) + "--alt--\n")
    types = {"png": "image/png", "pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument."
                     "wordprocessingml.document"}
    for name, data in files(os.path.join(out, "files")).items():
        stem, ext = name.rsplit(".", 1)
        with open(os.path.join(out, stem + ".eml"), "w") as f:
            f.write(head % stem + 'Content-Type: multipart/mixed; boundary="b"\n\n'
                    "--b\nContent-Type: text/plain; charset=UTF-8\n"
                    "Content-Transfer-Encoding: 8bit\n\n" + line * 3 +
                    '--b\nContent-Type: %s; name="report.%s"\n'
                    'Content-Disposition: attachment; filename="report.%s"\n'
                    "Content-Transfer-Encoding: base64\n\n" % (types[ext], ext, ext) +
                    base64.encodebytes(data).decode() + "--b--\n")
    big(out, head, line)
    pdf = pdf_200k()
    with open(os.path.join(out, "pdf-200k.eml"), "w") as f:
        f.write(head % "pdf" + 'Content-Type: multipart/mixed; boundary="pdf"\n\n'
                "--pdf\nContent-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n" + line * 3 +
                '--pdf\nContent-Type: application/pdf; name="report.pdf"\n'
                'Content-Disposition: attachment; filename="report.pdf"\n'
                "Content-Transfer-Encoding: base64\n\n" +
                base64.encodebytes(pdf).decode() + "--pdf--\n")


def big(out, head, line):
    """attach-1m and big-30m: binary attachments the policy removes, so
    that what is measured is how the milter holds the bytes (the
    decoded part, the scan, the quarantine copy), not a sanitised copy."""
    rnd = random.Random(15)

    def mixed(name, sizes):
        parts = [head % name + 'Content-Type: multipart/mixed; boundary="m"\n\n'
                 "--m\nContent-Type: text/plain; charset=UTF-8\n"
                 "Content-Transfer-Encoding: 8bit\n\n" + line * 20]
        for i, size in enumerate(sizes):
            data = rnd.randbytes(size)
            parts.append('--m\nContent-Type: application/octet-stream; '
                         'name="data%d.bin"\nContent-Disposition: attachment; '
                         'filename="data%d.bin"\nContent-Transfer-Encoding: '
                         'base64\n\n' % (i, i) + base64.encodebytes(data).decode())
        with open(os.path.join(out, name + ".eml"), "w") as f:
            f.write("".join(parts) + "--m--\n")
    mixed("attach-1m", [250 * 1024, 250 * 1024, 250 * 1024])
    mixed("big-30m", [22 * 1024 * 1024])


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


def median(xs):
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = len(xs) // 2
    return xs[k] if len(xs) % 2 else (xs[k - 1] + xs[k]) / 2.0


def table(path, hz):
    """The medians over the rounds of bench/postfix.sh, one row per
    message and filter."""
    runs = [json.loads(line) for line in open(path) if line.strip()]
    order, seen = [], set()
    for r in runs:
        if (r["message"], r["mode"]) not in seen:
            seen.add((r["message"], r["mode"]))
            order.append((r["message"], r["mode"]))
    base = {}
    for r in runs:
        r["rate"] = r["sent"] / r["e2e_s"] if r["e2e_s"] else 0.0
        if r["mode"] == "none":
            base[(r["message"], r["round"])] = r["rate"]
    print("%-18s %-8s %8s %6s %7s %6s %8s %8s %7s %7s" % (
        "message", "filter", "msgs/s", "ratio", "cpu_ms", "pf_ms", "p50_ms",
        "p99_ms", "rss_MB", "refused"))
    for msg, mode in order:
        rs = [r for r in runs if r["message"] == msg and r["mode"] == mode]
        rate = median([r["rate"] for r in rs])
        ratios = [r["rate"] / base[(msg, r["round"])] for r in rs
                  if base.get((msg, r["round"]))]
        ratio = "%.2f" % median(ratios) if ratios else "-"
        cpu = "%.2f" % median([1000.0 * r["ticks"] / hz / r["sent"]
                               for r in rs if r["sent"]]) \
            if mode != "none" else "-"
        pf = "%.2f" % median([1000.0 * r["pf_ticks"] / hz / r["sent"]
                              for r in rs if r["sent"]])
        rss = "%d" % (max(r["rss_kb"] for r in rs) // 1024) \
            if mode != "none" else "-"
        refused = sum(r["refused"] for r in rs)
        print("%-18s %-8s %8.1f %6s %7s %6s %8.1f %8.1f %7s %7d" % (
            "%s (%d KB)" % (msg, rs[0]["size"] // 1024), mode, rate, ratio,
            cpu, pf, median([r["p50_ms"] or 0 for r in rs]),
            median([r["p99_ms"] or 0 for r in rs]), rss, refused))
        for r in rs:
            if r["refused"]:
                print("    refused: %s" % "; ".join(r["why"]))


def main(argv):
    if len(argv) == 3 and argv[1] == "gen":
        gen(argv[2])
    elif len(argv) == 3 and argv[1] == "files":
        files(argv[2])
    elif len(argv) == 4 and argv[1] == "table":
        table(argv[2], int(argv[3]))
    elif len(argv) == 7 and argv[1] == "send":
        send(int(argv[2]), argv[3], int(argv[4]), int(argv[5]), argv[6])
    else:
        sys.exit(__doc__)


main(sys.argv)
