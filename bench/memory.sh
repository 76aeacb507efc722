#!/bin/sh
# memory.sh BUILD [N] - peak memory of mugai-milter and everything under
# it (the zygote, the workers it forks, LibreOffice in bubblewrap) while
# a private Postfix passes messages over 20 SMTP sessions, one attachment
# each: a 20 KB PNG, a 50 KB docx and a ten-page 200 KB PDF (the files of
# bench/postfix-client.py), a .doc, .xls and .ppt made by LibreOffice now
# (each becomes a docx, xlsx, pptx through LibreOffice), and all of them
# mixed.  N messages per row (default 40; 10 for the PDF and the legacy
# Office rows).  The milter runs with its defaults (convert_max_workers:
# the CPUs; convert_memory 2G of address space per worker).
#
# tests/e2e/rsswatch.py samples the process tree every 20 ms: rss_MB is
# the largest sum of the resident sizes of the processes alive at once
# (a page shared by the zygote and its children counts in each), pss_MB
# the same with shared pages divided among them, procs the most
# processes at once, milter_MB the milter's own peak (VmHWM), worker_MB
# the largest peak of any other process.  bench/postfix.sh's rss_MB
# counts the milter and the zygote only.  Numbers only; nothing asserted.
set -eu
build=${1:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
n=${2:-40}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
. "$top/tests/e2e/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/memory-bench.XXXXXX")
P=
milter_pid=
cleanup() {
	[ -z "$P" ] || pf_stop "$P" || true
	if [ -n "$milter_pid" ]; then
		kill -TERM "$milter_pid" 2>/dev/null || true
		wait "$milter_pid" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
chmod 755 "$T"

# The attachments, then one message for each.
python3 "$here/postfix-client.py" files "$T/f"
python3 - "$T/f" <<'PY'
import os, subprocess, sys
d = sys.argv[1]
with open(os.path.join(d, "sheet.csv"), "w") as f:
    for i in range(1, 301):
        f.write("%d,品目%d,%s,%s\n" % (i, i, i * 1.5, i * i * 1.5))
page = ('<draw:page draw:name="p%d"><draw:frame svg:x="1cm" svg:y="1cm" '
        'svg:width="24cm" svg:height="12cm"><draw:text-box><text:p>'
        '令和8年度 予算 説明 %d</text:p></draw:text-box></draw:frame>'
        '</draw:page>')
with open(os.path.join(d, "slides.fodp"), "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?><office:document '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
            'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:'
            'svg-compatible:1.0" office:version="1.3" office:mimetype='
            '"application/vnd.oasis.opendocument.presentation"><office:body>'
            '<office:presentation>%s</office:presentation></office:body>'
            '</office:document>' % "".join(page % (i, i) for i in (1, 2, 3)))
for target, src in (("doc:MS Word 97", "docx-50k.docx"),
                    ("xls:MS Excel 97", "sheet.csv"),
                    ("ppt:MS PowerPoint 97", "slides.fodp")):
    subprocess.run(["soffice", "--headless", "--norestore",
                    "-env:UserInstallation=file://%s/lo" % d, "--convert-to",
                    target, "--outdir", d, os.path.join(d, src)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)
PY
python3 - "$T/f" "$T/m" <<'PY'
import os, sys
from email.message import EmailMessage
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
kinds = {"png-20k.png": ("image", "png"),
         "docx-50k.docx": ("application", "vnd.openxmlformats-"
                           "officedocument.wordprocessingml.document"),
         "pdf10-200k.pdf": ("application", "pdf"),
         "docx-50k.doc": ("application", "msword"),
         "sheet.xls": ("application", "vnd.ms-excel"),
         "slides.ppt": ("application", "vnd.ms-powerpoint")}
for name, (main, sub) in kinds.items():
    path = os.path.join(src, name)
    if not os.path.exists(path):
        print("memory bench: LibreOffice made no %s" % name, file=sys.stderr)
        sys.exit(1)
    m = EmailMessage()
    m["From"] = "sender@example.org"
    m["To"] = "staff@city.example.lg.jp"
    m["Subject"] = "memory " + name
    m.set_content("attached\n")
    m.add_attachment(open(path, "rb").read(), maintype=main, subtype=sub,
                     filename=name)
    with open(os.path.join(out, name + ".eml"), "wb") as f:
        f.write(bytes(m))
PY

D=$T/run
mkdir -p "$D"
mport=$(pf_free_port)
smtp=$(pf_free_port "$mport")
sink=$(pf_free_port "$mport" "$smtp")
pf_milter_start "$build" "$D" "$testdb" "$mport" \
    "convert_worker=$build/mugai-convert" || {
	echo "memory bench: the milter did not start" >&2
	tail -n 5 "$D/milter.log" >&2
	exit 1
}
milter_pid=$pf_milter_pid
P=$D/pf
pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport"
sent=0

# row NAME FILE:COUNT... - send the files at once over 20 sessions
# (each file COUNT times, on its own client), wait for the sink, print
# the peaks.
row() {
	name=$1
	shift
	rm -f "$D/rss" "$D/rss.stop"
	python3 "$top/tests/e2e/rsswatch.py" "$milter_pid" "$D/rss" 20 &
	watch=$!
	clients=
	k=0
	for fc in "$@"; do
		k=$((k + 1))
	done
	conc=$((20 / k))
	[ "$conc" -ge 1 ] || conc=1
	for fc in "$@"; do
		f=${fc%:*} c=${fc##*:}
		python3 "$here/postfix-client.py" send "$smtp" "$T/m/$f.eml" \
		    "$c" "$conc" bench@example.jp >/dev/null &
		clients="$clients $!"
		sent=$((sent + c))
	done
	# shellcheck disable=SC2086
	wait $clients
	pf_wait_sink "$P" "$sent" 900 || echo "memory bench: $name: only" \
	    "$(pf_sink_count "$P") of $sent at the sink" >&2
	: > "$D/rss.stop"
	wait "$watch"
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("%-12s %8d %8d %6d %10d %10d" % (sys.argv[2], r["rss_kb"] // 1024,
      r["pss_kb"] // 1024, r["most_procs"], r["root_hwm_kb"] // 1024,
      r["other_hwm_kb"] // 1024))' "$D/rss" "$name"
}

few=$((n / 4))
[ "$few" -ge 1 ] || few=1
echo "peak memory of mugai-milter + zygote + workers + LibreOffice," \
    "20 SMTP sessions, MB; $(nproc) CPUs"
printf '%-12s %8s %8s %6s %10s %10s\n' row rss_MB pss_MB procs milter_MB \
    worker_MB
row png-20k png-20k.png:"$n"
row docx-50k docx-50k.docx:"$n"
row pdf10-200k pdf10-200k.pdf:"$few"
row doc-xls-ppt docx-50k.doc:"$few" sheet.xls:"$few" slides.ppt:"$few"
row mix png-20k.png:"$n" docx-50k.docx:"$n" pdf10-200k.pdf:"$few" \
    docx-50k.doc:"$few" sheet.xls:"$few" slides.ppt:"$few"
echo "mugai: $(grep -c ' converted (' "$D/milter.log" || true) copies," \
    "$(grep -c ' held (' "$D/milter.log" || true) held," \
    "$(grep -c ' verdict=tempfail ' "$D/milter.log" || true) tempfailed"
