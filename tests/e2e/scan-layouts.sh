#!/bin/sh
# scan-layouts.sh BUILD FIXTURES - the test virus through "mugai
# sanitize" in every layout a message can hide it in (a plain body, a
# base64 part, a zip and a zip in a zip, a .docx, an HTML body behind an
# entity, a forwarded message/rfc822, uuencoded text (also in a message
# that starts with Content-Type:, as Python writes them), a winmail.dat
# member, a part GMime cannot read, UTF-16 body text and a UTF-16 text
# attachment that mugai delivers as UTF-8), and clean twins delivered.
# The cases are in tests/e2e/scan_layouts.py.
set -u
if [ $# -ne 2 ]; then
	echo "usage: scan-layouts.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scan-layouts.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for f in "$build/mugai" "$build/mugai-convert" "$testdb/mugai.ndb"; do
	if [ ! -e "$f" ]; then
		echo "FAIL scan-layouts/setup: $f is missing (make, make testdb)"
		exit 1
	fi
done
python3 "$here/scan_layouts.py" "$build" "$tmp" "$testdb"
