#!/bin/sh
# pdf-ocr.sh BUILD FIXTURES - pdf_ocr: scanned pages (LibreOffice text
# PDFs rendered to images and made image-only PDFs again by
# LibreOffice) get words from Tesseract in the sandbox when pdf_ocr is
# on, and none when it is off (the default).  The cases are in
# tests/e2e/pdf_ocr_check.py.
set -u
if [ $# -ne 2 ]; then
	echo "usage: pdf-ocr.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/pdf-ocr.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
CK_SUITE=pdf-ocr
. "$here/lib-check.sh"

for tool in pdftoppm pdftotext soffice tesseract bwrap; do
	if ! command -v $tool >/dev/null 2>&1; then
		fail setup "$tool is not installed (sh scripts/setup)"
		finish
	fi
done
if ! python3 "$root/scripts/make-text-pdfs" "$T/docs" >/dev/null \
    2> "$T/err"; then
	fail setup "scripts/make-text-pdfs: $(head -c 300 "$T/err")"
	finish
fi
python3 "$here/pdf_ocr_check.py" "$build" "$T" > "$T/out"
rc=$?
cat "$T/out"
npass=$(grep -c '^PASS' "$T/out")
nfail=$(grep -c '^FAIL' "$T/out")
[ $rc -eq 0 ] || [ "$nfail" -gt 0 ] || fail checker "exit $rc"
finish
