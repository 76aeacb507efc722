#!/bin/sh
# pdf-text.sh BUILD FIXTURES - PDF copies keep their text: text documents
# saved as PDF by LibreOffice (Japanese, English, mixed; scripts/
# make-text-pdfs) and the hostile active.pdf (scripts/make-pdf-fixtures)
# go through "mugai sanitize"; each copy must open in pdfinfo with the
# original's page count, hold at least 90 % of the original's distinct
# words (CJK: character bigrams) as pdftotext reads them, and nothing
# active.  The cases are in tests/e2e/pdf_text_check.py.
set -u
if [ $# -ne 2 ]; then
	echo "usage: pdf-text.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/pdf-text.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
CK_SUITE=pdf-text
. "$here/lib-check.sh"

for tool in pdfinfo pdftotext; do
	if ! command -v $tool >/dev/null 2>&1; then
		fail setup "$tool is not installed (sh scripts/setup: poppler-utils)"
		finish
	fi
done
python3 "$root/scripts/make-text-pdfs" "$T/docs" > "$T/names" 2> "$T/err"
case $? in
0)	;;
*)	fail setup "scripts/make-text-pdfs: $(head -c 300 "$T/err")"
	finish ;;
esac
if ! python3 "$root/scripts/make-pdf-fixtures" "$T/fixtures" >/dev/null; then
	fail setup "scripts/make-pdf-fixtures failed"
	finish
fi
python3 "$here/pdf_text_check.py" "$build" "$T" \
    "${MUGAI_TESTDB:-$build/testdb}" > "$T/out"
rc=$?
cat "$T/out"
npass=$(grep -c '^PASS' "$T/out")
nfail=$(grep -c '^FAIL' "$T/out")
[ $rc -eq 0 ] || [ "$nfail" -gt 0 ] || fail checker "exit $rc"
finish
