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
