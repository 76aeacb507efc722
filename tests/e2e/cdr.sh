#!/bin/sh
# cdr.sh BUILD FIXTURES - sanitised copies of attachments end to end:
# images, PDF, Office Open XML, RTF through LibreOffice, archives, the
# bombs and password archives they must hold, and a worker that breaks
# its sandbox.  The cases are in tests/e2e/cdr_check.py.
set -u
if [ $# -ne 2 ]; then
	echo "usage: cdr.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdr.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for f in "$build/mugai" "$build/mugai-convert"; do
	if [ ! -x "$f" ]; then
		echo "FAIL cdr/setup: $f is not built"
		exit 1
	fi
done
# Inputs the Python side cannot make: a JPEG with EXIF, PDFs, a PPAP zip.
if ! cc -o "$tmp/mkjpeg" "$here/mkjpeg.c" -ljpeg ||
    ! "$tmp/mkjpeg" "$tmp/exif.jpg"; then
	echo "FAIL cdr/setup: cannot build or run tests/e2e/mkjpeg.c"
	exit 1
fi
if ! python3 "$root/scripts/make-pdf-fixtures" "$tmp/pdf" >/dev/null; then
	echo "FAIL cdr/setup: scripts/make-pdf-fixtures failed"
	exit 1
fi
printf '見積金額: 1,000,000円\n' > "$tmp/mitsumori.txt"
(cd "$tmp" && zip -q -P himitsu ppap.zip mitsumori.txt) ||
    echo "FAIL cdr/setup: zip -P failed (sh scripts/setup installs zip)"
python3 "$here/cdr_check.py" "$build" "$tmp" "$testdb" "$root"
rc=$?

# check-config finds the worker beside mugai, names a missing one in
# one line (exit 78), and only warns when LibreOffice or the PDF text
# layer's font is missing.
cc() {
	"$build/mugai" -o clamav_database_dir="$testdb" \
	    -o quarantine_dir="$tmp/ccq" -o audit_log="$tmp/cc.jsonl" "$@" \
	    check-config > "$tmp/cc.out" 2> "$tmp/cc.err"
}
judge() { # judge NAME OK WHY
	if [ "$2" = yes ]; then
		echo "PASS cdr/$1"
	else
		echo "FAIL cdr/$1: $3"
		rc=1
	fi
}
cc; r=$?
judge check-config-worker-found "$([ $r -eq 0 ] && echo yes)" \
    "exit $r: $(cat "$tmp/cc.err")"
cc -o convert_worker=/nonexistent/mugai-convert; r=$?
judge check-config-worker-missing "$([ $r -eq 78 ] &&
    [ "$(wc -l < "$tmp/cc.err")" -eq 1 ] &&
    grep -q 'convert_worker: .*/nonexistent/mugai-convert' "$tmp/cc.err" &&
    echo yes)" "exit $r: $(cat "$tmp/cc.err")"
cc -o libreoffice_path=/nonexistent/soffice; r=$?
judge check-config-no-libreoffice-warns "$([ $r -eq 0 ] &&
    grep -q 'warning: /nonexistent/soffice' "$tmp/cc.err" && echo yes)" \
    "exit $r: $(cat "$tmp/cc.err")"
cc -o pdf_text_font=/nonexistent/font.ttf; r=$?
judge check-config-no-text-font-warns "$([ $r -eq 0 ] &&
    grep -q 'warning: pdf_text_font /nonexistent/font.ttf' "$tmp/cc.err" &&
    echo yes)" "exit $r: $(cat "$tmp/cc.err")"
exit $rc
