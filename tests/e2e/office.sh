#!/bin/sh
# office.sh BUILD FIXTURES - legacy Office and RTF become docx/xlsx/pptx
# through LibreOffice in its sandbox and the OOXML clean; Office files in
# odd zips are typed and cleaned as Office files; password-protected and
# XFA documents are held.  The cases are in tests/e2e/office_check.py,
# which needs Debian's python3 (python3-uno, python3-openpyxl).
set -u
if [ $# -ne 2 ]; then
	echo "usage: office.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/office.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for f in "$build/mugai" "$build/mugai-convert"; do
	if [ ! -x "$f" ]; then
		echo "FAIL office/setup: $f is not built"
		exit 1
	fi
done
/usr/bin/python3 "$here/office_check.py" "$build" "$tmp" "$testdb" "$root"
