#!/usr/bin/env python3
"""scaling.py gen DIR | table FILE - messages for bench/scaling.sh, and
its table.

  gen DIR     size-*.eml: one text/plain body of 1 KB to 40 MB (UTF-8
              Japanese and ASCII lines, 8bit); parts-*.eml: a short body
              and 1 to 1,000 text attachments of 1 KB each.
  table FILE  FILE holds bench_sanitize lines; print, per series, the CPU
              time per message, the cost per unit (per MB or per part),
              and the slope of each step: log(time ratio) / log(size
              ratio), 1.0 for linear.  A step whose slope is over 1.3
              (and whose times are long enough to be measured, 0.5 ms)
              is flagged SUPERLINEAR.  The same for the memory one
              message needs (bench_sanitize's peak RSS above the RSS
              before, the input already read): mem_MB and its slope
              (steps under 1 MB are not flagged).
"""
import math
import os
import sys

SIZES = [("1k", 1024), ("10k", 10 * 1024), ("100k", 100 * 1024),
         ("1m", 1 << 20), ("10m", 10 << 20), ("40m", 40 << 20)]
PARTS = [1, 10, 100, 1000]
HEAD = ("From: Sender <sender@example.org>\nTo: Staff <staff@city.example.lg.jp>\n"
        "Subject: scaling\nDate: Mon, 23 Nov 2026 10:00:00 +0900\n"
        "Message-ID: <%s@bench.example>\nMIME-Version: 1.0\n")
LINE = "本日の会議は午後3時からです。Meeting at 3 pm; documents follow.\n"


def gen(out):
    os.makedirs(out, exist_ok=True)
    for name, size in SIZES:
        n = size // len(LINE.encode()) + 1
        with open(os.path.join(out, "size-%s.eml" % name), "w") as f:
            f.write(HEAD % name + "Content-Type: text/plain; charset=UTF-8\n"
                    "Content-Transfer-Encoding: 8bit\n\n" + LINE * n)
    att = (LINE * (1024 // len(LINE.encode()) + 1))
    for k in PARTS:
        with open(os.path.join(out, "parts-%04d.eml" % k), "w") as f:
            f.write(HEAD % ("p%d" % k) +
                    'Content-Type: multipart/mixed; boundary="b"\n\n'
                    "--b\nContent-Type: text/plain; charset=UTF-8\n\nhello\n")
            for i in range(k - 1 if k > 1 else 0):
                f.write('--b\nContent-Type: text/plain; charset=UTF-8; name="n%d.txt"\n'
                        'Content-Disposition: attachment; filename="n%d.txt"\n'
                        "Content-Transfer-Encoding: 8bit\n\n%s" % (i, i, att))
            f.write("--b--\n")


def step(a, b, xa, xb):
    """log(b / a) / log(xb / xa): 1.0 when b grows as x does."""
    return math.log(b / a) / math.log(xb / xa) if a > 0 and b > 0 else 0


def table(path):
    rows = {}
    for line in open(path):
        f = line.split()
        if len(f) < 7 or not f[0].endswith(".eml"):
            continue
        series = f[0].split("-")[0]
        kb = int(f[7]) if len(f) > 7 else 0
        rows.setdefault(series, []).append((f[0], int(f[1]), float(f[6]), kb))
    for series, rs in sorted(rows.items()):
        rs.sort(key=lambda r: r[1] if series == "size" else r[0])
        unit = "per MB" if series == "size" else "per part"
        print("%-16s %10s %8s %11s %7s %8s %7s" % (
            series, "bytes" if series == "size" else "parts", "cpu_ms", unit,
            "slope", "mem_MB", "slope"))
        prev = None
        for name, size, ms, kb in rs:
            x = size if series == "size" else int(name.split("-")[1][:4])
            per = ms / (size / 1048576.0) if series == "size" else ms / x
            mb = kb / 1024.0
            slope, mslope, flag = "-", "-", ""
            if prev is not None:
                px, pms, pmb = prev
                s = step(pms, ms, px, x)
                slope = "%.2f" % s
                if s > 1.3 and pms >= 0.5:
                    flag = "  SUPERLINEAR"
                m = step(pmb, mb, px, x)
                mslope = "%.2f" % m
                if m > 1.3 and pmb >= 1:
                    flag += "  SUPERLINEAR(mem)"
            print("%-16s %10d %8.2f %11.3f %7s %8.1f %7s%s" % (
                name, x, ms, per, slope, mb, mslope, flag))
            prev = (x, ms, mb)
        print()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
